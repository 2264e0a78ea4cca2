"""The rows of the Shopify orders export: one per line item, with the order's fields as
strings and the event instants each export's as-of state is computed from."""

from __future__ import annotations

import numpy as np
import polars as pl

from orchestration.demo import calendar as cal
from orchestration.demo.catalog import Catalog, Promotion, slug
from orchestration.demo.customers import Customers
from orchestration.demo.marketing import CAMPAIGNS, EMAIL_CAMPAIGNS, UTM_MEDIUM, UTM_SOURCE
from orchestration.demo.names import CATEGORIES, CITIES, FIRST_NAMES, ORDER_NOTES, STORE_NAME
from orchestration.demo.orders import (
    LINE_GIFT_CARD,
    LINE_PRODUCT,
    LINE_TIP,
    NEVER,
    PAYMENT_METHODS,
    SHIPPING_METHODS,
    SOURCES,
    Orders,
)
from orchestration.demo.writers.format import _gather, lit_str, money
from orchestration.demo.writers.products import _variant_counts


def lineitem_names(catalog: Catalog) -> list[str]:
    single = _variant_counts(catalog) == 1
    return [
        catalog.title[p] if single[i] else f"{catalog.title[p]} - {catalog.variant_value[i]}"
        for i, p in enumerate(catalog.product)
    ]


