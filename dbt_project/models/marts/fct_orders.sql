{#-
    One row per order. Money follows Shopify's sales report (gross sales - discounts -
    returns = net sales; shipping, taxes, duties, tips and gift cards their own amounts;
    see int_orders_enriched, int_order_refunds_allocated). Money is rounded to 4 decimals
    (DECIMAL(18,4), like the exports) so a rebuild gives the same table.
-#}
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
    taxes_included,
    line_count,
    cast(units as bigint) as units,
    cast(round(gross_revenue, 4) as decimal(18, 4)) as gross_revenue,
    cast(round(discounts, 4) as decimal(18, 4)) as discounts,
    cast(round(returns, 4) as decimal(18, 4)) as returns,
    cast(units_returned as double) as units_returned,
    cast(round(net_revenue, 4) as decimal(18, 4)) as net_revenue,
    cast(round(shipping_before_tax, 4) as decimal(18, 4)) as shipping,
    cast(round(refunded_shipping, 4) as decimal(18, 4)) as refunded_shipping,
    taxes,
    cast(round(refunded_taxes, 4) as decimal(18, 4)) as refunded_taxes,
    cast(round(tax_on_products, 4) as decimal(18, 4)) as tax_on_products,
    duties,
    cast(round(total_sales, 4) as decimal(18, 4)) as total_sales,
    cast(tips as decimal(18, 4)) as tips,
    cast(gift_card_sales as decimal(18, 4)) as gift_card_sales,
    refunded_tips,
    refunded_gift_card_sales,
    refunded_duties,
    refunded_amount as refunds,
    refund_split_method,
    total as total_charged,
    cast(round(reconciliation_difference, 4) as decimal(18, 4)) as reconciliation_difference,
    abs(reconciliation_difference) < 0.005 as is_reconciled,
    product_cost,
    -- the cost of the product units sold and kept (returned units back in stock)
    product_cost - returned_cost as cost_of_goods_sold,
    case when is_revenue and has_full_cost
        then cast(round(net_revenue - (product_cost - returned_cost), 4) as decimal(18, 4))
    end as gross_margin,
    paid_at,
    fulfilled_at,
    case when fulfilled_at is not null and paid_at is not null
        then {{ minutes_between('paid_at', 'fulfilled_at') }} / 60.0
    end as fulfilment_hours,
    cancelled_at,
    is_cancelled,
    is_test,
    is_revenue,
    refunded_amount > 0 as has_refund,
    customer_order_number,
    customer_order_number = 1 as is_first_order,
    _source_file as source_file,
    _source_row as source_row,
    _loaded_at
from orders
