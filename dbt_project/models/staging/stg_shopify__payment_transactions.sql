{#-
    One row per Shopify Payments balance transaction (Finance > Payouts > Export
    transactions): charges, refunds, disputes, adjustments, reserves. A later export
    restates a transaction (pending -> paid, with its payout): the newest file wins on
    (instant, type, order, amount). Amount, fee and net are in the payout currency
    (`currency`); presentment_amount in the customer's currency.
    net_differs: the row's Net is not Amount - Fee to the cent (a damaged or edited file).
-#}
with source as (
    {{ newest_file_wins(source('raw', 'shopify_payment_transactions'),
                        ['transaction_date', 'type', 'order_name', 'amount']) }}
)

select
    transaction_date as transaction_at,
    {{ store_date('transaction_date') }} as transaction_date,
    lower(trim(type)) as transaction_type,
    nullif(trim(order_name), '') as order_name,
    lower(card_brand) as card_brand,
    lower(card_source) as card_source,
    lower(coalesce(payout_status, 'pending')) as payout_status,
    payout_date,
    case when {{ regex_full_match('trim(payout_id)', '[0-9]+') }} then trim(payout_id) end
        as payout_id,
    available_on,
    amount,
    coalesce(fee, 0) as fee,
    net,
    upper(coalesce(currency, presentment_currency)) as currency_code,
    coalesce(presentment_amount, amount) as presentment_amount,
    upper(coalesce(presentment_currency, currency)) as presentment_currency_code,
    abs(amount - coalesce(fee, 0) - net) >= 0.005 as net_differs,
    payment_method_name,
    _source_file,
    _source_row,
    _loaded_at
from source
