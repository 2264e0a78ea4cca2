"""The data contract as Great Expectations suites: one per raw table, one per mart that a
decision reads.

A suite is data (no GX import here): which rows to read (SQL on the warehouse), and a
list of rules, each a GX expectation with a sentence a person understands and a
tolerance that says when a failure blocks decisions:

- `block_above=0.0`: any failing row blocks (schema, keys, currencies, lead times).
- `block_above=0.01`: up to 1% of rows may break the rule as a warning (a few bad rows
  are named in the quality report and the brief); more than that means something is
  systematically wrong (a unit change, a shifted column) and blocks.
- `block_above=None`: never blocks, always a warning (data people should look at).

Raw suites read the rows staging uses: per natural key the row of the newest file (the
`newest_file_wins` dbt macro), so a corrected re-export that replaces a bad row clears
the failure, and an old bad row that is already superseded does not block forever.
Dates must lie inside the export window: not before the setting export_window_start
(storeops.yml; default 1995-01-01, so imported history loads), passed in as
`window_start`, and not after the day the file was loaded (a future date is a clock or
format error). Mart suites read the whole mart: unique keys, referential integrity,
non-negative stock and KPI ranges.
"""

from __future__ import annotations

from dataclasses import dataclass

from quality.specs import DEFAULT_EXPORT_WINDOW_START, SPECS, SourceSpec

# The export window's lower bound when none is passed: the setting's default.
EARLIEST = DEFAULT_EXPORT_WINDOW_START.isoformat()
# Sane bounds: a line price above 100,000 or an order total above 1,000,000 in a
# $5M-a-year store is a shifted column or a unit error, not a sale.
MAX_PRICE = 100_000
MAX_ORDER_TOTAL = 1_000_000
MAX_DAILY_SPEND = 1_000_000
ROW_TOLERANCE = 0.01

# pandas dtypes DuckDB hands over per contract kind (integers with nulls arrive as float).
DTYPES = {
    "text": ["object", "str", "string"],
    "int": ["int64", "Int64", "int32", "float64"],
    "money": ["float64", "int64", "object"],  # DECIMAL -> float64
    "number": ["float64", "int64"],
    "percent": ["float64", "int64"],
    "date": ["datetime64[us]", "datetime64[ns]", "datetime64[ms]", "datetime64[s]", "object"],
    "timestamp_tz": ["datetime64[us]", "datetime64[ns]", "datetime64[ms]", "datetime64[s]"],
    "timestamp_local": ["datetime64[us]", "datetime64[ns]", "datetime64[ms]", "datetime64[s]"],
    "bool": ["bool", "boolean", "object"],
}


@dataclass(frozen=True)
class Rule:
    """One rule of a suite: a GX expectation (class name and kwargs), the sentence a
    person reads, and its tolerance: block_above is the share of rows (0.0-1.0) that may
    break it as a warning before it blocks; None never blocks."""

    expectation: str  # GX expectation class name
    kwargs: dict
    why: str  # the rule in words: "quantity is at least 0"
    block_above: float | None = 0.0
    column: str | None = None  # the column a person should look at

    @property
    def blocking(self) -> bool:
        """Whether a failure beyond the tolerance blocks (False: always a warning)."""
        return self.block_above is not None

    def reads(self) -> list[str]:
        """The columns the expectation reads (column, column_A, column_B, column_list)."""
        named = [self.kwargs.get(k) for k in ("column", "column_A", "column_B")]
        return [c for c in (*named, *self.kwargs.get("column_list", [])) if c]


@dataclass(frozen=True)
class Suite:
    """The rules of one raw table or mart, the rows they read, and what a failure stops
    and where a person looks."""

    name: str  # "raw.shopify_orders"
    asset_key: tuple[str, ...]  # ("raw", "shopify_orders")
    rules: tuple[Rule, ...]
    locate_by: tuple[str, ...]  # columns naming a failing row (file and row for raw tables)
    what_depends: str = ""  # whose decisions stop when it blocks
    where_to_look: str = ""
    sql: str = ""  # marts: the rows to validate
    spec: SourceSpec | None = None  # raw tables: the SQL is built from the table's columns
    window_start: str = EARLIEST  # raw tables: export_window_start (ISO date)

    def query(self, present: set[str] | None = None) -> str:
        """The rows to validate; for a raw table reading only the columns it has (a
        missing one is a failed rule, not a database error)."""
        if self.spec is None:
            return self.sql
        return _effective_rows_sql(self.spec, [c for c in self.columns()
                                               if present is None or c in present],
                                   window_start=self.window_start)

    def columns(self) -> list[str]:
        """The raw table's columns the rules name, in rule order, once each (empty for
        a mart suite)."""
        known = {c.name for c in self.spec.columns} if self.spec else set()
        out: list[str] = []
        for rule in self.rules:
            for col in rule.reads():
                if col in known and col not in out:
                    out.append(col)
        return out


