{#-
    Spark only (issue 18): the raw tables, as DuckDB holds them, for `dbt run --target spark`.
    `path` holds one folder of parquet files per raw table, named like it (<path>/shopify_orders/),
    e.g. exported from a warehouse by tests/spark/test_dbt_on_spark.py (export_raw). Each
    becomes an external table raw.<table> in the spark target's metastore, which keeps it
    for later runs; dropping one leaves its files.

        dbt run-operation register_raw_parquet --target spark --args '{path: /abs/path/raw}'
-#}
{% macro register_raw_parquet(path) %}
    {%- if target.type != 'spark' -%}
        {{ exceptions.raise_compiler_error("register_raw_parquet is for the spark target (DuckDB has the raw tables)") }}
    {%- endif -%}
    {%- set tables = [] -%}
    {%- for node in graph.sources.values() if node.source_name == 'raw' -%}
        {%- do tables.append(node.schema ~ '.' ~ node.name) -%}
    {%- endfor -%}
    {%- do run_query('create schema if not exists raw') -%}
    {%- for table in tables | sort -%}
        {%- do run_query('drop table if exists ' ~ table) -%}
        {%- do run_query("create table " ~ table ~ " using parquet location '"
                         ~ path ~ "/" ~ table.split('.')[-1] ~ "'") -%}
    {%- endfor -%}
    {%- do log('registered ' ~ (tables | length) ~ ' raw tables from ' ~ path, info=true) -%}
{% endmacro %}
