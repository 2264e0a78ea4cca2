"""forecast_demand and backtest on small synthetic series with known answers."""

from datetime import date, timedelta

import numpy as np
import polars as pl
import pytest

from forecasting import (
    backtest,
    backtest_detail,
    forecast_demand,
    sample_series,
    summarise_backtest,
)
from forecasting.demand import (
    ENSEMBLE,
    INTERMITTENT_MODELS,
    SWITCH_MARGIN,
    SeriesEndedEarlyWarning,
    add_ensemble,
    select_models,
    yearly_helps,
)
from forecasting.intervals import (
    add_conformal_bounds,
    calibrated_widths,
    conformal_widths,
    error_level,
    nested,
)

START = date(2025, 1, 6)  # a Monday
WEEKLY_PATTERN = [10.0, 12.0, 14.0, 16.0, 30.0, 50.0, 20.0]  # Monday .. Sunday


def series(unique_id, values, *, start=START, step_days=1, stockout=None, promo=None):
    """One series in long format; stockout/promo are sets of period indexes."""
    n = len(values)
    return pl.DataFrame({
        "unique_id": [unique_id] * n,
        "ds": [start + timedelta(days=i * step_days) for i in range(n)],
        "y": [float(v) for v in values],
        "is_stockout": [i in (stockout or set()) for i in range(n)],
        "is_promo": [i in (promo or set()) for i in range(n)],
    })


def forecast(history, horizon=14, **kwargs):
    return forecast_demand(history, horizon, n_jobs=1, **kwargs)


def test_output_columns_dates_and_bounds():
    history = series("A", [5.0] * 120)
    out = forecast(history, 10)
    assert out.columns == ["unique_id", "ds", "forecast", "lo_80", "hi_80", "lo_95", "hi_95",
                           "model", "error_sd", "level_sd", "last_seen", "ended_early"]
    assert out["ds"].to_list() == [START + timedelta(days=119 + i) for i in range(1, 11)]
    assert out.schema["ds"] == pl.Date
    assert out.filter((pl.col("lo_95") > pl.col("lo_80")) | (pl.col("lo_80") > pl.col("forecast"))
                      | (pl.col("forecast") > pl.col("hi_80")) | (pl.col("hi_80") > pl.col("hi_95"))
                      | (pl.col("lo_95") < 0)).is_empty()


def test_constant_series_forecast_the_constant_whatever_the_model():
    history = pl.concat([
        series("four", [4.0] * 200),
        series("half", [0.5] * 200),
        series("short", [7.0] * 20, start=START + timedelta(days=180)),  # too short for CV
    ])
    out = forecast(history, 14)
    by_series = out.group_by("unique_id").agg(
        pl.col("forecast").min().alias("low"), pl.col("forecast").max().alias("high"),
        pl.col("model").first())
    expected = {"four": 4.0, "half": 0.5, "short": 7.0}
    for row in by_series.iter_rows(named=True):
        assert row["low"] == pytest.approx(expected[row["unique_id"]], abs=1e-6)
        assert row["high"] == pytest.approx(expected[row["unique_id"]], abs=1e-6)
    assert by_series.filter(pl.col("unique_id") == "short")["model"].item() == "mean_fallback"


def test_all_zero_series_forecasts_zero():
    out = forecast(series("Z", [0.0] * 100), 7)
    assert out["forecast"].to_list() == [0.0] * 7
    assert out["hi_95"].to_list() == [0.0] * 7
    assert set(out["model"]) == {"zero"}


def test_weekly_pattern_is_reproduced_per_weekday():
    rng = np.random.default_rng(3)
    values = [WEEKLY_PATTERN[i % 7] * rng.uniform(0.98, 1.02) for i in range(364)]
    out = forecast(series("W", values), 28)
    by_weekday = out.group_by(pl.col("ds").dt.weekday().alias("weekday")).agg(pl.col("forecast"))
    for weekday, forecasts in by_weekday.iter_rows():
        expected = WEEKLY_PATTERN[weekday - 1]
        assert all(abs(f - expected) <= 0.05 * expected for f in forecasts), (weekday, forecasts)


