"""The Great Expectations suites on real loads: files go through the raw loader into
DuckDB, the suite's SQL picks the rows staging uses, GX validates them."""

import os
from pathlib import Path

import duckdb
import pytest

from orchestration.ingest import SPECS_BY_TABLE, ingest_source
from quality.suites import all_suites, mart_suites, raw_suite, raw_suites
from quality.validate import run_suite

SUPPLIERS = "supplier,lead_time_days,lead_time_std_days,moq_units,case_pack,order_cycle_days,currency\n"
ORDERS = "Name,Email,Financial Status,Currency,Total,Created at,Lineitem quantity,Lineitem price,Lineitem sku\n"


def load(con, landing: Path, table: str):
    ingest_source(con, landing, SPECS_BY_TABLE[table], run_id="test", timezone="UTC")
    suite = raw_suite(SPECS_BY_TABLE[table], "USD")
    return run_suite(suite, con.execute(suite.query()).df())


def write(landing: Path, rel: str, text: str, mtime: float | None = None) -> None:
    path = landing / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    if mtime:
        os.utime(path, (mtime, mtime))


@pytest.fixture
def con():
    with duckdb.connect(":memory:") as c:
        yield c


def test_a_negative_lead_time_blocks_and_a_corrected_reexport_clears_it(con, tmp_path):
    write(tmp_path, "purchasing/suppliers.csv",
          SUPPLIERS + "Acme,12,2,10,6,14,USD\nBolt,-5,1,10,6,14,USD\n")
    result = load(con, tmp_path, "purchasing_suppliers")
    assert not result.passed
    [outcome] = result.blocking
    assert outcome.rule.column == "lead_time_days"
    text = outcome.describe(result.suite.locate_by)
    # Names the file, the row (data row 2 = line 3) and the value.
    assert "purchasing/suppliers.csv row 2 (-5" in text, text
    assert "1 of 2 rows" in text

    # The supplier sends the corrected file: the newest file wins, the check clears.
    write(tmp_path, "purchasing/suppliers_fixed.csv",
          SUPPLIERS + "Acme,12,2,10,6,14,USD\nBolt,5,1,10,6,14,USD\n")
    result = load(con, tmp_path, "purchasing_suppliers")
    assert result.passed, result.summary()
    assert result.rows == 2  # the superseded rows are not validated again


def orders_file(n: int, *, future: set[int] = frozenset(), currency: dict[int, str] | None = None,
                negative: set[int] = frozenset(), status: dict[int, str] | None = None) -> str:
    lines = [ORDERS]
    for i in range(n):
        created = "2031-01-01 10:00:00 +0000" if i in future else "2026-10-01 10:00:00 +0000"
        cur = (currency or {}).get(i, "USD")
        qty = -2 if i in negative else 1
        st = (status or {}).get(i, "paid")
        lines.append(f"#{1000 + i},a{i}@example.com,{st},{cur},20.00,{created},{qty},20.00,SKU-{i % 7}\n")
    return "".join(lines)


def test_a_few_bad_rows_warn(con, tmp_path):
    # 1 unknown payment status in 400 orders (0.25%): a warning naming the row.
    write(tmp_path, "shopify/orders/a.csv", orders_file(400, status={17: "disputed"}))
    result = load(con, tmp_path, "shopify_orders")
    assert not result.passed and not result.blocking
    [outcome] = result.failed
    assert outcome.rule.column == "financial_status"
    assert "shopify/orders/a.csv row 18 (disputed)" in outcome.describe(result.suite.locate_by)


def test_dates_outside_the_export_window_are_quarantined_at_load(con, tmp_path):
    # A clock error (2031) would move the default as-of date of every output: the loader
    # keeps the row in quarantine, the suite then finds raw clean.
    write(tmp_path, "shopify/orders/a.csv", orders_file(50, future={17}))
    result = load(con, tmp_path, "shopify_orders")
    assert result.passed, result.summary()
    assert result.rows == 49
    [(row, column, reason)] = con.execute(
        "select source_row, column_name, reason from raw.quarantine").fetchall()
    assert (row, column) == (18, "Created at")
    assert "outside the export window" in reason

    # Rows loaded before that rule (or by a loader bug) are stopped by the suite.
    con.execute("update raw.shopify_orders set created_at = timestamp '2031-01-01' "
                "where name = '#1003'")
    suite = raw_suite(SPECS_BY_TABLE["shopify_orders"], "USD")
    result = run_suite(suite, con.execute(suite.query()).df())
    [outcome] = result.blocking
    assert "not in the future" in outcome.rule.why
    assert "shopify/orders/a.csv row 4 (2031-01-01" in outcome.describe(suite.locate_by)


def test_systematic_errors_block(con, tmp_path):
    # 5% negative quantities is a systematic error; one order in another currency blocks
    # outright (storeops would add EUR to USD).
    write(tmp_path, "shopify/orders/b.csv",
          orders_file(200, negative=set(range(0, 200, 20)), currency={3: "EUR"}))
    result = load(con, tmp_path, "shopify_orders")
    blocked = {o.rule.column for o in result.blocking}
    assert blocked == {"lineitem_quantity", "currency"}, result.summary()
    currency = next(o for o in result.blocking if o.rule.column == "currency")
    assert "row 4 (EUR)" in currency.describe(result.suite.locate_by)


