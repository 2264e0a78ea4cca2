"""DuckDB's memory limit on storeops' connections (orchestration.warehouse_handle)."""

import duckdb
import pytest

from orchestration import warehouse_handle


def setting(con: duckdb.DuckDBPyConnection) -> str:
    return con.sql("select current_setting('memory_limit')").fetchall()[0][0]


def test_the_default_is_duckdbs_own_eighty_percent_of_ram(monkeypatch, tmp_path):
    monkeypatch.delenv(warehouse_handle.MEMORY_LIMIT_ENV, raising=False)
    assert warehouse_handle.memory_limit() == "80%"
    with warehouse_handle.connect(tmp_path / "w.duckdb") as con:
        assert setting(con) == duckdb.connect().sql(
            "select current_setting('memory_limit')").fetchall()[0][0]


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
