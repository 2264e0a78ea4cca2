"""One look for every page: the palette, the colours of channels, ticket categories and
reorder urgencies, the Plotly template, where legends go and the Plotly config."""

from __future__ import annotations

import plotly.graph_objects as go

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
# distance does not change with the figure's height); `Page.chart` makes the room.
LEGEND_BELOW = {"orientation": "h", "x": 0, "xanchor": "left", "y": 0.01, "yanchor": "bottom",
                    "yref": "container"}
LEGEND_ROOM = 110
PLOT_CONFIG = {"displaylogo": False, "responsive": True,
               "modeBarButtonsToRemove": ["lasso2d", "select2d"]}