def test_a_missing_column_is_an_outcome_not_an_exception(con, tmp_path):
    write(tmp_path, "purchasing/suppliers.csv", SUPPLIERS + "Acme,12,2,10,6,14,USD\n")
    load(con, tmp_path, "purchasing_suppliers")
    con.execute("alter table raw.purchasing_suppliers drop column lead_time_days")
    suite = raw_suite(SPECS_BY_TABLE["purchasing_suppliers"], "USD")
    present = {r[0] for r in con.execute("select column_name from information_schema.columns "
                                         "where table_name = 'purchasing_suppliers'").fetchall()}
    frame = con.execute(suite.query(present)).df()
    result = run_suite(suite, frame)
    assert any(o.blocks and o.rule.expectation == "ExpectColumnToExist" for o in result.outcomes)
    assert any("lead_time_days missing" in (o.error or "") for o in result.outcomes)


def test_mart_keys_and_references(con):
    con.execute("create schema marts")
    con.execute("create table marts.dim_products as select * from (values ('A', 10.0, 4.0, 7.0, 6, 12), "
                "('B', 10.0, 4.0, 7.0, 6, 12)) t(sku, price, unit_cost, lead_time_days, case_pack, moq_units)")
    con.execute("create table marts.fct_inventory_position as select * from (values "
                "('A', 5, 0, 0, 5), ('A', 3, 0, 0, 3), ('B', -40, 0, 0, -40)) "
                "t(sku, on_hand, on_order, committed, inventory_position)")
    suite = next(s for s in mart_suites("USD") if s.name == "marts.fct_inventory_position")
    result = run_suite(suite, con.execute(suite.query()).df())
    texts = [o.describe(suite.locate_by) for o in result.blocking]
    assert any(t.startswith("sku is unique") for t in texts), texts
    assert any("stock on hand is not negative" in t and "sku B (-40)" in t for t in texts), texts

    con.execute("create table marts.fct_sku_demand_daily as select * from (values "
                "('A', date '2026-11-01', 2, 5, 'A|2026-11-01'), ('Z', date '2026-11-01', 1, 0, 'Z|2026-11-01')) "
                "t(sku, demand_date, units, on_hand_end_of_day, sku_day_id)")
    suite = next(s for s in mart_suites("USD") if s.name == "marts.fct_sku_demand_daily")
    result = run_suite(suite, con.execute(suite.query()).df())
    [ref] = result.blocking
    assert ref.describe(suite.locate_by).startswith("every sku is in dim_products.sku: 1 of 2 rows")


def test_every_rule_reads_a_column_its_table_has():
    computed = {"_latest_possible", "_earliest_possible"}
    for suite in raw_suites("USD"):
        spec = SPECS_BY_TABLE[suite.asset_key[1]]
        known = {c.name for c in spec.columns} | computed
        for rule in suite.rules:
            for key in ("column", "column_A", "column_B"):
                col = rule.kwargs.get(key)
                assert col is None or col in known, (suite.name, col)
    assert len({s.name for s in all_suites("USD")}) == len(SPECS) + 10


SPECS = list(SPECS_BY_TABLE.values())


def test_an_order_that_does_not_add_up_warns_naming_its_file_and_row():
    import pandas as pd

    suite = next(s for s in mart_suites("USD") if s.name == "marts.fct_orders")
    frame = pd.DataFrame({
        "order_id": ["1", "2"], "customer_id": [None, None], "currency_code": ["USD", "USD"],
        "gross_revenue": [20.0, 30.0], "units": [2, 1], "net_revenue": [20.0, 30.0],
        "reconciliation_difference": [0.0, 5.0],
        "_source_file": ["shopify/orders/a.csv", "shopify/orders/a.csv"],
        "_source_row": [1, 3], "_customer_id_in_dim_customers": ["null key", "null key"]})
    result = run_suite(suite, frame)
    assert not result.blocking  # an export that does not add up warns, it never stops
    [warning] = [o for o in result.outcomes if not o.success]
    assert "shopify/orders/a.csv row 3, order_id 2 (5" in warning.describe(suite.locate_by)


def test_a_sku_that_lost_its_leading_zeros_warns_naming_file_and_row():
    import pandas as pd

    suite = next(s for s in mart_suites("USD") if s.name == "marts.fct_order_lines")
    frame = pd.DataFrame({
        "order_line_id": ["#1-1", "#1-2", "#2-1"], "order_id": ["1", "1", "2"],
        "sku": ["00123", None, "TWL"], "quantity": [1, 1, 2],
        "sku_as_exported": ["123", None, "TWL"],
        "_source_file": ["shopify/orders/o.csv"] * 3, "_source_row": [1, 2, 3],
        "_order_id_in_fct_orders": ["1", "1", "2"], "_sku_in_dim_products": ["00123", "null key", "TWL"]})
    result = run_suite(suite, frame)
    assert not result.blocking
    [warning] = [o for o in result.outcomes if not o.success]
    assert "shopify/orders/o.csv row 1, order_line_id #1-1 (123)" in warning.describe(suite.locate_by)


