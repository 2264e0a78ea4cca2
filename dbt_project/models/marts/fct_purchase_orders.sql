{#-
    One row per PO line. Lead times in days from ordered_date. A line is open while its
    status is open, partial (some units received, more to come) or draft (approved by the
    buyer in a returned reorder file, not yet in purchase_orders.csv); a received line with
    fewer units than ordered was short-shipped and is closed; it is late when still open after its expected date
    (as of the as-of date), or when it was received after the expected date.
-#}
with pos_loaded as (
    select po_number, supplier_id, sku, qty_ordered, qty_received, ordered_date, expected_date,
           received_date, status
    from {{ ref('stg_purchasing__purchase_orders') }}
    union all
    select po_number, supplier_id, sku, qty_ordered, qty_received, ordered_date, expected_date,
           received_date, status
    from {{ ref('int_draft_purchase_orders') }}
),

-- A replay (--as-of) sees the lines ordered by its date, and a line received after it as
-- still open with nothing received: that is what the buyer knew then.
pos as (
    select
        po_number, supplier_id, sku, qty_ordered,
        case when received_later then 0 else qty_received end as qty_received,
        ordered_date, expected_date,
        case when received_later then null else received_date end as received_date,
        case when received_later then 'open' else status end as status
    from (
        select *, received_date is not null and not {{ known_by_as_of('received_date') }} as received_later
        from pos_loaded
        where {{ known_by_as_of('ordered_date') }}
    )
),

as_of as (
    select {{ as_of_date() }} as as_of_date
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
    {{ dbt.datediff('pos.ordered_date', 'pos.expected_date', 'day') }} as expected_lead_time_days,
    {{ dbt.datediff('pos.ordered_date', 'pos.received_date', 'day') }} as actual_lead_time_days,
    case when pos.received_date is not null
        then {{ dbt.datediff('pos.expected_date', 'pos.received_date', 'day') }}
    end as days_late_on_receipt,
    pos.status = 'received' and coalesce(pos.qty_received, 0) < pos.qty_ordered as is_short_shipped,
    pos.status in ('open', 'partial', 'draft') as is_open,
    pos.status = 'draft' as is_draft,
    case when pos.received_date is not null then pos.received_date <= pos.expected_date end as is_on_time,
    (pos.status in ('open', 'partial', 'draft') and pos.expected_date < as_of.as_of_date)
        or (pos.received_date is not null and pos.received_date > pos.expected_date) as is_late,
    case when pos.status in ('open', 'partial', 'draft') and pos.expected_date < as_of.as_of_date
        then {{ dbt.datediff('pos.expected_date', 'as_of.as_of_date', 'day') }}
    end as days_overdue,
    as_of.as_of_date
from pos
cross join as_of
