"""The managers' dashboards: five self-contained HTML pages of Plotly charts.

`load_dashboard_data(con, as_of)` reads the marts and the analytics tables, everything
filtered to dates on or before `as_of` (a past as-of replays what the dashboards said
then), and aggregates them into small polars frames (`DashboardData`): no e-mail address,
no hashed customer id and no per-customer row leaves this function.
`write_dashboards(data, out_dir, *, as_of, currency)` writes
`out_dir/{overview,marketing,inventory,customers,support}.html` and returns name -> path.

Pages are readable offline: plotly.js is inlined once per page, no CDN, no web font, no
MathJax. A chart that needs more history than the store has, or an analytics table that
was not built (or was built after `as_of`), becomes a one-line note instead of an empty
chart or an exception.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import duckdb
import plotly.graph_objects as go
import polars as pl
from plotly.subplots import make_subplots

from dashboards.document import money, number, percent, signed_percent
from dashboards.files import atomic_write_text
from quality.warehouse import ad_spend_gap

PAGES = ("overview", "marketing", "inventory", "customers", "support")
PAGE_TITLES = {
    "overview": "Overview",
    "marketing": "Marketing",
    "inventory": "Inventory",
    "customers": "Customers",
    "support": "Support",
}

MIN_TREND_DAYS = 14  # a daily trend with fewer days says nothing a KPI tile does not
TREND_VIEW_DAYS = 90  # what a trend shows when the page opens; the buttons show the rest
KPI_WINDOW_DAYS = 7
LAST_YEAR_DAYS = 364  # 52 weeks: the same weekdays last year
TOP_SKUS = 6
ACTUALS_DAYS = 90
COMPARISON_DAYS = 30
COHORT_MONTHS = 12
COHORT_ROWS = 18
REORDER_TABLE_ROWS = 60
AT_RISK_BARS = 25
NOT_ENOUGH_HISTORY = "Not enough history"

# --- one look for every page -------------------------------------------------------
# Okabe-Ito, readable by colour-blind readers and in greyscale print.
PALETTE = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442",
           "#000000"]
INK = "#1f2933"
MUTED = "#7b8794"
GRID = "#e4e7eb"
GOOD = "#1a7f37"
BAD = "#c62828"
NEUTRAL = "#52606d"
LAST_YEAR = "#9aa5b1"
ALERT = "#d62728"
FONT = '-apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif'
CHANNEL_COLORS = {"meta": PALETTE[0], "google": PALETTE[1], "tiktok": PALETTE[2],
                  "email": PALETTE[3], "organic": PALETTE[4], "direct": PALETTE[5],
                  "pos": PALETTE[7], "draft_order": MUTED}
CATEGORY_COLORS = {"order_status": PALETTE[0], "return_refund": PALETTE[1],
                   "product_question": PALETTE[2], "complaint": PALETTE[5],
                   "other": LAST_YEAR}
URGENCY_COLORS = {"order_now": "#c62828", "order_soon": "#E69F00", "healthy": "#009E73",
                  "overstock": "#56B4E9"}
URGENCY_LABELS = {"order_now": "Order now", "order_soon": "Order soon", "healthy": "Healthy",
                  "overstock": "Overstock"}

TEMPLATE = go.layout.Template(layout=go.Layout(
    font={"family": FONT, "size": 13, "color": INK},
    colorway=PALETTE,
    paper_bgcolor="white",
    plot_bgcolor="white",
    title={"x": 0.01, "xanchor": "left", "y": 0.98, "yanchor": "top", "font": {"size": 16}},
    margin={"l": 70, "r": 30, "t": 96, "b": 60},
    xaxis={"showgrid": False, "linecolor": GRID, "ticks": "outside", "tickcolor": GRID,
               "automargin": True},
    yaxis={"gridcolor": GRID, "zeroline": False, "linecolor": GRID, "automargin": True},
    legend={"orientation": "h", "x": 1, "xanchor": "right", "y": 1.0, "yanchor": "bottom",
                "bgcolor": "rgba(255,255,255,0.8)", "font": {"size": 12}},
    hoverlabel={"font": {"family": FONT, "size": 12}},
    hovermode="x unified",
))
# Legends sit under the chart, below the date tick labels (container coordinates, so the
# distance does not change with the figure's height); `_Page.chart` makes the room.
LEGEND_BELOW = {"orientation": "h", "x": 0, "xanchor": "left", "y": 0.01, "yanchor": "bottom",
                    "yref": "container"}
LEGEND_ROOM = 110
PLOT_CONFIG = {"displaylogo": False, "responsive": True,
               "modeBarButtonsToRemove": ["lasso2d", "select2d"]}

RANGE_BUTTONS = [
    {"count": 7, "label": "7d", "step": "day", "stepmode": "backward"},
    {"count": 30, "label": "30d", "step": "day", "stepmode": "backward"},
    {"count": 90, "label": "90d", "step": "day", "stepmode": "backward"},
    {"count": 1, "label": "1y", "step": "year", "stepmode": "backward"},
    {"label": "all", "step": "all"},
]

# --- data ------------------------------------------------------------------------------


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
    # Why a block is missing, by source: "analytics.demand_forecast" -> reason.
    unavailable: dict[str, str] = field(default_factory=dict)


def load_dashboard_data(con: duckdb.DuckDBPyConnection, as_of: date) -> DashboardData:
    """Read what the five dashboards show from the warehouse, as of `as_of`.

    Reads marts.fct_daily_kpis, fct_channel_daily, fct_sku_demand_daily, dim_products,
    fct_orders (customer and month only, reduced here to cohort shares),
    fct_support_tickets and analytics.anomalies, demand_forecast, reorder_suggestions,
    churn_scores (each optional). Money columns come back as Float64 in the store's
    currency.
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
        """, [as_of, _month_start(as_of) - _months(11)])

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

    customer_months = reader.frame(
        "marts", "fct_orders",
        "select distinct customer_id, date_trunc('month', order_date)::date as order_month "
        "from marts.fct_orders where is_revenue and order_date <= ? and customer_id is not null",
        [as_of])
    cohorts = (cohort_retention(customer_months, as_of) if customer_months is not None
               else cohort_retention(_empty({"customer_id": pl.Utf8, "order_month": pl.Date}),
                                     as_of))
    del customer_months  # only the shares leave this function

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


def _month_start(day: date) -> date:
    return day.replace(day=1)


def _months(n: int) -> timedelta:
    """Roughly n months back, safe to snap to a month start afterwards."""
    return timedelta(days=31 * n - 15) if n else timedelta(0)


def _add_months(month: date, n: int) -> date:
    index = month.year * 12 + month.month - 1 + n
    return date(index // 12, index % 12 + 1, 1)


# --- pure helpers (unit-tested) ----------------------------------------------------------

KPIS = (
    # key, label, format, which way is good (+1 up, -1 down, 0 neither)
    ("revenue", "Revenue", "money", 1),
    ("orders", "Orders", "count", 1),
    ("aov", "Average order value", "money2", 1),
    ("conversion_rate", "Conversion rate", "percent", 1),
    ("new_customers", "New customers", "count", 1),
    ("ad_spend", "Ad spend", "money", 0),
    ("mer", "MER (revenue ÷ ad spend)", "ratio", 1),
)


def kpi_windows(daily: pl.DataFrame, as_of: date, days: int = KPI_WINDOW_DAYS) -> pl.DataFrame:
    """The overview's KPIs over the last `days` days, the `days` before, and the same
    weekdays a year earlier (364 days back), with relative changes.

    `daily`: fct_daily_kpis columns kpi_date, revenue, orders, new_customers, ad_spend,
    sessions, conversion_rate. A window missing any day gives null, as do ratios with a
    zero or null denominator (no sessions export: no conversion rate; no ads: no MER).
    Output: kpi, label, format, good_direction, current, previous, last_year,
    vs_previous, vs_last_year (relative change, 0.1 = +10%).
    """
    missing = {"kpi_date", "revenue", "orders"} - set(daily.columns)
    if missing:
        raise ValueError(f"daily KPIs are missing column(s) {sorted(missing)}")
    windows = {
        "current": as_of - timedelta(days=days - 1),
        "previous": as_of - timedelta(days=2 * days - 1),
        "last_year": as_of - timedelta(days=LAST_YEAR_DAYS + days - 1),
    }
    values: dict[str, dict[str, float | None]] = {}
    for name, start in windows.items():
        window = daily.filter(pl.col("kpi_date").is_between(start, start + timedelta(days=days - 1)))
        values[name] = _window_kpis(window, days)
    rows = []
    for key, label, fmt, good in KPIS:
        current, previous, last_year = (values[w][key] for w in windows)
        rows.append({"kpi": key, "label": label, "format": fmt, "good_direction": good,
                     "current": current, "previous": previous, "last_year": last_year,
                     "vs_previous": _relative(current, previous),
                     "vs_last_year": _relative(current, last_year)})
    return pl.DataFrame(rows, schema={
        "kpi": pl.Utf8, "label": pl.Utf8, "format": pl.Utf8, "good_direction": pl.Int64,
        "current": pl.Float64, "previous": pl.Float64, "last_year": pl.Float64,
        "vs_previous": pl.Float64, "vs_last_year": pl.Float64})


def _window_kpis(window: pl.DataFrame, days: int) -> dict[str, float | None]:
    if window["kpi_date"].n_unique() < days:
        return {key: None for key, *_ in KPIS}

    def total(column: str) -> float | None:
        if column not in window.columns or window[column].null_count() == window.height:
            return None
        return float(window[column].cast(pl.Float64).sum())

    revenue, orders = total("revenue"), total("orders")
    spend = total("ad_spend")
    conversion = None
    if {"sessions", "conversion_rate"} <= set(window.columns):
        # Weighted by sessions, so it is the mart's orders / sessions over the window.
        with_sessions = window.filter(pl.col("sessions").is_not_null()
                                      & pl.col("conversion_rate").is_not_null())
        sessions = float(with_sessions["sessions"].cast(pl.Float64).sum())
        if with_sessions.height == window.height and sessions > 0:
            conversion = float((with_sessions["conversion_rate"]
                                * with_sessions["sessions"].cast(pl.Float64)).sum()) / sessions
    return {
        "revenue": revenue,
        "orders": orders,
        "aov": revenue / orders if revenue is not None and orders else None,
        "conversion_rate": conversion,
        "new_customers": total("new_customers"),
        "ad_spend": spend,
        "mer": revenue / spend if revenue is not None and spend else None,
    }


def _relative(current: float | None, base: float | None) -> float | None:
    if current is None or base is None or base == 0:
        return None
    return current / base - 1


def cohort_retention(customer_months: pl.DataFrame, as_of: date,
                     months: int = COHORT_MONTHS) -> pl.DataFrame:
    """Share of each first-order-month cohort that orders again 1..`months` months later.

    `customer_months`: customer_id, order_month (any date in the month of an order; one
    row per order is fine). A customer's cohort is the month of their first order; the
    share for month k is (customers of the cohort with an order in cohort month + k) /
    (customers of the cohort). Cells whose month has not ended by `as_of` are null (not
    observed yet), so a partial month never reads as churn.
    Output: cohort_month, customers, months_after (1..months), share — every cohort with
    every months_after, sorted.
    """
    missing = {"customer_id", "order_month"} - set(customer_months.columns)
    if missing:
        raise ValueError(f"customer_months is missing column(s) {sorted(missing)}")
    schema = {"cohort_month": pl.Date, "customers": pl.Int64, "months_after": pl.Int64,
              "share": pl.Float64}
    frame = customer_months.select(
        "customer_id", pl.col("order_month").cast(pl.Date).dt.truncate("1mo")).filter(
        pl.col("order_month") <= as_of).unique()
    if not frame.height:
        return pl.DataFrame(schema=schema)
    month_index = pl.col("order_month").dt.year() * 12 + pl.col("order_month").dt.month()
    frame = frame.with_columns(month_index.alias("index")).with_columns(
        pl.col("order_month").min().over("customer_id").alias("cohort_month"),
        pl.col("index").min().over("customer_id").alias("cohort_index"))
    sizes = frame.group_by("cohort_month").agg(
        pl.col("customer_id").n_unique().cast(pl.Int64).alias("customers"))
    returning = (frame.with_columns((pl.col("index") - pl.col("cohort_index")).alias("months_after"))
                 .filter(pl.col("months_after").is_between(1, months))
                 .group_by("cohort_month", "months_after")
                 .agg(pl.col("customer_id").n_unique().alias("returned")))
    grid = sizes.join(pl.DataFrame({"months_after": list(range(1, months + 1))},
                                   schema={"months_after": pl.Int64}), how="cross")
    # A month is observed when its last day is on or before as_of.
    last_complete = as_of.year * 12 + as_of.month - (0 if (as_of + timedelta(days=1)).day == 1
                                                     else 1)
    cohort_index = pl.col("cohort_month").dt.year() * 12 + pl.col("cohort_month").dt.month()
    return (grid.join(returning, on=["cohort_month", "months_after"], how="left")
            .with_columns(
                pl.when(cohort_index + pl.col("months_after") <= last_complete)
                .then(pl.col("returned").fill_null(0) / pl.col("customers"))
                .otherwise(None).cast(pl.Float64).alias("share"))
            .select("cohort_month", "customers", "months_after", "share")
            .sort("cohort_month", "months_after"))


def currency_symbol(currency: str) -> str:
    return {"USD": "$", "EUR": "€", "GBP": "£"}.get(currency.upper(), currency.upper())


# --- one figure style ---------------------------------------------------------------------


class _Money:
    """The store's currency in axis titles, tick labels and hovers."""

    def __init__(self, currency: str):
        self.code = currency.upper()
        self.symbol = currency_symbol(currency)
        self.is_symbol = self.symbol != self.code
        self.prefix = self.symbol if self.is_symbol else ""
        self.suffix = "" if self.is_symbol else f" {self.code}"

    def axis(self, label: str) -> str:
        return f"{label} ({self.symbol})"

    def hover(self, field_: str = "y", fmt: str = ",.0f") -> str:
        return f"{self.prefix}%{{{field_}:{fmt}}}{self.suffix}"

    def ticks(self) -> dict:
        return {"tickprefix": self.prefix, "ticksuffix": self.suffix}

    def text(self, value: float | None, digits: int = 0) -> str:
        return money(value, self.code, digits)


