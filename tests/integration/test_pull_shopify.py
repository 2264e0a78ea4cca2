"""Shopify orders pulled through the GraphQL Admin API (a local mock that answers as
Shopify documents: tests/shopify_mock.py) land as export-shaped pages that the real
loader and staging read like an export."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
import pytest

from orchestration.ingest import SPECS_BY_TABLE, ingest_source
from orchestration.pull import CredentialError
from orchestration.pull.shopify import (
    MAX_PAGE_SIZE,
    ORDERS_QUERY,
    PullError,
    ShopifyClient,
    ShopifySettings,
    pull_orders,
)
from tests.dbt_sql import build_model
from tests.shopify_mock import (
    MAX_QUERY_COST,
    ShopifyMock,
    balance_transaction,
    order,
    requested_cost,
)

TOKEN = "shpat_planted_secret_0123456789abcdef"
TZ = "America/Chicago"


def shop_orders() -> list[dict]:
    """12 orders: #1012 has 12 lines (past a page's 10), #1007 three refunds (past a
    page's 2), one with 7 refunded lines (past 5) and refunded shipping."""
    orders = []
    for n in range(1001, 1013):
        lines = [{"sku": f"SKU-{n % 3}", "quantity": 1 + n % 2, "price": 10 + n % 5}]
        if n == 1012:
            lines = [{"sku": f"SKU-L{i}", "quantity": 1, "price": 3} for i in range(12)]
        refunds = []
        if n == 1007:
            lines = [{"sku": f"SKU-R{i}", "quantity": 2, "price": 4} for i in range(8)]
            refunds = [{"lines": [(i, 1, "0.32") for i in range(7)], "shipping": [("5.00", "0.40")]},
                       {"lines": [(7, 1, "0.32")]}, {"lines": [(7, 1, "0.32")]}]
        orders.append(order(n, created=f"2026-11-{n - 990:02d}T15:00:00Z",
                            updated=f"2026-11-{n - 990:02d}T18:00:00Z", lines=lines,
                            refunds=refunds, financial="PARTIALLY_REFUNDED" if refunds else "PAID"))
    return orders


@pytest.fixture
def shop(httpserver):
    return ShopifyMock(httpserver, token=TOKEN, orders=shop_orders())


@pytest.fixture
def settings(httpserver):
    return ShopifySettings(shop="storeops-test.myshopify.com", base_url=httpserver.url_for("/"))


def client(settings, **kwargs) -> ShopifyClient:
    return ShopifyClient(settings, TOKEN, backoff=0.05, **kwargs)


def load(landing: Path, con) -> object:
    return ingest_source(con, landing, SPECS_BY_TABLE["shopify_orders"], run_id="test",
                         timezone=TZ)


def test_the_orders_query_fits_shopifys_cost_limit():
    assert requested_cost(ORDERS_QUERY, {"first": MAX_PAGE_SIZE}) <= MAX_QUERY_COST
    assert requested_cost(ORDERS_QUERY, {"first": MAX_PAGE_SIZE + 1}) > MAX_QUERY_COST
    with pytest.raises(ValueError, match="page_size must be 1-6"):
        ShopifySettings.from_config({"shop": "x.myshopify.com", "page_size": 50})


