"""The dbt unit tests (fixed inputs and expected rows, in the models' YAML) pass.

`storeops run` leaves them out (they test the SQL, not the data), so they run here, on a
copy of a built warehouse (dbt reads the input models' columns from it)."""

import os
import re
import subprocess

import pytest

from orchestration.defs.warehouse import dbt_executable
from orchestration.harness import ROOT

pytestmark = pytest.mark.integration


def test_every_dbt_unit_test_passes(tmp_path, built_store):
    home = built_store.copy_home(tmp_path / "home")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("STOREOPS_", "DAGSTER_"))}
    env.update(STOREOPS_HOME=str(home), DBT_SEND_ANONYMOUS_USAGE_STATS="false")
    done = subprocess.run(
        [dbt_executable(), "test", "--select", "test_type:unit",
         "--target-path", str(tmp_path / "target"), "--log-path", str(tmp_path / "logs"),
         "--project-dir", str(ROOT / "dbt_project"), "--profiles-dir", str(ROOT / "dbt_project")],
        cwd=ROOT, env=env, text=True, capture_output=True, check=False, timeout=600)
    assert done.returncode == 0, done.stdout[-4000:]
    summary = re.search(r"PASS=(\d+) .*TOTAL=(\d+)", done.stdout)
    assert summary, done.stdout[-4000:]
    passed, total = int(summary[1]), int(summary[2])
    assert passed == total >= 17, done.stdout[-4000:]  # 17 unit tests in the YAML
