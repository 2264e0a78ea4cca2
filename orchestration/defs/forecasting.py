"""Forecasting: demand forecast, backtest, reorder suggestions and the buyer files.

The assets read the marts, call the pure functions of `forecasting/`, write
`analytics.*` and the files under output/reorders/<as_of>/, and attach what a data team
wants to see in the UI (backtest against seasonal naive, a preview of order-now lines).
"""

import datetime as dt
import time
import warnings
from datetime import date
from pathlib import Path

import dagster as dg
import duckdb
import polars as pl

from dashboards.reorder_files import write_reorder_files
from orchestration.defs.resources import StoreResource, WarehouseResource, query_frame
from orchestration.defs.shared import (
    DUCKDB_POOL,
    analytics_key,
    markdown_table,
    mart,
    run_as_of,
    write_table,
)

FORECAST_GROUP = "forecasting"
HORIZON_DAYS = 56  # covers the longest lead time + order cycle of the demo suppliers
BACKTEST_HORIZON_DAYS = 28
BACKTEST_WINDOWS = 3
# The backtest is an accuracy monitor: nothing downstream reads it per SKU, and it costs
# about twice the forecast (five cross-validation windows). Past this many active SKUs a
# sample spread over sales volume is backtested (forecasting.sample_series): the 10x
# store's 5,000 SKUs took 293 s, a fifth of its run. A mean MASE over 1,000 SKUs has a
# standard error of about sd/32 (0.01 to 0.02 on the demo store's spread).
BACKTEST_MAX_SKUS = 1000


@dg.asset(
    key=analytics_key("demand_forecast"),
    group_name=FORECAST_GROUP,
    deps=[mart("fct_sku_demand_daily"), mart("dim_products")],
    pool=DUCKDB_POOL,
    kinds={"statsforecast", "duckdb"},
    description=(
        f"Daily demand per SKU for the next {HORIZON_DAYS} days with 80/95% intervals; "
        "stockout days censored, model chosen per SKU by cross-validation against seasonal "
        "naive, the store's yearly season from last year, planned promotions lifted by the "
        "uplift measured on past promotions; error_sd/level_sd feed the safety stocks."
    ),
)
def demand_forecast(context: dg.AssetExecutionContext, warehouse: WarehouseResource,
                    store: StoreResource) -> dg.MaterializeResult:
    from forecasting import forecast_demand
    from forecasting.demand import SeriesEndedEarlyWarning
    from forecasting.warehouse import demand_history

    with warehouse.connect() as con:
        as_of = run_as_of(context, con)
        history = demand_history(con, as_of)
        promotions = query_frame(
            con,
            "select sku as unique_id, promo_date as ds, cast(null as double) as uplift "
            "from intermediate.int_promotion_skus_daily where promo_date > ?", [as_of],
        )
    started = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", SeriesEndedEarlyWarning)
        forecast = forecast_demand(history, HORIZON_DAYS, promotions=promotions,
                                   compute=store.compute)
    for warning in caught:
        if issubclass(warning.category, SeriesEndedEarlyWarning):
            context.log.warning(str(warning.message))
        else:
            warnings.warn_explicit(warning.message, warning.category, warning.filename,
                                   warning.lineno)
    seconds = time.perf_counter() - started
    ended_early = forecast.filter(pl.col("ended_early"))["unique_id"].n_unique()
    forecast = forecast.with_columns(pl.lit(as_of).alias("as_of_date"))
    with warehouse.connect() as con:
        write_table(con, "demand_forecast", forecast)
    models = (forecast.group_by("model").agg(pl.col("unique_id").n_unique().alias("skus"))
              .sort("skus", descending=True))
    return dg.MaterializeResult(metadata={
        "as_of": as_of.isoformat(),
        "skus": forecast["unique_id"].n_unique(),
        "skus_ended_early": ended_early,
        "horizon_days": HORIZON_DAYS,
        "forecast_seconds": round(seconds, 1),
        "models_chosen": dg.MetadataValue.md(
            "| model | SKUs |\n|---|---|\n"
            + "\n".join(f"| {m} | {n} |" for m, n in models.iter_rows())),
    })


