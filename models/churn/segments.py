"""Segments, value tiers and advocates of the scored customers (rules in the
models.churn docstring), and the rhythm behind the due date."""

from __future__ import annotations

from datetime import date

import polars as pl

from models.churn.features import HORIZON_DAYS

LAPSED_MIN_DAYS = 180
REACTIVATED_GAP_DAYS = 180
ADVOCATE_REPEAT_DAYS = 60


def assign_segments(frame: pl.DataFrame, *, horizon_days: int = HORIZON_DAYS) -> pl.DataFrame:
    """Add `segment` and `is_advocate` (rules in the models.churn docstring).

    frame: `p_churn, recency_days, next_interval_days` (the rhythm), `last_gap_days`,
    `value_tier`, `_clv_top` (predicted value in the top 20%), `orders`,
    `min_interval_days`, `complaints`, `csat_share_satisfied`, `refund_share`.
    """
    high_value = pl.col("value_tier").is_in(["vip", "gold"]) | pl.col("_clv_top")
    at_risk = (pl.col("recency_days") > pl.col("next_interval_days")) & (pl.col("p_churn") >= 0.5)
    segment = (
        pl.when((pl.col("recency_days") <= horizon_days)
                & (pl.col("last_gap_days") > REACTIVATED_GAP_DAYS))
        .then(pl.lit("reactivated"))
        .when(pl.col("recency_days") > pl.max_horizontal(pl.lit(LAPSED_MIN_DAYS),
                                                         3 * pl.col("next_interval_days")))
        .then(pl.lit("lapsed"))
        .when(at_risk & high_value).then(pl.lit("high_value_at_risk"))
        .when(at_risk).then(pl.lit("at_risk"))
        .otherwise(pl.lit("active"))
    )
    advocate = (
        (pl.col("orders") >= 2) & (pl.col("min_interval_days") <= ADVOCATE_REPEAT_DAYS)
        & (pl.col("complaints") == 0)
        & (pl.col("csat_share_satisfied").is_null() | (pl.col("csat_share_satisfied") >= 0.8))
        & (pl.col("refund_share") < 0.2)
    )
    return frame.with_columns(segment.alias("segment")).with_columns(
        (advocate.fill_null(False) & pl.col("segment").is_in(["active", "reactivated"]))
        .alias("is_advocate"))


def _usual_interval_from_products(frame: pl.DataFrame, order_lines: pl.DataFrame | None,
                                  as_of: date) -> pl.Expr | pl.Series:
    """The rhythm used for the due date: a repeat customer's own (shrunk) interval; for a
    one-order customer, the median days to re-buy the products of that order when known."""
    if order_lines is None or order_lines.is_empty():
        return pl.col("usual_interval_days").alias("next_interval_days")
    from models.repurchase import product_repurchase

    repurchase = product_repurchase(order_lines, as_of=as_of)
    per_customer = (
        order_lines.filter(pl.col("order_date") <= as_of)
        .join(frame.filter(pl.col("orders") == 1).select("customer_id"), on="customer_id")
        .join(repurchase.select("sku", "median_days_to_repurchase"), on="sku")
        .group_by("customer_id").agg(pl.col("median_days_to_repurchase").median().alias("_product_days"))
    )
    joined = frame.select("customer_id", "orders", "usual_interval_days").join(
        per_customer, on="customer_id", how="left", maintain_order="left")
    return joined.select(
        pl.when((pl.col("orders") == 1) & pl.col("_product_days").is_not_null())
        .then(pl.col("_product_days")).otherwise(pl.col("usual_interval_days"))
        .alias("next_interval_days")).to_series()


def _value_tiers(frame: pl.DataFrame) -> pl.Expr:
    share = (pl.col("net_revenue_365d").rank("ordinal", descending=True) / pl.len())
    return (pl.when(pl.col("net_revenue_365d") <= 0).then(pl.lit("bronze"))
            .when(share <= 0.05).then(pl.lit("vip"))
            .when(share <= 0.20).then(pl.lit("gold"))
            .when(share <= 0.50).then(pl.lit("silver"))
            .otherwise(pl.lit("bronze")))
