"""Generated stores after a clean run, built once per test run and shared by the test
processes (`pytest -n 2`): a store's pipeline run costs ~45 s, so each one below is built
by whichever test process asks for it first, under a file lock; the others wait for it
and read the same directory.

Tests only read a shared store (read-only DuckDB connections, pages written to their own
tmp_path). A test that changes a store (forgets a customer, rewrites storeops.yml, runs
again) works on a copy: `copy_store` / `BuiltStore.copy_home`.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import traceback
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from orchestration.settings import Settings

# Enough history for the churn model's time-split evaluation (a year and a holdout window).
LONG_HISTORY = {"scale": 0.02, "days": 420, "seed": 9}
# The store's own replenishment rules: routine lines under $150 are auto-approved, and
# class A items get a 99% service level.
LONG_HISTORY_SETTINGS = {"replenishment": {"auto_approve_below": 150,
                                           "service_level": {"A": 0.99}}}


def shared_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory of this test run that every xdist worker sees (the run's base temporary
    directory; each worker's own is a folder in it)."""
    base = tmp_path_factory.getbasetemp()
    root = (base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base) / "shared-stores"
    root.mkdir(exist_ok=True)
    return root


def build_once(tmp_path_factory: pytest.TempPathFactory, name: str,
               build: Callable[[Path], None]) -> Path:
    """`build(directory)` once per test run, by the first test process that asks; the
    others wait for it and get the same directory. A failed build fails every test that
    asks for it, with the first one's traceback."""
    root = shared_root(tmp_path_factory)
    target, done, failed = root / name, root / f"{name}.done", root / f"{name}.failed"
    with open(root / f"{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if failed.exists():
            pytest.fail(f"building the shared store {name!r} failed (in another test "
                        f"process):\n{failed.read_text()}", pytrace=False)
        if not done.exists():
            shutil.rmtree(target, ignore_errors=True)  # a build killed half way
            try:
                build(target)
            except BaseException:
                failed.write_text(traceback.format_exc())
                raise
            done.touch()
    return target


def copy_store(settings: Settings, target: Path) -> Settings:
    """A copy of a built home whose landing is inside it (warehouse, Dagster history,
    outputs, landing, storeops.yml; times kept), for a test that goes on from a good run
    without paying for one."""
    shutil.copytree(settings.home, target)
    return Settings.load(target, landing=target / "landing")


def _run(home: Path) -> Settings:
    from orchestration.pipeline import execute_pipeline

    settings = Settings.load(home, landing=home / "landing")
    summary = execute_pipeline(settings)
    assert summary.success, summary.failed_steps + summary.failed_checks
    return settings


def _generate_long_history(home: Path) -> None:
    from orchestration.demo import generate_store

    generate_store(home, **LONG_HISTORY)
    (home / "storeops.yml").write_text(yaml.safe_dump(LONG_HISTORY_SETTINGS))


@pytest.fixture(scope="session")
def long_history_store(tmp_path_factory) -> Settings:
    """A demo store with 420 days of history (LONG_HISTORY, its storeops.yml
    LONG_HISTORY_SETTINGS) after one clean run of the daily job. Shared: read only."""

    def build(home: Path) -> None:
        _generate_long_history(home)
        _run(home)

    home = build_once(tmp_path_factory, "long_history", build)
    return Settings.load(home, landing=home / "landing")


@pytest.fixture(scope="session")
def long_history_store_without_sessions_or_ads(tmp_path_factory) -> Settings:
    """The long-history store without its sessions export and its three ad platforms,
    after one clean run. Shared: read only."""

    def build(home: Path) -> None:
        _generate_long_history(home)
        landing = home / "landing"
        sessions = list((landing / "analytics").glob("sessions*"))
        assert sessions, "the demo store's sessions export moved: update this fixture"
        for path in sessions:
            path.unlink()
        for folder in ("meta_ads", "google_ads", "tiktok_ads"):
            assert (landing / folder).is_dir(), f"landing/{folder} moved: update this fixture"
            shutil.rmtree(landing / folder)
        _run(home)

    home = build_once(tmp_path_factory, "long_history_without_sessions_or_ads", build)
    return Settings.load(home, landing=home / "landing")
