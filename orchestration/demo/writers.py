"""Write the simulated store as vendor exports under `landing/`.

Every file is built as a polars frame of strings and written with `write_csv`, so the
bytes depend only on the data. Header lines match ../shared/formats exactly.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import polars as pl

from orchestration.demo import calendar as cal
from orchestration.demo.calendar import DAY, HOUR
from orchestration.demo.catalog import Catalog, Promotion, slug
from orchestration.demo.customers import CHANNELS, Customers
from orchestration.demo.marketing import (
    CAMPAIGNS,
    EMAIL_CAMPAIGNS,
    PLATFORMS,
    UTM_MEDIUM,
    UTM_SOURCE,
    AdRows,
)
from orchestration.demo.names import (
    AGENTS,
    CATEGORIES,
    CITIES,
    EMAIL_DOMAINS,
    FIRST_NAMES,
    INTL_CITIES,
    LAST_NAMES,
    ORDER_NOTES,
    STORE_DOMAIN,
    STORE_NAME,
    STREETS,
)
from orchestration.demo.operations import PurchaseOrderLines
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
from orchestration.demo.support import ALL_TAGS, SUBJECTS, TAG_SETS, Tickets

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
PRODUCTS_HEADER = [
    "Handle",
    "Title",
    "Body (HTML)",
    "Vendor",
    "Product Category",
    "Type",
    "Tags",
    "Published",
    "Option1 Name",
    "Option1 Value",
    "Option2 Name",
    "Option2 Value",
    "Option3 Name",
    "Option3 Value",
    "Variant SKU",
    "Variant Grams",
    "Variant Inventory Tracker",
    "Variant Inventory Qty",
    "Variant Inventory Policy",
    "Variant Fulfillment Service",
    "Variant Price",
    "Variant Compare At Price",
    "Variant Requires Shipping",
    "Variant Taxable",
    "Variant Barcode",
    "Image Src",
    "Image Position",
    "Image Alt Text",
    "Gift Card",
    "SEO Title",
    "SEO Description",
    "Google Shopping / Google Product Category",
    "Google Shopping / Gender",
    "Google Shopping / Age Group",
    "Google Shopping / MPN",
    "Google Shopping / AdWords Grouping",
    "Google Shopping / AdWords Labels",
    "Google Shopping / Condition",
    "Google Shopping / Custom Product",
    "Google Shopping / Custom Label 0",
    "Google Shopping / Custom Label 1",
    "Google Shopping / Custom Label 2",
    "Google Shopping / Custom Label 3",
    "Google Shopping / Custom Label 4",
    "Variant Image",
    "Variant Weight Unit",
    "Variant Tax Code",
    "Cost per item",
    "Status",
]
INVENTORY_HEADER = [
    "Handle",
    "Title",
    "Option1 Name",
    "Option1 Value",
    "Option2 Name",
    "Option2 Value",
    "Option3 Name",
    "Option3 Value",
    "SKU",
    "HS Code",
    "COO",
    "Location",
    "Bin name",
    "Incoming (not editable)",
    "Unavailable (not editable)",
    "Committed (not editable)",
    "Available (not editable)",
    "On hand (current)",
    "On hand (new)",
]
INVENTORY_HISTORY_QTY = ["Incoming", "Unavailable", "Committed", "Available", "On hand"]
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
META_HEADER = [
    "Reporting starts",
    "Reporting ends",
    "Day",
    "Campaign name",
    "Ad set name",
    "Ad name",
    "Delivery status",
    "Amount spent (USD)",
    "Impressions",
    "Reach",
    "Frequency",
    "Link clicks",
    "Results",
    "Result indicator",
    "Cost per result",
    "Purchases",
    "Purchases conversion value",
]
GOOGLE_HEADER = [
    "Day",
    "Campaign",
    "Ad group",
    "Currency code",
    "Cost",
    "Impr.",
    "Clicks",
    "CTR",
    "Avg. CPC",
    "Conversions",
    "Conv. value",
    "Cost / conv.",
]
TIKTOK_HEADER = [
    "By Day",
    "Campaign name",
    "Ad group name",
    "Ad name",
    "Currency",
    "Cost",
    "Impressions",
    "Clicks (destination)",
    "Conversions",
    "Total complete payment value",
]
ZENDESK_HEADER = [
    "Id",
    "Requester",
    "Requester email",
    "Assignee",
    "Group",
    "Organization",
    "Subject",
    "Tags",
    "Status",
    "Priority",
    "Via",
    "Ticket type",
    "Created at",
    "Updated at",
    "Assigned at",
    "Solved at",
    "Satisfaction Score",
    "Reopens",
    "Replies",
    "First reply time in minutes",
    "First reply time in minutes within business hours",
    "Full resolution time in minutes",
    "Full resolution time in minutes within business hours",
]
MONTHS = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]


# ---------------------------------------------------------------- formatting helpers


def money(cents: pl.Expr) -> pl.Expr:
    """Integer cents -> `12.50` (null stays null)."""
    a = cents.cast(pl.Int64)
    sign = pl.when(a < 0).then(pl.lit("-")).otherwise(pl.lit(""))
    a = a.abs()
    return sign + (a // 100).cast(pl.String) + "." + (a % 100).cast(pl.String).str.zfill(2)


def thousands(value: pl.Expr) -> pl.Expr:
    """Non-negative integer -> `12,345` (Google Ads style)."""
    v = value.cast(pl.Int64)

    def z3(e: pl.Expr) -> pl.Expr:
        return e.cast(pl.String).str.zfill(3)

    g0, g1, g2, g3 = v % 1000, (v // 1000) % 1000, (v // 1_000_000) % 1000, v // 1_000_000_000
    return (
        pl.when(v >= 1_000_000_000)
        .then(g3.cast(pl.String) + "," + z3(g2) + "," + z3(g1) + "," + z3(g0))
        .when(v >= 1_000_000)
        .then(g2.cast(pl.String) + "," + z3(g1) + "," + z3(g0))
        .when(v >= 1000)
        .then(g1.cast(pl.String) + "," + z3(g0))
        .otherwise(g0.cast(pl.String))
    )


def money_thousands(cents: pl.Expr) -> pl.Expr:
    a = cents.cast(pl.Int64)
    return thousands(a // 100) + "." + (a % 100).cast(pl.String).str.zfill(2)


def money_decimal_comma(cents: pl.Expr) -> pl.Expr:
    """Non-negative cents -> `1.204,50` / `12,50`, as a decimal-comma spreadsheet saves it."""
    a = cents.cast(pl.Int64)
    return (
        thousands(a // 100).str.replace_all(",", ".", literal=True)
        + ","
        + (a % 100).cast(pl.String).str.zfill(2)
    )


def lit_str(value: str) -> pl.Expr:
    return pl.lit(value, dtype=pl.String)


def null_str() -> pl.Expr:
    return pl.lit(None, dtype=pl.String)


@dataclass
class Landing:
    root: Path
    files: list[Path] = field(default_factory=list)

    def path(self, rel: str) -> Path:
        p = self.root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        self.files.append(p)
        return p

    def write_csv(
        self,
        rel: str,
        frame: pl.DataFrame,
        header: list[str],
        *,
        bom: bool = False,
        before: str = "",
        after: bytes = b"",
        separator: str = ",",
        line_terminator: str = "\n",
    ) -> None:
        # Vendors leave empty cells bare (polars would quote an empty string).
        frame = frame.select([pl.col(c).cast(pl.String) for c in header]).with_columns(
            [
                pl.when(pl.col(c) == "").then(null_str()).otherwise(pl.col(c)).alias(c)
                for c in header
            ]
        )
        body = frame.write_csv(
            include_bom=False, null_value="", separator=separator, line_terminator=line_terminator
        )
        data = body.encode("utf-8")
        if before:
            data = before.encode("utf-8") + data
        if bom:
            data = b"\xef\xbb\xbf" + data
        self.path(rel).write_bytes(data + after)

    def write_text(self, rel: str, text: str) -> None:
        self.path(rel).write_text(text, encoding="utf-8")


def _strings(values: list[str]) -> pl.Series:
    return pl.Series(values, dtype=pl.String)


def _gather(values: list[str] | pl.Series, idx: np.ndarray) -> pl.Series:
    s = values if isinstance(values, pl.Series) else _strings(values)
    return s.gather(pl.Series(np.asarray(idx, dtype=np.int64)))


# ---------------------------------------------------------------- people


def customer_table(
    customers: Customers,
    n_extra: int,
    rng: np.random.Generator,
    intl: np.ndarray | None = None,
) -> pl.DataFrame:
    """One row per simulated customer, then `n_extra` newsletter subscribers, then the
    store's own test account (last row). Customers marked in `intl` live in the
    international (VAT-inclusive) market: UK addresses and phone numbers."""
    n = customers.n
    first = np.concatenate([customers.first_name, rng.integers(0, len(FIRST_NAMES), n_extra), [0]])
    last = np.concatenate([customers.last_name, rng.integers(0, len(LAST_NAMES), n_extra), [0]])
    domain = np.concatenate([customers.email_domain, rng.integers(0, 3, n_extra), [0]])
    city = np.concatenate([customers.city, rng.integers(0, len(CITIES), n_extra), [0]])
    number = np.arange(1, n + n_extra + 2)
    first_s = _gather(FIRST_NAMES, first)
    last_s = _gather(LAST_NAMES, last)
    df = pl.DataFrame(
        {
            "first": first_s,
            "last": last_s,
            "number": number,
            "domain": _gather(EMAIL_DOMAINS, domain),
            "city_idx": city,
        }
    ).with_columns(
        (
            pl.col("first").str.to_lowercase()
            + "."
            + pl.col("last").str.to_lowercase()
            + pl.col("number").cast(pl.String)
            + "@"
            + pl.col("domain")
        ).alias("email")
    )
    test_email = f"test@{STORE_DOMAIN}"
    df = df.with_columns(
        pl.when(pl.int_range(pl.len()) == pl.len() - 1)
        .then(lit_str(test_email))
        .otherwise(pl.col("email"))
        .alias("email"),
        pl.when(pl.int_range(pl.len()) == pl.len() - 1)
        .then(lit_str("Store"))
        .otherwise(pl.col("first"))
        .alias("first"),
        pl.when(pl.int_range(pl.len()) == pl.len() - 1)
        .then(lit_str("Admin"))
        .otherwise(pl.col("last"))
        .alias("last"),
    )
    street_no = np.concatenate([customers.street_no, rng.integers(1, 9800, n_extra + 1)])
    street = np.concatenate([customers.street, rng.integers(0, len(STREETS), n_extra + 1)])
    apt = np.concatenate([customers.apartment, np.zeros(n_extra + 1, dtype=np.int64)])
    phone = np.concatenate([customers.phone, rng.integers(100, 200, n_extra + 1)])
    has_phone = np.concatenate([customers.has_phone, np.zeros(n_extra + 1, dtype=bool)])
    zip_tail = street_no % 100
    abroad = np.concatenate(
        [
            np.zeros(n, dtype=bool) if intl is None else np.asarray(intl, dtype=bool),
            np.zeros(n_extra + 1, dtype=bool),
        ]
    )
    weights = np.array([c[5] for c in INTL_CITIES], dtype=np.int64)
    slot = np.repeat(np.arange(len(INTL_CITIES)), weights)
    icity = slot[(street_no * 7 + street) % slot.size]
    letters = np.array(list("ABDEFGHJLNPQRSTUWXYZ"))
    postcode_tail = (
        (street_no % 9 + 1).astype(str)
        + letters[street_no % letters.size]
        + letters[(street_no // 7) % letters.size]
    )
    uk = pl.DataFrame(
        {
            "u_city": _gather([c[0] for c in INTL_CITIES], icity),
            "u_zip": _gather([c[3] for c in INTL_CITIES], icity)
            + " "
            + pl.Series(postcode_tail.astype(str)),
            "u_phone": "+44 20 7946 0" + pl.Series(phone % 1000).cast(pl.String).str.zfill(3),
            "u_street": _gather(
                ["High Street", "Station Road", "Church Lane", "Mill Road"], street % 4
            ),
        }
    )
    return _abroad(
        df.with_columns(
            (pl.Series(street_no).cast(pl.String) + " " + _gather(STREETS, street)).alias(
                "address1"
            ),
            pl.when(pl.Series(apt) > 0)
            .then(lit_str("Apt ") + pl.Series(apt).cast(pl.String))
            .otherwise(lit_str(""))
            .alias("address2"),
            _gather([c[0] for c in CITIES], city).alias("city"),
            _gather([c[1] for c in CITIES], city).alias("province_code"),
            _gather([c[2] for c in CITIES], city).alias("province"),
            (
                _gather([c[3] for c in CITIES], city)
                + pl.Series(zip_tail).cast(pl.String).str.zfill(2)
            ).alias("zip"),
            pl.when(pl.Series(has_phone))
            .then(
                lit_str("+1")
                + (200 + pl.Series(city) * 37 % 700).cast(pl.String)
                + "55501"
                + (pl.Series(phone) % 100).cast(pl.String).str.zfill(2)
            )
            .otherwise(lit_str(""))
            .alias("phone"),
            (pl.col("first") + " " + pl.col("last")).alias("name"),
            lit_str("US").alias("country_code"),
            lit_str("United States").alias("country"),
        ),
        abroad,
        uk,
        street_no,
    )


def _abroad(
    df: pl.DataFrame, abroad: np.ndarray, uk: pl.DataFrame, street_no: np.ndarray
) -> pl.DataFrame:
    if not abroad.any():
        return df
    a = pl.Series(abroad)
    return (
        pl.concat([df, uk], how="horizontal")
        .with_columns(
            pl.when(a)
            .then(pl.Series(street_no % 200 + 1).cast(pl.String) + " " + pl.col("u_street"))
            .otherwise(pl.col("address1"))
            .alias("address1"),
            pl.when(a).then(lit_str("")).otherwise(pl.col("address2")).alias("address2"),
            pl.when(a).then(pl.col("u_city")).otherwise(pl.col("city")).alias("city"),
            pl.when(a).then(lit_str("")).otherwise(pl.col("province_code")).alias("province_code"),
            pl.when(a).then(lit_str("")).otherwise(pl.col("province")).alias("province"),
            pl.when(a).then(pl.col("u_zip")).otherwise(pl.col("zip")).alias("zip"),
            pl.when(a & (pl.col("phone") != ""))
            .then(pl.col("u_phone"))
            .otherwise(pl.col("phone"))
            .alias("phone"),
            pl.when(a).then(lit_str("GB")).otherwise(pl.col("country_code")).alias("country_code"),
            pl.when(a)
            .then(lit_str("United Kingdom"))
            .otherwise(pl.col("country"))
            .alias("country"),
        )
        .drop(uk.columns)
    )


# ---------------------------------------------------------------- Shopify orders


def _variant_counts(catalog: Catalog) -> np.ndarray:
    return np.bincount(catalog.product, minlength=len(catalog.title))[catalog.product]


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


def _np_take(values: list[str], idx: np.ndarray) -> np.ndarray:
    arr = np.array(list(values) + [""], dtype=object)
    idx = np.where((idx >= 0) & (idx < len(values)), idx, len(values))
    return arr[idx]


# ---------------------------------------------------------------- Shopify customers


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


# ---------------------------------------------------------------- products and inventory


def _sku_static(catalog: Catalog) -> pl.DataFrame:
    single = _variant_counts(catalog) == 1
    cats = catalog.category
    opt_name = np.where(
        single, "Title", np.array([CATEGORIES[c]["option"] for c in cats], dtype=object)
    )
    opt_value = np.where(single, "Default Title", np.array(catalog.variant_value, dtype=object))
    return pl.DataFrame(
        {
            "Handle": _gather(catalog.handle, catalog.product),
            "Title": _gather(catalog.title, catalog.product),
            "Option1 Name": pl.Series(opt_name.astype(str)),
            "Option1 Value": pl.Series(opt_value.astype(str)),
            "Option2 Name": pl.Series([""] * catalog.n_skus, dtype=pl.String),
            "Option2 Value": pl.Series([""] * catalog.n_skus, dtype=pl.String),
            "Option3 Name": pl.Series([""] * catalog.n_skus, dtype=pl.String),
            "Option3 Value": pl.Series([""] * catalog.n_skus, dtype=pl.String),
            "SKU": pl.Series(catalog.sku, dtype=pl.String),
            "HS Code": pl.Series([CATEGORIES[c]["hs"] for c in cats], dtype=pl.String),
            "COO": pl.Series(
                [CATEGORIES[c]["coo"][i % len(CATEGORIES[c]["coo"])] for i, c in enumerate(cats)],
                dtype=pl.String,
            ),
            "Location": pl.Series(["Main Warehouse"] * catalog.n_skus, dtype=pl.String),
            "Bin name": pl.Series(
                [f"{'ABCDEF'[c]}-{(i % 40) + 1:02d}" for i, c in enumerate(cats)], dtype=pl.String
            ),
        }
    )


def write_products(landing: Landing, catalog: Catalog, on_hand_end: np.ndarray) -> None:
    static = _sku_static(catalog)
    cats = catalog.category
    status = np.array(catalog.product_status, dtype=object)[catalog.product]
    body = [
        f"<p>{catalog.title[p]} by {CATEGORIES[c]['brand']}. {CATEGORIES[c]['type']} made to last.</p>"
        for p, c in zip(catalog.product, cats)
    ]
    frame = static.select(
        "Handle",
        "Title",
        "Option1 Name",
        "Option1 Value",
        "Option2 Name",
        "Option2 Value",
        "Option3 Name",
        "Option3 Value",
    ).with_columns(
        pl.Series("Body (HTML)", body, dtype=pl.String),
        pl.Series("Vendor", [CATEGORIES[c]["brand"] for c in cats], dtype=pl.String),
        pl.Series("Product Category", [CATEGORIES[c]["category"] for c in cats], dtype=pl.String),
        pl.Series("Type", [CATEGORIES[c]["type"] for c in cats], dtype=pl.String),
        pl.Series(
            "Tags",
            [f"{CATEGORIES[c]['key']}, {CATEGORIES[c]['brand'].lower()}" for c in cats],
            dtype=pl.String,
        ),
        pl.Series("Published", np.where(status == "active", "TRUE", "FALSE").astype(str)),
        pl.Series("Variant SKU", catalog.sku, dtype=pl.String),
        pl.Series("Variant Grams", catalog.grams).cast(pl.String),
        pl.Series("Variant Inventory Tracker", ["shopify"] * catalog.n_skus, dtype=pl.String),
        pl.Series("Variant Inventory Qty", on_hand_end).cast(pl.String),
        pl.Series("Variant Inventory Policy", ["deny"] * catalog.n_skus, dtype=pl.String),
        pl.Series("Variant Fulfillment Service", ["manual"] * catalog.n_skus, dtype=pl.String),
        money(pl.Series(catalog.price)).alias("Variant Price"),
        pl.when(pl.Series(catalog.compare_at > 0))
        .then(money(pl.Series(catalog.compare_at)))
        .alias("Variant Compare At Price"),
        lit_str("TRUE").alias("Variant Requires Shipping"),
        lit_str("TRUE").alias("Variant Taxable"),
        pl.Series("Variant Barcode", catalog.barcode, dtype=pl.String),
        pl.Series(
            "Image Src",
            [
                f"https://cdn.example.com/products/{catalog.handle[p]}-1.jpg"
                for p in catalog.product
            ],
            dtype=pl.String,
        ),
        lit_str("1").alias("Image Position"),
        pl.col("Title").alias("Image Alt Text"),
        lit_str("FALSE").alias("Gift Card"),
        pl.col("Title").alias("SEO Title"),
        pl.Series(
            "SEO Description",
            [
                f"Shop the {catalog.title[p]} from {CATEGORIES[c]['brand']}."
                for p, c in zip(catalog.product, cats)
            ],
            dtype=pl.String,
        ),
        lit_str("").alias("Google Shopping / Google Product Category"),
        lit_str("").alias("Google Shopping / Gender"),
        lit_str("").alias("Google Shopping / Age Group"),
        pl.Series("Google Shopping / MPN", catalog.sku, dtype=pl.String),
        lit_str("").alias("Google Shopping / AdWords Grouping"),
        lit_str("").alias("Google Shopping / AdWords Labels"),
        lit_str("new").alias("Google Shopping / Condition"),
        lit_str("FALSE").alias("Google Shopping / Custom Product"),
        pl.Series(
            "Google Shopping / Custom Label 0",
            [CATEGORIES[c]["key"] for c in cats],
            dtype=pl.String,
        ),
        *[lit_str("").alias(f"Google Shopping / Custom Label {i}") for i in range(1, 5)],
        lit_str("").alias("Variant Image"),
        lit_str("g").alias("Variant Weight Unit"),
        lit_str("").alias("Variant Tax Code"),
        money(pl.Series(catalog.cost)).alias("Cost per item"),
        pl.Series("Status", status.astype(str)),
    )
    landing.write_csv("shopify/products/products_export.csv", frame, PRODUCTS_HEADER)


def write_inventory(
    landing: Landing,
    catalog: Catalog,
    *,
    window: tuple[int, int],
    available: np.ndarray,
    committed: np.ndarray,
    incoming: np.ndarray,
    unavailable: np.ndarray,
    daily_days: int = 60,
) -> None:
    """Snapshots for each window day; arrays are (n_sku, n_window_days) for active SKUs."""
    w0, w1 = window
    skus = np.flatnonzero(catalog.active)
    static = _sku_static(catalog).select(pl.all().gather(pl.Series(skus)))
    n_days = w1 - w0 + 1
    on_hand = available + committed + unavailable
    first_daily = max(0, n_days - daily_days)
    for t in range(first_daily, n_days):
        frame = static.with_columns(
            pl.Series("Incoming (not editable)", incoming[:, t]).cast(pl.String),
            pl.Series("Unavailable (not editable)", unavailable[:, t]).cast(pl.String),
            pl.Series("Committed (not editable)", committed[:, t]).cast(pl.String),
            pl.Series("Available (not editable)", available[:, t]).cast(pl.String),
            pl.Series("On hand (current)", on_hand[:, t]).cast(pl.String),
            lit_str("").alias("On hand (new)"),
        )
        landing.write_csv(
            f"shopify/inventory/inventory_{cal.to_date(w0 + t).isoformat()}.csv",
            frame,
            INVENTORY_HEADER,
        )
    # Older snapshots come from the previous export format: monthly files, as_of column.
    header = ["as_of"] + INVENTORY_HEADER[:13] + INVENTORY_HISTORY_QTY
    months = (
        np.arange(w0, w0 + first_daily)
        .astype("datetime64[D]")
        .astype("datetime64[M]")
        .astype(np.int64)
    )
    for m in np.unique(months):
        ts_ = np.flatnonzero(months == m)
        reps = ts_.size
        rows = static.select(pl.all().gather(pl.Series(np.tile(np.arange(skus.size), reps))))
        t_idx = np.repeat(ts_, skus.size)
        s_idx = np.tile(np.arange(skus.size), reps)
        frame = rows.with_columns(
            cal.fmt_day(pl.Series(w0 + t_idx)).alias("as_of"),
            pl.Series("Incoming", incoming[s_idx, t_idx]).cast(pl.String),
            pl.Series("Unavailable", unavailable[s_idx, t_idx]).cast(pl.String),
            pl.Series("Committed", committed[s_idx, t_idx]).cast(pl.String),
            pl.Series("Available", available[s_idx, t_idx]).cast(pl.String),
            pl.Series("On hand", on_hand[s_idx, t_idx]).cast(pl.String),
        )
        month = np.datetime64(int(m), "M").astype(str)
        landing.write_csv(f"shopify/inventory/inventory_history_{month}.csv", frame, header)


# ---------------------------------------------------------------- purchasing


def write_purchasing(
    landing: Landing,
    catalog: Catalog,
    pos: PurchaseOrderLines,
    *,
    first_day_number: int,
    last_sim_day: int,
) -> None:
    sup = catalog.suppliers
    landing.write_csv(
        "purchasing/suppliers.csv",
        pl.DataFrame(
            {
                "supplier": [s.name for s in sup],
                "lead_time_days": [str(s.lead_time_days) for s in sup],
                "lead_time_std_days": [f"{s.lead_time_std_days:.1f}" for s in sup],
                "moq_units": [str(s.moq_units) for s in sup],
                "case_pack": [str(s.case_pack) for s in sup],
                "order_cycle_days": [str(s.order_cycle_days) for s in sup],
                "currency": ["USD"] * len(sup),
            }
        ),
        [
            "supplier",
            "lead_time_days",
            "lead_time_std_days",
            "moq_units",
            "case_pack",
            "order_cycle_days",
            "currency",
        ],
    )
    skus = np.flatnonzero(catalog.active)
    landing.write_csv(
        "purchasing/sku_suppliers.csv",
        pl.DataFrame(
            {
                "sku": _gather(catalog.sku, skus),
                "supplier": _gather([s.name for s in sup], catalog.supplier[skus]),
                "unit_cost": pl.select(money(pl.Series(catalog.cost[skus]))).to_series(),
                "moq_units": pl.Series(catalog.moq[skus]).cast(pl.String),
                "case_pack": pl.Series(catalog.case_pack[skus]).cast(pl.String),
            }
        ),
        ["sku", "supplier", "unit_cost", "moq_units", "case_pack"],
    )
    arrived = (pos.arrival_day <= last_sim_day) & ~pos.cancelled
    # A short shipment is closed: the line is "received" with qty_received < qty_ordered.
    # "partial" is kept for lines with more units still to come, which this simulation
    # (one arrival per line) does not produce.
    status = np.where(pos.cancelled, "cancelled", np.where(~arrived, "open", "received"))
    order = np.lexsort((pos.sku, pos.po_number))
    frame = pl.DataFrame(
        {
            "po_number": "PO-" + pl.Series(10000 + pos.po_number[order]).cast(pl.String),
            "supplier": _gather([s.name for s in sup], pos.supplier[order]),
            "sku": _gather(catalog.sku, pos.sku[order]),
            "qty_ordered": pl.Series(pos.qty_ordered[order]).cast(pl.String),
            "qty_received": pl.Series(np.where(arrived, pos.qty_received, 0)[order]).cast(
                pl.String
            ),
            "ordered_at": cal.fmt_day(pl.Series(first_day_number + pos.ordered_day[order])),
            "expected_at": cal.fmt_day(pl.Series(first_day_number + pos.expected_day[order])),
            "received_at": pl.select(
                pl.when(pl.Series(arrived[order])).then(
                    cal.fmt_day(pl.Series(first_day_number + pos.arrival_day[order]))
                )
            ).to_series(),
            "status": pl.Series(status[order].astype(str)),
        }
    )
    landing.write_csv(
        "purchasing/purchase_orders.csv",
        frame,
        [
            "po_number",
            "supplier",
            "sku",
            "qty_ordered",
            "qty_received",
            "ordered_at",
            "expected_at",
            "received_at",
            "status",
        ],
    )


# ---------------------------------------------------------------- marketing


def _month_groups(days: np.ndarray) -> list[tuple[str, np.ndarray]]:
    months = days.astype("datetime64[D]").astype("datetime64[M]")
    return [(str(m), months == m) for m in np.unique(months)]


def write_ads(
    landing: Landing, ads: AdRows, *, export_day: int, comma_month: str | None = None
) -> dict | None:
    """Monthly ad platform exports. The Meta file of `comma_month` (YYYY-MM) was opened and
    saved again by a spreadsheet in a decimal-comma locale: `;` between fields, decimal
    commas and `.` thousands (`1.204,50`), CRLF line ends; the same columns. Returns that
    file's name, rows and exact spend (cents), or None."""
    comma: dict | None = None
    camp = ads.campaign
    platform = np.array([CAMPAIGNS[i].platform for i in range(len(CAMPAIGNS))])[camp]
    names = [c.name for c in CAMPAIGNS]
    last_day_of = {i: int(ads.day[camp == i].max()) for i in np.unique(camp)}
    for p, pname in enumerate(PLATFORMS):
        sel = np.flatnonzero(platform == p)
        o = sel[np.lexsort((camp[sel], ads.day[sel]))]
        for month, mask in _month_groups(ads.day[o]):
            r = o[mask]
            day_s = cal.fmt_day(pl.Series(ads.day[r]))
            spend = pl.Series(ads.spend[r])
            conv = ads.conversions[r]
            if pname == "meta":
                status = np.where(
                    np.array([last_day_of[i] for i in camp[r]]) >= export_day - 1,
                    "active",
                    "inactive",
                )
                results = conv.astype(np.int64)
                frame = pl.DataFrame({"_d": day_s}).with_columns(
                    pl.col("_d").alias("Reporting starts"),
                    pl.col("_d").alias("Reporting ends"),
                    pl.col("_d").alias("Day"),
                    _gather(names, camp[r]).alias("Campaign name"),
                    _gather([c.group for c in CAMPAIGNS], camp[r]).alias("Ad set name"),
                    _gather([c.ad for c in CAMPAIGNS], camp[r]).alias("Ad name"),
                    pl.Series(status.astype(str)).alias("Delivery status"),
                    money(spend).alias("Amount spent (USD)"),
                    pl.Series(ads.impressions[r]).cast(pl.String).alias("Impressions"),
                    pl.Series(ads.reach[r]).cast(pl.String).alias("Reach"),
                    pl.Series(np.char.mod("%.2f", ads.impressions[r] / ads.reach[r])).alias(
                        "Frequency"
                    ),
                    pl.Series(ads.clicks[r]).cast(pl.String).alias("Link clicks"),
                    pl.Series(results).cast(pl.String).alias("Results"),
                    lit_str("actions:offsite_conversion.fb_pixel_purchase").alias(
                        "Result indicator"
                    ),
                    pl.when(pl.Series(results > 0))
                    .then(money(pl.Series(np.round(ads.spend[r] / np.maximum(results, 1)))))
                    .alias("Cost per result"),
                    pl.Series(results).cast(pl.String).alias("Purchases"),
                    money(pl.Series(ads.value[r])).alias("Purchases conversion value"),
                )
                name = f"meta_ads/meta_ads_{month}.csv"
                if month == comma_month:
                    frame = _decimal_comma(frame, ads, r, results)
                    landing.write_csv(
                        name, frame, META_HEADER, separator=";", line_terminator="\r\n"
                    )
                    comma = {
                        "file": name,
                        "rows": int(r.size),
                        "spend_cents": int(ads.spend[r].sum()),
                        "spend_column": "Amount spent (USD)",
                    }
                else:
                    landing.write_csv(name, frame, META_HEADER)
            elif pname == "google":
                frame = _google_frame(r, ads, day_s)
                kinds = np.array([c.kind for c in CAMPAIGNS], dtype=object)[camp[r]]
                totals = [("Total: Account", np.ones(r.size, dtype=bool))]
                totals += [
                    (f"Total: {k}", kinds == k) for k in ("Search", "Shopping", "Performance Max")
                ]
                tot = []
                for label, m in totals:
                    tot.append(_google_total(label, ads, r[m]))
                frame = pl.concat([frame, pl.DataFrame(tot, schema=GOOGLE_HEADER, orient="row")])
                d_first = int(ads.day[r].min())
                d_last = int(ads.day[r].max())
                f, l_ = cal.to_date(d_first), cal.to_date(d_last)
                title = (
                    f'Campaign performance report\n"{MONTHS[f.month - 1]} {f.day}, {f.year} - '
                    f'{MONTHS[l_.month - 1]} {l_.day}, {l_.year}"\n'
                )
                landing.write_csv(
                    f"google_ads/google_ads_{month}.csv", frame, GOOGLE_HEADER, before=title
                )
            else:
                frame = pl.DataFrame({"By Day": day_s}).with_columns(
                    _gather(names, camp[r]).alias("Campaign name"),
                    _gather([c.group for c in CAMPAIGNS], camp[r]).alias("Ad group name"),
                    _gather([c.ad for c in CAMPAIGNS], camp[r]).alias("Ad name"),
                    lit_str("USD").alias("Currency"),
                    money(spend).alias("Cost"),
                    pl.Series(ads.impressions[r]).cast(pl.String).alias("Impressions"),
                    pl.Series(ads.clicks[r]).cast(pl.String).alias("Clicks (destination)"),
                    pl.Series(conv.astype(np.int64)).cast(pl.String).alias("Conversions"),
                    money(pl.Series(ads.value[r])).alias("Total complete payment value"),
                )
                landing.write_csv(f"tiktok_ads/tiktok_ads_{month}.csv", frame, TIKTOK_HEADER)
    return comma


