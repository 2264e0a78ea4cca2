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
      matched   partial refund matched to the goods returned: a candidate is a number
                of units k_i (0..quantity) of each sold line. Every combination is tried
                when an order has at most 12 sold lines and at most 4,096 combinations
                (product of quantity + 1): whole lines, some units of one line, one unit
                of each of two lines, ...; larger orders try k units of one line. Its
                value V = sum of round(k_i x line value / quantity, 2) (after discounts,
                rounded to the cent per line as Shopify books refund lines); no goods at
                all (V = 0) is a refund of the shipping alone.
                A candidate matches when |R - V(1 + r)| <= 0.01 x units + 0.01, or, with
                the shipping refunded too, |R - V(1 + r) - H| within the same tolerance.
                When every match has the same V (and shipping), the one touching the
                fewest lines and units, lowest line numbers first, is used: returns = V on exactly those lines, refunded
                shipping = H or 0, refunded tax = R - V - refunded shipping.
      estimated no unique match: returns = min(R / (1 + r), S) spread over the sold lines
                by value, refunded tax = min(returns x r, Taxes), refunded shipping =
                min(R - returns - refunded tax, H); anything left is an over-refund
                (unexplained_refund), flagged by the reconciliation columns of fct_orders.
      none      nothing refunded.
    Only partially refunded orders enter the candidate search.
-#}
with recursive orders as (
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
                and abs({{ cents('coalesce(goods.goods_charged, 0) * orders.named_tax_rate') }}
                        - orders.taxes) < 0.005
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

enumerable as (
    -- partially refunded orders small enough to try every way of returning their units
    select lines.order_name, count(*) as sales_lines
    from lines
    inner join partial_orders on partial_orders.order_name = lines.order_name
    group by lines.order_name
    having count(*) <= 12
       and max(lines.sales_line_index) = count(*)
       and min(lines.quantity) > 0
       and {{ product_aggregate("lines.quantity + 1") }} <= 4096
),

line_units as (
    -- every sold line of an enumerable order, once for each number of its units (0 to
    -- its quantity) that may have come back
    select
        lines.order_name,
        cast(lines.sales_line_index as integer) as sales_line_index,
        lines.quantity,
        lines.value_charged,
        {{ integer_series('0', 'lines.quantity') }} as k
    from lines
    inner join enumerable on enumerable.order_name = lines.order_name
),

combinations as (
    -- k_i units of each line, built one line at a time
    select
        order_name,
        0 as last_index,
        {{ empty_integer_list() }} as units_per_line,
        cast(0 as decimal(18, 2)) as candidate_value,
        0 as units,
        0 as candidate_lines
    from enumerable
    union all
    select
        combinations.order_name,
        line_units.sales_line_index,
        {{ integer_list_append('combinations.units_per_line', 'cast(line_units.k as integer)') }},
        -- Shopify books a refund line in cents: the returned units' value is rounded
        -- (the sum cast back: the recursive step keeps the first step's types)
        cast(combinations.candidate_value
            + cast({{ cents('line_units.k * line_units.value_charged / line_units.quantity') }} as decimal(18, 2))
            as decimal(18, 2)),
        combinations.units + cast(line_units.k as integer),
        combinations.candidate_lines + case when line_units.k > 0 then 1 else 0 end
    from combinations
    inner join line_units
        on line_units.order_name = combinations.order_name
        and line_units.sales_line_index = combinations.last_index + 1
),

enumerated_candidates as (
    select {{ star_except('combinations', ['last_index']) }}
    from combinations
    inner join enumerable
        on enumerable.order_name = combinations.order_name
        and combinations.last_index = enumerable.sales_lines
),

unit_candidates as (
    -- orders too large to enumerate: k units of one line, or no goods (shipping alone)
    select
        order_name,
        {{ integer_list_with_one('sales_lines', 'sales_line_index', 'cast(k as integer)') }} as units_per_line,
        cast({{ cents('k * value_charged / quantity') }} as decimal(18, 2)) as candidate_value,
        cast(k as integer) as units,
        case when k > 0 then 1 else 0 end as candidate_lines
    from (
        select
            lines.order_name,
            lines.sales_line_index,
            lines.quantity,
            lines.value_charged,
            partial_orders.sales_lines,
            {{ integer_series('case when lines.sales_line_index = 1 then 0 else 1 end', 'lines.quantity') }} as k
        from lines
        inner join partial_orders on partial_orders.order_name = lines.order_name
        where lines.quantity > 0
          and lines.order_name not in (select order_name from enumerable)
    ) as line_units
),

candidates as (
    select order_name, units_per_line, candidate_value, units, candidate_lines
    from enumerated_candidates
    union all
    select order_name, units_per_line, candidate_value, units, candidate_lines
    from unit_candidates
),

gaps as (
    -- how far the refund is from the candidate's goods with their tax: to the cent at
    -- the named rate when there is one, else within a cent a unit at the order's rate
    select
        candidates.*,
        partial_orders.shipping,
        case when partial_orders.exact_tax_rate is not null
            then partial_orders.refund - candidates.candidate_value
                 - {{ cents('candidates.candidate_value * partial_orders.exact_tax_rate') }}
            else partial_orders.refund - candidates.candidate_value * (1 + partial_orders.tax_rate)
        end as gap,
        case when partial_orders.exact_tax_rate is not null then 0.005
            else 0.01 * candidates.units + 0.01
        end as tolerance
    from candidates
    inner join partial_orders on partial_orders.order_name = candidates.order_name
),

matches as (
    select {{ star_except('gaps', ['gap', 'tolerance', 'shipping']) }}, abs(gap) > tolerance as with_shipping
    from gaps
    where (units > 0 and abs(gap) <= tolerance)
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
        order by candidate_lines, units, units_per_line desc
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
        unique_matches.units_per_line as matched_units_per_line,
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
            else returns_charged - {{ cents('returns_charged * goods_tax_share') }}
        end as returns_before_tax,
        case
            when tax_fraction = 0 and goods_tax_share = 0 then refunded_shipping_charged
            when refund_split_method = 'full' then shipping - (taxes - tax_on_goods)
            else refunded_shipping_charged - {{ cents('refunded_shipping_charged * goods_tax_share') }}
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
    matched_units_per_line,
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