# --- rule builders ---------------------------------------------------------------

def exists(col: str) -> Rule:
    """The column is present; its absence blocks."""
    return Rule("ExpectColumnToExist", {"column": col}, f"column {col} is present", 0.0, col)


def typed(col: str, kind: str) -> Rule:
    """The column's pandas dtype fits a contract kind (a key of DTYPES: "int", "money",
    "date", ...); a mismatch blocks. Raises KeyError for an unknown kind."""
    return Rule("ExpectColumnValuesToBeInTypeList", {"column": col, "type_list": DTYPES[kind]},
                f"{col} is a {kind} column", 0.0, col)


def not_null(col: str, block_above: float | None = 0.0) -> Rule:
    """The column has no empty values; by default any empty value blocks."""
    return Rule("ExpectColumnValuesToNotBeNull", {"column": col}, f"{col} is not empty",
                block_above, col)


def between(col: str, lo=None, hi=None, block_above: float | None = ROW_TOLERANCE,
            why: str | None = None) -> Rule:
    """Values of the column lie in [lo, hi], both inclusive; a bound left None is open.
    Empty values are not checked. Without `why` the sentence is made from the bounds. At
    least one bound is expected."""
    kwargs: dict = {"column": col}
    if lo is not None:
        kwargs["min_value"] = lo
    if hi is not None:
        kwargs["max_value"] = hi
    if why is None:
        if lo is not None and hi is not None:
            why = f"{col} is between {lo} and {hi}"
        elif lo is not None:
            why = f"{col} is at least {lo}"
        else:
            why = f"{col} is at most {hi}"
    return Rule("ExpectColumnValuesToBeBetween", kwargs, why, block_above, col)


def in_set(col: str, values, block_above: float | None = ROW_TOLERANCE,
           why: str | None = None) -> Rule:
    """Values of the column are among `values` (sorted in the rule, so of one comparable
    type: TypeError otherwise); empty values are not checked."""
    values = sorted(values)
    return Rule("ExpectColumnValuesToBeInSet", {"column": col, "value_set": values},
                why or f"{col} is one of {', '.join(map(str, values))}", block_above, col)


def matches(col: str, regex: str, why: str, block_above: float | None = ROW_TOLERANCE) -> Rule:
    """Values of the column match the regular expression; empty values are not checked."""
    return Rule("ExpectColumnValuesToMatchRegex", {"column": col, "regex": regex}, why,
                block_above, col)


def not_before(later: str, earlier: str, block_above: float | None = ROW_TOLERANCE,
               why: str | None = None, column: str | None = None) -> Rule:
    """later >= earlier where both are present."""
    return Rule("ExpectColumnPairValuesAToBeGreaterThanB",
                {"column_A": later, "column_B": earlier, "or_equal": True,
                 "ignore_row_if": "either_value_is_missing"},
                why or f"{later} is not before {earlier}", block_above, column or later)


def unique(*cols: str) -> Rule:
    """No value (one column) or combination of values (several) appears twice; any
    repeat blocks. A failure points at the first column."""
    if len(cols) == 1:
        return Rule("ExpectColumnValuesToBeUnique", {"column": cols[0]},
                    f"{cols[0]} is unique", 0.0, cols[0])
    return Rule("ExpectCompoundColumnsToBeUnique", {"column_list": list(cols)},
                f"({', '.join(cols)}) is unique", 0.0, cols[0])


def in_window(col: str, block_above: float | None = 0.0, *,
              window_start: str = EARLIEST) -> list[Rule]:
    """Inside the export window: not before window_start (the setting
    export_window_start), not after the day the file was loaded. The loader quarantines
    rows outside it (one future date would move the default as-of date of every output),
    so any such row in raw is a loader bug or an old load: block."""
    return [
        not_before(col, "_earliest_possible", block_above,
                   why=f"{col} is not before export_window_start ({window_start})"),
        not_before("_latest_possible", col, block_above, column=col,
                   why=f"{col} is not in the future (not after the day its file was loaded)"),
    ]


