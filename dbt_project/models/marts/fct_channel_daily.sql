{#-
    One row per day and channel: ad spend next to what the store itself saw from that
    channel (orders, new customers, net revenue, by the order's channel attribution in
    fct_orders). CAC = spend / new customers; ROAS = store net revenue / spend. Unlike
    platform-reported conversions, store orders are counted once, in one channel.
-#}
with spend as (
    select marketing_date as channel_date, channel, sum(spend) as spend,
           sum(impressions) as impressions, sum(clicks) as clicks,
           round(sum(platform_conversions), 6) as platform_conversions,
           sum(platform_conversion_value) as platform_conversion_value
    from {{ ref('fct_marketing_daily') }}
    group by 1, 2
),

store as (
    select order_date as channel_date, channel,
           count(*) as orders,
           count(*) filter (where is_first_order) as new_customers,
           round(sum(net_revenue), 2) as net_revenue
    from {{ ref('fct_orders') }}
    where is_revenue
    group by 1, 2
),

sessions as (
    select session_date as channel_date,
           case when channel in ('facebook', 'instagram') then 'meta' else channel end as channel,
           sum(sessions) as sessions
    from {{ ref('stg_analytics__sessions') }}
    group by 1, 2
),

keys as (
    select channel_date, channel from spend
    union
    select channel_date, channel from store
    union
    select channel_date, channel from sessions
)

select
    keys.channel || '|' || cast(keys.channel_date as {{ dbt.type_string() }}) as channel_day_id,
    keys.channel_date,
    keys.channel,
    coalesce(spend.spend, 0) as spend,
    coalesce(spend.impressions, 0) as impressions,
    coalesce(spend.clicks, 0) as clicks,
    spend.platform_conversions,
    spend.platform_conversion_value,
    sessions.sessions,
    coalesce(store.orders, 0) as orders,
    coalesce(store.new_customers, 0) as new_customers,
    coalesce(store.net_revenue, 0) as net_revenue,
    store.orders / nullif(sessions.sessions, 0) as conversion_rate,
    spend.spend / nullif(store.new_customers, 0) as cac,
    store.net_revenue / nullif(spend.spend, 0) as roas
from keys
left join spend on spend.channel_date = keys.channel_date and spend.channel = keys.channel
left join store on store.channel_date = keys.channel_date and store.channel = keys.channel
left join sessions on sessions.channel_date = keys.channel_date and sessions.channel = keys.channel
where {{ known_by_as_of('keys.channel_date') }}
