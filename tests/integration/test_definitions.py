"""The code location loads and has the asset graph DESIGN.md promises."""

import os

import dagster as dg
import pytest

from orchestration.definitions import build_definitions
from orchestration.definitions import defs as code_location
from orchestration.settings import Settings
from quality.specs import SPECS


@pytest.fixture(scope="module")
def defs(tmp_path_factory):
    return build_definitions(Settings.load(tmp_path_factory.mktemp("home")))


def test_raw_assets_keys_groups_and_pool(defs):
    graph = defs.resolve_asset_graph()
    raw_keys = {dg.AssetKey(["raw", s.table]) for s in SPECS}
    assert raw_keys <= set(graph.get_all_asset_keys())
    for key in raw_keys:
        node = graph.get(key)
        assert node.group_name == "ingest"
        assert node.pools == {"duckdb_write"}


def test_each_raw_table_has_a_blocking_row_conservation_check(defs):
    checks = defs.resolve_asset_graph().asset_check_keys
    for spec in SPECS:
        key = dg.AssetCheckKey(dg.AssetKey(["raw", spec.table]), "rows_in_equal_loaded_plus_quarantined")
        assert key in checks


def test_jobs_schedule_and_sensor(defs):
    assert defs.resolve_job_def("ingest_job") is not None
    assert defs.resolve_job_def("daily_job") is not None
    schedule = defs.resolve_schedule_def("daily_at_six")
    assert schedule.cron_schedule == "0 6 * * *"
    assert defs.resolve_sensor_def("new_landing_files_sensor") is not None


def test_dbt_models_join_the_graph_in_group_warehouse(defs):
    graph = defs.resolve_asset_graph()
    keys = set(graph.get_all_asset_keys())
    for mart in ["dim_customers", "fct_orders", "fct_daily_kpis", "fct_sku_demand_daily"]:
        key = dg.AssetKey(["marts", mart])
        assert key in keys
        assert graph.get(key).group_name == "warehouse"
        assert graph.get(key).pools == {"duckdb_write"}
    # Staging reads the ingest assets: one graph from landing files to marts.
    staging = graph.get(dg.AssetKey(["staging", "stg_shopify__orders"]))
    assert dg.AssetKey(["raw", "shopify_orders"]) in staging.parent_keys


def test_forecasting_assets_in_their_group_and_the_write_pool(defs):
    graph = defs.resolve_asset_graph()
    keys = [dg.AssetKey(["analytics", name]) for name in
            ("demand_forecast", "forecast_backtest", "reorder_suggestions", "supply_alerts")]
    keys.append(dg.AssetKey(["output", "reorder_files"]))
    for key in keys:
        node = graph.get(key)
        assert node.group_name == "forecasting", key
        # Each writes the warehouse (reorder_files its file log), so each queues for it.
        assert node.pools == {"duckdb_write"}, key


def test_customer_assets_in_their_group_and_the_write_pool(defs):
    graph = defs.resolve_asset_graph()
    keys = [dg.AssetKey(["analytics", name]) for name in ("churn_scores", "product_repurchase",
                                                           "next_product")]
    keys.append(dg.AssetKey(["output", "customer_lists"]))
    for key in keys:
        node = graph.get(key)
        assert node.group_name == "customers", key
        assert node.pools == {"duckdb_write"}, key
    churn = graph.get(dg.AssetKey(["analytics", "churn_scores"]))
    assert dg.AssetKey(["marts", "fct_orders"]) in churn.parent_keys
    next_product = graph.get(dg.AssetKey(["analytics", "next_product"]))
    assert {dg.AssetKey(["marts", "fct_inventory_position"]),
            dg.AssetKey(["analytics", "product_repurchase"])} <= next_product.parent_keys
    check = dg.AssetCheckKey(dg.AssetKey(["analytics", "churn_scores"]), "churn_model_beats_recency")
    assert check in graph.asset_check_keys
    # The audience files only read the warehouse: no queue for the write pool.
    audiences = graph.get(dg.AssetKey(["output", "audiences"]))
    assert audiences.group_name == "customers" and not audiences.pools
    assert dg.AssetKey(["analytics", "churn_scores"]) in audiences.parent_keys


def test_anomalies_asset_in_its_group_and_the_write_pool(defs):
    node = defs.resolve_asset_graph().get(dg.AssetKey(["analytics", "anomalies"]))
    assert node.group_name == "anomalies"
    assert node.pools == {"duckdb_write"}
    assert dg.AssetKey(["marts", "fct_daily_kpis"]) in node.parent_keys
    fatigue = defs.resolve_asset_graph().get(dg.AssetKey(["analytics", "creative_alerts"]))
    assert (fatigue.group_name, fatigue.pools) == ("anomalies", {"duckdb_write"})
    assert dg.AssetKey(["marts", "fct_ad_daily"]) in fatigue.parent_keys


def test_outputs_group_reads_the_analytics_it_reports(defs):
    graph = defs.resolve_asset_graph()
    for name in ("daily_brief", "weekly_report", "monthly_report", "dashboards", "index"):
        node = graph.get(dg.AssetKey(["output", name]))
        assert node.group_name == "outputs", name
    brief = graph.get(dg.AssetKey(["output", "daily_brief"]))
    for upstream in (["analytics", "reorder_suggestions"], ["analytics", "anomalies"],
                     ["analytics", "creative_alerts"], ["marts", "fct_daily_kpis"]):
        assert dg.AssetKey(upstream) in brief.parent_keys
    weekly = graph.get(dg.AssetKey(["output", "weekly_report"]))
    for upstream in (["analytics", "budget_recommendations"], ["analytics", "creative_alerts"],
                     ["output", "audiences"]):  # its "Spend and audiences" section
        assert dg.AssetKey(upstream) in weekly.parent_keys, upstream
    dashboards = graph.get(dg.AssetKey(["output", "dashboards"]))
    assert dg.AssetKey(["analytics", "budget_recommendations"]) in dashboards.parent_keys
    index = graph.get(dg.AssetKey(["output", "index"]))
    assert dg.AssetKey(["output", "reorder_files"]) in index.parent_keys


def test_the_code_location_reads_storeops_yml_once_into_its_resources(tmp_path, monkeypatch):
    """`dagster dev -m orchestration.definitions` finds its home in $STOREOPS_HOME (storeops
    ui sets it for that process); the settings reach the assets as the store resource, and
    building the definitions changes nothing in this process' environment."""
    home = tmp_path / "home"
    home.mkdir()
    (home / "storeops.yml").write_text(
        "timezone: Europe/London\ncurrency: GBP\n"
        "replenishment: {budget_per_cycle: 5000, service_level: {A: 0.99}}\n")
    monkeypatch.setenv("STOREOPS_HOME", str(home))
    before = dict(os.environ)
    loaded = code_location()
    assert dict(os.environ) == before
    store = loaded.resources["store"]
    assert (store.home, store.timezone, store.currency) == (str(home), "Europe/London", "GBP")
    assert store.replenishment.budget_per_cycle == 5000
    assert store.replenishment.service_level == {"A": 0.99}
    assert loaded.resolve_schedule_def("daily_at_six").execution_timezone == "Europe/London"
