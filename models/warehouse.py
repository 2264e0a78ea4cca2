"""The customer models' inputs read from the warehouse marts (a DuckDB connection in,
polars frames out): what the churn asset scores and what benchmarks/churn.py measures on
a demo home, from one query so the two cannot drift apart."""

from __future__ import annotations

from datetime import date

import polars as pl

from quality.warehouse import table_exists


def customer_inputs(con, as_of: date) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """`(orders, tickets, lines)` up to and including `as_of`, as `models.churn.score_customers`
    takes them (orders, tickets, order_lines), customers with an id only.

    con: a DuckDB connection to a built warehouse (read-only is enough).
    - orders (marts.fct_orders, revenue orders): order_id, customer_id, order_date,
      net_revenue, gross_revenue, refunds (Float64, store currency), has_discount, channel;
    - tickets (marts.fct_support_tickets): customer_id, created_date, category, is_satisfied;
    - lines (marts.fct_order_lines, revenue product lines): customer_id, order_id,
      order_date, sku, line_name.
    Frames may be empty (a store with no orders yet). Raises duckdb.CatalogException when
    one of the three marts does not exist.
    """
    orders = con.sql(
        """
        select order_id, customer_id, order_date, cast(net_revenue as double) as net_revenue,
               cast(gross_revenue as double) as gross_revenue, cast(refunds as double) as refunds,
               has_discount, channel
        from marts.fct_orders
        where is_revenue and customer_id is not null and order_date <= ?
        """, params=[as_of]).pl()
    tickets = con.sql(
        "select customer_id, created_date, category, is_satisfied from marts.fct_support_tickets "
        "where customer_id is not null and created_date <= ?", params=[as_of]).pl()
    lines = con.sql(
        "select customer_id, order_id, order_date, sku, line_name from marts.fct_order_lines "
        "where is_revenue and line_kind = 'product' and customer_id is not null "
        "and order_date <= ?", params=[as_of]).pl()
    return orders, tickets, lines


# Contact fields the audience files use, by where they are in the raw exports: the
# Shopify customers export (older exports without "Default Address", newer with it),
# then the customer's latest order's billing address. Names, phones and addresses are not
# carried into the marts (the email alone stays in marts.dim_customers); the audience
# files are the one output that needs them, so they are read here, only for the customers
# asked for.
_CUSTOMER_EXPORT_FIELDS = {
    "first_name": ("first_name",),
    "last_name": ("last_name",),
    "phone": ("phone", "default_address_phone"),
    "zip": ("zip", "default_address_zip"),
    "city": ("city", "default_address_city"),
    "state": ("province_code", "default_address_province_code", "province"),
    "country_code": ("country_code", "default_address_country_code"),
}
_ORDER_FIELDS = {
    "billing_name": ("billing_name",),
    "phone": ("billing_phone", "phone", "shipping_phone"),
    "zip": ("billing_zip",),
    "city": ("billing_city",),
    "state": ("billing_province",),
    "country_code": ("billing_country",),
}


def _columns(con, schema: str, table: str) -> set[str]:
    return {r[0] for r in con.execute(
        "select column_name from information_schema.columns where table_schema = ? "
        "and table_name = ?", [schema, table]).fetchall()}


def _pick(available: set[str], fields: dict[str, tuple[str, ...]]) -> str:
    """`coalesce(<the field's columns that exist>) as <field>`, null when none does."""
    parts = []
    for field, candidates in fields.items():
        present = [f"nullif(trim(cast({c} as varchar)), '')" for c in candidates if c in available]
        value = (f"coalesce({', '.join(present)})" if len(present) > 1
                 else present[0] if present else "cast(null as varchar)")
        parts.append(f"{value} as {field}")
    return ", ".join(parts)


