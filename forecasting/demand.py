"""Demand forecast per SKU: censored history, model chosen by cross-validation.

`forecast_demand(history, horizon, ...)` fits a lean set of statsforecast models to every
series in one call, picks one model per series by rolling-origin cross-validation and
returns `unique_id, ds, forecast, lo_<l>, hi_<l>, model`.

Model set and why (measured on 500 SKUs x 730 days, 2 cores):
- SeasonalNaive(season_length): always a candidate, the floor a model has to beat.
- DynamicOptimizedTheta(season_length) for smooth series: Theta won M3 and is among the
  best single statistical models in M4; it fits 500 series in ~5 s. AutoETS would cost
  ~30 s to forecast and ~55 s to cross-validate the same panel, which the daily run
  cannot afford, for a model Theta (SES with drift) largely overlaps.
- CrostonSBA, ADIDA, IMAPA for intermittent series (Syntetos-Boylan ADI > 1.32): all
  three are cheap (< 0.2 s each) and forecast the mean demand rate.
"""

from __future__ import annotations

import os
import warnings

import polars as pl
from scipy.stats import norm
from statsforecast import StatsForecast
from statsforecast.models import (
    ADIDA,
    IMAPA,
    CrostonSBA,
    DynamicOptimizedTheta,
    SeasonalNaive,
)

from forecasting.history import (
    FALLBACK_PERIODS,
    FIT_PERIODS,
    Frequency,
    censor_demand,
    classify_series,
    infer_frequency,
    last_periods,
    measure_uplift,
    prepare_panel,
    to_caller_dates,
    to_internal_dates,
    validate_history,
    yearly_index,
    yearly_profile,
)
from forecasting.parallel import worker_processes

SEASONAL_NAIVE = "SeasonalNaive"
SMOOTH_MODELS = ("DynamicOptimizedTheta",)
INTERMITTENT_MODELS = ("CrostonSBA", "ADIDA", "IMAPA")
MODEL_NAMES = (SEASONAL_NAIVE, *SMOOTH_MODELS, *INTERMITTENT_MODELS)
# On a tie in cross-validation the simpler model wins.
PREFERENCE = {name: rank for rank, name in enumerate(MODEL_NAMES)}
MAX_CV_HORIZON = 28


class _PointForecastOnly:
    """statsforecast raises when asked for intervals of a Croston-family model built
    without `prediction_intervals`; dropping `level` from the signature makes the one
    StatsForecast call skip them. Their intervals come from our cross-validation."""

    def forecast(self, y, h, X=None, X_future=None, fitted=False):
        return super().forecast(y=y, h=h, X=X, X_future=X_future, fitted=fitted)


class _CrostonSBA(_PointForecastOnly, CrostonSBA):
    pass


class _ADIDA(_PointForecastOnly, ADIDA):
    pass


class _IMAPA(_PointForecastOnly, IMAPA):
    pass


def candidate_models(season_length: int) -> list:
    """The statsforecast models every modelled series is fitted with."""
    return [SeasonalNaive(season_length), DynamicOptimizedTheta(season_length),
            _CrostonSBA(), _ADIDA(), _IMAPA()]


# Series one process fits in the time a worker pool takes to start. Measured on 2 cores
# (python /tmp/fc_time.py in session 6; benchmarks/forecast.py has the overheads): a pool
# costs about 5 s, a series about 40 ms of fitting and cross-validation, so a second
# process pays off from about 250 series (10 SKUs: 0.14 s in one process, 5.6 s with two;
# 500 SKUs: 19.8 s and 14.8 s).
SERIES_PER_WORKER = 250


