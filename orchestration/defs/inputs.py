"""The warehouse's inputs: skip the rebuild when nothing it is built from has changed.

`warehouse_inputs` runs after every raw table is loaded and before dbt. It fingerprints
what everything downstream (dbt models, forecasts, churn scores, anomalies, documents) is
computed from:
- the content of every table in the `raw` schema (count, sum and xor of row hashes: a
  loaded, forgotten or quarantined row changes it);
- the code (storeops' packages and dbt project, file by file, and the versions of the
  libraries that compute: dbt, DuckDB, statsforecast, polars, ...);
- the store's settings as the assets see them (StoreResource, but for where the home and
  the landing folder are);
- the run's --as-of date (none: the last date in the data).

When the fingerprint equals the one of the last build and that build finished (its run
succeeded and wrote the index page, and output/index.html is in the home now), the asset records an
observation saying so and is not materialised: Dagster then skips every step downstream
of it (dbt, analytics, outputs), as it skips the steps after any unproduced optional
output. Otherwise it is materialised with what changed, and everything is built. The run
tag `storeops/rebuild` (`storeops run --rebuild`) builds regardless.

Dagster's own staleness (code versions and data versions per asset) could skip finer,
per asset; storeops skips all or nothing because the Python assets read marts beyond
their declared dependencies (a document reads most of the warehouse), so only a whole
rebuild is sure to be right when anything changed.
"""


import hashlib
import json
from pathlib import Path

import dagster as dg
import duckdb

from orchestration.defs.resources import StoreResource, WarehouseResource
from orchestration.defs.shared import (
    AS_OF_TAG,
    INPUTS_KEY,
    REBUILD_TAG,
    code_version,
    raw_key,
    table_version,
)
from orchestration.ingest import SPECS

FINISHED_KEY = dg.AssetKey(["output", "index"])


def raw_versions(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """`raw.<table>` -> its content version (shared.table_version) for every table of the
    raw schema (raw tables, load_log, quarantine)."""
    tables = [r[0] for r in con.execute(
        "select table_name from information_schema.tables where table_schema = 'raw' "
        "order by table_name").fetchall()]
    return {f"raw.{table}": table_version(con, "raw", table) for table in tables}


def fingerprint_parts(con: duckdb.DuckDBPyConnection, store: StoreResource,
                      as_of: str | None) -> dict[str, str]:
    """What the warehouse is built from, part by part: `raw.<table>` (content version),
    `code`, `settings.<name>` (each setting the assets see, hashed) and `as_of`."""
    # Where the home and the landing folder are is not what they hold: a home moved or
    # copied elsewhere (its warehouse, instance and outputs with it) has nothing to rebuild.
    # Nor do who receives what (delivery:) and how the APIs are reached (sources:: what a
    # pull brings is in the raw tables) change what the warehouse is built from.
    settings = {f"settings.{k}": hashlib.sha256(
                    json.dumps(v, sort_keys=True, default=str).encode()).hexdigest()[:16]
                for k, v in store.model_dump().items()
                if k not in {"home", "landing", "delivery_json", "sources_json"}}
    return {**raw_versions(con), "code": code_version(), **settings,
            "as_of": as_of or "last date in the data"}


def changed_parts(before: dict[str, str], now: dict[str, str]) -> list[str]:
    """Names of the parts that differ (added, removed or changed), sorted."""
    return sorted(k for k in before.keys() | now.keys() if before.get(k) != now.get(k))


def last_build(instance: dg.DagsterInstance, output_dir: Path
               ) -> tuple[dict[str, str] | None, str | None, str]:
    """(fingerprint parts, run id, why it cannot stand) of the last materialisation of
    warehouse_inputs. Parts and run id are None, and the reason says why, when there was
    none, its run did not succeed (failed, killed, stopped by a blocking check), or
    `output_dir`/index.html is gone; the reason is "" when the build stands."""
    record = instance.get_latest_materialization_event(INPUTS_KEY)
    if record is None:
        return None, None, "no build yet in this home"
    run = instance.get_run_by_id(record.run_id)
    if run is None or run.status != dg.DagsterRunStatus.SUCCESS:
        status = run.status.value.lower() if run is not None else "gone"
        return None, None, f"the last build (run {record.run_id[:8]}) did not finish ({status})"
    finished = instance.get_latest_materialization_event(FINISHED_KEY)
    if finished is None or finished.run_id != record.run_id:
        return None, None, (f"the last build (run {record.run_id[:8]}) stopped before "
                            "writing the outputs")
    if not (Path(output_dir) / "index.html").exists():
        return None, None, f"{Path(output_dir) / 'index.html'} is missing"
    parts = record.asset_materialization.metadata.get("parts")
    if parts is None:
        return None, None, "the last build recorded no fingerprint"
    return dict(getattr(parts, "value", parts)), record.run_id, ""


def last_finished_build(instance: dg.DagsterInstance, output_dir: Path
                        ) -> tuple[dict[str, str], str] | None:
    """(fingerprint parts, run id) of the last build if it stands (last_build), else None."""
    parts, run_id, _ = last_build(instance, output_dir)
    return (parts, run_id) if parts is not None and run_id is not None else None


@dg.asset(
    key=INPUTS_KEY,
    group_name="warehouse",
    deps=[raw_key(spec.table) for spec in SPECS],
    output_required=False,
    kinds={"duckdb"},
    description=(
        "What the warehouse and everything after it are built from: the content of every "
        "raw table, the code, the settings and the as-of date. Materialised when one of "
        "them changed since the last finished build (metadata `changed` says which), and "
        "then everything downstream is built; when nothing changed it is only observed "
        "and Dagster skips dbt, the analytics and the outputs, which stand as the last "
        "build left them. Run tag `storeops/rebuild` (storeops run --rebuild) builds "
        "regardless."
    ),
)
def warehouse_inputs(context: dg.AssetExecutionContext, warehouse: WarehouseResource,
                     store: StoreResource):
    with warehouse.connect(read_only=True) as con:
        parts = fingerprint_parts(con, store, context.run.tags.get(AS_OF_TAG))
    before, run_before, problem = last_build(context.instance, Path(store.home) / "output")
    rebuild = context.run.tags.get(REBUILD_TAG, "").lower() in {"1", "true", "yes"}
    if before is not None and not rebuild and not changed_parts(before, parts):
        since = context.instance.get_run_record_by_id(run_before)
        when = since.end_time if since and since.end_time else None
        from datetime import UTC, datetime

        finished_at = (datetime.fromtimestamp(when, UTC).strftime("%Y-%m-%d %H:%M UTC")
                       if when else "unknown")
        message = (f"Nothing changed since run {run_before[:8]} (finished {finished_at}): "
                   "the warehouse, analytics and outputs stand as it left them.")
        context.log.info(message)
        context.log_event(dg.AssetObservation(asset_key=INPUTS_KEY, metadata={
            "unchanged_since_run": run_before, "finished_at": finished_at,
            "summary": message}))
        return
    if rebuild:
        changed = ["rebuild asked (storeops/rebuild)"]
    elif before is None:
        changed = [problem]
    else:
        changed = changed_parts(before, parts)
    context.log.info(f"Building: {', '.join(changed)}")
    yield dg.MaterializeResult(metadata={
        "parts": dg.MetadataValue.json(parts),
        "changed": dg.MetadataValue.text(", ".join(changed)),
    })


inputs_assets = [warehouse_inputs]