def test_a_pull_lands_pages_the_loader_reads_like_an_export(shop, settings, tmp_path):
    home, landing = tmp_path / "home", tmp_path / "landing"
    log = pull_orders(home, landing, settings, timezone=TZ, client=client(settings))
    assert (log.status, log.records, log.pages) == ("done", 12, 3)
    # 3 pages + the follow-ups: #1012's lines, #1007's refund ids, its refund with 7 lines
    # and its third refund (not in the page); a query the bucket could not pay yet was
    # answered THROTTLED and asked again.
    answered = [r[0] for r in shop.requests if r[2] == 200]
    assert answered.count("StoreopsOrders") == 3
    assert answered.count("StoreopsOrderLines") == 1
    assert answered.count("StoreopsOrderRefunds") == 1
    assert answered.count("StoreopsRefund") == 2
    assert log.requests == len(shop.requests) == 7 + [r[2] for r in shop.requests].count("THROTTLED")
    assert max(r[3] for r in shop.requests) <= MAX_QUERY_COST
    assert log.cursor == "2026-11-22T18:00:00Z"
    assert log.rows == 10 + 12 + 8  # one line each, #1012 12 lines, #1007 8

    con = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    result = load(landing, con)
    assert [f.status for f in result.files] == ["loaded"] * 3
    assert result.rows_loaded == log.rows and result.rows_quarantined == 0
    assert not [w for f in result.files for w in f.warnings]
    # The export's shape: order money on the first row, times in the store's zone.
    first = con.execute("""
        select name, created_at, updated_at, subtotal, taxes, total, refunded_amount,
               refunded_shipping, refunded_taxes, tax_1_name, accepts_marketing,
               financial_status, _source_file
        from raw.shopify_orders where name = '#1007' and subtotal is not null""").fetchone()
    assert first[0] == "#1007"
    assert str(first[1]) == "2026-11-17 15:00:00"  # stored in UTC, read from 09:00 -0600
    assert str(first[2]) == "2026-11-17 18:00:00"
    assert (first[3], first[4], first[5]) == (Decimal("64.0000"), Decimal("5.1200"), Decimal("74.1200"))
    # Refunds: 9 units at $4 with $0.32 tax each, shipping $5.00 with $0.40 tax.
    assert first[6] == Decimal("36.0000") + Decimal("2.8800") + Decimal("5.4000")
    assert (first[7], first[8]) == ("5.00", "3.28")
    assert first[9] == "Texas State Tax 8%"
    assert (first[10], first[11]) == (True, "partially_refunded")
    assert first[12].startswith("shopify/orders/api_orders_")
    refunded = con.execute("""select sum(cast(lineitem_refunded_quantity as int))
                              from raw.shopify_orders where name = '#1007'""").fetchone()[0]
    assert refunded == 9
    assert con.execute("select count(*) from raw.shopify_orders where name = '#1012'").fetchone()[0] == 12


def test_a_second_pull_fetches_only_what_changed_and_newest_wins_in_staging(shop, settings, tmp_path):
    home, landing = tmp_path / "home", tmp_path / "landing"
    pull_orders(home, landing, settings, timezone=TZ, client=client(settings))
    before = len(shop.requests)
    # Two orders change after the first pull: #1003 is refunded in full, #1010 cancelled.
    for o in shop.orders:
        if o["name"] == "#1003":
            o["updatedAt"], o["displayFinancialStatus"] = "2026-11-30T12:00:00Z", "REFUNDED"
            o["totalRefundedSet"] = o["totalPriceSet"]
        if o["name"] == "#1010":
            o["updatedAt"], o["cancelledAt"] = "2026-11-30T13:00:00Z", "2026-11-30T13:00:00Z"
    second = pull_orders(home, landing, settings, timezone=TZ, client=client(settings))
    # Resumed from the cursor (>= 2026-11-22T18:00:00Z): #1012 again, then the two changed.
    assert shop.requests[before][1]["query"] == "updated_at:>='2026-11-22T18:00:00Z'"
    assert second.records == 3 and second.pages == 1
    assert second.requests == len(shop.requests) - before == 2  # the page and #1012's lines
    assert second.cursor == "2026-11-30T13:00:00Z"
    # With nothing new, a pull fetches the boundary order (#1010) again: the first such
    # page is new content, the next is the same file content, which the loader skips.
    third = pull_orders(home, landing, settings, timezone=TZ, client=client(settings))
    fourth = pull_orders(home, landing, settings, timezone=TZ, client=client(settings))
    assert third.records == fourth.records == 1

    con = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    statuses = [f.status for f in load(landing, con).files]
    assert statuses.count("loaded") == 5 and statuses.count("skipped") == 1
    build_model(con, "stg_shopify__orders", {"taxes_included": "auto", "store_timezone": TZ})
    rows = dict(con.execute("select order_name, financial_status from staging.stg_shopify__orders"
                            ).fetchall())
    assert len(rows) == 12
    assert rows["#1003"] == "refunded" and rows["#1004"] == "paid"
    cancelled = con.execute("select is_cancelled from staging.stg_shopify__orders "
                            "where order_name = '#1010'").fetchone()[0]
    assert cancelled is True
    log = [json.loads(line) for line in (home / "pulls" / "log.jsonl").read_text().splitlines()]
    assert [entry["records"] for entry in log] == [12, 3, 1, 1]
    assert log[1]["since"] == "2026-11-22T18:00:00Z"


