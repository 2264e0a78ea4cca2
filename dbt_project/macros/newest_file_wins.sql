{#-
    Deduplicate a raw table on its natural key, keeping the row from the newest export.

    Merchants export overlapping date ranges, and a later export corrects an earlier one
    (refunds, fulfilment, ticket status, restated ad conversions). "Newest" is the file
    whose data reaches the latest date (raw.load_log.max_date), then the file loaded last:
    loading an old export after a new one must not roll the data back.
-#}
{% macro newest_file_wins(relation, key_columns, partition_extra=none) -%}
    select {{ star_except('ranked', ['_file_rank']) }}
    from (
        select
            src.*,
            row_number() over (
                partition by {{ key_columns | join(', ') }}
                order by
                    files.max_date desc nulls last,
                    src._loaded_at desc,
                    src._source_file desc,
                    src._source_row desc
            ) as _file_rank
        from {{ relation }} as src
        left join {{ source('raw', 'load_log') }} as files
            on files.file_sha256 = src._file_sha256
            and files.status = 'loaded'
    ) as ranked
    where _file_rank = 1
{%- endmacro %}
