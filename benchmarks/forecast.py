"""Demand forecast on the demo store: accuracy against seasonal naive, and overhead.

On the demand history the pipeline reads (`forecasting.warehouse.demand_history`,
active SKUs up to the last day of the data), in one process:

1. Accuracy: `forecasting.backtest` with the pipeline's settings (3 test windows of 28
   days, model chosen per window by 2 cross-validation windows before it) and
   `summarise_backtest`: MASE of the chosen model and of seasonal naive (mean and
   volume-weighted), share of SKUs where the chosen model beats seasonal naive, bias,
   80/95% interval coverage, models chosen; split by ABC class (marts.dim_products) and
   by series kind (smooth / intermittent, classified on the training data as the
   backtest does). Scored on observed, in-stock days of the held-out windows.
2. Overhead: `forecast_demand(history, 56, n_jobs=cores)` (validation, regular grid,
   classification, censoring, one StatsForecast.forecast + one cross_validation,
   selection, conformal intervals, output) against a bare statsforecast baseline on the
   same data, prepared beforehand and not timed: the raw `y` of the last 364 days of
   every series as a polars frame `unique_id, ds, y`, then
   `StatsForecast(models=candidate_models(7), freq="1d", n_jobs=cores)`
   `.forecast(h=56, level=[80, 95])` followed by `.cross_validation(h=28, n_windows=2,
   step_size=28)` (the two calls forecast_demand needs to choose a model per SKU).
   One warm-up each (numba compilation), then `--repeats` interleaved runs A, B, A, B...;
   medians. Ratio = forecast_demand / bare (aim <= 1.2); also reported against the bare
   forecast call alone.
3. Scale curve: forecast_demand and the bare baseline on 100 and 250 SKU subsets (one
   run each, seeded sample) next to the full panel (skip with --no-curve).

Writes benchmarks/results/forecast.json and forecast.md.

    uv run python benchmarks/forecast.py                      # scale 1, fresh demo home
    uv run python benchmarks/forecast.py --home /tmp/h        # reuse a built home
    uv run python benchmarks/forecast.py --scale 0.2 --repeats 1 --no-curve
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import polars as pl

ROOT = Path(__file__).resolve().parents[1]
RESULTS = Path(__file__).parent / "results"
HORIZON = 56  # orchestration.defs.forecasting.HORIZON_DAYS
BACKTEST_HORIZON = 28  # BACKTEST_HORIZON_DAYS
BACKTEST_WINDOWS = 3  # BACKTEST_WINDOWS
SEASON = 7
CV_WINDOWS = 2
FIT_DAYS = 364
CURVE_SIZES = (100, 250)
# Real panels hold 1 to 10 series: 3 test windows are 42 to 84 points per series, too few
# (and too correlated) to tell 77% from 80% coverage. They get up to this many test windows,
# as many as leave a production-length fit and the CV windows before the first one.
MAX_REAL_WINDOWS = 12
BOOTSTRAP_DRAWS = 2000


# --------------------------------------------------------------------------- data

def build_home(scale: float, home: Path) -> float:
    """`storeops demo` into a fresh home (generate + ingest + dbt + Dagster assets)."""
    started = time.perf_counter()
    done = subprocess.run(
        [str(Path(sys.executable).with_name("storeops")), "demo", "--home", str(home),
         "--scale", str(scale)],
        capture_output=True, text=True, check=False, cwd=ROOT,
    )
    if done.returncode != 0:
        raise RuntimeError(done.stdout[-3000:] + done.stderr[-3000:])
    return time.perf_counter() - started


def load(home: Path) -> tuple[pl.DataFrame, pl.DataFrame, dt.date, pl.DataFrame | None]:
    """History as the pipeline reads it, ABC classes, as-of date, the pipeline's backtest."""
    import duckdb

    from forecasting.warehouse import demand_history

    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as con:
        as_of = con.sql("select max(kpi_date) from marts.fct_daily_kpis").pl().item()
        history = demand_history(con, as_of)
        abc = con.sql("select sku as unique_id, abc_class from marts.dim_products").pl()
        try:
            stored = con.sql("select * from analytics.forecast_backtest").pl()
        except duckdb.Error:
            stored = None
    return history, abc, as_of, stored


def series_kinds(history: pl.DataFrame) -> pl.DataFrame:
    """smooth / intermittent / short / zero per SKU, classified as `backtest` does it
    (on the periods before the first test window)."""
    from forecasting.history import (
        FIT_PERIODS,
        classify_series,
        infer_frequency,
        last_periods,
        prepare_panel,
        validate_history,
    )

    frame = validate_history(history)
    freq = infer_frequency(frame)
    panel = prepare_panel(frame, freq, SEASON)
    test_points = BACKTEST_WINDOWS * BACKTEST_HORIZON
    training = panel.filter(pl.col("t") <= pl.col("t").max().over("unique_id") - test_points)
    return classify_series(last_periods(training, FIT_PERIODS[freq.name]),
                           2 * SEASON + CV_WINDOWS * BACKTEST_HORIZON).select("unique_id", "kind")


def bare_frame(history: pl.DataFrame) -> pl.DataFrame:
    """Raw y of the last 364 days of every series: what one would hand statsforecast."""
    last = history["ds"].max()
    return (history.filter(pl.col("ds") > last - dt.timedelta(days=FIT_DAYS))
            .select("unique_id", "ds", "y").sort("unique_id", "ds"))