# --- raw tables --------------------------------------------------------------------

def _contract_rules(spec: SourceSpec) -> list[Rule]:
    """Required columns, their types, and the columns the loader guarantees non-empty."""
    rules: list[Rule] = []
    for col in spec.columns:
        if col.required:
            rules.append(exists(col.name))
    for col in spec.columns:
        if col.required:
            rules.append(typed(col.name, col.kind))
    for col in spec.columns:
        if col.not_null and col.name not in spec.first_row_only:
            rules.append(not_null(col.name))
    return rules


def _store_currency(col: str, currency: str) -> Rule:
    return in_set(col, [currency], 0.0,
                  why=f"{col} is the store currency {currency} (storeops does not convert "
                      "currencies: mixed amounts would be summed)")


def _raw_rules(table: str, currency: str, window_start: str = EARLIEST) -> list[Rule]:
    r = {
        "shopify_orders": [
            _store_currency("currency", currency),
            between("lineitem_quantity", 0, 10_000,
                    why="line quantity is between 0 and 10,000 (refunds are amounts, not "
                        "negative quantities, in Shopify's export)"),
            between("lineitem_price", 0, MAX_PRICE),
            between("total", 0, MAX_ORDER_TOTAL),
            between("discount_amount", 0, None),
            between("refunded_amount", 0, None),
            not_before("total", "refunded_amount", None,
                       why="refunded amount is not more than the order total"),
            in_set("financial_status", ["pending", "authorized", "partially_paid", "paid",
                                        "partially_refunded", "refunded", "voided", "expired"]),
            in_set("fulfillment_status", ["fulfilled", "unfulfilled", "partial", "restocked",
                                          "scheduled", "on_hold"]),
            *in_window("created_at", window_start=window_start),
        ],
        "shopify_products": [
            not_null("variant_sku", None),
            between("variant_price", 0, MAX_PRICE),
            between("cost_per_item", 0, MAX_PRICE),
            not_before("variant_price", "cost_per_item", None,
                       why="unit cost is not above the price (a loss-making SKU, or a cost "
                           "in another unit)"),
            in_set("status", ["active", "draft", "archived"]),
            *in_window("as_of", window_start=window_start),
        ],
        "shopify_inventory": [
            between("on_hand", 0, None, why="on hand is not negative"),
            between("committed", 0, None),
            between("incoming", 0, None),
            between("unavailable", 0, None),
            *in_window("as_of", window_start=window_start),
        ],
        "shopify_customers": [
            not_null("email", None),
            between("total_spent", 0, None),
            between("total_orders", 0, None),
        ],
        "meta_ads": [
            _store_currency("currency", currency),
            between("amount_spent", 0, MAX_DAILY_SPEND),
            between("impressions", 0, None),
            between("link_clicks", 0, None),
            not_before("impressions", "link_clicks", None,
                       why="link clicks are not more than impressions"),
            not_before("reporting_ends", "reporting_starts"),
            *in_window("reporting_starts", window_start=window_start),
        ],
        "google_ads": [
            _store_currency("currency_code", currency),
            between("cost", 0, MAX_DAILY_SPEND),
            between("impressions", 0, None),
            between("clicks", 0, None),
            not_before("impressions", "clicks", None,
                       why="clicks are not more than impressions"),
            *in_window("day", window_start=window_start),
        ],
        "tiktok_ads": [
            _store_currency("currency", currency),
            between("cost", 0, MAX_DAILY_SPEND),
            between("impressions", 0, None),
            between("clicks_destination", 0, None),
            *in_window("by_day", window_start=window_start),
        ],
        "zendesk_tickets": [
            in_set("status", ["new", "open", "pending", "hold", "solved", "closed", "deleted"],
                   why="status is a Zendesk status (new, open, pending, hold, solved, closed)"),
            between("first_reply_time_in_minutes", 0, None),
            between("full_resolution_time_in_minutes", 0, None),
            not_before("solved_at", "created_at", None),
            *in_window("created_at", window_start=window_start),
        ],
        "gorgias_tickets": [
            in_set("status", ["open", "closed", "snoozed"]),
            between("satisfaction_survey_score", 1, 5),
            not_before("closed_datetime", "created_datetime", None),
            *in_window("created_datetime", window_start=window_start),
        ],
        "purchasing_suppliers": [
            between("lead_time_days", 0, 365, 0.0,
                    why="lead time is between 0 and 365 days (it sets every reorder point)"),
            between("lead_time_std_days", 0, 365, 0.0),
            between("moq_units", 0, None, 0.0),
            between("case_pack", 1, None, 0.0),
            between("order_cycle_days", 1, 365, 0.0),
            matches("currency", r"^[A-Z]{3}$", "currency is a three-letter ISO code", 0.0),
        ],
        "purchasing_sku_suppliers": [
            between("unit_cost", 0, MAX_PRICE, 0.0),
            between("moq_units", 0, None, 0.0),
            between("case_pack", 1, None, 0.0),
        ],
        "purchasing_purchase_orders": [
            between("qty_ordered", 0, None),
            between("qty_received", 0, None),
            in_set("status", ["draft", "open", "partial", "partially_received", "received",
                              "closed", "cancelled"]),
            not_before("expected_at", "ordered_at"),
            not_before("received_at", "ordered_at"),
            *in_window("ordered_at", window_start=window_start),
        ],
        "analytics_sessions": [
            between("sessions", 0, None),
            *in_window("date", window_start=window_start),
        ],
        "analytics_promotions": [
            not_before("ends_on", "starts_on", 0.0),
            between("expected_uplift", -1, 10, 0.0,
                    why="expected uplift is between -1 and 10 (a share: 0.3 = +30%)"),
        ],
        "shopify_payment_transactions": [
            between("fee", 0, None, why="a fee is not negative (Shopify keeps its fee on "
                    "refunds; a negative fee is a credit, booked as an adjustment)"),
            matches("currency", r"^[A-Z]{3}$", "currency is a three-letter ISO code"),
            *in_window("transaction_date", window_start=window_start),
        ],
        "shipstation_shipments": [
            between("shipment_cost", 0, MAX_PRICE, why="a label costs between 0 and "
                    f"{MAX_PRICE:,}"),
            between("insurance_cost", 0, MAX_PRICE),
            between("weight", 0, None, why="weight is not negative"),
            *in_window("ship_date", window_start=window_start),
        ],
        "approvals_reorder_lines": [
            between("approved_qty", 0, None, 0.0,
                    why="approved quantity is not negative (a buyer's typo would cancel stock)"),
        ],
    }
    return r.get(table, [])


