"""A small generated store through Dagster: everything lands, nothing doubles."""

import dagster as dg
import duckdb
import pytest

from quality.specs import SPECS

pytestmark = pytest.mark.integration


def raw_counts(warehouse):
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return {
            s.table: con.execute(f"select count(*) from raw.{s.table}").fetchall()[0][0]
            for s in SPECS
        } | {
            "quarantine": con.execute("select count(*) from raw.quarantine").fetchall()[0][0],
            "load_log": con.execute("select count(*) from raw.load_log").fetchall()[0][0],
        }


def test_materialize_ingest_twice_loads_everything_once(small_store):
    from orchestration.pipeline import load_definitions

    defs = load_definitions(small_store)
    job = defs.resolve_job_def("ingest_job")
    with dg.DagsterInstance.ephemeral() as instance:
        first = job.execute_in_process(instance=instance)
        assert first.success
        checks = first.get_asset_check_evaluations()
        # Per raw table: row conservation, no file mostly quarantined, and its Great
        # Expectations suite.
        assert sorted(c.check_name for c in checks) == sorted(
            ["gx_suite", "rows_in_equal_loaded_plus_quarantined",
             "file_not_mostly_quarantined"] * len(SPECS))
        assert all(c.passed for c in checks), [c.description for c in checks if not c.passed]
        events = {e.asset_key.path[-1]: e.materialization.metadata
                  for e in first.get_asset_materialization_events()}
        after_first = raw_counts(small_store.warehouse_path)
        second = job.execute_in_process(instance=instance)
        assert second.success
    assert raw_counts(small_store.warehouse_path) == after_first

    # Every vendor source of the demo store has rows, and the metadata says how many.
    for table in ["shopify_orders", "shopify_products", "shopify_inventory", "shopify_customers",
                  "meta_ads", "google_ads", "tiktok_ads", "zendesk_tickets", "gorgias_tickets",
                  "purchasing_suppliers", "purchasing_sku_suppliers",
                  "purchasing_purchase_orders", "analytics_sessions", "analytics_promotions"]:
        assert after_first[table] > 0, table
        assert events[table]["rows_loaded"].value == after_first[table]
        assert events[table]["files_rejected"].value == 0
    # The generator writes clean exports: nothing should be quarantined.
    assert after_first["quarantine"] == 0

    with duckdb.connect(str(small_store.warehouse_path), read_only=True) as con:
        # Overlapping quarterly exports: the same order appears in two files (staging dedups).
        dup = con.execute(
            "select count(*) from (select name from raw.shopify_orders where total is not null "
            "group by name having count(distinct _file_sha256) > 1)"
        ).fetchall()[0][0]
        assert dup > 0
        # Google's Total rows are not data.
        assert con.execute(
            "select count(*) from raw.google_ads where campaign like 'Total%' or day is null"
        ).fetchall()[0][0] == 0
        # Meta's currency came from the column name.
        assert con.execute("select distinct currency from raw.meta_ads").fetchall() == [("USD",)]
