"""Running storeops as a user does and fingerprinting what it leaves: shared by the
integration tests, the benchmarks and before/after comparisons of a refactor.

    from orchestration.harness import storeops, fingerprint, outputs
    done = storeops("run", "--landing", landing, home=home)
    same = fingerprint(home / "warehouse.duckdb") == fingerprint(other / "warehouse.duckdb")

Nothing here imports Dagster or the tests.
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# The CLI of the environment this runs in, not whatever `storeops` is on PATH.
STOREOPS = str(Path(sys.executable).with_name("storeops"))
# Columns that record when something happened, not what the data is.
CLOCK_COLUMNS = {"_loaded_at", "loaded_at", "written_at", "quarantined_at", "reviewed_at",
                 "run_id", "forgotten_at"}


def clean_env(**extra: str) -> dict[str, str]:
    """This process' environment without STOREOPS_ and DAGSTER_ variables, plus `extra`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("STOREOPS_", "DAGSTER_"))}
    env.update(extra)
    return env


def storeops(*args: str, home: Path | str, failpoint: str | None = None,
             timeout: int = 900) -> subprocess.CompletedProcess:
    """Run `storeops ... --home HOME` in a clean environment (`clean_env`), optionally with
    a failpoint armed (quality/failpoints.py); never raises on a non-zero exit code.

    Returns the CompletedProcess (text stdout/stderr). Raises subprocess.TimeoutExpired
    after `timeout` seconds."""
    env = clean_env(**({"STOREOPS_FAILPOINT": failpoint} if failpoint else {}))
    return subprocess.run([STOREOPS, *args, "--home", str(home)], cwd=ROOT, env=env, text=True,
                          capture_output=True, timeout=timeout, check=False)


def fingerprint(warehouse: Path) -> dict[str, tuple]:
    """`{"schema.table": (rows, content hash)}` for every base table of raw, marts and
    analytics (clock columns and the load/file logs left out). Doubles are compared to 6
    decimals: DuckDB sums in parallel, so a sum of doubles can differ in its last bits
    from one build to the next without any row having changed."""
    import duckdb

    out = {}
    with duckdb.connect(str(warehouse), read_only=True) as con:
        tables = con.execute("""
            select table_schema, table_name,
                   list(case when data_type in ('DOUBLE', 'FLOAT')
                             then 'round("' || column_name || '", 6)'
                             else '"' || column_name || '"' end order by ordinal_position),
                   list(column_name order by ordinal_position)
            from information_schema.columns
            where table_schema in ('raw', 'marts', 'analytics')
              and table_name not in ('load_log', 'reorder_file_log')
              and (table_schema, table_name) in (select (table_schema, table_name)
                                                 from information_schema.tables
                                                 where table_type = 'BASE TABLE')
            group by 1, 2 order by 1, 2
        """).fetchall()
        for schema, table, expressions, names in tables:
            kept = [e for e, c in zip(expressions, names, strict=True) if c not in CLOCK_COLUMNS]
            out[f"{schema}.{table}"] = con.execute(
                f'select count(*), bit_xor(hash({", ".join(kept)})) from "{schema}"."{table}"'
            ).fetchall()[0]
    return out


def outputs(home: Path) -> dict[str, str]:
    """`{path under output/: sha256}` of what a person reads in every output file (cell
    values for XLSX, whose zip carries a creation time; the index page without its
    "written" time). The quality report is left out: it lists the runs themselves."""
    from openpyxl import load_workbook

    out = {}
    root = home / "output"
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        if not path.is_file() or rel.startswith("quality/"):
            continue
        if path.suffix == ".xlsx":
            book = load_workbook(path, read_only=True)
            content = repr([list(ws.iter_rows(values_only=True)) for ws in book.worksheets])
            book.close()
            out[rel] = hashlib.sha256(content.encode()).hexdigest()
        else:
            data = path.read_bytes()
            if rel == "index.html":  # says when it was written
                data = re.sub(rb"written \d{4}-\d\d-\d\d \d\d:\d\d", b"written", data)
            out[rel] = hashlib.sha256(data).hexdigest()
    return out


def suppliers_with_lead_time(landing: Path, lead_time: str) -> str:
    """The landing's purchasing/suppliers.csv with the first supplier's lead_time_days
    set to `lead_time` (text, so that bad values can be written), as CSV text."""
    rows = list(csv.reader((landing / "purchasing" / "suppliers.csv").open(encoding="utf-8")))
    rows[1][rows[0].index("lead_time_days")] = lead_time
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    return buf.getvalue()
