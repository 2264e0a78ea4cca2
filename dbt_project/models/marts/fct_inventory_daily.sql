-- One row per SKU, location and snapshot day, from the Shopify inventory snapshots.
-- A day is a stockout when nothing is available to sell at the end of it.
select
    sku || '|' || location || '|' || cast(snapshot_date as varchar) as inventory_day_id,
    snapshot_date as inventory_date,
    sku,
    location,
    on_hand,
    available,
    committed,
    incoming,
    unavailable,
    coalesce(available, on_hand - coalesce(committed, 0)) <= 0 as is_stockout
from {{ ref('stg_shopify__inventory_snapshots') }}
