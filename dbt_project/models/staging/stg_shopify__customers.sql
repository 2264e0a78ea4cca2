with source as (
    {{ newest_file_wins(source('raw', 'shopify_customers'), [normalise_email('email')]) }}
),

renamed as (
    select
        {{ normalise_email('email') }} as email_normalised,
        first_name,
        last_name,
        accepts_email_marketing,
        accepts_sms_marketing,
        country_code,
        total_spent as lifetime_spent,
        total_orders as lifetime_orders,
        tags,
        _source_file,
        _loaded_at
    from source
    where {{ normalise_email('email') }} is not null
)

select * from renamed
