"""Quality: the Great Expectations suites as blocking asset checks, and the data-quality
report.

Each raw table and each mart a decision reads gets one check, `gx_suite`, running its
suite (quality/suites.py) with GX on the rows staging uses. A rule broken beyond its
tolerance fails the check with severity ERROR: the check is blocking, so Dagster does
not build what depends on the table (reorder files stop on bad stock or supplier data,
briefings on bad orders or KPIs), and `storeops run` exits 1 naming the check and the
rows. A rule broken within its tolerance fails with severity WARN: decisions go on, the
rows are named in the quality report and the brief.
"""


import hashlib
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg

from orchestration.defs.resources import StoreResource, WarehouseResource
from orchestration.defs.shared import (
    ANALYTICS_DEPS,
    AS_OF_TAG,
    DUCKDB_POOL,
    MART_DEPS,
    code_version,
    table_version,
    write_document,
)

CHECK_NAME = "gx_suite"
RECENT_RUNS = 10


def _suite(name: str, currency: str, window_start: str):
    from quality.suites import all_suites

    return next(s for s in all_suites(currency, window_start) if s.name == name)


def build_gx_check(name: str, asset_key: tuple[str, ...], depends: str) -> dg.AssetChecksDefinition:
    @dg.asset_check(
        asset=dg.AssetKey(list(asset_key)),
        name=CHECK_NAME,
        blocking=True,
        description=f"Great Expectations suite {name} (quality/suites.py). Blocks "
                    f"{depends} when a rule breaks beyond its tolerance; warns below it.",
    )
    def _check(context: dg.AssetCheckExecutionContext, warehouse: WarehouseResource,
               store: StoreResource) -> dg.AssetCheckResult:
        from quality.validate import run_suite

        suite = _suite(name, store.currency, store.export_window_start)
        check_key = dg.AssetCheckKey(dg.AssetKey(list(asset_key)), CHECK_NAME)
        with warehouse.connect() as con:
            schema, table = suite.name.split(".")
            present = {r[0] for r in con.execute(
                "select column_name from information_schema.columns "
                "where table_schema = ? and table_name = ?", [schema, table]).fetchall()}
            if not present:
                return dg.AssetCheckResult(
                    passed=True, severity=dg.AssetCheckSeverity.WARN,
                    description=f"{suite.name} does not exist yet (no data)")
            version = suite_input_version(con, suite, store)
            kept = carried_over(context.instance, check_key, version)
            if kept is not None:
                return kept
            frame = con.execute(suite.query(present)).df()
        result = run_suite(suite, frame)
        blocking = result.blocking
        for outcome in result.failed:
            log = context.log.error if outcome.blocks else context.log.warning
            log(f"{name}: {outcome.describe(suite.locate_by)}")
        return dg.AssetCheckResult(
            passed=result.passed,
            severity=dg.AssetCheckSeverity.ERROR if blocking else dg.AssetCheckSeverity.WARN,
            description=result.summary()[:1000],
            metadata={
                "suite": name,
                "rows_validated": result.rows,
                "expectations": len(result.outcomes),
                "failed": len(result.failed),
                "blocking_failures": len(blocking),
                "seconds": round(result.seconds, 2),
                "blocks": depends,
                "where_to_look": suite.where_to_look,
                "failures": dg.MetadataValue.json(
                    [o.as_json(suite.locate_by) for o in result.failed]),
                "input_version": version,
                "evaluated_in_run": context.run.run_id,
            },
        )

    return _check


def suite_input_version(con, suite, store: StoreResource) -> str:
    """What a suite's verdict depends on: the table's content (shared.table_version), the
    code (the suites, GX's version) and the settings the suites read (currency, export
    window start). sha256, 16 hex digits."""
    schema, table = suite.name.split(".")
    parts = [suite.name, table_version(con, schema, table), code_version(), store.currency,
             store.export_window_start]
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:16]


