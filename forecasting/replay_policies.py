"""The replenishment policies compared in the inventory replay (forecasting/simulate.py).

A policy is a callable `policy(review: Review) -> DataFrame[sku, qty]` that
`simulate_inventory` calls on each review day; it sees only the `Review` (censored
sales history, stock position, supplier terms, planned promotions).

Policies provided:
- `storeops_policy()`: `forecast_demand` + `reorder_suggestions`, as the daily job runs.
- `seasonal_naive_policy()`: the same `reorder_suggestions` fed by a seasonal naive
  forecast with its own intervals (`seasonal_naive_forecast`).
- `min_max_policy(reorder_days=30, order_days=60)`: reorder when stock falls under 30
  days of average sales (trailing 90 days), order 60 days of average sales.
- `forecast_policy(forecast_fn, ...)`: `reorder_suggestions` on any forecast function
  (the two forecast policies above are built on it); `recorded_forecasts` replays the
  forecasts one run recorded, to sweep the safety stock without re-forecasting.
- `never_order`: orders nothing.

`average_daily_sales` and `abc_classes` (marts.dim_products' ABC rule) are what the
policies read from the history.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta

import numpy as np
import polars as pl

from forecasting.policy import _round_to_packs, reorder_suggestions
from forecasting.simulate import Policy, Review

ABC_WINDOW_DAYS = 90  # as marts.dim_products: revenue over the last 90 days
ABC_SHARES = (0.80, 0.95)  # A = first 80% of revenue, B = next 15%, C = the rest


def average_daily_sales(history: pl.DataFrame, as_of: date, days: int) -> pl.DataFrame:
    """`unique_id, avg_sales`: mean units sold per day over the `days` days up to as_of.

    Days without a row count as 0; a series younger than the window is averaged over the
    days since its first row. Recorded sales: stockout days pull the average down.
    """
    window_start = as_of - timedelta(days=days - 1)
    return (
        history.filter(pl.col("ds") <= as_of).group_by("unique_id").agg(
            pl.col("y").filter(pl.col("ds") >= window_start).sum().alias("units"),
            pl.col("ds").min().alias("first"),
        ).with_columns(
            ((pl.lit(as_of) - pl.max_horizontal(pl.col("first"), pl.lit(window_start)))
             .dt.total_days() + 1).alias("span"))
        .select("unique_id", (pl.col("units") / pl.col("span").clip(lower_bound=1))
                .alias("avg_sales"))
    )


def min_max_policy(reorder_days: float = 30, order_days: float = 60, *,
                   sales_window_days: int = 90, use_inventory_position: bool = True) -> Policy:
    """The naive baseline: reorder under `reorder_days` of average sales, order `order_days`.

    average sales = mean units *sold* per day over the trailing `sales_window_days` (90)
    days (`average_daily_sales`). On a review day where the SKU's supplier is due, a SKU
    whose stock is under reorder_days x average sales gets order_days x average sales,
    rounded up to whole case packs and at least the MOQ (the same rounding as
    `reorder_suggestions`, so both policies face the same supplier terms). Stock is the
    inventory position on hand + on order (`use_inventory_position`, the default: a
    buyer does not reorder what is already on its way); False reads on hand only, the
    issue's literal wording, which re-orders every review while an order is in transit.
    """
    if reorder_days < 0 or order_days <= 0 or sales_window_days < 1:
        raise ValueError("reorder_days >= 0, order_days > 0 and sales_window_days >= 1")

    def policy(review: Review) -> pl.DataFrame:
        lines = (
            review.position.filter(pl.col("due"))
            .join(review.terms.select(
                "sku",
                *((pl.col(c) if c in review.terms.columns else pl.lit(1)).cast(pl.Int64)
                  .fill_null(1).alias(c) for c in ("case_pack", "moq_units"))), on="sku")
            .join(average_daily_sales(review.history, review.as_of, sales_window_days)
                  .rename({"unique_id": "sku"}), on="sku", how="left")
            .with_columns(pl.col("avg_sales").fill_null(0.0))
        )
        if lines.is_empty():
            return pl.DataFrame(schema={"sku": pl.Utf8, "qty": pl.Int64})
        stock = (lines["on_hand"] + lines["on_order"] - lines["committed"]
                 if use_inventory_position else lines["on_hand"]).to_numpy()
        avg = lines["avg_sales"].to_numpy()
        trigger = (stock < reorder_days * avg) & (avg > 0)
        raw = np.where(trigger, order_days * avg, 0.0)
        qty = _round_to_packs(raw, lines["case_pack"].to_numpy(), lines["moq_units"].to_numpy())
        return pl.DataFrame({"sku": lines["sku"], "qty": qty})

    policy.__name__ = (f"min_max_{reorder_days:g}_{order_days:g}"
                       + ("" if use_inventory_position else "_on_hand"))
    return policy


def abc_classes(history: pl.DataFrame, terms: pl.DataFrame, as_of: date,
                days: int = ABC_WINDOW_DAYS) -> pl.DataFrame:
    """`sku, abc_class` by revenue (units sold x price) over the `days` days up to as_of.

    The rule of marts.dim_products: SKUs sorted by revenue, A = those making the first
    80% of revenue, B = the next 15%, C = the rest and SKUs without revenue.
    """
    window_start = as_of - timedelta(days=days - 1)
    units = (history.filter((pl.col("ds") >= window_start) & (pl.col("ds") <= as_of))
             .group_by("unique_id").agg(pl.col("y").sum().alias("units")))
    ranked = (
        terms.select("sku", pl.col("price").cast(pl.Float64).fill_null(0.0))
        .join(units.rename({"unique_id": "sku"}), on="sku", how="left")
        .with_columns((pl.col("units").fill_null(0.0) * pl.col("price")).alias("revenue"))
        .sort(["revenue", "sku"], descending=[True, False])
        .with_columns((pl.col("revenue").cum_sum() - pl.col("revenue")).alias("before"),
                      pl.col("revenue").sum().alias("total"))
    )
    return ranked.select(
        "sku",
        pl.when((pl.col("revenue") <= 0) | (pl.col("total") <= 0)).then(pl.lit("C"))
        .when(pl.col("before") < ABC_SHARES[0] * pl.col("total")).then(pl.lit("A"))
        .when(pl.col("before") < ABC_SHARES[1] * pl.col("total")).then(pl.lit("B"))
        .otherwise(pl.lit("C")).alias("abc_class"),
    ).sort("sku")


ForecastFn = Callable[[pl.DataFrame, int, pl.DataFrame], pl.DataFrame]


def forecast_policy(forecast_fn: ForecastFn, *, horizon: int = 56,
                    service_level: dict[str, float] | None = None,
                    safety_factor: dict[str, float] | None = None,
                    reclassify_abc: bool = True, name: str = "forecast_policy",
                    lines_log: list[pl.DataFrame] | None = None,
                    forecast_log: dict[date, pl.DataFrame] | None = None) -> Policy:
    """`reorder_suggestions` on the forecast `forecast_fn(history, horizon, promotions)`.

    Every review re-forecasts every SKU from the censored history; the SKUs whose supplier
    is due get `suggested_qty` (whole case packs, at least the MOQ). With `reclassify_abc`
    the ABC class (and so the service level) is recomputed from the last 90 days of
    sales at each review, as marts.dim_products does every day in production.
    `lines_log`, when given, receives each review's reorder lines (with `as_of`, and the
    forecast's `model`, `error_sd`, `level_sd` per SKU when it has them), to study the
    policy afterwards (e.g. how often demand beat the order-up-to level).
    `forecast_log`, when given, receives each review's forecast keyed by `as_of`, to
    replay the same forecasts under other safety stocks (`recorded_forecasts`).
    `service_level` and `safety_factor` go to `reorder_suggestions`.
    """

    def policy(review: Review) -> pl.DataFrame:
        due = review.position.filter(pl.col("due"))
        if due.is_empty():
            return pl.DataFrame(schema={"sku": pl.Utf8, "qty": pl.Int64})
        forecast = forecast_fn(review.history, horizon, review.promotions)
        if forecast_log is not None:
            forecast_log[review.as_of] = forecast
        terms = review.terms.filter(pl.col("sku").is_in(due["sku"].implode()))
        if reclassify_abc:
            terms = terms.drop("abc_class").join(
                abc_classes(review.history, review.terms, review.as_of), on="sku", how="left")
        lines = reorder_suggestions(forecast, due.drop("due"), terms, as_of=review.as_of,
                                    service_level=service_level, safety_factor=safety_factor)
        if lines_log is not None:
            logged = lines.with_columns(pl.lit(review.as_of).alias("as_of"))
            extra = [c for c in ("model", "error_sd", "level_sd") if c in forecast.columns]
            if extra:
                per_sku = forecast.group_by("unique_id").agg(pl.col(extra).first())
                logged = logged.join(per_sku.rename({"unique_id": "sku"}), on="sku", how="left")
            lines_log.append(logged)
        return lines.select("sku", pl.col("suggested_qty").alias("qty"))

    policy.__name__ = name
    return policy


def recorded_forecasts(forecasts: dict[date, pl.DataFrame]) -> ForecastFn:
    """A `ForecastFn` that returns the forecast recorded for the review's day (the last
    day of its history), as `forecast_log` of `forecast_policy` collected it.

    Replaying a policy on recorded forecasts costs a few seconds instead of re-forecasting
    every review, to sweep the safety stock. It is an approximation: a policy that stocks
    differently censors a different set of days, and a re-forecast would see that.
    """
    if not forecasts:
        raise ValueError("recorded_forecasts needs at least one recorded forecast")

    def forecast(history: pl.DataFrame, horizon: int, promotions: pl.DataFrame) -> pl.DataFrame:
        as_of = history["ds"].max()
        if as_of not in forecasts:
            raise ValueError(f"no forecast recorded for the review of {as_of}; record the "
                             "forecasts with the same start, end and review days")
        return forecasts[as_of]

    return forecast


def storeops_policy(*, horizon: int = 56, service_level: dict[str, float] | None = None,
                    safety_factor: dict[str, float] | None = None,
                    n_jobs: int | None = None, cv_windows: int = 2,
                    use_promotions: bool = True, reclassify_abc: bool = True,
                    lines_log: list[pl.DataFrame] | None = None,
                    forecast_log: dict[date, pl.DataFrame] | None = None) -> Policy:
    """storeops as the daily job runs it: `forecast_demand` (censored history, model per
    SKU by cross-validation, planned promotions lifted) + `reorder_suggestions` at the
    default service levels (A 98%, B 95%, C 90%) and safety factors (1) unless
    `service_level` / `safety_factor` say otherwise. horizon 56 days as
    orchestration/defs/forecasting.py. `lines_log`, `forecast_log`: see `forecast_policy`."""
    from forecasting.demand import forecast_demand

    def forecast(history: pl.DataFrame, h: int, promotions: pl.DataFrame) -> pl.DataFrame:
        return forecast_demand(history, h, n_jobs=n_jobs, cv_windows=cv_windows,
                               promotions=promotions if use_promotions else None)

    return forecast_policy(forecast, horizon=horizon, service_level=service_level,
                           safety_factor=safety_factor, reclassify_abc=reclassify_abc,
                           name="storeops", lines_log=lines_log, forecast_log=forecast_log)


def seasonal_naive_forecast(history: pl.DataFrame, horizon: int, *, season_length: int = 7,
                            level: tuple[int, ...] = (80, 95),
                            promotions: pl.DataFrame | None = None,
                            n_jobs: int = 1) -> pl.DataFrame:
    """Seasonal naive forecast (the last season repeated) with statsforecast's intervals.

    Fitted, as in `forecasting.backtest`, on the same censored baseline as
    `forecast_demand` (stockout and promotion days replaced by `censor_demand`'s
    estimate, last 364 days) and lifted by the same promotion uplift, so a comparison
    with `forecast_demand` isolates the choice of model. Intervals: statsforecast's
    SeasonalNaive intervals (normal, from the in-sample seasonal differences, widening
    with each further season). Same output columns as `forecast_demand`.
    """
    import warnings

    from statsforecast import StatsForecast
    from statsforecast.models import Naive, SeasonalNaive

    from forecasting.demand import apply_promotions, finish, output_schema, validate_promotions
    from forecasting.history import (
        DAILY,
        FIT_PERIODS,
        censor_demand,
        classify_series,
        last_periods,
        measure_uplift,
        prepare_panel,
        validate_history,
    )

    level = tuple(level)
    frame = validate_history(history)
    if frame.is_empty():
        return pl.DataFrame(schema=output_schema(pl.Date, level))
    panel = prepare_panel(frame, DAILY, season_length)
    measured = measure_uplift(panel)
    kinds = classify_series(last_periods(panel, FIT_PERIODS["daily"]), 2 * season_length)
    panel = last_periods(censor_demand(panel, kinds), FIT_PERIODS["daily"])
    train = panel.select("unique_id", "ds", pl.col("y_baseline").alias("y"))
    sf = StatsForecast(models=[SeasonalNaive(season_length)], freq=DAILY.every, n_jobs=n_jobs,
                       fallback_model=Naive())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        wide = sf.forecast(df=train, h=horizon, level=list(level))
    name = "SeasonalNaive"
    forecast = wide.select(
        "unique_id", "ds", pl.lit(name).alias("model"), pl.col(name).alias("yhat"),
        *(pl.col(f"{name}-{side}-{lvl}").alias(f"{side}_{lvl}")
          for lvl in level for side in ("lo", "hi")),
    )
    planned = validate_promotions(promotions, pl.Date)
    forecast = apply_promotions(forecast, planned, measured, level)
    return finish(forecast, level).sort("unique_id", "ds")


def seasonal_naive_policy(*, horizon: int = 56, season_length: int = 7,
                          service_level: dict[str, float] | None = None,
                          use_promotions: bool = True, reclassify_abc: bool = True,
                          lines_log: list[pl.DataFrame] | None = None) -> Policy:
    """`reorder_suggestions` fed by `seasonal_naive_forecast` instead of `forecast_demand`."""

    def forecast(history: pl.DataFrame, h: int, promotions: pl.DataFrame) -> pl.DataFrame:
        return seasonal_naive_forecast(history, h, season_length=season_length,
                                       promotions=promotions if use_promotions else None)

    return forecast_policy(forecast, horizon=horizon, service_level=service_level,
                           reclassify_abc=reclassify_abc, name="seasonal_naive",
                           lines_log=lines_log)


def never_order(review: Review) -> pl.DataFrame:
    """A policy that orders nothing (the stock simply runs down)."""
    return pl.DataFrame(schema={"sku": pl.Utf8, "qty": pl.Int64})


__all__ = [
    "ABC_SHARES",
    "ABC_WINDOW_DAYS",
    "ForecastFn",
    "abc_classes",
    "average_daily_sales",
    "forecast_policy",
    "min_max_policy",
    "never_order",
    "recorded_forecasts",
    "seasonal_naive_forecast",
    "seasonal_naive_policy",
    "storeops_policy",
]
