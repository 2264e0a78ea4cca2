"""Churn and 12-month value: is the chosen model honest on any store? Held-out quality
against recency, logistic RFM and BG/NBD on three customer bases, which features
generalise, and time at the default store and at 10x customers.

Data sets (each scored as of its last day; choice on the validation window, cutoff
as_of - 180 days, test on the last 90 days, which no fit or choice saw):
- demo: the orders, tickets and order lines the pipeline reads from a `storeops demo`
  home (models.warehouse.customer_inputs). Its buyers follow BG/NBD.
- buyers: orchestration.demo.buyers.simulate_buyers (20,000 customers, 730 days, seed 7):
  fixed replenishment cycles, seasonal gift buyers, subscriptions, one-off buyers; no
  BG/NBD process behind any of them.
- cdnow: the CDNOW master file (real purchases of 23,570 customers, 1997-01..1998-06,
  benchmarks.real_data.cdnow_transactions), as of 1998-06-30. Its records are purchase
  lines: several on one customer-day are one order here (units and amounts summed), the
  unit Fader & Hardie count as one transaction.

1. Honesty: per data set, the test-window ROC AUC of the chosen model, recency (days
   since the last order), logistic RFM, BG/NBD P(no order) and BG/NBD expected
   purchases, the rule that chose (challenger or fallback, models.churn.choose_model)
   and whether chosen >= max(recency, logistic RFM) - 0.005 holds.
2. Which features generalise: per data set, drop one feature group at a time (all
   groups of models.churn.FEATURE_GROUPS, dropped ones included), refit gradient
   boosting and the full logistic on the selection cutoffs and measure validation ROC AUC
   (gain = AUC with all groups - AUC without; z = gain / DeLong standard error).
3. Demo details: every metric by window and population, calibration of the chosen model,
   BG/NBD + Gamma-Gamma predicted 90-day revenue against "the same rate as the last 12
   months".
4. Time: score_customers (features at 7-13 cutoffs, every candidate fitted 3 times,
   test, final scoring) against the bare scoring it wraps (features at as_of + one
   gradient-boosting fit on the final training cutoffs + prediction), at the demo store
   and at 10x customers (every customer copied 10 times under new ids).

    .venv/bin/python benchmarks/churn.py --home /tmp/h          # a home built by storeops demo
    .venv/bin/python benchmarks/churn.py --scale 1              # build a fresh demo home first
    .venv/bin/python benchmarks/churn.py --home /tmp/h --skip-timing
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import duckdb
import polars as pl

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
RESULTS = Path(__file__).parent / "results"

from models import churn


def build_home(scale: float, home: Path) -> None:
    subprocess.run([str(Path(sys.executable).with_name("storeops")), "demo", "--home", str(home),
                    "--scale", str(scale)], check=True, cwd=ROOT, capture_output=True)


def load(home: Path):
    from models.warehouse import customer_inputs

    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as con:
        as_of = con.execute("select max(kpi_date) from marts.fct_daily_kpis").fetchall()[0][0]
        orders, tickets, lines = customer_inputs(con, as_of)
    return as_of, orders, tickets, lines


def copies(frame: pl.DataFrame, n: int) -> pl.DataFrame:
    return pl.concat([frame.with_columns(pl.col("customer_id") + f"~{k}") for k in range(n)])


def bare_scoring(orders, tickets, as_of) -> float:
    """Features at as_of and one gradient-boosting fit on the final cutoffs + prediction."""
    from models import churn

    started = time.perf_counter()
    earliest = orders["order_date"].min() + dt.timedelta(days=churn.MIN_HISTORY_DAYS)
    cutoffs = churn.cutoff_dates(as_of, churn.HORIZON_DAYS, churn.TRAINING_CUTOFFS, earliest)
    frames = []
    for cutoff in cutoffs:
        features, _ = churn.customer_features(orders, cutoff=cutoff, tickets=tickets)
        frames.append(churn.label_features(features, orders, cutoff, churn.HORIZON_DAYS))
    train = pl.concat(frames, how="vertical_relaxed")
    if train.height > 400_000:
        train = train.sample(400_000, seed=0)
    features, _ = churn.customer_features(orders, cutoff=as_of, tickets=tickets)
    churn.Candidate("gradient_boosting", 0).fit(train).predict(features)
    return time.perf_counter() - started


def timed_run(orders, tickets, lines, as_of):
    from models.churn import score_customers

    started = time.perf_counter()
    result = score_customers(orders, as_of=as_of, tickets=tickets, order_lines=lines)
    return result, time.perf_counter() - started


TOLERANCE = 0.005  # issue 16: chosen >= max(recency, logistic RFM) - 0.005 on the test window
CDNOW_AS_OF = dt.date(1998, 6, 30)


@dataclass
class DataSet:
    name: str
    description: str
    as_of: dt.date
    orders: pl.DataFrame
    tickets: pl.DataFrame | None = None
    lines: pl.DataFrame | None = None


def demo_set(home: Path) -> DataSet:
    as_of, orders, tickets, lines = load(home)
    return DataSet("demo", f"storeops demo home `{home}` (BG/NBD buyers, tickets, discounts)",
                   as_of, orders, tickets, lines)


def buyers_set(customers: int = 20_000, seed: int = 7) -> DataSet:
    from orchestration.demo.buyers import simulate_buyers

    orders = simulate_buyers(customers, seed=seed).orders
    return DataSet("buyers", f"simulate_buyers({customers:,}, seed={seed}): cycles, gift "
                   "seasons, subscriptions, one-offs", orders["order_date"].max(), orders)


def cdnow_orders() -> pl.DataFrame:
    """CDNOW purchase records as orders: one per customer and day (amounts summed)."""
    from benchmarks.real_data import cdnow_transactions

    return (cdnow_transactions().group_by("customer_id", "order_date")
            .agg(pl.col("amount").sum().alias("net_revenue"), pl.col("units").sum())
            .sort("customer_id", "order_date"))


def cdnow_set() -> DataSet:
    return DataSet("cdnow", "CDNOW master file, real purchases 1997-01..1998-06, one order "
                   "per customer-day", CDNOW_AS_OF, cdnow_orders())


def honesty_row(data: DataSet, result, seconds: float) -> dict:
    """Test-window ROC AUC of the chosen model and the references, and the verdict."""
    ev = result.evaluation
    auc = dict(ev.filter((pl.col("window") == "test") & (pl.col("population") == "all")
                         & (pl.col("metric") == "roc_auc")).select("model", "value").iter_rows())
    validation = dict(ev.filter((pl.col("window") == "validation") & (pl.col("population") == "all")
                                & (pl.col("metric") == "roc_auc")).select("model", "value").iter_rows())
    churn_rate = ev.filter((pl.col("window") == "test") & (pl.col("population") == "all")
                           & (pl.col("metric") == "churn_rate"))["value"]
    chosen = result.chosen_model
    floor = max(auc.get("recency", float("nan")), auc.get("logistic_rfm", float("nan"))) - TOLERANCE
    choice = result.choice
    return {
        "data_set": data.name, "customers": result.scores.height, "orders": data.orders.height,
        "as_of": data.as_of.isoformat(),
        "test_churn_rate": float(churn_rate[0]) if len(churn_rate) else None,
        "chosen": chosen, "rule": choice.rule if choice else None,
        "reason": choice.reason if choice else None,
        "test_auc": {m: auc.get(m) for m in churn.CANDIDATES},
        "validation_auc": {m: validation.get(m) for m in churn.CANDIDATES},
        "chosen_test_auc": auc.get(chosen),
        "floor": floor, "holds": bool(auc.get(chosen, float("nan")) >= floor),
        "seconds": seconds,
    }


def ablation(data: DataSet, *, max_rows: int = 150_000, seed: int = 0) -> list[dict]:
    """Validation ROC AUC of gradient boosting and the full logistic with every feature
    group, and with each group dropped in turn (same cutoffs as score_customers' choice)."""
    orders, tickets = churn.validate_inputs(data.orders, data.tickets)
    orders = orders.filter(pl.col("order_date") <= data.as_of)
    earliest = orders["order_date"].min() + dt.timedelta(days=churn.MIN_HISTORY_DAYS)
    validation_cutoff = data.as_of - dt.timedelta(days=2 * churn.HORIZON_DAYS)

    def labelled(cutoff):
        features, _ = churn.customer_features(orders, cutoff=cutoff, tickets=tickets)
        return churn.label_features(features, orders, cutoff, churn.HORIZON_DAYS)

    cutoffs = churn.cutoff_dates(validation_cutoff, churn.HORIZON_DAYS, churn.TRAINING_CUTOFFS, earliest)
    train = pl.concat([labelled(c) for c in cutoffs], how="vertical_relaxed")
    if train.height > max_rows:
        train = train.sample(max_rows, seed=seed)
    validation = labelled(validation_cutoff)
    y = validation["churned"].to_numpy().astype(int)
    rows = []
    for model in ("gradient_boosting", "logistic"):
        full = churn.Candidate(model, seed, churn.ALL_FEATURES).fit(train).predict(validation)
        for group, columns in churn.FEATURE_GROUPS.items():
            kept = tuple(f for f in churn.ALL_FEATURES if f not in columns)
            without = churn.Candidate(model, seed, kept).fit(train).predict(validation)
            auc_full, auc_without, se = churn.auc_difference(y, full, without)
            rows.append({"data_set": data.name, "model": model, "group": group,
                         "auc_all": auc_full, "auc_without": auc_without,
                         "gain": auc_full - auc_without,
                         "z": (auc_full - auc_without) / se if se > 0 else 0.0,
                         "dropped": group in churn.DROPPED_FEATURE_GROUPS})
    return rows


def cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:,.0f}" if value.is_integer() and abs(value) >= 10 else f"{value:.3f}"
    return str(value)


