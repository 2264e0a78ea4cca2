"""What each customer is likely to buy next, and which products go with which.

- `product_complements(lines, *, as_of, top_k, min_co_buyers, in_stock)`: per SKU the
  SKUs its buyers also bought, in the same order or a later one (association rules:
  support, confidence, lift; Agrawal & Srikant 1994), for product pages.
- `next_products(lines, repurchase, in_stock, *, as_of, k)`: per customer the k SKUs most
  likely to be in their next order, why, and the day to send the suggestion.
- `hit_rate_at_k(recommend_fn, lines, *, cutoff, k)`: the evaluation on held-out next
  orders, with `best_sellers` and `buy_again`, the two baselines it is compared with.

The next-order model scores every candidate SKU in one unit, the probability that it is in
the customer's next order, estimated from the store's own consecutive orders:
- buy again (a SKU the customer has bought): the share of later orders of the SKU's buyers
  that held it again (over all customers), shrunk toward that share by the customer's own
  record: `(own re-buys + m x store share) / (own later orders + m)`;
- bought with X (a SKU they have not bought): of the transitions from an order to the
  next one of customers who already had X and not yet Y, the share whose next order held
  Y for the first time (a discrete-time hazard; item-to-item in the sense of Linden, Smith
  & York 2003, conditioned on order sequence like the Markov part of Rendle et al. 2010),
  shrunk toward the SKU's popularity;
- best seller: of the repeat orders of the last 90 days, the share holding the SKU for
  the customer's first time.
Because the three are the same quantity, they are ranked against each other as they are:
there is no blend weight to tune, and a consumable's high re-buy share puts "buy again"
first where that is what customers do. An order is a customer's day (two orders on one day
are one basket), as Shopify's "customers who bought" reports count them.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

import polars as pl
from scipy.stats import binom

# Weight of the store-wide estimate, in orders, when shrinking a customer's own re-buy
# share or a pair's hazard toward it (empirical Bayes with a beta prior of this strength).
PRIOR_ORDERS = 5.0
# A customer's next order is compared with the popularity of the last 90 days (seasons
# and promotions move it); with no repeat order in that window, all history is used.
POPULARITY_DAYS = 90
# Candidates per SKU held from its pairs (a customer's "bought with" list is the best of
# these over the SKUs they bought); bounds the candidate frame on large stores.
PAIRS_PER_SKU = 20
# Best sellers offered to every customer as fallback candidates, beyond k.
POPULAR_EXTRA = 10
Z95 = 1.959963984540054
# Family-wise error rate for the pairs kept (Bonferroni over every ordered pair of SKUs).
SIGNIFICANCE = 0.05

REASON_AGAIN = "buy again"
REASON_WITH = "bought with"
REASON_POPULAR = "best seller"


def _require(frame: pl.DataFrame, name: str, columns: tuple[str, ...]) -> None:
    for column in columns:
        if column not in frame.columns:
            raise ValueError(f"{name} is missing column '{column}'")


@dataclass(frozen=True)
class _History:
    """Order history up to as_of with customers and SKUs as integer codes (sorting and
    joining on them is several times faster than on the hash strings); `customers` and
    `skus_by_code` turn the codes back (codes follow the sorted ids, so ties broken by code
    are broken by id).

    orders: customer_id, order_date, order_rank (1 = first), orders (their count),
    last_order_date. skus: customer_id, sku, first_date, last_date, sku_orders (orders
    holding the SKU), first_rank (rank of the first order with it), orders, last_order_date.
    """

    orders: pl.LazyFrame
    skus: pl.LazyFrame
    customers: pl.DataFrame  # customer_id (code), customer (id)
    skus_by_code: pl.DataFrame  # sku (code), sku_id (id)


def _history(lines: pl.DataFrame, as_of: date) -> _History:
    _require(lines, "lines", ("customer_id", "order_date", "sku"))
    kept = (
        lines.lazy()
        .filter((pl.col("order_date") <= as_of) & pl.col("customer_id").is_not_null()
                & pl.col("sku").is_not_null())
        .select("customer_id", "order_date", "sku")
        .unique()
        .collect()
    )
    customers = (kept.select(pl.col("customer_id").alias("customer")).unique().sort("customer")
                 .with_row_index("customer_id"))
    skus_by_code = (kept.select(pl.col("sku").alias("sku_id")).unique().sort("sku_id")
                    .with_row_index("sku"))
    coded = (kept.lazy()
             .join(customers.lazy(), left_on="customer_id", right_on="customer")
             .join(skus_by_code.lazy(), left_on="sku", right_on="sku_id")
             .select(pl.col("customer_id_right").alias("customer_id"), "order_date",
                     pl.col("sku_right").alias("sku")))
    orders = (
        coded.select("customer_id", "order_date").unique()
        .with_columns(pl.col("order_date").rank("dense").over("customer_id")
                      .cast(pl.Int64).alias("order_rank"))
        .with_columns(pl.len().over("customer_id").cast(pl.Int64).alias("orders"),
                      pl.col("order_date").max().over("customer_id").alias("last_order_date"))
        .collect()
    )
    skus = (
        coded.group_by("customer_id", "sku")
        .agg(pl.col("order_date").min().alias("first_date"),
             pl.col("order_date").max().alias("last_date"),
             pl.len().cast(pl.Int64).alias("sku_orders"))
        .join(orders.lazy().select("customer_id", pl.col("order_date").alias("first_date"),
                                   pl.col("order_rank").alias("first_rank"), "orders",
                                   "last_order_date"),
              on=["customer_id", "first_date"])
        .collect()
    )
    return _History(orders.lazy(), skus.lazy(), customers, skus_by_code)


def _decode(frame: pl.LazyFrame, history: _History, *, customer: str | None = None,
            skus: tuple[str, ...] = ()) -> pl.LazyFrame:
    """Replace code columns by the ids they stand for."""
    if customer:
        frame = (frame.join(history.customers.lazy().rename({"customer_id": customer}),
                            on=customer, how="left")
                 .with_columns(pl.col("customer").alias(customer)).drop("customer"))
    for column in skus:
        frame = (frame.join(history.skus_by_code.lazy().rename({"sku": column}), on=column,
                            how="left")
                 .with_columns(pl.col("sku_id").alias(column)).drop("sku_id"))
    return frame


def _encode_skus(frame: pl.DataFrame, history: _History) -> pl.LazyFrame:
    """`sku` ids of a frame as codes (SKUs never sold up to as_of drop out: nothing to say)."""
    return (frame.lazy().select(pl.col("sku").alias("sku_id")).unique()
            .join(history.skus_by_code.lazy(), on="sku_id").select("sku"))


def _products(lines: pl.DataFrame) -> pl.LazyFrame:
    """sku, product: the most common line name of each SKU (the SKU itself without names)."""
    if "line_name" not in lines.columns:
        return lines.lazy().select("sku").unique().with_columns(pl.col("sku").alias("product"))
    return (lines.lazy().filter(pl.col("sku").is_not_null())
            .group_by("sku").agg(pl.col("line_name").drop_nulls().mode().sort().first()
                                 .alias("product"))
            .with_columns(pl.col("product").fill_null(pl.col("sku"))))


def _pairs(skus: pl.LazyFrame) -> pl.LazyFrame:
    """One row per customer and ordered pair of different SKUs they bought."""
    left = skus.select("customer_id", pl.col("sku").alias("sku_a"),
                       pl.col("first_date").alias("first_a"),
                       pl.col("first_rank").alias("rank_a"), "orders")
    right = skus.select("customer_id", pl.col("sku").alias("sku_b"),
                        pl.col("first_date").alias("first_b"),
                        pl.col("first_rank").alias("rank_b"))
    return left.join(right, on="customer_id").filter(pl.col("sku_a") != pl.col("sku_b"))


def _wilson_lower(successes: pl.Expr, trials: pl.Expr) -> pl.Expr:
    p = successes / trials
    z2 = Z95 * Z95
    centre = p + z2 / (2 * trials)
    spread = Z95 * ((p * (1 - p) + z2 / (4 * trials)) / trials).sqrt()
    return (centre - spread) / (1 + z2 / trials)


def product_complements(lines: pl.DataFrame, *, as_of: date, top_k: int = 5,
                        min_co_buyers: int = 3, min_support: float = 0.0,
                        alpha: float | None = 0.05,
                        in_stock: pl.DataFrame | None = None) -> pl.DataFrame:
    """Per SKU, the SKUs its buyers also bought: in the same order or a later one.

    lines: order lines `customer_id, order_date, sku` (+ optional `line_name`); only lines
    dated on or before `as_of` count; an order is a customer's day. in_stock (optional):
    `sku` of the products that may be suggested; complements outside it are left out.

    A rule X -> Y counts a customer who bought Y on the day of their first order with X or
    later (Agrawal & Srikant 1994's support, confidence and lift, over customers):
    support = co_buyers / customers, confidence = co_buyers / buyers of X, lift =
    confidence / (buyers of Y / customers), lift_lower = the same with the Wilson 95% lower
    bound of the confidence, so that three buyers of a rare pair do not outrank a hundred.
    p_value: the chance of at least co_buyers if X's buyers bought Y at its overall rate
    (binomial upper tail). Among hundreds of SKUs, thousands of pairs meet by chance (three
    co-buyers of two rare products give a lift of 30), so with `alpha` a rule is kept only
    if p_value <= alpha / (SKUs x (SKUs - 1)), Bonferroni over every rule that could have
    been found (Webb 2007, "Discovering significant patterns"); alpha=None keeps every rule.
    Only rules with at least `min_co_buyers` customers, support >= `min_support` and lift
    above 1 are kept, the best `top_k` per SKU by lift_lower (then co_buyers, then SKU).

    Returns `sku, product, complement_sku, complement_product, rank, co_buyers,
    same_order_buyers, buyers, support, confidence, lift, lift_lower, p_value,
    median_days_after` (days from the first X to the first Y among customers who bought Y
    in a later order; null when all bought them together). Raises ValueError if a column
    is missing.
    """
    if top_k < 1:
        raise ValueError(f"top_k must be at least 1, got {top_k}")
    history = _history(lines, as_of)
    skus = history.skus
    customers = skus.select(pl.col("customer_id").n_unique().alias("customers"))
    buyers = skus.group_by("sku").agg(pl.len().alias("buyers"))
    rules = (
        _pairs(skus)
        .filter(pl.col("first_b") >= pl.col("first_a"))
        .group_by("sku_a", "sku_b")
        .agg(pl.len().alias("co_buyers"),
             (pl.col("first_b") == pl.col("first_a")).sum().alias("same_order_buyers"),
             (pl.col("first_b") - pl.col("first_a")).dt.total_days()
             .filter(pl.col("first_b") > pl.col("first_a")).median()
             .alias("median_days_after"))
        .filter(pl.col("co_buyers") >= min_co_buyers)
        .join(buyers.rename({"sku": "sku_a"}), on="sku_a")
        .join(buyers.rename({"sku": "sku_b", "buyers": "buyers_b"}), on="sku_b")
        .join(customers, how="cross")
        .with_columns((pl.col("co_buyers") / pl.col("customers")).alias("support"),
                      (pl.col("co_buyers") / pl.col("buyers")).alias("confidence"),
                      (pl.col("buyers_b") / pl.col("customers")).alias("share_b"))
        .with_columns((pl.col("confidence") / pl.col("share_b")).alias("lift"),
                      (_wilson_lower(pl.col("co_buyers"), pl.col("buyers"))
                       / pl.col("share_b")).alias("lift_lower"))
        .filter((pl.col("support") >= min_support) & (pl.col("lift") > 1))
        .collect()
    )
    # Binomial upper tail P(X >= co_buyers), X ~ Bin(buyers of X, share of Y's buyers).
    rules = rules.with_columns(pl.Series("p_value", binom.sf(
        rules["co_buyers"].to_numpy() - 1, rules["buyers"].to_numpy(),
        rules["share_b"].to_numpy()), dtype=pl.Float64)).lazy()
    if alpha is not None:
        n_skus = history.skus_by_code.height
        rules = rules.filter(pl.col("p_value") <= alpha / max(n_skus * (n_skus - 1), 1))
    if in_stock is not None:
        _require(in_stock, "in_stock", ("sku",))
        rules = rules.join(_encode_skus(in_stock, history).rename({"sku": "sku_b"}),
                           on="sku_b", how="semi")
    products = _products(lines)
    ranked = (rules.sort(["sku_a", "lift_lower", "co_buyers", "sku_b"],
                         descending=[False, True, True, False])
              .with_columns(pl.int_range(1, pl.len() + 1).over("sku_a").alias("rank"))
              .filter(pl.col("rank") <= top_k))
    return (
        _decode(ranked, history, skus=("sku_a", "sku_b"))
        .join(products.rename({"sku": "sku_a"}), on="sku_a", how="left")
        .join(products.rename({"sku": "sku_b", "product": "complement_product"}),
              on="sku_b", how="left")
        .select(pl.col("sku_a").alias("sku"), "product", pl.col("sku_b").alias("complement_sku"),
                "complement_product", pl.col("rank").cast(pl.Int32), "co_buyers",
                "same_order_buyers", "buyers", pl.col("support").round(6),
                pl.col("confidence").round(4), pl.col("lift").round(3),
                pl.col("lift_lower").round(3), "p_value", "median_days_after")
        .sort("sku", "rank")
        .collect()
    )


def _store_gap_days(orders: pl.LazyFrame) -> float | None:
    """Median days between a customer's consecutive orders, over all customers."""
    gaps = (orders.sort("customer_id", "order_date")
            .select((pl.col("order_date").diff().over("customer_id")).dt.total_days()
                    .alias("gap"))
            .drop_nulls()
            .select(pl.col("gap").median())
            .collect())
    value = gaps["gap"][0] if gaps.height else None
    return float(value) if value is not None else None


def next_products(lines: pl.DataFrame, repurchase: pl.DataFrame | None,
                  in_stock: pl.DataFrame | None, *, as_of: date, k: int = 3,
                  complements: bool = True) -> pl.DataFrame:
    """The k SKUs each customer is most likely to buy in their next order, and when to ask.

    lines: order lines `customer_id, order_date, sku` (+ optional `line_name`); lines after
    `as_of` are ignored. repurchase: `sku, median_days_to_repurchase` (models.repurchase.
    product_repurchase; None computes it from `lines`). in_stock: `sku` of the products
    that may be suggested (None: every SKU sold; a store without inventory data).

    Every candidate is scored as the probability that it is in the customer's next order
    (module docstring: buy again, bought with X, best seller), and the k best are kept
    (ties by SKU). send_on is the day to send the suggestion: for "buy again" the last
    day the customer bought the SKU plus its median days to repurchase; for "bought with
    X" the last day they bought X plus the median days from X to the SKU among customers
    who bought it later; otherwise (and when those are unknown) their last order plus the
    store's median days between orders. Never before as_of + 1 day. complements=False
    leaves out the "bought with" candidates (what they add is measured in
    benchmarks/next_product.py).

    Returns `customer_id, rank, sku, product, score, reason, because_sku, send_on,
    last_order_date`, one row per customer with an order on or before as_of and suggestion
    (fewer than k rows when fewer SKUs may be suggested), sorted by customer and rank.
    Raises ValueError on a missing column or k < 1.
    """
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}")
    history = _history(lines, as_of)
    orders, skus = history.orders, history.skus
    if repurchase is None:
        from models.repurchase import product_repurchase

        repurchase = product_repurchase(lines, as_of=as_of)
    _require(repurchase, "repurchase", ("sku", "median_days_to_repurchase"))
    allowed = None
    if in_stock is not None:
        _require(in_stock, "in_stock", ("sku",))
        allowed = _encode_skus(in_stock, history).collect().lazy()

    # Buy again: later orders of a SKU's buyers (orders after their first with it) and
    # how many of them held it again.
    again = (skus.group_by("sku")
             .agg((pl.col("sku_orders") - 1).sum().alias("rebuys"),
                  (pl.col("orders") - pl.col("first_rank")).sum().alias("later_orders")))
    totals = again.select(pl.col("rebuys").sum(), pl.col("later_orders").sum()).collect()
    store_again = (float(totals["rebuys"][0]) / float(totals["later_orders"][0])
                   if totals.height and totals["later_orders"][0] else 0.0)
    again = again.with_columns(
        pl.when(pl.col("later_orders") > 0)
        .then((pl.col("rebuys") + PRIOR_ORDERS * store_again)
              / (pl.col("later_orders") + PRIOR_ORDERS))
        .otherwise(store_again).alias("again_rate"))

    # Best seller: first purchases of a SKU in the repeat orders of the last 90 days
    # (`popularity`, the fallback and the prior), and over all history (`base_rate`, what
    # a pair is tested against).
    window_start = as_of - timedelta(days=POPULARITY_DAYS - 1)
    repeat = orders.filter(pl.col("order_rank") >= 2)
    n_repeat = repeat.select(pl.len()).collect().item()
    n_recent = repeat.filter(pl.col("order_date") >= window_start).select(pl.len()).collect().item()
    popular_from, n_window = (window_start, n_recent) if n_recent else (date.min, n_repeat)
    firsts = skus.filter(pl.col("first_rank") >= 2)
    popularity = (
        history.skus_by_code.lazy().select("sku")
        .join(firsts.filter(pl.col("first_date") >= popular_from).group_by("sku")
              .agg((pl.len() / max(n_window, 1)).alias("popularity")), on="sku", how="left")
        .join(firsts.group_by("sku").agg((pl.len() / max(n_repeat, 1)).alias("base_rate")),
              on="sku", how="left")
        .with_columns(pl.col("popularity").fill_null(0.0),
                      # A SKU never first bought in a repeat order: half of one such order.
                      pl.col("base_rate").fill_null(0.5 / max(n_repeat, 1)))
        .collect().lazy()
    )

    # Bought with X: per pair, transitions from an order holding X (and not yet Y) to the
    # next order, and how many of those next orders brought Y for the first time.
    # A customer who bought X at order rank a (of n) and Y first at rank b contributes b - a
    # transitions (one success) if b > a, none if b <= a; one who never bought Y: n - a.
    # A pair is used only if chance does not explain its successes: binomial upper tail at
    # Y's base rate, Bonferroni over all pairs (as product_complements; Webb 2007). Without
    # the test, thousands of chance pairs among rare SKUs crowd out better suggestions
    # (benchmarks/results/next_product.md, validation window).
    pairs = pl.LazyFrame(schema={"sku_a": pl.UInt32, "sku_b": pl.UInt32, "hazard": pl.Float64,
                                 "gap_days": pl.Float64})
    if complements:
        base = skus.group_by("sku").agg((pl.col("orders") - pl.col("first_rank")).sum()
                                        .alias("base"))
        counted = (
            _pairs(skus)
            .group_by("sku_a", "sku_b")
            .agg((pl.col("rank_b") > pl.col("rank_a")).sum().cast(pl.Int64).alias("firsts"),
                 pl.when(pl.col("rank_b") > pl.col("rank_a"))
                 .then(pl.col("orders") - pl.col("rank_b"))
                 .otherwise(pl.col("orders") - pl.col("rank_a")).sum().alias("not_at_risk"),
                 (pl.col("first_b") - pl.col("first_a")).dt.total_days()
                 .filter(pl.col("rank_b") > pl.col("rank_a")).median().cast(pl.Float64)
                 .alias("gap_days"))
            .filter(pl.col("firsts") > 0)
            .join(base.rename({"sku": "sku_a"}), on="sku_a")
            .join(popularity.rename({"sku": "sku_b"}), on="sku_b")
            .with_columns((pl.col("base") - pl.col("not_at_risk")).alias("at_risk"))
            .with_columns(((pl.col("firsts") + PRIOR_ORDERS * pl.col("popularity"))
                           / (pl.col("at_risk") + PRIOR_ORDERS)).alias("hazard"))
            .filter((pl.col("hazard") > pl.col("popularity"))
                    & (pl.col("firsts") / pl.col("at_risk") > pl.col("base_rate")))
            .collect()
        )
        n_skus = history.skus_by_code.height
        p_value = binom.sf(counted["firsts"].to_numpy() - 1, counted["at_risk"].to_numpy(),
                           counted["base_rate"].to_numpy().clip(max=1.0))
        pairs = (counted.filter(pl.Series(p_value <= SIGNIFICANCE / max(n_skus * (n_skus - 1), 1)))
                 .lazy().select("sku_a", "sku_b", "hazard", "gap_days"))
        if allowed is not None:
            pairs = pairs.join(allowed.rename({"sku": "sku_b"}), on="sku_b", how="semi")
        pairs = (pairs.sort(["sku_a", "hazard", "sku_b"], descending=[False, True, False])
                 .filter(pl.int_range(pl.len()).over("sku_a") < PAIRS_PER_SKU))

    customers = orders.select("customer_id", "orders", "last_order_date").unique("customer_id")
    bought = skus.select("customer_id", "sku")
    candidate_columns = ("customer_id", "sku", "score", "reason", "because_sku", "anchor_date",
                         "gap_days")
    again_candidates = (
        skus.join(again.select("sku", "again_rate"), on="sku")
        .select("customer_id", "sku",
                ((pl.col("sku_orders") - 1 + PRIOR_ORDERS * pl.col("again_rate"))
                 / (pl.col("orders") - pl.col("first_rank") + PRIOR_ORDERS)).alias("score"),
                pl.lit(REASON_AGAIN).alias("reason"),
                pl.lit(None, pl.UInt32).alias("because_sku"),
                pl.col("last_date").alias("anchor_date"),
                pl.lit(None, pl.Float64).alias("gap_days"))
    )
    if allowed is not None:
        again_candidates = again_candidates.join(allowed, on="sku", how="semi")
    with_candidates = (
        skus.select("customer_id", pl.col("sku").alias("sku_a"), "last_date")
        .join(pairs, on="sku_a")
        .join(bought.rename({"sku": "sku_b"}), on=["customer_id", "sku_b"], how="anti")
        # The best X for each Y the customer has not bought (ties: the lower SKU code).
        .sort(["hazard", "sku_a"], descending=[True, False])
        .group_by("customer_id", "sku_b").agg(pl.all().first())
        .select("customer_id", pl.col("sku_b").alias("sku"), pl.col("hazard").alias("score"),
                pl.lit(REASON_WITH).alias("reason"), pl.col("sku_a").alias("because_sku"),
                pl.col("last_date").alias("anchor_date"), "gap_days")
    )
    popular = popularity if allowed is None else popularity.join(allowed, on="sku", how="semi")
    popular = (popular.filter(pl.col("popularity") > 0)
               .sort(["popularity", "sku"], descending=[True, False]).head(k + POPULAR_EXTRA))
    popular_candidates = (
        customers.select("customer_id", "last_order_date")
        .join(popular, how="cross")
        .join(bought, on=["customer_id", "sku"], how="anti")
        .select("customer_id", "sku", pl.col("popularity").alias("score"),
                pl.lit(REASON_POPULAR).alias("reason"),
                pl.lit(None, pl.UInt32).alias("because_sku"),
                pl.col("last_order_date").alias("anchor_date"),
                pl.lit(None, pl.Float64).alias("gap_days"))
    )

    store_gap = _store_gap_days(orders)
    timing = (repurchase.lazy().select(pl.col("sku").alias("sku_id"),
                                       pl.col("median_days_to_repurchase").cast(pl.Float64)
                                       .alias("rebuy_days"))
              .join(history.skus_by_code.lazy(), on="sku_id").select("sku", "rebuy_days"))
    ranked = (
        pl.concat([c.select(candidate_columns)
                   for c in (again_candidates, with_candidates, popular_candidates)])
        # A SKU is one candidate per customer: buy again and bought with exclude each other
        # and best sellers exclude what was bought; a bought-with SKU beats its own
        # best-seller row (its hazard is above its popularity).
        .sort(["customer_id", "score", "sku"], descending=[False, True, False])
        .unique(["customer_id", "sku"], keep="first", maintain_order=True)
        .filter(pl.int_range(pl.len()).over("customer_id") < k)
        .with_columns(pl.int_range(1, pl.len() + 1).over("customer_id").cast(pl.Int32)
                      .alias("rank"))
        .join(timing, on="sku", how="left")
        .join(customers.select("customer_id", "last_order_date"), on="customer_id")
    )
    days = (pl.when(pl.col("reason") == REASON_AGAIN).then(pl.col("rebuy_days"))
            .when(pl.col("reason") == REASON_WITH).then(pl.col("gap_days"))
            .otherwise(None))
    # Without a known interval, the customer's next order is due about a store gap after
    # their last order; with none (no customer has ordered twice), tomorrow.
    fallback = (pl.col("last_order_date") + pl.duration(days=round(store_gap))
                if store_gap is not None else pl.lit(as_of + timedelta(days=1)))
    earliest = as_of + timedelta(days=1)
    dated = ranked.with_columns(
        pl.when(days.is_not_null())
        .then(pl.col("anchor_date") + pl.duration(days=days.round(0).cast(pl.Int64)))
        .otherwise(fallback).alias("send_on")
    ).with_columns(pl.max_horizontal(pl.col("send_on"), pl.lit(earliest)).alias("send_on"))
    products = _products(lines)
    return (
        _decode(dated, history, customer="customer_id", skus=("sku", "because_sku"))
        .join(products, on="sku", how="left")
        .join(products.rename({"sku": "because_sku", "product": "because_product"}),
              on="because_sku", how="left")
        .with_columns(pl.when(pl.col("reason") == REASON_WITH)
                      .then(pl.lit(REASON_WITH + " ") + pl.col("because_product"))
                      .otherwise(pl.col("reason")).alias("reason"))
        .select("customer_id", "rank", "sku", "product", pl.col("score").round(4), "reason",
                "because_sku", "send_on", "last_order_date")
        .sort("customer_id", "rank")
        .collect()
    )


