with source as (
    {{ newest_file_wins(source('raw', 'purchasing_sku_suppliers'), ['sku', 'supplier']) }}
),

renamed as (
    select
        sku,
        supplier as supplier_id,
        unit_cost,
        moq_units,
        case_pack,
        _source_file,
        _loaded_at
    from source
)

select * from renamed
