"""Warehouse: the dbt project (staging, intermediate, marts) as Dagster assets.

dbt runs through dagster-dbt; its data tests become asset checks. The raw tables are
dbt sources whose asset keys (`raw/<table>`) are the ingest assets, so the graph is one.
"""

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, dbt_assets

from orchestration import warehouse_handle
from orchestration.defs.dbt_project import dbt_project
from orchestration.defs.resources import StoreResource
from orchestration.defs.shared import AS_OF_TAG, DUCKDB_POOL, INPUTS_KEY
from quality import failpoints

WAREHOUSE_GROUP = "warehouse"


class StoreopsDbtTranslator(DagsterDbtTranslator):
    """Models are keyed by schema (`marts/dim_customers`); sources keep `raw/<table>`."""

    def get_asset_key(self, dbt_resource_props: dict[str, Any]) -> dg.AssetKey:
        if dbt_resource_props["resource_type"] == "source":
            return dg.AssetKey([dbt_resource_props["source_name"], dbt_resource_props["name"]])
        return dg.AssetKey([dbt_resource_props["schema"], dbt_resource_props["name"]])

    def get_group_name(self, dbt_resource_props: dict[str, Any]) -> str | None:
        return WAREHOUSE_GROUP

    def get_asset_spec(self, manifest, unique_id: str, project) -> dg.AssetSpec:
        """Every model also depends on `warehouse_inputs` (defs/inputs.py): when it is not
        materialised (nothing changed since the last finished build), Dagster skips the
        dbt build and everything after it."""
        spec = super().get_asset_spec(manifest, unique_id, project)
        if unique_id.startswith("model."):
            spec = spec.merge_attributes(deps=[INPUTS_KEY])
        return spec


def dbt_executable() -> str:
    """dbt from the environment storeops runs in (not whatever `dbt` is on PATH)."""
    candidate = Path(sys.executable).with_name("dbt")
    return str(candidate) if candidate.exists() else "dbt"


def dbt_vars(context: dg.AssetExecutionContext, store: StoreResource) -> list[str]:
    """dbt's --vars for this run: the home's warehouse and DuckDB's memory limit (read by
    profiles.yml), the store's timezone, tax setting and profit costs (fulfilment per order,
    gateway fees), and the --as-of date of a replay. Passed on the command line,
    so nothing is handed over through this process' environment."""
    values = {"warehouse_path": str(Path(store.home) / "warehouse.duckdb"),
              "store_timezone": store.timezone, "taxes_included": store.taxes_included,
              "duckdb_memory_limit": warehouse_handle.memory_limit(),
              **json.loads(store.profit_json)}
    as_of = context.run.tags.get(AS_OF_TAG)
    if as_of:
        values["as_of"] = as_of
    return ["--vars", json.dumps(values)]


@dbt_assets(
    manifest=dbt_project.manifest_path,
    project=dbt_project,
    dagster_dbt_translator=StoreopsDbtTranslator(),
    pool=DUCKDB_POOL,
)
def warehouse_dbt_assets(context: dg.AssetExecutionContext, dbt: DbtCliResource,
                         store: StoreResource):
    """`dbt build`: models and their data tests, as of the run's as-of date.

    A failed data test is reported once dbt has finished, with the rows that fail it
    named by export file, row and key (quality.dbt_failures), not only its name."""
    # Unit tests check the SQL on fixed inputs, not the data: they run in `make test`
    # (tests/integration/test_dbt_unit_tests.py), not in every run, as dbt advises
    # (https://docs.getdbt.com/reference/resource-properties/unit-tests).
    warehouse_handle.release(Path(store.home) / "warehouse.duckdb")  # dbt opens it to write
    # dbt's target folder lives in the home, one for all its runs: dbt reuses the last
    # run's parse (partial_parse.msgpack) when its --vars and profile are the same, which
    # they are on every daily run of a home (the warehouse path differs between homes, so
    # the project's prepared parse never fits; 3-5 s a run). dagster-dbt's default, a new
    # folder under the project per run, parsed the whole project every time.
    invocation = dbt.cli(["build", "--exclude-resource-type", "unit_test", *dbt_vars(context, store)],
                         context=context, target_path=dbt_target(store))
    failed: list[dg.AssetCheckResult] = []
    try:
        for event in invocation.stream():
            failpoints.hit("dbt")  # crash tests: killed while dbt builds (its child runs on)
            if isinstance(event, dg.AssetCheckResult) and not event.passed:
                failed.append(event)
                continue
            yield event
    except Exception:
        yield from _with_failing_rows(failed, invocation, store)
        raise
    yield from _with_failing_rows(failed, invocation, store)


