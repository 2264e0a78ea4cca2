with orders as (
    select * from {{ ref('int_orders_enriched') }}
)

select
    shopify_order_id as order_id,
    order_name,
    customer_id,
    created_at,
    created_date as order_date,
    currency_code,
    channel,
    utm_source,
    utm_medium,
    utm_campaign,
    source_name,
    discount_code,
    discount_code is not null and discount_amount > 0 as has_discount,
    financial_status,
    fulfillment_status,
    line_count,
    units,
    gross_revenue,
    discount_amount as discounts,
    shipping,
    taxes,
    refunded_amount as refunds,
    total as total_charged,
    net_revenue,
    product_cost,
    case when is_revenue and has_full_cost
        then net_revenue - product_cost * (1 - least(refunded_amount / nullif(gross_revenue - discount_amount, 0), 1))
    end as gross_margin,
    paid_at,
    fulfilled_at,
    case when fulfilled_at is not null and paid_at is not null
        then date_diff('minute', paid_at, fulfilled_at) / 60.0
    end as fulfilment_hours,
    cancelled_at,
    is_cancelled,
    is_test,
    is_revenue,
    refunded_amount > 0 as has_refund,
    customer_order_number,
    customer_order_number = 1 as is_first_order,
    _loaded_at
from orders
