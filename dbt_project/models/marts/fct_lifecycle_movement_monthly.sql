{#-
    Lifecycle movement: for every calendar month that has ended by the as-of date, how many
    customers moved from each lifecycle stage on the day before the month to each stage on
    its last day (macro lifecycle_stage: the rule dim_customers applies on the as-of date).
    from_stage 'not_yet_customer': no revenue order before the month. One row per month,
    from_stage and to_stage with customers; a customer counts in every month from the month
    of their first order on. Orders up to the as-of date (int_as_of_resolved).
-#}
with orders as (
    select
        customer_id,
        order_date,
        created_at,
        lag(order_date) over (partition by customer_id order by created_at nulls last, order_name) as previous_order_date
    from {{ ref('fct_orders') }}
    where is_revenue and customer_id is not null and order_date <= {{ as_of_date() }}
),

-- After each customer's orders of a month: how many, the last date and the gap before the last.
per_month as (
    select
        customer_id,
        cast({{ dbt.date_trunc('month', 'order_date') }} as date) as month_start,
        count(*) as orders,
        max(order_date) as last_order_date,
        -- in a struct: a null gap (the first order) is still the last order's
        max_by({{ struct_of('gap', dbt.datediff('previous_order_date', 'order_date', 'day')) }}, created_at)
            as gap_at_last
    from orders
    group by all
),

as_of as (
    select as_of_date from {{ ref('int_as_of_resolved') }}
),

months as (
    select month_start, last_day(month_start) as month_end
    from (
        select
            {{ date_series('(select min(month_start) from per_month)', 'as_of_date', 'month') }} as month_start,
            as_of_date
        from as_of
    ) as series
    where last_day(month_start) <= as_of_date
),

firsts as (
    select customer_id, min(month_start) as first_month
    from per_month
    group by 1
),

state as (
    select
        firsts.customer_id,
        months.month_start,
        months.month_end,
        sum(coalesce(per_month.orders, 0)) over customer_months as orders,
        {{ last_value_ignore_nulls('per_month.last_order_date') }} over customer_months as last_order_date,
        {{ last_value_ignore_nulls('per_month.gap_at_last') }} over customer_months as gap_at_last
    from firsts
    inner join months on months.month_start >= firsts.first_month
    left join per_month
        on per_month.customer_id = firsts.customer_id and per_month.month_start = months.month_start
    window customer_months as (
        partition by firsts.customer_id order by months.month_start
        rows between unbounded preceding and current row
    )
),

staged as (
    select
        customer_id,
        month_start,
        month_end,
        {{ lifecycle_stage('orders', dbt.datediff('last_order_date', 'month_end', 'day'), 'gap_at_last.gap') }} as stage
    from state
),

moved as (
    select
        month_start,
        month_end,
        coalesce(lag(stage) over (partition by customer_id order by month_start), 'not_yet_customer') as from_stage,
        stage as to_stage
    from staged
)

select month_start, month_end, from_stage, to_stage, count(*) as customers
from moved
group by all