def audience_contacts(con, customer_ids: list[str] | None = None) -> pl.DataFrame:
    """One row per customer of marts.dim_customers (those in `customer_ids` when given):
    customer_id, email, phone, first_name, last_name, zip, city, state, country_code,
    accepts_email_marketing, as `models.audiences` takes them (plain: warehouse only).

    Email, consent and country from dim_customers; names, phone and address from the
    newest Shopify customers export row of the email (newest file first), else from the
    customer's latest order's billing address (Billing Name split at its first space).
    Columns an export lacks are null. Raises duckdb.CatalogException without dim_customers.
    """
    where, params = "", []
    if customer_ids is not None:
        where, params = "where customer_id in (select unnest(?::varchar[]))", [list(customer_ids)]
    base = con.sql(
        "select customer_id, email, accepts_email_marketing, "
        f"country_code as dim_country_code from marts.dim_customers {where}",
        params=params).pl()
    export = pl.DataFrame(schema={"customer_id": pl.String})
    if table_exists(con, "raw", "shopify_customers"):
        available = _columns(con, "raw", "shopify_customers")
        export = con.sql(
            f"""
            select md5(lower(trim(email))) as customer_id, {_pick(available, _CUSTOMER_EXPORT_FIELDS)}
            from raw.shopify_customers
            where email is not null and md5(lower(trim(email))) in (select unnest(?::varchar[]))
            qualify row_number() over (partition by lower(trim(email))
                                       order by _loaded_at desc, _source_file desc, _source_row desc) = 1
            """, params=[base["customer_id"].to_list()]).pl()
    orders = pl.DataFrame(schema={"customer_id": pl.String})
    if table_exists(con, "raw", "shopify_orders"):
        available = _columns(con, "raw", "shopify_orders")
        # Shopify puts the order's email and addresses on its first line item row only.
        orders = con.sql(
            f"""
            select md5(lower(trim(email))) as customer_id, {_pick(available, _ORDER_FIELDS)}
            from raw.shopify_orders
            where email is not null and md5(lower(trim(email))) in (select unnest(?::varchar[]))
            qualify row_number() over (partition by lower(trim(email))
                                       order by created_at desc nulls last, _loaded_at desc,
                                                _source_file desc, _source_row desc) = 1
            """, params=[base["customer_id"].to_list()]).pl()
        orders = orders.with_columns(
            pl.col("billing_name").str.split_exact(" ", 1).struct.field("field_0").alias("first_name"),
            pl.col("billing_name").str.split_exact(" ", 1).struct.field("field_1").alias("last_name"),
        ).drop("billing_name")
    fields = ("first_name", "last_name", "phone", "zip", "city", "state", "country_code")
    joined = base
    for source, suffix in ((export, "_export"), (orders, "_order")):
        present = [f for f in fields if f in source.columns]
        joined = joined.join(source.select("customer_id", *present).rename(
            {f: f + suffix for f in present}), on="customer_id", how="left", maintain_order="left")
    # The address's fields come from one source together (a zip with another place's city
    # would match nobody): the export's when it has a zip or city, else the order's.
    has_export_address = pl.lit(False)
    for f in ("zip_export", "city_export"):
        if f in joined.columns:
            has_export_address = has_export_address | pl.col(f).is_not_null()

    def field(name: str, *, address: bool = False) -> pl.Expr:
        export_col, order_col = pl.col(f"{name}_export"), pl.col(f"{name}_order")
        if f"{name}_export" not in joined.columns:
            export_col = pl.lit(None, dtype=pl.String)
        if f"{name}_order" not in joined.columns:
            order_col = pl.lit(None, dtype=pl.String)
        if address:
            return pl.when(has_export_address).then(export_col).otherwise(order_col).alias(name)
        return pl.coalesce(export_col, order_col).alias(name)

    return joined.select(
        "customer_id", "email", field("phone"), field("first_name"), field("last_name"),
        field("zip", address=True), field("city", address=True), field("state", address=True),
        pl.coalesce(pl.col("dim_country_code"), field("country_code", address=True))
        .alias("country_code"),
        "accepts_email_marketing")


def store_country(con) -> str | None:
    """The store's home country, for phones and addresses written without one: the most
    common country code of its customers (marts.dim_customers), ties to the first in
    alphabetical order; None when no customer has one."""
    row = con.execute(
        "select lower(country_code) from marts.dim_customers where country_code is not null "
        "group by 1 order by count(*) desc, 1 limit 1").fetchall()
    return row[0][0] if row else None


