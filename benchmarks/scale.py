"""The whole pipeline, step by step, at several store sizes: time and peak memory of each
step, the fixed cost outside the Dagster run, and the cost per million order lines.

For each scale, in a fresh home: generate the demo store (not timed as part of the run),
then `storeops run` as a user runs it (a separate process, clean environment), twice:
- **first run**: everything is new (what `make demo` pays after generating);
- **unchanged rerun**: the same landing folder again, no new file (a daily run on a day
  nothing arrived: what is paid regardless of data).

Per run: wall seconds, CPU seconds (user + system of the process tree), peak RSS of the
process tree (storeops and its children: dbt, workers), sampled from /proc every 0.1 s;
the Dagster run's own span and every step's seconds from the run's event log, and each
step's peak RSS (the largest sample taken while it ran; steps run one at a time); what
lies outside the Dagster run (process start, imports, loading the definitions, the summary).

Writes benchmarks/results/scale.json and scale.md (figures, not assertions).

    uv run python benchmarks/scale.py                    # scales 0.1, 1 and 10
    uv run python benchmarks/scale.py --scales 0.005 --days 60 --label tiny
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from orchestration.harness import STOREOPS, clean_env
from orchestration.processes import descendants
from orchestration.warehouse_handle import MEMORY_LIMIT_ENV

RESULTS = Path(__file__).parent / "results"
PAGE = 4096 if not hasattr(os, "sysconf") else os.sysconf("SC_PAGE_SIZE")


def rss_bytes(pid: int) -> int:
    """Resident set size of one process (Linux /proc), 0 if it is gone."""
    try:
        return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * PAGE
    except (OSError, IndexError, ValueError):
        return 0


ROLES = ("run worker", "dbt", "other")


def role(pid: int, root: int) -> str:
    """Which part of a run a process is: the run worker (`python -m orchestration.cli`,
    Dagster and every Python step), dbt, or other (the `storeops` command itself, the
    forecasts' worker processes)."""
    if pid == root:
        return "other"
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return "other"
    if "orchestration.cli" in cmdline:
        return "run worker"
    return "dbt" if "dbt" in cmdline else "other"


class TreeSampler(threading.Thread):
    """Samples the RSS of a process and all its descendants every `interval` seconds:
    `samples` is a list of (unix time, bytes of the tree, {role: bytes}) (`role`)."""

    def __init__(self, pid: int, interval: float = 0.1):
        super().__init__(daemon=True)
        self.pid, self.interval = pid, interval
        self.samples: list[tuple[float, int, dict[str, int]]] = []
        self.done = threading.Event()
        self.roles: dict[int, str] = {}

    def run(self) -> None:
        while not self.done.is_set():
            by_role = dict.fromkeys(ROLES, 0)
            for pid in [self.pid, *(p for p, _ in descendants(self.pid))]:
                if pid not in self.roles:
                    self.roles[pid] = role(pid, self.pid)
                by_role[self.roles[pid]] += rss_bytes(pid)
            self.samples.append((time.time(), sum(by_role.values()), by_role))
            self.done.wait(self.interval)


def step_times(home: Path) -> tuple[float, float, float, list[dict]]:
    """(run start, run end, run seconds, steps) of the home's last Dagster run; each step
    is {step, start, end, seconds} in unix time."""
    import dagster as dg

    with dg.DagsterInstance.from_config(str(home / "dagster")) as instance:
        run = instance.get_runs(limit=1)[0]
        records = instance.all_logs(run.run_id)
    started: dict[str, float] = {}
    steps = []
    for record in records:
        event = record.dagster_event
        kind = event.event_type_value if event else None
        if kind == "STEP_START":
            started[record.step_key] = record.timestamp
        elif kind in ("STEP_SUCCESS", "STEP_FAILURE") and record.step_key in started:
            start = started[record.step_key]
            steps.append({"step": record.step_key, "start": start, "end": record.timestamp,
                          "seconds": record.timestamp - start, "failed": kind == "STEP_FAILURE"})
    first, last = records[0].timestamp, records[-1].timestamp
    return first, last, last - first, steps


def profile_run(home: Path, landing: Path, memory_limit: str | None = None) -> dict:
    """One `storeops run` in its own process, sampled and read back from its event log;
    `memory_limit` is passed as $STOREOPS_DUCKDB_MEMORY_LIMIT (DuckDB's, storeops' and
    dbt's connections)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.time()
    process = subprocess.Popen([STOREOPS, "run", "--landing", str(landing), "--home", str(home)],
                               cwd=ROOT, env=clean_env(**({MEMORY_LIMIT_ENV: memory_limit}
                                                          if memory_limit else {})),
                               stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
    sampler = TreeSampler(process.pid)
    sampler.start()
    output, _ = process.communicate()
    ended = time.time()
    sampler.done.set()
    sampler.join()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if process.returncode != 0:
        raise SystemExit(f"storeops run failed ({process.returncode}):\n{output[-3000:]}")
    run_start, run_end, run_seconds, steps = step_times(home)
    for step in steps:
        inside = [(b, parts) for t, b, parts in sampler.samples if step["start"] <= t <= step["end"]]
        step["peak_rss_mib"] = round(max(b for b, _ in inside) / 2**20) if inside else None
        for name in ROLES:  # each part's own peak during the step
            step[f"peak_{name.replace(' ', '_')}_mib"] = (
                round(max(p[name] for _, p in inside) / 2**20) if inside else None)
    return {
        "wall_s": round(ended - started, 2),
        "cpu_s": round((after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime), 2),
        "peak_rss_mib": round(max((b for _, b, _ in sampler.samples), default=0) / 2**20),
        "dagster_run_s": round(run_seconds, 2),
        "before_run_s": round(run_start - started, 2),  # process start, imports, definitions
        "after_run_s": round(ended - run_end, 2),  # summary, report, exit
        "steps": [{k: (round(v, 2) if isinstance(v, float) else v) for k, v in s.items()
                   if k not in ("start", "end")} for s in steps],
    }


def grouped(steps: list[dict]) -> list[dict]:
    """Steps with the Great Expectations suites and the ingest assets summed into one line
    each (their count in the name), slowest first."""
    peaks = ["peak_rss_mib", *(f"peak_{n.replace(' ', '_')}_mib" for n in ROLES)]
    groups: dict[str, dict] = defaultdict(lambda: {"seconds": 0.0, "n": 0, **dict.fromkeys(peaks, 0)})
    for step in steps:
        name = step["step"]
        if name.endswith("_gx_suite"):
            name = "Great Expectations suites"
        elif name.startswith("raw__"):
            name = "ingest (raw tables)"
        g = groups[name]
        g["seconds"] += step["seconds"]
        for peak in peaks:
            g[peak] = max(g[peak], step.get(peak) or 0)
        g["n"] += 1
    rows = [{"step": k if g["n"] == 1 else f"{k} ({g['n']})", "seconds": round(g["seconds"], 2),
             **{peak: g[peak] for peak in peaks}} for k, g in groups.items()]
    return sorted(rows, key=lambda r: -r["seconds"])


def measure(scale: float, days: int, seed: int, keep: Path | None,
            memory_limit: str | None = None) -> dict:
    from orchestration.demo import generate_store

    home = (keep or Path(tempfile.mkdtemp(prefix="storeops-scale-"))) / f"scale-{scale}"
    shutil.rmtree(home, ignore_errors=True)
    home.mkdir(parents=True)
    started = time.perf_counter()
    store = generate_store(home, scale=scale, days=days, seed=seed)
    generated_s = time.perf_counter() - started
    landing = home / "landing"
    print(f"scale {scale}: {store.n_order_lines:,} order lines generated in {generated_s:.0f} s",
          flush=True)
    first = profile_run(home, landing, memory_limit)
    print(f"  first run {first['wall_s']} s, peak {first['peak_rss_mib']} MiB", flush=True)
    rerun = profile_run(home, landing, memory_limit)
    print(f"  unchanged rerun {rerun['wall_s']} s", flush=True)
    if keep is None:
        shutil.rmtree(home.parent, ignore_errors=True)
    return {"scale": scale, "days": days, "seed": seed, "orders": store.n_orders,
            "order_lines": store.n_order_lines, "customers": store.n_customers,
            "skus": store.n_skus, "generate_s": round(generated_s, 1),
            "duckdb_memory_limit": memory_limit or "default (80% of RAM)",
            "first_run": first, "unchanged_rerun": rerun}


def markdown(results: list[dict], label: str) -> str:
    lines = [f"# Pipeline cost by store size ({label})", "",
             "`uv run python benchmarks/scale.py " + " ".join(sys.argv[1:]) + "` on "
             f"{os.cpu_count()} cores. Each run is `storeops run` in its own process "
             "(clean environment); time and peak RSS cover the whole process tree (storeops, "
             "dbt, workers). *Unchanged rerun*: the same landing folder again, nothing new. "
             f"DuckDB memory limit: {results[0].get('duckdb_memory_limit', 'default')}.", "",
             ("| scale | order lines | run | wall s | CPU s | peak RSS MiB | Dagster run s | "
             "before the run s | s per M order lines |"),
             "|---|---|---|---|---|---|---|---|---|"]
    for r in results:
        for name in ("first_run", "unchanged_rerun"):
            run = r[name]
            per_m = run["wall_s"] / (r["order_lines"] / 1e6) if r["order_lines"] else float("nan")
            lines.append(f"| {r['scale']} | {r['order_lines']:,} | {name.replace('_', ' ')} | "
                         f"{run['wall_s']} | {run['cpu_s']} | {run['peak_rss_mib']} | "
                         f"{run['dagster_run_s']} | {run['before_run_s']} | {per_m:,.0f} |")
    for r in results:
        for name in ("first_run", "unchanged_rerun"):
            run = r[name]
            lines += ["", f"## Scale {r['scale']}, {name.replace('_', ' ')}: steps", "",
                      (f"{r['order_lines']:,} order lines, {r['customers']:,} customers, "
                      f"{r['skus']:,} SKUs. Outside the Dagster run: {run['before_run_s']} s "
                      f"before it (process start, imports, definitions), {run['after_run_s']} s "
                      "after it. Peak RSS of the whole tree, then each part's own peak in the step: "
                      "the run worker (Dagster and the Python steps), dbt, and other processes "
                      "(the storeops command, the forecasts' workers)."), "",
                      "| step | seconds | peak RSS MiB | run worker | dbt | other |",
                      "|---|---|---|---|---|---|"]
            lines += [f"| {s['step']} | {s['seconds']} | {s['peak_rss_mib']} | "
                      f"{s.get('peak_run_worker_mib', '')} | {s.get('peak_dbt_mib', '')} | "
                      f"{s.get('peak_other_mib', '')} |"
                      for s in grouped(run["steps"])]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scales", type=float, nargs="+", default=[0.1, 1.0, 10.0])
    parser.add_argument("--days", type=int, default=730)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--label", default="scale", help="results file name: <label>.md/json")
    parser.add_argument("--keep", type=Path, help="build the homes here and keep them")
    parser.add_argument("--memory-limit", help="DuckDB memory limit for the runs (e.g. 4GB): "
                        "$STOREOPS_DUCKDB_MEMORY_LIMIT; default DuckDB's 80%% of RAM")
    args = parser.parse_args()
    results = [measure(s, args.days, args.seed, args.keep, args.memory_limit)
               for s in args.scales]
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"{args.label}.json").write_text(json.dumps(results, indent=2) + "\n")
    (RESULTS / f"{args.label}.md").write_text(markdown(results, args.label))
    print((RESULTS / f"{args.label}.md").read_text())


if __name__ == "__main__":
    main()
