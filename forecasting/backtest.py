"""Rolling-origin backtest of the demand forecast against seasonal naive.

`backtest(history, horizon, *, windows)` replays `forecast_demand` on the last
`windows * horizon` periods: for each test window the model is chosen exactly as in
production, by cross-validation on the `cv_windows` windows just before it, and scored on
the window it did not see. `summarise_backtest` aggregates the per-series rows;
`sample_series` picks the series a large store backtests (spread over sales volume).
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from forecasting.compute import check_compute
from forecasting.demand import (
    apply_promotions,
    check_arguments,
    finish,
    fit_models,
    model_errors,
    seasonalise,
    select_models,
    yearly_helps,
)
from forecasting.history import (
    FIT_PERIODS,
    censor_demand,
    check_series_end,
    classify_series,
    infer_frequency,
    last_periods,
    measure_uplift,
    prepare_panel,
    to_caller_dates,
    to_internal_dates,
    validate_history,
    yearly_profile,
)
from forecasting.intervals import (
    add_conformal_bounds,
    calibrated_widths,
    chosen_widths,
    error_level,
)
from forecasting.names import SEASONAL_NAIVE

LEVELS = (80, 95)
BACKTEST_SCHEMA = {
    "unique_id": pl.Utf8, "model": pl.Utf8, "mase": pl.Float64, "bias": pl.Float64,
    "coverage_80": pl.Float64, "coverage_95": pl.Float64, "mase_seasonal_naive": pl.Float64,
    "bias_seasonal_naive": pl.Float64, "n_points": pl.Int64, "actual_units": pl.Float64,
    "rmsse": pl.Float64, "rmsse_seasonal_naive": pl.Float64,
}
BY_MODEL_SCHEMA = {
    "unique_id": pl.Utf8, "model": pl.Utf8, "mase": pl.Float64, "bias": pl.Float64,
    "coverage_80": pl.Float64, "coverage_95": pl.Float64, "n_points": pl.Int64,
    "actual_units": pl.Float64, "rmsse": pl.Float64,
}
POINTS_SCHEMA = {  # ds: the caller's date type
    "unique_id": pl.Utf8, "ds": pl.Date, "window": pl.Int64, "model": pl.Utf8,
    "actual": pl.Float64, "forecast": pl.Float64, "lo_80": pl.Float64, "hi_80": pl.Float64,
    "lo_95": pl.Float64, "hi_95": pl.Float64,
}


def _scores(suffix: str, coverage: bool) -> list[pl.Expr]:
    error = pl.col("forecast") - pl.col("actual")
    exprs = [
        error.abs().mean().alias(f"mae{suffix}"),
        (error ** 2).mean().alias(f"mse{suffix}"),
        (error.sum() / pl.col("actual").sum()).alias(f"bias{suffix}"),
    ]
    if coverage:
        exprs += [
            ((pl.col(f"lo_{lvl}") <= pl.col("actual")) & (pl.col("actual") <= pl.col(f"hi_{lvl}")))
            .mean().alias(f"coverage_{lvl}")
            for lvl in LEVELS
        ]
    return exprs


def _mase(mae: str, scale: str = "scale") -> pl.Expr:
    """MAE over the in-sample seasonal-naive MAE; 0/0 is a perfect 0, x/0 undefined."""
    return (
        pl.when(pl.col(scale) > 0).then(pl.col(mae) / pl.col(scale))
        .when(pl.col(mae) == 0).then(0.0)
        .otherwise(None)
    )


def _rmsse(mse: str, scale: str = "scale_squared") -> pl.Expr:
    """sqrt(MSE over the in-sample seasonal-naive MSE); 0/0 is 0, x/0 undefined."""
    return _mase(mse, scale).sqrt()


@dataclass(frozen=True)
class BacktestDetail:
    """`result`: as `backtest` returns. `by_model`: the same scores for every candidate
    model on the same test points, `unique_id, model, mase, bias, coverage_80,
    coverage_95, n_points, actual_units, rmsse` (each model with conformal intervals from
    its own cross-validation errors): what each single model and the ensemble would have
    done had it been used for every series. `points`: the chosen forecast's scored
    periods, `unique_id, ds, window` (0 = the first test window), `model, actual,
    forecast, lo_80, hi_80, lo_95, hi_95`, in the caller's date type (units per period);
    what `result` aggregates, for plots and for the sampling error of a coverage."""

    result: pl.DataFrame
    by_model: pl.DataFrame
    points: pl.DataFrame


def backtest(history: pl.DataFrame, horizon: int, *, windows: int = 3, season_length: int = 7,
             n_jobs: int | None = None, cv_windows: int = 2, yearly: bool = True,
             series_end: str = "frame", compute: str = "local") -> pl.DataFrame:
    """Backtest the forecast per series on the last `windows * horizon` periods.

    Args:
        history: as for `forecast_demand`: `unique_id, ds, y` (+ `is_stockout`, `is_promo`).
        horizon: periods per test window (test windows follow each other, step = horizon).
        windows: number of test windows.
        season_length: as for `forecast_demand`.
        n_jobs: processes for statsforecast; default by the work (forecasting.demand.default_n_jobs).
        cv_windows: windows before each test window used to choose its model.
        yearly: apply the yearly season as `forecast_demand` does.
        series_end: as for `forecast_demand` ("own": each series' test windows are its
            own last periods).
        compute: as for `forecast_demand` (where statsforecast runs).

    Returns:
        One row per series: `unique_id`, `model` (chosen for the most recent window),
        `mase`, `bias`, `coverage_80`, `coverage_95` of the chosen model,
        `mase_seasonal_naive`, `bias_seasonal_naive`, `n_points` (periods scored),
        `actual_units` (units demanded on them, the weight of a volume-weighted mean),
        `rmsse` and `rmsse_seasonal_naive`.

    Definitions:
        - Stockout periods are never actuals: their y is censored. Promotion periods are
          scored, with the forecast lifted by the uplift measured before the first test
          window (as production lifts planned promotions).
        - MASE = MAE / in-sample MAE of the seasonal naive forecast on the clean training
          periods before the first test window (Hyndman & Koehler 2006, "Another look at
          measures of forecast accuracy", IJF 22(4)); 0 when both are 0, null when only
          the scale is.
        - RMSSE = sqrt(MSE / in-sample MSE of the seasonal naive forecast) on the same
          periods (the M5 competition's accuracy measure, Makridakis et al. 2022, IJF
          38(4), with the seasonal naive scale of our MASE). MAE rewards forecasting 0 for
          a series that is mostly 0; squared errors are minimised by the mean demand rate,
          which replenishment needs: intermittent series are chosen on it.
        - bias = sum(forecast - actual) / sum(actual): +0.1 means 10% over-forecast.
        - the baseline is plain seasonal naive (the same weekday last week) on the same
          censored baseline, with the same promotion uplift but without the yearly index:
          the forecast a store gets without storeops' model choice and yearly season.
        - Series too short for the windows, or without demand, are listed with their
          fallback model (mean_fallback, zero), null scores and n_points 0.
        - Classification (smooth/intermittent) uses the data before the first test window.
    """
    return backtest_detail(history, horizon, windows=windows, season_length=season_length,
                           n_jobs=n_jobs, cv_windows=cv_windows, yearly=yearly,
                           series_end=series_end, compute=compute).result


def backtest_detail(history: pl.DataFrame, horizon: int, *, windows: int = 3,
                    season_length: int = 7, n_jobs: int | None = None, cv_windows: int = 2,
                    yearly: bool = True, series_end: str = "frame",
                    compute: str = "local") -> BacktestDetail:
    """`backtest` (same arguments and definitions) with every candidate model's scores."""
    check_arguments(horizon, season_length, LEVELS, cv_windows)
    check_compute(compute)
    check_series_end(series_end)
    if not isinstance(windows, int) or windows < 1:
        raise ValueError(f"windows must be a positive integer, got {windows!r}")
    frame = validate_history(history)
    if frame.is_empty():
        return BacktestDetail(pl.DataFrame(schema=BACKTEST_SCHEMA),
                              pl.DataFrame(schema=BY_MODEL_SCHEMA),
                              pl.DataFrame(schema=POINTS_SCHEMA))
    freq = infer_frequency(frame)
    frame, month_end = to_internal_dates(frame, freq)
    points_schema = {**POINTS_SCHEMA, "ds": frame.schema["ds"]}
    all_windows = windows + cv_windows
    test_points = windows * horizon

    panel = prepare_panel(frame, freq, season_length, series_end)
    is_training = pl.col("t") <= pl.col("t").max().over("unique_id") - test_points
    training = panel.filter(is_training)
    kinds = classify_series(last_periods(training, FIT_PERIODS[freq.name]),
                            2 * season_length + cv_windows * horizon)
    # Series with no period before the test windows have no training data at all.
    kinds = pl.concat([kinds, panel.join(kinds, on="unique_id", how="anti")
                       .select("unique_id", pl.lit("short").alias("kind"),
                               pl.lit(0, pl.UInt32).alias("periods"),
                               pl.lit(None, pl.Float64).alias("adi")).unique()])
    measured = measure_uplift(training)
    panel = censor_demand(panel, kinds)
    profile = yearly_profile(panel, freq, season_length) if yearly else pl.DataFrame()
    panel = last_periods(panel, FIT_PERIODS[freq.name] + all_windows * horizon)

    modelled = kinds.filter(pl.col("kind").is_in(["smooth", "intermittent"]))
    unscored = kinds.join(modelled, on="unique_id", how="anti").select(
        "unique_id",
        pl.when(pl.col("kind") == "zero").then(pl.lit("zero"))
        .otherwise(pl.lit("mean_fallback")).alias("model"),
    )
    if modelled.is_empty():
        return BacktestDetail(_unscored_rows(unscored), pl.DataFrame(schema=BY_MODEL_SCHEMA),
                              pl.DataFrame(schema=points_schema))

    train = (panel.join(modelled, on="unique_id", how="semi")
             .select("unique_id", "ds", pl.col("y_baseline").alias("y")))
    _, long = fit_models(train, kinds, season_length=season_length, freq=freq, n_jobs=n_jobs,
                         horizon=None, cv_horizon=horizon, cv_windows=all_windows,
                         compute=compute)

    def with_actuals(frame: pl.DataFrame) -> pl.DataFrame:
        return (
            frame.with_columns((pl.col("cutoff").rank("dense").over("unique_id") - 1)
                               .cast(pl.Int64).alias("window"))
            .join(panel.select("unique_id", "ds", "is_clean", "is_stockout", "is_promo",
                               pl.col("y").alias("actual")),
                  on=["unique_id", "ds"], how="left")
        )

    # Whether the yearly index helps is decided on the windows before the first test one.
    if not yearly_helps(long.filter(pl.col("cutoff").rank("dense").over("unique_id")
                                    <= cv_windows), panel, profile):
        profile = pl.DataFrame()
    cv = with_actuals(seasonalise(long, profile))
    # Errors relative to the level the Ensemble expected (forecasting.intervals.error_level).
    levels = error_level(cv, panel, kinds, horizon)
    cv = cv.join(levels, on=["unique_id", "cutoff"], how="left")
    # The baseline is plain seasonal naive: last week again, no yearly index.
    plain_naive = with_actuals(long.filter(pl.col("model") == SEASONAL_NAIVE)
                               .with_columns(pl.lit(1.0).alias("yearly_index"))
                               .join(levels, on=["unique_id", "cutoff"], how="left"))

    # Each earlier window j informs the choice for test windows j+1 .. j+cv_windows.
    residuals = (
        cv.filter(pl.col("is_clean") & (pl.col("window") < all_windows - 1))
        .select("unique_id", "model", "window", "yearly_index", "level",
                (pl.col("yhat") - pl.col("y")).alias("error"),
                pl.col("window").alias("source_window"))
        .with_columns(pl.int_ranges(pl.col("window") + 1, pl.col("window") + cv_windows + 1)
                      .alias("test_window"))
        .explode("test_window")
        .filter(pl.col("test_window") >= cv_windows)
        .drop("window").rename({"test_window": "window"})
    )
    errors = model_errors(residuals, ["unique_id", "window"])
    no_errors = (modelled.select("unique_id")
                 .join(pl.DataFrame({"window": list(range(cv_windows, all_windows))}),
                       how="cross")
                 .join(errors, on=["unique_id", "window"], how="anti")
                 .select("unique_id", pl.col("window").cast(errors.schema["window"]),
                         pl.lit(SEASONAL_NAIVE).alias("model"),
                         pl.lit(None, pl.Float64).alias("mae"),
                         pl.lit(None, pl.Float64).alias("mse")))
    chosen = select_models(pl.concat([errors, no_errors]), kinds, ["unique_id", "window"])
    widths = calibrated_widths(residuals, ["unique_id", "window", "model"], "source_window",
                               LEVELS)

    tests = cv.filter(pl.col("window") >= cv_windows)
    promo_days = tests.filter(pl.col("is_promo")).select(
        "unique_id", "ds", pl.lit(None, pl.Float64).alias("uplift")).unique()
    keys = ("unique_id", "ds", "window", "actual", "is_stockout")

    def scored(frame: pl.DataFrame, widths: pl.DataFrame = widths) -> pl.DataFrame:
        frame = add_conformal_bounds(frame, widths, ["unique_id", "window", "model"], LEVELS)
        frame = finish(apply_promotions(frame, promo_days, measured, LEVELS), LEVELS, keys)
        return frame.filter(~pl.col("is_stockout"))

    # The chosen model's intervals as production makes them (chosen_widths); every
    # model scored alone keeps its own.
    model_points = scored(tests.join(chosen, on=["unique_id", "window", "model"], how="semi"),
                          chosen_widths(widths, chosen, ["unique_id", "window"], LEVELS))
    naive_points = scored(plain_naive.filter(pl.col("window") >= cv_windows))
    all_points = scored(tests)
    scale = (
        training.sort("unique_id", "ds")
        .with_columns((pl.col("y") - pl.col("y").shift(season_length).over("unique_id")).abs()
                      .alias("naive_error"),
                      pl.col("is_stockout").shift(season_length).over("unique_id")
                      .alias("lag_stockout"))
        .filter(~pl.col("is_stockout") & ~pl.col("lag_stockout"))
        .group_by("unique_id").agg(pl.col("naive_error").mean().alias("scale"),
                                   (pl.col("naive_error") ** 2).mean().alias("scale_squared"))
    )
    last_model = chosen.filter(pl.col("window") == all_windows - 1).select("unique_id", "model")
    result = (
        model_points.group_by("unique_id").agg(
            *_scores("", coverage=True),
            pl.len().cast(pl.Int64).alias("n_points"),
            pl.col("actual").sum().alias("actual_units"))
        .join(naive_points.group_by("unique_id").agg(*_scores("_seasonal_naive", coverage=False)),
              on="unique_id", how="left")
        .join(scale, on="unique_id", how="left")
        .join(last_model, on="unique_id", how="left")
        .with_columns(_mase("mae").alias("mase"),
                      _mase("mae_seasonal_naive").alias("mase_seasonal_naive"),
                      _rmsse("mse").alias("rmsse"),
                      _rmsse("mse_seasonal_naive").alias("rmsse_seasonal_naive"))
    )
    by_model = (
        all_points.group_by("unique_id", "model").agg(
            *_scores("", coverage=True),
            pl.len().cast(pl.Int64).alias("n_points"),
            pl.col("actual").sum().alias("actual_units"))
        .join(scale, on="unique_id", how="left")
        .with_columns(_mase("mae").alias("mase"), _rmsse("mse").alias("rmsse"))
        .select(list(BY_MODEL_SCHEMA)).cast(BY_MODEL_SCHEMA).sort("unique_id", "model")
    )
    # Modelled series whose test windows were all out of stock have no scored point.
    missing = modelled.join(result, on="unique_id", how="anti").join(last_model, on="unique_id")
    result = pl.concat([result.select(list(BACKTEST_SCHEMA)),
                        _unscored_rows(pl.concat([missing.select("unique_id", "model"),
                                                  unscored]))])
    points = to_caller_dates(
        model_points.with_columns(pl.col("window") - cv_windows)
        .select(list(POINTS_SCHEMA)).cast(points_schema), freq, month_end)
    return BacktestDetail(result.sort("unique_id"), by_model,
                          points.sort("unique_id", "ds"))


def sample_series(history: pl.DataFrame, max_series: int) -> pl.DataFrame:
    """At most `max_series` series of `history`, spread evenly over their sales volume.

    Args:
        history: long frame with at least `unique_id` and `y` (units per period).
        max_series: the most series to keep (a positive integer).

    Returns:
        `history`'s rows (all columns, same order) for the kept series: every series when
        there are at most `max_series`, else a systematic sample over the ranking by total
        units (ties broken by unique_id): the series are sorted by volume, cut into
        `max_series` equal runs, and the middle series of each run is kept. Each stratum of
        volume is represented in proportion, from the best sellers to the slowest movers,
        so a unit-weighted mean over the sample estimates the whole store's (systematic
        sampling of an ordered list, Cochran 1977, *Sampling Techniques*, 3rd ed., ch. 8).
        Deterministic: the same history gives the same sample.

    Raises:
        ValueError: `max_series` is not a positive integer, or `unique_id` or `y` is missing.
    """
    if not isinstance(max_series, int) or isinstance(max_series, bool) or max_series < 1:
        raise ValueError(f"max_series must be a positive integer, got {max_series!r}")
    missing = {"unique_id", "y"} - set(history.columns)
    if missing:
        raise ValueError(f"history is missing column(s) {sorted(missing)}")
    volume = (history.group_by("unique_id").agg(pl.col("y").sum().alias("units"))
              .sort(["units", "unique_id"], descending=[True, False]))
    n = volume.height
    if n <= max_series:
        return history
    # Run i covers ranks [i*n/k, (i+1)*n/k); its middle rank is floor((i + 0.5) * n / k).
    picks = [int((i + 0.5) * n / max_series) for i in range(max_series)]
    kept = volume[picks].select("unique_id")
    return history.join(kept, on="unique_id", how="semi", maintain_order="left")


def _unscored_rows(unscored: pl.DataFrame) -> pl.DataFrame:
    return unscored.select(
        *(pl.col(c) if c in ("unique_id", "model") else
          pl.lit(0 if c == "n_points" else None, dtype).alias(c)
          for c, dtype in BACKTEST_SCHEMA.items())
    ).cast(BACKTEST_SCHEMA)


def summarise_backtest(result: pl.DataFrame) -> dict[str, float | int]:
    """Aggregate a `backtest` result into the numbers a data team watches.

    Returns a dict with: `series` and `series_scored` (counts), `mase` and
    `mase_seasonal_naive` (mean over scored series), `mase_weighted` and
    `mase_seasonal_naive_weighted` (weighted by units demanded in the test windows, so
    the SKUs that carry the business count most), `share_beating_seasonal_naive` (share of
    series where the chosen model's MASE is strictly lower), `bias` and
    `bias_seasonal_naive` (sum of errors over sum of actuals, over the series with demand
    in the test windows),
    `coverage_80` and `coverage_95` (mean over series), `rmsse` and
    `rmsse_seasonal_naive` (mean over scored series). Undefined values are NaN.
    """
    for column in BACKTEST_SCHEMA:
        if column not in result.columns:
            raise ValueError(f"backtest result is missing column '{column}'")
    scored = result.filter(pl.col("mase").is_not_null() & pl.col("mase_seasonal_naive")
                           .is_not_null() & (pl.col("n_points") > 0))
    weight = pl.col("actual_units")

    def weighted(column: str) -> pl.Expr:
        return (pl.col(column) * weight).sum() / weight.sum()

    def weighted_bias(column: str) -> pl.Expr:
        # sum(bias_i * actual_i) / sum(actual) = sum(errors) / sum(actuals); a series with
        # no demand in the windows has an infinite bias and no weight, so it is left out.
        with_demand = weight > 0
        return ((pl.col(column) * weight).filter(with_demand).sum()
                / weight.filter(with_demand).sum())

    row = scored.select(
        pl.col("mase").mean().alias("mase"),
        pl.col("mase_seasonal_naive").mean().alias("mase_seasonal_naive"),
        weighted("mase").alias("mase_weighted"),
        weighted("mase_seasonal_naive").alias("mase_seasonal_naive_weighted"),
        (pl.col("mase") < pl.col("mase_seasonal_naive")).mean()
        .alias("share_beating_seasonal_naive"),
        weighted_bias("bias").alias("bias"),
        weighted_bias("bias_seasonal_naive").alias("bias_seasonal_naive"),
        pl.col("coverage_80").mean().alias("coverage_80"),
        pl.col("coverage_95").mean().alias("coverage_95"),
        pl.col("rmsse").mean().alias("rmsse"),
        pl.col("rmsse_seasonal_naive").mean().alias("rmsse_seasonal_naive"),
    ).row(0, named=True)
    summary: dict[str, float | int] = {"series": result.height, "series_scored": scored.height}
    summary.update({k: float("nan") if v is None else float(v) for k, v in row.items()})
    return summary
