"""Growth: where the next ad dollar goes (analytics.budget_recommendations).

The asset reads the channel-day mart, calls `models.budget`, writes the advice, and the
held-out check of its curves against the constant-CAC baseline to
analytics.model_evaluation (task 'budget_response'). On a demo home it also scores the
curves against the response the generator planted (demo_truth/response_curves.json).
"""


import datetime as dt
from pathlib import Path

import dagster as dg
import polars as pl

from orchestration.defs.resources import StoreResource, WarehouseResource
from orchestration.defs.shared import (
    DUCKDB_POOL,
    analytics_key,
    markdown_table,
    mart,
    run_as_of,
    write_evaluation,
    write_table,
)

GROWTH_GROUP = "growth"
HOLDOUT_DAYS = 56


@dg.asset(
    key=analytics_key("budget_recommendations"),
    group_name=GROWTH_GROUP,
    deps=[mart("fct_channel_daily"), mart("fct_orders"), mart("dim_customers"),
          mart("fct_order_profit")],
    pool=DUCKDB_POOL,
    kinds={"scipy", "duckdb"},
    description=(
        "Per paid channel: a response curve of store-attributed new customers against daily "
        "spend (geometric adstock x Hill saturation, scaled by the store's demand), the "
        "marginal new customers and margin of the next dollar with a 90% interval, and the "
        "daily budget that earns most at today's total; 'no_curve' with the reason where "
        "the data cannot support one. The curves' forecasts of the last 8 weeks, fitted "
        "without them, are compared with a constant CAC in analytics.model_evaluation."
    ),
)
def budget_recommendations(context: dg.AssetExecutionContext, warehouse: WarehouseResource,
                           store: StoreResource) -> dg.MaterializeResult:
    from models.budget import MIN_DAYS, budget_recommendations, holdout_evaluation
    from models.warehouse import budget_inputs

    with warehouse.connect() as con:
        as_of = run_as_of(context, con)
        daily, values, basis = budget_inputs(con, as_of)
    table = budget_recommendations(daily, as_of=as_of, value_per_customer=values,
                                   value_basis=basis, currency=store.currency)
    evaluation = None
    if daily.height and (as_of - daily["date"].min()).days + 1 >= MIN_DAYS + HOLDOUT_DAYS:
        holdout = holdout_evaluation(daily, cutoff=as_of - dt.timedelta(days=HOLDOUT_DAYS),
                                     horizon_days=HOLDOUT_DAYS)
        if holdout.height:
            evaluation = _evaluation_rows(holdout)
    with warehouse.connect() as con:
        write_table(con, "budget_recommendations", table)
        if evaluation is not None:
            write_evaluation(con, "budget_response", as_of, evaluation, "response_curve")
    metadata: dict = {
        "as_of": as_of.isoformat(),
        "channels": table.height,
        "with_curve": int((table["status"] != "no_curve").sum()) if table.height else 0,
        "headline": table["headline"][0] if table.height else "No paid channel.",
        "value_basis": basis,
    }
    if table.height:
        metadata["channels_table"] = dg.MetadataValue.md(markdown_table(
            table.select("channel", "status", "current_spend", "suggested_spend",
                         "marginal_new_customers_per_100", "marginal_lo", "marginal_hi",
                         "marginal_return", "saturation", "reason")
            .with_columns(pl.col(pl.Float64).round(3))))
    if evaluation is not None:
        metadata["holdout_8_weeks"] = dg.MetadataValue.md(markdown_table(
            evaluation.pivot(on="model", index="population", values="value")
            .with_columns(pl.col(pl.Float64).round(2))))
    truth = Path(store.home) / "demo_truth" / "response_curves.json"
    if truth.exists() and table.height:
        from orchestration.demo.response import score_recommendations

        metadata["demo_truth_recovery"] = dg.MetadataValue.md(markdown_table(
            score_recommendations(table, truth.parent).with_columns(
                pl.col(pl.Float64).round(3))))
    return dg.MaterializeResult(metadata=metadata)


def _evaluation_rows(holdout: pl.DataFrame) -> pl.DataFrame:
    """model_evaluation rows: weekly mean absolute error of new customers per channel
    and over all channels, for the curves and the constant-CAC baseline."""
    overall = holdout.select(
        pl.lit("all").alias("channel"), pl.col("mae_weekly_model").sum(),
        pl.col("mae_weekly_baseline").sum())
    both = pl.concat([holdout.select("channel", "mae_weekly_model", "mae_weekly_baseline"),
                      overall])
    return (both.unpivot(index="channel", variable_name="model", value_name="value")
            .with_columns(
                pl.col("model").replace_strict({"mae_weekly_model": "response_curve",
                                                "mae_weekly_baseline": "constant_cac"}),
                pl.lit("holdout_8_weeks").alias("window"),
                pl.col("channel").alias("population"),
                pl.lit("mae_weekly_new_customers").alias("metric"))
            .select("model", "window", "population", "metric", "value"))


growth_assets = [budget_recommendations]
