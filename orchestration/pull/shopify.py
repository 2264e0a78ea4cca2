"""Shopify orders through the GraphQL Admin API, written as pages of the orders export.

API: https://shopify.dev/docs/api/admin-graphql (version `api_version`, default
API_VERSION). One POST per page to `/admin/api/<version>/graphql.json` with the header
`X-Shopify-Access-Token` (an Admin API access token with the `read_orders` scope, plus
`read_customers` for marketing consent), querying

    orders(first: N, after: <cursor>, sortKey: UPDATED_AT, query: "updated_at:>='<since>'")

so a pull fetches every order created or changed since the last one (refunds,
fulfilment and cancellation all change `updatedAt`). Nested lists are small to keep a page's
requested cost under 1,000 points; an order with more line items or refunds is completed
with follow-up `order(id:)` and `refund(id:)` queries.

Rate limits (https://shopify.dev/docs/apps/build/apis/graphql-admin/rate-limits): the
Admin API charges each query its calculated cost from a bucket that refills at
`restoreRate` points a second, and says so in `extensions.cost.throttleStatus` of every
response. A query the bucket cannot pay is answered with HTTP 200 and
`errors: [{extensions: {code: "THROTTLED"}}]` (not always a 429): the client then waits
until the bucket holds the requested cost and asks again; after a page it waits ahead
when the bucket cannot pay the next page. HTTP 429 (honouring Retry-After), 5xx and
dropped connections are retried by dlt's requests client.

Each page becomes one CSV file in `<landing>/shopify/orders/`, shaped as Shopify's own
orders export (one row per line item; order-level money on the order's first row; times
in the store's timezone, `2026-11-01 09:03:00 -0500`) so the loader and staging read it as
they read an export, plus columns only the API has:
- `Updated at` (every row): when the order last changed. It dates the page's rows, so a
  pulled order replaces an export's copy unless a later export carries it.
- `Refunded Shipping`, `Refunded Taxes` (first row): what the refunds returned of
  shipping (net of its tax) and of tax (lines and shipping).
- `Lineitem refunded quantity` (every row).
Names, street addresses and phone numbers are not requested (the models do not use them).
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import requests

from orchestration.pull.config import section_values
from orchestration.pull.credentials import CredentialError, PullError, credential, redact
from orchestration.pull.state import PullLog, PullState, csv_bytes, land_page, recorded

API_VERSION = "2026-10"
TOKEN_ENV = "SHOPIFY_ACCESS_TOKEN"
CLIENT_SECRET_ENV = "SHOPIFY_CLIENT_SECRET"
SOURCE = "shopify"
RESOURCE = "orders"
LANDING_FOLDER = "shopify/orders"
PAGE_SIZE = 5
MAX_PAGE_SIZE = 6
# Days the first pull of orders goes back: what an app sees without read_all_orders.
INITIAL_DAYS = 60
MAX_THROTTLED = 20  # THROTTLED answers in a row before a pull gives up

_MONEY = "shopMoney { amount currencyCode }"
# Nested page sizes keep a page's requested cost under Shopify's 1,000-point maximum per
# query (connections cost 2 + first x the node's cost): 5 orders a page cost 822, 6 cost
# 986 (MAX_PAGE_SIZE).
# An order with more lines or refunds than fit is completed by follow-up queries.
LINES_FIRST = 10
REFUNDS_FIRST = 2
REFUND_LINES_FIRST = 5
REFUND_SHIPPING_FIRST = 2
_LINE_FIELDS = f"""
  id name sku quantity requiresShipping taxable vendor unfulfilledQuantity
  originalUnitPriceSet {{ {_MONEY} }}
  totalDiscountSet {{ {_MONEY} }}
