"""The demo store as the vendors' APIs would answer for it: what a warehouse loaded from
the demo's export files holds, turned back into the API records the mocks serve
(tests/*_mock.py), so that a pull of the demo store can be compared with its exports.

Each function reads raw tables of a DuckDB connection that loaded the exports (the loader
stores every time in UTC, Zendesk's local times converted) and returns the records in the
shape the vendor documents. Ids the exports do not carry (Meta and
TikTok ad ids, Zendesk user and group ids) are made up, the same for the same names.
"""

from __future__ import annotations

import json
import zlib
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path


def _rows(con, sql: str) -> list[dict]:
    cursor = con.execute(sql)
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, values, strict=True)) for values in cursor.fetchall()]


def _number(value) -> str:
    """A number as the APIs write it in strings: no trailing zeros, no exponent."""
    if value is None:
        return "0"
    text = format(Decimal(str(value)).normalize(), "f")
    return text


def _id(*parts) -> int:
    return 10_000_000 + zlib.crc32("|".join(str(p) for p in parts).encode()) % 89_999_999


def _utc(moment: datetime | None) -> str | None:
    """A raw timestamp (UTC, naive or not) as an API's ISO 8601 UTC string."""
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def meta_insights(con) -> list[dict]:
    """raw.meta_ads as rows of the insights edge (level=ad, time_increment=1)."""
    out = []
    for r in _rows(con, "select * from raw.meta_ads order by day, campaign_name, ad_set_name, ad_name"):
        day = (r["day"] or r["reporting_starts"]).isoformat()
        actions, values = [], []
        if r["purchases"] is not None:
            actions.append({"action_type": "offsite_conversion.fb_pixel_purchase",
                            "value": _number(r["purchases"])})
        if r["purchases_conversion_value"] is not None:
            values.append({"action_type": "offsite_conversion.fb_pixel_purchase",
                           "value": _number(r["purchases_conversion_value"])})
        out.append({
            "date_start": day, "date_stop": day, "account_currency": r["currency"],
            "campaign_name": r["campaign_name"], "adset_name": r["ad_set_name"],
            "ad_name": r["ad_name"],
            "ad_id": str(_id(r["campaign_name"], r["ad_set_name"], r["ad_name"])),
            "impressions": _number(r["impressions"]), "reach": _number(r["reach"]),
            "frequency": _number(r["frequency"]), "inline_link_clicks": _number(r["link_clicks"]),
            "spend": _number(r["amount_spent"]), "actions": actions, "action_values": values,
        })
    return out


def google_ads_results(con) -> list[dict]:
    """raw.google_ads as searchStream results (cost in micros)."""
    return [{
        "segments": {"date": r["day"].isoformat()},
        "campaign": {"resourceName": f"customers/1/campaigns/{_id(r['campaign'])}",
                     "name": r["campaign"]},
        "adGroup": {"resourceName": f"customers/1/adGroups/{_id(r['campaign'], r['ad_group'])}",
                    "name": r["ad_group"]},
        "customer": {"resourceName": "customers/1", "currencyCode": r["currency_code"]},
        "metrics": {"costMicros": str(int(Decimal(str(r["cost"])) * 1_000_000)),
                    "impressions": _number(r["impressions"]), "clicks": _number(r["clicks"]),
                    "conversions": float(r["conversions"] or 0),
                    "conversionsValue": float(r["conv_value"] or 0)},
    } for r in _rows(con, "select * from raw.google_ads order by day, campaign, ad_group")]


def tiktok_rows(con) -> list[dict]:
    """raw.tiktok_ads as rows of the integrated report (AUCTION_AD, by ad and day)."""
    return [{
        "dimensions": {"ad_id": _id(r["campaign_name"], r["ad_group_name"], r["ad_name"]),
                       "stat_time_day": f"{r['by_day'].isoformat()} 00:00:00"},
        "metrics": {"campaign_name": r["campaign_name"], "adgroup_name": r["ad_group_name"] or "",
                    "ad_name": r["ad_name"] or "", "spend": _number(r["cost"]),
                    "impressions": _number(r["impressions"]),
                    "clicks": _number(r["clicks_destination"]),
                    "conversion": _number(r["conversions"]),
                    "total_complete_payment_rate": _number(r["total_complete_payment_value"])},
    } for r in _rows(con, "select * from raw.tiktok_ads order by by_day, campaign_name, ad_name")]


