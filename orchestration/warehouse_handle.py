"""The warehouse's DuckDB file held open for the length of one in-process run.

A run opens the warehouse ~190 times (every asset, check and Great Expectations suite opens
its own connection), and opening and closing a DuckDB file costs ~17 ms (catalog read,
checkpoint on close): 3 s of a tiny store's 30 s run. Inside `held_open(path)` (around
`execute_pipeline`'s Dagster run) the first connection stays open and every later one is a
cursor on it (under 1 ms). DuckDB allows one process to write a file, so the handle is let
go (`release`) before a step starts another process that opens the warehouse (dbt build,
dbt docs) and when the run ends; the next connection opens it again.

Outside `held_open` (the Dagster UI's runs, `materialize` in tests, scripts) nothing is
held: each connection opens and closes the file as before.

Every connection opened here, and dbt's (profiles.yml, through the `duckdb_memory_limit`
var), gets DuckDB's `memory_limit` from `memory_limit()`: DuckDB's own default (80% of RAM)
unless $STOREOPS_DUCKDB_MEMORY_LIMIT says otherwise, so that several stores' runs on one
machine can share it. Beyond the limit DuckDB spills to its temporary directory.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

MEMORY_LIMIT_ENV = "STOREOPS_DUCKDB_MEMORY_LIMIT"


def memory_limit() -> str:
    """DuckDB's memory_limit for storeops' connections and dbt's, e.g. "80%" or "3GiB".

    $STOREOPS_DUCKDB_MEMORY_LIMIT when set (any value DuckDB's `SET memory_limit` accepts,
    e.g. "3GiB": several stores on one machine), else 80% of the machine's RAM, DuckDB's own
    default (https://duckdb.org/docs/stable/configuration/overview). Measured on the 10x
    store (benchmarks/results/scale10*.md): with the default dbt's DuckDB held 6.5 GiB and
    the run peaked at 9.5 GiB on a 23 GiB machine; with "4GB" dbt held 4.1 GiB, the run
    peaked at 7.1 GiB and took 2.6% longer (784 against 764 s); "3GB" ran out of memory in
    int_orders_enriched. DuckDB spills what it can beyond the limit but some operators
    cannot, so a fixed default low enough for small machines would fail big stores: the
    default stays DuckDB's, and docs/scaling.md says when to set it."""
    return os.environ.get(MEMORY_LIMIT_ENV, "").strip() or "80%"


_lock = threading.Lock()
_holding: set[str] = set()  # paths whose handle may be kept (inside held_open)
_handles: dict[str, duckdb.DuckDBPyConnection] = {}


def _key(path: str | Path) -> str:
    return os.path.realpath(path)


def _open(path: str, read_only: bool, timeout_s: float) -> duckdb.DuckDBPyConnection:
    """duckdb.connect, waiting up to `timeout_s` while another process holds the write lock
    (dbt, a second run); other errors are raised at once."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            con = duckdb.connect(path, read_only=read_only)
            # SET, not connect(config=...): a second connection to a file already open in
            # this process with another config is refused.
            con.execute(f"set memory_limit = '{memory_limit()}'")
            return con
        except duckdb.IOException as exc:
            if "lock" not in str(exc).lower() or time.monotonic() > deadline:
                raise
            time.sleep(0.5)


@contextmanager
def connect(path: str | Path, *, read_only: bool = False,
            timeout_s: float = 120.0) -> Iterator[duckdb.DuckDBPyConnection]:
    """A connection to the warehouse at `path`, closed on exit. Inside `held_open(path)` it
    is a cursor on the held handle (read-write; `read_only` callers only read), else the
    file is opened with `read_only` as asked. Raises duckdb.IOException when the file stays
    locked by another process for `timeout_s` seconds."""
    key = _key(path)
    with _lock:
        holding = key in _holding
        handle = _handles.get(key)
        if holding and handle is None:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            handle = _handles[key] = _open(str(path), False, timeout_s)
    if holding:
        con = handle.cursor()
    else:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        con = _open(str(path), read_only, timeout_s)
    try:
        yield con
    finally:
        con.close()


def release(path: str | Path) -> None:
    """Close the held handle of `path`, if any (before another process opens the file); a
    later `connect` inside `held_open` opens it again."""
    with _lock:
        handle = _handles.pop(_key(path), None)
    if handle is not None:
        handle.close()


@contextmanager
def held_open(path: str | Path) -> Iterator[None]:
    """Keep the warehouse at `path` open between connections until the block ends."""
    key = _key(path)
    with _lock:
        _holding.add(key)
    try:
        yield
    finally:
        with _lock:
            _holding.discard(key)
        release(path)
