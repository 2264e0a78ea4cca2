"""The `storeops` command as a person runs it: a subprocess, exit codes, the summary."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

pytestmark = pytest.mark.e2e


def storeops(*args, home=None):
    env = os.environ.copy()
    env["COLUMNS"] = "160"
    cmd = [sys.executable, "-m", "orchestration.cli", *args]
    if home is not None:
        cmd += ["--home", str(home)]
    return subprocess.run(cmd, capture_output=True, text=True, check=False, env=env, timeout=600)


def total_rows(warehouse: Path) -> int:
    """Rows in every raw data table and quarantine (the file log is not data)."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        tables = [r[0] for r in con.execute(
            "select table_name from information_schema.tables "
            "where table_schema='raw' and table_name != 'load_log'"
        ).fetchall()]
        return sum(con.execute(f"select count(*) from raw.{t}").fetchall()[0][0] for t in tables)


def test_demo_then_run_again_adds_nothing(tmp_path):
    home = tmp_path / "home"
    demo = storeops("demo", "--scale", "0.01", "--days", "60", "--seed", "3", home=home)
    assert demo.returncode == 0, demo.stderr[-3000:]
    assert "Ingestion" in demo.stdout and "shopify_orders" in demo.stdout
    assert (home / "warehouse.duckdb").exists() and (home / "demo_truth").is_dir()
    # Where the buyers' files went, and nothing on stderr a person would take for a fault.
    reorders = next(ln for ln in demo.stdout.splitlines() if ln.startswith("Reorder files: "))
    assert str(home / "output" / "reorders") in reorders and "lines to order" in reorders
    assert "Warning" not in demo.stderr and "leaked" not in demo.stderr, demo.stderr[-2000:]
    before = total_rows(home / "warehouse.duckdb")
    assert before > 0

    # Run again on the same landing, plus a bad file among the good ones: every good file
    # shows as already loaded (none new), the bad one is reported by name, the run still
    # succeeds, nothing is added or lost.
    bad = home / "landing" / "meta_ads" / "not_meta.csv"
    shutil.copy(next((home / "landing" / "zendesk").glob("*.csv")), bad)
    # Without --landing a run reads the home's own landing folder.
    again = storeops("run", home=home)
    assert again.returncode == 0, again.stderr[-3000:]
    totals = next(ln for ln in again.stdout.splitlines() if ln.startswith("│ total "))
    cells = [c.strip() for c in totals.strip("│").split("│")]
    assert cells[1] == "0" and int(cells[2].replace(",", "")) > 0, again.stdout  # new, skipped
    assert cells[3] == "1", again.stdout  # rejected: the bad file
    assert "not_meta.csv" in again.stdout and "move it to zendesk/" in again.stdout
    assert "Traceback" not in again.stdout + again.stderr
    assert total_rows(home / "warehouse.duckdb") == before


def test_bad_usage_exits_2(tmp_path):
    missing = storeops("run", "--landing", str(tmp_path / "nope"), home=tmp_path / "h")
    assert missing.returncode == 2
    assert "does not exist" in missing.stdout + missing.stderr
    # No --landing: storeops.yml's landing, else <home>/landing; either missing is named.
    no_landing = storeops("run", home=tmp_path / "h")
    assert no_landing.returncode == 2
    assert f"{tmp_path / 'h' / 'landing'} does not exist" in " ".join(
        (no_landing.stdout + no_landing.stderr).split())
    configured = tmp_path / "configured"
    configured.mkdir()
    (configured / "storeops.yml").write_text(f"landing: {tmp_path / 'exports'}\n")
    from_settings = storeops("run", home=configured)
    assert from_settings.returncode == 2
    assert f"{tmp_path / 'exports'} does not exist" in " ".join(
        (from_settings.stdout + from_settings.stderr).split())
    bad_date = storeops("run", "--landing", str(tmp_path), "--as-of", "2026-02-30", home=tmp_path / "h")
    assert bad_date.returncode == 2
    assert "--as-of" in bad_date.stdout + bad_date.stderr
    assert storeops("frobnicate").returncode == 2
    bad_home = tmp_path / "bad"
    bad_home.mkdir()
    (bad_home / "storeops.yml").write_text("replenishment:\n  budget_per_cycle: lots\n")
    bad_settings = storeops("run", "--landing", str(tmp_path), home=bad_home)
    assert bad_settings.returncode == 2
    assert "replenishment.budget_per_cycle must be a number" in bad_settings.stdout + bad_settings.stderr
    assert "Traceback" not in bad_settings.stdout + bad_settings.stderr
