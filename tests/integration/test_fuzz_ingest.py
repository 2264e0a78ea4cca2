"""Fuzz the loader with mutated vendor files: nothing raises, nothing is lost or doubled.

Base material is the demo generator's landing folder (one small file per source). Each
example mutates one file the way exports go wrong in practice (cut off, re-saved by
Excel with `;`, re-encoded, columns moved or renamed, numbers and dates mangled, a file
in the wrong folder), puts it next to one untouched valid file of another source, runs
`ingest_landing` on a fresh DuckDB file and checks the landing contract:

1. no exception escapes;
2. the mutated file has one `raw.load_log` row, loaded or rejected; a rejection says
   what is wrong in words (no traceback, no exception repr);
3. rows in = loaded + quarantined, `rows_in` matches an independent count of the CSV
   records, and `raw.quarantine` holds exactly `rows_quarantined` rows for the file;
   a Shopify order is loaded whole or quarantined whole;
4. the untouched neighbour loads all its rows.
"""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from orchestration.ingest.loader import ingest_landing
from orchestration.ingest.readers import _header_fields, _normalise_header
from quality.specs import SPECS, SPECS_BY_TABLE, SourceSpec

pytestmark = pytest.mark.integration

DATA_LINES = 50  # records kept per base file, so each example runs in well under a second
# CI runs a fixed, derandomized sample; FUZZ_EXAMPLES=2000 FUZZ_RANDOM=1 explores further.
MAX_EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "120"))
DERANDOMIZE = not os.environ.get("FUZZ_RANDOM")
RESULTS = Path(__file__).resolve().parents[2] / "benchmarks" / "results" / "fuzz.json"


@dataclass(frozen=True)
class Base:
    table: str
    folder: str
    name: str
    data: bytes = field(repr=False)
    rows: int = 0  # rows the untouched file loads


@dataclass
class Mutated:
    base: Base
    folder: str  # where it is put (differs from base.folder for the wrong-folder case)
    data: bytes = field(repr=False)
    kinds: list[str] = field(default_factory=list)
    preserving: bool = True  # the file still means the same thing: it must load every row
    must_reject_naming: str | None = None  # a required column dropped: the message names it


def _cut_records(spec: SourceSpec, text: str) -> str:
    """The title lines, header and first DATA_LINES records (plus vendor footers)."""
    if spec.file_format == "jsonl":
        return "".join(text.splitlines(keepends=True)[:DATA_LINES])
    lines = text.splitlines(keepends=True)
    reader = csv.reader(lines)
    kept_until, records, header_seen = 0, 0, False
    footer: list[str] = []
    for record in reader:
        if not header_seen:
            header_seen = len(record) > 1
            kept_until = reader.line_num
            continue
        if spec.summary_row_prefix and record and record[0].startswith(spec.summary_row_prefix):
            footer.append(lines[reader.line_num - 1])
            continue
        if records < DATA_LINES:
            records += 1
            kept_until = reader.line_num
    return "".join(lines[:kept_until]) + "".join(footer)


@cache
def base_files() -> dict[str, Base]:
    """One small valid file per source the demo store writes, and the rows each loads."""
    from orchestration.demo import generate_store

    work = Path(tempfile.mkdtemp(prefix="storeops-fuzz-"))
    generate_store(work / "home", scale=0.02, days=60, seed=1)
    landing = work / "home" / "landing"
    bases: dict[str, Base] = {}
    for spec in SPECS:
        folder = landing / spec.folder
        if not folder.is_dir():
            continue
        for path in sorted(folder.iterdir()):
            if spec.shares_folder and path.stem != spec.table.split("_", 1)[1]:
                continue
            raw = path.read_bytes()
            bom = b"\xef\xbb\xbf" if raw.startswith(b"\xef\xbb\xbf") else b""
            text = _cut_records(spec, raw.decode("utf-8-sig"))
            bases[spec.table] = Base(spec.table, spec.folder, path.name,
                                     bom + text.encode(), rows=0)
            break
    # What each base file loads alone: the neighbour check compares against this.
    for table, base in list(bases.items()):
        result = _ingest({(base.folder, base.name): base.data}, work / table)
        (file_result,) = [f for r in result for f in r.files]
        assert file_result.status == "loaded" and file_result.rows_quarantined == 0, file_result
        bases[table] = Base(base.table, base.folder, base.name, base.data,
                            rows=file_result.rows_loaded)
    shutil.rmtree(work / "home")
    return bases


