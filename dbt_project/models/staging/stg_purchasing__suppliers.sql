with source as (
    {{ newest_file_wins(source('raw', 'purchasing_suppliers'), ['supplier']) }}
),

renamed as (
    select
        supplier as supplier_id,
        lead_time_days,
        lead_time_std_days,
        moq_units,
        case_pack,
        order_cycle_days,
        upper(currency) as currency_code,
        _source_file,
        _loaded_at
    from source
)

select * from renamed
