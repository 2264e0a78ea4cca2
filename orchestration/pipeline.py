"""One run of the daily job on a home, in process, and what it did (`RunSummary`).

Used by `storeops run` / `demo` (orchestration.cli) and by tests and benchmarks that run the
pipeline without the command line. Runs execute in process (one Python process, no
per-step code reload) against the Dagster instance of the home, so every run also shows up
in `storeops ui`.
"""

from __future__ import annotations

import json
import logging
import os
import re
import time
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from orchestration import progress
from orchestration.settings import Settings


def prepare_home(settings: Settings) -> None:
    """Create the home and its Dagster instance directory with storeops' dagster.yaml (the
    template beside this module, with the home's own event log directory written in: a
    home copied elsewhere gets its own path on its next use)."""
    settings.home.mkdir(parents=True, exist_ok=True)
    settings.dagster_home.mkdir(parents=True, exist_ok=True)
    target = settings.dagster_home / "dagster.yaml"
    template = Path(__file__).with_name("dagster.yaml").read_text()
    # JSON strings are YAML strings: any path, quoted safely.
    text = template.replace("{storage_dir}", json.dumps(str(settings.dagster_home / "storage")))
    if not target.exists() or target.read_text() != text:
        temp = target.with_suffix(f".{os.getpid()}.tmp")
        temp.write_text(text)
        temp.replace(target)


def load_definitions(settings: Settings):
    """The code location bound to this home (its settings reach the assets as resources;
    nothing goes through the environment)."""
    from orchestration.definitions import build_definitions

    prepare_home(settings)
    return build_definitions(settings)


def home_instance(settings: Settings):
    """The Dagster instance of this home (<home>/dagster, storeops' dagster.yaml)."""
    import dagster as dg

    prepare_home(settings)
    return dg.DagsterInstance.from_config(str(settings.dagster_home))


@dataclass
class RunSummary:
    """What one run did: success, seconds, per raw table what was loaded (`sources`), the
    checks that failed (blocking or warnings) with what broke, failed steps, counts."""
    success: bool
    seconds: float
    sources: list[dict] = field(default_factory=list)
    failed_checks: list[str] = field(default_factory=list)  # blocking (severity ERROR)
    check_details: dict[str, str] = field(default_factory=dict)  # check -> what broke, where
    warnings: list[str] = field(default_factory=list)  # checks failed with severity WARN
    quality_report: Path | None = None
    failed_steps: list[str] = field(default_factory=list)
    models_built: int = 0
    # One per pull asset that ran (defs/pull.py): source, pulled, records, cursor, error.
    pulls: list[dict] = field(default_factory=list)
    checks_passed: int = 0
    problems: list[str] = field(default_factory=list)  # of storeops itself, after the run
    # Set when nothing the warehouse is built from changed since the last finished build:
    # the sentence saying so (defs/inputs.py); dbt, analytics and outputs were skipped.
    unchanged: str | None = None
    # Set when the warehouse was rebuilt: what changed since the last finished build.
    rebuilt_because: str | None = None
    # The delivery pass after the run (defs/delivery.py; None: no `delivery:` or a replay):
    # sent (kind/channel -> count), failed, already_sent, previews, unaddressed.
    deliveries: dict | None = None


def _error_summary(message: str) -> str:
    """The lines of a step's error that say what broke: for dbt, the model and the
    database error ("Database Error in model stg_shopify__orders ..." + "Binder Error:
    ..."), not only the last line; else the last line."""
    lines = [line.strip() for line in message.strip().splitlines() if line.strip()]
    if not lines:
        return ""
    telling: list[str] = []
    for i, line in enumerate(lines):
        if re.search(r"\b(Error in (model|test|seed|snapshot)|[A-Z][a-z]+ Error:)", line):
            telling.append(line)
            after = lines[i + 1] if i + 1 < len(lines) else ""
            if after and not after.startswith(">") and len(after) < 200:
                telling.append(after)  # dbt puts the reason on the next line
    return " / ".join(dict.fromkeys(telling[:4])) if telling else lines[-1]


def _value(metadata: dict, key: str, default=0):
    v = metadata.get(key)
    return getattr(v, "value", v) if v is not None else default


def execute_pipeline(settings: Settings, *, as_of: date | None = None,
                     on_progress=None, rebuild: bool = False, pull: bool = False) -> RunSummary:
    """Run the daily job in process on this home and summarise it (one run per home at a
    time: a second one waits, then raises HomeBusy).

    When nothing the warehouse is built from changed since the last finished build (raw
    tables, code, settings, as-of date), only ingest and its checks run and
    `RunSummary.unchanged` says so; `rebuild=True` builds everything regardless.
    `pull=True` first pulls the sources configured under `sources:` (defs/pull.py)."""
    from orchestration.runlock import home_lock

    with home_lock(settings.home, on_wait=on_progress):
        return _execute_pipeline(settings, as_of=as_of, on_progress=on_progress,
                                 rebuild=rebuild, pull=pull)


