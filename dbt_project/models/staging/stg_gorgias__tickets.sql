with source as (
    {{ newest_file_wins(source('raw', 'gorgias_tickets'), ['id']) }}
),

renamed as (
    select
        'gorgias' as helpdesk,
        'gorgias-' || cast(id as {{ dbt.type_string() }}) as ticket_id,
        id as helpdesk_ticket_id,
        customer_email as requester_email,
        subject,
        tags,
        lower(status) as status,
        cast(null as {{ dbt.type_string() }}) as priority,
        lower(channel) as channel,
        cast(null as {{ dbt.type_string() }}) as ticket_type,
        assignee_user_name as assignee,
        created_datetime as created_at,
        last_message_datetime as updated_at,
        closed_datetime as solved_at,
        -- Gorgias surveys score 1-5; 4 and 5 count as satisfied, as CSAT is usually reported.
        case
            when satisfaction_survey_score >= 4 then true
            when satisfaction_survey_score is not null then false
        end as is_satisfied,
        satisfaction_survey_score as satisfaction_score,
        messages_count,
        case when opened_datetime is not null
            then {{ minutes_between('created_datetime', 'opened_datetime') }}
        end as first_reply_minutes,
        case when closed_datetime is not null
            then {{ minutes_between('created_datetime', 'closed_datetime') }}
        end as full_resolution_minutes,
        _source_file,
        _source_row,
        _loaded_at
    from source
)

select * from renamed