def test_intermittent_series_gets_a_croston_family_model_at_its_demand_rate():
    # 3 units every 4th day: 0.75 units a day, 75% of days without demand.
    out = forecast(series("I", [3.0 if i % 4 == 0 else 0.0 for i in range(364)]), 28)
    assert set(out["model"]) <= {*INTERMITTENT_MODELS, ENSEMBLE}
    # 0.71 by the ensemble: its median includes CrostonSBA, whose bias correction
    # (1 - alpha / 2) forecasts a little under the rate by design.
    assert out["forecast"].mean() == pytest.approx(0.75, rel=0.08)
    assert out["hi_80"].min() > out["forecast"].max()  # conformal bounds from CV errors

    rng = np.random.default_rng(11)
    noisy = rng.binomial(1, 0.2, 364) * rng.poisson(4, 364)
    out = forecast(series("R", noisy), 28)
    assert set(out["model"]) <= {*INTERMITTENT_MODELS, ENSEMBLE}
    recent_rate = noisy[-182:].mean()
    assert out["forecast"].mean() == pytest.approx(recent_rate, rel=0.3)


def test_stockout_gap_is_censored_not_read_as_zero_demand():
    rng = np.random.default_rng(5)
    level = [10.0 + rng.uniform(-1, 1) for _ in range(200)]
    gap = set(range(186, 200))  # out of stock for the last two weeks: zero sales
    values = [0.0 if i in gap else v for i, v in enumerate(level)]
    flagged = forecast(series("S", values, stockout=gap), 14)
    assert flagged["forecast"].mean() == pytest.approx(10.0, rel=0.05)
    unflagged = forecast(series("S", values), 14)
    assert unflagged["forecast"].mean() < 0.8 * flagged["forecast"].mean()


def test_weekly_and_monthly_frequency_are_inferred():
    weekly = series("W", [20.0 + (i % 2) for i in range(150)], step_days=7)
    out = forecast(weekly, 8)
    last = weekly["ds"].max()
    assert out["ds"].to_list() == [last + timedelta(weeks=k) for k in range(1, 9)]

    month_ends = pl.date_range(date(2020, 1, 31), date(2024, 12, 31), "1mo", eager=True)
    monthly = pl.DataFrame({"unique_id": "M", "ds": month_ends,
                            "y": [100.0 + (i % 12) for i in range(len(month_ends))]})
    out = forecast_demand(monthly, 3, season_length=12, n_jobs=1)
    assert out["ds"].to_list() == [date(2025, 1, 31), date(2025, 2, 28), date(2025, 3, 31)]


def test_promotions_lift_future_days_by_the_measured_uplift():
    promo = {100, 101, 102, 150, 151, 152}
    values = [30.0 if i in promo else 20.0 for i in range(200)]  # +50% on promotion days
    history = pl.concat([series("P", values, promo=promo), series("N", [8.0] * 200)])
    first = START + timedelta(days=200)
    promotions = pl.DataFrame({
        "unique_id": ["P", "P", "N", "P"],
        "ds": [first + timedelta(days=2), first + timedelta(days=3), first + timedelta(days=2),
               first + timedelta(days=9)],
        "uplift": [None, None, None, 2.0],
    })
    out = forecast(history, 14, promotions=promotions)
    p = dict(out.filter(pl.col("unique_id") == "P").select("ds", "forecast").iter_rows())
    n = dict(out.filter(pl.col("unique_id") == "N").select("ds", "forecast").iter_rows())
    assert p[first] == pytest.approx(20.0)  # past promotions do not inflate the baseline
    assert p[first + timedelta(days=2)] == pytest.approx(30.0)  # measured uplift 1.5
    assert p[first + timedelta(days=3)] == pytest.approx(30.0)
    assert p[first + timedelta(days=9)] == pytest.approx(40.0)  # the uplift given
    assert n[first + timedelta(days=2)] == pytest.approx(12.0)  # the store's median uplift
    assert n[first + timedelta(days=3)] == pytest.approx(8.0)