RAW_DEPENDS = {
    "purchasing_suppliers": "reorder suggestions and buyer files",
    "purchasing_sku_suppliers": "reorder suggestions and buyer files",
    "purchasing_purchase_orders": "stock on order, reorder suggestions",
    "shopify_inventory": "stock positions, reorder suggestions",
    "approvals_reorder_lines": "approved purchase orders",
    "shopify_payment_transactions": "payment fees, contribution margin 2, payout reconciliation",
    "shipstation_shipments": "shipping costs, contribution margin 2",
}


def _effective_rows_sql(spec: SourceSpec, columns: list[str], *,
                        window_start: str = EARLIEST) -> str:
    """The rows staging uses: per natural key, those of the newest file (data reaching the
    latest date, then loaded last), as the dbt macro newest_file_wins decides."""
    key = [spec.group_by] if spec.group_by else [k for k in spec.natural_key
                                                  if not k.startswith("_")]
    if any(k.startswith("_") for k in spec.natural_key) and not spec.group_by:
        key = []  # keyed per file (approvals): every row counts
    select = ", ".join(f'src."{c}"' for c in columns)
    base = f"""
        select {select}, src._source_file, src._source_row,
               src._loaded_at + interval 1 day as _latest_possible,
               timestamp '{window_start}' as _earliest_possible
        from raw.{spec.table} as src
        left join raw.load_log as files
          on files.file_sha256 = src._file_sha256 and files.status = 'loaded'
    """
    if not key:
        return base
    partition = ", ".join(f'src."{k}"' for k in key)
    rank = "dense_rank" if spec.group_by else "row_number"
    return base + f"""
        qualify {rank}() over (
            partition by {partition}
            order by files.max_date desc nulls last, src._loaded_at desc,
                     src._source_file desc{"" if spec.group_by else ", src._source_row desc"}
        ) = 1
    """


