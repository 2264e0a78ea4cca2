"""The raw loader against a real DuckDB file: idempotency, lineage, transactions, bad files."""

from datetime import date
from pathlib import Path

import duckdb
import pytest

from orchestration.ingest import loader
from orchestration.ingest.loader import ensure_schema, ingest_landing
from quality.specs import SPECS

SUPPLIERS = "supplier,lead_time_days,lead_time_std_days,moq_units,case_pack,order_cycle_days,currency\n"
POS = "po_number,supplier,sku,qty_ordered,qty_received,ordered_at,expected_at,received_at,status\n"


def write(path: Path, text: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, str):
        text = text.encode()
    path.write_bytes(text)
    return path


def count(con, sql: str) -> int:
    return con.execute(sql).fetchall()[0][0]


@pytest.fixture
def con(tmp_path):
    c = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    yield c
    c.close()


def run(con, landing):
    results = ingest_landing(con, landing, run_id="test", timezone="UTC")
    return {r.table: r for r in results}


def test_every_spec_has_a_raw_table_with_lineage(con):
    ensure_schema(con)
    for spec in SPECS:
        cols = [r[0] for r in con.execute(
            "select column_name from information_schema.columns "
            "where table_schema='raw' and table_name=?", [spec.table]).fetchall()]
        assert {"_source_file", "_source_row", "_file_sha256", "_loaded_at"} <= set(cols)


def test_rerun_is_a_noop_and_same_content_under_another_name_is_skipped(con, tmp_path):
    landing = tmp_path / "landing"
    write(landing / "purchasing/suppliers.csv", SUPPLIERS + "Acme,21,3,100,12,7,USD\nBeta,x,3,1,1,7,USD\n")
    first = run(con, landing)["purchasing_suppliers"]
    assert (first.rows_loaded, first.rows_quarantined) == (1, 1)
    write(landing / "purchasing/suppliers copy.csv",
          (landing / "purchasing/suppliers.csv").read_bytes())
    second = run(con, landing)["purchasing_suppliers"]
    assert [f.status for f in second.files] == ["skipped", "skipped"]
    assert "same content as purchasing/suppliers.csv" in second.files[0].message
    assert count(con, "select count(*) from raw.purchasing_suppliers") == 1
    assert count(con, "select count(*) from raw.quarantine") == 1
    assert count(con, "select count(*) from raw.load_log where status='loaded'") == 1
    row = con.execute("select _source_file, _source_row, length(_file_sha256) "
                      "from raw.purchasing_suppliers").fetchall()
    assert row == [("purchasing/suppliers.csv", 1, 64)]
    q = con.execute("select source_file, source_row, column_name, reason from raw.quarantine").fetchall()
    assert q == [("purchasing/suppliers.csv", 2, "lead_time_days",
                  "column 'lead_time_days': 'x' is not a number")]


def test_twins_new_in_the_same_batch_load_once_in_name_order(con, tmp_path):
    # The next file is parsed while the previous one is written (loader.PARSE_AHEAD):
    # a twin parsed before its first copy was committed must still be skipped, and the
    # results keep the files' name order.
    landing = tmp_path / "landing"
    body = SUPPLIERS + "Acme,21,3,100,12,7,USD\n"
    write(landing / "purchasing/suppliers_a.csv", body)
    write(landing / "purchasing/suppliers_b.csv", body)
    write(landing / "purchasing/suppliers_c.csv", SUPPLIERS + "Beta,14,2,50,6,7,USD\n")
    write(landing / "purchasing/suppliers_d.csv", "")
    write(landing / "purchasing/suppliers_e.csv", body)
    result = run(con, landing)["purchasing_suppliers"]
    assert [(f.path.split("/")[1], f.status) for f in result.files] == [
        ("suppliers_a.csv", "loaded"), ("suppliers_b.csv", "skipped"),
        ("suppliers_c.csv", "loaded"), ("suppliers_d.csv", "rejected"),
        ("suppliers_e.csv", "skipped")]
    assert result.files[1].message == "same content as purchasing/suppliers_a.csv, already loaded"
    assert count(con, "select count(*) from raw.purchasing_suppliers") == 2
    assert count(con, "select count(*) from raw.load_log where status = 'loaded'") == 2


