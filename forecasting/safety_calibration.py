"""Safety stock read off a replay: did the review cycles run short as often as promised?

A forecast policy (forecasting/replay_policies.py, `forecast_policy(lines_log=...)`) logs
the order-up-to level and safety stock of every review line. Against the true demand:
- `review_shortfall`: per review line, whether demand over the protection period (lead
  time + order cycle) beat the order-up-to level (the complement of the cycle service
  level of an (R, S) system), and optionally whether the replay ran out in that cycle;
- `shortfall_by_class`: the share of short cycles per ABC class against the nominal
  1 - service level, optionally under rescaled safety stocks;
- `fit_safety_factor`: the multiplier per ABC class on the safety stock at which the
  share of short cycles equals the nominal one (the `safety_factor` of
  `reorder_suggestions`).
"""

from __future__ import annotations

from datetime import date

import numpy as np
import polars as pl

from forecasting.simulate import _require


def _cumulative_at(cumulative: pl.DataFrame, keys: pl.DataFrame, on: str) -> pl.Series:
    """Cumulative demand of each row's sku through the date in column `on` (0 before)."""
    found = keys.with_row_index("_row").sort("sku", on).join_asof(
        cumulative.sort("sku", "date"), left_on=on, right_on="date", by="sku",
        strategy="backward", check_sortedness=False)
    return found.sort("_row")["cum"].fill_null(0.0)


def review_shortfall(lines: pl.DataFrame, demand: pl.DataFrame, terms: pl.DataFrame, *,
                     end: date, daily: pl.DataFrame | None = None) -> pl.DataFrame:
    """Per review line of a forecast policy, whether the review cycle ran short.

    A review cycle "runs short" (the complement of the cycle service level of an (R, S)
    order-up-to system, Silver, Pyke & Peterson ch. 7) when the true demand over the
    protection period P = lead time + order cycle, days as_of + 1 .. as_of + ceil(P),
    exceeds the order-up-to level the policy computed at that review: stock raised to
    that level would then have run out before an order placed at the next review could
    arrive. This is what the safety stock promises to hold to 1 - service level, and it
    does not depend on whether an order was placed, nor on case packs or MOQs.

    Args:
        lines: the `lines_log` of `forecast_policy`: `sku, as_of, abc_class,
            lead_time_days, order_up_to, safety_stock` (units).
        demand: true demand `sku, date, demand_units` (a missing SKU-day is 0).
        terms: `sku` and optionally `order_cycle_days` (default 7, as reorder_suggestions).
        end: the last day with demand; reviews whose protection period runs past it are
            left out.
        daily: optionally the replay's `SimulationResult.daily`; adds the realised
            measure `stockout_in_cycle`: a day with unmet demand in as_of + L + 1 ..
            as_of + L + R (stated lead time L, order cycle R), the days an order placed at
            this review has to cover before one placed at the next review can land.

    Returns:
        One row per line kept: `sku, as_of, abc_class, protection_days, forecast_demand`
        (order_up_to - safety_stock: the forecast over P), `safety_stock, order_up_to,
        demand_over_protection, short` (demand_over_protection > order_up_to) and, with
        `daily`, `stockout_in_cycle`.
    """
    _require(lines, "lines", ["sku", "as_of", "abc_class", "lead_time_days", "order_up_to",
                              "safety_stock"])
    _require(demand, "demand", ["sku", "date", "demand_units"])
    _require(terms, "terms", ["sku"])
    cycle = terms.select(pl.col("sku").cast(pl.Utf8), (
        pl.col("order_cycle_days") if "order_cycle_days" in terms.columns else pl.lit(None))
        .cast(pl.Float64).fill_null(7.0).alias("order_cycle_days"))
    rows = (
        lines.select(pl.col("sku").cast(pl.Utf8), pl.col("as_of").cast(pl.Date),
                     pl.col("abc_class").cast(pl.Utf8),
                     pl.col("lead_time_days", "order_up_to", "safety_stock").cast(pl.Float64))
        .join(cycle, on="sku", how="left")
        .with_columns(pl.col("order_cycle_days").fill_null(7.0))
        .with_columns((pl.col("lead_time_days") + pl.col("order_cycle_days")).ceil()
                      .cast(pl.Int64).alias("protection_days"))
        .with_columns((pl.col("as_of") + pl.duration(days=pl.col("protection_days")))
                      .alias("until"))
        .filter(pl.col("until") <= pl.lit(end))
    )
    cumulative = (demand.select(pl.col("sku").cast(pl.Utf8), pl.col("date").cast(pl.Date),
                                pl.col("demand_units").cast(pl.Float64))
                  .group_by("sku", "date").agg(pl.col("demand_units").sum()).sort("sku", "date")
                  .with_columns(pl.col("demand_units").cum_sum().over("sku").alias("cum"))
                  .select("sku", "date", "cum"))
    out = rows.with_columns(
        (_cumulative_at(cumulative, rows.select("sku", "until"), "until")
         - _cumulative_at(cumulative, rows.select("sku", "as_of"), "as_of"))
        .alias("demand_over_protection"),
        (pl.col("order_up_to") - pl.col("safety_stock")).alias("forecast_demand"),
    ).with_columns((pl.col("demand_over_protection") > pl.col("order_up_to")).alias("short"))
    columns = ["sku", "as_of", "abc_class", "protection_days", "forecast_demand",
               "safety_stock", "order_up_to", "demand_over_protection", "short"]
    if daily is not None:
        _require(daily, "daily", ["sku", "date", "lost_units"])
        lost = (daily.filter(pl.col("lost_units") > 0)
                .select(pl.col("sku").cast(pl.Utf8), pl.col("date").cast(pl.Date)))
        window = out.select(
            "sku", "as_of",
            (pl.col("as_of") + pl.duration(days=pl.col("lead_time_days").round(0)
                                           .cast(pl.Int64))).alias("first"),
            (pl.col("as_of") + pl.duration(days=(pl.col("lead_time_days")
                                                 + pl.col("order_cycle_days")).round(0)
                                           .cast(pl.Int64))).alias("last"),
        )
        hit = (window.join(lost, on="sku")
               .filter((pl.col("date") > pl.col("first")) & (pl.col("date") <= pl.col("last")))
               .select("sku", "as_of").unique().with_columns(pl.lit(True).alias("hit")))
        out = out.join(hit, on=["sku", "as_of"], how="left").with_columns(
            pl.col("hit").fill_null(False).alias("stockout_in_cycle"))
        columns.append("stockout_in_cycle")
    return out.select(columns).sort("as_of", "sku")


