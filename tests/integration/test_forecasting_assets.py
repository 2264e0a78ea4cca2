"""The forecasting group on a small generated store: forecast, backtest, reorder lines,
buyer files and supply alerts, written by the daily job and shaped by storeops.yml."""

import csv

import dagster as dg
import duckdb
import polars as pl
import pytest
import yaml

from orchestration.settings import Settings
from tests.stores import copy_store

pytestmark = pytest.mark.integration


def query(settings, sql, params=None):
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        return con.sql(sql, params=params).pl()


@pytest.fixture(scope="module")
def run(long_history_store):
    """The shared long-history store (tests/stores.py), read only. Its storeops.yml
    auto-approves routine lines under $150 (a store's own rule) and asks a 99% service
    level for class A."""
    config = yaml.safe_load((long_history_store.home / "storeops.yml").read_text())
    assert config["replenishment"] == {"auto_approve_below": 150, "service_level": {"A": 0.99}}
    return long_history_store


def test_forecast_covers_every_active_sku_with_ordered_intervals(run):
    forecast = query(run, "select * from analytics.demand_forecast")
    skus = query(run, "select sku from marts.dim_products where status = 'active'")["sku"]
    assert set(forecast["unique_id"]) == set(skus)
    assert forecast.group_by("unique_id").len()["len"].unique().to_list() == [56]
    assert forecast.filter(~((pl.col("lo_95") <= pl.col("lo_80"))
                             & (pl.col("lo_80") <= pl.col("forecast"))
                             & (pl.col("forecast") <= pl.col("hi_80"))
                             & (pl.col("hi_80") <= pl.col("hi_95")))).is_empty()
    backtest = query(run, "select * from analytics.forecast_backtest")
    assert set(backtest["unique_id"]) == set(skus)
    scored = backtest.filter(pl.col("n_points") > 0)
    assert scored.height > 0
    assert scored.filter(pl.col("mase").is_null() | pl.col("mase_seasonal_naive").is_null()
                         | ~pl.col("coverage_80").is_between(0, 1)).is_empty()


def test_reorder_lines_respect_case_packs_moq_and_settings(run):
    lines = query(run, """
        select lines.*, products.case_pack as product_case_pack, products.moq_units as product_moq
        from analytics.reorder_suggestions as lines
        inner join marts.dim_products as products using (sku)
    """)
    assert lines.height > 0
    ordered = lines.filter(pl.col("suggested_qty") > 0)
    assert ordered.height > 0
    assert ordered.filter((pl.col("suggested_qty") % pl.col("product_case_pack") != 0)
                          | (pl.col("suggested_qty") < pl.col("product_moq"))).is_empty()
    assert set(lines["urgency"]) <= {"order_now", "order_soon", "healthy", "overstock"}
    assert ordered.filter(pl.col("reason").str.contains("lead time")).height == ordered.height
    auto = lines.filter(pl.col("auto_approved"))
    assert auto.filter((pl.col("line_value") >= 150) | (pl.col("urgency") == "order_now")).is_empty()


def test_buyer_files_match_the_suggestions_and_hold_no_customer_data(run):
    as_of = query(run, "select max(as_of_date) as d from analytics.reorder_suggestions")["d"][0]
    folder = run.home / "output" / "reorders" / as_of.isoformat()
    summary = pl.read_csv(folder / "summary.csv")
    lines = query(run, "select * from analytics.reorder_suggestions where suggested_qty > 0")
    assert summary["lines"].sum() == lines.height
    for supplier, count in lines.group_by("supplier_id").len().iter_rows():
        files = [p for p in folder.glob("*.csv") if p.name != "summary.csv"]
        rows = [r for f in files for r in csv.DictReader(f.open()) if r["sku"] in
                set(lines.filter(pl.col("supplier_id") == supplier)["sku"])]
        assert len(rows) == count
    text = "".join(p.read_text() for p in folder.glob("*.csv"))
    assert "@" not in text and "email" not in text.lower()


def test_storage_capacity_from_the_settings_cuts_orders(long_history_store, tmp_path):
    """A warehouse nearly full: a re-run with a capacity in storeops.yml orders only the room."""
    from orchestration.defs import forecasting
    from orchestration.defs.resources import resources_for

    # The re-run changes the store: a copy of the shared one.
    run = copy_store(long_history_store, tmp_path / "home")

    before = query(run, "select * from analytics.reorder_suggestions")
    location = query(run, "select location from marts.fct_inventory_daily limit 1")["location"][0]
    stocked = int(before.select(pl.col("on_hand").clip(lower_bound=0).sum()
                                + pl.col("on_order").sum()).item())
    wanted = int(before["suggested_qty"].sum())
    largest = int(before["suggested_qty"].max())
    room = wanted - 1  # one unit short: at least one line is cut
    config = yaml.safe_load((run.home / "storeops.yml").read_text())
    config["replenishment"]["storage_capacity"] = {location: stocked + room}
    (run.home / "storeops.yml").write_text(yaml.safe_dump(config))
    settings = Settings.load(run.home)
    result = dg.materialize([forecasting.reorder_suggestions], resources=resources_for(settings))
    assert result.success
    after = query(run, "select * from analytics.reorder_suggestions")
    assert wanted - largest <= after["suggested_qty"].sum() <= room
    cut = after.filter(pl.col("reason").str.contains(f"cut by the storage capacity of {location}"))
    assert cut.height > 0
    metadata = result.asset_materializations_for_node("analytics__reorder_suggestions")[0].metadata
    assert metadata["lines_cut_by_budget_or_storage"].value == cut.height
    assert metadata["service_level"].value["A"] == 0.99
