"""The warehouse's money against the demo store's answer key (demo_truth/orders.parquet),
to the cent: revenue per day is the net sales (Shopify finance-report definitions) of the
orders that are neither cancelled nor test orders, with tax-inclusive orders, refunds
with shipping, tips, gift cards, a decimal-comma ad file and a pasted duplicate in the data."""

from decimal import Decimal

import duckdb
import polars as pl
import pytest

from orchestration.settings import Settings

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def built(built_store):
    """The shared reference store (tests/integration/conftest.py: 90 days, one clean
    `storeops run`, read only), that run's process and the generator's answer key."""
    settings = Settings(home=built_store.home, landing=built_store.landing)
    truth = pl.read_parquet(built_store.landing.parent / "demo_truth" / "orders.parquet")
    return settings, built_store.run, truth


def _query(settings, sql) -> pl.DataFrame:
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        cur = con.execute(sql)
        rows = cur.fetchall()
        names = [d[0] for d in cur.description]
    return pl.DataFrame(rows, schema=names, orient="row", infer_schema_length=None)


def test_the_answer_key_has_the_hard_cases(built):
    _, _, truth = built
    live = truth.filter(~pl.col("is_cancelled") & ~pl.col("is_test"))
    assert live.filter(pl.col("taxes_included")).height > 0
    full = live.filter((pl.col("refunded") == pl.col("total")) & (pl.col("refunded_shipping") > 0))
    assert full.height > 0
    partial = live.filter((pl.col("refunded") > 0) & (pl.col("refunded") < pl.col("total")))
    assert partial.height > 0
    assert live.filter(pl.col("tips") > 0).height > 0
    assert live.filter(pl.col("gift_card_sales") > 0).height > 0


def test_every_order_once(built):
    settings, summary, truth = built
    assert summary.returncode == 0, summary.stderr[-3000:]
    orders = _query(settings, "select order_name from marts.fct_orders")
    assert orders.height == truth.height
    assert set(orders["order_name"]) == set(truth["order_name"])


def test_revenue_per_day_is_net_sales_to_the_cent(built):
    settings, summary, truth = built
    assert summary.returncode == 0, summary.stderr[-3000:]
    expected = (
        truth.filter(~pl.col("is_cancelled") & ~pl.col("is_test"))
        .group_by("order_date")
        .agg(pl.col("net_sales").sum().alias("expected"))
    )
    kpis = _query(
        settings,
        "select kpi_date as order_date, cast(round(revenue, 2) as decimal(18, 2)) as revenue "
        "from marts.fct_daily_kpis",
    )
    days = (
        expected.join(kpis, on="order_date", how="full", coalesce=True)
        .with_columns(
            pl.col("expected").fill_null(Decimal("0.00")),
            pl.col("revenue").fill_null(Decimal("0.00")),
        )
        .with_columns((pl.col("revenue") - pl.col("expected")).alias("difference"))
    )
    off = days.filter(pl.col("difference") != 0).sort("order_date")
    if off.height:
        # Which orders make the difference: the warehouse's net revenue per order against
        # the answer key, by kind of order.
        per_order = _query(
            settings,
            "select order_name, cast(round(net_revenue, 2) as decimal(18, 2)) as net_revenue "
            "from marts.fct_orders where is_revenue",
        )
        kinds = (
            truth.filter(~pl.col("is_cancelled") & ~pl.col("is_test"))
            .join(per_order, on="order_name", how="left")
            .with_columns((pl.col("net_revenue").fill_null(0) - pl.col("net_sales")).alias("diff"))
            .filter(pl.col("diff") != 0)
            .with_columns(
                pl.when(pl.col("refunded") == pl.col("total"))
                .then(pl.lit("full refund"))
                .when(pl.col("refunded") > 0)
                .then(pl.lit("partial refund"))
                .otherwise(pl.lit("no refund"))
                .alias("refund"),
                (pl.col("tips") > 0).alias("tip"),
                (pl.col("gift_card_sales") > 0).alias("gift_card"),
            )
            .group_by("taxes_included", "refund", "tip", "gift_card")
            .agg(pl.len().alias("orders"), pl.col("diff").sum().alias("diff"))
            .sort("orders", descending=True)
        )
        total = off["difference"].sum()
        pytest.fail(
            f"revenue differs from the answer key on {off.height} of {days.height} days "
            f"(total {total}):\n{off.head(15)}\norders that differ:\n{kinds}"
        )


# The answer key's amounts and the fct_orders columns that must equal them, per order.
MONEY_COLUMNS = {
    "gross_sales": "gross_revenue", "discounts": "discounts", "returns": "returns",
    "net_sales": "net_revenue", "shipping": "shipping", "refunded_shipping": "refunded_shipping",
    "taxes": "taxes", "refunded_taxes": "refunded_taxes", "tips": "tips",
    "gift_card_sales": "gift_card_sales",
}


def test_every_money_figure_of_every_order_to_the_cent(built):
    settings, summary, truth = built
    assert summary.returncode == 0, summary.stderr[-3000:]
    warehouse = _query(settings, "select order_name, " + ", ".join(
        f"cast(round({column}, 2) as decimal(18, 2)) as w_{name}"
        for name, column in MONEY_COLUMNS.items()) + " from marts.fct_orders")
    live = truth.filter(~pl.col("is_cancelled") & ~pl.col("is_test")).join(
        warehouse, on="order_name", how="left")
    off = {name: live.filter(pl.col(name) != pl.col(f"w_{name}").fill_null(Decimal(-1)))
           .select("order_name", "taxes_included", name, f"w_{name}").head(5).rows()
           for name in MONEY_COLUMNS}
    assert {k: v for k, v in off.items() if v} == {}