def _ingest(files: dict[tuple[str, str], bytes], where: Path, con=None):
    landing = where / "landing"
    for (folder, name), data in files.items():
        (landing / folder).mkdir(parents=True, exist_ok=True)
        (landing / folder / name).write_bytes(data)
    own = con is None
    con = con or duckdb.connect(str(where / "warehouse.duckdb"))
    try:
        return ingest_landing(con, landing, run_id="fuzz", timezone="America/New_York")
    finally:
        if own:
            con.close()


# ---- mutations ------------------------------------------------------------------------

TABLES = [s.table for s in SPECS if s.table != "approvals_reorder_lines"]
HUGE_OR_ODD_NUMBERS = ["1e308", "1" + "0" * 40, "-" + "9" * 25, "-3", "-0.01", "NaN", "nan",
                       "inf", "", "  ", "twelve", "12 units", "1.2.3", "--5", "0x1F"]
OTHER_DATES = ["11/22/2026", "22.11.2026", "2026-11-22T10:00:00+05:30", "1795000000",
               "22/11/2026", "Nov 22 2026", "2026-13-45", "garbage", "", "0000-00-00"]


def _text(data: bytes) -> str | None:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return None


def _records(text: str, delimiter: str = ",") -> list[list[str]]:
    return list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))


def _write(records: list[list[str]], delimiter: str = ",") -> str:
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter, lineterminator="\n").writerows(records)
    return buffer.getvalue()


def _header_at(records: list[list[str]]) -> int | None:
    return next((i for i, r in enumerate(records) if len(r) > 1), None)


@st.composite
def truncated(draw, m: Mutated) -> Mutated:
    data = m.data
    # Favour the interesting cuts: inside a quoted field, inside a UTF-8 character.
    quoted = [i + 1 for i, b in enumerate(data) if b == ord('"')]
    mid_char = [i for i, b in enumerate(data) if b & 0xC0 == 0x80]
    where = draw(st.sampled_from(["anywhere", "quoted", "mid_char", "line_end"]))
    pool = {"quoted": quoted, "mid_char": mid_char,
            "line_end": [i + 1 for i, b in enumerate(data) if b == ord("\n")]}.get(where)
    offset = draw(st.sampled_from(pool) if pool else st.integers(0, len(data)))
    m.data, m.preserving = data[:offset], False
    m.kinds.append(f"truncate:{where}")
    return m


@st.composite
def redelimited(draw, m: Mutated) -> Mutated:
    text = _text(m.data)
    if text is None or m.base.table == "gorgias_tickets":
        return m
    delimiter = draw(st.sampled_from([";", "\t"]))
    scope = draw(st.sampled_from(["whole", "header_only", "header_then_nothing"]))
    records = _records(text)
    h = _header_at(records)
    if h is None:  # an earlier mutation left no comma-separated header
        return m
    if scope == "whole":
        new = _write(records, delimiter)
    elif scope == "header_only":
        # Someone fixed the header in a text editor; the body still has commas.
        new = _write(records[:h]) + _write(records[h:h + 1], delimiter) + _write(records[h + 1:])
        m.preserving = False
    else:
        new = _write(records[:h]) + _write(records[h:h + 1], delimiter)
        m.preserving = False
    m.data = new.encode()
    m.kinds.append(f"delimiter:{delimiter!r}:{scope}")
    return m


@st.composite
def reencoded(draw, m: Mutated) -> Mutated:
    text = _text(m.data)
    how = draw(st.sampled_from(["utf16", "latin1", "invalid_bytes"]))
    if how == "utf16" and text is not None:
        m.data = text.encode("utf-16")  # with BOM, as Excel's "Unicode text"
    elif how == "latin1" and text is not None:
        lines = text.splitlines(keepends=True)
        i = draw(st.integers(0, len(lines) - 1))
        lines[i] = lines[i].replace("e", "é", 1).replace("a", "ñ", 1)
        m.data = "".join(lines).encode("latin-1", errors="replace")
        m.preserving = False
    else:
        data = bytearray(m.data)
        for _ in range(draw(st.integers(1, 3))):
            at = draw(st.integers(0, len(data)))
            data[at:at] = draw(st.sampled_from([b"\xff", b"\xfe", b"\x80", b"\xc3(", b"\xff\xfe",
                                                b"\x00", b"\xed\xa0\x80"]))
        m.data, m.preserving = bytes(data), False
        how = "invalid_bytes"
    m.kinds.append(f"encoding:{how}")
    return m