def test_history_is_validated_with_a_message_that_says_what_to_fix():
    with pytest.raises(ValueError, match="history is missing column 'ds'"):
        forecast_demand(pl.DataFrame({"unique_id": ["a"], "y": [1.0]}), 7)
    with pytest.raises(ValueError, match="negative y"):
        forecast_demand(series("A", [1.0, -2.0, 3.0]), 7)
    with pytest.raises(ValueError, match="duplicate"):
        forecast_demand(pl.concat([series("A", [1.0]), series("A", [2.0])]), 7)


def test_backtest_of_a_pure_weekly_pattern():
    history = pl.concat([
        series("W", [WEEKLY_PATTERN[i % 7] for i in range(300)]),
        series("S", [WEEKLY_PATTERN[i % 7] for i in range(300)], stockout={280, 281, 290}),
    ])
    result = backtest(history, 14, windows=3, n_jobs=1)
    assert result.columns == ["unique_id", "model", "mase", "bias", "coverage_80", "coverage_95",
                              "mase_seasonal_naive", "bias_seasonal_naive", "n_points",
                              "actual_units", "rmsse", "rmsse_seasonal_naive"]
    w = result.row(by_predicate=pl.col("unique_id") == "W", named=True)
    assert w["mase_seasonal_naive"] == 0.0 and w["rmsse_seasonal_naive"] == 0.0
    assert w["mase"] <= w["mase_seasonal_naive"]
    assert w["bias"] == pytest.approx(0.0, abs=1e-9)
    assert w["n_points"] == 42
    s = result.row(by_predicate=pl.col("unique_id") == "S", named=True)
    assert s["n_points"] == 39  # stockout days are not actuals
    # The censored days were filled from earlier weeks, so the pattern is still exact.
    assert s["mase_seasonal_naive"] == 0.0

    summary = summarise_backtest(result)
    assert summary["series"] == 2 and summary["series_scored"] == 2
    assert summary["mase_seasonal_naive"] == 0.0
    assert summary["share_beating_seasonal_naive"] == 0.0


def test_backtest_scores_a_noisy_series_against_seasonal_naive():
    rng = np.random.default_rng(7)
    values = [WEEKLY_PATTERN[i % 7] + rng.normal(0, 3) + 10 for i in range(400)]
    history = pl.concat([series("N", values), series("short", [3.0] * 30,
                                                     start=START + timedelta(days=370))])
    result = backtest(history, 28, windows=2, n_jobs=1)
    noisy = result.row(by_predicate=pl.col("unique_id") == "N", named=True)
    # Seasonal naive's test error is that of the difference of two noisy days: about
    # sqrt(2) x its in-sample scale, so its MASE is close to 1; Theta averages the noise.
    assert noisy["mase_seasonal_naive"] == pytest.approx(1.0, abs=0.25)
    assert noisy["mase"] < noisy["mase_seasonal_naive"]
    assert noisy["n_points"] == 56
    short = result.row(by_predicate=pl.col("unique_id") == "short", named=True)
    assert short["model"] == "mean_fallback" and short["n_points"] == 0


def test_yearly_season_from_the_stores_last_year():
    """Two SKUs sell 10 a day, 20 a day on days 100-130 of last year; the cutoff is day 460.

    The weekly models forecast 10; the yearly index is the store's smoothed rate on the
    same day 52 weeks earlier over its mean in the 28 days before the cutoff a year ago
    (10): x2 on days whose week a year ago lies inside the busy month, 80/70 = 1.142857
    on the first day (a year ago its week held one busy day: (6 x 10 + 20) / 7).
    """
    values = [20.0 if 100 <= i <= 130 else 10.0 for i in range(461)]
    history = pl.concat([series("A", values), series("B", values)])
    out = forecast(history, 28)
    day = {(row["unique_id"], (row["ds"] - START).days): row["forecast"]
           for row in out.iter_rows(named=True)}
    assert day[("A", 461)] == pytest.approx(10 * 80 / 70)
    assert day[("A", 470)] == pytest.approx(20.0)
    assert day[("B", 488)] == pytest.approx(20.0)
    flat = forecast(history, 28, yearly=False)
    assert flat["forecast"].to_list() == pytest.approx([10.0] * 56)
    # Under a year and 28 days of history there is no last year to read: no index.
    short = forecast(pl.concat([series("A", values[:391]), series("B", values[:391])]), 7)
    assert short["forecast"].to_list() == pytest.approx([10.0] * 14)


