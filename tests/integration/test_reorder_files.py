"""Buyer files: per-supplier CSV and XLSX with the DESIGN.md columns, and summary.csv."""

from datetime import date

import openpyxl
import polars as pl

from dashboards.reorder_files import BUYER_COLUMNS, write_reorder_files


def suggestions() -> pl.DataFrame:
    base = {
        "on_hand": 5, "on_order": 0, "committed": 1, "daily_forecast": 2.5, "lead_time_days": 21.0,
        "safety_stock": 12.0, "reorder_point": 64.5, "days_of_cover": 1.6,
        "projected_stockout_date": date(2026, 11, 24), "unit_cost": 4.0, "approved_qty": None,
    }
    rows = [
        {"sku": "A-1", "supplier_id": "Acme Co.", "product": "Tee", "suggested_qty": 48,
         "line_value": 192.0, "urgency": "order_now", "reason": "stock covers 2 days, lead time 21 days"},
        {"sku": "A-2", "supplier_id": "Acme Co.", "product": "Mug", "suggested_qty": 12,
         "line_value": 48.0, "urgency": "order_soon", "reason": "reaches reorder point in 5 days"},
        {"sku": "A-3", "supplier_id": "Acme Co.", "product": "Cap", "suggested_qty": 0,
         "line_value": 0.0, "urgency": "healthy", "reason": "covers 40 days"},
        {"sku": "B-1", "supplier_id": "Beta/Partners", "product": "Tea", "suggested_qty": 24,
         "line_value": 96.0, "urgency": "order_soon", "reason": "reaches reorder point in 3 days"},
    ]
    return pl.DataFrame([{**base, **r} for r in rows])


def test_files_per_supplier_with_buyer_columns(tmp_path, snapshot):
    out = tmp_path / "reorders" / "2026-11-22"
    summary = write_reorder_files(suggestions(), out, as_of=date(2026, 11, 22), currency="USD")
    assert sorted(p.name for p in out.iterdir()) == [
        "Acme_Co.csv", "Acme_Co.xlsx", "Beta_Partners.csv", "Beta_Partners.xlsx", "summary.csv"]
    acme = pl.read_csv(out / "Acme_Co.csv")
    assert acme.columns == BUYER_COLUMNS
    assert acme.columns == snapshot
    # Only lines to order, most urgent first; approved_qty left blank for the buyer.
    assert acme["sku"].to_list() == ["A-1", "A-2"]
    assert acme["approved_qty"].null_count() == 2
    assert summary.select("supplier", "lines", "order_now_lines", "units", "order_value").rows() == [
        ("Acme Co.", 2, 1, 60, 240.0), ("Beta/Partners", 1, 0, 24, 96.0)]
    assert pl.read_csv(out / "summary.csv").height == 2
    assert not list(out.glob(".*")), "temporary files left behind"


def test_xlsx_is_made_for_a_person(tmp_path):
    out = tmp_path / "r"
    write_reorder_files(suggestions(), out, as_of=date(2026, 11, 22))
    book = openpyxl.load_workbook(out / "Acme_Co.xlsx")
    assert book.sheetnames == ["Order now", "Order soon", "All lines"]
    sheet = book["All lines"]
    assert [c.value for c in sheet[4]] == BUYER_COLUMNS
    assert sheet.freeze_panes == "C5"
    assert sheet["A7"].value == "Total"
    qty_col = BUYER_COLUMNS.index("suggested_qty") + 1
    value_col = BUYER_COLUMNS.index("line_value") + 1
    assert sheet.cell(row=7, column=qty_col).value == 60
    assert sheet.cell(row=7, column=value_col).value == 240.0
    assert "USD" in sheet.cell(row=5, column=value_col).number_format
