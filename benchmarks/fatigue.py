"""Creative fatigue alerts on demo stores: recall of the planted fatigue, false alerts, delay.

For every `--home` (a built demo store: warehouse.duckdb and demo_truth/creative_fatigue.csv):

1. Reads marts.fct_ad_daily (read-only) and scores every day of every ad's life in one
   call, as_of = the last day of the data, with `models.fatigue.score_ad_days` (trailing
   windows only, so one call equals replaying the pipeline each morning). Alert days less
   than a week apart are one alert (`alert_episodes`), dated by its first day.
2. Two rules of thumb on the same ad-days, the same age gate (an ad is scored from its
   22nd active day, like storeops) and the same volume floor (500 impressions in the
   week): `ctr_below_80pct_lifetime` (7-day CTR below 80% of the ad's CTR from launch to
   that day) and `frequency_above_3` (7-day frequency above 3; Meta only, TikTok reports
   no reach).
3. Against the answer key: a fatigued creative is detected when an alert starts between
   its fatigue onset and onset + DETECTION_DAYS; the delay is from onset to that alert. A
   false alert is an alert on a creative that never wore out, or one that starts before
   its onset. False alerts per 100 creative-months count every creative's live days;
   precision = alerts starting on a worn-out creative after its onset / all alerts.
4. On the `--dev-seed` homes only: a sweep of storeops' thresholds (how they were chosen).

Writes benchmarks/results/fatigue.md and fatigue.json.

    uv run python benchmarks/fatigue.py --home /tmp/fat_dev7 --home /tmp/fat_eval23 \
        --home /tmp/fat_eval41 --dev-seed 7
"""

from __future__ import annotations

import argparse
import itertools
import json
import statistics
import time
from datetime import date
from importlib import metadata
from pathlib import Path

import duckdb
import polars as pl

from models import fatigue
from models.fatigue import AD_KEY, alert_episodes, score_ad_days

RESULTS = Path(__file__).parent / "results"
DETECTION_DAYS = 28
MONTH_DAYS = 30.44
SWEEP = {"CTR_DROP": (0.15, 0.20, 0.25, 0.30), "FREQUENCY_RISE": (0.10, 0.25, 0.50),
         "COST_PER_RESULT_RISE": (0.40, 0.60, 1.00)}
MODELS = ("storeops", "ctr_below_80pct_lifetime", "frequency_above_3")


def load(home: Path) -> tuple[pl.DataFrame, pl.DataFrame, dict]:
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as con:
        ads = con.sql("select * from marts.fct_ad_daily").pl()
    truth = pl.read_csv(home / "demo_truth" / "creative_fatigue.csv", try_parse_dates=True,
                        schema_overrides={"retired": pl.Date, "fatigue_onset": pl.Date})
    parameters = json.loads((home / "demo_truth" / "summary.json").read_text())["parameters"]
    return ads, truth, parameters


