with source as (
    {{ newest_file_wins(source('raw', 'google_ads'), ['day', 'campaign', "coalesce(ad_group, '')"]) }}
),

renamed as (
    select
        'google' as platform,
        day as report_date,
        campaign as campaign_name,
        ad_group as ad_group_name,
        cast(null as {{ dbt.type_string() }}) as ad_name,
        currency_code,
        cost as spend,
        impressions,
        cast(null as bigint) as reach,
        clicks,
        conversions as platform_conversions,
        conv_value as platform_conversion_value,
        _source_file,
        _source_row,
        _loaded_at
    from source
)

select * from renamed
