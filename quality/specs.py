"""The landing contract as data: one `SourceSpec` per raw table.

Each spec says which landing folder feeds the table, which vendor columns it needs, how
each known column is typed, and which vendor quirks its reader must undo. Column names
in the raw tables are the vendor's names in snake_case (`Lineitem quantity` ->
`lineitem_quantity`); columns a spec does not know are kept as text.

Plain data with no imports beyond the standard library, so that both sides of the
contract read the same specs: the loader (orchestration.ingest) that lands the files,
and the checks of this package (quality.suites' raw suites, quality.reconcile's row
books) that hold the raw tables to it.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Literal

# Rows dated before this are outside any export window (a parse or format error). Well
# before Shopify (2006): stores import their history from older platforms. The default of
# the setting export_window_start (orchestration.settings).
DEFAULT_EXPORT_WINDOW_START = dt.date(1995, 1, 1)

Kind = Literal["text", "int", "money", "number", "percent", "date", "timestamp_tz",
               "timestamp_local", "bool"]


@dataclass(frozen=True)
class Column:
    """A vendor column the reader knows.

    name: snake_case name in the raw table.
    vendor: the header(s) the vendor writes, newest first (older exports may differ).
    required: the file is rejected when the header lacks it.
    not_null: a row with an empty value here is quarantined.
    """

    name: str
    kind: Kind = "text"
    vendor: tuple[str, ...] = ()
    required: bool = False
    not_null: bool = False


@dataclass(frozen=True)
class IdColumn:
    """An id-like text column a spreadsheet can destroy (13-digit ids become 5.81234E+12).

    what: what its values are, plural ("order ids"); consequence: what storeops does
    about it or what breaks, one sentence."""

    name: str
    what: str
    consequence: str


@dataclass(frozen=True)
class DailyRows:
    """A report whose rows must each cover one day: a row without `day` whose `starts`
    and `ends` differ was exported without the daily breakdown.

    spend: the money column summed in the message; fix: how to export it correctly."""

    starts: str
    ends: str
    day: str
    spend: str
    fix: str


@dataclass(frozen=True)
class SourceSpec:
    """One landing source and the raw table it loads into: where its files are, the
    columns the reader knows (`Column`), how rows are keyed and grouped, and the vendor
    quirks to undo. The fields are explained where they are declared."""

    table: str  # raw.<table>
    folder: str  # landing sub-folder
    label: str  # what a person calls this file
    columns: tuple[Column, ...]
    file_format: Literal["csv", "jsonl"] = "csv"
    # Files of folders that hold several entities are told apart by their header.
    shares_folder: bool = False
    # The columns a row's date is read from, first non-empty wins: "last date seen", the
    # load log's min/max dates and the export-window check use it.
    date_columns: tuple[str, ...] = ()
    # Rows of one group (e.g. the lines of one Shopify order) load or quarantine together.
    group_by: str | None = None
    # Columns whose emptiness on a non-first row of a group is normal (Shopify orders).
    first_row_only: tuple[str, ...] = ()
    # Shopify inventory: the snapshot date comes from the file name or an as_of column.
    needs_snapshot_date: bool = False
    # Shopify products: a snapshot too, but real exports carry no date: the file name's
    # date when it has one, else the store date the file was loaded on.
    snapshot_date_or_load_date: bool = False
    # Meta: the currency is written in a column name, `Amount spent (EUR)`.
    currency_in_header: tuple[str, str] | None = None  # (header prefix, column name)
    # Vendor summary rows (Google Ads `Total: Account`, storeops' XLSX `Total`): the first
    # cell is this word alone or followed by ':', and the other natural-key cells are empty.
    summary_row_prefix: str | None = None
    # Google Ads (and storeops' own XLSX) put title lines above the header; other files
    # start with it, so a data line that happens to hold a column name is never the header.
    title_lines: bool = False
    natural_key: tuple[str, ...] = ()
    # Rows dated after the load are quarantined, except where the future is the point
    # (planned promotions).
    future_dates_allowed: bool = False
    extra_columns: tuple[str, ...] = field(default_factory=tuple)
    # Text columns holding long numeric ids a spreadsheet may turn into 5.81234E+12.
    id_columns: tuple[IdColumn, ...] = ()
    # Rows must each cover one day (Meta: Reporting starts/ends, or a Day column).
    daily_rows: DailyRows | None = None
    # The vendor writes timestamps with the store's own UTC offset (Shopify), so an offset
    # the store timezone never has means the timezone setting is wrong.
    offsets_in_store_timezone: bool = False
    vendor: str = ""  # who to export again from

    @property
    def date_column(self) -> str | None:
        """The first of date_columns."""
        return self.date_columns[0] if self.date_columns else None

    def column(self, name: str) -> Column:
        """The known column of that snake_case name. Raises KeyError when the spec does
        not know it."""
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)


def snake(header: str) -> str:
    """`Lineitem quantity` -> `lineitem_quantity`, `Impr.` -> `impr`, `Conv. value` -> `conv_value`."""
    s = re.sub(r"[^0-9a-zA-Z]+", "_", header.strip().lower()).strip("_")
    return s or "unnamed"


def c(vendor: str | tuple[str, ...], kind: Kind = "text", *, name: str | None = None,
      required: bool = False, not_null: bool = False) -> Column:
    """A `Column` from the vendor's header (or headers, newest first): its name is the
    snake_case of the first header unless `name` is given."""
    vendors = (vendor,) if isinstance(vendor, str) else vendor
    return Column(name=name or snake(vendors[0]), kind=kind, vendor=vendors,
                  required=required, not_null=not_null)


SHOPIFY_ORDERS = SourceSpec(
    table="shopify_orders",
    folder="shopify/orders",
    label="Shopify orders export",
    group_by="name",
    # A page pulled from the API (orchestration/pull/shopify.py) carries `Updated at`, which
    # dates its rows (so a pulled order replaces an older export's copy); an export has
    # none and its rows are dated by `Created at`.
    date_columns=("updated_at", "created_at"),
    natural_key=("name", "_line_in_order"),
    first_row_only=("created_at",),
    offsets_in_store_timezone=True,
    vendor="Shopify",
    id_columns=(
        IdColumn("id", "order ids", "Orders are keyed on Name instead."),
        IdColumn("lineitem_sku", "SKUs", "Lines with these SKUs will not match their "
                 "products, stock or reorder suggestions."),
    ),
    columns=(
        c("Name", required=True, not_null=True),
        c("Email"),
        c("Financial Status"),
        c("Paid at", "timestamp_tz"),
        c("Fulfillment Status"),
        c("Fulfilled at", "timestamp_tz"),
        c("Accepts Marketing", "bool"),
        c("Currency"),
        c("Subtotal", "money"),
        c("Shipping", "money"),
        c("Taxes", "money"),
        c("Total", "money"),
        c("Discount Code"),
        c("Discount Amount", "money"),
        c("Shipping Method"),
        c("Created at", "timestamp_tz", required=True),
        c("Lineitem quantity", "int", required=True, not_null=True),
        c("Lineitem name"),
        c("Lineitem price", "money", required=True, not_null=True),
        c("Lineitem compare at price", "money"),
        c("Lineitem sku", required=True),
        c("Lineitem requires shipping", "bool"),
        c("Lineitem taxable", "bool"),
        c("Lineitem fulfillment status"),
        c("Lineitem discount", "money"),
        c("Cancelled at", "timestamp_tz"),
        c("Payment Method"),
        c("Refunded Amount", "money"),
        c("Outstanding Balance", "money"),
        c("Id"),
        c("Tags"),
        c("Source"),
        c("Note Attributes"),
        c("Duties", "money"),
        c("Updated at", "timestamp_tz"),  # API pages only
        # Shopify names each tax with its rate ("GB VAT 20%", "NY State Tax 4%"): the
        # rate splits a tax-inclusive order's Taxes between goods and shipping exactly.
        *(col for n in range(1, 6)
          for col in (c(f"Tax {n} Name"), c(f"Tax {n} Value", "money"))),
    ),
)

SHOPIFY_PRODUCTS = SourceSpec(
    table="shopify_products",
    folder="shopify/products",
    label="Shopify products export",
    # Each export is a snapshot of prices and Cost per item: as_of keeps their history
    # (an order's cost of goods is the cost in effect on its date).
    snapshot_date_or_load_date=True,
    date_columns=("as_of",),
    natural_key=("as_of", "variant_sku"),
    vendor="Shopify",
    id_columns=(IdColumn("variant_sku", "SKUs", "These variants will not match their "
                         "orders, stock or reorder suggestions."),),
    columns=(
        c("as_of", "date"),
        c("Handle", required=True, not_null=True),
        c("Title"),
        c("Vendor"),
        c("Product Category"),
        c("Type"),
        c("Tags"),
        c("Published", "bool"),
        c("Option1 Name"), c("Option1 Value"),
        c("Option2 Name"), c("Option2 Value"),
        c("Option3 Name"), c("Option3 Value"),
        c("Variant SKU", required=True),
        c("Variant Grams", "number"),
        c("Variant Inventory Qty", "int"),
        c("Variant Price", "money", required=True),
        c("Variant Compare At Price", "money"),
        c("Cost per item", "money"),
        c("Status"),
    ),
)

_INVENTORY_QTY = ("Incoming", "Unavailable", "Committed", "Available")
SHOPIFY_INVENTORY = SourceSpec(
    table="shopify_inventory",
    folder="shopify/inventory",
    label="Shopify inventory export",
    needs_snapshot_date=True,
    date_columns=("as_of",),
    natural_key=("as_of", "sku", "location"),
    vendor="Shopify",
    id_columns=(IdColumn("sku", "SKUs", "This stock will not match its products, orders "
                         "or reorder suggestions."),),
    columns=(
        c("as_of", "date"),
        c("Handle"),
        c("Title"),
        c("Option1 Name"), c("Option1 Value"),
        c("Option2 Name"), c("Option2 Value"),
        c("Option3 Name"), c("Option3 Value"),
        c("SKU", required=True, not_null=True),
        c("Location", required=True),
        # Older exports name these without the "(not editable)" suffix.
        *(c((f"{q} (not editable)", q), "int", name=snake(q), required=True)
          for q in _INVENTORY_QTY),
        c(("On hand (current)", "On hand"), "int", name="on_hand", required=True),
        c("On hand (new)", "int"),
    ),
)

SHOPIFY_CUSTOMERS = SourceSpec(
    table="shopify_customers",
    folder="shopify/customers",
    label="Shopify customers export",
    natural_key=("email",),
    columns=(
        c("First Name"), c("Last Name"),
        c("Email", required=True),
        c("Accepts Email Marketing", "bool"),
        c("Accepts SMS Marketing", "bool"),
        c("Country Code"),
        c("Total Spent", "money"),
        c("Total Orders", "int"),
        c("Tags"),
    ),
)

META_ADS = SourceSpec(
    table="meta_ads",
    folder="meta_ads",
    label="Meta Ads Manager export",
    currency_in_header=("Amount spent", "amount_spent"),
    # With a Day column, Reporting starts/ends carry the whole report's range; without,
    # a daily row has starts = ends. Either way the row's day is Day, else Reporting ends.
    date_columns=("day", "reporting_ends"),
    daily_rows=DailyRows(
        starts="reporting_starts", ends="reporting_ends", day="day", spend="amount_spent",
        # Ads Manager's reporting table: Breakdown menu, "By time" group, "Day".
        fix="In Ads Manager choose Breakdown > By time > Day, then export again."),
    vendor="Meta Ads Manager",
    natural_key=("reporting_starts", "campaign_name", "ad_set_name", "ad_name"),
    columns=(
        c("Reporting starts", "date", required=True, not_null=True),
        c("Reporting ends", "date", required=True),
        c("Day", "date"),
        c("Campaign name", required=True, not_null=True),
        c("Ad set name"),
        c("Ad name"),
        c("Delivery status"),
        c("amount_spent", "money", required=True),
        c("currency"),
        c("Impressions", "int"),
        c("Reach", "int"),
        c("Frequency", "number"),
        c("Link clicks", "int"),
        c("Results", "number"),
        c("Result indicator"),
        c("Cost per result", "money"),
        c("Purchases", "number"),
        c("Purchases conversion value", "money"),
    ),
)

GOOGLE_ADS = SourceSpec(
    table="google_ads",
    folder="google_ads",
    label="Google Ads report",
    vendor="Google Ads",
    summary_row_prefix="Total",
    title_lines=True,
    date_columns=("day",),
    natural_key=("day", "campaign", "ad_group"),
    columns=(
        c("Day", "date", required=True, not_null=True),
        c("Campaign", required=True, not_null=True),
        c("Ad group"),
        c("Currency code", required=True),
        c("Cost", "money", required=True),
        c("Impr.", "int", name="impressions"),
        c("Clicks", "int"),
        c("CTR", "percent"),
        c("Avg. CPC", "money"),
        c("Conversions", "number"),
        c("Conv. value", "money"),
        c("Cost / conv.", "money"),
    ),
)

TIKTOK_ADS = SourceSpec(
    table="tiktok_ads",
    folder="tiktok_ads",
    label="TikTok Ads Manager report",
    date_columns=("by_day",),
    natural_key=("by_day", "campaign_name", "ad_group_name", "ad_name"),
    columns=(
        # TikTok lets the merchant pick columns; only these four are always there.
        c(("By Day", "Date"), "date", name="by_day", required=True, not_null=True),
        c("Campaign name", required=True, not_null=True),
        c("Ad group name"),
        c("Ad name"),
        c("Currency"),
        c("Cost", "money", required=True),
        c("Impressions", "int", required=True),
        c("Clicks (destination)", "int"),
        c("Conversions", "number"),
        c("Total complete payment value", "money"),
    ),
)

ZENDESK_TICKETS = SourceSpec(
    table="zendesk_tickets",
    folder="zendesk",
    label="Zendesk ticket export",
    # The export and the pulled pages (orchestration/pull/zendesk.py) both carry Updated at:
    # a ticket's newest state wins, whichever file it came in.
    date_columns=("updated_at", "created_at"),
    natural_key=("id",),
    columns=(
        c("Id", "int", required=True, not_null=True),
        c("Requester"),
        c("Requester email", required=True),
        c("Assignee"),
        c("Group"),
        c("Subject"),
        c("Tags"),
        c("Status", required=True),
        c("Priority"),
        c("Via"),
        c("Ticket type"),
        # Zendesk writes times in the account's timezone without an offset.
        c("Created at", "timestamp_local", required=True, not_null=True),
        c("Updated at", "timestamp_local"),
        c("Assigned at", "timestamp_local"),
        c("Solved at", "timestamp_local"),
        c("Satisfaction Score"),
        c("Reopens", "int"),
        c("Replies", "int"),
        c("First reply time in minutes", "number"),
        c("First reply time in minutes within business hours", "number"),
        c("Full resolution time in minutes", "number"),
        c("Full resolution time in minutes within business hours", "number"),
    ),
)

GORGIAS_TICKETS = SourceSpec(
    table="gorgias_tickets",
    folder="gorgias",
    label="Gorgias tickets (JSON lines)",
    file_format="jsonl",
    # Pulled pages (orchestration/pull/gorgias.py) are dated by the ticket's last change, so
    # a newer pull replaces an older copy; files without it by creation.
    date_columns=("updated_datetime", "created_datetime"),
    natural_key=("id",),
    columns=(
        c("id", "int", required=True, not_null=True),
        c("subject"),
        c("status"),
        c("channel"),
        c("via"),
        c("created_datetime", "timestamp_tz", required=True, not_null=True),
        c("opened_datetime", "timestamp_tz"),
        c("closed_datetime", "timestamp_tz"),
        c("last_message_datetime", "timestamp_tz"),
        c("updated_datetime", "timestamp_tz"),
        c("tags"),
        c("customer_id"),
        c("customer_email"),
        c("customer_name"),
        c("assignee_user_id"),
        c("assignee_user_email"),
        c("assignee_user_name"),
        c("satisfaction_survey_score", "number"),
        c("messages_count", "int"),
    ),
)

PURCHASING_SUPPLIERS = SourceSpec(
    table="purchasing_suppliers",
    folder="purchasing",
    label="storeops suppliers.csv",
    shares_folder=True,
    natural_key=("supplier",),
    columns=(
        c("supplier", required=True, not_null=True),
        c("lead_time_days", "number", required=True, not_null=True),
        c("lead_time_std_days", "number"),
        c("moq_units", "int"),
        c("case_pack", "int"),
        c("order_cycle_days", "int", required=True),
        c("currency"),
    ),
)

PURCHASING_SKU_SUPPLIERS = SourceSpec(
    table="purchasing_sku_suppliers",
    folder="purchasing",
    label="storeops sku_suppliers.csv",
    shares_folder=True,
    natural_key=("sku", "supplier"),
    columns=(
        c("sku", required=True, not_null=True),
        c("supplier", required=True, not_null=True),
        c("unit_cost", "money", required=True),
        c("moq_units", "int"),
        c("case_pack", "int"),
    ),
)

PURCHASING_PURCHASE_ORDERS = SourceSpec(
    table="purchasing_purchase_orders",
    folder="purchasing",
    label="storeops purchase_orders.csv",
    shares_folder=True,
    date_columns=("ordered_at",),
    natural_key=("po_number", "sku"),
    columns=(
        c("po_number", required=True, not_null=True),
        c("supplier", required=True, not_null=True),
        c("sku", required=True, not_null=True),
        c("qty_ordered", "int", required=True, not_null=True),
        c("qty_received", "int", required=True),
        c("ordered_at", "date", required=True, not_null=True),
        c("expected_at", "date", required=True),
        c("received_at", "date"),
        c("status", required=True),
    ),
)

ANALYTICS_SESSIONS = SourceSpec(
    table="analytics_sessions",
    folder="analytics",
    label="storeops sessions.csv",
    shares_folder=True,
    date_columns=("date",),
    natural_key=("date", "channel"),
    columns=(
        c("date", "date", required=True, not_null=True),
        c("channel", required=True),
        c("sessions", "int", required=True, not_null=True),
    ),
)

ANALYTICS_PROMOTIONS = SourceSpec(
    table="analytics_promotions",
    folder="analytics",
    label="storeops promotions.csv",
    shares_folder=True,
    date_columns=("starts_on",),
    natural_key=("name",),
    future_dates_allowed=True,
    columns=(
        c("name", required=True, not_null=True),
        c("starts_on", "date", required=True, not_null=True),
        c("ends_on", "date", required=True, not_null=True),
        c("skus"),
        c("collection"),
        c("expected_uplift", "number"),
    ),
)

SHOPIFY_PAYMENT_TRANSACTIONS = SourceSpec(
    table="shopify_payment_transactions",
    folder="shopify/payouts",
    label="Shopify Payments transactions export",
    vendor="Shopify",
    # The export has no transaction id. A later export restates a transaction (pending ->
    # paid, with its payout): same instant, type, order and amount.
    date_columns=("transaction_date",),
    natural_key=("transaction_date", "type", "order_name", "amount"),
    offsets_in_store_timezone=True,
    id_columns=(
        IdColumn("payout_id", "payout ids", "Transactions are grouped into payouts by "
                 "Payout Date instead."),
        IdColumn("checkout", "checkout ids", "Nothing storeops computes uses them."),
    ),
    columns=(
        c("Transaction Date", "timestamp_tz", required=True, not_null=True),
        c("Type", required=True, not_null=True),
        c("Order", name="order_name"),
        c("Card Brand"),
        c("Card Source"),
        c("Payout Status"),
        c("Payout Date", "date"),
        c("Payout ID"),
        c("Available On", "date"),
        c("Amount", "money", required=True, not_null=True),
        c("Fee", "money", required=True),
        c("Net", "money", required=True),
        c("Checkout"),
        c("Payment Method Name"),
        c("Presentment Amount", "money"),
        c("Presentment Currency"),
        c("Currency"),
        c("VAT", "money"),
    ),
)

SHIPSTATION_SHIPMENTS = SourceSpec(
    table="shipstation_shipments",
    folder="shipping",
    label="ShipStation shipments export",
    vendor="ShipStation",
    date_columns=("ship_date", "create_date"),
    natural_key=("shipment_id",),
    id_columns=(
        IdColumn("shipment_id", "shipment ids", "Shipments that share a mangled id are "
                 "kept once."),
        IdColumn("tracking_number", "tracking numbers", "Nothing storeops computes uses "
                 "them."),
        IdColumn("order_number", "order numbers", "These labels will not match their "
                 "orders."),
    ),
    columns=(
        # The shipment record's fields (ShipStation API: shipmentId, orderNumber, ...),
        # as the Shipments grid names them; the API's own names are accepted too.
        c(("Shipment ID", "shipmentId"), required=True, not_null=True),
        c(("Order Number", "Order #", "orderNumber"), name="order_number", required=True,
          not_null=True),
        c(("Create Date", "createDate"), "timestamp_local", name="create_date"),
        c(("Ship Date", "shipDate"), "date", name="ship_date", required=True),
        c(("Carrier", "carrierCode"), name="carrier"),
        c(("Service", "serviceCode"), name="service"),
        c(("Package", "packageCode"), name="package"),
        c(("Weight", "weight"), "number", name="weight"),
        c(("Weight Units", "weightUnits"), name="weight_units"),
        c(("Shipment Cost", "Shipping Cost", "Label Cost", "shipmentCost"), "money",
          name="shipment_cost", required=True),
        c(("Insurance Cost", "insuranceCost"), "money", name="insurance_cost"),
        c(("Tracking Number", "Tracking #", "trackingNumber"), name="tracking_number"),
        c(("Is Return Label", "isReturnLabel"), "bool", name="is_return_label"),
        c(("Voided", "voided"), "bool", name="voided"),
        c(("Void Date", "voidDate"), "timestamp_local", name="void_date"),
    ),
)

APPROVALS = SourceSpec(
    table="approvals_reorder_lines",
    folder="approvals",
    label="returned reorder file (CSV or XLSX with approved_qty)",
    # The XLSX storeops writes has title lines above the header and a Total row below.
    summary_row_prefix="Total",
    title_lines=True,
    natural_key=("sku", "_source_file"),
    columns=(
        c("sku", required=True, not_null=True),
        c("product"),
        c("suggested_qty", "int"),
        c("unit_cost", "money"),
        c("urgency"),
        c("approved_qty", "int", required=True),
    ),
)

SPECS: tuple[SourceSpec, ...] = (
    SHOPIFY_ORDERS,
    SHOPIFY_PRODUCTS,
    SHOPIFY_INVENTORY,
    SHOPIFY_CUSTOMERS,
    META_ADS,
    GOOGLE_ADS,
    TIKTOK_ADS,
    ZENDESK_TICKETS,
    GORGIAS_TICKETS,
    PURCHASING_SUPPLIERS,
    PURCHASING_SKU_SUPPLIERS,
    PURCHASING_PURCHASE_ORDERS,
    ANALYTICS_SESSIONS,
    ANALYTICS_PROMOTIONS,
    SHOPIFY_PAYMENT_TRANSACTIONS,
    SHIPSTATION_SHIPMENTS,
    APPROVALS,
)
SPECS_BY_TABLE = {s.table: s for s in SPECS}
