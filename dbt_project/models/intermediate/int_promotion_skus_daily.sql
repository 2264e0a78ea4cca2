-- One row per SKU and day on promotion. promotions.csv names SKUs (separated by ; or ,)
-- or a collection, matched against the product type and handle.
with promotions as (
    select * from {{ ref('stg_analytics__promotions') }}
),

by_sku as (
    select promotion_name, starts_on, ends_on, expected_uplift, trim(listed_sku) as sku
    from (
        select
            promotion_name,
            starts_on,
            ends_on,
            expected_uplift,
            {{ split_to_rows('sku_list', '[;,]') }} as listed_sku
        from promotions
        where sku_list is not null
    ) as listed
),

by_collection as (
    select
        promotions.promotion_name,
        promotions.starts_on,
        promotions.ends_on,
        promotions.expected_uplift,
        products.sku
    from promotions
    inner join {{ ref('stg_shopify__products') }} as products
        on lower(products.product_type) = lower(promotions.collection)
        or lower(products.product_handle) = lower(promotions.collection)
    where promotions.collection is not null and promotions.collection != ''
),

promo_skus as (
    select * from by_sku where sku != ''
    union
    select * from by_collection
)

select
    sku,
    {{ date_series('starts_on', 'ends_on') }} as promo_date,
    promotion_name,
    expected_uplift
from promo_skus
