with source as (
    {{ newest_file_wins(source('raw', 'tiktok_ads'),
        ['by_day', 'campaign_name', "coalesce(ad_group_name, '')", "coalesce(ad_name, '')"]) }}
),

renamed as (
    select
        'tiktok' as platform,
        by_day as report_date,
        campaign_name,
        ad_group_name,
        ad_name,
        currency as currency_code,
        cost as spend,
        impressions,
        cast(null as bigint) as reach,
        clicks_destination as clicks,
        conversions as platform_conversions,
        total_complete_payment_value as platform_conversion_value,
        _source_file,
        _source_row,
        _loaded_at
    from source
)

select * from renamed
