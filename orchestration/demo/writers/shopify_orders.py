"""Shopify orders export (`shopify/orders/orders_<first day>_<last day>.csv`): quarterly
overlapping files, each showing the orders' state as of the morning after its last day,
and the block of rows pasted twice in the newest file."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from orchestration.demo import calendar as cal
from orchestration.demo.calendar import DAY, HOUR
from orchestration.demo.catalog import Catalog, Promotion
from orchestration.demo.customers import Customers
from orchestration.demo.names import FIRST_NAMES
from orchestration.demo.orders import NEVER, Orders
from orchestration.demo.writers.format import Landing, lit_str, money, null_str
from orchestration.demo.writers.shopify_order_rows import _order_rows

ORDERS_HEADER = [
    "Name",
    "Email",
    "Financial Status",
    "Paid at",
    "Fulfillment Status",
    "Fulfilled at",
    "Accepts Marketing",
    "Currency",
    "Subtotal",
    "Shipping",
    "Taxes",
    "Total",
    "Discount Code",
    "Discount Amount",
    "Shipping Method",
    "Created at",
    "Lineitem quantity",
    "Lineitem name",
    "Lineitem price",
    "Lineitem compare at price",
    "Lineitem sku",
    "Lineitem requires shipping",
    "Lineitem taxable",
    "Lineitem fulfillment status",
    "Billing Name",
    "Billing Street",
    "Billing Address1",
    "Billing Address2",
    "Billing Company",
    "Billing City",
    "Billing Zip",
    "Billing Province",
    "Billing Country",
    "Billing Phone",
    "Shipping Name",
    "Shipping Street",
    "Shipping Address1",
    "Shipping Address2",
    "Shipping Company",
    "Shipping City",
    "Shipping Zip",
    "Shipping Province",
    "Shipping Country",
    "Shipping Phone",
    "Notes",
    "Note Attributes",
    "Cancelled at",
    "Payment Method",
    "Payment Reference",
    "Refunded Amount",
    "Vendor",
    "Outstanding Balance",
    "Employee",
    "Location",
    "Device ID",
    "Id",
    "Tags",
    "Risk Level",
    "Source",
    "Lineitem discount",
    "Tax 1 Name",
    "Tax 1 Value",
    "Tax 2 Name",
    "Tax 2 Value",
    "Tax 3 Name",
    "Tax 3 Value",
    "Tax 4 Name",
    "Tax 4 Value",
    "Tax 5 Name",
    "Tax 5 Value",
    "Phone",
    "Receipt Number",
    "Duties",
    "Billing Province Name",
    "Shipping Province Name",
    "Payment ID",
    "Payment Terms Name",
    "Next Payment Due At",
    "Payment References",
]


def write_orders(
    landing: Landing,
    rng: np.random.Generator,
    *,
    orders: Orders,
    people: pl.DataFrame,
    customers: Customers,
    catalog: Catalog,
    promos: list[Promotion],
    window: tuple[int, int],
) -> OrdersExport:
    """Quarterly overlapping exports. In the newest file the rows of one multi-line order
    appear twice in a row, exactly repeated (a block pasted twice in a spreadsheet)."""
    w0, w1 = window
    # Drawn once per order, so an order looks the same in every export that has it.
    draws = {
        "gift": rng.random(orders.n) < 0.05,
        "ship_first": rng.integers(0, len(FIRST_NAMES), orders.n),
        "paid_offset": rng.integers(2, 40, orders.n),
        "payment_id": rng.integers(10**14, 10**15, orders.n),
    }
    first_only = [
        c
        for c in ORDERS_HEADER
        if c
        not in {
            "Name",
            "Email",
            "Financial Status",
            "Paid at",
            "Fulfillment Status",
            "Fulfilled at",
            "Accepts Marketing",
            "Currency",
            "Created at",
        }
        and not c.startswith("Lineitem")
        and c != "Vendor"
    ]

    files = order_export_files(window)
    written = [
        k
        for k, (lo_day, hi_day) in enumerate(files)
        if np.searchsorted(orders.local_day, hi_day + 1) > np.searchsorted(orders.local_day, lo_day)
    ]
    duplicate: dict | None = None
    for k, (lo_day, hi_day) in enumerate(files):
        export_at = export_instant(hi_day)
        X = pl.lit(export_at, dtype=pl.Int64)
        a, b = np.searchsorted(orders.local_day, [lo_day, hi_day + 1])
        if b == a:
            continue
        part = _order_rows(
            np.arange(a, b),
            draws,
            orders=orders,
            people=people,
            customers=customers,
            catalog=catalog,
            promos=promos,
        )
        cancelled = pl.col("_cancel") < X
        refunded = pl.col("_refund") < X
        part = part.with_columns(
            pl.when(cancelled & pl.col("_voids"))
            .then(lit_str("voided"))
            .when(cancelled)
            .then(lit_str("refunded"))
            .when(refunded & pl.col("_all_ret"))
            .then(lit_str("refunded"))
            .when(refunded)
            .then(lit_str("partially_refunded"))
            .when(pl.col("_voids") | (pl.col("_test") & (pl.col("_total") == 0)))
            .then(lit_str("authorized"))
            .otherwise(lit_str("paid"))
            .alias("Financial Status"),
            pl.when(pl.col("_f_full") < X)
            .then(lit_str("fulfilled"))
            .when(pl.col("_f_first") < X)
            .then(lit_str("partial"))
            .otherwise(lit_str("unfulfilled"))
            .alias("Fulfillment Status"),
            pl.when(pl.col("_f_full") < X).then(pl.col("_f_full_s")).alias("Fulfilled at"),
            pl.when(pl.col("_lf") < X)
            .then(lit_str("fulfilled"))
            .otherwise(lit_str("pending"))
            .alias("Lineitem fulfillment status"),
            pl.when(cancelled).then(pl.col("_cancel_s")).alias("Cancelled at"),
            money(
                pl.when(cancelled & ~pl.col("_voids"))
                .then(pl.col("_total"))
                .when(refunded)
                .then(pl.col("_refund_amt"))
                .otherwise(0)
            ).alias("Refunded Amount"),
        ).with_columns(
            [
                pl.when(pl.col("_first"))
                .then(pl.col(c).cast(pl.String))
                .otherwise(null_str())
                .alias(c)
                if c in part.columns or c in ("Cancelled at", "Refunded Amount")
                else null_str().alias(c)
                for c in first_only
            ]
        )
        name = f"shopify/orders/orders_{cal.to_date(lo_day).isoformat()}_{cal.to_date(hi_day).isoformat()}.csv"
        if k == written[-1]:
            prev_hi = files[k - 1][1] if k > 0 else lo_day - 1
            part, duplicate = _paste_twice(part, rng, orders, a, b, prev_hi)
            if duplicate is not None:
                duplicate["file"] = name
        # Real export quirks: the oldest file has a BOM and ends with two blank lines.
        landing.write_csv(name, part, ORDERS_HEADER, bom=(k == 0), after=b"\n\n" if k == 0 else b"")
    a, b = np.searchsorted(orders.local_day, [w0, w1 + 1])
    n_lines = np.searchsorted(orders.line_order, b) - np.searchsorted(orders.line_order, a)
    return OrdersExport(n_orders=int(b - a), n_lines=int(n_lines), duplicate=duplicate)


@dataclass(frozen=True)
class OrdersExport:
    n_orders: int  # orders created in the window (test orders included)
    n_lines: int  # their line items (each counted once)
    duplicate: dict | None  # file, order, repeated_rows of the block pasted twice


def order_export_files(window: tuple[int, int]) -> list[tuple[int, int]]:
    """(first day, last day) of each orders export: one per calendar quarter, covering it
    plus 14 days of the next quarter, each showing the state as of the morning after its
    last covered day (export_instant)."""
    w0, w1 = window
    files = []
    d = cal.to_date(w0).replace(day=1)
    d = d.replace(month=(d.month - 1) // 3 * 3 + 1)
    while cal.day_number(d) <= w1:
        nq = d.replace(year=d.year + (d.month == 10), month=(d.month + 2) % 12 + 1)
        lo_day = max(cal.day_number(d), w0)
        hi_day = min(cal.day_number(nq) + 13, w1)
        files.append((lo_day, hi_day))
        d = nq
    return files


def export_instant(hi_day: int) -> int:
    return int(cal.local_to_utc(np.array([(hi_day + 1) * DAY + 8 * HOUR]))[0])


def newest_export_at(local_day: np.ndarray, window: tuple[int, int]) -> np.ndarray:
    """For orders created on `local_day`, the instant of the newest export that has them:
    the state a warehouse keeping the newest file's row shows."""
    out = np.full(local_day.size, NEVER, dtype=np.int64)
    for lo_day, hi_day in order_export_files(window):
        out = np.where((local_day >= lo_day) & (local_day <= hi_day), export_instant(hi_day), out)
    return out


def _paste_twice(
    part: pl.DataFrame,
    rng: np.random.Generator,
    orders: Orders,
    a: int,
    b: int,
    prev_hi: int,
) -> tuple[pl.DataFrame, dict | None]:
    """Repeat the rows of one multi-line order (only in this file, not a test order) right
    after themselves."""
    oi = np.arange(a, b)
    li = np.arange(np.searchsorted(orders.line_order, a), np.searchsorted(orders.line_order, b))
    n_lines = np.bincount(orders.line_order[li] - a, minlength=b - a)
    ok = (n_lines >= 2) & ~orders.is_test[oi] & (orders.local_day[oi] > prev_hi)
    if not ok.any():
        return part, None
    three = ok & (n_lines >= 3)
    pool = np.flatnonzero(three if three.any() else ok)
    pick = int(pool[rng.integers(0, pool.size)])
    start = int(np.searchsorted(orders.line_order[li] - a, pick))
    rows = int(n_lines[pick])
    block = part.slice(start, rows)
    out = pl.concat([part.slice(0, start + rows), block, part.slice(start + rows)])
    return out, {"order": f"#{int(orders.number[a + pick])}", "repeated_rows": rows}