def _execute_pipeline(settings: Settings, *, as_of: date | None, on_progress,
                      rebuild: bool, pull: bool = False) -> RunSummary:
    import dagster as dg

    from orchestration.warehouse_handle import held_open

    defs = load_definitions(settings)
    from orchestration.defs.shared import AS_OF_TAG, INPUTS_KEY, PULL_TAG, REBUILD_TAG

    job = defs.resolve_job_def("daily_job")
    tags = {"storeops/trigger": "cli"}
    if as_of:
        tags[AS_OF_TAG] = as_of.isoformat()
    if rebuild:
        tags[REBUILD_TAG] = "true"
    if not pull:
        tags[PULL_TAG] = "false"
    progress.set_listener(on_progress)
    started = time.monotonic()
    quiet = _NoResultFilter()
    logging.getLogger("dagster._core.execution.plan.active").addFilter(quiet)
    try:
        with home_instance(settings) as instance, held_open(settings.warehouse_path):
            recover_interrupted_runs(instance)
            result = job.execute_in_process(
                instance=instance,
                raise_on_error=False,
                tags=tags,
                run_config={"loggers": {"console": {"config": {"log_level": "ERROR"}}}},
            )
            delivered = None
            if settings.delivery and not as_of and result.dagster_run.status.value in (
                    "SUCCESS", "FAILURE"):
                progress.report("Delivering")
                blocked = _failed_blocking(result) or (
                    [] if result.success else [f"the run failed at {step}" for step in sorted(
                        {e.step_key for e in result.all_events
                         if e.event_type_value == "STEP_FAILURE"})] or ["the run failed"])
                delivered = run_delivery(defs, instance, failed_checks=blocked)
    finally:
        progress.set_listener(None)
        logging.getLogger("dagster._core.execution.plan.active").removeFilter(quiet)
    summary = RunSummary(success=result.success, seconds=time.monotonic() - started,
                         deliveries=delivered)
    for event in result.get_asset_materialization_events():
        key = event.asset_key
        md = event.materialization.metadata
        if key.path == ["output", "quality_report"]:
            summary.quality_report = Path(_value(md, "path", ""))
        if key == INPUTS_KEY:
            summary.rebuilt_because = _value(md, "changed", "") or None
        if key.path[0] == "pull":  # an API pull: not a model, and reported on its own
            summary.pulls.append({"table": key.path[-1], "pulled": _value(md, "pulled", False),
                                  "records": _value(md, "records", 0),
                                  "cursor": _value(md, "cursor", ""),
                                  "error": _value(md, "error", "")})
            continue
        if key.path[0] != "raw":
            summary.models_built += 1
            continue
        summary.sources.append({
            "table": key.path[-1],
            "files_loaded": _value(md, "files_loaded"),
            "files_skipped": _value(md, "files_skipped"),
            "files_rejected": _value(md, "files_rejected"),
            "rows_loaded": _value(md, "rows_loaded"),
            "rows_quarantined": _value(md, "rows_quarantined"),
            "table_rows": _value(md, "table_rows"),
            "last_date_seen": _value(md, "last_date_seen", ""),
            "messages": _value(md, "file_messages", ""),
            "warnings": _value(md, "file_warnings", ""),
        })
    for evaluation in result.get_asset_check_evaluations():
        summary.checks_passed += evaluation.passed
        if evaluation.passed:
            continue
        name = f"{evaluation.asset_key.to_user_string()}: {evaluation.check_name}"
        detail = evaluation.description or ""
        where = _value(evaluation.metadata or {}, "where_to_look", "")
        if where:
            detail += f" (look at {where})"
        summary.check_details[name] = detail
        if (evaluation.severity == dg.AssetCheckSeverity.WARN
                or evaluation.asset_key.path[0] == "pull"):
            # A stale API pull (ERROR in the Dagster UI) does not block the outputs: said
            # after the run, not exit code 1.
            summary.warnings.append(name)
        else:
            summary.failed_checks.append(name)
    for event in result.all_events:
        if event.event_type_value == "ASSET_OBSERVATION":
            observed = event.event_specific_data.asset_observation
            if observed.asset_key == INPUTS_KEY:
                summary.unchanged = _value(observed.metadata, "summary", "") or None
        elif event.event_type_value == "STEP_FAILURE":
            data = event.event_specific_data
            message = getattr(getattr(data, "error", None), "message", "") or ""
            summary.failed_steps.append(f"{event.step_key}: {_error_summary(message)}")
    if summary.unchanged or summary.quality_report is None or summary.deliveries:
        # Nothing rebuilt, or a check stopped the outputs (the report's asset was skipped):
        # the data-quality page reports runs, so it is written for this one all the same
        # (a blocked run before must not be what it still shows). After a delivery pass,
        # again, so that what could not be sent is on it.
        summary.quality_report = _write_quality_report(settings, summary.problems)
    return summary


