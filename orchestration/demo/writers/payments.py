"""Shopify Payments transactions export (`shopify/payouts/`, Finance > Payouts > Export
transactions): two overlapping date ranges, as a merchant exports them, each showing the
payouts as of the morning after its last day."""

from __future__ import annotations

import numpy as np
import polars as pl

from orchestration.demo import calendar as cal
from orchestration.demo.calendar import DAY
from orchestration.demo.orders import Orders
from orchestration.demo.profit import CARD_BRANDS, REFUND, Transactions
from orchestration.demo.writers.format import Landing, _gather, lit_str, money
from orchestration.demo.writers.shopify_orders import export_instant

PAYMENTS_HEADER = [
    "Transaction Date",
    "Type",
    "Order",
    "Card Brand",
    "Card Source",
    "Payout Status",
    "Payout Date",
    "Payout ID",
    "Available On",
    "Amount",
    "Fee",
    "Net",
    "Checkout",
    "Payment Method Name",
    "Presentment Amount",
    "Presentment Currency",
    "Currency",
]
PAYOUT_DELAY_DAYS = 2  # a transaction's money is available this many days after its date
PAYOUT_ID_BASE = 81_000_000_000  # + the payout date's day number: one payout per day


def payment_export_files(window: tuple[int, int]) -> list[tuple[str, int, int, bool]]:
    """(file name, first day, last day, amounts with `$`) of each transactions export."""
    w0, w1 = window
    return [
        ("payment_transactions_export_1.csv", w0, w1 - 45, False),
        ("payment_transactions_export_2.csv", max(w0, w1 - 75), w1, True),
    ]


def money_dollar(cents: pl.Expr) -> pl.Expr:
    """Integer cents -> `$21.83` / `-$5.00`, as some payouts exports write amounts."""
    a = cents.cast(pl.Int64)
    return pl.when(a < 0).then(pl.lit("-$") + money(a.abs())).otherwise(pl.lit("$") + money(a))


def write_payment_transactions(
    landing: Landing, transactions: Transactions, orders: Orders, window: tuple[int, int]
) -> tuple[np.ndarray, list[dict]]:
    """Write the exports. A transaction is in a file when its store-local date is in the
    file's range and its instant is before the file's export (08:00 the morning after its
    last day); the last file also has the refunds of that morning before 08:00. Payout Status is `paid` when the payout date (= Available On, the date + 2
    days) is before the export's day, else `pending` without Payout Date and Payout ID:
    the last two days of a file are pending.

    Returns the mask of transactions written to at least one file and, per file: file,
    first_day, last_day, rows, pending_rows, dollar_sign."""
    tx = transactions
    day = cal.utc_to_local(tx.at) // DAY
    payout_day = day + PAYOUT_DELAY_DAYS
    written = np.zeros(tx.n, dtype=bool)
    files = []
    last_hi = max(hi for _, _, hi, _ in payment_export_files(window))
    for name, lo, hi, dollar in payment_export_files(window):
        # The last export, taken at 08:00 the morning after, also holds the refunds booked
        # before it that morning: the newest orders export shows them refunded, and a
        # refund the transactions did not hold would fail the payout reconciliation.
        early_refund = (hi == last_hi) & (day == hi + 1) & (tx.kind == REFUND)
        sel = np.flatnonzero((day >= lo) & ((day <= hi) | early_refund)
                             & (tx.at < export_instant(hi)))
        # Newest first, as the admin lists and exports them.
        sel = sel[np.lexsort((tx.kind[sel], -orders.number[tx.order[sel]], -tx.at[sel]))]
        written[sel] = True
        paid = pl.Series(payout_day[sel] <= hi)
        amount = money_dollar if dollar else money
        brand = _gather(CARD_BRANDS, tx.brand[sel])
        frame = pl.DataFrame(
            {
                "Transaction Date": pl.select(cal.fmt_shopify(pl.Series(tx.at[sel]))).to_series(),
                "Type": pl.Series(np.where(tx.kind[sel] == REFUND, "refund", "charge")),
                "Order": "#" + pl.Series(orders.number[tx.order[sel]]).cast(pl.String),
                "Card Brand": brand,
                "Card Source": pl.Series(np.where(tx.card_present[sel], "card_present", "online")),
                "Available On": pl.select(cal.fmt_day(pl.Series(payout_day[sel]))).to_series(),
                "Checkout": pl.Series(tx.checkout[sel]).cast(pl.String),
                "Payment Method Name": brand,
                "Presentment Amount": pl.select(money(pl.Series(tx.amount[sel]))).to_series(),
                "_amount": tx.amount[sel],
                "_fee": tx.fee[sel],
                "_payout": PAYOUT_ID_BASE + payout_day[sel],
            }
        ).with_columns(
            pl.when(paid)
            .then(lit_str("paid"))
            .otherwise(lit_str("pending"))
            .alias("Payout Status"),
            pl.when(paid).then(pl.col("Available On")).alias("Payout Date"),
            pl.when(paid).then(pl.col("_payout").cast(pl.String)).alias("Payout ID"),
            amount(pl.col("_amount")).alias("Amount"),
            amount(pl.col("_fee")).alias("Fee"),
            amount(pl.col("_amount") - pl.col("_fee")).alias("Net"),
            lit_str("USD").alias("Presentment Currency"),
            lit_str("USD").alias("Currency"),
        )
        landing.write_csv(f"shopify/payouts/{name}", frame, PAYMENTS_HEADER)
        files.append(
            {
                "file": f"shopify/payouts/{name}",
                "first_day": cal.to_date(lo).isoformat(),
                "last_day": cal.to_date(hi).isoformat(),
                "rows": int(sel.size),
                "pending_rows": int(sel.size - paid.sum()),
                "dollar_sign": dollar,
            }
        )
    return written, files
