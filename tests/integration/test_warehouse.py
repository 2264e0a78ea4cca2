"""The whole daily job on a small generated store: raw -> dbt marts, with dbt tests as checks."""

import dagster as dg
import duckdb
import pytest

pytestmark = pytest.mark.integration

MARTS = ["dim_customers", "fct_orders", "fct_order_lines", "dim_products", "fct_inventory_daily",
         "fct_sku_demand_daily", "fct_inventory_position", "fct_purchase_orders",
         "fct_marketing_daily", "fct_support_tickets", "fct_daily_kpis"]


@pytest.fixture(scope="module")
def built(built_store, tmp_path_factory):
    """The shared reference store (tests/integration/conftest.py: one clean `storeops run`
    of the daily job) and what its run recorded in the home's Dagster instance: whether it
    succeeded, and every asset check evaluation (read from a copy of the home)."""
    from orchestration.pipeline import home_instance
    from orchestration.settings import Settings

    home = built_store.copy_home(tmp_path_factory.mktemp("warehouse") / "home")
    settings = Settings.load(home, landing=built_store.landing)
    with home_instance(settings) as instance:
        (run,) = instance.get_runs()
        assert run.job_name == "daily_job"
        records = instance.get_records_for_run(
            run.run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION).records
    evaluations = [r.event_log_entry.dagster_event.event_specific_data for r in records]
    return settings, run.status == dg.DagsterRunStatus.SUCCESS, evaluations


def test_every_mart_is_built_and_populated(built):
    settings, succeeded, _ = built
    assert succeeded
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        for mart in MARTS:
            assert con.execute(f"select count(*) from marts.{mart}").fetchall()[0][0] > 0, mart


def test_dbt_docs_are_written_under_the_home(built):
    settings, _, _ = built
    page = settings.home / "dbt_docs" / "static_index.html"
    assert page.exists() and "fct_orders" in page.read_text()


def test_dbt_tests_ran_as_passing_asset_checks(built):
    _, _, evaluations = built
    dbt_checks = [e for e in evaluations if e.asset_key.path[0] in ("staging", "marts")]
    assert len(dbt_checks) >= 20
    failed = [f"{e.asset_key.to_user_string()}:{e.check_name}" for e in evaluations if not e.passed]
    assert not failed


def test_no_raw_email_leaves_the_customer_dimension(built):
    settings, _, _ = built
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        cols = {r[0]: r[1] for r in con.execute(
            "select table_name, string_agg(column_name, ',') from information_schema.columns "
            "where table_schema = 'marts' group by 1").fetchall()}
    # Only dim_customers (warehouse-only) carries the email; facts carry the hashed id.
    assert [t for t, c in cols.items() if "email" in c.split(",")] == ["dim_customers"]
