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
    case
        when regexp_matches(lower(coalesce({{ utm_source }}, '')), '^(facebook|instagram|meta|fb|ig)')
            then 'meta'
        when regexp_matches(lower(coalesce({{ utm_source }}, '')), '^(google|adwords|youtube)')
            then 'google'
        when regexp_matches(lower(coalesce({{ utm_source }}, '')), '^tiktok')
            then 'tiktok'
        when regexp_matches(lower(coalesce({{ utm_source }}, '')), '^(klaviyo|email|newsletter|omnisend|mailchimp)')
            then 'email'
        when {{ utm_source }} is not null then 'referral'
        when {{ source_name }} = 'pos' then 'pos'
        when {{ source_name }} = 'shopify_draft_order' then 'draft_order'
        when regexp_matches(lower(coalesce({{ discount_code }}, '')), '^(tiktok)') then 'tiktok'
        when regexp_matches(lower(coalesce({{ discount_code }}, '')), '^(email|klaviyo|newsletter)') then 'email'
        when regexp_matches(lower(coalesce({{ discount_code }}, '')), '^(fb|meta|insta)') then 'meta'
        else 'organic'
    end
{%- endmacro %}
