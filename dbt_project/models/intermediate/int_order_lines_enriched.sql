-- Order lines with product cost and each line's share of the order's discount and refund.
with lines as (
    select * from {{ ref('stg_shopify__order_lines') }}
),

products as (
    select sku, unit_cost from {{ ref('stg_shopify__products') }}
),

sku_costs as (
    -- Supplier cost where the purchasing files have it, else Shopify's Cost per item.
    select sku, min(unit_cost) as unit_cost
    from {{ ref('stg_purchasing__sku_suppliers') }}
    group by sku
),

orders as (
    select order_name, subtotal, discount_amount, refunded_amount, shipping, taxes, total
    from {{ ref('stg_shopify__orders') }}
),

line_values as (
    select
        lines.*,
        lines.quantity * lines.unit_price as gross_line_revenue,
        coalesce(sku_costs.unit_cost, products.unit_cost) as unit_cost
    from lines
    left join products on products.sku = lines.sku
    left join sku_costs on sku_costs.sku = lines.sku
),

with_shares as (
    select
        line_values.*,
        sum(gross_line_revenue) over (partition by line_values.order_name) as order_gross_lines
    from line_values
)

select
    with_shares.order_line_id,
    with_shares.order_name,
    with_shares.line_number,
    with_shares.sku,
    with_shares.line_name,
    with_shares.quantity,
    with_shares.unit_price,
    with_shares.gross_line_revenue,
    with_shares.unit_cost,
    with_shares.quantity * with_shares.unit_cost as line_cost,
    -- Order-level discounts and refunds are allocated to lines by their share of gross.
    case when with_shares.order_gross_lines > 0
        then orders.discount_amount * with_shares.gross_line_revenue / with_shares.order_gross_lines
        else 0
    end as allocated_discount,
    case when with_shares.order_gross_lines > 0
        then orders.refunded_amount * with_shares.gross_line_revenue / with_shares.order_gross_lines
        else 0
    end as allocated_refund,
    with_shares.line_fulfillment_status
from with_shares
left join orders on orders.order_name = with_shares.order_name