def gorgias_tickets(landing: Path) -> list[dict]:
    """The demo's Gorgias files (already the list endpoint's ticket objects) with the
    `updated_datetime` the API adds: the ticket's last change."""
    tickets = []
    for path in sorted((Path(landing) / "gorgias").glob("*.jsonl")):
        for line in path.read_text().splitlines():
            if line.strip():
                ticket = json.loads(line)
                moments = [ticket.get(k) for k in ("created_datetime", "opened_datetime",
                                                   "closed_datetime", "last_message_datetime")]
                ticket["updated_datetime"] = max(m for m in moments if m)
                tickets.append(ticket)
    return tickets


ZENDESK_VIA = {"Mail": "email", "Web form": "web", "Chat": "chat", "Phone call (incoming)": "voice",
               "API": "api", "Mobile": "mobile", "Text": "sms", "Messaging": "native_messaging"}


def zendesk_export(con) -> dict:
    """raw.zendesk_tickets (the newest row of each ticket) as the incremental export's
    records: {"tickets", "users", "groups", "metric_sets"}."""
    rows = _rows(con, """select * from raw.zendesk_tickets
        qualify row_number() over (partition by id order by updated_at desc nulls last,
                                   _source_file desc) = 1 order by id""")
    users: dict[tuple, dict] = {}
    groups: dict[str, dict] = {}

    def user(name, email):
        key = (name, email)
        if key not in users:
            users[key] = {"id": _id("user", *key), "name": name, "email": email}
        return users[key]["id"]

    tickets, metrics = [], []
    for r in rows:
        if r["group"] and r["group"] not in groups:
            groups[r["group"]] = {"id": _id("group", r["group"]), "name": r["group"]}
        score = (r["satisfaction_score"] or "").lower() or None
        tickets.append({
            "id": r["id"], "subject": r["subject"], "status": r["status"],
            "priority": r["priority"], "type": r["ticket_type"],
            "tags": (r["tags"] or "").split(), "via": {"channel": ZENDESK_VIA.get(r["via"] or "", "")},
            "created_at": _utc(r["created_at"]), "updated_at": _utc(r["updated_at"]),
            "requester_id": user(r["requester"], r["requester_email"]),
            "assignee_id": user(r["assignee"], None) if r["assignee"] else None,
            "group_id": groups[r["group"]]["id"] if r["group"] else None,
            "satisfaction_rating": {"score": score} if score else None,
        })
        metrics.append({
            "ticket_id": r["id"], "assigned_at": _utc(r["assigned_at"]),
            "solved_at": _utc(r["solved_at"]), "reopens": r["reopens"], "replies": r["replies"],
            "reply_time_in_minutes": {
                "calendar": r["first_reply_time_in_minutes"],
                "business": r["first_reply_time_in_minutes_within_business_hours"]},
            "full_resolution_time_in_minutes": {
                "calendar": r["full_resolution_time_in_minutes"],
                "business": r["full_resolution_time_in_minutes_within_business_hours"]},
        })
    return {"tickets": tickets, "users": list(users.values()), "groups": list(groups.values()),
            "metric_sets": metrics}


def _minutes_before(moment: str, minutes: int) -> str:
    at = datetime.fromisoformat(moment) - timedelta(minutes=minutes)
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def shopify_products(con, updated: str) -> list[dict]:
    """raw.shopify_products as product nodes (variants complete), the last one changed at
    `updated` (ISO 8601 UTC; the export does not say when) and each before it a minute
    earlier. The exports are dated snapshots: the API serves today's, the newest."""
    by_handle: dict[str, list[dict]] = {}
    for r in _rows(con, "select * from raw.shopify_products where as_of = "
                        "(select max(as_of) from raw.shopify_products) order by _source_row"):
        by_handle.setdefault(r["handle"], []).append(r)
    nodes = []
    for number, (handle, rows) in enumerate(by_handle.items(), start=1):
        first = rows[0]
        names = [first[f"option{n}_name"] for n in (1, 2, 3) if first[f"option{n}_name"]]
        variants = []
        for r in rows:
            grams = r["variant_grams"]
            variants.append({
                "sku": r["variant_sku"], "price": _number(r["variant_price"]),
                "compareAtPrice": None if r["variant_compare_at_price"] is None
                                  else _number(r["variant_compare_at_price"]),
                "inventoryQuantity": r["variant_inventory_qty"],
                "taxable": (r.get("variant_taxable") or "").upper() == "TRUE",
                "barcode": r.get("variant_barcode"),
                "selectedOptions": [{"name": first[f"option{n}_name"], "value": r[f"option{n}_value"]}
                                    for n in (1, 2, 3) if first[f"option{n}_name"]],
                "inventoryItem": {
                    "requiresShipping": (r.get("variant_requires_shipping") or "TRUE").upper() == "TRUE",
                    "unitCost": None if r["cost_per_item"] is None else
                    {"amount": _number(r["cost_per_item"]), "currencyCode": "USD"},
                    "measurement": {"weight": None if grams is None else
                                    {"value": float(grams), "unit": "GRAMS"}}},
            })
        nodes.append({
            "id": f"gid://shopify/Product/{number}", "handle": handle, "title": first["title"],
            "vendor": first["vendor"], "productType": first["type"],
            "tags": [t.strip() for t in (first["tags"] or "").split(",") if t.strip()],
            "status": (first["status"] or "active").upper(),
            "updatedAt": _minutes_before(updated, len(by_handle) - number),
            "publishedAt": "2026-01-01T00:00:00Z" if first["published"] else None,
            "category": {"fullName": first["product_category"]} if first["product_category"] else None,
            "options": [{"name": n} for n in names], "variants": {"nodes": variants},
        })
    return nodes


