"""Demand forecast per SKU: censored history, model chosen by cross-validation.

`forecast_demand(history, horizon, ...)` fits a lean set of statsforecast models to every
series in one call, picks one model per series by rolling-origin cross-validation and
returns `unique_id, ds, forecast, lo_<l>, hi_<l>, model`.

Model set and why (benchmarks/results/forecast.md: the demo and six real panels):
- SeasonalNaive(season_length): always a candidate, the floor a model has to beat.
- Smooth series: AutoETS, DynamicOptimizedTheta, AutoCES (+ AutoARIMA for weekly and
  monthly data) and their median, the Ensemble ("SCUM", Petropoulos & Svetunkov 2020).
  Each is fitted only to the smooth series (~0.3 core-seconds a series for a forecast
  and two cross-validation windows on 364 days); AutoARIMA costs ~0.5 s a daily series
  more and is left out for daily data.
- Intermittent series (Syntetos-Boylan ADI > 1.32): CrostonSBA, ADIDA, IMAPA, TSB and
  their median; all cheap (< 2 ms a series).
- The Ensemble is kept unless a single model beats it by SWITCH_MARGIN in
  cross-validation: per-series winners on a few windows did worse out of sample.
- Intervals are conformal for every model, on errors relative to the series' level for
  smooth series, calibrated on the last cross-validation window (forecasting.intervals).
"""

from __future__ import annotations

import contextlib
import os
import warnings

import polars as pl
from scipy.stats import norm
from statsforecast import StatsForecast
from statsforecast.models import (
    ADIDA,
    IMAPA,
    TSB,
    AutoARIMA,
    AutoCES,
    AutoETS,
    CrostonSBA,
    DynamicOptimizedTheta,
    SeasonalNaive,
)

from forecasting.compute import check_compute, run_statsforecast
from forecasting.history import (
    DAILY,
    FALLBACK_PERIODS,
    FIT_PERIODS,
    Frequency,
    censor_demand,
    check_series_end,
    classify_series,
    infer_frequency,
    last_periods,
    measure_uplift,
    prepare_panel,
    series_ends,
    to_caller_dates,
    to_internal_dates,
    validate_history,
    yearly_index,
    yearly_profile,
)
from forecasting.intervals import (
    add_conformal_bounds,
    calibrated_widths,
    chosen_widths,
    error_level,
    error_spread,
)
from forecasting.names import (
    ENSEMBLE,
    INTERMITTENT_MODELS,
    PREFERENCE,
    SEASONAL_NAIVE,
    SMOOTH_MODELS,
)
from forecasting.parallel import worker_processes

MAX_CV_HORIZON = 28
# A single model replaces the Ensemble only when its cross-validation score is this much
# better (score x (1 + margin) below the Ensemble's). Choosing the best of several models
# per series on a few windows mostly picks noise: on the real panels of
# benchmarks/forecast.py the per-series winner did worse out of sample than the fixed
# median (the "forecast combination puzzle", Claeskens et al. 2016, IJF 32(3)).
SWITCH_MARGIN = 0.10
# TSB's smoothing constants for demand size and probability: the middle of the range
# Teunter, Syntetos & Babai (2011, "Intermittent demand: linking forecasting to inventory
# obsolescence", EJOR 214(3)) studied (0.05-0.3); statsforecast does not optimise them.
TSB_ALPHA_D, TSB_ALPHA_P = 0.1, 0.1


def candidate_models(kind: str, season_length: int, freq: Frequency = DAILY) -> list:
    """The statsforecast models fitted to every series of one kind, in one call.

    smooth: seasonal naive, AutoETS, DynamicOptimizedTheta, AutoCES, and AutoARIMA for
    weekly and monthly data (on 364 daily periods it costs ~0.5 s a series, too much for
    a daily run of hundreds of SKUs). intermittent: seasonal naive and the Croston family
    (CrostonSBA, ADIDA, IMAPA, TSB). The ensemble is formed from their forecasts
    (`add_ensemble`), not fitted.
    """
    if kind == "intermittent":
        return [SeasonalNaive(season_length), CrostonSBA(), ADIDA(), IMAPA(),
                TSB(alpha_d=TSB_ALPHA_D, alpha_p=TSB_ALPHA_P)]
    if kind != "smooth":
        raise ValueError(f"no candidate models for series kind {kind!r}")
    models = [SeasonalNaive(season_length), AutoETS(season_length=season_length),
              DynamicOptimizedTheta(season_length), AutoCES(season_length=season_length)]
    if freq is not DAILY:
        models.append(AutoARIMA(season_length=season_length))
    return models


