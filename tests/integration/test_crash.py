"""A `storeops run` killed with SIGKILL at any point (inside the transaction loading a
file, while dbt builds, between writing an output's temporary copy and renaming it) and
run again ends in the same warehouse and the same output files as an uninterrupted run.

The kills come from failpoints (quality/failpoints.py), so each lands where it hurts
most; the runs are chained in one home (three crashes in a row, then a clean run), which
is harder than one crash per home.
"""


import duckdb
import pytest

from orchestration.harness import fingerprint, outputs, storeops
from quality.reconcile import reconcile

pytestmark = pytest.mark.integration


def test_runs_killed_during_ingest_dbt_and_file_writing_end_like_an_uninterrupted_run(
        tmp_path, built_store):
    landing, reference = str(built_store.landing), built_store.home

    crashed = built_store.new_home(tmp_path / "crashed")
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
