-- One row per SKU, location and snapshot day, from the Shopify inventory snapshots.
-- A day is a stockout when nothing is available to sell at the end of it.
-- Incremental: snapshots loaded since the last build replace their (sku, location, day)
-- rows; staging already keeps the newest export per key, so a full refresh is identical.
-- On Spark a table: dbt-spark has no delete+insert (its merge needs Delta, Iceberg or Hudi).
{{ config(materialized=('table' if target.type == 'spark' else 'incremental'),
          unique_key='inventory_day_id', incremental_strategy='delete+insert') }}

select
    sku || '|' || location || '|' || cast(snapshot_date as {{ dbt.type_string() }}) as inventory_day_id,
    snapshot_date as inventory_date,
    sku,
    location,
    on_hand,
    available,
    committed,
    incoming,
    unavailable,
    coalesce(available, on_hand - coalesce(committed, 0)) <= 0 as is_stockout,
    _loaded_at
from {{ ref('stg_shopify__inventory_snapshots') }}
{% if is_incremental() %}
where _loaded_at > (select coalesce(max(existing._loaded_at), timestamp '1900-01-01') from {{ this }} as existing)
{% endif %}
