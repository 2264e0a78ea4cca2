{#- A UTC timestamp (*_at) as a calendar date in the store's timezone (*_date). -#}
{% macro store_date(utc_timestamp) -%}
    {{ return(adapter.dispatch('store_date')(utc_timestamp)) }}
{%- endmacro %}

{% macro duckdb__store_date(utc_timestamp) -%}
    cast(({{ utc_timestamp }} at time zone 'UTC') at time zone '{{ var("store_timezone") }}' as date)
{%- endmacro %}

{#- Spark's timestamps are instants shown in the session time zone (UTC, profiles.yml):
    from_utc_timestamp shifts one to the store's wall clock, whose date is the store date. -#}
{% macro spark__store_date(utc_timestamp) -%}
    to_date(from_utc_timestamp({{ utc_timestamp }}, '{{ var("store_timezone") }}'))
{%- endmacro %}

{#- Normalised email: trimmed and lower-cased; plus-addressing is kept as is. -#}
{% macro normalise_email(email) -%}
    nullif(lower(trim({{ email }})), '')
{%- endmacro %}

{#- customer_id: a stable hash of the normalised email (md5 hex), so raw emails never leave the warehouse. -#}
{% macro hash_email(email_normalised) -%}
    case when {{ email_normalised }} is not null then md5({{ email_normalised }}) end
{%- endmacro %}

{#- A money amount computed in doubles, back to the exports' DECIMAL(18,4) (rounded). -#}
{% macro money(expression) -%}
    cast(round({{ expression }}, 4) as decimal(18, 4))
{%- endmacro %}

{#- An amount to the cent as Shopify books it (half away from zero). The expression is
    made a decimal at 6 places first: in doubles 68.85 x 0.2 / 1.2 is 11.474999..., which
    would round to 11.47 where Shopify books 11.48. -#}
{% macro cents(expression) -%}
    round(cast({{ expression }} as decimal(18, 6)), 2)
{%- endmacro %}

{#- Payment gateways that charge the store nothing per order (lower-cased):
    orchestration.settings.FEE_FREE_GATEWAYS, the same list. -#}
{% macro fee_free_gateways() -%}
    {{ return(['cash', 'manual', 'gift_card', 'gift card', 'bogus', 'cash on delivery (cod)']) }}
{%- endmacro %}
