"""Customer and metric models for the store (pure: polars in, polars out).

- `churn_scores(orders, *, as_of)` / `score_customers(...)`: P(no order in 90 days),
  due date, 12-month value, segment, value tier, advocate flag; the model chosen on a
  later window and tested against BG/NBD and recency (models/churn.py, models/bgnbd.py).
- `product_repurchase`, `win_back_list`, `replenishment_reminders`: repurchase timing per
  product and the contact lists built on it (models/repurchase.py).
"""

from models.churn import churn_scores, score_customers
from models.repurchase import product_repurchase, replenishment_reminders, win_back_list

__all__ = ["churn_scores", "product_repurchase", "replenishment_reminders", "score_customers",
           "win_back_list"]
