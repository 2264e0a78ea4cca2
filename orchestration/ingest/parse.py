"""Type the string frame a reader produced, and split off the rows that do not parse.

Every known column is parsed with vectorised polars expressions; a cell that is not
empty but does not parse, or a required cell that is empty, sends its row to
quarantine with the column and the reason. Nothing is guessed: a bad cell is never
turned into a null that loads.

Numbers come in any locale. The decimal mark is decided per file and column from the
values themselves (see `decimal_marks`), never assumed, so a European re-save's `12,50`
is 12.50 and not 1250. Vendor placeholders for "no value" load as NULL (see
PLACEHOLDERS). Warnings (a spreadsheet's scientific-notation ids, timestamps whose
offset the store timezone never has) do not stop a row; `Parsed.warnings` carries them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import polars as pl

from orchestration.ingest.readers import ROW, FileRejected
from orchestration.settings import DEFAULT_EXPORT_WINDOW_START
from quality.specs import Column, SourceSpec

MONEY = pl.Decimal(18, 4)
NUMERIC_KINDS = ("int", "money", "number", "percent")

# Cells that mean "no value" in a numeric column: they load as NULL, not quarantined.
# Google Ads writes `--` where a metric has no data (the statistics table and its
# downloads show dashes for unavailable metrics, support.google.com/sa360/answer/9633436)
# and `< 10%` / `> 90%` for impression shares outside 10-90% (the API reports those as
# 0.0999 / 0.9001: "any value below 0.1 is reported as 0.0999", Google Ads API forum);
# Meta and TikTok write `-` or `—` for metrics without results; spreadsheets write N/A.
PLACEHOLDERS = ("--", "-", "—", "–", "n/a", "na", "null", "#n/a")
PLACEHOLDER_SHARE = r"^[<>]\s*\d+(?:[.,]\d+)?\s*%$"  # `< 10%`, `> 90%`

# Formats seen in real exports, tried in order. Day-first formats are not tried: a
# date like 03/04/2026 is ambiguous, and US vendors write month first.
DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%m/%d/%Y", "%B %d, %Y", "%b %d, %Y", "%Y%m%d")
TZ_FORMATS = (
    "%Y-%m-%d %H:%M:%S %z",  # Shopify: 2026-11-01 09:14:55 -0500
    "%Y-%m-%dT%H:%M:%S%.f%:z",  # Gorgias / ISO 8601 with offset
    "%Y-%m-%dT%H:%M:%S%:z",
    "%Y-%m-%d %H:%M:%S%z",
)
LOCAL_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S", "%m/%d/%Y %H:%M")

KIND_DTYPES = {
    "text": pl.Utf8, "int": pl.Int64, "money": MONEY, "number": pl.Float64,
    "percent": pl.Float64, "date": pl.Date, "timestamp_tz": pl.Datetime("us"),
    "timestamp_local": pl.Datetime("us"), "bool": pl.Boolean,
}

KIND_WORDS = {
    "int": "a whole number",
    "money": "an amount of money",
    "number": "a number",
    "percent": "a percentage",
    "date": "a date (YYYY-MM-DD)",
    "timestamp_tz": "a timestamp with a UTC offset",
    "timestamp_local": "a timestamp (YYYY-MM-DD HH:MM:SS)",
    "bool": "yes/no",
}


@dataclass
class Parsed:
    good: pl.DataFrame  # typed rows, ready for the raw table
    bad: pl.DataFrame  # source_row, column_name, reason, original_row
    # Sentences about the whole file that do not stop its rows (no file name in them).
    warnings: list[str] = field(default_factory=list)


def _clean(name: str, kind: str = "text") -> pl.Expr:
    s = pl.col(name).str.strip_chars()
    empty = s == ""
    if kind in NUMERIC_KINDS:
        empty = (empty | s.str.to_lowercase().is_in(PLACEHOLDERS)
                 | s.str.contains(PLACEHOLDER_SHARE))
    return pl.when(empty).then(None).otherwise(s)


# --- numbers in any locale ----------------------------------------------------------
#
# A number's text is reduced to its mantissa: currency symbols and codes, the sign,
# accounting parentheses `(12.50)`, a trailing `%` and an exponent go, and space or
# apostrophe thousands groups (`1 204,50`, `1'204.50`) are joined when they are proper
# 3-digit groups. The mantissa then falls in one class:
#   plain      1204            no separator: the same in every locale
#   dot        12.50  1,204.50  1,204,500  .5     the decimal mark is a point
#   comma      12,50  8,4  1.204,50  1.204.500  0,125   the decimal mark is a comma
#   amb_comma  1,204           1204 or 1.204: one comma and exactly 3 digits after it
#   amb_dot    1.204           1204 or 1.204
#   invalid    anything else (quarantined as "not a number")
# `decimal_marks` decides each column's mark from those classes.

_GROUP_SPACE = r"[\s'’]"


def _number_parts(values: pl.Series) -> pl.DataFrame:
    """Per cell of a cleaned numeric column: raw, negative, mantissa `m`, exponent (or
    null), percent (has a % sign) and `cls` (the class above).

    Each step is materialised as a column before the next reads it: written as one
    chained expression, every step repeats the text of the steps before it, and polars'
    planner spent a quarter of a second per column on ten rows (the whole cost of
    loading a small file)."""
    f = pl.DataFrame({"raw": values.cast(pl.Utf8)})
    s = pl.col("s")
    f = f.with_columns(
        pl.col("raw").str.replace_all(r"[\$€£¥]|\b[A-Z]{3}\b", "").str.strip_chars().alias("s"))
    f = f.with_columns((s.str.starts_with("(") & s.str.ends_with(")")).alias("paren"))
    f = f.with_columns(pl.when(pl.col("paren")).then(s.str.strip_chars("()").str.strip_chars())
                       .otherwise(s).alias("s"))
    f = f.with_columns((pl.col("paren") | s.str.starts_with("-")).alias("negative"),
                       s.str.replace(r"^[-+]\s*", "").alias("s"))
    f = f.with_columns(s.str.ends_with("%").alias("percent"),
                       s.str.replace(r"\s*%$", "").alias("s"))
    f = f.with_columns(s.str.extract(r"([eE][+-]?\d+)$", 1).alias("exponent"),
                       s.str.replace(r"[eE][+-]?\d+$", "").alias("s"))
    f = f.with_columns(
        (s.str.contains(_GROUP_SPACE)
         & ~s.str.contains(r"^\d{1,3}(?:" + _GROUP_SPACE + r"\d{3})+(?:[.,]\d+)?$"))
        .alias("badly_spaced"))
    f = f.with_columns(pl.when(pl.col("badly_spaced")).then(pl.lit("?"))
                       .otherwise(s.str.replace_all(_GROUP_SPACE, "")).alias("m"))
    return f.with_columns(_number_class(pl.col("m")).alias("cls")).drop(
        "s", "paren", "badly_spaced")


def _number_class(m: pl.Expr) -> pl.Expr:
    return (
        pl.when(m.str.contains(r"^\d+$")).then(pl.lit("plain"))
        .when(m.str.contains(r"^[1-9]\d{0,2},\d{3}$")).then(pl.lit("amb_comma"))
        .when(m.str.contains(r"^[1-9]\d{0,2}\.\d{3}$")).then(pl.lit("amb_dot"))
        .when(m.str.contains(r"^\d{1,3}(?:,\d{3})+\.\d+$|^\d{1,3}(?:,\d{3}){2,}$|^\d*\.\d+$"))
        .then(pl.lit("dot"))
        .when(m.str.contains(r"^\d{1,3}(?:\.\d{3})+,\d+$|^\d{1,3}(?:\.\d{3}){2,}$|^\d*,\d+$"))
        .then(pl.lit("comma"))
        .otherwise(pl.lit("invalid"))
    )


def number_class(raw: pl.Expr) -> pl.Expr:
    """The decimal-mark class of a cleaned numeric cell (see above); null for null."""
    return raw.map_batches(lambda s: _number_parts(s).get_column("cls"),
                           return_dtype=pl.Utf8)


@dataclass(frozen=True)
class DecimalMark:
    """How one numeric column of one file is read.

    mark: "dot" or "comma" (decided), "mixed" (the column uses both: values with a
    separator are quarantined) or "unknown" (nothing tells: `1,204` is quarantined).
    why: where the decision came from, for notes. examples: a value of each convention."""

    mark: str
    why: str = ""
    comma_example: str | None = None
    dot_example: str | None = None


def decimal_marks(frame: pl.DataFrame, kinds: dict[str, str], *,
                  delimiter: str = ",") -> dict[str, DecimalMark]:
    """Decide the decimal mark of every numeric column of one file.

    Evidence, strongest first:
    1. the column's own values: `12,50`, `8,4`, `1.204,50`, `1.204.500` say comma;
       `12.50`, `1,204.50`, `1,204,500` say point. Both in one column: "mixed".
    2. the file's other numeric columns (a file is written in one locale), when the
       columns that decided agree.
    3. the delimiter: a `;`-separated file comes from a decimal-comma locale (Excel
       uses `;` exactly where `,` is the decimal mark).
    Values that only read one way are never affected; `1,204` / `1.204` alone are
    ambiguous: in an int column a 3-digit group is a thousands separator, elsewhere they
    take the mark decided here, or are quarantined when nothing decides it.

    `frame` holds the cleaned cells (placeholders already null); one aggregate select."""
    names = [n for n in kinds if n in frame.columns]
    if not names:
        return {}
    # Each column is classified once (a Python batch function polars cannot share between
    # expressions: classifying it in each of the four aggregates took 4x as long, 5.5 s
    # of a 14 s load of a 139 MB orders file).
    classes = frame.select(number_class(pl.col(n)).alias(f"k{i}") for i, n in enumerate(names))
    aggs = []
    for i, n in enumerate(names):
        cls = pl.col(f"k{i}")
        aggs += [(cls == "comma").any().alias(f"c{i}"), (cls == "dot").any().alias(f"d{i}"),
                 pl.col(n).filter(cls == "comma").first().alias(f"ce{i}"),
                 pl.col(n).filter(cls == "dot").first().alias(f"de{i}")]
    row = (pl.concat([frame.select(names), classes], how="horizontal").select(aggs)
           .row(0, named=True) if frame.height else {})
    own: dict[str, DecimalMark] = {}
    for i, n in enumerate(names):
        comma, dot = bool(row.get(f"c{i}")), bool(row.get(f"d{i}"))
        examples = {"comma_example": row.get(f"ce{i}"), "dot_example": row.get(f"de{i}")}
        if comma and dot:
            own[n] = DecimalMark("mixed", "the column uses both", **examples)
        elif comma or dot:
            example = examples["comma_example"] if comma else examples["dot_example"]
            own[n] = DecimalMark("comma" if comma else "dot", f"its values ('{example}')",
                                 **examples)
    decided = {m.mark for m in own.values() if m.mark in ("comma", "dot")}
    file_mark = decided.pop() if len(decided) == 1 else None
    out: dict[str, DecimalMark] = {}
    for n in names:
        if n in own:
            out[n] = own[n]
        elif file_mark:
            out[n] = DecimalMark(file_mark, "the file's other numeric columns")
        elif delimiter == ";":
            out[n] = DecimalMark("comma", "the ';' delimiter")
        else:
            out[n] = DecimalMark("unknown")
    return out


def _number_text(parts: pl.DataFrame, kind: str, mark: str) -> pl.Series:
    """Plain numeric text like "-1204.50" per cell of _number_parts, or null when it
    cannot be read."""
    m, cls = pl.col("m"), pl.col("cls")
    no_groups = m.str.replace_all(r"[.,]", "")
    if kind == "int":
        # A whole number's 3-digit group is a thousands separator: "1,204" impressions.
        amb_comma = amb_dot = no_groups
    elif mark == "dot":
        amb_comma, amb_dot = no_groups, m
    elif mark == "comma":
        amb_comma, amb_dot = m.str.replace(",", "."), no_groups
    else:
        amb_comma = amb_dot = pl.lit(None, pl.Utf8)
    # A point-decimal value reads only in a point column, a comma-decimal one only in a
    # comma column; in a "mixed" or "unknown" column only plain digits are certain.
    text = (
        pl.when(cls == "plain").then(m)
        .when(cls == "amb_comma").then(amb_comma)
        .when(cls == "amb_dot").then(amb_dot)
        .when((cls == "dot") & pl.lit(mark == "dot")).then(m.str.replace_all(",", ""))
        .when((cls == "comma") & pl.lit(mark == "comma"))
        .then(m.str.replace_all(r"\.", "").str.replace(",", "."))
        .otherwise(pl.lit(None, pl.Utf8))
    )
    if mark == "mixed":
        text = pl.when(cls == "plain").then(m).otherwise(pl.lit(None, pl.Utf8))
    return parts.select(pl.concat_str([
        pl.when(pl.col("negative")).then(pl.lit("-")).otherwise(pl.lit("")),
        text, pl.col("exponent").fill_null("")]).alias("text")).get_column("text")


def _parse_number(values: pl.Series, kind: str, mark: str) -> pl.Series:
    parts = _number_parts(values)
    text = _number_text(parts, kind, mark)
    if kind == "money":
        return text.cast(MONEY, strict=False)
    f = text.cast(pl.Float64, strict=False)
    f = f.set(~f.is_finite().fill_null(False), None)  # "nan", "inf": no vendor means them
    if kind == "int":
        return f.set(f.round(0) != f, None).cast(pl.Int64, strict=False)
    if kind == "percent":
        return pl.select(pl.when(parts.get_column("percent")).then(f / 100).otherwise(f)
                         ).to_series()
    return f


def number_problem(raw: pl.Expr, label: str, kind: str, mark: DecimalMark) -> pl.Expr:
    """The quarantine reason for a cell whose decimal mark cannot be told, else null."""
    if kind not in NUMERIC_KINDS or mark.mark in ("dot", "comma"):
        return pl.lit(None, pl.Utf8)
    again = ("export the file again and load it as downloaded (do not open and save it "
             "in a spreadsheet)")
    if kind == "int" and mark.mark != "mixed":
        return pl.lit(None, pl.Utf8)

    def reasons(values: pl.Series) -> pl.Series:
        parts = _number_parts(values)
        raw_, m, cls = pl.col("raw"), pl.col("m"), pl.col("cls")
        if mark.mark == "mixed":
            why = pl.when(cls.is_in(["dot", "comma", "amb_comma", "amb_dot"])).then(pl.format(
                "column '{}': '{}' cannot be read safely: this column mixes decimal commas "
                "('{}') and decimal points ('{}'), so a value with a separator could be 100 "
                "times off; " + again,
                pl.lit(label), raw_, pl.lit(mark.comma_example), pl.lit(mark.dot_example)))
        else:
            why = pl.when(cls.is_in(["amb_comma", "amb_dot"])).then(pl.format(
                "column '{}': '{}' could be {} or {}: the file gives no other value to tell "
                "its decimal mark; " + again,
                pl.lit(label), raw_, m.str.replace_all(r"[.,]", ""), m.str.replace(",", ".")))
        return parts.select(why.alias("why")).get_column("why")

    return raw.map_batches(reasons, return_dtype=pl.Utf8)


def _datetimes(raw: pl.Expr, formats: tuple[str, ...]) -> pl.Expr:
    if formats is TZ_FORMATS:
        raw = raw.str.replace(r"Z$", "+00:00")  # ISO 8601 'Z' is UTC
    return pl.coalesce(
        [raw.str.to_datetime(f, strict=False, time_unit="us") for f in formats]
    )


def parse_expr(raw: pl.Expr, kind: str, timezone: str, mark: str = "dot") -> pl.Expr:
    """Expression that parses a cleaned (stripped, empty -> null) string column.

    mark: the column's decimal mark for numeric kinds ("dot", "comma", "mixed",
    "unknown"; see decimal_marks)."""
    if kind == "text":
        return raw
    if kind in NUMERIC_KINDS:
        return raw.map_batches(lambda values: _parse_number(values, kind, mark),
                               return_dtype=KIND_DTYPES[kind])
    if kind == "date":
        return pl.coalesce([raw.str.to_date(f, strict=False) for f in DATE_FORMATS])
    if kind == "timestamp_tz":
        return (
            _datetimes(raw, TZ_FORMATS).dt.convert_time_zone("UTC").dt.replace_time_zone(None)
        )
    if kind == "timestamp_local":
        naive = _datetimes(raw, LOCAL_FORMATS)

        def to_utc(e: pl.Expr) -> pl.Expr:
            return (e.dt.replace_time_zone(timezone, ambiguous="earliest", non_existent="null")
                    .dt.convert_time_zone("UTC").dt.replace_time_zone(None))

        # A wall time inside the spring-forward gap (02:30 on DST day) does not exist; read
        # it with the offset from before the change rather than refusing the row, since
        # the help desk's timezone may not be exactly the store's.
        local = pl.coalesce([to_utc(naive), to_utc(naive - pl.duration(hours=1)) + pl.duration(hours=1)])
        with_offset = (
            _datetimes(raw, TZ_FORMATS).dt.convert_time_zone("UTC").dt.replace_time_zone(None)
        )
        return pl.coalesce([local, with_offset])
    if kind == "bool":
        s = raw.str.to_lowercase()
        return (
            pl.when(s.is_in(["yes", "true", "y", "1", "t"])).then(True)
            .when(s.is_in(["no", "false", "n", "0", "f"])).then(False)
            .otherwise(None)
        )
    raise ValueError(f"unknown column kind {kind!r}")


def _vendor_name(col: Column, header_names: dict[str, str]) -> str:
    return header_names.get(col.name, col.vendor[0] if col.vendor else col.name)


def rows_text(rows: list[int], shown: int = 3) -> str:
    """[1, 2, 3] -> "rows 1-3"; [4] -> "row 4"; long lists: "rows 1, 4, 9 and 12 more"."""
    rows = sorted(set(rows))
    if len(rows) == 1:
        return f"row {rows[0]}"
    runs: list[list[int]] = []
    for r in rows:
        if runs and r == runs[-1][1] + 1:
            runs[-1][1] = r
        else:
            runs.append([r, r])
    parts = [f"{a}" if a == b else f"{a}-{b}" for a, b in runs]
    if len(parts) <= shown + 1:
        return "rows " + (parts[0] if len(parts) == 1
                          else ", ".join(parts[:-1]) + " and " + parts[-1])
    listed = sum(b - a + 1 for a, b in runs[:shown])
    return f"rows {', '.join(parts[:shown])} and {len(rows) - listed} more"


def id_warnings(spec: SourceSpec, frame: pl.DataFrame, header_names: dict[str, str]) -> list[str]:
    """Id-like columns a spreadsheet turned into scientific notation (`5.81234E+12`).

    Excel shows a number of more than 11 digits as 5.81234E+12 and, when the file is
    saved as CSV, writes it that way: the digits after the sixth are gone and the ids of
    different orders or SKUs become equal. The rows still load (the text is kept); the
    warning says which column, which rows and what to do. Ids that lost leading zeros
    cannot be told from ids that never had them, so they are not reported."""
    out = []
    for id_col in spec.id_columns:
        if id_col.name not in frame.columns:
            continue
        cell = pl.col(id_col.name).str.strip_chars()
        hits = frame.filter(cell.str.contains(r"^[+-]?\d+(?:[.,]\d+)?[eE]\+\d+$").fill_null(False))
        if not hits.height:
            continue
        values = hits.get_column(id_col.name).str.strip_chars()
        first = values[0]
        digits = int(first.upper().split("E+")[1]) + 1
        others = values.n_unique() - 1
        shown = first if not others else f"{first} (and {others} other such value(s))"
        label = header_names.get(id_col.name, id_col.name)
        vendor = spec.vendor or "the vendor"
        out.append(
            f"column '{label}' holds {shown} on {rows_text(hits.get_column(ROW).to_list())}: "
            f"a spreadsheet turned the {digits}-digit {id_col.what} into scientific notation "
            f"and lost digits. {id_col.consequence} Export again from {vendor} and load the "
            "file as downloaded (do not open and save it in a spreadsheet)"
        )
    return out


# Zones offered when a file's offsets do not fit the store timezone, best known first.
COMMON_ZONES = (
    "America/New_York", "America/Chicago", "America/Denver", "America/Los_Angeles",
    "America/Phoenix", "America/Anchorage", "Pacific/Honolulu", "America/Toronto",
    "America/Vancouver", "America/Halifax", "America/St_Johns", "America/Mexico_City",
    "America/Bogota", "America/Lima", "America/Santiago", "America/Sao_Paulo",
    "America/Argentina/Buenos_Aires", "Europe/London", "Europe/Dublin", "Europe/Lisbon",
    "Europe/Berlin", "Europe/Paris", "Europe/Amsterdam", "Europe/Madrid", "Europe/Rome",
    "Europe/Brussels", "Europe/Vienna", "Europe/Zurich", "Europe/Stockholm",
    "Europe/Copenhagen", "Europe/Oslo", "Europe/Warsaw", "Europe/Prague", "Europe/Helsinki",
    "Europe/Athens", "Europe/Bucharest", "Europe/Istanbul", "Europe/Kyiv", "Europe/Moscow",
    "Africa/Lagos", "Africa/Johannesburg", "Africa/Cairo", "Africa/Nairobi", "Asia/Dubai",
    "Asia/Karachi", "Asia/Kolkata", "Asia/Dhaka", "Asia/Bangkok", "Asia/Jakarta",
    "Asia/Singapore", "Asia/Hong_Kong", "Asia/Shanghai", "Asia/Manila", "Asia/Tokyo",
    "Asia/Seoul", "Australia/Perth", "Australia/Adelaide", "Australia/Brisbane",
    "Australia/Sydney", "Australia/Melbourne", "Pacific/Auckland", "UTC",
)


def _zone_offsets(zone: ZoneInfo, day: date) -> set[int]:
    """UTC offsets (minutes) the zone has at some time of `day` (two on a DST day)."""
    return {int(datetime.combine(day, t, tzinfo=zone).utcoffset().total_seconds() // 60)
            for t in (time(0, 0), time(12, 0), time(23, 59))}


def _offset_text(minutes: int) -> str:
    sign = "+" if minutes >= 0 else "-"
    return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def timezone_warning(spec: SourceSpec, frame: pl.DataFrame, *, timezone: str,
                     timezone_configured: bool) -> str | None:
    """A warning when every timestamp of the file's date column carries a UTC offset the
    store timezone never has on that date (Shopify writes times in the store's own
    offset, so the timezone setting must be wrong), with the zones that would fit."""
    if not spec.offsets_in_store_timezone:
        return None
    cols = [d for d in spec.date_columns
            if d in frame.columns and spec.column(d).kind == "timestamp_tz"]
    if not cols:
        return None
    raw = pl.col(cols[0]).str.strip_chars()
    found = frame.select(
        raw.str.extract(r"^(\d{4}-\d{2}-\d{2})", 1).str.to_date("%Y-%m-%d", strict=False)
        .alias("day"),
        raw.str.extract(r"([+-])\d{2}:?\d{2}$", 1).alias("sign"),
        raw.str.extract(r"[+-](\d{2}):?\d{2}$", 1).cast(pl.Int32, strict=False).alias("h"),
        raw.str.extract(r"[+-]\d{2}:?(\d{2})$", 1).cast(pl.Int32, strict=False).alias("m"),
    ).drop_nulls().unique()
    if not found.height:
        return None
    pairs = {(r["day"], (r["h"] * 60 + r["m"]) * (-1 if r["sign"] == "-" else 1))
             for r in found.iter_rows(named=True)}  # distinct (day, offset): a handful

    def fits(zone: ZoneInfo) -> bool:
        return all(off in _zone_offsets(zone, day) for day, off in pairs)

    def never(zone: ZoneInfo) -> bool:
        return all(off not in _zone_offsets(zone, day) for day, off in pairs)

    try:
        store_zone = ZoneInfo(timezone)
    except (KeyError, ValueError):
        return None
    if not never(store_zone):
        return None
    offsets = " or ".join(sorted({_offset_text(o) for _, o in pairs}))
    zones = [z for z in COMMON_ZONES if z != timezone and fits(ZoneInfo(z))]
    more = ", …" if len(zones) > 3 else ""
    fitting = (f"zones that fit these offsets: {', '.join(zones[:3])}{more}" if zones
               else "no common zone fits these offsets: check the export")
    if timezone_configured:
        setting = (f"storeops.yml sets timezone: {timezone}: if the store is elsewhere, "
                   "set `timezone: <zone>` there")
    else:
        setting = ("The store timezone is the default (storeops.yml sets no `timezone`): "
                   "add `timezone: <zone>` to storeops.yml")
    return (f"every timestamp carries {offsets}, which {timezone} never has on these dates. "
            f"{setting}; {fitting}")


def parse_frame(spec: SourceSpec, frame: pl.DataFrame, header: list[str], *,
                timezone: str, not_after: datetime | None = None,
                window_start: date = DEFAULT_EXPORT_WINDOW_START,
                timezone_configured: bool = True, delimiter: str = ",",
                file_name: str = "the file") -> Parsed:
    """Split a reader's string frame into typed good rows and explained bad rows.

    A row's date is the first non-empty of spec.date_columns. A row dated after
    not_after (naive UTC, normally the load time plus a day) is outside any export
    window (a clock or format error), one before window_start (the setting
    export_window_start) is too; both are quarantined: one such row would otherwise move
    the default as-of date of every output.

    Raises FileRejected when the file is a report of the wrong shape as a whole (a Meta
    export without the daily breakdown: spec.daily_rows)."""
    present = [n for n in frame.columns if n != ROW]
    # Map raw names back to what the vendor wrote, for messages a person can act on.
    header_names = dict(zip(present, header)) if len(header) == len(present) else {}
    known = {c.name: c for c in spec.columns}

    def typed_name(name: str) -> str:
        return f"{name}\x00typed"

    def label_of(name: str) -> str:
        return _vendor_name(known[name], header_names) if name in known else name

    cleaned = frame.with_columns(
        [_clean(n, known[n].kind if n in known else "text").alias(n) for n in present])
    marks = decimal_marks(
        cleaned, {n: known[n].kind for n in present
                  if n in known and known[n].kind in NUMERIC_KINDS},
        delimiter=delimiter)
    problems: list[pl.Expr] = []  # each: a message string or null, per row
    parsed_columns: list[pl.Expr] = []  # each cell parsed once, beside its text
    output: list[pl.Expr] = []  # the raw table's columns, in order
    if spec.group_by and spec.group_by in present:
        is_first = pl.col(ROW) == pl.col(ROW).min().over(spec.group_by)
    else:
        is_first = pl.lit(True)
    for name in present:
        col = known.get(name)
        raw = pl.col(name)
        if col is None or col.kind == "text":
            output.append(raw)
        else:
            value = pl.col(typed_name(name))
            mark = marks[name].mark if name in marks else "dot"
            parsed_columns.append(
                parse_expr(raw, col.kind, timezone, mark).alias(typed_name(name)))
            output.append(value.alias(name))
        if col is None:
            continue
        label = label_of(name)
        if col.kind != "text":
            specific = (number_problem(raw, label, col.kind, marks[name])
                        if name in marks else pl.lit(None, pl.Utf8))
            problems.append(
                pl.when(specific.is_not_null()).then(specific)
                .when(raw.is_not_null() & value.is_null())
                .then(pl.format("column '{}': '{}' is not " + KIND_WORDS[col.kind],
                                pl.lit(label), raw))
            )
        if col.not_null or col.name in spec.first_row_only:
            only_first = col.name in spec.first_row_only
            missing = raw.is_null() & (is_first if only_first else pl.lit(True))
            problems.append(pl.when(missing).then(pl.lit(f"column '{label}': value is missing")))
    problems += _window_problems(spec, present, known, typed_name, label_of,
                                 not_after=not_after, window_start=window_start)
    # Spec columns absent from this file are null (optional columns, older exports).
    for col in spec.columns:
        if col.name not in present:
            output.append(pl.lit(None, KIND_DTYPES[col.kind]).alias(col.name))

    typed = cleaned.with_columns(parsed_columns)
    if spec.daily_rows:
        problems.append(_daily_problem(spec, typed, present, typed_name, label_of, file_name))

    reason = (pl.concat_str(problems, separator="; ", ignore_nulls=True)
              if problems else pl.lit(None, pl.Utf8))
    checked = typed.with_columns(
        pl.when(reason == "").then(None).otherwise(reason).alias("_reason")
    )
    if spec.group_by and spec.group_by in present:
        # One bad line quarantines its whole order: a warehouse with half an order is wrong.
        group_reason = pl.col("_reason").drop_nulls().first().over(spec.group_by)
        checked = checked.with_columns(
            pl.when(pl.col("_reason").is_null() & group_reason.is_not_null())
            .then(pl.format("another row of {} '{}' failed: {}", pl.lit(_vendor_name(
                known[spec.group_by], header_names)), pl.col(spec.group_by), group_reason))
            .otherwise(pl.col("_reason"))
            .alias("_reason")
        )
    is_bad = pl.col("_reason").is_not_null()
    good = checked.filter(~is_bad).select(*output, pl.col(ROW))
    reasons = checked.filter(is_bad).select(ROW, "_reason")
    # The original row exactly as written (before trimming), only for the rows that failed.
    names_unique = len(set(header_names.values())) == len(present)
    original = pl.struct(
        [pl.col(n).alias(header_names[n]) if names_unique else pl.col(n) for n in present]
    ).struct.json_encode()
    bad = (
        frame.join(reasons, on=ROW, how="inner")
        .sort(ROW)
        .select(
            pl.col(ROW).alias("source_row"),
            pl.col("_reason").str.extract(r"column '([^']*)'").alias("column_name"),
            pl.col("_reason").alias("reason"),
            original.alias("original_row"),
        )
    )
    warnings = id_warnings(spec, cleaned, header_names)
    tz = timezone_warning(spec, cleaned, timezone=timezone,
                          timezone_configured=timezone_configured)
    if tz:
        warnings.append(tz)
    return Parsed(good=good, bad=bad, warnings=warnings)


def _window_problems(spec: SourceSpec, present: list[str], known: dict[str, Column],
                     typed_name, label_of, *, not_after: datetime | None,
                     window_start: date) -> list[pl.Expr]:
    """Rows whose date (the first non-empty of spec.date_columns) is outside the window."""
    if not_after is None or spec.future_dates_allowed:
        return []
    out = []
    earlier_empty = pl.lit(True)
    for name in spec.date_columns:
        col = known.get(name)
        if name not in present or col is None or col.kind == "text":
            continue
        value, raw, label = pl.col(typed_name(name)), pl.col(name), label_of(name)
        used = earlier_empty & value.is_not_null()
        is_date = col.kind == "date"
        hi = pl.lit(not_after.date() if is_date else not_after)
        lo = pl.lit(window_start if is_date else datetime.combine(window_start, time()))
        out.append(pl.when(used & (value > hi)).then(pl.format(
            "column '{}': '{}' is outside the export window: after the day the file was "
            "loaded (a clock or format error)", pl.lit(label), raw)))
        out.append(pl.when(used & (value < lo)).then(pl.format(
            "column '{}': '{}' is before export_window_start (" + window_start.isoformat()
            + " in storeops.yml): set an earlier date there if this is imported history",
            pl.lit(label), raw)))
        earlier_empty = earlier_empty & value.is_null()
    return out


def _daily_problem(spec: SourceSpec, typed: pl.DataFrame, present: list[str], typed_name,
                   label_of, file_name: str) -> pl.Expr:
    """Rows of a daily report that cover several days (exported without the daily
    breakdown): quarantined; when every dated row does, the file is rejected."""
    d = spec.daily_rows
    if d is None or d.starts not in present or d.ends not in present:
        return pl.lit(None, pl.Utf8)
    starts, ends = pl.col(typed_name(d.starts)), pl.col(typed_name(d.ends))
    day = pl.col(typed_name(d.day)) if d.day in present else pl.lit(None, pl.Date)
    dated = starts.is_not_null() & ends.is_not_null()
    several = day.is_null() & dated & (starts != ends)
    counts = typed.select(several.sum().alias("several"), dated.sum().alias("dated")).row(0)
    if counts[0] and counts[0] == counts[1]:
        spend = (pl.col(typed_name(d.spend)) if d.spend in present and d.spend in
                 {c.name for c in spec.columns if c.kind != "text"} else pl.lit(None))
        summary = typed.filter(several).select(
            starts.cast(pl.Utf8).alias("s"), ends.cast(pl.Utf8).alias("e"),
            spend.cast(pl.Float64).alias("spend"),
            (pl.col("currency") if "currency" in present else pl.lit(None, pl.Utf8))
            .alias("currency"))
        ranges = summary.select("s", "e").unique(maintain_order=True)
        total = summary.get_column("spend").sum()
        currency = summary.get_column("currency").drop_nulls()
        money = (f"{total:,.2f}" + (f" {currency[0]}" if len(currency) else "")
                 + " spent in all")
        n = summary.height
        if ranges.height == 1:
            s, e = ranges.row(0)
            cover = (f"its row covers {s} to {e}" if n == 1
                     else f"its {n} rows each cover {s} to {e}")
        else:
            cover = (f"its {n} rows each cover several days (from {summary['s'].min()} "
                     f"to {summary['e'].max()})")
        raise FileRejected(
            f"{file_name} is a {spec.label} without a daily breakdown: {cover} ({money}), "
            f"so spend cannot be put on days and none of it is loaded. {d.fix}")
    return pl.when(several).then(pl.format(
        "column '{}': this row covers {} to {} and has no {}: it comes from an export "
        "without a daily breakdown, so its spend cannot be put on days. " + d.fix,
        pl.lit(label_of(d.ends)), pl.col(d.starts), pl.col(d.ends),
        pl.lit(label_of(d.day) if d.day in present else "Day")))
