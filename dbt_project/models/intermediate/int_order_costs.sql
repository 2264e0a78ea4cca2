{#-
    One row per order: what it cost to ship and to be paid, beyond its goods.
      is_shipped         it left the warehouse by carrier: it has a (non-return) label, or
                         it is fulfilled with a line that requires shipping and was not a
                         point-of-sale sale (POS orders are handed over in the shop)
      shipping_cost      the carrier labels of the order that were not voided (ShipStation
                         Shipment Cost + Insurance Cost), return labels included; null for
                         a shipped order with no label (the cost is unknown, not 0); for an
                         order still to ship (placed in the last 30 days, not cancelled, not
                         fulfilled, with a line to ship) the average label of the orders with
                         the same shipping method labelled in the last 28 days of labels,
                         marked estimated; 0 for an order that is not shipped
      shipping_cost_basis  labels | estimated: not shipped yet | missing: shipped without
                         a label | not shipped
      payment_fees       Shopify Payments: the Fee of the order's transactions (charges,
                         disputes, adjustments; refunds carry none), in the order's
                         currency at the transaction's own rate (Presentment Amount /
                         Amount) when the payout currency differs; other gateways: the
                         rate in storeops.yml profit.payment_fees on the Total, once per
                         charged order; cash, manual and gift card payments, and orders
                         never charged (voided, pending, authorized, expired): 0; else null
      fee_basis          where payment_fees comes from, or why it is missing
      fulfilment_cost    the profit.fulfilment_per_order entry in effect on the order's
                         date, for shipped orders; 0 when storeops.yml sets none
    Money in the order's currency.
-#}
{%- set schedule = var('fulfilment_per_order', []) %}
{%- set gateways = var('payment_fees', []) %}
with orders as (
    select * from {{ ref('stg_shopify__orders') }}
),

lines as (
    select
        order_name,
        bool_or(coalesce(requires_shipping, line_kind = 'product')) as has_shipping_line
    from {{ ref('stg_shopify__order_lines') }}
    group by order_name
),

labels as (
    select
        orders.order_name,
        count(*) filter (where not shipments.is_return_label) as labels,
        count(*) filter (where shipments.is_voided) as voided_labels,
        count(*) filter (where shipments.is_return_label and not shipments.is_voided)
            as return_labels,
        sum(shipments.label_cost) as label_cost,
        sum(shipments.label_cost) filter (where shipments.is_return_label) as return_label_cost
    from {{ ref('stg_shipstation__shipments') }} as shipments
    inner join orders
        on regexp_replace(orders.order_name, '^#', '') = shipments.order_key
    group by orders.order_name
),

transactions as (
    -- Fees are in the payout currency. When that is not the order's currency but the
    -- customer paid in it (presentment), the transaction's own rate converts the fee;
    -- otherwise the fee cannot be put in the order's currency (null).
    select
        tx.order_name,
        count(*) as transactions,
        sum(case
            when tx.currency_code = orders.currency_code then tx.fee
            when tx.presentment_currency_code = orders.currency_code and tx.amount <> 0
                then tx.fee * tx.presentment_amount / tx.amount
        end) as fees,
        count(*) filter (where tx.currency_code <> orders.currency_code) as converted,
        count(*) filter (where tx.currency_code <> orders.currency_code
                         and (tx.presentment_currency_code <> orders.currency_code
                              or tx.amount = 0)) as unconvertible
    from {{ ref('stg_shopify__payment_transactions') }} as tx
    inner join orders on orders.order_name = tx.order_name
    where tx.transaction_type <> 'payout'
    group by tx.order_name
),

last_order as (
    select least(max(created_date), {{ as_of_date() }}) as last_date from orders
),

recent_label_cost as (
    -- the average cost of one order's labels, per shipping method, over the last 28 days
    -- of labels: the estimate for an order not shipped yet
    select
        coalesce(orders.shipping_method, '') as shipping_method,
        avg(per_order.label_cost) as average_label_cost
    from (
        select order_key, sum(label_cost) as label_cost, max(ship_date) as ship_date
        from {{ ref('stg_shipstation__shipments') }}
        where not is_return_label
        group by order_key
    ) as per_order
    inner join orders on regexp_replace(orders.order_name, '^#', '') = per_order.order_key
    where per_order.ship_date > (select {{ dbt.dateadd('day', -28, 'max(ship_date)') }}
                                 from {{ ref('stg_shipstation__shipments') }})
    group by 1
),

fulfilment_rates as (
    {%- if schedule %}
    {%- for entry in schedule %}
    select
        cast('{{ entry["from"] }}' as date) as valid_from,
        {%- if not loop.last %}
        cast('{{ schedule[loop.index]["from"] }}' as date) as valid_until,
        {%- else %}
        cast(null as date) as valid_until,
        {%- endif %}
        cast({{ entry["cost"] }} as decimal(18, 4)) as cost_per_order
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
    {%- else %}
    select cast(null as date) as valid_from, cast(null as date) as valid_until,
           cast(null as decimal(18, 4)) as cost_per_order
    where false
    {%- endif %}
),

