{{ config(meta={'dagster': {'ref': {'name': 'fct_marketing_daily'}}}) }}
-- meta.dagster.ref: a test reading several models is a check on fct_marketing_daily in Dagster
-- (without it dagster-dbt logs it as an observation and its failure stops nothing).
-- It must depend on that model for Dagster to select it with the model:
-- depends_on: {{ ref('fct_marketing_daily') }}
-- Spend in two currencies must never be added into one number.
select platform, report_date, campaign_name, count(distinct currency_code) as currencies
from (
    select platform, report_date, campaign_name, currency_code from {{ ref('stg_meta_ads__ad_daily') }}
    union all
    select platform, report_date, campaign_name, currency_code from {{ ref('stg_google_ads__ad_daily') }}
    union all
    select platform, report_date, campaign_name, currency_code from {{ ref('stg_tiktok_ads__ad_daily') }}
)
group by 1, 2, 3
having count(distinct currency_code) > 1
