{{ config(meta={'dagster': {'ref': {'name': 'fct_orders'}}}) }}
-- meta.dagster.ref: a test reading several models is a check on fct_orders in Dagster
-- (without it dagster-dbt logs it as an observation and its failure stops nothing).
-- fct_orders holds every order named in the Shopify exports, once, and its Total equals
-- the Total on the order's first row in its newest export, computed here straight from raw.
with newest_first_rows as (
    select raw.name, raw.total
    from {{ source('raw', 'shopify_orders') }} as raw
    left join {{ source('raw', 'load_log') }} as files
        on files.file_sha256 = raw._file_sha256 and files.status = 'loaded'
    qualify row_number() over (
        partition by raw.name
        order by
            -- a first row (order fields present) of the newest export
            (raw.created_at is not null) desc, files.max_date desc nulls last,
            raw._loaded_at desc, raw._source_file desc, raw._source_row
    ) = 1
),

landing as (
    select count(*) as orders, sum(coalesce(total, 0)) as total from newest_first_rows
),

mart as (
    select count(*) as orders, sum(total_charged) as total from {{ ref('fct_orders') }}
)

select landing.orders as landing_orders, mart.orders as mart_orders,
       landing.total as landing_total, mart.total as mart_total
from landing cross join mart
where landing.orders != mart.orders or abs(landing.total - mart.total) > 0.005
