"""The import contracts of pyproject.toml ([tool.importlinter]) hold: pure packages never
import Dagster or the Dagster definitions, nothing imports the tests, and the asset
modules of orchestration/defs are siblings over orchestration.defs.shared."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_import_contracts_are_kept():
    done = subprocess.run([str(Path(sys.executable).with_name("lint-imports"))], cwd=ROOT,
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert "0 broken" in done.stdout