def two_series_one_ending_early():
    rng = np.random.default_rng(3)
    full = series("FULL", 10 + rng.poisson(3, 200))
    early = series("EARLY", 10 + rng.poisson(3, 170))  # its rows stop 30 days early
    return pl.concat([full, early])


def test_a_series_that_ends_early_is_flagged_and_warned_under_both_rules():
    history = two_series_one_ending_early()
    last_early = START + timedelta(days=169)
    with pytest.warns(SeriesEndedEarlyWarning, match=r"1 of 2 series end before .*'EARLY' "
                      rf"last seen {last_early}.*series_end='own'"):
        frame = forecast(history, 7)
    early = frame.filter(pl.col("unique_id") == "EARLY")
    assert early["ended_early"].all() and early["last_seen"].unique().to_list() == [last_early]
    assert not frame.filter(pl.col("unique_id") == "FULL")["ended_early"].any()
    # "frame": it stopped selling 30 days ago; its forecast starts with everyone else's
    # and follows the 30 zero days.
    assert early["ds"].min() == START + timedelta(days=200)
    assert early["forecast"].mean() < 5

    with pytest.warns(SeriesEndedEarlyWarning, match="from its own last period"):
        own = forecast(history, 7, series_end="own")
    early = own.filter(pl.col("unique_id") == "EARLY")
    # "own": its data stopped; forecast from the day after its own last row, at its level.
    assert early["ds"].min() == last_early + timedelta(days=1)
    assert early["forecast"].mean() == pytest.approx(13, rel=0.25)
    assert early["ended_early"].all()

    with pytest.raises(ValueError, match="series_end must be one of"):
        forecast(history, 7, series_end="last")


def test_no_warning_when_every_series_runs_to_the_end(recwarn):
    forecast(series("A", [5.0] * 120), 7)
    assert not [w for w in recwarn if issubclass(w.category, SeriesEndedEarlyWarning)]


def test_ensemble_is_the_median_of_the_kinds_models_ignoring_nan():
    wide = pl.DataFrame({"unique_id": ["a", "b"], "AutoETS": [1.0, float("nan")],
                         "DynamicOptimizedTheta": [2.0, 4.0], "CES": [9.0, 6.0],
                         "SeasonalNaive": [100.0, 100.0]})
    assert add_ensemble(wide, "smooth")[ENSEMBLE].to_list() == [2.0, 5.0]
    wide = pl.DataFrame({"CrostonSBA": [1.0], "ADIDA": [2.0], "IMAPA": [3.0], "TSB": [10.0]})
    assert add_ensemble(wide, "intermittent")[ENSEMBLE].to_list() == [2.5]


def test_a_single_model_replaces_the_ensemble_only_by_the_margin():
    kinds = pl.DataFrame({"unique_id": ["a", "b"], "kind": ["smooth", "smooth"]})
    errors = pl.DataFrame({
        "unique_id": ["a", "a", "b", "b"],
        "model": [ENSEMBLE, "AutoETS", ENSEMBLE, "AutoETS"],
        # a: AutoETS 5% better (kept: the ensemble); b: 20% better (switched).
        "mae": [1.0, 0.95, 1.0, 0.8], "mse": [1.0, 1.0, 1.0, 1.0],
    })
    chosen = dict(select_models(errors, kinds, ["unique_id"]).iter_rows())
    assert SWITCH_MARGIN == pytest.approx(0.10)
    assert chosen == {"a": ENSEMBLE, "b": "AutoETS"}


def residual_windows(early_scale, last_scale, series=20, points=28):
    rng = np.random.default_rng(0)
    rows = []
    for s_ in range(series):
        for window, scale in ((0, early_scale), (1, last_scale)):
            rows += [{"unique_id": f"s{s_}", "cutoff": window, "yearly_index": 1.0,
                      "error": float(e)} for e in rng.normal(0, scale, points)]
    return pl.DataFrame(rows)


