{#-
    One row per day (store timezone) from the first order to the as-of date.
    revenue = net sales in Shopify's sense: gross sales - discounts - returns of the orders
    placed that day, before shipping and taxes, tax taken out where prices include it
    (a refund of shipping or tax is not a return); shipping = shipping charged - refunded
    shipping and taxes = taxes - refunded taxes (before/after tax as in fct_orders);
    total_sales = revenue + shipping + taxes + duties; tips and gift card sales are not
    sales; average_order_value = revenue / orders;
    conversion_rate = orders / sessions (null without sessions.csv); CAC = ad spend / new
    customers; ROAS = net revenue from paid channels / ad spend; MER = all net revenue /
    ad spend; return_rate = orders with a refund / orders (by order date);
    fulfilment_hours_median = paid to fulfilled. Null, not zero, when a source is absent.
-#}
with bounds as (
    -- Never past the as-of date (a replay) nor the last order (days after it are unknown).
    select min(order_date) as first_date, least(max(order_date), {{ as_of_date() }}) as last_date
    from {{ ref('fct_orders') }}
),

days as (
    select {{ date_series('first_date', 'last_date') }} as kpi_date
    from bounds
),

orders as (
    select
        order_date as kpi_date,
        count(*) as orders,
        sum(units) as units,
        sum(gross_revenue) as gross_revenue,
        sum(discounts) as discounts,
        sum(refunds) as refunds,
        sum(returns) as returns,
        sum(net_revenue) as revenue,
        sum(shipping - refunded_shipping) as shipping,
        sum(taxes - refunded_taxes) as taxes,
        sum(duties) as duties,
        sum(total_sales) as total_sales,
        sum(tips) as tips,
        sum(gift_card_sales) as gift_card_sales,
        sum(net_revenue) filter (where channel in ('meta', 'google', 'tiktok')) as paid_channel_revenue,
        -- rounded to cents: a sum of doubles depends on the order DuckDB adds them in,
        -- and a rebuild must give the same table
        round(sum(gross_margin), 2) as gross_margin,
        count(*) filter (where is_first_order) as new_customers,
        count(*) filter (where not is_first_order) as returning_customer_orders,
        count(distinct customer_id) filter (where not is_first_order) as returning_customers,
        count(*) filter (where has_refund) as orders_refunded,
        median(fulfilment_hours) as fulfilment_hours_median
    from {{ ref('fct_orders') }}
    where is_revenue
    group by 1
),

spend as (
    select marketing_date as kpi_date, sum(spend) as ad_spend
    from {{ ref('fct_marketing_daily') }}
    group by 1
),

has_ads as (
    select count(*) > 0 as has_ads from {{ ref('fct_marketing_daily') }}
),

sessions as (
    select session_date as kpi_date, sum(sessions) as sessions
    from {{ ref('stg_analytics__sessions') }}
    group by 1
),

tickets as (
    select
        created_date as kpi_date,
        count(*) as tickets,
        count(*) filter (where category = 'order_status') as tickets_order_status,
        count(*) filter (where category = 'return_refund') as tickets_return_refund,
        count(*) filter (where category = 'product_question') as tickets_product_question,
        count(*) filter (where category = 'complaint') as tickets_complaint,
        count(*) filter (where category = 'other') as tickets_other,
        median(first_reply_minutes) as first_reply_minutes_median,
        avg(case when is_satisfied then 1.0 when not is_satisfied then 0.0 end) as csat
    from {{ ref('fct_support_tickets') }}
    group by 1
),

has_tickets as (
    select count(*) > 0 as has_tickets from {{ ref('fct_support_tickets') }}
)

select
    days.kpi_date,
    coalesce(orders.orders, 0) as orders,
    coalesce(orders.units, 0) as units,
    coalesce(orders.gross_revenue, 0) as gross_revenue,
    coalesce(orders.discounts, 0) as discounts,
    coalesce(orders.refunds, 0) as refunds,
    coalesce(orders.returns, 0) as returns,
    coalesce(orders.revenue, 0) as revenue,
    coalesce(orders.shipping, 0) as shipping,
    coalesce(orders.taxes, 0) as taxes,
    coalesce(orders.duties, 0) as duties,
    coalesce(orders.total_sales, 0) as total_sales,
    coalesce(orders.tips, 0) as tips,
    coalesce(orders.gift_card_sales, 0) as gift_card_sales,
    orders.revenue / nullif(orders.orders, 0) as average_order_value,
    coalesce(orders.new_customers, 0) as new_customers,
    coalesce(orders.returning_customers, 0) as returning_customers,
    sessions.sessions,
    orders.orders / nullif(sessions.sessions, 0) as conversion_rate,
    case when has_ads.has_ads then coalesce(spend.ad_spend, 0) end as ad_spend,
    spend.ad_spend / nullif(orders.new_customers, 0) as cac,
    orders.paid_channel_revenue / nullif(spend.ad_spend, 0) as roas,
    orders.revenue / nullif(spend.ad_spend, 0) as mer,
    orders.gross_margin,
    orders.gross_margin / nullif(orders.revenue, 0) as gross_margin_rate,
    coalesce(orders.orders_refunded, 0) as orders_refunded,
    orders.orders_refunded / nullif(orders.orders, 0) as return_rate,
    orders.fulfilment_hours_median,
    case when has_tickets.has_tickets then coalesce(tickets.tickets, 0) end as tickets,
    tickets.tickets_order_status,
    tickets.tickets_return_refund,
    tickets.tickets_product_question,
    tickets.tickets_complaint,
    tickets.tickets_other,
    100.0 * tickets.tickets / nullif(orders.orders, 0) as tickets_per_100_orders,
    tickets.first_reply_minutes_median,
    tickets.csat
from days
cross join has_ads
cross join has_tickets
left join orders on orders.kpi_date = days.kpi_date
left join spend on spend.kpi_date = days.kpi_date
left join sessions on sessions.kpi_date = days.kpi_date
left join tickets on tickets.kpi_date = days.kpi_date
