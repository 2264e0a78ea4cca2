"""Load landing files into the append-only raw tables of the warehouse.

Rules (DESIGN.md, "Ingestion rules"):
- every raw row carries `_source_file`, `_source_row`, `_file_sha256`, `_loaded_at`;
- a file whose sha256 is already loaded is skipped, so re-running is a no-op;
- a row that does not parse goes to `raw.quarantine` with file, row, column, reason and
  the original row, and the rest of the file loads;
- a data row repeated exactly inside one file (every cell equal: an order's rows pasted
  twice) loads once; the repeats are counted (`rows_duplicate`) and named in the message;
- rows in = rows loaded + rows quarantined + rows duplicate, per file (asserted before
  commit);
- one file is one transaction: a crash leaves all of it or none of it.
Every file seen is recorded in `raw.load_log` (loaded or rejected, with the reason).
Warnings about a loaded file (ids a spreadsheet destroyed, timestamps whose offset does
not fit the store timezone) are stored in `raw.load_log.warnings`, one sentence per line,
each starting with the file's path; the CLI, the brief and the quality report read them.
"""

from __future__ import annotations

import hashlib
import re
from collections import deque
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo

import duckdb
import polars as pl

from orchestration.ingest.parse import parse_frame, rows_text
from orchestration.ingest.readers import (
    ROW,
    FileRejected,
    ReadResult,
    decode,
    read_csv_text,
    read_jsonl_text,
    spec_for_shared_folder,
    xlsx_to_text,
)
from orchestration.settings import DEFAULT_EXPORT_WINDOW_START
from quality import failpoints
from quality.specs import SPECS, SourceSpec

DUCK_TYPES = {
    "text": "VARCHAR",
    "int": "BIGINT",
    "money": "DECIMAL(18,4)",
    "number": "DOUBLE",
    "percent": "DOUBLE",
    "date": "DATE",
    "timestamp_tz": "TIMESTAMP",
    "timestamp_local": "TIMESTAMP",
    "bool": "BOOLEAN",
}
LINEAGE = {
    "_source_file": "VARCHAR",
    "_source_row": "BIGINT",
    "_file_sha256": "VARCHAR",
    "_loaded_at": "TIMESTAMP",
}

SCHEMA_DDL = """
create schema if not exists raw;
create table if not exists raw.quarantine (
    source varchar not null,          -- raw table the row was meant for
    source_file varchar not null,     -- path under the landing directory
    file_sha256 varchar not null,
    source_row bigint,                -- data row under the header, 1-based
    column_name varchar,              -- vendor column that failed (null: the whole row)
    reason varchar not null,
    original_row varchar,             -- the row as the vendor wrote it, JSON
    run_id varchar,
    quarantined_at timestamp not null
);
create table if not exists raw.load_log (
    run_id varchar,
    source varchar not null,
    source_file varchar not null,
    file_sha256 varchar not null,
    file_bytes bigint,
    file_modified_at timestamp,
    status varchar not null,          -- loaded | rejected
    rows_in bigint,
    rows_loaded bigint,
    rows_quarantined bigint,
    summary_rows bigint,              -- vendor footer rows (Google 'Total:') that hold no data
    min_date date,
    max_date date,
    message varchar,
    loaded_at timestamp not null,
    rows_duplicate bigint,            -- exact repeats of an earlier row of the file, loaded once
    warnings varchar                  -- sentences, one per line, each naming the file
);
"""
# Columns added to raw.load_log after its first version: existing warehouses get them.
LOAD_LOG_ADDED = {"rows_duplicate": "bigint", "warnings": "varchar"}

Status = Literal["loaded", "skipped", "rejected"]


