-- Lines a buyer approved in a returned reorder file become draft purchase orders, so they
-- count as stock on order until the real PO appears in purchase_orders.csv (same supplier
-- and SKU, ordered on or after the approval), which supersedes the draft.
with approvals as (
    select * from {{ ref('stg_approvals__reorder_lines') }}
),

products as (
    select sku, supplier_id, lead_time_days from {{ ref('stg_purchasing__sku_suppliers') }}
    left join {{ ref('stg_purchasing__suppliers') }} using (supplier_id)
    qualify row_number() over (partition by sku order by supplier_id nulls last) = 1
),

real_pos as (
    select supplier_id, sku, ordered_date from {{ ref('stg_purchasing__purchase_orders') }}
)

select
    'DRAFT-' || cast(approvals.approved_date as {{ dbt.type_string() }}) || '-' || coalesce(products.supplier_id, 'unknown') as po_number,
    products.supplier_id,
    approvals.sku,
    approvals.approved_qty as qty_ordered,
    0 as qty_received,
    approvals.approved_date as ordered_date,
    approvals.approved_date + cast(coalesce(products.lead_time_days, 14) as integer) as expected_date,
    cast(null as date) as received_date,
    'draft' as status
from approvals
left join products on products.sku = approvals.sku
where not exists (
    select 1 from real_pos
    where real_pos.sku = approvals.sku
      and real_pos.supplier_id = products.supplier_id
      and real_pos.ordered_date >= approvals.approved_date
)