# ----------------------------------------------------------------------- accuracy

def clean(summary: dict) -> dict:
    return {k: (None if isinstance(v, float) and math.isnan(v) else
                round(v, 4) if isinstance(v, float) else v) for k, v in summary.items()}


def summary(result: pl.DataFrame) -> dict:
    """`summarise_backtest`, plus the bias over the SKUs with demand in the test windows.

    summarise_backtest's bias is NaN as soon as one scored SKU sold nothing on its scored
    days (its per-SKU bias is x/0 = inf or NaN, and NaN * weight 0 is NaN). The per-SKU
    error sum of those SKUs is not in the backtest result, so `bias_demand_skus` leaves
    them out (their forecast errors are all over-forecasts).
    """
    from forecasting import summarise_backtest

    out = clean(summarise_backtest(result))
    scored = result.filter(pl.col("mase").is_not_null() & pl.col("mase_seasonal_naive")
                           .is_not_null() & (pl.col("n_points") > 0))
    demand = scored.filter(pl.col("actual_units") > 0)
    weight = pl.col("actual_units")
    extra = demand.select(
        ((pl.col("bias") * weight).sum() / weight.sum()).alias("bias_demand_skus"),
        ((pl.col("bias_seasonal_naive") * weight).sum() / weight.sum())
        .alias("bias_seasonal_naive_demand_skus"),
    ).row(0, named=True) if demand.height else {"bias_demand_skus": None,
                                                 "bias_seasonal_naive_demand_skus": None}
    out.update(clean({k: (None if v is None else float(v)) for k, v in extra.items()}))
    out["scored_skus_without_demand"] = scored.height - demand.height
    return out


def accuracy(history: pl.DataFrame, abc: pl.DataFrame, cores: int,
             stored: pl.DataFrame | None) -> dict:
    from forecasting import backtest_detail

    started = time.perf_counter()
    detail = backtest_detail(history, BACKTEST_HORIZON, windows=BACKTEST_WINDOWS)
    seconds = time.perf_counter() - started
    result = detail.result
    result = (result.join(abc, on="unique_id", how="left")
              .join(series_kinds(history), on="unique_id", how="left"))
    out = {"backtest_s": round(seconds, 1), "overall": summary(result),
           "ratios": model_ratios(detail)}
    for column, key in (("abc_class", "by_abc_class"), ("kind", "by_kind"),
                        ("model", "by_model_chosen")):
        out[key] = {
            str(value): summary(result.filter(pl.col(column) == value))
            for value in sorted(result[column].drop_nulls().unique().to_list())
        }
    out["models_chosen"] = dict(sorted(
        result.group_by("model").len().iter_rows(), key=lambda kv: -kv[1]))
    out["kinds"] = dict(result.group_by("kind").len().sort("kind").iter_rows())
    # Where the chosen model loses to seasonal naive, by how much (MASE points).
    scored = result.filter(pl.col("mase").is_not_null()
                           & pl.col("mase_seasonal_naive").is_not_null())
    gap = scored.select((pl.col("mase") - pl.col("mase_seasonal_naive")).alias("gap"))["gap"]
    out["mase_gap_vs_seasonal_naive"] = {
        "worse": int((gap > 0).sum()), "tied": int((gap == 0).sum()),
        "better": int((gap < 0).sum()),
        "median_gap_when_worse": round(float(gap.filter(gap > 0).median() or 0.0), 4),
        "median_gap_when_better": round(float(gap.filter(gap < 0).median() or 0.0), 4),
    }
    if stored is not None:  # the pipeline's own backtest of the same history
        mine = result.select("unique_id", "mase").sort("unique_id")
        theirs = stored.select("unique_id", pl.col("mase").alias("stored")).sort("unique_id")
        joined = mine.join(theirs, on="unique_id", how="full", coalesce=True)
        same = joined.select(
            ((pl.col("mase") - pl.col("stored")).abs() < 1e-9)
            | (pl.col("mase").is_null() & pl.col("stored").is_null())).to_series().all()
        out["matches_pipeline_forecast_backtest"] = bool(same)
    return out


def pooled(frame: pl.DataFrame, column: str) -> float | None:
    """Share of all scored points: the per-series shares weighted by their points."""
    points = frame["n_points"].sum()
    return float((frame[column] * frame["n_points"]).sum() / points) if points else None


def coverage_interval(points: pl.DataFrame, level: int, seed: int = 0) -> list[float] | None:
    """90% block-bootstrap interval of the pooled coverage of the `level`% intervals.

    points: `BacktestDetail.points`. Blocks are (series, test window): errors within a
    window are correlated (a level shift misses many days at once), so points are not
    resampled one by one (Kunsch 1989, "The jackknife and the bootstrap for general
    stationary observations", Ann. Statist. 17(3)). Windows of one series are treated as
    independent, so the interval is, if anything, too narrow.
    """
    import numpy as np

    if points.is_empty():
        return None
    blocks = (points.group_by("unique_id", "window")
              .agg(((pl.col(f"lo_{level}") <= pl.col("actual"))
                    & (pl.col("actual") <= pl.col(f"hi_{level}"))).sum().alias("hits"),
                   pl.len().alias("n")))
    hits, n = blocks["hits"].to_numpy(), blocks["n"].to_numpy()
    draws = np.random.default_rng(seed).integers(0, len(n), (BOOTSTRAP_DRAWS, len(n)))
    shares = hits[draws].sum(axis=1) / n[draws].sum(axis=1)
    return [float(np.quantile(shares, 0.05)), float(np.quantile(shares, 0.95))]


