"""Write the simulated store as vendor exports under `landing/`.

Every file is built as a polars frame of strings and written with `write_csv`, so the
bytes depend only on the data. Header lines match ../shared/formats (or docs/formats) exactly.

One module per vendor format, each with its header columns next to its writer:
`shopify_orders` (with `shopify_order_rows`), `shopify_customers`, `products` (products
and inventory), `purchasing`, `ads` (Meta, Google, TikTok), `storefront` (sessions and
promotions) and `support` (Zendesk, Gorgias); `people` builds the customer table they
share and `format` holds the formatting helpers and `Landing`. `payments` (Shopify
Payments transactions) and `shipping` (ShipStation shipments) write what the simulation's
`profit` and `shipments` modules decide; import them from their modules (those modules
use this package's export instants, so importing them here would be circular).
"""

from orchestration.demo.writers.ads import write_ads
from orchestration.demo.writers.format import (
    Landing,
    _gather,
    lit_str,
    money,
    money_decimal_comma,
    money_thousands,
    null_str,
    thousands,
)
from orchestration.demo.writers.people import customer_table
from orchestration.demo.writers.products import write_inventory, write_products
from orchestration.demo.writers.purchasing import write_purchasing
from orchestration.demo.writers.shopify_customers import write_customers
from orchestration.demo.writers.shopify_order_rows import lineitem_names
from orchestration.demo.writers.shopify_orders import (
    OrdersExport,
    export_instant,
    newest_export_at,
    order_export_files,
    write_orders,
)
from orchestration.demo.writers.storefront import write_promotions, write_sessions
from orchestration.demo.writers.support import write_tickets

__all__ = [
    "Landing",
    "OrdersExport",
    "_gather",
    "customer_table",
    "export_instant",
    "lineitem_names",
    "lit_str",
    "money",
    "money_decimal_comma",
    "money_thousands",
    "newest_export_at",
    "null_str",
    "order_export_files",
    "thousands",
    "write_ads",
    "write_customers",
    "write_inventory",
    "write_orders",
    "write_products",
    "write_promotions",
    "write_purchasing",
    "write_sessions",
    "write_tickets",
]