@dg.asset(
    key=analytics_key("forecast_backtest"),
    group_name=FORECAST_GROUP,
    deps=[mart("fct_sku_demand_daily"), mart("dim_products")],
    pool=DUCKDB_POOL,
    kinds={"statsforecast", "duckdb"},
    description=(
        f"Rolling-origin backtest ({BACKTEST_WINDOWS} windows of {BACKTEST_HORIZON_DAYS} days) "
        "per SKU: MASE, RMSSE, bias and interval coverage of the chosen model and of plain "
        "seasonal naive, "
        "on days the model did not see; stockout days are not scored. Past "
        f"{BACKTEST_MAX_SKUS:,} active SKUs, a sample spread over sales volume."
    ),
)
def forecast_backtest(context: dg.AssetExecutionContext, warehouse: WarehouseResource,
                      store: StoreResource) -> dg.MaterializeResult:
    from forecasting import backtest, sample_series, summarise_backtest
    from forecasting.warehouse import demand_history

    with warehouse.connect() as con:
        as_of = run_as_of(context, con)
        history = demand_history(con, as_of)
    skus = history["unique_id"].n_unique()
    history = sample_series(history, BACKTEST_MAX_SKUS)
    sampled = history["unique_id"].n_unique()
    if sampled < skus:
        context.log.info(f"Backtesting {sampled:,} of {skus:,} active SKUs, spread over "
                         "sales volume (BACKTEST_MAX_SKUS).")
    result = backtest(history, BACKTEST_HORIZON_DAYS, windows=BACKTEST_WINDOWS,
                      compute=store.compute)
    result = result.with_columns(pl.lit(as_of).alias("as_of_date"))
    with warehouse.connect() as con:
        write_table(con, "forecast_backtest", result)
    summary = summarise_backtest(result)
    return dg.MaterializeResult(metadata={
        "as_of": as_of.isoformat(),
        "active_skus": skus,
        "skus_backtested": sampled,
        "sample": ("all active SKUs" if sampled == skus else
                   f"{sampled:,} of {skus:,}: a systematic sample over sales volume"),
        **{k: (round(v, 3) if isinstance(v, float) else v) for k, v in summary.items()},
    })