def rules_of_thumb(ads: pl.DataFrame, scores: pl.DataFrame) -> dict[str, pl.DataFrame]:
    """The two rules of thumb on the ad-days storeops scores (same age gate and floor)."""
    daily = (ads.filter(pl.col("ad_name").is_not_null())
             .with_columns(pl.col("ad_group_name").fill_null(""))
             .group_by(*AD_KEY, "ad_date")
             .agg(pl.col("impressions").sum().cast(pl.Float64),
                  pl.col("clicks").sum().cast(pl.Float64),
                  pl.col("impressions").filter(pl.col("reach").is_not_null()).sum()
                  .cast(pl.Float64).alias("reach_impressions"),
                  pl.col("reach").sum().cast(pl.Float64)))
    days = (scores.select(*AD_KEY, "ad_date", "launched_date", "recent_ctr")
            .join(daily, on=[*AD_KEY, "ad_date"], how="left"))
    # calendar from launch, so the lifetime and 7-day sums see every day
    calendar = (scores.group_by(AD_KEY).agg(pl.col("launched_date").first(),
                                            pl.col("ad_date").max().alias("last"))
                .with_columns(pl.date_ranges("launched_date", "last").alias("ad_date"))
                .explode("ad_date").drop("last", "launched_date")
                .join(daily, on=[*AD_KEY, "ad_date"], how="left")
                .with_columns(pl.col("impressions", "clicks", "reach_impressions", "reach")
                              .fill_null(0.0))
                .sort(*AD_KEY, "ad_date")
                .with_columns(
                    (pl.col("clicks").cum_sum() / pl.col("impressions").cum_sum()).over(AD_KEY)
                    .alias("lifetime_ctr"),
                    (pl.col("reach_impressions").rolling_sum(7, min_samples=1)
                     / pl.col("reach").rolling_sum(7, min_samples=1)).over(AD_KEY)
                    .alias("frequency_7d")))
    days = days.select(*AD_KEY, "ad_date", "recent_ctr").join(
        calendar.select(*AD_KEY, "ad_date", "lifetime_ctr", "frequency_7d"),
        on=[*AD_KEY, "ad_date"], how="left")
    return {
        "ctr_below_80pct_lifetime": days.with_columns(
            (pl.col("recent_ctr") < 0.8 * pl.col("lifetime_ctr")).fill_null(False)
            .alias("is_alert")),
        "frequency_above_3": days.with_columns(
            (pl.col("frequency_7d") > 3).fill_null(False).alias("is_alert")),
    }


def evaluate(episodes: pl.DataFrame, truth: pl.DataFrame, as_of: date) -> dict:
    """Recall within DETECTION_DAYS of onset, median delay, false alerts and precision."""
    key = ["channel", "campaign_name", "ad_name"]
    creatives = truth.rename({"platform": "channel"}).with_columns(
        pl.col("retired").fill_null(as_of).alias("last_day"))
    live_days = int(((creatives["last_day"] - creatives["launched"]).dt.total_days() + 1).sum())
    joined = episodes.join(creatives, on=key, how="left")
    unknown = joined.filter(pl.col("launched").is_null()).height
    joined = joined.with_columns(
        (pl.col("fatigued").fill_null(False)
         & (pl.col("first_alert_date") >= pl.col("fatigue_onset"))).alias("is_true"))
    true = joined.filter(pl.col("is_true"))
    first = (true.group_by(key).agg(pl.col("first_alert_date").min())
             .join(creatives.filter(pl.col("fatigued")), on=key)
             .with_columns((pl.col("first_alert_date") - pl.col("fatigue_onset")).dt.total_days()
                           .alias("delay_days"))
             .filter(pl.col("delay_days") <= DETECTION_DAYS))
    planted = int(creatives["fatigued"].sum())
    false = joined.filter(~pl.col("is_true"))
    months = live_days / MONTH_DAYS
    return {
        "creatives": creatives.height, "fatigued": planted, "creative_months": round(months, 1),
        "detected": first.height, "recall": first.height / planted if planted else None,
        "median_delay_days": statistics.median(first["delay_days"].to_list())
        if first.height else None,
        "delays": sorted(first["delay_days"].to_list()),
        "alerts": joined.height, "true_alerts": true.height, "false_alerts": false.height,
        "false_alerted_creatives": false.select(key).unique().height,
        "false_before_onset": false.filter(pl.col("fatigued").fill_null(False)).height,
        "false_per_100_creative_months": 100 * false.height / months if months else None,
        "precision": true.height / joined.height if joined.height else None,
        "alerts_on_unknown_ads": unknown,
        "missed": creatives.filter(pl.col("fatigued")).join(first.select(key), on=key,
                                                            how="anti")
        .select(*key, pl.col("fatigue_onset").cast(pl.String),
                ((pl.col("last_day") - pl.col("fatigue_onset")).dt.total_days() + 1)
                .alias("fatigue_days")).to_dicts(),
    }