def test_a_suite_lets_go_of_its_frame(con, tmp_path):
    """GX's pandas engine keeps every batch it loaded while its data source lives; a run
    validates every raw table and mart in one process, so run_suite must not leave its
    frame behind (it held the 10x store's order lines, 2.3 GiB, to the end of the run)."""
    import gc
    import weakref

    write(tmp_path, "shopify/orders/a.csv", orders_file(50, status={3: "disputed"}))
    ingest_source(con, tmp_path, SPECS_BY_TABLE["shopify_orders"], run_id="test",
                  timezone="UTC")
    suite = raw_suite(SPECS_BY_TABLE["shopify_orders"], "USD")
    frame = con.execute(suite.query()).df()
    alive = weakref.ref(frame)
    result = run_suite(suite, frame)
    del frame
    gc.collect()
    assert alive() is None, "GX still holds the validated frame"
    # The verdicts do not depend on the frame staying around, and a second suite runs.
    [outcome] = result.failed
    assert "shopify/orders/a.csv row 4 (disputed)" in outcome.describe(suite.locate_by)
    again = run_suite(suite, con.execute(suite.query()).df())
    assert [o.describe(suite.locate_by) for o in again.failed] == [outcome.describe(suite.locate_by)]


def test_a_large_frame_validated_by_column_set_gives_the_same_outcomes(con, tmp_path,
                                                                        monkeypatch):
    """From quality.validate.NARROW_ROWS rows GX sees one column set at a time (it copies
    the whole frame per metric otherwise): every outcome, count and located example must
    be what the whole frame gives, failures included."""
    from quality import validate

    write(tmp_path, "shopify/orders/a.csv", orders_file(300, status={17: "disputed"}))
    ingest_source(con, tmp_path, SPECS_BY_TABLE["shopify_orders"], run_id="test",
                  timezone="UTC")
    suite = raw_suite(SPECS_BY_TABLE["shopify_orders"], "USD")
    frame = con.execute(suite.query()).df()
    frame.loc[[3, 40, 41], "currency"] = "EUR"           # in set
    frame.loc[[5, 6], "lineitem_price"] = -1.0            # between
    frame.loc[[7], "name"] = None                         # not null
    frame.loc[[9], "refunded_amount"] = 999.0             # pair A >= B
    frame = frame.drop(columns=["lineitem_sku"])          # exists, and its rules' columns

    def outcomes(narrow_rows: int) -> list[tuple]:
        monkeypatch.setattr(validate, "NARROW_ROWS", narrow_rows)
        result = run_suite(suite, frame)
        return [(o.rule.expectation, str(o.rule.kwargs), o.success, o.rows,
                 o.unexpected_count, o.error, o.describe(suite.locate_by))
                for o in result.outcomes]

    whole, narrow = outcomes(10**9), outcomes(1)
    assert narrow == whole
    failed = {(o[0], o[1]) for o in whole if not o[2]}
    assert len(failed) >= 6, failed
    assert any("lineitem_sku" in kwargs for _, kwargs in failed)


def test_a_suite_does_not_fingerprint_the_whole_frame(con, tmp_path, monkeypatch):
    """GX hashes every pandas batch under 1 GB for a batch marker storeops never reads
    (60% of a suite's time); quality.validate turns that off, and the verdicts stand."""
    from great_expectations.execution_engine import pandas_execution_engine

    def hashed(df):
        raise AssertionError(f"GX fingerprinted a {len(df)}-row frame")

    monkeypatch.setattr(pandas_execution_engine, "hash_pandas_dataframe", hashed)
    write(tmp_path, "shopify/orders/a.csv", orders_file(400, status={17: "disputed"}))
    result = load(con, tmp_path, "shopify_orders")
    assert result.rows == 400 and not result.blocking
    [outcome] = result.failed
    assert "shopify/orders/a.csv row 18 (disputed)" in outcome.describe(result.suite.locate_by)


def test_an_empty_table_passes_its_value_rules_without_gx_and_a_missing_column_still_blocks():
    import pandas as pd

    from quality.specs import SPECS_BY_TABLE
    from quality.suites import raw_suite
    from quality.validate import run_suite

    suite = raw_suite(SPECS_BY_TABLE["shipstation_shipments"], "USD")
    read = list(dict.fromkeys(c for rule in suite.rules for c in rule.reads()))
    whole = run_suite(suite, pd.DataFrame({c: [] for c in read}))
    assert whole.rows == 0 and whole.passed and all(o.success for o in whole.outcomes)
    result = run_suite(suite, pd.DataFrame({c: [] for c in read if c != "shipment_cost"}))
    failed = {o.rule.why for o in result.outcomes if not o.success}
    assert "column shipment_cost is present" in failed
    assert all(o.rule.column == "shipment_cost" for o in result.outcomes if not o.success)
    assert result.blocking and not result.passed
