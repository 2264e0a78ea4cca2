"""Reconciliation of the raw layer against the load log: nothing lost, nothing doubled.

`file_balances(con, source)` gives, per loaded file, the rows read (raw.load_log.rows_in)
beside the rows that landed: in the raw table, in raw.quarantine, deleted on a
data-subject request (raw.forgotten_rows), or loaded once for several exact repeats in
the file (raw.load_log.rows_duplicate). The blocking row-conservation check of every
raw table reads it; `reconcile(con)` sums it over all tables and also counts rows present
twice (the same file and row number more than once, a file loaded twice). Used by the
fault tests and benchmarks/reliability.py.
"""

from __future__ import annotations

from dataclasses import dataclass

from quality.specs import SPECS
from quality.warehouse import column_exists, table_exists


@dataclass(frozen=True)
class FileBalance:
    """One loaded file of one raw table (a raw.load_log row with status 'loaded'): the
    rows read and where they went, all counts of rows."""

    source: str
    source_file: str
    file_sha256: str
    rows_in: int
    in_table: int
    in_quarantine: int
    forgotten: int
    duplicates: int = 0  # exact repeats of an earlier row of the file, loaded once

    @property
    def missing(self) -> int:
        """Rows read but neither loaded, quarantined, forgotten nor a repeat of a loaded
        row (negative: invented)."""
        return (self.rows_in - self.in_table - self.in_quarantine - self.forgotten
                - self.duplicates)


@dataclass(frozen=True)
class Reconciliation:
    """Row counts summed over every loaded file of every raw table (a file loaded twice
    counts once), with the rows lost, the rows doubled and the files loaded twice."""

    files: int
    rows_in: int
    rows_loaded: int
    rows_quarantined: int
    rows_forgotten: int
    rows_lost: int  # read but neither loaded, quarantined, forgotten nor an exact repeat
    rows_doubled: int  # present more than once
    files_loaded_twice: int
    rows_duplicate: int = 0  # exact repeats inside a file, loaded once (not lost)


def _landed_sql(con, tables: list[str]) -> str:
    """(source, sha, row) of every row in the raw tables."""
    parts = [f"select '{t}' as source, _file_sha256 as sha, _source_row as row from raw.{t}"
             for t in tables if table_exists(con, "raw", t)]
    return (" union all ".join(parts) if parts
            else "select null::varchar as source, null::varchar as sha, null::bigint as row where false")


def file_balances(con, source: str | None = None) -> list[FileBalance]:
    """Per loaded file of one raw table (or of all): rows read and where they went."""
    if not table_exists(con, "raw", "load_log"):
        return []
    tables = [s.table for s in SPECS if source is None or s.table == source]
    forgotten = ("select source, file_sha256 as sha, sum(rows) as n from raw.forgotten_rows "
                 "group by 1, 2" if table_exists(con, "raw", "forgotten_rows") else
                 "select null::varchar as source, null::varchar as sha, 0 as n where false")
    quarantined = ("select source, file_sha256 as sha, count(*) as n from raw.quarantine "
                   "group by 1, 2" if table_exists(con, "raw", "quarantine") else
                   "select null::varchar as source, null::varchar as sha, 0 as n where false")
    # Warehouses from before rows_duplicate have it once the loader's ensure_schema ran.
    duplicates = ("coalesce(log.rows_duplicate, 0)"
                  if column_exists(con, "raw", "load_log", "rows_duplicate") else "0")
    found = con.execute(f"""
        with landed as (select source, sha, count(*) as n from ({_landed_sql(con, tables)})
                        group by 1, 2),
             quarantined as ({quarantined}),
             forgotten as ({forgotten})
        select log.source, log.source_file, log.file_sha256, log.rows_in,
               coalesce(l.n, 0), coalesce(q.n, 0), coalesce(f.n, 0),
               {duplicates}
        from raw.load_log as log
        left join landed as l on l.source = log.source and l.sha = log.file_sha256
        left join quarantined as q on q.source = log.source and q.sha = log.file_sha256
        left join forgotten as f on f.source = log.source and f.sha = log.file_sha256
        where log.status = 'loaded' and log.source in (select unnest(?::varchar[]))
        order by log.source, log.source_file
    """, [tables]).fetchall()
    return [FileBalance(*(r[:3]), *(int(v) for v in r[3:])) for r in found]


def reconcile(con) -> Reconciliation:
    """The warehouse's books: `file_balances` of all raw tables summed, plus the extra
    copies of any (file, row) present more than once in the raw tables or raw.quarantine,
    and the files with more than one 'loaded' entry in raw.load_log.

    con: a DuckDB connection to the warehouse. All zeros when there is no load log or no
    loaded file. Raises duckdb.CatalogException when files are loaded but raw.quarantine
    is missing (the loader creates both together).
    """
    balances = {b.file_sha256: b for b in file_balances(con)}.values()  # a file loaded twice once
    if not balances:
        return Reconciliation(0, 0, 0, 0, 0, 0, 0, 0)
    landed = _landed_sql(con, [s.table for s in SPECS])
    doubled = con.execute(f"""
        select coalesce(sum(n - 1), 0) from (
            select count(*) as n from ({landed}) group by sha, row having count(*) > 1
            union all
            select count(*) as n from raw.quarantine group by file_sha256, source_row
            having count(*) > 1)
    """).fetchall()[0][0]
    twice = con.execute("""
        select count(*) from (select file_sha256 from raw.load_log where status = 'loaded'
                              group by 1 having count(*) > 1)
    """).fetchall()[0][0]
    return Reconciliation(
        files=len(balances),
        rows_in=sum(b.rows_in for b in balances),
        rows_loaded=sum(b.in_table for b in balances),
        rows_quarantined=sum(b.in_quarantine for b in balances),
        rows_forgotten=sum(b.forgotten for b in balances),
        rows_lost=sum(max(b.missing, 0) for b in balances),
        rows_doubled=int(doubled),
        files_loaded_twice=int(twice),
        rows_duplicate=sum(b.duplicates for b in balances),
    )
