"""forecast_demand with worker processes works from a plain script without a main guard
and from standard input (its forkserver children used to re-run the caller's script and
the pool broke: BrokenProcessPool)."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = """
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


def _ran(done: subprocess.CompletedProcess) -> str:
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def test_a_script_without_a_main_guard(tmp_path):
    script = tmp_path / "forecast_script.py"
    script.write_text(SCRIPT)
    out = _ran(subprocess.run([sys.executable, str(script)], cwd=ROOT, text=True,
                              capture_output=True, timeout=300, check=False))
    assert "rows 56 series 4" in out


def test_a_script_read_from_standard_input():
    out = _ran(subprocess.run([sys.executable, "-"], input=SCRIPT, cwd=ROOT, text=True,
                              capture_output=True, timeout=300, check=False))
    assert "rows 56 series 4" in out
