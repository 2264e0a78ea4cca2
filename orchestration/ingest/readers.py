"""Turn one landing file into a frame of strings, undoing the vendors' file quirks.

Readers do not type anything: every cell stays the text the vendor wrote, so a cell
that later fails to parse can be quarantined exactly as it was. What they do undo:
byte-order marks, UTF-16 exports, `;`/tab delimiters, title lines above the header
(Google Ads), vendor summary rows (Google Ads `Total: Account`, the `Total` row of
storeops' own XLSX), blank lines, the currency written in a
column name (Meta's `Amount spent (EUR)`), and nested JSON (Gorgias).
"""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass, field

import polars as pl

from quality.specs import SPECS, SourceSpec, snake

ROW = "_source_row"


class FileRejected(Exception):
    """The whole file cannot be loaded; the message says why and what to do."""


@dataclass
class ReadResult:
    frame: pl.DataFrame  # all columns Utf8 (snake_case names) + _source_row (1-based data row)
    header: list[str]  # the vendor header as written
    rows_in: int  # data rows read (blank lines and vendor summary rows excluded)
    summary_rows: int = 0  # vendor footer rows (Google's `Total: …`) that carry no data
    notes: list[str] = field(default_factory=list)
    # Rows the reader itself refuses (quarantine records, counted in rows_in).
    bad_rows: list[dict] = field(default_factory=list)
    delimiter: str = ","  # the CSV delimiter (";" hints at a decimal-comma locale)


