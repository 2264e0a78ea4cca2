with source as (
    select
        *,
        {{ store_date('_loaded_at') }} as approved_date
    from {{ source('raw', 'approvals_reorder_lines') }}
    where approved_qty > 0
),

deduplicated as (
    select * from source
    qualify row_number() over (
        partition by sku, approved_date order by _loaded_at desc, _source_file desc
    ) = 1
),

renamed as (
    select
        sku,
        approved_qty,
        suggested_qty,
        approved_date,
        _source_file,
        _loaded_at
    from deduplicated
)

select * from renamed