def evaluate_home(home: Path) -> dict:
    ads, truth, parameters = load(home)
    as_of = ads["ad_date"].max()
    started = time.perf_counter()
    scores = score_ad_days(ads, as_of=as_of)
    seconds = time.perf_counter() - started
    started = time.perf_counter()
    alerts = fatigue.creative_alerts(ads, as_of=as_of)
    alert_seconds = time.perf_counter() - started
    frames = {"storeops": scores, **rules_of_thumb(ads, scores)}
    evaluation = {name: evaluate(alert_episodes(frame), truth, as_of)
                  for name, frame in frames.items()}
    per_channel = {}
    for channel in ("meta", "tiktok"):
        per_channel[channel] = {
            name: evaluate(alert_episodes(frame.filter(pl.col("channel") == channel)),
                           truth.filter(pl.col("platform") == channel), as_of)
            for name, frame in frames.items()}
    by_rule = {}
    for rule in ("is_ctr_alert", "is_cost_alert"):
        only = scores.with_columns(pl.col(rule).alias("is_alert"))
        by_rule[rule] = evaluate(alert_episodes(only), truth, as_of)
    return {"home": str(home), "seed": parameters["seed"], "scale": parameters["scale"],
            "days": parameters["days"], "as_of": as_of.isoformat(), "ad_days": ads.height,
            "scored_ad_days": scores.height, "evaluation": evaluation,
            "per_channel": per_channel, "by_rule": by_rule, "ads": ads, "truth": truth,
            "alerts_as_of": alerts.height,
            "seconds": {"score_ad_days": seconds, "creative_alerts": alert_seconds}}


def sweep(dev: list[dict]) -> list[dict]:
    """storeops' recall and false alerts on the dev homes for each threshold combination."""
    defaults = {name: getattr(fatigue, name) for name in SWEEP}
    rows = []
    try:
        for values in itertools.product(*SWEEP.values()):
            for name, value in zip(SWEEP, values):
                setattr(fatigue, name, value)
            detected = planted = false = 0
            months = 0.0
            delays: list[int] = []
            for result in dev:
                scores = score_ad_days(result["ads"], as_of=date.fromisoformat(result["as_of"]))
                e = evaluate(alert_episodes(scores), result["truth"],
                             date.fromisoformat(result["as_of"]))
                detected += e["detected"]
                planted += e["fatigued"]
                false += e["false_alerts"]
                months += e["creative_months"]
                delays += e["delays"]
            rows.append({**dict(zip(SWEEP, values)), "detected": detected, "fatigued": planted,
                         "false_alerts": false,
                         "false_per_100_creative_months": 100 * false / months,
                         "median_delay_days": statistics.median(delays) if delays else None,
                         "is_default": values == tuple(defaults.values())})
    finally:
        for name, value in defaults.items():
            setattr(fatigue, name, value)
    return rows


def pct(a: int, b: int) -> str:
    return f"{a}/{b} ({a / b:.0%})" if b else "n/a"


def fmt(value, digits: int = 2) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"


def summed(results: list[dict], model: str, path=lambda r: r["evaluation"]) -> dict:
    parts = [path(r)[model] for r in results]
    detected, planted = sum(p["detected"] for p in parts), sum(p["fatigued"] for p in parts)
    alerts, false = sum(p["alerts"] for p in parts), sum(p["false_alerts"] for p in parts)
    months = sum(p["creative_months"] for p in parts)
    delays = [d for p in parts for d in p["delays"]]
    return {"detected": detected, "fatigued": planted, "alerts": alerts, "false_alerts": false,
            "false_per_100_creative_months": 100 * false / months if months else None,
            "precision": (alerts - false) / alerts if alerts else None,
            "median_delay_days": statistics.median(delays) if delays else None,
            "creative_months": months, "creatives": sum(p["creatives"] for p in parts)}


