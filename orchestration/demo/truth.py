"""The money answer key: one row per exported order with Shopify's finance-report amounts
and its profit (cost of goods, shipping, payment and fulfilment costs, contribution
margins), computed from the integer cents the exports were written from."""

from __future__ import annotations

import numpy as np
import polars as pl

from orchestration.demo.orders import LINE_PRODUCT, NEVER, Orders
from orchestration.demo.profit import SHOPIFY_PAYMENTS, CostHistory, ProfitRules, Transactions
from orchestration.demo.writers import money, newest_export_at

MONEY_COLUMNS = [
    "gross_sales",
    "discounts",
    "returns",
    "net_sales",
    "shipping",
    "refunded_shipping",
    "taxes",
    "refunded_taxes",
    "tips",
    "gift_card_sales",
    "total",
    "refunded",
]
# Profit per order (decimal(18,2), store currency); contribution margins may be negative
# and shipping_cost (so contribution_margin_2) is NULL for a shipped order without a label.
PROFIT_COLUMNS = [
    "cogs",
    "shipping_cost",
    "payment_fees",
    "fulfilment_cost",
    "contribution_margin_1",
    "contribution_margin_2",
]
COLUMNS = [
    "order_name",
    "order_date",
    "currency",
    "taxes_included",
    *MONEY_COLUMNS,
    *PROFIT_COLUMNS,
    "is_cancelled",
    "is_test",
]


def order_cents(orders: Orders, window: tuple[int, int]) -> dict[str, np.ndarray]:
    """Answer-key amounts (cents) of the orders created in the window, in the state of the
    newest export that has each order (a refund after that export is not in the data).

    gross_sales, discounts, returns, net_sales and shipping are ex tax (VAT taken out of
    tax-inclusive orders); taxes is all tax charged (on tax-inclusive orders the VAT in
    products and shipping); tips and gift_card_sales are their own amounts; total and
    refunded are the export's Total and Refunded Amount. A cancelled order keeps what it
    was placed for and its sale is reversed (returns = its goods, refunded_shipping and
    refunded_taxes = all of them: net sales 0, as Shopify's reports count a cancellation);
    its `refunded` is what the export says (0 when the payment was only voided).
    """
    w0, w1 = window
    a, b = np.searchsorted(orders.local_day, [w0, w1 + 1])
    i = np.arange(a, b)
    as_of = newest_export_at(orders.local_day[i], window)
    cancelled = orders.cancelled[i] < as_of
    refund_seen = (orders.refunded[i] < as_of) & ~cancelled
    net_before = orders.gross_ex[i] - orders.discount_ex[i]
    zero = np.zeros(i.size, dtype=np.int64)
    returns = np.where(cancelled, net_before, np.where(refund_seen, orders.return_goods[i], zero))
    refunded = np.where(
        cancelled,
        np.where(orders.cancel_voids[i], zero, orders.total[i]),
        np.where(refund_seen, orders.refund_amount[i], zero),
    )
    return {
        "index": i,
        "gross_sales": orders.gross_ex[i],
        "discounts": orders.discount_ex[i],
        "returns": returns,
        "net_sales": net_before - returns,
        "shipping": orders.shipping_ex[i],
        "refunded_shipping": np.where(
            cancelled,
            orders.shipping_ex[i],
            np.where(refund_seen, orders.return_shipping[i], zero),
        ),
        "taxes": orders.taxes[i],
        "refunded_taxes": np.where(
            cancelled, orders.taxes[i], np.where(refund_seen, orders.return_taxes[i], zero)
        ),
        "tips": orders.tips[i],
        "gift_card_sales": orders.gift_cards[i],
        "total": orders.total[i],
        "refunded": refunded,
        "is_cancelled": cancelled,
    }


def orders_truth(
    orders: Orders,
    window: tuple[int, int],
    profit: dict[str, np.ndarray],
    currency: str = "USD",
) -> pl.DataFrame:
    """demo_truth/orders.parquet: one row per exported order (test orders flagged), with
    the profit amounts of `profit` (profit_cents; NULL where shipping_cost_known is
    False, for shipping_cost and contribution_margin_2)."""
    c = order_cents(orders, window)
    i = c["index"]
    known = pl.Series(profit["shipping_cost_known"])

    def decimal(key: str) -> pl.Series:
        value = money(pl.Series(profit[key]))
        if key in ("shipping_cost", "contribution_margin_2"):
            value = pl.when(known).then(value)
        return pl.select(value).to_series().cast(pl.Decimal(18, 2))

    frame = pl.DataFrame(
        {
            "order_name": "#" + pl.Series(orders.number[i]).cast(pl.String),
            "order_date": pl.Series(orders.local_day[i]).cast(pl.Int32).cast(pl.Date),
            "currency": pl.Series([currency] * i.size, dtype=pl.String),
            "taxes_included": pl.Series(orders.taxes_included[i], dtype=pl.Boolean),
            **{
                k: pl.select(money(pl.Series(c[k]))).to_series().cast(pl.Decimal(18, 2))
                for k in MONEY_COLUMNS
            },
            **{k: decimal(k) for k in PROFIT_COLUMNS},
            "is_cancelled": pl.Series(c["is_cancelled"], dtype=pl.Boolean),
            "is_test": pl.Series(orders.is_test[i], dtype=pl.Boolean),
        }
    )
    return frame.select(COLUMNS)


