"""The daily brief, the weekly and monthly reports and the index on small generated
stores: files written by the daily job, stable headings, numbers in the narrative that
are numbers in the tables, and sensible pages for stores short of data."""

import re
from datetime import timedelta

import duckdb
import pytest

from dashboards.document import Note, Paragraph, Table

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def store(long_history_store):
    """The shared long-history store (tests/stores.py, 420 days), read only."""
    return long_history_store


@pytest.fixture(scope="module")
def bare_store(long_history_store_without_sessions_or_ads):
    """No sessions export and no ad platforms (shared, read only)."""
    return long_history_store_without_sessions_or_ads


def connect(settings):
    return duckdb.connect(str(settings.warehouse_path), read_only=True)


def as_of_of(settings):
    with connect(settings) as con:
        return con.execute("select max(kpi_date) from marts.fct_daily_kpis").fetchall()[0][0]


def test_daily_job_writes_brief_reports_and_index(store):
    from orchestration.defs.outputs import last_complete_month, last_complete_week

    as_of = as_of_of(store)
    out = store.output_dir
    assert (out / "briefings" / f"{as_of.isoformat()}.md").exists()
    assert (out / "briefings" / f"{as_of.isoformat()}.html").exists()
    year, week, _ = last_complete_week(as_of).isocalendar()
    assert (out / "briefings" / f"weekly-{year}-W{week:02d}.html").exists()
    assert (out / "briefings" / f"monthly-{last_complete_month(as_of):%Y-%m}.html").exists()
    index = (out / "index.html").read_text()
    for target in (f"briefings/{as_of.isoformat()}.html", "dashboards/overview.html",
                   f"reorders/{as_of.isoformat()}/summary.csv"):
        assert f'href="{target}"' in index, target
        assert (out / target).exists()


def test_daily_brief_headings(store, snapshot):
    from dashboards.briefings import DAILY_SECTIONS, daily_brief

    with connect(store) as con:
        doc = daily_brief(con, as_of=as_of_of(store), currency="USD")
    assert tuple(doc.headings()) == DAILY_SECTIONS
    assert doc.headings() == snapshot
    html = doc.to_html()
    assert "<table>" in html and "@" not in doc.to_markdown()


def test_weekly_narrative_quotes_only_numbers_from_its_tables(store, snapshot):
    from dashboards.briefings import WEEKLY_SECTIONS, weekly_report
    from orchestration.defs.outputs import last_complete_week

    last = last_complete_week(as_of_of(store))
    with connect(store) as con:
        for weeks_back in range(6):
            doc = weekly_report(con, week_start=last - timedelta(weeks=weeks_back), currency="USD",
                                audiences_dir=store.output_dir / "audiences")
            assert tuple(doc.headings()) == WEEKLY_SECTIONS
            if weeks_back == 0:
                assert doc.headings() == snapshot  # a change of sections is deliberate
            summary = next(b for b in doc.blocks if isinstance(b, Paragraph))
            cells = {cell for b in doc.blocks if isinstance(b, Table) for row in b.rows for cell in row}
            # Money, percentages, points and plain counts quoted in the sentences.
            quoted = re.findall(r"[+-]?\$?\d{1,3}(?:,\d{3})*(?:\.\d+)?(?:%| pts)?", summary.text)
            quoted = [q for q in quoted if any(ch.isdigit() for ch in q)
                      and not re.fullmatch(r"\d{4}", q)]  # years in dates are not figures
            assert quoted, summary.text
            for figure in quoted:
                assert any(figure in cell for cell in cells), (figure, summary.text)


def _section(doc, heading: str) -> list:
    """The blocks under `heading`, up to the next heading."""
    from dashboards.document import Heading

    start = next(i for i, b in enumerate(doc.blocks) if isinstance(b, Heading) and b.text == heading)
    end = next((i for i, b in enumerate(doc.blocks[start + 1:], start + 1)
                if isinstance(b, Heading)), len(doc.blocks))
    return doc.blocks[start + 1:end]


