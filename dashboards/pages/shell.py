"""The page shell: `Page` collects a page's blocks (HTML, notes, figures) and renders
them into the HTML template with the header, the navigation between the five pages and
plotly.js inlined once."""

from __future__ import annotations

import html
from dataclasses import dataclass, field

import plotly.graph_objects as go

from dashboards.pages.data import DashboardData
from dashboards.pages.theme import LEGEND_ROOM, PLOT_CONFIG

PAGES = ("overview", "marketing", "inventory", "customers", "support")
PAGE_TITLES = {
    "overview": "Overview",
    "marketing": "Marketing",
    "inventory": "Inventory",
    "customers": "Customers",
    "support": "Support",
}


@dataclass
class Page:
    """One dashboard page: its name (a key of PAGE_TITLES), intro and blocks in order."""

    name: str
    intro: str = ""
    blocks: list = field(default_factory=list)  # str (HTML) or go.Figure

    def html(self, text: str) -> None:
        """Append raw HTML (already escaped by the caller)."""
        self.blocks.append(text)

    def section(self, heading: str) -> None:
        """Append a section heading."""
        self.blocks.append(f"<h2>{html.escape(heading)}</h2>")

    def note(self, text: str) -> None:
        """Append a muted note (escaped)."""
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
        """How many Plotly figures the page holds."""
        return sum(isinstance(b, go.Figure) for b in self.blocks)

    def render(self, data: DashboardData, currency: str) -> str:
        """The page as one HTML document (plotly.js inline once, no network needed)."""
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
