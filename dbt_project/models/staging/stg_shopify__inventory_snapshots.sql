with source as (
    {{ newest_file_wins(source('raw', 'shopify_inventory'), ['as_of', 'sku', 'location']) }}
),

renamed as (
    select
        as_of as snapshot_date,
        sku,
        location,
        on_hand,
        available,
        committed,
        incoming,
        unavailable,
        _source_file,
        _loaded_at
    from source
)

select * from renamed
