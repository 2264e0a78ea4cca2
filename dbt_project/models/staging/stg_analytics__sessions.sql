with source as (
    {{ newest_file_wins(source('raw', 'analytics_sessions'), ['date', 'channel']) }}
),

renamed as (
    select
        date as session_date,
        lower(channel) as channel,
        sessions,
        _source_file,
        _loaded_at
    from source
)

select * from renamed
