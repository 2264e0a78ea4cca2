"""Property: for any file, rows in = rows loaded + rows quarantined, and nothing is invented."""

import csv
import io

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from orchestration.ingest.parse import parse_frame
from orchestration.ingest.readers import read_csv_text
from quality.specs import PURCHASING_PURCHASE_ORDERS, SHOPIFY_ORDERS

# Cells that are sometimes valid and sometimes not, for every kind the specs use.
cell = st.one_of(
    st.sampled_from(["", "12", "-3", "1,204.50", "$19.99", "abc", "nan", "2026-11-01",
                     "11/15/2026", "2026-13-45", "yes", "(5.00)", "1e309", " 7 "]),
    st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
            max_size=12),
)

PO_HEADER = ["po_number", "supplier", "sku", "qty_ordered", "qty_received", "ordered_at",
             "expected_at", "received_at", "status"]


def to_csv(header, rows):
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    w.writerows(rows)
    return buf.getvalue()


def non_blank(rows):
    return [r for r in rows if any(c.strip() for c in r)]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.lists(cell, min_size=len(PO_HEADER), max_size=len(PO_HEADER)), max_size=25))
def test_purchase_orders_rows_in_equal_loaded_plus_quarantined(rows):
    text = to_csv(PO_HEADER, rows)
    read = read_csv_text(PURCHASING_PURCHASE_ORDERS, text, "purchasing/po.csv")
    parsed = parse_frame(PURCHASING_PURCHASE_ORDERS, read.frame, read.header, timezone="UTC")
    assert read.rows_in == len(non_blank(rows))
    assert parsed.good.height + parsed.bad.height == read.rows_in
    # Each input row lands once: the row numbers of good and bad rows partition the input.
    seen = parsed.good["_source_row"].to_list() + parsed.bad["source_row"].to_list()
    assert len(seen) == len(set(seen))
    assert parsed.bad["reason"].null_count() == 0


SHOPIFY_COLS = ["Name", "Created at", "Total", "Lineitem quantity", "Lineitem price", "Lineitem sku"]


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["#1", "#2", "#3"]), cell, cell, cell), max_size=20))
def test_shopify_orders_load_or_quarantine_whole_orders(lines):
    rows = [[name, "2026-11-01 09:00:00 -0500", total, qty, price, "SKU-1"]
            for name, total, qty, price in lines]
    read = read_csv_text(SHOPIFY_ORDERS, to_csv(SHOPIFY_COLS, rows), "o.csv")
    parsed = parse_frame(SHOPIFY_ORDERS, read.frame, read.header, timezone="UTC")
    assert parsed.good.height + parsed.bad.height == read.rows_in == len(rows)
    bad_orders = set(read.frame.filter(
        read.frame["_source_row"].is_in(parsed.bad["source_row"].implode())
    )["name"].to_list())
    # No order is split between the raw table and quarantine.
    assert not bad_orders & set(parsed.good["name"].to_list())