def model_ratios(detail) -> dict:
    """Mean MASE (and RMSSE) of the chosen forecasts, seasonal naive, and every candidate
    used for all series it is a candidate for, and each one's ratio to seasonal naive's
    mean on the same series; coverage of the 80/95% intervals, pooled over the scored
    points, with a 90% block-bootstrap interval for the chosen forecast's."""
    scored = detail.result.filter(pl.col("mase").is_not_null()
                                  & pl.col("mase_seasonal_naive").is_not_null()
                                  & (pl.col("n_points") > 0))
    points = detail.points.join(scored.select("unique_id"), on="unique_id", how="semi")
    out = {"series": scored.height, "points": int(scored["n_points"].sum()),
           "chosen": {"mase": scored["mase"].mean(),
                      "mase_seasonal_naive": scored["mase_seasonal_naive"].mean(),
                      "ratio": scored["mase"].mean() / scored["mase_seasonal_naive"].mean(),
                      "rmsse_ratio": (scored["rmsse"].mean()
                                      / scored["rmsse_seasonal_naive"].mean()),
                      "coverage_80": pooled(scored, "coverage_80"),
                      "coverage_95": pooled(scored, "coverage_95"),
                      "coverage_80_interval": coverage_interval(points, 80),
                      "coverage_95_interval": coverage_interval(points, 95)},
           "models": {}}
    by_model = detail.by_model.join(
        scored.select("unique_id", "mase_seasonal_naive", "rmsse_seasonal_naive"),
        on="unique_id").filter(pl.col("mase").is_not_null())
    for (model,), part in sorted(by_model.group_by("model"), key=lambda kv: kv[0]):
        out["models"][model] = {
            "series": part.height, "mase": part["mase"].mean(),
            "ratio": part["mase"].mean() / part["mase_seasonal_naive"].mean(),
            "rmsse_ratio": part["rmsse"].mean() / part["rmsse_seasonal_naive"].mean(),
            "coverage_80": pooled(part, "coverage_80"),
            "coverage_95": pooled(part, "coverage_95")}
    return out


def real_windows(data, cv_windows: int = CV_WINDOWS) -> int:
    """Test windows for a real panel: as many as leave its longest series a production
    fit (forecasting.history.FIT_PERIODS) and the CV windows before the first test
    window, between 3 and MAX_REAL_WINDOWS."""
    from forecasting.history import FIT_PERIODS

    fit = FIT_PERIODS["weekly" if data.season_length == 52 else "daily"]
    longest = data.history.group_by("unique_id").len()["len"].max()
    room = (longest - fit) // data.horizon - cv_windows
    return max(BACKTEST_WINDOWS, min(MAX_REAL_WINDOWS, room))


def real_accuracy() -> list[dict]:
    """`backtest_detail` on each real panel of benchmarks/real_data.py (`real_windows` test
    windows of the set's horizon, 2 CV windows). Independent series (M4) end at their own
    dates (series_end="own") and get no store-wide yearly index."""
    from benchmarks.real_data import forecast_sets
    from forecasting import backtest_detail
    from forecasting.demand import SeriesEndedEarlyWarning

    rows = []
    for data in forecast_sets():
        independent = data.name.startswith("m4")
        windows = real_windows(data)
        started = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SeriesEndedEarlyWarning)
            detail = backtest_detail(data.history, data.horizon, windows=windows,
                                     season_length=data.season_length,
                                     series_end="own" if independent else "frame",
                                     yearly=not independent)
        seconds = time.perf_counter() - started
        ratios = model_ratios(detail)
        rows.append({"name": data.name, "description": data.description,
                     "series": data.history["unique_id"].n_unique(),
                     "periods": data.history.height, "season_length": data.season_length,
                     "horizon": data.horizon, "windows": windows,
                     "backtest_s": round(seconds, 1),
                     "models_chosen": dict(detail.result.group_by("model").len().sort("model")
                                           .iter_rows()),
                     **ratios})
        print(f"{data.name}: {windows} windows, chosen ratio {ratios['chosen']['ratio']:.3f}, "
              f"coverage {pct(ratios['chosen']['coverage_80'])} / "
              f"{pct(ratios['chosen']['coverage_95'])} ({seconds:.1f} s)", flush=True)
    return rows


def ratio_table(sets: list[dict]) -> list[str]:
    """Data sets x (chosen, Ensemble, single models): mean MASE ratio to seasonal naive."""
    models = sorted({m for s in sets for m in s["models"] if m != "SeasonalNaive"},
                    key=lambda m: (m != "Ensemble", m))
    lines = ["| data set | series scored | test windows | SN MASE | chosen | "
             + " | ".join(models) + " | chosen RMSSE ratio |",
             "|---|---|---|---|---|" + "---|" * len(models) + "---|"]
    for s in sets:
        cells = [fmt(s["models"][m]["ratio"]) if m in s["models"] else "" for m in models]
        lines.append(f"| {s['name']} | {s['series']} | {s['windows']} | "
                     f"{fmt(s['chosen']['mase_seasonal_naive'])}"
                     f" | **{fmt(s['chosen']['ratio'])}** | " + " | ".join(cells)
                     + f" | {fmt(s['chosen']['rmsse_ratio'])} |")
    return lines


