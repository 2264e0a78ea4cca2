{#-
    One row per order: its Refunded Amount split into returns (value of goods returned),
    refunded shipping and refunded tax, as Shopify's sales report books them (returns
    reduce net sales; refunded shipping and tax reduce shipping and taxes and are not
    returns: https://shopify.dev/docs/api/shopifyql/latest/schemas/sales_revenue/sales).

    The orders export gives one Refunded Amount R per order, not the refund's lines, so
    the split is inferred. Amounts are first worked as charged; for a tax-exclusive order
    r = Taxes / goods is the products' tax rate (all tax is put on the products), for a
    tax-inclusive order r = 0 (the tax is inside the amounts) and the tax is taken out of
    each part afterwards at the order's tax_fraction (one rate for products and shipping).
    goods S = the sold lines (product and custom items) after discounts; H = Shipping.
      full      R >= Total - 0.005: returns = S (every line), refunded shipping = H,
                refunded tax = Taxes, and tips, gift cards and duties given back too.
      matched   partial refund matched to the goods returned: candidates are k units of
                one line (k = 1..quantity) and, for orders of at most 10 sold lines, every
                set of two or more whole lines, and every set of whole lines with some
                units of one more line, each with its value V (after discounts,
                rounded to the cent per line as Shopify books refund lines), and no goods
                at all (V = 0: a refund of the shipping alone).
                A candidate matches when |R - V(1 + r)| <= 0.01 x units + 0.01, or, with
                the shipping refunded too, |R - V(1 + r) - H| within the same tolerance.
                When every match has the same V (and shipping), the first one (lowest
                line numbers) is used: returns = V on exactly those lines, refunded
                shipping = H or 0, refunded tax = R - V - refunded shipping.
      estimated no unique match: returns = min(R / (1 + r), S) spread over the sold lines
                by value, refunded tax = min(returns x r, Taxes), refunded shipping =
                min(R - returns - refunded tax, H); anything left is an over-refund
                (unexplained_refund), flagged by the reconciliation columns of fct_orders.
      none      nothing refunded.
    Only partially refunded orders enter the candidate search.
-#}
with orders as (
    select
        order_name,
        refunded_amount as refund,
        total,
        shipping,
        taxes,
        duties,
        taxes_included,
        named_tax_rate
    from {{ ref('stg_shopify__orders') }}
),

lines as (
    select order_name, sales_line_index, line_number, quantity, value_charged
    from {{ ref('int_order_lines_enriched') }}
    where is_sales_line
),

goods as (
    select
        order_name,
        sum(value_charged) as goods_charged,
        count(*) as sales_lines,
        max(tax_fraction) as tax_fraction,
        max(tax_on_goods) as tax_on_goods,
        max(goods_tax_share) as goods_tax_share
    from {{ ref('int_order_lines_enriched') }}
    where is_sales_line
    group by order_name
),

kept_apart as (
    -- tips and gift cards: not goods, given back only when the whole Total is
    select
        order_name,
        sum(gross_charged) filter (where line_kind = 'tip') as tips,
        sum(gross_charged) filter (where line_kind = 'gift_card') as gift_card_sales
    from {{ ref('int_order_lines_enriched') }}
    where line_kind in ('tip', 'gift_card')
    group by order_name
),

base as (
    select
        orders.*,
        coalesce(orders.duties, 0) as order_duties,
        coalesce(kept_apart.tips, 0) as tips,
        coalesce(kept_apart.gift_card_sales, 0) as gift_card_sales,
        coalesce(goods.goods_charged, 0) as goods_charged,
        coalesce(goods.sales_lines, 0) as sales_lines,
        coalesce(goods.tax_fraction, 0) as tax_fraction,
        coalesce(goods.tax_on_goods, 0) as tax_on_goods,
        coalesce(goods.goods_tax_share, 0) as goods_tax_share,
        case when not coalesce(orders.taxes_included, false) and goods.goods_charged > 0
            then orders.taxes / goods.goods_charged
            else 0
        end as tax_rate,
        -- The rate in the tax names ("NY State Tax 8.875%") when it gives the order's
        -- Taxes to the cent: a candidate must then give the refund to the cent too.
        case when not coalesce(orders.taxes_included, false) and orders.named_tax_rate > 0
                and abs(round(cast(coalesce(goods.goods_charged, 0) * orders.named_tax_rate
                                   as decimal(18, 6)), 2) - orders.taxes) < 0.005
            then orders.named_tax_rate
        end as exact_tax_rate,
        case
            when orders.refund <= 0 then 'none'
            when orders.refund >= orders.total - 0.005 then 'full'
            else 'partial'
        end as refund_kind
    from orders
    left join goods on goods.order_name = orders.order_name
    left join kept_apart on kept_apart.order_name = orders.order_name
),

partial_orders as (
    select * from base where refund_kind = 'partial'
),

unit_candidates as (
    -- k units of one line
    select
        lines.order_name,
        0 as candidate_kind,
        lines.sales_line_index as first_index,
        1 as candidate_lines,
        cast(1 as bigint) << (lines.sales_line_index - 1) as line_mask,
        lines.sales_line_index as unit_line_index,
        units.k as units,
        units.k as unit_count,
        units.k < lines.quantity as is_part_of_line,
        -- Shopify books a refund line in cents: the returned units' value is rounded
        round(cast(units.k * lines.value_charged / lines.quantity as decimal(18, 6)), 2) as candidate_value
    from lines
    inner join partial_orders on partial_orders.order_name = lines.order_name
    cross join lateral (select unnest(generate_series(1, lines.quantity)) as k) as units
    where lines.quantity > 0 and lines.sales_line_index <= 62
),

masks as (
    select partial_orders.order_name, mask.line_mask
    from partial_orders
    cross join lateral (
        select unnest(generate_series(1, (cast(1 as bigint) << partial_orders.sales_lines) - 1)) as line_mask
    ) as mask
    where partial_orders.sales_lines between 2 and 10
),

whole_line_sets as (
    -- one or more whole lines
    select
        masks.order_name,
        1 as candidate_kind,
        min(lines.sales_line_index) as first_index,
        count(*) as candidate_lines,
        masks.line_mask,
        cast(null as bigint) as unit_line_index,
        sum(lines.quantity) as units,
        sum(round(lines.value_charged, 2)) as candidate_value
    from masks
    inner join lines
        on lines.order_name = masks.order_name
        and (masks.line_mask >> (lines.sales_line_index - 1)) & 1 = 1
    group by masks.order_name, masks.line_mask
),

subset_candidates as (
    -- two or more whole lines
    select * from whole_line_sets where candidate_lines >= 2
),

mixed_candidates as (
    -- whole lines and some units of one more line (a towel back, and 1 of 2 soaps)
    select
        sets.order_name,
        3 as candidate_kind,
        least(sets.first_index, part.unit_line_index) as first_index,
        sets.candidate_lines + 1 as candidate_lines,
        sets.line_mask | part.line_mask as line_mask,
        part.unit_line_index,
        sets.units + part.units as units,
        part.unit_count,
        sets.candidate_value + part.candidate_value as candidate_value
    from whole_line_sets as sets
    inner join unit_candidates as part
        on part.order_name = sets.order_name
        and part.is_part_of_line
        and (sets.line_mask >> (part.unit_line_index - 1)) & 1 = 0
),

shipping_only_candidates as (
    -- no goods: a refund of the shipping alone
    select
        order_name,
        2 as candidate_kind,
        0 as first_index,
        0 as candidate_lines,
        cast(0 as bigint) as line_mask,
        cast(null as bigint) as unit_line_index,
        0 as units,
        0 as candidate_value
    from partial_orders
    where shipping > 0
),

candidates as (
    select * exclude (is_part_of_line) from unit_candidates
    union all by name
    select * from subset_candidates
    union all by name
    select * from mixed_candidates
    union all by name
    select * from shipping_only_candidates
),

gaps as (
    -- how far the refund is from the candidate's goods with their tax: to the cent at
    -- the named rate when there is one, else within a cent a unit at the order's rate
    select
        candidates.*,
        partial_orders.shipping,
        case when partial_orders.exact_tax_rate is not null
            then partial_orders.refund - candidates.candidate_value
                 - round(cast(candidates.candidate_value * partial_orders.exact_tax_rate
                              as decimal(18, 6)), 2)
            else partial_orders.refund - candidates.candidate_value * (1 + partial_orders.tax_rate)
        end as gap,
        case when partial_orders.exact_tax_rate is not null then 0.005
            else 0.01 * candidates.units + 0.01
        end as tolerance
    from candidates
    inner join partial_orders on partial_orders.order_name = candidates.order_name
),

matches as (
    select gaps.* exclude (gap, tolerance, shipping), abs(gap) > tolerance as with_shipping
    from gaps
    where abs(gap) <= tolerance
       or (shipping > 0 and abs(gap - shipping) <= tolerance)
),

ranked_matches as (
    select
        matches.*,
        count(*) over (partition by order_name) as matching_candidates,
        max(candidate_value) over (partition by order_name)
            - min(candidate_value) over (partition by order_name) as value_spread,
        bool_or(with_shipping) over (partition by order_name)
            != bool_and(with_shipping) over (partition by order_name) as shipping_differs
    from matches
    qualify row_number() over (
        partition by order_name
        order by first_index, candidate_lines, candidate_kind, line_mask, units
    ) = 1
),

unique_matches as (
    select * from ranked_matches
    where value_spread < 0.005 and not shipping_differs
),

split_charged as (
    select
        base.order_name,
        base.refund,
        base.taxes,
        base.tax_fraction,
        base.tax_on_goods,
        base.goods_tax_share,
        base.goods_charged,
        base.tips,
        base.gift_card_sales,
        base.order_duties as duties,
        base.tax_rate,
        base.refund_kind,
        coalesce(ranked_matches.matching_candidates, 0) as matching_candidates,
        case
            when base.refund_kind = 'none' then 'none'
            when base.refund_kind = 'full' then 'full'
            when unique_matches.order_name is not null then 'matched'
            else 'estimated'
        end as refund_split_method,
        unique_matches.line_mask as matched_line_mask,
        unique_matches.unit_line_index as matched_unit_line_index,
        unique_matches.unit_count as matched_units,
        -- returns as charged
        case
            when base.refund_kind = 'none' then 0
            when base.refund_kind = 'full' then base.goods_charged
            when unique_matches.order_name is not null then unique_matches.candidate_value
            else least(base.refund / (1 + base.tax_rate), base.goods_charged)
        end as returns_charged,
        case
            when base.refund_kind = 'none' then 0
            when base.refund_kind = 'full' then base.shipping
            when unique_matches.order_name is not null then
                case when unique_matches.with_shipping then base.shipping else 0 end
        end as refunded_shipping_matched,
        base.shipping
    from base
    left join ranked_matches on ranked_matches.order_name = base.order_name
    left join unique_matches on unique_matches.order_name = base.order_name
),

split_tax as (
    select
        split_charged.*,
        -- refunded tax beyond the tax inside tax-inclusive amounts
        case
            when refund_split_method = 'none' then 0
            when refund_split_method = 'full' then case when tax_fraction > 0 then 0 else taxes end
            when refund_split_method = 'matched' then refund - returns_charged - refunded_shipping_matched
            else least(returns_charged * tax_rate, taxes)
        end as refunded_tax_charged
    from split_charged
),

split as (
    select
        split_tax.*,
        coalesce(
            refunded_shipping_matched,
            greatest(least(refund - returns_charged - refunded_tax_charged, shipping), 0)
        ) as refunded_shipping_charged
    from split_tax
),

before_tax as (
    -- Where prices include tax, the tax comes out of each refunded part as Shopify books
    -- it, rounded to the cent: a full refund gives back exactly the order's goods and
    -- shipping before tax; a partial one round(part x r / (1 + r), 2) of tax per part.
    select
        split.*,
        case
            when tax_fraction = 0 and goods_tax_share = 0 then returns_charged
            when refund_split_method = 'full' then goods_charged - tax_on_goods
            else returns_charged - round(returns_charged * goods_tax_share, 2)
        end as returns_before_tax,
        case
            when tax_fraction = 0 and goods_tax_share = 0 then refunded_shipping_charged
            when refund_split_method = 'full' then shipping - (taxes - tax_on_goods)
            else refunded_shipping_charged - round(refunded_shipping_charged * goods_tax_share, 2)
        end as refunded_shipping_before_tax,
        case when refund_split_method = 'full' then tips else 0 end as refunded_tips,
        case when refund_split_method = 'full' then gift_card_sales else 0 end
            as refunded_gift_card_sales,
        case when refund_split_method = 'full' then duties else 0 end as refunded_duties,
        refund - returns_charged - refunded_shipping_charged - refunded_tax_charged
            - case when refund_split_method = 'full' then tips + gift_card_sales + duties else 0 end
            as unexplained
    from split
)

select
    order_name,
    refund,
    refund_split_method,
    matching_candidates,
    matched_line_mask,
    matched_unit_line_index,
    matched_units,
    tax_rate,
    tax_fraction,
    goods_tax_share,
    {{ money('returns_charged') }} as returns_charged,
    {{ money('refunded_shipping_charged') }} as refunded_shipping_charged,
    {{ money('returns_before_tax') }} as returns,
    {{ money('refunded_shipping_before_tax') }} as refunded_shipping,
    -- the rest of the refund that is not goods, shipping or over-refund is tax
    {{ money('refund - returns_before_tax - refunded_shipping_before_tax - unexplained
              - refunded_tips - refunded_gift_card_sales - refunded_duties') }} as refunded_taxes,
    {{ money('refunded_tips') }} as refunded_tips,
    {{ money('refunded_gift_card_sales') }} as refunded_gift_card_sales,
    {{ money('refunded_duties') }} as refunded_duties,
    {{ money('unexplained') }} as unexplained_refund
from before_tax
