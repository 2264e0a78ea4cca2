with source as (
    {{ newest_file_wins(source('raw', 'analytics_promotions'), ['name']) }}
),

renamed as (
    select
        name as promotion_name,
        starts_on,
        ends_on,
        skus as sku_list,
        collection,
        expected_uplift,
        _source_file,
        _loaded_at
    from source
)

select * from renamed
