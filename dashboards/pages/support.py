"""The support page: tickets per day by category with their alerts, the median time to
the first reply, and CSAT per week."""

from __future__ import annotations

from datetime import timedelta

import plotly.graph_objects as go
import polars as pl

from dashboards.document import number
from dashboards.pages.data import DashboardData
from dashboards.pages.figures import (
    MIN_TREND_DAYS,
    TREND_VIEW_DAYS,
    Money,
    add_alerts,
    daily_series,
    figure,
    fmt_value,
    history_days,
    metric_alerts,
    not_enough_history,
    trend_panel,
    with_range_selector,
)
from dashboards.pages.shell import Page
from dashboards.pages.theme import CATEGORY_COLORS, LEGEND_BELOW, PALETTE

TICKET_CATEGORIES = ("order_status", "return_refund", "product_question", "complaint", "other")


def _has_tickets(data: DashboardData) -> bool:
    return "tickets" in data.daily.columns and (data.daily["tickets"].fill_null(0).sum() or 0) > 0


def support(page: Page, data: DashboardData, cur: Money) -> None:
    """Fill `page` with the support page's intro, sections, charts and notes."""
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
        return not_enough_history("ticket volume", daily.height)
    fig = figure("Tickets per day by category",
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
        add_alerts(fig, by_day, number, y=pl.Series([totals.get(d) for d in by_day["date"]],
                                                    dtype=pl.Float64))
    fig.update_layout(barmode="stack", bargap=0.1,
                      legend=LEGEND_BELOW)
    fig.update_yaxes(title_text="Tickets per day")
    return with_range_selector(fig, data.as_of, data.first_date)


def _first_reply_figure(data: DashboardData) -> go.Figure | str:
    have = history_days(data.daily, "first_reply_minutes_median")
    if have < MIN_TREND_DAYS:
        return not_enough_history("the first-reply trend", have)
    series = daily_series(data, "first_reply_minutes_median")
    fig = figure("Median minutes to the first reply, per day",
                 "Thin: each day's median over that day's tickets; bold: 7-day average of the "
                 "daily medians; circles: alerts. The y axis fits the last 90 days "
                 "(double-click the chart twice to fit all).", height=420)
    trend_panel(fig, series, name="First reply", color=PALETTE[0],
                hover="%{y:,.0f} min", show_last_year=False)
    alerts = metric_alerts(data, "first_reply_minutes")
    add_alerts(fig, alerts, fmt_value("minutes", None))
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
    return with_range_selector(fig, data.as_of, data.first_date)


def _csat_figure(data: DashboardData) -> go.Figure | str:
    weekly = data.csat_weekly.filter(pl.col("rated") > 0)
    if weekly.height < 3:
        return not_enough_history("the CSAT trend", weekly.height, 3, "weeks")
    fig = figure("CSAT per week: share of rated tickets marked satisfied",
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
    fig = with_range_selector(fig, data.as_of, data.first_date)
    start = max(data.as_of - timedelta(days=364), data.first_date or data.as_of)
    fig.update_xaxes(range=[start - timedelta(days=4), data.as_of + timedelta(days=4)])
    return fig
