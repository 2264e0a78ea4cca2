{#-
    One row per day, platform and campaign across Meta, Google and TikTok, in one shape.
    platform_conversions / platform_conversion_value are what each ad platform claims;
    platforms over-count and overlap, so they are never added to store orders. Store
    orders and revenue per channel are in fct_channel_daily.
-#}
with unioned as (
    {% for platform in ['meta', 'google', 'tiktok'] %}
    select
        platform,
        report_date,
        campaign_name,
        sum(spend) as spend,
        max(currency_code) as currency_code,
        count(distinct currency_code) as currency_count,
        sum(impressions) as impressions,
        sum(clicks) as clicks,
        round(sum(platform_conversions), 6) as platform_conversions,
        sum(platform_conversion_value) as platform_conversion_value,
        count(*) as source_rows
    from {{ ref('stg_' ~ platform ~ '_ads__ad_daily') }}
    group by platform, report_date, campaign_name
    {% if not loop.last %}union all{% endif %}
    {% endfor %}
)

select
    platform || '|' || cast(report_date as {{ dbt.type_string() }}) || '|' || campaign_name as marketing_day_id,
    report_date as marketing_date,
    platform as channel,
    campaign_name,
    currency_code,
    spend,
    impressions,
    clicks,
    clicks / nullif(impressions, 0) as click_through_rate,
    spend / nullif(clicks, 0) as cost_per_click,
    platform_conversions,
    platform_conversion_value,
    platform_conversion_value / nullif(spend, 0) as platform_roas,
    source_rows
from unioned
