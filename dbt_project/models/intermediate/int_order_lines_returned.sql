{#-
    One row per order line: the line with the goods returned on it, from the order's
    refund split (int_order_refunds_allocated):
      full       every sold line is returned whole;
      matched    exactly the matched units or lines carry the return (the towel line, not
                 the soap line);
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

returned as (
    select
        lines.*,
        refunds.refund_split_method,
        coalesce(refunds.tax_rate, 0) as tax_rate,
        refunds.returns_charged as order_returns_charged,
        refunds.refunded_taxes as order_refunded_taxes,
        case
            when not lines.is_sales_line or refunds.refund_split_method is null then 0
            when refunds.refund_split_method = 'full' then lines.value_charged
            when refunds.refund_split_method = 'matched' then
                -- some units of one line, and whole lines (the rest of the mask)
                case
                    when refunds.matched_unit_line_index = lines.sales_line_index
                        then round(cast(refunds.matched_units * lines.value_charged / lines.quantity as decimal(18, 6)), 2)
                    when (refunds.matched_line_mask >> (lines.sales_line_index - 1)) & 1 = 1
                        then round(lines.value_charged, 2)
                    else 0
                end
            when refunds.refund_split_method = 'estimated' and lines.order_goods_charged > 0
                then refunds.returns_charged * lines.value_charged / lines.order_goods_charged
            else 0
        end as returns_charged,
        case
            when not lines.is_sales_line or refunds.refund_split_method is null then 0
            when refunds.refund_split_method = 'full' then lines.quantity
            when refunds.refund_split_method = 'matched' then
                case
                    when refunds.matched_unit_line_index = lines.sales_line_index
                        then refunds.matched_units
                    when (refunds.matched_line_mask >> (lines.sales_line_index - 1)) & 1 = 1
                        then lines.quantity
                    else 0
                end
            when refunds.refund_split_method = 'estimated' and lines.order_goods_charged > 0
                then lines.quantity * refunds.returns_charged / lines.order_goods_charged
            else 0
        end as units_returned
    from lines
    left join refunds on refunds.order_name = lines.order_name
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