def _decimal_comma(
    frame: pl.DataFrame, ads: AdRows, r: np.ndarray, results: np.ndarray
) -> pl.DataFrame:
    """The money and ratio columns of a Meta frame as a decimal-comma spreadsheet writes them."""
    return frame.with_columns(
        money_decimal_comma(pl.Series(ads.spend[r])).alias("Amount spent (USD)"),
        pl.Series(np.char.mod("%.2f", ads.impressions[r] / ads.reach[r]))
        .str.replace(".", ",", literal=True)
        .alias("Frequency"),
        pl.when(pl.Series(results > 0))
        .then(money_decimal_comma(pl.Series(np.round(ads.spend[r] / np.maximum(results, 1)))))
        .alias("Cost per result"),
        money_decimal_comma(pl.Series(ads.value[r])).alias("Purchases conversion value"),
    )


def _google_frame(r: np.ndarray, ads: AdRows, day_s: pl.Series) -> pl.DataFrame:
    spend, impr, clicks, conv = ads.spend[r], ads.impressions[r], ads.clicks[r], ads.conversions[r]
    ctr_bp = np.round(clicks / np.maximum(impr, 1) * 10000).astype(np.int64)  # basis points
    cpc = np.round(spend / np.maximum(clicks, 1)).astype(np.int64)
    cpa = np.where(conv > 0, np.round(spend / np.maximum(conv, 1e-9)), 0).astype(np.int64)
    conv_c = np.round(conv * 100).astype(np.int64)
    return pl.DataFrame(
        {
            "Day": day_s,
            "Campaign": _gather([c.name for c in CAMPAIGNS], ads.campaign[r]),
            "Ad group": _gather([c.group for c in CAMPAIGNS], ads.campaign[r]),
            "Currency code": pl.Series(["USD"] * r.size, dtype=pl.String),
        }
    ).with_columns(
        money_thousands(pl.Series(spend)).alias("Cost"),
        thousands(pl.Series(impr)).alias("Impr."),
        thousands(pl.Series(clicks)).alias("Clicks"),
        (money(pl.Series(ctr_bp)) + "%").alias("CTR"),
        money_thousands(pl.Series(cpc)).alias("Avg. CPC"),
        money_thousands(pl.Series(conv_c)).alias("Conversions"),
        money_thousands(pl.Series(ads.value[r])).alias("Conv. value"),
        money_thousands(pl.Series(cpa)).alias("Cost / conv."),
    )


