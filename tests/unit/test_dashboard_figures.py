"""The dashboards' pure helpers: KPI windows with deltas, cohort retention shares (from the
dbt model's own SQL on an in-memory DuckDB), and the figures built from a small synthetic
DashboardData (no disk)."""

from datetime import date, timedelta

import duckdb
import plotly.graph_objects as go
import polars as pl
import pytest

from dashboards.pages.data import DashboardData
from dashboards.pages.figures import NOT_ENOUGH_HISTORY, Money, currency_symbol
from dashboards.pages.metrics import cohort_grid, kpi_windows
from dashboards.pages.overview import overview
from dashboards.pages.shell import Page
from dashboards.pages.support import support
from tests.dbt_sql import build_model

AS_OF = date(2026, 3, 31)


def daily_kpis(days: int = 400, *, sessions: bool = True) -> pl.DataFrame:
    """A flat store (2 orders, 100 revenue, 100 sessions, 50 spend a day) whose last 7
    days are 50% busier."""
    dates = [AS_OF - timedelta(days=i) for i in range(days - 1, -1, -1)]
    busy = [d > AS_OF - timedelta(days=7) for d in dates]
    return pl.DataFrame({
        "kpi_date": dates,
        "revenue": [150.0 if b else 100.0 for b in busy],
        "orders": [3 if b else 2 for b in busy],
        "new_customers": [1] * days,
        "ad_spend": [50.0] * days,
        "sessions": [100 if sessions else None] * days,
        "conversion_rate": [(3 if b else 2) / 100 if sessions else None for b in busy],
    }, schema_overrides={"sessions": pl.Int64, "conversion_rate": pl.Float64})


def test_kpi_windows_compare_the_last_week_with_the_one_before_and_last_year():
    tiles = {r["kpi"]: r for r in kpi_windows(daily_kpis(), AS_OF).iter_rows(named=True)}

    assert tiles["revenue"]["current"] == 1050
    assert tiles["revenue"]["previous"] == 700
    assert tiles["revenue"]["last_year"] == 700
    assert tiles["revenue"]["vs_previous"] == pytest.approx(0.5)
    assert tiles["revenue"]["vs_last_year"] == pytest.approx(0.5)
    assert tiles["orders"]["current"] == 21
    # Ratios are ratios of the window's sums, not means of daily ratios.
    assert tiles["aov"]["current"] == pytest.approx(50.0)
    assert tiles["aov"]["vs_previous"] == pytest.approx(0.0)
    assert tiles["conversion_rate"]["current"] == pytest.approx(0.03)
    assert tiles["conversion_rate"]["previous"] == pytest.approx(0.02)
    assert tiles["new_customers"]["vs_previous"] == pytest.approx(0.0)
    assert tiles["ad_spend"]["current"] == 350
    assert tiles["ad_spend"]["good_direction"] == 0
    assert tiles["mer"]["current"] == pytest.approx(3.0)
    assert tiles["mer"]["vs_last_year"] == pytest.approx(0.5)


def test_kpi_windows_without_sessions_history_or_spend_give_nulls():
    short = daily_kpis(days=10, sessions=False).with_columns(pl.lit(0.0).alias("ad_spend"))
    tiles = {r["kpi"]: r for r in kpi_windows(short, AS_OF).iter_rows(named=True)}

    assert tiles["revenue"]["current"] == 1050
    assert tiles["revenue"]["previous"] is None  # only 3 of the 7 days before
    assert tiles["revenue"]["vs_previous"] is None
    assert tiles["revenue"]["last_year"] is None
    assert tiles["conversion_rate"]["current"] is None
    assert tiles["mer"]["current"] is None


def test_kpi_windows_name_a_missing_column():
    with pytest.raises(ValueError, match="revenue"):
        kpi_windows(pl.DataFrame({"kpi_date": [AS_OF], "orders": [1]}), AS_OF)


CUSTOMER_ORDERS = pl.DataFrame({
    "customer_id": ["a", "a", "a", "b", "c", "c", "d", "d", "e", "f"],
    "order_month": [date(2025, 1, 10), date(2025, 2, 5), date(2025, 4, 20),
                    date(2025, 1, 20),
                    date(2025, 1, 3), date(2025, 1, 25),
                    date(2025, 2, 10), date(2025, 3, 1),
                    date(2025, 5, 2),  # after every as-of below: never counted
                    date(2025, 4, 5)],  # April's cohort: a row once April has ended
})


def cohort_retention(orders: pl.DataFrame, as_of: date, months: int) -> pl.DataFrame:
    """marts.fct_cohort_retention built by its dbt SQL from these orders as of `as_of`,
    shaped for the chart by cohort_grid."""
    con = duckdb.connect()
    con.execute("create schema marts")
    con.execute("create schema intermediate")
    con.execute("create table intermediate.int_as_of_resolved as select ?::date as as_of_date",
                [as_of])
    frame = orders.select("customer_id", pl.col("order_month").alias("order_date"),  # noqa: F841
                          pl.lit(True).alias("is_revenue"))
    con.execute("create table marts.fct_orders as select * from frame")
    build_model(con, "fct_cohort_retention")
    return cohort_grid(con.sql("select * from marts.fct_cohort_retention").pl(), as_of, months)


def shares(frame: pl.DataFrame) -> dict[tuple[date, int], float | None]:
    return {(m, k): s for m, k, s in frame.select("cohort_month", "months_after", "share")
            .iter_rows()}


