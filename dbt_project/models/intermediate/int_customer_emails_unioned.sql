-- Every normalised email storeops has seen, from orders, help-desk tickets and the
-- customers export: one row per email, which becomes one customer.
with from_orders as (
    select email_normalised, min(created_at) as first_seen_at, 'shopify_orders' as seen_in
    from {{ ref('stg_shopify__orders') }}
    where email_normalised is not null
    group by email_normalised
),

from_tickets as (
    select email_normalised, min(created_at) as first_seen_at, 'helpdesk' as seen_in
    from {{ ref('int_tickets_unioned') }}
    where email_normalised is not null
    group by email_normalised
),

from_customers as (
    select email_normalised, cast(null as timestamp) as first_seen_at, 'shopify_customers' as seen_in
    from {{ ref('stg_shopify__customers') }}
),

unioned as (
    select * from from_orders
    union all
    select * from from_tickets
    union all
    select * from from_customers
)

select
    {{ hash_email('email_normalised') }} as customer_id,
    email_normalised as email,
    min(first_seen_at) as first_seen_at,
    bool_or(seen_in = 'shopify_orders') as has_orders,
    bool_or(seen_in = 'helpdesk') as has_tickets,
    bool_or(seen_in = 'shopify_customers') as in_customers_export
from unioned
group by email_normalised