@dg.asset(
    key=analytics_key("reorder_suggestions"),
    group_name=FORECAST_GROUP,
    deps=[analytics_key("demand_forecast"), mart("fct_inventory_position"), mart("dim_products")],
    pool=DUCKDB_POOL,
    kinds={"duckdb"},
    description=(
        "One line per SKU with supplier terms: inventory position, safety stock and reorder point at the service "
        "level of its ABC class, suggested quantity in case packs and at least the MOQ, days "
        "of cover, projected stockout date, urgency and the reason in words."
    ),
)
def reorder_suggestions(context: dg.AssetExecutionContext, warehouse: WarehouseResource,
                        store: StoreResource) -> dg.MaterializeResult:
    from forecasting import reorder_suggestions as suggest
    from forecasting.policy import DEFAULT_SERVICE_LEVEL

    settings = store.replenishment
    with warehouse.connect() as con:
        as_of = run_as_of(context, con)
        forecast = query_frame(con, "select * exclude (as_of_date) from analytics.demand_forecast")
        position = query_frame(
            con,
            "select sku, on_hand, on_order, committed, available "
            "from marts.fct_inventory_position")
        products = query_frame(
            con,
            """
            with stocked_at as (
                -- where each SKU is stocked: the location holding most of it on the last
                -- snapshot (for the storage capacity of storeops.yml)
                select sku, arg_max(location, on_hand) as location
                from marts.fct_inventory_daily
                where inventory_date = (select max(inventory_date) from marts.fct_inventory_daily)
                group by sku
            )
            select products.sku, products.supplier_id,
                   coalesce(products.product_title || coalesce(' ' || products.variant_title, ''),
                            products.sku) as product_title,
                   cast(products.unit_cost as double) as unit_cost,
                   cast(products.price as double) as price, products.lead_time_days,
                   products.lead_time_std_days, products.moq_units, products.case_pack,
                   products.order_cycle_days, products.abc_class,
                   coalesce(stocked_at.location, 'default') as location
            from marts.dim_products as products
            left join stocked_at on stocked_at.sku = products.sku
            where coalesce(products.status, 'active') = 'active'
            """)
    # A SKU without supplier terms (no purchasing files yet, or a SKU missing from
    # sku_suppliers.csv) cannot be reordered: it is listed, not guessed.
    has_terms = pl.col("lead_time_days").is_not_null() & pl.col("unit_cost").is_not_null()
    terms, without_terms = products.filter(has_terms), products.filter(~has_terms)
    lines = suggest(forecast, position.filter(pl.col("sku").is_in(terms["sku"].implode())),
                    terms, as_of=as_of, service_level=settings.service_level,
                    budget=settings.budget_per_cycle, storage_capacity=settings.storage_capacity,
                    auto_approve_below=settings.auto_approve_below, currency=store.currency)
    lines = lines.with_columns(pl.lit(as_of).alias("as_of_date"))
    with warehouse.connect() as con:
        write_table(con, "reorder_suggestions", lines)
    order_now = lines.filter(pl.col("urgency") == "order_now").sort("line_value", descending=True)
    preview = order_now.head(15).select("supplier_id", "sku", "product", "days_of_cover",
                                        "suggested_qty", "line_value", "reason")
    counts = dict(lines.group_by("urgency").len().iter_rows())
    cut = lines.filter(pl.col("reason").str.contains("; cut by "))
    if without_terms.height:
        context.log.warning(
            f"{without_terms.height} active SKU(s) have no supplier terms and get no reorder "
            f"line (e.g. {', '.join(without_terms['sku'].head(5))}); add them to "
            "landing/purchasing/sku_suppliers.csv")
    return dg.MaterializeResult(metadata={
        "as_of": as_of.isoformat(),
        "order_now": counts.get("order_now", 0),
        "order_soon": counts.get("order_soon", 0),
        "healthy": counts.get("healthy", 0),
        "overstock": counts.get("overstock", 0),
        "order_value": round(float(lines["line_value"].sum() or 0), 2),
        "auto_approved_lines": int(lines["auto_approved"].sum() or 0),
        "lines_cut_by_budget_or_storage": cut.height,
        "skus_without_supplier_terms": without_terms.height,
        "service_level": dg.MetadataValue.json(
            {**DEFAULT_SERVICE_LEVEL, **settings.service_level}),
        "order_now_preview": dg.MetadataValue.md(markdown_table(preview)),
    })


@dg.asset(
    key=dg.AssetKey(["output", "reorder_files"]),
    group_name=FORECAST_GROUP,
    deps=[analytics_key("reorder_suggestions")],
    pool=DUCKDB_POOL,  # it also writes analytics.reorder_file_log
    kinds={"csv", "xlsx"},
    description=("output/reorders/<as_of>/<supplier>.csv and .xlsx for the buyers, plus "
                 "summary.csv; files unanswered for 24 hours are listed."),
)
def reorder_files(context: dg.AssetExecutionContext, warehouse: WarehouseResource,
                  store: StoreResource) -> dg.MaterializeResult:
    with warehouse.connect(read_only=True) as con:
        as_of = run_as_of(context, con)
        lines = query_frame(con, "select * from analytics.reorder_suggestions")
    out_dir = Path(store.home) / "output" / "reorders" / as_of.isoformat()
    summary = write_reorder_files(lines, out_dir, as_of=as_of, currency=store.currency)
    with warehouse.connect() as con:
        unreviewed = log_and_review_reorder_files(con, summary, lines, as_of)
    return dg.MaterializeResult(metadata={
        "folder": dg.MetadataValue.path(str(out_dir)),
        "suppliers": summary.height,
        "lines": int(summary["lines"].sum() or 0),
        "order_value": float(summary["order_value"].sum() or 0),
        "summary": dg.MetadataValue.md(markdown_table(summary.drop("file_csv", "file_xlsx"))),
        "unreviewed_over_24h": unreviewed.height,
        "unreviewed": dg.MetadataValue.md(markdown_table(unreviewed)),
    })


REVIEW_HOURS = 24


