"""The anomaly detector: alerts on the store's daily KPI series.

`detect_anomalies` scores every day of every series (`kpi_series` output) against a
trailing seasonal baseline (weekday x level x last year's season) with a robust band
that widens when the volume behind a rate is low, merges consecutive alert days into
incidents and names the channel, category or SKU behind a store-level alert (the
incident, driver and severity steps are in `models.anomalies.incidents`).

Why a robust seasonal baseline and not a fitted model (MSTL, ETS): the expected value of
a day must come only from the days before it, so that scoring a year of history in one
call equals replaying the pipeline day by day. A refit per day is out of budget
(~600 series x 365 days); a model fitted once before the window cannot follow the
level. Rolling medians are trailing by construction, vectorise over all series at once
and shrug off the promotions and past incidents inside their windows. Measured in
benchmarks/results/anomalies.md (6 demo stores, 730 days, the last 365 scored): 21 of
24 planted incidents found with 0.04 false alerts per metric per month, against 23 of
24 for a fixed trailing +-3 std band buried in 14 false alerts per metric per month;
the expected values are as close as a weekly-refitted statsforecast MSTL (revenue:
7.8% mean absolute error against 9.3%), in 0.5 s for all ~545 series of a store where
MSTL needs about a second per series.
"""

from __future__ import annotations

import math
from datetime import date, timedelta

import numpy as np
import polars as pl
from scipy.stats import binom, norm

from models.anomalies.incidents import (
    _add_drivers,
    _finish,
    _merge_incidents,
    _revenue_reference,
)
from models.anomalies.metrics import BREAKDOWN_ONLY, METRICS, _spec_column
from models.anomalies.series import RETURN_WINDOW_DAYS, SERIES_COLUMNS, _ratio, _series_schema_exprs

# Return rate by order-date cohort. Refunds land 4-14 days after fulfilment (1-3 days
# after the order, longer in a carrier delay), so a cohort is complete about 3 weeks
# after its order day: younger cohorts are reported but never scored, else every recent
# day would look like a drop and a real spike would only show weeks later anyway.
RETURN_MATURITY_DAYS = 21
RETURN_BASELINE_WINDOWS = 13  # the 13 earlier 14-day windows: half a year of cohorts
RETURN_PRIOR_LINES = 30.0  # shrink a SKU's own rate towards the store's, worth 30 lines
MIN_RATE_VOLUME = 20.0  # sessions or lines behind a rate before it may alert
MIN_RETURNED_LINES = 3  # "1 return of 2" is never an alert, nor "2 of 20"

# The seasonal baseline (see `_expected_seasonal`).
WEEKDAY_WEEKS = 8
LEVEL_DAYS = 28
YEAR_DAYS = 364  # 52 weeks: keeps weekdays, and BFCM (tied to Thanksgiving), aligned
YEARLY_SMOOTH_DAYS = 7
YEARLY_BOUNDS = (1 / 3, 3.0)
SCALE_DAYS = 56
MIN_RELATIVE_SD = 0.03  # the model is never trusted to better than 3% of the value
ALERT_Z = 4.0
# How far back one day's band can reach: the band (56 days of residuals) of expected
# values that chose last year's season by a year of residuals of expected values built
# on last year's level. Rows older than that are dropped before scoring; keeping all of
# them is what makes one call over the history equal a replay as of each day.
HISTORY_DAYS = SCALE_DAYS + 2 * YEAR_DAYS + LEVEL_DAYS + 7 * WEEKDAY_WEEKS + 14


