"""The monthly report on a tiny hand-made warehouse (in memory) with known answers.

Report month: March 2026. Customers (order dates, channel, net revenue):
  c1  2026-01-10 meta 40, 2026-02-05 email 30      active -> active
  c2  2026-01-10 google 50                          new -> new
  c3  2026-02-01 google 50                          new -> new
  c4  2025-06-01 organic 20, 2026-03-15 meta 80     lapsed -> reactivated (gap 287 days)
  c5  2025-09-20 email 25                           lapsing (161 days) -> lapsed (192 days)
  c6  2026-03-05 meta 40                            not yet a customer -> new
  c7  2025-01-01 organic 10 (the first order)       lapsed -> lapsed
Cohort Jan 2026 = {c1, c2}: c1 ordered again in February, so month-1 retention is 50.0%.
Meta: March spend 300 for 4 new customers -> CAC $75.00; February 200 for 4 -> $50.00.
Inventory: DEAD (10 on hand at $12.50, last sale 2025-10-01) is dead stock worth $125;
LIVE sells 2 a day and was out of stock on 2 days in March and 1 in February.
"""

import re
from datetime import date, timedelta

import duckdb
import pytest

from dashboards.document import Note, Paragraph, Table
from dashboards.monthly import SECTIONS, monthly_report
from tests.dbt_sql import build_model

MONTH = date(2026, 3, 1)

ORDERS = [  # customer, order date, channel, net revenue
    ("c7", date(2025, 1, 1), "organic", 10.0),
    ("c4", date(2025, 6, 1), "organic", 20.0),
    ("c5", date(2025, 9, 20), "email", 25.0),
    ("c1", date(2026, 1, 10), "meta", 40.0),
    ("c2", date(2026, 1, 10), "google", 50.0),
    ("c3", date(2026, 2, 1), "google", 50.0),
    ("c1", date(2026, 2, 5), "email", 30.0),
    ("c6", date(2026, 3, 5), "meta", 40.0),
    ("c4", date(2026, 3, 15), "meta", 80.0),
    ("c2", date(2026, 4, 2), "google", 999.0),  # after the month: must not count
]


def days(start: date, end: date):
    return [start + timedelta(days=i) for i in range((end - start).days + 1)]


def build_orders(con, orders):
    con.execute("create schema if not exists marts")
    con.execute("""create table marts.fct_orders (order_name varchar, customer_id varchar,
        created_at timestamp, order_date date, channel varchar, is_revenue boolean,
        net_revenue decimal(18, 4), product_cost decimal(18, 4), customer_order_number bigint,
        is_first_order boolean)""")
    counts: dict[str, int] = {}
    for i, (customer, day, channel, revenue) in enumerate(orders):
        counts[customer] = counts.get(customer, 0) + 1
        con.execute("insert into marts.fct_orders values (?, ?, ?, ?, ?, true, ?, ?, ?, ?)",
                    [f"#{1000 + i}", customer, f"{day} 12:00:00", day, channel, revenue,
                     revenue / 2, counts[customer], counts[customer] == 1])


def build_customer_marts(con, as_of: date):
    """The cohort and lifecycle marts with their dbt models' own SQL, as of `as_of`."""
    con.execute("create schema if not exists intermediate")
    con.execute("create or replace table intermediate.int_as_of_resolved as "
                "select ?::date as as_of_date", [as_of])
    build_model(con, "fct_cohort_retention")
    build_model(con, "fct_lifecycle_movement_monthly")


def build_daily_kpis(con, first: date, last: date):
    """fct_daily_kpis the way dbt builds it, from the orders and fct_marketing_daily."""
    con.execute("""
        create table marts.fct_daily_kpis as
        with days as (select cast(unnest(generate_series(?::date, ?::date, interval 1 day)) as date) as kpi_date),
        orders as (select order_date, count(*) as orders, sum(net_revenue) as revenue,
                          count(*) filter (where is_first_order) as new_customers
                   from marts.fct_orders where is_revenue group by 1),
        spend as (select marketing_date, sum(spend) as spend from marts.fct_marketing_daily group by 1),
        has_ads as (select count(*) > 0 as has_ads from marts.fct_marketing_daily)
        select days.kpi_date, coalesce(orders.orders, 0) as orders,
               coalesce(orders.revenue, 0) as revenue,
               coalesce(orders.new_customers, 0) as new_customers,
               case when has_ads then coalesce(spend.spend, 0) end as ad_spend,
               cast(null as bigint) as sessions
        from days cross join has_ads
        left join orders on orders.order_date = days.kpi_date
        left join spend on spend.marketing_date = days.kpi_date
    """, [first, last])


def build_channels(con, rows):
    con.execute("""create table marts.fct_marketing_daily (marketing_date date, channel varchar,
                   spend decimal(18, 4))""")
    con.execute("""create table marts.fct_channel_daily (channel_date date, channel varchar,
                   spend decimal(18, 4), new_customers bigint, net_revenue decimal(18, 4))""")
    for day, channel, spend, new, revenue in rows:
        con.execute("insert into marts.fct_channel_daily values (?, ?, ?, ?, ?)",
                    [day, channel, spend, new, revenue])
        if spend:
            con.execute("insert into marts.fct_marketing_daily values (?, ?, ?)", [day, channel, spend])


