{{ config(severity='warn', meta={'dagster': {'ref': {'name': 'fct_orders'}}}) }}
-- meta.dagster.ref: a test reading several models is a check on fct_orders in Dagster
-- (without it dagster-dbt logs it as an observation and its failure stops nothing).
-- Orders whose export does not add up, named by the file and row to look at (a warning:
-- the order is kept, its figures are as exported). Identities checked, to the cent:
--   lines:  sum(line price x quantity) - Discount Amount = Subtotal
--   total:  Subtotal + Shipping + Taxes (when prices exclude tax) + Duties = Total
--   refund: Refunded Amount <= Total
--   split:  Total - Refunded Amount = total_sales + tips + gift_card_sales in fct_orders
--           (the refund split explains every refunded cent; an over-refund or a refund
--           of tips, duties or gift cards shows here)
with lines as (
    select order_name, sum(gross_charged) as lines_gross
    from {{ ref('int_order_lines_enriched') }}
    group by order_name
),

orders as (
    select
        stg.order_name,
        stg.subtotal,
        stg.discount_amount,
        stg.shipping,
        stg.taxes,
        stg.duties,
        stg.total,
        stg.refunded_amount,
        stg.taxes_included,
        coalesce(lines.lines_gross, 0) as lines_gross,
        marts.source_file,
        marts.source_row,
        marts.reconciliation_difference
    from {{ ref('stg_shopify__orders') }} as stg
    inner join {{ ref('fct_orders') }} as marts on marts.order_name = stg.order_name
    left join lines on lines.order_name = stg.order_name
),

differences as (
    select
        order_name,
        source_file,
        source_row,
        lines_gross - discount_amount - subtotal as lines_difference,
        subtotal + shipping + case when taxes_included then 0 else taxes end + duties - total
            as total_difference,
        greatest(refunded_amount - total, 0) as over_refund,
        reconciliation_difference
    from orders
)

select *
from differences
where abs(lines_difference) >= 0.005
   or abs(total_difference) >= 0.005
   or over_refund >= 0.005
   or abs(reconciliation_difference) >= 0.005
