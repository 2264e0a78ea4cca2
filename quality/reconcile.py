"""Reconciliation of the raw layer against the load log: nothing lost, nothing doubled.

`reconcile(con)` counts, over every loaded file, the rows read (raw.load_log.rows_in)
against the rows that landed (raw table + raw.quarantine + rows deleted on a
data-subject request), and the rows present twice (the same file and row number more
than once, or a file loaded twice). Used by the fault tests and benchmarks/reliability.py.
"""

from __future__ import annotations

from dataclasses import dataclass

from orchestration.ingest.specs import SPECS


@dataclass(frozen=True)
class Reconciliation:
    files: int
    rows_in: int
    rows_loaded: int
    rows_quarantined: int
    rows_forgotten: int
    rows_lost: int  # read but neither loaded, quarantined nor forgotten
    rows_doubled: int  # present more than once
    files_loaded_twice: int


def _has(con, schema: str, table: str) -> bool:
    return bool(con.execute("select count(*) from information_schema.tables "
                            "where table_schema = ? and table_name = ?",
                            [schema, table]).fetchall()[0][0])


def reconcile(con) -> Reconciliation:
    if not _has(con, "raw", "load_log"):
        return Reconciliation(0, 0, 0, 0, 0, 0, 0, 0)
    parts = [f"select _file_sha256 as sha, _source_row as row from raw.{s.table}"
             for s in SPECS if _has(con, "raw", s.table)]
    landed = " union all ".join(parts) if parts else "select null as sha, null as row where false"
    forgotten = ("select file_sha256 as sha, sum(rows) as n from raw.forgotten_rows group by 1"
                 if _has(con, "raw", "forgotten_rows") else
                 "select null::varchar as sha, 0 as n where false")
    files, rows_in, loaded, quarantined, gone, lost = con.execute(f"""
        with loaded as (select sha, count(*) as n from ({landed}) group by 1),
             quarantined as (select file_sha256 as sha, count(*) as n from raw.quarantine group by 1),
             forgotten as ({forgotten}),
             files as (select distinct file_sha256 as sha, rows_in from raw.load_log
                       where status = 'loaded')
        select count(*), coalesce(sum(f.rows_in), 0), coalesce(sum(l.n), 0),
               coalesce(sum(q.n), 0), coalesce(sum(g.n), 0),
               coalesce(sum(greatest(f.rows_in - coalesce(l.n, 0) - coalesce(q.n, 0)
                                     - coalesce(g.n, 0), 0)), 0)
        from files as f
        left join loaded as l using (sha)
        left join quarantined as q using (sha)
        left join forgotten as g using (sha)
    """).fetchall()[0]
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
    return Reconciliation(int(files), int(rows_in), int(loaded), int(quarantined), int(gone),
                          int(lost), int(doubled), int(twice))