def ensemble_members(kind: str) -> tuple[str, ...]:
    """The models whose median is the Ensemble for series of `kind` ("smooth" or
    "intermittent"; anything else is treated as smooth)."""
    return INTERMITTENT_MODELS if kind == "intermittent" else SMOOTH_MODELS


def add_ensemble(wide: pl.DataFrame, kind: str) -> pl.DataFrame:
    """Add `Ensemble`: the median of the kind's models' forecasts (ignoring NaN).

    A fixed combination, not chosen on the data, so its cross-validation error is as
    honest as a single model's. Median of ETS, Theta, CES (and ARIMA) is the "SCUM"
    benchmark of Petropoulos & Svetunkov (2020, "A simple combination of univariate
    models", IJF 36(1)), which beat most M4 entries; for intermittent series the
    Croston-family median follows the same idea.
    """
    members = [m for m in ensemble_members(kind) if m in wide.columns]
    return wide.with_columns(
        pl.concat_list(pl.col(m).fill_nan(None) for m in members).list.median()
        .alias(ENSEMBLE))


# Series one process fits in the time a worker pool takes to start. Measured on 2 cores
# (session 7, 500 demo SKUs x 364 days): a pool costs about 5 s; the smooth models cost
# about 0.3 s of one core per series for a forecast and two cross-validation windows
# (AutoETS 0.19, CES 0.06, Theta 0.04), so a second process pays off from about 40
# smooth series. The Croston family and seasonal naive take under 2 ms a series: one
# process always.
SERIES_PER_WORKER = {"smooth": 40, "intermittent": None}