def markdown(results: list[dict], dev_seeds: set[int], sweep_rows: list[dict], command: str
             ) -> str:
    held = [r for r in results if r["seed"] not in dev_seeds]
    label = lambda r: f"{r['seed']} (dev)" if r["seed"] in dev_seeds else str(r["seed"])
    lines = [
        (f"# Creative fatigue benchmark ({len(results)} demo stores, seeds "
        f"{', '.join(label(r) for r in results)})"), "",
        (f"Command: `{command}`. polars {metadata.version('polars')}, "
        f"duckdb {metadata.version('duckdb')}."), "",
        ("Each demo store rotates creatives on its Meta and TikTok campaigns (5-12 weeks each) "
        "and plants fatigue on about a third of those long enough to show it, from a known "
        "onset 3-5 weeks into the creative's life: frequency climbs, CTR decays 2-4% a day "
        "to 40-60% below its start, platform conversions follow the clicks. The others keep "
        "their CTR (a slow frequency creep, daily noise, the Q4 CPM rise). The answer key is "
        "`demo_truth/creative_fatigue.csv`."), "",
        ("Every day of every ad's life is scored as that morning would have scored it "
        "(`models.fatigue.score_ad_days`, trailing windows only); alert days less than a week "
        "apart are one alert, dated by its first day. A planted fatigue is detected when an "
        f"alert starts between its onset and onset + {DETECTION_DAYS} days; the delay is from "
        "onset to that alert. A false alert is an alert on a creative that never wore out, or "
        "one that starts before the onset. False alerts per 100 creative-months count every "
        "creative's live days. Precision = alerts after the onset of a worn-out creative / "
        "all alerts."), "",
        ("Rules of thumb on the same ad-days (same age gate: scored from the ad's 22nd active "
        "day; same floor: 500 impressions in the week): `ctr_below_80pct_lifetime` = 7-day "
        "CTR below 80% of the ad's CTR from launch to that day; `frequency_above_3` = 7-day "
        "frequency above 3 (Meta only: TikTok's report has no reach)."), "",
        ("Seeds marked (dev) were looked at while the thresholds were chosen (the sweep below); "
        "the others were generated with the detector frozen and are the held-out result."), "",
    ]

    def table(rows: list[tuple[str, dict]]) -> list[str]:
        out = [("| store | model | detected (within 28 d) | median delay (days) | alerts | false "
               "alerts | false / 100 creative-months | precision |"),
               "|---|---|---|---|---|---|---|---|"]
        for name, e in rows:
            out.append(f"| {name} | {e['model']} | {pct(e['detected'], e['fatigued'])} | "
                       f"{fmt(e['median_delay_days'], 1)} | {e['alerts']} | {e['false_alerts']} "
                       f"| {fmt(e['false_per_100_creative_months'], 1)} | "
                       f"{fmt(e['precision'])} |")
        return out

    if held:
        lines += ["## Held-out stores (the result)", ""]
        rows = [("all held out", {**summed(held, m), "model": m}) for m in MODELS]
        lines += table(rows) + [""]
        creatives = sum(r["evaluation"]["storeops"]["creatives"] for r in held)
        months = sum(r["evaluation"]["storeops"]["creative_months"] for r in held)
        lines += [f"{creatives} creatives, {months:.0f} creative-months in the held-out stores.",
                  ""]
    lines += ["## Per store", ""]
    rows = [(f"{r['home']} seed {label(r)}", {**r["evaluation"][m], "model": m})
            for r in results for m in MODELS]
    lines += table(rows) + [""]
    lines += ["## storeops per channel and per rule (all stores)", "",
              ("| population | detected | median delay | alerts | false alerts | false / 100 "
              "creative-months | precision |"), "|---|---|---|---|---|---|---|"]
    for channel in ("meta", "tiktok"):
        s = summed(results, "storeops", lambda r, c=channel: r["per_channel"][c])
        lines.append(f"| {channel} | {pct(s['detected'], s['fatigued'])} | "
                     f"{fmt(s['median_delay_days'], 1)} | {s['alerts']} | {s['false_alerts']} | "
                     f"{fmt(s['false_per_100_creative_months'], 1)} | {fmt(s['precision'])} |")
    for rule, name in (("is_ctr_alert", "CTR-and-frequency rule alone"),
                       ("is_cost_alert", "cost-per-result rule alone")):
        s = summed(results, rule, lambda r: r["by_rule"])
        lines.append(f"| {name} | {pct(s['detected'], s['fatigued'])} | "
                     f"{fmt(s['median_delay_days'], 1)} | {s['alerts']} | {s['false_alerts']} | "
                     f"{fmt(s['false_per_100_creative_months'], 1)} | {fmt(s['precision'])} |")
    lines += ["", "## Missed planted fatigue (storeops)", ""]
    missed = [(r, m) for r in results for m in r["evaluation"]["storeops"]["missed"]]
    lines += [f"- seed {label(r)}: {m['channel']} {m['campaign_name']} / {m['ad_name']}, onset "
              f"{m['fatigue_onset']}, worn out for {m['fatigue_days']} days before it was "
              "replaced or the data ended" for r, m in missed] or ["- none"]
    lines += ["", "## Threshold sweep (dev stores only)", "",
              ("How the defaults were chosen: the most planted fatigue found within 28 days at "
              "no more than about one false alert per 100 creative-months, then the shorter "
              "delay."), "",
              ("| CTR drop | frequency rise | cost per result rise | detected | median delay | "
              "false alerts | false / 100 creative-months | default |"),
              "|---|---|---|---|---|---|---|---|"]
    for s in sweep_rows:
        lines.append(f"| {s['CTR_DROP']:.0%} | {s['FREQUENCY_RISE']:.0%} | "
                     f"{s['COST_PER_RESULT_RISE']:.0%} | {pct(s['detected'], s['fatigued'])} | "
                     f"{fmt(s['median_delay_days'], 1)} | {s['false_alerts']} | "
                     f"{fmt(s['false_per_100_creative_months'], 1)} | "
                     f"{'yes' if s['is_default'] else ''} |")
    seconds = [r["seconds"]["score_ad_days"] for r in results]
    lines += ["", "## Speed", "",
              (f"Scoring every day of every ad's year: {min(seconds):.2f}-{max(seconds):.2f} s per "
              f"store ({min(r['ad_days'] for r in results)}-{max(r['ad_days'] for r in results)} "
              "ad-days in fct_ad_daily); `creative_alerts` for one as-of date: "
              f"{max(r['seconds']['creative_alerts'] for r in results):.2f} s at most."), ""]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--home", action="append", type=Path, required=True)
    parser.add_argument("--dev-seed", action="append", type=int, default=[])
    args = parser.parse_args()
    command = "uv run python benchmarks/fatigue.py " + " ".join(
        [f"--home {h}" for h in args.home] + [f"--dev-seed {s}" for s in args.dev_seed])
    results = [evaluate_home(home) for home in args.home]
    dev = [r for r in results if r["seed"] in set(args.dev_seed)]
    sweep_rows = sweep(dev) if dev else []
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "fatigue.md").write_text(markdown(results, set(args.dev_seed), sweep_rows, command))
    payload = {
        "command": command, "detection_days": DETECTION_DAYS, "dev_seeds": args.dev_seed,
        "thresholds": {name: getattr(fatigue, name) for name in
                       ("BASELINE_DAYS", "RECENT_DAYS", "CTR_DROP", "FREQUENCY_RISE",
                        "COST_PER_RESULT_RISE", "ALPHA", "MIN_RECENT_IMPRESSIONS")},
        "stores": [{k: v for k, v in r.items() if k not in ("ads", "truth")} for r in results],
        "held_out": {m: summed([r for r in results if r["seed"] not in set(args.dev_seed)], m)
                     for m in MODELS},
        "sweep": sweep_rows,
    }
    (RESULTS / "fatigue.json").write_text(json.dumps(payload, indent=2, default=str) + "\n")
    print((RESULTS / "fatigue.md").read_text())


if __name__ == "__main__":
    main()