def build_inventory(con):
    con.execute("""create table marts.dim_products (sku varchar, product_title varchar,
        variant_title varchar, supplier_id varchar, unit_cost decimal(18, 4), lead_time_days double,
        order_cycle_days bigint)""")
    con.execute("""insert into marts.dim_products values
        ('LIVE', 'Live Tee', null, 'Acme', 5, 14, 7), ('DEAD', 'Dead Mug', null, 'Acme', 12.5, 14, 7)""")
    con.execute("""create table marts.fct_inventory_daily (inventory_date date, sku varchar,
                   location varchar, on_hand bigint)""")
    for day in [date(2025, 1, 1), *days(date(2026, 2, 1), date(2026, 3, 31))]:
        con.execute("insert into marts.fct_inventory_daily values (?, 'LIVE', 'main', 20), (?, 'DEAD', 'main', 10)",
                    [day, day])
    con.execute("""create table marts.fct_sku_demand_daily (sku varchar, demand_date date,
                   units bigint, is_stockout boolean)""")
    stockouts = {date(2026, 3, 10), date(2026, 3, 11), date(2026, 2, 5)}
    con.execute("insert into marts.fct_sku_demand_daily values ('LIVE', '2025-01-01', 2, false)")
    con.execute("insert into marts.fct_sku_demand_daily values ('DEAD', '2025-10-01', 1, false)")
    for day in days(date(2025, 12, 1), date(2026, 4, 5)):
        out = day in stockouts
        con.execute("insert into marts.fct_sku_demand_daily values ('LIVE', ?, ?, ?)",
                    [day, 0 if out else 2, out])


@pytest.fixture
def store():
    con = duckdb.connect()
    build_orders(con, ORDERS)
    build_channels(con, [
        (date(2026, 2, 10), "meta", 200, 4, 400),
        (date(2026, 3, 10), "meta", 300, 4, 600),
        (date(2026, 3, 12), "google", 100, 1, 150),
        (date(2026, 3, 12), "organic", 0, 2, 90),
    ])
    build_daily_kpis(con, date(2025, 1, 1), date(2026, 4, 5))
    build_customer_marts(con, date(2026, 4, 5))
    build_inventory(con)
    con.execute("create table marts.fct_support_tickets (created_date date)")
    con.execute("insert into marts.fct_support_tickets values ('2026-03-30')")
    con.execute("create schema analytics")
    con.execute("""create table analytics.churn_scores (customer_id varchar, predicted_clv double,
                   segment varchar, acquisition_channel varchar, as_of_date date)""")
    con.execute("""insert into analytics.churn_scores values
        ('c1', 120, 'active', 'meta', '2026-04-05'), ('c2', 60, 'active', 'google', '2026-04-05'),
        ('c5', 5, 'lapsed', 'email', '2026-04-05')""")
    yield con
    con.close()


def section(doc, heading):
    start = doc.blocks.index(next(b for b in doc.blocks if getattr(b, "text", None) == heading
                                  and type(b).__name__ == "Heading"))
    out = []
    for block in doc.blocks[start + 1:]:
        if type(block).__name__ == "Heading":
            break
        out.append(block)
    return out


def tables(blocks):
    return [b for b in blocks if isinstance(b, Table)]


def row(table, label):
    return next(r for r in table.rows if r[0] == label)


def test_headings_are_the_contract(store):
    doc = monthly_report(store, month=MONTH, currency="USD")
    assert doc.title == "Monthly report — March 2026"
    assert doc.headings() == [
        "Summary",
        "Profit",
        "Cohort retention",
        "Channel efficiency",
        "Inventory health",
        "Customer lifetime value by acquisition channel",
        "Customer segments",
        "Data notes",
    ]
    assert list(SECTIONS) == doc.headings()


def test_summary_figures_ignore_orders_after_the_month(store):
    doc = monthly_report(store, month=MONTH, currency="USD")
    kpis = tables(section(doc, "Summary"))[0]
    assert kpis.columns[1:3] == ("Mar 2026", "Feb 2026")
    assert row(kpis, "Net revenue")[1:4] == ("$120", "$80", "+50.0%")
    assert row(kpis, "Orders")[1:3] == ("2", "2")
    assert row(kpis, "New customers")[1:3] == ("1", "1")
    assert row(kpis, "MER (net revenue / ad spend)")[1:3] == ("0.30", "0.40")


def test_cohort_month_one_retention(store):
    doc = monthly_report(store, month=MONTH, currency="USD")
    cohorts = tables(section(doc, "Cohort retention"))[0]
    assert cohorts.columns == ("First order month", "Customers", "Month 1", "Month 2", "Month 3",
                               "Month 6", "Month 12")
    assert row(cohorts, "Jan 2026") == ("Jan 2026", "2", "50.0%", "0.0%", "", "", "")
    assert row(cohorts, "Feb 2026") == ("Feb 2026", "1", "0.0%", "", "", "", "")
    # Jun 2025 is within 180 days of the first order in the data: marked, not compared.
    assert row(cohorts, "Jun 2025 *")[1] == "1"


