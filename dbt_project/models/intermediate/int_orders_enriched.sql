-- Orders with line totals, cost, channel, customer and their place in the customer's history.
with orders as (
    select * from {{ ref('stg_shopify__orders') }}
),

line_totals as (
    select
        order_name,
        count(*) as line_count,
        sum(quantity) as units,
        sum(gross_line_revenue) as gross_revenue,
        sum(line_cost) as product_cost,
        bool_and(unit_cost is not null) as has_full_cost
    from {{ ref('int_order_lines_enriched') }}
    group by order_name
),

joined as (
    select
        orders.*,
        {{ hash_email('orders.email_normalised') }} as customer_id,
        {{ order_channel('orders.utm_source', 'orders.source_name', 'orders.discount_code') }} as channel,
        coalesce(line_totals.line_count, 0) as line_count,
        coalesce(line_totals.units, 0) as units,
        coalesce(line_totals.gross_revenue, 0) as gross_revenue,
        line_totals.product_cost,
        coalesce(line_totals.has_full_cost, false) as has_full_cost,
        not orders.is_cancelled and not orders.is_test as is_revenue
    from orders
    left join line_totals on line_totals.order_name = orders.order_name
)

select
    *,
    -- Net revenue: product sales after discounts and refunds, before shipping and taxes.
    case when is_revenue then gross_revenue - discount_amount - refunded_amount else 0 end
        as net_revenue,
    case when is_revenue and customer_id is not null then
        row_number() over (
            partition by customer_id, is_revenue order by created_at, order_name
        )
    end as customer_order_number
from joined
