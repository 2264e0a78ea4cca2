with source as (
    {{ newest_file_wins(source('raw', 'zendesk_tickets'), ['id']) }}
),

renamed as (
    select
        'zendesk' as helpdesk,
        'zendesk-' || cast(id as {{ dbt.type_string() }}) as ticket_id,
        id as helpdesk_ticket_id,
        requester_email,
        subject,
        tags,
        lower(status) as status,
        lower(priority) as priority,
        lower(via) as channel,
        ticket_type,
        assignee,
        created_at,
        updated_at,
        solved_at,
        -- Zendesk: Good / Bad are answers; Offered / Unoffered mean no rating.
        case lower(satisfaction_score)
            when 'good' then true
            when 'bad' then false
        end as is_satisfied,
        lower(satisfaction_score) as satisfaction_status,
        reopens,
        replies,
        first_reply_time_in_minutes as first_reply_minutes,
        full_resolution_time_in_minutes as full_resolution_minutes,
        _source_file,
        _source_row,
        _loaded_at
    from source
)

select * from renamed
