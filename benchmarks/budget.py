"""Budget advice: are the response curves right, and is their advice worth following?

On demo stores, whose paid acquisition follows response curves the generator planted
(orchestration.demo.response; answer key in demo_truth/response_curves.json):

1. Recovery, as of the store's last day: per paid channel the fitted marginal new
   customers per $100 at today's spend against the planted curve's, and whether the
   truth is inside the fitted 90% interval.
2. The advice's true worth: the weekly change in new customers and in value (CM2 in the
   first 90 days per new customer, as the advice uses) if the suggested split had been
   followed, computed on the planted curves, against keeping today's split (0 by
   definition) and against the advice a constant ROAS gives (move half of the budget of
   the channel with the worst average return to the one with the best: what CAC or ROAS
   tables suggest).
3. Forecasts of days the curves did not see: curves fitted up to a cutoff predict the
   next 8 weeks' new customers per channel from the spend actually run; the baseline is
   a constant CAC (each dollar brings what a dollar brought in the 28 days before the
   cutoff). Cutoffs every 8 weeks over the store's last year; weekly mean absolute error,
   over all windows and over the windows where spend moved by more than 15%.

    .venv/bin/python benchmarks/budget.py --home /tmp/bud7 --home /tmp/bud11
    .venv/bin/python benchmarks/budget.py --scale 1 --seed 7    # build a demo home first
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb
import numpy as np
import polars as pl

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
RESULTS = Path(__file__).parent / "results"

from models.budget import (
    ResponseCurve,
    allocate_budget,
    budget_recommendations,
    channel_series,
    holdout_evaluation,
)
from models.warehouse import budget_inputs
from orchestration.demo.response import (
    score_recommendations,
    true_new_customers,
)

HOLDOUT_DAYS = 56


def _as_of(con) -> dt.date:
    return con.sql("select max(channel_date) from marts.fct_channel_daily").fetchall()[0][0]


def constant_roas_advice(table: pl.DataFrame, amount: float | None = None) -> dict[str, float]:
    """Move `amount` a day (default: half its budget) from the channel with the worst
    average return to the one with the best."""
    fitted = table.filter(pl.col("status") != "no_curve").sort("average_return")
    spend = dict(zip(table["channel"], table["current_spend"], strict=True))
    if fitted.height < 2:
        return spend
    worst, best = fitted["channel"][0], fitted["channel"][-1]
    moved = spend[worst] / 2 if amount is None else min(amount, spend[worst])
    spend[worst] -= moved
    spend[best] += moved
    return spend


def oracle_advice(table: pl.DataFrame, daily: pl.DataFrame, as_of: dt.date, truth: Path
                  ) -> dict[str, float]:
    """The best split at today's total under the planted curves, within the same bounds
    the advice keeps (no channel moved by more than half, no spend beyond 1.25x the
    highest 28-day spend seen): what perfect curves would have advised."""

    curves_truth = json.loads((truth / "response_curves.json").read_text())["platforms"]
    demand = float(pl.read_csv(truth / "response_daily.csv").filter(
        pl.col("platform") == "meta").tail(28)["unpaid_new_customers"].mean())
    series, _ = channel_series(daily, daily["date"].min(), as_of)
    fitted = table.filter(pl.col("status") != "no_curve")
    curves, current, values = [], [], []
    for row in fitted.iter_rows(named=True):
        c = curves_truth[row["channel"]]
        spend = series[row["channel"]][0]
        avg28 = np.convolve(spend, np.ones(28) / 28, mode="valid")
        curve = ResponseCurve(
            channel=row["channel"], beta=c["beta"], half_saturation=c["half_saturation_usd_per_day"],
            shape=c["shape"], decay=c["decay"], dispersion=1.0, n_days=spend.size,
            spend_range=(float(avg28.min()), float(avg28.max())),
            theta=np.array([np.log(c["beta"]), np.log(c["half_saturation_usd_per_day"]),
                            np.log(c["shape"]), np.log(c["decay"] / (1 - c["decay"]))]),
            cov=np.zeros((4, 4)))
        curves.append(curve)
        current.append(row["current_spend"])
        values.append(row["value_per_customer"] or 1.0)
    best = allocate_budget(curves, np.array(current), np.full(len(curves), demand), np.array(values))
    out = dict(zip(table["channel"], table["current_spend"], strict=True))
    out.update({c.channel: float(b) for c, b in zip(curves, best, strict=True)})
    return out


def true_weekly_value(truth: Path, table: pl.DataFrame, spend: dict[str, float]) -> dict:
    """Weekly new customers and value under the planted curves at `spend`, minus those at
    today's spend."""
    now = dict(zip(table["channel"], table["current_spend"], strict=True))
    value = dict(zip(table["channel"], table["value_per_customer"].fill_null(1.0), strict=True))
    at_now, at_new = true_new_customers(truth, now), true_new_customers(truth, spend)
    customers = 7 * sum(at_new[c] - at_now[c] for c in at_now)
    money = 7 * sum(value[c] * (at_new[c] - at_now[c]) for c in at_now)
    return {"new_customers_per_week": customers, "value_per_week": money}


