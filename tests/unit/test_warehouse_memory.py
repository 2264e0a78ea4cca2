"""DuckDB's memory limit on storeops' connections (orchestration.warehouse_handle)."""

import duckdb
import pytest

from orchestration import warehouse_handle


def setting(con: duckdb.DuckDBPyConnection) -> str:
    return con.sql("select current_setting('memory_limit')").fetchall()[0][0]


def test_the_default_is_two_gib_per_core_at_most_a_quarter_of_ram(monkeypatch):
    monkeypatch.delenv(warehouse_handle.MEMORY_LIMIT_ENV, raising=False)
    monkeypatch.setattr("os.cpu_count", lambda: 2)
    monkeypatch.setattr("os.sysconf", lambda name: {"SC_PAGE_SIZE": 4096,
                                                    "SC_PHYS_PAGES": 64 * 2**30 // 4096}[name])
    assert warehouse_handle.memory_limit() == "4096MiB"
    monkeypatch.setattr("os.sysconf", lambda name: {"SC_PAGE_SIZE": 4096,
                                                    "SC_PHYS_PAGES": 8 * 2**30 // 4096}[name])
    assert warehouse_handle.memory_limit() == "2048MiB"  # a quarter of 8 GiB
    monkeypatch.setattr("os.sysconf", lambda name: {"SC_PAGE_SIZE": 4096,
                                                    "SC_PHYS_PAGES": 2 * 2**30 // 4096}[name])
    assert warehouse_handle.memory_limit() == "1024MiB"  # never under 1 GiB


@pytest.mark.parametrize("held", [False, True])
def test_every_connection_gets_the_limit_held_or_not(tmp_path, monkeypatch, held):
    """DuckDB's own default is 80% of RAM; the environment variable overrides ours."""
    monkeypatch.setenv(warehouse_handle.MEMORY_LIMIT_ENV, "1536MiB")
    path = tmp_path / "warehouse.duckdb"
    if held:
        with warehouse_handle.held_open(path):
            with warehouse_handle.connect(path) as con:
                assert setting(con) == "1.5 GiB"
            with warehouse_handle.connect(path, read_only=True) as con:
                assert setting(con) == "1.5 GiB"
    else:
        with warehouse_handle.connect(path) as con:
            assert setting(con) == "1.5 GiB"
        with warehouse_handle.connect(path, read_only=True) as con:
            assert setting(con) == "1.5 GiB"
