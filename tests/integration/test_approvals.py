"""A buyer's returned reorder file becomes draft POs that count as stock on order."""

from datetime import date

import duckdb
import pytest

from orchestration.settings import Settings

pytestmark = pytest.mark.integration


def on_order(settings, sku):
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        return con.execute("select on_order from marts.fct_inventory_position where sku = ?",
                           [sku]).fetchall()[0][0]


def test_approved_lines_become_draft_purchase_orders(tmp_path, built_store):
    from orchestration.pipeline import execute_pipeline

    # Goes on from a good run of a store (copies of the shared built home and landing).
    assert built_store.run.returncode == 0
    home = built_store.copy_home(tmp_path / "home")
    settings = Settings.load(home, landing=built_store.copy_landing(tmp_path / "landing"))
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        sku, supplier = con.execute(
            "select sku, supplier_id from marts.dim_products where supplier_id is not null "
            "order by sku limit 1").fetchall()[0]
    before = on_order(settings, sku)

    approvals = settings.landing / "approvals"
    approvals.mkdir()
    (approvals / "returned.csv").write_text(
        f"sku,product,suggested_qty,approved_qty\n{sku},x,48,37\nSKU-NOT-APPROVED,y,12,\n")
    # The buyer approved today: the next run (as of today) counts the draft as on order.
    second = execute_pipeline(settings, as_of=date.today())
    assert second.success and not second.failed_checks

    assert on_order(settings, sku) == before + 37
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        drafts = con.execute(
            "select supplier_id, sku, qty_ordered, status, is_open from marts.fct_purchase_orders "
            "where is_draft").fetchall()
    assert drafts == [(supplier, sku, 37, "draft", True)]
