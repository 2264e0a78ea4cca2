"""What the asset modules of orchestration/defs share, so that none imports another:
asset keys, the DuckDB write pool, the run's as-of date, writing analytics tables, model
evaluations and documents, and Markdown previews for the Dagster UI.

Domain modules (ingest, warehouse, forecasting, customers, anomalies, outputs, quality)
import this, `resources` and `dbt_project`, never each other (import-linter contract in
pyproject.toml).
"""

import functools
import hashlib
import os
from datetime import date
from importlib import metadata as importlib_metadata
from importlib.util import find_spec
from pathlib import Path

import dagster as dg
import duckdb
import polars as pl

from orchestration.defs.dbt_project import dbt_project
from orchestration.pull.sources import RESOURCES
from quality.warehouse import resolved_as_of, table_exists

# DuckDB has one writer: every asset that writes the warehouse runs in this pool (limit 1).
DUCKDB_POOL = "duckdb_write"
# Run tag carrying the CLI's --as-of date (ISO); dated assets and dbt read it.
AS_OF_TAG = "storeops/as_of"
# Run tag asking for a full build even when the warehouse's inputs did not change.
REBUILD_TAG = "storeops/rebuild"
# Run tag "false": do not pull from the vendors' APIs in this run (`storeops run` without
# --pull); any other run (the schedule, the UI) pulls the configured sources (defs/pull.py).
PULL_TAG = "storeops/pull"
# The asset between ingest and dbt that skips the rebuild when nothing changed (defs/inputs.py).
INPUTS_KEY = dg.AssetKey(["warehouse_inputs"])
EVALUATION_COLUMNS = ("as_of_date", "task", "model", "window", "population", "metric",
                      "value", "is_chosen")


# What computes storeops' tables: its packages, its dbt project, and these libraries.
PACKAGES = ("orchestration", "forecasting", "models", "quality", "dashboards")
LIBRARIES = ("storeops", "dagster", "dagster-dbt", "dbt-core", "dbt-duckdb", "duckdb",
             "statsforecast", "polars", "great-expectations", "plotly", "scikit-learn",
             "numpy", "pandas")
# Folders of the dbt project that hold no source (dbt's own output and installed packages).
DBT_SKIP = {"target", "logs", "dbt_packages", "__pycache__"}


