{#-
    One row per ShipStation shipment record (a label, or an order marked as shipped),
    newest export wins. order_key is the order number without a leading '#': ShipStation
    stores Shopify's `#1001` as `1001`. label_cost counts only labels not voided (a voided
    label is refunded by the carrier); weight in ounces whatever unit the export used.
-#}
with source as (
    {{ newest_file_wins(source('raw', 'shipstation_shipments'), ['shipment_id']) }}
)

select
    trim(shipment_id) as shipment_id,
    trim(order_number) as order_number,
    regexp_replace(trim(order_number), '^#', '') as order_key,
    create_date as created_at,
    ship_date,
    carrier,
    service,
    package,
    case lower(coalesce(weight_units, 'ounces'))
        when 'pounds' then weight * 16
        when 'lb' then weight * 16
        when 'grams' then weight / 28.349523125
        when 'g' then weight / 28.349523125
        when 'kilograms' then weight * 35.27396195
        when 'kg' then weight * 35.27396195
        else weight
    end as weight_oz,
    coalesce(is_return_label, false) as is_return_label,
    coalesce(voided, false) as is_voided,
    void_date as voided_at,
    shipment_cost,
    coalesce(insurance_cost, 0) as insurance_cost,
    case when coalesce(voided, false) then 0
        else coalesce(shipment_cost, 0) + coalesce(insurance_cost, 0)
    end as label_cost,
    tracking_number,
    _source_file,
    _source_row,
    _loaded_at
from source