gateway_rates as (
    {%- if gateways %}
    {%- for g in gateways %}
    select '{{ g["gateway"] | replace("'", "''") }}' as gateway,
           cast({{ g["percent"] }} as decimal(18, 6)) as fee_percent,
           cast({{ g["fixed"] }} as decimal(18, 6)) as fee_fixed
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
    {%- else %}
    select cast(null as {{ dbt.type_string() }}) as gateway,
           cast(null as decimal(18, 6)) as fee_percent, cast(null as decimal(18, 6)) as fee_fixed
    where false
    {%- endif %}
),

joined as (
    select
        orders.order_name,
        orders.created_date,
        orders.currency_code,
        orders.payment_method,
        lower(coalesce(orders.payment_method, '')) as gateway,
        orders.total,
        orders.financial_status,
        coalesce(labels.labels, 0) as labels,
        coalesce(labels.voided_labels, 0) as voided_labels,
        coalesce(labels.return_labels, 0) as return_labels,
        labels.label_cost,
        coalesce(labels.return_label_cost, 0) as return_label_cost,
        coalesce(labels.labels, 0) > 0
            or (orders.fulfilled_at is not null
                and coalesce(lines.has_shipping_line, false)
                and coalesce(orders.source_name, '') <> 'pos') as is_shipped,
        coalesce(labels.labels, 0) = 0
            and orders.fulfilled_at is null
            and not orders.is_cancelled
            and coalesce(lines.has_shipping_line, false)
            and coalesce(orders.source_name, '') <> 'pos'
            and orders.created_date > {{ dbt.dateadd('day', -30, 'last_order.last_date') }}
            as is_to_ship,
        recent_label_cost.average_label_cost,
        transactions.transactions,
        transactions.fees as transaction_fees,
        coalesce(transactions.converted, 0) > 0 as has_converted_fees,
        coalesce(transactions.unconvertible, 0) > 0 as has_unconvertible_fees,
        gateway_rates.fee_percent,
        gateway_rates.fee_fixed,
        fulfilment_rates.cost_per_order
    from orders
    left join lines on lines.order_name = orders.order_name
    left join labels on labels.order_name = orders.order_name
    left join transactions on transactions.order_name = orders.order_name
    left join gateway_rates on gateway_rates.gateway = lower(orders.payment_method)
    left join recent_label_cost
        on recent_label_cost.shipping_method = coalesce(orders.shipping_method, '')
    cross join last_order
    left join fulfilment_rates
        on orders.created_date >= fulfilment_rates.valid_from
        and (fulfilment_rates.valid_until is null
             or orders.created_date < fulfilment_rates.valid_until)
)

select
    order_name,
    created_date,
    currency_code,
    payment_method,
    is_shipped,
    labels,
    voided_labels,
    return_labels,
    is_to_ship,
    case
        when label_cost is not null then cast(label_cost as decimal(18, 4))
        when is_shipped then null
        when is_to_ship then cast(round(average_label_cost, 2) as decimal(18, 4))
        else cast(0 as decimal(18, 4))
    end as shipping_cost,
    case
        when label_cost is not null then 'labels'
        when is_shipped then 'missing: shipped without a label'
        when is_to_ship and average_label_cost is not null then 'estimated: not shipped yet'
        when is_to_ship then 'missing: not shipped yet, no recent labels to estimate from'
        else 'not shipped'
    end as shipping_cost_basis,
    cast(return_label_cost as decimal(18, 4)) as return_label_cost,
    case
        when has_unconvertible_fees then null
        when transactions is not null then cast(round(transaction_fees, 4) as decimal(18, 4))
        when total = 0 or gateway in ({{ "'" ~ fee_free_gateways() | join("', '") ~ "'" }})
            or financial_status in ('voided', 'pending', 'authorized', 'expired')
            then cast(0 as decimal(18, 4))
        -- decimals, so a half cent rounds up as the gateway rounds it
        when fee_percent is not null
            then cast(round(cast(total as decimal(38, 4)) * fee_percent
                            * cast(0.01 as decimal(4, 2)) + fee_fixed, 2)
                      as decimal(18, 4))
    end as payment_fees,
    case
        when has_unconvertible_fees
            then 'missing: a Shopify Payments fee in a currency neither the order nor the customer used'
        when transactions is not null and has_converted_fees
            then 'Shopify Payments transactions (converted at the transaction rate)'
        when transactions is not null then 'Shopify Payments transactions'
        when total = 0 or gateway in ({{ "'" ~ fee_free_gateways() | join("', '") ~ "'" }})
            then 'no fee for this gateway'
        when financial_status in ('voided', 'pending', 'authorized', 'expired')
            then 'not charged (' || financial_status || ')'
        when fee_percent is not null then 'rate in storeops.yml'
        when gateway like '%shopify payments%'
            then 'missing: no Shopify Payments transaction for this order'
        when gateway = '' then 'missing: no payment method on the order'
        else 'missing: no fee rate for ' || payment_method || ' in storeops.yml'
    end as fee_basis,
    case
        when not is_shipped and not is_to_ship then cast(0 as decimal(18, 4))
        else coalesce(cost_per_order, cast(0 as decimal(18, 4)))
    end as fulfilment_cost,
    {{ 'true' if schedule else 'false' }} as has_fulfilment_costs
from joined
