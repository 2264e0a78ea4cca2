-- Zendesk and Gorgias tickets in one shape, with the customer's normalised email.
with zendesk as (
    select
        ticket_id, helpdesk, helpdesk_ticket_id, requester_email, subject, tags, status,
        channel, created_at, solved_at, is_satisfied, first_reply_minutes,
        full_resolution_minutes, reopens, replies
    from {{ ref('stg_zendesk__tickets') }}
),

gorgias as (
    select
        ticket_id, helpdesk, helpdesk_ticket_id, requester_email, subject, tags, status,
        channel, created_at, solved_at, is_satisfied, first_reply_minutes,
        full_resolution_minutes, cast(null as bigint) as reopens, messages_count as replies
    from {{ ref('stg_gorgias__tickets') }}
),

unioned as (
    select * from zendesk
    union all
    select * from gorgias
)

select
    *,
    {{ normalise_email('requester_email') }} as email_normalised,
    {{ store_date('created_at') }} as created_date,
    {{ ticket_category('tags', 'subject') }} as category,
    -- "#1042" in the subject links the ticket to an order.
    nullif(regexp_extract(subject, '#\s?(\d{3,})', 1), '') as mentioned_order_number
from unioned
