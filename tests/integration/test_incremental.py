"""Incremental facts built over two landing batches equal a full refresh of the same data."""

import shutil
import subprocess
import sys
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from orchestration.settings import Settings

pytestmark = pytest.mark.integration

INCREMENTAL = ["fct_order_lines", "fct_inventory_daily"]
DBT_DIR = Path(__file__).resolve().parents[2] / "dbt_project"


def snapshot(warehouse: Path, table: str) -> set[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return set(con.execute(f"select * from marts.{table}").fetchall())


def build_warehouse(settings: Settings, instance: dg.DagsterInstance) -> dg.ExecuteInProcessResult:
    """Ingest and dbt in process (what the incremental facts are built by; no forecasts,
    customers, anomalies or outputs)."""
    from orchestration.pipeline import load_definitions

    defs = load_definitions(settings)
    selection = (dg.AssetSelection.groups("ingest", "warehouse")
                 - dg.AssetSelection.assets("warehouse_docs"))
    return defs.resolve_implicit_global_asset_job_def().execute_in_process(
        instance=instance, asset_selection=list(selection.resolve(defs.resolve_asset_graph())),
        raise_on_error=False)


def test_two_batches_incremental_equals_full_refresh(tmp_path, monkeypatch):
    from orchestration.demo import generate_store

    source = tmp_path / "generated"
    generate_store(source, scale=0.02, days=60, seed=5)
    home = tmp_path / "home"
    landing = home / "landing"
    # Batch 1: the first half of every folder's files (by name: older exports first).
    later: list[Path] = []
    for folder in sorted(p for p in (source / "landing").rglob("*") if p.is_dir()):
        files = sorted(p for p in folder.iterdir() if p.is_file())
        cut = max(1, len(files) // 2) if len(files) > 1 else len(files)
        for i, f in enumerate(files):
            target = landing / f.relative_to(source / "landing")
            if i < cut:
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy(f, target)
            else:
                later.append(f)
    settings = Settings(home=home, landing=landing)
    with dg.DagsterInstance.ephemeral() as instance:
        assert build_warehouse(settings, instance).success
        for f in later:
            target = landing / f.relative_to(source / "landing")
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(f, target)
        second = build_warehouse(settings, instance)
    failed = [e for e in second.get_asset_check_evaluations()
              if not e.passed and e.severity == dg.AssetCheckSeverity.ERROR]
    assert second.success and not failed, failed
    incremental = {t: snapshot(settings.warehouse_path, t) for t in INCREMENTAL}
    assert all(incremental.values())

    dbt = Path(sys.executable).with_name("dbt")
    monkeypatch.setenv("STOREOPS_HOME", str(home))
    full = subprocess.run(
        [str(dbt), "build", "--full-refresh", "--select", *INCREMENTAL,
         "--project-dir", str(DBT_DIR), "--profiles-dir", str(DBT_DIR),
         "--target-path", str(tmp_path / "dbt_target")],
        capture_output=True, text=True, check=False,
    )
    assert full.returncode == 0, full.stdout[-3000:]
    for table in INCREMENTAL:
        assert snapshot(settings.warehouse_path, table) == incremental[table], table
