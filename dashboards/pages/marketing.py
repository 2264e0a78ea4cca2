"""The marketing page: spend, CAC and ROAS per paid channel, the channels compared over
the last 30 days, MER, where the next ad dollar goes (each paid channel's response curve
with today's and the suggested spend, and the marginal-return table), the creatives worn
out, and orders by channel."""

from __future__ import annotations

import html
import math
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
from dashboards.pages.theme import ALERT, INK, LAST_YEAR, LEGEND_BELOW, PALETTE

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
        page.section("Where the next ad dollar goes")
        if data.budget.height:
            page.html(f"<p><strong>{html.escape(data.budget['headline'][0])}</strong></p>")
        page.chart(_response_curves_figure(data, cur))
        if data.budget.height:
            page.html(_marginal_return_table(data, cur))
        page.section("Creatives wearing out")
        page.html(_creative_alerts_table(data))
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


STATUS_LABELS = {"advice": "move budget", "keep": "keep", "no_curve": "no curve"}
CURVES_PER_ROW = 3


def _response_curves_figure(data: DashboardData, cur: Money) -> go.Figure | str:
    """Per paid channel with a fitted curve: new customers per day against spend per day
    (steady state, at today's demand), today's spend and the suggested spend marked; or
    the words why there is no curve."""
    budget = data.budget
    if not budget.height:
        return ("No budget advice: " + data.unavailable.get(
            "analytics.budget_recommendations", "no paid channel spent in the last 28 days")
            + ".")
    as_of = f"as of {data.budget_as_of:%Y-%m-%d}"
    curves = data.budget_curves
    channels = [c for c in budget["channel"].to_list()
                if curves.height and c in set(curves["channel"].to_list())]
    reasons = [f"{r['channel']}: {r['reason']}" for r in budget.iter_rows(named=True)
               if r["status"] == "no_curve"]
    if not channels:
        return f"No response curve ({as_of}): " + "; ".join(reasons) + "."
    cols = min(len(channels), CURVES_PER_ROW)
    rows = math.ceil(len(channels) / cols)
    subtitle = (f"Fitted {as_of}, at today's demand. Filled circle: today's spend (mean of "
                "the last 28 days); diamond: the suggested spend."
                + (f" No curve for {', '.join(r.split(':')[0] for r in reasons)} (table below)."
                   if reasons else ""))
    fig = subplots("New customers per day against ad spend per day, per paid channel",
                   subtitle, rows=rows, cols=cols, height=260 + 300 * rows,
                   horizontal_spacing=0.08, vertical_spacing=0.18,
                   subplot_titles=channels)
    rows_by_channel = {r["channel"]: r for r in budget.iter_rows(named=True)}
    for index, channel in enumerate(channels):
        row, col = index // cols + 1, index % cols + 1
        color = channel_color(channel, index)
        points = curves.filter(pl.col("channel") == channel)
        line = points.filter(~pl.col("is_current") & ~pl.col("is_suggested")).sort("spend")
        fig.add_trace(go.Scatter(
            x=line["spend"], y=line["new_customers"], mode="lines", name=channel,
            line={"color": color, "width": 2.5}, showlegend=False,
            hovertemplate=cur.hover("x") + " a day → %{y:.1f} new customers<extra>"
            + html.escape(channel) + "</extra>"), row=row, col=col)
        info = rows_by_channel[channel]
        for flag, label, symbol, fill in (("is_current", "Today's spend", "circle", color),
                                          ("is_suggested", "Suggested spend", "diamond", "white")):
            point = points.filter(pl.col(flag))
            if not point.height:
                continue
            text = f"{label}: {cur.text(point['spend'][0])} a day → {point['new_customers'][0]:.1f} new customers a day"
            if flag == "is_current" and info.get("marginal_new_customers_per_100") is not None:
                text += (f"<br>the next {cur.text(100)} brings "
                         f"{info['marginal_new_customers_per_100']:.2f} "
                         f"({info['marginal_lo']:.2f}–{info['marginal_hi']:.2f}, 90%)")
            fig.add_trace(go.Scatter(
                x=point["spend"], y=point["new_customers"], mode="markers", name=label,
                legendgroup=label, showlegend=index == 0, text=[text],
                hovertemplate="%{text}<extra>" + html.escape(channel) + "</extra>",
                marker={"symbol": symbol, "size": 13, "color": fill,
                        "line": {"color": INK if flag == "is_current" else ALERT, "width": 2}}),
                row=row, col=col)
        fig.update_xaxes(title_text=cur.axis("spend per day"), tickprefix=cur.prefix,
                         ticksuffix=cur.suffix, rangemode="tozero", row=row, col=col)
        fig.update_yaxes(title_text="new customers per day" if col == 1 else None,
                         rangemode="tozero", row=row, col=col)
    fig.update_layout(hovermode="closest", legend=LEGEND_BELOW)
    return fig