def within(value: float | None, nominal: int, points: float = 3.0) -> str:
    return "n/a" if value is None else (
        "yes" if abs(100 * value - nominal) <= points else "no")


def interval_cell(value: float | None, interval: list[float] | None) -> str:
    if interval is None:
        return pct(value)
    return f"{pct(value)} ({100 * interval[0]:.1f} to {100 * interval[1]:.1f})"


def chosen_coverage_table(sets: list[dict]) -> list[str]:
    """The chosen forecast's coverage per data set, its 90% bootstrap interval, and
    whether it is within 3 points of nominal."""
    lines = [("| data set | series | test windows | points | cover 80 (90% interval) | "
              "within 3 pts | cover 95 (90% interval) | within 3 pts |"),
             "|---|---|---|---|---|---|---|---|"]
    for s in sets:
        c = s["chosen"]
        lines.append(
            f"| {s['name']} | {s['series']} | {s['windows']} | {s['points']:,} | "
            f"{interval_cell(c['coverage_80'], c['coverage_80_interval'])} | "
            f"{within(c['coverage_80'], 80)} | "
            f"{interval_cell(c['coverage_95'], c['coverage_95_interval'])} | "
            f"{within(c['coverage_95'], 95)} |")
    return lines


def pooled_coverage(real: list[dict]) -> list[str]:
    """One line: the real panels' points pooled, and how many panels are below nominal."""
    points = sum(s["points"] for s in real)
    if not points:
        return []
    cover = {lvl: sum(s["chosen"][f"coverage_{lvl}"] * s["points"] for s in real) / points
             for lvl in (80, 95)}
    below = {lvl: sum(s["chosen"][f"coverage_{lvl}"] < lvl / 100 for s in real)
             for lvl in (80, 95)}
    return [(f"All {len(real)} real panels pooled ({points:,} points): {pct(cover[80])} / "
             f"{pct(cover[95])}; below nominal on {below[80]} of {len(real)} panels at 80% "
             f"and {below[95]} of {len(real)} at 95%.")]


def coverage_table(sets: list[dict]) -> list[str]:
    lines = ["| data set | model | cover 80 | cover 95 | RMSSE ratio to SN |",
             "|---|---|---|---|---|"]
    for s in sets:
        for model, m in [("chosen", s["chosen"]), *sorted(s["models"].items())]:
            lines.append(f"| {s['name']} | {model} | {pct(m['coverage_80'])} | "
                         f"{pct(m['coverage_95'])} | {fmt(m.get('rmsse_ratio'))} |")
    return lines


# ----------------------------------------------------------------------- overhead

class StatsforecastClock:
    """Accumulates the wall time spent inside StatsForecast.forecast / cross_validation."""

    def __init__(self) -> None:
        from statsforecast import StatsForecast

        self.seconds = {"forecast": 0.0, "cross_validation": 0.0}
        for name in self.seconds:
            original = getattr(StatsForecast, name)

            def timed(sf, *a, _original=original, _name=name, **kw):
                started = time.perf_counter()
                try:
                    return _original(sf, *a, **kw)
                finally:
                    self.seconds[_name] += time.perf_counter() - started

            setattr(StatsForecast, name, timed)

    def reset(self) -> None:
        for name in self.seconds:
            self.seconds[name] = 0.0

    def total(self) -> float:
        return sum(self.seconds.values())


def run_storeops(history: pl.DataFrame, cores: int, clock: StatsforecastClock) -> dict:
    from forecasting import forecast_demand

    clock.reset()
    started = time.perf_counter()
    forecast = forecast_demand(history, HORIZON, n_jobs=cores)
    total = time.perf_counter() - started
    assert forecast.height == history["unique_id"].n_unique() * HORIZON
    return {"total": total, "statsforecast": clock.total()}


def run_bare(frame: pl.DataFrame, cores: int, clock: StatsforecastClock) -> dict:
    """Per series kind, its candidate models' forecast and cross-validation (frame has
    `kind`), as forecast_demand's statsforecast calls do, without anything around them."""
    from statsforecast import StatsForecast

    from forecasting.demand import candidate_models

    clock.reset()
    started = time.perf_counter()
    forecast_s = 0.0
    for kind in ("smooth", "intermittent"):
        part = frame.filter(pl.col("kind") == kind).drop("kind")
        if part.is_empty():
            continue
        sf = StatsForecast(models=candidate_models(kind, SEASON), freq="1d", n_jobs=cores)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # as forecast_demand does
            warnings.simplefilter("ignore", UserWarning)
            t = time.perf_counter()
            sf.forecast(df=part, h=HORIZON)
            forecast_s += time.perf_counter() - t
            sf.cross_validation(df=part, h=BACKTEST_HORIZON, n_windows=CV_WINDOWS,
                                step_size=BACKTEST_HORIZON)
    return {"total": time.perf_counter() - started, "forecast": forecast_s}


def median(values: list[float]) -> float:
    return round(statistics.median(values), 3)


