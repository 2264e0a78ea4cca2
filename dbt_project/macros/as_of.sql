{#- The run's as-of date (int_as_of_resolved): the --as-of of a replay, else the last date
    in the data. Every "as of" mart reads it here, so a replay cannot disagree with itself. -#}
{% macro as_of_date() -%}
    (select as_of_date from {{ ref('int_as_of_resolved') }})
{%- endmacro %}

{#- In a replay (--as-of), whether a row dated `date_expr` was known by the as-of date;
    without one, every loaded row is known (true), so an ad-spend day, ticket or purchase
    order dated after the last order still counts. -#}
{% macro known_by_as_of(date_expr) -%}
    {%- if var('as_of', none) -%}
        ({{ date_expr }} <= {{ as_of_date() }})
    {%- else -%}
        true
    {%- endif -%}
{%- endmacro %}