def _cell(text: str, numeric: bool = False) -> str:
    return f'<td class="num">{html.escape(text)}</td>' if numeric else f"<td>{html.escape(text)}</td>"


def _table(columns: tuple[str, ...], numeric: tuple[bool, ...], rows: list[tuple[str, ...]]
           ) -> str:
    head = "".join(f"<th>{html.escape(c)}</th>" for c in columns)
    body = "".join("<tr>" + "".join(_cell(v, n) for v, n in zip(row, numeric, strict=True))
                   + "</tr>" for row in rows)
    return f'<table class="data"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def _marginal_return_table(data: DashboardData, cur: Money) -> str:
    """Per paid channel: today's and the suggested spend, what the next 100 of spend
    brings (with its 90% interval), the return of the next and the average unit, status."""
    budget = data.budget
    in_money = budget["gain_unit"][0] == cur.code if "gain_unit" in budget.columns else False

    def num(value, digits: int = 2) -> str:
        return "" if value is None else f"{value:,.{digits}f}"

    rows = []
    for r in budget.iter_rows(named=True):
        marginal = ""
        if r["marginal_new_customers_per_100"] is not None:
            marginal = (f"{num(r['marginal_new_customers_per_100'])} "
                        f"({num(r['marginal_lo'])}–{num(r['marginal_hi'])})")
        status = STATUS_LABELS.get(r["status"], r["status"])
        rows.append((r["channel"], cur.text(r["current_spend"]), cur.text(r["suggested_spend"]),
                     num(r["new_customers_per_day"], 1), marginal,
                     (cur.text(r["marginal_return"], 2) if in_money else num(r["marginal_return"], 3))
                     if r["marginal_return"] is not None else "",
                     (cur.text(r["average_return"], 2) if in_money else num(r["average_return"], 3))
                     if r["average_return"] is not None else "",
                     num(r["saturation"]), status + (f": {r['reason']}" if r["reason"] else "")))
    unit = cur.text(1)
    basis = budget["value_basis"][0] if "value_basis" in budget.columns else "new customers"
    table = _table(("Channel", "Spend per day", "Suggested", "New customers per day",
                    f"Next {cur.text(100)} brings (90% interval)",
                    f"Return of the next {unit}", f"Average return per {unit}",
                    "Saturation (spend ÷ half-saturation)", "Status"),
                   (False, True, True, True, True, True, True, True, False), rows)
    note = (f"Returns in {basis}" + (" per unit of spend" if in_money else
                                    " per unit of spend (no customer value known)")
            + ". The curves count store-attributed new customers (last click): a channel's "
            "halo on organic demand is not in them.")
    return table + f'<p class="note">{html.escape(note)}</p>'


def _creative_alerts_table(data: DashboardData) -> str:
    """The ads worn out as of the last fatigue scoring, one row each; or why none."""
    alerts = data.creative_alerts
    if not alerts.height:
        why = data.unavailable.get("analytics.creative_alerts")
        return (f'<p class="note">{html.escape("No creative alerts: " + why + ".")}</p>' if why
                else '<p class="note">No creative is wearing out.</p>')

    def pct(value, digits: int = 2, signed: bool = False) -> str:
        if value is None:
            return ""
        return f"{100 * value:+.{digits}f}%" if signed else f"{100 * value:.{digits}f}%"

    rows = []
    for r in alerts.iter_rows(named=True):
        ctr = (f"{pct(r['baseline_ctr'])} → {pct(r['recent_ctr'])} ({pct(r['ctr_change'], 0, True)})"
               if r["recent_ctr"] is not None and r["baseline_ctr"] is not None else "")
        frequency = (f"{r['baseline_frequency']:.1f} → {r['recent_frequency']:.1f}"
                     if r["recent_frequency"] is not None and r["baseline_frequency"] is not None
                     else "")
        rows.append((r["ad_name"], r["channel"], r["campaign_name"] or "", ctr, frequency,
                     pct(r["cost_per_result_change"], 0, True),
                     f"{r['first_alert_date']:%Y-%m-%d}" + (" (new)" if r["is_new"] else ""),
                     r["severity"]))
    note = (f"As of {data.creative_alerts_as_of:%Y-%m-%d}: each ad against its own first two "
            "weeks, over the last 7 days (analytics.creative_alerts); consider a new creative.")
    return (_table(("Ad", "Channel", "Campaign", "CTR (first 2 weeks → last 7 days)",
                    "Frequency", "Cost per result", "Alerted since", "Severity"),
                   (False, False, False, True, True, True, False, False), rows)
            + f'<p class="note">{html.escape(note)}</p>')
