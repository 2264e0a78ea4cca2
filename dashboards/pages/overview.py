"""The overview page: the last 7 days' KPIs against the 7 before and the same weekdays
last year, the daily trends with their alerts, and the open incidents."""

from __future__ import annotations

import html
from datetime import timedelta

import plotly.graph_objects as go
import polars as pl

from dashboards.document import number, percent, signed_percent
from dashboards.pages.data import DashboardData
from dashboards.pages.figures import (
    MIN_TREND_DAYS,
    Money,
    add_alerts,
    daily_series,
    fmt_value,
    history_days,
    metric_alerts,
    not_enough_history,
    subplots,
    trend_panel,
    with_range_selector,
)
from dashboards.pages.metrics import KPI_WINDOW_DAYS, kpi_windows
from dashboards.pages.shell import Page
from dashboards.pages.theme import LEGEND_BELOW, PALETTE


def overview(page: Page, data: DashboardData, cur: Money) -> None:
    """Fill `page` with the overview page's intro, sections, charts and notes."""
    page.intro = ("The store at a glance: the last 7 days against the 7 before and the same "
                  "weekdays last year, the daily trends with the alerts raised on them, and "
                  "the incidents still open.")
    page.section(f"Last {KPI_WINDOW_DAYS} days "
                 f"({data.as_of - timedelta(days=KPI_WINDOW_DAYS - 1):%b %d} – {data.as_of:%b %d, %Y})")
    page.html(_kpi_tiles(data, cur))
    page.section(f"Profit ladder, last {PROFIT_WINDOW_DAYS} days")
    page.chart(_profit_ladder_figure(data, cur))
    page.chart(_margin_by_channel_figure(data, cur))
    page.section("Trends")
    page.chart(_revenue_orders_figure(data, cur))
    page.chart(_aov_conversion_figure(data, cur))
    page.section("Open incidents")
    page.html(_incidents_table(data, cur))


PROFIT_WINDOW_DAYS = 28
LADDER = (("Net sales", "net_sales", "absolute"), ("Cost of goods", "cogs", "relative"),
          ("CM1", "contribution_margin_1", "total"),
          ("Shipping charged", "net_shipping_revenue", "relative"),
          ("Shipping labels", "shipping_cost", "relative"),
          ("Payment fees", "payment_fees", "relative"),
          ("Fulfilment", "fulfilment_cost", "relative"),
          ("CM2", "contribution_margin_2", "total"), ("Ad spend", "ad_spend", "relative"),
          ("CM3", "contribution_margin_3", "total"))
COSTS = {"cogs", "shipping_cost", "payment_fees", "fulfilment_cost", "ad_spend"}


def _profit_window(data: DashboardData) -> pl.DataFrame:
    start = data.as_of - timedelta(days=PROFIT_WINDOW_DAYS - 1)
    if "profit_date" not in data.profit.columns:
        return data.profit.clear()
    return data.profit.filter(pl.col("profit_date") >= start)


def _profit_ladder_figure(data: DashboardData, cur: Money) -> go.Figure | str:
    window = _profit_window(data)
    if not window.height or not window["net_sales"].sum():
        return ('<p class="note">No contribution margins yet: the warehouse has no orders with '
                'costs in the last 28 days (marts.fct_profit_daily).</p>')
    sums = {c: float(window[c].sum() or 0) for _, c, _ in LADDER}
    net = sums["net_sales"] or 1.0
    fig = go.Figure(go.Waterfall(
        x=[label for label, _, _ in LADDER],
        measure=[m for _, _, m in LADDER],
        y=[-sums[c] if c in COSTS else sums[c] for _, c, _ in LADDER],
        text=[f"{cur.text(sums[c])}<br>{percent(sums[c] / net)}" for _, c, _ in LADDER],
        textposition="outside", connector={"line": {"color": "#9aa5b1"}},
        increasing={"marker": {"color": PALETTE[2]}}, decreasing={"marker": {"color": PALETTE[3]}},
        totals={"marker": {"color": PALETTE[0]}},
        hovertemplate="%{x}: " + cur.hover() + "<extra></extra>"))
    missing = int(window["orders_missing_costs"].sum() or 0)
    note = (f"<br>{number(missing)} order{'s' * (missing != 1)} with a missing cost "
            f"{'are' if missing != 1 else 'is'} left out of CM2 and CM3 (the brief names the "
            "cost)." if missing else "")
    fig.update_layout(
        title={"text": f"From net sales to contribution margin, last {PROFIT_WINDOW_DAYS} days"
                       f"<br><sup>Each bar is a share of net sales. CM1: after the cost of goods "
                       f"at the order date's cost; CM2: after shipping, payment fees and "
                       f"fulfilment;<br>CM3: after ad spend.{note}</sup>"},
        height=480, showlegend=False, yaxis=cur.ticks(), margin={"t": 120})
    return fig