def default_n_jobs(n_series: int, kind: str = "smooth") -> int:
    """Processes for statsforecast: one per SERIES_PER_WORKER[kind] series, at most the cores."""
    per_worker = SERIES_PER_WORKER.get(kind)
    if not per_worker:
        return 1
    return max(1, min(os.cpu_count() or 1, n_series // per_worker))


def to_long(wide: pl.DataFrame, keys: list[str]) -> pl.DataFrame:
    """statsforecast's wide frame (one column per model) to `*keys, model, yhat`."""
    models = [c for c in wide.columns if c in PREFERENCE]
    return (wide.select(*keys, *models).unpivot(index=keys, variable_name="model",
                                                value_name="yhat")
            .with_columns(pl.col("yhat").fill_nan(None)))


def fit_models(train: pl.DataFrame, kinds: pl.DataFrame, *, season_length: int,
               freq: Frequency, n_jobs: int | None, horizon: int | None, cv_horizon: int,
               cv_windows: int, compute: str = "local") -> tuple[pl.DataFrame, pl.DataFrame]:
    """Forecast and cross-validate every smooth and intermittent series with its kind's models.

    train: `unique_id, ds, y`. One StatsForecast call per kind and task, all series of the
    kind at once. Returns (forecast, cv): forecast `unique_id, ds, model, yhat` for the
    `horizon` periods after each series' end (empty when horizon is None), cv
    `unique_id, ds, cutoff, y, model, yhat` over `cv_windows` windows of `cv_horizon`.
    Every model's rows include the Ensemble's. compute: where statsforecast runs
    (forecasting.compute: "local" in this process's worker pool, else a Fugue engine).
    """
    forecasts, cvs = [], []
    for kind in ("smooth", "intermittent"):
        part = train.join(kinds.filter(pl.col("kind") == kind), on="unique_id", how="semi")
        if part.is_empty():
            continue
        jobs = n_jobs or default_n_jobs(part["unique_id"].n_unique(), kind)
        sf = StatsForecast(models=candidate_models(kind, season_length, freq),
                           freq=freq.every, n_jobs=jobs if compute == "local" else 1,
                           fallback_model=SeasonalNaive(season_length))
        with warnings.catch_warnings(), (worker_processes(jobs) if compute == "local"
                                         else contextlib.nullcontext()):
            # Theta's seasonality test divides by a zero variance on constant series;
            # AutoETS and AutoARIMA warn when a specification does not converge.
            warnings.simplefilter("ignore", RuntimeWarning)
            warnings.simplefilter("ignore", UserWarning)
            if horizon is not None:
                forecasts.append(to_long(add_ensemble(
                    run_statsforecast(sf, "forecast", part, compute, h=horizon), kind),
                    ["unique_id", "ds"]))
            cv = run_statsforecast(sf, "cross_validation", part, compute, h=cv_horizon,
                                   n_windows=cv_windows, step_size=cv_horizon)
        cvs.append(to_long(add_ensemble(cv, kind), ["unique_id", "ds", "cutoff", "y"]))
    empty = pl.DataFrame()
    return (pl.concat(forecasts) if forecasts else empty, pl.concat(cvs) if cvs else empty)


def check_arguments(horizon: int, season_length: int, level: tuple[int, ...],
                    cv_windows: int) -> None:
    """Raise ValueError, naming the argument and the value given, unless horizon,
    season_length and cv_windows are positive integers and every level is in (0, 100)."""
    if not isinstance(horizon, int) or horizon < 1:
        raise ValueError(f"horizon must be a positive number of periods, got {horizon!r}")
    if not isinstance(season_length, int) or season_length < 1:
        raise ValueError(f"season_length must be a positive integer, got {season_length!r}")
    if not level or any(not 0 < lvl < 100 for lvl in level):
        raise ValueError(f"level must hold interval levels between 0 and 100, got {level!r}")
    if not isinstance(cv_windows, int) or cv_windows < 1:
        raise ValueError(f"cv_windows must be a positive integer, got {cv_windows!r}")


def select_models(errors: pl.DataFrame, kinds: pl.DataFrame, by: list[str]) -> pl.DataFrame:
    """Pick one model per group of `by` (which starts with unique_id).

    errors: `*by, model, mae, mse` from cross-validation, for the models fitted to the
    series' kind (`candidate_models`) and the Ensemble; a group without errors (no clean
    period to score) keeps seasonal naive (add it with null errors). Smooth series are
    compared on MAE; intermittent series on MSE, because MAE rewards forecasting zero for
    series that are mostly zero (Kolassa 2016, "Evaluating predictive count data
    distributions in retail sales forecasting", IJF 32(3); the M5 competition scored
    RMSSE for the same reason) while replenishment needs the mean demand rate. The
    Ensemble is kept unless another model scores better by SWITCH_MARGIN; ties go to the
    simpler model (PREFERENCE).
    """
    candidates = (
        errors.join(kinds.select("unique_id", "kind"), on="unique_id", how="inner")
        .with_columns(
            (pl.when(pl.col("kind") == "intermittent").then(pl.col("mse"))
             .otherwise(pl.col("mae"))
             * pl.when(pl.col("model") == ENSEMBLE).then(1.0).otherwise(1.0 + SWITCH_MARGIN))
            .alias("score"),
            pl.col("model").replace_strict(PREFERENCE, return_dtype=pl.Int64).alias("preference"),
        )
    )
    return (
        candidates.sort([*by, "score", "preference"], nulls_last=True)
        .group_by(by, maintain_order=True).first()
        .select(*by, "model")
    )


def seasonalise(frame: pl.DataFrame, profile: pl.DataFrame) -> pl.DataFrame:
    """Multiply `yhat` by the store's yearly index (`history.yearly_index`) and keep the
    index as column `yearly_index` (1 without a profile).

    `frame` needs `cutoff` (the last period the model saw) and `ds`.
    """
    if profile.is_empty():
        return frame.with_columns(pl.lit(1.0).alias("yearly_index"))
    return (yearly_index(frame, profile)
            .with_columns(pl.col("yhat") * pl.col("yearly_index")))


def cv_residuals(cv: pl.DataFrame, panel: pl.DataFrame,
                 profile: pl.DataFrame) -> pl.DataFrame:
    """Cross-validation errors on clean periods:
    `unique_id, ds, cutoff, model, y, yhat, yearly_index, error`.

    cv: `fit_models`' long cross-validation frame. Stockout and promotion periods are not
    scored: their y is an estimate (stockout) or carries an uplift the baseline models are
    not meant to forecast (promotion). The forecasts carry the yearly index, as the
    production forecast does.
    """
    return (
        seasonalise(cv, profile)
        .join(panel.select("unique_id", "ds", "is_clean"), on=["unique_id", "ds"], how="left")
        .filter(pl.col("is_clean"))
        .with_columns((pl.col("yhat") - pl.col("y")).alias("error"))
        .drop("is_clean")
    )


def yearly_helps(cv: pl.DataFrame, panel: pl.DataFrame, profile: pl.DataFrame) -> bool:
    """Whether the store's yearly index made the cross-validation forecasts better.

    The median over series and models of the relative change in MAE, (with the index -
    without) / without, must not be above 0: a store whose seasons repeat gains, one whose
    spikes do not (page views, one-off events) loses and the index is dropped; when the
    windows cannot tell (last year was flat there) the index stays. Pooled, so one
    decision per store.
    """
    if profile.is_empty() or cv.is_empty():
        return False
    with_index = model_errors(cv_residuals(cv, panel, profile), ["unique_id"])
    without = model_errors(cv_residuals(cv, panel, pl.DataFrame()), ["unique_id"])
    change = (
        with_index.join(without, on=["unique_id", "model"], suffix="_plain")
        .filter(pl.col("mae_plain") > 0)
        .select(((pl.col("mae") - pl.col("mae_plain")) / pl.col("mae_plain")).median())
        .item()
    )
    return change is not None and change <= 0


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
                       profile: pl.DataFrame | None = None,
                       compute: str = "local") -> pl.DataFrame:
    """Fit, cross-validate and select for smooth and intermittent series (`fit_models`)."""
    modelled = kinds.filter(pl.col("kind").is_in(["smooth", "intermittent"]))
    if modelled.is_empty():
        return pl.DataFrame()
    train = (panel.join(modelled, on="unique_id", how="semi")
             .select("unique_id", "ds", pl.col("y_baseline").alias("y")))
    forecast, cv = fit_models(train, kinds, season_length=season_length, freq=freq,
                              n_jobs=n_jobs, horizon=horizon,
                              cv_horizon=min(horizon, MAX_CV_HORIZON), cv_windows=cv_windows,
                              compute=compute)
    profile = profile if profile is not None and yearly_helps(cv, panel, profile) \
        else pl.DataFrame()
    cv_horizon = min(horizon, MAX_CV_HORIZON)
    cutoffs = panel.group_by("unique_id").agg(pl.col("ds").max().alias("cutoff"))
    forecast = seasonalise(forecast.join(cutoffs, on="unique_id"), profile)
    levels = pl.concat([error_level(seasonalise(cv, profile), panel, kinds, cv_horizon),
                        error_level(forecast, panel, kinds, cv_horizon)])
    residuals = cv_residuals(cv, panel, profile)
    errors = model_errors(residuals, ["unique_id"])
    errors = pl.concat([errors, modelled.join(errors, on="unique_id", how="anti").select(
        "unique_id", pl.lit(SEASONAL_NAIVE).alias("model"),
        pl.lit(None, pl.Float64).alias("mae"), pl.lit(None, pl.Float64).alias("mse"))])
    chosen = select_models(errors, kinds, ["unique_id"])
    forecast = (forecast.join(chosen, on=["unique_id", "model"], how="semi")
                .join(levels, on=["unique_id", "cutoff"], how="left").drop("cutoff"))
    chosen_residuals = residuals.join(chosen, on=["unique_id", "model"], how="semi")
    widths = chosen_widths(
        calibrated_widths(residuals.join(levels, on=["unique_id", "cutoff"], how="left"),
                          ["unique_id", "model"], "cutoff", level),
        chosen, ["unique_id"], level)
    forecast = add_conformal_bounds(forecast, widths, ["unique_id", "model"], level)
    return forecast.join(error_spread(chosen_residuals, forecast, kinds), on="unique_id",
                         how="left")


def model_errors(residuals: pl.DataFrame, by: list[str]) -> pl.DataFrame:
    """`*by, model, mae, mse` of cross-validation residuals."""
    return residuals.group_by(*by, "model").agg(
        pl.col("error").abs().mean().alias("mae"), (pl.col("error") ** 2).mean().alias("mse"))


def validate_promotions(promotions: pl.DataFrame | None, ds_type: pl.DataType) -> pl.DataFrame:
    """Planned promotions as `unique_id (str), ds (ds_type), uplift (float or null)`.

    promotions: `unique_id, ds` and optionally `uplift` (a multiplier of the baseline such
    as 1.4; null = use the uplift measured on past promotions); None = no promotions (an
    empty frame). Raises ValueError when unique_id or ds is missing or an uplift is <= 0.
    """
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
    """Column names and types of `forecast_demand`'s result (before `last_seen` and
    `ended_early`), for an empty result of the right shape."""
    return {"unique_id": pl.Utf8, "ds": ds_type, "forecast": pl.Float64,
            **{f"{side}_{lvl}": pl.Float64 for lvl in level for side in ("lo", "hi")},
            "model": pl.Utf8, "error_sd": pl.Float64, "level_sd": pl.Float64,
            "last_seen": ds_type, "ended_early": pl.Boolean}


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
    series_end: str = "frame",
    compute: str = "local",
) -> pl.DataFrame:
    """Forecast demand per series for the next `horizon` periods.

    Args:
        history: long frame, one row per series and period:
            `unique_id` (str), `ds` (date or datetime; daily, weekly or monthly, inferred),
            `y` (units demanded, float >= 0), optional `is_stockout` (bool: the period was
            out of stock, y is censored) and `is_promo` (bool: a promotion ran).
            Missing periods inside a series count as periods without sales (y = 0);
            what follows a series' last row is `series_end`'s choice.
        horizon: number of periods to forecast, in the inferred frequency.
        season_length: periods per season (7 for daily data with a weekly pattern; pass
            52 for weekly and 12 for monthly data with a yearly pattern).
        level: prediction interval levels, in percent.
        n_jobs: processes for statsforecast; default one per 40 smooth series, at most
            the cores, and one for the intermittent ones (a worker pool costs seconds to
            start: default_n_jobs).
        cv_windows: rolling-origin windows used to choose the model per series, each of
            min(horizon, 28) periods.
        promotions: optional planned promotions, `unique_id, ds` (+ `uplift`, a
            multiplier; null or absent means "use the uplift measured on this series'
            past promotions, else the store's median uplift, else 1").
        yearly: apply the store's yearly season from last year (daily data with over a
            year of history; see step 3).
        series_end: what a series whose last row is before the frame's last period means.
            "frame" (default, right for a store's demand history): it stopped selling;
            the periods up to the frame's last one are y = 0 and its forecast starts
            with everyone else's (a SKU without demand in the last year is forecast 0,
            model "zero"). "own": its data stopped; it is forecast from the period after
            its own last row (statsforecast's convention, for independent series with
            different end dates). Either way such series are flagged `ended_early` and
            a SeriesEndedEarlyWarning names them.
        compute: where statsforecast runs: "local" (this process and its worker pool),
            or a Fugue engine through statsforecast's FugueBackend: "duckdb" (in
            process), "dask", "spark", "ray" (their packages installed); same forecasts
            to float32 precision (forecasting.compute).

    Returns:
        `unique_id, ds, forecast, lo_<l>, hi_<l>` (for each level, in units per period,
        all >= 0 and lo <= forecast <= hi) and `model`: one of MODEL_NAMES (SeasonalNaive,
        Ensemble, AutoETS, DynamicOptimizedTheta, CES, AutoARIMA, CrostonSBA, ADIDA,
        IMAPA, TSB), mean_fallback or zero; then per series, repeated on every row:
        `error_sd` and `level_sd` (units per period): the chosen model's cross-validated
        daily error spread and the part of it that persists over a horizon (see
        `error_spread`), for safety stocks over a lead time; `last_seen` (the series'
        last period in `history`) and `ended_early` (last_seen before the frame's last
        period; see `series_end`).

    Raises:
        TypeError/ValueError: a malformed history or argument (validate_history says
        which column and how many rows).
        ImportError: `compute` names an engine whose package is not installed.

    Warns:
        SeriesEndedEarlyWarning: when any series ended early.

    How:
        1. Stockout and promotion periods are replaced by an estimate of baseline demand
           from earlier clean periods (see `forecasting.history.censor_demand`), so a
           stockout is not read as zero demand and a promotion does not lift the baseline.
        2. The last year (364 days, 156 weeks or 60 months) of every series is fitted
           with its kind's candidate models (`candidate_models`: smooth series get
           AutoETS, Theta, CES (+ ARIMA for weekly and monthly data), intermittent ones
           the Croston family, both seasonal naive), all series of a kind in one
           StatsForecast call, and cross-validated over `cv_windows` windows; the
           median of the kind's models is one more candidate (`add_ensemble`). Each
           series keeps the Ensemble unless another candidate, seasonal naive included,
           beat it by SWITCH_MARGIN in cross-validation (`select_models`): the Ensemble
           can stay up to 10% worse than the best candidate there.
        3. Yearly season: the candidate models know the week, not the year. For daily
           data with more than a year and 28 days of history, each forecast (and each
           cross-validation forecast, so the model choice sees the same thing) is
           multiplied by how much busier the whole store was on that day last year than
           in the 28 days before the cutoff last year (`history.yearly_index`: pooled
           over SKUs, weekly-smoothed, bounded to [1/3, 3]).
        4. Intervals: conformal, from the cross-validation errors on that series, scaled
           by the yearly index (`conformal_widths`), inflated by how such widths held on
           the last cross-validation window (`calibrated_widths`, per model over all
           series), each level at least the next lower one's times the ratio of their
           normal quantiles (`nested`), never narrower than the Ensemble's
           (`chosen_widths`).
        5. Series shorter than 2 * season_length + cv_windows * min(horizon, 28) periods
           get the mean of their last 28 clean periods; series without demand get 0.
        6. Planned promotions multiply forecast and bounds by their uplift
           (`apply_promotions`).
    """
    check_arguments(horizon, season_length, level, cv_windows)
    check_compute(compute)
    level = tuple(level)
    frame = validate_history(history)
    ds_type = frame.schema["ds"]
    planned = validate_promotions(promotions, ds_type)
    if frame.is_empty():
        return pl.DataFrame(schema=output_schema(ds_type, level))
    freq = infer_frequency(frame)
    frame, month_end = to_internal_dates(frame, freq)
    planned, _ = to_internal_dates(planned, freq) if not planned.is_empty() else (planned, False)
    check_series_end(series_end)
    ends = series_ends(frame)
    warn_ended_early(ends, series_end, freq, month_end)

    panel = prepare_panel(frame, freq, season_length, series_end)
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
                           profile=profile, compute=compute),
        fallback_forecasts(panel, kinds, freq, horizon, level),
    ]
    columns = ["unique_id", "ds", "model", "yhat",
               *(f"{side}_{lvl}" for lvl in level for side in ("lo", "hi")),
               "error_sd", "level_sd"]
    forecast = pl.concat([p.select(columns) for p in parts if not p.is_empty()])
    forecast = apply_promotions(forecast, planned, measured, level)
    forecast = finish(forecast, level).join(ends, on="unique_id", how="left")
    forecast = to_caller_dates(forecast, freq, month_end)
    if freq.name == "monthly" and month_end:
        forecast = forecast.with_columns(pl.col("last_seen").dt.month_end())
    return (forecast.with_columns(pl.col("ds").cast(ds_type), pl.col("last_seen").cast(ds_type))
            .sort("unique_id", "ds"))


