"""One run at a time per storeops home.

DuckDB has one writer, dbt opens the same file, and two runs ingesting the same landing
files would race on the load log. `home_lock(home)` takes an exclusive lock on
`<home>/.storeops.lock` (flock: released by the kernel when the process dies, so a run
killed with SIGKILL never leaves a stale lock); a second run waits for it up to
`wait_s` seconds (`$STOREOPS_LOCK_WAIT`, default 600), then stops with a message that
says which process holds the home.
"""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

LOCK_WAIT_ENV = "STOREOPS_LOCK_WAIT"
DEFAULT_WAIT_S = 600.0


class HomeBusy(RuntimeError):
    """Another storeops run holds this home."""


def lock_wait_seconds() -> float:
    value = os.environ.get(LOCK_WAIT_ENV)
    try:
        return float(value) if value else DEFAULT_WAIT_S
    except ValueError:
        return DEFAULT_WAIT_S


@contextmanager
def home_lock(home: Path, *, wait_s: float | None = None, what: str = "storeops run",
              on_wait: Callable[[str], None] | None = None) -> Iterator[None]:
    home = Path(home)
    home.mkdir(parents=True, exist_ok=True)
    path = home / ".storeops.lock"
    wait_s = lock_wait_seconds() if wait_s is None else wait_s
    handle = path.open("a+")
    deadline = time.monotonic() + wait_s
    told = False
    try:
        while True:
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                handle.seek(0)
                holder = handle.read().strip() or "another process"
                if time.monotonic() >= deadline:
                    raise HomeBusy(
                        f"{home} is in use by {holder}; nothing was changed. Try again when "
                        f"it has finished (waited {wait_s:.0f} s; set {LOCK_WAIT_ENV} to wait longer)."
                    ) from None
                if on_wait and not told:
                    on_wait(f"waiting for {holder} to finish with {home}")
                    told = True
                time.sleep(0.2)
        handle.seek(0)
        handle.truncate()
        handle.write(f"{what} pid {os.getpid()} since {datetime.now():%Y-%m-%d %H:%M:%S}")
        handle.flush()
        yield
    finally:
        handle.close()  # closing the file releases the lock
