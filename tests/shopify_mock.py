"""A local Shopify GraphQL Admin API for tests (pytest-httpserver), answering as Shopify
documents it (https://shopify.dev/docs/api/admin-graphql, .../rate-limits):

- `POST /admin/api/<version>/graphql.json` with `X-Shopify-Access-Token`; a wrong token
  gets HTTP 401 `{"errors": "[API] Invalid API key or access token (unrecognized login or
  wrong password)"}`.
- `orders(first, after, query: "updated_at:>='...'", sortKey: UPDATED_AT)` as a Relay
  connection (`pageInfo { hasNextPage endCursor }`, `nodes`), nested lists cut at the
  `first` the query asks for (with their own pageInfo), `order(id:)` and `refund(id:)`.
- Calculated query cost: the requested cost is worked out from the query text by
  Shopify's published rules (scalars 0, objects 1, a connection or list 2 + first x its
  node), a query over 1,000 points is refused (MAX_COST_EXCEEDED), and a leaky bucket
  (`maximum`, `restore_rate` per second) answers THROTTLED with HTTP 200 when it cannot
  pay the requested cost. Every answer carries `extensions.cost.throttleStatus`.
- Planned faults by request number: `fail[n] = "429"` (with Retry-After), `"500"`.
- `shopifyPaymentsAccount { balanceTransactions(first, after, query:
  "processed_at:>='...'", sortKey: PROCESSED_AT, reverse, hideTransfers) }` as the
  ShopifyPaymentsBalanceTransactionConnection (edges with cursors, nodes, pageInfo),
  oldest first; `payments_account="none"` answers `shopifyPaymentsAccount: null` (a store
  without Shopify Payments), `"denied"` an ACCESS_DENIED error as Shopify words it.

Which operation was asked is read from the operation name (StoreopsOrders, ...); the
mock does not execute arbitrary GraphQL.
"""

from __future__ import annotations

import base64
import json
import re
import threading
import time
from copy import deepcopy
from decimal import Decimal

from graphql import parse
from graphql.language import FieldNode, OperationDefinitionNode
from werkzeug import Request, Response

MAX_QUERY_COST = 1000


def _int_arg(field: FieldNode, name: str, variables: dict) -> int | None:
    for arg in field.arguments:
        if arg.name.value == name:
            node = arg.value
            if node.kind == "variable":
                return variables.get(node.name.value)
            return int(node.value)
    return None


def _selection_cost(selections, variables) -> int:
    total = 0
    for node in selections or []:
        if not isinstance(node, FieldNode) or node.selection_set is None:
            continue  # scalars and enums cost 0
        if node.name.value == "pageInfo":
            continue  # part of its connection
        first = _int_arg(node, "first", variables)
        children = node.selection_set.selections
        if first is not None:
            inner = next((c for c in children if isinstance(c, FieldNode)
                          and c.name.value == "nodes"), None)
            item = inner.selection_set.selections if inner is not None else children
            total += 2 + first * (1 + _selection_cost(item, variables))
        else:
            total += 1 + _selection_cost(children, variables)
    return total


def requested_cost(query: str, variables: dict) -> int:
    """A query's requested cost by Shopify's published rules (see the module docstring)."""
    document = parse(query)
    operation = next(d for d in document.definitions if isinstance(d, OperationDefinitionNode))
    return _selection_cost(operation.selection_set.selections, variables)


def _field_args(query: str, name: str, variables: dict) -> dict:
    """The arguments of the first field `name` in `query`, literals and variables resolved
    (enums as their names)."""
    from graphql.language import visit
    from graphql.language.visitor import Visitor

    found: dict = {}
    seen: list[bool] = []

    class Find(Visitor):
        def enter_field(self, node, *_):
            if node.name.value != name or seen:
                return
            seen.append(True)
            for arg in node.arguments:
                value = arg.value
                if value.kind == "variable":
                    found[arg.name.value] = variables.get(value.name.value)
                elif value.kind == "boolean_value":
                    found[arg.name.value] = value.value
                elif value.kind == "int_value":
                    found[arg.name.value] = int(value.value)
                else:  # strings and enums
                    found[arg.name.value] = value.value

    visit(parse(query), Find())
    return found