@st.composite
def reshaped_columns(draw, m: Mutated) -> Mutated:
    text = _text(m.data)
    if text is None or m.base.table == "gorgias_tickets":
        return m
    spec = SPECS_BY_TABLE[m.base.table]
    records = _records(text)
    h = _header_at(records)
    if h is None:  # an earlier mutation left no comma-separated header
        return m
    header = records[h]
    width = len(header)
    how = draw(st.sampled_from(["shuffle", "rename_case", "rename_unknown", "drop_required"]))
    if how == "shuffle":
        order = draw(st.permutations(range(width)))
        records[h:] = [[r[i] if i < len(r) else "" for i in order] if len(r) > 1 else r
                       for r in records[h:]]
        if spec.summary_row_prefix:
            # A reordered Google report still writes its `Total: …` label in the first cell.
            for r in records[h + 1:]:
                at = next((k for k, v in enumerate(r) if v.startswith(spec.summary_row_prefix)),
                          None)
                if at:
                    r[0], r[at] = r[at], r[0]
    elif how == "rename_case":
        i = draw(st.integers(0, width - 1))
        style = draw(st.sampled_from(["lower", "upper", "title", "pad", "double_space"]))
        name = header[i]
        header[i] = {"lower": name.lower(), "upper": name.upper(), "title": name.title(),
                     "pad": f"  {name} ", "double_space": name.replace(" ", "  ")}[style]
    else:
        names, _ = _normalise_header(spec, header)
        required = {c.name for c in spec.columns if c.required and c.name != "as_of"}
        candidates = [i for i, n in enumerate(names) if n in required] if how == "drop_required" \
            else list(range(width))
        if not candidates:
            return m
        i = draw(st.sampled_from(candidates))
        if how == "rename_unknown":
            header[i] = draw(st.sampled_from(["Column 7", "x", "Unnamed: 3", "Ünïcode ✓"]))
            m.preserving = False
        else:
            m.must_reject_naming, m.preserving = header[i].strip(), False
            if spec.currency_in_header and names[i] == spec.currency_in_header[1]:
                # Meta's spend column is named with a currency the missing column cannot
                # tell: the message names it as 'Amount spent (CUR)'.
                m.must_reject_naming = f"{spec.currency_in_header[0]} (CUR)"
            records[h:] = [r[:i] + r[i + 1:] for r in records[h:]]
    m.data = _write(records).encode()
    m.kinds.append(f"columns:{how}")
    return m


@st.composite
def rows_mangled(draw, m: Mutated) -> Mutated:
    text = _text(m.data)
    if text is None or m.base.table == "gorgias_tickets":
        return m
    records = _records(text)
    h = _header_at(records)
    if h is None:  # an earlier mutation left no comma-separated header
        return m
    how = draw(st.sampled_from(["duplicate_header", "blank_lines", "total_footer"]))
    at = draw(st.integers(h + 1, len(records)))
    if how == "duplicate_header":
        records.insert(at, list(records[h]))
    elif how == "blank_lines":
        for _ in range(draw(st.integers(1, 3))):
            records.insert(draw(st.integers(h + 1, len(records))), [])
    else:
        # A vendor's total: the marker, empty dimensions and a figure in the last column
        # (a "Total" row with a dimension filled in is data: README, the landing contract).
        records.append(["Total:"] + [""] * max(len(records[h]) - 2, 0)
                       + [str(draw(st.integers(-10**6, 10**6)))])
    m.data, m.preserving = _write(records).encode(), m.preserving and how == "blank_lines"
    m.kinds.append(f"rows:{how}")
    return m


@st.composite
def cells_mangled(draw, m: Mutated) -> Mutated:
    text = _text(m.data)
    spec = SPECS_BY_TABLE[m.base.table]
    if text is None or spec.file_format == "jsonl":
        return m
    records = _records(text)
    h = _header_at(records)
    if h is None:  # an earlier mutation left no comma-separated header
        return m
    names, _ = _normalise_header(spec, records[h])
    kinds = {c.name: c.kind for c in spec.columns}
    numeric = [i for i, n in enumerate(names) if kinds.get(n) in ("int", "money", "number",
                                                                  "percent")]
    dates = [i for i, n in enumerate(names) if kinds.get(n, "").startswith(("date", "timestamp"))]
    data_rows = [j for j in range(h + 1, len(records)) if len(records[j]) == len(names)]
    if not data_rows:
        return m
    for _ in range(draw(st.integers(1, 4))):
        what = draw(st.sampled_from(["number", "date"]))
        columns, values = (numeric, HUGE_OR_ODD_NUMBERS) if what == "number" else (dates, OTHER_DATES)
        if not columns:
            continue
        j, i = draw(st.sampled_from(data_rows)), draw(st.sampled_from(columns))
        records[j][i] = draw(st.sampled_from(values))
        m.kinds.append(f"cell:{what}")
    m.data, m.preserving = _write(records).encode(), False
    return m


