{#-
    Incremental: each build deletes and re-writes all lines of every customer with an
    order loaded since the last build (a new export can add orders, refunds, edited
    lines, or an earlier first order), so a full refresh gives the same table.
-#}
{{ config(materialized='incremental', unique_key='_customer_key', incremental_strategy='delete+insert') }}

with lines as (
    select * from {{ ref('int_order_lines_enriched') }}
),

orders as (
    select order_name, order_id, customer_id, order_date, created_at, channel, currency_code,
           is_revenue, is_first_order, _loaded_at
    from {{ ref('fct_orders') }}
    {% if is_incremental() %}
    where coalesce(customer_id, order_name) in (
        select coalesce(customer_id, order_name) from {{ ref('fct_orders') }}
        where _loaded_at > (select coalesce(max(existing._loaded_at), timestamp '1900-01-01') from {{ this }} as existing)
    )
    {% endif %}
)

select
    lines.order_line_id,
    orders.order_id,
    lines.order_name,
    lines.line_number,
    orders.customer_id,
    orders.order_date,
    orders.created_at,
    orders.channel,
    orders.currency_code,
    lines.sku,
    lines.line_name,
    lines.quantity,
    lines.unit_price,
    lines.gross_line_revenue as gross_revenue,
    lines.allocated_discount as discounts,
    lines.allocated_refund as refunds,
    case when orders.is_revenue
        then lines.gross_line_revenue - lines.allocated_discount - lines.allocated_refund
        else 0
    end as net_revenue,
    lines.unit_cost,
    lines.line_cost,
    lines.allocated_refund > 0 as is_refunded,
    orders.is_revenue,
    orders.is_first_order,
    orders._loaded_at,
    coalesce(orders.customer_id, orders.order_name) as _customer_key
from lines
inner join orders on orders.order_name = lines.order_name
