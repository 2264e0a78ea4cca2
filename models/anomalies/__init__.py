"""Anomaly alerts on the store's daily KPIs, a naive comparator, and their evaluation.

Modules by concern (series, detect and baseline never import evaluation: the detector
knows nothing of an answer key; checked by import-linter):
- `series`: `kpi_series` turns the marts into one long frame of daily series
  `metric, dimension, ds, value, volume, money_weight`.
- `metrics`: `METRICS`, how each metric is modelled and which way it hurts.
- `detect`: `detect_anomalies` scores every day of every series against a trailing
  seasonal baseline (weekday x level x last year's season) with a robust band that
  widens when the volume behind a rate is low (alert threshold `detect.ALERT_Z`).
- `incidents`: alert days into incidents, the channel, category or SKU behind a
  store-level alert, severity and the output columns (`ALERT_COLUMNS`).
- `baseline`: `threshold_baseline`, the naive comparator: trailing 28-day mean +- 3 std.
- `evaluation`: `evaluate_alerts` scores alerts against an answer key of labelled
  incidents, such as the ones planted in a demo store.
"""

from models.anomalies.baseline import threshold_baseline
from models.anomalies.detect import HISTORY_DAYS, detect_anomalies
from models.anomalies.evaluation import INCIDENT_EFFECTS, evaluate_alerts
from models.anomalies.incidents import ALERT_COLUMNS
from models.anomalies.metrics import METRICS, Metric
from models.anomalies.series import SERIES_COLUMNS, kpi_series

__all__ = ["ALERT_COLUMNS", "HISTORY_DAYS", "INCIDENT_EFFECTS", "METRICS", "SERIES_COLUMNS",
           "Metric", "detect_anomalies", "evaluate_alerts", "kpi_series", "threshold_baseline"]