@dataclass
class FileResult:
    source: str
    path: str  # relative to the landing directory
    sha256: str
    status: Status
    rows_in: int = 0
    rows_loaded: int = 0
    rows_quarantined: int = 0
    summary_rows: int = 0
    rows_duplicate: int = 0  # exact repeats of an earlier row of the file, loaded once
    min_date: date | None = None
    max_date: date | None = None
    message: str = ""  # what went wrong: rejection reason, quarantine summary
    notes: str = ""  # what the reader undid (title lines, delimiter): informational
    # Sentences that do not stop the file but need a person (each starts with the path).
    warnings: list[str] = field(default_factory=list)


@dataclass
class SourceResult:
    table: str
    files: list[FileResult] = field(default_factory=list)
    last_date: date | None = None  # newest date in the whole raw table
    total_rows: int = 0  # rows in the raw table after this load

    def count(self, status: Status) -> int:
        return sum(f.status == status for f in self.files)

    @property
    def rows_loaded(self) -> int:
        return sum(f.rows_loaded for f in self.files)

    @property
    def rows_quarantined(self) -> int:
        return sum(f.rows_quarantined for f in self.files)

    @property
    def rows_duplicate(self) -> int:
        return sum(f.rows_duplicate for f in self.files)

    @property
    def warnings(self) -> list[str]:
        return [w for f in self.files for w in f.warnings]


def ensure_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Create the raw schema, its load log, quarantine and one table per source where
    missing, and add the columns a warehouse made by an earlier version lacks (typed, so
    the models can read them whether or not a file carrying them has been loaded since).

    Reads the schema's columns once and issues DDL only for what is missing: every source's
    ingest calls this, and a statement per table each time (even `if not exists`, each a
    commit) cost ~30 ms a call."""
    def columns() -> dict[str, set[str]]:
        found: dict[str, set[str]] = {}
        for table, column in con.execute(
                "select table_name, column_name from information_schema.columns "
                "where table_schema = 'raw'").fetchall():
            found.setdefault(table, set()).add(column)
        return found

    have = columns()
    if "load_log" not in have or "quarantine" not in have:
        con.execute(SCHEMA_DDL)
        have = columns()
    for name, kind in LOAD_LOG_ADDED.items():
        if name not in have["load_log"]:
            con.execute(f"alter table raw.load_log add column if not exists {name} {kind}")
    for spec in SPECS:
        present = have.get(spec.table)
        if present is None:
            cols = ", ".join(
                [f'"{c.name}" {DUCK_TYPES[c.kind]}' for c in spec.columns]
                + [f"{n} {t}" for n, t in LINEAGE.items()]
            )
            con.execute(f"create table if not exists raw.{spec.table} ({cols})")
            continue
        for c in spec.columns:
            if c.name not in present:
                con.execute(f'alter table raw.{spec.table} add column "{c.name}" '
                            f"{DUCK_TYPES[c.kind]}")


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def landing_files(landing: Path, spec: SourceSpec) -> list[Path]:
    folder = landing / spec.folder
    if not folder.is_dir():
        return []
    return sorted(
        p for p in folder.iterdir()
        if p.is_file() and not p.name.startswith((".", "~$"))
    )


def _read(spec: SourceSpec, text: str, rel: str) -> tuple[ReadResult, list[dict]]:
    if spec.file_format == "jsonl":
        return read_jsonl_text(spec, text, rel)
    read = read_csv_text(spec, text, rel)
    return read, read.bad_rows


_SNAPSHOT_DATE = r"(\d{4}-\d{2}-\d{2})"


def _add_snapshot_date(spec: SourceSpec, read: ReadResult, path: Path, rel: str,
                       timezone: str) -> None:
    """Snapshots: Shopify inventory (one file per snapshot; the date is in the name or an
    as_of column, else the file is rejected) and products (the name's date, else the store
    date it is loaded on: real products exports carry no date)."""
    if "as_of" in read.frame.columns:
        return
    m = re.search(_SNAPSHOT_DATE, path.name)
    if not m and spec.snapshot_date_or_load_date:
        today = datetime.now(ZoneInfo(timezone)).date().isoformat()
        read.frame = read.frame.with_columns(pl.lit(today).alias("as_of"))
        return
    if not m:
        raise FileRejected(
            f"{rel}: cannot tell which day this inventory snapshot is: put the date in the "
            "file name (inventory_2026-11-01.csv) or add an 'as_of' column"
        )
    read.frame = read.frame.with_columns(pl.lit(m.group(1)).alias("as_of"))


def _already_loaded(con: duckdb.DuckDBPyConnection, spec: SourceSpec, sha: str) -> str | None:
    rows = con.execute(
        "select source_file from raw.load_log "
        "where file_sha256 = ? and source = ? and status = 'loaded' limit 1",
        [sha, spec.table],
    ).fetchall()
    return rows[0][0] if rows else None


def _already_rejected(con: duckdb.DuckDBPyConnection, sha: str, message: str) -> bool:
    # duckdb 2.x: fetch everything, a half-read result blocks the connection.
    return bool(con.execute(
        "select 1 from raw.load_log where file_sha256 = ? and status = 'rejected' and message = ?",
        [sha, message],
    ).fetchall())


def _log(con, result: FileResult, *, run_id: str, size: int, mtime: datetime, now: datetime):
    con.execute(
        "insert into raw.load_log (run_id, source, source_file, file_sha256, file_bytes, "
        "file_modified_at, status, rows_in, rows_loaded, rows_quarantined, summary_rows, "
        "min_date, max_date, message, loaded_at, rows_duplicate, warnings) "
        "values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [run_id, result.source, result.path, result.sha256, size, mtime, result.status,
         result.rows_in, result.rows_loaded, result.rows_quarantined, result.summary_rows,
         result.min_date, result.max_date,
         "; ".join(m for m in (result.message, result.notes) if m) or None, now,
         result.rows_duplicate, "\n".join(result.warnings) or None],
    )


def _add_missing_columns(con, table: str, frame: pl.DataFrame) -> None:
    existing = {
        r[0] for r in con.execute(
            "select column_name from information_schema.columns "
            "where table_schema = 'raw' and table_name = ?", [table]
        ).fetchall()
    }
    for name in frame.columns:
        if name not in existing:
            # Unknown vendor columns are kept, as text.
            con.execute(f'alter table raw.{table} add column "{name}" varchar')


def _drop_repeats(frame: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(rows to keep, exact repeats with the row they repeat): every cell equal."""
    cells = [n for n in frame.columns if n != ROW]
    if not cells or not frame.height:
        return frame, frame.head(0).select(ROW).with_columns(pl.col(ROW).alias("_first"))
    key = pl.struct(cells)
    marked = frame.with_columns(pl.col(ROW).min().over(key).alias("_first"),
                                (~key.is_first_distinct()).alias("_repeat"))
    repeats = marked.filter(pl.col("_repeat")).select(ROW, "_first")
    return marked.filter(~pl.col("_repeat")).drop("_first", "_repeat"), repeats