def _with_failing_rows(failed: list[dg.AssetCheckResult], invocation,
                       store: StoreResource):
    """The failed checks, each with the rows behind it (where_to_look, failing_rows)."""
    if not failed:
        return
    import duckdb

    from quality.dbt_failures import compiled_codes, locate

    try:
        manifest = invocation.get_artifact("manifest.json")
        compiled = compiled_codes(invocation.get_artifact("run_results.json"))
        con = duckdb.connect(str(Path(store.home) / "warehouse.duckdb"), read_only=True)
    except Exception:  # noqa: BLE001 - no detail to add; the failures still count
        yield from failed
        return
    with con:
        for check in failed:
            test_id = check.metadata.get("unique_id")
            test_id = getattr(test_id, "text", test_id)
            if not test_id:
                yield check
                continue
            found = locate(con, manifest, test_id, compiled_code=compiled.get(test_id))
            rows = (f"{found.total} row(s)" if found.total is not None
                    else "more than 5 rows (the first 5 named)")
            description = check.description or (
                f"dbt test {found.test} failed on {rows}" if found.rows
                else f"dbt test {found.test} failed")
            metadata = {**check.metadata,
                        "where_to_look": dg.MetadataValue.text(
                            found.where or (found.error or "")),
                        "failing_rows": dg.MetadataValue.json(found.rows)}
            yield dg.AssetCheckResult(
                asset_key=check.asset_key, check_name=check.check_name,
                passed=check.passed, severity=check.severity,
                metadata=metadata, description=description)


def dbt_target(store: StoreResource) -> Path:
    """The home's dbt target folder (artifacts, logs and the parse of the last build)."""
    return Path(store.home) / "dbt_target"


def dbt_resource() -> DbtCliResource:
    return DbtCliResource(project_dir=dbt_project, dbt_executable=dbt_executable())


@dg.asset(
    key=dg.AssetKey(["warehouse_docs"]),
    group_name=WAREHOUSE_GROUP,
    deps=list(warehouse_dbt_assets.keys),
    pool=DUCKDB_POOL,
    kinds={"dbt", "html"},
    description="dbt docs (lineage, column descriptions, tests) as one static page under the home.",
)
def warehouse_docs(context: dg.AssetExecutionContext, store: StoreResource) -> dg.MaterializeResult:
    target = Path(store.home) / "dbt_docs"
    page = target / "static_index.html"
    warehouse_handle.release(Path(store.home) / "warehouse.duckdb")  # dbt docs opens it
    # The docs show the project (manifest) and the tables' columns (catalog): regenerate
    # only when one of them changed (6 s a run otherwise).
    signature = _docs_signature(Path(store.home) / "warehouse.duckdb")
    stamp = target / ".signature"
    if page.exists() and stamp.exists() and stamp.read_text() == signature:
        return dg.MaterializeResult(metadata={"path": dg.MetadataValue.path(str(page)),
                                              "regenerated": False})
    # Another home with the same project and columns made this page already (a second
    # store, a test's fresh home): the page is the same but for the paths of its home.
    cached = _docs_cache() / f"{signature}.html"
    if cached.exists():
        target.mkdir(parents=True, exist_ok=True)
        page.write_text(cached.read_text().replace(_HOME_MARK, str(target)))
        stamp.write_text(signature)
        return dg.MaterializeResult(metadata={"path": dg.MetadataValue.path(str(page)),
                                              "regenerated": False, "from_cache": True})
    # The same --vars as the build (warehouse, timezone, tax setting, as-of): the settings
    # reach dbt on its command line, never through the environment.
    env = {**os.environ, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
    done = subprocess.run(
        [dbt_executable(), "docs", "generate", "--static", "--target-path", str(target),
         "--project-dir", str(dbt_project.project_dir),
         "--profiles-dir", str(dbt_project.profiles_dir), *dbt_vars(context, store)],
        capture_output=True, text=True, env=env, check=False,
    )
    if done.returncode != 0:
        raise dg.Failure(description="dbt docs generate failed",
                         metadata={"output": dg.MetadataValue.text(done.stdout[-4000:])})
    stamp.write_text(signature)
    try:
        cached.parent.mkdir(parents=True, exist_ok=True)
        temp = cached.with_suffix(f".{os.getpid()}.tmp")
        temp.write_text(page.read_text().replace(str(target), _HOME_MARK))
        temp.replace(cached)
    except OSError:
        pass  # a cache that cannot be written only costs the next fresh home 10 s
    return dg.MaterializeResult(metadata={"path": dg.MetadataValue.path(str(page)),
                                          "regenerated": True})


_HOME_MARK = "{{storeops_docs_target}}"


def _docs_cache() -> Path:
    """Pages of dbt docs by signature, shared by the homes of this user."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "storeops" / "dbt_docs"


def _docs_signature(warehouse: Path) -> str:
    """Hash of the dbt manifest and of every warehouse column (name and type)."""
    import hashlib

    import duckdb

    digest = hashlib.sha256(Path(dbt_project.manifest_path).read_bytes())
    with duckdb.connect(str(warehouse), read_only=True) as con:
        columns = con.execute("""
            select table_schema, table_name, column_name, data_type
            from information_schema.columns order by all
        """).fetchall()
    digest.update(repr(columns).encode())
    return digest.hexdigest()
