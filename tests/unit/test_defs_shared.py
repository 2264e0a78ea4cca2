"""The writers every asset module shares (orchestration/defs/shared.py), on a real DuckDB
and a real report document: a fault here breaks every run at its outputs."""

from datetime import date

import duckdb
import polars as pl

from dashboards.document import Document, Heading, Paragraph, Table
from orchestration.defs.shared import (
    markdown_table,
    write_document,
    write_evaluation,
    write_table,
)


def test_write_document_writes_the_same_report_as_markdown_and_html(tmp_path):
    doc = Document("Daily brief", "as of 2026-11-22").add(
        Heading("Sales"), Paragraph("Net sales 1,234.50 USD"),
        Table(("sku", "units"), (("A-1", "3"),), (False, True)))
    md, page = write_document(doc, tmp_path / "briefings", "2026-11-22")
    assert md == tmp_path / "briefings" / "2026-11-22.md"
    assert md.read_text() == doc.to_markdown()
    assert "# Daily brief" in md.read_text() and "| A-1 | 3 |" in md.read_text()
    assert page.read_text() == doc.to_html() and "<h2>Sales</h2>" in page.read_text()
    assert sorted(p.name for p in md.parent.iterdir()) == ["2026-11-22.html", "2026-11-22.md"]


def test_markdown_table_renders_rows_and_says_when_empty():
    frame = pl.DataFrame({"sku": ["A-1", "B-2"], "qty": [3, None]})
    assert markdown_table(frame) == "| sku | qty |\n|---|---|\n| A-1 | 3 |\n| B-2 |  |"
    assert markdown_table(frame.head(0)) == "_no lines_"


def test_write_evaluation_replaces_one_as_of_and_keeps_the_history():
    con = duckdb.connect()
    rows = pl.DataFrame({"model": ["a", "b"], "window": ["w1", "w1"], "population": ["all"] * 2,
                         "metric": ["mase"] * 2, "value": [0.9, 1.1]})
    write_evaluation(con, "forecast", date(2026, 11, 1), rows, "a")
    write_evaluation(con, "forecast", date(2026, 11, 8), rows, "b")
    write_evaluation(con, "forecast", date(2026, 11, 8), rows.head(1), "a")
    got = con.execute("select as_of_date, model, is_chosen from analytics.model_evaluation "
                      "order by as_of_date, model").fetchall()
    assert got == [(date(2026, 11, 1), "a", True), (date(2026, 11, 1), "b", False),
                   (date(2026, 11, 8), "a", True)]
    write_table(con, "t", pl.DataFrame({"x": [1, 2]}))
    assert con.execute("select sum(x) from analytics.t").fetchall() == [(3,)]
