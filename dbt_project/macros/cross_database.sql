{#-
    SQL that DuckDB and Spark spell differently (issue 18: the same models build on Spark
    through dbt-spark's session mode). Where one of dbt's cross-database macros gives the
    same results on both engines the models call it (dbt.type_string, dbt.listagg,
    dbt.dateadd, dbt.date_trunc, dbt.datediff in days and months); these macros cover
    the rest.
    Each duckdb__ version is the SQL the models had before, so the DuckDB build does not
    change; the spark__ one is Spark SQL (Spark 4 as profiles.yml sets it up: session
    time zone UTC, raw string literals, ANSI mode off).
-#}

{#- `alias.*` without some columns. -#}
{% macro star_except(relation_alias, columns) -%}
    {{ return(adapter.dispatch('star_except')(relation_alias, columns)) }}
{%- endmacro %}

{% macro duckdb__star_except(relation_alias, columns) -%}
    {{ relation_alias }}.* exclude ({{ columns | join(', ') }})
{%- endmacro %}

{% macro spark__star_except(relation_alias, columns) -%}
    {{ relation_alias }}.* except ({{ columns | join(', ') }})
{%- endmacro %}


{#- Whether a regular expression matches anywhere in a string (null for a null string).
    `pattern` is the expression itself, without quotes. -#}
{% macro regex_contains(expression, pattern) -%}
    {{ return(adapter.dispatch('regex_contains')(expression, pattern)) }}
{%- endmacro %}

{% macro duckdb__regex_contains(expression, pattern) -%}
    regexp_matches({{ expression }}, '{{ pattern }}')
{%- endmacro %}

{% macro spark__regex_contains(expression, pattern) -%}
    ({{ expression }} rlike '{{ pattern }}')
{%- endmacro %}


{#- Whether a regular expression matches the whole string. -#}
{% macro regex_full_match(expression, pattern) -%}
    {{ return(adapter.dispatch('regex_full_match')(expression, pattern)) }}
{%- endmacro %}

{% macro duckdb__regex_full_match(expression, pattern) -%}
    regexp_full_match({{ expression }}, '{{ pattern }}')
{%- endmacro %}

{#- \z, not $: Java's $ also matches before a final line break. -#}
{% macro spark__regex_full_match(expression, pattern) -%}
    ({{ expression }} rlike '^(?:{{ pattern }})\z')
{%- endmacro %}


{#- Minute boundaries crossed from one timestamp to another, as DuckDB's date_diff counts
    them (10:00:50 -> 10:01:10 is 1). dbt.datediff on Spark rounds the elapsed seconds up
    instead, which gives other numbers. -#}
{% macro minutes_between(start_timestamp, end_timestamp) -%}
    {{ return(adapter.dispatch('minutes_between')(start_timestamp, end_timestamp)) }}
{%- endmacro %}

{% macro duckdb__minutes_between(start_timestamp, end_timestamp) -%}
    date_diff('minute', {{ start_timestamp }}, {{ end_timestamp }})
{%- endmacro %}

{% macro spark__minutes_between(start_timestamp, end_timestamp) -%}
    timestampdiff(MINUTE, date_trunc('MINUTE', {{ start_timestamp }}), date_trunc('MINUTE', {{ end_timestamp }}))
{%- endmacro %}


{#- A generator for a select list: one row per integer from `start` to `stop` (none when
    stop < start). Spark's sequence() counts down when stop < start, hence the case. -#}
{% macro integer_series(start, stop) -%}
    {{ return(adapter.dispatch('integer_series')(start, stop)) }}
{%- endmacro %}

{% macro duckdb__integer_series(start, stop) -%}
    unnest(generate_series({{ start }}, {{ stop }}))
{%- endmacro %}

{% macro spark__integer_series(start, stop) -%}
    explode(case when {{ start }} <= {{ stop }} then sequence({{ start }}, {{ stop }}) end)
{%- endmacro %}


{#- A generator for a select list: one row per date from `start` to `stop`, a `unit`
    (day, month) apart (none when stop < start, where Spark's sequence() fails). -#}
{% macro date_series(start, stop, unit='day') -%}
    {{ return(adapter.dispatch('date_series')(start, stop, unit)) }}
{%- endmacro %}

{% macro duckdb__date_series(start, stop, unit) -%}
    cast(unnest(generate_series({{ start }}, {{ stop }}, interval 1 {{ unit }})) as date)
{%- endmacro %}

{% macro spark__date_series(start, stop, unit) -%}
    explode(case when {{ start }} <= {{ stop }}
        then sequence(cast({{ start }} as date), cast({{ stop }} as date), interval 1 {{ unit }}) end)
{%- endmacro %}


{#- A generator for a select list: one row per piece of a string split at a regular
    expression. -#}
{% macro split_to_rows(expression, pattern) -%}
    {{ return(adapter.dispatch('split_to_rows')(expression, pattern)) }}
{%- endmacro %}

{% macro duckdb__split_to_rows(expression, pattern) -%}
    unnest(regexp_split_to_array({{ expression }}, '{{ pattern }}'))
{%- endmacro %}

{% macro spark__split_to_rows(expression, pattern) -%}
    explode(split({{ expression }}, '{{ pattern }}'))
{%- endmacro %}


{#- Lists of integers (the units of each line in a refund candidate). dbt.array_construct
    does not fit: on Spark an empty array() has no element type. -#}
{% macro empty_integer_list() -%}
    {{ return(adapter.dispatch('empty_integer_list')()) }}
{%- endmacro %}

{% macro duckdb__empty_integer_list() -%}
    cast([] as integer[])
{%- endmacro %}

{% macro spark__empty_integer_list() -%}
    cast(array() as array<int>)
{%- endmacro %}

{% macro integer_list_append(list, element) -%}
    {{ return(adapter.dispatch('integer_list_append')(list, element)) }}
{%- endmacro %}

{% macro duckdb__integer_list_append(list, element) -%}
    list_append({{ list }}, {{ element }})
{%- endmacro %}

{% macro spark__integer_list_append(list, element) -%}
    array_append({{ list }}, {{ element }})
{%- endmacro %}

{#- The element at a 1-based position; null past the end. -#}
{% macro list_element(list, position) -%}
    {{ return(adapter.dispatch('list_element')(list, position)) }}
{%- endmacro %}

{% macro duckdb__list_element(list, position) -%}
    {{ list }}[{{ position }}]
{%- endmacro %}

{% macro spark__list_element(list, position) -%}
    try_element_at({{ list }}, {{ position }})
{%- endmacro %}

{#- `length` integers: `value` at the 1-based `position`, 0 elsewhere. -#}
{% macro integer_list_with_one(length, position, value) -%}
    {{ return(adapter.dispatch('integer_list_with_one')(length, position, value)) }}
{%- endmacro %}

{% macro duckdb__integer_list_with_one(length, position, value) -%}
    list_transform(range(1, {{ length }} + 1),
                   lambda i: case when i = {{ position }} then {{ value }} else 0 end)
{%- endmacro %}

{% macro spark__integer_list_with_one(length, position, value) -%}
    transform(sequence(1, {{ length }}), i -> case when i = {{ position }} then {{ value }} else 0 end)
{%- endmacro %}


{#- A struct of one named field: max_by / last_value ignore nulls skip a null, not a
    struct holding one. -#}
{% macro struct_of(field, expression) -%}
    {{ return(adapter.dispatch('struct_of')(field, expression)) }}
{%- endmacro %}

{% macro duckdb__struct_of(field, expression) -%}
    {'{{ field }}': {{ expression }}}
{%- endmacro %}

{% macro spark__struct_of(field, expression) -%}
    named_struct('{{ field }}', {{ expression }})
{%- endmacro %}


{#- last_value(... ignore nulls) as a window function: DuckDB takes the option inside
    the parentheses, Spark as a second argument. -#}
{% macro last_value_ignore_nulls(expression) -%}
    {{ return(adapter.dispatch('last_value_ignore_nulls')(expression)) }}
{%- endmacro %}

{% macro duckdb__last_value_ignore_nulls(expression) -%}
    last_value({{ expression }} ignore nulls)
{%- endmacro %}

{% macro spark__last_value_ignore_nulls(expression) -%}
    last_value({{ expression }}, true)
{%- endmacro %}


{#- The product of a column's values over a group, in doubles (an aggregate). Spark has
    product() in its DataFrame API only, not in SQL. -#}
{% macro product_aggregate(expression) -%}
    {{ return(adapter.dispatch('product_aggregate')(expression)) }}
{%- endmacro %}

{% macro duckdb__product_aggregate(expression) -%}
    product({{ expression }})
{%- endmacro %}

{% macro spark__product_aggregate(expression) -%}
    aggregate(collect_list(cast({{ expression }} as double)), cast(1 as double), (total, value) -> total * value)
{%- endmacro %}