"""
_REFUND_LINE_FIELDS = f"quantity lineItem {{ id }} totalTaxSet {{ {_MONEY} }}"
_REFUND_SHIPPING_FIELDS = f"subtotalAmountSet {{ {_MONEY} }} taxAmountSet {{ {_MONEY} }}"
ORDERS_QUERY = f"""
query StoreopsOrders($first: Int!, $after: String, $query: String) {{
  orders(first: $first, after: $after, query: $query, sortKey: UPDATED_AT) {{
    pageInfo {{ hasNextPage endCursor }}
    nodes {{
      id legacyResourceId name email createdAt updatedAt processedAt cancelledAt
      displayFinancialStatus displayFulfillmentStatus
      tags sourceName discountCodes paymentGatewayNames
      customAttributes {{ key value }}
      customer {{ emailMarketingConsent {{ marketingState }} }}
      shippingLine {{ title }}
      shippingAddress {{ province provinceCode countryCodeV2 }}
      billingAddress {{ countryCodeV2 }}
      subtotalPriceSet {{ {_MONEY} }}
      totalShippingPriceSet {{ {_MONEY} }}
      totalTaxSet {{ {_MONEY} }}
      totalPriceSet {{ {_MONEY} }}
      totalDiscountsSet {{ {_MONEY} }}
      totalRefundedSet {{ {_MONEY} }}
      totalOutstandingSet {{ {_MONEY} }}
      currentTotalDutiesSet {{ {_MONEY} }}
      taxLines {{ title ratePercentage priceSet {{ {_MONEY} }} }}
      transactions(first: 5) {{ kind status processedAt }}
      fulfillments(first: 5) {{ createdAt }}
      refunds(first: {REFUNDS_FIRST}) {{
        id
        refundLineItems(first: {REFUND_LINES_FIRST}) {{ pageInfo {{ hasNextPage endCursor }} nodes {{ {_REFUND_LINE_FIELDS} }} }}
        refundShippingLines(first: {REFUND_SHIPPING_FIRST}) {{ pageInfo {{ hasNextPage }} nodes {{ {_REFUND_SHIPPING_FIELDS} }} }}
      }}
      lineItems(first: {LINES_FIRST}) {{ pageInfo {{ hasNextPage endCursor }} nodes {{ {_LINE_FIELDS} }} }}
    }}
  }}
}}
"""
LINE_ITEMS_QUERY = f"""
query StoreopsOrderLines($id: ID!, $after: String) {{
  order(id: $id) {{
    lineItems(first: 100, after: $after) {{ pageInfo {{ hasNextPage endCursor }} nodes {{ {_LINE_FIELDS} }} }}
  }}
}}
"""
REFUND_IDS_QUERY = """
query StoreopsOrderRefunds($id: ID!) {
  order(id: $id) { refunds(first: 250) { id } }
}
"""
REFUND_QUERY = f"""
query StoreopsRefund($id: ID!, $after: String) {{
  refund(id: $id) {{
    id
    refundLineItems(first: 100, after: $after) {{ pageInfo {{ hasNextPage endCursor }} nodes {{ {_REFUND_LINE_FIELDS} }} }}
    refundShippingLines(first: 50) {{ pageInfo {{ hasNextPage }} nodes {{ {_REFUND_SHIPPING_FIELDS} }} }}
  }}
}}
"""

# The export's columns, in its order, then the API-only ones.
EXPORT_COLUMNS = [
    "Name", "Email", "Financial Status", "Paid at", "Fulfillment Status", "Fulfilled at",
    "Accepts Marketing", "Currency", "Subtotal", "Shipping", "Taxes", "Total",
    "Discount Code", "Discount Amount", "Shipping Method", "Created at", "Lineitem quantity",
    "Lineitem name", "Lineitem price", "Lineitem compare at price", "Lineitem sku",
    "Lineitem requires shipping", "Lineitem taxable", "Lineitem fulfillment status",
    "Billing Country", "Shipping Province", "Shipping Country", "Note Attributes",
    "Cancelled at", "Payment Method", "Refunded Amount", "Vendor", "Outstanding Balance",
    "Id", "Tags", "Source", "Lineitem discount",
    *(f"Tax {n} {part}" for n in range(1, 6) for part in ("Name", "Value")),
    "Duties", "Shipping Province Name",
]
API_COLUMNS = ["Updated at", "Refunded Shipping", "Refunded Taxes", "Lineitem refunded quantity"]
# Written on every line row, as the export does; the rest of the order's fields only on
# its first row.
EVERY_ROW = {"Name", "Email", "Financial Status", "Paid at", "Fulfillment Status",
             "Fulfilled at", "Accepts Marketing", "Currency", "Created at", "Updated at"}
FULFILLMENT = {"FULFILLED": "fulfilled", "UNFULFILLED": "unfulfilled",
               "PARTIALLY_FULFILLED": "partial"}


@dataclass
class ShopifySettings:
    """`sources: shopify:` in storeops.yml.

    shop: the shop's domain (`my-store.myshopify.com`); api_version: the Admin API
    version (default API_VERSION); base_url: where to send requests instead of
    `https://<shop>` (a proxy, or a test server); page_size: orders per request (1-MAX_PAGE_SIZE);
    token_env: the environment variable holding the access token; freshness_hours: how
    old the last good pull may be before its Dagster freshness check fails; client_id and
    client_secret_env: an app of the store's own organisation that gets its token by the
    client credentials grant instead (used when token_env is not set); initial_days: how
    far back the first pull of orders goes (default INITIAL_DAYS = 60, what an app sees
    without the read_all_orders scope; load older history from the orders export, or pull
    with --since). Products and customers are pulled whole the first time.
    """

    shop: str
    api_version: str = API_VERSION
    base_url: str | None = None
    page_size: int = PAGE_SIZE
    token_env: str = TOKEN_ENV
    freshness_hours: float = 26.0
    client_id: str | None = None
    client_secret_env: str = CLIENT_SECRET_ENV
    initial_days: int = 60

    @classmethod
    def from_config(cls, config: dict, where: str = "storeops.yml") -> ShopifySettings:
        """Read and check `sources: shopify:`. Raises ValueError naming `where` and the key."""
        needs = "shop: <name>.myshopify.com (the shop's domain, no https:// or path)"
        values = section_values(cls, config, source="shopify", where=where, required=("shop",),
                                needs=needs, bounds={"initial_days": 3650})
        page_size = values["page_size"]
        if not isinstance(page_size, int) or not 1 <= page_size <= MAX_PAGE_SIZE:
            raise ValueError(f"{where}: sources: shopify: page_size must be 1-{MAX_PAGE_SIZE} "
                             f"(a page's query must cost at most 1,000 points), got {page_size!r}")
        shop = str(values["shop"]).strip().lower()
        shop = shop.removeprefix("https://").removeprefix("http://").split("/", 1)[0]
        if not re.fullmatch(r"[a-z0-9][a-z0-9-]*(\.[a-z0-9-]+)+", shop):
            raise ValueError(f"{where}: sources: shopify: needs {needs}, got {values['shop']!r}")
        return cls(**{**values, "shop": shop, "api_version": str(values["api_version"]),
                      "token_env": str(values["token_env"]),
                      "client_secret_env": str(values["client_secret_env"])})

    @property
    def endpoint(self) -> str:
        base = (self.base_url or f"https://{self.shop}").rstrip("/")
        return f"{base}/admin/api/{self.api_version}/graphql.json"


def access_token(settings: ShopifySettings) -> str:
    """The Admin API access token: $SHOPIFY_ACCESS_TOKEN (settings.token_env) when set;
    else, when `client_id` is configured, one obtained by the client credentials grant
    (`POST /admin/oauth/access_token`, form `grant_type=client_credentials, client_id,
    client_secret`; Shopify's tokens from it last 24 hours, so one is asked per pull).
    https://shopify.dev/docs/apps/build/authentication-authorization/client-credentials-grant
    Raises CredentialError naming the variable that is missing, or whose secret Shopify
    refused."""
    if os.environ.get(settings.token_env) or not settings.client_id:
        return credential(settings.token_env, purpose="Shopify Admin API access token")
    secret = credential(settings.client_secret_env, purpose="the app's client secret")
    base = (settings.base_url or f"https://{settings.shop}").rstrip("/")
    try:
        answer = requests.post(f"{base}/admin/oauth/access_token", timeout=60, data={
            "grant_type": "client_credentials", "client_id": settings.client_id,
            "client_secret": secret})
    except requests.RequestException as exc:
        raise PullError(f"shopify: the client credentials grant failed: "
                        f"{redact(str(exc), secret)}") from None
    token = answer.json().get("access_token") if answer.status_code == 200 else None
    if not token:
        raise CredentialError(f"{settings.client_secret_env} (with client_id "
                              f"{settings.client_id}) was refused by {settings.shop} (HTTP "
                              f"{answer.status_code}): check the app's client secret and that the "
                              "app is installed on the store")
    return token


class Unavailable(PullError):
    """What a query reads is not there for this store or this token: GraphQL errors that
    are all `ACCESS_DENIED` (HTTP 200, a scope or a user permission missing; the message
    is Shopify's "Access denied for <field> field. Required access: ..."), or a null object
    on a connection's path (a store without Shopify Payments has no shopifyPaymentsAccount).
    A PullError, so every pull but the Shopify Payments one fails on it as before."""


@dataclass
class Page:
    """One page of orders: the GraphQL nodes and the connection's cursor."""

    orders: list[dict]
    has_next: bool
    end_cursor: str | None


@dataclass
class Counters:
    requests: int = 0
    throttle_waits: int = 0
    throttle_seconds: float = 0.0
    waits: list[float] = field(default_factory=list)


class ShopifyClient:
    """GraphQL Admin API client: dlt's retrying requests session, Shopify's throttling.

    token: the access token (never logged). max_attempts and backoff go to dlt's client
    (429 and 5xx retries; Retry-After honoured); sleep: how to wait (time.sleep).
    """

    def __init__(self, settings: ShopifySettings, token: str, *, max_attempts: int = 5,
                 backoff: float = 1.0, sleep: Callable[[float], None] = time.sleep,
                 timeout: float = 60.0):
        os.environ.setdefault("RUNTIME__DLTHUB_TELEMETRY", "false")  # nothing calls home
        from dlt.sources.helpers.requests import Client

        self.settings = settings
        self._token = token
        self._sleep = sleep
        self.counters = Counters()
        self._client = Client(request_timeout=timeout, raise_for_status=False,
                              request_max_attempts=max_attempts,
                              request_backoff_factor=backoff, request_max_retry_delay=60)
        self._next_cost: float | None = None
        self._status: dict | None = None

    def _count(self, response, *args, **kwargs):
        self.counters.requests += 1
        return response

    def _wait(self, seconds: float) -> None:
        self.counters.throttle_waits += 1
        self.counters.throttle_seconds += seconds
        self.counters.waits.append(seconds)
        self._sleep(seconds)

    def _post(self, query: str, variables: dict) -> dict:
        session = self._client.session
        if self._count not in session.hooks["response"]:
            session.hooks["response"].append(self._count)
        try:
            response = session.post(self.settings.endpoint, json={"query": query, "variables": variables},
                                    headers={"X-Shopify-Access-Token": self._token,
                                             "Content-Type": "application/json"})
        except requests.RequestException as exc:  # connection errors after dlt's retries
            raise PullError(f"shopify: {self.settings.endpoint}: "
                            f"{redact(str(exc), self._token)}") from None
        if response.status_code in (401, 403):
            raise CredentialError(
                f"{self.settings.token_env} was rejected by {self.settings.endpoint} "
                f"(HTTP {response.status_code}): check the token and that the app has the "
                "read_orders, read_customers, read_products, read_inventory and "
                "read_locations scopes (and read_shopify_payments_payouts for Shopify "
                "Payments transactions)")
        if response.status_code != 200:
            raise PullError(f"shopify: {self.settings.endpoint} answered HTTP "
                            f"{response.status_code} after retries: "
                            f"{redact(response.text[:300], self._token)}")
        return response.json()

    def query(self, query: str, variables: dict) -> dict:
        """Run one GraphQL query and return its `data`, waiting out THROTTLED answers.
        Raises PullError for GraphQL errors other than THROTTLED (Unavailable when they
        are all ACCESS_DENIED), or MAX_THROTTLED THROTTLED answers in a row;
        CredentialError for 401/403."""
        if self._status and self._next_cost:
            # Wait ahead when the bucket cannot pay what the last query asked for.
            deficit = self._next_cost - float(self._status["currentlyAvailable"])
            if deficit > 0:
                self._wait(deficit / float(self._status["restoreRate"]))
        for _ in range(MAX_THROTTLED):
            body = self._post(query, variables)
            cost = (body.get("extensions") or {}).get("cost") or {}
            self._status = cost.get("throttleStatus") or self._status
            errors = body.get("errors") or []
            if any((e.get("extensions") or {}).get("code") == "THROTTLED" for e in errors):
                requested = float(cost.get("requestedQueryCost") or 0)
                status = self._status or {}
                deficit = requested - float(status.get("currentlyAvailable", 0))
                rate = float(status.get("restoreRate") or 50)
                self._wait(max(deficit, 1.0) / rate)
                continue
            if errors:
                messages = "; ".join(str(e.get("message")) for e in errors)[:300]
                failed = f"shopify: the query failed: {redact(messages, self._token)}"
                if all((e.get("extensions") or {}).get("code") == "ACCESS_DENIED"
                       for e in errors):
                    raise Unavailable(failed)
                raise PullError(failed)
            # Shopify runs a query only when the bucket holds its requested cost.
            self._next_cost = float(cost.get("requestedQueryCost") or 0)
            return body["data"]
        raise PullError(f"shopify: throttled {MAX_THROTTLED} times in a row; "
                        "try again later or lower page_size")

    def _complete(self, order: dict) -> None:
        """Fetch what did not fit in the page: line items past LINES_FIRST, refunds past
        REFUNDS_FIRST, refund lines and refunded shipping lines past theirs."""
        lines = order["lineItems"]
        while lines["pageInfo"]["hasNextPage"]:
            more = self.query(LINE_ITEMS_QUERY, {"id": order["id"],
                                                 "after": lines["pageInfo"]["endCursor"]})
            lines["nodes"] += more["order"]["lineItems"]["nodes"]
            lines["pageInfo"] = more["order"]["lineItems"]["pageInfo"]
        refunds = order.get("refunds") or []
        if len(refunds) >= REFUNDS_FIRST:
            ids = [r["id"] for r in self.query(REFUND_IDS_QUERY, {"id": order["id"]})["order"]["refunds"]]
            known = {r["id"] for r in refunds}
            refunds += [{"id": i, "refundLineItems": {"pageInfo": {"hasNextPage": True,
                                                                   "endCursor": None}, "nodes": []},
                         "refundShippingLines": {"pageInfo": {"hasNextPage": True}, "nodes": []}}
                        for i in ids if i not in known]
            order["refunds"] = refunds
        for refund in refunds:
            items, shipping = refund["refundLineItems"], refund["refundShippingLines"]
            if not (items["pageInfo"]["hasNextPage"] or shipping["pageInfo"]["hasNextPage"]):
                continue
            # Fetched again whole from its first page: a refund has few lines.
            nodes, after = [], None
            while True:
                data = self.query(REFUND_QUERY, {"id": refund["id"], "after": after})["refund"]
                nodes += data["refundLineItems"]["nodes"]
                if data["refundShippingLines"]["pageInfo"]["hasNextPage"]:
                    raise PullError(f"shopify: refund {refund['id']} of order {order['name']} "
                                    "has more than 50 shipping refunds; storeops cannot read it")
                shipping_nodes = data["refundShippingLines"]["nodes"]
                if not data["refundLineItems"]["pageInfo"]["hasNextPage"]:
                    break
                after = data["refundLineItems"]["pageInfo"]["endCursor"]
            refund["refundLineItems"] = {"pageInfo": {"hasNextPage": False}, "nodes": nodes}
            refund["refundShippingLines"] = {"pageInfo": {"hasNextPage": False},
                                             "nodes": shipping_nodes}

    def order_pages(self, since: str | None) -> Iterator[Page]:
        """Pages of orders updated at or after `since` (ISO 8601; None: every order),
        oldest change first; each order's line items complete."""
        after = None
        search = f"updated_at:>='{since}'" if since else None
        while True:
            data = self.query(ORDERS_QUERY, {"first": self.settings.page_size, "after": after,
                                             "query": search})
            connection = data["orders"]
            orders = connection["nodes"]
            for order in orders:
                self._complete(order)
            info = connection["pageInfo"]
            yield Page(orders, info["hasNextPage"], info["endCursor"])
            if not info["hasNextPage"]:
                return
            after = info["endCursor"]


def _money(bag: dict | None) -> Decimal | None:
    if not bag or not bag.get("shopMoney"):
        return None
    return Decimal(str(bag["shopMoney"]["amount"]))


def _text(value: Decimal | None) -> str:
    return "" if value is None else f"{value:.2f}"


def _local(timestamp: str | None, zone: ZoneInfo) -> str:
    """An API timestamp (ISO 8601, UTC) as the export writes it, in the store's timezone."""
    if not timestamp:
        return ""
    moment = datetime.fromisoformat(timestamp).astimezone(zone)
    return moment.strftime("%Y-%m-%d %H:%M:%S %z")


def order_rows(order: dict, timezone: str) -> list[dict[str, str]]:
    """One Shopify order (a node of ORDERS_QUERY) as the orders export's rows.

    Returns one dict per line item (an order without lines: one row), keys from
    EXPORT_COLUMNS + API_COLUMNS, values as the export writes them (money with 2
    decimals in the shop's currency, times in `timezone`). Raises KeyError when the node
    lacks a field the query asks for.
    """
    zone = ZoneInfo(timezone)
    paid = sorted(t["processedAt"] for t in order.get("transactions") or []
                  if t.get("kind") in ("SALE", "CAPTURE") and t.get("status") == "SUCCESS"
                  and t.get("processedAt"))
    fulfilled = sorted(f["createdAt"] for f in order.get("fulfillments") or [] if f.get("createdAt"))
    consent = ((order.get("customer") or {}).get("emailMarketingConsent") or {}).get("marketingState")
    refunded_quantity: dict[str, int] = {}
    refunded_tax = Decimal(0)
    refunded_shipping = Decimal(0)
    for refund in order.get("refunds") or []:
        for item in refund["refundLineItems"]["nodes"]:
            line_id = item["lineItem"]["id"]
            refunded_quantity[line_id] = refunded_quantity.get(line_id, 0) + int(item["quantity"])
            refunded_tax += _money(item.get("totalTaxSet")) or 0
        for shipping in refund["refundShippingLines"]["nodes"]:
            refunded_shipping += _money(shipping.get("subtotalAmountSet")) or 0
            refunded_tax += _money(shipping.get("taxAmountSet")) or 0
    currency = (order["totalPriceSet"] or {}).get("shopMoney", {}).get("currencyCode", "")
    first = {
        "Name": order["name"], "Email": order.get("email") or "",
        "Financial Status": (order.get("displayFinancialStatus") or "").lower(),
        "Paid at": _local(paid[0] if paid else None, zone),
        "Fulfillment Status": FULFILLMENT.get(order.get("displayFulfillmentStatus") or "",
                                              (order.get("displayFulfillmentStatus") or "").lower()),
        "Fulfilled at": _local(fulfilled[-1] if fulfilled and order.get("displayFulfillmentStatus")
                               == "FULFILLED" else None, zone),
        "Accepts Marketing": "" if consent is None else ("yes" if consent == "SUBSCRIBED" else "no"),
        "Currency": currency,
        "Subtotal": _text(_money(order.get("subtotalPriceSet"))),
        "Shipping": _text(_money(order.get("totalShippingPriceSet"))),
        "Taxes": _text(_money(order.get("totalTaxSet"))),
        "Total": _text(_money(order.get("totalPriceSet"))),
        "Discount Code": ", ".join(order.get("discountCodes") or []),
        "Discount Amount": _text(_money(order.get("totalDiscountsSet"))),
        "Shipping Method": (order.get("shippingLine") or {}).get("title") or "",
        "Created at": _local(order["createdAt"], zone),
        "Billing Country": (order.get("billingAddress") or {}).get("countryCodeV2") or "",
        "Shipping Province": (order.get("shippingAddress") or {}).get("provinceCode") or "",
        "Shipping Country": (order.get("shippingAddress") or {}).get("countryCodeV2") or "",
        "Shipping Province Name": (order.get("shippingAddress") or {}).get("province") or "",
        "Note Attributes": "\n".join(f"{a['key']}: {a['value']}"
                                     for a in order.get("customAttributes") or []),
        "Cancelled at": _local(order.get("cancelledAt"), zone),
        "Payment Method": " + ".join(order.get("paymentGatewayNames") or []),
        "Refunded Amount": _text(_money(order.get("totalRefundedSet"))),
        "Outstanding Balance": _text(_money(order.get("totalOutstandingSet"))),
        "Id": str(order.get("legacyResourceId") or ""),
        "Tags": ", ".join(order.get("tags") or []),
        "Source": order.get("sourceName") or "",
        "Duties": _text(_money(order.get("currentTotalDutiesSet"))),
        "Updated at": _local(order["updatedAt"], zone),
        "Refunded Shipping": _text(refunded_shipping),
        "Refunded Taxes": _text(refunded_tax),
    }
    for n, tax in enumerate((order.get("taxLines") or [])[:5], start=1):
        rate = tax.get("ratePercentage")
        first[f"Tax {n} Name"] = f"{tax['title']} {Decimal(str(rate)).normalize():f}%" if rate is not None else tax["title"]
        first[f"Tax {n} Value"] = _text(_money(tax.get("priceSet")))
    lines = order["lineItems"]["nodes"] or [None]
    rows = []
    for index, line in enumerate(lines):
        row = dict.fromkeys(EXPORT_COLUMNS + API_COLUMNS, "")
        row.update(first if index == 0 else {k: v for k, v in first.items() if k in EVERY_ROW})
        if line is not None:
            row.update({
                "Lineitem quantity": str(line["quantity"]),
                "Lineitem name": line.get("name") or "",
                "Lineitem price": _text(_money(line.get("originalUnitPriceSet"))),
                "Lineitem sku": line.get("sku") or "",
                "Lineitem requires shipping": str(bool(line.get("requiresShipping"))).lower(),
                "Lineitem taxable": str(bool(line.get("taxable"))).lower(),
                "Lineitem fulfillment status": ("fulfilled" if line.get("unfulfilledQuantity") == 0
                                                else "pending"),
                "Vendor": line.get("vendor") or "",
                "Lineitem discount": _text(_money(line.get("totalDiscountSet"))),
                "Lineitem refunded quantity": str(refunded_quantity.get(line["id"], 0)),
            })
        rows.append(row)
    return rows


def page_csv(rows: list[dict[str, str]]) -> bytes:
    """Rows of `order_rows` as the CSV file the loader reads (UTF-8, header first)."""
    return csv_bytes(EXPORT_COLUMNS + API_COLUMNS, rows)


def pull_orders(home: Path, landing: Path, settings: ShopifySettings, *, timezone: str,
                since: str | None = None, client: ShopifyClient | None = None,
                on_page: Callable[[str, int], None] | None = None) -> PullLog:
    """Pull the orders changed since the saved cursor (or `since`, ISO 8601, which wins)
    into `<landing>/shopify/orders/` as export-shaped CSV pages; save the cursor after
    each page and append the pull to `<home>/pulls/log.jsonl`.

    Returns the PullLog (pages, records, rows, requests, throttle waits, cursor, files).
    Raises CredentialError (token missing or rejected: one line naming the variable) or
    PullError; either way the pages written so far stay, with their cursor saved.
    """
    state = PullState(home)
    window = since or state.cursor(SOURCE, RESOURCE) or (
        datetime.now(UTC) - timedelta(days=settings.initial_days)).strftime("%Y-%m-%dT%H:%M:%SZ")
    with _recorded(home, RESOURCE, window, settings, client) as (log, api):
        for number, page in enumerate(api.order_pages(window), start=1):
            if not page.orders:
                continue
            rows = [row for order in page.orders for row in order_rows(order, timezone)]
            land_page(log, landing, LANDING_FOLDER, f"api_orders_{log.pull_id}_p{number:04d}.csv",
                      page_csv(rows), rows=len(rows), records=len(page.orders), on_page=on_page)
            log.cursor = max(o["updatedAt"] for o in page.orders)
            state.save(SOURCE, RESOURCE, log.cursor)
    return log


@contextmanager
def _recorded(home: Path, resource: str, window: str | None, settings: ShopifySettings,
              client: ShopifyClient | None) -> Iterator[tuple[PullLog, ShopifyClient]]:
    """`state.recorded` for a Shopify pull: the client is made inside (a missing or refused
    token is a failed pull in the log too), the log's cursor starts at the window, and the
    client's request and throttle counts go to the log at the end."""
    made: list[ShopifyClient] = []
    hidden: list[str] = []

    def counted(log: PullLog) -> None:
        if made:
            log.requests = made[0].counters.requests
            log.throttle_waits = made[0].counters.throttle_waits
            log.throttle_seconds = round(made[0].counters.throttle_seconds, 3)

    with recorded(home, SOURCE, resource, window, secrets=hidden, finish=counted) as log:
        made.append(client or ShopifyClient(settings, access_token(settings)))
        hidden.append(made[0]._token)
        log.cursor = window
        yield log, made[0]


def _pull_changed(home: Path, landing: Path, settings: ShopifySettings,
                  client: ShopifyClient | None, *, resource: str, query: str, page_size: int,
                  folder: str, columns: list[str], since: str | None,
                  on_page: Callable[[str, int], None] | None,
                  rows_of: Callable[[list[dict]], list[dict[str, str]]],
                  complete: Callable[[ShopifyClient, list[dict]], None] | None = None) -> PullLog:
    """Pull the nodes of `resource` (products, customers: a connection sorted by
    UPDATED_AT taking `$first`, `$after`, `$query`) changed since the saved cursor (or
    `since`; the first pull reads them all): per page, `complete(client, nodes)` fetches
    what the page left out, `rows_of(nodes)` gives the export's rows, written to
    `<landing>/<folder>/`; the cursor (the newest updatedAt) is saved after each page."""
    state = PullState(home)
    window = since or state.cursor(SOURCE, resource)
    search = f"updated_at:>='{window}'" if window else None
    with _recorded(home, resource, window, settings, client) as (log, api):
        pages = _connection(api, query, {"first": page_size, "query": search}, resource)
        for number, page in enumerate(pages, start=1):
            nodes = page["nodes"]
            if not nodes:
                continue
            if complete:
                complete(api, nodes)
            rows = rows_of(nodes)
            if rows:
                land_page(log, landing, folder, f"api_{resource}_{log.pull_id}_p{number:04d}.csv",
                          csv_bytes(columns, rows), rows=len(rows), on_page=on_page)
            log.records += len(nodes)
            log.cursor = max(n["updatedAt"] for n in nodes)
            state.save(SOURCE, resource, log.cursor)
    return log


def _connection(client: ShopifyClient, query: str, variables: dict, *path: str) -> Iterator[dict]:
    """Every page of the connection at `path` in the answers to `query` (a query taking
    `$after`): each page as Shopify returns it, `{"nodes": [...], "pageInfo": {...}}`.
    Raises Unavailable when an object on the path is null."""
    after = None
    while True:
        data = client.query(query, {**variables, "after": after})
        for key in path:
            data = data[key]
            if data is None:
                raise Unavailable(f"shopify: {key} is null")
        yield data
        if not data["pageInfo"]["hasNextPage"]:
            return
        after = data["pageInfo"]["endCursor"]


# Products and their variants (read_products scope; unit cost needs read_inventory).
PRODUCTS_RESOURCE = "products"
PRODUCTS_FOLDER = "shopify/products"
PRODUCTS_PAGE = 5
VARIANTS_FIRST = 20
_VARIANT_FIELDS = """
  sku price compareAtPrice inventoryQuantity taxable barcode
  selectedOptions { name value }
  inventoryItem { requiresShipping unitCost { amount currencyCode } measurement { weight { value unit } } }
"""
PRODUCTS_QUERY = f"""
query StoreopsProducts($first: Int!, $after: String, $query: String) {{
  products(first: $first, after: $after, query: $query, sortKey: UPDATED_AT) {{
    pageInfo {{ hasNextPage endCursor }}
    nodes {{
      id handle title vendor productType tags status updatedAt publishedAt
      category {{ fullName }}
      options(first: 3) {{ name }}
      variants(first: {VARIANTS_FIRST}) {{ pageInfo {{ hasNextPage endCursor }} nodes {{ {_VARIANT_FIELDS} }} }}
    }}
  }}
}}
"""
VARIANTS_QUERY = f"""
query StoreopsProductVariants($id: ID!, $after: String) {{
  product(id: $id) {{
    variants(first: 100, after: $after) {{ pageInfo {{ hasNextPage endCursor }} nodes {{ {_VARIANT_FIELDS} }} }}
  }}
}}
"""
PRODUCT_COLUMNS = ["Handle", "Title", "Vendor", "Product Category", "Type", "Tags", "Published",
                   "Option1 Name", "Option1 Value", "Option2 Name", "Option2 Value",
                   "Option3 Name", "Option3 Value", "Variant SKU", "Variant Grams",
                   "Variant Inventory Qty", "Variant Price", "Variant Compare At Price",
                   "Variant Requires Shipping", "Variant Taxable", "Variant Barcode",
                   "Cost per item", "Status", "Updated at"]
GRAMS = {"GRAMS": Decimal(1), "KILOGRAMS": Decimal(1000), "OUNCES": Decimal("28.349523125"),
         "POUNDS": Decimal("453.59237")}


def product_rows(product: dict, timezone: str) -> list[dict[str, str]]:
    """One product (a node of PRODUCTS_QUERY, variants complete) as the products export's
    rows: one per variant, product fields on every row, `Cost per item` from the variant's
    inventory item (the unit cost in the shop's currency), `Variant Grams` converted from the
    variant's weight unit, `Updated at` when the product last changed. Raises KeyError when
    the node lacks a field the query asks for."""
    options = [o["name"] for o in product.get("options") or []][:3]
    rows = []
    for variant in product["variants"]["nodes"]:
        chosen = {o["name"]: o["value"] for o in variant.get("selectedOptions") or []}
        item = variant.get("inventoryItem") or {}
        weight = ((item.get("measurement") or {}).get("weight") or {})
        grams = ("" if weight.get("value") is None else
                 f"{Decimal(str(weight['value'])) * GRAMS.get(weight.get('unit'), Decimal(1)):.0f}")
        cost = (item.get("unitCost") or {}).get("amount")
        row = {
            "Handle": product["handle"], "Title": product.get("title") or "",
            "Vendor": product.get("vendor") or "",
            "Product Category": (product.get("category") or {}).get("fullName") or "",
            "Type": product.get("productType") or "", "Tags": ", ".join(product.get("tags") or []),
            "Published": "true" if product.get("publishedAt") else "false",
            "Variant SKU": variant.get("sku") or "", "Variant Grams": grams,
            "Variant Inventory Qty": "" if variant.get("inventoryQuantity") is None
                                     else str(variant["inventoryQuantity"]),
            "Variant Price": _text(Decimal(str(variant["price"]))) if variant.get("price") is not None else "",
            "Variant Compare At Price": _text(Decimal(str(variant["compareAtPrice"])))
                                        if variant.get("compareAtPrice") is not None else "",
            "Variant Requires Shipping": str(bool(item.get("requiresShipping", True))).lower(),
            "Variant Taxable": str(bool(variant.get("taxable"))).lower(),
            "Variant Barcode": variant.get("barcode") or "",
            "Cost per item": _text(Decimal(str(cost))) if cost is not None else "",
            "Status": (product.get("status") or "").lower(),
            "Updated at": _local(product.get("updatedAt"), ZoneInfo(timezone)),
        }
        for n in range(3):
            name = options[n] if n < len(options) else ""
            row[f"Option{n + 1} Name"] = name
            row[f"Option{n + 1} Value"] = chosen.get(name, "") if name else ""
        rows.append(row)
    return rows


def pull_products(home: Path, landing: Path, settings: ShopifySettings, *, timezone: str,
                  since: str | None = None, client: ShopifyClient | None = None,
                  on_page: Callable[[str, int], None] | None = None) -> PullLog:
    """Pull the products changed since the saved cursor (or `since`) into
    `<landing>/shopify/products/` as pages of the products export; save the cursor after
    each page. Same errors and log as `pull_orders`."""
    def complete(api: ShopifyClient, products: list[dict]) -> None:  # variants beyond 20
        for product in products:
            variants = product["variants"]
            while variants["pageInfo"]["hasNextPage"]:
                more = api.query(VARIANTS_QUERY, {"id": product["id"],
                                                  "after": variants["pageInfo"]["endCursor"]})
                variants["nodes"] += more["product"]["variants"]["nodes"]
                variants["pageInfo"] = more["product"]["variants"]["pageInfo"]

    return _pull_changed(home, landing, settings, client, resource=PRODUCTS_RESOURCE,
                         query=PRODUCTS_QUERY, page_size=PRODUCTS_PAGE, folder=PRODUCTS_FOLDER,
                         columns=PRODUCT_COLUMNS, since=since, on_page=on_page,
                         rows_of=lambda products: [row for product in products
                                                   for row in product_rows(product, timezone)],
                         complete=complete)


# Customers (read_customers scope): consent, country, spend and order count, no names,
# streets or phones (not used by the models; the export's columns stay empty).
CUSTOMERS_RESOURCE = "customers"
CUSTOMERS_FOLDER = "shopify/customers"
CUSTOMERS_PAGE = 100
CUSTOMERS_QUERY = """
query StoreopsCustomers($first: Int!, $after: String, $query: String) {
  customers(first: $first, after: $after, query: $query, sortKey: UPDATED_AT) {
    pageInfo { hasNextPage endCursor }
    nodes {
      id email updatedAt numberOfOrders tags
      amountSpent { amount currencyCode }
      emailMarketingConsent { marketingState }
      smsMarketingConsent { marketingState }
      defaultAddress { countryCodeV2 }
    }
  }
}
"""
CUSTOMER_COLUMNS = ["First Name", "Last Name", "Email", "Accepts Email Marketing",
                    "Accepts SMS Marketing", "Country Code", "Total Spent", "Total Orders",
                    "Tags", "Updated at"]
SUBSCRIBED = "SUBSCRIBED"


def customer_rows(customers: list[dict], timezone: str) -> list[dict[str, str]]:
    """Customer nodes of CUSTOMERS_QUERY as rows of the customers export (customers without
    an email are left out: the export keys on it)."""
    zone = ZoneInfo(timezone)
    rows = []
    for c in customers:
        if not c.get("email"):
            continue
        email = (c.get("emailMarketingConsent") or {}).get("marketingState")
        sms = (c.get("smsMarketingConsent") or {}).get("marketingState")
        spent = (c.get("amountSpent") or {}).get("amount")
        rows.append({
            "First Name": "", "Last Name": "", "Email": c["email"],
            "Accepts Email Marketing": "" if email is None else ("yes" if email == SUBSCRIBED else "no"),
            "Accepts SMS Marketing": "" if sms is None else ("yes" if sms == SUBSCRIBED else "no"),
            "Country Code": (c.get("defaultAddress") or {}).get("countryCodeV2") or "",
            "Total Spent": _text(Decimal(str(spent))) if spent is not None else "",
            "Total Orders": str(c.get("numberOfOrders") or 0),
            "Tags": ", ".join(c.get("tags") or []),
            "Updated at": _local(c.get("updatedAt"), zone),
        })
    return rows


def pull_customers(home: Path, landing: Path, settings: ShopifySettings, *, timezone: str,
                   since: str | None = None, client: ShopifyClient | None = None,
                   on_page: Callable[[str, int], None] | None = None) -> PullLog:
    """Pull the customers changed since the saved cursor (or `since`) into
    `<landing>/shopify/customers/` as pages of the customers export; save the cursor after
    each page. Same errors and log as `pull_orders`."""
    return _pull_changed(home, landing, settings, client, resource=CUSTOMERS_RESOURCE,
                         query=CUSTOMERS_QUERY, page_size=CUSTOMERS_PAGE, folder=CUSTOMERS_FOLDER,
                         columns=CUSTOMER_COLUMNS, since=since, on_page=on_page,
                         rows_of=lambda customers: customer_rows(customers, timezone))


# Inventory (read_inventory, read_locations): a snapshot of every SKU at every location,
# as the inventory export is (one file per day; storeops keeps the daily history).
INVENTORY_RESOURCE = "inventory"
INVENTORY_FOLDER = "shopify/inventory"
INVENTORY_PAGE = 100
LOCATIONS_QUERY = """
query StoreopsLocations($after: String) {
  locations(first: 50, after: $after) { pageInfo { hasNextPage endCursor } nodes { id name } }
}
"""
INVENTORY_QUERY = """
query StoreopsInventory($id: ID!, $first: Int!, $after: String) {
  location(id: $id) {
    inventoryLevels(first: $first, after: $after) {
      pageInfo { hasNextPage endCursor }
      nodes {
        quantities(names: ["available", "on_hand", "committed", "incoming", "reserved",
                           "damaged", "safety_stock", "quality_control"]) { name quantity }
        item { sku variant { title product { handle title } } }
      }
    }
  }
}
"""
INVENTORY_COLUMNS = ["as_of", "Handle", "Title", "SKU", "Location", "Incoming (not editable)",
                     "Unavailable (not editable)", "Committed (not editable)",
                     "Available (not editable)", "On hand (current)"]
# Shopify's "unavailable" is the sum of these states (Shopify help: inventory states).
UNAVAILABLE = ("reserved", "damaged", "safety_stock", "quality_control")


def inventory_rows(levels: list[dict], location: str, as_of: str) -> list[dict[str, str]]:
    """Inventory levels of one location (nodes of INVENTORY_QUERY) as rows of the inventory
    export dated `as_of` (items without a SKU are left out: the export keys on it)."""
    rows = []
    for level in levels:
        item = level.get("item") or {}
        if not item.get("sku"):
            continue
        quantity = {q["name"]: q.get("quantity") for q in level.get("quantities") or []}
        product = ((item.get("variant") or {}).get("product") or {})
        parts = [quantity.get(name) for name in UNAVAILABLE]
        unavailable = "" if all(v is None for v in parts) else str(sum(v or 0 for v in parts))
        rows.append({
            "Unavailable (not editable)": unavailable,
            "as_of": as_of, "Handle": product.get("handle") or "", "Title": product.get("title") or "",
            "SKU": item["sku"], "Location": location,
            **{column: "" if quantity.get(name) is None else str(quantity[name]) for column, name in (
                ("Incoming (not editable)", "incoming"), ("Committed (not editable)", "committed"),
                ("Available (not editable)", "available"), ("On hand (current)", "on_hand"))},
        })
    return rows


def pull_inventory(home: Path, landing: Path, settings: ShopifySettings, *, timezone: str,
                   since: str | None = None, client: ShopifyClient | None = None,
                   today: date | None = None,
                   on_page: Callable[[str, int], None] | None = None) -> PullLog:
    """Pull today's inventory snapshot (every SKU at every location) into
    `<landing>/shopify/inventory/` as pages of the inventory export dated today in the
    store's timezone (`since` is ignored: a snapshot is whole). The cursor is the date of
    the last complete snapshot. Same errors and log as `pull_orders`."""
    state = PullState(home)
    as_of = (today or datetime.now(ZoneInfo(timezone)).date()).isoformat()
    with _recorded(home, INVENTORY_RESOURCE, state.cursor(SOURCE, INVENTORY_RESOURCE),
                   settings, client) as (log, api):
        number = 0
        locations = [location for page in _connection(api, LOCATIONS_QUERY, {}, "locations")
                     for location in page["nodes"]]
        for location in locations:
            for page in _connection(api, INVENTORY_QUERY,
                                    {"id": location["id"], "first": INVENTORY_PAGE},
                                    "location", "inventoryLevels"):
                rows = inventory_rows(page["nodes"], location["name"], as_of)
                if rows:
                    number += 1
                    land_page(log, landing, INVENTORY_FOLDER,
                              f"inventory_{as_of}_api_{log.pull_id}_p{number:04d}.csv",
                              csv_bytes(INVENTORY_COLUMNS, rows), rows=len(rows),
                              records=len(rows), on_page=on_page)
        state.save(SOURCE, INVENTORY_RESOURCE, as_of)
        log.cursor = as_of
    return log


# Shopify Payments balance transactions, as the Payouts "Export transactions" CSV
# (`shopify/payouts/`, raw.shopify_payment_transactions). The app needs the
# read_shopify_payments_payouts scope (and read_shopify_payments_accounts: the account
# object) and, for a token acting as a staff member, the View payouts permission. Every
# argument and field asked is on these pages of the GraphQL Admin API reference
# (https://shopify.dev/docs/api/admin-graphql/latest/..., read as of 2026-10, the
# API_VERSION; where the 2026-10 copy was not at hand, the 2026-01 or 2025-10 page,
# whose fields and arguments the later ones keep):
# - queries/shopifyPaymentsAccount (2026-10): the account, null without Shopify Payments;
#   its example answer: amounts signed by their effect on the balance (a payout -41.9, a
#   failed payout +41.9), associatedPayout {id: null, status: PENDING} before a payout.
# - objects/ShopifyPaymentsAccount (2026-01): balanceTransactions(hideTransfers, first,
#   after, last, before, reverse, sortKey = PROCESSED_AT, query, savedSearchId); the query
#   filter fields: default, available_on, credit_card_last4, currency, id,
#   payment_method_name, payments_transfer_id, payout_date, payout_status, processed_at
#   (time), tax_reporting_exempt, transaction_type.
# - enums/BalanceTransactionSortKeys (2026-10): PROCESSED_AT.
# - connections/ShopifyPaymentsBalanceTransactionConnection (2026-10): edges, nodes,
#   pageInfo.
# - objects/ShopifyPaymentsBalanceTransaction (2026-01, 2025-10): id, type, test,
#   transactionDate ("when the balance transaction was processed"), amount, fee, net
#   (MoneyV2: amount, currencyCode), associatedOrder, associatedPayout (non-null),
#   adjustmentReason, adjustmentsOrders, sourceId, sourceType, sourceOrderTransactionId.
# - objects/ShopifyPaymentsAssociatedOrder (2025-10): id, name.
# - objects/ShopifyPaymentsBalanceTransactionAssociatedPayout (2026-10): id, status;
#   "Requires the view_payouts permission".
# - enums/ShopifyPaymentsBalanceTransactionPayoutStatus (2026-10): PENDING, SCHEDULED,
#   PAID, FAILED, CANCELED, ACTION_REQUIRED (IN_TRANSIT deprecated).
# - enums/ShopifyPaymentsTransactionType (2026-10): CHARGE, REFUND, ADJUSTMENT,
#   DISPUTE_WITHDRAWAL, RESERVED_FUNDS, TRANSFER, TRANSFER_FAILURE, ...
# hideTransfers: true leaves out the payouts themselves (type TRANSFER, the money sent
# to the bank as a negative amount): they are not transactions of the export storeops
# reads, and summed with a payout's transactions they would cancel them out.
PAYMENTS_RESOURCE = "payment_transactions"
PAYMENTS_FOLDER = "shopify/payouts"
PAYMENTS_PAGE = 100  # requested cost 1 + 2 + 100 x 6 = 603 points
# Pending transactions are paid (with their payout) days after their date, which does not
# change: every pull reads again the days before its cursor, and the newer copy wins.
PAYMENTS_LOOKBACK_DAYS = 7
PAYMENTS_QUERY = """
query StoreopsPaymentTransactions($first: Int!, $after: String, $query: String) {
  shopifyPaymentsAccount {
    balanceTransactions(first: $first, after: $after, query: $query, sortKey: PROCESSED_AT,
                        hideTransfers: true) {
      pageInfo { hasNextPage endCursor }
      nodes {
        id type test transactionDate
        amount { amount currencyCode }
        fee { amount currencyCode }
        net { amount currencyCode }
        associatedOrder { id name }
        associatedPayout { id status }
      }
    }
  }
}
"""
# The export's header, exactly (docs/formats/shopify_payment_transactions.csv).
PAYMENT_COLUMNS = ["Transaction Date", "Type", "Order", "Card Brand", "Card Source",
                   "Payout Status", "Payout Date", "Payout ID", "Available On", "Amount", "Fee",
                   "Net", "Checkout", "Payment Method Name", "Presentment Amount",
                   "Presentment Currency", "Currency"]
PAYMENTS_SCOPE = "read_shopify_payments_payouts"


def payment_rows(transactions: list[dict], timezone: str) -> list[dict[str, str]]:
    """Balance transaction nodes of PAYMENTS_QUERY as rows of the transactions export
    (test-mode transactions are left out: the export has none).

    - Type: the enum lower-cased (CHARGE -> charge, REFUND -> refund; the API's
      DISPUTE_WITHDRAWAL, RESERVED_FUNDS... stay as they are, lower-cased).
    - Amount, Fee, Net: the MoneyV2 amounts as given, 2 decimals. Their sign is the
      balance's: the docs' example answer has payouts out of the balance negative and a
      failed payout coming back positive, so a refund comes negative with fee 0, as the
      export writes it; nothing is turned around.
    - Currency: the amount's currencyCode (the payout currency).
    - Transaction Date: transactionDate in the store's timezone with its offset, as the
      orders pull writes Created at.
    - Payout Status: associatedPayout.status lower-cased (pending, scheduled, paid...);
      Payout ID: the number at the end of its id (empty while pending).
    - Payout Date and Available On stay empty: the balance transaction and its
      associatedPayout (id, status) have no such field.
    - Card Brand, Card Source, Checkout, Payment Method Name, Presentment Amount and
      Presentment Currency stay empty: the object has no field for them
      (payment_method_name is only a filter and sort key of the connection).
    Raises KeyError when a node lacks a field the query asks for."""
    zone = ZoneInfo(timezone)
    rows = []
    for t in transactions:
        if t.get("test"):
            continue
        payout = t.get("associatedPayout") or {}
        row = dict.fromkeys(PAYMENT_COLUMNS, "")
        row.update({
            "Transaction Date": _local(t["transactionDate"], zone),
            "Type": str(t["type"]).lower(),
            "Order": (t.get("associatedOrder") or {}).get("name") or "",
            "Payout Status": (payout.get("status") or "").lower(),
            "Payout ID": str(payout["id"]).rsplit("/", 1)[-1] if payout.get("id") else "",
            "Amount": _text(Decimal(str(t["amount"]["amount"]))),
            "Fee": _text(Decimal(str(t["fee"]["amount"]))),
            "Net": _text(Decimal(str(t["net"]["amount"]))),
            "Currency": t["amount"].get("currencyCode") or "",
        })
        rows.append(row)
    return rows


def _utc(timestamp: str) -> datetime:
    return datetime.fromisoformat(timestamp).astimezone(UTC)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def pull_payment_transactions(home: Path, landing: Path, settings: ShopifySettings, *,
                              timezone: str, since: str | None = None,
                              client: ShopifyClient | None = None,
                              on_page: Callable[[str, int], None] | None = None) -> PullLog:
    """Pull the Shopify Payments balance transactions processed since the saved cursor
    less PAYMENTS_LOOKBACK_DAYS (or since `since`; the first pull: `initial_days` back, as
    for orders) into `<landing>/shopify/payouts/` as the transactions export.

    One file per UTC day of transactionDate (a day may span pages; pages come oldest
    first): the loader dates a file by its newest transaction, so the copy of a day a later
    pull writes has the same date as the earlier copy and wins by being loaded later (a
    file per page would not: a page of the look-back can end on an earlier day than the
    older page holding the same transaction). The cursor, the newest transactionDate
    written, is saved after each day's file.

    A store without Shopify Payments (shopifyPaymentsAccount is null) or a token refused
    it (ACCESS_DENIED: the read_shopify_payments_payouts scope or the View payouts
    permission missing) is not an error: the pull is recorded as "skipped", its `error`
    one line saying why, and returns. Other errors as `pull_orders`."""
    state = PullState(home)
    saved = state.cursor(SOURCE, PAYMENTS_RESOURCE)
    if since:
        window = since
    elif saved:
        window = _iso(_utc(saved) - timedelta(days=PAYMENTS_LOOKBACK_DAYS))
    else:
        window = _iso(datetime.now(UTC) - timedelta(days=settings.initial_days))
    with _recorded(home, PAYMENTS_RESOURCE, window, settings, client) as (log, api):
        log.cursor = saved
        day: date | None = None
        held: list[dict] = []  # the transactions of `day` read so far
        number = 0

        def land() -> None:
            nonlocal number
            rows = payment_rows(held, timezone)
            if rows:
                number += 1
                land_page(log, landing, PAYMENTS_FOLDER,
                          f"api_{PAYMENTS_RESOURCE}_{log.pull_id}_p{number:04d}.csv",
                          csv_bytes(PAYMENT_COLUMNS, rows), rows=len(rows), on_page=on_page)
            newest = max((t["transactionDate"] for t in held), key=_utc)
            if log.cursor is None or _utc(newest) > _utc(log.cursor):
                log.cursor = newest
                state.save(SOURCE, PAYMENTS_RESOURCE, newest)
            held.clear()

        pages = _connection(api, PAYMENTS_QUERY,
                            {"first": PAYMENTS_PAGE, "query": f"processed_at:>='{window}'"},
                            "shopifyPaymentsAccount", "balanceTransactions")
        try:
            for page in pages:
                for node in page["nodes"]:
                    if day is not None and _utc(node["transactionDate"]).date() != day:
                        land()
                    day = _utc(node["transactionDate"]).date()
                    held.append(node)
                log.records += len(page["nodes"])
        except Unavailable as exc:
            log.status = "skipped"
            log.error = _payments_skipped(str(exc), api._token)
            return log
        if held:
            land()
    return log


def _payments_skipped(reason: str, token: str) -> str:
    """The one line a skipped Shopify Payments pull records: why, and what to grant."""
    if reason.endswith("shopifyPaymentsAccount is null"):
        why = "this store has no Shopify Payments account (shopifyPaymentsAccount is null)"
    else:
        why = f"Shopify refused it ({reason.removeprefix('shopify: the query failed: ')})"
    text = (f"shopify {PAYMENTS_RESOURCE}: skipped, nothing pulled: {why}. To pull Shopify "
            f"Payments transactions the app needs the {PAYMENTS_SCOPE} scope (and "
            "read_shopify_payments_accounts), and a staff member's token the View payouts "
            "permission; the other Shopify resources are pulled as usual")
    return redact(" ".join(text.split()), token)
