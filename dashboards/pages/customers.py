"""The customers page: cohort retention, churn segments with their predicted value, new
and returning customers, and predicted value by acquisition channel. Aggregates only."""

from __future__ import annotations

from datetime import timedelta

import plotly.graph_objects as go
import polars as pl

from dashboards.pages.data import DashboardData
from dashboards.pages.figures import (
    MIN_TREND_DAYS,
    NOT_ENOUGH_HISTORY,
    Money,
    channel_color,
    figure,
    history_days,
    not_enough_history,
    subplots,
    with_range_selector,
)
from dashboards.pages.shell import Page
from dashboards.pages.theme import GRID, LEGEND_BELOW, MUTED, PALETTE

COHORT_ROWS = 18

SEGMENT_ORDER = ["active", "reactivated", "at_risk", "high_value_at_risk", "lapsed"]
SEGMENT_LABELS = {"active": "Active", "reactivated": "Reactivated", "at_risk": "At risk",
                  "high_value_at_risk": "High value at risk", "lapsed": "Lapsed"}
TIER_ORDER = ["vip", "gold", "silver", "bronze"]
TIER_LABELS = {"vip": "VIP", "gold": "Gold", "silver": "Silver", "bronze": "Bronze"}
TIER_COLORS = {"vip": "#102a43", "gold": "#E69F00", "silver": "#9aa5b1", "bronze": "#a0522d"}


def customers(page: Page, data: DashboardData, cur: Money) -> None:
    """Fill `page` with the customers page's intro, sections, charts and notes."""
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
    fig = figure("Cohort retention: share of each first-order month's customers ordering "
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


def _segments_figure(data: DashboardData, cur: Money) -> go.Figure | str:
    if data.churn_as_of is None:
        return ("No churn segments: "
                + data.unavailable.get("analytics.churn_scores", "not computed") + ".")
    seg = data.churn_segments
    if not seg.height:
        return "No customers scored yet."
    present = [s for s in SEGMENT_ORDER if s in seg["segment"].to_list()]
    present += sorted(set(seg["segment"].to_list()) - set(present))
    labels = [SEGMENT_LABELS.get(s, s) for s in present]
    fig = subplots(f"Churn segments as of {data.churn_as_of:%Y-%m-%d}: customers and predicted "
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
    have = history_days(data.daily, "new_customers")
    if have < MIN_TREND_DAYS:
        return not_enough_history("new vs returning customers", have)
    weekly = (data.daily.group_by(pl.col("kpi_date").dt.truncate("1w").alias("week"))
              .agg(pl.col("new_customers").sum(), pl.col("returning_customers").sum(),
                   pl.len().alias("days"))
              .sort("week"))
    fig = figure("New and returning customers per week",
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
    fig = with_range_selector(fig, data.as_of, data.first_date)
    fig.update_xaxes(range=[max(start, first) - timedelta(days=4),
                            data.as_of + timedelta(days=4)])
    return fig


def _channel_value_figure(data: DashboardData, cur: Money) -> go.Figure | str:
    if data.churn_as_of is None:
        return ("No predicted value by channel: "
                + data.unavailable.get("analytics.churn_scores", "not computed") + ".")
    value = data.channel_value.filter(pl.col("customers") > 0).sort("predicted_clv_mean")
    if not value.height:
        return "No customers scored yet."
    fig = subplots("Predicted 12-month value by acquisition channel",
                   "Left: the average customer; right: all customers of the channel together. "
                   "Acquisition channel = the channel of the customer's first order.",
                   cols=2, height=max(340, 42 * value.height + 180), horizontal_spacing=0.22,
                   subplot_titles=(cur.axis("Average predicted 12-month value per customer"),
                                   cur.axis("Total predicted 12-month value")))
    colors = [channel_color(c, i) for i, c in enumerate(value["acquisition_channel"])]
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
