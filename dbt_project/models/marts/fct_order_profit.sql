{#-
    One row per order (test orders left out): its contribution margin in steps, in the
    order's currency, before tax.
      net_sales                gross sales - discounts - returns (fct_orders.net_revenue)
      cogs                     cost of the units kept, at the unit cost in effect on the
                               order's date (int_order_lines_enriched.cost_basis)
      contribution_margin_1    net_sales - cogs
      net_shipping_revenue     shipping charged - shipping refunded (refunded shipping is
                               not recovered: the label was paid anyway)
      shipping_cost            carrier labels, not voided, return labels included
      payment_fees             gateway fees (int_order_costs.fee_basis says from where)
      fulfilment_cost          per-order packaging and handling (storeops.yml)
      contribution_margin_2    contribution_margin_1 + net_shipping_revenue - shipping_cost
                               - payment_fees - fulfilment_cost
    A cost that is not known is null, and so is every margin below it; missing_costs names
    them (a null is never read as 0). An order not shipped yet carries the recent average
    label of its shipping method, named in estimated_costs. Cancelled orders keep the costs they caused (a fee
    not returned, a label bought) against no sales.
-#}
with orders as (
    select * from {{ ref('fct_orders') }}
    where not is_test and {{ known_by_as_of('order_date') }}
),

costs as (
    select * from {{ ref('int_order_costs') }}
),

steps as (
    select
        orders.order_id,
        orders.order_name,
        orders.order_date,
        orders.customer_id,
        orders.channel,
        orders.currency_code,
        orders.is_cancelled,
        orders.is_revenue,
        orders.is_first_order,
        orders.net_revenue as net_sales,
        case when not orders.is_revenue then cast(0 as decimal(18, 4))
             when orders.gross_margin is not null
                 then cast(round(orders.cost_of_goods_sold, 4) as decimal(18, 4))
        end as cogs,
        case when not orders.is_revenue then cast(0 as decimal(18, 4))
             else orders.gross_margin
        end as contribution_margin_1,
        case when orders.is_revenue
            then cast(orders.shipping - orders.refunded_shipping as decimal(18, 4))
            else cast(0 as decimal(18, 4))
        end as net_shipping_revenue,
        costs.is_shipped,
        costs.labels,
        costs.is_to_ship,
        costs.shipping_cost,
        costs.shipping_cost_basis,
        costs.return_label_cost,
        costs.payment_method,
        costs.payment_fees,
        costs.fee_basis,
        costs.fulfilment_cost,
        costs.has_fulfilment_costs
    from orders
    left join costs on costs.order_name = orders.order_name
)

select
    *,
    cast(contribution_margin_1 + net_shipping_revenue - shipping_cost - payment_fees
         - fulfilment_cost as decimal(18, 4)) as contribution_margin_2,
    nullif(concat_ws(', ',
        case when cogs is null then 'product cost' end,
        case when shipping_cost is null then 'shipping label' end,
        case when payment_fees is null then 'payment fees' end
    ), '') as missing_costs,
    case when shipping_cost_basis like 'estimated%' then 'shipping label (not shipped yet)'
    end as estimated_costs
from steps
