{{ config(severity='warn', meta={'dagster': {'ref': {'name': 'fct_payouts'}}}) }}
-- Shopify Payments transactions that do not add up, named by the file and row to look at
-- (a warning: payment fees are still read from them, and the payout is marked
-- is_reconciled = false in fct_payouts). Identities checked, to the cent:
--   row:    Amount - Fee = Net
--   order:  the charges of an order = its Total, its refunds = its Refunded Amount, when
--           the transactions are in the order's currency
with transactions as (
    select * from {{ ref('stg_shopify__payment_transactions') }}
    where transaction_type <> 'payout'
)

select
    'row' as identity,
    transactions.order_name,
    transactions._source_file as source_file,
    transactions._source_row as source_row,
    'Net ' || cast(cast(transactions.net as decimal(18, 2)) as {{ dbt.type_string() }}) || ' is not Amount '
        || cast(cast(transactions.amount as decimal(18, 2)) as {{ dbt.type_string() }}) || ' - Fee '
        || cast(cast(transactions.fee as decimal(18, 2)) as {{ dbt.type_string() }})
        || coalesce(' (payout ' || payouts.payout_key || ')', '') as problem
from transactions
-- the payout the row is in (reading fct_payouts also makes this test its check in Dagster:
-- meta.dagster.ref must name a parent)
left join {{ ref('fct_payouts') }} as payouts on payouts.payout_id = transactions.payout_id
where transactions.net_differs

union all

select
    'order' as identity,
    order_name,
    source_file,
    source_row,
    'charged ' || cast(cast(coalesce(charged, 0) as decimal(18, 2)) as {{ dbt.type_string() }}) || ' and refunded '
        || cast(cast(coalesce(refunded, 0) as decimal(18, 2)) as {{ dbt.type_string() }})
        || ' by Shopify Payments, but the order says Total '
        || cast(cast(order_total as decimal(18, 2)) as {{ dbt.type_string() }}) || ', refunded '
        || cast(cast(order_refunded as decimal(18, 2)) as {{ dbt.type_string() }}) as problem
from {{ ref('int_payment_orders_reconciled') }}
where is_mismatched