def table_version(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> str:
    """Content version of one table: "rows:sum:xor" of DuckDB's row hashes. Order-
    independent; a row added, removed, repeated or changed changes it. Valid within one
    DuckDB version (its hash function): an upgrade reads as a change."""
    rows, total, xor = con.execute(
        f'select count(*), coalesce(sum(hash(t)::hugeint), 0), coalesce(bit_xor(hash(t)), 0) '
        f'from "{schema}"."{table}" as t').fetchall()[0]
    return f"{rows}:{total}:{xor}"


def _tree_digest(digest, root: Path, skip: set[str]) -> None:
    """Add every file under `root` (relative path and content) to `digest`, in path order,
    not descending into folders named in `skip`."""
    for folder, subfolders, files in os.walk(root):
        subfolders[:] = sorted(d for d in subfolders if d not in skip and not d.startswith("."))
        for name in sorted(files):
            if name.endswith((".pyc", ".tmp")) or name.startswith("."):
                continue
            path = Path(folder, name)
            digest.update(path.relative_to(root).as_posix().encode() + b"\0")
            digest.update(hashlib.sha256(path.read_bytes()).digest())


@functools.cache
def code_version() -> str:
    """sha256 (hex, 16) of storeops' packages, its dbt project and the versions of the
    libraries that compute: any edit or upgrade reads as a change. Computed once per
    process (10 ms; a run asks 26 times): the definitions, dbt's manifest among them, are
    also loaded once, so a process never runs code newer than this says."""
    digest = hashlib.sha256()
    for package in PACKAGES:
        spec = find_spec(package)
        for location in (spec.submodule_search_locations or []) if spec else []:
            _tree_digest(digest, Path(location), {"__pycache__"})
    _tree_digest(digest, Path(dbt_project.project_dir), DBT_SKIP)
    for name in LIBRARIES:
        try:
            digest.update(f"{name}={importlib_metadata.version(name)}\n".encode())
        except importlib_metadata.PackageNotFoundError:
            digest.update(f"{name}=none\n".encode())
    return digest.hexdigest()[:16]


def raw_key(table: str) -> dg.AssetKey:
    return dg.AssetKey(["raw", table])


def pull_key(name: str) -> dg.AssetKey:
    """A pull from a vendor's API (defs/pull.py): pull/<raw table it feeds>."""
    return dg.AssetKey(["pull", name])


# Raw tables fed by an API pull: their raw asset depends on the pull asset, so a run pulls
# before it loads the landing folder.
PULLED_TABLES = tuple(table for _, _, table in RESOURCES)


def analytics_key(name: str) -> dg.AssetKey:
    return dg.AssetKey(["analytics", name])


def mart(name: str) -> dg.AssetKey:
    return dg.AssetKey(["marts", name])


# The analytics tables and marts the documents (briefs, reports, dashboards) read.
ANALYTICS_DEPS = [analytics_key(n) for n in ("reorder_suggestions", "supply_alerts", "anomalies",
                                              "churn_scores", "creative_alerts")]
MART_DEPS = [mart(n) for n in ("fct_daily_kpis", "fct_channel_daily", "fct_sku_demand_daily",
                               "fct_support_tickets", "dim_products", "fct_orders")]


def run_as_of(context: dg.AssetExecutionContext, con: duckdb.DuckDBPyConnection) -> date:
    """The run's as-of date as dbt resolved it (intermediate.int_as_of_resolved: the CLI's
    --as-of, else the last date in the data), so Python assets and marts use one date.

    Raises dg.Failure when the warehouse has no as-of date yet (dbt not built, or no data),
    or when the run's --as-of tag differs from the date the warehouse was built as of (an
    asset materialised alone after a replay, or before one): outputs of two dates would
    be mixed."""
    if not table_exists(con, "intermediate", "int_as_of_resolved"):
        raise dg.Failure("The warehouse has no as-of date (intermediate.int_as_of_resolved): "
                         "build the warehouse (dbt) assets first.")
    built = resolved_as_of(con)
    tag = context.run.tags.get(AS_OF_TAG)
    if built is None:
        raise dg.Failure("The warehouse has no as-of date: no orders, purchase orders or "
                         "inventory snapshots are loaded yet.")
    if tag and date.fromisoformat(tag) != built:
        raise dg.Failure(f"This run is as of {tag} but the warehouse was built as of {built}: "
                         "materialise the warehouse assets in the same run.")
    return built


def write_table(con: duckdb.DuckDBPyConnection, name: str, frame: pl.DataFrame) -> None:
    con.execute("create schema if not exists analytics")
    con.register("incoming_frame", frame.to_arrow())
    con.execute(f"create or replace table analytics.{name} as select * from incoming_frame")
    con.unregister("incoming_frame")


def markdown_table(frame: pl.DataFrame) -> str:
    """A frame as a Markdown table for asset metadata ("_no lines_" when empty)."""
    if frame.is_empty():
        return "_no lines_"
    head = "| " + " | ".join(frame.columns) + " |\n|" + "---|" * len(frame.columns)
    rows = ["| " + " | ".join("" if v is None else str(v) for v in row) + " |"
            for row in frame.iter_rows()]
    return "\n".join([head, *rows])


def write_evaluation(con: duckdb.DuckDBPyConnection, task: str, as_of: date,
                     evaluation: pl.DataFrame, chosen: str | None) -> None:
    """Replace this task's rows for this as-of date in analytics.model_evaluation; the
    rows of earlier as-of dates stay, so the table is the history of model quality."""
    frame = evaluation.with_columns(
        pl.lit(as_of).alias("as_of_date"), pl.lit(task).alias("task"),
        (pl.col("model") == (chosen or "")).alias("is_chosen"),
    ).select(EVALUATION_COLUMNS)
    con.execute("create schema if not exists analytics")
    con.execute(
        """
        create table if not exists analytics.model_evaluation (
            as_of_date date, task varchar, model varchar, "window" varchar,
            population varchar, metric varchar, value double, is_chosen boolean)
        """)
    con.execute("delete from analytics.model_evaluation where task = ? and as_of_date = ?",
                [task, as_of])
    con.register("incoming_evaluation", frame.to_arrow())
    con.execute("insert into analytics.model_evaluation by name select * from incoming_evaluation")
    con.unregister("incoming_evaluation")


def write_document(doc, folder: Path, stem: str) -> tuple[Path, Path]:
    """Write a document (`to_markdown()`, `to_html()`) as <folder>/<stem>.md and .html,
    atomically; returns both paths."""
    folder.mkdir(parents=True, exist_ok=True)
    from dashboards.files import atomic_write_text

    md, page = folder / f"{stem}.md", folder / f"{stem}.html"
    atomic_write_text(md, doc.to_markdown())
    atomic_write_text(page, doc.to_html())
    return md, page
