"""Anomaly alerts on demo stores: recall of the planted incidents, false alerts, speed.

For every `--home` (a built demo store: warehouse.duckdb and demo_truth/incidents.json):

1. Reads the four marts `models.kpi_series` takes (marts.fct_daily_kpis,
   fct_channel_daily, fct_order_lines, fct_support_tickets; read-only) and builds the
   series.
2. Scores the last 365 days in one call, as_of = the last day of the data, with
   `detect_anomalies` (storeops) and `threshold_baseline` (trailing 28-day mean +- 3
   std). One call equals a day-by-day replay because every expected value is trailing;
   the replay check scores a few single days as of themselves and compares the band of
   every series with the one-call history.
3. `evaluate_alerts` against the home's planted incidents: detected = an alert incident
   of the same metric and dimension starting within [start, end + 7]; false alert
   incident = one outside every planted window (widened by the incident's known
   consequences, orchestration.demo.anomaly_evaluation.INCIDENT_EFFECTS). Supplier lead-time drift
   is not an anomaly metric and is left out of recall.
4. Timings: median of `--repeats` runs of each detector (after one warm-up).
5. A sweep of storeops' alert threshold (|robust z|) over all homes.

Writes benchmarks/results/anomalies.md and anomalies.json.

    uv run python benchmarks/anomalies.py --home /tmp/demo1h --home /tmp/s41 --dev-seed 7
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from datetime import date, timedelta
from pathlib import Path

import duckdb
import polars as pl
from scipy.stats import binom

from models.anomalies import detect
from models.anomalies.baseline import threshold_baseline
from models.anomalies.detect import detect_anomalies
from models.anomalies.metrics import METRICS
from models.anomalies.series import kpi_series
from orchestration.demo.anomaly_evaluation import evaluate_alerts, planted_incident

RESULTS = Path(__file__).parent / "results"
SCORED_DAYS = 365
SWEEP = (3.0, 3.5, 4.0, 4.5, 5.0)
REPLAY_DAYS = 6
MARTS = ("fct_daily_kpis", "fct_channel_daily", "fct_order_lines", "fct_support_tickets")


def load(home: Path) -> dict[str, pl.DataFrame]:
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as con:
        return {name: con.sql(f"select * from marts.{name}").pl() for name in MARTS}


def timed(function, repeats: int) -> tuple[object, float]:
    result = function()  # warm-up, and the result
    runs = []
    for _ in range(repeats):
        started = time.perf_counter()
        function()
        runs.append(time.perf_counter() - started)
    return result, statistics.median(runs)


def replay_check(series: pl.DataFrame, as_of: date, days: list[date]) -> dict:
    """The band of every series on day d, scored as of d (a replay of that morning) and
    in the one call over the history as of the last day: expected, lo, hi and score of
    all series must be identical (uses `detect.score_series` to see the band of
    days that did not alert)."""
    def band(frame: pl.DataFrame, day: date) -> pl.DataFrame:
        return (frame.filter(pl.col("ds") == day)
                .select("metric", "dimension", "expected", "lo", "hi", "score")
                .sort("metric", "dimension"))

    lookback = (as_of - min(days)).days + 1
    history = detect.score_series(series, as_of=as_of, lookback_days=lookback)
    same, compared = 0, 0
    for day in days:
        replay = detect.score_series(series, as_of=day, lookback_days=1)
        mine, theirs = band(replay, day), band(history, day)
        compared += mine.height
        same += mine.equals(theirs)
    return {"days": [d.isoformat() for d in days], "identical": same,
            "series_days": compared}


ACCURACY_SERIES = ("revenue|all", "orders|all", "conversion_rate|all", "aov|all",
                   "ticket_volume|all", "ticket_volume|category=order_status",
                   "first_reply_minutes|all", "revenue|channel=meta", "orders|channel=meta",
                   "spend|channel=meta")


def baseline_accuracy(series: pl.DataFrame, as_of: date, quiet_from: date) -> dict:
    """How close the expected values are, against statsforecast MSTL.

    On the store-level and Meta series of one store, over the scored year up to
    quiet_from (the planted incidents come after): median and mean absolute percentage
    error of storeops' expected value, of MSTL(season_length=[7]) refitted every week on
    all the data before it and forecasting the next 7 days (a yearly season of 364 days
    cannot be estimated from the one year before the window, and costs 8x the time), and
    of the trailing 28-day mean (the ±3σ centre). Also the seconds each takes.
    """
    import warnings

    from statsforecast import StatsForecast
    from statsforecast.models import MSTL

    sid = pl.concat_str("metric", "dimension", separator="|")
    chosen = series.filter(sid.is_in(list(ACCURACY_SERIES)))
    frame = chosen.select(sid.alias("unique_id"), "ds", pl.col("value").alias("y")).sort(
        "unique_id", "ds")
    started = time.perf_counter()
    ours = detect.score_series(chosen, as_of=as_of, lookback_days=SCORED_DAYS).select(
        pl.col("sid").alias("unique_id"), "ds", pl.col("expected").alias("storeops"))
    ours_seconds = time.perf_counter() - started
    started = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mstl = StatsForecast(models=[MSTL(season_length=[7])], freq="1d", n_jobs=1
                             ).cross_validation(df=frame, h=7, step_size=7,
                                                n_windows=SCORED_DAYS // 7)
    mstl_seconds = time.perf_counter() - started
    mean = frame.select("unique_id", "ds", pl.col("y").rolling_mean(28).shift(1)
                        .over("unique_id").alias("mean28"))
    joined = (mstl.join(ours, on=["unique_id", "ds"]).join(mean, on=["unique_id", "ds"])
              .filter(pl.col("ds") < quiet_from))

    def error(column: str) -> pl.Expr:
        return (pl.col(column) - pl.col("y")).abs() / pl.col("y").abs()

    table = joined.group_by("unique_id").agg(
        *(error(c).median().alias(f"mdape_{c}") for c in ("storeops", "MSTL", "mean28")),
        *(error(c).mean().alias(f"mape_{c}") for c in ("storeops", "MSTL", "mean28")),
        pl.len().alias("days")).sort("unique_id")
    return {"table": table, "storeops_seconds": ours_seconds, "mstl_seconds": mstl_seconds,
            "series": frame["unique_id"].n_unique()}


def return_rate_detectability(lines: pl.DataFrame, incidents: list[dict]) -> list[dict]:
    """For each planted return-rate spike: lines sold in its cohort days, refunded, what
    the SKU's own rate over the half year before predicts, and the one-sided binomial
    p-value of seeing that many (how visible the incident is at all)."""
    out = []
    for incident in incidents:
        if incident["metric"] != "return_rate":
            continue
        sku = incident["dimension"]["sku"]
        start, end = (date.fromisoformat(incident[k]) for k in ("start_date", "end_date"))
        sold = lines.filter((pl.col("sku") == sku) & pl.col("is_revenue"))
        during = sold.filter(pl.col("order_date").is_between(start, end))
        before = sold.filter(pl.col("order_date").is_between(start - timedelta(days=182),
                                                             start - timedelta(days=1)))
        n, x = during.height, int(during["is_refunded"].sum())
        rate = float(before["is_refunded"].mean()) if before.height else float("nan")
        out.append({"id": incident["id"], "sku": sku, "lines": n, "refunded": x,
                    "usual_rate": rate, "expected_refunded": n * rate,
                    "p_value": float(binom.sf(x - 1, n, rate)) if n else None})
    return out


def evaluate_home(home: Path, repeats: int, with_accuracy: bool) -> dict:
    marts = load(home)
    truth = json.loads((home / "demo_truth" / "incidents.json").read_text())
    parameters = json.loads((home / "demo_truth" / "summary.json").read_text())["parameters"]
    series, series_seconds = timed(lambda: kpi_series(*(marts[m] for m in MARTS)), repeats)
    as_of = series["ds"].max()
    start = as_of - timedelta(days=SCORED_DAYS - 1)
    ours, ours_seconds = timed(lambda: detect_anomalies(series, as_of=as_of,
                                                        lookback_days=SCORED_DAYS), repeats)
    naive, naive_seconds = timed(lambda: threshold_baseline(series, as_of=as_of,
                                                            lookback_days=SCORED_DAYS), repeats)
    evaluation = {name: evaluate_alerts(alerts, truth, start=start, end=as_of, series=series)
                  for name, alerts in (("storeops", ours), ("naive", naive))}
    sweep = {}
    default = detect.ALERT_Z
    try:
        for z in SWEEP:
            detect.ALERT_Z = z
            alerts = detect_anomalies(series, as_of=as_of, lookback_days=SCORED_DAYS)
            sweep[z] = evaluate_alerts(alerts, truth, start=start, end=as_of, series=series)
    finally:
        detect.ALERT_Z = default
    incident_days = sorted({date.fromisoformat(i["start_date"]) for i in truth
                            if i["metric"] in METRICS
                            and i["metric"] != "return_rate"})
    quiet = [as_of - timedelta(days=k) for k in (300, 200, 100)]
    replay = replay_check(series, as_of, (incident_days + quiet)[:REPLAY_DAYS])
    first_incident = min(date.fromisoformat(i["start_date"]) for i in truth
                         if i["metric"] in METRICS)
    accuracy = baseline_accuracy(series, as_of, first_incident) if with_accuracy else None
    return {
        "home": str(home), "seed": parameters["seed"], "scale": parameters["scale"],
        "as_of": as_of, "start": start, "truth": truth, "series": series,
        "alerts": {"storeops": ours, "naive": naive}, "evaluation": evaluation,
        "sweep": sweep, "replay": replay, "accuracy": accuracy,
        "detectability": return_rate_detectability(marts["fct_order_lines"], truth),
        "seconds": {"kpi_series": series_seconds, "storeops": ours_seconds,
                    "naive": naive_seconds},
        "n_series": series.select("metric", "dimension").n_unique(),
        "n_rows": series.height,
    }


# --------------------------------------------------------------------------- report

def pooled(evaluations: list[pl.DataFrame]) -> pl.DataFrame:
    """Per-metric sums over homes (each home scores the same number of months)."""
    return pl.concat(evaluations).group_by("metric", maintain_order=True).agg(
        pl.col("incidents_planted", "incidents_detected", "alert_incidents",
               "false_alert_incidents", "series").sum())


def fmt(value, digits: int = 2) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def pct(part: int, whole: int) -> str:
    return f"{part}/{whole} ({part / whole:.0%})" if whole else "n/a"


def per_metric_table(homes: list[dict], label: str) -> list[str]:
    months = (SCORED_DAYS / 30.4375)
    lines = ["| metric | planted | storeops detected | storeops false alerts | storeops false / metric / month | ±3σ detected | ±3σ false alerts | ±3σ false / metric / month | series (per store) |",
             "|---|---|---|---|---|---|---|---|---|"]
    ours = pooled([h["evaluation"]["storeops"] for h in homes])
    naive = pooled([h["evaluation"]["naive"] for h in homes]).select(
        "metric", pl.col("incidents_detected").alias("n_detected"),
        pl.col("false_alert_incidents").alias("n_false"))
    table = ours.join(naive, on="metric", how="left", maintain_order="left")
    n_metrics = table.filter(pl.col("metric") != "overall").height
    for row in table.iter_rows(named=True):
        per = months * len(homes) * (n_metrics if row["metric"] == "overall" else 1)
        series = "" if row["metric"] == "overall" else fmt(row["series"] / len(homes), 0)
        lines.append(
            f"| {row['metric']} | {row['incidents_planted']} "
            f"| {pct(row['incidents_detected'], row['incidents_planted'])} "
            f"| {row['false_alert_incidents']} | {row['false_alert_incidents'] / per:.3f} "
            f"| {pct(row['n_detected'], row['incidents_planted'])} | {row['n_false']} "
            f"| {row['n_false'] / per:.3f} | {series} |")
    return [f"**{label}**", ""] + lines


def report(homes: list[dict], dev_seeds: list[int], repeats: int) -> str:
    seeds = ", ".join(f"{h['seed']}" + (" (dev)" if h["seed"] in dev_seeds else "")
                      for h in homes)
    held_out = [h for h in homes if h["seed"] not in dev_seeds]
    out = [
        f"# Anomaly detection benchmark ({len(homes)} demo stores, seeds {seeds})",
        "",
        "Command: `uv run python benchmarks/anomalies.py "
        + " ".join(f"--home {h['home']}" for h in homes)
        + "".join(f" --dev-seed {seed}" for seed in dev_seeds) + "`. "
        f"polars {pl.__version__}, duckdb {duckdb.__version__}.",
        "",
        (f"Each store: 730 days of data; the last {SCORED_DAYS} days scored in one call "
        f"(as_of = last day, lookback_days={SCORED_DAYS}) by `detect_anomalies` (storeops, "
        f"|robust z| >= {detect.ALERT_Z:g}) and by `threshold_baseline` (±3σ: trailing "
        "28-day mean ± 3 std, same series, same hurting directions, same incident merging). "
        "Planted incidents come from each store's demo_truth/incidents.json; the supplier "
        "lead-time drift is not an anomaly metric and is left out. An incident is detected "
        "when an alert of the same metric and dimension starts within [start, end + 7]; a "
        "false alert is a merged alert incident outside every planted window widened by that "
        "incident's known consequences (checkout bug: orders, revenue, paid-channel CAC/ROAS; "
        "Meta budget mistake: Meta spend and ROAS; carrier delay: all tickets, first reply; "
        "bad batch: the 14-day cohort windows that still hold it). False alerts per metric "
        "per month = false alert incidents / (metrics x months); 10 metrics are scored "
        "(per-channel revenue/orders/conversion/AOV only name drivers)."),
        "",
        ("The planted incidents fall on the same dates in every demo store (they are placed "
        "relative to the last day); the SKU of the bad batch and all the noise change with "
        "the seed. Seeds marked (dev) were looked at while the method was built (seed 7 for "
        "every choice; the others when choosing how last year's season is switched on and "
        "when return rates moved to the exact binomial tail); the other seeds were generated "
        "after the method was frozen and are reported apart as held out."),
        "",
        "## Overall, per store",
        "",
        "| store | seed | scale | detected storeops | false alerts storeops | false / metric / month storeops | detected ±3σ | false alerts ±3σ | false / metric / month ±3σ |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for h in homes:
        o = {name: h["evaluation"][name].filter(pl.col("metric") == "overall").row(0, named=True)
             for name in ("storeops", "naive")}
        out.append(
            f"| {h['home']} | {h['seed']}{' (dev)' if h['seed'] in dev_seeds else ''} "
            f"| {h['scale']:g} "
            f"| {pct(o['storeops']['incidents_detected'], o['storeops']['incidents_planted'])} "
            f"| {o['storeops']['false_alert_incidents']} "
            f"| {o['storeops']['false_alerts_per_month']:.3f} "
            f"| {pct(o['naive']['incidents_detected'], o['naive']['incidents_planted'])} "
            f"| {o['naive']['false_alert_incidents']} "
            f"| {o['naive']['false_alerts_per_month']:.3f} |")
    early = sum(1 for h in homes for first in _false_firsts(h)
                if first <= h["start"] + timedelta(days=13))
    total = sum(len(_false_firsts(h)) for h in homes)
    out += ["", (f"{early} of the {total} storeops false alerts start in the first 14 days of "
            "the scored window (late Nov - early Dec 2025, BFCM): the demo data begins on "
            "2024-11-23, so last year's level for those days rests on fewer than 14 days and "
            "the post-BFCM ticket surge, the BFCM discount dip in AOV and the BFCM ad "
            "budgets are only partly expected. A store with more than 13 months of history "
            "does not have this gap.")]
    out += ["", "## Per metric", ""]
    out += per_metric_table(homes, f"All {len(homes)} stores") + [""]
    naive_returns = sum(int(h["evaluation"]["naive"].filter(pl.col("metric") == "return_rate")
                            ["false_alert_incidents"][0]) for h in homes)
    out += [(f"±3σ's return-rate detections are coincidences in a flood: {naive_returns:,} "
            f"false return-rate alerts over {len(homes)} stores, about "
            f"{naive_returns / len(homes) / 500:.1f} per SKU a year, most of them a return or "
            "two on a SKU that sells a few lines (the band of a 28-day mean +- 3 std of a "
            "rate that is usually 0 is 0)."), ""]
    if held_out and len(held_out) < len(homes):
        out += per_metric_table(held_out, f"Held-out stores only (seeds "
                                f"{', '.join(str(h['seed']) for h in held_out)})") + [""]
    out += ["## Missed incidents", ""]
    missed = []
    for h in homes:
        alerts = h["alerts"]["storeops"]
        for incident in h["truth"]:
            planted = planted_incident(incident)
            if planted["metric"] not in METRICS:
                continue
            hit = alerts.filter((pl.col("metric") == planted["metric"])
                                & (pl.col("dimension") == planted["dimension"])
                                & pl.col("incident_start").is_between(
                                    planted["start"], planted["end"] + timedelta(days=7)))
            if hit.is_empty():
                missed.append((h, incident, planted))
    if not missed:
        out.append("None.")
    for h, incident, planted in missed:
        note = ""
        for d in h["detectability"]:
            if d["id"] == incident["id"]:
                note = (f" The bad batch sold {d['lines']} lines in its 10 cohort days, "
                        f"{d['refunded']} refunded, where the SKU's refund rate of the half "
                        f"year before ({d['usual_rate']:.1%}) predicts "
                        f"{d['expected_refunded']:.1f}: one-sided binomial p = "
                        f"{d['p_value']:.3g}, below what any alert on 500 SKUs x 365 days "
                        "can pick out without flooding.")
        out.append(f"- seed {h['seed']}: {incident['id']} {planted['metric']} "
                   f"{planted['dimension']} {planted['start']}..{planted['end']}.{note}")
    out += ["", ("Return-rate incidents, how visible they are at all (lines of the SKU ordered "
            "in the bad-batch days):"), "",
            "| seed | SKU | lines | refunded | usual rate | expected refunded | binomial p |",
            "|---|---|---|---|---|---|---|"]
    for h in homes:
        for d in h["detectability"]:
            out.append(f"| {h['seed']} | {d['sku']} | {d['lines']} | {d['refunded']} "
                       f"| {d['usual_rate']:.1%} | {d['expected_refunded']:.1f} "
                       f"| {d['p_value']:.2g} |")
    out += ["", "## Alert threshold sweep (storeops, all stores)", "",
            "| abs(z) >= | detected | false alert incidents | false / metric / month |",
            "|---|---|---|---|"]
    months = SCORED_DAYS / 30.4375
    for z in SWEEP:
        rows = [h["sweep"][z].filter(pl.col("metric") == "overall").row(0, named=True)
                for h in homes]
        n_metrics = sum(h["sweep"][z].height - 1 for h in homes) / len(homes)
        detected = sum(r["incidents_detected"] for r in rows)
        planted = sum(r["incidents_planted"] for r in rows)
        false = sum(r["false_alert_incidents"] for r in rows)
        mark = " (default)" if z == detect.ALERT_Z else ""
        out.append(f"| {z:g}{mark} | {pct(detected, planted)} | {false} "
                   f"| {false / (months * len(homes) * n_metrics):.3f} |")
    out += ["", "## Speed", "",
            f"Median of {repeats} runs after a warm-up, same process, 2 cores shared.", "",
            "| store | series | rows | kpi_series s | storeops s | ±3σ s | storeops / ±3σ |",
            "|---|---|---|---|---|---|---|"]
    for h in homes:
        s = h["seconds"]
        out.append(f"| seed {h['seed']} | {h['n_series']} | {h['n_rows']:,} "
                   f"| {s['kpi_series']:.2f} | {s['storeops']:.2f} | {s['naive']:.2f} "
                   f"| {s['storeops'] / s['naive']:.1f}x |")
    accuracy = next((h for h in homes if h["accuracy"]), None)
    if accuracy:
        a = accuracy["accuracy"]
        out += ["", f"## Expected values against MSTL (seed {accuracy['seed']})", "",
                (f"Absolute percentage error of the expected value on the {a['series']} "
                "store-level and Meta series, over the scored year before the first planted "
                "incident. MSTL(season_length=[7]) from statsforecast is refitted every "
                "7 days on all the data before and forecasts the next 7 (a 364-day season "
                "cannot be estimated from the single year before the window, and fitting "
                "it costs 8x more); mean28 is the trailing 28-day mean, the ±3σ centre. "
                f"Time for these {a['series']} series: storeops {a['storeops_seconds']:.2f} s "
                f"(one call), MSTL {a['mstl_seconds']:.1f} s (52 weekly refits)."), "",
                ("| series | median APE storeops | median APE MSTL | median APE mean28 "
                "| mean APE storeops | mean APE MSTL | mean APE mean28 | days |"),
                "|---|---|---|---|---|---|---|---|"]
        for row in a["table"].iter_rows(named=True):
            out.append(f"| {row['unique_id']} | {row['mdape_storeops']:.1%} "
                       f"| {row['mdape_MSTL']:.1%} | {row['mdape_mean28']:.1%} "
                       f"| {row['mape_storeops']:.1%} | {row['mape_MSTL']:.1%} "
                       f"| {row['mape_mean28']:.1%} | {row['days']} |")
    out += ["", "## Replay check", "",
            ("Every series' expected, lo, hi and score on day d, scored as of d (what the "
            "pipeline would have said that morning) against the same day in the one call over "
            "the history:"), ""]
    for h in homes:
        r = h["replay"]
        out.append(f"- seed {h['seed']}: {r['identical']}/{len(r['days'])} days identical, "
                   f"{r['series_days']:,} series-days compared ({', '.join(r['days'])})")
    out += ["", "## Every storeops alert incident", ""]
    for h in homes:
        alerts = h["alerts"]["storeops"]
        found = (alerts.group_by("incident_id", maintain_order=True).agg(
            pl.col("metric").first(), pl.col("dimension").first(),
            pl.col("date").min().alias("first"), pl.col("date").max().alias("last"),
            pl.col("direction").first(), pl.col("score").abs().max().alias("max_z"),
            pl.col("severity").sort_by(pl.col("severity").replace_strict(
                {"critical": 0, "high": 1, "medium": 2, "low": 3})).first(),
            pl.col("driver").drop_nulls().first())
            .sort("first", "metric"))
        false = set(_false_ids(h))
        out += [f"Seed {h['seed']}:", "",
                "| metric | dimension | days | direction | max abs(z) | top severity | driver (first day) | verdict |",
                "|---|---|---|---|---|---|---|---|"]
        for row in found.iter_rows(named=True):
            verdict = "false alert" if row["incident_id"] in false else "planted / consequence"
            days = (f"{row['first']}" if row["first"] == row["last"]
                    else f"{row['first']}..{row['last']}")
            out.append(f"| {row['metric']} | {row['dimension']} | {days} | {row['direction']} "
                       f"| {row['max_z']:.1f} | {row['severity']} | {row['driver'] or ''} "
                       f"| {verdict} |")
        out.append("")
    return "\n".join(out) + "\n"


def _false_firsts(home: dict) -> list[date]:
    """First day of each storeops false alert incident."""
    alerts = home["alerts"]["storeops"]
    ids = set(_false_ids(home))
    return (alerts.filter(pl.col("incident_id").is_in(list(ids)))
            .group_by("incident_id").agg(pl.col("date").min())["date"].to_list())


def _false_ids(home: dict) -> list[str]:
    """Ids of storeops' false alert incidents (the same rule as evaluate_alerts)."""
    alerts = home["alerts"]["storeops"]
    false = []
    for incident_id, group in alerts.group_by("incident_id"):
        single = evaluate_alerts(group, home["truth"], start=home["start"], end=home["as_of"])
        if single.filter(pl.col("metric") == "overall")["false_alert_incidents"][0]:
            false.append(incident_id[0])
    return false


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--home", action="append", required=True, type=Path,
                        help="a built demo store (repeat for more seeds)")
    parser.add_argument("--dev-seed", type=int, action="append",
                        help="a seed looked at while developing (repeat); the others are "
                             "reported apart as held out (default: 7)")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    homes = [evaluate_home(home, args.repeats, with_accuracy=k == 0)
             for k, home in enumerate(args.home)]
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "anomalies.md").write_text(report(homes, args.dev_seed or [7], args.repeats))
    summary = [{
        "home": h["home"], "seed": h["seed"], "scale": h["scale"], "as_of": str(h["as_of"]),
        "seconds": h["seconds"], "series": h["n_series"], "rows": h["n_rows"],
        "replay": h["replay"], "detectability": h["detectability"],
        "accuracy": ({**h["accuracy"], "table": h["accuracy"]["table"].to_dicts()}
                     if h["accuracy"] else None),
        "evaluation": {name: e.to_dicts() for name, e in h["evaluation"].items()},
    } for h in homes]
    (RESULTS / "anomalies.json").write_text(json.dumps(summary, indent=2, default=str) + "\n")
    print((RESULTS / "anomalies.md").read_text())


if __name__ == "__main__":
    main()
