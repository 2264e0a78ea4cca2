"""Item 5 of issue 19: the demo store served through the vendor mocks (tests/demo_api.py
turns what its exports loaded into the records each API documents), pulled by every
puller and loaded, gives the same staging tables as its export files, column by column,
and the same marts (dbt run on each warehouse). The staging columns that differ are
exactly the ones only one side carries (EXPORT_ONLY, PULL_ONLY, each with its reason), so
a column that starts to differ fails the test; none of them reaches a mart. A second pull
the next morning fetches only what changed."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import duckdb
import pytest

from orchestration.ingest import SPECS_BY_TABLE, ingest_source
from orchestration.pull import google_ads, gorgias, meta, shopify, tiktok, zendesk
from orchestration.pull.sources import RESOURCES
from tests import demo_api
from tests.dbt_sql import build_model
from tests.google_ads_mock import GoogleAdsMock
from tests.gorgias_mock import GorgiasMock
from tests.meta_mock import MetaMock
from tests.shopify_mock import ShopifyMock, orders_from_warehouse
from tests.tiktok_mock import TikTokMock
from tests.zendesk_mock import ZendeskMock

TOKEN = "shpat_planted_demo_token"
SECRETS = {google_ads.DEVELOPER_TOKEN_ENV: "dev-token", google_ads.CLIENT_SECRET_ENV: "secret",
           google_ads.REFRESH_TOKEN_ENV: "1//refresh"}
PRODUCTS_UPDATED = "2026-11-20T08:00:00Z"

# Staging columns only one side fills (model -> column -> why). Every other column of
# every staging model fed by a pulled table is equal, row by row. Columns the pull adds to
# the raw tables (Meta and TikTok ad ids, orders' and products' Updated at) do not reach
# staging; the raw export columns the pull leaves empty (Meta's Results and Cost per
# result, Google's CTR / Avg. CPC / Cost per conv., which are ratios of columns both
# sides carry) are not staged either.
EXPORT_ONLY = {
    "stg_shopify__order_lines": {
        "compare_at_price": "the export's compare-at price when ordered; the Admin API's "
                            "line items do not carry it (a variant's compareAtPrice is "
                            "today's, not the order's)"},
    "stg_shopify__customers": {
        "first_name": "the pull asks for no names: nothing downstream reads them",
        "last_name": "as first_name"},
    "stg_meta_ads__ad_daily": {
        "delivery_status": "an Ads Manager column (the ad's status today), not an insights "
                           "field"},
    # ShopifyPaymentsBalanceTransaction has no card, payment method or payout date fields
    # (orchestration/pull/shopify.py, PAYMENT_TRANSACTIONS_QUERY): nothing downstream
    # reads the card and method; the payout date only names a payout that has an id.
    "stg_shopify__payment_transactions": {
        "card_brand": "not a field of the API's balance transaction",
        "card_source": "as card_brand",
        "payment_method_name": "as card_brand",
        "payout_date": "the payout's date is not a field of the transaction",
        "available_on": "as payout_date"},
}
PULL_ONLY: dict[str, dict[str, str]] = {}
# fct_payouts.payout_date: the pulled transactions carry their payout's id and status but
# not its date (see EXPORT_ONLY); the payout is the same, keyed by its id.
MART_DIFFERENCES: dict[str, set[str]] = {"fct_payouts": {"payout_date"}}

def _build_marts(landing: Path, warehouse: Path, timezone: str, as_of: date) -> Path:
    """Every raw table loaded from `landing` into `warehouse`, then the dbt project run on
    it (models only: `dbt run`, the real dbt, as the pipeline runs it). Returns `warehouse`."""
    con = duckdb.connect(str(warehouse))
    for spec in SPECS_BY_TABLE.values():
        assert ingest_source(con, landing, spec, run_id="t", timezone=timezone).rows_quarantined == 0
    con.close()
    project = Path(__file__).resolve().parents[2] / "dbt_project"
    variables = {"warehouse_path": str(warehouse), "store_timezone": timezone,
                 "taxes_included": "auto", "as_of": as_of.isoformat()}
    target = warehouse.with_suffix(".target")
    done = subprocess.run([str(Path(sys.executable).parent / "dbt"), "run", "--vars",
                           json.dumps(variables), "--project-dir", str(project), "--profiles-dir",
                           str(project), "--target-path", str(target), "--log-path", str(target)],
                          check=False, capture_output=True, text=True, cwd=project,
                          env={**os.environ, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"})
    assert done.returncode == 0, done.stdout[-3000:]
    return warehouse


def _mart_differences(a_path: Path, b_path: Path) -> dict[str, set[str]]:
    """Per mart of the two warehouses: the columns whose values (as a multiset; doubles to
    9 digits, since sums of doubles depend on the order rows come in) differ. Lineage
    columns (`_*`, source_file, source_row) are left out."""
    a = duckdb.connect(str(a_path), read_only=True)
    a.execute(f"attach '{b_path}' as other (read_only)")
    catalog = a_path.stem
    marts = [t for (t,) in a.execute(
        "select table_name from information_schema.tables where table_catalog = ? "
        "and table_schema = 'marts' order by 1", [catalog]).fetchall()]
    assert len(marts) > 10, marts
    out = {}
    for mart in marts:
        columns = [(c, t) for c, t in a.execute(
            "select column_name, data_type from information_schema.columns where table_catalog = ? "
            "and table_schema = 'marts' and table_name = ? order by ordinal_position",
            [catalog, mart]).fetchall()
            if not c.startswith("_") and c not in ("source_file", "source_row")]
        rows = a.execute(f"select count(*) from marts.{mart}").fetchone()[0]
        assert rows == a.execute(f"select count(*) from other.marts.{mart}").fetchone()[0], mart
        differing = set()
        for column, kind in columns:
            value = f'round("{column}", 9)' if kind == "DOUBLE" else f'"{column}"'
            if a.execute(f"select count(*) from (select {value} from marts.{mart} except all "
                         f"select {value} from other.marts.{mart})").fetchone()[0]:
                differing.add(column)
        if differing:
            out[mart] = differing
    return out


def _columns(con, model):
    return [c[0] for c in con.execute(f"describe staging.{model}").fetchall()
            if not c[0].startswith("_")]


def _differing(a, b, model, key):
    """Columns whose values differ between the two warehouses' copies of `model`, rows
    matched on `key` (both sides must hold the same keys)."""
    columns = _columns(a, model)
    assert columns == _columns(b, model), model
    order = ", ".join(key)
    left = a.execute(f"select {', '.join(columns)} from staging.{model} order by {order}").fetchall()
    right = b.execute(f"select {', '.join(columns)} from staging.{model} order by {order}").fetchall()
    assert len(left) == len(right) > 0, (model, len(left), len(right))
    at = [columns.index(k) for k in key]
    assert [tuple(r[i] for i in at) for r in left] == [tuple(r[i] for i in at) for r in right], model
    return {columns[i] for x, y in zip(left, right, strict=True) for i in range(len(columns))
            if x[i] != y[i]}


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    from orchestration.demo import generate_store
    from orchestration.settings import Settings

    home = tmp_path_factory.mktemp("pulldemo") / "demo"
    generate_store(home, scale=0.005, days=60, seed=3)
    return home, Settings.load(home)


def _load(landing, path, settings, tables):
    con = duckdb.connect(str(path))
    for table in tables:
        result = ingest_source(con, landing, SPECS_BY_TABLE[table], run_id="t",
                               timezone=settings.timezone)
        assert result.rows_quarantined == 0, table
    return con


STAGED = {  # raw table -> (staging model, key)
    "shopify_orders": [("stg_shopify__orders", ("order_name",)),
                       ("stg_shopify__order_lines", ("order_line_id",))],
    "shopify_products": [("stg_shopify__products", ("sku",))],
    "shopify_customers": [("stg_shopify__customers", ("email_normalised",))],
    "shopify_inventory": [("stg_shopify__inventory_snapshots", ("snapshot_date", "sku", "location"))],
    **{table: [(f"stg_{table.removesuffix('_ads')}_ads__ad_daily",
                ("report_date", "campaign_name", "ad_group_name", "ad_name"))]
       for table in ("meta_ads", "google_ads", "tiktok_ads")},
    "gorgias_tickets": [("stg_gorgias__tickets", ("ticket_id",))],
    "zendesk_tickets": [("stg_zendesk__tickets", ("ticket_id",))],
    "shopify_payment_transactions": [("stg_shopify__payment_transactions",
                                      ("transaction_at", "transaction_type", "order_name",
                                       "amount"))],
}


def test_the_demo_store_pulled_through_every_mock_stages_like_its_exports(demo, httpserver,
                                                                          tmp_path):
    home, settings = demo
    tz = settings.timezone
    tables = [table for _, _, table in RESOURCES]
    assert set(tables) == set(STAGED)
    variables = {"taxes_included": "auto", "store_timezone": tz}
    exported = _load(home / "landing", tmp_path / "exports.duckdb", settings, tables)
    for table in tables:
        for model, _ in STAGED[table]:
            build_model(exported, model, variables)

    # the demo's last day; the pulls run the morning after it
    last = exported.execute("select max(day) from raw.meta_ads").fetchone()[0]
    first = exported.execute("select min(day) from raw.meta_ads").fetchone()[0]
    today = last + timedelta(days=1)

    url = httpserver.url_for("/")
    orders = orders_from_warehouse(exported)
    shop_mock = ShopifyMock(
        httpserver, token=TOKEN, orders=orders, maximum=1e9, restore_rate=1e9,
        products=demo_api.shopify_products(exported, PRODUCTS_UPDATED),
        customers=demo_api.shopify_customers(exported, PRODUCTS_UPDATED),
        inventory=demo_api.shopify_inventory(exported, last),
        transactions=demo_api.shopify_balance_transactions(exported))
    MetaMock(httpserver, token=TOKEN, account="42", first=first, last=last,
             rows=demo_api.meta_insights(exported))
    GoogleAdsMock(httpserver, client_id="cid", client_secret=SECRETS[google_ads.CLIENT_SECRET_ENV],
                  refresh_token=SECRETS[google_ads.REFRESH_TOKEN_ENV],
                  developer_token=SECRETS[google_ads.DEVELOPER_TOKEN_ENV], customer="1234567890",
                  first=first, last=last, results=demo_api.google_ads_results(exported))
    TikTokMock(httpserver, token=TOKEN, advertiser="7001", first=first, last=last,
               rows=demo_api.tiktok_rows(exported))
    help_desk = GorgiasMock(httpserver, username="ops@store.example", key=TOKEN,
                            tickets=demo_api.gorgias_tickets(home / "landing"))
    records = demo_api.zendesk_export(exported)
    ZendeskMock(httpserver, email="ops@store.example", token=TOKEN, tickets=records["tickets"],
                metrics=records["metric_sets"], users=records["users"], groups=records["groups"])

    state, landing = tmp_path / "home", tmp_path / "pulled"
    shop = shopify.ShopifySettings(shop="demo.myshopify.com", base_url=url)
    pacer = gorgias.Pacer(calls=1000, window=60)

    def pull_everything(since: date | None) -> dict[str, object]:
        """One pull of every resource (`since`: the first pull's start; None: from the
        saved cursors), as `storeops pull` runs them."""
        start = since.isoformat() if since else None
        client = shopify.ShopifyClient(shop, TOKEN)
        return {
            "shopify/orders": shopify.pull_orders(state, landing, shop, timezone=tz, client=client,
                                                  since=start),
            "shopify/products": shopify.pull_products(state, landing, shop, timezone=tz,
                                                      client=shopify.ShopifyClient(shop, TOKEN)),
            "shopify/customers": shopify.pull_customers(state, landing, shop, timezone=tz,
                                                        client=shopify.ShopifyClient(shop, TOKEN)),
            "shopify/inventory": shopify.pull_inventory(state, landing, shop, timezone=tz,
                                                        client=shopify.ShopifyClient(shop, TOKEN),
                                                        today=last),
            "shopify/payment_transactions": shopify.pull_payment_transactions(
                state, landing, shop, timezone=tz, client=shopify.ShopifyClient(shop, TOKEN),
                since=start),
            "meta/insights": meta.pull_insights(
                state, landing, meta.MetaSettings(account_id="42", base_url=url), timezone=tz,
                token=TOKEN, since=start, today=today),
            "google_ads/report": google_ads.pull_report(
                state, landing, google_ads.GoogleAdsSettings(
                    customer_id="123-456-7890", client_id="cid", base_url=url,
                    token_url=httpserver.url_for("/token")),
                timezone=tz, secrets=dict(SECRETS), since=start, today=today),
            "tiktok/report": tiktok.pull_report(
                state, landing, tiktok.TikTokSettings(advertiser_id="7001", base_url=url),
                timezone=tz, currency=settings.currency, token=TOKEN, since=start, today=today),
            "gorgias/tickets": gorgias.pull_tickets(
                state, landing, gorgias.GorgiasSettings(domain="demo", username="ops@store.example",
                                                        base_url=url), key=TOKEN, pacer=pacer),
            "zendesk/tickets": zendesk.pull_tickets(
                state, landing, zendesk.ZendeskSettings(subdomain="demo", email="ops@store.example",
                                                        base_url=url),
                timezone=tz, token=TOKEN, pacer=pacer,
                since=(datetime.combine(first, time(), UTC) - timedelta(days=1)).isoformat()
                if since else None),
        }

    logs = pull_everything(first)
    assert all(log.status == "done" and log.pages > 0 for log in logs.values()), logs
    assert logs["shopify/orders"].records == len(orders)

    pulled = _load(landing, tmp_path / "pulled.duckdb", settings, tables)
    # a pull reads today's stock only: compare the exports' snapshot of that day
    exported.execute(f"delete from raw.shopify_inventory where as_of <> '{last}'")
    differing = {}
    for table in tables:
        for model, key in STAGED[table]:
            build_model(pulled, model, variables)
            build_model(exported, model, variables)
            differing[model] = _differing(exported, pulled, model, key)
    expected = {model: set(PULL_ONLY.get(model, {})) | set(EXPORT_ONLY.get(model, {}))
                for model in differing}
    assert differing == expected

    # Marts: the pulled landing, with a stock snapshot pulled on each day the exports have
    # one and the files no API serves (purchasing, analytics, shipping) copied, builds the same
    # marts.
    # (the exports' snapshots other than the last were deleted above: read them again)
    history = _load(home / "landing", tmp_path / "history.duckdb", settings, ["shopify_inventory"])
    days = [d for (d,) in history.execute("select distinct as_of from raw.shopify_inventory "
                                          "order by 1").fetchall()]
    for day in days[:-1]:
        shop_mock.inventory = demo_api.shopify_inventory(history, day)
        shopify.pull_inventory(state, landing, shop, timezone=tz,
                               client=shopify.ShopifyClient(shop, TOKEN), today=day)
    for folder in ("purchasing", "analytics", "approvals", "shipping"):
        if (home / "landing" / folder).exists():
            shutil.copytree(home / "landing" / folder, landing / folder)
    # The cost history is the products exports the merchant kept (a pull sees today's
    # costs only): the dated snapshots go along, the pull's own snapshot is today's.
    for snapshot in (home / "landing" / "shopify" / "products").glob("products_export_*.csv"):
        shutil.copy2(snapshot, landing / "shopify" / "products" / snapshot.name)
    assert _mart_differences(
        _build_marts(home / "landing", tmp_path / "from_exports.duckdb", tz, last),
        _build_marts(landing, tmp_path / "from_pulls.duckdb", tz, last)) == MART_DIFFERENCES

    # The next morning: one order, one Gorgias and one Zendesk ticket changed overnight.
    changed = max(orders, key=lambda o: o["updatedAt"])
    order = next(o for o in orders if o is not changed)
    order["updatedAt"], order["tags"] = "2026-11-23T09:00:00Z", [*order["tags"], "vip"]
    ticket = help_desk.tickets[0]
    ticket["updated_datetime"], ticket["status"] = "2026-11-23T09:00:00.000000+00:00", "open"
    # (Zendesk's cursor is past every ticket: nothing changed there is the case left to show.)
    again = pull_everything(None)
    requests = {name: (logs[name].requests, again[name].requests) for name in logs}
    fetched = {name: again[name].records for name in again}
    print("requests (first pull, second pull):", requests, "records in the second:", fetched)
    # Only what changed comes again, plus the record at the cursor (Shopify and Gorgias ask
    # for updated_at >= the cursor), the whole stock (a snapshot) and the days the ad
    # platforms re-report (lookback: 7, 14 and 7 days of rows).
    assert fetched["shopify/orders"] == 2 and fetched["gorgias/tickets"] == 2
    assert fetched["shopify/products"] == 1 and fetched["shopify/customers"] == 1
    assert fetched["zendesk/tickets"] == 0
    assert fetched["shopify/inventory"] == logs["shopify/inventory"].records
    for name, days in (("meta/insights", 7), ("google_ads/report", 14), ("tiktok/report", 7)):
        assert again[name].since == (last - timedelta(days=days - 1)).isoformat(), name
    assert all(again[name].requests <= logs[name].requests for name in logs), requests
    assert again["shopify/orders"].requests == 1 < logs["shopify/orders"].requests
    for table in tables:
        ingest_source(pulled, landing, SPECS_BY_TABLE[table], run_id="t2", timezone=tz)
    build_model(pulled, "stg_shopify__orders", variables)
    build_model(pulled, "stg_gorgias__tickets", variables)
    assert pulled.execute("select tags from staging.stg_shopify__orders where order_name = ?",
                          [order["name"]]).fetchone()[0].endswith("vip")
    assert pulled.execute("select status from staging.stg_gorgias__tickets where ticket_id = ?",
                          [f"gorgias-{ticket['id']}"]).fetchone()[0] == "open"
