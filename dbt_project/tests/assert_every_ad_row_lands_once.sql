{{ config(meta={'dagster': {'ref': {'name': 'fct_marketing_daily'}}}) }}
-- meta.dagster.ref: a test reading several models is a check on fct_marketing_daily in Dagster
-- (without it dagster-dbt logs it as an observation and its failure stops nothing).
-- Every distinct ad row (platform, day, campaign, ad group, ad) is counted once in
-- fct_marketing_daily, and spend per platform matches the deduplicated exports.
with landing as (
    select 'meta' as channel, count(*) as ad_rows from (
        select distinct coalesce(day, reporting_starts), campaign_name, ad_set_name, ad_name
        from {{ source('raw', 'meta_ads') }}
        where reporting_ends is null or reporting_ends = reporting_starts or day is not null)
    union all
    select 'google', count(*) from (
        select distinct day, campaign, ad_group from {{ source('raw', 'google_ads') }})
    union all
    select 'tiktok', count(*) from (
        select distinct by_day, campaign_name, ad_group_name, ad_name from {{ source('raw', 'tiktok_ads') }})
),

mart as (
    select channel, sum(source_rows) as ad_rows from {{ ref('fct_marketing_daily') }} group by 1
)

select landing.channel, landing.ad_rows as landing_rows, mart.ad_rows as mart_rows
from landing
left join mart on mart.channel = landing.channel
where landing.ad_rows != coalesce(mart.ad_rows, 0)