def detect_anomalies(series: pl.DataFrame, *, as_of: date, lookback_days: int = 90) -> pl.DataFrame:
    """Alerts for the days in (as_of - lookback_days, as_of] of every series.

    `series` is `kpi_series` output (metric, dimension, ds, value, volume, money_weight);
    rows after as_of are ignored, so an earlier as_of replays what the pipeline said then.

    Expected value of day d, from the days before d only (so scoring a year at once
    equals a day-by-day replay; changing later values never changes day d's band):
    - weekday factor: median over the previous 8 same weekdays of value / its centred
      7-day mean;
    - level: median over the previous 28 days of value / weekday factor;
    - yearly factor: last year's value around d - 364 (centred 7-day median, weekday
      removed) over last year's level on d - 364, bounded to [1/3, 3], 1 without a year
      of history. It carries the Nov-Dec peak, BFCM (52 weeks keeps it aligned) and the
      post-Christmas dip that a trailing level only follows weeks late;
    - expected = level x weekday factor x yearly factor, or level x weekday factor where
      last year's season has not paid for its noise: per series and day, whichever had
      the smaller mean absolute residual over the previous year (see `_choose_yearly`).
    return_rate instead: the SKU's pooled rate over the 13 earlier 14-day windows,
    shrunk towards the store's rate with the weight of 30 lines (a new SKU starts at the
    store's rate); only cohorts older than 21 days are scored (see `kpi_series`).

    Band: on a variance-stabilising scale (counts: Anscombe sqrt; rates: arcsine of the
    binomial proportion; amounts: log) the sd of a day is sqrt(sampling^2 + misfit^2).
    sampling comes from `volume` (Poisson, binomial on sessions or lines, ~1/sqrt(n) for
    amounts built from n orders or customers), so low volume widens the band; misfit is
    the relative error of the baseline itself, 1.4826 x the median absolute residual of
    the previous 56 days beyond what sampling explains (a robust MAD), at least 3%.
    score = residual / sd (a robust z); lo and hi are the values at score -4 and +4.
    Rates are then scored on the binomial distribution itself (mid-p tail of the count
    at the expected rate, divided by sd / sampling): at a few refunded lines the arcsine
    scale understates how unlikely a count is (see `_exact_rates`).

    Alerts: |score| >= 4 in a direction that hurts: down for revenue, orders,
    conversion_rate and roas; up for cac, return_rate, ticket_volume and
    first_reply_minutes; both ways for spend and aov. Rates need a volume of 20 sessions
    or lines; a return-rate alert needs 3 refunded lines. Per-channel revenue, orders,
    conversion_rate and aov only name drivers, they never alert.

    Output, one row per alerted day: metric, dimension, date, value, expected, lo, hi,
    severity, direction, score, impact, incident_id, incident_start, incident_end,
    driver, is_current.
    - impact = |value - expected| x money_weight: money at stake that day, in store
      currency (null when the metric has no money weight);
    - severity from the deviation and the money at stake, as a share of the store's
      expected revenue that day: critical = share >= 5% and |score| >= 8; high = share
      >= 5%, or share >= 2% and |score| >= 6; medium = share >= 0.5% or |score| >= 8;
      low otherwise (without money weight or revenue: medium if |score| >= 8, else low);
    - consecutive alert days of one series in one direction (one quiet day allowed
      between them) are one incident:
      incident_id = "metric|dimension|first day", incident_start/end, is_current when it
      reaches the last day that series can be scored (as_of; as_of - 21 for return_rate);
    - driver, for store-level revenue, orders, conversion_rate, aov (by channel),
      ticket_volume (by category) and return_rate (by SKU): the breakdown whose own
      deviation from its expected value explains most of the store's, as
      "channel=meta: -4,210 of -5,030" (revenue and aov in money, orders and
      conversion_rate in orders, tickets, refunded lines); null otherwise.
    """
    scored = score_series(series, as_of=as_of, lookback_days=lookback_days)
    alerts = scored.filter(pl.col("in_window") & pl.col("is_alert"))
    alerts = _merge_incidents(alerts)
    alerts = _add_drivers(alerts, scored)
    return _finish(alerts, _revenue_reference(scored, "expected"))


def score_series(series: pl.DataFrame, *, as_of: date, lookback_days: int = 90) -> pl.DataFrame:
    """Every day of every series with its expected value and band, before alert days are
    merged into incidents: what `detect_anomalies` alerts on, for looking at the band of
    days that did not alert (benchmarks/anomalies.py replays and MSTL comparison).

    series, as_of, lookback_days: as in `detect_anomalies` (rows after as_of are
    ignored; only the HISTORY_DAYS before the window are read). One row per metric,
    dimension and day on a daily grid, with the input columns plus: sid
    ("metric|dimension"), expected (the seasonal baseline, in the metric's unit), sd (on
    the metric's variance-stabilising scale), score (residual / sd: robust z), lo and hi
    (the band at +-ALERT_Z sd, in the metric's unit; null where no rate count reaches
    it), in_window (the day is among the lookback_days scored up to as_of, return rates
    up to as_of - RETURN_MATURITY_DAYS), direction ("up"/"down"), last_scored, is_alert,
    impact (|value - expected| x money_weight, store currency) and threshold (ALERT_Z);
    also the intermediate weekday_factor, level, yearly_factor, residual, sampling,
    misfit_unit, noise and misfit. Raises TypeError / ValueError as `detect_anomalies`.
    """
    return _score(_validate_series(series, as_of, lookback_days), as_of, lookback_days)


