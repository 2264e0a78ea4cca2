"""Ingest: one asset per raw table, two blocking checks on each (row conservation; no
landing file mostly quarantined), and a sensor.

Every asset loads the new files of its landing folder into `raw.<table>` through the
pure loader in orchestration/ingest and reports what it did as metadata.
"""


import hashlib
import json
from datetime import date
from pathlib import Path

import dagster as dg

from orchestration import progress
from orchestration.defs.resources import StoreResource, WarehouseResource
from orchestration.defs.shared import DUCKDB_POOL, PULLED_TABLES, pull_key, raw_key
from orchestration.ingest import SPECS, SourceSpec, ingest_source, quarantine_preview
from orchestration.ingest.loader import FileResult
from orchestration.privacy import purge_forgotten
from quality.reconcile import file_balances
from quality.warehouse import table_exists

INGEST_GROUP = "ingest"


def _metadata(result, con, spec: SourceSpec) -> dict:
    files = result.files
    metadata: dict = {
        "files_loaded": result.count("loaded"),
        "files_skipped": result.count("skipped"),
        "files_rejected": result.count("rejected"),
        "rows_loaded": result.rows_loaded,
        "rows_quarantined": result.rows_quarantined,
        "rows_duplicate": result.rows_duplicate,
        "table_rows": dg.MetadataValue.int(result.total_rows),
        "last_date_seen": str(result.last_date) if result.last_date else "none",
        "landing_folder": spec.folder + "/",
    }
    messages = [f"- `{f.path}` ({f.status}): {f.message}" for f in files
                if f.message and f.status != "skipped"]
    if messages:
        metadata["file_messages"] = dg.MetadataValue.md("\n".join(messages[:50]))
    warnings = [f"- {w}" for f in files for w in f.warnings]
    if warnings:
        metadata["file_warnings"] = dg.MetadataValue.md("\n".join(warnings[:50]))
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
        deps=[pull_key(spec.table)] if spec.table in PULLED_TABLES else [],
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
            for warning in f.warnings:
                context.log.warning(warning)

        with warehouse.connect() as con:
            result = ingest_source(con, store.landing_path, spec, run_id=context.run_id,
                                   timezone=store.timezone,
                                   timezone_configured=store.timezone_configured,
                                   window_start=date.fromisoformat(store.export_window_start),
                                   on_file=on_file)
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
        description="Per file: rows read = rows in the raw table + rows in quarantine "
                    "+ exact repeats of a row loaded once.",
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
                      "in_quarantine": b.in_quarantine, "duplicates": b.duplicates}
                     for b in rows[:10]]
                ),
            },
        )

    return _check


MOSTLY_QUARANTINED = 0.9


def mostly_quarantined_files(con, table: str, landing: Path) -> list[dict]:
    """Landing files still present whose newest load quarantined at least 90% of their
    rows (and at least one): file, rows_in, rows_quarantined, share, column, rows of that
    column, first row and its reason (the most frequent failing column)."""
    if not table_exists(con, "raw", "load_log"):
        return []
    newest = con.execute("""
        select source_file, file_sha256, rows_in, rows_quarantined from raw.load_log
        where source = ? and status = 'loaded'
        qualify row_number() over (partition by source_file order by loaded_at desc) = 1
        order by source_file
    """, [table]).fetchall()
    found = []
    for source_file, sha, rows_in, quarantined in newest:
        if not rows_in or not quarantined or quarantined < MOSTLY_QUARANTINED * rows_in:
            continue
        if not (landing / source_file).is_file():
            continue  # removed (or renamed) since: nothing left to fix
        top = con.execute("""
            select column_name, count(*) as n, min(source_row) as first_row
            from raw.quarantine where source = ? and file_sha256 = ?
            group by column_name order by n desc, first_row limit 1
        """, [table, sha]).fetchall()
        column, n, first_row = top[0] if top else (None, 0, None)
        reason = con.execute(
            "select reason from raw.quarantine where source = ? and file_sha256 = ? "
            "and source_row is not distinct from ? limit 1", [table, sha, first_row]
        ).fetchall() if top else []
        found.append({"file": source_file, "rows_in": rows_in, "rows_quarantined": quarantined,
                      "share": quarantined / rows_in, "column": column, "column_rows": n,
                      "first_row": first_row, "reason": reason[0][0] if reason else None})
    return found


def _mostly_quarantined_text(f: dict, folder: str) -> str:
    where = f"column '{f['column']}'" if f["column"] else "whole rows"
    return (f"landing/{f['file']}: {f['rows_quarantined']} of {f['rows_in']} rows "
            f"({f['share']:.0%}) quarantined at its newest load; most often {where} "
            f"({f['column_rows']} rows), first row {f['first_row']}: {f['reason']}. Fix the "
            f"file or export it again and put it in landing/{folder}/ in its place: removing "
            "or replacing the file clears this check.")


def build_mostly_quarantined_check(spec: SourceSpec) -> dg.AssetChecksDefinition:
    @dg.asset_check(
        asset=raw_key(spec.table),
        name="file_not_mostly_quarantined",
        blocking=True,
        description="No landing file still in the folder had 90% or more of its rows "
                    "quarantined at its newest load (a wrong export, locale or format: "
                    "the outputs would silently miss it). Fix, re-export, replace or "
                    "remove the file to clear it.",
    )
    def _check(warehouse: WarehouseResource, store: StoreResource) -> dg.AssetCheckResult:
        with warehouse.connect(read_only=False) as con:
            files = mostly_quarantined_files(con, spec.table, store.landing_path)
        texts = [_mostly_quarantined_text(f, spec.folder) for f in files]
        return dg.AssetCheckResult(
            passed=not files,
            description=" ".join(texts[:3]) if texts else None,
            metadata={
                "files_mostly_quarantined": len(files),
                "files": dg.MetadataValue.md("\n".join(f"- {t}" for t in texts[:20])
                                             or "none"),
            },
        )

    return _check


raw_assets = [build_raw_asset(spec) for spec in SPECS]
raw_checks = ([build_conservation_check(spec) for spec in SPECS]
              + [build_mostly_quarantined_check(spec) for spec in SPECS])

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
