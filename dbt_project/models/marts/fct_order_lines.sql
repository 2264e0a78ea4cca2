with lines as (
    select * from {{ ref('int_order_lines_enriched') }}
),

orders as (
    select order_name, order_id, customer_id, order_date, created_at, channel, currency_code,
           is_revenue, is_first_order
    from {{ ref('fct_orders') }}
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
    orders.is_first_order
from lines
inner join orders on orders.order_name = lines.order_name