def _validate_series(series: pl.DataFrame, as_of: date, lookback_days: int) -> pl.DataFrame:
    if not isinstance(series, pl.DataFrame):
        raise TypeError(f"series must be a polars DataFrame, got {type(series).__name__}")
    for column in SERIES_COLUMNS:
        if column not in series.columns:
            raise ValueError(f"series is missing column '{column}'")
    if series.schema["ds"] != pl.Date:
        raise ValueError(f"series column 'ds' must be a date, got {series.schema['ds']}")
    if not isinstance(as_of, date):
        raise TypeError(f"as_of must be a date, got {type(as_of).__name__}")
    if lookback_days < 1:
        raise ValueError(f"lookback_days must be at least 1, got {lookback_days}")
    unknown = sorted(set(series["metric"].unique().drop_nulls()) - set(METRICS))
    if unknown:
        raise ValueError(f"series has unknown metric(s) {unknown}; known metrics: "
                         f"{sorted(METRICS)}")
    frame = series.select(_series_schema_exprs())
    duplicates = frame.select("metric", "dimension", "ds").is_duplicated().sum()
    if duplicates:
        raise ValueError(f"series has {duplicates} duplicate (metric, dimension, ds) rows; "
                         "keep one row per series and day")
    first = as_of - timedelta(days=lookback_days + HISTORY_DAYS)
    return frame.filter((pl.col("ds") <= as_of) & (pl.col("ds") > first)
                        & pl.col("metric").is_not_null() & pl.col("dimension").is_not_null())


def _grid(frame: pl.DataFrame, as_of: date) -> pl.DataFrame:
    """Every series on a regular daily grid from its first day to as_of (missing days
    null), sorted, with `sid`. Up to as_of, not to the series' last day: a day then has
    the same rows whatever later data exists (the store's return rate pools every SKU)."""
    grid = (frame.group_by("metric", "dimension")
            .agg(pl.col("ds").min().alias("first"))
            .select("metric", "dimension",
                    pl.date_ranges("first", pl.lit(as_of), "1d").alias("ds"))
            .explode("ds"))
    return (grid.join(frame, on=["metric", "dimension", "ds"], how="left")
            .sort("metric", "dimension", "ds")
            .with_columns(pl.concat_str("metric", "dimension", separator="|").alias("sid")))