def carried_over(instance: dg.DagsterInstance, check_key: dg.AssetCheckKey,
                 version: str) -> dg.AssetCheckResult | None:
    """The last evaluation of this check, repeated, when it was made on the same input
    version (same rows, code and settings: GX would say the same); None otherwise. Its
    metadata keeps the run that ran GX (`evaluated_in_run`) and adds `carried_over`.
    An unchanged daily rerun then pays no GX import and no validation (9.4 s at scale 1)."""
    from dagster._core.storage.asset_check_execution_record import (
        AssetCheckExecutionRecordStatus,
    )

    history = instance.event_log_storage.get_asset_check_execution_history(
        check_key, limit=1, status={AssetCheckExecutionRecordStatus.SUCCEEDED,
                                    AssetCheckExecutionRecordStatus.FAILED})
    if not history or history[0].event is None or history[0].event.dagster_event is None:
        return None
    evaluation = history[0].event.dagster_event.event_specific_data
    metadata = dict(getattr(evaluation, "metadata", None) or {})
    previous = metadata.get("input_version")
    if getattr(previous, "value", previous) != version:
        return None
    return dg.AssetCheckResult(
        passed=evaluation.passed, severity=evaluation.severity,
        description=evaluation.description,
        metadata={**metadata, "carried_over": True})


def _checks() -> list[dg.AssetChecksDefinition]:
    from quality.suites import all_suites

    return [build_gx_check(s.name, s.asset_key, s.what_depends) for s in all_suites("USD")]


gx_checks = _checks()


# --- the data-quality report ------------------------------------------------------

def recent_check_runs(instance: dg.DagsterInstance, limit: int = RECENT_RUNS) -> list[dict]:
    """The last runs that evaluated checks, newest first: per run its start, as-of tag and
    every check evaluation (asset, check, passed, severity, description, metadata)."""
    runs = []
    for run in instance.get_runs(limit=limit * 3):
        records = instance.all_logs(run.run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION)
        if not records:
            continue
        evaluations = []
        for record in records:
            ev = record.dagster_event.event_specific_data
            evaluations.append({
                "asset": ev.asset_key.to_user_string(),
                "check": ev.check_name,
                "passed": bool(ev.passed),
                "severity": ev.severity.value if ev.severity else "ERROR",
                "description": ev.description or "",
                "metadata": {k: getattr(v, "value", v) for k, v in (ev.metadata or {}).items()},
            })
        stats = instance.get_run_stats(run.run_id)
        runs.append({
            "run_id": run.run_id,
            "started": datetime.fromtimestamp(stats.start_time, tz=UTC)
            if stats.start_time else None,
            "as_of": run.tags.get(AS_OF_TAG),
            "status": run.status.value,
            "evaluations": evaluations,
        })
        if len(runs) >= limit:
            break
    return runs


def write_quality_report(home: Path, warehouse_path: Path, instance: dg.DagsterInstance,
                         *, currency: str) -> Path:
    """Gather the load log, quarantine and recent check runs; write output/quality/."""
    from dashboards.quality import load_quality_data, quality_report
    from orchestration import warehouse_handle

    runs = recent_check_runs(instance)
    with warehouse_handle.connect(warehouse_path, read_only=True) as con:
        data = load_quality_data(con)
    doc = quality_report(data, runs, currency=currency)
    _, page = write_document(doc, Path(home) / "output" / "quality", "index")
    return page


@dg.asset(
    key=dg.AssetKey(["output", "quality_report"]),
    group_name="outputs",
    deps=[*ANALYTICS_DEPS, *MART_DEPS],
    pool=DUCKDB_POOL,
    kinds={"markdown", "html"},
    description="output/quality/index.html: per source the files loaded and rejected, rows "
                "loaded and quarantined with reasons, freshness, and the checks passed and "
                "failed over the last runs. `storeops run` rewrites it at the end of every "
                "run, also when a blocking check stopped the outputs.",
)
def quality_report_asset(context: dg.AssetExecutionContext, store: StoreResource,
                         warehouse: WarehouseResource) -> dg.MaterializeResult:
    page = write_quality_report(Path(store.home), Path(warehouse.path), context.instance,
                                currency=store.currency)
    return dg.MaterializeResult(metadata={"path": dg.MetadataValue.path(str(page))})


quality_assets = [quality_report_asset]