def test_channel_cac(store):
    doc = monthly_report(store, month=MONTH, currency="USD")
    blocks = section(doc, "Channel efficiency")
    labels = [b.text for b in blocks if isinstance(b, Paragraph)]
    cac = next(t for t in tables(blocks) if row_or_none(t, "Store (blended)"))
    assert row(cac, "Meta")[-2:] == ("$50.00", "$75.00")
    assert row(cac, "Google")[-1] == "$100.00"
    assert any("Meta's CAC moved most" in text for text in labels)


def row_or_none(table, label):
    return next((r for r in table.rows if r[0] == label), None)


def test_dead_stock_and_stockout_days(store):
    doc = monthly_report(store, month=MONTH, currency="USD")
    health = tables(section(doc, "Inventory health"))[0]
    assert row(health, "Dead stock value at cost")[1] == "$125"
    assert row(health, "Dead stock SKUs")[1] == "1"
    assert row(health, "Stockout SKU-days")[1:3] == ("2", "1")
    assert row(health, "Inventory value at month end")[1] == "$225"


def test_lifecycle_movement(store):
    doc = monthly_report(store, month=MONTH, currency="USD")
    blocks = section(doc, "Customer segments")
    movement = next(t for t in tables(blocks) if t.columns[0] == "From \\ to")
    stages = movement.columns[1:6]
    assert stages == ("new", "active", "reactivated", "lapsing", "lapsed")
    lapsed_row = dict(zip(stages, row(movement, "lapsed")[1:6]))
    assert lapsed_row == {"new": "0", "active": "0", "reactivated": "1", "lapsing": "0", "lapsed": "1"}
    assert dict(zip(stages, row(movement, "lapsing")[1:6]))["lapsed"] == "1"
    assert dict(zip(stages, row(movement, "not yet a customer")[1:6]))["new"] == "1"
    assert dict(zip(stages, row(movement, "active")[1:6]))["active"] == "1"
    flow = next(t for t in tables(blocks) if t.columns[0] == "Lapsed customers")
    assert row(flow, "Net flow into lapsed")[1] == "+0"
    segments = next(t for t in tables(blocks) if t.columns[0] == "Segment")
    assert row(segments, "active")[1:4] == ("2", "66.7%", "$180")


def test_every_number_in_the_summary_is_in_a_table(store):
    doc = monthly_report(store, month=MONTH, currency="USD")
    token = re.compile(r"[-+]?[$€£]?\d(?:[\d,]*\d)?(?:\.\d+)?%?")
    summary = " ".join(b.text for b in section(doc, "Summary") if isinstance(b, Paragraph))
    quoted = set(token.findall(summary))
    assert quoted, summary
    in_tables = {t for table in tables(doc.blocks) for r in table.rows for cell in r
                 for t in token.findall(cell)}
    assert quoted <= in_tables, quoted - in_tables
    assert 3 <= summary.count(". ") + 1 <= 6


def test_analytics_scores_from_a_later_run_are_not_used_for_a_past_month(store):
    doc = monthly_report(store, month=date(2026, 1, 1), currency="USD")
    assert not any(t.columns[0] == "Segment" for t in tables(section(doc, "Customer segments")))
    notes = " ".join(section(doc, "Data notes")[0].items)
    assert "analytics.churn_scores is as of 2026-04-05" in notes


def test_a_young_store_without_ads_tickets_inventory_or_analytics_gets_notes():
    con = duckdb.connect()
    build_orders(con, [("a", date(2026, 3, 2), "organic", 30.0),
                       ("b", date(2026, 3, 5), "organic", 20.0),
                       ("a", date(2026, 3, 20), "email", 25.0),
                       ("c", date(2026, 3, 31), "organic", 15.0)])
    build_channels(con, [(date(2026, 3, 2), "organic", 0, 1, 20)])  # no ad rows at all
    build_daily_kpis(con, date(2026, 3, 2), date(2026, 3, 31))
    build_customer_marts(con, date(2026, 3, 31))
    doc = monthly_report(con, month=MONTH, currency="EUR")
    assert doc.headings() == list(SECTIONS)
    notes = [b.text for b in doc.blocks if isinstance(b, Note)]
    assert any(n.startswith("Not enough history: cohort retention needs at least one complete month")
               for n in notes)
    data_notes = " ".join(section(doc, "Data notes")[0].items)
    assert "No ad platform data" in data_notes
    assert "No help-desk tickets" in data_notes
    assert "No sessions export" in data_notes
    assert "Inventory health needs marts.fct_inventory_daily" in data_notes
    assert "analytics.churn_scores is missing" in data_notes
    assert "Not enough history" in " ".join(b.text for b in section(doc, "Summary") if isinstance(b, Note))
    assert "@" not in doc.to_markdown() and "<html" in doc.to_html()
