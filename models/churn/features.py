"""Churn model inputs: the checked orders and tickets, per-customer features at a cutoff
(from data up to it only), the churn labels of the window after it and the training
cutoffs. The feature groups the models read (FEATURES) and the ones dropped are here.
The method: the models.churn docstring."""

from __future__ import annotations

from datetime import date, timedelta

import polars as pl

from models import bgnbd

HORIZON_DAYS = 90
TRAINING_CUTOFFS = 6
CUTOFF_SPACING_DAYS = 30
MIN_HISTORY_DAYS = 120  # a cutoff needs this much order history before it
CHANNELS = ("meta", "google", "tiktok", "email", "organic", "direct", "pos")

# Feature groups, each one kept or dropped as a whole. Measured by drop-one-group
# ablation on the validation window of three stores (benchmarks/churn.py, "Which
# features generalise": the demo, the non-BG/NBD buyers of orchestration/demo/buyers.py
# and CDNOW's real purchases): tenure, discount/refund shares, support tickets and the
# acquisition channel raised ROC AUC on no store beyond the gain pure noise shows (the
# buyers' channel is drawn independently of everything, and still "gained" +0.0009 for
# gradient boosting), and tenure lowered it on the buyers (z -2.4 and -4.6). They are
# dropped from the models; the ticket columns still feed segments and advocates.
FEATURE_GROUPS: dict[str, tuple[str, ...]] = {
    "recency": ("recency_days",),
    "frequency": ("orders", "orders_90d", "orders_365d"),
    "monetary": ("net_revenue", "net_revenue_365d", "average_order_value"),
    "tenure": ("tenure_days",),
    "rhythm": ("mean_interval_days", "interval_cv", "last_gap_days", "usual_interval_days",
               "recency_over_rhythm", "last_gap_over_rhythm"),
    "discounts_refunds": ("discount_order_share", "refund_share"),
    "support": ("support_contacts", "tickets_90d", "complaints", "csat_share_satisfied",
                "days_since_last_ticket"),
    "bgnbd": ("bg_p_alive", "bg_expected_orders", "bg_p_no_order"),
    "channel": tuple(f"channel_{c}" for c in CHANNELS),
}
DROPPED_FEATURE_GROUPS: tuple[str, ...] = ("tenure", "discounts_refunds", "support", "channel")
ALL_FEATURES = tuple(f for group in FEATURE_GROUPS.values() for f in group)
FEATURES = tuple(f for name, group in FEATURE_GROUPS.items()
                 if name not in DROPPED_FEATURE_GROUPS for f in group)
RFM_FEATURES = ("recency_days", "order_days", "average_order_value")


def validate_inputs(orders: pl.DataFrame, tickets: pl.DataFrame | None
                    ) -> tuple[pl.DataFrame, pl.DataFrame | None]:
    """Orders and tickets checked and completed as every function here reads them
    (`customer_features` and `score_customers` call it; so do benchmarks that build
    training frames themselves).

    orders: customer_id, order_date (a date), net_revenue (store currency); the optional
    order_id, gross_revenue, refunds, has_discount and channel are filled in when missing
    (row number, net_revenue, 0, False, "unknown"). Money columns become Float64, refunds
    positive; rows without a customer_id are dropped. tickets (optional): customer_id,
    created_date; category and is_satisfied are added as nulls when missing. Returns
    `(orders, tickets)` (tickets None when None was passed). Raises TypeError when orders
    is not a polars DataFrame, ValueError for a missing column or a non-date order_date.
    """
    if not isinstance(orders, pl.DataFrame):
        raise TypeError(f"orders must be a polars DataFrame, got {type(orders).__name__}")
    for column in ("customer_id", "order_date", "net_revenue"):
        if column not in orders.columns:
            raise ValueError(f"orders is missing column '{column}'")
    if orders.schema["order_date"] != pl.Date:
        raise ValueError(f"orders column 'order_date' must be a date, got {orders.schema['order_date']}")
    defaults = {
        "order_id": pl.int_range(pl.len()).cast(pl.String),
        "gross_revenue": pl.col("net_revenue"),
        "refunds": pl.lit(0.0),
        "has_discount": pl.lit(False),
        "channel": pl.lit("unknown"),
    }
    orders = orders.with_columns(
        [expr.alias(name) for name, expr in defaults.items() if name not in orders.columns]
    ).filter(pl.col("customer_id").is_not_null()).with_columns(
        pl.col("net_revenue").cast(pl.Float64), pl.col("gross_revenue").cast(pl.Float64),
        pl.col("refunds").cast(pl.Float64).abs(), pl.col("has_discount").cast(pl.Boolean),
    )
    if tickets is not None:
        for column in ("customer_id", "created_date"):
            if column not in tickets.columns:
                raise ValueError(f"tickets is missing column '{column}'")
        tickets = tickets.with_columns(
            *[pl.lit(None, dtype).alias(c) for c, dtype in
              (("category", pl.String), ("is_satisfied", pl.Boolean)) if c not in tickets.columns]
        ).filter(pl.col("customer_id").is_not_null())
    return orders, tickets


