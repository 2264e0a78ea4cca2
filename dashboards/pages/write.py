"""`write_dashboards`: the five pages built and written together."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from dashboards.files import atomic_write_text
from dashboards.pages.customers import customers
from dashboards.pages.data import DashboardData
from dashboards.pages.figures import Money
from dashboards.pages.inventory import inventory
from dashboards.pages.marketing import marketing
from dashboards.pages.overview import overview
from dashboards.pages.shell import PAGES, Page
from dashboards.pages.support import support


def write_dashboards(data: DashboardData, out_dir: Path, *, as_of: date, currency: str
                     ) -> dict[str, Path]:
    """Write the five dashboard pages into `out_dir`; returns page name -> path."""
    if as_of != data.as_of:
        raise ValueError(f"data was loaded as of {data.as_of}, not {as_of}: "
                         "call load_dashboard_data with the same as_of")
    out_dir = Path(out_dir)
    cur = Money(currency)
    builders = {"overview": overview, "marketing": marketing, "inventory": inventory,
                "customers": customers, "support": support}
    paths: dict[str, Path] = {}
    for name in PAGES:
        page = Page(name)
        builders[name](page, data, cur)
        path = out_dir / f"{name}.html"
        atomic_write_text(path, page.render(data, currency))
        paths[name] = path
    return paths
