{#- The lifecycle stage of a customer on a date, from days since the last order (the one
    rule, used by dim_customers for the as-of date and by fct_lifecycle_movement_monthly for
    every month end):
      prospect     no order (a subscriber or a help-desk contact who never bought)
      new          one order, placed in the last 90 days
      active       two or more orders, the last in the last 90 days
      reactivated  last order in the last 90 days after a gap of more than 180 days
      lapsing      last order 91-180 days ago
      lapsed       last order more than 180 days ago
    By recency alone; "at_risk" is the churn model's segment (analytics.churn_scores: overdue
    for the customer's own rhythm and likely to churn), a different thing. -#}
{% macro lifecycle_stage(orders, days_since_last_order, days_since_previous_order_at_last) -%}
    case
        when coalesce({{ orders }}, 0) = 0 then 'prospect'
        when {{ days_since_last_order }} > 180 then 'lapsed'
        when {{ days_since_last_order }} > 90 then 'lapsing'
        when {{ orders }} > 1 and {{ days_since_previous_order_at_last }} > 180 then 'reactivated'
        when {{ orders }} = 1 then 'new'
        else 'active'
    end
{%- endmacro %}