def test_weekly_spend_and_audiences_section_reads_the_advice_alerts_and_manifest(store):
    """The section shows the run's budget advice (headline and one row per paid channel),
    the held-out check against a constant CAC, the live creative alerts and the audience
    counts of the newest manifest, and no person; an older week says the advice is not
    its own."""
    import csv

    from dashboards.briefings import weekly_report
    from dashboards.document import money
    from orchestration.defs.outputs import last_complete_week

    as_of = as_of_of(store)
    week = last_complete_week(as_of)
    with connect(store) as con:
        doc = weekly_report(con, week_start=week, currency="USD",
                            audiences_dir=store.output_dir / "audiences")
        advice = con.execute("select channel, current_spend, suggested_spend, status, headline "
                             "from analytics.budget_recommendations "
                             "order by current_spend desc").fetchall()
        holdout = dict(con.execute(
            "select model, value from analytics.model_evaluation where task = 'budget_response' "
            "and population = 'all' and as_of_date = ?", [as_of]).fetchall())
        alerts = con.execute("select ad_name, first_alert_date from analytics.creative_alerts "
                             "where as_of_date = ?", [as_of]).fetchall()
        older = weekly_report(con, week_start=week - timedelta(weeks=3), currency="USD",
                              audiences_dir=store.output_dir / "audiences")
    blocks = _section(doc, "Spend and audiences")
    texts = [b.text for b in blocks if isinstance(b, Paragraph | Note)]
    tables = [b for b in blocks if isinstance(b, Table)]

    assert advice, "the shared store has paid channels: budget_recommendations has rows"
    assert f"**Budget** (as of {as_of}): {advice[0][4]}" in texts
    budget = next(t for t in tables if t.columns[0] == "Channel")
    assert [(r[0], r[1], r[2]) for r in budget.rows] == [
        (c, money(now, "USD"), money(suggested, "USD")) for c, now, suggested, _, _ in advice]
    for row, (_, _, _, status, _) in zip(budget.rows, advice, strict=True):
        assert row[-1].startswith({"advice": "move", "keep": "keep", "no_curve": "no curve"}[status])
    if holdout:
        check = next(t for t in texts if t.startswith("How good"))
        assert f"by {holdout['response_curve']:,.1f} a week" in check
        assert f"against {holdout['constant_cac']:,.1f} for a constant cost" in check

    if alerts:
        creatives = next(t for t in tables if t.columns[0] == "Ad")
        assert len(creatives.rows) == min(len(alerts), 8)
        assert {(r[0], r[6]) for r in creatives.rows} <= {(a, str(d)) for a, d in alerts}
    else:
        assert any(t.startswith("No creative is wearing out") for t in texts), texts

    manifest = list(csv.DictReader(
        (store.output_dir / "audiences" / as_of.isoformat() / "manifest.csv").open()))
    audiences = next(t for t in tables if t.columns[0] == "Segment")
    shown = {(row[0], column): cell for row in audiences.rows
             for column, cell in zip(audiences.columns[1:], row[1:], strict=True)}
    for entry in manifest:
        column = {"meta": "Meta", "google": "Google", "klaviyo": "Klaviyo (consenting)",
                  "tiktok": "TikTok (phone)" if entry["file"].endswith("_phone.csv")
                  else "TikTok (email)"}[entry["platform"]]
        assert shown.pop((entry["segment"], column)) == f"{int(entry['rows']):,}"
    assert set(shown.values()) <= {"—"}  # every other cell: no such file
    assert "@" not in doc.to_markdown() and "@" not in doc.to_html()

    # A week whose report was written by an earlier run: the advice is not its own.
    said = [b.text for b in _section(older, "Spend and audiences") if isinstance(b, Note)]
    assert any(t.startswith(f"The budget advice in the warehouse is as of {as_of}") for t in said)


def test_one_week_of_data_gives_notes_not_errors(store):
    from dashboards.briefings import daily_brief, weekly_report

    with connect(store) as con:
        first = con.execute("select min(kpi_date) from marts.fct_daily_kpis").fetchall()[0][0]
        as_of = first + timedelta(days=7)
        brief = daily_brief(con, as_of=as_of, currency="USD").to_markdown()
        monday = first + timedelta(days=(7 - first.weekday()) % 7)
        weekly = weekly_report(con, week_start=monday, currency="USD").to_markdown()
    assert "Not enough history for last year's comparison." in brief
    assert "Not enough history for a week-over-week comparison." in weekly


def test_store_without_sessions_or_ads(bare_store):
    from dashboards.briefings import daily_brief

    as_of = as_of_of(bare_store)
    with connect(bare_store) as con:
        brief = daily_brief(con, as_of=as_of, currency="USD").to_markdown()
    assert "No sessions export: conversion rate is not available." in brief
    assert "No ad spend in the data: ROAS and CAC are not available." in brief
    from dashboards.briefings import weekly_report
    from orchestration.defs.outputs import last_complete_week

    with connect(bare_store) as con:
        weekly = weekly_report(con, week_start=last_complete_week(as_of), currency="USD",
                               audiences_dir=bare_store.output_dir / "audiences")
    said = [b.text for b in _section(weekly, "Spend and audiences")
            if isinstance(b, Paragraph | Note)]
    assert said[0].startswith("No budget advice: no paid channel spent"), said
    assert "No creative is wearing out." in said
    assert (bare_store.output_dir / "briefings" / f"{as_of.isoformat()}.html").exists()
    assert (bare_store.output_dir / "index.html").exists()
