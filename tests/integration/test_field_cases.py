"""Real-shaped exports (tests/field_cases/, a copy of ../shared/field-cases/) give the right
numbers, each asserted exactly as the cases' README states them.

Cases that are about the whole run (exit code, every output written, the brief) run the
`storeops run` command as a user would; cases about the numbers build only what they need
(ingest and the dbt warehouse) in process, which costs a fifth of a run.
"""

import shutil
from decimal import Decimal
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from orchestration.harness import storeops

pytestmark = pytest.mark.integration

CASES = Path(__file__).resolve().parents[1] / "field_cases"
AS_OF = "2026-11-22"


def home_for(case: str, tmp_path: Path, settings_text: str | None = None) -> Path:
    home = tmp_path / case
    home.mkdir(parents=True)
    config = CASES / case / "storeops.yml"
    text = settings_text if settings_text is not None else (
        config.read_text() if config.exists() else None)
    if text is not None:
        (home / "storeops.yml").write_text(text)
    return home


def run_cli(case: str, tmp_path: Path, settings_text: str | None = None):
    home = home_for(case, tmp_path, settings_text)
    done = storeops("run", "--landing", str(CASES / case / "landing"), "--as-of", AS_OF,
                    home=home)
    return home, done


def build_warehouse(case: str, tmp_path: Path, settings_text: str | None = None,
                    landing: Path | None = None) -> Path:
    """Ingest and dbt (no forecasts, customers, anomalies or outputs) in process."""
    return build(case, tmp_path, settings_text, landing)[0]


def build(case: str, tmp_path: Path, settings_text: str | None = None,
          landing: Path | None = None, groups: tuple[str, ...] = ("ingest", "warehouse")):
    """(home, the Dagster result) of ingest and dbt (or only `groups`) in process; no
    blocking failure."""
    from orchestration.pipeline import load_definitions
    from orchestration.settings import Settings

    home = home_for(case, tmp_path, settings_text)
    settings = Settings.load(home, landing=landing or CASES / case / "landing")
    defs = load_definitions(settings)
    graph = defs.resolve_asset_graph()
    selection = (dg.AssetSelection.groups(*groups)
                 - dg.AssetSelection.assets("warehouse_docs"))
    keys = list(selection.resolve(graph))
    with dg.DagsterInstance.ephemeral() as instance:
        result = defs.resolve_implicit_global_asset_job_def().execute_in_process(
            instance=instance, asset_selection=keys, raise_on_error=False,
            tags={"storeops/as_of": AS_OF})
    failed = [f"{e.asset_key.to_user_string()}: {e.check_name}"
              for e in result.get_asset_check_evaluations()
              if not e.passed and e.severity == dg.AssetCheckSeverity.ERROR]
    assert result.success and not failed, failed
    return home, result


def query(home: Path, sql: str, params: list | None = None) -> list[tuple]:
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


def cents(value) -> Decimal:
    return Decimal(str(value)).quantize(Decimal("0.01"))


def by_order(home: Path, columns: str) -> dict[str, tuple]:
    rows = query(home, f"select order_name, {columns} from marts.fct_orders order by 1")
    return {r[0]: tuple(cents(v) if isinstance(v, (float, Decimal)) else v for v in r[1:])
            for r in rows}


def daily_revenue(home: Path) -> dict[str, Decimal]:
    return {d.isoformat(): cents(v) for d, v in query(
        home, "select kpi_date, revenue from marts.fct_daily_kpis order by 1")}


def load_warnings(home: Path) -> str:
    return "\n".join(r[0] for r in query(
        home, "select warnings from raw.load_log where warnings is not null"))


