"""What every figure shares: the store's currency in labels (`Money`), one title style
(`figure`, `subplots`), the range selector of daily trends, the note that replaces a
chart without enough history, anomaly-alert markers, value formats, and the daily trend
panels (daily line, 7-day average, the same weekdays last year)."""

from __future__ import annotations

import html
from collections.abc import Callable
from datetime import date, timedelta

import plotly.graph_objects as go
import polars as pl
from plotly.subplots import make_subplots

from dashboards.document import money, number, percent
from dashboards.pages.data import DashboardData
from dashboards.pages.metrics import LAST_YEAR_DAYS
from dashboards.pages.theme import (
    ALERT,
    CHANNEL_COLORS,
    LAST_YEAR,
    MUTED,
    NEUTRAL,
    PALETTE,
    TEMPLATE,
)

MIN_TREND_DAYS = 14  # a daily trend with fewer days says nothing a KPI tile does not
TREND_VIEW_DAYS = 90  # what a trend shows when the page opens; the buttons show the rest
NOT_ENOUGH_HISTORY = "Not enough history"

RANGE_BUTTONS = [
    {"count": 7, "label": "7d", "step": "day", "stepmode": "backward"},
    {"count": 30, "label": "30d", "step": "day", "stepmode": "backward"},
    {"count": 90, "label": "90d", "step": "day", "stepmode": "backward"},
    {"count": 1, "label": "1y", "step": "year", "stepmode": "backward"},
    {"label": "all", "step": "all"},
]


def currency_symbol(currency: str) -> str:
    """The currency's symbol ($, €, £), else its upper-case ISO code."""
    return {"USD": "$", "EUR": "€", "GBP": "£"}.get(currency.upper(), currency.upper())


# --- one figure style ---------------------------------------------------------------------


class Money:
    """The store's currency in axis titles, tick labels and hovers."""

    def __init__(self, currency: str):
        self.code = currency.upper()
        self.symbol = currency_symbol(currency)
        self.is_symbol = self.symbol != self.code
        self.prefix = self.symbol if self.is_symbol else ""
        self.suffix = "" if self.is_symbol else f" {self.code}"

    def axis(self, label: str) -> str:
        """An axis title with the currency: "Revenue ($)"."""
        return f"{label} ({self.symbol})"

    def hover(self, field_: str = "y", fmt: str = ",.0f") -> str:
        """A Plotly hover template of `field_` as money in this currency."""
        return f"{self.prefix}%{{{field_}:{fmt}}}{self.suffix}"

    def ticks(self) -> dict:
        """Axis tick prefix and suffix for this currency (Plotly layout keys)."""
        return {"tickprefix": self.prefix, "ticksuffix": self.suffix}

    def text(self, value: float | None, digits: int = 0) -> str:
        """`value` as money text (`dashboards.document.money`)."""
        return money(value, self.code, digits)


def figure(title: str, subtitle: str = "", *, height: int = 420) -> go.Figure:
    """An empty figure with the dashboards' template, a title and a muted subtitle."""
    fig = go.Figure()
    _style(fig, title, subtitle, height=height)
    return fig


def _style(fig: go.Figure, title: str, subtitle: str = "", *, height: int = 420) -> go.Figure:
    fig.update_layout(template=TEMPLATE, height=height,
                      title={"text": title, "subtitle": {"text": subtitle,
                                                           "font": {"color": MUTED, "size": 12}}})
    return fig


def subplots(title: str, subtitle: str = "", *, rows: int = 1, cols: int = 1,
             height: int = 420, **kwargs) -> go.Figure:
    """`make_subplots` (rows x cols; kwargs passed on) with the dashboards' title style."""
    fig = make_subplots(rows=rows, cols=cols, **kwargs)
    _style(fig, title, subtitle, height=height)
    # Subplot titles are annotations: left-align them and keep them quiet.
    fig.update_annotations(font={"size": 13, "color": NEUTRAL})
    return fig


def with_range_selector(fig: go.Figure, as_of: date, first: date | None) -> go.Figure:
    """Buttons 7d/30d/90d/1y/all on the top x axis; the page opens on the last 90 days."""
    start = as_of - timedelta(days=TREND_VIEW_DAYS - 1)
    if first is not None and first > start:
        start = first
    fig.update_xaxes(range=[start - timedelta(hours=12), as_of + timedelta(hours=12)])
    fig.update_layout(xaxis={"rangeselector": {
        "buttons": RANGE_BUTTONS, "x": 0, "xanchor": "left", "y": 1.0, "yanchor": "bottom",
        "bgcolor": "#f0f4f8", "activecolor": "#bcccdc", "font": {"size": 12}}})
    return fig


def history_days(daily: pl.DataFrame, column: str) -> int:
    """How many rows (days) of `daily` have a value in `column`; 0 if it is absent."""
    if column not in daily.columns:
        return 0
    return int(daily.filter(pl.col(column).is_not_null()).height)


def not_enough_history(what: str, have: int, need: int = MIN_TREND_DAYS, unit: str = "days"
                       ) -> str:
    """The note shown instead of a chart with `have` of the `need` days (or `unit`)."""
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


def add_alerts(fig: go.Figure, alerts: pl.DataFrame, fmt: Callable[[float], str], *,
               row: int | None = None, y: pl.Series | None = None) -> None:
    """Alert markers on a figure; one legend entry for all of them."""
    if not alerts.height:
        return
    shown = any(t.name == "Anomaly alert" and t.showlegend is not False for t in fig.data)
    trace = _anomaly_trace(alerts, "Anomaly alert", fmt, y=y, showlegend=not shown)
    fig.add_trace(trace, **({"row": row, "col": 1} if row else {}))


def fmt_value(kind: str, cur: Money) -> Callable[[float | None], str]:
    """A formatter for a value of `kind`: money, money2, percent, ratio, minutes or count."""
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


def metric_alerts(data: DashboardData, metric: str, dimension: str = "all") -> pl.DataFrame:
    """The anomaly alerts of one metric and dimension ("all": the whole store)."""
    a = data.anomalies
    return a.filter((pl.col("metric") == metric) & (pl.col("dimension") == dimension))


def daily_series(data: DashboardData, column: str) -> pl.DataFrame:
    """kpi_date, value, avg7 (trailing 7-day mean), last_year (avg7 364 days earlier)."""
    frame = data.daily.select("kpi_date", pl.col(column).cast(pl.Float64).alias("value"))
    frame = frame.sort("kpi_date").upsample("kpi_date", every="1d").with_columns(
        pl.col("value").rolling_mean(7, min_samples=7).alias("avg7"))
    last_year = frame.select((pl.col("kpi_date") + pl.duration(days=LAST_YEAR_DAYS)),
                             pl.col("avg7").alias("last_year"))
    return frame.join(last_year, on="kpi_date", how="left")


def trend_panel(fig: go.Figure, series: pl.DataFrame, *, name: str, color: str,
                hover: str, row: int | None = None, show_last_year: bool = True,
                legend: bool = True) -> None:
    """Add a daily series (`kpi_date, value`, + `avg7`, `last_year` from `daily_series`)
    to `fig`: the days, their 7-day average and last year's 7-day average, on `row` of a
    subplot figure or the whole figure."""
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


def channel_color(channel: str, index: int) -> str:
    """The channel's colour, else the palette's `index`-th."""
    return CHANNEL_COLORS.get(channel, PALETTE[index % len(PALETTE)])
