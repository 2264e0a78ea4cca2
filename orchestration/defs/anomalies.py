"""Anomalies: which number just broke, on the as-of day, with the history of past alerts.

The asset reads the daily marts, calls `models.anomalies`, and keeps `analytics.anomalies`
as the history of every alerted day (first and last run that saw it). On a demo store
(`<home>/demo_truth/incidents.json` exists) it also scores the last year against the
planted incidents, next to the fixed +-3 sigma baseline, into analytics.model_evaluation.

`creative_alerts` reads marts.fct_ad_daily and keeps `analytics.creative_alerts`: the ads
worn out as of the run date (`models.fatigue`), new ones flagged for the daily brief.
"""

import json
import time
from datetime import date, timedelta
from pathlib import Path

import dagster as dg
import duckdb
import polars as pl

from orchestration.defs.resources import StoreResource, WarehouseResource, query_frame
from orchestration.defs.shared import (
    DUCKDB_POOL,
    analytics_key,
    markdown_table,
    mart,
    run_as_of,
    write_evaluation,
    write_table,
)

ANOMALIES_GROUP = "anomalies"
LOOKBACK_DAYS = 28  # each run re-scores the last four weeks (late data, corrected exports)
EVALUATION_DAYS = 365


def anomaly_series(con: duckdb.DuckDBPyConnection, as_of: date) -> pl.DataFrame:
    """The marts behind the alerts, as `models.anomalies.series.kpi_series` wants them."""
    from models.anomalies.detect import HISTORY_DAYS
    from models.anomalies.series import kpi_series

    since = as_of - timedelta(days=HISTORY_DAYS + EVALUATION_DAYS)

    def table(sql: str) -> pl.DataFrame:
        return query_frame(con, sql, [since, as_of])

    return kpi_series(
        table("select * from marts.fct_daily_kpis where kpi_date between ? and ?"),
        table("select * from marts.fct_channel_daily where channel_date between ? and ?"),
        table("select order_line_id, order_id, customer_id, order_date, channel, sku, quantity, "
              "unit_price, gross_revenue, discounts, refunds, net_revenue, is_refunded, is_revenue "
              "from marts.fct_order_lines where line_kind = 'product' "
              "and order_date between ? and ?"),
        table("select ticket_id, category, created_date, first_reply_minutes "
              "from marts.fct_support_tickets where created_date between ? and ?"),
    )


def keep_history(con: duckdb.DuckDBPyConnection, alerts: pl.DataFrame, as_of: date) -> int:
    """Upsert this run's alerts into analytics.anomalies, keyed by metric, dimension and
    date: a day first alerted on an earlier run keeps that first_detected_on. Returns the
    number of alert days seen for the first time."""
    frame = alerts.with_columns(pl.lit(as_of).alias("first_detected_on"),
                                pl.lit(as_of).alias("last_detected_on"))
    con.execute("create schema if not exists analytics")
    existing = [r[0] for r in con.execute(
        "select column_name from information_schema.columns where table_schema = 'analytics' "
        "and table_name = 'anomalies' order by ordinal_position").fetchall()]
    con.register("incoming_alerts", frame.to_arrow())
    if existing and existing != frame.columns:
        # The alert columns changed with a new storeops version: start a new history.
        con.execute("drop table analytics.anomalies")
        existing = []
    if not existing:
        con.execute("create table analytics.anomalies as select * from incoming_alerts limit 0")
    new_days = con.execute(
        """
        select count(*) from incoming_alerts as incoming
        anti join analytics.anomalies as old using (metric, dimension, date)
        """).fetchall()[0][0]
    con.execute(
        """
        create or replace temp table merged_alerts as
        select incoming.* replace (coalesce(old.first_detected_on, incoming.first_detected_on)
                                   as first_detected_on)
        from incoming_alerts as incoming
        left join analytics.anomalies as old using (metric, dimension, date)
        """)
    con.execute("delete from analytics.anomalies as old using merged_alerts as m "
                "where old.metric = m.metric and old.dimension = m.dimension and old.date = m.date")
    con.execute("insert into analytics.anomalies by name select * from merged_alerts")
    con.unregister("incoming_alerts")
    return int(new_days)


def evaluate_on_demo_truth(series: pl.DataFrame, incidents: list[dict], as_of: date
                           ) -> pl.DataFrame:
    """Recall and false alerts of storeops and of the +-3 sigma baseline over the last year."""
    from models.anomalies.baseline import threshold_baseline
    from models.anomalies.detect import detect_anomalies
    from orchestration.demo.anomaly_evaluation import evaluate_alerts

    start = as_of - timedelta(days=EVALUATION_DAYS - 1)
    rows = []
    for model, detector in (("storeops", detect_anomalies), ("threshold_3sigma", threshold_baseline)):
        alerts = detector(series, as_of=as_of, lookback_days=EVALUATION_DAYS)
        table = evaluate_alerts(alerts, incidents, start=start, end=as_of, series=series)
        for row in table.iter_rows(named=True):
            for metric in ("recall", "false_alerts_per_month", "incidents_planted",
                           "incidents_detected", "false_alert_incidents"):
                value = row.get(metric)
                rows.append({"model": model, "window": f"last_{EVALUATION_DAYS}_days",
                             "population": row["metric"], "metric": metric,
                             "value": None if value is None else float(value)})
    return pl.DataFrame(rows, schema={"model": pl.String, "window": pl.String,
                                      "population": pl.String, "metric": pl.String,
                                      "value": pl.Float64})


