{#-
    Cohort retention: one row per acquisition cohort (the month of a customer's first revenue
    order) and month after it (0 = the cohort month, up to the as-of date's month), with the
    cohort's customers still ordering that month. The one home of the rule: the dashboards'
    cohort chart and the monthly report read it.
      retention_rate = active_customers / cohort_customers, null while the month has not
      ended by the as-of date (a month in progress never reads as churn).
    Orders up to the run's as-of date (int_as_of_resolved).
-#}
with orders as (
    select distinct customer_id, cast({{ dbt.date_trunc('month', 'order_date') }} as date) as order_month
    from {{ ref('fct_orders') }}
    where is_revenue and customer_id is not null and order_date <= {{ as_of_date() }}
),

cohorts as (
    select customer_id, min(order_month) as cohort_month
    from orders
    group by 1
),

sizes as (
    select cohort_month, count(*) as cohort_customers
    from cohorts
    group by 1
),

active as (
    select
        cohorts.cohort_month,
        {{ dbt.datediff('cohorts.cohort_month', 'orders.order_month', 'month') }} as months_after,
        count(*) as active_customers
    from orders
    inner join cohorts on cohorts.customer_id = orders.customer_id
    group by all
),

as_of as (
    select
        as_of_date,
        cast({{ dbt.date_trunc('month', 'as_of_date') }} as date) as as_of_month,
        -- the last month that has ended: the as-of month itself when it is its last day
        case when as_of_date = last_day(as_of_date)
            then cast({{ dbt.date_trunc('month', 'as_of_date') }} as date)
            else cast({{ dbt.dateadd('month', -1, dbt.date_trunc('month', 'as_of_date')) }} as date)
        end as last_complete_month
    from {{ ref('int_as_of_resolved') }}
),

months_after as (
    -- 0 to the months from the first cohort to the as-of month
    select {{ integer_series('0', dbt.datediff('first_cohort_month', 'as_of_month', 'month')) }} as months_after
    from (select min(cohort_month) as first_cohort_month from sizes) as first_cohort
    cross join as_of
),

grid as (
    select
        sizes.cohort_month,
        sizes.cohort_customers,
        months_after.months_after,
        cast({{ dbt.dateadd('month', 'months_after.months_after', 'sizes.cohort_month') }} as date)
            as activity_month
    from sizes
    cross join as_of
    cross join months_after
    where {{ dbt.dateadd('month', 'months_after.months_after', 'sizes.cohort_month') }} <= as_of.as_of_month
)

select
    grid.cohort_month,
    grid.months_after,
    grid.activity_month,
    grid.cohort_customers,
    coalesce(active.active_customers, 0) as active_customers,
    grid.activity_month <= as_of.last_complete_month as is_month_complete,
    case when grid.activity_month <= as_of.last_complete_month
        then coalesce(active.active_customers, 0) / grid.cohort_customers
    end as retention_rate
from grid
cross join as_of
left join active
    on active.cohort_month = grid.cohort_month and active.months_after = grid.months_after