def budget_inputs(con, as_of: date) -> tuple[pl.DataFrame, dict[str, float] | None, str]:
    """`(daily, value_per_customer, value_basis)` for `models.budget`, up to `as_of`.

    con: a DuckDB connection to a built warehouse (read-only is enough).
    - daily: one row per date x paid channel (a channel with spend on any day of
      marts.fct_channel_daily): date, channel, spend (Float64, store currency per day),
      new_customers (store-attributed first orders), unpaid_new_customers (new
      customers of that date from every channel without spend) and returning_orders
      (revenue orders of returning customers that date, marts.fct_orders).
    - value_per_customer: per paid channel, the mean contribution margin 2 of its new
      customers' orders in their first 90 days (marts.fct_order_profit, dim_customers),
      over the customers acquired 90 to 455 days before as_of whose orders all have a
      CM2; when fewer than 30 such customers (or no profit mart), their net sales in 90
      days instead, and None when there are none either.
    - value_basis: 'CM2 in the first 90 days' or 'net sales in the first 90 days' or
      'new customers'.
    Raises duckdb.CatalogException when marts.fct_channel_daily or fct_orders is missing.
    """
    daily = con.sql(
        """
        with channel_days as (
            select channel_date as date, channel, cast(spend as double) as spend,
                   new_customers
            from marts.fct_channel_daily where channel_date <= $as_of
        ),
        paid as (select channel from channel_days group by 1 having sum(spend) > 0),
        unpaid as (
            select date, cast(sum(new_customers) as bigint) as unpaid_new_customers
            from channel_days
            where channel not in (select channel from paid) group by 1
        ),
        returning_days as (
            select order_date as date, count(*) as returning_orders from marts.fct_orders
            where is_revenue and not is_first_order and order_date <= $as_of group by 1
        )
        select d.date, d.channel, coalesce(d.spend, 0) as spend,
               coalesce(d.new_customers, 0) as new_customers,
               coalesce(u.unpaid_new_customers, 0) as unpaid_new_customers,
               coalesce(r.returning_orders, 0) as returning_orders
        from channel_days as d
        left join unpaid as u using (date)
        left join returning_days as r using (date)
        where d.channel in (select channel from paid)
        order by d.date, d.channel
        """,
        params={"as_of": as_of},
    ).pl()
    has_profit = table_exists(con, "marts", "fct_order_profit")
    margin = "p.contribution_margin_2" if has_profit else "null"
    join = ("left join marts.fct_order_profit as p on p.order_id = o.order_id"
            if has_profit else "")
    values = con.sql(
        f"""
        with cohort as (
            select customer_id, acquisition_channel as channel, first_order_date
            from marts.dim_customers
            where first_order_date between $as_of - interval 455 day
                                       and $as_of - interval 90 day
        ),
        per_customer as (
            select c.customer_id, c.channel,
                   sum(cast({margin} as double)) as cm2,
                   bool_and({margin} is not null) as cm2_known,
                   sum(cast(o.net_revenue as double)) as net_sales
            from cohort as c
            inner join marts.fct_orders as o
              on o.customer_id = c.customer_id and o.is_revenue
             and o.order_date between c.first_order_date
                                  and c.first_order_date + interval 89 day
            {join}
            group by 1, 2
        )
        select channel,
               avg(cm2) filter (where cm2_known) as cm2_90d,
               count(*) filter (where cm2_known) as cm2_customers,
               avg(net_sales) as net_sales_90d, count(*) as customers
        from per_customer group by 1
        """,
        params={"as_of": as_of},
    ).pl()
    paid = set(daily["channel"].unique().to_list())
    values = values.filter(pl.col("channel").is_in(sorted(paid)))
    if values.height and (values["cm2_customers"] >= 30).all() and values.height == len(paid):
        return daily, dict(zip(values["channel"], values["cm2_90d"], strict=True)), \
            "CM2 in the first 90 days"
    if values.height == len(paid) and values.height:
        return daily, dict(zip(values["channel"], values["net_sales_90d"], strict=True)), \
            "net sales in the first 90 days"
    return daily, None, "new customers"