def _order_rows(
    oi: np.ndarray,
    draws: dict[str, np.ndarray],
    *,
    orders: Orders,
    people: pl.DataFrame,
    customers: Customers,
    catalog: Catalog,
    promos: list[Promotion],
) -> pl.DataFrame:
    """One row per line item of orders `oi` (a contiguous, creation-ordered range), with
    order fields as strings and the event instants the as-of state is computed from."""
    n = oi.size
    test_row = people.height - 1
    pidx = np.where(orders.customer[oi] >= 0, orders.customer[oi], test_row)
    P = people.select(pl.all().gather(pl.Series(pidx)))
    accepts = np.where(
        orders.customer[oi] >= 0, customers.accepts_email[np.maximum(orders.customer[oi], 0)], False
    )
    channel = orders.channel[oi]
    campaign = orders.campaign[oi]
    slugs = [c.slug for c in CAMPAIGNS]
    email_slugs = EMAIL_CAMPAIGNS + [slug(p.name).replace("-", "_") for p in promos]
    utm_campaign = np.where(
        channel < 3,
        _np_take(slugs, campaign),
        np.where(channel == 3, _np_take(email_slugs, campaign), ""),
    )
    utm_src = np.array([UTM_SOURCE.get(c, ("", ""))[0] for c in range(6)], dtype=object)[channel]
    alt = np.array([UTM_SOURCE.get(c, ("", ""))[1] for c in range(6)], dtype=object)[channel]
    utm_src = np.where(orders.utm_source[oi] == 1, alt, utm_src)
    medium = np.array([UTM_MEDIUM.get(c, "") for c in range(6)], dtype=object)[channel]
    note_attr = np.where(
        channel <= 3,
        "utm_source: "
        + utm_src.astype(str)
        + "\nutm_medium: "
        + medium.astype(str)
        + "\nutm_campaign: "
        + utm_campaign.astype(str),
        "",
    )
    source = orders.source[oi]
    tags = np.where(
        orders.is_test[oi],
        "test",
        np.where(
            source == 2, np.where(orders.number[oi] % 2 == 0, "wholesale", "wholesale, net30"), ""
        ),
    )
    city = orders.city[oi]
    tax_rate = np.array([c[4] for c in CITIES])[city]
    gift = draws["gift"][oi]
    ship_name = np.where(gift, _np_take(FIRST_NAMES, draws["ship_first"][oi]), None)
    paid_offset = draws["paid_offset"][oi]
    pay_ref = 20_000_000_000 + orders.number[oi] * 7919 % 9_000_000_000
    created = orders.created[oi]
    cancel_voids = orders.cancel_voids[oi] & (orders.cancelled[oi] < NEVER)

    def ts(values: np.ndarray) -> pl.Series:
        v = np.where(values >= NEVER, 0, values)
        return pl.select(
            pl.when(pl.Series(values < NEVER)).then(cal.fmt_shopify(pl.Series(v)))
        ).to_series()

    O = pl.DataFrame(
        {
            "Name": "#" + pl.Series(orders.number[oi]).cast(pl.String),
            "Email": P["email"],
            "Accepts Marketing": pl.Series(np.where(accepts, "yes", "no")),
            "Currency": pl.Series(["USD"] * n, dtype=pl.String),
            "Subtotal": pl.select(money(pl.Series(orders.subtotal[oi]))).to_series(),
            "Shipping": pl.select(money(pl.Series(orders.shipping[oi]))).to_series(),
            "Taxes": pl.select(money(pl.Series(orders.taxes[oi]))).to_series(),
            "Total": pl.select(money(pl.Series(orders.total[oi]))).to_series(),
            "Discount Code": pl.Series(orders.code[oi].astype(str)),
            "Discount Amount": pl.select(money(pl.Series(orders.discount[oi]))).to_series(),
            "Shipping Method": _gather(SHIPPING_METHODS, orders.shipping_method[oi]),
            "Created at": ts(created),
            "Paid at": ts(
                np.where(
                    cancel_voids | orders.is_test[oi] & (orders.total[oi] == 0),
                    NEVER,
                    created + paid_offset,
                )
            ),
            "Billing Name": P["name"],
            "Billing Street": pl.select(
                pl.when(P["address2"] == "")
                .then(P["address1"])
                .otherwise(P["address1"] + " " + P["address2"])
            ).to_series(),
            "Billing Address1": P["address1"],
            "Billing Address2": P["address2"],
            "Billing City": P["city"],
            "Billing Zip": P["zip"],
            "Billing Province": P["province_code"],
            "Billing Country": P["country_code"],
            "Billing Phone": P["phone"],
            "Shipping Name": pl.select(
                pl.when(pl.Series(gift))
                .then(pl.Series(ship_name.astype(str)) + " " + P["last"])
                .otherwise(P["name"])
            ).to_series(),
            "Billing Province Name": P["province"],
            "Notes": _gather([""] + ORDER_NOTES, orders.note[oi] + 1),
            "Note Attributes": pl.Series(note_attr.astype(str)),
            "Payment Method": _gather(PAYMENT_METHODS, orders.payment[oi]),
            "Payment Reference": "c" + pl.Series(pay_ref).cast(pl.String) + ".1",
            "Outstanding Balance": pl.Series(["0.00"] * n, dtype=pl.String),
            "Employee": pl.Series(np.where(source == 1, "Alex Kim", "").astype(str)),
            "Location": pl.Series(np.where(source == 1, "Pop-up Store", "").astype(str)),
            "Device ID": pl.Series(np.where(source == 1, "1", "").astype(str)),
            "Id": pl.Series(5_000_000_000_000 + orders.number[oi]).cast(pl.String),
            "Tags": pl.Series(tags.astype(str)),
            "Risk Level": _gather(["Low", "Medium", "High"], orders.risk[oi]),
            "Source": _gather(SOURCES, source),
            "Tax 1 Name": pl.Series(
                np.where(
                    orders.taxes[oi] == 0,
                    "",
                    np.where(
                        orders.taxes_included[oi],
                        np.char.add(
                            np.char.add("VAT ", np.char.mod("%g", orders.tax_rate[oi] / 1000)), "%"
                        ),
                        np.char.add(
                            np.char.add(
                                np.array([c[2] for c in CITIES])[city].astype(str), " State Tax "
                            ),
                            np.char.add(np.char.mod("%g", tax_rate), "%"),
                        ),
                    ),
                ).astype(str)
            ),
            "Tax 1 Value": pl.select(
                pl.when(pl.Series(orders.taxes[oi] > 0)).then(money(pl.Series(orders.taxes[oi])))
            ).to_series(),
            "Payment ID": "r" + pl.Series(draws["payment_id"][oi]).cast(pl.String),
            # event instants for the as-of state
            "_cancel": orders.cancelled[oi],
            "_voids": cancel_voids,
            "_f_first": orders.fulfilled_first[oi],
            "_f_full": orders.fulfilled_full[oi],
            "_refund": orders.refunded[oi],
            "_refund_amt": orders.refund_amount[oi],
            "_all_ret": orders.all_returned[oi],
            "_total": orders.total[oi],
            "_day": orders.local_day[oi],
            "_test": orders.is_test[oi],
        }
    ).with_columns(
        pl.col("Billing Street").alias("Shipping Street"),
        pl.col("Billing Address1").alias("Shipping Address1"),
        pl.col("Billing Address2").alias("Shipping Address2"),
        pl.col("Billing City").alias("Shipping City"),
        pl.col("Billing Zip").alias("Shipping Zip"),
        pl.col("Billing Province").alias("Shipping Province"),
        pl.col("Billing Country").alias("Shipping Country"),
        pl.col("Billing Phone").alias("Shipping Phone"),
        pl.col("Billing Province Name").alias("Shipping Province Name"),
        pl.col("Payment Reference").alias("Payment References"),
        ts(orders.fulfilled_full[oi]).alias("_f_full_s"),
        ts(orders.cancelled[oi]).alias("_cancel_s"),
    )

    # Lines of these orders (orders and their lines are both sorted by creation).
    li = np.arange(
        np.searchsorted(orders.line_order, oi[0]), np.searchsorted(orders.line_order, oi[-1] + 1)
    )
    lo = orders.line_order[li] - oi[0]
    first_row = np.ones(li.size, dtype=bool)
    first_row[1:] = lo[1:] != lo[:-1]
    kind = orders.line_kind[li]
    product = kind == LINE_PRODUCT
    sku = np.where(product, orders.line_sku[li], 0)
    names = lineitem_names(catalog)
    vendors = [CATEGORIES[c]["brand"] for c in catalog.category]
    compare = np.where(product, catalog.compare_at[sku], 0)
    price = orders.line_price[li]
    # Tips and gift cards: no SKU, no shipping, no tax (as Shopify writes them).
    other_name = np.where(
        kind == LINE_TIP, "Tip", np.char.add("Gift Card - $", (price // 100).astype(str))
    ).astype(str)
    is_product = pl.Series(product)
    L = pl.DataFrame(
        {
            "_o": lo,
            "_first": first_row,
            "Lineitem quantity": pl.Series(orders.line_qty[li]).cast(pl.String),
            "Lineitem name": pl.select(
                pl.when(is_product).then(_gather(names, sku)).otherwise(pl.Series(other_name))
            ).to_series(),
            "Lineitem price": pl.select(money(pl.Series(price))).to_series(),
            "Lineitem compare at price": pl.select(
                pl.when(pl.Series(compare > 0)).then(money(pl.Series(compare)))
            ).to_series(),
            "Lineitem sku": pl.select(
                pl.when(is_product).then(_gather(catalog.sku, sku))
            ).to_series(),
            "Lineitem requires shipping": pl.Series(np.where(product, "true", "false")),
            "Lineitem taxable": pl.Series(np.where(product, "true", "false")),
            "Vendor": pl.select(
                pl.when(is_product)
                .then(_gather(vendors, sku))
                .when(pl.Series(kind == LINE_GIFT_CARD))
                .then(lit_str(STORE_NAME))
            ).to_series(),
            "Lineitem discount": pl.select(money(pl.Series(orders.line_discount[li]))).to_series(),
            "_lf": orders.line_fulfilled[li],
        }
    )
    return pl.concat([L, O.select(pl.all().gather(pl.Series(lo)))], how="horizontal")


def _np_take(values: list[str], idx: np.ndarray) -> np.ndarray:
    arr = np.array(list(values) + [""], dtype=object)
    idx = np.where((idx >= 0) & (idx < len(values)), idx, len(values))
    return arr[idx]
