"""Contribution margins of the demo store against its answer key (demo_truth/orders.parquet,
profit.json), to the cent: the cost of goods at the cost in effect on each order's date
(three products snapshots, two supplier price rises), labels from the ShipStation export
(split shipments, voided labels, return labels, a pasted row), fees from the Shopify
Payments export (one file with `$` amounts) and the storeops.yml rates for PayPal and
Afterpay, and per-order fulfilment costs that change in the window. Then the payout
reconciliation, the label exceptions and where people see the ladder."""

from __future__ import annotations

import json
from decimal import Decimal

import duckdb
import polars as pl
import pytest

pytestmark = pytest.mark.integration

CENT = Decimal("0.01")


@pytest.fixture(scope="module")
def demo(built_store):
    """The shared reference store (90 days, one clean `storeops run`), the warehouse's
    fct_order_profit joined to the answer key, and profit.json."""
    truth = pl.read_parquet(built_store.landing.parent / "demo_truth" / "orders.parquet")
    key = json.loads((built_store.landing.parent / "demo_truth" / "profit.json").read_text())
    with duckdb.connect(str(built_store.home / "warehouse.duckdb"), read_only=True) as con:
        profit = con.sql("select * from marts.fct_order_profit").pl()
    joined = truth.filter(~pl.col("is_test")).join(profit, on="order_name", how="full",
                                                   suffix="_w")
    return built_store, joined, key


def _cents(frame: pl.DataFrame, column: str) -> list:
    return [None if v is None else Decimal(v).quantize(CENT) for v in frame[column]]


def test_every_order_has_its_margin_inputs(demo):
    _, joined, _ = demo
    assert joined.filter(pl.col("order_name").is_null() | pl.col("order_name_w").is_null()).height == 0
    for column in ("net_sales", "cogs", "payment_fees"):
        assert _cents(joined, column) == _cents(joined, f"{column}_w"), column


def test_labels_and_fulfilment_to_the_cent_and_estimates_only_for_orders_not_shipped(demo):
    _, joined, _ = demo
    estimated = joined.filter(pl.col("estimated_costs").is_not_null())
    # Orders the exports show unshipped carry an estimate (the answer key has no label yet).
    assert estimated.height > 0
    assert set(_cents(estimated, "shipping_cost")) == {Decimal("0.00")}
    assert set(_cents(estimated, "fulfilment_cost")) == {Decimal("0.00")}
    known = joined.filter(pl.col("estimated_costs").is_null())
    for column in ("shipping_cost", "fulfilment_cost", "contribution_margin_1",
                   "contribution_margin_2"):
        assert _cents(known, column) == _cents(known, f"{column}_w"), column


def test_contribution_margin_2_of_each_complete_month_to_the_cent(demo):
    built_store, joined, _ = demo
    # CM2 computed from the answer key's parts: net sales - COGS - (labels - shipping
    # recovered) - fees - fulfilment, over the orders whose every cost is known.
    expected = (joined.filter(pl.col("contribution_margin_2").is_not_null())
                .with_columns(month=pl.col("order_date").dt.truncate("1mo"))
                .group_by("month").agg(
                    (pl.col("net_sales") - pl.col("cogs") + pl.col("shipping")
                     - pl.col("refunded_shipping") - pl.col("shipping_cost")
                     - pl.col("payment_fees") - pl.col("fulfilment_cost")).sum().alias("cm2")))
    with duckdb.connect(str(built_store.home / "warehouse.duckdb"), read_only=True) as con:
        months = con.execute("""
            select profit_month, sum(contribution_margin_2), min(profit_month) = (
                select min(date_trunc('month', order_date)) from marts.fct_orders)
            from marts.fct_profit_monthly group by 1 order by 1""").fetchall()
        last = con.execute("select max(order_date) from marts.fct_orders").fetchone()[0]
    # complete months: not the first (it starts mid-month) nor the last (still shipping)
    complete = [(m, v) for m, v, first in months if not first and m.month != last.month]
    assert len(complete) >= 2
    by_month = dict(zip(expected["month"], expected["cm2"], strict=True))
    for month, cm2 in complete:
        assert Decimal(cm2).quantize(CENT) == Decimal(by_month[month]).quantize(CENT), month


def test_unknown_labels_are_null_and_listed(demo):
    built_store, joined, key = demo
    unknown = joined.filter(pl.col("contribution_margin_2_w").is_null())
    assert sorted(unknown["order_name"]) == sorted(key["orders_shipped_without_label"])
    assert set(unknown["missing_costs"]) == {"shipping label"}
    with duckdb.connect(str(built_store.home / "warehouse.duckdb"), read_only=True) as con:
        exceptions = con.execute("select exception, reference from marts.fct_shipping_exceptions"
                                 ).fetchall()
    assert sorted(r for e, r in exceptions if e == "label_without_order") == sorted(
        key["labels_without_order"])
    assert sorted(r for e, r in exceptions if e == "shipped_without_label") == sorted(
        key["orders_shipped_without_label"])


def test_every_payout_reconciles(demo):
    built_store, _, _ = demo
    with duckdb.connect(str(built_store.home / "warehouse.duckdb"), read_only=True) as con:
        payouts, reconciled, paid = con.execute("""
            select count(*), count(*) filter (where is_reconciled),
                   count(*) filter (where payout_status = 'paid') from marts.fct_payouts""").fetchone()
    assert payouts > 30 and reconciled == payouts and paid >= payouts - 3


def test_the_brief_the_monthly_report_and_the_overview_show_the_ladder(demo):
    built_store, _, _ = demo
    output = built_store.home / "output"
    brief = max((output / "briefings").glob("20*.md")).read_text()
    assert "| Contribution margin 2 |" in brief and "| CM2 % of net sales |" in brief
    assert "Contribution margin 2 leaves out" in brief or "not shipped yet" in brief
    monthly = max((output / "briefings").glob("monthly-*.md")).read_text()
    assert "## Profit" in monthly
    for step in ("Net sales", "Contribution margin 1", "Contribution margin 2",
                 "Contribution margin 3", "Payment fees", "Shipping labels"):
        assert f"| {step}" in monthly, step
    overview = (output / "dashboards" / "overview.html").read_text()
    assert "From net sales to contribution margin" in overview
    assert "Contribution margin by channel" in overview
