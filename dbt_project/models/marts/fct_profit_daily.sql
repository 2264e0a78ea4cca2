{#-
    One row per day and channel: the profit ladder of the orders placed that day in that
    channel (fct_order_profit, the order's channel attribution), and the channel's ad
    spend that day (fct_channel_daily):
      contribution_margin_3 = contribution_margin_2 - ad_spend
    Each margin sums the orders whose costs down to it are all known; orders_missing_costs
    counts those that are not, and cm2_coverage is the share of net sales whose
    contribution margin 2 is known (1.0 when every cost is there). A channel with spend and
    no orders has negative contribution margin 3.
-#}
with orders as (
    select
        order_date as profit_date,
        channel,
        currency_code,
        count(*) filter (where is_revenue) as orders,
        count(*) filter (where is_revenue and is_first_order) as new_customers,
        sum(net_sales) as net_sales,
        sum(cogs) as cogs,
        sum(contribution_margin_1) as contribution_margin_1,
        sum(net_shipping_revenue) as net_shipping_revenue,
        sum(shipping_cost) as shipping_cost,
        sum(payment_fees) as payment_fees,
        sum(fulfilment_cost) as fulfilment_cost,
        sum(contribution_margin_2) as contribution_margin_2,
        sum(net_sales) filter (where contribution_margin_2 is not null) as net_sales_with_cm2,
        count(*) filter (where missing_costs is not null) as orders_missing_costs
    from {{ ref('fct_order_profit') }}
    where {{ known_by_as_of('order_date') }}
    group by 1, 2, 3
),

spend as (
    select channel_date as profit_date, channel, spend
    from {{ ref('fct_channel_daily') }}
    where spend > 0
),

keys as (
    select profit_date, channel from orders
    union
    select profit_date, channel from spend
)

select
    keys.channel || '|' || cast(keys.profit_date as {{ dbt.type_string() }}) as profit_day_id,
    keys.profit_date,
    keys.channel,
    orders.currency_code,
    coalesce(orders.orders, 0) as orders,
    coalesce(orders.new_customers, 0) as new_customers,
    coalesce(orders.net_sales, 0) as net_sales,
    coalesce(orders.cogs, 0) as cogs,
    coalesce(orders.contribution_margin_1, 0) as contribution_margin_1,
    coalesce(orders.net_shipping_revenue, 0) as net_shipping_revenue,
    coalesce(orders.shipping_cost, 0) as shipping_cost,
    coalesce(orders.payment_fees, 0) as payment_fees,
    coalesce(orders.fulfilment_cost, 0) as fulfilment_cost,
    coalesce(orders.contribution_margin_2, 0) as contribution_margin_2,
    coalesce(spend.spend, 0) as ad_spend,
    coalesce(orders.contribution_margin_2, 0) - coalesce(spend.spend, 0) as contribution_margin_3,
    coalesce(orders.orders_missing_costs, 0) as orders_missing_costs,
    case when coalesce(orders.net_sales, 0) = 0 then 1.0
         else coalesce(orders.net_sales_with_cm2, 0) / orders.net_sales
    end as cm2_coverage
from keys
left join orders on orders.profit_date = keys.profit_date and orders.channel = keys.channel
left join spend on spend.profit_date = keys.profit_date and spend.channel = keys.channel
