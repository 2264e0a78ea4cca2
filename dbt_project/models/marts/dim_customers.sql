{#-
    One row per customer (one normalised email) across orders, tickets and the customers export.
    contribution_margin_to_date: contribution margin 2 of its orders (fct_order_profit), null
    when none has all its costs known; margin_share: that over their net sales.
    Orders and tickets up to the run's as-of date (int_as_of_resolved); lifecycle stage on
    the as-of date by the lifecycle_stage macro (prospect, new, active, reactivated,
    lapsing, lapsed: the rule is there, shared with fct_lifecycle_movement_monthly).
    RFM scores are quintiles (5 = best) over customers with orders; ties are split by
    customer_id so a rebuild gives every customer the same scores.
-#}
with customers as (
    -- Every customer loaded (fct_orders and the help-desk facts keep every row and refer to
    -- them); in a replay, one first seen after the as-of date has no orders yet (prospect).
    select * from {{ ref('int_customer_emails_unioned') }}
),

as_of as (
    select {{ as_of_date() }} as as_of_date
),

orders as (
    select
        *,
        lag(order_date) over (partition by customer_id order by created_at nulls last, order_name) as previous_order_date
    from {{ ref('fct_orders') }}
    where is_revenue and customer_id is not null and order_date <= {{ as_of_date() }}
),

order_stats as (
    select
        customer_id,
        min(created_at) as first_order_at,
        max(created_at) as last_order_at,
        min(order_date) as first_order_date,
        max(order_date) as last_order_date,
        count(*) as orders,
        sum(units) as units,
        sum(gross_revenue) as gross_revenue,
        sum(discounts) as discounts,
        sum(refunds) as refunds,
        sum(net_revenue) as net_revenue,
        avg(case when has_discount then 1.0 else 0.0 end) as discount_order_share,
        -- min_by / max_by skip rows whose ordering is null; DuckDB's (arg_min) also skips a
        -- null value, Spark's does not, so the filters say which rows count
        min_by(channel, created_at) as acquisition_channel,
        min_by(discount_code, created_at) filter (where discount_code is not null)
            as first_order_discount_code,
        max_by({{ dbt.datediff('previous_order_date', 'order_date', 'day') }}, created_at)
            filter (where previous_order_date is not null) as days_since_previous_order_at_last
    from orders
    group by customer_id
),

margins as (
    -- contribution margin 2 of the customer's orders to date (fct_order_profit); an order
    -- whose costs are not all known adds nothing and is counted
    select
        customer_id,
        sum(contribution_margin_2) as contribution_margin_2,
        sum(net_sales) filter (where contribution_margin_2 is not null) as net_sales_with_cm2,
        count(*) filter (where missing_costs is not null) as orders_missing_costs
    from {{ ref('fct_order_profit') }}
    where customer_id is not null and order_date <= {{ as_of_date() }}
    group by customer_id
),

tickets as (
    select
        {{ hash_email('email_normalised') }} as customer_id,
        count(*) as support_contacts,
        max_by(is_satisfied, created_at) filter (where is_satisfied is not null) as last_csat_is_satisfied,
        avg(case when is_satisfied then 1.0 when not is_satisfied then 0.0 end) as csat_share_satisfied,
        count(*) filter (where category = 'complaint') as complaints
    from {{ ref('int_tickets_unioned') }}
    where email_normalised is not null and {{ known_by_as_of(store_date('created_at')) }}
    group by 1
),

consent as (
    select
        {{ hash_email('email_normalised') }} as customer_id,
        accepts_email_marketing,
        accepts_sms_marketing,
        country_code
    from {{ ref('stg_shopify__customers') }}
),

joined as (
    select
        customers.customer_id,
        customers.email,
        order_stats.first_order_at,
        order_stats.last_order_at,
        order_stats.first_order_date,
        order_stats.last_order_date,
        coalesce(order_stats.orders, 0) as orders,
        coalesce(order_stats.units, 0) as units,
        coalesce(order_stats.gross_revenue, 0) as gross_revenue,
        coalesce(order_stats.discounts, 0) as discounts,
        coalesce(order_stats.refunds, 0) as refunds,
        coalesce(order_stats.net_revenue, 0) as net_revenue,
        order_stats.net_revenue / nullif(order_stats.orders, 0) as average_order_value,
        case when margins.customer_id is null then 0 else margins.contribution_margin_2 end
            as contribution_margin_to_date,
        margins.contribution_margin_2 / nullif(margins.net_sales_with_cm2, 0) as margin_share,
        coalesce(margins.orders_missing_costs, 0) as orders_missing_costs,
        {{ dbt.datediff('order_stats.last_order_date', 'as_of.as_of_date', 'day') }} as days_since_last_order,
        case when order_stats.orders > 1
            then {{ dbt.datediff('order_stats.first_order_date', 'order_stats.last_order_date', 'day') }}
                 / (order_stats.orders - 1.0)
        end as average_days_between_orders,
        coalesce(order_stats.acquisition_channel, 'none') as acquisition_channel,
        order_stats.first_order_discount_code,
        order_stats.discount_order_share,
        order_stats.days_since_previous_order_at_last,
        coalesce(tickets.support_contacts, 0) as support_contacts,
        coalesce(tickets.complaints, 0) as complaints,
        tickets.last_csat_is_satisfied,
        tickets.csat_share_satisfied,
        consent.accepts_email_marketing,
        consent.accepts_sms_marketing,
        consent.country_code,
        customers.has_tickets,
        as_of.as_of_date
    from customers
    cross join as_of
    left join order_stats on order_stats.customer_id = customers.customer_id
    left join margins on margins.customer_id = customers.customer_id
    left join tickets on tickets.customer_id = customers.customer_id
    left join consent on consent.customer_id = customers.customer_id
),

staged as (
    select
        *,
        {{ lifecycle_stage('orders', 'days_since_last_order', 'days_since_previous_order_at_last') }}
            as lifecycle_stage
    from joined
),

scored as (
    select
        staged.*,
        case when orders > 0 then 6 - ntile(5) over (
            partition by orders > 0 order by days_since_last_order asc, customer_id) end as recency_score_inverse,
        case when orders > 0 then ntile(5) over (
            partition by orders > 0 order by orders asc, net_revenue asc, customer_id) end as frequency_score,
        case when orders > 0 then ntile(5) over (
            partition by orders > 0 order by net_revenue asc, customer_id) end as monetary_score
    from staged
)

select
    customer_id,
    email,
    first_order_at,
    last_order_at,
    first_order_date,
    last_order_date,
    orders,
    units,
    gross_revenue,
    discounts,
    refunds,
    net_revenue,
    average_order_value,
    contribution_margin_to_date,
    margin_share,
    orders_missing_costs,
    days_since_last_order,
    average_days_between_orders,
    acquisition_channel,
    first_order_discount_code,
    discount_order_share,
    support_contacts,
    complaints,
    last_csat_is_satisfied,
    csat_share_satisfied,
    accepts_email_marketing,
    accepts_sms_marketing,
    country_code,
    lifecycle_stage,
    recency_score_inverse as recency_score,
    frequency_score,
    monetary_score,
    cast(recency_score_inverse as {{ dbt.type_string() }}) || cast(frequency_score as {{ dbt.type_string() }})
        || cast(monetary_score as {{ dbt.type_string() }}) as rfm_segment_code,
    as_of_date
from scored
