"""The five dashboards, opened in headless Chromium: every chart draws, nothing is logged to
the console, and the edge stores (a week of history, no sessions and no ads, analytics
tables missing) still give five readable pages. Screenshots go to the test's tmp_path."""

import html
import re
import shutil
import subprocess
from dataclasses import dataclass
from datetime import date, timedelta
from html.parser import HTMLParser
from pathlib import Path

import duckdb
import pytest

from dashboards.pages.data import load_dashboard_data
from dashboards.pages.figures import NOT_ENOUGH_HISTORY
from dashboards.pages.shell import PAGES
from dashboards.pages.write import write_dashboards

pytestmark = pytest.mark.integration

CHROMIUM = shutil.which("chromium")
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None, reason="no chromium binary on PATH (the Makefile installs it)")

# Charts each page of the full demo store must draw at least.
MIN_FIGURES = {"overview": 2, "marketing": 5, "inventory": 4, "customers": 4, "support": 3}
CURVES_TITLE = "New customers per day against ad spend per day, per paid channel"
ANALYTICS_TABLES = ("anomalies", "demand_forecast", "reorder_suggestions", "churn_scores",
                    "supply_alerts")


@pytest.fixture(scope="module")
def warehouse(long_history_store) -> Path:
    """The shared long-history store's warehouse (tests/stores.py, 420 days), read only."""
    return long_history_store.warehouse_path


@pytest.fixture(scope="module")
def warehouse_without_sessions_or_ads(long_history_store_without_sessions_or_ads) -> Path:
    """The same store built without its sessions export and ad platforms, read only."""
    return long_history_store_without_sessions_or_ads.warehouse_path


def write_pages(warehouse: Path, out_dir: Path, as_of: date | None = None
                ) -> tuple[dict[str, Path], object]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        if as_of is None:
            as_of = con.execute("select max(kpi_date) from marts.fct_daily_kpis").fetchall()[0][0]
        data = load_dashboard_data(con, as_of)
    paths = write_dashboards(data, out_dir, as_of=as_of, currency="USD")
    assert sorted(paths) == sorted(PAGES)
    return paths, data


class _Elements(HTMLParser):
    """Counts elements by class and collects links; script text (plotly.js mentions all of
    these names) is not markup."""

    def __init__(self):
        super().__init__()
        self.classes: dict[str, int] = {}
        self.links: list[str] = []

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if name == "class" and value:
                for css in value.split():
                    key = f"{tag}.{css}"
                    self.classes[key] = self.classes.get(key, 0) + 1
            if name in ("src", "href") and value:
                self.links.append(f"{tag} {name}={value}")


def parse(markup: str) -> _Elements:
    parser = _Elements()
    parser.feed(markup)
    return parser


def count_elements(markup: str) -> dict[str, int]:
    return parse(markup).classes


@dataclass
class Rendered:
    figures_written: int  # plotly divs in the file
    figures_declared: int  # <meta name="storeops-figures">
    plots_drawn: int  # divs Plotly.newPlot turned into plots, after the scripts ran
    svgs: int  # Plotly's main-svg elements
    console: list[str]  # every console message (Chromium logs them all as INFO)
    text: str  # the DOM after the scripts ran

    def problems(self) -> list[str]:
        out = [f"console: {line}" for line in self.console]
        if self.plots_drawn != self.figures_written:
            out.append(f"{self.plots_drawn} of {self.figures_written} charts drew")
        if self.figures_declared != self.figures_written:
            out.append(f"page declares {self.figures_declared} charts, holds "
                       f"{self.figures_written}")
        if self.svgs < self.plots_drawn:
            out.append(f"only {self.svgs} Plotly SVGs for {self.plots_drawn} charts")
        return out