def test_intervals_widen_when_they_did_not_hold_on_the_last_window():
    steady = calibrated_widths(residual_windows(1.0, 1.0), ["unique_id"], "cutoff", (80,))
    grown = calibrated_widths(residual_windows(1.0, 2.0), ["unique_id"], "cutoff", (80,))
    # Plain conformal widths of the pooled errors would be about 1.28 (steady) and 2.0
    # (grown); the calibration on the last window pushes the grown ones towards what the
    # last window's errors need (1.28 x 2).
    assert steady["width_80"].median() == pytest.approx(1.28, rel=0.2)
    assert grown["width_80"].median() > 1.15 * 2.0
    # The factor is bounded: errors 100x larger at the end widen at most 4x the plain
    # conformal widths of all windows.
    wild = calibrated_widths(residual_windows(1.0, 100.0), ["unique_id"], "cutoff", (80,))
    plain = conformal_widths(residual_windows(1.0, 100.0), ["unique_id"], (80,))
    ratio = wild.join(plain, on="unique_id").select(pl.col("width_80") / pl.col("width_80_right"))
    assert ratio.to_series().max() == pytest.approx(4.0)


def test_widths_of_a_smooth_series_follow_its_level():
    """Errors proportional to the level (sd 10% of it): 20 series at level 10 in the early
    window and 20 in the last. Per unit of level the widths held on the last window (no
    inflation needed) and a forecast at level 40 gets the 80% half-width of N(0, 4),
    1.28 x 4; in units, the widths of levels 10-20 carry into level 40 too narrow."""
    rng = np.random.default_rng(5)
    rows = [{"unique_id": f"s{s_}", "cutoff": window, "yearly_index": 1.0, "level": level,
             "error": float(e)}
            for s_ in range(20) for window, level in ((0, 10.0), (1, 20.0))
            for e in rng.normal(0, level / 10, 28)]
    residuals = pl.DataFrame(rows)
    future = pl.DataFrame({"unique_id": [f"s{s_}" for s_ in range(20)], "yhat": 40.0,
                           "yearly_index": 1.0, "level": 40.0})
    relative = add_conformal_bounds(
        future, calibrated_widths(residuals, ["unique_id"], "cutoff", (80,)),
        ["unique_id"], (80,))
    half_width = (relative["hi_80"] - relative["yhat"]).median()
    assert half_width == pytest.approx(1.2816 * 4.0, rel=0.2)
    in_units = add_conformal_bounds(
        future.drop("level"),
        calibrated_widths(residuals.drop("level"), ["unique_id"], "cutoff", (80,)),
        ["unique_id"], (80,))
    assert (in_units["hi_80"] - in_units["yhat"]).median() < 0.8 * half_width


def test_error_level_is_the_ensembles_mean_for_smooth_series_only():
    cutoff = date(2026, 1, 1)
    days = [cutoff + timedelta(days=i) for i in range(1, 5)]
    forecasts = pl.concat([
        pl.DataFrame({"unique_id": uid, "cutoff": cutoff, "ds": days, "model": model,
                      "yhat": yhat})
        for uid, model, yhat in (("smooth", ENSEMBLE, [10.0, 20.0, 30.0, 99.0]),
                                 ("smooth", "AutoETS", [50.0] * 4),
                                 ("flat_zero", ENSEMBLE, [0.0] * 4),
                                 ("sparse", ENSEMBLE, [0.5] * 4))])
    history = [cutoff - timedelta(days=i) for i in range(5, -1, -1)]
    panel = pl.concat([
        pl.DataFrame({"unique_id": uid, "ds": history, "y_baseline": values})
        for uid, values in (("smooth", [1.0] * 6), ("flat_zero", [0.0, 0.0, 0.0, 6.0, 3.0, 3.0]),
                            ("sparse", [0.0, 0.0, 1.0, 0.0, 0.0, 0.0]))])
    kinds = pl.DataFrame({"unique_id": ["smooth", "flat_zero", "sparse"],
                          "kind": ["smooth", "smooth", "intermittent"]})
    levels = dict(error_level(forecasts, panel, kinds, 3)
                  .select("unique_id", "level").iter_rows())
    # The Ensemble's first 3 periods, not AutoETS's; a zero forecast falls back to the
    # last 3 actuals; intermittent errors stay in units.
    assert levels == {"smooth": 20.0, "flat_zero": 4.0, "sparse": 1.0}