def _figure(title: str, subtitle: str = "", *, height: int = 420) -> go.Figure:
    fig = go.Figure()
    _style(fig, title, subtitle, height=height)
    return fig


def _style(fig: go.Figure, title: str, subtitle: str = "", *, height: int = 420) -> go.Figure:
    fig.update_layout(template=TEMPLATE, height=height,
                      title={"text": title, "subtitle": {"text": subtitle,
                                                           "font": {"color": MUTED, "size": 12}}})
    return fig


def _subplots(title: str, subtitle: str = "", *, rows: int = 1, cols: int = 1,
              height: int = 420, **kwargs) -> go.Figure:
    fig = make_subplots(rows=rows, cols=cols, **kwargs)
    _style(fig, title, subtitle, height=height)
    # Subplot titles are annotations: left-align them and keep them quiet.
    fig.update_annotations(font={"size": 13, "color": NEUTRAL})
    return fig


def _with_range_selector(fig: go.Figure, as_of: date, first: date | None) -> go.Figure:
    """Buttons 7d/30d/90d/1y/all on the top x axis; the page opens on the last 90 days."""
    start = as_of - timedelta(days=TREND_VIEW_DAYS - 1)
    if first is not None and first > start:
        start = first
    fig.update_xaxes(range=[start - timedelta(hours=12), as_of + timedelta(hours=12)])
    fig.update_layout(xaxis={"rangeselector": {
        "buttons": RANGE_BUTTONS, "x": 0, "xanchor": "left", "y": 1.0, "yanchor": "bottom",
        "bgcolor": "#f0f4f8", "activecolor": "#bcccdc", "font": {"size": 12}}})
    return fig


def _history_days(daily: pl.DataFrame, column: str) -> int:
    if column not in daily.columns:
        return 0
    return int(daily.filter(pl.col(column).is_not_null()).height)


def _not_enough_history(what: str, have: int, need: int = MIN_TREND_DAYS, unit: str = "days"
                        ) -> str:
    have_unit = unit.replace("days", "day").replace("months", "month").replace(
        "weeks", "week") if have == 1 else unit
    return (f"{NOT_ENOUGH_HISTORY} for {what}: {have} {have_unit} of data, "
            f"the chart needs at least {need}.")


def _anomaly_trace(alerts: pl.DataFrame, name: str, fmt: Callable[[float], str],
                   y: pl.Series | None = None, **kwargs) -> go.Scatter:
    """Markers on the alerted days, hover: value against the expected band."""
    texts = [
        f"<b>Alert</b> ({sev}, {direction}): {fmt(v)} vs expected {fmt(e)} "
        f"({fmt(lo)}–{fmt(hi)})" + (f"<br>driver: {html.escape(d)}" if d else "")
        for v, e, lo, hi, sev, direction, d in zip(
            alerts["value"], alerts["expected"], alerts["lo"], alerts["hi"],
            alerts["severity"], alerts["direction"], alerts["driver"])]
    return go.Scatter(
        x=alerts["date"], y=y if y is not None else alerts["value"], mode="markers",
        name=name, text=texts, hovertemplate="%{text}<extra></extra>",
        marker={"symbol": "circle-open", "size": 13, "color": ALERT, "line": {"width": 2.5}},
        **{"legendgroup": "alerts", **kwargs})


def _add_alerts(fig: go.Figure, alerts: pl.DataFrame, fmt: Callable[[float], str], *,
                row: int | None = None, y: pl.Series | None = None) -> None:
    """Alert markers on a figure; one legend entry for all of them."""
    if not alerts.height:
        return
    shown = any(t.name == "Anomaly alert" and t.showlegend is not False for t in fig.data)
    trace = _anomaly_trace(alerts, "Anomaly alert", fmt, y=y, showlegend=not shown)
    fig.add_trace(trace, **({"row": row, "col": 1} if row else {}))


def _fmt_value(kind: str, cur: _Money) -> Callable[[float | None], str]:
    if kind == "money":
        return lambda v: cur.text(v)
    if kind == "money2":
        return lambda v: cur.text(v, 2)
    if kind == "percent":
        return lambda v: percent(v, 2)
    if kind == "ratio":
        return lambda v: "n/a" if v is None else f"{v:.2f}"
    if kind == "minutes":
        return lambda v: "n/a" if v is None else f"{v:,.0f} min"
    return lambda v: number(v)


# --- page shell ---------------------------------------------------------------------------