def overhead(history: pl.DataFrame, cores: int, repeats: int,
             clock: StatsforecastClock) -> dict:
    frame = bare_frame(history).join(series_kinds(history), on="unique_id")
    warm_a = run_storeops(history, cores, clock)
    warm_b = run_bare(frame, cores, clock)
    a_runs, b_runs = [], []
    for _ in range(repeats):
        a_runs.append(run_storeops(history, cores, clock))
        b_runs.append(run_bare(frame, cores, clock))
    a = median([r["total"] for r in a_runs])
    a_sf = median([r["statsforecast"] for r in a_runs])
    b = median([r["total"] for r in b_runs])
    b_fc = median([r["forecast"] for r in b_runs])
    return {
        "series": history["unique_id"].n_unique(),
        "bare_frame_rows": frame.height,
        "repeats": repeats,
        "warmup_s": {"storeops": round(warm_a["total"], 2), "bare": round(warm_b["total"], 2)},
        "storeops_runs_s": [round(r["total"], 3) for r in a_runs],
        "bare_runs_s": [round(r["total"], 3) for r in b_runs],
        "storeops_s": a,
        "storeops_inside_statsforecast_s": a_sf,
        "storeops_own_s": round(a - a_sf, 3),
        "bare_forecast_plus_cv_s": b,
        "bare_forecast_only_s": b_fc,
        "ratio_vs_bare_forecast_plus_cv": round(a / b, 3),
        "ratio_vs_bare_forecast_only": round(a / b_fc, 3),
        # Same-run split: forecast_demand's total over its own time inside statsforecast;
        # free of the drift between A and B runs on a shared machine.
        "ratio_total_vs_own_statsforecast_calls": round(a / a_sf, 3),
        "aim": 1.2,
    }


def scale_curve(history: pl.DataFrame, cores: int, repeats: int, clock: StatsforecastClock,
                full: dict) -> list[dict]:
    """Seeded random SKU subsets (each within the next); already warm, interleaved runs."""
    ids = history["unique_id"].unique().sort().sample(fraction=1.0, shuffle=True, seed=0)
    rows = []
    for n in CURVE_SIZES:
        if n >= ids.len():
            continue
        subset = history.filter(pl.col("unique_id").is_in(ids.head(n).implode()))
        frame = bare_frame(subset).join(series_kinds(subset), on="unique_id")
        a_runs, b_runs = [], []
        for _ in range(repeats):
            a_runs.append(run_storeops(subset, cores, clock))
            b_runs.append(run_bare(frame, cores, clock))
        a = median([r["total"] for r in a_runs])
        a_sf = median([r["statsforecast"] for r in a_runs])
        b = median([r["total"] for r in b_runs])
        rows.append({"skus": n, "storeops_s": a, "storeops_own_s": round(a - a_sf, 3),
                     "bare_forecast_plus_cv_s": b, "ratio": round(a / b, 3), "repeats": repeats})
    rows.append({"skus": full["series"], "storeops_s": full["storeops_s"],
                 "storeops_own_s": full["storeops_own_s"],
                 "bare_forecast_plus_cv_s": full["bare_forecast_plus_cv_s"],
                 "ratio": full["ratio_vs_bare_forecast_plus_cv"], "repeats": full["repeats"]})
    return rows


# ------------------------------------------------------------------------- report

def fmt(value, digits: int = 3) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def pct(value) -> str:
    return "n/a" if value is None else f"{100 * value:.1f}%"