@dg.asset(
    key=analytics_key("anomalies"),
    group_name=ANOMALIES_GROUP,
    deps=[mart("fct_daily_kpis"), mart("fct_channel_daily"), mart("fct_order_lines"),
          mart("fct_support_tickets")],
    pool=DUCKDB_POOL,
    kinds={"polars", "duckdb"},
    description=(
        "Alerts on revenue, orders, conversion, AOV, spend/CAC/ROAS per channel, return rate "
        "per SKU, ticket volume per category and first reply time: expected value from the "
        "days before (weekday x level x last year's season), robust band widened at low "
        "volume, severity from deviation and money at stake, consecutive days merged, the "
        "channel/SKU/category that drives it. History of every alerted day kept."
    ),
)
def anomalies(context: dg.AssetExecutionContext, warehouse: WarehouseResource,
              store: StoreResource) -> dg.MaterializeResult:
    from models.anomalies.detect import detect_anomalies

    with warehouse.connect() as con:
        as_of = run_as_of(context, con)
        series = anomaly_series(con, as_of)
    started = time.perf_counter()
    alerts = detect_anomalies(series, as_of=as_of, lookback_days=LOOKBACK_DAYS)
    seconds = time.perf_counter() - started
    truth = Path(store.home) / "demo_truth" / "incidents.json"
    evaluation = None
    if truth.exists():
        evaluation = evaluate_on_demo_truth(series, json.loads(truth.read_text()), as_of)
    with warehouse.connect() as con:
        new_days = keep_history(con, alerts, as_of)
        if evaluation is not None:
            write_evaluation(con, "anomalies", as_of, evaluation, "storeops")
    current = alerts.filter(pl.col("is_current") & (pl.col("date") == pl.col("incident_end")))
    metadata = {
        "as_of": as_of.isoformat(),
        "series": series.select("metric", "dimension").n_unique(),
        "alert_days_in_lookback": alerts.height,
        "new_alert_days": new_days,
        "open_incidents": current.height,
        "detect_seconds": round(seconds, 2),
        "open_now": dg.MetadataValue.md(markdown_table(
            current.sort("impact", descending=True, nulls_last=True).head(10)
            .select("metric", "dimension", "incident_start", "value", "expected", "severity",
                    "direction", "driver")
            .with_columns(pl.col("value", "expected").round(2)))),
    }
    if evaluation is not None:
        overall = evaluation.filter(pl.col("population") == "overall")
        metadata["demo_truth_evaluation"] = dg.MetadataValue.md(markdown_table(
            overall.pivot(on="metric", index="model", values="value")))
    return dg.MaterializeResult(metadata=metadata)


@dg.asset(
    key=analytics_key("creative_alerts"),
    group_name=ANOMALIES_GROUP,
    deps=[mart("fct_ad_daily")],
    pool=DUCKDB_POOL,
    kinds={"polars", "duckdb"},
    description=(
        "Worn-out creatives: per Meta and TikTok ad, the last 7 days against its own first 14 "
        "active days; CTR down (significant on its clicks) with frequency up, or cost per "
        "result up beyond the channel's same-day rise. One row per ad alerting on the as-of "
        "date with the figures and a sentence; is_new when its first alert day is within a week."
    ),
)
def creative_alerts(context: dg.AssetExecutionContext,
                    warehouse: WarehouseResource) -> dg.MaterializeResult:
    from models.fatigue import creative_alerts as find_alerts

    with warehouse.connect() as con:
        as_of = run_as_of(context, con)
        ads = query_frame(
            con,
            "select ad_date, channel, campaign_name, ad_group_name, ad_name, currency_code, "
            "spend, impressions, reach, clicks, platform_conversions from marts.fct_ad_daily "
            # every day up to the as-of date: an ad's baseline is its first two weeks, however
            # long ago (one row per ad and day: small)
            "where ad_name is not null and ad_date <= ?", [as_of])
    started = time.perf_counter()
    alerts = find_alerts(ads, as_of=as_of).with_columns(pl.lit(as_of).alias("as_of_date"))
    seconds = time.perf_counter() - started
    with warehouse.connect() as con:
        write_table(con, "creative_alerts", alerts)
    return dg.MaterializeResult(metadata={
        "as_of": as_of.isoformat(),
        "ads_scored": ads.select("channel", "campaign_name", "ad_group_name", "ad_name").n_unique(),
        "alerts": alerts.height,
        "new_alerts": int(alerts["is_new"].sum()),
        "detect_seconds": round(seconds, 3),
        "alerts_now": dg.MetadataValue.md(markdown_table(
            alerts.head(20).select(
                "channel", "campaign_name", "ad_name", "first_alert_date", "severity",
                (pl.col("recent_ctr") * 100).round(2).alias("ctr_pct"),
                (pl.col("baseline_ctr") * 100).round(2).alias("baseline_ctr_pct"),
                pl.col("recent_frequency").round(1), pl.col("baseline_frequency").round(1),
                "reason"))),
    })


anomaly_assets = [anomalies, creative_alerts]
