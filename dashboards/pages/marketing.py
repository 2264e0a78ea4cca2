"""The marketing page: spend, CAC and ROAS per paid channel, the channels compared over
the last 30 days, MER, and orders by channel."""

from __future__ import annotations

from datetime import timedelta

import plotly.graph_objects as go
import polars as pl

from dashboards.pages.data import DashboardData
from dashboards.pages.figures import (
    MIN_TREND_DAYS,
    Money,
    add_alerts,
    channel_color,
    figure,
    fmt_value,
    metric_alerts,
    not_enough_history,
    subplots,
    with_range_selector,
)
from dashboards.pages.metrics import LAST_YEAR_DAYS
from dashboards.pages.shell import Page
from dashboards.pages.theme import LAST_YEAR, LEGEND_BELOW, PALETTE

COMPARISON_DAYS = 30


def _paid_channels(data: DashboardData) -> list[str]:
    channels = data.channels
    if not channels.height or "spend" not in channels.columns:
        return []
    spend = (channels.group_by("channel").agg(pl.col("spend").sum())
             .filter(pl.col("spend") > 0).sort("spend", descending=True))
    return spend["channel"].to_list()


def marketing(page: Page, data: DashboardData, cur: Money) -> None:
    """Fill `page` with the marketing page's intro, sections, charts and notes."""
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


def _channel_trends_figure(data: DashboardData, cur: Money, paid: list[str]) -> go.Figure | str:
    frame = data.channels.filter(pl.col("channel").is_in(paid))
    have = frame["channel_date"].n_unique()
    if have < MIN_TREND_DAYS:
        return not_enough_history("spend, CAC and ROAS per channel", have)
    fig = subplots("Spend, CAC and ROAS per paid channel per day",
                   "Spend per day; CAC and ROAS over a trailing 7 days (daily values are too "
                   "noisy); circles: anomaly alerts at the alerted day's own value.",
                   rows=3, shared_xaxes=True, vertical_spacing=0.07, height=860,
                   subplot_titles=(cur.axis("Ad spend per day"),
                                   cur.axis("CAC, spend ÷ new customers, 7 days"),
                                   "ROAS, store-measured net revenue ÷ spend, 7 days"))
    for index, channel in enumerate(paid):
        color = channel_color(channel, index)
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
                                 ("roas", 3, fmt_value("ratio", cur))):
            add_alerts(fig, metric_alerts(data, metric, f"channel={channel}"), fmt, row=row)
    fig.update_yaxes(cur.ticks(), row=1, col=1)
    fig.update_yaxes(cur.ticks(), row=2, col=1)
    fig.update_yaxes(rangemode="tozero")
    fig.update_layout(legend=LEGEND_BELOW)
    return with_range_selector(fig, data.as_of, data.first_date)


def _channel_comparison_figure(data: DashboardData, cur: Money, paid: list[str]
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
    colors = [channel_color(c, paid.index(c)) for c in totals["channel"]]
    subtitle = (f"{since:%b %d} – {data.as_of:%b %d, %Y}"
                + (f" (only {days} days of data)" if days < COMPARISON_DAYS else "")
                + ". Store-measured = orders the store attributes to the channel (UTM/source).")
    fig = subplots(f"Paid channels compared over the last {COMPARISON_DAYS} days", subtitle,
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
        return not_enough_history("the MER trend", have)
    frame = (daily.select("kpi_date", "revenue", "ad_spend").sort("kpi_date")
             .upsample("kpi_date", every="1d")
             .with_columns((pl.col("revenue").rolling_sum(7, min_samples=7)
                            / pl.col("ad_spend").rolling_sum(7, min_samples=7).replace(0, None)
                            ).alias("mer7")))
    last_year = frame.select(pl.col("kpi_date") + pl.duration(days=LAST_YEAR_DAYS),
                             pl.col("mer7").alias("mer7_last_year"))
    frame = frame.join(last_year, on="kpi_date", how="left")
    fig = figure("MER per day: all revenue ÷ all ad spend, trailing 7 days",
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
    return with_range_selector(fig, data.as_of, data.first_date)


def _orders_by_channel_figure(data: DashboardData) -> go.Figure | str:
    frame = data.channels
    if not frame.height or "orders" not in frame.columns:
        return "No orders in the data yet."
    weeks = frame["channel_date"].dt.truncate("1w").n_unique()
    if frame["channel_date"].n_unique() < MIN_TREND_DAYS:
        return not_enough_history("orders per week by channel",
                                  frame["channel_date"].n_unique())
    weekly = (frame.group_by(pl.col("channel_date").dt.truncate("1w").alias("week"), "channel")
              .agg(pl.col("orders").sum()).sort("week"))
    order = (weekly.group_by("channel").agg(pl.col("orders").sum())
             .sort("orders", descending=True).filter(pl.col("orders") > 0)["channel"].to_list())
    fig = figure("Orders per week by channel (store-measured)",
                 f"Weeks start on Monday; {weeks} weeks. The last week may be partial.",
                 height=420)
    for index, channel in enumerate(order):
        rows = weekly.filter(pl.col("channel") == channel)
        fig.add_trace(go.Bar(x=rows["week"], y=rows["orders"], name=channel,
                             marker_color=channel_color(channel, index),
                             hovertemplate="%{y:,.0f}"))
    fig.update_layout(barmode="stack", legend=LEGEND_BELOW)
    fig.update_yaxes(title_text="Orders per week")
    return fig
