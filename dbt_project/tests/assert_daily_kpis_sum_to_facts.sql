{{ config(meta={'dagster': {'ref': {'name': 'fct_daily_kpis'}}}) }}
-- meta.dagster.ref: a test reading several models is a check on fct_daily_kpis in Dagster
-- (without it dagster-dbt logs it as an observation and its failure stops nothing).
-- The daily KPIs add up to the facts they summarise, over the days they cover (a replay's
-- KPIs end at its as-of date; the facts keep every loaded row).
with kpi_days as (
    select min(kpi_date) as first_day, max(kpi_date) as last_day from {{ ref('fct_daily_kpis') }}
),

kpis as (
    select sum(orders) as orders, sum(revenue) as revenue, sum(new_customers) as new_customers,
           sum(coalesce(ad_spend, 0)) as ad_spend, sum(coalesce(tickets, 0)) as tickets
    from {{ ref('fct_daily_kpis') }}
),

facts as (
    select
        (select count(*) from {{ ref('fct_orders') }}
            where is_revenue and order_date <= (select last_day from kpi_days)) as orders,
        (select sum(net_revenue) from {{ ref('fct_orders') }}
            where order_date <= (select last_day from kpi_days)) as revenue,
        (select count(*) from {{ ref('fct_orders') }}
            where is_first_order and order_date <= (select last_day from kpi_days)) as new_customers,
        (select coalesce(sum(spend), 0) from {{ ref('fct_marketing_daily') }}
            where marketing_date between (select first_day from kpi_days)
                                     and (select last_day from kpi_days)) as ad_spend,
        (select count(*) from {{ ref('fct_support_tickets') }}
            where created_date between (select first_day from kpi_days)
                                   and (select last_day from kpi_days)) as tickets
)

select kpis.*, facts.*
from kpis cross join facts
where kpis.orders != facts.orders
   or abs(kpis.revenue - facts.revenue) > 0.01
   or kpis.new_customers != facts.new_customers
   or abs(kpis.ad_spend - facts.ad_spend) > 0.01
   or kpis.tickets != facts.tickets
