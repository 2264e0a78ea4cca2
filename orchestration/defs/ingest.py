"""Ingest: one asset per raw table, a row-conservation check on each, and a sensor.

Every asset loads the new files of its landing folder into `raw.<table>` through the
pure loader in orchestration/ingest and reports what it did as metadata.
"""


import hashlib
import json
from pathlib import Path

import dagster as dg

from orchestration import progress
from orchestration.defs.resources import StoreResource, WarehouseResource
from orchestration.ingest import SPECS, SourceSpec, ingest_source, quarantine_preview
from orchestration.ingest.loader import FileResult
from orchestration.privacy import purge_forgotten
from quality.reconcile import file_balances

INGEST_GROUP = "ingest"
DUCKDB_POOL = "duckdb_write"


def raw_key(table: str) -> dg.AssetKey:
    return dg.AssetKey(["raw", table])


def _metadata(result, con, spec: SourceSpec) -> dict:
    files = result.files
    metadata: dict = {
        "files_loaded": result.count("loaded"),
        "files_skipped": result.count("skipped"),
        "files_rejected": result.count("rejected"),
        "rows_loaded": result.rows_loaded,
        "rows_quarantined": result.rows_quarantined,
        "table_rows": dg.MetadataValue.int(result.total_rows),
        "last_date_seen": str(result.last_date) if result.last_date else "none",
        "landing_folder": spec.folder + "/",
    }
    messages = [f"- `{f.path}` ({f.status}): {f.message}" for f in files
                if f.message and f.status != "skipped"]
    if messages:
        metadata["file_messages"] = dg.MetadataValue.md("\n".join(messages[:50]))
    if result.rows_quarantined:
        preview = quarantine_preview(con, spec.table)
        rows = "\n".join(
            f"| {p['file']} | {p['row']} | {p['column'] or ''} | {p['reason']} |" for p in preview
        )
        metadata["quarantine_preview"] = dg.MetadataValue.md(
            "| file | row | column | reason |\n|---|---|---|---|\n" + rows
        )
    return metadata


def build_raw_asset(spec: SourceSpec) -> dg.AssetsDefinition:
    @dg.asset(
        key=raw_key(spec.table),
        group_name=INGEST_GROUP,
        pool=DUCKDB_POOL,
        kinds={"duckdb", "csv" if spec.file_format == "csv" else "json"},
        description=(
            f"{spec.label} files from `landing/{spec.folder}/`, loaded append-only into "
            f"`raw.{spec.table}` with lineage columns; bad rows go to `raw.quarantine`."
        ),
        metadata={"landing_folder": spec.folder, "natural_key": ", ".join(spec.natural_key)},
    )
    def _raw_table(context: dg.AssetExecutionContext, warehouse: WarehouseResource,
                   store: StoreResource) -> dg.MaterializeResult:
        def on_file(f: FileResult) -> None:
            progress.report(f"raw.{spec.table}: {f.path}")
            if f.status == "rejected":
                context.log.warning(f"rejected {f.path}: {f.message}")
            elif f.status == "loaded":
                context.log.info(f"loaded {f.path}: {f.rows_loaded} rows, "
                                 f"{f.rows_quarantined} quarantined {f.message}")

        with warehouse.connect() as con:
            result = ingest_source(con, store.landing_path, spec, run_id=context.run_id,
                                   timezone=store.timezone, on_file=on_file)
            # Customers who asked to be forgotten stay forgotten in files loaded later.
            forgotten = purge_forgotten(con)
            if forgotten:
                context.log.info(f"removed {forgotten} rows of forgotten customers")
            metadata = _metadata(result, con, spec)
        return dg.MaterializeResult(metadata=metadata)

    return _raw_table


def build_conservation_check(spec: SourceSpec) -> dg.AssetChecksDefinition:
    @dg.asset_check(
        asset=raw_key(spec.table),
        name="rows_in_equal_loaded_plus_quarantined",
        blocking=True,
        description="Per file: rows read = rows in the raw table + rows in quarantine.",
    )
    def _check(warehouse: WarehouseResource) -> dg.AssetCheckResult:
        with warehouse.connect(read_only=False) as con:
            rows = [b for b in file_balances(con, spec.table) if b.missing]
        return dg.AssetCheckResult(
            passed=not rows,
            metadata={
                "files_out_of_balance": len(rows),
                "examples": dg.MetadataValue.json(
                    [{"file": b.source_file, "rows_in": b.rows_in, "in_table": b.in_table,
                      "in_quarantine": b.in_quarantine} for b in rows[:10]]
                ),
            },
        )

    return _check


raw_assets = [build_raw_asset(spec) for spec in SPECS]
raw_checks = [build_conservation_check(spec) for spec in SPECS]

ingest_job = dg.define_asset_job(
    "ingest_job",
    selection=dg.AssetSelection.groups(INGEST_GROUP),
    description="Load every new landing file into the raw tables.",
)


def landing_fingerprint(landing: Path) -> dict[str, list[float]]:
    """path -> [size, mtime] of every landing file storeops reads."""
    folders = sorted({spec.folder for spec in SPECS})
    seen: dict[str, list[float]] = {}
    for folder in folders:
        root = landing / folder
        if not root.is_dir():
            continue
        for p in sorted(root.iterdir()):
            if p.is_file() and not p.name.startswith((".", "~$")):
                st = p.stat()
                seen[p.relative_to(landing).as_posix()] = [st.st_size, st.st_mtime]
    return seen


@dg.sensor(
    job=ingest_job,
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Starts ingestion when files appear or change in the landing directory.",
)
def new_landing_files_sensor(context: dg.SensorEvaluationContext, store: StoreResource):
    current = landing_fingerprint(store.landing_path)
    previous = json.loads(context.cursor) if context.cursor else {}
    changed = sorted(p for p, sig in current.items() if previous.get(p) != sig)
    if not changed:
        return dg.SkipReason(f"no new files in {store.landing}")
    context.update_cursor(json.dumps(current, sort_keys=True))
    run_key = hashlib.sha256(json.dumps(current, sort_keys=True).encode()).hexdigest()[:16]
    return dg.RunRequest(
        run_key=run_key,
        tags={"storeops/trigger": "new_landing_files", "storeops/new_files": str(len(changed))},
    )
