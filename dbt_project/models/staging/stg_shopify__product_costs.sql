{#-
    One row per SKU and period of one unit cost: Shopify's `Cost per item` as each
    products export showed it. Every export is a snapshot (dated by its file name, else the
    day it was loaded, raw column as_of); a cost holds from the snapshot that first shows it
    (valid_from) to the day before the next snapshot with another cost (valid_to, null for
    the cost in effect now). An empty cost in a snapshot ends nothing: the last known cost
    holds until a snapshot shows a new one.
-#}
with snapshots as (
    {{ newest_file_wins(source('raw', 'shopify_products'), ['as_of', 'variant_sku']) }}
),

costs as (
    select variant_sku as sku, as_of as snapshot_date, cost_per_item as unit_cost
    from snapshots
    where variant_sku is not null and cost_per_item is not null and as_of is not null
),

changes as (
    select
        sku,
        snapshot_date,
        unit_cost,
        lag(unit_cost) over (partition by sku order by snapshot_date) as previous_cost
    from costs
),

periods as (
    select sku, snapshot_date as valid_from, unit_cost
    from changes
    where previous_cost is null or previous_cost <> unit_cost
)

select
    sku,
    valid_from,
    cast({{ dbt.dateadd('day', -1, 'lead(valid_from) over (partition by sku order by valid_from)') }}
        as date) as valid_to,
    unit_cost,
    row_number() over (partition by sku order by valid_from) = 1 as is_first_known_cost
from periods