def _failed_blocking(result) -> list[str]:
    """The blocking checks (severity ERROR, API pulls aside) a daily run failed."""
    import dagster as dg

    return [f"{e.asset_key.to_user_string()}: {e.check_name}"
            for e in result.get_asset_check_evaluations()
            if not e.passed and e.severity != dg.AssetCheckSeverity.WARN
            and e.asset_key.path[0] != "pull"]


def run_delivery(defs, instance, *, failed_checks: list[str] | None = None,
                 dry_run: bool = False) -> dict:
    """One delivery pass (defs/delivery.py's deliver_job) in process on this home's
    instance; `failed_checks` None: those of the last daily run in the instance. Returns
    the pass's metadata (sent, failed, already_sent, previews, unaddressed, skipped)."""
    import json

    from orchestration.defs.delivery import DELIVERIES_KEY, DRY_RUN_TAG, FAILED_CHECKS_TAG

    tags = {"storeops/trigger": "cli"}
    if failed_checks is not None:
        tags[FAILED_CHECKS_TAG] = json.dumps(failed_checks)
    if dry_run:
        tags[DRY_RUN_TAG] = "true"
    result = defs.resolve_job_def("deliver_job").execute_in_process(
        instance=instance, raise_on_error=False, tags=tags,
        run_config={"loggers": {"console": {"config": {"log_level": "ERROR"}}}})
    out: dict = {"success": result.success}
    for event in result.get_asset_materialization_events():
        if event.asset_key == DELIVERIES_KEY:
            out.update({k: _value(event.materialization.metadata, k, None)
                        for k in event.materialization.metadata})
    if not result.success:
        out.setdefault("failed", []).append(
            "the delivery pass itself failed: see the deliver_job run in `storeops ui`")
    return out


class _NoResultFilter(logging.Filter):
    """Drops Dagster's "Blocking asset check ... emitted no result ... will proceed without
    gating on it": dbt's tests emit none when the dbt step is skipped (nothing changed)
    or failed, and the run's own summary says which it was; 30 such lines read as faults."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "emitted no result in step" not in record.getMessage()


def recover_interrupted_runs(instance) -> list[str]:
    """Close the CLI runs a killed process left open and free their pool slots.

    A `storeops run` killed with SIGKILL cannot release its claim on the `duckdb_write`
    pool (limit 1) in the Dagster instance: every later run would wait for that slot
    forever. CLI runs execute only under the home lock, which this process now holds, so
    a CLI run still marked as running is dead. Runs started from `storeops ui` are left
    alone (they do not take the home lock and may be alive)."""
    import dagster as dg

    open_statuses = [dg.DagsterRunStatus.STARTED, dg.DagsterRunStatus.STARTING,
                     dg.DagsterRunStatus.NOT_STARTED, dg.DagsterRunStatus.CANCELING]
    closed = []
    for run in instance.get_runs(filters=dg.RunsFilter(statuses=open_statuses,
                                                       tags={"storeops/trigger": "cli"})):
        instance.event_log_storage.free_concurrency_slots_for_run(run.run_id)
        instance.report_run_failed(run, "The storeops process running this was killed; "
                                        "the next run freed its pool slot and marked it failed.")
        closed.append(run.run_id)
    return closed


def _write_quality_report(settings: Settings, problems: list[str]) -> Path | None:
    """output/quality/index.html when a blocking check stopped the outputs and with them
    the report's own asset: above all then, the report must say why. A failure to write it
    is added to `problems`, never raised: it must not hide the run's own result."""
    from orchestration.defs.quality import write_quality_report

    if not settings.warehouse_path.exists():
        return None
    try:
        with home_instance(settings) as instance:
            return write_quality_report(settings.home, settings.warehouse_path, instance,
                                        currency=settings.currency)
    except Exception as exc:  # noqa: BLE001 - the report must never hide the run's own result
        problems.append(f"Could not write the data-quality report: {exc}")
        return None
