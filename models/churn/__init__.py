"""Which customers are slipping away, and what they are worth: churn scores and 12-month value.

`churn_scores(orders, *, as_of)` returns one row per customer with an order on or before
`as_of`: the probability of no order in the next `horizon_days` (90 by default), the date
their own rhythm says the next order is due, the predicted 12-month net revenue, a segment,
a value tier and an advocate flag. `score_customers` does the same and also returns the
evaluation behind the choice of model.

How the probability is made, and kept honest:
- Features are computed at a cutoff from orders and tickets on or before it only; the label
  is "no order in (cutoff, cutoff + horizon]". Nothing after `as_of` is ever read.
- Candidates (CANDIDATES): challengers - a gradient-boosted classifier and a logistic
  regression on recency, frequency, value, the customer's own inter-order rhythm and the
  BG/NBD outputs (FEATURES), and BG/NBD alone (P(no purchase), Fader, Hardie & Lee 2005);
  baselines - plain recency and logistic RFM (log recency, log order days, log mean order
  value); reported only - BG/NBD expected purchases and P(alive) (the known pitfall).
- Time split (horizon H): training cutoffs whose label windows end by as_of - 2H, the
  choice on the cutoff as_of - 2H, and a held-out test on the cutoff as_of - H (labels up
  to as_of) after refitting every candidate on everything that ends by as_of - H. The
  chosen model is refitted on cutoffs whose labels end by as_of and scores at as_of.
- The choice (`choose_model`): a challenger is used only if its validation ROC AUC beats
  the better baseline by CHOICE_MARGIN (0.005) and by CHOICE_Z (2) DeLong standard errors
  of the paired difference; otherwise the better baseline, a logistic fit and so
  calibrated on the training windows, scores the customers. `ChurnResult.choice` and the
  evaluation rows of window "choice" (is_fallback, margin, gain, its standard error) say
  which rule fired and why. Measured on the demo, a non-BG/NBD generator and CDNOW's real
  purchases in benchmarks/results/churn.md.
- predicted_clv = BG/NBD expected purchases in 365 days x Gamma-Gamma expected order value
  (net revenue, undiscounted), fitted at as_of.

Segments (rhythm = the customer's usual days between orders, their own median shrunk
toward the store's; one-order customers get the store's median days to a second order):
  reactivated         last order in the last H days after a gap of more than 180 days
  lapsed              no order for more than max(180, 3 x rhythm) days
  at_risk             overdue (no order for more than their rhythm) and p_churn >= 0.5
  high_value_at_risk  at_risk and VIP/gold tier or predicted value in the top 20%
  active              everyone else
Value tiers rank the last 12 months' net revenue: vip top 5%, gold next 15%, silver next
30%, bronze the rest. Advocates: two or more orders with a repeat within 60 days, no
complaint ticket, satisfied when asked (or never asked), refunds under 20% of spend, and
active or reactivated.

Modules: features (inputs checked, features and labels at a cutoff, training cutoffs),
selection (the candidates, DeLong's AUC difference and `choose_model`), evaluation
(metrics and calibration tables), clv (Gamma-Gamma order value), segments (segments,
value tiers, advocates) and scoring (`score_customers`, `churn_scores`). Everything
public is importable from models.churn.
"""

from models.churn.features import (
    ALL_FEATURES,
    CHANNELS,
    CUTOFF_SPACING_DAYS,
    DROPPED_FEATURE_GROUPS,
    FEATURE_GROUPS,
    FEATURES,
    HORIZON_DAYS,
    MIN_HISTORY_DAYS,
    RFM_FEATURES,
    TRAINING_CUTOFFS,
    churn_labels,
    customer_features,
    cutoff_dates,
    label_features,
    order_days,
    validate_inputs,
)
from models.churn.scoring import CLV_DAYS, ChurnResult, churn_scores, score_customers
from models.churn.segments import (
    ADVOCATE_REPEAT_DAYS,
    LAPSED_MIN_DAYS,
    REACTIVATED_GAP_DAYS,
    assign_segments,
)
from models.churn.selection import (
    BASELINES,
    CANDIDATES,
    CHALLENGERS,
    CHOICE_MARGIN,
    CHOICE_Z,
    COMPARISONS,
    Candidate,
    ModelChoice,
    auc_difference,
    choose_model,
)

__all__ = [
    "ADVOCATE_REPEAT_DAYS", "ALL_FEATURES", "BASELINES", "CANDIDATES", "CHALLENGERS", "CHANNELS",
    "CHOICE_MARGIN", "CHOICE_Z", "CLV_DAYS", "COMPARISONS", "CUTOFF_SPACING_DAYS",
    "DROPPED_FEATURE_GROUPS", "FEATURES", "FEATURE_GROUPS", "HORIZON_DAYS", "LAPSED_MIN_DAYS",
    "MIN_HISTORY_DAYS", "REACTIVATED_GAP_DAYS", "RFM_FEATURES", "TRAINING_CUTOFFS", "Candidate",
    "ChurnResult", "ModelChoice", "assign_segments", "auc_difference", "choose_model",
    "churn_labels", "churn_scores", "customer_features", "cutoff_dates", "label_features",
    "order_days", "score_customers", "validate_inputs",
]
