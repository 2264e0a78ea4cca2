{{ config(meta={'dagster': {'ref': {'name': 'fct_support_tickets'}}}) }}
-- meta.dagster.ref: a test reading several models is a check on fct_support_tickets in Dagster
-- (without it dagster-dbt logs it as an observation and its failure stops nothing).
-- Every distinct ticket of both help desks is exactly one row of fct_support_tickets.
with landing as (
    select 'zendesk-' || cast(id as varchar) as ticket_id from {{ source('raw', 'zendesk_tickets') }}
    union
    select 'gorgias-' || cast(id as varchar) from {{ source('raw', 'gorgias_tickets') }}
),

mart as (
    select ticket_id, count(*) as n from {{ ref('fct_support_tickets') }} group by 1
)

select coalesce(landing.ticket_id, mart.ticket_id) as ticket_id, mart.n
from landing
full outer join mart on mart.ticket_id = landing.ticket_id
where mart.n is null or mart.n != 1 or landing.ticket_id is null