def evaluate_home(home: Path) -> dict:
    con = duckdb.connect(str(home / "warehouse.duckdb"), read_only=True)
    as_of = _as_of(con)
    daily, values, basis = budget_inputs(con, as_of)
    con.close()
    params = json.loads((home / "demo_truth" / "summary.json").read_text())["parameters"]
    started = time.perf_counter()
    table = budget_recommendations(daily, as_of=as_of, value_per_customer=values,
                                   value_basis=basis)
    fit_seconds = time.perf_counter() - started
    truth = home / "demo_truth"
    recovery = score_recommendations(table, truth)
    suggested = dict(zip(table["channel"], table["suggested_spend"], strict=True))
    moved = float((table["change_per_day"].abs().sum() or 0) / 2)
    worth = {
        "storeops": true_weekly_value(truth, table, suggested),
        "constant_roas_same_amount": true_weekly_value(
            truth, table, constant_roas_advice(table, moved)),
        "constant_roas_half_budget": true_weekly_value(truth, table, constant_roas_advice(table)),
        "planted_curves_best": true_weekly_value(truth, table,
                                                 oracle_advice(table, daily, as_of, truth)),
        "keep_today": {"new_customers_per_week": 0.0, "value_per_week": 0.0},
    }
    for name, w in worth.items():
        w["moved_per_day"] = moved if name in ("storeops", "constant_roas_same_amount") else None
    cutoffs = [as_of - dt.timedelta(days=HOLDOUT_DAYS + 56 * k) for k in range(6, -1, -1)]
    holdouts = pl.concat([holdout_evaluation(daily, cutoff=c, horizon_days=HOLDOUT_DAYS)
                          for c in cutoffs])
    curves = json.loads((truth / "response_curves.json").read_text())["platforms"]
    return {
        "home": str(home), "parameters": params, "as_of": as_of.isoformat(),
        "value_basis": basis, "fit_seconds": round(fit_seconds, 2),
        "headline": table["headline"][0],
        "table": table.select("channel", "status", "current_spend", "suggested_spend",
                              "marginal_new_customers_per_100", "marginal_lo", "marginal_hi",
                              "value_per_customer", "marginal_return", "average_return",
                              "half_saturation", "shape", "decay").to_dicts(),
        "planted": curves,
        "recovery": recovery.to_dicts(),
        "worth": worth,
        "holdout": holdouts.with_columns(pl.col("cutoff").cast(pl.String)).to_dicts(),
    }


def _holdout_summary(holdout: pl.DataFrame) -> pl.DataFrame:
    moved = holdout.with_columns((pl.col("spend_change").abs() > 0.15).alias("spend_moved"))
    parts = []
    for label, frame in (("all windows", moved),
                         ("spend moved > 15%", moved.filter(pl.col("spend_moved")))):
        if frame.is_empty():
            continue
        parts.append(frame.group_by("channel").agg(
            pl.len().alias("windows"),
            pl.col("mae_weekly_model").mean().alias("curve"),
            pl.col("mae_weekly_baseline").mean().alias("constant_cac"),
            (pl.col("mae_weekly_model") < pl.col("mae_weekly_baseline")).mean()
            .alias("curve_better_share"),
        ).with_columns(pl.lit(label).alias("windows_of")).sort("channel"))
    return pl.concat(parts).with_columns(
        (pl.col("curve") / pl.col("constant_cac")).alias("ratio"))