def _margin_by_channel_figure(data: DashboardData, cur: Money) -> go.Figure | str:
    window = _profit_window(data)
    if not window.height or not window["net_sales"].sum():
        return ""
    by = (window.group_by("channel")
          .agg(pl.col("net_sales").sum(), pl.col("contribution_margin_2").sum(),
               pl.col("ad_spend").sum(), pl.col("contribution_margin_3").sum())
          .sort("net_sales", descending=True))
    fig = go.Figure()
    for column, name, color in (("contribution_margin_2", "CM2", PALETTE[0]),
                                ("contribution_margin_3", "CM3 (after ad spend)", PALETTE[1])):
        fig.add_bar(x=by["channel"].to_list(), y=by[column].to_list(), name=name,
                    marker_color=color,
                    customdata=[percent(v / n) if n else "n/a"
                                for v, n in zip(by[column], by["net_sales"], strict=True)],
                    hovertemplate="%{x}: " + cur.hover() + " (%{customdata} of net sales)"
                                  "<extra>" + name + "</extra>")
    fig.update_layout(title={"text": f"Contribution margin by channel, last {PROFIT_WINDOW_DAYS} days"
                                     "<br><sup>A channel whose CM3 is below zero spends more on "
                                     "ads than its orders earn after costs.</sup>"},
                      barmode="group", height=400, yaxis=cur.ticks(), legend=LEGEND_BELOW)
    return fig


def _kpi_tiles(data: DashboardData, cur: Money) -> str:
    if not data.daily.height:
        return '<p class="note">No orders in the data yet.</p>'
    tiles = kpi_windows(data.daily, data.as_of)
    has_week = tiles.filter(pl.col("kpi") == "revenue")["current"][0] is not None
    out = ['<div class="tiles">']
    for row in tiles.iter_rows(named=True):
        fmt = fmt_value(row["format"], cur)
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


def _revenue_orders_figure(data: DashboardData, cur: Money) -> go.Figure | str:
    have = history_days(data.daily, "revenue")
    if have < MIN_TREND_DAYS:
        return not_enough_history("the revenue and orders trends", have)
    fig = subplots("Revenue and orders per day, with the same weekdays last year",
                   "Thin line: each day; bold: 7-day average; dotted: the same weekdays a year "
                   "earlier; circles: anomaly alerts. Opens on the last 90 days.",
                   rows=2, shared_xaxes=True, vertical_spacing=0.08, height=640,
                   subplot_titles=(cur.axis("Net revenue per day"), "Orders per day"))
    revenue = daily_series(data, "revenue")
    trend_panel(fig, revenue, name="Revenue", color=PALETTE[0], hover=cur.hover(), row=1)
    orders = daily_series(data, "orders")
    trend_panel(fig, orders, name="Orders", color=PALETTE[2], hover="%{y:,.0f}", row=2,
                show_last_year=True, legend=False)
    for metric, row, fmt in (("revenue", 1, cur.text), ("orders", 2, number)):
        add_alerts(fig, metric_alerts(data, metric), fmt, row=row)
    fig.update_yaxes(cur.ticks(), row=1, col=1)
    fig.update_yaxes(rangemode="tozero")
    fig.update_layout(legend=LEGEND_BELOW)
    return with_range_selector(fig, data.as_of, data.first_date)


def _aov_conversion_figure(data: DashboardData, cur: Money) -> go.Figure | str:
    have = history_days(data.daily, "average_order_value")
    if have < MIN_TREND_DAYS:
        return not_enough_history("the order value and conversion trends", have)
    has_conversion = history_days(data.daily, "conversion_rate") >= MIN_TREND_DAYS
    rows = 2 if has_conversion else 1
    titles = [cur.axis("Average order value")]
    if has_conversion:
        titles.append("Conversion rate (orders ÷ sessions)")
    fig = subplots("Average order value" + (" and conversion rate" if has_conversion else "")
                   + " per day, with the same weekdays last year",
                   "Bold: 7-day average; dotted: a year earlier; circles: anomaly alerts."
                   + ("" if has_conversion else " No sessions export, so no conversion rate."),
                   rows=rows, shared_xaxes=True, vertical_spacing=0.1,
                   height=560 if has_conversion else 380, subplot_titles=titles)
    aov = daily_series(data, "average_order_value")
    trend_panel(fig, aov, name="AOV", color=PALETTE[3], hover=cur.hover(fmt=",.2f"), row=1)
    add_alerts(fig, metric_alerts(data, "aov"), lambda v: cur.text(v, 2), row=1)
    fig.update_yaxes(cur.ticks(), row=1, col=1)
    if has_conversion:
        conversion = daily_series(data, "conversion_rate")
        trend_panel(fig, conversion, name="Conversion", color=PALETTE[5],
                    hover="%{y:.2%}", row=2, legend=False)
        add_alerts(fig, metric_alerts(data, "conversion_rate"), lambda v: percent(v, 2), row=2)
        fig.update_yaxes(tickformat=".1%", row=2, col=1)
    fig.update_layout(legend=LEGEND_BELOW)
    return with_range_selector(fig, data.as_of, data.first_date)


METRIC_LABELS = {"revenue": "Revenue", "orders": "Orders", "conversion_rate": "Conversion rate",
                 "aov": "Average order value", "spend": "Ad spend", "cac": "CAC",
                 "roas": "ROAS", "return_rate": "Return rate", "ticket_volume": "Tickets",
                 "first_reply_minutes": "First reply time"}
METRIC_FORMATS = {"revenue": "money", "aov": "money2", "spend": "money", "cac": "money2",
                  "conversion_rate": "percent", "return_rate": "percent", "roas": "ratio",
                  "first_reply_minutes": "minutes"}
OPEN_INCIDENT_DAYS = 2  # an incident alerted on one of the last 2 days is still open


def _incidents_table(data: DashboardData, cur: Money) -> str:
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
        fmt = fmt_value(METRIC_FORMATS.get(r["metric"], "count"), cur)
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
