-- One row per order. Shopify writes order-level fields only on an order's first line
-- item row, so the order is read from that row of each file; the newest file wins.
-- shopify_order_id: the export's Id when it is all digits; an Id a spreadsheet turned into
-- a number (5.81234E+12, the same on many orders) is not an id, so the order Name is used.
-- taxes_included: var taxes_included 'true'/'false', or 'auto': told per order (Taxes > 0
-- and Total = Subtotal + Shipping + Duties, to the cent, while it is not also
-- Subtotal + Shipping + Taxes + Duties).
with source as (
    select * from {{ source('raw', 'shopify_orders') }}
),

first_lines as (
    select *
    from source
    qualify row_number() over (partition by _file_sha256, name order by _source_row) = 1
),

deduplicated as (
    {{ newest_file_wins('first_lines', ['name']) }}
),

renamed as (
    select
        name as order_name,
        case when {{ regex_full_match('trim(id)', '[0-9]+') }} then trim(id) else name end as shopify_order_id,
        email,
        {{ normalise_email('email') }} as email_normalised,
        lower(financial_status) as financial_status,
        lower(fulfillment_status) as fulfillment_status,
        upper(currency) as currency_code,
        coalesce(subtotal, 0) as subtotal,
        coalesce(shipping, 0) as shipping,
        coalesce(taxes, 0) as taxes,
        coalesce(total, 0) as total,
        discount_code,
        coalesce(discount_amount, 0) as discount_amount,
        coalesce(refunded_amount, 0) as refunded_amount,
        coalesce(duties, 0) as duties,
        {%- set taxes_included = (var('taxes_included') | string | trim | lower) %}
        {%- if taxes_included == 'true' %}
        true as taxes_included,
        {%- elif taxes_included == 'false' %}
        false as taxes_included,
        {%- else %}
        coalesce(
            coalesce(taxes, 0) > 0
            and abs(coalesce(total, 0) - (coalesce(subtotal, 0) + coalesce(shipping, 0) + coalesce(duties, 0))) < 0.005
            and abs(coalesce(total, 0) - (coalesce(subtotal, 0) + coalesce(shipping, 0) + coalesce(taxes, 0) + coalesce(duties, 0))) >= 0.005,
            false
        ) as taxes_included,
        {%- endif %}
        -- The tax rate Shopify writes into each tax's name ("GB VAT 20%"), summed over the
        -- order's taxes; null when no name carries a rate.
        ({% for n in range(1, 6) %}coalesce(try_cast(replace(regexp_extract(
            tax_{{ n }}_name, '([0-9]+(?:[.,][0-9]+)?)\s*%', 1), ',', '.') as double), 0)
            {%- if not loop.last %} + {% endif %}{% endfor %}) / 100 as named_tax_rate_sum,
        shipping_method,
        accepts_marketing,
        created_at,
        {{ store_date('created_at') }} as created_date,
        paid_at,
        fulfilled_at,
        cancelled_at,
        tags,
        lower(source) as source_name,
        nullif(trim(payment_method), '') as payment_method,
        note_attributes,
        nullif(trim(regexp_extract(note_attributes, 'utm_source:\s*([^\n,]+)', 1)), '') as utm_source,
        nullif(trim(regexp_extract(note_attributes, 'utm_medium:\s*([^\n,]+)', 1)), '') as utm_medium,
        nullif(trim(regexp_extract(note_attributes, 'utm_campaign:\s*([^\n,]+)', 1)), '') as utm_campaign,
        cancelled_at is not null as is_cancelled,
        coalesce({{ regex_contains('lower(tags)', '(^|[ ,])test($|[ ,])') }}, false) as is_test,
        _source_file,
        _source_row,
        _loaded_at
    from deduplicated
)

select
    {{ star_except('renamed', ['named_tax_rate_sum']) }},
    nullif(named_tax_rate_sum, 0) as named_tax_rate
from renamed
