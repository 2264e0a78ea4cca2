"""Dagster's SQLite event log with its connections kept open: the event log storage of
every storeops home (named in <home>/dagster/dagster.yaml, orchestration/dagster.yaml).

Dagster's `SqliteEventLogStorage` builds a new SQLAlchemy engine and opens a new SQLite
connection for every read and write, and SQLite in WAL mode syncs the log to disk on every
commit. A run writes ~850 events (each mirrored into the index shard when it is an asset or
check event), so a tiny store's run spent about a quarter of its time opening connections
and waiting for fsync. This storage is the same class, the same files and the same schema
(`storeops ui` and the CLI read each other's runs, and a home written before still reads);
it differs in two ways:

- one engine per shard with a small connection pool, for the last few shards used (an old
  run's shard is closed when it falls out, so a long-running `storeops ui` does not keep a
  file open per run it ever showed);
- `PRAGMA synchronous=NORMAL` on its connections: in WAL mode the database cannot be
  corrupted by a crash of the process or of the machine; what a power cut can lose is the
  last events before it (SQLite, "Write-Ahead Logging", https://sqlite.org/wal.html, and
  "PRAGMA synchronous"). A killed storeops process loses nothing: the commit is in the
  operating system's cache. The warehouse itself is DuckDB's and unaffected.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager

from dagster._core.storage.event_log.sqlite.sqlite_event_log import SqliteEventLogStorage
from dagster._core.storage.sql import create_engine
from dagster._core.storage.sqlite import SQLITE_BUSY_TIMEOUT_SECONDS
from sqlalchemy import event
from sqlalchemy.pool import SingletonThreadPool

OPEN_SHARDS = 8  # engines kept: the index shard, this run's, and a few the UI shows


class PooledSqliteEventLogStorage(SqliteEventLogStorage):
    """`SqliteEventLogStorage` with one pooled engine per shard (see the module docstring).

    Configured like Dagster's own: `config: {base_dir: <home>/dagster/storage}`."""

    def __init__(self, base_dir: str, inst_data=None):
        self._engines: OrderedDict[str, object] = OrderedDict()
        self._engines_lock = threading.Lock()
        super().__init__(base_dir, inst_data)

    @classmethod
    def from_config_value(cls, inst_data, config_value) -> PooledSqliteEventLogStorage:
        return cls(inst_data=inst_data, **config_value)

    def _engine(self, shard: str):
        with self._engines_lock:
            engine = self._engines.get(shard)
            if engine is not None:
                self._engines.move_to_end(shard)
                return engine
            # One connection per thread (SQLite connections are not shared across threads),
            # kept open between calls instead of Dagster's NullPool.
            engine = create_engine(self.conn_string_for_shard(shard), poolclass=SingletonThreadPool,
                                   connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS})
            event.listen(engine, "connect", _synchronous_normal)
            self._engines[shard] = engine
            while len(self._engines) > OPEN_SHARDS:
                _, old = self._engines.popitem(last=False)
                old.dispose()
            return engine

    @contextmanager
    def _connect(self, shard: str) -> Iterator:
        with self._db_lock:
            engine = self._engine(shard)
            if shard not in self._initialized_dbs:
                self._initdb(engine)
                self._initialized_dbs.add(shard)
            with engine.connect() as conn, conn.begin():
                yield conn

    def dispose(self) -> None:
        with self._engines_lock:
            for engine in self._engines.values():
                engine.dispose()
            self._engines.clear()
        super().dispose()


def _synchronous_normal(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()