def shopify_customers(con, updated: str) -> list[dict]:
    """raw.shopify_customers as customer nodes, the last changed at `updated`, each before
    it a minute earlier."""
    def state(flag):
        return None if flag is None else {"marketingState": "SUBSCRIBED" if flag else "UNSUBSCRIBED"}

    rows = _rows(con, "select * from raw.shopify_customers order by _source_row")
    return [{
        "id": f"gid://shopify/Customer/{number}", "email": r["email"],
        "updatedAt": _minutes_before(updated, len(rows) - number),
        "numberOfOrders": str(r["total_orders"] or 0),
        "tags": [t.strip() for t in (r["tags"] or "").split(",") if t.strip()],
        "amountSpent": {"amount": _number(r["total_spent"]), "currencyCode": "USD"},
        "emailMarketingConsent": state(r["accepts_email_marketing"]),
        "smsMarketingConsent": state(r["accepts_sms_marketing"]),
        "defaultAddress": {"countryCodeV2": r["country_code"]} if r["country_code"] else None,
    } for number, r in enumerate(rows, start=1)]


def shopify_inventory(con, as_of: date) -> dict[str, list[dict]]:
    """The inventory export of day `as_of` as inventory levels per location name (what a
    pull on that day reads: the API has no history)."""
    levels: dict[str, list[dict]] = {}
    for r in _rows(con, f"select * from raw.shopify_inventory where as_of = '{as_of}' "
                        "order by location, _source_row"):
        quantities = [{"name": name, "quantity": r[column]} for name, column in (
            ("available", "available"), ("on_hand", "on_hand"), ("committed", "committed"),
            ("incoming", "incoming"))]
        # The export's Unavailable is the sum of these states; the demo does not split it.
        quantities += [{"name": "reserved", "quantity": r["unavailable"]},
                       {"name": "damaged", "quantity": 0}, {"name": "safety_stock", "quantity": 0},
                       {"name": "quality_control", "quantity": 0}]
        levels.setdefault(r["location"], []).append({
            "quantities": quantities,
            "item": {"sku": r["sku"], "variant": {"title": r["option1_value"] or "Default",
                                                  "product": {"handle": r["handle"], "title": r["title"]}}}})
    return levels


def shopify_balance_transactions(con) -> list[dict]:
    """The Shopify Payments transactions the exports loaded (raw, newest file wins) as
    `ShopifyPaymentsBalanceTransaction` nodes (tests/shopify_mock.balance_transaction):
    type upper-cased, amounts signed as the export writes them, the payout's numeric id
    and status; pending transactions have no payout id yet."""
    from tests.shopify_mock import balance_transaction

    rows = _rows(con, """
        select transaction_at, transaction_type, order_name, amount, fee, currency_code,
               payout_id, payout_status
        from staging.stg_shopify__payment_transactions
        order by transaction_at, order_name, transaction_type, amount""")
    return [balance_transaction(
        n, date=_utc(r["transaction_at"]), amount=r["amount"], fee=r["fee"],
        type=r["transaction_type"].upper(), order=r["order_name"],
        payout=int(r["payout_id"]) if r["payout_id"] else None,
        payout_status=r["payout_status"].upper(), currency=r["currency_code"])
        for n, r in enumerate(rows, 1)]
