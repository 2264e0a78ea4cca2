"""Worker processes for statsforecast that cannot inherit a held lock.

statsforecast fans series out to `multiprocessing` pools with the default start method,
which is fork on Linux. The pipeline forks from a process that runs threads (polars'
thread pool, DuckDB, Dagster's event loop); a fork copies any lock another thread holds
at that moment, and a child that touches it waits forever. We met it: a daily run whose
demand_forecast step sat idle for ten minutes under pytest. Python's documentation warns
about exactly this ("fork ... is problematic" in a multi-threaded process).

`worker_processes()` switches the default start method to forkserver while statsforecast
runs: children fork from a small single-threaded server that has already imported
statsforecast (so each call does not pay the import), then the previous method is put back.

A forkserver child also re-runs the caller's main module before it works (as spawn does;
https://docs.python.org/3/library/multiprocessing.html#the-spawn-and-forkserver-start-methods,
"safe importing of main module"): a plain script without an `if __name__ == "__main__"`
guard then starts the forecast again in every child, and a script read from standard input
cannot be re-run at all; either way the pool breaks (BrokenProcessPool). statsforecast's
workers need only statsforecast and this package, never the caller's code, so while
`worker_processes()` runs, children are not told the main module.

The forkserver learns that a worker has ended from SIGCHLD and only then tells the parent,
whose pool waits for that at shutdown; a pool's terminate() ends idle workers with
SIGTERM. The forkserver inherits the signal mask of the thread that starts it, and the
workers inherit the forkserver's: started from a process that blocks signals (a service
manager, a parent that blocked them around a fork, as our CI's test workers did), the
forkserver never hears of an ended worker, or a worker never ends, and the pool waits
forever (the join in ProcessPoolExecutor.shutdown or Pool.terminate: a script hung 240 s
into a 10 s job). An ignored SIGTERM, which survives exec, does the same to
Pool.terminate. So the forkserver's first preload (forecasting/_forkserver_signals.py)
clears its mask and restores the default SIGTERM, for itself and the workers it forks;
the caller's own signals are left as they are.
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.spawn
import sys
from collections.abc import Iterator
from contextlib import contextmanager

# The first sets sane signals in the forkserver (see forecasting/_forkserver_signals.py).
PRELOAD = ["forecasting._forkserver_signals", "statsforecast.core", "statsforecast.models",
           "forecasting.demand"]
# statsforecast's pools end with terminate(), which leaves a pool semaphore for the
# resource tracker to unlink at exit, with a "leaked semaphore" UserWarning per run that
# a person reading `storeops run` would take for a fault. The tracker process takes its
# warning filters from sys.warnoptions when it starts, so this silences it there only.
QUIET_TRACKER = "ignore::UserWarning:multiprocessing.resource_tracker"


def quiet_resource_tracker() -> None:
    """Silence the tracker's leak warnings; effective only before the tracker starts, so
    orchestration/__init__.py does the same first thing for the pipeline."""
    if QUIET_TRACKER not in sys.warnoptions:
        sys.warnoptions.append(QUIET_TRACKER)


@contextmanager
def worker_processes(n_jobs: int) -> Iterator[None]:
    """Run the enclosed statsforecast calls with forkserver workers (no-op for 1 job)."""
    if n_jobs <= 1 or "forkserver" not in multiprocessing.get_all_start_methods():
        yield
        return
    quiet_resource_tracker()
    previous = multiprocessing.get_start_method(allow_none=True)
    multiprocessing.set_forkserver_preload(PRELOAD)
    multiprocessing.set_start_method("forkserver", force=True)
    preparation = multiprocessing.spawn.get_preparation_data

    def without_main(name: str) -> dict:
        data = preparation(name)
        data.pop("init_main_from_path", None)
        data.pop("init_main_from_name", None)
        return data

    multiprocessing.spawn.get_preparation_data = without_main
    try:
        yield
    finally:
        multiprocessing.spawn.get_preparation_data = preparation
        multiprocessing.set_start_method(previous, force=True)