def balance_transaction(number: int, *, date: str, amount, fee=0, type: str = "CHARGE",
                        order: str | None = None, payout: int | None = None,
                        payout_status: str = "PENDING", test: bool = False,
                        currency: str = "USD") -> dict:
    """A ShopifyPaymentsBalanceTransaction node as the Admin API returns it: net = amount
    - fee; a pending one has `associatedPayout {id: null, status: PENDING}` (as the docs'
    example answer shows)."""
    amount, fee = Decimal(str(amount)), Decimal(str(fee))
    return {
        "id": f"gid://shopify/ShopifyPaymentsBalanceTransaction/{700000 + number}",
        "type": type, "test": test, "transactionDate": date,
        "amount": {"amount": str(amount), "currencyCode": currency},
        "fee": {"amount": str(fee), "currencyCode": currency},
        "net": {"amount": str(amount - fee), "currencyCode": currency},
        "associatedOrder": None if order is None else {
            "id": f"gid://shopify/Order/{5000000000 + int(order.lstrip('#'))}", "name": order},
        "associatedPayout": {"id": None if payout is None else
                             f"gid://shopify/ShopifyPaymentsPayout/{payout}",
                             "status": payout_status},
    }


def money(amount, currency: str = "USD") -> dict:
    return {"shopMoney": {"amount": f"{Decimal(str(amount)):.2f}", "currencyCode": currency}}


def order(number: int, *, created: str, updated: str, lines: list[dict], refunds=(),
          email: str = "", shipping: float = 5.0, tax_rate: float = 0.08,
          consent: str = "SUBSCRIBED", financial: str = "PAID",
          fulfillment: str = "FULFILLED", tags=(), source: str = "web") -> dict:
    """An order node as the Admin API returns it. lines: dicts with sku, quantity, price
    (and optionally discount); refunds: dicts with lines [(line index, quantity, tax)]
    and shipping (subtotal, tax). Money in USD."""
    subtotal = sum(Decimal(str(li["price"])) * li["quantity"] - Decimal(str(li.get("discount", 0)))
                   for li in lines)
    tax = (subtotal * Decimal(str(tax_rate))).quantize(Decimal("0.01"))
    total = subtotal + Decimal(str(shipping)) + tax
    line_nodes = [{
        "id": f"gid://shopify/LineItem/{number * 100 + i}", "name": f"Product {li['sku']}",
        "sku": li["sku"], "quantity": li["quantity"], "requiresShipping": True, "taxable": True,
        "vendor": "Acme", "unfulfilledQuantity": 0 if fulfillment == "FULFILLED" else li["quantity"],
        "originalUnitPriceSet": money(li["price"]), "totalDiscountSet": money(li.get("discount", 0)),
    } for i, li in enumerate(lines)]
    refund_nodes, refunded = [], Decimal(0)
    for r, refund in enumerate(refunds):
        items = [{"quantity": q, "lineItem": {"id": line_nodes[i]["id"]}, "totalTaxSet": money(t)}
                 for i, q, t in refund.get("lines", [])]
        ship = [{"subtotalAmountSet": money(s), "taxAmountSet": money(t)}
                for s, t in refund.get("shipping", [])]
        refunded += sum(Decimal(str(lines[i]["price"])) * q + Decimal(str(t))
                        for i, q, t in refund.get("lines", []))
        refunded += sum(Decimal(str(s)) + Decimal(str(t)) for s, t in refund.get("shipping", []))
        refund_nodes.append({"id": f"gid://shopify/Refund/{number * 10 + r}",
                             "refundLineItems": {"nodes": items},
                             "refundShippingLines": {"nodes": ship}})
    return {
        "id": f"gid://shopify/Order/{5000000000 + number}", "legacyResourceId": str(5000000000 + number),
        "name": f"#{number}", "email": email or f"customer{number}@example.com",
        "createdAt": created, "updatedAt": updated, "processedAt": created, "cancelledAt": None,
        "displayFinancialStatus": financial, "displayFulfillmentStatus": fulfillment,
        "tags": list(tags), "sourceName": source, "discountCodes": [],
        "paymentGatewayNames": ["shopify_payments"],
        "customAttributes": [{"key": "utm_source", "value": "google"}],
        "customer": {"emailMarketingConsent": {"marketingState": consent}},
        "shippingLine": {"title": "Standard"},
        "shippingAddress": {"province": "Texas", "provinceCode": "TX", "countryCodeV2": "US"},
        "billingAddress": {"countryCodeV2": "US"},
        "subtotalPriceSet": money(subtotal), "totalShippingPriceSet": money(shipping),
        "totalTaxSet": money(tax), "totalPriceSet": money(total), "totalDiscountsSet": money(0),
        "totalRefundedSet": money(refunded), "totalOutstandingSet": money(0),
        "currentTotalDutiesSet": None,
        "taxLines": [{"title": "Texas State Tax", "ratePercentage": tax_rate * 100,
                      "priceSet": money(tax)}],
        "transactions": [{"kind": "SALE", "status": "SUCCESS", "processedAt": created}],
        "fulfillments": [{"createdAt": updated}] if fulfillment == "FULFILLED" else [],
        "refunds": refund_nodes,
        "lineItems": {"nodes": line_nodes},
    }


