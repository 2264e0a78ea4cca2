"""Demand history made fit to forecast: validated, regular, censored, classified.

Shared by `forecast_demand` and `backtest`, so both see exactly the same baseline.

- `validate_history` checks the long frame `unique_id, ds, y` (+ optional `is_stockout`,
  `is_promo`) and says what to fix.
- `infer_frequency` reads daily, weekly or monthly from the spacing of `ds`.
- `prepare_panel` puts every series on a regular grid up to the last date of the data
  (a missing period is a period without sales, y = 0), adds the period index `t`, the
  season position `phase = t mod season_length`, and `is_clean` (neither stockout nor
  promotion).
- `classify_series` tells zero, short, intermittent and smooth series apart.
- `censor_demand` adds `y_baseline`: y on clean periods, an estimate of unconstrained
  baseline demand on stockout and promotion periods (see its docstring).
- `measure_uplift` measures the promotion uplift per series.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import polars as pl

# Syntetos & Boylan (2005), "The accuracy of intermittent demand estimates", IJF 21(2):
# above an average inter-demand interval of 1.32 periods Croston-type methods beat
# exponential smoothing.
ADI_INTERMITTENT = 1.32
UPLIFT_WINDOW = timedelta(days=28)
FALLBACK_PERIODS = 28


@dataclass(frozen=True)
class Frequency:
    """How far apart the periods of a series are."""

    name: str  # "daily", "weekly" or "monthly"
    every: str  # the polars interval, also the statsforecast `freq` for polars frames


DAILY = Frequency("daily", "1d")
WEEKLY = Frequency("weekly", "1w")
MONTHLY = Frequency("monthly", "1mo")
# How many periods to fit on: about a year of days (the models here have no yearly
# season, older data only slows the fit), a few years of weeks or months.
FIT_PERIODS = {"daily": 364, "weekly": 156, "monthly": 60}


def validate_history(history: pl.DataFrame, name: str = "history") -> pl.DataFrame:
    """Check `history` and return it with typed columns and both flags present."""
    if not isinstance(history, pl.DataFrame):
        raise TypeError(f"{name} must be a polars DataFrame, got {type(history).__name__}")
    for column in ("unique_id", "ds", "y"):
        if column not in history.columns:
            raise ValueError(f"{name} is missing column '{column}'")
    ds_type = history.schema["ds"]
    if not (ds_type == pl.Date or isinstance(ds_type, pl.Datetime)):
        raise ValueError(f"{name} column 'ds' must be a date or datetime, got {ds_type}")
    if not history.schema["y"].is_numeric():
        raise ValueError(f"{name} column 'y' must be numeric, got {history.schema['y']}")
    frame = history.with_columns(
        pl.col("unique_id").cast(pl.Utf8),
        pl.col("y").cast(pl.Float64),
        *(
            (pl.col(flag).cast(pl.Boolean).fill_null(False) if flag in history.columns
             else pl.lit(False).alias(flag))
            for flag in ("is_stockout", "is_promo")
        ),
    ).select("unique_id", "ds", "y", "is_stockout", "is_promo")
    bad = frame.filter(pl.col("unique_id").is_null() | pl.col("ds").is_null())
    if bad.height:
        raise ValueError(f"{name} has {bad.height} row(s) with a null unique_id or ds")
    nulls = frame.filter(pl.col("y").is_null() | pl.col("y").is_nan())
    if nulls.height:
        raise ValueError(f"{name} has {nulls.height} row(s) with a null or NaN y; "
                         "use 0 for periods without sales")
    negative = frame.filter(pl.col("y") < 0)
    if negative.height:
        raise ValueError(f"{name} has {negative.height} row(s) with negative y (e.g. "
                         f"{negative['unique_id'][0]!r} on {negative['ds'][0]}); "
                         "net returns out of demand before forecasting")
    duplicates = frame.select("unique_id", "ds").is_duplicated().sum()
    if duplicates:
        raise ValueError(f"{name} has {duplicates} duplicate (unique_id, ds) rows; "
                         "aggregate them to one row per series and period")
    return frame


def infer_frequency(frame: pl.DataFrame) -> Frequency:
    """Daily, weekly or monthly, from the most common step between consecutive `ds`."""
    steps = (
        frame.select("unique_id", "ds").sort("unique_id", "ds")
        .select((pl.col("ds").diff().over("unique_id").dt.total_seconds() / 86_400)
                .alias("days"))
        .drop_nulls()
    )
    if steps.is_empty():
        return DAILY  # one period per series: nothing to infer from
    days = float(steps["days"].mode().sort()[0])
    if days == 1:
        return DAILY
    if days == 7:
        return WEEKLY
    if 28 <= days <= 31:
        return MONTHLY
    raise ValueError(f"cannot infer the frequency of 'ds': the usual step is {days:g} days; "
                     "expected daily (1), weekly (7) or monthly (28-31) periods")


def to_internal_dates(frame: pl.DataFrame, freq: Frequency) -> tuple[pl.DataFrame, bool]:
    """Month-start dates for monthly data (month arithmetic is only exact from the 1st).

    Returns the frame and whether the caller's dates were month ends, to map them back.
    """
    if freq is not MONTHLY:
        return frame, False
    month_end = bool((frame["ds"].dt.month_end() == frame["ds"]).all())
    return frame.with_columns(pl.col("ds").dt.truncate("1mo")), month_end


def to_caller_dates(frame: pl.DataFrame, freq: Frequency, month_end: bool) -> pl.DataFrame:
    """Undo `to_internal_dates` on an output frame."""
    if freq is MONTHLY and month_end:
        return frame.with_columns(pl.col("ds").dt.month_end())
    return frame


SERIES_END = ("frame", "own")


def check_series_end(series_end: str) -> None:
    """Raise ValueError unless `series_end` is one of SERIES_END ("frame", "own")."""
    if series_end not in SERIES_END:
        raise ValueError(f"series_end must be one of {SERIES_END}, got {series_end!r}")


def series_ends(frame: pl.DataFrame) -> pl.DataFrame:
    """`unique_id, last_seen, ended_early`: each series' last period in the input, and
    whether it is before the last period of the whole frame."""
    last = frame["ds"].max()
    return frame.group_by("unique_id").agg(pl.col("ds").max().alias("last_seen")).with_columns(
        (pl.col("last_seen") < last).alias("ended_early"))


def prepare_panel(frame: pl.DataFrame, freq: Frequency, season_length: int,
                  series_end: str = "frame") -> pl.DataFrame:
    """A regular grid per series from its first period to its end; missing periods are y = 0.

    series_end "frame": every series ends at the last period of the whole frame (a series
    whose rows stop earlier stopped selling). "own": each series ends at its own last row
    (its data stopped; statsforecast's convention for independent series).
    Columns: unique_id, ds, y, is_stockout, is_promo, is_clean, t, phase.
    """
    check_series_end(series_end)
    ranges = pl.datetime_ranges if isinstance(frame.schema["ds"], pl.Datetime) else pl.date_ranges
    end = pl.lit(frame["ds"].max()) if series_end == "frame" else pl.col("last")
    grid = (
        frame.group_by("unique_id").agg(pl.col("ds").min().alias("first"),
                                        pl.col("ds").max().alias("last"))
        .select("unique_id", ranges(pl.col("first"), end, freq.every).alias("ds"))
        .explode("ds")
    )
    return (
        grid.join(frame, on=["unique_id", "ds"], how="left")
        .with_columns(pl.col("y").fill_null(0.0),
                      pl.col("is_stockout").fill_null(False),
                      pl.col("is_promo").fill_null(False))
        .sort("unique_id", "ds")
        .with_columns(
            (~pl.col("is_stockout") & ~pl.col("is_promo")).alias("is_clean"),
            pl.int_range(pl.len(), dtype=pl.Int64).over("unique_id").alias("t"),
        )
        .with_columns((pl.col("t") % season_length).alias("phase"))
    )


def last_periods(panel: pl.DataFrame, periods: int) -> pl.DataFrame:
    """The last `periods` periods of every series."""
    return panel.filter(pl.col("t") >= pl.col("t").max().over("unique_id") - periods + 1)


def classify_series(panel: pl.DataFrame, min_length: int) -> pl.DataFrame:
    """One row per series: `unique_id, kind, periods, adi`.

    kind is "zero" (no demand on any clean period, or no clean period at all), "short"
    (fewer than `min_length` periods), "intermittent" (average inter-demand interval
    over the clean periods above 1.32, Syntetos & Boylan) or "smooth".
    """
    stats = panel.group_by("unique_id").agg(
        pl.len().alias("periods"),
        pl.col("is_clean").sum().alias("clean"),
        (pl.col("is_clean") & (pl.col("y") > 0)).sum().alias("demand_periods"),
    )
    return stats.select(
        "unique_id",
        pl.when(pl.col("demand_periods") == 0).then(pl.lit("zero"))
        .when(pl.col("periods") < min_length).then(pl.lit("short"))
        .when(pl.col("clean") / pl.col("demand_periods") > ADI_INTERMITTENT)
        .then(pl.lit("intermittent"))
        .otherwise(pl.lit("smooth")).alias("kind"),
        "periods",
        (pl.col("clean") / pl.col("demand_periods")).alias("adi"),
    )


def censor_demand(panel: pl.DataFrame, kinds: pl.DataFrame) -> pl.DataFrame:
    """Add `y_baseline`: demand as if never out of stock and never on promotion.

    A stockout period's y is what was sold, not what was wanted (censored demand); a
    promotion period's y carries the promotion. Both are replaced, using only earlier
    clean periods, so the estimate never looks into the future and the backtest's
    training data stays free of its test periods:
    - smooth series: the median of the same season position (the same weekday for
      daily data) over the last 4 clean seasons; the median keeps one odd week from
      setting the level, the season position keeps the weekly pattern;
    - intermittent series: the mean of the last 28 clean periods; a median of mostly
      zeros would be zero and drag Croston's demand rate down.
    With no earlier clean period (a gap at the start) the first later clean value is
    used, then the series' clean mean, then 0.
    """
    panel = panel.join(kinds.select("unique_id", "kind"), on="unique_id", how="left")
    clean = (
        panel.filter(pl.col("is_clean")).sort("unique_id", "ds")
        .with_columns(
            pl.col("y").rolling_median(window_size=4, min_samples=1)
            .over("unique_id", "phase").alias("phase_median"),
            pl.col("y").rolling_mean(window_size=FALLBACK_PERIODS, min_samples=1)
            .over("unique_id").alias("recent_mean"),
        )
    )
    censored = panel.filter(~pl.col("is_clean")).select("unique_id", "phase", "ds", "kind")
    if censored.is_empty():
        return panel.with_columns(pl.col("y").alias("y_baseline")).drop("kind")
    estimate = pl.when(pl.col("kind") == "intermittent")
    by_phase = clean.select("unique_id", "phase", "ds", "phase_median").sort("ds")
    by_series = clean.select("unique_id", "ds", "recent_mean").sort("ds")
    censored = censored.sort("ds")
    estimates = (
        censored
        .join_asof(by_phase, on="ds", by=["unique_id", "phase"], strategy="backward",
                   check_sortedness=False)
        .join_asof(by_phase.rename({"phase_median": "next_phase"}), on="ds",
                   by=["unique_id", "phase"], strategy="forward", check_sortedness=False)
        .join_asof(by_series, on="ds", by="unique_id", strategy="backward",
                   check_sortedness=False)
        .join_asof(by_series.rename({"recent_mean": "next_mean"}), on="ds", by="unique_id",
                   strategy="forward", check_sortedness=False)
        .join(clean.group_by("unique_id").agg(pl.col("y").mean().alias("series_mean")),
              on="unique_id", how="left")
        .select(
            "unique_id", "ds",
            estimate.then(pl.coalesce("recent_mean", "next_mean", "series_mean", pl.lit(0.0)))
            .otherwise(pl.coalesce("phase_median", "next_phase", "series_mean", pl.lit(0.0)))
            .alias("estimate"),
        )
    )
    return (
        panel.join(estimates, on=["unique_id", "ds"], how="left")
        .with_columns(pl.when(pl.col("is_clean")).then(pl.col("y"))
                      .otherwise(pl.col("estimate")).alias("y_baseline"))
        .drop("kind", "estimate")
        .sort("unique_id", "ds")
    )


def measure_uplift(panel: pl.DataFrame) -> pl.DataFrame:
    """Promotion uplift per series: `unique_id, uplift` (only series with a measurement).

    uplift = mean y on past promotion periods (not out of stock) / mean y on the clean
    periods within 28 days of a promotion period. Comparing with the weeks around each
    promotion, not the whole history, keeps trend and season out of the ratio.
    """
    promo_days = (
        panel.filter(pl.col("is_promo")).select("unique_id", pl.col("ds").alias("promo_ds"))
        .sort("promo_ds")
    )
    if promo_days.is_empty():
        return pl.DataFrame(schema={"unique_id": pl.Utf8, "uplift": pl.Float64})
    near = (
        panel.filter(pl.col("is_clean")).select("unique_id", "ds", "y").sort("ds")
        .join_asof(promo_days, left_on="ds", right_on="promo_ds", by="unique_id",
                   strategy="nearest", check_sortedness=False)
        .filter((pl.col("ds") - pl.col("promo_ds")).abs() <= UPLIFT_WINDOW)
        .group_by("unique_id").agg(pl.col("y").mean().alias("baseline"))
    )
    on_promo = (
        panel.filter(pl.col("is_promo") & ~pl.col("is_stockout"))
        .group_by("unique_id").agg(pl.col("y").mean().alias("promo"))
    )
    return (
        on_promo.join(near, on="unique_id", how="inner")
        .filter(pl.col("baseline") > 0)
        .select("unique_id", (pl.col("promo") / pl.col("baseline")).alias("uplift"))
    )


# Yearly season from the store's own last year (daily data only): the candidate models
# carry a weekly season but no yearly one, so without this they forecast the recent
# level into a November peak. Shape over the year is pooled across SKUs (one SKU's year
# is too noisy to read a season from), as Inventory Planner's "seasonality from last
# year" does.
YEAR_DAYS = 364  # 52 weeks: keeps weekdays aligned
YEARLY_SMOOTH_DAYS = 7
YEARLY_LEVEL_DAYS = 28
YEARLY_INDEX_BOUNDS = (1 / 3, 3.0)


def yearly_profile(panel: pl.DataFrame, freq: Frequency, season_length: int) -> pl.DataFrame:
    """The store's daily baseline demand rate: `ds, rate, level` (empty when not usable).

    rate = mean `y_baseline` per series on day ds (series present that day), smoothed
    over a centred week so the weekly pattern (which the models handle) cancels out;
    level = the mean daily rate over the 28 days ending on ds. Only for daily data with
    a season shorter than a year and at least a year and 28 days of history.
    """
    empty = pl.DataFrame(schema={"ds": panel.schema["ds"], "rate": pl.Float64,
                                 "level": pl.Float64})
    if freq is not DAILY or season_length >= YEAR_DAYS:
        return empty
    daily = (panel.group_by("ds").agg(pl.col("y_baseline").mean().alias("daily"))
             .sort("ds").upsample("ds", every="1d"))
    if daily.height < YEAR_DAYS + YEARLY_LEVEL_DAYS:
        return empty
    return daily.select(
        "ds",
        pl.col("daily").rolling_mean(YEARLY_SMOOTH_DAYS, center=True,
                                     min_samples=YEARLY_SMOOTH_DAYS).alias("rate"),
        pl.col("daily").rolling_mean(YEARLY_LEVEL_DAYS, min_samples=YEARLY_LEVEL_DAYS)
        .alias("level"),
    )


def yearly_index(points: pl.DataFrame, profile: pl.DataFrame) -> pl.DataFrame:
    """`points` (with `cutoff` and `ds`) plus `yearly_index`: how much busier the store was
    on ds a year ago than in the 28 days up to the cutoff a year ago.

    index = rate(ds - 364 days) / level(cutoff - 364 days), bounded to [1/3, 3]; 1 where
    last year is unknown. Uses only data up to the cutoff for horizons under 361 days.
    """
    if profile.is_empty():
        return points.with_columns(pl.lit(1.0).alias("yearly_index"))
    year = pl.duration(days=YEAR_DAYS)
    low, high = YEARLY_INDEX_BOUNDS
    return (
        points.with_columns((pl.col("ds") - year).alias("_ds_ly"),
                            (pl.col("cutoff") - year).alias("_cutoff_ly"))
        .join(profile.select(pl.col("ds").alias("_ds_ly"), "rate"), on="_ds_ly", how="left")
        .join(profile.select(pl.col("ds").alias("_cutoff_ly"), "level"), on="_cutoff_ly",
              how="left")
        .with_columns(
            pl.when(pl.col("level") > 0).then(pl.col("rate") / pl.col("level"))
            .otherwise(None).clip(low, high).fill_null(1.0).alias("yearly_index"))
        .drop("_ds_ly", "_cutoff_ly", "rate", "level")
    )
