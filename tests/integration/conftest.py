import pickle

import pytest

from orchestration.settings import Settings
from tests.stores import build_once


@pytest.fixture(scope="module")
def small_store(tmp_path_factory):
    """A small demo store (scale 0.02, 90 days) in a fresh home, generated once per module."""
    from orchestration.demo import generate_store

    home = tmp_path_factory.mktemp("home")
    generate_store(home, scale=0.02, days=90, seed=11)
    return Settings(home=home, landing=home / "landing")


class BuiltStore:
    """A demo store's landing files and a home after one clean `storeops run` of them
    (`run`: that process' CompletedProcess, with its exit code and output)."""

    def __init__(self, landing, home, run=None):
        self.landing = landing
        self.home = home
        self.run = run

    def copy_home(self, target):
        """A copy of the built home (warehouse, Dagster history, outputs; times kept), for
        a test that goes on from a good run without paying for one."""
        import shutil

        shutil.copytree(self.home, target)
        return target

    def new_home(self, target):
        """An empty home with the store's storeops.yml (the demo's profit: costs), for a
        test that runs the landing itself and compares with the reference."""
        target.mkdir(parents=True, exist_ok=True)
        (target / "storeops.yml").write_bytes((self.home / "storeops.yml").read_bytes())
        return target

    def copy_landing(self, target):
        import shutil

        shutil.copytree(self.landing, target)
        return target


@pytest.fixture(scope="session")
def built_store(tmp_path_factory):
    """Demo store (scale 0.02, 90 days, seed 8) built once per test run by `storeops run`
    and shared by the test processes (tests/stores.py): the reference an uninterrupted run
    gives, shared by the fault tests. Read only: copy_home / copy_landing to change it."""
    from orchestration.demo import generate_store
    from orchestration.harness import storeops

    def build(root):
        generate_store(root / "store", scale=0.02, days=90, seed=8)
        # The store's settings (the demo's profit: costs) go with its files.
        (root / "reference").mkdir(parents=True)
        (root / "reference" / "storeops.yml").write_bytes(
            (root / "store" / "storeops.yml").read_bytes())
        done = storeops("run", "--landing", str(root / "store" / "landing"),
                        home=root / "reference")
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
        (root / "run.pickle").write_bytes(pickle.dumps(done))

    root = build_once(tmp_path_factory, "built_store", build)
    return BuiltStore(root / "store" / "landing", root / "reference",
                      pickle.loads((root / "run.pickle").read_bytes()))
