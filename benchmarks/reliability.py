"""Fault scenarios survived, rows lost and rows doubled: the reliability table.

Every scenario runs the real `storeops` command (subprocesses, like a user or a cron
job) on a small demo store and is judged against an uninterrupted reference run of the
same landing files:

- crash in ingest / dbt / file writing: SIGKILL at a failpoint (quality/failpoints.py),
  then a clean rerun; survived = same warehouse (every raw, mart and analytics table:
  rows and content hash) and same output files as the reference;
- three crashes in a row in one home, then a rerun;
- concurrency: two runs started together on one home; survived = both exit 0, every file
  loaded once, warehouse equal to the reference;
- idempotency: a rerun on the same landing changes no table;
- corrected re-export: a supplier file re-sent with a new lead time replaces the old
  value in the marts, no product doubled;
- bad data: a supplier file with a negative lead time stops the outputs (exit 1, files
  untouched), the corrected file releases them;
- dbt failure: a model that cannot build is reported (exit 1), the last marts stay;
- data-subject deletion: `storeops forget`, then a run: checks green;
- bad input: the fuzz test (tests/integration/test_fuzz_ingest.py), its figures read
  from benchmarks/results/fuzz.json (run it first, or pass --run-fuzz).

Rows lost / doubled come from quality.reconcile on every home after its last run (rows
read per the load log vs rows in raw + quarantine + forgotten; the same file row twice).

Writes benchmarks/results/reliability.md and reliability.json.

    uv run python benchmarks/reliability.py [--workdir /tmp/reliability] [--run-fuzz]
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import duckdb

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from orchestration import harness
from orchestration.harness import STOREOPS, fingerprint, outputs, suppliers_with_lead_time
from quality.reconcile import reconcile

RESULTS = ROOT / "benchmarks" / "results"


def storeops(*args, home: Path, failpoint: str | None = None):
    return harness.storeops(*args, home=home, failpoint=failpoint, timeout=1800)


def start(*args, home: Path):
    """A storeops run in the background (two runs at once)."""
    return subprocess.Popen([STOREOPS, *args, "--home", str(home)], cwd=ROOT,
                            env=harness.clean_env(), text=True, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)


def counts(home: Path) -> dict:
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as con:
        r = reconcile(con)
    return {"rows_in": r.rows_in, "rows_lost": r.rows_lost,
            "rows_doubled": r.rows_doubled + r.files_loaded_twice}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/storeops_reliability"))
    parser.add_argument("--scale", type=float, default=0.02)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--run-fuzz", action="store_true",
                        help="run the fuzz test first (FUZZ_EXAMPLES sets its size)")
    args = parser.parse_args()

    from orchestration.demo import generate_store

    work = args.workdir
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    started = time.monotonic()
    generate_store(work / "store", scale=args.scale, days=args.days, seed=5)
    source = work / "store" / "landing"
    scenarios: list[dict] = []

    def copy_landing(name: str) -> Path:
        target = work / name / "landing"
        shutil.copytree(source, target)
        return target

    def record(name: str, survived: bool, detail: str, home: Path | None) -> None:
        row = {"scenario": name, "survived": bool(survived), "detail": detail}
        if home is not None and (home / "warehouse.duckdb").exists():
            row.update(counts(home))
        scenarios.append(row)
        print(f"{'ok  ' if survived else 'FAIL'} {name}: {detail} {row.get('rows_lost', '')}"
              f"/{row.get('rows_doubled', '')}", flush=True)

    reference = work / "reference"
    ref = storeops("run", "--landing", str(source), home=reference)
    assert ref.returncode == 0, ref.stderr[-3000:]
    ref_tables, ref_files = fingerprint(reference / "warehouse.duckdb"), outputs(reference)
    record("uninterrupted run (reference)", True, f"{len(ref_tables)} tables, "
           f"{len(ref_files)} output files", reference)

    # Crashes: one per home, then three in a row.
    for name, points in [("crash during ingest", ["ingest:3"]), ("crash during dbt", ["dbt:5"]),
                         ("crash while writing files", ["write:3"]),
                         ("three crashes in a row", ["ingest:3", "dbt:5", "write:3"])]:
        home = work / name.replace(" ", "_")
        killed = [storeops("run", "--landing", str(source), home=home, failpoint=p).returncode
                  for p in points]
        rerun = storeops("run", "--landing", str(source), home=home)
        same_tables = fingerprint(home / "warehouse.duckdb") == ref_tables
        same_files = outputs(home) == ref_files
        ok = all(k == -9 for k in killed) and rerun.returncode == 0 and same_tables and same_files
        record(name, ok, f"killed exit {killed}, rerun exit {rerun.returncode}, tables "
               f"{'equal' if same_tables else 'DIFFER'}, files {'equal' if same_files else 'DIFFER'}",
               home)

    # Concurrency: two runs at once.
    home = work / "concurrent"
    first = start("run", "--landing", str(source), home=home)
    time.sleep(1.0)
    second = start("run", "--landing", str(source), home=home)
    first.communicate(timeout=1800)
    second.communicate(timeout=1800)
    same = fingerprint(home / "warehouse.duckdb") == ref_tables
    record("two runs at once", first.returncode == 0 and second.returncode == 0 and same,
           f"exits {first.returncode}/{second.returncode}, tables {'equal' if same else 'DIFFER'}",
           home)

    # Idempotency: rerun the reference.
    again = storeops("run", "--landing", str(source), home=reference)
    same = fingerprint(reference / "warehouse.duckdb") == ref_tables
    record("rerun on the same landing", again.returncode == 0 and same,
           f"exit {again.returncode}, tables {'unchanged' if same else 'CHANGED'}", reference)

    # Corrected re-export, and bad data stopped by a blocking check.
    landing = copy_landing("reexport")
    home = work / "reexport"
    storeops("run", "--landing", str(landing), home=home)
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as con:
        products = con.execute("select count(*) from marts.dim_products").fetchall()[0][0]
    (landing / "purchasing" / "suppliers_bad.csv").write_text(suppliers_with_lead_time(landing, "-5"))
    summary = next((home / "output" / "reorders").glob("*/summary.csv"))
    before = summary.stat().st_mtime_ns
    blocked = storeops("run", "--landing", str(landing), home=home)
    untouched = summary.stat().st_mtime_ns == before
    record("bad supplier terms (blocking check)", blocked.returncode == 1 and untouched
           and "raw/purchasing_suppliers: gx_suite" in blocked.stderr,
           f"exit {blocked.returncode}, buyer files {'untouched' if untouched else 'REWRITTEN'}",
           home)
    (landing / "purchasing" / "suppliers_fixed.csv").write_text(suppliers_with_lead_time(landing, "33"))
    fixed = storeops("run", "--landing", str(landing), home=home)
    supplier = next(csv.reader(io.StringIO(suppliers_with_lead_time(landing, "33")).readlines()[1:]))[0]
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as con:
        lead = con.execute("select min(lead_time_days), max(lead_time_days) from marts.dim_products "
                           "where supplier_id = ?", [supplier]).fetchall()[0]
        after = con.execute("select count(*) from marts.dim_products").fetchall()[0][0]
    record("corrected re-export replaces old rows", fixed.returncode == 0 and lead == (33, 33)
           and after == products, f"exit {fixed.returncode}, lead time now {lead}, "
           f"products {products} -> {after}", home)

    # dbt failure.
    home = work / "dbt_failure"
    storeops("run", "--landing", str(source), home=home)
    with duckdb.connect(str(home / "warehouse.duckdb")) as con:
        kept = con.execute("select count(*), sum(net_revenue) from marts.fct_orders").fetchall()[0]
        con.execute("alter table raw.shopify_orders drop column note_attributes")
    failed = storeops("run", "--landing", str(source), home=home)
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as con:
        still = con.execute("select count(*), sum(net_revenue) from marts.fct_orders").fetchall()[0]
    record("dbt model failure", failed.returncode == 1 and still == kept
           and "warehouse_dbt_assets" in failed.stderr,
           f"exit {failed.returncode}, marts {'kept' if still == kept else 'CHANGED'}", None)

    # Data-subject deletion.
    home = work / "forget"
    storeops("run", "--landing", str(source), home=home)
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as con:
        email = con.execute("select email from marts.dim_customers where orders > 1 "
                            "order by customer_id limit 1").fetchall()[0][0]
    forgot = storeops("forget", "--email", email, home=home)
    after = storeops("run", "--landing", str(source), home=home)
    record("data-subject deletion (forget)", forgot.returncode == 0 and after.returncode == 0,
           f"forget exit {forgot.returncode}, next run exit {after.returncode}", home)

    # Bad input: the fuzz test's figures.
    if args.run_fuzz:
        subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                        "tests/integration/test_fuzz_ingest.py"], cwd=ROOT, check=False)
    fuzz = json.loads((RESULTS / "fuzz.json").read_text())
    scenarios.append({
        "scenario": f"bad input: {fuzz.get('cases')} fuzzed vendor files",
        "survived": fuzz.get("rows_lost") == 0 and fuzz.get("rows_doubled") == 0,
        "detail": f"{fuzz.get('files_rejected')} rejected with a message, "
                  f"{fuzz.get('files_loaded')} loaded",
        "rows_in": fuzz.get("rows_in"), "rows_lost": fuzz.get("rows_lost"),
        "rows_doubled": fuzz.get("rows_doubled"),
    })

    survived = sum(s["survived"] for s in scenarios)
    totals = {
        "scenarios": len(scenarios), "survived": survived,
        "fuzz_cases": fuzz.get("cases"),
        "rows_lost": sum(s.get("rows_lost") or 0 for s in scenarios),
        "rows_doubled": sum(s.get("rows_doubled") or 0 for s in scenarios),
        "seconds": round(time.monotonic() - started, 1),
        "store": {"scale": args.scale, "days": args.days, "seed": 5},
    }
    (RESULTS / "reliability.json").write_text(
        json.dumps({"totals": totals, "scenarios": scenarios}, indent=2) + "\n")
    lines = ["# Reliability: fault scenarios", "",
             (f"`uv run python benchmarks/reliability.py` on a demo store (scale {args.scale}, "
             f"{args.days} days, seed 5), {totals['seconds']:.0f} s."), "",
             "| scenario | survived | rows read | rows lost | rows doubled | detail |",
             "|---|---|---:|---:|---:|---|"]
    for s in scenarios:
        lines.append(f"| {s['scenario']} | {'yes' if s['survived'] else 'NO'} | "
                     f"{s.get('rows_in', '') if s.get('rows_in') is not None else ''} | "
                     f"{s.get('rows_lost', '')} | {s.get('rows_doubled', '')} | {s['detail']} |")
    lines += ["", (f"**{survived} of {len(scenarios)} scenarios survived; "
                  f"{totals['fuzz_cases']} fuzz cases; rows lost {totals['rows_lost']}, "
                  f"rows doubled {totals['rows_doubled']}.**"), ""]
    (RESULTS / "reliability.md").write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
