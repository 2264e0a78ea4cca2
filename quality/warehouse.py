"""Small reads every layer makes on the warehouse (pure: a DuckDB connection in, plain
values out): whether a table or column exists, a query's rows as dictionaries, and what
the load log says about files (the loader's warnings, refused files, missing ad spend)."""

from __future__ import annotations


def table_exists(con, schema: str, table: str) -> bool:
    """Whether `schema.table` (a table or a view) exists; names compared exactly."""
    return bool(con.execute(
        "select count(*) from information_schema.tables where table_schema = ? and table_name = ?",
        [schema, table]).fetchall()[0][0])


def rows(con, sql: str, params: list | None = None) -> list[dict]:
    """Run `sql` with its `?` parameters; its rows as dicts keyed by column name, in
    the query's order. Raises duckdb.Error on a bad query or a missing table."""
    cursor = con.execute(sql, params or [])
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row)) for row in cursor.fetchall()]


def column_exists(con, schema: str, table: str, column: str) -> bool:
    """Whether `schema.table` has the column (False when the table does not exist)."""
    return bool(con.execute(
        "select count(*) from information_schema.columns "
        "where table_schema = ? and table_name = ? and column_name = ?",
        [schema, table, column]).fetchall()[0][0])


def resolved_as_of(con):
    """The as-of date the warehouse was built for (intermediate.int_as_of_resolved, which
    dbt resolves once per run: the replay's --as-of, else the last date in the data), as a
    datetime.date; None when the table is missing or holds no date yet. The one reader of
    that table: the Dagster assets raise on None, reports fall back to their data's date."""
    if not table_exists(con, "intermediate", "int_as_of_resolved"):
        return None
    found = con.execute("select max(as_of_date) from intermediate.int_as_of_resolved").fetchall()
    return found[0][0] if found else None


AD_SOURCES = ("meta_ads", "google_ads", "tiktok_ads")


def file_warnings(con, *, latest_load_only: bool = False) -> list[dict]:
    """Warnings the loader wrote about files it loaded (raw.load_log.warnings: a
    spreadsheet-mangled id column, timestamps whose offsets do not fit the store
    timezone, ...), one row per warning sentence: source, source_file, warning,
    loaded_at.

    Per file only its newest load counts (a corrected re-export clears the warning of the
    file it replaces under the same name). latest_load_only: only files loaded within a
    day of the newest load (what the daily brief reports). Empty when the load log or its
    warnings column does not exist (a warehouse older than the column)."""
    if not table_exists(con, "raw", "load_log") or not column_exists(
            con, "raw", "load_log", "warnings"):
        return []
    window = ("and loaded_at >= (select max(loaded_at) from raw.load_log) - interval 1 day"
              if latest_load_only else "")
    found = rows(con, f"""
        with newest as (
            select source, source_file, warnings, loaded_at
            from raw.load_log
            where status = 'loaded' {window}
            qualify row_number() over (partition by source_file order by loaded_at desc) = 1
        )
        select source, source_file, warnings, loaded_at from newest
        where warnings is not null and warnings <> ''
        order by source, source_file
    """)
    return [{"source": r["source"], "source_file": r["source_file"], "warning": w.strip(),
             "loaded_at": r["loaded_at"]}
            for r in found for w in r["warnings"].split("\n") if w.strip()]


def refused_files(con, sources: tuple[str, ...] | None = None) -> list[dict]:
    """Files rejected at their newest appearance (source, source_file, message), for the
    sources given (all when None): what is missing from the warehouse and why."""
    if not table_exists(con, "raw", "load_log"):
        return []
    found = rows(con, """
        select source, source_file, status, message
        from raw.load_log
        qualify row_number() over (partition by source_file order by loaded_at desc) = 1
        order by source, source_file
    """)
    return [r for r in found if r["status"] == "rejected"
            and (sources is None or r["source"] in sources)]


def ad_spend_gap(con) -> str | None:
    """Why no ad spend is in the warehouse, when an ad export was refused: a sentence
    naming each refused file and the loader's reason (its fix), else None."""
    refused = refused_files(con, AD_SOURCES)
    if not refused:
        return None
    return "No ad spend loaded: " + " ".join(
        f"{r['source_file']} was refused: {r['message']}" for r in refused[:3])
