"""How long customers take to buy a product again, and the lists built on it.

- `product_repurchase(order_lines, *, as_of)`: per SKU, how many buyers bought it again and
  the median days from their first to their second purchase of it.
- `replenishment_reminders(order_lines, scores, repurchase, *, as_of, days_ahead)`:
  customers whose usual time to re-buy a product they last bought falls in the next days.
- `win_back_list(scores, order_lines, *, as_of)`: the high-value customers at risk, with
  their last products and usual interval (hashed customer ids only: no email leaves the
  warehouse).
"""

from __future__ import annotations

from datetime import date, timedelta

import polars as pl

# Below this many customers who bought again, a SKU's median is noise: left null.
MIN_REPURCHASERS = 10
# Remind a few days before the usual re-buy day, so the order arrives before they run out.
REMINDER_LEAD_DAYS = 3


def _require(frame: pl.DataFrame, name: str, columns: tuple[str, ...]) -> None:
    for column in columns:
        if column not in frame.columns:
            raise ValueError(f"{name} is missing column '{column}'")


def product_repurchase(order_lines: pl.DataFrame, *, as_of: date) -> pl.DataFrame:
    """Repurchase timing per SKU from order lines up to `as_of`.

    order_lines: `customer_id, order_date, sku` (+ optional `line_name`).
    Returns `sku, product, buyers, repurchasers, repurchase_rate, median_days_to_repurchase,
    p25_days, p75_days`. Days count from a customer's first order day with the SKU to their
    next order day with it; the median is over customers who did re-buy (it is biased short
    for products bought mostly recently, whose slow re-buyers have not come back yet).
    """
    _require(order_lines, "order_lines", ("customer_id", "order_date", "sku"))
    name = pl.col("line_name") if "line_name" in order_lines.columns else pl.lit(None, pl.String)
    days = (
        order_lines.lazy()
        .filter((pl.col("order_date") <= as_of) & pl.col("customer_id").is_not_null()
                & pl.col("sku").is_not_null())
        .select("customer_id", "sku", "order_date", name.alias("product"))
        .group_by("customer_id", "sku")
        .agg(pl.col("order_date").unique().sort().head(2).alias("dates"),
             pl.col("product").drop_nulls().first())
        .with_columns(
            pl.when(pl.col("dates").list.len() >= 2)
            .then((pl.col("dates").list.get(1, null_on_oob=True)
                   - pl.col("dates").list.get(0)).dt.total_days())
            .alias("days_to_repurchase"))
    )
    out = (
        days.group_by("sku")
        .agg(pl.col("product").drop_nulls().mode().first(),
             pl.len().alias("buyers"),
             pl.col("days_to_repurchase").is_not_null().sum().alias("repurchasers"),
             pl.col("days_to_repurchase").median().alias("median_days_to_repurchase"),
             pl.col("days_to_repurchase").quantile(0.25).alias("p25_days"),
             pl.col("days_to_repurchase").quantile(0.75).alias("p75_days"))
        .with_columns(
            (pl.col("repurchasers") / pl.col("buyers")).alias("repurchase_rate"),
            *[pl.when(pl.col("repurchasers") >= MIN_REPURCHASERS).then(pl.col(c)).alias(c)
              for c in ("median_days_to_repurchase", "p25_days", "p75_days")])
        .select("sku", "product", "buyers", "repurchasers", "repurchase_rate",
                "median_days_to_repurchase", "p25_days", "p75_days")
        .sort("sku")
        .collect()
    )
    return out


def _last_order_products(order_lines: pl.DataFrame, as_of: date) -> pl.DataFrame:
    """customer_id, sku, product of the lines on each customer's last order day."""
    name = pl.col("line_name") if "line_name" in order_lines.columns else pl.col("sku")
    lines = order_lines.filter((pl.col("order_date") <= as_of)
                               & pl.col("customer_id").is_not_null())
    return (
        lines.filter(pl.col("order_date") == pl.col("order_date").max().over("customer_id"))
        .select("customer_id", "sku", name.alias("product"), "order_date")
        .unique(["customer_id", "sku"])
    )


