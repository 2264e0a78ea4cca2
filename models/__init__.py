"""Customer and metric models for the store (pure: polars in, polars out).

- `churn_scores(orders, *, as_of)` / `score_customers(...)`: P(no order in 90 days),
  due date, 12-month value, segment, value tier, advocate flag; a learned model is used
  only if it beats recency and logistic RFM on a later window by a stated margin, else
  the better of those baselines scores; all are tested against BG/NBD on the last window
  (models/churn/, models/bgnbd.py).
- `product_repurchase`, `win_back_list`, `replenishment_reminders`: repurchase timing per
  product and the contact lists built on it (models/repurchase.py).
- `kpi_series`, `detect_anomalies(series, *, as_of)`, `threshold_baseline`: daily KPI
  series from the marts, alerts against a trailing seasonal baseline and the +-3 sigma
  comparator (models/anomalies/); their recall and false alerts against the demo's
  planted incidents are scored in orchestration.demo.anomaly_evaluation.
"""

from models.anomalies.baseline import threshold_baseline
from models.anomalies.detect import detect_anomalies
from models.anomalies.series import kpi_series
from models.churn import churn_scores, score_customers
from models.repurchase import product_repurchase, replenishment_reminders, win_back_list

__all__ = ["churn_scores", "detect_anomalies", "kpi_series",
           "product_repurchase", "replenishment_reminders", "score_customers",
           "threshold_baseline", "win_back_list"]
