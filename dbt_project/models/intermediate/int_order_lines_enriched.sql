{#-
    Order lines with their kind, product cost, share of the order's discounts and their
    sales value with tax taken out where the store's prices include it.

    Money follows Shopify's sales report (ShopifyQL `sales` schema,
    https://shopify.dev/docs/api/shopifyql/latest/schemas/sales_revenue/sales, and the
    Finances reports, https://help.shopify.com/en/manual/reports-and-analytics/shopify-reports/report-types/default-reports/finances-report):
    gross sales = price x quantity of the lines sold (product and custom items), before
    discounts, returns, shipping and taxes, tax taken out where prices include it;
    discounts = the line's own discount + its share of the order's other discounts.
    Tips and gift cards are not sales (a gift card is a liability): they carry no discount
    and no sales value, only their amount (gross_charged).

    *_charged columns are as charged (tax included where the order's prices include it).
    tax_fraction: the share of a tax-inclusive amount that is tax. The export gives one
    Taxes figure per order, so one rate is assumed for products and shipping:
    tax_fraction = Taxes / (goods + Shipping), where goods = the sold lines after discounts
    (Subtotal when there are no tips or gift cards). 0 for tax-exclusive orders.
-#}
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
    select order_name, discount_amount, shipping, taxes, taxes_included
    from {{ ref('stg_shopify__orders') }}
),

line_values as (
    select
        lines.*,
        lines.line_kind in ('product', 'custom') as is_sales_line,
        coalesce(lines.quantity, 0) * coalesce(lines.unit_price, 0) as gross_charged,
        case when lines.line_kind = 'product'
            then coalesce(sku_costs.unit_cost, products.unit_cost)
        end as unit_cost
    from lines
    left join products on products.sku = lines.sku
    left join sku_costs on sku_costs.sku = lines.sku
),

order_sums as (
    select
        line_values.*,
        sum(case when is_sales_line then gross_charged else 0 end)
            over (partition by order_name) as order_sales_gross,
        sum(case when is_sales_line then line_discount else 0 end)
            over (partition by order_name) as order_line_discounts,
        case when is_sales_line
            then row_number() over (partition by order_name, is_sales_line order by line_number)
        end as sales_line_index,
        sum(case when is_sales_line then 1 else 0 end)
            over (partition by order_name) as sales_line_count
    from line_values
),

discounted as (
    select
        order_sums.*,
        orders.shipping as order_shipping,
        orders.taxes as order_taxes,
        orders.taxes_included,
        -- The line's own discount, plus its share (by gross) of the order's Discount
        -- Amount beyond the line discounts.
        case when is_sales_line then
            line_discount
            + case when order_sales_gross > 0
                then greatest(coalesce(orders.discount_amount, 0) - order_line_discounts, 0)
                     * gross_charged / order_sales_gross
                else 0
              end
        else 0 end as discount_charged
    from order_sums
    left join orders on orders.order_name = order_sums.order_name
),

valued as (
    select
        discounted.*,
        case when is_sales_line then gross_charged - discount_charged else 0 end as value_charged,
        sum(case when is_sales_line then gross_charged - discount_charged else 0 end)
            over (partition by order_name) as order_goods_charged
    from discounted
),

taxed as (
    select
        valued.*,
        case when coalesce(taxes_included, false) and order_goods_charged + order_shipping > 0
            then order_taxes / (order_goods_charged + order_shipping)
            else 0
        end as tax_fraction
    from valued
)

select
    order_line_id,
    order_name,
    line_number,
    sku,
    line_kind,
    is_sales_line,
    sales_line_index,
    sales_line_count,
    line_name,
    quantity,
    unit_price,
    gross_charged,
    discount_charged,
    value_charged,
    order_goods_charged,
    tax_fraction,
    -- Sales figures before tax: 0 for tips and gift cards.
    {{ money('case when is_sales_line then gross_charged * (1 - tax_fraction) else 0 end') }} as gross_line_revenue,
    {{ money('discount_charged * (1 - tax_fraction)') }} as allocated_discount,
    unit_cost,
    quantity * unit_cost as line_cost,
    line_fulfillment_status,
    _source_file,
    _source_row
from taxed