def win_back_list(scores: pl.DataFrame, order_lines: pl.DataFrame, *,
                  as_of: date, margins: pl.DataFrame | None = None) -> pl.DataFrame:
    """High-value customers at risk, most at stake first.

    scores: the output of `churn_scores`. margins (optional): `customer_id, margin_share`,
    each customer's contribution margin 2 over net sales to date (marts.dim_customers);
    with it the list is ranked by margin at risk, not revenue: a customer who buys at full
    price is worth more than one who only buys on discount with free shipping.

    Returns `customer_id` (the warehouse's hash, no email), value tier, p_churn, predicted
    12-month value (net sales, store currency), value at risk (p_churn x value), and with
    margins margin_share, margin_at_risk (value at risk x margin share) and margin_basis
    ("customer", or "store" where the customer's own share is unknown and the store's
    share over all customers with one is used); then orders, last 12 months' spend, last
    order date, days since, usual interval, days overdue, the products of the last order
    and the acquisition channel. Sorted by margin_at_risk (else value_at_risk), descending.
    """
    _require(scores, "scores", ("customer_id", "segment", "p_churn", "predicted_clv"))
    products = (
        _last_order_products(order_lines, as_of)
        .group_by("customer_id")
        .agg(pl.col("product").sort().str.join("; ").alias("last_products"))
    )
    listed = (
        scores.filter(pl.col("segment") == "high_value_at_risk")
        .join(products, on="customer_id", how="left")
        .with_columns((pl.col("p_churn") * pl.col("predicted_clv")).round(2).alias("value_at_risk"))
    )
    margin_columns: list = []
    rank = "value_at_risk"
    if margins is not None:
        _require(margins, "margins", ("customer_id", "margin_share"))
        known = margins.filter(pl.col("margin_share").is_not_null())
        store_share = float(known["margin_share"].median()) if known.height else None
        listed = (
            listed.join(margins.select("customer_id", "margin_share"), on="customer_id", how="left")
            .with_columns(
                pl.when(pl.col("margin_share").is_not_null()).then(pl.lit("customer"))
                .otherwise(pl.lit("store" if store_share is not None else None))
                .alias("margin_basis"),
                pl.col("margin_share").fill_null(pl.lit(store_share, dtype=pl.Float64)))
            .with_columns((pl.col("value_at_risk") * pl.col("margin_share")).round(2)
                          .alias("margin_at_risk")))
        margin_columns = [pl.col("margin_share").round(3), "margin_at_risk", "margin_basis"]
        rank = "margin_at_risk"
    return (
        listed.select("customer_id", "value_tier", pl.col("p_churn").round(3),
                      pl.col("predicted_clv").round(2), "value_at_risk", *margin_columns,
                      "orders", pl.col("net_revenue_12m").round(2), "last_order_date",
                      "days_since_last_order", "usual_interval_days", "days_overdue",
                      "last_products", "acquisition_channel")
        .sort(rank, "customer_id", descending=[True, False], nulls_last=True)
    )


def replenishment_reminders(order_lines: pl.DataFrame, scores: pl.DataFrame,
                            repurchase: pl.DataFrame, *, as_of: date,
                            days_ahead: int = 14) -> pl.DataFrame:
    """Customers due to re-buy a product of their last order in the next `days_ahead` days.

    The reminder date is the last order date plus the SKU's median days to repurchase,
    less REMINDER_LEAD_DAYS. Lapsed customers are left to the win-back list.
    Returns `customer_id, sku, product, last_order_date, median_days_to_repurchase,
    remind_on, p_churn, segment`, soonest first.
    """
    _require(repurchase, "repurchase", ("sku", "median_days_to_repurchase"))
    window_end = as_of + timedelta(days=days_ahead)
    return (
        _last_order_products(order_lines, as_of)
        .join(repurchase.select("sku", "median_days_to_repurchase")
              .filter(pl.col("median_days_to_repurchase").is_not_null()), on="sku")
        .join(scores.select("customer_id", "p_churn", "segment"), on="customer_id")
        .filter(pl.col("segment") != "lapsed")
        .with_columns(
            (pl.col("order_date")
             + pl.duration(days=(pl.col("median_days_to_repurchase").round(0)
                                 - REMINDER_LEAD_DAYS).cast(pl.Int64))).alias("remind_on"))
        .filter((pl.col("remind_on") >= as_of) & (pl.col("remind_on") <= window_end))
        .select("customer_id", "sku", "product", pl.col("order_date").alias("last_order_date"),
                "median_days_to_repurchase", "remind_on", pl.col("p_churn").round(3), "segment")
        .sort("remind_on", "customer_id", "sku")
    )