def _google_total(label: str, ads: AdRows, r: np.ndarray) -> list[str]:
    spend, impr, clicks = (
        int(ads.spend[r].sum()),
        int(ads.impressions[r].sum()),
        int(ads.clicks[r].sum()),
    )
    conv = float(ads.conversions[r].sum())
    value = int(ads.value[r].sum())

    def fmt(cents: int) -> str:
        return f"{cents // 100:,}.{cents % 100:02d}"

    return [
        label,
        "--",
        "--",
        "USD",
        fmt(spend),
        f"{impr:,}",
        f"{clicks:,}",
        f"{clicks / max(impr, 1) * 100:.2f}%",
        fmt(round(spend / max(clicks, 1))),
        fmt(round(conv * 100)),
        fmt(value),
        fmt(round(spend / conv)) if conv > 0 else "0.00",
    ]


def write_sessions(landing: Landing, sessions: np.ndarray, window: tuple[int, int]) -> None:
    w0, w1 = window
    n_days = w1 - w0 + 1
    day = np.repeat(np.arange(w0, w1 + 1), len(CHANNELS))
    ch = np.tile(np.arange(len(CHANNELS)), n_days)
    frame = pl.DataFrame(
        {
            "date": cal.fmt_day(pl.Series(day)),
            "channel": _gather(CHANNELS, ch),
            "sessions": pl.Series(sessions[ch, day - w0]).cast(pl.String),
        }
    )
    landing.write_csv("analytics/sessions.csv", frame, ["date", "channel", "sessions"])


