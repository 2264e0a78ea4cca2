{#-
    One row per Shopify Payments payout (Payout ID, else payout date and currency): its
    transactions summed by type, in the payout currency, and checked against the orders:
      charges - refunds + other (disputes, adjustments, reserves) - fees = net
    order_charges / order_refunds: what the orders export says was paid and refunded on
    the orders of this payout's charges and refunds, in the order currency (compared only
    when every transaction is in the order's currency); is_reconciled: every row's Net is
    Amount - Fee, the payout's net is its transactions' and, where the orders can say,
    charges and refunds match them to the cent. A pending transaction has no payout yet
    (payout_status 'pending').
-#}
with transactions as (
    select
        *,
        coalesce(payout_id, cast(payout_date as {{ dbt.type_string() }}) || ' ' || currency_code,
                 'pending ' || currency_code) as payout_key
    from {{ ref('stg_shopify__payment_transactions') }}
    where transaction_type <> 'payout' and {{ known_by_as_of('transaction_date') }}
),

orders as (
    select order_name, total, refunded_amount, currency_code
    from {{ ref('stg_shopify__orders') }}
),

order_sides as (
    -- per payout and order: what the transactions moved, and what the order says
    select
        transactions.payout_key,
        transactions.order_name,
        sum(transactions.amount) filter (where transaction_type = 'charge') as charged,
        sum(-transactions.amount) filter (where transaction_type = 'refund') as refunded,
        bool_and(transactions.currency_code = orders.currency_code)
            as same_currency,
        max(orders.total) as order_total,
        max(orders.refunded_amount) as order_refunded,
        count(orders.order_name) > 0 as has_order
    from transactions
    left join orders on orders.order_name = transactions.order_name
    where transactions.order_name is not null
    group by 1, 2
),

order_check as (
    -- An order's charge lands in one payout and its refunds maybe in later ones: the
    -- check is per order over all payouts, and the payouts holding a mismatched order
    -- are marked.
    select
        order_name,
        sum(coalesce(charged, 0)) as charged,
        sum(coalesce(refunded, 0)) as refunded,
        bool_and(same_currency) as same_currency,
        bool_and(has_order) as has_order,
        max(order_total) as order_total,
        max(order_refunded) as order_refunded
    from order_sides
    group by 1
),

mismatched_orders as (
    select
        order_sides.payout_key,
        count(*) filter (where not order_check.has_order) as orders_unknown,
        count(*) filter (where order_check.has_order and order_check.same_currency
            and (abs(order_check.charged - order_check.order_total) >= 0.005
                 or abs(order_check.refunded - order_check.order_refunded) >= 0.005))
            as orders_mismatched
    from order_sides
    inner join order_check on order_check.order_name = order_sides.order_name
    group by 1
)

select
    transactions.payout_key,
    max(transactions.payout_id) as payout_id,
    -- a replay (--as-of) does not know of payouts after its date
    max(case when {{ known_by_as_of('transactions.payout_date') }} then transactions.payout_date end)
        as payout_date,
    max(transactions.payout_status) as payout_status,
    transactions.currency_code,
    count(*) as transactions,
    sum(amount) filter (where transaction_type = 'charge') as charges,
    -sum(amount) filter (where transaction_type = 'refund') as refunds,
    sum(amount) filter (where transaction_type not in ('charge', 'refund')) as other,
    sum(fee) as fees,
    sum(net) as net,
    sum(amount) - sum(fee) - sum(net) as difference,
    count(*) filter (where net_differs) as rows_net_differs,
    coalesce(max(mismatched_orders.orders_mismatched), 0) as orders_mismatched,
    coalesce(max(mismatched_orders.orders_unknown), 0) as orders_unknown,
    abs(sum(amount) - sum(fee) - sum(net)) < 0.005
        and count(*) filter (where net_differs) = 0
        and coalesce(max(mismatched_orders.orders_mismatched), 0) = 0 as is_reconciled
from transactions
left join mismatched_orders on mismatched_orders.payout_key = transactions.payout_key
group by transactions.payout_key, transactions.currency_code
