"""Anomaly alerts on the store's daily KPIs and a naive comparator.

Modules by concern; scoring them against the demo store's planted incidents is
orchestration.demo.anomaly_evaluation (the detector knows nothing of an answer key;
checked by import-linter):
- `series`: `kpi_series` turns the marts into one long frame of daily series
  `metric, dimension, ds, value, volume, money_weight`.
- `metrics`: `METRICS`, how each metric is modelled and which way it hurts.
- `detect`: `detect_anomalies` scores every day of every series against a trailing
  seasonal baseline (weekday x level x last year's season) with a robust band that
  widens when the volume behind a rate is low (alert threshold `detect.ALERT_Z`).
- `incidents`: alert days into incidents, the channel, category or SKU behind a
  store-level alert, severity and the output columns (`ALERT_COLUMNS`).
- `baseline`: `threshold_baseline`, the naive comparator: trailing 28-day mean +- 3 std.
"""

from models.anomalies.baseline import threshold_baseline
from models.anomalies.detect import HISTORY_DAYS, detect_anomalies
from models.anomalies.incidents import ALERT_COLUMNS
from models.anomalies.metrics import METRICS, Metric
from models.anomalies.series import SERIES_COLUMNS, kpi_series

__all__ = ["ALERT_COLUMNS", "HISTORY_DAYS", "METRICS", "SERIES_COLUMNS", "Metric",
           "detect_anomalies", "kpi_series", "threshold_baseline"]