def _fmt(x, digits=2) -> str:
    if x is None:
        return "n/a"
    if isinstance(x, bool):
        return "yes" if x else "no"
    if isinstance(x, float):
        return f"{x:,.{digits}f}"
    return str(x)


def _md_table(frame: pl.DataFrame, digits: int = 2) -> list[str]:
    out = ["| " + " | ".join(frame.columns) + " |",
           "|" + "---|" * len(frame.columns)]
    for row in frame.iter_rows():
        out.append("| " + " | ".join(_fmt(v, digits) for v in row) + " |")
    return out


def markdown(results: list[dict], elapsed: float) -> str:
    lines = [
        "# Budget advice: response curves against the planted truth and a constant ROAS",
        "",
        ("`benchmarks/budget.py` (see its docstring). Curves: models.budget (geometric "
        "adstock x Hill saturation x a demand index, maximum likelihood with scipy, "
        "delta-method 90% intervals). Every figure below is on data the fit did not see "
        "(held-out weeks) or against the generator's answer key, which the model never "
        "reads."),
        "",
    ]
    for res in results:
        p = res["parameters"]
        lines += [(f"## Demo store seed {p['seed']}, scale {p['scale']}, {p['days']} days "
                  f"(as of {res['as_of']})"), "",
                  f"Advice: {res['headline']}", "",
                  (f"Value per new customer: {res['value_basis']}. Fit time "
                  f"{res['fit_seconds']} s for all channels."), "",
                  "### 1. Marginal new customers per $100 at today's spend", ""]
        rec = pl.DataFrame(res["recovery"]).filter(pl.col("channel") != "all")
        tab = pl.DataFrame(res["table"]).select("channel", "current_spend", "marginal_lo",
                                                "marginal_hi", "half_saturation", "decay",
                                                "shape")
        planted = pl.DataFrame([{"channel": k, "planted_half_saturation":
                                 v["half_saturation_usd_per_day"], "planted_decay": v["decay"],
                                 "planted_shape": v["shape"]} for k, v in res["planted"].items()])
        joined = (rec.join(tab, on="channel").join(planted, on="channel")
                  .select("channel", "current_spend", "fitted_marginal_per_100", "marginal_lo",
                          "marginal_hi", "true_marginal_per_100", "truth_in_interval",
                          "half_saturation", "planted_half_saturation", "decay",
                          "planted_decay", "shape", "planted_shape"))
        lines += _md_table(joined, 3) + [""]
        lines += [("### 2. What following the advice is worth on the planted curves "
                  "(per week, against keeping today's split)"), ""]
        worth = pl.DataFrame([{"advice": k, **v} for k, v in res["worth"].items()])
        lines += _md_table(worth, 1) + [""]
        lines += [("### 3. Held-out 8-week forecasts of new customers (weekly MAE, "
                  "customers per week)"), ""]
        lines += _md_table(_holdout_summary(pl.DataFrame(res["holdout"])).select(
            "windows_of", "channel", "windows", "curve", "constant_cac", "ratio",
            "curve_better_share"), 2) + [""]
    lines += [f"Total run time {elapsed:.0f} s.", ""]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--home", action="append", type=Path, default=[])
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--days", type=int, default=730)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    started = time.perf_counter()
    homes = list(args.home)
    if not homes:
        home = Path(tempfile.mkdtemp(prefix="budget_bench_"))
        subprocess.run([sys.executable, "-m", "orchestration.cli", "demo", "--home", str(home),
                        "--scale", str(args.scale), "--days", str(args.days),
                        "--seed", str(args.seed)], check=True, cwd=ROOT)
        homes = [home]
    results = [evaluate_home(h) for h in homes]
    elapsed = time.perf_counter() - started
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "budget.json").write_text(json.dumps(results, indent=2, default=str) + "\n")
    (RESULTS / "budget.md").write_text(markdown(results, elapsed))
    print(markdown(results, elapsed))


if __name__ == "__main__":
    main()
