"""The inventory page: demand forecasts against actuals for the top SKUs, days of cover
of the SKUs at risk, the reorder suggestions and stockout days per month."""

from __future__ import annotations

import html

import plotly.graph_objects as go
import polars as pl

from dashboards.document import number
from dashboards.pages.data import ACTUALS_DAYS, TOP_SKUS, DashboardData
from dashboards.pages.figures import MIN_TREND_DAYS, Money, figure, not_enough_history, subplots
from dashboards.pages.shell import Page
from dashboards.pages.theme import (
    ALERT,
    GRID,
    INK,
    LEGEND_BELOW,
    MUTED,
    PALETTE,
    URGENCY_COLORS,
    URGENCY_LABELS,
)

REORDER_TABLE_ROWS = 60
AT_RISK_BARS = 25


def inventory(page: Page, data: DashboardData, cur: Money) -> None:
    """Fill `page` with the inventory page's intro, sections, charts and notes."""
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
        return not_enough_history("SKU demand trends", have)
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
    fig = subplots(title, subtitle, rows=rows, cols=cols, height=300 * rows + 140,
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
    fig = figure(f"Days of cover for the {at_risk.height} SKUs at risk, against supplier "
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


def _reorder_table(data: DashboardData, cur: Money) -> go.Figure | str:
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
    fig = figure(f"Reorder suggestions as of {data.reorder_as_of:%Y-%m-%d}: {lines.height} SKUs "
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
        return not_enough_history("stockout days per month", monthly.height, 2, "months")
    fig = figure("Stockout days per month: SKU-days with no stock, last 12 months",
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
