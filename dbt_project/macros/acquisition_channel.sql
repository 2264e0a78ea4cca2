{#-
    Marketing channel of an order, from what the Shopify export carries:
      1. utm_source in Note Attributes (written by attribution apps):
         facebook / instagram / meta / fb / ig -> meta; google / adwords / youtube -> google;
         tiktok -> tiktok; klaviyo / email / newsletter / omnisend / mailchimp -> email;
         any other utm_source -> referral
      2. no UTM: the order's Source: pos -> pos; shopify_draft_order -> draft_order
      3. else a discount code that names a channel (e.g. TIKTOK15, EMAIL10) -> that channel
      4. else organic (direct and unpaid search, which the export cannot tell apart)
-#}
{% macro order_channel(utm_source, source_name, discount_code) -%}
    {%- set utm = "lower(coalesce(" ~ utm_source ~ ", ''))" -%}
    {%- set code = "lower(coalesce(" ~ discount_code ~ ", ''))" -%}
    case
        when {{ regex_contains(utm, '^(facebook|instagram|meta|fb|ig)') }}
            then 'meta'
        when {{ regex_contains(utm, '^(google|adwords|youtube)') }}
            then 'google'
        when {{ regex_contains(utm, '^tiktok') }}
            then 'tiktok'
        when {{ regex_contains(utm, '^(klaviyo|email|newsletter|omnisend|mailchimp)') }}
            then 'email'
        when {{ utm_source }} is not null then 'referral'
        when {{ source_name }} = 'pos' then 'pos'
        when {{ source_name }} = 'shopify_draft_order' then 'draft_order'
        when {{ regex_contains(code, '^(tiktok)') }} then 'tiktok'
        when {{ regex_contains(code, '^(email|klaviyo|newsletter)') }} then 'email'
        when {{ regex_contains(code, '^(fb|meta|insta)') }} then 'meta'
        else 'organic'
    end
{%- endmacro %}
