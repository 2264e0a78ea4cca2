{#-
    One row per calendar month: revenue, orders, customers, revenue per customer and
    inventory turnover = cost of goods sold in the month / average inventory value at cost
    over the month's snapshots (null without inventory snapshots).
-#}
with orders as (
    select
        date_trunc('month', order_date) as kpi_month,
        count(*) as orders,
        count(distinct customer_id) as customers,
        count(*) filter (where is_first_order) as new_customers,
        sum(net_revenue) as revenue,
        sum(cost_of_goods_sold) as cost_of_goods_sold
    from {{ ref('fct_orders') }}
    where is_revenue and {{ known_by_as_of('order_date') }}
    group by 1
),

inventory as (
    select
        date_trunc('month', inv.inventory_date) as kpi_month,
        sum(inv.on_hand * products.unit_cost) / count(distinct inv.inventory_date) as average_inventory_value
    from {{ ref('fct_inventory_daily') }} as inv
    inner join {{ ref('dim_products') }} as products on products.sku = inv.sku
    where {{ known_by_as_of('inv.inventory_date') }}
    group by 1
),

spend as (
    select date_trunc('month', marketing_date) as kpi_month, sum(spend) as ad_spend
    from {{ ref('fct_marketing_daily') }}
    where {{ known_by_as_of('marketing_date') }}
    group by 1
)

select
    cast(orders.kpi_month as date) as kpi_month,
    orders.orders,
    orders.customers,
    orders.new_customers,
    orders.revenue,
    orders.revenue / nullif(orders.customers, 0) as revenue_per_customer,
    orders.cost_of_goods_sold,
    inventory.average_inventory_value,
    orders.cost_of_goods_sold / nullif(inventory.average_inventory_value, 0) as inventory_turnover,
    spend.ad_spend,
    spend.ad_spend / nullif(orders.new_customers, 0) as cac,
    orders.revenue / nullif(spend.ad_spend, 0) as mer
from orders
left join inventory on inventory.kpi_month = orders.kpi_month
left join spend on spend.kpi_month = orders.kpi_month
