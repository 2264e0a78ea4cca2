"""Budget advice on the shared long-history store (tests/stores.py, 420 days, scale
0.02): every paid channel gets a row that either carries a curve or says why not, the
suggested budgets keep today's total, and the held-out check is recorded."""

import duckdb
import polars as pl
import pytest

pytestmark = pytest.mark.integration


def query(settings, sql):
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        return con.sql(sql).pl()


def test_every_paid_channel_gets_advice_or_a_reason(long_history_store):
    table = query(long_history_store, "select * from analytics.budget_recommendations")
    paid = query(long_history_store, """
        select channel from marts.fct_channel_daily group by 1 having sum(spend) > 0""")
    assert set(table["channel"]) == set(paid["channel"]) and table.height > 0
    assert set(table["status"]) <= {"advice", "keep", "no_curve"}
    no_curve = table.filter(pl.col("status") == "no_curve")
    assert no_curve["reason"].is_not_null().all()
    assert no_curve["marginal_new_customers_per_100"].is_null().all()
    assert (no_curve["suggested_spend"] == no_curve["current_spend"]).all()
    fitted = table.filter(pl.col("status") != "no_curve")
    assert (fitted["marginal_lo"] <= fitted["marginal_new_customers_per_100"]).all()
    assert (fitted["marginal_new_customers_per_100"] <= fitted["marginal_hi"]).all()
    # The advice moves money, it does not add any.
    assert table["suggested_spend"].sum() == pytest.approx(table["current_spend"].sum(), rel=1e-6)
    assert table["headline"].n_unique() == 1 and len(table["headline"][0]) > 20
    # The spend the advice starts from is the last 28 days' spend of the mart.
    spend = query(long_history_store, """
        select channel, sum(spend)::double / 28 as spend from marts.fct_channel_daily
        where channel_date > (select max(channel_date) from marts.fct_channel_daily) - 28
        group by 1""")
    joined = table.join(spend, on="channel")
    assert joined["current_spend"].to_list() == pytest.approx(joined["spend"].to_list())


def test_the_curves_held_out_weeks_are_compared_with_a_constant_cac(long_history_store):
    rows = query(long_history_store, """
        select * from analytics.model_evaluation where task = 'budget_response'""")
    table = query(long_history_store, "select * from analytics.budget_recommendations")
    if table.filter(pl.col("status") != "no_curve").is_empty():
        pytest.skip("no channel of this small store supports a curve")
    assert set(rows["model"]) == {"response_curve", "constant_cac"}
    assert "all" in set(rows["population"])
    assert (rows["value"] >= 0).all()
