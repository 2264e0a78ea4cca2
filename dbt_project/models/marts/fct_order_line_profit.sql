{#-
    One row per sold line (products and custom items) of the orders in fct_order_profit:
    the line's own net sales, cost of goods and contribution margin 1, and its share of
    the order's shipping revenue, labels, payment fees and fulfilment, for contribution
    margin 2 per line (per SKU, per product). The share is the line's part of the order's
    net sales; where the order kept no sales (a full refund, a cancellation) its part of
    the gross sales; where those are 0 too, an equal part. The lines of an order add up to
    the order's figures in fct_order_profit (to rounding at 4 decimals).
    A table, not incremental: a products export dated in the past changes the cost of
    goods of older orders, and every line is computed again from it.
-#}
with lines as (
    select * from {{ ref('int_order_lines_returned') }}
    where is_sales_line
),

profit as (
    select * from {{ ref('fct_order_profit') }}
),

valued as (
    select
        lines.order_line_id,
        lines.order_name,
        lines.sku,
        lines.line_name,
        lines.quantity,
        lines.units_returned,
        lines.cost_basis,
        case when profit.is_revenue
            then lines.gross_line_revenue - lines.allocated_discount - lines.returns
            else 0
        end as net_sales,
        case
            when not profit.is_revenue or lines.line_kind <> 'product' then 0
            else lines.line_cost - coalesce(lines.returned_cost, 0)
        end as cogs,
        lines.gross_line_revenue,
        profit.order_date,
        profit.channel,
        profit.customer_id,
        profit.currency_code,
        profit.is_revenue,
        profit.net_shipping_revenue,
        profit.shipping_cost,
        profit.payment_fees,
        profit.fulfilment_cost
    from lines
    inner join profit on profit.order_name = lines.order_name
),

shared as (
    select
        *,
        case
            when sum(net_sales) over (partition by order_name) <> 0
                then net_sales / sum(net_sales) over (partition by order_name)
            when sum(gross_line_revenue) over (partition by order_name) <> 0
                then gross_line_revenue / sum(gross_line_revenue) over (partition by order_name)
            else 1.0 / count(*) over (partition by order_name)
        end as order_share
    from valued
)

select
    order_line_id,
    order_name,
    order_date,
    channel,
    customer_id,
    currency_code,
    sku,
    line_name,
    quantity,
    units_returned,
    is_revenue,
    cost_basis,
    order_share,
    cast(round(net_sales, 4) as decimal(18, 4)) as net_sales,
    cast(round(cogs, 4) as decimal(18, 4)) as cogs,
    cast(round(net_sales - cogs, 4) as decimal(18, 4)) as contribution_margin_1,
    cast(round(net_shipping_revenue * order_share, 4) as decimal(18, 4)) as net_shipping_revenue,
    cast(round(shipping_cost * order_share, 4) as decimal(18, 4)) as shipping_cost,
    cast(round(payment_fees * order_share, 4) as decimal(18, 4)) as payment_fees,
    cast(round(fulfilment_cost * order_share, 4) as decimal(18, 4)) as fulfilment_cost,
    cast(round(net_sales - cogs + (net_shipping_revenue - shipping_cost - payment_fees
                                   - fulfilment_cost) * order_share, 4) as decimal(18, 4))
        as contribution_margin_2
from shared