def best_sellers(lines: pl.DataFrame, *, as_of: date, k: int = 3,
                 window_days: int = 90) -> pl.DataFrame:
    """Baseline: the same top-k SKUs by units sold in the `window_days` to `as_of` for every
    customer with an order on or before as_of (lines without `quantity` count 1 each; ties
    by SKU). Returns `customer_id, rank, sku`."""
    _require(lines, "lines", ("customer_id", "order_date", "sku"))
    units = pl.col("quantity").sum() if "quantity" in lines.columns else pl.len()
    top = (lines.lazy()
           .filter(pl.col("order_date").is_between(as_of - timedelta(days=window_days - 1), as_of)
                   & pl.col("sku").is_not_null())
           .group_by("sku").agg(units.alias("units"))
           .sort(["units", "sku"], descending=[True, False]).head(k)
           .with_columns(pl.int_range(1, pl.len() + 1).cast(pl.Int32).alias("rank")))
    return (lines.lazy()
            .filter((pl.col("order_date") <= as_of) & pl.col("customer_id").is_not_null())
            .select("customer_id").unique()
            .join(top.select("rank", "sku"), how="cross")
            .sort("customer_id", "rank").collect())


def buy_again(lines: pl.DataFrame, *, as_of: date, k: int = 3) -> pl.DataFrame:
    """Baseline: each customer's own SKUs, those on most of their orders first, then the
    most recently bought, then by SKU (at most k; fewer if they bought fewer).
    Returns `customer_id, rank, sku`."""
    history = _history(lines, as_of)
    ranked = (history.skus.sort(["customer_id", "sku_orders", "last_date", "sku"],
                                descending=[False, True, True, False])
              .filter(pl.int_range(pl.len()).over("customer_id") < k)
              .with_columns(pl.int_range(1, pl.len() + 1).over("customer_id").cast(pl.Int32)
                            .alias("rank"))
              .select("customer_id", "rank", "sku"))
    return (_decode(ranked, history, customer="customer_id", skus=("sku",))
            .sort("customer_id", "rank").collect())