def test_yearly_index_is_kept_only_when_cross_validation_says_it_helps():
    cutoff = date(2026, 1, 1)
    days = [cutoff + timedelta(days=i) for i in range(1, 8)]
    panel = pl.DataFrame({"unique_id": "a", "ds": days, "is_clean": True})
    profile_days = [d - timedelta(days=364) for d in days]
    # Last year those days were twice as busy as the 28 days before the cutoff.
    profile = pl.DataFrame({"ds": [*profile_days, cutoff - timedelta(days=364)],
                            "rate": [2.0] * 7 + [None], "level": [None] * 7 + [1.0]})
    cv = pl.DataFrame({"unique_id": "a", "ds": days, "cutoff": cutoff, "model": "AutoETS",
                       "yhat": 5.0, "y": 10.0})
    assert yearly_helps(cv, panel, profile)  # 5 x 2 = 10: perfect with the index
    assert not yearly_helps(cv.with_columns(pl.lit(5.0).alias("y")), panel, profile)
    assert not yearly_helps(cv, panel, pl.DataFrame())


def test_backtest_detail_scores_every_candidate_on_the_same_points():
    rng = np.random.default_rng(2)
    history = pl.concat([
        series("S", [w + rng.normal(0, 2) for _ in range(40) for w in WEEKLY_PATTERN]),
        series("I", rng.binomial(1, 0.3, 280) * rng.poisson(3, 280)),
    ])
    detail = backtest_detail(history, 14, windows=2, n_jobs=1)
    models = detail.by_model.group_by("unique_id").agg(pl.col("model").sort())
    assert dict(models.iter_rows()) == {
        "S": sorted(["SeasonalNaive", ENSEMBLE, "AutoETS", "DynamicOptimizedTheta", "CES"]),
        "I": sorted(["SeasonalNaive", ENSEMBLE, *INTERMITTENT_MODELS]),
    }
    points = detail.by_model.group_by("unique_id").agg(pl.col("n_points").n_unique())
    assert points["n_points"].to_list() == [1, 1]
    chosen = detail.result.join(detail.by_model.filter(pl.col("model") == "SeasonalNaive"),
                                on="unique_id", suffix="_sn")
    assert (chosen["n_points"] == chosen["n_points_sn"]).all()
    # The scored points are what the result aggregates; RMSSE is sqrt(MSE) over the
    # in-sample seasonal naive MSE of the training days (the 28 test days excluded).
    for row in detail.result.iter_rows(named=True):
        mine = detail.points.filter(pl.col("unique_id") == row["unique_id"])
        assert mine.height == row["n_points"] and mine["window"].unique().sort().to_list() == [0, 1]
        error = mine["forecast"] - mine["actual"]
        train = history.filter(pl.col("unique_id") == row["unique_id"])["y"].to_numpy()[:-28]
        scale = np.mean((train[7:] - train[:-7]) ** 2)
        assert row["rmsse"] == pytest.approx(np.sqrt(np.mean(error.to_numpy() ** 2) / scale))
        assert row["coverage_80"] == pytest.approx(
            ((mine["lo_80"] <= mine["actual"]) & (mine["actual"] <= mine["hi_80"])).mean())


def test_intervals_nest_even_when_the_calibration_factors_cross():
    """Early windows: small errors with a few large ones (95% width 5, 80% width about 1);
    the last window: every error 2.5. The 80% factor grows (2.5 / 1), the 95% one shrinks
    (2.5 / 5), and widths from all windows times those factors would put the 80% interval
    outside the 95% one; nesting forbids that."""
    rng = np.random.default_rng(4)
    rows = []
    for s_ in range(10):
        early = np.concatenate([rng.normal(0, 0.7, 50), [5.0, -5.0, 5.0, -5.0, 5.0, -5.0]])
        last = 2.5 * np.where(rng.random(28) < 0.5, -1.0, 1.0)
        rows += [{"unique_id": f"s{s_}", "cutoff": w, "yearly_index": 1.0, "error": float(e)}
                 for w, errs in ((0, early), (1, last)) for e in errs]
    residuals = pl.DataFrame(rows)
    widths = calibrated_widths(residuals, ["unique_id"], "cutoff", (80, 95))
    plain = conformal_widths(residuals, ["unique_id"], (80, 95))
    assert (widths["width_80"] > 1.5 * plain["width_80"]).all()  # widened: did not hold
    assert (widths["width_95"] >= widths["width_80"]).all()