def render(page: Path, screenshot: Path | None = None) -> Rendered:
    """Open the page in headless Chromium, let the scripts run, return what it drew and
    logged; optionally save a full-page screenshot."""
    common = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
              "--disable-extensions", "--hide-scrollbars",
              f"--user-data-dir={page.parent / ('.chromium-' + page.stem)}",
              "--virtual-time-budget=15000",
              # Offline: every host lookup fails, so a chart that needs a CDN cannot draw.
              "--host-resolver-rules=MAP * ~NOTFOUND"]
    result = subprocess.run(
        [*common, "--enable-logging=stderr", "--v=0", "--dump-dom", page.resolve().as_uri()],
        capture_output=True, text=True, timeout=180, check=False)
    assert result.returncode == 0, result.stderr[-2000:]
    console = [line for line in result.stderr.splitlines() if ":CONSOLE" in line]
    static = page.read_text()
    written = count_elements(static).get("div.plotly-graph-div", 0)
    declared = int(re.search(r'<meta name="storeops-figures" content="(\d+)">', static).group(1))
    drawn = count_elements(result.stdout)
    if screenshot is not None:
        shot = subprocess.run([*common, "--window-size=1400,2400", f"--screenshot={screenshot}",
                               page.resolve().as_uri()], capture_output=True, text=True, check=False,
                              timeout=180)
        assert shot.returncode == 0 and screenshot.exists(), shot.stderr[-2000:]
    return Rendered(written, declared, drawn.get("div.js-plotly-plot", 0),
                    drawn.get("svg.main-svg", 0), console, result.stdout)


def assert_self_contained(page: Path) -> None:
    """Nothing to fetch: no script, stylesheet, image or font from elsewhere (and the browser
    check runs with every host name unresolvable)."""
    static = page.read_text()
    elements = parse(static)
    figures = elements.classes.get("div.plotly-graph-div", 0)
    # plotly.js inlined exactly once: the first chart carries it, the others reuse it.
    assert static.count("plotly.js v") == (1 if figures else 0), page.name
    assert all(not link.startswith(("script", "link", "img")) for link in elements.links), \
        elements.links
    assert "@font-face" not in static and "fonts.googleapis" not in static
    assert "<link" not in static.split("<script", 1)[0]
    for other in PAGES:
        assert f"a href={other}.html" in elements.links, (other, elements.links)
    assert "a href=../index.html" in elements.links


@needs_chromium
def test_full_store_dashboards_draw_every_chart(warehouse, tmp_path):
    paths, data = write_pages(warehouse, tmp_path / "dashboards")

    for name, page in paths.items():
        assert_self_contained(page)
        assert page.stat().st_size < 6_000_000, f"{name} is {page.stat().st_size} bytes"
        rendered = render(page, tmp_path / f"{name}.png")
        assert rendered.problems() == [], name
        assert rendered.figures_written >= MIN_FIGURES[name], name
        assert f"as of <strong>{data.as_of:%Y-%m-%d}</strong>" in rendered.text

    overview = paths["overview"].read_text()
    assert "$" in overview and "vs prior 7 days" in overview
    assert "Revenue and orders per day, with the same weekdays last year" in overview
    assert "Reorder suggestions as of" in paths["inventory"].read_text()

    # Each paid channel's response curve, with today's and the suggested spend on it, and
    # the marginal-return table: one row per paid channel of the budget advice.
    marketing = paths["marketing"].read_text()
    budget, curves = data.budget, data.budget_curves
    with_curve = budget.filter(budget["status"] != "no_curve")["channel"].to_list()
    assert with_curve, "the shared store's paid channels have curves"
    assert CURVES_TITLE in marketing
    assert html.escape(budget["headline"][0]) in marketing
    for channel in with_curve:
        points = curves.filter(curves["channel"] == channel)
        assert points["is_current"].sum() == 1 and points["is_suggested"].sum() == 1, channel
    assert marketing.count('<table class="data">') >= 1
    assert "Return of the next $1" in marketing
    assert ("Creatives wearing out" in marketing
            and ("Alerted since" in marketing or "No creative is wearing out." in marketing))


@needs_chromium
def test_dashboards_hold_no_customer_level_data(warehouse, tmp_path):
    paths, _ = write_pages(warehouse, tmp_path / "dashboards")
    with duckdb.connect(str(warehouse), read_only=True) as con:
        customers = con.execute("select customer_id, email from marts.dim_customers "
                                "where email is not null order by net_revenue desc limit 50"
                                ).fetchall()
    assert customers
    for page in paths.values():
        text = page.read_text()
        for customer_id, email in customers:
            assert email not in text and customer_id not in text, page.name


