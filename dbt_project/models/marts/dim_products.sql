{#-
    One row per SKU with its supplier terms and ABC class.
    ABC class by net revenue over the 90 days up to the as-of date: SKUs sorted by revenue,
    A = the SKUs that make the first 80% of revenue, B = the next 15%, C = the rest
    (including SKUs with no sales).
-#}
with products as (
    select * from {{ ref('stg_shopify__products') }}
),

sku_suppliers as (
    select * from {{ ref('stg_purchasing__sku_suppliers') }}
    qualify row_number() over (partition by sku order by unit_cost nulls last, supplier_id) = 1
),

suppliers as (
    select * from {{ ref('stg_purchasing__suppliers') }}
),

as_of as (
    select {{ as_of_date() }} as as_of_date
),

sales as (
    select
        lines.sku,
        round(sum(lines.net_revenue) filter (where lines.order_date > as_of.as_of_date - 90), 2) as net_revenue_90d,
        sum(lines.quantity) filter (where lines.order_date > as_of.as_of_date - 90) as units_90d,
        min(lines.order_date) as first_sold_date,
        max(lines.order_date) as last_sold_date
    from {{ ref('fct_order_lines') }} as lines
    cross join as_of
    where lines.is_revenue and lines.line_kind = 'product' and lines.order_date <= as_of.as_of_date
    group by lines.sku
),

all_skus as (
    select sku from products
    union
    select sku from sku_suppliers
    union
    select sku from sales
),

joined as (
    select
        all_skus.sku,
        products.product_handle,
        products.product_title,
        products.variant_title,
        products.vendor,
        products.product_type,
        products.status,
        products.price,
        products.compare_at_price,
        coalesce(sku_suppliers.unit_cost, products.unit_cost) as unit_cost,
        sku_suppliers.supplier_id,
        suppliers.lead_time_days,
        suppliers.lead_time_std_days,
        coalesce(sku_suppliers.moq_units, suppliers.moq_units, 1) as moq_units,
        coalesce(sku_suppliers.case_pack, suppliers.case_pack, 1) as case_pack,
        suppliers.order_cycle_days,
        suppliers.currency_code as supplier_currency_code,
        coalesce(sales.net_revenue_90d, 0) as net_revenue_90d,
        coalesce(sales.units_90d, 0) as units_90d,
        sales.first_sold_date,
        sales.last_sold_date,
        products.sku is not null as is_in_catalog
    from all_skus
    left join products on products.sku = all_skus.sku
    left join sku_suppliers on sku_suppliers.sku = all_skus.sku
    left join suppliers on suppliers.supplier_id = sku_suppliers.supplier_id
    left join sales on sales.sku = all_skus.sku
),

ranked as (
    select
        *,
        sum(net_revenue_90d) over (
            order by net_revenue_90d desc, sku
            rows between unbounded preceding and current row
        ) - net_revenue_90d as revenue_before,
        sum(net_revenue_90d) over () as total_revenue_90d
    from joined
)

select
    sku,
    product_handle,
    product_title,
    variant_title,
    vendor,
    product_type,
    status,
    price,
    compare_at_price,
    unit_cost,
    price - unit_cost as unit_margin,
    supplier_id,
    lead_time_days,
    lead_time_std_days,
    moq_units,
    case_pack,
    order_cycle_days,
    supplier_currency_code,
    net_revenue_90d,
    units_90d,
    first_sold_date,
    last_sold_date,
    case
        when net_revenue_90d <= 0 or total_revenue_90d <= 0 then 'C'
        when revenue_before < 0.80 * total_revenue_90d then 'A'
        when revenue_before < 0.95 * total_revenue_90d then 'B'
        else 'C'
    end as abc_class,
    is_in_catalog
from ranked