def _repeats_message(repeats: pl.DataFrame) -> str:
    n = repeats.height
    rows = repeats.get_column(ROW).to_list()
    firsts = sorted(set(repeats.get_column("_first").to_list()))
    return (f"{n} exact repeat{'s' if n > 1 else ''} of earlier rows loaded once "
            f"({rows_text(rows)} repeat{'s' if n == 1 else ''} {rows_text(firsts)})")


@dataclass
class PreparedFile:
    """A landing file read and parsed, not yet written: what `prepare_file` hands to
    `commit_file`. `result` is the FileResult to record (status "loaded" or "rejected");
    `good` and `quarantine` are the rows for `raw.<table>` and `raw.quarantine` (None
    when the file is rejected); size, mtime and now go to `raw.load_log`."""

    spec: SourceSpec
    result: FileResult
    size: int
    mtime: datetime
    now: datetime
    good: pl.DataFrame | None = None
    quarantine: pl.DataFrame | None = None


def prepare_file(spec: SourceSpec, path: Path, data: bytes, *, landing: Path, run_id: str,
                 timezone: str, timezone_configured: bool = True,
                 window_start: date = DEFAULT_EXPORT_WINDOW_START,
                 sha: str | None = None) -> PreparedFile:
    """Read and parse one landing file without touching the warehouse (so it can run in
    another thread while the previous file is written). Never raises for bad data: a file
    that cannot be read is a PreparedFile whose result is "rejected", with the reason.

    Settings as in `load_file`; sha: the file's sha256 when the caller has it already.
    Raises AssertionError when rows in != loaded + quarantined + duplicate (a storeops bug).
    """
    rel = path.relative_to(landing).as_posix()
    sha = sha or sha256_of(data)
    now = datetime.now(UTC).replace(tzinfo=None)
    mtime = datetime.fromtimestamp(path.stat().st_mtime, UTC).replace(tzinfo=None)
    try:
        text = xlsx_to_text(data, rel) if path.suffix.lower() == ".xlsx" else decode(data, rel)
        if not text.strip():
            raise FileRejected(f"{rel} is empty")
        if spec.shares_folder:
            # Raises with the list of files this folder expects when the header fits none.
            spec_for_shared_folder([s for s in SPECS if s.folder == spec.folder], text, rel)
        read, bad_lines = _read(spec, text, rel)
        if spec.needs_snapshot_date or spec.snapshot_date_or_load_date:
            _add_snapshot_date(spec, read, path, rel, timezone)
        frame, repeats = _drop_repeats(read.frame)
        # `now` is naive UTC; a day of slack for time zones ahead of UTC.
        parsed = parse_frame(spec, frame, read.header, timezone=timezone,
                             not_after=now + timedelta(days=1), window_start=window_start,
                             timezone_configured=timezone_configured,
                             delimiter=read.delimiter, file_name=rel)
    except FileRejected as exc:
        return PreparedFile(spec, FileResult(spec.table, rel, sha, "rejected", message=str(exc)),
                            size=len(data), mtime=mtime, now=now)

    bad = parsed.bad
    if bad_lines:
        bad = pl.concat([bad, pl.DataFrame(bad_lines, schema=bad.schema)])
    good = parsed.good.with_columns(
        pl.lit(rel).alias("_source_file"),
        pl.lit(sha).alias("_file_sha256"),
        pl.lit(now).cast(pl.Datetime("us")).alias("_loaded_at"),
    )
    result = FileResult(
        spec.table, rel, sha, "loaded",
        rows_in=read.rows_in,
        rows_loaded=good.height,
        rows_quarantined=bad.height,
        summary_rows=read.summary_rows,
        rows_duplicate=repeats.height,
        warnings=[f"{rel}: {w}" for w in parsed.warnings],
    )
    # Row conservation: a mismatch here is a bug in storeops, not in the data.
    if result.rows_in != result.rows_loaded + result.rows_quarantined + result.rows_duplicate:
        raise AssertionError(
            f"{rel}: rows in {result.rows_in} != loaded {result.rows_loaded} "
            f"+ quarantined {result.rows_quarantined} + duplicate {result.rows_duplicate}"
        )
    date_columns = [d for d in spec.date_columns if d in good.columns]
    if date_columns and good.height:
        # The row's date: the first non-empty of the date columns (Meta: Day, else
        # Reporting ends).
        days = [good.get_column(d) for d in date_columns]
        days = [d.dt.date() if d.dtype == pl.Datetime else d for d in days]
        dates = pl.select(pl.coalesce(days)).to_series()
        result.min_date, result.max_date = dates.min(), dates.max()
    problems = []
    if read.rows_in == 0:
        problems.append("header only, no data rows")
    if repeats.height:
        problems.append(_repeats_message(repeats))
    if bad.height:
        first = bad.row(0, named=True)
        problems.append(f"{bad.height} row(s) quarantined, first: row {first['source_row']}: "
                        f"{first['reason']}")
    result.message = "; ".join(problems)
    result.notes = "; ".join(read.notes)

    quarantine = bad.with_columns(
        pl.lit(spec.table).alias("source"),
        pl.lit(rel).alias("source_file"),
        pl.lit(sha).alias("file_sha256"),
        pl.lit(run_id).alias("run_id"),
        pl.lit(now).cast(pl.Datetime("us")).alias("quarantined_at"),
    )
    return PreparedFile(spec, result, size=len(data), mtime=mtime, now=now, good=good,
                        quarantine=quarantine)