def order_days(orders: pl.DataFrame) -> pl.DataFrame:
    """One row per customer and day with an order: `customer_id, order_date, day_orders,
    net_revenue, gross_revenue, refunds, discounted_orders, channel` (of the day's first
    order) and `interval_days` (days since the customer's previous order day, null for
    the first), sorted by customer and day. BG/NBD counts days with an order, and two
    orders placed minutes apart (a forgotten item) are one purchase occasion.

    orders: as `customer_features` takes them. Raises as `validate_inputs`. The rows up
    to a cutoff are the days of the orders up to it (an interval looks back only), so
    `customer_features` at several cutoffs can share one call (`days=`)."""
    orders, _ = validate_inputs(orders, None)
    return _order_days(orders)


def _order_days(orders: pl.DataFrame) -> pl.DataFrame:
    """`order_days` of orders `validate_inputs` already returned."""
    return (
        orders.group_by("customer_id", "order_date")
        .agg(pl.len().alias("day_orders"), pl.col("net_revenue").sum(),
             pl.col("gross_revenue").sum(), pl.col("refunds").sum(),
             pl.col("has_discount").sum().alias("discounted_orders"),
             pl.col("channel").sort_by("order_id").first())
        .sort("customer_id", "order_date")
        .with_columns((pl.col("order_date") - pl.col("order_date").shift(1).over("customer_id"))
                      .dt.total_days().alias("interval_days"))
    )


def customer_features(orders: pl.DataFrame, *, cutoff: date,
                      tickets: pl.DataFrame | None = None,
                      horizon_days: int = HORIZON_DAYS,
                      days: pl.DataFrame | None = None) -> tuple[pl.DataFrame, bgnbd.BgNbdParams | None]:
    """One row per customer with an order on or before `cutoff`, from data up to it only.

    orders: `customer_id, order_date, net_revenue` (+ `order_id, gross_revenue, refunds,
    has_discount, channel`); tickets: `customer_id, created_date` (+ `category,
    is_satisfied`). Days are calendar days, money is the store currency. days: optional,
    `order_days(orders)` computed once by a caller that asks for several cutoffs of the
    same orders (the same result, without regrouping the orders each time). Also fits
    BG/NBD on these customers and adds its outputs (`bg_*`); returns the features and
    the fit.
    """
    orders, tickets = validate_inputs(orders, tickets)
    days = (_order_days(orders) if days is None else days).filter(pl.col("order_date") <= cutoff)
    cutoff_lit = pl.lit(cutoff)
    features = (
        days.group_by("customer_id")
        .agg(
            pl.col("order_date").min().alias("first_order_date"),
            pl.col("order_date").max().alias("last_order_date"),
            pl.len().alias("order_days"),
            pl.col("day_orders").sum().alias("orders"),
            pl.col("day_orders").filter(pl.col("order_date") > cutoff - timedelta(days=90)).sum().alias("orders_90d"),
            pl.col("day_orders").filter(pl.col("order_date") > cutoff - timedelta(days=365)).sum().alias("orders_365d"),
            pl.col("net_revenue").sum(),
            pl.col("net_revenue").filter(pl.col("order_date") > cutoff - timedelta(days=365)).sum().alias("net_revenue_365d"),
            pl.col("net_revenue").slice(1).mean().alias("repeat_order_value"),
            pl.col("gross_revenue").sum().alias("gross_revenue"),
            pl.col("refunds").sum().alias("refunds"),
            pl.col("discounted_orders").sum(),
            pl.col("interval_days").mean().alias("mean_interval_days"),
            pl.col("interval_days").median().alias("median_interval_days"),
            pl.col("interval_days").std().alias("interval_std_days"),
            pl.col("interval_days").min().alias("min_interval_days"),
            pl.col("interval_days").drop_nulls().last().alias("last_gap_days"),
            pl.col("interval_days").drop_nulls().first().alias("first_gap_days"),
            pl.col("channel").first().alias("acquisition_channel"),
        )
        .with_columns(
            (cutoff_lit - pl.col("last_order_date")).dt.total_days().alias("recency_days"),
            (cutoff_lit - pl.col("first_order_date")).dt.total_days().alias("tenure_days"),
            (pl.col("net_revenue") / pl.col("orders")).alias("average_order_value"),
            (pl.col("discounted_orders") / pl.col("orders")).alias("discount_order_share"),
            pl.when(pl.col("gross_revenue") > 0)
            .then(pl.col("refunds") / pl.col("gross_revenue")).otherwise(0.0).alias("refund_share"),
            (pl.col("interval_std_days") / pl.col("mean_interval_days")).alias("interval_cv"),
        )
    )
    # The store's rhythm: median gap between order days, and median days to a second order.
    store_gap = days["interval_days"].median()
    store_second = features["first_gap_days"].median()
    store_gap = float(store_gap) if store_gap is not None else 60.0
    store_second = float(store_second) if store_second is not None else store_gap
    intervals = pl.col("order_days") - 1
    features = features.with_columns(
        pl.when(intervals > 0)
        .then((intervals * pl.col("median_interval_days") + 2 * store_gap) / (intervals + 2))
        .otherwise(store_second).alias("usual_interval_days"),
    ).with_columns(
        (pl.col("recency_days") / pl.col("usual_interval_days")).alias("recency_over_rhythm"),
        (pl.col("last_gap_days") / pl.col("usual_interval_days")).alias("last_gap_over_rhythm"),
    )
    features = features.join(_ticket_features(tickets, cutoff), on="customer_id", how="left").with_columns(
        pl.col("support_contacts", "tickets_90d", "complaints").fill_null(0))
    params = None
    x = (features["order_days"] - 1).to_numpy()
    t_x = ((features["last_order_date"] - features["first_order_date"]).dt.total_days() / 7).to_numpy()
    age = (features["tenure_days"] / 7).to_numpy()
    if int((x > 0).sum()) >= 10:
        params = bgnbd.fit_bgnbd(x, t_x, age)
        horizon_weeks = horizon_days / 7
        features = features.with_columns(
            pl.Series("bg_p_alive", bgnbd.p_alive(params, x, t_x, age)),
            pl.Series("bg_expected_orders", bgnbd.expected_purchases(params, x, t_x, age, horizon_weeks)),
            pl.Series("bg_p_no_order", bgnbd.p_no_purchase(params, x, t_x, age, horizon_weeks)),
        )
    else:
        features = features.with_columns(pl.lit(None, pl.Float64).alias(c) for c in
                                         ("bg_p_alive", "bg_expected_orders", "bg_p_no_order"))
    return features.sort("customer_id"), params


