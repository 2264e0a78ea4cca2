with source as (
    {{ newest_file_wins(source('raw', 'meta_ads'),
        ['coalesce(day, reporting_starts)', 'campaign_name', 'ad_set_name', 'ad_name']) }}
),

renamed as (
    select
        'meta' as platform,
        coalesce(day, reporting_starts) as report_date,
        campaign_name,
        ad_set_name as ad_group_name,
        ad_name,
        currency as currency_code,
        amount_spent as spend,
        impressions,
        reach,
        link_clicks as clicks,
        -- Results count whatever Result indicator says; purchases are the conversions.
        coalesce(purchases, case when result_indicator ilike '%purchase%' then results end)
            as platform_conversions,
        purchases_conversion_value as platform_conversion_value,
        delivery_status,
        _source_file,
        _source_row,
        _loaded_at
    from source
    -- Meta exports may hold multi-day rows when not broken down by day; only daily rows are facts.
    where reporting_ends is null or reporting_ends = reporting_starts or day is not null
)

select * from renamed
