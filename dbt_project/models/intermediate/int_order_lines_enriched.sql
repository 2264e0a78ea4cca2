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
    Tax inside a tax-inclusive order: the export gives one Taxes figure T per order, for
    the goods G (sold lines after discounts) and the shipping H together. Shopify rounds
    the tax of each part to the cent, so with the rate r the goods carry
    round(G x r / (1 + r), 2) and the shipping round(H x r / (1 + r), 2), summing to T.
    r is the rate in the order's tax names ("GB VAT 20%"), else the rate T / (G + H - T)
    rounded to 0.1 % or to 0.5 %, the first that reproduces T to the cent; when none
    does, T is split by value, round(T x G / (G + H), 2) (one rate for goods and shipping).
      tax_on_goods     the tax inside the goods (cents); 0 for tax-exclusive orders
      goods_tax_share  r / (1 + r): the share of a tax-inclusive amount of goods that is
                       tax, to take the tax out of a refund the same way
      tax_fraction     tax_on_goods / G: the share taken out of each line's amounts
-#}
with exported_lines as (
    select * from {{ ref('stg_shopify__order_lines') }}
),

zero_padded_skus as (
    -- Product SKUs with leading zeros ('00123'), by their digits without them: a
    -- spreadsheet that opened the orders export wrote '123'.
    select trim(leading '0' from sku) as digits, min(sku) as sku, count(*) as skus
    from {{ ref('stg_shopify__products') }}
    where {{ regex_full_match('sku', '0+[0-9]+') }}
    group by 1
),

scientific_skus as (
    -- Line SKUs a spreadsheet wrote in scientific notation ('1.23457E+11' for product
    -- '123456789012'): the digits after the sixth are gone, so the SKU is the one product
    -- whose all-digit SKU has as many digits and rounds to the same leading digits.
    select
        mangled.sku as exported,
        min(products.sku) as sku,
        count(products.sku) as skus
    from (
        select distinct
            sku,
            replace(regexp_extract(sku, '^([0-9]+(?:\.[0-9]+)?)[eE]\+', 1), '.', '') as digits,
            cast(regexp_extract(sku, '[eE]\+([0-9]+)$', 1) as integer) as exponent
        from exported_lines
        where {{ regex_full_match('trim(sku)', '[0-9]+([.][0-9]+)?[eE][+][0-9]+') }}
    ) as mangled
    left join {{ ref('stg_shopify__products') }} as products
        on {{ regex_full_match('products.sku', '[0-9]+') }}
        and length(trim(leading '0' from products.sku)) = mangled.exponent + 1
        and round(cast(products.sku as double)
                  / pow(10, mangled.exponent + 1 - length(mangled.digits)))
            = cast(mangled.digits as double)
    group by mangled.sku
),

lines as (
    -- A line SKU that is no product but is one product's SKU without its leading zeros,
    -- or one product's SKU in scientific notation, is that product (sku_as_exported keeps
    -- what the file said; a quality check lists such lines with their file and row).
    select
        {{ star_except('exported_lines', ['sku']) }},
        case
            when exported_lines.line_kind = 'product'
                and exported_lines.sku not in (select sku from {{ ref('stg_shopify__products') }}
                                               where sku is not null)
                and (zero_padded_skus.skus = 1 or scientific_skus.skus = 1)
                then coalesce(zero_padded_skus.sku, scientific_skus.sku)
            else exported_lines.sku
        end as sku,
        exported_lines.sku as sku_as_exported
    from exported_lines
    left join zero_padded_skus on zero_padded_skus.digits = exported_lines.sku
    left join scientific_skus on scientific_skus.exported = exported_lines.sku
),

cost_history as (
    select * from {{ ref('stg_shopify__product_costs') }}
),

sku_costs as (
    -- The supplier's cost (purchasing files), for SKUs Shopify has no Cost per item for.
    select sku, min(unit_cost) as unit_cost
    from {{ ref('stg_purchasing__sku_suppliers') }}
    group by sku
),

orders as (
    select order_name, created_date, discount_amount, shipping, taxes, taxes_included,
           named_tax_rate
    from {{ ref('stg_shopify__orders') }}
),

