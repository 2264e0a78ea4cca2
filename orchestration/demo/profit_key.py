"""The profit part of the demo's answer key: the `profit:` section of storeops.yml it was
computed with, `demo_truth/profit.json` (what the profit files hold that a warehouse
should find) and its section of the answer key's README."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import yaml

from orchestration.demo import calendar as cal
from orchestration.demo.orders import Orders
from orchestration.demo.profit import (
    CARD_FEE_BP,
    CARD_FEE_FIXED,
    CostHistory,
    demo_profit_settings,
)
from orchestration.demo.shipments import Shipments


def profit_settings_of(home: Path, window: tuple[int, int]) -> tuple[dict, str]:
    """The `profit:` settings the answer key uses, and what happened to storeops.yml:
    "created" (no file: written with just the demo's section), "added" (the demo's
    section added to a file without one, the other keys kept) or "existing" (the file's
    own `profit:` is left alone, and used)."""
    path = Path(home) / "storeops.yml"
    demo = demo_profit_settings(window)
    if not path.exists():
        path.write_text(yaml.safe_dump({"profit": demo}, sort_keys=False))
        return demo, "created"
    config = yaml.safe_load(path.read_text()) or {}
    if not isinstance(config, dict):
        raise TypeError(f"{path}: expected a mapping of settings, cannot add `profit:`")
    if "profit" in config:
        return config["profit"] or {}, "existing"
    path.write_text(yaml.safe_dump({**config, "profit": demo}, sort_keys=False))
    return demo, "added"


def profit_key(
    orders: Orders,
    *,
    settings: dict,
    settings_source: str,
    costs: CostHistory,
    window: tuple[int, int],
    shipments: Shipments,
    shipping_files: dict,
    payment_files: list[dict],
    product_files: list[str],
) -> dict:
    """demo_truth/profit.json: the settings used, the cost changes, the fee rates, the
    orders shipped without a label and the labels of no order (as written), label counts,
    the pasted shipment row, the transactions files and the files written."""
    labels = shipments.labels
    outbound = labels.order[~labels.voided & ~labels.is_return & (labels.order >= 0)]
    per_order = np.unique(outbound, return_counts=True)[1]
    without = orders.number[shipments.index[shipments.without_label]]
    gateways = settings.get("payment_fees") or {}
    return {
        "settings": settings,
        "settings_source": settings_source,
        "cost_changes": costs.changes,
        "product_snapshots": [cal.to_date(d).isoformat() for d, _ in costs.snapshots(window)],
        "fee_rates": {
            "Shopify Payments": {
                market: f"{bp / 100:g}% + {CARD_FEE_FIXED} cents"
                for market, bp in CARD_FEE_BP.items()
            },
            **{gateway: rate for gateway, rate in gateways.items()},
            **{m: "none" for m in ("Cash", "manual", "Bogus")},
        },
        "orders_shipped_without_label": [f"#{n}" for n in without.tolist()],
        "labels_without_order": labels.order_number[labels.order < 0].tolist(),
        "labels": {
            "labels": labels.n,
            "shipped_orders": int(shipments.shipped.sum()),
            "orders_shipped_without_label": int(shipments.without_label.sum()),
            "voided": int(labels.voided.sum()),
            "return_labels": int(labels.is_return.sum()),
            "split_orders": int((per_order > 1).sum()),
        },
        "duplicated_shipment_row": shipping_files["duplicated_row"],
        "payment_transaction_files": payment_files,
        "files_written": {
            "shopify/payouts": len(payment_files),
            "shipping": len(shipping_files["files"]),
            "shopify/products": len(product_files),
        },
        "files": [f["file"] for f in payment_files] + shipping_files["files"] + product_files,
    }


def profit_readme(info: dict) -> list[str]:
    """The README section on the profit answer key (info: what profit.json holds)."""
    fees = info["fee_rates"]
    return [
        "## Profit (orders.parquet, profit.json)",
        "",
        (
            "Per order, as the warehouse should compute them from the files it sees (the "
            "newest orders export that has the order): `cogs` = sum over product lines of "
            "(quantity - units returned in refunds that export shows; none kept when "
            "cancelled) x Cost per item in effect on the order's date (the newest dated "
            "products export on or before it); `shipping_cost` = Shipment Cost + Insurance "
            "Cost of the order's non-voided ShipStation labels, return labels included (NULL "
            "for a shipped order without any label, 0.00 for an order without labels); "
            "`payment_fees` = Shopify Payments: the Fee of its transactions (charges only: "
            "refunds return no fee); PayPal Express Checkout and Afterpay: Total x percent / "
            "100 + fixed, rounded half up, once per charged order (the `profit:` "
            "payment_fees); Cash, manual and Bogus: 0; `fulfilment_cost` = the `profit:` "
            "fulfilment_per_order entry in effect in the order's month, per shipped order "
            "(labelled or not); `contribution_margin_1` = net_sales - cogs; "
            "`contribution_margin_2` = contribution_margin_1 + shipping - refunded_shipping - "
            "shipping_cost - payment_fees - fulfilment_cost (NULL with shipping_cost)."
        ),
        (
            "- Shipped: not a test order, not cancelled, with a product line (`Lineitem "
            "requires shipping` true), not a POS order (Source `pos`: picked up in the shop, "
            "marked fulfilled at checkout) and fulfilled before the newest orders export that "
            "has it. No label is dated at or after that export."
        ),
        (
            "- Cancelled orders: a payment whose authorisation was voided (Financial Status "
            "`voided`, `authorized` before the cancellation) was never charged: no "
            "transaction, no fee. A cancellation refunded to the customer keeps the fee of "
            "its charge (Shopify Payments and the other gateways alike); its refund is a "
            "`refund` row with Fee 0.00."
        ),
        (
            f"- Cost changes: {len(info['cost_changes'])} supplier price rises on "
            f"{', '.join(sorted({c['date'] for c in info['cost_changes']}))}; products "
            f"exports dated {', '.join(info['product_snapshots'])}."
        ),
        (
            f"- Shopify Payments: {fees['Shopify Payments']['domestic']}, international "
            f"(tax-inclusive orders) {fees['Shopify Payments']['international']}; "
            "`payment_transactions_export_2.csv` writes Amount, Fee and Net with a `$`."
        ),
        (
            f"- Labels: {info['labels']['orders_shipped_without_label']} shipped orders have "
            f"no label (`orders_shipped_without_label`), "
            f"{len(info['labels_without_order'])} labels match no order "
            f"(`labels_without_order`), {info['labels']['voided']} labels are voided (cost "
            f"written, not incurred), {info['labels']['split_orders']} orders went in two "
            f"shipments, {info['labels']['return_labels']} return labels; "
            f"`{info['duplicated_shipment_row']['file']}` has one row pasted twice."
        ),
        "",
    ]