def profit_cents(
    orders: Orders,
    window: tuple[int, int],
    cents: dict[str, np.ndarray],
    *,
    costs: CostHistory,
    rules: ProfitRules,
    transactions: Transactions,
    written_fees: np.ndarray,
    label_cents: np.ndarray,
    shipped: np.ndarray,
    without_label: np.ndarray,
) -> dict[str, np.ndarray]:
    """The answer key's profit amounts (cents) of the orders of `cents`, aligned with
    cents["index"]: cogs, shipping_cost (with shipping_cost_known False where it is NULL),
    payment_fees, fulfilment_cost, contribution_margin_1 and contribution_margin_2.

    written_fees: Fee cents of each transaction as written (0 where not in any file);
    label_cents: per order, Shipment Cost + Insurance Cost of its non-voided labels;
    shipped / without_label: per order, as shipments.simulate_shipments decided.
    """
    i = cents["index"]
    n = i.size
    a = int(i[0]) if n else 0
    as_of = newest_export_at(orders.local_day[i], window)
    cancelled = cents["is_cancelled"]
    refund_seen = (orders.refunded[i] < as_of) & ~cancelled
    la, lb = np.searchsorted(orders.line_order, [a, a + n])
    lo = orders.line_order[la:lb] - a
    product = orders.line_kind[la:lb] == LINE_PRODUCT
    sku = np.where(product, orders.line_sku[la:lb], 0)
    qty = orders.line_qty[la:lb]
    units = np.where(
        cancelled[lo], 0, qty - np.where(refund_seen[lo], orders.line_returned_qty[la:lb], 0)
    )
    unit_cost = costs.unit_cost_on(orders.local_day[i][lo], sku)
    cogs = np.bincount(lo, weights=np.where(product, units * unit_cost, 0), minlength=n)
    cogs = cogs.astype(np.int64)

    tx = transactions.order - a
    in_window = (tx >= 0) & (tx < n)
    card = np.bincount(tx[in_window], weights=written_fees[in_window], minlength=n)
    charged = ~(orders.cancel_voids[i] & (orders.cancelled[i] < NEVER)) & ~orders.is_test[i]
    gateway = np.where(charged, rules.gateway_fees(orders.payment[i], orders.total[i]), 0)
    payment_fees = np.where(
        orders.payment[i] == SHOPIFY_PAYMENTS, card.astype(np.int64), gateway
    ).astype(np.int64)
    fulfilment = np.where(shipped, rules.fulfilment_on(orders.local_day[i]), 0).astype(np.int64)
    shipping_cost = np.where(without_label, 0, label_cents).astype(np.int64)
    cm1 = cents["net_sales"] - cogs
    cm2 = (
        cm1
        + cents["shipping"]
        - cents["refunded_shipping"]
        - shipping_cost
        - payment_fees
        - fulfilment
    )
    return {
        "cogs": cogs,
        "shipping_cost": shipping_cost,
        "shipping_cost_known": ~without_label,
        "payment_fees": payment_fees,
        "fulfilment_cost": fulfilment,
        "contribution_margin_1": cm1,
        "contribution_margin_2": cm2,
    }


def money_stats(orders: Orders, window: tuple[int, int]) -> dict:
    """Shares and sums of the money features among real (non-test) orders in the window."""
    c = order_cents(orders, window)
    i = c["index"]
    real = ~orders.is_test[i]
    live = real & ~c["is_cancelled"]
    n = max(int(real.sum()), 1)
    full = live & (c["refunded"] > 0) & (c["refunded"] == c["total"])
    partial = live & (c["refunded"] > 0) & ~full

    # Return details among orders whose refund the exports show.
    a = int(i[0]) if i.size else 0
    li = np.arange(
        np.searchsorted(orders.line_order, a), np.searchsorted(orders.line_order, a + i.size)
    )
    lo, product = orders.line_order[li] - a, orders.line_kind[li] == 0
    lines = np.bincount(lo, weights=product, minlength=i.size)
    back = np.bincount(lo, weights=orders.line_returned[li], minlength=i.size)
    partial_unit = (orders.line_returned_qty[li] > 0) & (
        orders.line_returned_qty[li] < orders.line_qty[li]
    )
    one_unit = np.bincount(lo, weights=partial_unit, minlength=i.size) > 0
    seen = live & (c["refunded"] > 0)

    def share(mask: np.ndarray) -> float:
        return round(float(mask[real].sum()) / n, 4)

    def usd(cents: np.ndarray) -> float:
        return int(cents[live].sum()) / 100

    return {
        "tax_inclusive_order_share": share(orders.taxes_included[i]),
        "tip_order_share": share(c["tips"] > 0),
        "gift_card_order_share": share(c["gift_card_sales"] > 0),
        "partial_refund_order_share": share(partial),
        "full_refund_with_shipping_order_share": share(full & (c["refunded_shipping"] > 0)),
        "full_refund_order_share": share(full),
        "cancelled_order_share": share(c["is_cancelled"]),
        "orders_with_unseen_refund": int(
            (live & (orders.refunded[i] < NEVER) & (c["refunded"] == 0)).sum()
        ),
        "orders_two_of_three_lines_returned": int(((lines == 3) & (back == 2) & seen).sum()),
        "orders_one_unit_of_a_multi_unit_line_returned": int((one_unit & seen).sum()),
        "net_sales_usd": usd(c["net_sales"]),
        "returns_usd": usd(c["returns"]),
        "refunded_shipping_usd": usd(c["refunded_shipping"]),
        "tips_usd": usd(c["tips"]),
        "gift_card_sales_usd": usd(c["gift_card_sales"]),
    }


__all__ = [
    "COLUMNS",
    "MONEY_COLUMNS",
    "PROFIT_COLUMNS",
    "money_stats",
    "order_cents",
    "orders_truth",
    "profit_cents",
]
