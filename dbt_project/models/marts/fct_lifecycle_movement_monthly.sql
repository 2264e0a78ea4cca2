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
        order_date - lag(order_date) over (partition by customer_id order by created_at, order_name) as days_since_previous_order
    from {{ ref('fct_orders') }}
    where is_revenue and customer_id is not null and order_date <= {{ as_of_date() }}
),

-- After each customer's orders of a month: how many, the last date and the gap before the last.
per_month as (
    select
        customer_id,
        date_trunc('month', order_date)::date as month_start,
        count(*) as orders,
        max(order_date) as last_order_date,
        arg_max({'gap': days_since_previous_order}, created_at) as gap_at_last
    from orders
    group by all
),

as_of as (
    select as_of_date from {{ ref('int_as_of_resolved') }}
),

months as (
    select
        month_start::date as month_start,
        (month_start + interval 1 month - interval 1 day)::date as month_end
    from as_of
    cross join generate_series(
        (select min(month_start) from per_month),
        as_of.as_of_date::timestamp,
        interval 1 month
    ) as series(month_start)
    where (month_start + interval 1 month - interval 1 day)::date <= as_of.as_of_date
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
        last_value(per_month.last_order_date ignore nulls) over customer_months as last_order_date,
        last_value(per_month.gap_at_last ignore nulls) over customer_months as gap_at_last
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
        {{ lifecycle_stage('orders', 'month_end - last_order_date', 'gap_at_last.gap') }} as stage
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
