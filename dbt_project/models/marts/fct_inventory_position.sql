{#-
    One row per SKU as of the run date: the latest snapshot on or before the as-of date,
    plus open purchase-order quantity. inventory_position = on_hand + on_order - committed.
-#}
with as_of as (
    select {{ as_of_date() }} as as_of_date
),

latest_snapshot as (
    select
        inv.sku,
        max(inv.inventory_date) as snapshot_date
    from {{ ref('fct_inventory_daily') }} as inv
    cross join as_of
    where inv.inventory_date <= as_of.as_of_date
    group by inv.sku
),

stock as (
    select
        inv.sku,
        inv.inventory_date as snapshot_date,
        cast(sum(inv.on_hand) as bigint) as on_hand,
        cast(sum(inv.available) as bigint) as available,
        cast(sum(inv.committed) as bigint) as committed,
        cast(sum(inv.unavailable) as bigint) as unavailable
    from {{ ref('fct_inventory_daily') }} as inv
    inner join latest_snapshot
        on latest_snapshot.sku = inv.sku and latest_snapshot.snapshot_date = inv.inventory_date
    group by 1, 2
),

open_pos as (
    select
        pos.sku,
        cast(sum(pos.qty_open) as bigint) as on_order,
        min(pos.expected_date) as next_expected_date,
        count(distinct pos.po_number) as open_po_count,
        bool_or(pos.is_late) as has_late_po
    from {{ ref('fct_purchase_orders') }} as pos
    cross join as_of
    where pos.is_open and pos.ordered_date <= as_of.as_of_date
    group by pos.sku
)

select
    products.sku,
    products.supplier_id,
    as_of.as_of_date,
    stock.snapshot_date,
    coalesce(stock.on_hand, 0) as on_hand,
    coalesce(stock.available, 0) as available,
    coalesce(stock.committed, 0) as committed,
    coalesce(stock.unavailable, 0) as unavailable,
    coalesce(open_pos.on_order, 0) as on_order,
    coalesce(stock.on_hand, 0) + coalesce(open_pos.on_order, 0) - coalesce(stock.committed, 0)
        as inventory_position,
    open_pos.next_expected_date,
    coalesce(open_pos.open_po_count, 0) as open_po_count,
    coalesce(open_pos.has_late_po, false) as has_late_po,
    coalesce(stock.on_hand, 0) * products.unit_cost as on_hand_value,
    stock.sku is not null as has_inventory_snapshot
from {{ ref('dim_products') }} as products
cross join as_of
left join stock on stock.sku = products.sku
left join open_pos on open_pos.sku = products.sku
