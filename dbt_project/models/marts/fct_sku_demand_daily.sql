{#-
    Every SKU every day (zero-filled) from the first order date to the as-of date: units
    sold, revenue, stockout and promotion flags, and returns.
    is_stockout: nothing was available at the end of the day (summed over locations), so
    the day's sales understate demand (censored); forecasting treats these days as missing,
    not as zero demand. has_inventory_snapshot says whether stock was known that day.
    return_rate_28d: units returned / units sold over the 28 days up to the day, by order date.
    Product lines only (line_kind = 'product'): tips, gift cards and custom items are not demand.
-#}
{{ config(materialized='table') }}

with as_of as (
    select
        min(order_date) as first_date,
        -- Never past the data: days after the last order would read as zero demand.
        least({{ as_of_date() }}, max(order_date)) as as_of_date
    from {{ ref('fct_orders') }}
),

days as (
    select {{ date_series('first_date', 'as_of_date') }} as demand_date
    from as_of
),

skus as (
    select sku from {{ ref('dim_products') }}
),

sales as (
    select
        sku,
        order_date as demand_date,
        cast(sum(quantity) as bigint) as units,
        round(sum(net_revenue), 2) as net_revenue,
        sum(gross_revenue) as gross_revenue,
        count(distinct order_name) as orders,
        -- units returned (fractional where a refund could not be matched to units, rounded)
        cast(round(sum(coalesce(units_returned, 0))) as bigint) as units_refunded
    from {{ ref('fct_order_lines') }}
    -- product lines only: tips, gift cards and custom items are not SKU demand
    where is_revenue and line_kind = 'product'
    group by 1, 2
),

stock as (
    select
        sku,
        inventory_date as demand_date,
        cast(sum(on_hand) as bigint) as on_hand,
        cast(sum(available) as bigint) as available,
        bool_and(is_stockout) as is_stockout
    from {{ ref('fct_inventory_daily') }}
    group by 1, 2
),

promos as (
    select sku, promo_date as demand_date, max(expected_uplift) as promo_expected_uplift,
           {{ dbt.listagg('promotion_name', "'; '") }} as promotion_names
    from {{ ref('int_promotion_skus_daily') }}
    group by 1, 2
),

grid as (
    select skus.sku, days.demand_date
    from skus
    cross join days
),

daily as (
    select
        grid.sku,
        grid.demand_date,
        coalesce(sales.units, 0) as units,
        coalesce(sales.net_revenue, 0) as net_revenue,
        coalesce(sales.gross_revenue, 0) as gross_revenue,
        coalesce(sales.orders, 0) as orders,
        coalesce(sales.units_refunded, 0) as units_refunded,
        stock.on_hand as on_hand_end_of_day,
        stock.available as available_end_of_day,
        coalesce(stock.is_stockout, false) as is_stockout,
        stock.sku is not null as has_inventory_snapshot,
        promos.sku is not null as is_promo,
        promos.promotion_names,
        promos.promo_expected_uplift
    from grid
    left join sales on sales.sku = grid.sku and sales.demand_date = grid.demand_date
    left join stock on stock.sku = grid.sku and stock.demand_date = grid.demand_date
    left join promos on promos.sku = grid.sku and promos.demand_date = grid.demand_date
)

select
    sku || '|' || cast(demand_date as {{ dbt.type_string() }}) as sku_day_id,
    *,
    sum(units) over w28 as units_28d,
    sum(units_refunded) over w28 as units_refunded_28d,
    sum(units_refunded) over w28 / nullif(sum(units) over w28, 0) as return_rate_28d
from daily
window w28 as (partition by sku order by demand_date rows between 27 preceding and current row)