@needs_chromium
def test_a_week_of_history_gives_notes_instead_of_charts(warehouse, tmp_path):
    with duckdb.connect(str(warehouse), read_only=True) as con:
        first = con.execute("select min(order_date) from marts.fct_orders").fetchall()[0][0]
    as_of = first + timedelta(days=7)
    paths, data = write_pages(warehouse, tmp_path / "dashboards", as_of)

    # Replaying a past date reads nothing after it.
    assert data.daily["kpi_date"].max() <= as_of
    assert data.channels["channel_date"].max() <= as_of
    assert data.anomalies.filter(data.anomalies["date"] > as_of).is_empty()
    assert data.forecast_as_of is None and data.reorder_as_of is None and data.churn_as_of is None
    for name, page in paths.items():
        assert_self_contained(page)
        rendered = render(page, tmp_path / f"{name}.png")
        assert rendered.problems() == [], name
        assert NOT_ENOUGH_HISTORY in rendered.text, name
    # The budget advice was computed after this date: the page says so instead of a chart.
    assert data.budget_as_of is None and not data.budget.height
    marketing = paths["marketing"].read_text()
    assert CURVES_TITLE not in marketing
    assert "No budget advice: the budget response curves in the warehouse were computed as of" \
        in marketing


@needs_chromium
def test_store_without_sessions_or_ads(warehouse_without_sessions_or_ads, tmp_path):
    paths, _ = write_pages(warehouse_without_sessions_or_ads, tmp_path / "dashboards")

    for name, page in paths.items():
        assert_self_contained(page)
        rendered = render(page, tmp_path / f"{name}.png")
        assert rendered.problems() == [], name
    marketing = paths["marketing"].read_text()
    assert "No ad spend in the data yet" in marketing
    assert "Spend, CAC and ROAS" not in marketing
    overview = paths["overview"].read_text()
    assert "no sessions export" in overview
    assert "conversion rate per day" not in overview


@needs_chromium
def test_missing_analytics_tables_still_give_five_pages(warehouse, tmp_path):
    copy = tmp_path / "warehouse.duckdb"
    shutil.copyfile(warehouse, copy)
    with duckdb.connect(str(copy)) as con:
        for table in (*ANALYTICS_TABLES, "creative_alerts"):
            con.execute(f"drop table if exists analytics.{table}")
        # Budget advice where no channel's data supports a curve: words, not a chart.
        con.execute("update analytics.budget_recommendations set status = 'no_curve', "
                    "reason = '90 days of spend; a curve needs 120'")
    paths, data = write_pages(copy, tmp_path / "dashboards")

    assert set(data.unavailable) >= {"analytics.anomalies", "analytics.demand_forecast",
                                     "analytics.reorder_suggestions", "analytics.churn_scores",
                                     "analytics.creative_alerts"}
    for name, page in paths.items():
        assert_self_contained(page)
        rendered = render(page, tmp_path / f"{name}.png")
        assert rendered.problems() == [], name
    assert "have not been built on this store yet" in paths["inventory"].read_text()
    assert "No churn segments" in paths["customers"].read_text()
    marketing = paths["marketing"].read_text()
    assert CURVES_TITLE not in marketing
    assert "No response curve (as of" in marketing
    assert "meta: 90 days of spend; a curve needs 120" in marketing
    assert "No creative alerts: the creative fatigue alerts have not been built" in marketing


@needs_chromium
def test_the_browser_check_catches_console_errors_and_charts_that_do_not_draw(warehouse,
                                                                              tmp_path):
    paths, _ = write_pages(warehouse, tmp_path / "dashboards")
    page = paths["overview"]
    good = render(page)
    assert good.problems() == [] and good.plots_drawn >= 2

    logged = tmp_path / "dashboards" / "logged.html"
    logged.write_text(page.read_text().replace(
        "</body>", '<script>console.error("injected dashboard failure")</script></body>'))
    problems = render(logged).problems()
    assert any("injected dashboard failure" in p for p in problems), problems

    # Break the last chart's script: the page must report one chart fewer and the error.
    text = page.read_text()
    cut = text.rindex("Plotly.newPlot(")
    broken = tmp_path / "dashboards" / "broken.html"
    broken.write_text(text[:cut] + "Plotly.notAFunction(" + text[cut + len("Plotly.newPlot("):])
    rendered = render(broken)
    assert rendered.plots_drawn == good.plots_drawn - 1
    problems = rendered.problems()
    assert any("charts drew" in p for p in problems), problems
    assert any(p.startswith("console:") and "notAFunction" in p for p in problems), problems