def _nominal(classes: pl.Series, service_level: dict[str, float] | None) -> np.ndarray:
    from forecasting.policy import DEFAULT_SERVICE_LEVEL

    levels = {**DEFAULT_SERVICE_LEVEL, **(service_level or {})}
    return 1 - np.array([levels.get(c, levels["C"]) for c in classes.to_list()], dtype=float)


def shortfall_by_class(shortfall: pl.DataFrame, *,
                       safety_factor: dict[str, float] | None = None,
                       service_level: dict[str, float] | None = None) -> pl.DataFrame:
    """Share of review cycles that ran short per ABC class, against the nominal share.

    shortfall: `review_shortfall`'s rows. `safety_factor` rescales the recorded safety
    stock per class (1 for a class not named) before comparing with demand, to read
    what another safety stock would have given on the same forecasts.

    Returns `abc_class, sku_reviews, short_share, nominal` (1 - service level of the
    class, `service_level` merged over reorder_suggestions' defaults), `mean_safety_stock`
    (units, rescaled) and, when the rows have it, `stockout_in_cycle_share`.
    """
    _require(shortfall, "shortfall", ["abc_class", "forecast_demand", "safety_stock",
                                      "demand_over_protection"])
    factors = safety_factor or {}
    frame = shortfall.with_columns(
        (pl.col("safety_stock") * pl.col("abc_class").replace_strict(
            factors, default=1.0, return_dtype=pl.Float64)).alias("scaled"),
        pl.Series("nominal", _nominal(shortfall["abc_class"], service_level)),
    )
    extra = ([pl.col("stockout_in_cycle").mean().alias("stockout_in_cycle_share")]
             if "stockout_in_cycle" in frame.columns else [])
    return frame.group_by("abc_class").agg(
        pl.len().alias("sku_reviews"),
        (pl.col("demand_over_protection") > pl.col("forecast_demand") + pl.col("scaled"))
        .mean().alias("short_share"),
        pl.col("nominal").first(),
        pl.col("scaled").mean().alias("mean_safety_stock"),
        *extra,
    ).sort("abc_class")


def fit_safety_factor(shortfall: pl.DataFrame, *,
                      service_level: dict[str, float] | None = None,
                      max_factor: float = 4.0) -> dict[str, float]:
    """Per ABC class, the multiplier k on the recorded safety stock at which the share of
    review cycles that ran short equals the nominal 1 - service level.

    A cycle runs short at k when demand_over_protection > forecast_demand + k x
    safety_stock; the share falls as k grows, and k is read off the empirical quantile
    of (demand - forecast) / safety_stock (cycles without safety stock are short or not
    whatever k). k is bounded to [0, max_factor]: max_factor when even that leaves too
    many short cycles, 0 when none are short without any safety stock. Fit it on one
    period (or store) and check it on another: the fit is exact on its own data.
    Multiply by the factor the lines were computed with (1 by default) to get the
    `safety_factor` of reorder_suggestions.
    """
    _require(shortfall, "shortfall", ["abc_class", "forecast_demand", "safety_stock",
                                      "demand_over_protection"])
    if max_factor <= 0:
        raise ValueError(f"max_factor must be > 0, got {max_factor!r}")
    out: dict[str, float] = {}
    for (cls,), part in shortfall.group_by("abc_class", maintain_order=True):
        excess = (part["demand_over_protection"] - part["forecast_demand"]).to_numpy()
        safety = part["safety_stock"].to_numpy()
        alpha = float(_nominal(pl.Series([cls]), service_level)[0])
        fixed_short = int(((safety <= 0) & (excess > 0)).sum())
        ratio = excess[safety > 0] / safety[safety > 0]
        allowed = alpha * len(part) - fixed_short  # short cycles k may still leave
        if ratio.size == 0:
            k = 1.0
        elif allowed <= 0:
            k = max_factor
        elif allowed >= (ratio > 0).sum():
            k = 0.0
        else:
            k = float(np.quantile(ratio, 1 - allowed / ratio.size))
        out[cls] = round(float(np.clip(k, 0.0, max_factor)), 4)
    return dict(sorted(out.items()))


__all__ = ["fit_safety_factor", "review_shortfall", "shortfall_by_class"]
