{#-
    CAC payback on contribution margin: one row per acquisition cohort (the month of a
    customer's first revenue order), acquisition channel (that order's channel) and month
    after it (0 = the cohort month, up to the as-of month).
      cac                          the channel's ad spend in the cohort month / the customers
                                   it acquired then (0 for channels without spend)
      cumulative_cm2_per_customer  contribution margin 2 of the cohort's orders (first and
                                   repeat) from the cohort month to this one, per customer;
                                   orders with a missing cost add nothing and are counted in
                                   orders_missing_costs
      is_paid_back                 cumulative_cm2_per_customer >= cac
    The payback month of a cohort is its first month that is paid back; a month not ended
    by the as-of date is marked is_month_complete = false.
-#}
with profit as (
    select customer_id, order_date, contribution_margin_2, missing_costs
    from {{ ref('fct_order_profit') }}
    where is_revenue and customer_id is not null and order_date <= {{ as_of_date() }}
),

customers as (
    select
        customer_id,
        cast({{ dbt.date_trunc('month', 'first_order_date') }} as date) as cohort_month,
        acquisition_channel
    from {{ ref('dim_customers') }}
    where orders > 0
),

sizes as (
    select cohort_month, acquisition_channel, count(*) as cohort_customers
    from customers
    group by 1, 2
),

spend as (
    select
        cast({{ dbt.date_trunc('month', 'channel_date') }} as date) as cohort_month,
        channel as acquisition_channel,
        sum(spend) as ad_spend
    from {{ ref('fct_channel_daily') }}
    where channel_date <= {{ as_of_date() }}
    group by 1, 2
),

margins as (
    select
        customers.cohort_month,
        customers.acquisition_channel,
        {{ dbt.datediff('customers.cohort_month',
                        'cast(' ~ dbt.date_trunc('month', 'profit.order_date') ~ ' as date)',
                        'month') }} as months_after,
        sum(profit.contribution_margin_2) as contribution_margin_2,
        count(*) filter (where profit.missing_costs is not null) as orders_missing_costs
    from profit
    inner join customers on customers.customer_id = profit.customer_id
    group by 1, 2, 3
),

as_of as (
    select
        as_of_date,
        cast({{ dbt.date_trunc('month', 'as_of_date') }} as date) as as_of_month,
        case when as_of_date = last_day(as_of_date)
            then cast({{ dbt.date_trunc('month', 'as_of_date') }} as date)
            else cast({{ dbt.dateadd('month', -1, dbt.date_trunc('month', 'as_of_date')) }} as date)
        end as last_complete_month
    from {{ ref('int_as_of_resolved') }}
),

months_after as (
    select {{ integer_series('0', dbt.datediff('first_cohort_month', 'as_of_month', 'month')) }}
        as months_after
    from (select min(cohort_month) as first_cohort_month from sizes) as first_cohort
    cross join as_of
),

grid as (
    select
        sizes.cohort_month,
        sizes.acquisition_channel,
        sizes.cohort_customers,
        months_after.months_after,
        cast({{ dbt.dateadd('month', 'months_after.months_after', 'sizes.cohort_month') }} as date)
            as activity_month
    from sizes
    cross join as_of
    cross join months_after
    where {{ dbt.dateadd('month', 'months_after.months_after', 'sizes.cohort_month') }}
        <= as_of.as_of_month
),

cumulated as (
    select
        grid.*,
        coalesce(spend.ad_spend, 0) as cohort_month_ad_spend,
        coalesce(spend.ad_spend, 0) / grid.cohort_customers as cac,
        sum(coalesce(margins.contribution_margin_2, 0)) over (
            partition by grid.cohort_month, grid.acquisition_channel
            order by grid.months_after rows between unbounded preceding and current row)
            / grid.cohort_customers as cumulative_cm2_per_customer,
        sum(coalesce(margins.orders_missing_costs, 0)) over (
            partition by grid.cohort_month, grid.acquisition_channel
            order by grid.months_after rows between unbounded preceding and current row)
            as orders_missing_costs
    from grid
    left join margins
        on margins.cohort_month = grid.cohort_month
        and margins.acquisition_channel = grid.acquisition_channel
        and margins.months_after = grid.months_after
    left join spend
        on spend.cohort_month = grid.cohort_month
        and spend.acquisition_channel = grid.acquisition_channel
)

select
    cumulated.acquisition_channel || '|' || cast(cumulated.cohort_month as {{ dbt.type_string() }})
        || '|' || cast(cumulated.months_after as {{ dbt.type_string() }}) as cohort_payback_id,
    cumulated.cohort_month,
    cumulated.acquisition_channel,
    cumulated.months_after,
    cumulated.activity_month,
    cumulated.cohort_customers,
    cumulated.cohort_month_ad_spend,
    cumulated.cac,
    cumulated.cumulative_cm2_per_customer,
    cumulated.orders_missing_costs,
    cumulated.cumulative_cm2_per_customer >= cumulated.cac as is_paid_back,
    cumulated.activity_month <= as_of.last_complete_month as is_month_complete
from cumulated
cross join as_of