def test_refund_including_tax_and_shipping(tmp_path):
    home = build_warehouse("shopify-refund-incl-tax-shipping", tmp_path)
    orders = by_order(home, "net_revenue, refunded_shipping, refunded_taxes, returns")
    assert orders == {
        "#3001": (cents("0"), cents("6.00"), cents("4.32"), cents("48.00")),
        "#3002": (cents("10.00"), cents("0"), cents("2.40"), cents("30.00")),
        "#3003": (cents("10.00"), cents("0"), cents("0"), cents("0")),
    }
    assert daily_revenue(home) == {"2026-11-20": cents("0"), "2026-11-21": cents("20.00")}
    lines = {r[0]: (r[1], cents(r[2])) for r in query(home, """
        select sku, is_refunded, returns from marts.fct_order_lines where order_name = '#3002'""")}
    assert lines == {"TWL-LIN": (True, cents("30.00")), "SOP-OAT": (False, cents("0"))}
    # No negative revenue, AOV or margin from a refund.
    (negative,) = query(home, """
        select count(*) from marts.fct_daily_kpis
        where revenue < 0 or average_order_value < 0 or gross_margin < 0""")[0]
    assert negative == 0
    assert query(home, "select min(gross_margin) from marts.fct_orders")[0][0] >= 0


def test_an_order_that_does_not_add_up_is_named_by_file_row_and_order(tmp_path):
    # #3002's Total changed from 48.20 to 48.30 (Subtotal 40 + Shipping 5 + Taxes 3.20
    # is 48.20): the reconciliation test warns, and names the export row, not only itself.
    landing = tmp_path / "landing"
    shutil.copytree(CASES / "shopify-refund-incl-tax-shipping" / "landing", landing)
    orders = landing / "shopify" / "orders" / "orders_export_1.csv"
    text = orders.read_text()
    assert text.count(",48.20,") == 1
    orders.write_text(text.replace(",48.20,", ",48.30,"))
    _, result = build("shopify-refund-incl-tax-shipping", tmp_path, landing=landing)
    (check,) = [e for e in result.get_asset_check_evaluations()
                if e.check_name == "assert_orders_reconcile_to_their_totals"]
    assert not check.passed and check.severity == dg.AssetCheckSeverity.WARN
    where = check.metadata["where_to_look"].text
    assert where == "shopify/orders/orders_export_1.csv row 2 (order_name #3002)", where
    assert "1 row(s)" in check.description


def test_tax_inclusive_vat(tmp_path):
    home = build_warehouse("shopify-tax-inclusive-vat", tmp_path)
    orders = by_order(home, "net_revenue, tax_on_products, shipping, taxes_included")
    assert orders == {
        "#4001": (cents("20.00"), cents("4.00"), cents("0"), True),
        "#4002": (cents("50.00"), cents("10.00"), cents("4.00"), True),
    }
    # Margins on 20.00 and 50.00: candle cost 8.00; towel 11.00 + 3 soaps at 3.00.
    margins = dict(query(home, "select order_name, gross_margin from marts.fct_orders"))
    assert {k: cents(v) for k, v in margins.items()} == {"#4001": cents("12.00"),
                                                         "#4002": cents("30.00")}


def test_tax_inclusive_setting_agrees_with_detection(tmp_path):
    home = build_warehouse("shopify-tax-inclusive-vat", tmp_path,
                           "timezone: Europe/London\ncurrency: GBP\ntaxes_included: true\n")
    assert by_order(home, "net_revenue") == {"#4001": (cents("20.00"),),
                                             "#4002": (cents("50.00"),)}


def test_timezone_not_configured_is_warned_and_the_setting_fixes_the_dates(tmp_path):
    # The warning is the loader's (raw.load_log): this first build needs no dbt.
    home, _ = build("shopify-tz-unconfigured", tmp_path / "default", groups=("ingest",))
    warning = load_warnings(home)
    assert "+01:00" in warning and "timezone" in warning and "Europe/Berlin" in warning
    home = build_warehouse("shopify-tz-unconfigured", tmp_path / "berlin",
                           "currency: EUR\ntimezone: Europe/Berlin\n")
    assert load_warnings(home) == ""
    dates = {r[0]: r[1].isoformat() for r in query(
        home, "select order_name, order_date from marts.fct_orders")}
    assert dates == {"#7001": "2026-11-21", "#7002": "2026-11-21", "#7003": "2026-11-22"}
    kpis = query(home, "select orders, revenue from marts.fct_daily_kpis "
                       "where kpi_date = '2026-11-21'")
    assert [(n, cents(v)) for n, v in kpis] == [(2, cents("54.00"))]


def outputs_written(home: Path) -> None:
    out = home / "output"
    assert (out / "briefings" / f"{AS_OF}.md").exists()
    assert (out / "quality" / "index.html").exists()
    for page in ("overview", "marketing", "inventory", "customers", "support"):
        assert (out / "dashboards" / f"{page}.html").exists(), page


