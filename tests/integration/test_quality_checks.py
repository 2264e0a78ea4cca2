"""The Great Expectations suites run as blocking checks in the real pipeline: bad supplier
terms stop the warehouse build and every output after it (exit 1, the check, file and
row named, the last good files kept, the quality report says why), a few bad order rows
only warn, and the supplier's corrected re-export releases the outputs again."""

import csv
import io
from pathlib import Path

import duckdb
import pytest

from orchestration.harness import storeops, suppliers_with_lead_time

pytestmark = pytest.mark.integration


def odd_orders(landing: Path) -> str:
    """Two more orders copied from the first one: one dated 2031 (a clock error), one
    with a payment status Shopify does not have."""
    path = min((landing / "shopify" / "orders").glob("*.csv"))
    rows = list(csv.reader(path.open(encoding="utf-8-sig")))
    header, first = rows[0], rows[1]
    out = [header]
    for i, (field, value) in enumerate([("Created at", "2031-01-01 10:00:00 +0000"),
                                        ("Financial Status", "disputed")]):
        row = list(first)
        row[header.index("Name")] = f"#ODD-{i}"
        if "Id" in header:
            row[header.index("Id")] = f"9999999999{i}"
        row[header.index(field)] = value
        out.append(row)
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(out)
    return buf.getvalue()


def test_bad_supplier_terms_block_outputs_and_a_corrected_file_releases_them(tmp_path,
                                                                              built_store):
    # Goes on from a good run of the store (copies of the shared built home and landing).
    landing = built_store.copy_landing(tmp_path / "landing")
    home = built_store.copy_home(tmp_path / "home")
    output = home / "output"
    brief = next((output / "briefings").glob("20*.md"))
    summary = next((output / "reorders").glob("*/summary.csv"))
    written = {p: p.stat().st_mtime_ns for p in (brief, summary)}
    report = output / "quality" / "index.md"
    assert "All blocking checks passed" in report.read_text()

    # A supplier file arrives with a negative lead time, and an orders export with one
    # future-dated order (quarantined at load) and one unknown payment status (0.1% of
    # rows: a warning, not a stop).
    (landing / "purchasing" / "suppliers_2.csv").write_text(suppliers_with_lead_time(landing, "-5"))
    (landing / "shopify" / "orders" / "orders_late.csv").write_text(odd_orders(landing))
    blocked = storeops("run", "--landing", str(landing), home=home)
    assert blocked.returncode == 1, blocked.stdout[-3000:] + blocked.stderr[-3000:]
    err = " ".join(blocked.stderr.split())
    assert "Blocking checks failed" in err
    assert "raw/purchasing_suppliers: gx_suite" in err
    assert "purchasing/suppliers_2.csv row 1 (-5)" in err, err
    assert "look at landing/purchasing/" in err
    out = " ".join(blocked.stdout.split())
    assert "Data warning raw/shopify_orders: gx_suite" in out, out[-3000:]
    assert "orders_late.csv row 2 (disputed)" in out
    # Nothing was written from the bad terms: last good files untouched, marts not rebuilt.
    assert {p: p.stat().st_mtime_ns for p in written} == written
    text = report.read_text()
    assert "**Outputs were stopped**" in text
    assert "raw/purchasing_suppliers: gx_suite (blocking, stops reorder suggestions" in text
    assert "lead time is between 0 and 365 days" in text
    assert "raw/shopify_orders: gx_suite (warning)" in text
    assert "| shopify_orders | Created at | column 'Created at': '2031-01-01 10:00:00 +0000' is outside the export window" in text

    # The supplier sends the corrected file: the newest file wins, the outputs come back.
    (landing / "purchasing" / "suppliers_3.csv").write_text(suppliers_with_lead_time(landing, "21"))
    fixed = storeops("run", "--landing", str(landing), home=home)
    assert fixed.returncode == 0, fixed.stdout[-3000:] + fixed.stderr[-3000:]
    assert summary.stat().st_mtime_ns > written[summary]
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as con:
        supplier = next(csv.reader(io.StringIO(suppliers_with_lead_time(landing, "21")).readlines()[1:]))[0]
        lead = con.execute("select lead_time_days from marts.dim_products where supplier_id = ? "
                           "limit 1", [supplier]).fetchall()
    assert lead and lead[0][0] == 21
    text = report.read_text()
    assert "All blocking checks passed" in text
    history = next(line for line in text.splitlines()
                   if line.startswith("| raw/purchasing_suppliers | gx_suite |"))
    assert history.rstrip(" |").endswith("✓✗✓"), history