def raw_suite(spec: SourceSpec, currency: str, window_start: str = EARLIEST) -> Suite:
    """window_start: the setting export_window_start (ISO date), the window's lower bound."""
    rules = [*_contract_rules(spec), *_raw_rules(spec.table, currency, window_start)]
    return Suite(
        name=f"raw.{spec.table}",
        asset_key=("raw", spec.table),
        rules=tuple(rules),
        locate_by=("_source_file", "_source_row"),
        what_depends=RAW_DEPENDS.get(spec.table, "the warehouse build and everything after it"),
        where_to_look=f"landing/{spec.folder}/ (the file and row named), then re-export "
                      "the corrected file: the newest file wins",
        spec=spec,
        window_start=window_start,
    )


def raw_suites(currency: str, window_start: str = EARLIEST) -> list[Suite]:
    """One suite per raw table of SPECS, in that order. currency: the store currency
    (ISO code); window_start: the setting export_window_start (ISO date)."""
    return [raw_suite(spec, currency, window_start) for spec in SPECS]


# --- marts -------------------------------------------------------------------------

def _ref(child: str, parent_table: str, parent_col: str, block_above: float | None) -> Rule:
    return Rule("ExpectColumnValuesToNotBeNull", {"column": f"_{child}_in_{parent_table}"},
                f"every {child} is in {parent_table}.{parent_col}", block_above, child)


def _ref_sql(table: str, cols: list[str], refs: list[tuple[str, str, str]]) -> str:
    """The mart's columns plus, per reference, the parent key or null where the child
    value has no parent (children with a null key count as found)."""
    select = [f"t.{c}" for c in cols]
    joins = []
    for i, (child, parent_table, parent_col) in enumerate(refs):
        alias = f"p{i}"
        select.append(f"case when t.{child} is null then 'null key' else {alias}.{parent_col} "
                      f"end as _{child}_in_{parent_table}")
        joins.append(f"left join (select distinct {parent_col} from marts.{parent_table}) "
                     f"as {alias} on {alias}.{parent_col} = t.{child}")
    return f"select {', '.join(select)} from marts.{table} as t {' '.join(joins)}"


REORDER = "reorder suggestions and buyer files"
BRIEFS = "briefings, dashboards and anomaly alerts"