def test_csv_quirks_tip_line_and_dst(tmp_path):
    home, done = run_cli("shopify-csv-quirks", tmp_path)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    outputs_written(home)
    lines = query(home, """
        select line_kind, sku, quantity, quantity * unit_price, gross_revenue
        from marts.fct_order_lines where order_name = '#2002' order by line_number""")
    # The tip line keeps its 5.00 (quantity x price) but is no product sale.
    assert [(k, s, q, cents(a), cents(g)) for k, s, q, a, g in lines] == [
        ("product", "SOP-OAT", 2, cents("20.00"), cents("20.00")),
        ("tip", None, 1, cents("5.00"), cents("0"))]
    assert by_order(home, "units, gross_revenue, net_revenue, tips, total_charged")["#2002"] == (
        2, cents("20.00"), cents("20.00"), cents("5.00"), cents("25.00"))
    # The tip is not stock: no SKU demand, forecast or reorder line carries it.
    (units,) = query(home, "select sum(units) from marts.fct_sku_demand_daily "
                           "where demand_date = '2026-11-01'")[0]
    assert units == 2
    (null_skus,) = query(home, "select count(*) from marts.fct_sku_demand_daily where sku is null")[0]
    assert null_skus == 0
    assert query(home, "select order_date from marts.fct_orders where order_name = '#2001'")[0][0] \
        .isoformat() == "2026-10-31"


def test_spreadsheet_mangled_ids(tmp_path):
    home, done = run_cli("shopify-excel-sci-id", tmp_path)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    outputs_written(home)
    warning = load_warnings(home)
    assert "orders_export_1.csv" in warning and "'Id'" in warning and "rows 1-3" in warning
    assert "export again" in warning.lower()
    assert "'Id'" in done.stdout  # the person running it sees it too
    orders = query(home, "select order_id, order_name from marts.fct_orders order by 2")
    assert orders == [("#6001", "#6001"), ("#6002", "#6002"), ("#6003", "#6003")]


def test_imported_history_before_2006_loads(tmp_path):
    home, done = run_cli("shopify-imported-history", tmp_path)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "Traceback" not in done.stdout + done.stderr
    assert "run failed" not in done.stderr
    outputs_written(home)
    assert query(home, "select count(*) from raw.quarantine")[0][0] == 0
    assert query(home, "select count(*) from marts.fct_orders")[0][0] == 3
    assert query(home, "select orders from marts.dim_customers order by orders desc")[0][0] == 2


def test_meta_export_without_daily_breakdown_is_refused_loudly(tmp_path):
    home, done = run_cli("meta-not-daily", tmp_path)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    (status, message), = query(home, "select status, message from raw.load_log "
                                     "where source = 'meta_ads'")
    assert status == "rejected" and "850.00" in message
    assert "without a daily breakdown" in message and "export again" in message
    brief = (home / "output" / "briefings" / f"{AS_OF}.md").read_text()
    assert "meta_november.csv" in brief and "No ad spend in the data:" not in brief
    report = (home / "output" / "quality" / "index.md").read_text()
    assert "meta_november.csv" in report and "850.00" in report
    assert "meta_november.csv" in done.stdout


def test_a_file_whose_rows_are_all_quarantined_stops_the_run_and_says_why(tmp_path):
    landing = tmp_path / "landing"
    shutil.copytree(CASES / "shopify-imported-history" / "landing", landing)
    orders = landing / "shopify" / "orders" / "orders_export_history.csv"
    # Every order dated in a format no export writes: all rows quarantined.
    orders.write_text(orders.read_text().replace(" -0500,", " EST,").replace(" -0400,", " EDT,"))
    home = tmp_path / "home"
    done = storeops("run", "--landing", str(landing), "--as-of", AS_OF, home=home)
    assert done.returncode == 1, done.stdout[-3000:] + done.stderr[-3000:]
    assert "file_not_mostly_quarantined" in done.stderr
    assert "orders_export_history.csv" in done.stderr and "Created at" in done.stderr
    assert "run failed" not in done.stderr and "Traceback" not in done.stdout + done.stderr
    report = (home / "output" / "quality" / "index.md").read_text()
    assert "file_not_mostly_quarantined" in report
