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
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Iterator
from contextlib import contextmanager

PRELOAD = ["statsforecast.core", "statsforecast.models", "forecasting.demand"]


@contextmanager
def worker_processes(n_jobs: int) -> Iterator[None]:
    """Run the enclosed statsforecast calls with forkserver workers (no-op for 1 job)."""
    if n_jobs <= 1 or "forkserver" not in multiprocessing.get_all_start_methods():
        yield
        return
    previous = multiprocessing.get_start_method(allow_none=True)
    multiprocessing.set_forkserver_preload(PRELOAD)
    multiprocessing.set_start_method("forkserver", force=True)
    try:
        yield
    finally:
        multiprocessing.set_start_method(previous, force=True)