def test_a_newer_export_wins_over_an_older_pull_and_the_reverse(shop, settings, tmp_path):
    """newest_file_wins: a page is dated by its orders' Updated at, an export by its orders'
    Created at, so whichever copy of an order is newer is the one staging keeps."""
    home, landing = tmp_path / "home", tmp_path / "landing"
    pull_orders(home, landing, settings, timezone=TZ, client=client(settings))
    export = landing / "shopify" / "orders" / "orders_export_1.csv"
    header = ("Name,Email,Financial Status,Paid at,Fulfillment Status,Currency,Subtotal,Shipping,"
              "Taxes,Total,Created at,Lineitem quantity,Lineitem name,Lineitem price,Lineitem sku\n")
    # An old export (orders up to Nov 12) still saying #1002 is pending: the pull is newer.
    # A later export (reaching Dec 1) saying #1005 was voided: the export is newer.
    export.write_text(header +
                      "#1002,a@example.com,pending,,unfulfilled,USD,20,5,1.6,26.6,"
                      "2026-11-12 09:00:00 -0600,1,P,20,SKU-2\n")
    (export.parent / "orders_export_2.csv").write_text(
        header + "#1005,b@example.com,voided,,unfulfilled,USD,20,5,1.6,26.6,"
        "2026-12-01 09:00:00 -0600,1,P,20,SKU-2\n")
    con = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    load(landing, con)
    build_model(con, "stg_shopify__orders", {"taxes_included": "auto", "store_timezone": TZ})
    rows = dict(con.execute("select order_name, financial_status from staging.stg_shopify__orders"
                            ).fetchall())
    assert rows["#1002"] == "paid"
    assert rows["#1005"] == "voided"


def test_throttled_answers_are_waited_out_from_the_throttle_status(httpserver, settings, tmp_path):
    # A bucket of 1,000 points refilling at 2,000 a second, empty at the start: the first
    # query is answered THROTTLED with HTTP 200 (not a 429), the client waits what the
    # bucket lacks at the restore rate and asks again; later pages wait ahead.
    shop = ShopifyMock(httpserver, token=TOKEN, orders=shop_orders(), maximum=1000,
                       restore_rate=2000)
    shop.drain_next = True
    waits = []

    def sleep(seconds):
        waits.append(seconds)
        time.sleep(seconds)

    log = pull_orders(tmp_path / "home", tmp_path / "landing", settings, timezone=TZ,
                      client=client(settings, sleep=sleep))
    assert log.status == "done" and log.records == 12
    statuses = [r[2] for r in shop.requests]
    assert statuses[0] == "THROTTLED" and statuses[1] == 200
    assert 0.4 < waits[0] < 0.45  # 822 points lacking at 2,000 a second
    assert log.throttle_waits == len(waits) > 1
    assert all(0 < w < 1 for w in waits)


def test_429_and_500_are_retried_and_a_rejected_token_is_one_line(shop, settings, tmp_path):
    shop.fail = {1: "429", 3: "500"}
    log = pull_orders(tmp_path / "home", tmp_path / "landing", settings, timezone=TZ,
                      client=client(settings))
    assert log.status == "done" and log.records == 12
    assert [r[2] for r in shop.requests[:4]] == [429, 200, 500, 200]

    wrong = ShopifyClient(settings, "shpat_wrong", backoff=0.05)
    with pytest.raises(CredentialError) as caught:
        pull_orders(tmp_path / "home2", tmp_path / "landing2", settings, timezone=TZ, client=wrong)
    message = str(caught.value)
    assert "SHOPIFY_ACCESS_TOKEN was rejected" in message and "\n" not in message
    assert "shpat_wrong" not in message

    shop.fail = {n: "500" for n in range(len(shop.requests) + 1, len(shop.requests) + 10)}
    with pytest.raises(PullError, match="HTTP 500 after retries"):
        pull_orders(tmp_path / "home3", tmp_path / "landing3", settings, timezone=TZ,
                    client=ShopifyClient(settings, TOKEN, backoff=0.01, max_attempts=3))


def test_storeops_pull_killed_mid_pull_resumes_and_never_leaks_the_token(shop, httpserver, tmp_path):
    """`storeops pull` killed (SIGKILL) between writing a page and saving its cursor, then
    run again: every order lands, none twice in staging; the token is nowhere."""
    home, landing = tmp_path / "home", tmp_path / "landing"
    home.mkdir()
    (home / "storeops.yml").write_text(
        f"timezone: {TZ}\nlanding: {landing}\nsources:\n  shopify:\n"
        f"    shop: storeops-test.myshopify.com\n    base_url: {httpserver.url_for('/')}\n")
    env = {**os.environ, "SHOPIFY_ACCESS_TOKEN": TOKEN, "STOREOPS_FAILPOINT": "pull:2"}
    cmd = [sys.executable, "-m", "orchestration.cli", "pull", "--home", str(home)]
    killed = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert killed.returncode == -9
    pages = sorted((landing / "shopify" / "orders").iterdir())
    assert len(pages) == 2  # the second page written, its cursor not saved
    state = json.loads((home / "pulls" / "state.json").read_text())
    assert state == {"shopify/orders": "2026-11-15T18:00:00Z"}  # after page 1

    del env["STOREOPS_FAILPOINT"]
    resumed = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert "shopify orders: 8 records in 2 pages" in resumed.stdout

    con = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    result = load(landing, con)
    assert result.rows_quarantined == 0
    build_model(con, "stg_shopify__orders", {"taxes_included": "auto", "store_timezone": TZ})
    names = [r[0] for r in con.execute("select order_name from staging.stg_shopify__orders").fetchall()]
    assert sorted(names) == [f"#{n}" for n in range(1001, 1013)]

    # The planted token appears in no output, log, landing file, state or table.
    for text in (killed.stdout, killed.stderr, resumed.stdout, resumed.stderr):
        assert TOKEN not in text
    for path in [*home.rglob("*"), *landing.rglob("*")]:
        if path.is_file():
            assert TOKEN.encode() not in path.read_bytes(), path
    for (table,) in con.execute("select table_schema || '.' || table_name "
                                "from information_schema.tables").fetchall():
        assert not con.execute(f"select count(*) from {table} t "
                               "where position(? in cast(t as varchar)) > 0", [TOKEN]).fetchone()[0]


