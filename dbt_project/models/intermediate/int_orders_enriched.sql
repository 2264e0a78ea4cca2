{#-
    Orders with their sales figures (Shopify's definitions, see int_order_lines_enriched and
    int_order_refunds_allocated), cost, channel, customer and their place in the
    customer's history. Money before tax where the order's prices include it:
      net_sales   = gross_sales - discounts - returns (sold lines: products and custom items)
      shipping    = Shipping charged - the tax inside it (Taxes - tax_on_goods)
      total_sales = net_sales + shipping - refunded_shipping + taxes - refunded_taxes
                    + duties - refunded_duties
    Tips and gift card sales are their own amounts, not sales.
    reconciliation_difference = (Total - Refunded Amount) - (total_sales + tips - refunded_tips
    + gift_card_sales - refunded_gift_card_sales) (a full refund gives tips and gift cards back),
    on the order's own amounts (also for cancelled and test orders).
-#}
with orders as (
    select * from {{ ref('stg_shopify__orders') }}
),

line_totals as (
    select
        order_name,
        count(*) as line_count,
        coalesce(sum(quantity) filter (where is_sales_line), 0) as units,
        coalesce(sum(gross_line_revenue), 0) as gross_sales,
        coalesce(sum(allocated_discount), 0) as discounts,
        coalesce(sum(units_returned), 0) as units_returned,
        coalesce(sum(gross_charged) filter (where line_kind = 'tip'), 0) as tips,
        coalesce(sum(gross_charged) filter (where line_kind = 'gift_card'), 0) as gift_card_sales,
        coalesce(sum(value_charged), 0) as goods_charged,
        coalesce(max(tax_on_goods), 0) as tax_on_goods,
        coalesce(max(goods_tax_share), 0) as goods_tax_share,
        coalesce(sum(gross_charged) filter (where is_sales_line), 0) as sales_gross_charged,
        sum(line_cost) filter (where line_kind = 'product') as product_cost,
        sum(returned_cost) filter (where line_kind = 'product') as returned_cost,
        bool_and(unit_cost is not null) filter (where line_kind = 'product') as has_full_cost,
        max(tax_fraction) as tax_fraction
    from {{ ref('int_order_lines_returned') }}
    group by order_name
),

refunds as (
    select * from {{ ref('int_order_refunds_allocated') }}
),

joined as (
    select
        orders.*,
        {{ hash_email('orders.email_normalised') }} as customer_id,
        {{ order_channel('orders.utm_source', 'orders.source_name', 'orders.discount_code') }} as channel,
        coalesce(line_totals.line_count, 0) as line_count,
        coalesce(line_totals.units, 0) as units,
        -- In cents at the order level, as Shopify books an order: the goods after
        -- discounts and before tax are exact, and the discounts are what gross sales
        -- lose to reach them (the lines share them by value, to fractions of a cent).
        coalesce(line_totals.sales_gross_charged
            - {{ cents('line_totals.sales_gross_charged * line_totals.goods_tax_share') }}, 0)
            as gross_revenue,
        coalesce(line_totals.sales_gross_charged
            - {{ cents('line_totals.sales_gross_charged * line_totals.goods_tax_share') }}
            - (line_totals.goods_charged - line_totals.tax_on_goods), 0) as discounts,
        coalesce(refunds.returns, 0) as returns,
        coalesce(line_totals.units_returned, 0) as units_returned,
        coalesce(line_totals.tips, 0) as tips,
        coalesce(line_totals.gift_card_sales, 0) as gift_card_sales,
        coalesce(line_totals.tax_fraction, 0) as tax_fraction,
        -- the tax not inside the goods is inside the shipping
        case when coalesce(line_totals.tax_fraction, 0) > 0
            then orders.shipping - (orders.taxes - line_totals.tax_on_goods)
            else orders.shipping
        end as shipping_before_tax,
        coalesce(refunds.refunded_shipping, 0) as refunded_shipping,
        coalesce(refunds.refunded_taxes, 0) as refunded_taxes,
        -- Tax on the goods: the share of Taxes inside them where prices include tax, else
        -- all of Taxes (the export does not say which part is on shipping).
        case when coalesce(line_totals.tax_fraction, 0) > 0
            then line_totals.tax_on_goods
            else orders.taxes
        end as tax_on_products,
        coalesce(refunds.refund_split_method, 'none') as refund_split_method,
        coalesce(refunds.unexplained_refund, 0) as unexplained_refund,
        coalesce(refunds.refunded_tips, 0) as refunded_tips,
        coalesce(refunds.refunded_gift_card_sales, 0) as refunded_gift_card_sales,
        coalesce(refunds.refunded_duties, 0) as refunded_duties,
        line_totals.product_cost,
        coalesce(line_totals.returned_cost, 0) as returned_cost,
        coalesce(line_totals.has_full_cost, false) as has_full_cost,
        not orders.is_cancelled and not orders.is_test as is_revenue
    from orders
    left join line_totals on line_totals.order_name = orders.order_name
    left join refunds on refunds.order_name = orders.order_name
),

sales as (
    select
        *,
        gross_revenue - discounts - returns as net_sales,
        gross_revenue - discounts - returns
            + shipping_before_tax - refunded_shipping
            + taxes - refunded_taxes
            + duties - refunded_duties as order_total_sales
    from joined
)

select
    *,
    case when is_revenue then net_sales else 0 end as net_revenue,
    case when is_revenue then order_total_sales else 0 end as total_sales,
    {{ money('(total - refunded_amount) - (order_total_sales + tips - refunded_tips
              + gift_card_sales - refunded_gift_card_sales)') }} as reconciliation_difference,
    case when is_revenue and customer_id is not null then
        row_number() over (
            partition by customer_id, is_revenue order by created_at nulls last, order_name
        )
    end as customer_order_number
from sales
