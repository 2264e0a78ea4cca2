"""Demo-store generation and ingestion at several scales.

For each scale, in a fresh subprocess (so peak memory is that scale's own):
- generate the demo store (730 days unless --days) and time it;
- ingest every landing file with storeops' loader into a new DuckDB file (typed,
  validated, quarantined, one transaction per file) and time it;
- baseline in the same process: DuckDB's own `read_csv(all_varchar=true)` of the same CSV
  files into untyped tables, no validation. The ratio storeops / baseline is the price
  of typing, validation and lineage.
Writes benchmarks/results/ingest.json and ingest.md.

    uv run python benchmarks/ingest.py                 # scales 0.1, 1, 10
    uv run python benchmarks/ingest.py --scales 0.1 1  # a subset
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

RESULTS = Path(__file__).parent / "results"


def one(scale: float, days: int, workdir: Path) -> dict:
    import duckdb

    from orchestration.demo import generate_store
    from orchestration.ingest import ingest_landing

    home = workdir / f"home_{scale}"
    started = time.perf_counter()
    store = generate_store(home, scale=scale, days=days, seed=7)
    generate_s = time.perf_counter() - started
    landing = home / "landing"
    files = [p for p in landing.rglob("*") if p.is_file()]
    landing_mb = sum(p.stat().st_size for p in files) / 1e6

    con = duckdb.connect(str(home / "warehouse.duckdb"))
    started = time.perf_counter()
    results = ingest_landing(con, landing, run_id="bench", timezone="America/New_York")
    ingest_s = time.perf_counter() - started
    rows = sum(r.rows_loaded for r in results)
    quarantined = sum(r.rows_quarantined for r in results)
    rejected = sum(r.count("rejected") for r in results)
    con.close()

    # Baseline: DuckDB reads the same files as text, no typing, checks or lineage.
    base = duckdb.connect(str(home / "baseline.duckdb"))
    started = time.perf_counter()
    for i, p in enumerate(sorted(files)):
        if p.suffix == ".jsonl":
            source = f"read_json('{p}', format='newline_delimited')"
        else:
            skip = 2 if "google_ads" in p.parts else 0  # Google's two title lines
            source = f"read_csv('{p}', all_varchar=true, header=true, skip={skip})"
        base.execute(f"create table t{i} as select * from {source}")
    baseline_s = time.perf_counter() - started
    base.close()
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {
        "scale": scale,
        "days": days,
        "orders": store.n_orders,
        "order_lines": store.n_order_lines,
        "customers": store.n_customers,
        "skus": store.n_skus,
        "tickets": store.n_tickets,
        "files": len(files),
        "landing_mb": round(landing_mb, 1),
        "generate_s": round(generate_s, 2),
        "ingest_s": round(ingest_s, 2),
        "rows_loaded": rows,
        "rows_quarantined": quarantined,
        "files_rejected": rejected,
        "rows_per_s": round(rows / ingest_s),
        "baseline_duckdb_read_csv_s": round(baseline_s, 2),
        "ratio_vs_baseline": round(ingest_s / baseline_s, 2) if baseline_s else None,
        "generate_plus_ingest_s": round(generate_s + ingest_s, 2),
        "peak_rss_mb": round(peak_mb),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scales", nargs="*", type=float, default=[0.1, 1.0, 10.0])
    parser.add_argument("--days", type=int, default=730)
    parser.add_argument("--one", type=float, help=argparse.SUPPRESS)
    parser.add_argument("--workdir", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one is not None:
        print(json.dumps(one(args.one, args.days, args.workdir)))
        return

    RESULTS.mkdir(parents=True, exist_ok=True)
    rows = []
    for scale in args.scales:
        workdir = Path(tempfile.mkdtemp(prefix="storeops-bench-"))
        try:
            out = subprocess.run(
                [sys.executable, __file__, "--one", str(scale), "--days", str(args.days),
                 "--workdir", str(workdir)],
                capture_output=True, text=True, check=False,
            )
            if out.returncode != 0:
                print(out.stderr[-3000:], file=sys.stderr)
                rows.append({"scale": scale, "error": out.stderr.strip().splitlines()[-1]})
                continue
            row = json.loads(out.stdout.strip().splitlines()[-1])
            rows.append(row)
            print(json.dumps(row))
        finally:
            shutil.rmtree(workdir, ignore_errors=True)
    (RESULTS / "ingest.json").write_text(json.dumps(rows, indent=2) + "\n")
    cols = ["scale", "orders", "order_lines", "files", "landing_mb", "generate_s", "ingest_s",
            "rows_per_s", "baseline_duckdb_read_csv_s", "ratio_vs_baseline", "peak_rss_mb"]
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for r in rows:
        lines.append("| " + " | ".join(str(r.get(c, r.get("error", ""))) for c in cols) + " |")
    (RESULTS / "ingest.md").write_text(
        f"# Ingestion benchmark ({args.days} days, 2 cores)\n\n" + "\n".join(lines) + "\n"
    )
    print("\n".join(lines))


if __name__ == "__main__":
    main()
