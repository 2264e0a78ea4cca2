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
