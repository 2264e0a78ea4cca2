{{ config(severity='warn', meta={'dagster': {'ref': {'name': 'fct_marketing_daily'}}}) }}
-- A platform's day and campaign reported at two grains (campaign rows with no ad group or
-- ad, and ad-group or ad rows) count its spend twice: a campaign-level export beside the
-- ad-level rows an API pull writes (orchestration/pull), or two exports of different
-- breakdowns. A warning naming the platform, day, campaign and the files to look at:
-- remove the coarser file for the days the finer one covers.
with ad_rows as (
    select platform, report_date, campaign_name, ad_group_name, ad_name, _source_file
    from {{ ref('stg_meta_ads__ad_daily') }}
    union all
    select platform, report_date, campaign_name, ad_group_name, ad_name, _source_file
    from {{ ref('stg_google_ads__ad_daily') }}
    union all
    select platform, report_date, campaign_name, ad_group_name, ad_name, _source_file
    from {{ ref('stg_tiktok_ads__ad_daily') }}
),

graded as (
    select *,
        case when ad_name is not null then 'ad'
             when ad_group_name is not null then 'ad group'
             else 'campaign' end as grain
    from ad_rows
),

mixed as (
    select platform, report_date, campaign_name,
        min(grain) as coarser_or_finer, max(grain) as finer_or_coarser,
        min(_source_file) as a_file, max(_source_file) as another_file
    from graded
    group by platform, report_date, campaign_name
    having count(distinct grain) > 1
)

-- with the spend fct_marketing_daily holds for them (counted twice); reading the mart also
-- makes this test a check on it in Dagster (meta.dagster.ref must name a parent)
select mixed.*, marketing.spend as spend_in_marts
from mixed
left join {{ ref('fct_marketing_daily') }} as marketing
    on marketing.channel = mixed.platform
    and marketing.marketing_date = mixed.report_date
    and marketing.campaign_name = mixed.campaign_name
