"""A `storeops run` killed with SIGKILL at any point (inside the transaction loading a
file, while dbt builds, between writing an output's temporary copy and renaming it) and
run again ends in the same warehouse and the same output files as an uninterrupted run.

The kills come from failpoints (quality/failpoints.py), so each lands where it hurts
most; the runs are chained in one home (three crashes in a row, then a clean run), which
is harder than one crash per home.
"""

import hashlib
import re
from pathlib import Path

import duckdb
import pytest

from quality.reconcile import reconcile
from tests.integration.helpers import storeops
from tests.integration.test_concurrency import fingerprint

pytestmark = pytest.mark.integration


def outputs(home: Path) -> dict[str, str]:
    """Every file under output/ and a digest of what a person reads in it (cell values for
    XLSX, whose zip carries a creation time). The quality report is left out: it lists
    the runs, and the killed ones are part of that history."""
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


def test_runs_killed_during_ingest_dbt_and_file_writing_end_like_an_uninterrupted_run(
        tmp_path, built_store):
    landing, reference = str(built_store.landing), built_store.home

    crashed = tmp_path / "crashed"
    for failpoint in ("ingest:3", "dbt:5", "write:3"):
        killed = storeops("run", "--landing", landing, home=crashed, failpoint=failpoint)
        assert killed.returncode == -9, (failpoint, killed.returncode, killed.stderr[-2000:])
    # Evidence that the kills landed where meant: a temporary copy of an output file was
    # left beside it by the last one.
    leftovers = [p for p in (crashed / "output").rglob(".*") if p.is_file()]
    assert leftovers, "the write failpoint left no temporary file: it did not fire mid-write"

    again = storeops("run", "--landing", landing, home=crashed)
    assert again.returncode == 0, again.stdout[-2000:] + again.stderr[-2000:]
    assert fingerprint(crashed / "warehouse.duckdb") == fingerprint(reference / "warehouse.duckdb")
    assert outputs(crashed) == outputs(reference)
    assert not [p for p in (crashed / "output").rglob(".*") if p.is_file()]
    with duckdb.connect(str(crashed / "warehouse.duckdb"), read_only=True) as con:
        books = reconcile(con)
    assert books.rows_in > 0 and books.rows_lost == 0 and books.rows_doubled == 0
    assert books.files_loaded_twice == 0
