{#-
    The run's as-of date, resolved once for every mart, analytics table and output: the
    `as_of` var (`storeops run --as-of`, a replay of a past date), else the last date in
    the data: the last order date (store time), or for a store without orders yet the last
    purchase-order or inventory-snapshot date. Marts read it through the as_of_date()
    macro, the Python assets through orchestration.defs.shared.run_as_of; nothing else
    decides it.
-#}
{{ config(materialized='table') }}

with data_dates as (
    select
        (select max(created_date) from {{ ref('stg_shopify__orders') }}) as last_order_date,
        (select max(ordered_date) from {{ ref('stg_purchasing__purchase_orders') }}) as last_purchase_order_date,
        (select max(snapshot_date) from {{ ref('stg_shopify__inventory_snapshots') }}) as last_snapshot_date
)

select
    coalesce(
        {% if var('as_of', none) %}cast('{{ var("as_of") }}' as date){% else %}null{% endif %},
        last_order_date, last_purchase_order_date, last_snapshot_date
    ) as as_of_date,
    {{ 'true' if var('as_of', none) else 'false' }} as is_replay,
    last_order_date
from data_dates