def table(frame: pl.DataFrame) -> list[str]:
    lines = ["| " + " | ".join(frame.columns) + " |", "|" + "---|" * len(frame.columns)]
    for row in frame.iter_rows():
        lines.append("| " + " | ".join(cell(v) for v in row) + " |")
    return lines


# Measured findings of the last full run (--home /tmp/demo1, all three sets); rerun
# and revise when the numbers above change.
READING = """## Reading it

- The rule held on every store: the chosen model is never below the better of recency
  and logistic RFM by more than 0.005 on the test window. On CDNOW no challenger beat
  logistic RFM by the margin, so the calibrated baseline scores.
- Features dropped (models.churn.DROPPED_FEATURE_GROUPS): tenure, discount/refund
  shares, support tickets and acquisition channel gained nothing beyond noise on any
  store. The buyers' channel is drawn independently of everything, so its +0.0009 for
  gradient boosting there is what noise looks like; tenure lowered AUC on the buyers.
  Support and discounts exist only in the demo and do not help there either: its
  generator ties neither to churn. The BG/NBD features help the logistic on the demo and
  the buyers but cost gradient boosting on the buyers and CDNOW; they are kept.
- The buyers' validation AUCs (about 0.94-0.96) overstate their test AUCs (0.86-0.90):
  the test window (October-December) holds the gift buyers' December orders, and no
  training window of the choice covers a December (six cutoffs 30 days apart). A model
  chosen in summer is tested in the gift season. Gradient boosting would have scored
  0.899 there, the chosen logistic 0.867 - within the tolerance of recency (0.869),
  but a reminder that 5 months of training cutoffs cannot learn a yearly season.
- The issue quotes 0.764 (p_churn) vs 0.763 (recency) on CDNOW on another split; here,
  as of 1998-06-30 with the 90-day test window April-June 1998, every model ranks better
  (0.83-0.84) and the ordering is the issue's: logistic RFM and BG/NBD expected purchases
  above recency.
"""