@dataclass(frozen=True)
class HitRate:
    """Share of held-out next orders holding at least one of the k suggestions.

    n: customers evaluated; hits: of them, how many; lo, hi: Wilson 95% interval;
    detail: `customer_id, next_order_date, suggested, hit` per customer."""

    k: int
    n: int
    hits: int
    rate: float | None
    lo: float | None
    hi: float | None
    detail: pl.DataFrame


def wilson_interval(hits: int, n: int) -> tuple[float | None, float | None]:
    """Wilson score 95% interval of a proportion (Wilson 1927); (None, None) when n = 0."""
    if n == 0:
        return None, None
    p = hits / n
    z2 = Z95 * Z95
    centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    spread = Z95 * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / (1 + z2 / n)
    return max(0.0, centre - spread), min(1.0, centre + spread)


Recommender = Callable[..., pl.DataFrame]


def hit_rate_at_k(recommend_fn: Recommender, lines: pl.DataFrame, *, cutoff: date,
                  k: int = 3, horizon_days: int | None = None) -> HitRate:
    """Hit rate at k of `recommend_fn` on the orders after `cutoff`, which it does not see.

    recommend_fn(train_lines, as_of=cutoff, k=k) -> `customer_id, rank, sku` is given the
    lines dated on or before the cutoff. Each customer with an order on or before the
    cutoff and one after it (within `horizon_days`, if given) counts once: a hit when any
    of their (at most k) suggested SKUs is in their first order after the cutoff (an order
    is a customer's day). A customer with no suggestion counts as a miss.
    """
    _require(lines, "lines", ("customer_id", "order_date", "sku"))
    known = lines.filter(pl.col("customer_id").is_not_null() & pl.col("sku").is_not_null())
    train = known.filter(pl.col("order_date") <= cutoff)
    after = known.filter(pl.col("order_date") > cutoff)
    if horizon_days is not None:
        after = after.filter(pl.col("order_date") <= cutoff + timedelta(days=horizon_days))
    history = train.select("customer_id").unique()
    next_order = (after.join(history, on="customer_id", how="semi")
                  .filter(pl.col("order_date") == pl.col("order_date").min().over("customer_id"))
                  .select("customer_id", pl.col("order_date").alias("next_order_date"), "sku")
                  .unique())
    suggested = (recommend_fn(train, as_of=cutoff, k=k)
                 .filter(pl.col("rank") <= k).select("customer_id", "sku"))
    hit_customers = next_order.join(suggested, on=["customer_id", "sku"], how="semi").select(
        "customer_id").unique().with_columns(pl.lit(True).alias("hit"))
    detail = (next_order.group_by("customer_id").agg(pl.col("next_order_date").first())
              .join(suggested.group_by("customer_id").agg(pl.len().alias("suggested")),
                    on="customer_id", how="left")
              .join(hit_customers, on="customer_id", how="left")
              .with_columns(pl.col("suggested").fill_null(0), pl.col("hit").fill_null(False))
              .sort("customer_id"))
    n, hits = detail.height, int(detail["hit"].sum())
    lo, hi = wilson_interval(hits, n)
    return HitRate(k=k, n=n, hits=hits, rate=hits / n if n else None, lo=lo, hi=hi,
                   detail=detail)
