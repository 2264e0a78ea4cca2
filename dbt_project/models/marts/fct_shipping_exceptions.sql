{#-
    Labels and orders that do not match, one row each, to look at:
      label_without_order   a ShipStation label whose order number is no order (a manual
                            or wholesale shipment, or an order from another store): its
                            cost is in no order's margin
      shipped_without_label an order shipped by carrier with no label in the shipping
                            export (shipped with another tool, or the export is missing a
                            period): its shipping cost, and so its contribution margin 2,
                            is unknown
-#}
with orders as (
    select order_name, regexp_replace(order_name, '^#', '') as order_key, created_date
    from {{ ref('stg_shopify__orders') }}
),

shipments as (
    select * from {{ ref('stg_shipstation__shipments') }}
    where {{ known_by_as_of('ship_date') }}
),

coverage as (
    -- the days the shipping exports cover: an order outside them is not "without a label",
    -- its label is in no file storeops has
    select min(ship_date) as first_day, max(ship_date) as last_day from shipments
)

select
    'label_without_order' as exception,
    shipments.order_number as reference,
    shipments.ship_date as exception_date,
    shipments.label_cost as amount,
    shipments.shipment_id,
    shipments._source_file as source_file,
    shipments._source_row as source_row
from shipments
left join orders on orders.order_key = shipments.order_key
where orders.order_name is null

union all

select
    'shipped_without_label' as exception,
    profit.order_name as reference,
    profit.order_date as exception_date,
    cast(null as decimal(18, 4)) as amount,
    cast(null as {{ dbt.type_string() }}) as shipment_id,
    cast(null as {{ dbt.type_string() }}) as source_file,
    cast(null as bigint) as source_row
from {{ ref('fct_order_profit') }} as profit
cross join coverage
where profit.is_shipped and profit.shipping_cost is null
    and profit.order_date between coverage.first_day and coverage.last_day