def honesty_lines(rows: list[dict]) -> list[str]:
    names = [("recency", "recency"), ("logistic_rfm", "logistic RFM"),
             ("bgnbd", "BG/NBD P(no order)"), ("bgnbd_expected", "BG/NBD expected purchases"),
             ("gradient_boosting", "gradient boosting"), ("logistic", "logistic (all features)")]
    head = (["data set", "customers", "test churn rate", "chosen", "rule", "chosen AUC"]
            + [label for _, label in names] + ["floor", "holds"])
    out = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for row in rows:
        auc = row["test_auc"]
        out.append("| " + " | ".join(
            [row["data_set"], f"{row['customers']:,}", f"{row['test_churn_rate']:.3f}",
             f"**{row['chosen']}**", row["rule"] or "", f"**{row['chosen_test_auc']:.3f}**"]
            + [f"{auc[m]:.3f}" if auc.get(m) is not None else "" for m, _ in names]
            + [f"{row['floor']:.3f}", "yes" if row["holds"] else "**no**"]) + " |")
    return out


def validation_lines(rows: list[dict]) -> list[str]:
    models = [m for m in churn.CANDIDATES if m != "bgnbd_p_alive"]
    out = ["| data set | " + " | ".join(models) + " |", "|" + "---|" * (len(models) + 1)]
    for row in rows:
        auc = row["validation_auc"]
        out.append(f"| {row['data_set']} | " + " | ".join(
            f"{auc[m]:.3f}" if auc.get(m) is not None else "" for m in models) + " |")
    return out


