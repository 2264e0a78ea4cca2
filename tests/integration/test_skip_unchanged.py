"""A run with nothing new skips dbt, the analytics and the outputs; any change, a forced
rebuild or a missing output builds again (orchestration/defs/inputs.py)."""

import hashlib

import dagster as dg
import duckdb
import pytest

from orchestration.defs.inputs import (
    changed_parts,
    fingerprint_parts,
    last_build,
    last_finished_build,
    raw_versions,
)
from orchestration.defs.resources import resources_for
from orchestration.harness import fingerprint
from orchestration.pipeline import execute_pipeline, home_instance
from orchestration.settings import Settings

pytestmark = pytest.mark.integration


def output_files(home) -> dict[str, str]:
    """Every output file's sha256 but the data-quality page's, which reports the runs and
    is written for every run."""
    return {str(p.relative_to(home)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted((home / "output").rglob("*"))
            if p.is_file() and "quality" not in p.relative_to(home / "output").parts}


def steps(instance, run_id: str, kind: dg.DagsterEventType) -> set[str]:
    return {r.step_key for r in instance.all_logs(run_id, of_type=kind)}


def test_raw_versions_see_every_added_removed_or_repeated_row():
    with duckdb.connect() as con:
        con.execute("create schema raw")
        con.execute("create table raw.t (id integer, v varchar)")
        empty = raw_versions(con)
        con.execute("insert into raw.t values (1, 'a')")
        one = raw_versions(con)
        con.execute("insert into raw.t values (1, 'a')")  # the same row pasted twice
        twice = raw_versions(con)
        con.execute("delete from raw.t")
        con.execute("insert into raw.t values (1, 'b')")
        changed = raw_versions(con)
        con.execute("delete from raw.t")
        assert len({empty["raw.t"], one["raw.t"], twice["raw.t"], changed["raw.t"]}) == 4
        assert raw_versions(con) == empty
    assert changed_parts({"a": "1", "b": "2"}, {"b": "3", "c": "4"}) == ["a", "b", "c"]


def test_an_unchanged_rerun_skips_the_build_and_a_forced_rebuild_gives_the_same(
        tmp_path, built_store):
    # A copy of a home after one clean run: moved, with nothing new, nothing is rebuilt.
    home = built_store.copy_home(tmp_path / "home")
    settings = Settings.load(home, landing=built_store.landing)
    built = fingerprint(settings.warehouse_path)
    outputs = output_files(home)
    assert any(name.startswith("output/reorders/") for name in outputs)

    again = execute_pipeline(settings)
    assert again.success and again.models_built == 0, again.failed_steps
    assert again.unchanged and again.unchanged.startswith("Nothing changed since run")
    assert again.rebuilt_because is None
    # The data-quality page reports runs: it is written for this one too, so a blocked
    # run in between cannot leave its failures on it.
    assert again.quality_report == home / "output" / "quality" / "index.html"
    assert again.quality_report.stat().st_mtime > (home / "output" / "index.html").stat().st_mtime
    assert again.sources and all(s["files_loaded"] == 0 for s in again.sources)
    with home_instance(settings) as instance:
        run_id = instance.get_runs(limit=1)[0].run_id
        skipped = steps(instance, run_id, dg.DagsterEventType.STEP_SKIPPED)
        ran = steps(instance, run_id, dg.DagsterEventType.STEP_SUCCESS)
        assert {"warehouse_dbt_assets", "warehouse_docs"} <= skipped
        assert not any(s.startswith(("analytics", "output", "marts")) for s in ran), ran
        # The raw tables' Great Expectations verdicts stand too: same rows, code and
        # settings, so the last evaluation is repeated (marked) and GX is not run.
        evaluations = [r.dagster_event.event_specific_data for r in instance.all_logs(
            run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION)]
        suites = [e for e in evaluations if e.check_name == "gx_suite"]
        assert len(suites) >= 10 and all(e.passed for e in suites)
        assert all(e.metadata["carried_over"].value is True for e in suites)
        assert all(e.metadata["evaluated_in_run"].value != run_id for e in suites)
        last = last_finished_build(instance, home / "output")
    assert last is not None and last[1] != run_id  # still the first run's build
    assert fingerprint(settings.warehouse_path) == built
    assert output_files(home) == outputs

    # What the gate compares: a setting changes one part; a missing output means the last
    # build no longer stands.
    store = resources_for(settings)["store"]
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        now = fingerprint_parts(con, store, None)
        other = fingerprint_parts(con, store.model_copy(update={"currency": "EUR"}), None)
        replay = fingerprint_parts(con, store, "2026-01-01")
    assert changed_parts(last[0], now) == []
    assert changed_parts(now, other) == ["settings.currency"]
    assert changed_parts(now, replay) == ["as_of"]
    index = home / "output" / "index.html"
    kept = index.read_bytes()
    index.unlink()
    with home_instance(settings) as instance:
        assert last_finished_build(instance, home / "output") is None
        assert last_build(instance, home / "output")[2] == f"{index} is missing"
    index.write_bytes(kept)

    forced = execute_pipeline(settings, rebuild=True)
    assert forced.success and forced.unchanged is None and forced.models_built > 0
    assert forced.rebuilt_because == "rebuild asked (storeops/rebuild)"
    assert fingerprint(settings.warehouse_path) == built
