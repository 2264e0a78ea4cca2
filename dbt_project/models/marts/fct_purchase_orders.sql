{#-
    One row per PO line. Lead times in days from ordered_date. A line is open while its
    status is open, partial (some units received, more to come) or draft (approved by the
    buyer in a returned reorder file, not yet in purchase_orders.csv); a received line with
    fewer units than ordered was short-shipped and is closed; it is late when still open after its expected date
    (as of the as-of date), or when it was received after the expected date.
-#}
with pos as (
    select po_number, supplier_id, sku, qty_ordered, qty_received, ordered_date, expected_date,
           received_date, status
    from {{ ref('stg_purchasing__purchase_orders') }}
    union all
    select po_number, supplier_id, sku, qty_ordered, qty_received, ordered_date, expected_date,
           received_date, status
    from {{ ref('int_draft_purchase_orders') }}
),

as_of as (
    select coalesce(
        {% if var('as_of', none) %}cast('{{ var("as_of") }}' as date){% else %}null{% endif %},
        (select max(order_date) from {{ ref('fct_orders') }}),
        (select max(ordered_date) from pos)
    ) as as_of_date
)

select
    pos.po_number || '|' || pos.sku as po_line_id,
    pos.po_number,
    pos.supplier_id,
    pos.sku,
    pos.qty_ordered,
    coalesce(pos.qty_received, 0) as qty_received,
    greatest(pos.qty_ordered - coalesce(pos.qty_received, 0), 0) as qty_open,
    pos.ordered_date,
    pos.expected_date,
    pos.received_date,
    pos.status,
    pos.expected_date - pos.ordered_date as expected_lead_time_days,
    pos.received_date - pos.ordered_date as actual_lead_time_days,
    case when pos.received_date is not null then pos.received_date - pos.expected_date end as days_late_on_receipt,
    pos.status = 'received' and coalesce(pos.qty_received, 0) < pos.qty_ordered as is_short_shipped,
    pos.status in ('open', 'partial', 'draft') as is_open,
    pos.status = 'draft' as is_draft,
    case when pos.received_date is not null then pos.received_date <= pos.expected_date end as is_on_time,
    (pos.status in ('open', 'partial', 'draft') and pos.expected_date < as_of.as_of_date)
        or (pos.received_date is not null and pos.received_date > pos.expected_date) as is_late,
    case when pos.status in ('open', 'partial', 'draft') and pos.expected_date < as_of.as_of_date
        then as_of.as_of_date - pos.expected_date
    end as days_overdue,
    as_of.as_of_date
from pos
cross join as_of