def test_the_fugue_duckdb_engine_gives_the_local_forecasts():
    """compute="duckdb" sends statsforecast through its Fugue backend (the distributed
    path: same code on Dask, Spark or Ray) and must give the local path's forecasts, to the
    backend's float32 precision, with the same models chosen."""
    rng = np.random.default_rng(7)
    history = pl.concat([
        series("S1", [w + rng.normal(0, 2) for _ in range(30) for w in WEEKLY_PATTERN]),
        series("S2", [2 * w + rng.normal(0, 3) for _ in range(30) for w in WEEKLY_PATTERN]),
        series("I", rng.binomial(1, 0.3, 210) * rng.poisson(3, 210)),
    ])
    local = forecast(history, 14)
    engine = forecast(history, 14, compute="duckdb")
    assert engine.columns == local.columns and engine.height == local.height
    assert engine["model"].to_list() == local["model"].to_list()
    for column in ("forecast", "lo_80", "hi_80", "lo_95", "hi_95"):
        assert np.allclose(engine[column].to_numpy(), local[column].to_numpy(),
                           rtol=1e-5, atol=1e-5), column


def test_an_unknown_compute_engine_is_named():
    history = series("A", [5.0] * 60)
    with pytest.raises(ValueError, match="compute must be one of"):
        forecast(history, 7, compute="hadoop")


def test_the_wider_level_is_at_least_the_normal_tail_of_the_narrower():
    """95% half-width >= 80% half-width x 1.96 / 1.28 (normal quantiles); wider ones stay,
    and the floor cascades through every level in order."""
    widths = pl.DataFrame({"unique_id": ["thin", "wide"], "width_50": [1.0, 1.0],
                           "width_80": [1.0, 1.0], "width_95": [1.2, 3.0]})
    out = dict(zip(*nested(widths, (95, 50, 80)).select("unique_id", "width_95")
                   .to_dict(as_series=False).values(), strict=True))
    z50, z80, z95 = 0.6744897501960817, 1.2815515655446004, 1.959963984540054
    assert out["wide"] == pytest.approx(3.0)
    # 80% is raised to 1 x z80 / z50 = 1.90, then 95% to that x z95 / z80 = z95 / z50.
    assert out["thin"] == pytest.approx(z95 / z50)
    two = nested(widths.drop("width_50"), (80, 95))
    assert two["width_95"].to_list() == pytest.approx([z95 / z80, 3.0])


def test_a_large_stores_backtest_sample_spans_its_sales_volume():
    # 10 series with 1..10 units a day: 10 kept when allowed 10 or more; 5 of them, one
    # from each pair of neighbours in the volume ranking, when allowed 5.
    days = [date(2025, 1, 1) + timedelta(days=i) for i in range(3)]
    history = pl.DataFrame({
        "unique_id": [f"S{k:02d}" for k in range(1, 11) for _ in days],
        "ds": days * 10,
        "y": [float(k) for k in range(1, 11) for _ in days],
    })
    assert sample_series(history, 10).equals(history)
    assert sample_series(history, 50).equals(history)
    kept = sample_series(history, 5)
    # Ranked by volume: S10, S09, ..., S01; runs of 2; the middle of each run: ranks 1, 3, ..
    assert kept["unique_id"].unique(maintain_order=True).to_list() == [
        "S01", "S03", "S05", "S07", "S09"]
    assert kept.height == 15 and kept.columns == history.columns
    assert kept.equals(sample_series(history, 5))  # deterministic
    # Mean units a day per series: 5 in the sample (1, 3, .., 9) against 5.5 in the store.
    assert kept["y"].mean() == 5.0 and history["y"].mean() == 5.5
    with pytest.raises(ValueError, match="positive integer"):
        sample_series(history, 0)
    with pytest.raises(ValueError, match=r"missing column\(s\) \['y'\]"):
        sample_series(history.drop("y"), 3)
