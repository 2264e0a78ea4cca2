"""forecast_demand with worker processes works from a plain script without a main guard
and from standard input (its forkserver children used to re-run the caller's script and
the pool broke: BrokenProcessPool)."""

import contextlib
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = """
import re, sys
print(*re.findall(r"Sig(?:Blk|Ign):.*", open("/proc/self/status").read()), file=sys.stderr)
from datetime import date, timedelta
import polars as pl
from forecasting import forecast_demand

days = [date(2026, 1, 1) + timedelta(days=i) for i in range(120)]
history = pl.DataFrame({
    "unique_id": [f"SKU-{s}" for s in range(4) for _ in days],
    "ds": days * 4,
    "y": [float((i % 7) + s) for s in range(4) for i in range(120)],
})
forecast = forecast_demand(history, 14, n_jobs=2)
print("rows", forecast.height, "series", forecast["unique_id"].n_unique())
"""


def _ran(cmd: list[str], stdin: str | None = None) -> str:
    """Run `cmd` (its own session), return stdout. A run still going after 240 s (it takes
    about 10) gets SIGABRT, so that faulthandler prints where every thread of it waits:
    it is how a hang shows what it waits for (one in CI: the SIGCHLD test below)."""
    env = {**os.environ, "PYTHONFAULTHANDLER": "1"}
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, text=True, start_new_session=True,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        out, err = proc.communicate(stdin, timeout=240)
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGABRT)
        try:
            out, err = proc.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            out, err = proc.communicate()
        pytest.fail("the script hung; its threads when stopped:\n" + err[:8000])
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)  # forkserver and workers, if any are left
    assert proc.returncode == 0, err[-3000:]
    return out


def test_a_script_without_a_main_guard(tmp_path):
    script = tmp_path / "forecast_script.py"
    script.write_text(SCRIPT)
    assert "rows 56 series 4" in _ran([sys.executable, str(script)])


def test_a_script_read_from_standard_input():
    assert "rows 56 series 4" in _ran([sys.executable, "-"], stdin=SCRIPT)


def test_a_script_started_with_sigchld_blocked(tmp_path):
    """A process that inherits a blocked SIGCHLD or an ignored SIGTERM (both seen in CI)
    used to hang at the pool's shutdown: the forkserver never heard that a worker ended,
    or Pool.terminate could not end a worker."""
    script = tmp_path / "forecast_script.py"
    script.write_text(SCRIPT)
    blocked = ("import os, signal, sys; "
               "signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGCHLD}); "
               "signal.signal(signal.SIGTERM, signal.SIG_IGN); "
               f"os.execv(sys.executable, [sys.executable, {str(script)!r}])")
    assert "rows 56 series 4" in _ran([sys.executable, "-c", blocked])
