"""Child processes that stop when asked: run one in its own group and pass a stop on to it
and every descendant (Linux /proc), with a grace period before SIGTERM and SIGKILL.

`storeops run`, `demo` and `ui` run their work this way (orchestration.cli), so SIGTERM or
Ctrl-C stops them within seconds; the tests use the same /proc helpers to check that
nothing is left behind.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path


def tool_env() -> dict[str, str]:
    """This environment with the running interpreter's bin directory first on PATH.

    `dagster dev` prepares the dbt project by calling `dbt` from PATH (dagster-dbt's
    DbtProjectPreparer); started as `.venv/bin/storeops ui` without an activated venv,
    that `dbt` was missing and the code location failed to load."""
    env = os.environ.copy()
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    return env


# Seconds a stopped child gets to end on SIGINT, then on SIGTERM, before SIGKILL. A stopped
# run is safe to kill: loads are transactions, outputs are renamed into place, and the next
# run marks the interrupted Dagster run and redoes what did not finish.
STOP_GRACE_S = 5.0


def run_until_stopped(cmd: list[str], env: dict[str, str], *, grace_s: float = STOP_GRACE_S,
                      stopped_code: int | None,
                      on_stop: Callable[[], None] | None = None) -> int:
    """Run `cmd` in its own process group until it ends or this process gets SIGTERM or
    SIGINT (Ctrl-C); returns its exit code, or when stopped on request `stopped_code`
    (None: 128 + the signal's number, the shell's convention).

    A stop is passed on as SIGINT (what `dagster dev` shuts down cleanly on, webserver
    and daemon included); after `grace_s` seconds the whole group gets SIGTERM, then
    SIGKILL after as long again, and so does every descendant seen since the stop, since
    some run in sessions of their own (dagster dev's webserver, daemon and code server
    outlived a SIGKILL of its group). Without this, SIGTERM killed `storeops ui` and left
    `dagster dev` and its children serving, and `storeops run` went on to the end of the
    running step. `on_stop` is called once when the stop arrives (to say so)."""
    import signal
    import threading
    import time

    child = subprocess.Popen(cmd, env=env, start_new_session=True)
    stopping = threading.Event()
    received: list[int] = []

    tree: set[tuple[int, str]] = set()  # (pid, start time) of descendants seen

    def signal_group(signum: int) -> None:
        try:
            os.killpg(child.pid, signum)
        except ProcessLookupError:
            pass

    def signal_tree(signum: int) -> None:
        tree.update(descendants(child.pid))
        for pid, started in tree:  # descendants first: the group's end ends this run
            if process_start(pid) == started:  # still that process, not a reused pid
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(pid, signum)
        signal_group(signum)

    def tree_alive() -> bool:
        if child.poll() is None:
            return True
        return any(process_start(pid) == started and alive(pid) for pid, started in tree)

    def escalate() -> None:
        for signum in (signal.SIGTERM, signal.SIGKILL):
            deadline = time.monotonic() + grace_s
            while tree_alive() and time.monotonic() < deadline:
                time.sleep(0.05)
            if not tree_alive():
                return
            signal_tree(signum)

    escalation = threading.Thread(target=escalate, daemon=True)

    def stop(signum, frame) -> None:
        if stopping.is_set():
            return
        stopping.set()
        received.append(signum)
        if on_stop is not None:
            on_stop()
        tree.update(descendants(child.pid))
        signal_group(signal.SIGINT)
        escalation.start()

    previous = {s: signal.signal(s, stop) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        code = child.wait()
        if stopping.is_set():
            # The child's end is not the end of the stop: descendants in sessions of their
            # own may still run, and this process exiting would end the escalation (a
            # daemon thread) before it reached them (CI: a grandchild outlived the run).
            escalation.join(timeout=2 * grace_s + 5)
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        signal_group(signal.SIGTERM)  # anything of the group still left
    if not stopping.is_set():
        return code
    return 128 + received[0] if stopped_code is None else stopped_code


def process_start(pid: int) -> str | None:
    """A process' start time in clock ticks since boot (Linux /proc), None if it is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rsplit(")", 1)[1].split()[19]  # field 22, counted after the name


def descendants(pid: int) -> set[tuple[int, str]]:
    """(pid, start time) of every process below `pid`, whatever its session (Linux /proc;
    elsewhere empty)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found: set[tuple[int, str]] = set()
    todo = list(children.get(pid, []))
    while todo:
        current = todo.pop()
        started = process_start(current)
        if started is not None:
            found.add((current, started))
        todo += children.get(current, [])
    return found


def alive(pid: int) -> bool:
    """Whether process `pid` exists and is not a zombie (Linux /proc)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def processes_mentioning(text: str) -> list[int]:
    """Pids whose command line contains `text` (Linux /proc; elsewhere empty)."""
    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            if text in cmdline.read_bytes().replace(b"\0", b" ").decode(errors="replace"):
                found.append(int(cmdline.parent.name))
        except OSError:
            continue
    return found


def die_with_parent() -> None:
    """Linux: SIGKILL this worker when the `storeops run` that started it dies (killed by
    a timeout or SIGKILL, it cannot pass the stop on); elsewhere nothing."""
    if not sys.platform.startswith("linux"):
        return
    import ctypes
    import signal

    pr_set_pdeathsig = 1
    ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGKILL)
    if os.getppid() == 1:  # the parent died before the call
        os.kill(os.getpid(), signal.SIGKILL)