def test_a_missing_token_is_one_line_naming_the_variable(httpserver, tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    (home / "storeops.yml").write_text(
        "sources:\n  shopify:\n    shop: storeops-test.myshopify.com\n"
        f"    base_url: {httpserver.url_for('/')}\n")
    env = {k: v for k, v in os.environ.items() if k != "SHOPIFY_ACCESS_TOKEN"}
    run = subprocess.run([sys.executable, "-m", "orchestration.cli", "pull", "--home", str(home)],
                         env=env, capture_output=True, text=True, timeout=120, check=False)
    assert run.returncode == 2
    assert run.stderr.strip().startswith("SHOPIFY_ACCESS_TOKEN is not set")
    assert len(run.stderr.strip().splitlines()) == 1


def test_dagster_pulls_before_loading_reports_the_pull_and_checks_freshness(shop, httpserver,
                                                                           tmp_path, monkeypatch):
    import dagster as dg

    from orchestration.defs import ingest, pull
    from orchestration.defs.resources import resources_for
    from orchestration.defs.shared import PULL_TAG, pull_key, raw_key
    from orchestration.settings import Settings

    home = tmp_path / "home"
    home.mkdir()
    (home / "storeops.yml").write_text(
        f"timezone: {TZ}\nsources:\n  shopify:\n    shop: storeops-test.myshopify.com\n"
        f"    base_url: {httpserver.url_for('/')}\n    freshness_hours: 1\n")
    settings = Settings.load(home)
    raw_orders = next(a for a in ingest.raw_assets if raw_key("shopify_orders") in a.keys)
    pull_orders_asset = next(a for a in pull.pull_assets if pull_key("shopify_orders") in a.keys)
    fresh = next(c for c in pull.pull_checks
                 if next(iter(c.check_keys)).asset_key == pull_key("shopify_orders"))
    assets = [pull_orders_asset, raw_orders]
    monkeypatch.setenv("SHOPIFY_ACCESS_TOKEN", TOKEN)
    with dg.instance_for_test() as instance:
        # storeops run without --pull: nothing is asked of the API.
        quiet = dg.materialize(assets, resources=resources_for(settings), instance=instance,
                               tags={PULL_TAG: "false"})
        assert quiet.success and shop.requests == []
        result = dg.materialize([*assets, fresh], resources=resources_for(settings),
                                instance=instance)
    assert result.success
    order = [e.asset_key for e in result.get_asset_materialization_events()]
    assert order == [pull_key("shopify_orders"), raw_key("shopify_orders")]
    pulled = result.asset_materializations_for_node("pull__shopify_orders")[0].metadata
    assert pulled["records"].value == 12 and pulled["pages"].value == 3
    assert pulled["cursor"].text == "2026-11-22T18:00:00Z"
    loaded = result.asset_materializations_for_node("raw__shopify_orders")[0].metadata
    assert loaded["rows_loaded"].value == 30 and loaded["files_loaded"].value == 3
    check = result.get_asset_check_evaluations()[0]
    assert check.passed and check.metadata["hours_since_pull"].value < 1

    # An hour-old limit and no pull since: a pull whose token is refused fails the check
    # (ERROR, not blocking) and says why; the run still loads what is in the folder.
    (home / "pulls" / "log.jsonl").write_text(
        (home / "pulls" / "log.jsonl").read_text().replace('"pull_id": "2026', '"pull_id": "2025'))
    monkeypatch.setenv("SHOPIFY_ACCESS_TOKEN", "shpat_refused")
    with dg.instance_for_test() as instance:
        failed = dg.materialize([*assets, fresh], resources=resources_for(settings),
                                instance=instance)
    assert failed.success
    meta = failed.asset_materializations_for_node("pull__shopify_orders")[0].metadata
    assert "SHOPIFY_ACCESS_TOKEN was rejected" in meta["error"].text
    check = failed.get_asset_check_evaluations()[0]
    assert not check.passed and check.severity == dg.AssetCheckSeverity.ERROR
    assert "last attempt failed: SHOPIFY_ACCESS_TOKEN was rejected" in check.description


def test_products_land_as_the_products_export_with_unit_cost(httpserver, settings, tmp_path):
    from orchestration.pull.shopify import pull_products
    from tests.shopify_mock import product

    products = [product(n, updated=f"2026-11-{n:02d}T10:00:00Z",
                        variants=[{"sku": f"P{n}-{c}", "price": 20 + n, "cost": 8 + n / 10,
                                   "color": c} for c in ("Red", "Blue")])
                for n in range(1, 8)]
    products.append(product(9, updated="2026-11-09T10:00:00Z", variants=[
        {"sku": f"BIG-{i}", "price": 5, "cost": None, "color": f"C{i}", "grams": 1500}
        for i in range(25)]))  # past a page's 20 variants; one without a unit cost
    shop = ShopifyMock(httpserver, token=TOKEN, orders=[], products=products)
    home, landing = tmp_path / "home", tmp_path / "landing"
    log = pull_products(home, landing, settings, timezone=TZ, client=client(settings))
    assert (log.records, log.rows, log.pages) == (8, 14 + 25, 2)
    assert [r[0] for r in shop.requests if r[2] == 200].count("StoreopsProductVariants") == 1
    con = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    result = ingest_source(con, landing, SPECS_BY_TABLE["shopify_products"], run_id="t", timezone=TZ)
    assert result.rows_loaded == 39 and result.rows_quarantined == 0
    build_model(con, "stg_shopify__products", {"store_timezone": TZ})
    rows = {r[0]: r[1:] for r in con.execute(
        "select sku, unit_cost, price, variant_title, product_title, status "
        "from staging.stg_shopify__products").fetchall()}
    assert rows["P3-Blue"] == (Decimal("8.3000"), Decimal("23.0000"), "Blue", "Product 3", "active")
    assert rows["BIG-24"][0] is None  # no unit cost: null, never a zero
    grams = con.execute("select variant_grams from raw.shopify_products where variant_sku = 'BIG-0'"
                        ).fetchone()[0]
    assert grams == 1500  # 1.5 KILOGRAMS
    # Incremental: one product changes; the next pull asks from the cursor.
    products[2]["updatedAt"], products[2]["title"] = "2026-11-20T10:00:00Z", "Product 3 (new)"
    second = pull_products(home, landing, settings, timezone=TZ, client=client(settings))
    assert second.records == 2 and second.since == "2026-11-09T10:00:00Z"


def test_customers_and_an_inventory_snapshot_land_as_their_exports(httpserver, settings, tmp_path):
    from orchestration.pull.shopify import pull_customers, pull_inventory
    from tests.shopify_mock import customer, inventory_level

    customers = [customer(n, updated=f"2026-11-{1 + n % 28:02d}T08:00:00Z", spent=50.0 * n,
                          consent="SUBSCRIBED" if n % 2 else "UNSUBSCRIBED") for n in range(1, 151)]
    customers.append(customer(999, updated="2026-11-30T08:00:00Z", email=None))
    inventory = {"Main warehouse": [inventory_level(f"SKU-{i}", available=10 + i, on_hand=12 + i,
                                                    committed=2) for i in range(130)]
                 + [inventory_level(None, available=1, on_hand=1)],
                 "Store": [inventory_level("SKU-1", available=3, on_hand=3)]}
    ShopifyMock(httpserver, token=TOKEN, orders=[], customers=customers, inventory=inventory)
    home, landing = tmp_path / "home", tmp_path / "landing"
    people = pull_customers(home, landing, settings, timezone=TZ, client=client(settings))
    assert (people.records, people.rows, people.pages) == (151, 150, 2)  # one without email
    stock = pull_inventory(home, landing, settings, timezone=TZ, client=client(settings),
                           today=date(2026, 12, 1))
    assert (stock.rows, stock.pages, stock.cursor) == (131, 3, "2026-12-01")

    con = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    for table in ("shopify_customers", "shopify_inventory"):
        result = ingest_source(con, landing, SPECS_BY_TABLE[table], run_id="t", timezone=TZ)
        assert result.rows_quarantined == 0 and result.rows_loaded in (150, 131), table
    row = con.execute("select accepts_email_marketing, total_spent, total_orders, first_name "
                      "from raw.shopify_customers where email = 'buyer4@example.com'").fetchone()
    assert row == (False, Decimal("200.0000"), 3, None)  # no names requested
    levels = con.execute("select location, available, on_hand, committed, unavailable, "
                         "cast(as_of as varchar) from raw.shopify_inventory "
                         "where sku = 'SKU-1' order by location").fetchall()
    assert levels == [("Main warehouse", 11, 13, 2, 1, "2026-12-01"),
                      ("Store", 3, 3, 0, 1, "2026-12-01")]


def test_an_app_of_the_stores_organisation_gets_its_token_by_client_credentials(
        httpserver, tmp_path, monkeypatch):
    from orchestration.pull.shopify import access_token

    ShopifyMock(httpserver, token=TOKEN, orders=shop_orders(), app=("app-id-1", "app-secret-2"))
    settings = ShopifySettings.from_config({"shop": "storeops-test.myshopify.com",
                                            "base_url": httpserver.url_for("/"),
                                            "client_id": "app-id-1"})
    monkeypatch.delenv("SHOPIFY_ACCESS_TOKEN", raising=False)
    monkeypatch.setenv("SHOPIFY_CLIENT_SECRET", "app-secret-2")
    assert access_token(settings) == TOKEN
    log = pull_orders(tmp_path / "home", tmp_path / "landing", settings, timezone=TZ)
    assert log.records == 12
    monkeypatch.setenv("SHOPIFY_CLIENT_SECRET", "wrong")
    with pytest.raises(CredentialError, match="SHOPIFY_CLIENT_SECRET .* was refused"):
        access_token(settings)
    monkeypatch.delenv("SHOPIFY_CLIENT_SECRET")
    with pytest.raises(CredentialError, match="SHOPIFY_CLIENT_SECRET is not set"):
        access_token(settings)


# Shopify Payments balance transactions (shopifyPaymentsAccount.balanceTransactions),
# written as the Payouts "Export transactions" CSV into shopify/payouts/.
PAYMENTS_HEADER = ("Transaction Date,Type,Order,Card Brand,Card Source,Payout Status,Payout Date,"
                   "Payout ID,Available On,Amount,Fee,Net,Checkout,Payment Method Name,"
                   "Presentment Amount,Presentment Currency,Currency")


def ago(days: float) -> str:
    """The instant `days` before now, as the Admin API writes a DateTime."""
    return (datetime.now(UTC) - timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%SZ")


def shop_transactions() -> list[dict]:
    """Charges of #1001-#1012 and #1014 (fee 2.9% + 0.30), the first 90 days ago (before
    a first pull's 60 days), #1002-#1009 paid in payouts 502 and 503, #1014 (5 days ago),
    #1011 (3) and #1012 (2) pending; a refund of #1003 (negative, fee 0), an adjustment of
    no order, a test-mode charge and a payout (TRANSFER, left out by hideTransfers)."""
    tx = balance_transaction

    def charge(n, days, payout=None):
        amount = Decimal(10 + n % 7) + Decimal("0.99")
        fee = (amount * Decimal("0.029") + Decimal("0.30")).quantize(Decimal("0.01"))
        return tx(n, date=ago(days), amount=amount, fee=fee, order=f"#{n}", payout=payout,
                  payout_status="PAID" if payout else "PENDING")

    out = [charge(1001, 90, payout=501)]
    out += [charge(n, 20 - (n - 1002) * 0.9, payout=502 if n < 1006 else 503)
            for n in range(1002, 1010)]
    out += [tx(2001, date=ago(12), type="REFUND", amount="-15.00", order="#1003", payout=503,
               payout_status="PAID"),
            tx(2002, date=ago(11), type="ADJUSTMENT", amount="-5.00", payout=503,
               payout_status="PAID"),
            tx(2003, date=ago(10), amount="25.00", fee="1.03", order="#1010", test=True),
            tx(2004, date=ago(9.5), type="TRANSFER", amount="-150.00", payout=503,
               payout_status="PAID"),
            charge(1014, 5), charge(1011, 3), charge(1012, 2)]
    return out


def load_payments(landing: Path, con):
    return ingest_source(con, landing, SPECS_BY_TABLE["shopify_payment_transactions"],
                         run_id="test", timezone=TZ)


def effective_payments(con) -> dict[tuple, tuple]:
    """raw.shopify_payment_transactions as staging keeps it (dbt's newest_file_wins on
    Transaction Date, Type, Order, Amount: the file reaching the latest date, then the one
    loaded last): key -> (payout_status, payout_id)."""
    rows = con.execute("""
        select transaction_date, type, order_name, amount, payout_status, payout_id from (
            select r.*, row_number() over (
                partition by r.transaction_date, r.type, r.order_name, r.amount
                order by f.max_date desc nulls last, r._loaded_at desc, r._source_file desc,
                         r._source_row desc) as rank
            from raw.shopify_payment_transactions r
            left join raw.load_log f on f.file_sha256 = r._file_sha256 and f.status = 'loaded')
        where rank = 1""").fetchall()
    return {row[:4]: row[4:] for row in rows}


def test_payment_transactions_land_as_the_payouts_export(httpserver, settings, tmp_path):
    from orchestration.pull.shopify import PAYMENTS_QUERY, pull_payment_transactions

    assert requested_cost(PAYMENTS_QUERY, {"first": 100}) <= MAX_QUERY_COST
    shop = ShopifyMock(httpserver, token=TOKEN, orders=[], transactions=shop_transactions())
    home, landing = tmp_path / "home", tmp_path / "landing"
    log = pull_payment_transactions(home, landing, settings, timezone=TZ, client=client(settings))
    # First pull: initial_days (60) back, like orders: not the charge 90 days ago.
    asked = shop.requests[0][1]["query"]
    start = datetime.fromisoformat(asked.removeprefix("processed_at:>='").removesuffix("'"))
    assert abs(start - (datetime.now(UTC) - timedelta(days=60))) < timedelta(minutes=5)
    # 14 transactions since then (the payout is hidden); the test-mode one is not written.
    assert (log.status, log.records, log.rows) == ("done", 14, 13)
    assert log.cursor == max(t["transactionDate"] for t in shop.transactions
                             if t["type"] != "TRANSFER")
    assert json.loads((home / "pulls" / "state.json").read_text()) == {
        "shopify/payment_transactions": log.cursor}
    files = sorted((landing / "shopify" / "payouts").iterdir())
    assert len(files) == log.pages >= 2  # one file per day of transactions
    for file in files:
        assert file.read_text().splitlines()[0] == PAYMENTS_HEADER

    con = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    result = load_payments(landing, con)
    assert result.rows_loaded == 13 and result.rows_quarantined == 0
    assert not [w for f in result.files for w in f.warnings]
    assert con.execute("select count(*) from raw.shopify_payment_transactions "
                       "where amount - fee <> net").fetchone()[0] == 0
    rows = {(r[0], r[1]): r[2:] for r in con.execute("""
        select type, order_name, amount, fee, net, payout_status, payout_id, payout_date,
               currency, card_brand from raw.shopify_payment_transactions""").fetchall()}
    assert {t for t, _ in rows} == {"charge", "refund", "adjustment"}  # no test, no payout
    assert rows[("refund", "#1003")] == (Decimal("-15.0000"), Decimal("0.0000"),
                                         Decimal("-15.0000"), "paid", "503", None, "USD", None)
    assert rows[("charge", "#1004")][3:5] == ("paid", "502")
    assert rows[("charge", "#1012")][3:5] == ("pending", None)
    assert rows[("adjustment", None)][0] == Decimal("-5.0000")
    # Transaction Date is written in the store's timezone with its offset, stored in UTC.
    first = next(t for t in shop.transactions if t["associatedOrder"]
                 and t["associatedOrder"]["name"] == "#1002")
    text = next(line for f in files for line in f.read_text().splitlines() if ",#1002," in line)
    moment = datetime.fromisoformat(first["transactionDate"])
    assert text.startswith(moment.astimezone(ZoneInfo(TZ)).strftime("%Y-%m-%d %H:%M:%S %z"))
    stored = con.execute("select transaction_date from raw.shopify_payment_transactions "
                         "where order_name = '#1002'").fetchone()[0]
    assert stored == moment.replace(tzinfo=None)


def test_a_later_pull_rereads_a_week_and_the_paid_copy_wins(httpserver, settings, tmp_path,
                                                          monkeypatch):
    from orchestration.pull import shopify

    # Pages of 2: the first pull has #1011 on a page with #1012 (2 days ago), the second
    # on one with #1014 (5 days ago); dated by page, the older copy would win.
    monkeypatch.setattr(shopify, "PAYMENTS_PAGE", 2)
    shop = ShopifyMock(httpserver, token=TOKEN, orders=[], transactions=shop_transactions())
    home, landing = tmp_path / "home", tmp_path / "landing"
    first = shopify.pull_payment_transactions(home, landing, settings, timezone=TZ,
                                              client=client(settings))
    con = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    load_payments(landing, con)
    pending = next(t for t in shop.transactions
                   if (t["associatedOrder"] or {}).get("name") == "#1011")
    before = effective_payments(con)
    assert [v for k, v in before.items() if k[2] == "#1011"] == [("pending", None)]

    # Days later #1011 is paid out in payout 504; a new charge arrives.
    pending["associatedPayout"] = {"id": "gid://shopify/ShopifyPaymentsPayout/504",
                                   "status": "PAID"}
    shop.transactions.append(balance_transaction(1013, date=ago(1), amount="30.00", fee="1.17",
                                                 order="#1013"))
    asked = len(shop.requests)
    second = shopify.pull_payment_transactions(home, landing, settings, timezone=TZ,
                                               client=client(settings))
    window = (datetime.fromisoformat(first.cursor) - timedelta(days=7)).strftime(
        "%Y-%m-%dT%H:%M:%SZ")
    assert second.since == window
    assert {r[1]["query"] for r in shop.requests[asked:]} == {f"processed_at:>='{window}'"}
    # From the cursor (2 days ago) less 7 days: #1014, #1011, #1012 and the new #1013.
    assert (second.status, second.records, second.rows) == ("done", 4, 4)
    assert second.cursor == shop.transactions[-1]["transactionDate"]
    written = [line for f in second.files for line in (landing / f).read_text().splitlines()[1:]]
    assert any(",#1011,,,paid,,504," in line for line in written)

    result = load_payments(landing, con)
    assert result.rows_quarantined == 0
    after = effective_payments(con)
    assert len(after) == len(before) + 1  # the new charge; #1011 replaced, not doubled
    assert [v for k, v in after.items() if k[2] == "#1011"] == [("paid", "504")]
    assert [v for k, v in after.items() if k[2] == "#1012"] == [("pending", None)]
    assert {k: v for k, v in after.items() if k[2] not in ("#1011", "#1013")} == \
        {k: v for k, v in before.items() if k[2] != "#1011"}


@pytest.mark.parametrize("account", ["none", "denied"])
def test_a_store_without_shopify_payments_skips_it_and_pulls_the_rest(account, httpserver,
                                                                     tmp_path, monkeypatch):
    from orchestration.pull.sources import pull_source
    from orchestration.settings import Settings

    shop = ShopifyMock(httpserver, token=TOKEN, orders=shop_orders(), payments_account=account)
    home, landing = tmp_path / "home", tmp_path / "landing"
    store = Settings(home=home, landing=landing, timezone=TZ, currency="USD", sources={
        "shopify": {"shop": "storeops-test.myshopify.com", "base_url": httpserver.url_for("/")}})
    monkeypatch.setenv("SHOPIFY_ACCESS_TOKEN", TOKEN)
    logs = {log.resource: log for log in pull_source("shopify", store)}
    assert list(logs) == ["orders", "products", "customers", "inventory", "payment_transactions"]
    assert logs["orders"].status == "done" and logs["orders"].records == 12
    skipped = logs["payment_transactions"]
    assert (skipped.status, skipped.pages, skipped.rows) == ("skipped", 0, 0)
    assert "read_shopify_payments_payouts" in skipped.error and "View payouts" in skipped.error
    assert "\n" not in skipped.error and TOKEN not in skipped.error
    assert ("no Shopify Payments account" if account == "none" else "Access denied") \
        in skipped.error
    assert [r[0] for r in shop.requests].count("StoreopsPaymentTransactions") == 1
    assert not (landing / "shopify" / "payouts").exists()
    entries = [json.loads(line) for line in (home / "pulls" / "log.jsonl").read_text().splitlines()]
    assert [(e["resource"], e["status"]) for e in entries][-1] == ("payment_transactions",
                                                                  "skipped")
    assert entries[-1]["error"] == skipped.error
    assert "shopify/payment_transactions" not in json.loads(
        (home / "pulls" / "state.json").read_text())


def test_a_throttled_payments_query_is_waited_out_and_asked_again(httpserver, settings,
                                                                  tmp_path):
    from orchestration.pull.shopify import pull_payment_transactions

    shop = ShopifyMock(httpserver, token=TOKEN, orders=[], transactions=shop_transactions(),
                       maximum=1000, restore_rate=4000)
    shop.drain_next = True
    waits = []

    def sleep(seconds):
        waits.append(seconds)
        time.sleep(seconds)

    log = pull_payment_transactions(tmp_path / "home", tmp_path / "landing", settings,
                                    timezone=TZ, client=client(settings, sleep=sleep))
    assert (log.status, log.rows) == ("done", 13)
    statuses = [r[2] for r in shop.requests]
    assert statuses == ["THROTTLED", 200]
    assert log.throttle_waits == len(waits) == 1 and 0.1 < waits[0] < 0.2  # 603 at 4,000/s
