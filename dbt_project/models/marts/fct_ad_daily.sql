{#-
    One row per day, platform, campaign, ad set (ad group) and ad across Meta, Google and
    TikTok: the ad-grain sibling of fct_marketing_daily, for creative fatigue. Meta reports
    a day's reach, so frequency = impressions / reach there; TikTok's daily report and
    Google's have no reach (null frequency). Google Search, Shopping and Performance Max
    have no ad in their export: ad_name is null and the row is the ad group's.
-#}
with unioned as (
    {% for platform in ['meta', 'google', 'tiktok'] %}
    select
        platform,
        report_date,
        campaign_name,
        ad_group_name,
        ad_name,
        sum(spend) as spend,
        max(currency_code) as currency_code,
        sum(impressions) as impressions,
        sum(reach) as reach,
        sum(clicks) as clicks,
        round(sum(platform_conversions), 6) as platform_conversions,
        sum(platform_conversion_value) as platform_conversion_value
    from {{ ref('stg_' ~ platform ~ '_ads__ad_daily') }}
    group by platform, report_date, campaign_name, ad_group_name, ad_name
    {% if not loop.last %}union all{% endif %}
    {% endfor %}
)

select
    platform || '|' || cast(report_date as {{ dbt.type_string() }}) || '|' || campaign_name
        || '|' || coalesce(ad_group_name, '') || '|' || coalesce(ad_name, '') as ad_day_id,
    report_date as ad_date,
    platform as channel,
    campaign_name,
    ad_group_name,
    ad_name,
    currency_code,
    spend,
    impressions,
    reach,
    impressions / nullif(reach, 0) as frequency,
    clicks,
    clicks / nullif(impressions, 0) as click_through_rate,
    spend / nullif(clicks, 0) as cost_per_click,
    platform_conversions,
    spend / nullif(platform_conversions, 0) as cost_per_result,
    platform_conversion_value
from unioned