class SeriesEndedEarlyWarning(UserWarning):
    """Some series' last row is before the frame's last period (see `series_end`)."""


def warn_ended_early(ends: pl.DataFrame, series_end: str, freq: Frequency,
                     month_end: bool) -> None:
    """Warn (SeriesEndedEarlyWarning) when series end before the history's last period.

    ends: `unique_id, last_seen, ended_early` (`history.series_ends`); names up to five
    series with their last date in the caller's dates and says what `series_end` did with
    them, so a forecast of zero for a series whose export stopped is never silent.
    """
    early = ends.filter(pl.col("ended_early")).sort("last_seen", "unique_id")
    if early.is_empty():
        return
    shown = to_caller_dates(early.head(5).rename({"last_seen": "ds"}), freq, month_end)
    examples = ", ".join(f"{uid!r} last seen {ds}" for uid, ds in
                         shown.select("unique_id", "ds").iter_rows())
    meaning = (
        "forecast as if they sold nothing since (series_end='frame'); pass "
        "series_end='own' if their data stopped rather than their sales"
        if series_end == "frame" else
        "each forecast from its own last period (series_end='own')"
    )
    warnings.warn(
        f"{early.height} of {ends.height} series end before the last period of the history "
        f"({ends['last_seen'].max()}): {examples}{', ...' if early.height > 5 else ''}; "
        f"{meaning}. Rows carry ended_early and last_seen.",
        SeriesEndedEarlyWarning, stacklevel=3)
