"""The daily brief, the weekly and monthly reports and the index on small generated
stores: files written by the daily job, stable headings, numbers in the narrative that
are numbers in the tables, and sensible pages for stores short of data."""

import re
from datetime import timedelta

import duckdb
import pytest

from dashboards.document import Paragraph, Table

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


def test_weekly_narrative_quotes_only_numbers_from_its_tables(store):
    from dashboards.briefings import WEEKLY_SECTIONS, weekly_report
    from orchestration.defs.outputs import last_complete_week

    last = last_complete_week(as_of_of(store))
    with connect(store) as con:
        for weeks_back in range(6):
            doc = weekly_report(con, week_start=last - timedelta(weeks=weeks_back), currency="USD")
            assert tuple(doc.headings()) == WEEKLY_SECTIONS
            summary = next(b for b in doc.blocks if isinstance(b, Paragraph))
            cells = {cell for b in doc.blocks if isinstance(b, Table) for row in b.rows for cell in row}
            # Money, percentages, points and plain counts quoted in the sentences.
            quoted = re.findall(r"[+-]?\$?\d{1,3}(?:,\d{3})*(?:\.\d+)?(?:%| pts)?", summary.text)
            quoted = [q for q in quoted if any(ch.isdigit() for ch in q)
                      and not re.fullmatch(r"\d{4}", q)]  # years in dates are not figures
            assert quoted, summary.text
            for figure in quoted:
                assert any(figure in cell for cell in cells), (figure, summary.text)


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
    assert (bare_store.output_dir / "briefings" / f"{as_of.isoformat()}.html").exists()
    assert (bare_store.output_dir / "index.html").exists()