@st.composite
def wrong_folder(draw, m: Mutated) -> Mutated:
    others = sorted({s.folder for s in SPECS if s.folder not in (m.base.folder, "approvals")})
    m.folder = draw(st.sampled_from(others))
    m.preserving = False
    m.kinds.append(f"folder:{m.folder}")
    return m


MUTATIONS = [truncated, redelimited, reencoded, reshaped_columns, rows_mangled, cells_mangled,
             wrong_folder]
# Byte-level mutations go last: a text mutation cannot be applied to bytes it cannot decode.
ORDER = {truncated: 2, reencoded: 1, wrong_folder: 0}


@st.composite
def cases(draw):
    bases = base_files()
    table = draw(st.sampled_from(TABLES))
    base = bases[table]
    m = Mutated(base, base.folder, base.data)
    chosen = draw(st.lists(st.sampled_from(MUTATIONS), min_size=1, max_size=2, unique=True))
    for mutation in sorted(chosen, key=lambda f: ORDER.get(f, -1)):
        m = draw(mutation(m))
    neighbours = [t for t in TABLES
                  if t != table and (bases[t].folder, bases[t].name) != (m.folder, base.name)]
    return m, bases[draw(st.sampled_from(neighbours))]


# ---- checks ---------------------------------------------------------------------------

STATS = {"cases": 0, "files_loaded": 0, "files_rejected": 0, "rows_in": 0, "rows_loaded": 0,
         "rows_quarantined": 0, "rows_lost": 0, "rows_doubled": 0, "rejections": {},
         "mutations": {}}


