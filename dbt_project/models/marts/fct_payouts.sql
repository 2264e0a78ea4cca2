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

mismatched_orders as (
    -- the payouts holding an order whose transactions do not match it
    -- (int_payment_orders_reconciled: the check is per order, over all its payouts)
    select
        payout_orders.payout_key,
        count(*) filter (where not checked.has_order) as orders_unknown,
        count(*) filter (where checked.is_mismatched) as orders_mismatched
    from (select distinct payout_key, order_name from transactions
          where order_name is not null) as payout_orders
    inner join {{ ref('int_payment_orders_reconciled') }} as checked
        on checked.order_name = payout_orders.order_name
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