def accuracy_table(rows: dict[str, dict]) -> list[str]:
    lines = [("| group | SKUs scored | MASE chosen | MASE SN | weighted MASE chosen | "
             "weighted MASE SN | beats SN | bias chosen \u2020 | bias SN \u2020 | cover 80 | "
             "cover 95 |"),
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for name, s in rows.items():
        lines.append(
            f"| {name} | {s['series_scored']} / {s['series']} | {fmt(s['mase'])} | "
            f"{fmt(s['mase_seasonal_naive'])} | {fmt(s['mase_weighted'])} | "
            f"{fmt(s['mase_seasonal_naive_weighted'])} | "
            f"{pct(s['share_beating_seasonal_naive'])} | "
            f"{fmt(s['bias_demand_skus'])} | {fmt(s['bias_seasonal_naive_demand_skus'])} | "
            f"{pct(s['coverage_80'])} | "
            f"{pct(s['coverage_95'])} |")
    return lines


def interpretation(acc: dict, ovh: dict) -> list[str]:
    o = acc["overall"]
    text = []
    better_mean = o["mase"] < o["mase_seasonal_naive"]
    better_weighted = (o["mase_weighted"] is not None and o["mase_seasonal_naive_weighted"]
                       is not None and o["mase_weighted"] < o["mase_seasonal_naive_weighted"])
    text.append(
        f"- Overall the chosen model's mean MASE is {fmt(o['mase'])} against "
        f"{fmt(o['mase_seasonal_naive'])} "
        f"for seasonal naive ({'better' if better_mean else 'not better'}), volume-weighted "
        f"{fmt(o['mase_weighted'])} against {fmt(o['mase_seasonal_naive_weighted'])} "
        f"({'better' if better_weighted else 'not better'}). It beats seasonal naive on "
        f"{pct(o['share_beating_seasonal_naive'])} of the scored SKUs; "
        f"{acc['mase_gap_vs_seasonal_naive']['worse']} SKUs are worse (median +"
        f"{acc['mase_gap_vs_seasonal_naive']['median_gap_when_worse']} MASE), "
        f"{acc['mase_gap_vs_seasonal_naive']['tied']} tie (seasonal naive chosen in every test window).")
    for group in ("by_kind", "by_abc_class"):
        for name, s in acc[group].items():
            worse = (s["series_scored"] and s["mase"] is not None
                     and s["mase_seasonal_naive"] is not None
                     and s["mase"] >= s["mase_seasonal_naive"])
            if worse:
                text.append(f"- Not better than seasonal naive for {group[3:].replace('_', ' ')} "
                            f"{name}: MASE {fmt(s['mase'])} vs {fmt(s['mase_seasonal_naive'])}.")
    for group in ("by_kind", "by_abc_class"):
        for name, s in acc[group].items():
            share = s["share_beating_seasonal_naive"]
            if s["series_scored"] and share is not None and share < 0.5:
                text.append(f"- For {group[3:].replace('_', ' ')} {name} the chosen model beats "
                            f"seasonal naive on only {pct(share)} of SKUs (mean MASE "
                            f"{fmt(s['mase'])} vs {fmt(s['mase_seasonal_naive'])}).")
    text.append(
        f"- Bias (SKUs with demand in the test windows): {fmt(o['bias_demand_skus'])} for the "
        f"chosen model, {fmt(o['bias_seasonal_naive_demand_skus'])} for seasonal naive (sum of "
        "errors / sum of actuals on scored days; negative = under-forecast).")
    text.append(
        f"- Interval coverage (mean over SKUs): {pct(o['coverage_80'])} for the 80% interval and "
        f"{pct(o['coverage_95'])} for the 95% interval; the 80% interval is "
        + ("too narrow" if o["coverage_80"] < 0.77 else "too wide" if o["coverage_80"] > 0.83
           else "about right") + ", the 95% interval "
        + ("too narrow" if o["coverage_95"] < 0.92 else "too wide" if o["coverage_95"] > 0.98
           else "about right") + " (+/- 3 points tolerance). Daily counts are discrete and "
        "many days are 0, so coverage of a mostly-zero series is lumpy.")
    ratio = ovh["ratio_vs_bare_forecast_plus_cv"]
    text.append(
        f"- Overhead: forecast_demand takes {fmt(ovh['storeops_s'], 2)} s against "
        f"{fmt(ovh['bare_forecast_plus_cv_s'], 2)} s for the bare forecast + cross-validation, "
        "ratio "
        f"{fmt(ratio, 2)} ({'within' if ratio <= 1.2 else 'above'} the 1.2 aim). Of its time, "
        f"{fmt(ovh['storeops_inside_statsforecast_s'], 2)} s is spent inside the two statsforecast "
        f"calls and {fmt(ovh['storeops_own_s'], 2)} s in storeops' own polars work (validation, "
        f"grid, censoring, selection, intervals). Against the bare forecast call alone "
        f"({fmt(ovh['bare_forecast_only_s'], 2)} s) the ratio is "
        f"{fmt(ovh['ratio_vs_bare_forecast_only'], 2)}: most of that is the cross-validation the "
        f"per-SKU model choice needs, not overhead.")
    return text


def args_repeats(report: dict) -> int:
    return report["overhead"]["repeats"]


def write_results(report: dict) -> None:
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "forecast.json").write_text(json.dumps(report, indent=2) + "\n")
    acc, ovh, meta = report["accuracy"], report["overhead"], report["meta"]
    o = acc["overall"]
    lines = [
        (f"# Forecast benchmark (demo store scale {meta['scale']}, {meta['skus']} SKUs x "
        f"{meta['days']} days, {meta['cores']} cores)"),
        "",
        f"As of {meta['as_of']}; statsforecast {meta['versions']['statsforecast']}, polars "
        f"{meta['versions']['polars']}. Command: `{meta['command']}`. Benchmark runtime "
        f"{meta['runtime_s']} s (plus {meta['home_build_s']} s building the demo home)."
        if meta["home_build_s"] is not None else
        f"As of {meta['as_of']}; statsforecast {meta['versions']['statsforecast']}, polars "
        f"{meta['versions']['polars']}. Command: `{meta['command']}`. Benchmark runtime "
        f"{meta['runtime_s']} s (existing home).",
        "",
        "## Accuracy: backtest against seasonal naive (SN)",
        "",
        (f"`backtest(history, {BACKTEST_HORIZON}, windows={BACKTEST_WINDOWS})` as the pipeline "
         "runs it "
        f"({acc['backtest_s']} s): 3 consecutive held-out windows of 28 days, the model for each "
        "chosen by 2 cross-validation windows before it. Scored on observed in-stock days "
        "(promotion days included, forecast lifted by the measured uplift). MASE scale = "
        "in-sample seasonal-naive MAE on the training days. Means are over SKUs; weighted = "
        "by units demanded in the test windows; bias = sum(error)/sum(actual)."),
        "",
        *accuracy_table({"all": o}),
        "",
        (f"\u2020 bias over the scored SKUs that sold something on their scored days. "
        f"`summarise_backtest` returns NaN bias here (chosen: {fmt(o['bias'])}, SN: "
        f"{fmt(o['bias_seasonal_naive'])}) because {o['scored_skus_without_demand']} scored SKUs "
        "sold nothing in the test windows (per-SKU bias x/0), see the notes."),
        "",
        "By series kind (classified on the training data, Syntetos-Boylan ADI > 1.32):",
        "",
        *accuracy_table(acc["by_kind"]),
        "",
        "By ABC class (marts.dim_products):",
        "",
        *accuracy_table(acc["by_abc_class"]),
        "",
        "By model chosen for the last window:",
        "",
        *accuracy_table(acc["by_model_chosen"]),
        "",
        "Models chosen (last window): " + ", ".join(
            f"{m} {n}" for m, n in acc["models_chosen"].items()) + ".",
    ]
    if report.get("real"):
        demo = {"name": "demo store", "windows": BACKTEST_WINDOWS, **acc["ratios"]}
        sets = [demo, *report["real"]]
        lines += [
            "", "## The demo and real data: mean MASE ratio to seasonal naive", "",
            ("Each cell: mean MASE of that forecast over the series it applies to, divided by "
             "seasonal naive's mean MASE on the same series (< 1 is better). **chosen** is what "
             "forecast_demand gives (per series and window: the Ensemble unless a single "
             "model beat it by 10% in cross-validation); the other columns use one model for "
             "every series of its kind (smooth models for smooth series, the Croston family "
             "for intermittent ones). The demo: the pipeline's 3 test windows of 28 days. "
             "Real panels (read out of package wheels by benchmarks/real_data.py) hold 1 to "
             "97 series, so they get more test windows of the horizon below: as many as "
             "leave their longest series a production-length fit (364 days, 156 weeks) and "
             f"the 2 cross-validation windows before the first, between 3 and "
             f"{MAX_REAL_WINDOWS}. RMSSE ratio: the same on root mean squared scaled errors "
             "(the criterion intermittent series are chosen on)."),
            "", *ratio_table(sets), "",
            ("Interval coverage of the chosen forecast on the held-out windows, pooled "
             "over the scored points, with a 90% block-bootstrap interval (blocks: one "
             "series' test window) and whether it is within 3 points of nominal:"), "",
            *chosen_coverage_table(sets), "", *pooled_coverage(report["real"]), "",
            "| data set | what | season | horizon | backtest s | chosen in the last window |",
            "|---|---|---|---|---|---|",
            *(f"| {r['name']} | {r['description']}, {r['series']} series, {r['periods']:,} "
              f"periods | {r['season_length']} | {r['horizon']} | {r['backtest_s']} | "
              + ", ".join(f"{m} {n}" for m, n in r["models_chosen"].items()) + " |"
              for r in report["real"]),
            "", ("Every model's coverage on the held-out windows (pooled over points; "
                 "conformal intervals from each model's own cross-validation errors, relative "
                 "to the Ensemble's level for smooth series, inflated by how they held on the "
                 "last cross-validation window) and its RMSSE ratio "
                 "to seasonal naive:"), "",
            *coverage_table(sets),
        ]
    if "matches_pipeline_forecast_backtest" in acc:
        lines += ["", ("Per-SKU MASE identical to the pipeline's analytics.forecast_backtest: "
                  f"{'yes' if acc['matches_pipeline_forecast_backtest'] else 'NO'}.")]
    lines += [
        "",
        "## Overhead: forecast_demand vs bare statsforecast",
        "",
        (f"Same process, {ovh['series']} SKUs, horizon {HORIZON}, n_jobs={meta['cores']}; "
         "one warm-up "
        f"each, then {ovh['repeats']} interleaved runs, medians. Bare baseline (its input frame, "
        f"{ovh['bare_frame_rows']:,} rows of raw y over the last {FIT_DAYS} days, is prepared "
        "before the clock starts): `StatsForecast(models=candidate_models(7), freq='1d', "
        "n_jobs=cores)`, `.forecast(h=56, level=[80, 95])` then `.cross_validation(h=28, "
        "n_windows=2, step_size=28)`. forecast_demand is timed end to end from the raw history "
        "(see below)."),
        "",
        "| | seconds (median) | runs |",
        "|---|---|---|",
        (f"| forecast_demand(history, 56) | {fmt(ovh['storeops_s'], 2)} | "
        f"{', '.join(fmt(x, 2) for x in ovh['storeops_runs_s'])} |"),
        (f"| of which inside StatsForecast.forecast + cross_validation | "
        f"{fmt(ovh['storeops_inside_statsforecast_s'], 2)} | |"),
        f"| of which storeops' own work | {fmt(ovh['storeops_own_s'], 2)} | |",
        (f"| bare forecast + cross_validation | {fmt(ovh['bare_forecast_plus_cv_s'], 2)} | "
        f"{', '.join(fmt(x, 2) for x in ovh['bare_runs_s'])} |"),
        f"| bare forecast only | {fmt(ovh['bare_forecast_only_s'], 2)} | |",
        (f"| **ratio forecast_demand / bare forecast + CV** (aim <= 1.2) | "
        f"**{fmt(ovh['ratio_vs_bare_forecast_plus_cv'], 2)}** | |"),
        (f"| ratio forecast_demand / bare forecast only | "
        f"{fmt(ovh['ratio_vs_bare_forecast_only'], 2)} | |"),
        (f"| ratio forecast_demand / its own two statsforecast calls (same run) | "
        f"{fmt(ovh['ratio_total_vs_own_statsforecast_calls'], 2)} | |"),
        "",
        report["history_rows_note"],
    ]
    if report.get("scale_curve"):
        lines += ["", "## Scale curve", "",
                  ("| SKUs | forecast_demand s | of which storeops' own s | "
                  "bare forecast + CV s | ratio |"), "|---|---|---|---|---|"]
        lines += [f"| {r['skus']} | {fmt(r['storeops_s'], 2)} | {fmt(r['storeops_own_s'], 2)} | "
                  f"{fmt(r['bare_forecast_plus_cv_s'], 2)} | {fmt(r['ratio'], 2)} |"
                  for r in report["scale_curve"]]
        lines += ["", ("Subsets are a seeded random sample of SKUs (100 within 250), timed after "
                  f"the full-panel runs (already warm), medians of {args_repeats(report)} "
                  "interleaved runs.")]
    lines += ["", "## Reading", "", *interpretation(acc, ovh), *report.get("notes", [])]
    (RESULTS / "forecast.md").write_text("\n".join(lines) + "\n")


