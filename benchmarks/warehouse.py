"""dbt build time on the demo store at scale 1 and 10, with the slowest models.

For each scale, in a fresh home: generate the demo store, ingest it with the loader
(not timed here, see benchmarks/ingest.py), then time in the same process:
- `dbt build` from empty (models + data tests + unit tests), the first, full build;
- `dbt build` again with no new data (incremental facts do no work): the ratio
  rebuild / first build is what a daily run without new files costs;
- the slowest models from dbt's run_results.json, with their row counts.
Writes benchmarks/results/warehouse.json and warehouse.md.

    uv run python benchmarks/warehouse.py               # scales 1 and 10
    uv run python benchmarks/warehouse.py --scales 1
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DBT_DIR = ROOT / "dbt_project"
RESULTS = Path(__file__).parent / "results"


def dbt_build(home: Path, target: Path) -> tuple[float, dict]:
    env = {**os.environ, "STOREOPS_HOME": str(home), "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
    started = time.perf_counter()
    done = subprocess.run(
        [str(Path(sys.executable).with_name("dbt")), "build", "--project-dir", str(DBT_DIR),
         "--profiles-dir", str(DBT_DIR), "--target-path", str(target)],
        capture_output=True, text=True, env=env, check=False,
    )
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(done.stdout[-4000:])
    return seconds, json.loads((target / "run_results.json").read_text())


def one(scale: float, days: int) -> dict:
    import duckdb

    from orchestration.demo import generate_store
    from orchestration.ingest import ingest_landing

    work = Path(tempfile.mkdtemp(prefix="storeops-wh-"))
    try:
        home = work / "home"
        generate_store(home, scale=scale, days=days, seed=7)
        with duckdb.connect(str(home / "warehouse.duckdb")) as con:
            ingest_landing(con, home / "landing", run_id="bench", timezone="America/New_York")
        first_s, results = dbt_build(home, work / "target1")
        again_s, _ = dbt_build(home, work / "target2")
        models = sorted(
            (r for r in results["results"] if r["unique_id"].startswith("model.")),
            key=lambda r: r["execution_time"], reverse=True,
        )
        with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as con:
            slowest = []
            for r in models[:6]:
                name = r["unique_id"].split(".")[-1]
                schema = ("marts" if name.startswith(("fct_", "dim_")) else
                          "staging" if name.startswith("stg_") else "intermediate")
                rows = con.execute(f"select count(*) from {schema}.{name}").fetchall()[0][0]
                slowest.append({"model": name, "seconds": round(r["execution_time"], 2), "rows": rows})
        tests = sum(1 for r in results["results"] if not r["unique_id"].startswith("model."))
        return {
            "scale": scale, "days": days,
            "first_build_s": round(first_s, 1),
            "rebuild_no_new_data_s": round(again_s, 1),
            "ratio_rebuild_vs_first": round(again_s / first_s, 2),
            "models": len(models), "tests": tests,
            "slowest_models": slowest,
        }
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scales", nargs="*", type=float, default=[1.0, 10.0])
    parser.add_argument("--days", type=int, default=730)
    args = parser.parse_args()
    RESULTS.mkdir(parents=True, exist_ok=True)
    rows = []
    for scale in args.scales:
        row = one(scale, args.days)
        print(json.dumps(row), flush=True)
        rows.append(row)
    (RESULTS / "warehouse.json").write_text(json.dumps(rows, indent=2) + "\n")
    lines = [f"# Warehouse (dbt build) benchmark, {args.days} days, 2 cores", "",
             "| scale | first build s | rebuild, no new data s | ratio | models | tests |",
             "|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['scale']} | {r['first_build_s']} | {r['rebuild_no_new_data_s']} | "
                     f"{r['ratio_rebuild_vs_first']} | {r['models']} | {r['tests']} |")
    for r in rows:
        lines += ["", f"Slowest models at scale {r['scale']}:", "", "| model | s | rows |", "|---|---|---|"]
        lines += [f"| {m['model']} | {m['seconds']} | {m['rows']:,} |" for m in r["slowest_models"]]
    (RESULTS / "warehouse.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
