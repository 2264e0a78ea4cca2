-- Each month starts where the one before it ended: per stage, the customers moving out of
-- it in a month (from_stage) are the customers who were in it at the end of the month
-- before (to_stage). Rows returned are stages where the chain breaks.
with moves as (
    select * from {{ ref('fct_lifecycle_movement_monthly') }}
),

started as (
    select month_start, from_stage as stage, sum(customers) as customers
    from moves
    where from_stage <> 'not_yet_customer'
    group by all
),

ended as (
    select (month_start + interval 1 month)::date as month_start, to_stage as stage, sum(customers) as customers
    from moves
    group by all
)

select coalesce(started.month_start, ended.month_start) as month_start,
       coalesce(started.stage, ended.stage) as stage,
       started.customers as at_start,
       ended.customers as at_previous_end
from started
full outer join ended on ended.month_start = started.month_start and ended.stage = started.stage
where coalesce(started.month_start, ended.month_start) <= (select max(month_start) from moves)
  and coalesce(started.month_start, ended.month_start) > (select min(month_start) from moves)
  and coalesce(started.customers, 0) <> coalesce(ended.customers, 0)
