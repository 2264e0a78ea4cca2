{#-
    One row per calendar month and channel: fct_profit_daily summed, with the margins as
    shares of net sales. The month's store total is the sum over its channels.
-#}
select
    cast(date_trunc('month', profit_date) as date) as profit_month,
    channel,
    sum(orders) as orders,
    sum(new_customers) as new_customers,
    sum(net_sales) as net_sales,
    sum(cogs) as cogs,
    sum(contribution_margin_1) as contribution_margin_1,
    sum(net_shipping_revenue) as net_shipping_revenue,
    sum(shipping_cost) as shipping_cost,
    sum(payment_fees) as payment_fees,
    sum(fulfilment_cost) as fulfilment_cost,
    sum(contribution_margin_2) as contribution_margin_2,
    sum(ad_spend) as ad_spend,
    sum(contribution_margin_3) as contribution_margin_3,
    sum(orders_missing_costs) as orders_missing_costs,
    sum(contribution_margin_1) / nullif(sum(net_sales), 0) as cm1_margin,
    sum(contribution_margin_2) / nullif(sum(net_sales), 0) as cm2_margin,
    sum(contribution_margin_3) / nullif(sum(net_sales), 0) as cm3_margin,
    sum(ad_spend) / nullif(sum(new_customers), 0) as cac
from {{ ref('fct_profit_daily') }}
group by 1, 2