def commit_file(con: duckdb.DuckDBPyConnection, prepared: PreparedFile, *,
                run_id: str) -> FileResult:
    """Write a prepared file in one transaction: its rows, its quarantined rows and its
    `raw.load_log` line (a rejected file: the log line only, once per reason). A file
    whose content is loaded already by then (the same bytes under another name earlier
    in this batch) is skipped instead. Returns the FileResult."""
    spec, result = prepared.spec, prepared.result
    twin = _already_loaded(con, spec, result.sha256)
    if twin is not None:
        message = "" if twin == result.path else f"same content as {twin}, already loaded"
        return FileResult(spec.table, result.path, result.sha256, "skipped", message=message)
    log = {"run_id": run_id, "size": prepared.size, "mtime": prepared.mtime, "now": prepared.now}
    if result.status == "rejected":
        if not _already_rejected(con, result.sha256, result.message):
            con.execute("begin")
            _log(con, result, **log)
            con.execute("commit")
        return result
    good, quarantine = prepared.good, prepared.quarantine
    con.execute("begin")
    try:
        if good.height:
            _add_missing_columns(con, spec.table, good)
            con.register("incoming_rows", good.to_arrow())
            con.execute(f"insert into raw.{spec.table} by name select * from incoming_rows")
            con.unregister("incoming_rows")
            failpoints.hit("ingest")  # crash tests: killed mid-transaction
        if quarantine.height:
            con.register("incoming_bad", quarantine.to_arrow())
            con.execute("insert into raw.quarantine by name select * from incoming_bad")
            con.unregister("incoming_bad")
        _log(con, result, **log)
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise
    return result