def test_cohort_retention_counts_customers_ordering_again_in_later_months():
    cohorts = cohort_retention(CUSTOMER_ORDERS, date(2025, 4, 15), months=3)
    got = shares(cohorts)

    sizes = dict(cohorts.select("cohort_month", "customers").unique().iter_rows())
    # April is still acquiring customers on the 15th: no row (no share, no final size).
    assert sizes == {date(2025, 1, 1): 3, date(2025, 2, 1): 1}
    # January: a, b, c; a orders again in February (month 1), nobody in March; April has
    # not ended on the 15th, so month 3 is not observed yet (not 0%).
    assert got[(date(2025, 1, 1), 1)] == pytest.approx(1 / 3)
    assert got[(date(2025, 1, 1), 2)] == 0.0
    assert got[(date(2025, 1, 1), 3)] is None
    # February: d orders again in March.
    assert got[(date(2025, 2, 1), 1)] == 1.0
    assert got[(date(2025, 2, 1), 2)] is None
    assert cohorts.height == 2 * 3


def test_cohort_retention_counts_a_month_once_it_has_ended():
    got = shares(cohort_retention(CUSTOMER_ORDERS, date(2025, 4, 30), months=3))

    assert got[(date(2025, 1, 1), 3)] == pytest.approx(1 / 3)  # a, in April
    assert got[(date(2025, 2, 1), 2)] == 0.0
    assert got[(date(2025, 2, 1), 1)] == 1.0
    assert got[(date(2025, 2, 1), 3)] is None  # May
    assert got[(date(2025, 4, 1), 1)] is None  # f's cohort, now a row


def test_cohort_retention_of_no_orders_is_empty():
    empty = pl.DataFrame(schema={"customer_id": pl.Utf8, "order_month": pl.Date})
    assert cohort_retention(empty, AS_OF, months=12).is_empty()


def test_cohort_grid_names_a_missing_column():
    with pytest.raises(ValueError, match="active_customers"):
        cohort_grid(pl.DataFrame({"cohort_month": [AS_OF], "months_after": [1],
                                  "cohort_customers": [3]}), AS_OF)


@pytest.mark.parametrize(("code", "symbol"), [("USD", "$"), ("eur", "€"), ("GBP", "£"),
                                              ("SEK", "SEK")])
def test_currency_symbol(code, symbol):
    assert currency_symbol(code) == symbol


def test_money_axis_and_hover_use_the_store_currency():
    assert Money("USD").axis("Revenue") == "Revenue ($)"
    assert Money("USD").hover() == "$%{y:,.0f}"
    assert Money("SEK").hover() == "%{y:,.0f} SEK"
    assert Money("SEK").ticks() == {"tickprefix": "", "ticksuffix": " SEK"}


def synthetic_data(days: int) -> DashboardData:
    daily = daily_kpis(days).with_columns(
        pl.lit(20).alias("returning_customers"), (pl.col("revenue") / pl.col("orders"))
        .alias("average_order_value"), pl.lit(None, pl.Int64).alias("tickets"))
    return DashboardData(
        as_of=AS_OF, first_date=daily["kpi_date"].min(), last_date=AS_OF, daily=daily,
        channels=pl.DataFrame(schema={"channel_date": pl.Date, "channel": pl.Utf8,
                                      "spend": pl.Float64}),
        anomalies=pl.DataFrame({
            "metric": ["revenue"], "dimension": ["all"], "date": [AS_OF], "value": [150.0],
            "expected": [100.0], "lo": [80.0], "hi": [120.0], "severity": ["high"],
            "direction": ["up"], "impact": [50.0], "incident_id": ["revenue|all|x"],
            "incident_start": [AS_OF], "driver": [None]}, schema_overrides={"driver": pl.Utf8}),
        sku_actuals=pl.DataFrame(), forecast=pl.DataFrame(), forecast_as_of=None,
        stockouts_monthly=pl.DataFrame(), reorder=pl.DataFrame(), reorder_as_of=None,
        cohorts=pl.DataFrame(), churn_segments=pl.DataFrame(), channel_value=pl.DataFrame(),
        churn_as_of=None, csat_weekly=pl.DataFrame())


def test_overview_draws_trends_with_alert_markers_given_history():
    page = Page("overview")
    overview(page, synthetic_data(400), Money("USD"))

    figures = [b for b in page.blocks if isinstance(b, go.Figure)]
    assert page.figure_count == 2
    revenue = figures[0]
    alerts = [t for t in revenue.data if t.name == "Anomaly alert"]
    assert len(alerts) == 1 and list(alerts[0].y) == [150.0]
    assert revenue.layout.xaxis.rangeselector.buttons[-1].label == "all"
    assert "the same weekdays last year" in revenue.layout.title.text
    html = "".join(b for b in page.blocks if isinstance(b, str))
    assert "$1,050" in html and "+50.0%" in html and "revenue|all|x" not in html
    assert "high" in html  # the open incident


def test_overview_and_support_say_when_history_is_missing():
    page = Page("overview")
    overview(page, synthetic_data(8), Money("USD"))
    support_page = Page("support")
    support(support_page, synthetic_data(8), Money("USD"))

    assert page.figure_count == 0
    notes = " ".join(b for b in page.blocks if isinstance(b, str))
    assert NOT_ENOUGH_HISTORY in notes
    assert "No help-desk tickets" in " ".join(support_page.blocks)