def _ticket_features(tickets: pl.DataFrame | None, cutoff: date) -> pl.DataFrame:
    schema = {"customer_id": pl.String, "support_contacts": pl.UInt32, "tickets_90d": pl.UInt32,
              "complaints": pl.UInt32, "csat_share_satisfied": pl.Float64,
              "days_since_last_ticket": pl.Int64}
    if tickets is None or tickets.is_empty():
        return pl.DataFrame(schema=schema)
    return (
        tickets.filter(pl.col("created_date") <= cutoff)
        .group_by("customer_id")
        .agg(pl.len().alias("support_contacts"),
             (pl.col("created_date") > cutoff - timedelta(days=90)).sum().alias("tickets_90d"),
             (pl.col("category") == "complaint").sum().alias("complaints"),
             pl.col("is_satisfied").cast(pl.Float64).mean().alias("csat_share_satisfied"),
             (pl.lit(cutoff) - pl.col("created_date").max()).dt.total_days().alias("days_since_last_ticket"))
        .cast({k: v for k, v in schema.items() if k != "customer_id"})
    )


def churn_labels(orders: pl.DataFrame, *, cutoff: date, horizon_days: int = HORIZON_DAYS) -> pl.DataFrame:
    """`customer_id, churned` for every customer with an order on or before `cutoff`:
    True when they have no order in (cutoff, cutoff + horizon]."""
    window_end = cutoff + timedelta(days=horizon_days)
    buyers = (orders.filter((pl.col("order_date") > cutoff) & (pl.col("order_date") <= window_end))
              .select("customer_id").unique().with_columns(pl.lit(False).alias("churned")))
    return (orders.filter(pl.col("order_date") <= cutoff).select("customer_id").unique()
            .join(buyers, on="customer_id", how="left")
            .with_columns(pl.col("churned").fill_null(True)).sort("customer_id"))


def label_features(features: pl.DataFrame, orders: pl.DataFrame, cutoff: date,
                   horizon_days: int) -> pl.DataFrame:
    """A training or evaluation frame: `features` (from `customer_features` at `cutoff`)
    with `churned` (no order in (cutoff, cutoff + horizon_days], as `churn_labels`) and
    `future_net_revenue` (net revenue of the customer's orders in that window, store
    currency, 0.0 when none). One row per row of `features`; a customer absent from the
    labels counts as churned. orders: as returned by `validate_inputs`."""
    labels = churn_labels(orders, cutoff=cutoff, horizon_days=horizon_days)
    window_end = cutoff + timedelta(days=horizon_days)
    revenue = (orders.filter((pl.col("order_date") > cutoff) & (pl.col("order_date") <= window_end))
               .group_by("customer_id").agg(pl.col("net_revenue").sum().alias("future_net_revenue")))
    return (features.join(labels, on="customer_id", how="left")
            .join(revenue, on="customer_id", how="left")
            .with_columns(pl.col("churned").fill_null(True),
                          pl.col("future_net_revenue").fill_null(0.0)))


def cutoff_dates(last_label_end: date, horizon_days: int, count: int, earliest: date) -> list[date]:
    """Training cutoffs whose label windows (horizon_days long) end by `last_label_end`:
    the latest is last_label_end - horizon_days, then one every CUTOFF_SPACING_DAYS (30)
    days earlier, `count` of them at most, newest first, none before `earliest` (the
    first date with MIN_HISTORY_DAYS of order history). Empty when even the latest is
    before `earliest`."""
    first = last_label_end - timedelta(days=horizon_days)
    cutoffs = [first - timedelta(days=CUTOFF_SPACING_DAYS * k) for k in range(count)]
    return [c for c in cutoffs if c >= earliest]