def _expected_seasonal() -> list[list[pl.Expr]]:
    """Stages of expressions: weekday factor, level, yearly factor, expected."""
    value = pl.col("value")
    centred = value.rolling_mean(7, center=True, min_samples=5).over("sid")
    return [
        [pl.when(centred > 0).then(value / centred).alias("_weekday_ratio"),
         pl.col("ds").dt.weekday().alias("_weekday")],
        # Shift by one same-weekday row: the factor of day d uses weeks before d only
        # (the centred mean of d - 7 reaches d - 4 at most).
        [pl.col("_weekday_ratio").rolling_median(WEEKDAY_WEEKS, min_samples=2).shift(1)
         .over("sid", "_weekday").fill_null(1.0).alias("weekday_factor")],
        [pl.when(pl.col("weekday_factor") > 0).then(value / pl.col("weekday_factor"))
         .alias("_plain")],
        [pl.col("_plain").rolling_median(LEVEL_DAYS, min_samples=LEVEL_DAYS // 2).shift(1)
         .over("sid").alias("level"),
         # Last year's level may rest on a few days: a store with just over a year of
         # data still gets its peak season from last year.
         pl.col("_plain").rolling_median(LEVEL_DAYS, min_samples=5).shift(1)
         .over("sid").alias("_level_early"),
         pl.col("_plain").rolling_median(YEARLY_SMOOTH_DAYS, center=True,
                                         min_samples=YEARLY_SMOOTH_DAYS // 2 + 1)
         .over("sid").alias("_around")],
        [pl.when(pl.col("_level_early").shift(YEAR_DAYS).over("sid") > 0)
         .then(pl.col("_around").shift(YEAR_DAYS).over("sid")
               / pl.col("_level_early").shift(YEAR_DAYS).over("sid"))
         .clip(*YEARLY_BOUNDS).fill_null(1.0).alias("yearly_factor")],
    ] + _choose_yearly()


def _expected_return_rate() -> list[list[pl.Expr]]:
    """Stages of expressions: pooled rate of the earlier windows, shrunk to the store's."""
    refunded = pl.col("value") * pl.col("volume")
    # Windows ending d - 14, d - 28, ...: same position in a 14-day cycle, earlier rows.
    phase = pl.col("ds").cast(pl.Int32) % RETURN_WINDOW_DAYS
    pooled = [
        refunded.fill_null(0.0).rolling_sum(RETURN_BASELINE_WINDOWS, min_samples=1)
        .shift(1).over("sid", phase).alias("_pool_refunded"),
        pl.col("volume").fill_null(0.0).rolling_sum(RETURN_BASELINE_WINDOWS, min_samples=1)
        .shift(1).over("sid", phase).alias("_pool_lines"),
    ]
    is_sku = pl.col("dimension") != "all"
    store_rate = (pl.col("_pool_refunded").filter(is_sku).sum()
                  / pl.col("_pool_lines").filter(is_sku).sum()).over("ds")
    own_rate = _ratio("_pool_refunded", "_pool_lines")
    prior = pl.when(is_sku).then(store_rate).otherwise(own_rate)
    return [
        pooled,
        [prior.alias("_prior")],
        [((pl.col("_pool_refunded").fill_null(0.0)
           + RETURN_PRIOR_LINES * pl.col("_prior"))
          / (pl.col("_pool_lines").fill_null(0.0) + RETURN_PRIOR_LINES))
         .alias("_expected_return")],
    ]


def _residual(expected: pl.Expr) -> pl.Expr:
    """value - expected on the metric's variance-stabilising scale.

    counts: sqrt(y + 3/8) (Anscombe); rates: arcsin sqrt((x + 3/8) / (n + 3/4)) of the
    x = value x volume successes in n = volume trials; amounts: log y (a zero counts as
    1% of expected, so a channel that stops spending is a 99% drop, not an error).
    """
    noise = _spec_column("noise", pl.Utf8)
    v = pl.col("value")
    n = pl.col("volume")
    rate_g = ((v * n + 0.375) / (n + 0.75)).clip(0.0, 1.0).sqrt().arcsin()
    return (
        pl.when(noise == "count")
        .then((v.clip(0.0) + 0.375).sqrt() - (expected.clip(0.0) + 0.375).sqrt())
        .when(noise == "rate")
        .then(pl.when(n > 0).then(rate_g - expected.clip(1e-6, 1 - 1e-6).sqrt().arcsin()))
        .otherwise(pl.when(expected > 0)
                   .then(pl.max_horizontal(v, expected / 100).log() - expected.log()))
    )


def _choose_yearly() -> list[list[pl.Expr]]:
    """Use last year's season only where it has predicted better than no season.

    Last year's shape is worth its noise for revenue, orders and tickets (the peak is
    half again the level) but not for a 7-day CAC that last year's campaigns happened to
    move: per series and day, the candidate with the smaller mean absolute residual over
    the previous year wins (last year's on ties and with less than 28 days of record).
    A mean, not a median: the season matters on a few weeks a year, and on those weeks
    the error without it is large.
    """
    with_year = pl.col("level") * pl.col("weekday_factor") * pl.col("yearly_factor")
    without = pl.col("level") * pl.col("weekday_factor")
    error = {name: _residual(expected).abs().rolling_mean(YEAR_DAYS, min_samples=LEVEL_DAYS)
             .shift(1).over("sid") for name, expected in (("with", with_year),
                                                          ("without", without))}
    return [[with_year.alias("_with_year"), without.alias("_without_year"),
             (error["without"] < error["with"]).fill_null(False).alias("_drop_year")],
            [pl.when(pl.col("_drop_year")).then(pl.col("_without_year"))
             .otherwise(pl.col("_with_year")).alias("_expected_seasonal")]]


def _transform_exprs() -> list[list[pl.Expr]]:
    """Residual on the stabilised scale, its sampling sd and the misfit unit.

    Sampling sd: counts 1/2 (Poisson); rates 1 / (2 sqrt(n + 1/2)) (binomial); amounts
    unit_cv / sqrt(n). A relative error r of the baseline moves the residual by r x the
    misfit unit: sqrt(e)/2 for counts, sqrt(e/(1-e))/2 for rates, 1 for amounts.
    """
    noise = _spec_column("noise", pl.Utf8)
    e = pl.col("expected")
    n = pl.col("volume")
    e_rate = e.clip(1e-6, 1 - 1e-6)
    sampling = (
        pl.when(noise == "count").then(pl.lit(0.5))
        .when(noise == "rate").then(pl.when(n > 0).then(0.5 / (n + 0.5).sqrt()))
        .otherwise(pl.when(n > 0).then(_spec_column("unit_cv", pl.Float64) / n.sqrt())
                   .otherwise(0.0))
    )
    misfit_unit = (
        pl.when(noise == "count").then((e.clip(0.0) + 0.375).sqrt() / 2)
        .when(noise == "rate").then((e_rate / (1 - e_rate)).sqrt() / 2)
        .otherwise(pl.lit(1.0))
    )
    return [[_residual(e).alias("residual"), sampling.alias("sampling"),
             misfit_unit.alias("misfit_unit"), noise.alias("noise")]]


def _band_exprs(z: float) -> list[list[pl.Expr]]:
    """Robust sd of each day from the 56 days before it; score, lo, hi."""
    standard = pl.col("residual") / pl.col("misfit_unit")
    spread = (1.4826 * standard.abs().rolling_median(SCALE_DAYS, min_samples=14)
              .shift(1).over("sid"))
    sampling_share = ((pl.col("sampling") / pl.col("misfit_unit")) ** 2).rolling_median(
        SCALE_DAYS, min_samples=14).shift(1).over("sid")
    misfit = pl.max_horizontal((spread ** 2 - sampling_share).clip(0.0),
                               pl.lit(MIN_RELATIVE_SD ** 2)).sqrt()
    return [
        [misfit.fill_null(MIN_RELATIVE_SD).alias("misfit")],
        [(pl.col("sampling") ** 2 + (pl.col("misfit") * pl.col("misfit_unit")) ** 2)
         .sqrt().alias("sd")],
        [(pl.col("residual") / pl.col("sd")).alias("score"),
         _inverse(-z).alias("lo"), _inverse(z).alias("hi")],
    ]


def _inverse(z: float) -> pl.Expr:
    """The value whose residual is z sd from expected, on the metric's own scale."""
    e = pl.col("expected")
    n = pl.col("volume")
    shift = z * pl.col("sd")
    count = ((e.clip(0.0) + 0.375).sqrt() + shift).clip(0.0) ** 2 - 0.375
    angle = (e.clip(1e-6, 1 - 1e-6).sqrt().arcsin() + shift).clip(0.0, math.pi / 2)
    rate = ((angle.sin() ** 2) * (n + 0.75) - 0.375) / n
    return (pl.when(pl.col("noise") == "count").then(count.clip(0.0))
            .when(pl.col("noise") == "rate").then(pl.when(n > 0).then(rate.clip(0.0, 1.0)))
            .otherwise(e * shift.exp()))


def _score(frame: pl.DataFrame, as_of: date, lookback_days: int) -> pl.DataFrame:
    """Every row of every series with expected, sd, score, lo, hi and the alert flags."""
    grid = _grid(frame, as_of)
    is_return = pl.col("metric") == "return_rate"
    seasonal, returns = grid.filter(~is_return), grid.filter(is_return)
    for stage in _expected_seasonal():
        seasonal = seasonal.with_columns(stage)
    for stage in _expected_return_rate():
        returns = returns.with_columns(stage)
    out = pl.concat([seasonal.rename({"_expected_seasonal": "expected"}),
                     returns.rename({"_expected_return": "expected"})], how="diagonal")
    for stage in _transform_exprs() + _band_exprs(ALERT_Z):
        out = out.with_columns(stage)
    out = _exact_rates(out, as_of - timedelta(days=lookback_days), ALERT_Z)
    return out.with_columns(_alert_exprs(as_of, lookback_days, ALERT_Z)).drop(
        pl.selectors.starts_with("_"))


def _exact_rates(out: pl.DataFrame, after: date, z: float) -> pl.DataFrame:
    """Score and band of rates from the binomial distribution itself (days after `after`).

    A SKU's 14-day cohort has a few refunded lines: there the arcsine scale understates
    how unlikely a count is by 0.2-0.4 sd (9 refunds of 24 lines at 6%: arcsine z 4.1,
    binomial 4.5). The score is the mid-p binomial tail of x = value x volume refunds
    (or orders) of n = volume at the expected rate, as a normal quantile, divided by
    sd / sampling so the baseline's own misfit still widens the band; lo and hi are the
    rates of the first counts beyond the threshold (null when no count gets there).
    For large n this equals the arcsine score.
    """
    mask = ((pl.col("noise") == "rate") & (pl.col("ds") > after) & (pl.col("volume") > 0)
            & pl.col("expected").is_not_null() & (pl.col("sd") > 0)).fill_null(False)
    rows = np.flatnonzero(out.select(mask).to_series().to_numpy())
    if rows.size == 0:
        return out
    part = out[rows]
    n = np.round(part["volume"].to_numpy())
    p = np.clip(part["expected"].to_numpy(), 1e-9, 1 - 1e-9)
    inflate = part["sd"].to_numpy() / part["sampling"].to_numpy()
    x = np.round(part["value"].to_numpy() * n)
    upper = binom.sf(x - 1, n, p) - 0.5 * binom.pmf(x, n, p)
    lower = binom.cdf(x, n, p) - 0.5 * binom.pmf(x, n, p)
    score = np.where(upper < lower, norm.isf(upper), -norm.isf(lower)) / inflate
    target = norm.sf(z * inflate)
    # Smallest count whose upper mid-p tail is within target, largest whose lower one is.
    high = binom.isf(target, n, p)
    high = np.where(binom.sf(high - 1, n, p) - 0.5 * binom.pmf(high, n, p) <= target,
                    high, high + 1)
    low = binom.ppf(target, n, p)
    low = np.where(binom.cdf(low, n, p) - 0.5 * binom.pmf(low, n, p) <= target, low, low - 1)
    columns = {"score": score, "hi": np.where(high <= n, high / n, np.nan),
               "lo": np.where(low >= 0, low / n, np.nan)}
    updated = {}
    for name, values in columns.items():
        full = out[name].to_numpy(writable=True).copy()
        full[rows] = values
        updated[name] = pl.Series(name, full).fill_nan(None)
    return out.with_columns(**updated)


def _alert_exprs(as_of: date, lookback_days: int, z: float,
                 guard_volume: bool = True) -> list[pl.Expr]:
    """in_window, direction, is_alert, impact, last_scored."""
    is_return = pl.col("metric") == "return_rate"
    last_scored = pl.when(is_return).then(pl.lit(as_of - timedelta(days=RETURN_MATURITY_DAYS))
                                          ).otherwise(pl.lit(as_of))
    in_window = (pl.col("ds") > pl.lit(as_of - timedelta(days=lookback_days))) & (
        pl.col("ds") <= last_scored)
    direction = pl.when(pl.col("score") < 0).then(pl.lit("down")).otherwise(pl.lit("up"))
    allowed = _spec_column("directions", pl.Utf8).str.contains(direction)
    alerting = ~(pl.col("metric").is_in(BREAKDOWN_ONLY) & (pl.col("dimension") != "all"))
    enough = pl.lit(True)
    if guard_volume:
        is_rate = _spec_column("noise", pl.Utf8) == "rate"
        enough = (~is_rate | (pl.col("volume") >= MIN_RATE_VOLUME)) & (
            ~is_return | (pl.col("dimension") == "all")
            | (pl.col("value") * pl.col("volume") >= MIN_RETURNED_LINES - 1e-9))
    return [
        in_window.alias("in_window"),
        direction.alias("direction"),
        last_scored.alias("last_scored"),
        (in_window & alerting & allowed & enough & pl.col("value").is_not_null()
         & (pl.col("score").abs() >= z)).fill_null(False).alias("is_alert"),
        ((pl.col("value") - pl.col("expected")).abs() * pl.col("money_weight")).alias("impact"),
        pl.lit(z).alias("threshold"),
    ]