def default_n_jobs(n_series: int) -> int:
    """Processes for statsforecast: one per SERIES_PER_WORKER series, at most the cores."""
    return max(1, min(os.cpu_count() or 1, n_series // SERIES_PER_WORKER))


def make_statsforecast(season_length: int, freq: Frequency, n_jobs: int | None,
                       n_series: int = 0) -> StatsForecast:
    """n_jobs None: default_n_jobs(n_series)."""
    return StatsForecast(models=candidate_models(season_length), freq=freq.every,
                         n_jobs=n_jobs or default_n_jobs(n_series),
                         fallback_model=SeasonalNaive(season_length))


def check_arguments(horizon: int, season_length: int, level: tuple[int, ...],
                    cv_windows: int) -> None:
    if not isinstance(horizon, int) or horizon < 1:
        raise ValueError(f"horizon must be a positive number of periods, got {horizon!r}")
    if not isinstance(season_length, int) or season_length < 1:
        raise ValueError(f"season_length must be a positive integer, got {season_length!r}")
    if not level or any(not 0 < lvl < 100 for lvl in level):
        raise ValueError(f"level must hold interval levels between 0 and 100, got {level!r}")
    if not isinstance(cv_windows, int) or cv_windows < 1:
        raise ValueError(f"cv_windows must be a positive integer, got {cv_windows!r}")


def to_long(wide: pl.DataFrame, keys: list[str], level: tuple[int, ...]) -> pl.DataFrame:
    """statsforecast's wide frame (one column per model) to one row per model.

    Columns: keys, model, yhat, lo_<l>, hi_<l> (null where the model gives none).
    """
    parts = []
    for model in MODEL_NAMES:
        bounds = [
            (pl.col(f"{model}-{side}-{lvl}").fill_nan(None) if f"{model}-{side}-{lvl}"
             in wide.columns else pl.lit(None, pl.Float64)).alias(f"{side}_{lvl}")
            for lvl in level for side in ("lo", "hi")
        ]
        parts.append(wide.select(*keys, pl.lit(model).alias("model"),
                                 pl.col(model).fill_nan(None).alias("yhat"), *bounds))
    return pl.concat(parts)


def select_models(errors: pl.DataFrame, kinds: pl.DataFrame, by: list[str]) -> pl.DataFrame:
    """Pick one model per group of `by` (which starts with unique_id).

    errors: `*by, model, mae, mse` from cross-validation; a group without errors (no clean
    period to score) keeps seasonal naive. Candidates: seasonal naive always, Theta for
    smooth series, the Croston family for intermittent ones. Smooth series are compared
    on MAE; intermittent series on MSE, because MAE rewards forecasting zero for series
    that are mostly zero (Kolassa 2016, "Evaluating predictive count data distributions
    in retail sales forecasting", IJF 32(3); the M5 competition scored RMSSE for the
    same reason) while replenishment needs the mean demand rate.
    """
    candidates = (
        errors.join(kinds.select("unique_id", "kind"), on="unique_id", how="inner")
        .filter((pl.col("model") == SEASONAL_NAIVE)
                | ((pl.col("kind") == "smooth") & pl.col("model").is_in(SMOOTH_MODELS))
                | ((pl.col("kind") == "intermittent")
                   & pl.col("model").is_in(INTERMITTENT_MODELS)))
        .with_columns(
            pl.when(pl.col("kind") == "intermittent").then(pl.col("mse"))
            .otherwise(pl.col("mae")).alias("score"),
            pl.col("model").replace_strict(PREFERENCE, return_dtype=pl.Int64).alias("preference"),
        )
    )
    return (
        candidates.sort([*by, "score", "preference"], nulls_last=True)
        .group_by(by, maintain_order=True).first()
        .select(*by, "model")
    )


def seasonalise(frame: pl.DataFrame, profile: pl.DataFrame,
                level: tuple[int, ...]) -> pl.DataFrame:
    """Multiply forecast and bounds by the store's yearly index (`history.yearly_index`).

    `frame` needs `cutoff` (the last period the model saw) and `ds`.
    """
    if profile.is_empty():
        return frame
    columns = ["yhat", *(f"{side}_{lvl}" for lvl in level for side in ("lo", "hi"))]
    return (yearly_index(frame, profile)
            .with_columns(pl.col(c) * pl.col("yearly_index") for c in columns)
            .drop("yearly_index"))


def cv_residuals(cv_wide: pl.DataFrame, panel: pl.DataFrame,
                 profile: pl.DataFrame) -> pl.DataFrame:
    """Cross-validation errors on clean periods: `unique_id, ds, cutoff, model, y, yhat, error`.

    Stockout and promotion periods are not scored: their y is an estimate (stockout) or
    carries an uplift the baseline models are not meant to forecast (promotion). The
    forecasts carry the yearly index, as the production forecast does.
    """
    return (
        seasonalise(to_long(cv_wide, ["unique_id", "ds", "cutoff", "y"], ()), profile, ())
        .join(panel.select("unique_id", "ds", "is_clean"), on=["unique_id", "ds"], how="left")
        .filter(pl.col("is_clean"))
        .with_columns((pl.col("yhat") - pl.col("y")).alias("error"))
        .drop("is_clean")
    )


def conformal_widths(residuals: pl.DataFrame, by: list[str],
                     level: tuple[int, ...]) -> pl.DataFrame:
    """Half-widths of conformal intervals: per group, the l-th quantile of |error|.

    Split-conformal style (Vovk et al. 2005; Angelopoulos & Bates 2021): the "higher"
    interpolation rounds the quantile up, as conformal prediction does. One width for the
    whole horizon, pooled over the cross-validation horizons.
    """
    return residuals.group_by(by).agg(
        pl.col("error").abs().quantile(lvl / 100, interpolation="higher").alias(f"width_{lvl}")
        for lvl in level
    )


def add_conformal_bounds(forecast: pl.DataFrame, widths: pl.DataFrame, by: list[str],
                         level: tuple[int, ...]) -> pl.DataFrame:
    """Fill lo/hi of Croston-family rows from the conformal widths (0 width if unknown)."""
    out = forecast.join(widths, on=by, how="left")
    intermittent = pl.col("model").is_in(INTERMITTENT_MODELS)
    return out.with_columns(
        expr
        for lvl in level
        for expr in (
            pl.when(intermittent)
            .then(pl.col("yhat") - pl.col(f"width_{lvl}").fill_null(0.0))
            .otherwise(pl.col(f"lo_{lvl}")).alias(f"lo_{lvl}"),
            pl.when(intermittent)
            .then(pl.col("yhat") + pl.col(f"width_{lvl}").fill_null(0.0))
            .otherwise(pl.col(f"hi_{lvl}")).alias(f"hi_{lvl}"),
        )
    ).drop(f"width_{lvl}" for lvl in level)


def future_periods(last: pl.DataFrame, freq: Frequency, horizon: int) -> pl.DataFrame:
    """`unique_id, ds` for the `horizon` periods after each series' `last` date."""
    unit = freq.every.removeprefix("1")
    return (
        last.with_columns(pl.int_ranges(1, horizon + 1).alias("step")).explode("step")
        .select("unique_id", pl.col("last").dt.offset_by(pl.format("{}" + unit, pl.col("step")))
                .alias("ds"))
    )


def fallback_forecasts(panel: pl.DataFrame, kinds: pl.DataFrame, freq: Frequency,
                       horizon: int, level: tuple[int, ...]) -> pl.DataFrame:
    """Series too short to cross-validate, and series without any demand.

    short: the mean of the last 28 clean periods, with normal intervals from their
    standard deviation ("mean_fallback"). zero: 0 ("zero").
    """
    fallback = kinds.filter(pl.col("kind").is_in(["short", "zero"]))
    if fallback.is_empty():
        return pl.DataFrame()
    recent = (
        panel.join(fallback, on="unique_id", how="semi").filter(pl.col("is_clean"))
        .sort("unique_id", "ds")
        .filter(pl.int_range(pl.len()).over("unique_id")
                >= pl.len().over("unique_id").cast(pl.Int64) - FALLBACK_PERIODS)
        .group_by("unique_id")
        .agg(pl.col("y").mean().alias("mean"), pl.col("y").std().fill_null(0.0).alias("sd"),
             pl.len().alias("n"))
    )
    last = panel.group_by("unique_id").agg(pl.col("ds").max().alias("last"))
    per_series = (
        fallback.join(last, on="unique_id", how="left")
        .join(recent, on="unique_id", how="left")
        .with_columns(
            pl.when(pl.col("kind") == "short").then(pl.col("mean")).otherwise(0.0)
            .fill_null(0.0).alias("yhat"),
            pl.when(pl.col("kind") == "short").then(pl.col("sd")).otherwise(0.0)
            .fill_null(0.0).alias("sd"),
            pl.when(pl.col("kind") == "short").then(pl.lit("mean_fallback"))
            .otherwise(pl.lit("zero")).alias("model"),
        )
        # The error of a mean of n periods: sd / sqrt(n) lasts the whole horizon.
        .with_columns(pl.col("sd").alias("error_sd"),
                      (pl.col("sd") / pl.col("n").clip(lower_bound=1).sqrt()).fill_null(0.0)
                      .alias("level_sd"))
    )
    bounds = [
        (pl.col("yhat") + sign * float(norm.ppf(0.5 + lvl / 200)) * pl.col("sd"))
        .alias(f"{side}_{lvl}")
        for lvl in level for side, sign in (("lo", -1), ("hi", 1))
    ]
    return (
        future_periods(per_series.select("unique_id", "last"), freq, horizon)
        .join(per_series.select("unique_id", "model", "yhat", *bounds, "error_sd", "level_sd"),
              on="unique_id")
    )


def modelled_forecasts(panel: pl.DataFrame, kinds: pl.DataFrame, *, horizon: int,
                       season_length: int, level: tuple[int, ...], n_jobs: int | None,
                       cv_windows: int, freq: Frequency,
                       profile: pl.DataFrame | None = None) -> pl.DataFrame:
    """Fit, cross-validate and select for smooth and intermittent series (one call each)."""
    modelled = kinds.filter(pl.col("kind").is_in(["smooth", "intermittent"]))
    if modelled.is_empty():
        return pl.DataFrame()
    train = (panel.join(modelled, on="unique_id", how="semi")
             .select("unique_id", "ds", pl.col("y_baseline").alias("y")))
    cv_horizon = min(horizon, MAX_CV_HORIZON)
    sf = make_statsforecast(season_length, freq, n_jobs, modelled.height)
    with warnings.catch_warnings(), worker_processes(sf.n_jobs):
        # Theta's seasonality test divides by a zero variance on constant series.
        warnings.simplefilter("ignore", RuntimeWarning)
        forecast_wide = sf.forecast(df=train, h=horizon, level=list(level))
        cv_wide = sf.cross_validation(df=train, h=cv_horizon, n_windows=cv_windows,
                                      step_size=cv_horizon)
    profile = profile if profile is not None else pl.DataFrame()
    residuals = cv_residuals(cv_wide, panel, profile)
    errors = residuals.group_by("unique_id", "model").agg(
        pl.col("error").abs().mean().alias("mae"), (pl.col("error") ** 2).mean().alias("mse"))
    grid = modelled.select("unique_id").join(
        pl.DataFrame({"model": list(MODEL_NAMES)}), how="cross")
    errors = grid.join(errors, on=["unique_id", "model"], how="left")
    chosen = select_models(errors, kinds, ["unique_id"])
    forecast = to_long(forecast_wide, ["unique_id", "ds"], level).join(
        chosen, on=["unique_id", "model"], how="semi")
    forecast = seasonalise(forecast.with_columns(pl.lit(panel["ds"].max()).alias("cutoff")),
                           profile, level).drop("cutoff")
    chosen_residuals = residuals.join(chosen, on=["unique_id", "model"], how="semi")
    widths = conformal_widths(chosen_residuals, ["unique_id"], level)
    forecast = add_conformal_bounds(forecast, widths, ["unique_id"], level)
    return forecast.join(error_spread(chosen_residuals, forecast, kinds), on="unique_id",
                         how="left")


def error_spread(residuals: pl.DataFrame, forecast: pl.DataFrame,
                 kinds: pl.DataFrame) -> pl.DataFrame:
    """`unique_id, error_sd, level_sd` of the chosen model, from its cross-validation.

    error_sd: root mean square of the daily errors (units per period).
    level_sd: the part of the error that lasts: the root mean square, over the series of
    the same kind (smooth or intermittent), of a window's mean error relative to its mean
    forecast (capped at 2), times this series' level: its mean forecast over the horizon,
    or its mean demand in cross-validation when higher (seasonal naive forecasts 0 after a
    week without sales). Pooled, because two windows per series cannot estimate it alone.

    Over n periods the error of the summed forecast has variance n * noise + n^2 *
    level_sd^2 (noise = error_sd^2 - level_sd^2): a level error does not average out over
    a lead time, which is what `reorder_suggestions` needs for its safety stock.
    """
    by_window = (
        residuals.group_by("unique_id", "cutoff")
        .agg(pl.col("error").mean().alias("mean_error"), pl.col("yhat").mean().alias("level"))
        .filter(pl.col("level") > 0)
        .join(kinds.select("unique_id", "kind"), on="unique_id", how="left")
        .with_columns((pl.col("mean_error") / pl.col("level")).abs().clip(upper_bound=2.0)
                      .alias("relative"))
    )
    pooled = by_window.group_by("kind").agg(
        (pl.col("relative") ** 2).mean().sqrt().alias("relative_level_sd"))
    return (
        residuals.group_by("unique_id").agg((pl.col("error") ** 2).mean().sqrt()
                                            .alias("error_sd"))
        .join(forecast.group_by("unique_id").agg(pl.col("yhat").mean().alias("mean_forecast")),
              on="unique_id", how="left")
        # A seasonal naive forecast after a week without sales is 0, yet the series sells:
        # the level its error is relative to is at least what it sold in cross-validation.
        .join(residuals.group_by("unique_id").agg(pl.col("y").mean().alias("mean_actual")),
              on="unique_id", how="left")
        .with_columns(pl.max_horizontal(pl.col("mean_forecast").fill_null(0.0),
                                        pl.col("mean_actual").fill_null(0.0))
                      .alias("mean_forecast"))
        .join(kinds.select("unique_id", "kind"), on="unique_id", how="left")
        .join(pooled, on="kind", how="left")
        .select("unique_id", "error_sd",
                pl.min_horizontal(pl.col("relative_level_sd").fill_null(0.0)
                                  * pl.col("mean_forecast").clip(lower_bound=0.0),
                                  pl.col("error_sd")).alias("level_sd"))
    )


def validate_promotions(promotions: pl.DataFrame | None, ds_type: pl.DataType) -> pl.DataFrame:
    schema = {"unique_id": pl.Utf8, "ds": ds_type, "uplift": pl.Float64}
    if promotions is None:
        return pl.DataFrame(schema=schema)
    for column in ("unique_id", "ds"):
        if column not in promotions.columns:
            raise ValueError(f"promotions is missing column '{column}'")
    frame = promotions.select(
        pl.col("unique_id").cast(pl.Utf8), pl.col("ds").cast(ds_type),
        (pl.col("uplift") if "uplift" in promotions.columns else pl.lit(None))
        .cast(pl.Float64).alias("uplift"),
    )
    if frame.filter(pl.col("uplift") <= 0).height:
        raise ValueError("promotions has an uplift <= 0; use a multiplier such as 1.4, "
                         "or null to use the measured uplift")
    return frame


def apply_promotions(forecast: pl.DataFrame, promotions: pl.DataFrame,
                     measured: pl.DataFrame, level: tuple[int, ...]) -> pl.DataFrame:
    """Multiply forecast and bounds on planned promotion periods by the uplift.

    The uplift is the one given in `promotions`, else the one measured on the series'
    past promotions (`measure_uplift`), else the median of all measured uplifts (a new
    SKU behaves like the store's typical SKU), else 1.
    """
    if promotions.is_empty():
        return forecast
    store_median = measured["uplift"].median() if measured.height else None
    planned = (
        promotions.group_by("unique_id", "ds").agg(pl.col("uplift").max())
        .with_columns(pl.lit(True).alias("planned"))
        .join(measured.rename({"uplift": "measured"}), on="unique_id", how="left")
        .with_columns(pl.coalesce("uplift", "measured", pl.lit(store_median, pl.Float64),
                                  pl.lit(1.0)).alias("factor"))
        .select("unique_id", "ds", "factor")
    )
    columns = ["yhat", *(f"{side}_{lvl}" for lvl in level for side in ("lo", "hi"))]
    return (
        forecast.join(planned, on=["unique_id", "ds"], how="left")
        .with_columns(pl.col(c) * pl.col("factor").fill_null(1.0) for c in columns)
        .drop("factor")
    )


def finish(forecast: pl.DataFrame, level: tuple[int, ...],
           keys: tuple[str, ...] = ("unique_id", "ds")) -> pl.DataFrame:
    """Clip at 0 and make lo <= forecast <= hi (a missing bound collapses to the forecast)."""
    point = pl.col("yhat").fill_null(0.0).clip(lower_bound=0.0)
    out = forecast.with_columns(point.alias("forecast"))
    bounds = []
    for lvl in level:
        bounds += [
            pl.min_horizontal(pl.col(f"lo_{lvl}").fill_null(pl.col("forecast")), "forecast")
            .clip(lower_bound=0.0).alias(f"lo_{lvl}"),
            pl.max_horizontal(pl.col(f"hi_{lvl}").fill_null(pl.col("forecast")), "forecast")
            .alias(f"hi_{lvl}"),
        ]
    spread = [pl.col(c).fill_null(0.0).clip(lower_bound=0.0)
              for c in ("error_sd", "level_sd") if c in forecast.columns]
    return out.with_columns(bounds).select(
        *keys, "forecast",
        *(c for lvl in level for c in (f"lo_{lvl}", f"hi_{lvl}")), "model", *spread,
    )


def output_schema(ds_type: pl.DataType, level: tuple[int, ...]) -> dict[str, pl.DataType]:
    return {"unique_id": pl.Utf8, "ds": ds_type, "forecast": pl.Float64,
            **{f"{side}_{lvl}": pl.Float64 for lvl in level for side in ("lo", "hi")},
            "model": pl.Utf8, "error_sd": pl.Float64, "level_sd": pl.Float64}


def forecast_demand(
    history: pl.DataFrame,
    horizon: int,
    *,
    season_length: int = 7,
    level: tuple[int, ...] = (80, 95),
    n_jobs: int | None = None,
    cv_windows: int = 2,
    promotions: pl.DataFrame | None = None,
    yearly: bool = True,
) -> pl.DataFrame:
    """Forecast demand per series for the next `horizon` periods.

    Args:
        history: long frame, one row per series and period:
            `unique_id` (str), `ds` (date or datetime; daily, weekly or monthly, inferred),
            `y` (units demanded, float >= 0), optional `is_stockout` (bool: the period was
            out of stock, y is censored) and `is_promo` (bool: a promotion ran).
            Missing periods inside a series, and after its last row up to the last date
            of the whole frame, count as periods without sales (y = 0).
        horizon: number of periods to forecast, in the inferred frequency.
        season_length: periods per season (7 for daily data with a weekly pattern; pass
            52 for weekly and 12 for monthly data with a yearly pattern).
        level: prediction interval levels, in percent.
        n_jobs: processes for statsforecast; default one per 250 modelled series, at most
            the cores (a worker pool costs seconds to start: default_n_jobs).
        cv_windows: rolling-origin windows used to choose the model per series, each of
            min(horizon, 28) periods.
        promotions: optional planned promotions, `unique_id, ds` (+ `uplift`, a
            multiplier; null or absent means "use the uplift measured on this series'
            past promotions, else the store's median uplift, else 1").
        yearly: apply the store's yearly season from last year (daily data with over a
            year of history; see step 3).

    Returns:
        `unique_id, ds, forecast, lo_<l>, hi_<l>` (for each level, in units per period,
        all >= 0 and lo <= forecast <= hi) and `model`: one of SeasonalNaive,
        DynamicOptimizedTheta, CrostonSBA, ADIDA, IMAPA, mean_fallback or zero; then
        `error_sd` and `level_sd` per series (units per period, repeated on every row):
        the chosen model's cross-validated daily error spread and the part of it that
        persists over a horizon (see `error_spread`), for safety stocks over a lead time.

    How:
        1. Stockout and promotion periods are replaced by an estimate of baseline demand
           from earlier clean periods (see `forecasting.history.censor_demand`), so a
           stockout is not read as zero demand and a promotion does not lift the baseline.
        2. The last year (364 days, 156 weeks or 60 months) of every series is fitted
           with all candidate models in one StatsForecast call and cross-validated over
           `cv_windows` windows; each series keeps the best of its candidates (see
           `select_models`), so never worse than seasonal naive in cross-validation.
        3. Yearly season: the candidate models know the week, not the year. For daily
           data with more than a year and 28 days of history, each forecast (and each
           cross-validation forecast, so the model choice sees the same thing) is
           multiplied by how much busier the whole store was on that day last year than
           in the 28 days before the cutoff last year (`history.yearly_index`: pooled
           over SKUs, weekly-smoothed, bounded to [1/3, 3]).
        4. Intervals: statsforecast's for seasonal naive and Theta; for the Croston
           family (point forecasts only) conformal intervals from the chosen model's
           cross-validation errors on that series (`conformal_widths`).
        5. Series shorter than 2 * season_length + cv_windows * min(horizon, 28) periods
           get the mean of their last 28 clean periods; series without demand get 0.
        6. Planned promotions multiply forecast and bounds by their uplift
           (`apply_promotions`).
    """
    check_arguments(horizon, season_length, level, cv_windows)
    level = tuple(level)
    frame = validate_history(history)
    ds_type = frame.schema["ds"]
    planned = validate_promotions(promotions, ds_type)
    if frame.is_empty():
        return pl.DataFrame(schema=output_schema(ds_type, level))
    freq = infer_frequency(frame)
    frame, month_end = to_internal_dates(frame, freq)
    planned, _ = to_internal_dates(planned, freq) if not planned.is_empty() else (planned, False)

    panel = prepare_panel(frame, freq, season_length)
    measured = measure_uplift(panel)
    fit_periods = FIT_PERIODS[freq.name]
    cv_points = cv_windows * min(horizon, MAX_CV_HORIZON)
    kinds = classify_series(last_periods(panel, fit_periods), 2 * season_length + cv_points)
    panel = censor_demand(panel, kinds)
    profile = yearly_profile(panel, freq, season_length) if yearly else pl.DataFrame()
    panel = last_periods(panel, fit_periods)

    parts = [
        modelled_forecasts(panel, kinds, horizon=horizon, season_length=season_length,
                           level=level, n_jobs=n_jobs, cv_windows=cv_windows, freq=freq,
                           profile=profile),
        fallback_forecasts(panel, kinds, freq, horizon, level),
    ]
    columns = ["unique_id", "ds", "model", "yhat",
               *(f"{side}_{lvl}" for lvl in level for side in ("lo", "hi")),
               "error_sd", "level_sd"]
    forecast = pl.concat([p.select(columns) for p in parts if not p.is_empty()])
    forecast = apply_promotions(forecast, planned, measured, level)
    forecast = to_caller_dates(finish(forecast, level), freq, month_end)
    return forecast.with_columns(pl.col("ds").cast(ds_type)).sort("unique_id", "ds")
