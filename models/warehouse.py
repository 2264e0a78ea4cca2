"""The customer models' inputs read from the warehouse marts (a DuckDB connection in,
polars frames out): what the churn asset scores and what benchmarks/churn.py measures on
a demo home, from one query so the two cannot drift apart."""

from __future__ import annotations

from datetime import date

import polars as pl


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
