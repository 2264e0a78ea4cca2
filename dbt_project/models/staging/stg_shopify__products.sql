with source as (
    {{ newest_file_wins(source('raw', 'shopify_products'), ['variant_sku']) }}
),

renamed as (
    select
        variant_sku as sku,
        handle as product_handle,
        -- Product-level fields are written only on a product's first variant row.
        max(title) over (partition by handle) as product_title,
        max(vendor) over (partition by handle) as vendor,
        max(type) over (partition by handle) as product_type,
        max(product_category) over (partition by handle) as product_category,
        max(tags) over (partition by handle) as tags,
        nullif(concat_ws(' / ', option1_value, option2_value, option3_value), '') as variant_title,
        variant_price as price,
        variant_compare_at_price as compare_at_price,
        cost_per_item as unit_cost,
        lower(coalesce(status, 'active')) as status,
        _source_file,
        _loaded_at
    from source
    where variant_sku is not null
)

select * from renamed