# --------------------------------------------------------------------------- main

NOTES = [
    ("- MASE is an MAE-based score, while intermittent SKUs are chosen on cross-validated "
    "MSE (`select_models`: the mean demand rate, which replenishment needs). On mostly-zero "
    "days MAE rewards forecasts near the median (0), which seasonal naive often is; so for "
    "intermittent SKUs a loss on MASE can be the price of forecasting the mean rate. The "
    "RMSSE ratios (root mean squared scaled error, the M5 measure) match that criterion."),
    ("- The backtest fits each window on all data before its cutoff (statsforecast "
    "cross_validation without input_size): 420 to 476 days for the test windows, against "
    "364 in production, so it replays production with slightly longer histories."),
    ("- Not computed: accuracy against the generator's true (uncensored) demand on stockout "
    "days; `backtest_detail(...).points` now returns the per-day forecasts it needs."),
    ("- Coverage on the real panels: the 90% intervals of the small panels (1 to 10 series) "
    "are 10 to 20 points wide, so one such panel cannot show coverage within 3 points "
    "either way; their pooled figure (under the coverage table) and the direction they share "
    "can."),
]

def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--home", type=Path, help="reuse a home built by `storeops demo`")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--no-curve", action="store_true", help="skip the 100/250 SKU curve")
    parser.add_argument("--no-real", action="store_true", help="skip the real data sets")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    import polars
    import statsforecast

    cores = os.cpu_count() or 1
    work = None
    home_build_s = None
    if args.home is None:
        work = Path(tempfile.mkdtemp(prefix="storeops-fc-"))
        home = work / "home"
        print(f"building demo home (scale {args.scale}) in {home} ...", flush=True)
        home_build_s = round(build_home(args.scale, home), 1)
    else:
        home = args.home
    try:
        started = time.perf_counter()
        history, abc, as_of, stored = load(home)
        print(f"history: {history.height:,} rows, {history['unique_id'].n_unique()} SKUs",
              flush=True)
        clock = StatsforecastClock()
        real = [] if args.no_real else real_accuracy()
        acc = accuracy(history, abc, cores, stored)
        print(json.dumps(acc["overall"]), flush=True)
        ovh = overhead(history, cores, args.repeats, clock)
        print(json.dumps({k: v for k, v in ovh.items() if not k.endswith("runs_s")}), flush=True)
        curve = [] if args.no_curve else scale_curve(history, cores, args.repeats, clock, ovh)
        runtime = round(time.perf_counter() - started, 1)
    finally:
        if work is not None:
            shutil.rmtree(work, ignore_errors=True)
    command = "uv run python benchmarks/forecast.py" + (
        f" --scale {args.scale:g}" if args.scale != 1 else "") + (
        f" --repeats {args.repeats}" if args.repeats != 3 else "") + (
        " --home <home>" if args.home else "") + (" --no-curve" if args.no_curve else "") + (
        " --no-real" if args.no_real else "")
    report = {
        "meta": {
            "scale": args.scale, "skus": history["unique_id"].n_unique(),
            "days": history["ds"].n_unique(), "as_of": as_of.isoformat(), "cores": cores,
            "versions": {"statsforecast": statsforecast.__version__, "polars": polars.__version__},
            "command": command, "home_build_s": home_build_s, "runtime_s": runtime,
            "date": dt.date.today().isoformat(),
        },
        "accuracy": acc,
        "real": real,
        "overhead": ovh,
        "scale_curve": curve,
        "history_rows_note": (
            "forecast_demand's time includes everything it does from the raw history "
            f"({history.height:,} rows, 2 years): validation, the regular grid, classification, "
            "stockout/promotion censoring, cutting to the last 364 days, both statsforecast calls "
            "(on the modelled SKUs only; zero-demand SKUs get 0 without a fit), model selection, "
            "conformal intervals and the output frame. No planned promotions are passed. The bare "
            "baseline has no fallback_model (forecast_demand's StatsForecast has SeasonalNaive as "
            "fallback, which only acts when a model raises)."),
        "notes": NOTES,
    }
    write_results(report)
    print((RESULTS / "forecast.md").read_text())


if __name__ == "__main__":
    main()
