"""output/index.html: one page linking the latest brief, reports, dashboards and files.

`write_index(output_dir, *, as_of, currency)` looks at what is on disk under
output_dir (briefings/, dashboards/, reorders/<as_of>/, customers/<as_of>/, quality/) and
links the newest of each with relative links, so the folder can be shared or zipped.
"""

from __future__ import annotations

import html
from datetime import date, datetime
from pathlib import Path

from dashboards.document import PAGE
from dashboards.files import atomic_write_text

DASHBOARD_TITLES = {
    "overview": "Overview: revenue, orders, KPIs, open incidents",
    "marketing": "Marketing: spend, CAC, ROAS by channel",
    "inventory": "Inventory: forecasts, cover, what to reorder",
    "customers": "Customers: cohorts, churn segments, lifetime value",
    "support": "Support: tickets, first reply, CSAT",
}


def _newest(folder: Path, pattern: str) -> Path | None:
    files = sorted(folder.glob(pattern)) if folder.exists() else []
    return files[-1] if files else None


def _link(path: Path, root: Path, text: str) -> str:
    return f'<a href="{html.escape(path.relative_to(root).as_posix())}">{html.escape(text)}</a>'


def write_index(output_dir: Path, *, as_of: date, currency: str) -> Path:
    """Write `output_dir`/index.html: links to the latest brief, reports, dashboards,
    reorder and customer files found under `output_dir` for a manager opening the shared
    folder. Returns the index's path; creates `output_dir` if needed."""
    root = Path(output_dir)
    root.mkdir(parents=True, exist_ok=True)
    sections: list[str] = []

    briefings = root / "briefings"
    items = []
    daily = briefings / f"{as_of.isoformat()}.html"
    if daily.exists():
        items.append(_link(daily, root, f"Daily brief {as_of.isoformat()}")
                     + f' (<a href="{html.escape(daily.with_suffix(".md").relative_to(root).as_posix())}">md</a>)')
    weekly = _newest(briefings, "weekly-*.html")
    if weekly:
        items.append(_link(weekly, root, "Weekly report " + weekly.stem.removeprefix("weekly-")))
    monthly = _newest(briefings, "monthly-*.html")
    if monthly:
        items.append(_link(monthly, root, "Monthly report " + monthly.stem.removeprefix("monthly-")))
    earlier = sorted(p for p in briefings.glob("????-??-??.html") if p != daily) if briefings.exists() else []
    if earlier:
        items.append("Earlier briefs: " + ", ".join(_link(p, root, p.stem) for p in earlier[-7:][::-1]))
    sections.append(_section("Briefings", items, "No briefing written yet."))

    dashboards = root / "dashboards"
    items = [_link(dashboards / f"{name}.html", root, title)
             for name, title in DASHBOARD_TITLES.items() if (dashboards / f"{name}.html").exists()]
    sections.append(_section("Dashboards", items, "No dashboard written yet."))

    items = []
    reorders = root / "reorders" / as_of.isoformat()
    if reorders.exists():
        summary = reorders / "summary.csv"
        if summary.exists():
            items.append(_link(summary, root, "Reorder summary across suppliers (CSV)"))
        for xlsx in sorted(reorders.glob("*.xlsx")):
            items.append(_link(xlsx, root, f"{xlsx.stem} (XLSX)") + " · "
                         + _link(xlsx.with_suffix(".csv"), root, "CSV"))
    sections.append(_section(f"Reorder files for {as_of.isoformat()}", items,
                             "No reorder file for this date."))

    items = []
    customers = root / "customers" / as_of.isoformat()
    for name, text in (("win_back.csv", "Win-back list: high-value customers at risk (hashed ids)"),
                       ("replenishment_reminders.csv", "Replenishment reminders for the next 14 days")):
        if (customers / name).exists():
            items.append(_link(customers / name, root, text))
    sections.append(_section("Customer lists", items, "No customer list for this date."))

    quality = root / "quality"
    report = _newest(quality, "*.html") or _newest(quality, "*.md")
    sections.append(_section("Data quality",
                             [_link(report, root, "Data-quality report")] if report else [],
                             "No data-quality report yet."))

    body = (f"<h1>storeops — {as_of:%A %d %B %Y}</h1>"
            f'<p class="subtitle">Everything as of {as_of.isoformat()} (currency {html.escape(currency)}); '
            f"written {datetime.now():%Y-%m-%d %H:%M}.</p>" + "".join(sections))
    path = root / "index.html"
    atomic_write_text(path, PAGE.format(title="storeops", body=body))
    return path


def _section(title: str, items: list[str], empty: str) -> str:
    inner = ("<ul>" + "".join(f"<li>{i}</li>" for i in items) + "</ul>") if items \
        else f'<p class="note">{html.escape(empty)}</p>'
    return f"<h2>{html.escape(title)}</h2>{inner}"
