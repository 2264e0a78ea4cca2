"""run_until_stopped (storeops run and ui): a stop reaches every process the command
started, even one in a session of its own that ignores SIGINT and SIGTERM (dagster dev's
webserver and daemon outlived a SIGKILL of its group)."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from orchestration.processes import alive

ROOT = Path(__file__).resolve().parents[2]

STUBBORN = """
import signal, subprocess, sys, time
for s in (signal.SIGINT, signal.SIGTERM):
    signal.signal(s, signal.SIG_IGN)
child = subprocess.Popen([sys.executable, "-c", "import signal, time\\n"
                          "for s in (signal.SIGINT, signal.SIGTERM): signal.signal(s, signal.SIG_IGN)\\n"
                          "time.sleep(600)"], start_new_session=True)
open(sys.argv[1], "w").write(str(child.pid))
time.sleep(600)
"""

RUNNER = """
import os, sys
from orchestration.processes import run_until_stopped
code = run_until_stopped([sys.executable, "-c", sys.argv[1], sys.argv[2]], dict(os.environ),
                         grace_s=1.0, stopped_code=None,
                         on_stop=lambda: print("Stopping", file=sys.stderr, flush=True))
print("code", code)
"""


def test_a_stop_reaches_a_stubborn_grandchild_in_its_own_session(tmp_path):
    pid_file = tmp_path / "grandchild.pid"
    runner = subprocess.Popen([sys.executable, "-c", RUNNER, STUBBORN, str(pid_file)], cwd=ROOT,
                              text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 30
        while not pid_file.exists() or not pid_file.read_text():
            assert time.monotonic() < deadline and runner.poll() is None, runner.communicate()
            time.sleep(0.1)
        grandchild = int(pid_file.read_text())
        assert alive(grandchild)
        stopped = time.monotonic()
        runner.send_signal(signal.SIGTERM)
        out, err = runner.communicate(timeout=30)
        assert "code 143" in out and "Stopping" in err, (out, err)
        assert time.monotonic() - stopped < 10  # SIGINT, SIGTERM after 1 s, SIGKILL after 2 s
        time.sleep(0.5)
        assert not alive(grandchild)
    finally:
        runner.kill()
        if pid_file.exists() and pid_file.read_text():
            try:
                os.kill(int(pid_file.read_text()), signal.SIGKILL)
            except ProcessLookupError:
                pass