def decode(data: bytes, file_name: str) -> str:
    """Bytes -> text. UTF-8 (with or without BOM) and UTF-16 with BOM; anything else is refused."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError as exc:
            # An odd byte count or half a surrogate pair: the download was cut off.
            where = "ends in the middle of a character" if exc.end >= len(data) \
                else f"has an invalid UTF-16 sequence at byte {exc.start}"
            raise FileRejected(
                f"{file_name} starts like UTF-16 text but {where}; the file looks damaged "
                "or cut off: export or download it again"
            ) from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        if exc.end >= len(data) and len(data) - exc.start < 4 and data[exc.start] >= 0xC0:
            # The first byte of a multi-byte character with nothing after it.
            raise FileRejected(
                f"{file_name} ends in the middle of a character (line {line}): the file looks "
                "cut off; export or download it again"
            ) from None
        raise FileRejected(
            f"{file_name} is not UTF-8 text (byte 0x{data[exc.start]:02x} on line {line}); "
            "export it again as UTF-8 (Excel: 'CSV UTF-8')"
        ) from None
    if "\x00" in text:
        raise FileRejected(f"{file_name} contains NUL bytes: it is binary, not a text export")
    return text


def xlsx_to_text(data: bytes, file_name: str) -> str:
    """An XLSX workbook as CSV text: the "All lines" sheet if there is one, else the first."""
    import openpyxl

    try:
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # noqa: BLE001 (openpyxl raises many types for a damaged file)
        raise FileRejected(f"{file_name} is not a readable XLSX workbook ({exc})") from None
    sheet = book["All lines"] if "All lines" in book.sheetnames else book.worksheets[0]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    for row in sheet.iter_rows(values_only=True):
        writer.writerow(["" if v is None else v.isoformat() if hasattr(v, "isoformat") else v
                         for v in row])
    book.close()
    return buffer.getvalue()


def _header_fields(line: str) -> tuple[list[str], str]:
    """Fields of a header line and the delimiter that splits it best."""
    best: tuple[list[str], str] = ([line], ",")
    for delimiter in (",", ";", "\t"):
        fields = next(csv.reader([line], delimiter=delimiter), [])
        if len(fields) > len(best[0]):
            best = (fields, delimiter)
    return best


def _normalise_header(spec: SourceSpec, header: list[str]) -> tuple[list[str], str | None]:
    """Vendor header -> raw column names; returns the names and a currency found in the header."""
    # Matched on the snake_case form, so `IMPR.`, `incoming (not editable)` or a doubled
    # space (re-typed or re-saved headers) still find their column.
    vendor_to_name = {snake(v): col.name for col in spec.columns for v in col.vendor}
    currency = None
    names: list[str] = []
    for h in header:
        h = h.strip()
        if spec.currency_in_header and snake(h).startswith(snake(spec.currency_in_header[0])):
            m = re.search(r"\(([A-Za-z]{3})\)\s*$", h)
            if m:
                currency = m.group(1).upper()
                names.append(spec.currency_in_header[1])
                continue
        names.append(vendor_to_name.get(snake(h), snake(h)))
    # Duplicate names (a doubled header cell) would silently overwrite data: number them.
    seen: dict[str, int] = {}
    unique = []
    for n in names:
        if n in seen:
            seen[n] += 1
            unique.append(f"{n}_{seen[n]}")
        else:
            seen[n] = 0
            unique.append(n)
    return unique, currency


def missing_required(spec: SourceSpec, names: list[str]) -> list[str]:
    have = set(names)
    missing = []
    for col in spec.columns:
        if not col.required or col.name in have:
            continue
        if spec.needs_snapshot_date and col.name == "as_of":
            continue
        missing.append(col.vendor[0] if not spec.currency_in_header
                       or col.name != spec.currency_in_header[1]
                       else f"{spec.currency_in_header[0]} (CUR)")
    return missing


def _required_count(spec: SourceSpec) -> int:
    return sum(c.required and not (spec.needs_snapshot_date and c.name == "as_of")
               for c in spec.columns)


def guess_source(header: list[str], *, exclude: SourceSpec | None = None) -> SourceSpec | None:
    """The spec whose required columns this header has (used to explain misplaced files).

    With `exclude`, only a spec that explains the header better than `exclude` does: one
    with more required columns than `exclude` has in this header. An orders export that
    lost its Name column is a broken orders export, not a customers export (it has Email).
    """
    floor = 0
    if exclude is not None:
        names, _ = _normalise_header(exclude, header)
        floor = _required_count(exclude) - len(missing_required(exclude, names))
    for spec in SPECS:
        if spec is exclude:
            continue
        names, _ = _normalise_header(spec, header)
        if not missing_required(spec, names) and (exclude is None
                                                  or _required_count(spec) > floor):
            return spec
    return None


def _find_header(spec: SourceSpec, lines: list[str]) -> int:
    """Index of the header line: the first of the first lines that has the required columns.

    Google Ads puts a report title and a date range above the header.
    """
    best_index, best_missing = 0, None
    for i, line in enumerate(lines[:10]):
        if not line.strip():
            continue
        if not spec.title_lines:
            return i
        fields, _ = _header_fields(line)
        names, _ = _normalise_header(spec, fields)
        missing = len(missing_required(spec, names))
        if missing == 0:
            return i
        if best_missing is None or missing < best_missing:
            best_index, best_missing = i, missing
    return best_index


def _read_csv_lenient(body: str, names: list[str], delimiter: str,
                      file_name: str) -> tuple[pl.DataFrame, bool]:
    """The body (header line first) as a string frame, like polars' with ragged lines cut,
    and whether the last record ran to the end of the file inside an unclosed quote."""
    lines = io.StringIO(body, newline="").readlines()
    reader = csv.reader(lines, delimiter=delimiter)
    records: list[list[str]] = []
    start = last_start = 0  # first line of the current and of the last record
    try:
        for record in reader:
            records.append(record)
            last_start, start = start, reader.line_num
    except csv.Error as exc:
        raise FileRejected(f"{file_name} could not be read as CSV ({exc}); check that it is "
                           "a plain CSV export") from None
    try:
        list(csv.reader(lines[last_start:], delimiter=delimiter, strict=True))
        unclosed = False
    except csv.Error as exc:
        unclosed = "unexpected end of data" in str(exc)
    records = records[1:]
    width = len(names)
    # A blank line is an all-null row, as polars gives it; empty cells are null.
    cells = [[(r[i] if i < len(r) and r[i] != "" else None) for i in range(width)]
             for r in records]
    frame = pl.DataFrame(cells, schema={n: pl.Utf8 for n in names}, orient="row")
    return frame, unclosed and len(records) > 0


def summary_row(spec: SourceSpec, columns: list[str]) -> pl.Expr:
    """True on a vendor summary row, recognised by the vendor's own marker.

    Google Ads ends a report with `Total: Account`, `Total: Campaigns`, … rows whose
    dimension cells (Campaign, Ad group) are empty or Google's `--`; the XLSX storeops
    writes ends with a `Total` row. So: the first cell is the word alone or followed by
    ':', AND every other natural-key column is empty (or `--`). A SKU `TOTALBAG-1`, a
    campaign named `Total reach`, or a `Total` row whose dimensions are filled is data."""
    word = spec.summary_row_prefix or ""
    first = columns[0]
    cell = pl.col(first).str.strip_chars()
    marked = (cell == word) | cell.str.starts_with(word + ":")
    others = [k for k in spec.natural_key
              if not k.startswith("_") and k != first and k in columns]
    empty = [pl.col(k).is_null() | pl.col(k).str.strip_chars().is_in(["", "--", "-"])
             for k in others]
    return pl.all_horizontal([marked, *empty]).fill_null(False)


def read_csv_text(spec: SourceSpec, text: str, file_name: str) -> ReadResult:
    if not text.strip():
        raise FileRejected(f"{file_name} is empty")
    # Only the first lines are split here; the body goes to polars' CSV parser, which
    # handles quoted commas and newlines.
    head_lines = text[:20000].splitlines()
    header_index = _find_header(spec, head_lines)
    header_line = head_lines[header_index]
    fields, delimiter = _header_fields(header_line)
    names, currency = _normalise_header(spec, fields)
    missing = missing_required(spec, names)
    if missing:
        other = guess_source(fields, exclude=spec)
        hint = (f"; it looks like a {other.label}: move it to {other.folder}/"
                if other and other.folder != spec.folder else "")
        raise FileRejected(
            f"{file_name} is not a {spec.label}: missing required column(s) "
            f"{', '.join(repr(m) for m in missing)}{hint}"
        )
    # A Shopify orders export has every column the customers export needs (Email): a file
    # that fits a stricter spec of another folder better is in the wrong folder.
    other = guess_source(fields, exclude=spec)
    if other is not None and other.folder != spec.folder:
        raise FileRejected(f"{file_name} looks like a {other.label}, not a {spec.label}: "
                           f"move it to {other.folder}/")
    notes = []
    if header_index:
        notes.append(f"skipped {header_index} title line(s) above the header")
    if delimiter != ",":
        notes.append(f"delimiter {delimiter!r}")

    # Cut the text at the header line (title lines above it are not data).
    offset = 0
    for _ in range(header_index):
        offset = text.index("\n", offset) + 1
    body = text[offset:]
    try:
        frame = pl.read_csv(
            io.StringIO(body),
            has_header=True,
            new_columns=names,
            separator=delimiter,
            infer_schema=False,
            truncate_ragged_lines=True,
        )
    except pl.exceptions.PolarsError:
        # polars refuses the whole file for one stray or unclosed quote (a cut-off export,
        # a hand-typed `12" frame`); the csv module reads it as Excel does, so the odd row
        # is typed, and quarantined if it does not parse, like any other.
        frame, unclosed = _read_csv_lenient(body, names, delimiter, file_name)
        notes.append("stray or unclosed quote: read with the lenient CSV reader")
    else:
        unclosed = False
    frame = frame.with_row_index(ROW, offset=1).with_columns(pl.col(ROW).cast(pl.Int64))
    value_cols = [n for n in frame.columns if n != ROW]
    last_row = frame.height  # the record that ran into the end of the file, if unclosed
    # Blank lines come through as all-null rows.
    blank = pl.all_horizontal(
        [pl.col(n).is_null() | (pl.col(n).str.strip_chars() == "") for n in value_cols]
    )
    frame = frame.filter(~blank)
    summary = 0
    if spec.summary_row_prefix:
        is_summary = summary_row(spec, value_cols)
        summary = frame.filter(is_summary).height
        frame = frame.filter(~is_summary)
    bad_rows = []
    if unclosed and frame.height and frame[ROW][-1] == last_row:
        # Not a blank line or a vendor footer: a data row cut off mid-field.
        bad_rows.append({
            "source_row": last_row, "column_name": None,
            "reason": "the file ends inside a quoted field that is never closed: it looks cut "
                      "off; export or download it again",
            "original_row": frame.tail(1).select(value_cols).write_json()[1:-1],
        })
        frame = frame.head(-1)
    if currency is not None:
        frame = frame.with_columns(pl.lit(currency).alias("currency"))
    # _source_row is the record's position under the header (1 = first data row), counted
    # before blank lines and footers were dropped, so it points at the row in the file.
    return ReadResult(frame=frame, header=fields, rows_in=frame.height + len(bad_rows),
                      summary_rows=summary, notes=notes, bad_rows=bad_rows,
                      delimiter=delimiter)


def _flatten(obj: dict, prefix: str = "") -> dict[str, str | None]:
    out: dict[str, str | None] = {}
    for key, value in obj.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(_flatten(value, f"{name}_"))
        elif isinstance(value, list):
            # Gorgias tags are objects with a name: keep the names, comma-separated.
            parts = [v.get("name", json.dumps(v)) if isinstance(v, dict) else str(v) for v in value]
            out[name] = ",".join(parts)
        elif value is None:
            out[name] = None
        elif isinstance(value, bool):
            out[name] = "true" if value else "false"
        else:
            out[name] = str(value)
    return out


def read_jsonl_text(spec: SourceSpec, text: str, file_name: str) -> tuple[ReadResult, list[dict]]:
    """JSON lines -> (flattened string rows, unparseable lines as quarantine records)."""
    if not text.strip():
        raise FileRejected(f"{file_name} is empty")
    records: list[dict[str, str | None]] = []
    bad: list[dict] = []
    data_row = 0
    for line in text.splitlines():
        if not line.strip():
            continue
        data_row += 1
        try:
            obj = json.loads(line)
        except ValueError as exc:
            obj, problem = None, f"not valid JSON: {exc}"
        else:
            problem = None if isinstance(obj, dict) else "not a JSON object"
        if problem:
            bad.append({"source_row": data_row, "column_name": None,
                        "reason": problem, "original_row": line})
            continue
        flat = _flatten(obj)
        flat[ROW] = data_row  # type: ignore[assignment]
        records.append(flat)
    if data_row and len(bad) == data_row:
        raise FileRejected(f"{file_name} is not JSON lines: no line parsed as a JSON object "
                           f"(first error: {bad[0]['reason']})")
    columns: list[str] = []
    for r in records:
        for k in r:
            if k not in columns:
                columns.append(k)
    frame = pl.DataFrame(
        {k: [r.get(k) for r in records] for k in columns},
        schema={k: (pl.Int64 if k == ROW else pl.Utf8) for k in columns},
    ) if records else pl.DataFrame(schema={ROW: pl.Int64})
    missing = [col.name for col in spec.columns
               if col.required and col.name not in frame.columns] if records else []
    if missing:
        raise FileRejected(f"{file_name} is not a {spec.label}: its objects lack "
                           f"{', '.join(repr(m) for m in missing)}")
    return ReadResult(frame=frame, header=[c for c in columns if c != ROW],
                      rows_in=data_row), bad


def spec_for_shared_folder(candidates: list[SourceSpec], text: str, file_name: str) -> SourceSpec:
    """Pick which of a folder's entities (suppliers, POs, …) a file is, from its header."""
    first = next((ln for ln in text.splitlines() if ln.strip()), "")
    fields, _ = _header_fields(first)
    for spec in candidates:
        names, _ = _normalise_header(spec, fields)
        if not missing_required(spec, names):
            return spec
    other = guess_source(fields)
    hint = f"; it looks like a {other.label}: move it to {other.folder}/" if other else ""
    expected = "; ".join(
        f"{s.label}: {', '.join(c.vendor[0] for c in s.columns if c.required)}" for s in candidates
    )
    raise FileRejected(f"{file_name} matches none of the files expected here ({expected}){hint}")
