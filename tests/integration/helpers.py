"""Helpers the integration tests share: the storeops command as a user runs it."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
STOREOPS = str(Path(sys.executable).with_name("storeops"))


def storeops(*args, home, failpoint: str | None = None, timeout: int = 900):
    """Run `storeops ... --home HOME` in a clean environment (no STOREOPS_/DAGSTER_
    variables of the calling test), optionally with a failpoint armed."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("STOREOPS_", "DAGSTER_"))}
    if failpoint:
        env["STOREOPS_FAILPOINT"] = failpoint
    return subprocess.run([STOREOPS, *args, "--home", str(home)], cwd=ROOT, env=env, text=True,
                          capture_output=True, timeout=timeout, check=False)
