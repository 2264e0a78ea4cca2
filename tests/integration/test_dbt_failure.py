"""A dbt model that fails is reported (exit 1, the failing step named) and the marts of
the last good run stay readable; the outputs that depend on them are not rewritten."""

import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]
STOREOPS = str(Path(sys.executable).with_name("storeops"))


def storeops(*args, home):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("STOREOPS_", "DAGSTER_"))}
    return subprocess.run([STOREOPS, *args, "--home", str(home)], cwd=ROOT, env=env, text=True,
                          capture_output=True, timeout=900)


def test_a_failing_model_is_reported_and_the_last_marts_stay_readable(tmp_path):
    from orchestration.demo import generate_store

    generate_store(tmp_path, scale=0.02, days=90, seed=8)
    landing = str(tmp_path / "landing")
    assert storeops("run", "--landing", landing, home=tmp_path).returncode == 0
    warehouse = str(tmp_path / "warehouse.duckdb")
    with duckdb.connect(warehouse) as con:
        orders = con.execute("select count(*), sum(net_revenue) from marts.fct_orders").fetchall()[0]
        # Break the orders staging model: a column it selects disappears from raw (as a
        # vendor renaming a column in every export would do). One no data check reads, so
        # the failure reaches dbt (a column the suites read is stopped before, by gx_suite).
        con.execute("alter table raw.shopify_orders drop column note_attributes")
    brief = next((tmp_path / "output" / "briefings").glob("20*.md"))
    written = brief.stat().st_mtime_ns

    failed = storeops("run", "--landing", landing, home=tmp_path)
    assert failed.returncode == 1, failed.stdout[-2000:] + failed.stderr[-2000:]
    assert "The run failed" in failed.stderr or "Blocking checks failed" in failed.stderr
    # The failing step and what broke, not only "it failed".
    assert "warehouse_dbt_assets" in failed.stderr
    assert "note_attributes" in failed.stderr
    with duckdb.connect(warehouse, read_only=True) as con:
        assert con.execute("select count(*), sum(net_revenue) from marts.fct_orders").fetchall()[0] == orders
    assert brief.stat().st_mtime_ns == written  # no brief written from a broken build