def mart_suites(currency: str) -> list[Suite]:
    """One suite per mart a decision reads (stock and reorders; orders, customers, KPIs,
    marketing and support for the briefs): keys unique, references found, stock and
    money non-negative, rates in range. currency: the store currency (ISO code) that
    fct_orders and fct_marketing_daily must carry."""

    def suite(table, cols, rules, depends, locate, refs=()):
        return Suite(
            name=f"marts.{table}",
            asset_key=("marts", table),
            sql=_ref_sql(table, cols, list(refs)),
            rules=tuple(rules),
            locate_by=tuple(locate),
            what_depends=depends,
            where_to_look=f"marts.{table} in the warehouse, then the dbt model "
                          f"dbt_project/models/marts/{table}.sql and the raw rows it reads",
        )

    return [
        suite("fct_inventory_position",
              ["sku", "on_hand", "on_order", "committed", "inventory_position"],
              [not_null("sku"), unique("sku"),
               between("on_hand", 0, None, why="stock on hand is not negative"),
               between("on_order", 0, None, 0.0, why="stock on order is not negative"),
               between("committed", 0, None), not_null("inventory_position")],
              REORDER, ["sku"]),
        suite("dim_products",
              ["sku", "price", "unit_cost", "lead_time_days", "case_pack", "moq_units"],
              [not_null("sku"), unique("sku"), between("price", 0, MAX_PRICE),
               between("unit_cost", 0, MAX_PRICE), between("lead_time_days", 0, 365, 0.0),
               between("case_pack", 1, None, 0.0), between("moq_units", 0, None, 0.0)],
              REORDER, ["sku"]),
        suite("fct_sku_demand_daily",
              ["sku", "demand_date", "units", "on_hand_end_of_day", "sku_day_id"],
              [unique("sku_day_id"), not_null("sku"), not_null("demand_date"),
               between("units", 0, None, why="units sold are not negative"),
               _ref("sku", "dim_products", "sku", 0.0)],
              REORDER, ["sku", "demand_date"],
              refs=[("sku", "dim_products", "sku")]),
        suite("fct_purchase_orders",
              ["po_line_id", "sku", "supplier_id", "qty_ordered", "qty_open"],
              [unique("po_line_id"), between("qty_ordered", 0, None, 0.0),
               between("qty_open", 0, None, 0.0),
               _ref("sku", "dim_products", "sku", ROW_TOLERANCE)],
              REORDER, ["po_line_id"],
              refs=[("sku", "dim_products", "sku")]),
        suite("fct_orders",
              ["order_id", "customer_id", "currency_code", "gross_revenue", "units",
               "net_revenue", "reconciliation_difference",
               # the order's first row in its export, so a failure names file and row
               "source_file as _source_file", "source_row as _source_row"],
              [not_null("order_id"), unique("order_id"),
               _store_currency("currency_code", currency),
               between("gross_revenue", 0, MAX_ORDER_TOTAL), between("units", 0, None),
               # A refund takes back at most what was sold: its shipping and tax parts
               # are not returns (Shopify's sales report).
               between("net_revenue", 0, None, 0.0,
                       why="an order's net sales are not negative"),
               between("reconciliation_difference", -0.005, 0.005, None,
                       why="net sales + shipping + taxes + tips + gift cards (less their "
                           "refunded parts) equal the order's Total less Refunded Amount, to "
                           "the cent"),
               _ref("customer_id", "dim_customers", "customer_id", 0.0)],
              BRIEFS, ["order_id", "_source_file", "_source_row"],
              refs=[("customer_id", "dim_customers", "customer_id")]),
        suite("fct_order_lines",
              ["order_line_id", "order_id", "sku", "quantity", "sku_as_exported",
               "source_file as _source_file", "source_row as _source_row"],
              [unique("order_line_id"), between("quantity", 0, None),
               _ref("order_id", "fct_orders", "order_id", 0.0),
               _ref("sku", "dim_products", "sku", None),
               Rule("ExpectColumnPairValuesToBeEqual",
                    {"column_A": "sku_as_exported", "column_B": "sku",
                     "ignore_row_if": "either_value_is_missing"},
                    "the export's SKU is the product's SKU (a spreadsheet that opened the "
                    "file dropped leading zeros: '123' for '00123'; storeops matched the "
                    "product; export again and load the file as downloaded)",
                    None, "sku_as_exported")],
              BRIEFS, ["order_line_id", "_source_file", "_source_row"],
              refs=[("order_id", "fct_orders", "order_id"), ("sku", "dim_products", "sku")]),
        suite("dim_customers",
              ["customer_id", "orders", "first_order_date", "last_order_date"],
              [not_null("customer_id"), unique("customer_id"), between("orders", 0, None, 0.0),
               not_before("last_order_date", "first_order_date", 0.0)],
              BRIEFS, ["customer_id"]),
        suite("fct_daily_kpis",
              ["kpi_date", "orders", "revenue", "average_order_value", "conversion_rate", "ad_spend", "cac",
               "roas", "mer", "return_rate", "csat", "gross_margin_rate", "tickets"],
              [not_null("kpi_date"), unique("kpi_date"), between("orders", 0, None, 0.0),
               # Net sales lose only the goods a refund takes back (its shipping and tax
               # are not returns), so a day's revenue and AOV are never negative.
               between("revenue", 0, None, 0.0, why="a day's net sales are not negative"),
               between("average_order_value", 0, MAX_ORDER_TOTAL, 0.0),
               between("conversion_rate", 0, 1, 0.0,
                       why="conversion rate is between 0 and 1 (more orders than sessions "
                           "means sessions are missing or double counted)"),
               between("ad_spend", 0, None, 0.0), between("cac", 0, None, 0.0),
               between("return_rate", 0, 1, 0.0), between("csat", 0, 1, 0.0),
               between("gross_margin_rate", -1, 1, None,
                       why="gross margin rate is between -100% and 100%"),
               between("tickets", 0, None, 0.0)],
              BRIEFS, ["kpi_date"]),
        suite("fct_marketing_daily",
              ["marketing_day_id", "currency_code", "spend", "impressions", "clicks"],
              [unique("marketing_day_id"), _store_currency("currency_code", currency),
               between("spend", 0, MAX_DAILY_SPEND, 0.0),
               not_before("impressions", "clicks", None,
                          why="clicks are not more than impressions")],
              BRIEFS, ["marketing_day_id"]),
        suite("fct_support_tickets",
              ["ticket_id", "first_reply_minutes", "full_resolution_minutes"],
              [unique("ticket_id"), between("first_reply_minutes", 0, None),
               between("full_resolution_minutes", 0, None)],
              BRIEFS, ["ticket_id"]),
    ]


def all_suites(currency: str, window_start: str = EARLIEST) -> list[Suite]:
    """window_start: the setting export_window_start (StoreResource.export_window_start)."""
    return [*raw_suites(currency, window_start), *mart_suites(currency)]
