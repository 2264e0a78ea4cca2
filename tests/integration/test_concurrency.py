"""One run per home: a second `storeops run` waits for the first or stops with a clear
message; two runs started together end in the same warehouse as one run, and a third
run on the same landing changes nothing."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from orchestration.runlock import HomeBusy, home_lock

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]
STOREOPS = str(Path(sys.executable).with_name("storeops"))
# Columns that record when something happened, not what the data is.
CLOCK_COLUMNS = {"_loaded_at", "loaded_at", "written_at", "quarantined_at", "reviewed_at",
                 "run_id", "forgotten_at"}


def env(home, **extra):
    e = {k: v for k, v in os.environ.items() if not k.startswith(("STOREOPS_", "DAGSTER_"))}
    e.update(extra)
    return e


def storeops(*args, home, wait=False, **extra):
    cmd = [STOREOPS, *args, "--home", str(home)]
    if wait:
        return subprocess.Popen(cmd, cwd=ROOT, env=env(home, **extra), text=True,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    return subprocess.run(cmd, check=False, cwd=ROOT, env=env(home, **extra), text=True,
                          capture_output=True, timeout=900)


def fingerprint(warehouse: Path) -> dict[str, tuple]:
    """Rows and a hash of every table's content (clock columns left out). Doubles are
    compared to 6 decimals: DuckDB sums in parallel, so a sum of doubles can differ in its
    last bits from one build to the next without any row having changed."""
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
            kept = [e for e, c in zip(expressions, names) if c not in CLOCK_COLUMNS]
            out[f"{schema}.{table}"] = con.execute(
                f'select count(*), bit_xor(hash({", ".join(kept)})) from "{schema}"."{table}"'
            ).fetchall()[0]
    return out


def test_a_second_process_waits_then_gives_up_naming_the_holder(tmp_path):
    code = ("from orchestration.runlock import home_lock, HomeBusy\n"
            f"try:\n    with home_lock({str(tmp_path)!r}, wait_s=0.5): pass\n"
            "except HomeBusy as e:\n    print(e)\n")
    with home_lock(tmp_path, what="storeops run"):
        done = subprocess.run([sys.executable, "-c", code], check=False, cwd=ROOT,
                              capture_output=True, text=True, timeout=60)
    assert f"storeops run pid {os.getpid()}" in done.stdout
    assert "nothing was changed" in done.stdout
    # Released: the next one gets it at once.
    with home_lock(tmp_path, wait_s=0):
        pass


def test_a_killed_run_leaves_no_stale_lock(tmp_path):
    code = ("import time\nfrom orchestration.runlock import home_lock\n"
            f"with home_lock({str(tmp_path)!r}):\n    print('locked', flush=True)\n    time.sleep(60)\n")
    holder = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "locked"
    with pytest.raises(HomeBusy), home_lock(tmp_path, wait_s=0.3):
        pass
    holder.send_signal(signal.SIGKILL)
    holder.wait(timeout=30)
    with home_lock(tmp_path, wait_s=5):
        pass


def test_cli_run_on_a_busy_home_exits_1_and_touches_nothing(tmp_path):
    from orchestration.demo import generate_store

    generate_store(tmp_path, scale=0.02, days=60, seed=2)
    with home_lock(tmp_path, what="storeops run"):
        done = storeops("run", "--landing", str(tmp_path / "landing"), home=tmp_path,
                        STOREOPS_LOCK_WAIT="1")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "Another storeops run is using this home" in done.stderr
    assert f"pid {os.getpid()}" in done.stderr
    assert not (tmp_path / "warehouse.duckdb").exists()


def test_two_runs_at_once_equal_one_run_and_a_rerun_changes_nothing(tmp_path, built_store):
    # The later run waits for the earlier one, then reruns on the same landing: both
    # together must equal one uninterrupted run (the shared built store's reference), so
    # the rerun changed nothing.
    landing = str(built_store.landing)
    home = tmp_path / "home"
    first = storeops("run", "--landing", landing, home=home, wait=True)
    time.sleep(1.0)
    second = storeops("run", "--landing", landing, home=home, wait=True)
    out1, err1 = first.communicate(timeout=900)
    out2, err2 = second.communicate(timeout=900)
    assert first.returncode == 0, out1[-2000:] + err1[-2000:]
    assert second.returncode == 0, out2[-2000:] + err2[-2000:]
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as con:
        # Every landing file was loaded exactly once; the later run skipped them.
        loaded_twice = con.execute("""
            select count(*) from (select file_sha256 from raw.load_log where status = 'loaded'
                                  group by 1 having count(*) > 1)
        """).fetchall()[0][0]
    assert loaded_twice == 0
    assert fingerprint(home / "warehouse.duckdb") == fingerprint(built_store.home / "warehouse.duckdb")