def _independent_count(spec: SourceSpec, data: bytes, notes: str) -> int | None:
    """Data records in a CSV, counted with the csv module (None when it does not decode)."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            text = data.decode("utf-16")
        except UnicodeDecodeError:
            return None
    else:
        text = _text(data)
    if text is None:
        return None
    delimiter = ";" if "delimiter ';'" in notes else "\t" if "delimiter '\\t'" in notes else ","
    header_line = next((ln for ln in text.splitlines() if len(_header_fields(ln)[0]) > 1), None)
    records = _records(text, delimiter)
    # Header: the first record with more than one cell (Google's title lines have one).
    h = next((i for i, r in enumerate(records) if len(r) > 1), None)
    if h is None or header_line is None:
        return None
    data_records = [r for r in records[h + 1:] if any(cell.strip() for cell in r)]
    if spec.summary_row_prefix:
        data_records = [r for r in data_records
                        if not r[0].strip().startswith(spec.summary_row_prefix)]
    return len(data_records)


def _check(con, results, m: Mutated, neighbour: Base) -> None:
    files = [f for r in results for f in r.files]
    by_path = {f.path: f for f in files}
    path = f"{m.folder}/{m.base.name}"
    mutated = by_path[path]
    STATS["cases"] += 1
    for kind in m.kinds:
        kind = kind.split(":")[0] + ":" + kind.split(":")[-1] if kind.count(":") > 1 else kind
        STATS["mutations"][kind] = STATS["mutations"].get(kind, 0) + 1

    # 2. One load_log row, loaded or rejected, with a message a person can act on.
    log = con.execute("select source, status, rows_in, rows_loaded, rows_quarantined, message, "
                      "coalesce(rows_duplicate, 0) from raw.load_log where source_file = ?",
                      [path]).fetchall()
    assert len(log) == 1, (m.kinds, log)
    source, status, rows_in, rows_loaded, rows_quarantined, message, repeats = log[0]
    assert status in ("loaded", "rejected"), (m.kinds, log)
    if status == "rejected":
        STATS["files_rejected"] += 1
        assert message and message.strip(), (m.kinds, log)
        assert "Traceback" not in message and "Error(" not in message, (m.kinds, message)
        # Parser internals are not something a person can act on.
        assert not any(w in message for w in ("dtype", "row_offset", "codec", "0x0")), \
            (m.kinds, message)
        assert path in message, (m.kinds, message)  # it says which file
        reason = message.split(path, 1)[1].split(":", 1)[0].split("(", 1)[0].strip()[:40]
        STATS["rejections"][reason] = STATS["rejections"].get(reason, 0) + 1
        assert rows_loaded == 0 and rows_quarantined == 0
        assert con.execute("select count(*) from raw.quarantine where source_file = ?",
                           [path]).fetchall()[0][0] == 0
    else:
        STATS["files_loaded"] += 1
    alone = len(m.kinds) == 1  # a second mutation may fail the file earlier, for its own reason
    if m.must_reject_naming and alone:
        assert status == "rejected", (m.kinds, log)
        assert repr(m.must_reject_naming) in message or m.must_reject_naming in message, \
            (m.kinds, message)
    if m.preserving and m.folder == m.base.folder:
        # Same data, differently written: it must load every row.
        assert (status, rows_loaded, rows_quarantined) == ("loaded", m.base.rows, 0), \
            (m.kinds, log)
    if m.folder != m.base.folder and status == "rejected" and alone:
        assert any(words in message for words in ("move it to", "is not a", "matches none",
                                                  "not JSON lines", "cannot tell")), \
            (m.kinds, message)

    # 3. Conservation, against the log, the quarantine table and an independent count.
    spec = SPECS_BY_TABLE[source]
    if status == "loaded":
        STATS["rows_in"] += rows_in
        STATS["rows_loaded"] += rows_loaded
        STATS["rows_quarantined"] += rows_quarantined
        # Exact repeats of an earlier row of the file load once (counted in rows_duplicate):
        # rows in = loaded + quarantined + repeats.
        lost = rows_in - rows_loaded - rows_quarantined - repeats
        STATS["rows_lost"] += max(lost, 0)
        STATS["rows_doubled"] += max(-lost, 0)
        assert lost == 0, (m.kinds, log)
        in_table = con.execute(f"select count(*), count(distinct _source_row) from "
                               f"raw.{spec.table} where _source_file = ?", [path]).fetchall()[0]
        quarantined = con.execute("select count(*), count(distinct source_row) from "
                                  "raw.quarantine where source_file = ?", [path]).fetchall()[0]
        assert in_table == (rows_loaded, rows_loaded), (m.kinds, in_table, log)
        assert quarantined == (rows_quarantined, rows_quarantined), (m.kinds, quarantined, log)
        overlap = con.execute(
            f"select count(*) from raw.{spec.table} t join raw.quarantine q "
            f"on q.source_file = t._source_file and q.source_row = t._source_row "
            f"where t._source_file = ?", [path]).fetchall()[0][0]
        assert overlap == 0, (m.kinds, "a row both loaded and quarantined")
        if spec.file_format == "csv":
            counted = _independent_count(spec, m.data, mutated.notes)
            if counted is not None:
                assert rows_in == counted, (m.kinds, rows_in, counted, log)
        if spec.group_by:
            # A Shopify order loads whole or is quarantined whole (lines are grouped by the
            # Name as written in this file; an empty Name is its own bad line).
            loaded_names = {r[0] for r in con.execute(
                f'select distinct "{spec.group_by}" from raw.{spec.table} where _source_file = ?',
                [path]).fetchall()}
            for (original,) in con.execute("select original_row from raw.quarantine "
                                           "where source_file = ?", [path]).fetchall():
                row = json.loads(original)
                name = next((v for k, v in row.items() if k.strip().lower() == "name"), None)
                if name and name.strip():
                    assert name.strip() not in loaded_names, (m.kinds, name)

    # 4. The untouched neighbour loads every row.
    npath = f"{neighbour.folder}/{neighbour.name}"
    nresult = by_path[npath]
    assert (nresult.status, nresult.rows_loaded, nresult.rows_quarantined) == \
        ("loaded", neighbour.rows, 0), (m.kinds, nresult)
    assert len(files) == 2, (m.kinds, [(f.path, f.status) for f in files])


@settings(max_examples=MAX_EXAMPLES, deadline=None, derandomize=DERANDOMIZE,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.data_too_large])
@given(case=cases())
def test_mutated_vendor_files_never_raise_lose_or_double_rows(case):
    m, neighbour = case
    where = Path(tempfile.mkdtemp(prefix="storeops-fuzz-case-"))
    try:
        files = {(m.folder, m.base.name): m.data, (neighbour.folder, neighbour.name): neighbour.data}
        con = duckdb.connect(str(where / "warehouse.duckdb"))
        try:
            results = _ingest(files, where, con)  # 1. a raised exception fails the example
            _check(con, results, m, neighbour)
        finally:
            con.close()
    finally:
        shutil.rmtree(where, ignore_errors=True)


def test_fuzz_figures_are_recorded():
    """Runs after the fuzz test (file order): records what was tried, for benchmarks/."""
    assert STATS["cases"] > 0
    assert STATS["rows_lost"] == 0 and STATS["rows_doubled"] == 0
    figures = {**STATS, "max_examples": MAX_EXAMPLES, "data_lines_per_file": DATA_LINES,
               "sources": len(TABLES), "recorded_at": time.strftime("%Y-%m-%d")}
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(figures, indent=2, sort_keys=True) + "\n")
    print(json.dumps(figures, indent=2))
