-- One row per order line: (order, line number within the order). Lines are taken from
-- the same file as their order (the newest export of that order), so an order's lines
-- never mix two exports.
-- line_kind: a line with a SKU is a 'product' (stock). A line without one is not stock:
-- Shopify's tip line (named Tip) is a 'tip', a line named like a gift card is a
-- 'gift_card' (a liability, not a sale), any other SKU-less line (custom item, shipping
-- protection, ...) is 'custom' (a sale in Shopify's reports, but no SKU demand).
with source as (
    select
        *,
        row_number() over (partition by _file_sha256, name order by _source_row) as line_number
    from {{ source('raw', 'shopify_orders') }}
),

orders as (
    select order_name, _source_file from {{ ref('stg_shopify__orders') }}
),

lines as (
    select source.*
    from source
    inner join orders
        on orders.order_name = source.name
        and orders._source_file = source._source_file
),

renamed as (
    select
        name || '-' || cast(line_number as {{ dbt.type_string() }}) as order_line_id,
        name as order_name,
        line_number,
        nullif(trim(lineitem_sku), '') as sku,
        case
            when nullif(trim(lineitem_sku), '') is not null then 'product'
            when lower(trim(lineitem_name)) = 'tip' then 'tip'
            when lower(lineitem_name) like '%gift card%' then 'gift_card'
            else 'custom'
        end as line_kind,
        lineitem_name as line_name,
        lineitem_quantity as quantity,
        lineitem_price as unit_price,
        lineitem_compare_at_price as compare_at_price,
        coalesce(lineitem_discount, 0) as line_discount,
        lower(lineitem_fulfillment_status) as line_fulfillment_status,
        lineitem_requires_shipping as requires_shipping,
        lineitem_taxable as is_taxable,
        _source_file,
        _source_row,
        _loaded_at
    from lines
)

select * from renamed