def write_promotions(landing: Landing, catalog: Catalog, promos: list[Promotion]) -> None:
    frame = pl.DataFrame(
        {
            "name": [p.name for p in promos],
            "starts_on": [cal.to_date(p.start).isoformat() for p in promos],
            "ends_on": [cal.to_date(p.end).isoformat() for p in promos],
            "skus": [";".join(catalog.sku[i] for i in p.sku_idx) for p in promos],
            "collection": [p.collection for p in promos],
            "expected_uplift": [f"{p.expected_uplift:.1f}" for p in promos],
        },
        schema={
            k: pl.String
            for k in ("name", "starts_on", "ends_on", "skus", "collection", "expected_uplift")
        },
    )
    landing.write_csv(
        "analytics/promotions.csv",
        frame,
        ["name", "starts_on", "ends_on", "skus", "collection", "expected_uplift"],
    )


# ---------------------------------------------------------------- support


def _ticket_frame(
    t: Tickets,
    people: pl.DataFrame,
    product_titles: list[str],
    idx: np.ndarray,
) -> pl.DataFrame:
    """Requester, subject and tags of tickets `idx`, shared by both help desks."""
    cust = t.customer[idx]
    known = cust >= 0
    P = people.select(pl.all().gather(pl.Series(np.where(known, cust, 0))))
    prospect_first = _gather(FIRST_NAMES, (t.prospect[idx] * 7 + 3) % len(FIRST_NAMES))
    prospect_last = _gather(LAST_NAMES, (t.prospect[idx] * 11 + 5) % len(LAST_NAMES))
    prospect_email = (
        prospect_first.str.to_lowercase()
        + "."
        + prospect_last.str.to_lowercase()
        + (900_000 + t.prospect[idx]).astype(str)
        + "@"
        + _gather(EMAIL_DOMAINS, t.prospect[idx] % 3)
    )
    known_s = pl.Series(known)
    email = pl.select(pl.when(known_s).then(P["email"]).otherwise(prospect_email)).to_series()
    name = pl.select(
        pl.when(known_s).then(P["name"]).otherwise(prospect_first + " " + prospect_last)
    ).to_series()
    variant = pl.Series(t.email_variant[idx])
    email = pl.select(
        pl.when(variant == 1)
        .then(email.str.to_titlecase())
        .when(variant == 2)
        .then(email.str.to_uppercase())
        .when(variant == 3)
        .then(email + " ")
        .when(variant == 4)
        .then(" " + email)
        .otherwise(email)
    ).to_series()
    cat = t.category[idx]
    kind = t.subject_kind[idx]
    prefix = np.empty(idx.size, dtype=object)
    suffix = np.empty(idx.size, dtype=object)
    whole = np.empty(idx.size, dtype=object)
    for c in range(5):
        opts = SUBJECTS[c]
        m = cat == c
        if isinstance(opts[0], tuple):
            prefix[m] = np.array([o[0] for o in opts], dtype=object)[kind[m]]
            suffix[m] = np.array([o[1] for o in opts], dtype=object)[kind[m]]
            whole[m] = None
        else:
            whole[m] = np.array(opts, dtype=object)[kind[m]]
            prefix[m] = None
            suffix[m] = None
    middle = np.where(
        cat <= 1, np.char.add("#", np.maximum(t.order_number[idx], 0).astype(str)), ""
    )
    middle = np.where(
        cat == 2, np.array(product_titles, dtype=object)[t.product[idx]], middle
    ).astype(object)
    no_order = (cat <= 1) & (t.order_number[idx] < 0)
    middle[no_order] = "my order"
    subject = np.where(
        whole == None,
        np.char.add(np.char.add(prefix.astype(str), middle.astype(str)), suffix.astype(str)),
        whole.astype(str),
    )
    tags = [" ".join(TAG_SETS[c][k]) for c, k in zip(cat.tolist(), t.tag_set[idx].tolist())]
    return pl.DataFrame(
        {
            "email": email,
            "name": name,
            "subject": pl.Series(subject.astype(str)),
            "tags": pl.Series(tags, dtype=pl.String),
        }
    )