def _cursor(index: int) -> str:
    return base64.b64encode(json.dumps({"last": index}).encode()).decode()


def _page(nodes: list, first: int, after: str | None) -> dict:
    start = json.loads(base64.b64decode(after))["last"] + 1 if after else 0
    chunk = nodes[start:start + first]
    end = start + len(chunk) - 1
    return {"pageInfo": {"hasNextPage": start + first < len(nodes),
                         "endCursor": _cursor(end) if chunk else None},
            "nodes": chunk}


class ShopifyMock:
    """The mock shop: `orders` (nodes from `order()`), a token, a bucket, planned faults.
    `transactions`: Shopify Payments balance transactions (nodes from
    `balance_transaction()`); `payments_account`: "active", "none" (no Shopify Payments)
    or "denied" (the token lacks the scope).
    `requests` records (operation, variables, HTTP status or "THROTTLED", requested cost)
    per request. `available`: the bucket now; `drain_next = True` empties it when the next
    request arrives (whatever time passed before)."""

    def __init__(self, httpserver, *, token: str, orders: list[dict], version: str = "2026-10",
                 maximum: float = 1000.0, restore_rate: float = 20000.0,
                 products: list[dict] | None = None, customers: list[dict] | None = None,
                 inventory: dict[str, list[dict]] | None = None,
                 transactions: list[dict] | None = None, payments_account: str = "active",
                 app: tuple[str, str] | None = None):
        self.token = token
        self.orders = orders
        self.transactions = transactions or []
        self.payments_account = payments_account
        self.products = products or []
        self.customers = customers or []
        self.inventory = inventory or {}  # location name -> inventory level nodes
        self.maximum = maximum
        self.restore_rate = restore_rate
        self.available = maximum
        self._at = time.monotonic()
        self.fail: dict[int, str] = {}
        self.requests: list[tuple] = []
        self.drain_next = False  # empty the bucket when the next request arrives
        self._lock = threading.Lock()
        httpserver.expect_request(f"/admin/api/{version}/graphql.json",
                                  method="POST").respond_with_handler(self.handle)
        # The client credentials grant (an app of the store's own organisation): the
        # app's (client_id, client_secret) get `token`.
        self.app = app
        httpserver.expect_request("/admin/oauth/access_token",
                                  method="POST").respond_with_handler(self.grant)

    def grant(self, request: Request) -> Response:
        form = request.form
        self.requests.append(("client_credentials", {}, None, None))
        if self.app is None or form.get("grant_type") != "client_credentials" or \
                (form.get("client_id"), form.get("client_secret")) != self.app:
            return Response(json.dumps({"error": "invalid_client", "error_description":
                                        "Client authentication failed."}), status=400,
                            content_type="application/json")
        return Response(json.dumps({"access_token": self.token, "scope": "read_orders,read_products",
                                    "expires_in": 86399}), status=200,
                        content_type="application/json")

    def _refill(self) -> None:
        now = time.monotonic()
        self.available = min(self.maximum, self.available + (now - self._at) * self.restore_rate)
        self._at = now

    def _status(self) -> dict:
        return {"maximumAvailable": self.maximum, "currentlyAvailable": round(self.available, 1),
                "restoreRate": self.restore_rate}

    def handle(self, request: Request) -> Response:
        with self._lock:
            return self._handle(request)

    def _handle(self, request: Request) -> Response:
        number = len(self.requests) + 1
        body = request.get_json()
        operation = re.search(r"query\s+(\w+)", body["query"]).group(1)
        variables = body.get("variables") or {}
        if request.headers.get("X-Shopify-Access-Token") != self.token:
            self.requests.append((operation, variables, 401, None))
            return Response(json.dumps({"errors": "[API] Invalid API key or access token "
                                        "(unrecognized login or wrong password)"}), status=401,
                            content_type="application/json")
        fault = self.fail.get(number)
        if fault == "429":
            self.requests.append((operation, variables, 429, None))
            return Response(json.dumps({"errors": "Throttled"}), status=429,
                            headers={"Retry-After": "1"}, content_type="application/json")
        if fault == "500":
            self.requests.append((operation, variables, 500, None))
            return Response(json.dumps({"errors": "Internal Server Error"}), status=500,
                            content_type="application/json")
        cost = requested_cost(body["query"], variables)
        self._refill()
        if self.drain_next:
            self.available, self.drain_next = 0.0, False
        if cost > MAX_QUERY_COST:
            self.requests.append((operation, variables, 200, cost))
            return self._json({"errors": [{"message": f"Query cost is {cost}, which exceeds the "
                                           f"single query max cost limit ({MAX_QUERY_COST}).",
                                           "extensions": {"code": "MAX_COST_EXCEEDED", "cost": cost,
                                                          "maxCost": MAX_QUERY_COST}}]})
        if self.available < cost:
            self.requests.append((operation, variables, "THROTTLED", cost))
            return self._json({"errors": [{"message": "Throttled", "extensions": {
                "code": "THROTTLED", "documentation": "https://shopify.dev/api/usage/rate-limits"}}],
                "extensions": {"cost": {"requestedQueryCost": cost, "actualQueryCost": None,
                                        "throttleStatus": self._status()}}})
        if operation == "StoreopsPaymentTransactions" and self.payments_account == "denied":
            self.available -= 1
            self.requests.append((operation, variables, "ACCESS_DENIED", cost))
            # As Shopify answers a field the app has no scope for (changelog: "New error
            # messages for GraphQL operations without necessary access scopes").
            return self._json({"data": {"shopifyPaymentsAccount": None}, "errors": [{
                "message": "Access denied for shopifyPaymentsAccount field. Required access: "
                           "`read_shopify_payments_accounts` access scope.",
                "locations": [{"line": 3, "column": 3}], "path": ["shopifyPaymentsAccount"],
                "extensions": {"code": "ACCESS_DENIED",
                               "documentation": "https://shopify.dev/api/usage/access-scopes",
                               "requiredAccess": "`read_shopify_payments_accounts` access "
                                                 "scope."}}],
                "extensions": {"cost": {"requestedQueryCost": cost, "actualQueryCost": 1,
                                        "throttleStatus": self._status()}}})
        data = self._answer(operation, variables, body["query"])
        actual = max(1, cost // 4)
        self.available -= actual
        self.requests.append((operation, variables, 200, cost))
        return self._json({"data": data, "extensions": {"cost": {
            "requestedQueryCost": cost, "actualQueryCost": actual,
            "throttleStatus": self._status()}}})

    @staticmethod
    def _json(payload: dict) -> Response:
        return Response(json.dumps(payload), status=200, content_type="application/json")

    def _find(self, gid: str) -> dict:
        return next(o for o in self.orders if o["id"] == gid)

    def _shaped(self, node: dict) -> dict:
        """An order cut to the first-sizes of ORDERS_QUERY, as Shopify returns it."""
        from orchestration.pull import shopify

        out = deepcopy(node)
        out["lineItems"] = _page(node["lineItems"]["nodes"], shopify.LINES_FIRST, None)
        out["refunds"] = [{
            "id": r["id"],
            "refundLineItems": _page(r["refundLineItems"]["nodes"], shopify.REFUND_LINES_FIRST, None),
            "refundShippingLines": _page(r["refundShippingLines"]["nodes"],
                                         shopify.REFUND_SHIPPING_FIRST, None),
        } for r in node["refunds"][:shopify.REFUNDS_FIRST]]
        return out

    def _payment_transactions(self, query: str, variables: dict) -> dict:
        if self.payments_account == "none":
            return {"shopifyPaymentsAccount": None}
        args = _field_args(query, "balanceTransactions", variables)
        if args.get("sortKey", "PROCESSED_AT") != "PROCESSED_AT":
            raise AssertionError(f"the mock sorts balance transactions by PROCESSED_AT only: {args}")
        since = None
        if args.get("query"):
            since = re.fullmatch(r"processed_at:>='([^']+)'", args["query"]).group(1)
        nodes = sorted((t for t in self.transactions
                        if (since is None or t["transactionDate"] >= since)
                        and not (args.get("hideTransfers") and t["type"] == "TRANSFER")),
                       key=lambda t: (t["transactionDate"], t["id"]),
                       reverse=bool(args.get("reverse")))
        page = _page(nodes, args["first"], args.get("after"))
        start = json.loads(base64.b64decode(args["after"]))["last"] + 1 if args.get("after") else 0
        page["nodes"] = deepcopy(page["nodes"])
        page["edges"] = [{"cursor": _cursor(start + i), "node": node}
                         for i, node in enumerate(page["nodes"])]
        return {"shopifyPaymentsAccount": {"balanceTransactions": page}}

    def _answer(self, operation: str, variables: dict, query: str = "") -> dict:
        if operation == "StoreopsPaymentTransactions":
            return self._payment_transactions(query, variables)
        if operation == "StoreopsOrders":
            since = None
            if variables.get("query"):
                since = re.fullmatch(r"updated_at:>='([^']+)'", variables["query"]).group(1)
            nodes = sorted((o for o in self.orders if since is None or o["updatedAt"] >= since),
                           key=lambda o: (o["updatedAt"], o["id"]))
            page = _page(nodes, variables["first"], variables.get("after"))
            page["nodes"] = [self._shaped(o) for o in page["nodes"]]
            return {"orders": page}
        if operation == "StoreopsOrderLines":
            node = self._find(variables["id"])
            return {"order": {"lineItems": _page(node["lineItems"]["nodes"], 100,
                                                 variables.get("after"))}}
        if operation == "StoreopsOrderRefunds":
            return {"order": {"refunds": [{"id": r["id"]} for r in self._find(variables["id"])["refunds"]]}}
        if operation == "StoreopsRefund":
            refund = next(r for o in self.orders for r in o["refunds"] if r["id"] == variables["id"])
            return {"refund": {"id": refund["id"],
                               "refundLineItems": _page(refund["refundLineItems"]["nodes"], 100,
                                                        variables.get("after")),
                               "refundShippingLines": _page(refund["refundShippingLines"]["nodes"], 50,
                                                            None)}}
        if operation == "StoreopsProducts":
            from orchestration.pull import shopify

            since = None
            if variables.get("query"):
                since = re.fullmatch(r"updated_at:>='([^']+)'", variables["query"]).group(1)
            nodes = sorted((p for p in self.products if since is None or p["updatedAt"] >= since),
                           key=lambda p: (p["updatedAt"], p["id"]))
            page = _page(nodes, variables["first"], variables.get("after"))
            page["nodes"] = [{**deepcopy(p), "variants": _page(p["variants"]["nodes"],
                                                               shopify.VARIANTS_FIRST, None)}
                             for p in page["nodes"]]
            return {"products": page}
        if operation == "StoreopsProductVariants":
            product = next(p for p in self.products if p["id"] == variables["id"])
            return {"product": {"variants": _page(product["variants"]["nodes"], 100,
                                                  variables.get("after"))}}
        if operation == "StoreopsCustomers":
            since = None
            if variables.get("query"):
                since = re.fullmatch(r"updated_at:>='([^']+)'", variables["query"]).group(1)
            nodes = sorted((c for c in self.customers if since is None or c["updatedAt"] >= since),
                           key=lambda c: (c["updatedAt"], c["id"]))
            return {"customers": _page(nodes, variables["first"], variables.get("after"))}
        if operation == "StoreopsLocations":
            nodes = [{"id": f"gid://shopify/Location/{i + 1}", "name": name}
                     for i, name in enumerate(self.inventory)]
            return {"locations": _page(nodes, 50, variables.get("after"))}
        if operation == "StoreopsInventory":
            name = list(self.inventory)[int(variables["id"].rsplit("/", 1)[1]) - 1]
            return {"location": {"inventoryLevels": _page(self.inventory[name], variables["first"],
                                                          variables.get("after"))}}
        raise AssertionError(f"the mock does not answer {operation}")


def product(number: int, *, updated: str, variants: list[dict], status: str = "ACTIVE") -> dict:
    """A product node as the Admin API returns it. variants: dicts with sku, price, cost
    (unit cost), color (the option value), grams (weight in kilograms / 1000 here: the unit
    is KILOGRAMS to exercise the conversion)."""
    return {
        "id": f"gid://shopify/Product/{8000 + number}", "handle": f"product-{number}",
        "title": f"Product {number}", "vendor": "Acme", "productType": "Candles",
        "tags": ["soy", "gift"], "status": status, "updatedAt": updated,
        "publishedAt": "2026-01-01T00:00:00Z",
        "category": {"fullName": "Home & Garden > Decor > Candles"},
        "options": [{"name": "Color"}],
        "variants": {"nodes": [{
            "sku": v["sku"], "price": f"{v['price']:.2f}", "compareAtPrice": None,
            "inventoryQuantity": v.get("qty", 10), "taxable": True, "barcode": None,
            "selectedOptions": [{"name": "Color", "value": v["color"]}],
            "inventoryItem": {"requiresShipping": True,
                              "unitCost": None if v.get("cost") is None else
                              {"amount": f"{v['cost']:.2f}", "currencyCode": "USD"},
                              "measurement": {"weight": {"value": v.get("grams", 250) / 1000,
                                                         "unit": "KILOGRAMS"}}},
        } for v in variants]},
    }


def customer(number: int, *, updated: str, email: str | None = "", spent: float = 120.0,
             orders: int = 3, consent: str = "SUBSCRIBED") -> dict:
    """A customer node as the Admin API returns it (email None: a customer without one)."""
    return {"id": f"gid://shopify/Customer/{6000 + number}",
            "email": f"buyer{number}@example.com" if email == "" else email,
            "updatedAt": updated, "numberOfOrders": str(orders), "tags": ["vip"] if spent > 500 else [],
            "amountSpent": {"amount": f"{spent:.2f}", "currencyCode": "USD"},
            "emailMarketingConsent": {"marketingState": consent},
            "smsMarketingConsent": {"marketingState": "NOT_SUBSCRIBED"},
            "defaultAddress": {"countryCodeV2": "US"}}


def inventory_level(sku: str | None, *, available: int, on_hand: int, committed: int = 0,
                    incoming: int = 0, handle: str = "product-1") -> dict:
    """An inventory level node (one item at one location) as the Admin API returns it."""
    return {"quantities": [{"name": "available", "quantity": available},
                           {"name": "on_hand", "quantity": on_hand},
                           {"name": "committed", "quantity": committed},
                           {"name": "incoming", "quantity": incoming},
                           {"name": "reserved", "quantity": 1}, {"name": "damaged", "quantity": 0},
                           {"name": "safety_stock", "quantity": 0},
                           {"name": "quality_control", "quantity": 0}],
            "item": {"sku": sku, "variant": {"title": "Default", "product": {
                "handle": handle, "title": handle.replace("-", " ").title()}}}}


def _iso(moment) -> str | None:
    return None if moment is None else moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def orders_from_warehouse(con) -> list[dict]:
    """The orders a warehouse loaded from exports (the newest file's rows of each order,
    as stg_shopify__orders chose them), as the Admin API would return them: the demo store
    served through the mock. Times in the raw table are UTC."""
    cursor = con.execute("""
        select r.* from raw.shopify_orders r
        join staging.stg_shopify__orders o on o.order_name = r.name and o._source_file = r._source_file
        order by r.name, r._source_row""")
    names = [d[0] for d in cursor.description]
    by_order: dict[str, list[dict]] = {}
    for values in cursor.fetchall():
        row = dict(zip(names, values, strict=True))
        by_order.setdefault(row["name"], []).append(row)
    nodes = []
    for number, (name, rows) in enumerate(by_order.items()):
        first = rows[0]
        currency = first["currency"] or "USD"

        def bag(value, currency=currency):
            return None if value is None else {"shopMoney": {"amount": str(value),
                                                             "currencyCode": currency}}
        moments = [m for m in (first["created_at"], first["paid_at"], first["fulfilled_at"],
                               first["cancelled_at"]) if m is not None]
        taxes = []
        for n in range(1, 6):
            title, value = first[f"tax_{n}_name"], first[f"tax_{n}_value"]
            if not title:
                continue
            rate = re.search(r"\s([0-9]+(?:\.[0-9]+)?)%$", title)
            taxes.append({"title": title[:rate.start()] if rate else title,
                          "ratePercentage": float(rate.group(1)) if rate else None,
                          "priceSet": bag(value)})
        fulfilment = {"fulfilled": "FULFILLED", "partial": "PARTIALLY_FULFILLED"}.get(
            (first["fulfillment_status"] or "").lower(), "UNFULFILLED")
        consent = first["accepts_marketing"]
        attributes = [dict(zip(("key", "value"), (p.strip() for p in line.split(":", 1)), strict=True))
                      for line in (first["note_attributes"] or "").splitlines() if ":" in line]
        nodes.append({
            "id": f"gid://shopify/Order/{number + 1}", "legacyResourceId": first["id"] or "",
            "name": name, "email": first["email"], "createdAt": _iso(first["created_at"]),
            "updatedAt": _iso(max(moments)) if moments else None, "processedAt": _iso(first["created_at"]),
            "cancelledAt": _iso(first["cancelled_at"]),
            "displayFinancialStatus": (first["financial_status"] or "").upper(),
            "displayFulfillmentStatus": fulfilment,
            "tags": [t.strip() for t in (first["tags"] or "").split(",") if t.strip()],
            "sourceName": first["source"], "discountCodes": [first["discount_code"]] if first["discount_code"] else [],
            "paymentGatewayNames": [first["payment_method"]] if first.get("payment_method") else [],
            "customAttributes": attributes,
            "customer": None if consent is None else {"emailMarketingConsent": {
                "marketingState": "SUBSCRIBED" if consent else "UNSUBSCRIBED"}},
            "shippingLine": {"title": first["shipping_method"]} if first["shipping_method"] else None,
            "shippingAddress": {"province": first.get("shipping_province_name"),
                                "provinceCode": first.get("shipping_province"),
                                "countryCodeV2": first.get("shipping_country")},
            "billingAddress": {"countryCodeV2": first.get("billing_country")},
            "subtotalPriceSet": bag(first["subtotal"]), "totalShippingPriceSet": bag(first["shipping"]),
            "totalTaxSet": bag(first["taxes"]), "totalPriceSet": bag(first["total"]) or bag(0),
            "totalDiscountsSet": bag(first["discount_amount"]),
            "totalRefundedSet": bag(first["refunded_amount"]),
            "totalOutstandingSet": bag(first["outstanding_balance"]),
            "currentTotalDutiesSet": bag(first["duties"]), "taxLines": taxes,
            "transactions": [{"kind": "SALE", "status": "SUCCESS", "processedAt": _iso(first["paid_at"])}]
                            if first["paid_at"] else [],
            "fulfillments": [{"createdAt": _iso(first["fulfilled_at"])}] if first["fulfilled_at"] else [],
            "refunds": [],
            "lineItems": {"nodes": [{
                "id": f"gid://shopify/LineItem/{number + 1}-{i}", "name": r["lineitem_name"],
                "sku": r["lineitem_sku"], "quantity": r["lineitem_quantity"],
                "requiresShipping": r["lineitem_requires_shipping"], "taxable": r["lineitem_taxable"],
                "vendor": r["vendor"],
                "unfulfilledQuantity": 0 if (r["lineitem_fulfillment_status"] or "") == "fulfilled"
                                       else r["lineitem_quantity"],
                "originalUnitPriceSet": bag(r["lineitem_price"]),
                "totalDiscountSet": bag(r["lineitem_discount"]),
            } for i, r in enumerate(rows)]},
        })
    return nodes