def load_file(con: duckdb.DuckDBPyConnection, spec: SourceSpec, path: Path, data: bytes, *,
              landing: Path, run_id: str, timezone: str, timezone_configured: bool = True,
              window_start: date = DEFAULT_EXPORT_WINDOW_START) -> FileResult:
    """Load one file in one transaction (`prepare_file`, then `commit_file`). Returns what
    happened; never raises for bad data.

    timezone_configured: whether storeops.yml sets the timezone (the timezone warning
    says which); window_start: the setting export_window_start (rows dated before it are
    quarantined)."""
    sha = sha256_of(data)
    twin = _already_loaded(con, spec, sha)
    if twin is not None:
        rel = path.relative_to(landing).as_posix()
        message = "" if twin == rel else f"same content as {twin}, already loaded"
        return FileResult(spec.table, rel, sha, "skipped", message=message)
    prepared = prepare_file(spec, path, data, landing=landing, run_id=run_id, timezone=timezone,
                            timezone_configured=timezone_configured, window_start=window_start,
                            sha=sha)
    return commit_file(con, prepared, run_id=run_id)


def _claims(spec: SourceSpec, path: Path, data: bytes, rel: str) -> bool:
    """In a folder shared by several entities, does this file belong to `spec`?

    A file that matches none is claimed by the folder's first spec, so it is reported
    (rejected, with the reason) exactly once.
    """
    siblings = [s for s in SPECS if s.folder == spec.folder]
    try:
        text = decode(data, rel)
        return spec_for_shared_folder(siblings, text, rel) is spec
    except FileRejected:
        return siblings[0] is spec


# Files parsed ahead of the one being written: parsing (polars) and writing (DuckDB) both
# release the GIL, so a folder of many files loads in about the time of the slower of the
# two instead of their sum. One file ahead: the frames of two files are in memory at once.
PARSE_AHEAD = 1


