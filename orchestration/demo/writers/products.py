"""Shopify products exports (`shopify/products/products_export_<date>.csv`: dated
snapshots of the catalog, Cost per item as it was that day) and inventory snapshots
(`shopify/inventory/`: daily files, older months in the previous monthly format)."""

from __future__ import annotations

import numpy as np
import polars as pl

from orchestration.demo import calendar as cal
from orchestration.demo.catalog import Catalog
from orchestration.demo.names import CATEGORIES
from orchestration.demo.writers.format import Landing, _gather, lit_str, money

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


def _variant_counts(catalog: Catalog) -> np.ndarray:
    return np.bincount(catalog.product, minlength=len(catalog.title))[catalog.product]


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


def write_products(
    landing: Landing,
    catalog: Catalog,
    on_hand_end: np.ndarray,
    snapshots: list[tuple[int, np.ndarray]] | None = None,
) -> list[str]:
    """Write one products export per (day number, Cost per item cents per SKU) snapshot,
    `products_export_<YYYY-MM-DD>.csv`, every column but Cost per item the same in each;
    without snapshots, one undated `products_export.csv` at catalog.cost. Returns the
    file names (relative to landing)."""
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
    if snapshots is None:
        landing.write_csv("shopify/products/products_export.csv", frame, PRODUCTS_HEADER)
        return ["shopify/products/products_export.csv"]
    names = []
    for day, cost in snapshots:
        name = f"shopify/products/products_export_{cal.to_date(day).isoformat()}.csv"
        dated = frame.with_columns(money(pl.Series(cost)).alias("Cost per item"))
        landing.write_csv(name, dated, PRODUCTS_HEADER)
        names.append(name)
    return names


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