line_costs as (
    -- The unit cost in effect on the order's date (Shopify's Cost per item as the
    -- products export of that period showed it); an order older than the first export
    -- that shows the SKU's cost takes that first cost; else the supplier's cost.
    select
        lines.order_line_id,
        coalesce(dated.unit_cost, first_known.unit_cost, sku_costs.unit_cost) as unit_cost,
        case
            when dated.unit_cost is not null then 'cost on the order date'
            when first_known.unit_cost is not null then 'earliest known cost'
            when sku_costs.unit_cost is not null then 'supplier cost'
        end as cost_basis
    from lines
    left join orders on orders.order_name = lines.order_name
    left join cost_history as dated
        on dated.sku = lines.sku
        and orders.created_date >= dated.valid_from
        and (dated.valid_to is null or orders.created_date <= dated.valid_to)
    left join cost_history as first_known
        on first_known.sku = lines.sku
        and first_known.is_first_known_cost
        and orders.created_date < first_known.valid_from
    left join sku_costs on sku_costs.sku = lines.sku
    where lines.line_kind = 'product'
),

line_values as (
    select
        lines.*,
        lines.line_kind in ('product', 'custom') as is_sales_line,
        coalesce(lines.quantity, 0) * coalesce(lines.unit_price, 0) as gross_charged,
        line_costs.unit_cost,
        line_costs.cost_basis
    from lines
    left join line_costs on line_costs.order_line_id = lines.order_line_id
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
        orders.named_tax_rate,
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
    -- Decimal, not double: a share of a discount like 22.455 must round to 22.46 when a
    -- refund of the line is booked in cents, not to 22.45 from 22.454999...
    select
        discounted.*,
        case when is_sales_line
            then cast(round(gross_charged - discount_charged, 6) as decimal(18, 6))
            else 0
        end as value_charged,
        sum(case when is_sales_line
            then cast(round(gross_charged - discount_charged, 6) as decimal(18, 6))
            else 0 end)
            over (partition by order_name) as order_goods_charged
    from discounted
),

rates as (
    select
        valued.*,
        coalesce(taxes_included, false) and order_goods_charged + order_shipping > 0
            as has_tax_inside,
        -- candidate rates, most trusted first
        named_tax_rate as rate_named,
        case when order_goods_charged + order_shipping - order_taxes > 0
            then round(order_taxes / (order_goods_charged + order_shipping - order_taxes), 3)
        end as rate_per_mille,
        case when order_goods_charged + order_shipping - order_taxes > 0
            then round(200 * order_taxes / (order_goods_charged + order_shipping - order_taxes)) / 200
        end as rate_half_percent
    from valued
),

rate_chosen as (
    select
        rates.*,
        {%- set reproduces -%}
            abs({{ cents('order_goods_charged * {r} / (1 + {r})') }}
                + {{ cents('order_shipping * {r} / (1 + {r})') }} - order_taxes) < 0.005
        {%- endset %}
        case
            when not has_tax_inside then null
            when rate_named > 0 and {{ reproduces | replace('{r}', 'rate_named') }} then rate_named
            when rate_per_mille > 0 and {{ reproduces | replace('{r}', 'rate_per_mille') }} then rate_per_mille
            when rate_half_percent > 0 and {{ reproduces | replace('{r}', 'rate_half_percent') }} then rate_half_percent
        end as tax_rate_inside
    from rates
),

taxed as (
    select
        rate_chosen.*,
        case
            when not has_tax_inside then 0
            when tax_rate_inside is not null
                then {{ cents('order_goods_charged * tax_rate_inside / (1 + tax_rate_inside)') }}
            else {{ cents('order_taxes * order_goods_charged / (order_goods_charged + order_shipping)') }}
        end as tax_on_goods,
        case
            when not has_tax_inside then 0
            when tax_rate_inside is not null then tax_rate_inside / (1 + tax_rate_inside)
            else order_taxes / (order_goods_charged + order_shipping)
        end as goods_tax_share
    from rate_chosen
),

fractions as (
    select
        taxed.*,
        case when order_goods_charged > 0 then tax_on_goods / order_goods_charged else 0 end
            as tax_fraction
    from taxed
)

select
    order_line_id,
    order_name,
    line_number,
    sku,
    sku_as_exported,
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
    tax_on_goods,
    goods_tax_share,
    tax_fraction,
    -- Sales figures before tax: 0 for tips and gift cards.
    {{ money('case when is_sales_line then gross_charged * (1 - tax_fraction) else 0 end') }} as gross_line_revenue,
    {{ money('discount_charged * (1 - tax_fraction)') }} as allocated_discount,
    unit_cost,
    cost_basis,
    quantity * unit_cost as line_cost,
    line_fulfillment_status,
    _source_file,
    _source_row
from fractions