def ingest_source(con: duckdb.DuckDBPyConnection, landing: Path, spec: SourceSpec, *,
                  run_id: str, timezone: str, timezone_configured: bool = True,
                  window_start: date = DEFAULT_EXPORT_WINDOW_START,
                  on_file: Callable[[FileResult], None] | None = None) -> SourceResult:
    """Load every new file of one raw table's landing folder (settings: see load_file).

    Files are written one at a time in name order, each in its own transaction, while the
    next one (PARSE_AHEAD) is read and parsed in a worker thread; the outcome is the same
    as loading them one by one with `load_file`."""
    ensure_schema(con)
    result = SourceResult(spec.table)
    loaded = dict(con.execute(
        "select file_sha256, any_value(source_file) from raw.load_log "
        "where source = ? and status = 'loaded' group by file_sha256", [spec.table]).fetchall())

    def prepare(path: Path) -> PreparedFile | FileResult | None:
        data = path.read_bytes()
        rel = path.relative_to(landing).as_posix()
        if spec.shares_folder and not _claims(spec, path, data, rel):
            return None
        sha = sha256_of(data)
        if sha in loaded:
            twin = loaded[sha]
            message = "" if twin == rel else f"same content as {twin}, already loaded"
            return FileResult(spec.table, rel, sha, "skipped", message=message)
        return prepare_file(spec, path, data, landing=landing, run_id=run_id,
                            timezone=timezone, timezone_configured=timezone_configured,
                            window_start=window_start, sha=sha)

    def finish(outcome: PreparedFile | FileResult | None) -> None:
        if outcome is None:
            return
        file_result = (commit_file(con, outcome, run_id=run_id)
                       if isinstance(outcome, PreparedFile) else outcome)
        result.files.append(file_result)
        if on_file:
            on_file(file_result)

    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="ingest-parse") as pool:
        pending: deque[Future] = deque()
        try:
            for path in landing_files(landing, spec):
                pending.append(pool.submit(prepare, path))
                while len(pending) > PARSE_AHEAD:
                    finish(pending.popleft().result())
            while pending:
                finish(pending.popleft().result())
        finally:
            for future in pending:
                future.cancel()
    result.total_rows = con.execute(f"select count(*) from raw.{spec.table}").fetchall()[0][0]
    if spec.date_columns:
        # The row's date: the first non-empty of the date columns (Meta: Day, else
        # Reporting ends), so freshness reads a report's end, not its start.
        day = ", ".join(f'"{d}"' for d in spec.date_columns)
        last = con.execute(f"select max(coalesce({day}, null)) from raw.{spec.table}"
                           ).fetchall()[0][0]
        result.last_date = last.date() if isinstance(last, datetime) else last
    return result


def ingest_landing(con: duckdb.DuckDBPyConnection, landing: Path, *, run_id: str,
                   timezone: str, tables: Iterable[str] | None = None,
                   timezone_configured: bool = True,
                   window_start: date = DEFAULT_EXPORT_WINDOW_START) -> list[SourceResult]:
    """Load every new file of every source (or of `tables`)."""
    wanted = set(tables) if tables is not None else None
    return [
        ingest_source(con, landing, spec, run_id=run_id, timezone=timezone,
                      timezone_configured=timezone_configured, window_start=window_start)
        for spec in SPECS
        if wanted is None or spec.table in wanted
    ]


def quarantine_preview(con: duckdb.DuckDBPyConnection, table: str, limit: int = 5) -> list[dict]:
    rows = con.execute(
        "select source_file, source_row, column_name, reason from raw.quarantine "
        "where source = ? order by quarantined_at desc, source_file, source_row limit ?",
        [table, limit],
    ).fetchall()
    return [dict(zip(["file", "row", "column", "reason"], r)) for r in rows]


__all__ = [
    "FileResult", "PreparedFile", "SourceResult", "commit_file", "ensure_schema",
    "ingest_landing", "ingest_source", "load_file", "prepare_file", "quarantine_preview",
]
