"""Shopify customers export (`shopify/customers/customers_export.csv`): buyers of the
window with their totals as of the export, then newsletter subscribers."""

from __future__ import annotations

import numpy as np
import polars as pl

from orchestration.demo.customers import Customers
from orchestration.demo.orders import Orders
from orchestration.demo.writers.format import Landing, lit_str, money

CUSTOMERS_HEADER = [
    "First Name",
    "Last Name",
    "Email",
    "Accepts Email Marketing",
    "Company",
    "Address1",
    "Address2",
    "City",
    "Province",
    "Province Code",
    "Country",
    "Country Code",
    "Zip",
    "Phone",
    "Accepts SMS Marketing",
    "Total Spent",
    "Total Orders",
    "Tags",
    "Note",
    "Tax Exempt",
]


def write_customers(
    landing: Landing,
    *,
    people: pl.DataFrame,
    customers: Customers,
    orders: Orders,
    window: tuple[int, int],
    n_subscribers: int,
    export_at: int,
) -> int:
    w0, w1 = window
    real = ~orders.is_test & (orders.customer >= 0) & (orders.local_day <= w1)
    cust = orders.customer[real]
    in_window = real & (orders.local_day >= w0)
    buyers = np.unique(orders.customer[in_window])
    cancelled = orders.cancelled[real] < export_at
    refund = np.where(
        cancelled & ~orders.cancel_voids[real],
        orders.total[real],
        np.where(orders.refunded[real] < export_at, orders.refund_amount[real], 0),
    )
    spent = np.where(cancelled & orders.cancel_voids[real], 0, orders.total[real] - refund)
    total_spent = np.bincount(cust, weights=spent, minlength=customers.n).astype(np.int64)
    total_orders = np.bincount(cust, minlength=customers.n)
    subs = customers.n + np.arange(n_subscribers)
    rows = np.concatenate([buyers, subs])
    is_sub = np.concatenate([np.zeros(buyers.size, dtype=bool), np.ones(n_subscribers, dtype=bool)])
    P = people.select(pl.all().gather(pl.Series(rows)))
    acc_email = np.concatenate(
        [customers.accepts_email[buyers], np.ones(n_subscribers, dtype=bool)]
    )
    acc_sms = np.concatenate([customers.accepts_sms[buyers], np.zeros(n_subscribers, dtype=bool)])
    spent_r = np.concatenate([total_spent[buyers], np.zeros(n_subscribers, dtype=np.int64)])
    orders_r = np.concatenate([total_orders[buyers], np.zeros(n_subscribers, dtype=np.int64)])
    tags = np.where(
        is_sub,
        "newsletter",
        np.where(
            orders_r >= 10,
            "VIP",
            np.where(
                np.concatenate([customers.regular[buyers], np.zeros(n_subscribers, dtype=bool)]),
                "repeat",
                "",
            ),
        ),
    )
    frame = pl.DataFrame(
        {
            "First Name": P["first"],
            "Last Name": P["last"],
            "Email": P["email"],
            "Accepts Email Marketing": pl.Series(np.where(acc_email, "yes", "no")),
            "Company": pl.Series([""] * rows.size, dtype=pl.String),
            "Address1": pl.select(
                pl.when(pl.Series(is_sub)).then(lit_str("")).otherwise(P["address1"])
            ).to_series(),
            "Address2": pl.select(
                pl.when(pl.Series(is_sub)).then(lit_str("")).otherwise(P["address2"])
            ).to_series(),
            "City": pl.select(
                pl.when(pl.Series(is_sub)).then(lit_str("")).otherwise(P["city"])
            ).to_series(),
            "Province": pl.select(
                pl.when(pl.Series(is_sub)).then(lit_str("")).otherwise(P["province"])
            ).to_series(),
            "Province Code": pl.select(
                pl.when(pl.Series(is_sub)).then(lit_str("")).otherwise(P["province_code"])
            ).to_series(),
            "Country": pl.select(
                pl.when(pl.Series(is_sub)).then(lit_str("")).otherwise(P["country"])
            ).to_series(),
            "Country Code": pl.select(
                pl.when(pl.Series(is_sub)).then(lit_str("")).otherwise(P["country_code"])
            ).to_series(),
            "Zip": pl.select(
                pl.when(pl.Series(is_sub)).then(lit_str("")).otherwise(P["zip"])
            ).to_series(),
            "Phone": P["phone"],
            "Accepts SMS Marketing": pl.Series(np.where(acc_sms, "yes", "no")),
            "Total Spent": pl.select(money(pl.Series(spent_r))).to_series(),
            "Total Orders": pl.Series(orders_r).cast(pl.String),
            "Tags": pl.Series(tags.astype(str)),
            "Note": pl.Series([""] * rows.size, dtype=pl.String),
            "Tax Exempt": pl.Series(["no"] * rows.size, dtype=pl.String),
        }
    )
    landing.write_csv("shopify/customers/customers_export.csv", frame, CUSTOMERS_HEADER)
    return int(rows.size)
