"""What the dashboards show, read from the warehouse: `load_dashboard_data(con, as_of)`
returns a `DashboardData` of small aggregated polars frames, everything on or before
`as_of`; an analytics table that is missing (or newer than `as_of`) is recorded in
`DashboardData.unavailable` with the reason. No Plotly here."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

import duckdb
import polars as pl

from dashboards.pages.metrics import cohort_grid, month_start, months_back
from models.budget import curve_points
from quality.warehouse import ad_spend_gap

TOP_SKUS = 6
ACTUALS_DAYS = 90


@dataclass
class DashboardData:
    """Everything the pages show, aggregated, filtered to dates on or before `as_of`."""

    as_of: date
    first_date: date | None  # the first day with store data (fct_daily_kpis)
    last_date: date | None  # the last day with store data on or before as_of
    daily: pl.DataFrame  # fct_daily_kpis, money as Float64
    channels: pl.DataFrame  # fct_channel_daily
    anomalies: pl.DataFrame  # analytics.anomalies known on as_of
    sku_actuals: pl.DataFrame  # top SKUs: sku, label, demand_date, units, is_stockout
    forecast: pl.DataFrame  # top SKUs: sku, label, ds, forecast, lo_80..hi_95, model
    forecast_as_of: date | None
    stockouts_monthly: pl.DataFrame  # month, stockout_sku_days, skus_out, skus
    reorder: pl.DataFrame  # analytics.reorder_suggestions (at risk or to order)
    reorder_as_of: date | None
    cohorts: pl.DataFrame  # cohort_month, customers, months_after, share
    churn_segments: pl.DataFrame  # segment, value_tier, customers, predicted_clv, p_churn_mean
    channel_value: pl.DataFrame  # acquisition_channel, customers, predicted_clv_mean/_total
    churn_as_of: date | None
    csat_weekly: pl.DataFrame  # week, tickets, rated, satisfied, csat
    # fct_profit_daily (day x channel: the profit ladder, ad spend, CM3), money as Float64
    profit: pl.DataFrame = field(default_factory=pl.DataFrame)
    # analytics.budget_recommendations of budget_as_of (one row per paid channel) and the
    # points of its curves (models.budget.curve_points: channel, spend, new_customers,
    # is_current, is_suggested)
    budget: pl.DataFrame = field(default_factory=pl.DataFrame)
    budget_curves: pl.DataFrame = field(default_factory=pl.DataFrame)
    budget_as_of: date | None = None
    # analytics.creative_alerts of creative_alerts_as_of: the ads worn out
    creative_alerts: pl.DataFrame = field(default_factory=pl.DataFrame)
    creative_alerts_as_of: date | None = None
    # Why a block is missing, by source: "analytics.demand_forecast" -> reason.
    unavailable: dict[str, str] = field(default_factory=dict)


def load_dashboard_data(con: duckdb.DuckDBPyConnection, as_of: date) -> DashboardData:
    """Read what the five dashboards show from the warehouse, as of `as_of`.

    Reads marts.fct_daily_kpis, fct_channel_daily, fct_sku_demand_daily, dim_products,
    fct_cohort_retention (built to the warehouse's as-of date; cells of months not
    ended by `as_of` are null),
    fct_support_tickets and analytics.anomalies, demand_forecast, reorder_suggestions,
    churn_scores, budget_recommendations, creative_alerts (each optional). Money columns
    come back as Float64 in the store's currency.
    """
    reader = _Reader(con)
    unavailable: dict[str, str] = {}

    daily = reader.frame("marts", "fct_daily_kpis",
                         "select * from marts.fct_daily_kpis where kpi_date <= ? order by kpi_date",
                         [as_of])
    daily = _floats(daily, exclude=("kpi_date",))
    first_date = daily["kpi_date"].min() if daily.height else None
    last_date = daily["kpi_date"].max() if daily.height else None

    channels = reader.frame(
        "marts", "fct_channel_daily",
        "select channel_date, channel, spend, impressions, clicks, platform_conversions, "
        "platform_conversion_value, sessions, orders, new_customers, net_revenue "
        "from marts.fct_channel_daily where channel_date <= ? order by channel_date, channel",
        [as_of])
    channels = _floats(channels, exclude=("channel_date", "channel"))
    profit = reader.frame(
        "marts", "fct_profit_daily",
        "select * exclude (profit_day_id, currency_code) from marts.fct_profit_daily "
        "where profit_date <= ? order by profit_date, channel", [as_of])
    profit = _floats(profit, exclude=("profit_date", "channel"))

    anomalies = reader.frame(
        "analytics", "anomalies",
        # An alert first raised after as_of was not known on as_of.
        "select metric, dimension, date, value, expected, lo, hi, severity, direction, "
        "impact, incident_id, incident_start, driver from analytics.anomalies "
        "where date <= ? and coalesce(first_detected_on, date) <= ? order by date",
        [as_of, as_of])
    if anomalies is None:
        unavailable["analytics.anomalies"] = reader.why_missing("anomalies", as_of)

    products = reader.frame("marts", "dim_products",
                            "select sku, product_title, variant_title from marts.dim_products")

    forecast_as_of = reader.latest_as_of("demand_forecast", as_of)
    top = _top_skus(reader, as_of, forecast_as_of)
    labels = _sku_labels(top, products)
    sku_actuals = _empty({"sku": pl.Utf8, "label": pl.Utf8, "demand_date": pl.Date,
                          "units": pl.Float64, "is_stockout": pl.Boolean})
    forecast = _empty({"sku": pl.Utf8, "label": pl.Utf8, "ds": pl.Date, "forecast": pl.Float64,
                       "lo_80": pl.Float64, "hi_80": pl.Float64, "lo_95": pl.Float64,
                       "hi_95": pl.Float64, "model": pl.Utf8})
    if top:
        frame = reader.frame(
            "marts", "fct_sku_demand_daily",
            "select sku, demand_date, units::double as units, coalesce(is_stockout, false) "
            "as is_stockout from marts.fct_sku_demand_daily where demand_date <= ? "
            "and demand_date > ? and sku in (select unnest(?::varchar[])) order by demand_date",
            [as_of, as_of - timedelta(days=ACTUALS_DAYS), top])
        if frame is not None:
            sku_actuals = frame.join(labels, on="sku", how="left").select(sku_actuals.columns)
        if forecast_as_of is not None:
            frame = reader.frame(
                "analytics", "demand_forecast",
                "select unique_id as sku, ds, forecast, lo_80, hi_80, lo_95, hi_95, model "
                "from analytics.demand_forecast where as_of_date = ? "
                "and unique_id in (select unnest(?::varchar[])) order by ds",
                [forecast_as_of, top])
            if frame is not None:
                forecast = _floats(frame, exclude=("sku", "ds", "model")).join(
                    labels, on="sku", how="left").select(forecast.columns)
    if forecast_as_of is None:
        unavailable["analytics.demand_forecast"] = reader.why_missing("demand_forecast", as_of)

    stockouts_monthly = reader.frame(
        "marts", "fct_sku_demand_daily",
        """
        select date_trunc('month', demand_date)::date as month,
               count(*) filter (where is_stockout)::bigint as stockout_sku_days,
               count(distinct sku) filter (where is_stockout)::bigint as skus_out,
               count(distinct sku)::bigint as skus
        from marts.fct_sku_demand_daily
        where demand_date <= ? and demand_date >= ?
        group by 1 order by 1
        """, [as_of, month_start(as_of) - months_back(11)])

    reorder_as_of = reader.latest_as_of("reorder_suggestions", as_of)
    reorder = None
    if reorder_as_of is not None:
        reorder = reader.frame(
            "analytics", "reorder_suggestions",
            """
            select sku, product, supplier_id as supplier, on_hand, days_of_cover,
                   projected_stockout_date, suggested_qty, line_value, urgency, lead_time_days
            from analytics.reorder_suggestions
            where as_of_date = ? and (suggested_qty > 0 or urgency in ('order_now', 'order_soon'))
            """, [reorder_as_of])
    else:
        unavailable["analytics.reorder_suggestions"] = reader.why_missing(
            "reorder_suggestions", as_of)
    if reorder is not None:
        reorder = _floats(reorder, exclude=("sku", "product", "supplier", "on_hand",
                                            "projected_stockout_date", "suggested_qty",
                                            "urgency"))

    retention = reader.frame(
        "marts", "fct_cohort_retention",
        "select cohort_month, months_after, cohort_customers, active_customers "
        "from marts.fct_cohort_retention where cohort_month <= ?", [as_of])
    cohorts = cohort_grid(retention if retention is not None else _empty(
        {"cohort_month": pl.Date, "months_after": pl.Int64, "cohort_customers": pl.Int64,
         "active_customers": pl.Int64}), as_of)

    churn_as_of = reader.latest_as_of("churn_scores", as_of)
    churn_segments = channel_value = None
    if churn_as_of is not None:
        churn_segments = reader.frame(
            "analytics", "churn_scores",
            """
            select segment, value_tier, count(*)::bigint as customers,
                   sum(predicted_clv)::double as predicted_clv,
                   avg(p_churn)::double as p_churn_mean
            from analytics.churn_scores where as_of_date = ? group by all
            """, [churn_as_of])
        channel_value = reader.frame(
            "analytics", "churn_scores",
            """
            select coalesce(acquisition_channel, 'unknown') as acquisition_channel,
                   count(*)::bigint as customers,
                   avg(predicted_clv)::double as predicted_clv_mean,
                   sum(predicted_clv)::double as predicted_clv_total
            from analytics.churn_scores where as_of_date = ? group by all
            """, [churn_as_of])
    else:
        unavailable["analytics.churn_scores"] = reader.why_missing("churn_scores", as_of)

    csat_weekly = reader.frame(
        "marts", "fct_support_tickets",
        """
        select date_trunc('week', created_date)::date as week, count(*)::bigint as tickets,
               count(is_satisfied)::bigint as rated,
               count(*) filter (where is_satisfied)::bigint as satisfied,
               avg(is_satisfied::int)::double as csat
        from marts.fct_support_tickets where created_date <= ? group by 1 order by 1
        """, [as_of])

    budget_as_of = reader.latest_as_of("budget_recommendations", as_of)
    budget = budget_curves = None
    if budget_as_of is not None:
        budget = reader.frame(
            "analytics", "budget_recommendations",
            "select * from analytics.budget_recommendations where as_of_date = ? "
            "order by current_spend desc, channel", [budget_as_of])
        # The curves are drawn from the table's fitted parameters; curve_points reads only
        # which channels have days up to the advice's date.
        days = (channels if channels is not None else _empty(
            {"channel_date": pl.Date, "channel": pl.Utf8}))
        budget_curves = curve_points(
            days.select(pl.col("channel_date").alias("date"), "channel"), budget,
            as_of=budget_as_of)
    elif not (reader.has("analytics", "budget_recommendations") and not con.execute(
            "select count(*) from analytics.budget_recommendations").fetchall()[0][0]):
        # (an empty table is a run without a paid channel in its last 28 days: the page's
        # own words say so)
        unavailable["analytics.budget_recommendations"] = reader.why_missing(
            "budget_recommendations", as_of)
    creative_as_of = reader.latest_as_of("creative_alerts", as_of)
    creative_alerts = None
    if creative_as_of is not None:
        creative_alerts = _floats(reader.frame(
            "analytics", "creative_alerts",
            "select channel, campaign_name, ad_name, launched_date, first_alert_date, is_new, "
            "severity, rule, baseline_ctr, recent_ctr, ctr_change, baseline_frequency, "
            "recent_frequency, cost_per_result_change, recent_spend, reason "
            "from analytics.creative_alerts where as_of_date = ? "
            "order by severity = 'high' desc, recent_spend desc, ad_name", [creative_as_of]),
            exclude=("launched_date", "first_alert_date"))
    elif not (reader.has("analytics", "creative_alerts") and not con.execute(
            "select count(*) from analytics.creative_alerts").fetchall()[0][0]):
        # (an empty table is a run that found no worn-out ad: nothing missing)
        unavailable["analytics.creative_alerts"] = reader.why_missing("creative_alerts", as_of)

    # An ad export that was refused is why the marketing page has no spend: say so there.
    gap = ad_spend_gap(con)
    if gap:
        unavailable["ad_spend"] = gap
    return DashboardData(
        as_of=as_of,
        first_date=first_date,
        last_date=last_date,
        daily=daily,
        channels=channels if channels is not None else _empty(
            {"channel_date": pl.Date, "channel": pl.Utf8, "spend": pl.Float64}),
        anomalies=anomalies if anomalies is not None else _empty(
            {"metric": pl.Utf8, "dimension": pl.Utf8, "date": pl.Date, "value": pl.Float64,
             "expected": pl.Float64, "lo": pl.Float64, "hi": pl.Float64, "severity": pl.Utf8,
             "direction": pl.Utf8, "impact": pl.Float64, "incident_id": pl.Utf8,
             "incident_start": pl.Date, "driver": pl.Utf8}),
        sku_actuals=sku_actuals,
        forecast=forecast,
        forecast_as_of=forecast_as_of,
        stockouts_monthly=stockouts_monthly if stockouts_monthly is not None else _empty(
            {"month": pl.Date, "stockout_sku_days": pl.Int64, "skus_out": pl.Int64,
             "skus": pl.Int64}),
        reorder=reorder if reorder is not None else _empty(
            {"sku": pl.Utf8, "product": pl.Utf8, "supplier": pl.Utf8, "on_hand": pl.Int64,
             "days_of_cover": pl.Float64, "projected_stockout_date": pl.Date,
             "suggested_qty": pl.Int64, "line_value": pl.Float64, "urgency": pl.Utf8,
             "lead_time_days": pl.Float64}),
        reorder_as_of=reorder_as_of,
        cohorts=cohorts,
        churn_segments=churn_segments if churn_segments is not None else _empty(
            {"segment": pl.Utf8, "value_tier": pl.Utf8, "customers": pl.Int64,
             "predicted_clv": pl.Float64, "p_churn_mean": pl.Float64}),
        channel_value=channel_value if channel_value is not None else _empty(
            {"acquisition_channel": pl.Utf8, "customers": pl.Int64,
             "predicted_clv_mean": pl.Float64, "predicted_clv_total": pl.Float64}),
        churn_as_of=churn_as_of,
        csat_weekly=csat_weekly if csat_weekly is not None else _empty(
            {"week": pl.Date, "tickets": pl.Int64, "rated": pl.Int64, "satisfied": pl.Int64,
             "csat": pl.Float64}),
        unavailable=unavailable,
        profit=profit if profit is not None else _empty(
            {"profit_date": pl.Date, "channel": pl.Utf8, "net_sales": pl.Float64}),
        budget=budget if budget is not None else _empty(
            {"channel": pl.Utf8, "status": pl.Utf8, "reason": pl.Utf8, "headline": pl.Utf8}),
        budget_curves=budget_curves if budget_curves is not None else _empty(
            {"channel": pl.Utf8, "spend": pl.Float64, "new_customers": pl.Float64,
             "is_current": pl.Boolean, "is_suggested": pl.Boolean}),
        budget_as_of=budget_as_of,
        creative_alerts=creative_alerts if creative_alerts is not None else _empty(
            {"channel": pl.Utf8, "campaign_name": pl.Utf8, "ad_name": pl.Utf8}),
        creative_alerts_as_of=creative_as_of,
    )


class _Reader:
    """Queries that return None when their table is not in the warehouse."""

    def __init__(self, con: duckdb.DuckDBPyConnection):
        self.con = con
        rows = con.execute(
            "select table_schema, table_name from information_schema.tables "
            "where table_schema in ('marts', 'analytics')").fetchall()
        self.tables = {(schema, name) for schema, name in rows}

    def has(self, schema: str, table: str) -> bool:
        return (schema, table) in self.tables

    def frame(self, schema: str, table: str, sql: str, params: list | None = None
              ) -> pl.DataFrame | None:
        if not self.has(schema, table):
            return None
        return self.con.sql(sql, params=params or []).pl()

    def latest_as_of(self, table: str, as_of: date) -> date | None:
        """The newest as_of_date of an analytics table on or before as_of."""
        if not self.has("analytics", table):
            return None
        rows = self.con.execute(f"select max(as_of_date) from analytics.{table} "
                                "where as_of_date <= ?", [as_of]).fetchall()
        return rows[0][0] if rows else None

    def why_missing(self, table: str, as_of: date) -> str:
        what, group = ANALYTICS_SOURCES.get(table, (table, "?"))
        if not self.has("analytics", table):
            return (f"the {what} have not been built on this store yet (analytics.{table}, "
                    f"Dagster group '{group}')")
        rows = self.con.execute(f"select min(as_of_date) from analytics.{table}").fetchall()
        if rows and rows[0][0] is not None:
            return (f"the {what} in the warehouse were computed as of {rows[0][0]:%Y-%m-%d}, "
                    f"after {as_of:%Y-%m-%d}, so they cannot be shown for this date")
        return f"the {what} are empty (analytics.{table})"


# analytics table -> what it holds, the Dagster group that builds it
ANALYTICS_SOURCES = {
    "anomalies": ("anomaly alerts", "anomalies"),
    "demand_forecast": ("demand forecasts", "forecasting"),
    "reorder_suggestions": ("reorder suggestions", "forecasting"),
    "churn_scores": ("churn scores", "customers"),
    "budget_recommendations": ("budget response curves", "growth"),
    "creative_alerts": ("creative fatigue alerts", "anomalies"),
}


def _top_skus(reader: _Reader, as_of: date, forecast_as_of: date | None) -> list[str]:
    """The TOP_SKUS SKUs with the most net revenue in the last ACTUALS_DAYS days (among
    the forecast ones when there is a forecast)."""
    if not reader.has("marts", "fct_sku_demand_daily"):
        return []
    forecast_filter = ""
    params: list = [as_of, as_of - timedelta(days=ACTUALS_DAYS)]
    if forecast_as_of is not None:
        forecast_filter = ("and sku in (select distinct unique_id from analytics.demand_forecast "
                           "where as_of_date = ?)")
        params.append(forecast_as_of)
    rows = reader.con.execute(
        f"""
        select sku from marts.fct_sku_demand_daily
        where demand_date <= ? and demand_date > ? {forecast_filter}
        group by sku having sum(units) > 0
        order by sum(net_revenue) desc nulls last, sku limit {TOP_SKUS}
        """, params).fetchall()
    return [r[0] for r in rows]


def _sku_labels(skus: list[str], products: pl.DataFrame | None) -> pl.DataFrame:
    frame = pl.DataFrame({"sku": skus}, schema={"sku": pl.Utf8})
    if products is None or not products.height:
        return frame.with_columns(pl.col("sku").alias("label"))
    named = frame.join(products, on="sku", how="left").with_columns(
        pl.concat_str([pl.col("product_title"), pl.col("variant_title")], separator=" ",
                      ignore_nulls=True).alias("name"))
    return named.select("sku", pl.when(pl.col("name").is_null() | (pl.col("name") == ""))
                        .then(pl.col("sku"))
                        .otherwise(pl.col("name").str.slice(0, 32))
                        .alias("label"))


def _floats(frame: pl.DataFrame | None, *, exclude: Sequence[str]) -> pl.DataFrame | None:
    """Money arrives as DECIMAL and counts as HUGEINT: make every measure a Float64."""
    if frame is None:
        return None
    return frame.with_columns(pl.col(c).cast(pl.Float64) for c in frame.columns
                              if c not in exclude and frame[c].dtype.is_numeric())


def _empty(schema: dict) -> pl.DataFrame:
    return pl.DataFrame(schema=schema)