def log_and_review_reorder_files(con: duckdb.DuckDBPyConnection, summary: pl.DataFrame,
                                 lines: pl.DataFrame, as_of: date) -> pl.DataFrame:
    """Record the files just written, and return earlier files nobody answered in 24 hours.

    A supplier's file counts as reviewed once a returned file in landing/approvals/ that
    names any of its SKUs was loaded after the file was written. The answer is kept in
    analytics.reorder_file_log (is_reviewed), which the brief reads.
    """
    con.execute("create schema if not exists analytics")
    con.execute(
        """
        create table if not exists analytics.reorder_file_log (
            supplier varchar, as_of_date date, written_at timestamp, lines bigint,
            order_value double, skus varchar[], is_reviewed boolean, reviewed_at timestamp
        )
        """
    )
    skus = (lines.filter(pl.col("suggested_qty") > 0).group_by("supplier_id")
            .agg(pl.col("sku").sort().alias("skus")))
    written = summary.join(skus, left_on="supplier", right_on="supplier_id", how="left").select(
        "supplier", pl.lit(as_of).alias("as_of_date"),
        pl.lit(dt.datetime.now(dt.UTC).replace(tzinfo=None)).alias("written_at"),
        pl.col("lines").cast(pl.Int64), pl.col("order_value"), "skus",
        pl.lit(False).alias("is_reviewed"), pl.lit(None, pl.Datetime("us")).alias("reviewed_at"),
    )
    con.register("written_files", written.to_arrow())
    con.execute("insert into analytics.reorder_file_log by name select * from written_files")
    con.unregister("written_files")
    con.execute(
        """
        update analytics.reorder_file_log as log
        set is_reviewed = true, reviewed_at = answered.first_answer
        from (
            select log.supplier, log.written_at, min(approvals._loaded_at) as first_answer
            from analytics.reorder_file_log as log
            inner join raw.approvals_reorder_lines as approvals
                on list_contains(log.skus, approvals.sku) and approvals._loaded_at > log.written_at
            where not log.is_reviewed
            group by 1, 2
        ) as answered
        where log.supplier = answered.supplier and log.written_at = answered.written_at
        """
    )
    return query_frame(
        con,
        f"""
        select supplier, as_of_date, written_at, lines, order_value
        from analytics.reorder_file_log
        where not is_reviewed and lines > 0
          and written_at < (now() at time zone 'UTC') - interval {REVIEW_HOURS} hour
        order by written_at
        """,
    )


@dg.asset(
    key=analytics_key("supply_alerts"),
    group_name=FORECAST_GROUP,
    deps=[analytics_key("demand_forecast"), mart("fct_purchase_orders"),
          mart("fct_inventory_position")],
    pool=DUCKDB_POOL,
    kinds={"duckdb"},
    description=(
        "Open POs past or at risk of missing their expected date, suppliers whose recent "
        "lead time drifts from their history, SKUs in an upcoming promotion short of cover."
    ),
)
def supply_alerts(context: dg.AssetExecutionContext,
                  warehouse: WarehouseResource) -> dg.MaterializeResult:
    from forecasting.supply_risk import supply_alerts as find_alerts

    with warehouse.connect() as con:
        as_of = run_as_of(context, con)
        purchase_orders = query_frame(
            con,
            "select po_number, supplier_id, sku, qty_ordered, qty_received, ordered_date, "
            "expected_date, received_date, status from marts.fct_purchase_orders")
        forecast = query_frame(con, "select unique_id, ds, forecast from analytics.demand_forecast")
        position = query_frame(
            con, "select sku, on_hand, committed, available from marts.fct_inventory_position")
        promotions = query_frame(
            con,
            "select sku, promotion_name, min(promo_date) as starts_on, max(promo_date) as ends_on "
            "from intermediate.int_promotion_skus_daily group by 1, 2")
    alerts = find_alerts(purchase_orders, forecast, position, promotions, as_of=as_of)
    alerts = alerts.with_columns(pl.lit(as_of).alias("as_of_date"))
    with warehouse.connect() as con:
        write_table(con, "supply_alerts", alerts)
    counts = dict(alerts.group_by("alert_type").len().iter_rows())
    return dg.MaterializeResult(metadata={
        "as_of": as_of.isoformat(),
        **{f"alerts_{k}": v for k, v in sorted(counts.items())},
        "high_severity": dg.MetadataValue.md(markdown_table(
            alerts.filter(pl.col("severity") == "high").head(20).select("alert_type", "message"))),
    })


forecasting_assets = [demand_forecast, forecast_backtest, reorder_suggestions, reorder_files,
                      supply_alerts]
