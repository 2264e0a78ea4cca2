{#-
    One row per order with Shopify Payments transactions: what they charged and refunded,
    against what the orders export says (Total, Refunded Amount). An order's charge lands
    in one payout and its refunds maybe in later ones, so the check is per order over all
    its transactions; fct_payouts marks the payouts holding a mismatched order and the
    test assert_payouts_reconcile names it.
      same_currency  every transaction is in the order's currency (only then are the
                     amounts compared)
      has_order      the order is in the orders export
      is_mismatched  charges <> Total or refunds <> Refunded Amount, to the cent
-#}
with transactions as (
    select * from {{ ref('stg_shopify__payment_transactions') }}
    where transaction_type <> 'payout' and order_name is not null
        and {{ known_by_as_of('transaction_date') }}
),

orders as (
    select order_name, total, refunded_amount, currency_code
    from {{ ref('stg_shopify__orders') }}
),

per_order as (
    select
        transactions.order_name,
        coalesce(sum(transactions.amount) filter (where transaction_type = 'charge'), 0)
            as charged,
        coalesce(-sum(transactions.amount) filter (where transaction_type = 'refund'), 0)
            as refunded,
        bool_and(transactions.currency_code = orders.currency_code) as same_currency,
        max(orders.total) as order_total,
        max(orders.refunded_amount) as order_refunded,
        count(orders.order_name) > 0 as has_order,
        min(transactions._source_file) as source_file,
        min(transactions._source_row) as source_row
    from transactions
    left join orders on orders.order_name = transactions.order_name
    group by 1
)

select
    *,
    coalesce(has_order and same_currency
             and (abs(charged - order_total) >= 0.005
                  or abs(refunded - order_refunded) >= 0.005), false) as is_mismatched
from per_order