def write_tickets(
    landing: Landing,
    t: Tickets,
    *,
    people: pl.DataFrame,
    catalog: Catalog,
    migration_day: int,
    export_at: int,
    rng: np.random.Generator,
) -> None:
    local_day = cal.utc_to_local(t.created) // DAY
    first_reply = t.created + t.first_reply_min * 60
    solved = t.created + t.resolution_min * 60
    is_open = solved >= export_at
    # --- Zendesk (before the migration)
    z = np.flatnonzero(local_day < migration_day)
    if z.size:
        base = _ticket_frame(t, people, catalog.title, z)
        agent_names = [a[0] for a in AGENTS]
        group = np.where(
            t.category[z] == 1,
            "Returns & Exchanges",
            np.where(t.category[z] == 3, "Escalations", "Support"),
        )
        status = np.where(
            is_open[z],
            np.where(t.replies[z] > 1, "pending", "open"),
            np.where(solved[z] < export_at - 4 * DAY, "closed", "solved"),
        )
        bh = rng.uniform(0.35, 0.9, z.size)
        csat = np.array(["Unoffered", "Offered", "Good", "Bad"], dtype=object)[t.csat[z, 0]]
        created_l = cal.utc_to_local(t.created[z])
        solved_l = cal.utc_to_local(solved[z])
        assigned_l = created_l + rng.integers(30, 1200, z.size)
        updated_l = np.where(
            is_open[z],
            cal.utc_to_local(first_reply[z]),
            solved_l + rng.integers(0, 4 * DAY, z.size),
        )
        frame = pl.DataFrame(
            {
                "Id": pl.Series(10001 + z).cast(pl.String),
                "Requester": base["name"],
                "Requester email": base["email"],
                "Assignee": _gather(agent_names, t.agent[z]),
                "Group": pl.Series(group.astype(str)),
                "Organization": pl.Series([""] * z.size, dtype=pl.String),
                "Subject": base["subject"],
                "Tags": base["tags"],
                "Status": pl.Series(status.astype(str)),
                "Priority": _gather(["low", "normal", "high", "urgent"], t.priority[z]),
                "Via": _gather(["Mail", "Web form", "Chat", "Phone call (incoming)"], t.channel[z]),
                "Ticket type": _gather(
                    ["incident", "incident", "question", "problem", ""], t.category[z]
                ),
                "Created at": cal.fmt_local(pl.Series(created_l)),
                "Updated at": cal.fmt_local(pl.Series(updated_l)),
                "Assigned at": cal.fmt_local(pl.Series(assigned_l)),
                "Solved at": pl.select(
                    pl.when(pl.Series(~is_open[z])).then(cal.fmt_local(pl.Series(solved_l)))
                ).to_series(),
                "Satisfaction Score": pl.Series(
                    np.where(is_open[z], "Unoffered", csat).astype(str)
                ),
                "Reopens": pl.Series(t.reopens[z]).cast(pl.String),
                "Replies": pl.Series(t.replies[z]).cast(pl.String),
                "First reply time in minutes": pl.Series(t.first_reply_min[z]).cast(pl.String),
                "First reply time in minutes within business hours": pl.Series(
                    np.round(t.first_reply_min[z] * bh).astype(np.int64)
                ).cast(pl.String),
                "Full resolution time in minutes": pl.select(
                    pl.when(pl.Series(~is_open[z])).then(
                        pl.Series(t.resolution_min[z]).cast(pl.String)
                    )
                ).to_series(),
                "Full resolution time in minutes within business hours": pl.select(
                    pl.when(pl.Series(~is_open[z])).then(
                        pl.Series(np.round(t.resolution_min[z] * bh).astype(np.int64)).cast(
                            pl.String
                        )
                    )
                ).to_series(),
            }
        )
        months = local_day[z].astype("datetime64[D]").astype("datetime64[M]")
        for m in np.unique(months):
            landing.write_csv(
                f"zendesk/zendesk_tickets_{m}.csv",
                frame.filter(pl.Series(months == m)),
                ZENDESK_HEADER,
            )
    # --- Gorgias (after the migration)
    g = np.flatnonzero(local_day >= migration_day)
    if g.size:
        base = _ticket_frame(t, people, catalog.title, g)
        tag_id = {name: 101 + i for i, name in enumerate(ALL_TAGS)}
        channel = np.array(["email", "contact_form", "chat", "facebook"], dtype=object)[
            t.channel[g]
        ]
        opened = t.created[g] + np.minimum(
            t.first_reply_min[g] * 60, rng.integers(60, 3600, g.size)
        )
        last_msg = np.where(is_open[g], first_reply[g], solved[g] - rng.integers(0, 600, g.size))
        iso = pl.DataFrame(
            {
                "c": cal.fmt_iso_utc(pl.Series(t.created[g])),
                "o": cal.fmt_iso_utc(pl.Series(opened)),
                "x": cal.fmt_iso_utc(pl.Series(solved[g])),
                "m": cal.fmt_iso_utc(pl.Series(last_msg)),
            }
        )
        c_s, o_s, x_s, m_s = (iso[k].to_list() for k in ("c", "o", "x", "m"))
        emails, names, subjects = (
            base["email"].to_list(),
            base["name"].to_list(),
            base["subject"].to_list(),
        )
        cust_id = np.where(
            t.customer[g] >= 0, 40_000 + t.customer[g], 9_000_000 + t.prospect[g]
        ).tolist()
        open_l = is_open[g].tolist()
        cat_l, tagset_l = t.category[g].tolist(), t.tag_set[g].tolist()
        agent_l = t.agent[g].tolist()
        score_l = t.csat[g, 1].tolist()
        msgs = (t.replies[g] + 1 + t.reopens[g]).tolist()
        chan_l = channel.tolist()
        months = local_day[g].astype("datetime64[D]").astype("datetime64[M]").astype(str).tolist()
        by_month: dict[str, list[str]] = {}
        for k in range(g.size):
            ticket = {
                "id": 250_001 + k,
                "subject": subjects[k],
                "status": "open" if open_l[k] else "closed",
                "channel": chan_l[k],
                "via": chan_l[k],
                "created_datetime": c_s[k],
                "opened_datetime": o_s[k],
                "closed_datetime": None if open_l[k] else x_s[k],
                "last_message_datetime": m_s[k],
                "tags": [{"id": tag_id[n], "name": n} for n in TAG_SETS[cat_l[k]][tagset_l[k]]],
                "customer": {"id": cust_id[k], "email": emails[k], "name": names[k]},
                "assignee_user": {
                    "id": 5 + agent_l[k],
                    "email": f"{AGENTS[agent_l[k]][1]}@{STORE_DOMAIN}",
                    "name": AGENTS[agent_l[k]][0].split(" ")[0],
                },
                "satisfaction_survey": None
                if (score_l[k] == 0 or open_l[k])
                else {"score": score_l[k]},
                "messages_count": msgs[k],
            }
            by_month.setdefault(months[k], []).append(json.dumps(ticket))
        for month in sorted(by_month):
            landing.write_text(
                f"gorgias/gorgias_tickets_{month}.jsonl", "\n".join(by_month[month]) + "\n"
            )