def test_a_file_is_one_transaction(con, tmp_path, monkeypatch):
    landing = tmp_path / "landing"
    write(landing / "purchasing/po.csv", POS + "PO-1,Acme,SKU-1,10,0,2026-11-01,2026-11-20,,open\n"
                                          "PO-1,Acme,SKU-2,zz,0,2026-11-01,2026-11-20,,open\n")

    def crash(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(loader, "_log", crash)
    with pytest.raises(RuntimeError):
        run(con, landing)
    # Rows and quarantine were inserted before the crash and rolled back with it.
    assert count(con, "select count(*) from raw.purchasing_purchase_orders") == 0
    assert count(con, "select count(*) from raw.quarantine") == 0
    monkeypatch.undo()
    result = run(con, landing)["purchasing_purchase_orders"]
    assert (result.rows_loaded, result.rows_quarantined) == (1, 1)


def test_bad_files_are_reported_and_never_stop_the_others(con, tmp_path):
    landing = tmp_path / "landing"
    write(landing / "purchasing/empty.csv", "")
    write(landing / "purchasing/latin1.csv", b"supplier,lead_time_days\nCaf\xe9,1\n")
    write(landing / "purchasing/header_only.csv", POS)
    write(landing / "purchasing/unknown.csv", "foo,bar\n1,2\n")
    write(landing / "meta_ads/zendesk.csv",
          "Id,Requester email,Status,Created at\n1,a@example.com,open,2026-11-01 09:00:00\n")
    write(landing / "purchasing/suppliers.csv", SUPPLIERS + "Acme,21,3,100,12,7,USD\n")
    results = run(con, landing)
    files = {f.path: f for r in results.values() for f in r.files}
    assert files["purchasing/empty.csv"].status == "rejected"
    assert "is empty" in files["purchasing/empty.csv"].message
    assert "not UTF-8" in files["purchasing/latin1.csv"].message
    assert files["purchasing/header_only.csv"].status == "loaded"
    assert files["purchasing/header_only.csv"].message == "header only, no data rows"
    assert "matches none of the files expected here" in files["purchasing/unknown.csv"].message
    assert "move it to zendesk/" in files["meta_ads/zendesk.csv"].message
    assert files["purchasing/suppliers.csv"].rows_loaded == 1
    # Each file is reported once, by one raw table.
    assert sum(len(r.files) for r in results.values()) == 6
    # A rejected file is logged once, not on every run.
    run(con, landing)
    assert count(con, "select count(*) from raw.load_log where status='rejected'") == 4


def test_new_vendor_columns_are_added_as_text(con, tmp_path):
    landing = tmp_path / "landing"
    write(landing / "analytics/s1.csv", "date,channel,sessions\n2026-11-01,meta,10\n")
    write(landing / "analytics/s2.csv", "date,channel,sessions,bounce rate\n2026-11-02,meta,11,40%\n")
    run(con, landing)
    rows = con.execute("select date::varchar, sessions, bounce_rate from raw.analytics_sessions "
                       "order by date").fetchall()
    assert rows == [("2026-11-01", 10, None), ("2026-11-02", 11, "40%")]


def test_inventory_snapshot_date_from_file_name_or_rejected(con, tmp_path):
    landing = tmp_path / "landing"
    header = ("Handle,Title,SKU,Location,Incoming (not editable),Unavailable (not editable),"
              "Committed (not editable),Available (not editable),On hand (current),On hand (new)\n")
    write(landing / "shopify/inventory/inventory_2026-11-01.csv",
          header + "tee,Tee,SKU-1,Main,0,0,1,9,10,\n")
    write(landing / "shopify/inventory/inventory.csv", header + "tee,Tee,SKU-1,Main,0,0,1,9,10,\n")
    result = run(con, landing)["shopify_inventory"]
    by_path = {f.path: f for f in result.files}
    assert by_path["shopify/inventory/inventory_2026-11-01.csv"].rows_loaded == 1
    assert "cannot tell which day" in by_path["shopify/inventory/inventory.csv"].message
    assert con.execute("select as_of::varchar, on_hand from raw.shopify_inventory").fetchall() == [
        ("2026-11-01", 10)
    ]


def test_returned_reorder_files_csv_and_xlsx_are_read(con, tmp_path):
    from datetime import date

    import openpyxl

    from dashboards.reorder_files import write_reorder_files
    from tests.integration.test_reorder_files import suggestions

    out = tmp_path / "reorders"
    write_reorder_files(suggestions(), out, as_of=date(2026, 11, 22))
    landing = tmp_path / "landing"
    (landing / "approvals").mkdir(parents=True)
    # The buyer fills approved_qty in Excel (the "All lines" sheet) and in the CSV.
    book = openpyxl.load_workbook(out / "Acme_Co.xlsx")
    sheet = book["All lines"]
    approved_col = [c.value for c in sheet[4]].index("approved_qty") + 1
    sheet.cell(row=5, column=approved_col, value=60)
    book.save(landing / "approvals" / "Acme_Co.xlsx")
    csv_text = (out / "Beta_Partners.csv").read_text().splitlines()
    csv_text[1] = csv_text[1] + "24"
    (landing / "approvals" / "Beta_Partners.csv").write_text("\n".join(csv_text) + "\n")

    result = run(con, landing)["approvals_reorder_lines"]
    assert [f.status for f in result.files] == ["loaded", "loaded"]
    rows = con.execute("select _source_file, sku, approved_qty from raw.approvals_reorder_lines "
                       "order by 1, 2").fetchall()
    assert rows == [("approvals/Acme_Co.xlsx", "A-1", 60), ("approvals/Acme_Co.xlsx", "A-2", None),
                    ("approvals/Beta_Partners.csv", "B-1", 24)]


ORDERS = ("Name,Email,Currency,Total,Created at,Lineitem quantity,Lineitem price,Lineitem sku,"
          "Id\n")


def test_exact_repeated_rows_load_once_and_balance(con, tmp_path):
    from quality.reconcile import file_balances, reconcile

    landing = tmp_path / "landing"
    write(landing / "shopify/orders/orders_export_1.csv", ORDERS
          + "#1001,a@x.com,USD,40,2026-11-20 10:00:00 -0500,1,10,SOP,1\n"
          + "#1001,,,,2026-11-20 10:00:00 -0500,1,30,TWL,\n"
          + "#1002,b@x.com,USD,10,2026-11-21 10:00:00 -0500,1,10,SOP,2\n"
          + "#1001,,,,2026-11-20 10:00:00 -0500,1,30,TWL,\n")
    [f] = run(con, landing)["shopify_orders"].files
    assert (f.rows_in, f.rows_loaded, f.rows_quarantined, f.rows_duplicate) == (4, 3, 0, 1)
    assert f.message == "1 exact repeat of earlier rows loaded once (row 4 repeats row 2)"
    assert con.execute("select rows_duplicate, message from raw.load_log").fetchall() == [
        (1, "1 exact repeat of earlier rows loaded once (row 4 repeats row 2)")]
    [balance] = file_balances(con, "shopify_orders")
    assert (balance.duplicates, balance.missing) == (1, 0)
    r = reconcile(con)
    assert (r.rows_in, r.rows_loaded, r.rows_duplicate, r.rows_lost) == (4, 3, 1, 0)


def test_scientific_notation_ids_are_a_warning_in_the_load_log(con, tmp_path):
    landing = tmp_path / "landing"
    write(landing / "shopify/orders/orders_export_1.csv", ORDERS + "".join(
        f"#600{i},a@x.com,USD,10,2026-11-2{i} 10:00:00 -0500,1,10,SOP,5.81234E+12\n"
        for i in (1, 2, 3)))
    [f] = run(con, landing)["shopify_orders"].files
    assert f.rows_loaded == 3
    expected = (
        "shopify/orders/orders_export_1.csv: column 'Id' holds 5.81234E+12 on rows 1-3: a "
        "spreadsheet turned the 13-digit order ids into scientific notation and lost digits. "
        "Orders are keyed on Name instead. Export again from Shopify and load the file as "
        "downloaded (do not open and save it in a spreadsheet)")
    # (The helper's store timezone is UTC: the -05:00 offsets get their own warning.)
    assert f.warnings[0] == expected
    [(stored,)] = con.execute("select warnings from raw.load_log").fetchall()
    assert stored.split("\n") == f.warnings


def test_meta_freshness_reads_the_reports_end_and_a_non_daily_file_is_rejected(con, tmp_path):
    landing = tmp_path / "landing"
    write(landing / "meta_ads/daily.csv",
          "Reporting starts,Reporting ends,Day,Campaign name,Amount spent (USD)\n"
          "2026-11-01,2026-11-22,2026-11-21,A,5.00\n"
          "2026-11-01,2026-11-22,2026-11-22,A,6.00\n")
    write(landing / "meta_ads/meta_november.csv",
          "Reporting starts,Reporting ends,Campaign name,Amount spent (USD)\n"
          "2026-11-01,2026-11-22,A,640.00\n2026-11-01,2026-11-22,B,210.00\n")
    result = run(con, landing)["meta_ads"]
    daily, november = result.files
    assert (daily.status, daily.min_date, daily.max_date) == ("loaded", date(2026, 11, 21),
                                                              date(2026, 11, 22))
    assert result.last_date == date(2026, 11, 22)
    assert november.status == "rejected"
    assert "(850.00 USD spent in all)" in november.message
    assert "Breakdown > By time > Day" in november.message


def test_an_old_load_log_gains_the_new_columns(con):
    con.execute("create schema raw")
    con.execute("create table raw.load_log (run_id varchar, source varchar not null, "
                "source_file varchar not null, file_sha256 varchar not null, file_bytes bigint, "
                "file_modified_at timestamp, status varchar not null, rows_in bigint, "
                "rows_loaded bigint, rows_quarantined bigint, summary_rows bigint, "
                "min_date date, max_date date, message varchar, loaded_at timestamp not null)")
    ensure_schema(con)
    ensure_schema(con)
    cols = [r[0] for r in con.execute("select column_name from information_schema.columns "
                                      "where table_name = 'load_log'").fetchall()]
    assert cols[-2:] == ["rows_duplicate", "warnings"]


def test_a_file_mostly_quarantined_blocks_until_it_is_replaced(con, tmp_path):
    from orchestration.defs.ingest import mostly_quarantined_files

    landing = tmp_path / "landing"
    path = write(landing / "purchasing/suppliers.csv",
                 SUPPLIERS + "Acme,x,3,1,1,7,USD\nBeta,y,3,1,1,7,USD\n")
    run(con, landing)
    [found] = mostly_quarantined_files(con, "purchasing_suppliers", landing)
    assert (found["file"], found["rows_in"], found["rows_quarantined"], found["share"],
            found["column"], found["first_row"]) == (
        "purchasing/suppliers.csv", 2, 2, 1.0, "lead_time_days", 1)
    assert found["reason"] == "column 'lead_time_days': 'x' is not a number"
    write(path, SUPPLIERS + "Acme,21,3,1,1,7,USD\nBeta,14,3,1,1,7,USD\n")
    run(con, landing)
    assert mostly_quarantined_files(con, "purchasing_suppliers", landing) == []
    assert mostly_quarantined_files(duckdb.connect(), "purchasing_suppliers", landing) == []