def ablation_lines(rows: list[dict]) -> list[str]:
    frame = pl.DataFrame(rows)
    sets = list(dict.fromkeys(frame["data_set"]))
    head = ["group", "dropped"] + [f"{d} {m}" for d in sets for m in ("GB", "logistic")]
    out = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for group in churn.FEATURE_GROUPS:
        cells = [group, "yes" if group in churn.DROPPED_FEATURE_GROUPS else ""]
        for d in sets:
            for m in ("gradient_boosting", "logistic"):
                hit = frame.filter((pl.col("data_set") == d) & (pl.col("model") == m)
                                   & (pl.col("group") == group))
                cells.append(f"{hit['gain'][0]:+.4f} (z {hit['z'][0]:+.1f})" if hit.height else "")
        out.append("| " + " | ".join(cells) + " |")
    return out


def demo_detail_lines(result, home, as_of, orders) -> list[str]:
    wanted = ["roc_auc", "precision_top_decile", "lift_top_decile", "brier", "calibration_error"]
    ev = result.evaluation.filter(pl.col("window").is_in(["validation", "test"]))
    quality = (ev.filter(pl.col("metric").is_in(wanted + ["customers", "churn_rate"]))
               .pivot(on="metric", index=["window", "population", "model"], values="value")
               .sort("window", "population", "model"))
    clv = ev.filter(pl.col("metric").str.starts_with("revenue_")).pivot(
        on="metric", index="model", values="value")
    chosen = result.chosen_model
    return [
        f"## Demo store in detail (home `{home}`, as of {as_of}, {orders.height:,} revenue orders)",
        "",
        *table(quality),
        "",
        ("Precision in the top decile is high for every model because most customers do not "
        "order in any 90 days (churn rate above); lift and ROC AUC separate the models. "
        "bgnbd_p_alive is BG/NBD P(alive) alone, the known pitfall: a one-order customer is "
        "alive by construction, so it cannot rank them."),
        "",
        f"### Calibration of {chosen} on the demo's test window (equal-count bins)",
        "",
        *table(result.reliability),
        "",
        "### Predicted 90-day revenue on the demo's test window",
        "",
        *table(clv),
        "",
        ("revenue_total_bias: sum predicted / sum actual - 1; revenue_mae: mean absolute error per "
        "customer; revenue_spearman: rank correlation with what each customer spent."),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--home", type=Path)
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--multiplier", type=int, default=10)
    parser.add_argument("--skip-timing", action="store_true", help="no 10x timing section")
    parser.add_argument("--skip-ablation", action="store_true", help="no feature-group ablation")
    parser.add_argument("--sets", default="demo,buyers,cdnow", help="comma-separated data sets")
    parser.add_argument("--no-write", action="store_true", help="print, do not write results/")
    args = parser.parse_args()
    wanted_sets = args.sets.split(",")
    home = args.home
    if home is None and "demo" in wanted_sets:
        home = Path(tempfile.mkdtemp(prefix="storeops-churn-"))
        build_home(args.scale, home)
    loaders = {"demo": lambda: demo_set(home), "buyers": buyers_set, "cdnow": cdnow_set}
    started = time.perf_counter()
    sets, results, rows, ablations = [], {}, [], []
    for name in wanted_sets:
        data = loaders[name]()
        result, seconds = timed_run(data.orders, data.tickets, data.lines, data.as_of)
        sets.append(data)
        results[name] = (result, seconds)
        rows.append(honesty_row(data, result, seconds))
        print(json.dumps({k: v for k, v in rows[-1].items() if k != "validation_auc"}, default=str),
              flush=True)
        if not args.skip_ablation:
            ablations += ablation(data)
    report = {"tolerance": TOLERANCE, "margin": churn.CHOICE_MARGIN, "z": churn.CHOICE_Z,
              "features": list(churn.FEATURES),
              "dropped_feature_groups": list(churn.DROPPED_FEATURE_GROUPS),
              "data_sets": rows, "ablation": ablations}
    md = [
        "# Churn (90 days): is the chosen model honest on any store?",
        "",
        ("Command: `.venv/bin/python benchmarks/churn.py --home <demo home>"
         f"{' --skip-timing' if args.skip_timing else ''}` "
        f"({time.perf_counter() - started:,.0f} s for the quality and ablation sections). "
        "Each store is scored as of its last day; the model is chosen on the validation window "
        "(cutoff as_of - 180 days, labels to as_of - 90) and tested on the last 90 days "
        "(cutoff as_of - 90), which no fit or choice saw, every candidate refitted on data "
        "whose labels end by the test cutoff."),
        "",
        (f"Choice rule (models.churn.choose_model): a challenger (gradient boosting, logistic on "
        f"all features, BG/NBD) is used only if its validation ROC AUC beats the better of "
        f"recency and logistic RFM by at least {churn.CHOICE_MARGIN} and by {churn.CHOICE_Z:g} "
        "DeLong standard errors of the paired difference; otherwise that better baseline scores "
        "the customers (rule `fallback`; both baselines are logistic fits, calibrated on the "
        "training windows). The test asks: chosen >= max(recency, logistic RFM) - "
        f"{TOLERANCE} (`floor`)."),
        "",
        "Data sets:",
        *[f"- {d.name}: {d.description}; as of {d.as_of}, {d.orders.height:,} orders." for d in sets],
        "",
        "## Test-window ROC AUC (all customers)",
        "",
        *honesty_lines(rows),
        "",
        "Why each model was chosen:",
        *[f"- {r['data_set']}: {r['reason']}" for r in rows],
        "",
        "Validation-window ROC AUC (what the choice saw):",
        "",
        *validation_lines(rows),
        "",
    ]
    if ablations:
        md += [
            "## Which features generalise (validation window, drop one group)",
            "",
            ("Gain = validation ROC AUC with every group minus without the group, gradient "
            "boosting (GB) and the full logistic refitted each time on the choice's training "
            "cutoffs (at most 150,000 rows); z = gain / DeLong standard error of the paired "
            "difference. Positive: the group helps. Groups in `dropped` are not in "
            "models.churn.FEATURES."),
            "",
            *ablation_lines(ablations),
            "",
        ]
    md += READING.splitlines() + [""]
    if "demo" in results:
        demo = next(d for d in sets if d.name == "demo")
        result = results["demo"][0]
        md += demo_detail_lines(result, home, demo.as_of, demo.orders) + [""]
        report["demo"] = {
            "home": str(home), "as_of": demo.as_of.isoformat(), "customers": result.scores.height,
            "orders": demo.orders.height, "chosen_model": result.chosen_model,
            "bgnbd_params": vars(result.bgnbd_params) if result.bgnbd_params else None,
            "gamma_gamma_params": vars(result.gamma_gamma_params) if result.gamma_gamma_params else None,
            "evaluation": result.evaluation.to_dicts(), "reliability": result.reliability.to_dicts(),
            "segments": result.scores["segment"].value_counts().sort("segment").to_dicts(),
        }
        if not args.skip_timing:
            result, seconds = results["demo"]
            bare = bare_scoring(demo.orders, demo.tickets, demo.as_of)
            big = [copies(f, args.multiplier) for f in (demo.orders, demo.tickets, demo.lines)]
            big_result, big_seconds = timed_run(*big, demo.as_of)
            big_bare = bare_scoring(big[0], big[1], demo.as_of)
            peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            report["timing"] = {
                "default": {"customers": result.scores.height, "score_customers_s": seconds,
                            "bare_s": bare, "ratio": seconds / bare, "phases": result.timings},
                f"x{args.multiplier}": {"customers": big_result.scores.height,
                                        "score_customers_s": big_seconds, "bare_s": big_bare,
                                        "ratio": big_seconds / big_bare,
                                        "phases": big_result.timings},
                "peak_rss_mb": peak_mb,
            }
            md += [
                "## Time (2 cores, scikit-learn single-threaded)",
                "",
                "| store | customers | score_customers s | bare scoring s | ratio | selection s | test s | final s |",
                "|---|---|---|---|---|---|---|---|",
            ]
            for name, run in report["timing"].items():
                if name == "peak_rss_mb":
                    continue
                ph = run["phases"]
                md.append(f"| {name} | {run['customers']:,} | {run['score_customers_s']:.1f} "
                          f"| {run['bare_s']:.1f} | {run['ratio']:.2f} | {ph.get('selection_s', 0):.1f} "
                          f"| {ph.get('test_s', 0):.1f} | {ph.get('score_s', 0):.1f} |")
            md += ["", (f"Peak RSS of the benchmark process: {peak_mb:,.0f} MB. The 10x store repeats "
                   "every customer 10 times under new ids. Bare scoring = features at as_of + one "
                   "gradient-boosting fit on the final training cutoffs + prediction; the ratio is "
                   "the price of choosing the model on a later window and testing it on data it "
                   "did not see."), ""]
    if not args.no_write:
        RESULTS.mkdir(exist_ok=True)
        (RESULTS / "churn.json").write_text(json.dumps(report, indent=2, default=str))
        (RESULTS / "churn.md").write_text("\n".join(md))
    print("\n".join(md))


if __name__ == "__main__":
    main()
