{#-
    One row per order line: the line with the goods returned on it, from the order's
    refund split (int_order_refunds_allocated):
      full       every sold line is returned whole;
      matched    exactly the matched units of each line carry the return (the towel line,
                 not the soap line);
      estimated  the returns are spread over the sold lines by value, and units_returned
                 is the same share of the quantity (fractional);
      none       nothing returned.
    Tips and gift cards are never returns. returns is before tax, like gross_line_revenue.
-#}
with lines as (
    select * from {{ ref('int_order_lines_enriched') }}
),

refunds as (
    select * from {{ ref('int_order_refunds_allocated') }}
),

returned_units as (
    select
        lines.*,
        refunds.refund_split_method,
        coalesce(refunds.tax_rate, 0) as tax_rate,
        refunds.returns_charged as order_returns_charged,
        refunds.refunded_taxes as order_refunded_taxes,
        case
            when not lines.is_sales_line or refunds.refund_split_method is null then 0
            when refunds.refund_split_method = 'full' then lines.quantity
            when refunds.refund_split_method = 'matched'
                then coalesce({{ list_element('refunds.matched_units_per_line', 'lines.sales_line_index') }}, 0)
            when refunds.refund_split_method = 'estimated' and lines.order_goods_charged > 0
                then lines.quantity * refunds.returns_charged / lines.order_goods_charged
            else 0
        end as units_returned
    from lines
    left join refunds on refunds.order_name = lines.order_name
),

returned as (
    select
        *,
        case
            when units_returned = 0 then 0
            when refund_split_method = 'full' then value_charged
            -- matched units, their value rounded to the cent as the refund line is booked
            when refund_split_method = 'matched'
                then {{ cents('units_returned * value_charged / quantity') }}
            when refund_split_method = 'estimated'
                then order_returns_charged * value_charged / order_goods_charged
            else 0
        end as returns_charged
    from returned_units
)

select
    returned.*,
    {{ money('returns_charged * (1 - tax_fraction)') }} as returns,
    -- money back for the goods on the line: the returns with their share of the refunded
    -- tax (tax-exclusive orders; inclusive amounts hold it), shipping not included, so
    -- the lines add up to the order's refund less its refunded shipping
    {{ money('case when tax_rate > 0 and order_returns_charged > 0
        then returns_charged + order_refunded_taxes * returns_charged / order_returns_charged
        else returns_charged end') }} as refund_for_goods,
    units_returned * unit_cost as returned_cost
from returned
