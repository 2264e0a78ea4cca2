"""A replay of a past date (`storeops run --as-of D`) says what the pipeline would have said
on D: one as-of date for dbt and the Python assets, and nothing dated after D in any as-of
mart, analytics table or output (DESIGN.md: "every output is computed as of that date")."""

import re
from datetime import date, timedelta

import duckdb

from orchestration.harness import CLOCK_COLUMNS, storeops

# Event facts keep every loaded row, by design: they are the history the as-of marts read up
# to the as-of date (two of them are incremental, so a replay cannot cut them).
HISTORY_TABLES = {"fct_orders", "fct_order_lines", "fct_inventory_daily", "fct_support_tickets",
                  "fct_marketing_daily", "fct_ad_daily"}
# Columns that look ahead of the as-of date by what they mean.
FORWARD_COLUMNS = {
    ("marts", "fct_purchase_orders", "expected_date"),             # an open PO's promised date
    ("marts", "fct_inventory_position", "next_expected_date"),     # the next PO arrival
    ("analytics", "demand_forecast", "ds"),                        # the forecast horizon
    ("analytics", "reorder_suggestions", "projected_stockout_date"),
    ("analytics", "churn_scores", "expected_next_order_date"),
    ("analytics", "win_back_contacts", "expected_next_order_date"),
    ("analytics", "next_product", "send_on"),                      # when to send the suggestion
}
ISO_DATE = re.compile(r"(\d{4}-\d\d-\d\d)")


def dated_columns(con) -> list[tuple[str, str, str, str]]:
    return con.execute("""
        select c.table_schema, c.table_name, c.column_name, c.data_type
        from information_schema.columns c
        join information_schema.tables t using (table_schema, table_name)
        where t.table_type = 'BASE TABLE' and c.table_schema in ('marts', 'analytics')
          and (c.data_type = 'DATE' or c.data_type like 'TIMESTAMP%')
        order by 1, 2, 3
    """).fetchall()


def test_a_replay_of_a_past_date_has_nothing_after_it(tmp_path, built_store):
    with duckdb.connect(str(built_store.home / "warehouse.duckdb"), read_only=True) as con:
        last, replay = con.execute(
            "select as_of_date, is_replay from intermediate.int_as_of_resolved").fetchall()[0]
    assert replay is False
    as_of = last - timedelta(days=20)

    home = built_store.new_home(tmp_path / "replay")
    done = storeops("run", "--landing", str(built_store.landing), "--as-of", as_of.isoformat(),
                    home=home)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]

    leaks = []
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as con:
        assert con.execute("select as_of_date, is_replay from intermediate.int_as_of_resolved"
                           ).fetchall() == [(as_of, True)]
        for schema, table, column, kind in dated_columns(con):
            if (table in HISTORY_TABLES or column in CLOCK_COLUMNS
                    or (schema, table, column) in FORWARD_COLUMNS):
                continue
            # *_at columns are UTC: a store-time day D ends on D + 1 in UTC.
            limit = as_of if kind == "DATE" else as_of + timedelta(days=2)
            newest = con.execute(f'select max(cast("{column}" as date)) from {schema}.{table}'
                                 ).fetchall()[0][0]
            if newest is not None and newest > limit:
                leaks.append(f"{schema}.{table}.{column}: {newest}")
        as_of_columns = con.execute("""
            select table_schema || '.' || table_name from information_schema.columns
            where column_name = 'as_of_date' and table_schema in ('marts', 'analytics')
        """).fetchall()
        for (table,) in as_of_columns:
            dates = con.execute(f"select distinct as_of_date from {table}").fetchall()
            assert dates in ([], [(as_of,)]), f"{table} as of {dates}, not {as_of}"
    assert not leaks, f"dated after the replay's as-of date {as_of}: " + "; ".join(leaks)

    for path in (home / "output").rglob("*"):
        for found in ISO_DATE.findall(path.relative_to(home / "output").as_posix()):
            assert date.fromisoformat(found) <= as_of, path
    monday = as_of - timedelta(days=as_of.weekday())
    weekly = sorted(p.name for p in (home / "output" / "briefings").glob("weekly-*.md"))
    assert weekly and all(name <= f"weekly-{monday.isocalendar().year}-W"
                          f"{monday.isocalendar().week:02d}.md" for name in weekly), weekly
