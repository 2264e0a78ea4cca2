with source as (
    {{ newest_file_wins(source('raw', 'purchasing_purchase_orders'), ['po_number', 'sku']) }}
),

renamed as (
    select
        po_number,
        supplier as supplier_id,
        sku,
        qty_ordered,
        qty_received,
        ordered_at as ordered_date,
        expected_at as expected_date,
        received_at as received_date,
        lower(status) as status,
        _source_file,
        _loaded_at
    from source
)

select * from renamed