@dataclass
class _Page:
    name: str
    intro: str = ""
    blocks: list = field(default_factory=list)  # str (HTML) or go.Figure

    def html(self, text: str) -> None:
        self.blocks.append(text)

    def section(self, heading: str) -> None:
        self.blocks.append(f"<h2>{html.escape(heading)}</h2>")

    def note(self, text: str) -> None:
        self.blocks.append(f'<p class="note">{html.escape(text)}</p>')

    def chart(self, figure: go.Figure | str) -> None:
        """A figure, or the note saying why there is none."""
        if isinstance(figure, str):
            self.note(figure)
            return
        if figure.layout.legend.yref == "container":
            figure.update_layout(margin={"b": max(figure.layout.margin.b or 0, LEGEND_ROOM)})
        self.blocks.append(figure)

    @property
    def figure_count(self) -> int:
        return sum(isinstance(b, go.Figure) for b in self.blocks)

    def render(self, data: DashboardData, currency: str) -> str:
        parts: list[str] = []
        first = True
        for index, block in enumerate(self.blocks):
            if isinstance(block, go.Figure):
                height = block.layout.height or 420
                parts.append('<div class="chart">' + block.to_html(
                    full_html=False,
                    include_plotlyjs=first,  # True: inline plotly.js, once per page
                    include_mathjax=False,
                    config=PLOT_CONFIG,
                    div_id=f"{self.name}-chart-{index}",
                    default_width="100%",
                    default_height=f"{height}px",
                ) + "</div>")
                first = False
            else:
                parts.append(block)
        nav = " ".join(
            f'<a href="{p}.html"{" class=here" if p == self.name else ""}>{PAGE_TITLES[p]}</a>'
            for p in PAGES)
        span = ""
        if data.first_date is not None and data.last_date is not None:
            span = (f" · store data {data.first_date:%Y-%m-%d} to {data.last_date:%Y-%m-%d}")
        return PAGE.format(
            title=html.escape(f"{PAGE_TITLES[self.name]} — storeops dashboards"),
            heading=html.escape(PAGE_TITLES[self.name]),
            as_of=f"{data.as_of:%Y-%m-%d}",
            meta=html.escape(f"Currency {currency.upper()}{span}"),
            nav=nav,
            intro=f'<p class="intro">{html.escape(self.intro)}</p>' if self.intro else "",
            figures=self.figure_count,
            body="\n".join(parts),
        )


PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="storeops-figures" content="{figures}">
<title>{title}</title>
<style>
body {{ font-family: -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif;
       color: #1f2933; background: #f5f7fa; margin: 0; line-height: 1.4; }}
header {{ background: #102a43; color: #f0f4f8; padding: .8rem 1.5rem; }}
header h1 {{ font-size: 1.35rem; margin: 0; display: inline-block; }}
header .asof {{ margin-left: 1rem; font-size: 1rem; }}
header .meta {{ color: #9fb3c8; font-size: .85rem; margin-left: 1rem; }}
nav {{ margin-top: .4rem; font-size: .95rem; }}
nav a {{ color: #bcccdc; margin-right: 1rem; text-decoration: none; }}
nav a.here {{ color: #ffffff; font-weight: 600; border-bottom: 2px solid #f0b429; }}
nav a:hover {{ color: #ffffff; text-decoration: underline; }}
main {{ max-width: 1320px; margin: 0 auto; padding: .5rem 1.5rem 2rem; }}
h2 {{ font-size: 1.1rem; margin: 1.6rem 0 .5rem; color: #243b53; }}
.intro {{ color: #486581; }}
.note {{ color: #627d98; font-style: italic; background: #fff; border-left: 4px solid #bcccdc;
         padding: .6rem .9rem; margin: .4rem 0 1rem; }}
.chart {{ background: #fff; border: 1px solid #e4e7eb; border-radius: 6px; padding: .3rem;
          margin: .4rem 0 1rem; }}
.tiles {{ display: grid; grid-template-columns: repeat(auto-fill, minmax(175px, 1fr));
          gap: .7rem; }}
.tile {{ background: #fff; border: 1px solid #e4e7eb; border-radius: 6px; padding: .7rem .8rem; }}
.tile .label {{ color: #486581; font-size: .85rem; }}
.tile .value {{ font-size: 1.55rem; font-weight: 600; margin: .15rem 0 .3rem;
                font-variant-numeric: tabular-nums; }}
.tile .delta {{ font-size: .8rem; color: #627d98; font-variant-numeric: tabular-nums;
                display: flex; justify-content: space-between; gap: .4rem; white-space: nowrap; }}
.good {{ color: #1a7f37; font-weight: 600; }}
.bad {{ color: #c62828; font-weight: 600; }}
.flat {{ color: #52606d; font-weight: 600; }}
table.data {{ border-collapse: collapse; background: #fff; font-size: .88rem; width: 100%; }}
table.data th, table.data td {{ padding: .3rem .6rem; border-bottom: 1px solid #e4e7eb;
                                text-align: left; }}
table.data th {{ background: #f0f4f8; }}
table.data td.num {{ text-align: right; font-variant-numeric: tabular-nums; }}
.sev-high {{ color: #c62828; font-weight: 600; }}
.sev-medium {{ color: #b7791f; font-weight: 600; }}
footer {{ color: #829ab1; font-size: .8rem; margin-top: 2rem; }}
</style></head>
<body>
<header>
<h1>{heading}</h1><span class="asof">as of <strong>{as_of}</strong></span>
<span class="meta">{meta}</span>
<nav>{nav} <a href="../index.html">All outputs ↗</a></nav>
</header>
<main>
{intro}
{body}
<footer>storeops · every number uses data up to {as_of} only · charts: hover for values,
drag to zoom, double-click to reset.</footer>
</main>
</body></html>
"""


def write_dashboards(data: DashboardData, out_dir: Path, *, as_of: date, currency: str
                     ) -> dict[str, Path]:
    """Write the five dashboard pages into `out_dir`; returns page name -> path."""
    if as_of != data.as_of:
        raise ValueError(f"data was loaded as of {data.as_of}, not {as_of}: "
                         "call load_dashboard_data with the same as_of")
    out_dir = Path(out_dir)
    cur = _Money(currency)
    builders = {"overview": _overview, "marketing": _marketing, "inventory": _inventory,
                "customers": _customers, "support": _support}
    paths: dict[str, Path] = {}
    for name in PAGES:
        page = _Page(name)
        builders[name](page, data, cur)
        path = out_dir / f"{name}.html"
        atomic_write_text(path, page.render(data, currency))
        paths[name] = path
    return paths


# --- shared trend pieces ----------------------------------------------------------------


def _alerts(data: DashboardData, metric: str, dimension: str = "all") -> pl.DataFrame:
    a = data.anomalies
    return a.filter((pl.col("metric") == metric) & (pl.col("dimension") == dimension))


def _daily_series(data: DashboardData, column: str) -> pl.DataFrame:
    """kpi_date, value, avg7 (trailing 7-day mean), last_year (avg7 364 days earlier)."""
    frame = data.daily.select("kpi_date", pl.col(column).cast(pl.Float64).alias("value"))
    frame = frame.sort("kpi_date").upsample("kpi_date", every="1d").with_columns(
        pl.col("value").rolling_mean(7, min_samples=7).alias("avg7"))
    last_year = frame.select((pl.col("kpi_date") + pl.duration(days=LAST_YEAR_DAYS)),
                             pl.col("avg7").alias("last_year"))
    return frame.join(last_year, on="kpi_date", how="left")


def _trend_panel(fig: go.Figure, series: pl.DataFrame, *, name: str, color: str,
                 hover: str, row: int | None = None, show_last_year: bool = True,
                 legend: bool = True) -> None:
    pos = {"row": row, "col": 1} if row else {}
    fig.add_trace(go.Scatter(x=series["kpi_date"], y=series["value"], name=f"{name}, daily",
                             mode="lines", line={"color": color, "width": 1}, opacity=0.45,
                             hovertemplate=hover, showlegend=legend), **pos)
    fig.add_trace(go.Scatter(x=series["kpi_date"], y=series["avg7"], name=f"{name}, 7-day average",
                             mode="lines", line={"color": color, "width": 2.5},
                             hovertemplate=hover, showlegend=legend), **pos)
    if show_last_year and series["last_year"].drop_nulls().len():
        fig.add_trace(go.Scatter(x=series["kpi_date"], y=series["last_year"],
                                 name="Same weekdays last year (7-day average)", mode="lines",
                                 line={"color": LAST_YEAR, "width": 2, "dash": "dot"},
                                 hovertemplate=hover, showlegend=legend), **pos)


# --- overview -----------------------------------------------------------------------------


def _overview(page: _Page, data: DashboardData, cur: _Money) -> None:
    page.intro = ("The store at a glance: the last 7 days against the 7 before and the same "
                  "weekdays last year, the daily trends with the alerts raised on them, and "
                  "the incidents still open.")
    page.section(f"Last {KPI_WINDOW_DAYS} days "
                 f"({data.as_of - timedelta(days=KPI_WINDOW_DAYS - 1):%b %d} – {data.as_of:%b %d, %Y})")
    page.html(_kpi_tiles(data, cur))
    page.section("Trends")
    page.chart(_revenue_orders_figure(data, cur))
    page.chart(_aov_conversion_figure(data, cur))
    page.section("Open incidents")
    page.html(_incidents_table(data, cur))


def _kpi_tiles(data: DashboardData, cur: _Money) -> str:
    if not data.daily.height:
        return '<p class="note">No orders in the data yet.</p>'
    tiles = kpi_windows(data.daily, data.as_of)
    has_week = tiles.filter(pl.col("kpi") == "revenue")["current"][0] is not None
    out = ['<div class="tiles">']
    for row in tiles.iter_rows(named=True):
        fmt = _fmt_value(row["format"], cur)
        deltas = []
        for key, label in (("vs_previous", "vs prior 7 days"),
                           ("vs_last_year", "vs last year")):
            value = row[key]
            if value is None:
                deltas.append(f'<div class="delta"><span>{label}</span><span>n/a</span></div>')
                continue
            good = row["good_direction"]
            css = ("flat" if good == 0 or abs(value) < 0.005
                   else "good" if value * good > 0 else "bad")
            arrow = "▲" if value > 0 else "▼" if value < 0 else "■"
            deltas.append(f'<div class="delta"><span>{label}</span><span class="{css}">{arrow} '
                          f'{signed_percent(value)}</span></div>')
        why = ""
        if row["current"] is None:
            # With a full week of revenue, a missing KPI is a missing source, not history.
            why = "not enough days"
            if has_week:
                why = {"conversion_rate": "no sessions export", "mer": "no ad spend",
                       "ad_spend": "no ads exports"}.get(row["kpi"], why)
            why = f'<div class="delta">{why}</div>'
        out.append(f'<div class="tile" data-kpi="{row["kpi"]}"><div class="label">'
                   f'{html.escape(row["label"])}</div><div class="value">{fmt(row["current"])}'
                   f'</div>{why}{"".join(deltas)}</div>')
    out.append("</div>")
    return "".join(out)


def _revenue_orders_figure(data: DashboardData, cur: _Money) -> go.Figure | str:
    have = _history_days(data.daily, "revenue")
    if have < MIN_TREND_DAYS:
        return _not_enough_history("the revenue and orders trends", have)
    fig = _subplots("Revenue and orders per day, with the same weekdays last year",
                    "Thin line: each day; bold: 7-day average; dotted: the same weekdays a year "
                    "earlier; circles: anomaly alerts. Opens on the last 90 days.",
                    rows=2, shared_xaxes=True, vertical_spacing=0.08, height=640,
                    subplot_titles=(cur.axis("Net revenue per day"), "Orders per day"))
    revenue = _daily_series(data, "revenue")
    _trend_panel(fig, revenue, name="Revenue", color=PALETTE[0], hover=cur.hover(), row=1)
    orders = _daily_series(data, "orders")
    _trend_panel(fig, orders, name="Orders", color=PALETTE[2], hover="%{y:,.0f}", row=2,
                 show_last_year=True, legend=False)
    for metric, row, fmt in (("revenue", 1, cur.text), ("orders", 2, number)):
        _add_alerts(fig, _alerts(data, metric), fmt, row=row)
    fig.update_yaxes(cur.ticks(), row=1, col=1)
    fig.update_yaxes(rangemode="tozero")
    fig.update_layout(legend=LEGEND_BELOW)
    return _with_range_selector(fig, data.as_of, data.first_date)


def _aov_conversion_figure(data: DashboardData, cur: _Money) -> go.Figure | str:
    have = _history_days(data.daily, "average_order_value")
    if have < MIN_TREND_DAYS:
        return _not_enough_history("the order value and conversion trends", have)
    has_conversion = _history_days(data.daily, "conversion_rate") >= MIN_TREND_DAYS
    rows = 2 if has_conversion else 1
    titles = [cur.axis("Average order value")]
    if has_conversion:
        titles.append("Conversion rate (orders ÷ sessions)")
    fig = _subplots("Average order value" + (" and conversion rate" if has_conversion else "")
                    + " per day, with the same weekdays last year",
                    "Bold: 7-day average; dotted: a year earlier; circles: anomaly alerts."
                    + ("" if has_conversion else " No sessions export, so no conversion rate."),
                    rows=rows, shared_xaxes=True, vertical_spacing=0.1,
                    height=560 if has_conversion else 380, subplot_titles=titles)
    aov = _daily_series(data, "average_order_value")
    _trend_panel(fig, aov, name="AOV", color=PALETTE[3], hover=cur.hover(fmt=",.2f"), row=1)
    _add_alerts(fig, _alerts(data, "aov"), lambda v: cur.text(v, 2), row=1)
    fig.update_yaxes(cur.ticks(), row=1, col=1)
    if has_conversion:
        conversion = _daily_series(data, "conversion_rate")
        _trend_panel(fig, conversion, name="Conversion", color=PALETTE[5],
                     hover="%{y:.2%}", row=2, legend=False)
        _add_alerts(fig, _alerts(data, "conversion_rate"), lambda v: percent(v, 2), row=2)
        fig.update_yaxes(tickformat=".1%", row=2, col=1)
    fig.update_layout(legend=LEGEND_BELOW)
    return _with_range_selector(fig, data.as_of, data.first_date)


METRIC_LABELS = {"revenue": "Revenue", "orders": "Orders", "conversion_rate": "Conversion rate",
                 "aov": "Average order value", "spend": "Ad spend", "cac": "CAC",
                 "roas": "ROAS", "return_rate": "Return rate", "ticket_volume": "Tickets",
                 "first_reply_minutes": "First reply time"}
METRIC_FORMATS = {"revenue": "money", "aov": "money2", "spend": "money", "cac": "money2",
                  "conversion_rate": "percent", "return_rate": "percent", "roas": "ratio",
                  "first_reply_minutes": "minutes"}
OPEN_INCIDENT_DAYS = 2  # an incident alerted on one of the last 2 days is still open


def _incidents_table(data: DashboardData, cur: _Money) -> str:
    """Incidents (consecutive alerted days) whose last alerted day is recent, worst first."""
    if "analytics.anomalies" in data.unavailable:
        return f'<p class="note">No anomaly alerts: {html.escape(data.unavailable["analytics.anomalies"])}.</p>'
    recent = data.as_of - timedelta(days=OPEN_INCIDENT_DAYS - 1)
    incidents = (data.anomalies.sort("date")
                 .group_by("incident_id", maintain_order=True)
                 .agg(pl.col("metric").last(), pl.col("dimension").last(),
                      pl.col("date").min().alias("start"), pl.col("date").max().alias("last"),
                      pl.col("severity").last(), pl.col("direction").last(),
                      pl.col("value").last(), pl.col("expected").last(),
                      pl.col("impact").sum().alias("impact"), pl.col("driver").last())
                 .filter(pl.col("last") >= recent)
                 .sort(pl.col("severity").replace_strict({"high": 0, "medium": 1}, default=2),
                       pl.col("impact").fill_null(0), descending=[False, True]))
    if not incidents.height:
        return (f'<p class="note">No open incidents: nothing was alerted on the last '
                f'{OPEN_INCIDENT_DAYS} days up to {data.as_of:%Y-%m-%d}.</p>')
    head = ("<tr><th>Metric</th><th>Where</th><th>Since</th><th>Days</th><th>Severity</th>"
            "<th>Latest value</th><th>Expected</th><th>Driver</th></tr>")
    rows = []
    for r in incidents.iter_rows(named=True):
        fmt = _fmt_value(METRIC_FORMATS.get(r["metric"], "count"), cur)
        where = "whole store" if r["dimension"] == "all" else r["dimension"].replace("=", ": ")
        arrow = "▲" if r["direction"] == "up" else "▼"
        days = (r["last"] - r["start"]).days + 1
        rows.append(
            f'<tr><td>{arrow} {html.escape(METRIC_LABELS.get(r["metric"], r["metric"]))}</td>'
            f'<td>{html.escape(where)}</td><td>{r["start"]:%Y-%m-%d}</td>'
            f'<td class="num">{days}</td>'
            f'<td class="sev-{html.escape(str(r["severity"]))}">{html.escape(str(r["severity"]))}</td>'
            f'<td class="num">{fmt(r["value"])}</td><td class="num">{fmt(r["expected"])}</td>'
            f'<td>{html.escape(r["driver"] or "")}</td></tr>')
    return f'<table class="data"><thead>{head}</thead><tbody>{"".join(rows)}</tbody></table>'


# --- marketing ----------------------------------------------------------------------------


def _paid_channels(data: DashboardData) -> list[str]:
    channels = data.channels
    if not channels.height or "spend" not in channels.columns:
        return []
    spend = (channels.group_by("channel").agg(pl.col("spend").sum())
             .filter(pl.col("spend") > 0).sort("spend", descending=True))
    return spend["channel"].to_list()


def _channel_color(channel: str, index: int) -> str:
    return CHANNEL_COLORS.get(channel, PALETTE[index % len(PALETTE)])


def _marketing(page: _Page, data: DashboardData, cur: _Money) -> None:
    page.intro = ("What paid media costs and returns, per channel: spend, CAC (spend ÷ new "
                  "customers) and ROAS (store-measured net revenue ÷ spend), and MER (all "
                  "revenue ÷ all ad spend).")
    paid = _paid_channels(data)
    if not paid:
        page.note(data.unavailable.get("ad_spend") or
                  "No ad spend in the data yet: add Meta, Google or TikTok Ads exports to "
                  "landing/ to see spend, CAC, ROAS and MER.")
    else:
        page.section("Paid channels over time")
        page.chart(_channel_trends_figure(data, cur, paid))
        page.section(f"Channel comparison, last {COMPARISON_DAYS} days")
        page.chart(_channel_comparison_figure(data, cur, paid))
        page.section("Marketing efficiency")
        page.chart(_mer_figure(data))
    page.section("Orders by channel")
    page.chart(_orders_by_channel_figure(data))


def _channel_trends_figure(data: DashboardData, cur: _Money, paid: list[str]) -> go.Figure | str:
    frame = data.channels.filter(pl.col("channel").is_in(paid))
    have = frame["channel_date"].n_unique()
    if have < MIN_TREND_DAYS:
        return _not_enough_history("spend, CAC and ROAS per channel", have)
    fig = _subplots("Spend, CAC and ROAS per paid channel per day",
                    "Spend per day; CAC and ROAS over a trailing 7 days (daily values are too "
                    "noisy); circles: anomaly alerts at the alerted day's own value.",
                    rows=3, shared_xaxes=True, vertical_spacing=0.07, height=860,
                    subplot_titles=(cur.axis("Ad spend per day"),
                                    cur.axis("CAC, spend ÷ new customers, 7 days"),
                                    "ROAS, store-measured net revenue ÷ spend, 7 days"))
    for index, channel in enumerate(paid):
        color = _channel_color(channel, index)
        rows = (frame.filter(pl.col("channel") == channel).sort("channel_date")
                .upsample("channel_date", every="1d")
                .with_columns(pl.col(c).fill_null(0) for c in ("spend", "new_customers",
                                                               "net_revenue"))
                .with_columns(
                    (pl.col("spend").rolling_sum(7, min_samples=7)
                     / pl.col("new_customers").rolling_sum(7, min_samples=7)
                     .replace(0, None)).alias("cac7"),
                    (pl.col("net_revenue").rolling_sum(7, min_samples=7)
                     / pl.col("spend").rolling_sum(7, min_samples=7).replace(0, None)
                     ).alias("roas7")))
        group = {"legendgroup": channel, "line": {"color": color, "width": 2}}
        fig.add_trace(go.Scatter(x=rows["channel_date"], y=rows["spend"], name=channel,
                                 hovertemplate=cur.hover(), **group), row=1, col=1)
        fig.add_trace(go.Scatter(x=rows["channel_date"], y=rows["cac7"], name=channel,
                                 showlegend=False, hovertemplate=cur.hover(fmt=",.2f"), **group),
                      row=2, col=1)
        fig.add_trace(go.Scatter(x=rows["channel_date"], y=rows["roas7"], name=channel,
                                 showlegend=False, hovertemplate="%{y:.2f}", **group),
                      row=3, col=1)
    for channel in paid:  # after the lines, so the legend lists the channels first
        for metric, row, fmt in (("spend", 1, cur.text), ("cac", 2, lambda v: cur.text(v, 2)),
                                 ("roas", 3, _fmt_value("ratio", cur))):
            _add_alerts(fig, _alerts(data, metric, f"channel={channel}"), fmt, row=row)
    fig.update_yaxes(cur.ticks(), row=1, col=1)
    fig.update_yaxes(cur.ticks(), row=2, col=1)
    fig.update_yaxes(rangemode="tozero")
    fig.update_layout(legend=LEGEND_BELOW)
    return _with_range_selector(fig, data.as_of, data.first_date)


def _channel_comparison_figure(data: DashboardData, cur: _Money, paid: list[str]
                               ) -> go.Figure | str:
    since = data.as_of - timedelta(days=COMPARISON_DAYS - 1)
    window = data.channels.filter((pl.col("channel_date") >= since)
                                  & pl.col("channel").is_in(paid))
    if not window.height:
        return f"No paid-channel data in the last {COMPARISON_DAYS} days."
    days = window["channel_date"].n_unique()
    totals = (window.group_by("channel").agg(
        pl.col("spend").sum(), pl.col("orders").sum(), pl.col("new_customers").sum(),
        pl.col("net_revenue").sum(), pl.col("platform_conversions").sum())
        .with_columns((pl.col("spend") / pl.col("new_customers").replace(0, None)).alias("cac"),
                      (pl.col("net_revenue") / pl.col("spend").replace(0, None)).alias("roas"))
        .sort("spend", descending=True))
    colors = [_channel_color(c, paid.index(c)) for c in totals["channel"]]
    subtitle = (f"{since:%b %d} – {data.as_of:%b %d, %Y}"
                + (f" (only {days} days of data)" if days < COMPARISON_DAYS else "")
                + ". Store-measured = orders the store attributes to the channel (UTM/source).")
    fig = _subplots(f"Paid channels compared over the last {COMPARISON_DAYS} days", subtitle,
                    rows=2, cols=2, height=620, vertical_spacing=0.16, horizontal_spacing=0.1,
                    subplot_titles=(cur.axis("Ad spend"), cur.axis("CAC (spend ÷ new customers)"),
                                    "ROAS (net revenue ÷ spend)",
                                    "Conversions: platform-reported vs store-measured orders"))
    x = totals["channel"]
    fig.add_trace(go.Bar(x=x, y=totals["spend"], marker_color=colors, showlegend=False,
                         hovertemplate=cur.hover() + "<extra>%{x}</extra>",
                         texttemplate=cur.hover(fmt=",.0f"), textposition="outside",
                         cliponaxis=False), row=1, col=1)
    fig.add_trace(go.Bar(x=x, y=totals["cac"], marker_color=colors, showlegend=False,
                         hovertemplate=cur.hover(fmt=",.2f") + "<extra>%{x}</extra>",
                         texttemplate=cur.hover(fmt=",.2f"), textposition="outside",
                         cliponaxis=False), row=1, col=2)
    fig.add_trace(go.Bar(x=x, y=totals["roas"], marker_color=colors, showlegend=False,
                         hovertemplate="%{y:.2f}<extra>%{x}</extra>", texttemplate="%{y:.2f}",
                         textposition="outside", cliponaxis=False), row=2, col=1)
    fig.add_trace(go.Bar(x=x, y=totals["platform_conversions"], name="Platform-reported",
                         marker_color=LAST_YEAR, hovertemplate="%{y:,.0f}<extra>platform</extra>"),
                  row=2, col=2)
    fig.add_trace(go.Bar(x=x, y=totals["orders"], name="Store-measured orders",
                         marker_color=PALETTE[0], hovertemplate="%{y:,.0f}<extra>store</extra>"),
                  row=2, col=2)
    fig.update_layout(barmode="group", hovermode="closest", legend=LEGEND_BELOW)
    fig.update_yaxes(cur.ticks(), row=1, col=1)
    fig.update_yaxes(cur.ticks(), row=1, col=2)
    # Room above the tallest bar for its label.
    for row, col, column in ((1, 1, "spend"), (1, 2, "cac"), (2, 1, "roas")):
        top = totals[column].max()
        if top is not None and top > 0:
            fig.update_yaxes(range=[0, top * 1.2], row=row, col=col)
    return fig


def _mer_figure(data: DashboardData) -> go.Figure | str:
    daily = data.daily
    have = int(daily.filter(pl.col("ad_spend") > 0).height) if "ad_spend" in daily.columns else 0
    if have < MIN_TREND_DAYS:
        return _not_enough_history("the MER trend", have)
    frame = (daily.select("kpi_date", "revenue", "ad_spend").sort("kpi_date")
             .upsample("kpi_date", every="1d")
             .with_columns((pl.col("revenue").rolling_sum(7, min_samples=7)
                            / pl.col("ad_spend").rolling_sum(7, min_samples=7).replace(0, None)
                            ).alias("mer7")))
    last_year = frame.select(pl.col("kpi_date") + pl.duration(days=LAST_YEAR_DAYS),
                             pl.col("mer7").alias("mer7_last_year"))
    frame = frame.join(last_year, on="kpi_date", how="left")
    fig = _figure("MER per day: all revenue ÷ all ad spend, trailing 7 days",
                  "Dotted: the same weekdays last year. Above 1 the store takes in more than it "
                  "spends on ads.", height=420)
    fig.add_trace(go.Scatter(x=frame["kpi_date"], y=frame["mer7"], name="MER, 7 days",
                             line={"color": PALETTE[0], "width": 2.5}, hovertemplate="%{y:.2f}"))
    if frame["mer7_last_year"].drop_nulls().len():
        fig.add_trace(go.Scatter(x=frame["kpi_date"], y=frame["mer7_last_year"],
                                 name="Same weekdays last year",
                                 line={"color": LAST_YEAR, "width": 2, "dash": "dot"},
                                 hovertemplate="%{y:.2f}"))
    fig.update_yaxes(title_text="MER (revenue ÷ ad spend)", rangemode="tozero")
    fig.update_layout(legend=LEGEND_BELOW)
    return _with_range_selector(fig, data.as_of, data.first_date)


def _orders_by_channel_figure(data: DashboardData) -> go.Figure | str:
    frame = data.channels
    if not frame.height or "orders" not in frame.columns:
        return "No orders in the data yet."
    weeks = frame["channel_date"].dt.truncate("1w").n_unique()
    if frame["channel_date"].n_unique() < MIN_TREND_DAYS:
        return _not_enough_history("orders per week by channel",
                                   frame["channel_date"].n_unique())
    weekly = (frame.group_by(pl.col("channel_date").dt.truncate("1w").alias("week"), "channel")
              .agg(pl.col("orders").sum()).sort("week"))
    order = (weekly.group_by("channel").agg(pl.col("orders").sum())
             .sort("orders", descending=True).filter(pl.col("orders") > 0)["channel"].to_list())
    fig = _figure("Orders per week by channel (store-measured)",
                  f"Weeks start on Monday; {weeks} weeks. The last week may be partial.",
                  height=420)
    for index, channel in enumerate(order):
        rows = weekly.filter(pl.col("channel") == channel)
        fig.add_trace(go.Bar(x=rows["week"], y=rows["orders"], name=channel,
                             marker_color=_channel_color(channel, index),
                             hovertemplate="%{y:,.0f}"))
    fig.update_layout(barmode="stack", legend=LEGEND_BELOW)
    fig.update_yaxes(title_text="Orders per week")
    return fig


# --- inventory ----------------------------------------------------------------------------


def _inventory(page: _Page, data: DashboardData, cur: _Money) -> None:
    page.intro = ("Will the best sellers stay in stock: demand forecasts with their "
                  "uncertainty, the SKUs running out before the next delivery, what to order, "
                  "and how often shelves were empty.")
    page.section(f"Forecast against actuals, top {TOP_SKUS} SKUs by revenue")
    page.chart(_forecast_figure(data))
    page.section("Days of cover")
    page.chart(_days_of_cover_figure(data))
    page.section("Reorder suggestions")
    page.chart(_reorder_table(data, cur))
    page.section("Stockouts")
    page.chart(_stockouts_figure(data))


def _forecast_figure(data: DashboardData) -> go.Figure | str:
    actuals, forecast = data.sku_actuals, data.forecast
    if not actuals.height:
        return "No SKU sales in the last 90 days."
    have = actuals["demand_date"].n_unique()
    if have < MIN_TREND_DAYS and not forecast.height:
        return _not_enough_history("SKU demand trends", have)
    skus = actuals.select("sku", "label").unique(maintain_order=True)
    order = [s for s in (forecast["sku"].unique(maintain_order=True).to_list()
                         if forecast.height else []) if s in skus["sku"].to_list()]
    order += [s for s in skus["sku"].to_list() if s not in order]
    labels = dict(zip(skus["sku"], skus["label"]))
    cols = 3 if len(order) > 2 else len(order)
    rows = (len(order) + cols - 1) // cols
    if forecast.height:
        title = (f"Units per day for the top {len(order)} SKUs by revenue: last {ACTUALS_DAYS} "
                 "days actual and the forecast with 80% and 95% intervals")
        subtitle = (f"Forecast made as of {data.forecast_as_of:%Y-%m-%d}; model per SKU in the "
                    "panel title. Red dots: days out of stock (demand censored).")
    else:
        reason = data.unavailable.get("analytics.demand_forecast", "no forecast for these SKUs")
        title = f"Units per day for the top {len(order)} SKUs by revenue, last {ACTUALS_DAYS} days"
        subtitle = f"No forecast shown: {reason}."
    models = (dict(forecast.group_by("sku").agg(pl.col("model").first()).iter_rows())
              if forecast.height else {})
    titles = [f"{labels.get(s, s)}" + (f" · {models[s]}" if s in models else "")
              for s in order]
    fig = _subplots(title, subtitle, rows=rows, cols=cols, height=300 * rows + 140,
                    subplot_titles=titles, vertical_spacing=0.16 if rows > 1 else 0.1,
                    horizontal_spacing=0.06)
    for i, sku in enumerate(order):
        r, c = i // cols + 1, i % cols + 1
        first = i == 0
        f = forecast.filter(pl.col("sku") == sku)
        if f.height:
            for lo, hi, name, alpha in (("lo_95", "hi_95", "95% interval", 0.15),
                                        ("lo_80", "hi_80", "80% interval", 0.3)):
                fig.add_trace(go.Scatter(
                    x=f["ds"].to_list() + f["ds"].reverse().to_list(),
                    y=f[hi].to_list() + f[lo].reverse().to_list(), fill="toself",
                    fillcolor=f"rgba(230,159,0,{alpha})", line={"width": 0}, name=name,
                    legendgroup=name, showlegend=first, hoverinfo="skip"), row=r, col=c)
            fig.add_trace(go.Scatter(
                x=f["ds"], y=f["forecast"], name="Forecast", legendgroup="forecast",
                showlegend=first, line={"color": "#b35c00", "width": 2},
                customdata=f.select("lo_80", "hi_80", "lo_95", "hi_95").to_numpy(),
                hovertemplate="forecast %{y:.1f} (80%: %{customdata[0]:.1f}–%{customdata[1]:.1f}, "
                              "95%: %{customdata[2]:.1f}–%{customdata[3]:.1f})<extra></extra>"),
                row=r, col=c)
        a = actuals.filter(pl.col("sku") == sku)
        fig.add_trace(go.Scatter(x=a["demand_date"], y=a["units"], name="Actual units",
                                 legendgroup="actual", showlegend=first,
                                 line={"color": PALETTE[0], "width": 1.5},
                                 hovertemplate="actual %{y:.0f}<extra></extra>"), row=r, col=c)
        out = a.filter(pl.col("is_stockout"))
        if out.height:
            fig.add_trace(go.Scatter(x=out["demand_date"], y=out["units"], mode="markers",
                                     name="Out of stock", legendgroup="stockout",
                                     showlegend=first or not any(
                                         actuals.filter(pl.col("sku") == s)["is_stockout"].any()
                                         for s in order[:i]),
                                     marker={"color": ALERT, "size": 5},
                                     hovertemplate="out of stock<extra></extra>"), row=r, col=c)
        fig.add_vline(x=data.as_of, line={"color": MUTED, "width": 1, "dash": "dash"}, row=r, col=c)
    fig.update_yaxes(rangemode="tozero")
    fig.update_xaxes(tickformat="%b %d", nticks=5)
    fig.update_layout(hovermode="x", legend=LEGEND_BELOW,
                      margin={"b": 80})
    return fig


def _days_of_cover_figure(data: DashboardData) -> go.Figure | str:
    if data.reorder_as_of is None:
        return ("No days-of-cover figures: "
                + data.unavailable.get("analytics.reorder_suggestions", "no reorder suggestions")
                + ".")
    at_risk = (data.reorder.filter(pl.col("urgency").is_in(["order_now", "order_soon"]))
               .sort("days_of_cover", nulls_last=True).head(AT_RISK_BARS))
    if not at_risk.height:
        return (f"No SKU at risk as of {data.reorder_as_of:%Y-%m-%d}: every SKU's stock and open "
                "orders cover its supplier's lead time.")
    at_risk = at_risk.reverse()  # lowest cover on top
    names = [f"{s} · {(p or '')[:28]}" for s, p in zip(at_risk["sku"], at_risk["product"])]
    fig = _figure(f"Days of cover for the {at_risk.height} SKUs at risk, against supplier "
                  "lead time",
                  "Days the stock on hand lasts at the forecast rate; the diamond is the "
                  "supplier lead time: a bar shorter than its diamond runs out before a new "
                  "order can arrive.",
                  height=max(320, 26 * at_risk.height + 190))
    for urgency in ("order_now", "order_soon"):
        rows = at_risk.with_row_index("i").filter(pl.col("urgency") == urgency)
        if not rows.height:
            continue
        fig.add_trace(go.Bar(
            x=rows["days_of_cover"], y=[names[i] for i in rows["i"]], orientation="h",
            name=URGENCY_LABELS[urgency], marker_color=URGENCY_COLORS[urgency],
            text=[f"{v:.1f} d" for v in rows["days_of_cover"].fill_null(0)],
            textposition="outside", cliponaxis=False, textfont={"size": 11},
            customdata=rows.select(pl.col("projected_stockout_date").cast(pl.Utf8)
                                   .fill_null("—")).to_numpy(),
            hovertemplate="%{x:.1f} days of cover, out by %{customdata[0]}<extra>%{y}</extra>"))
    fig.add_trace(go.Scatter(x=at_risk["lead_time_days"], y=names, mode="markers",
                             name="Supplier lead time",
                             marker={"symbol": "diamond", "size": 10, "color": INK},
                             hovertemplate="lead time %{x:.0f} days<extra>%{y}</extra>"))
    fig.update_layout(barmode="overlay", hovermode="closest",
                      yaxis={"categoryorder": "array", "categoryarray": names,
                                 "tickfont": {"size": 11}},
                      margin={"l": 260})
    fig.update_xaxes(title_text="Days", rangemode="tozero", showgrid=True, gridcolor=GRID)
    return fig


def _reorder_table(data: DashboardData, cur: _Money) -> go.Figure | str:
    if data.reorder_as_of is None:
        return ("No reorder suggestions: "
                + data.unavailable.get("analytics.reorder_suggestions", "not computed") + ".")
    rank = {"order_now": 0, "order_soon": 1, "healthy": 2, "overstock": 3}
    lines = (data.reorder.filter(pl.col("suggested_qty") > 0)
             .with_columns(pl.col("urgency").replace_strict(rank, default=9).alias("_rank"))
             .sort(["_rank", "line_value"], descending=[False, True]))
    if not lines.height:
        return f"Nothing to reorder as of {data.reorder_as_of:%Y-%m-%d}."
    shown = lines.head(REORDER_TABLE_ROWS)
    total = lines["line_value"].sum()
    columns = ["SKU", "Product", "Supplier", "On hand", "Days of cover", "Stockout by",
               "Suggested qty", cur.axis("Line value"), "Urgency"]
    cells = [
        shown["sku"].to_list(),
        [(p or "")[:40] for p in shown["product"]],
        shown["supplier"].to_list(),
        [number(v) for v in shown["on_hand"]],
        [number(v, 1) for v in shown["days_of_cover"]],
        [d.isoformat() if d else "—" for d in shown["projected_stockout_date"]],
        [number(v) for v in shown["suggested_qty"]],
        [cur.text(v) for v in shown["line_value"]],
        [URGENCY_LABELS.get(u, u) for u in shown["urgency"]],
    ]
    urgency_fill = [URGENCY_COLORS.get(u, "white") for u in shown["urgency"]]
    fill = [["white"] * shown.height] * 8 + [urgency_fill]
    more = (f" Showing the first {REORDER_TABLE_ROWS} of {lines.height};"
            if lines.height > REORDER_TABLE_ROWS else "")
    fig = _figure(f"Reorder suggestions as of {data.reorder_as_of:%Y-%m-%d}: {lines.height} SKUs "
                  f"to order, {cur.text(total)} in total",
                  f"Most urgent first, then by value.{more} The buyer files are in "
                  f"output/reorders/{data.reorder_as_of:%Y-%m-%d}/.",
                  height=min(900, 27 * shown.height + 150))
    fig.add_trace(go.Table(
        columnwidth=[1.3, 2.4, 1.8, 0.8, 0.9, 1.0, 0.9, 1.0, 0.9],
        header={"values": [f"<b>{html.escape(c)}</b>" for c in columns], "fill_color": "#f0f4f8",
                    "align": ["left"] * 3 + ["right"] * 5 + ["center"], "font": {"size": 12}},
        cells={"values": cells, "fill_color": fill, "height": 26,
                   "align": ["left"] * 3 + ["right"] * 5 + ["center"],
                   "font": {"size": 12, "color": [[INK] * shown.height] * 8 + [[
                       "white" if u == "order_now" else INK for u in shown["urgency"]]]}}))
    fig.update_layout(margin={"l": 10, "r": 10, "t": 90, "b": 10})
    return fig


def _stockouts_figure(data: DashboardData) -> go.Figure | str:
    monthly = data.stockouts_monthly
    if monthly.height < 2:
        return _not_enough_history("stockout days per month", monthly.height, 2, "months")
    fig = _figure("Stockout days per month: SKU-days with no stock, last 12 months",
                  "Bars: SKU-days out of stock (a SKU out for 3 days counts 3); line: how many "
                  "SKUs were out at least once. The current month is partial.", height=420)
    labels = [f"{m:%b %Y}" for m in monthly["month"]]
    fig.add_trace(go.Bar(x=labels, y=monthly["stockout_sku_days"], name="SKU-days out of stock",
                         marker_color=PALETTE[5], hovertemplate="%{y:,.0f} SKU-days"))
    fig.add_trace(go.Scatter(x=labels, y=monthly["skus_out"], name="SKUs out at least once",
                             mode="lines+markers", yaxis="y2",
                             line={"color": INK, "width": 2}, hovertemplate="%{y:,.0f} SKUs"))
    fig.update_layout(
        yaxis={"title_text": "SKU-days out of stock", "rangemode": "tozero"},
        yaxis2={"title_text": "SKUs out at least once", "overlaying": "y", "side": "right",
                    "rangemode": "tozero", "showgrid": False, "tick0": 0,
                    "dtick": max(1, -(-int(monthly["skus_out"].max() or 0) // 4))},
        legend=LEGEND_BELOW)
    return fig


# --- customers ----------------------------------------------------------------------------

SEGMENT_ORDER = ["active", "reactivated", "at_risk", "high_value_at_risk", "lapsed"]
SEGMENT_LABELS = {"active": "Active", "reactivated": "Reactivated", "at_risk": "At risk",
                  "high_value_at_risk": "High value at risk", "lapsed": "Lapsed"}
TIER_ORDER = ["vip", "gold", "silver", "bronze"]
TIER_LABELS = {"vip": "VIP", "gold": "Gold", "silver": "Silver", "bronze": "Bronze"}
TIER_COLORS = {"vip": "#102a43", "gold": "#E69F00", "silver": "#9aa5b1", "bronze": "#a0522d"}


def _customers(page: _Page, data: DashboardData, cur: _Money) -> None:
    page.intro = ("Who comes back and who is slipping away: repeat purchase by first-order "
                  "month, churn segments with their predicted value, new vs returning "
                  "customers, and which acquisition channels bring valuable customers. "
                  "Aggregates only.")
    page.section("Cohort retention")
    page.chart(_cohort_figure(data))
    page.section("Churn segments")
    page.chart(_segments_figure(data, cur))
    page.section("New and returning customers")
    page.chart(_new_returning_figure(data))
    page.section("Value by acquisition channel")
    page.chart(_channel_value_figure(data, cur))


def _cohort_figure(data: DashboardData) -> go.Figure | str:
    cohorts = data.cohorts
    observed = cohorts.filter(pl.col("share").is_not_null())
    if not observed.height:
        return (f"{NOT_ENOUGH_HISTORY} for cohort retention: it needs a first-order month "
                "followed by one complete month.")
    months = sorted(cohorts["cohort_month"].unique().to_list())[-COHORT_ROWS:]
    cohorts = cohorts.filter(pl.col("cohort_month").is_in(months))
    max_after = int(observed["months_after"].max())
    cohorts = cohorts.filter(pl.col("months_after") <= max_after)
    sizes = dict(cohorts.select("cohort_month", "customers").unique().iter_rows())
    # The exports start on some day: their first month also holds older customers whose
    # earlier orders are not in the data, so its "first orders" are not all first orders.
    truncated = data.first_date is not None and months[0] == data.first_date.replace(day=1)
    y = [f"{m:%Y-%m} ({sizes[m]:,})" + ("*" if truncated and m == data.first_date.replace(day=1)
                                         else "") for m in months]
    x = list(range(1, max_after + 1))
    grid = {(m, k): s for m, k, s in cohorts.select("cohort_month", "months_after", "share")
            .iter_rows()}
    z = [[grid.get((m, k)) for k in x] for m in months]
    text = [["" if v is None else f"{100 * v:.1f}%" for v in row] for row in z]
    fig = _figure("Cohort retention: share of each first-order month's customers ordering "
                  "again 1–12 months later",
                  "Rows: month of the first order (customers in brackets); columns: months "
                  "after it. Blank cells have not happened yet; the current month is not "
                  "counted until it ends."
                  + (" * The first month of data also holds customers whose earlier orders "
                     "predate the exports." if truncated else ""),
                  height=max(380, 30 * len(months) + 200))
    fig.add_trace(go.Heatmap(
        z=z, x=x, y=y, text=text, texttemplate="%{text}", textfont={"size": 11},
        colorscale=[[0, "#f0f4f8"], [0.5, "#56B4E9"], [1, "#0b3d91"]], zmin=0,
        hoverongaps=False, colorbar={"title": {"text": "Ordered again"}, "tickformat": ".0%"},
        hovertemplate="cohort %{y}, month %{x}: %{z:.1%} ordered again<extra></extra>"))
    fig.update_xaxes(title_text="Months after the first order", dtick=1, side="bottom")
    fig.update_yaxes(autorange="reversed", title_text="First-order month")
    fig.update_layout(hovermode="closest")
    return fig


def _segments_figure(data: DashboardData, cur: _Money) -> go.Figure | str:
    if data.churn_as_of is None:
        return ("No churn segments: "
                + data.unavailable.get("analytics.churn_scores", "not computed") + ".")
    seg = data.churn_segments
    if not seg.height:
        return "No customers scored yet."
    present = [s for s in SEGMENT_ORDER if s in seg["segment"].to_list()]
    present += sorted(set(seg["segment"].to_list()) - set(present))
    labels = [SEGMENT_LABELS.get(s, s) for s in present]
    fig = _subplots(f"Churn segments as of {data.churn_as_of:%Y-%m-%d}: customers and predicted "
                    "12-month value, by value tier",
                    "Value tiers rank the last 12 months' net revenue (VIP: top 5%). Predicted "
                    "value: expected net revenue in the next 12 months.",
                    cols=2, height=460, horizontal_spacing=0.12,
                    subplot_titles=("Customers", cur.axis("Predicted 12-month value")))
    tiers = [t for t in TIER_ORDER if t in seg["value_tier"].to_list()]
    tiers += sorted(set(seg["value_tier"].drop_nulls().to_list()) - set(tiers))
    for tier in tiers:
        rows = seg.filter(pl.col("value_tier") == tier)
        by_segment = {s: (c, v) for s, c, v in rows.select("segment", "customers",
                                                             "predicted_clv").iter_rows()}
        color = TIER_COLORS.get(tier, MUTED)
        fig.add_trace(go.Bar(x=labels, y=[by_segment.get(s, (0, 0))[0] for s in present],
                             name=TIER_LABELS.get(tier, tier), legendgroup=tier, marker_color=color,
                             hovertemplate="%{y:,.0f} customers"), row=1, col=1)
        fig.add_trace(go.Bar(x=labels, y=[by_segment.get(s, (0, 0))[1] or 0 for s in present],
                             name=TIER_LABELS.get(tier, tier), legendgroup=tier, marker_color=color,
                             showlegend=False, hovertemplate=cur.hover()), row=1, col=2)
    fig.update_layout(barmode="stack", hovermode="x unified")
    fig.update_yaxes(cur.ticks(), row=1, col=2)
    fig.update_layout(legend=dict(LEGEND_BELOW, title_text="Value tier"))
    return fig


def _new_returning_figure(data: DashboardData) -> go.Figure | str:
    have = _history_days(data.daily, "new_customers")
    if have < MIN_TREND_DAYS:
        return _not_enough_history("new vs returning customers", have)
    weekly = (data.daily.group_by(pl.col("kpi_date").dt.truncate("1w").alias("week"))
              .agg(pl.col("new_customers").sum(), pl.col("returning_customers").sum(),
                   pl.len().alias("days"))
              .sort("week"))
    fig = _figure("New and returning customers per week",
                  "New: first order ever; returning: a repeat order. Daily counts summed over "
                  "the week (Monday to Sunday); the last week may be partial.", height=420)
    fig.add_trace(go.Bar(x=weekly["week"], y=weekly["new_customers"], name="New",
                         marker_color=PALETTE[1], hovertemplate="%{y:,.0f}"))
    fig.add_trace(go.Bar(x=weekly["week"], y=weekly["returning_customers"], name="Returning",
                         marker_color=PALETTE[0], hovertemplate="%{y:,.0f}"))
    fig.update_layout(barmode="stack", legend=LEGEND_BELOW)
    fig.update_yaxes(title_text="Customers per week")
    start = data.as_of - timedelta(days=364)
    first = data.first_date or start
    fig = _with_range_selector(fig, data.as_of, data.first_date)
    fig.update_xaxes(range=[max(start, first) - timedelta(days=4),
                            data.as_of + timedelta(days=4)])
    return fig


def _channel_value_figure(data: DashboardData, cur: _Money) -> go.Figure | str:
    if data.churn_as_of is None:
        return ("No predicted value by channel: "
                + data.unavailable.get("analytics.churn_scores", "not computed") + ".")
    value = data.channel_value.filter(pl.col("customers") > 0).sort("predicted_clv_mean")
    if not value.height:
        return "No customers scored yet."
    fig = _subplots("Predicted 12-month value by acquisition channel",
                    "Left: the average customer; right: all customers of the channel together. "
                    "Acquisition channel = the channel of the customer's first order.",
                    cols=2, height=max(340, 42 * value.height + 180), horizontal_spacing=0.22,
                    subplot_titles=(cur.axis("Average predicted 12-month value per customer"),
                                    cur.axis("Total predicted 12-month value")))
    colors = [_channel_color(c, i) for i, c in enumerate(value["acquisition_channel"])]
    custom = value.select("customers").to_numpy()
    fig.add_trace(go.Bar(y=value["acquisition_channel"], x=value["predicted_clv_mean"],
                         orientation="h", marker_color=colors, showlegend=False,
                         customdata=custom, texttemplate=cur.hover("x", ",.0f"),
                         textposition="outside", cliponaxis=False,
                         hovertemplate=cur.hover("x", ",.2f")
                         + " per customer, %{customdata[0]:,} customers<extra>%{y}</extra>"),
                  row=1, col=1)
    fig.add_trace(go.Bar(y=value["acquisition_channel"], x=value["predicted_clv_total"],
                         orientation="h", marker_color=colors, showlegend=False,
                         customdata=custom, hovertemplate=cur.hover("x")
                         + " from %{customdata[0]:,} customers<extra>%{y}</extra>"),
                  row=1, col=2)
    fig.update_xaxes(cur.ticks(), rangemode="tozero", showgrid=True, gridcolor=GRID)
    top = value["predicted_clv_mean"].max()
    if top:
        fig.update_xaxes(range=[0, top * 1.25], row=1, col=1)
    fig.update_layout(hovermode="closest")
    return fig


# --- support ------------------------------------------------------------------------------

TICKET_CATEGORIES = ("order_status", "return_refund", "product_question", "complaint", "other")


def _has_tickets(data: DashboardData) -> bool:
    return "tickets" in data.daily.columns and (data.daily["tickets"].fill_null(0).sum() or 0) > 0


def _support(page: _Page, data: DashboardData, cur: _Money) -> None:
    page.intro = ("How busy the help desk is and how well it answers: tickets per day by "
                  "category with alerts, the median time to the first reply, and customer "
                  "satisfaction.")
    if not _has_tickets(data):
        page.note("No help-desk tickets in the data yet: add Zendesk or Gorgias exports to "
                  "landing/ to see ticket volume, first-reply times and CSAT.")
        return
    page.section("Ticket volume")
    page.chart(_ticket_volume_figure(data))
    page.section("First reply")
    page.chart(_first_reply_figure(data))
    page.section("Customer satisfaction")
    page.chart(_csat_figure(data))


def _ticket_volume_figure(data: DashboardData) -> go.Figure | str:
    daily = data.daily.filter(pl.col("tickets").is_not_null())
    if daily.height < MIN_TREND_DAYS:
        return _not_enough_history("ticket volume", daily.height)
    fig = _figure("Tickets per day by category",
                  "Stacked by category; circles: ticket-volume alerts (hover for the category "
                  "that drove it). Opens on the last 90 days.", height=460)
    for category in TICKET_CATEGORIES:
        column = f"tickets_{category}"
        if column not in daily.columns:
            continue
        fig.add_trace(go.Bar(x=daily["kpi_date"], y=daily[column],
                             name=category.replace("_", " ").capitalize(),
                             marker_color=CATEGORY_COLORS[category], marker_line_width=0,
                             hovertemplate="%{y:,.0f}"))
    alerts = data.anomalies.filter(pl.col("metric") == "ticket_volume")
    if alerts.height:
        # Put every alert on top of the day's stack, whatever its category.
        totals = dict(daily.select("kpi_date", "tickets").iter_rows())
        by_day = alerts.sort("date").group_by("date", maintain_order=True).agg(
            pl.all().first(), pl.col("dimension").str.join(", ").alias("dimensions"))
        by_day = by_day.with_columns(
            pl.when(pl.col("driver").is_null()).then(pl.col("dimensions"))
            .otherwise(pl.col("dimensions") + "; " + pl.col("driver")).alias("driver"))
        _add_alerts(fig, by_day, number, y=pl.Series([totals.get(d) for d in by_day["date"]],
                                                     dtype=pl.Float64))
    fig.update_layout(barmode="stack", bargap=0.1,
                      legend=LEGEND_BELOW)
    fig.update_yaxes(title_text="Tickets per day")
    return _with_range_selector(fig, data.as_of, data.first_date)


def _first_reply_figure(data: DashboardData) -> go.Figure | str:
    have = _history_days(data.daily, "first_reply_minutes_median")
    if have < MIN_TREND_DAYS:
        return _not_enough_history("the first-reply trend", have)
    series = _daily_series(data, "first_reply_minutes_median")
    fig = _figure("Median minutes to the first reply, per day",
                  "Thin: each day's median over that day's tickets; bold: 7-day average of the "
                  "daily medians; circles: alerts. The y axis fits the last 90 days "
                  "(double-click the chart twice to fit all).", height=420)
    _trend_panel(fig, series, name="First reply", color=PALETTE[0],
                 hover="%{y:,.0f} min", show_last_year=False)
    alerts = _alerts(data, "first_reply_minutes")
    _add_alerts(fig, alerts, _fmt_value("minutes", None))
    # Reply times change by regime (a new help desk, a new team): hours a year ago would
    # flatten today's minutes, so the y axis fits the days the chart opens on.
    since = data.as_of - timedelta(days=TREND_VIEW_DAYS)
    view = series.filter(pl.col("kpi_date") > since)
    recent_alerts = alerts.filter(pl.col("date") > since)["value"]
    top = max(v for v in (view["value"].max(), view["avg7"].max(),
                          recent_alerts.max() if recent_alerts.len() else None, 1.0)
              if v is not None)
    fig.update_yaxes(title_text="Minutes", range=[0, top * 1.1])
    fig.update_layout(legend=LEGEND_BELOW)
    return _with_range_selector(fig, data.as_of, data.first_date)


def _csat_figure(data: DashboardData) -> go.Figure | str:
    weekly = data.csat_weekly.filter(pl.col("rated") > 0)
    if weekly.height < 3:
        return _not_enough_history("the CSAT trend", weekly.height, 3, "weeks")
    fig = _figure("CSAT per week: share of rated tickets marked satisfied",
                  "By the week the ticket was opened; the bar shows how many tickets were "
                  "rated. Weeks start on Monday; the last may be partial.", height=420)
    fig.add_trace(go.Bar(x=weekly["week"], y=weekly["rated"], name="Rated tickets",
                         marker_color="#d9e2ec", yaxis="y2", hovertemplate="%{y:,.0f} rated"))
    fig.add_trace(go.Scatter(x=weekly["week"], y=weekly["csat"], name="CSAT",
                             mode="lines+markers", line={"color": PALETTE[2], "width": 2.5},
                             hovertemplate="%{y:.1%} satisfied"))
    fig.update_layout(
        yaxis={"title_text": "Satisfied (share of rated)", "tickformat": ".0%", "range": [0, 1.02],
                   "overlaying": "y2", "side": "left"},
        yaxis2={"title_text": "Rated tickets", "side": "right", "showgrid": False, "rangemode": "tozero"},
        legend=LEGEND_BELOW)
    fig = _with_range_selector(fig, data.as_of, data.first_date)
    start = max(data.as_of - timedelta(days=364), data.first_date or data.as_of)
    fig.update_xaxes(range=[start - timedelta(days=4), data.as_of + timedelta(days=4)])
    return fig
