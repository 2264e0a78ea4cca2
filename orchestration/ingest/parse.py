"""Type the string frame a reader produced, and split off the rows that do not parse.

Every known column is parsed with vectorised polars expressions; a cell that is not
empty but does not parse, or a required cell that is empty, sends its row to
quarantine with the column and the reason. Nothing is guessed: a bad cell is never
turned into a null that loads.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import polars as pl

from orchestration.ingest.readers import ROW
from orchestration.ingest.specs import Column, SourceSpec

MONEY = pl.Decimal(18, 4)
# Before Shopify existed: a date this old is a parse or format error.
EARLIEST_DATE = date(2006, 1, 1)

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


def _clean(name: str) -> pl.Expr:
    s = pl.col(name).str.strip_chars()
    return pl.when(s == "").then(None).otherwise(s)


def _numeric_text(raw: pl.Expr) -> pl.Expr:
    # Currency symbols and codes, thousands separators and spaces go; "(12.50)" is -12.50.
    s = raw.str.replace_all(r"[\$€£¥\s,]|\b[A-Z]{3}\b", "")
    return (
        pl.when(s.str.starts_with("(") & s.str.ends_with(")"))
        .then(pl.lit("-") + s.str.strip_chars("()"))
        .otherwise(s)
    )


def _finite(value: pl.Expr) -> pl.Expr:
    # "nan" and "inf" cast to floats, but no vendor means them as numbers.
    return pl.when(value.is_finite()).then(value).otherwise(None)


def _datetimes(raw: pl.Expr, formats: tuple[str, ...]) -> pl.Expr:
    if formats is TZ_FORMATS:
        raw = raw.str.replace(r"Z$", "+00:00")  # ISO 8601 'Z' is UTC
    return pl.coalesce(
        [raw.str.to_datetime(f, strict=False, time_unit="us") for f in formats]
    )


def parse_expr(raw: pl.Expr, kind: str, timezone: str) -> pl.Expr:
    """Expression that parses a cleaned (stripped, empty -> null) string column."""
    if kind == "text":
        return raw
    if kind == "int":
        f = _finite(_numeric_text(raw).cast(pl.Float64, strict=False))
        return pl.when(f.round(0) == f).then(f).otherwise(None).cast(pl.Int64, strict=False)
    if kind == "money":
        return _numeric_text(raw).cast(MONEY, strict=False)
    if kind == "number":
        return _finite(_numeric_text(raw).cast(pl.Float64, strict=False))
    if kind == "percent":
        s = raw.str.replace_all(r"[\s,]", "")
        value = s.str.strip_chars_end("%").cast(pl.Float64, strict=False)
        return _finite(pl.when(s.str.ends_with("%")).then(value / 100).otherwise(value))
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


def parse_frame(spec: SourceSpec, frame: pl.DataFrame, header: list[str], *,
                timezone: str, not_after: datetime | None = None) -> Parsed:
    """Split a reader's string frame into typed good rows and explained bad rows.

    not_after (naive UTC, normally the load time plus a day): a row whose date column
    (spec.date_column) lies after it, or before EARLIEST_DATE, is outside any export
    window (a clock or format error) and is quarantined: one such row would otherwise
    move the default as-of date of every output."""
    present = [n for n in frame.columns if n != ROW]
    # Map raw names back to what the vendor wrote, for messages a person can act on.
    header_names = dict(zip(present, header)) if len(header) == len(present) else {}
    known = {c.name: c for c in spec.columns}

    def typed_name(name: str) -> str:
        return f"{name}\x00typed"

    cleaned = frame.with_columns([_clean(n).alias(n) for n in present])
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
            parsed_columns.append(parse_expr(raw, col.kind, timezone).alias(typed_name(name)))
            output.append(value.alias(name))
        if col is None:
            continue
        label = _vendor_name(col, header_names)
        if col.kind != "text":
            problems.append(
                pl.when(raw.is_not_null() & value.is_null())
                .then(pl.format("column '{}': '{}' is not " + KIND_WORDS[col.kind],
                                pl.lit(label), raw))
            )
        if (not_after is not None and col.name == spec.date_column
                and not spec.future_dates_allowed and col.kind != "text"):
            hi = pl.lit(not_after.date() if col.kind == "date" else not_after)
            lo = pl.lit(EARLIEST_DATE if col.kind == "date"
                        else datetime.combine(EARLIEST_DATE, datetime.min.time()))
            problems.append(
                pl.when(value.is_not_null() & ((value > hi) | (value < lo)))
                .then(pl.format("column '{}': '{}' is outside the export window ("
                                + EARLIEST_DATE.isoformat() + " to the day the file was loaded)",
                                pl.lit(label), raw))
            )
        if col.not_null or col.name in spec.first_row_only:
            only_first = col.name in spec.first_row_only
            missing = raw.is_null() & (is_first if only_first else pl.lit(True))
            problems.append(pl.when(missing).then(pl.lit(f"column '{label}': value is missing")))
    # Spec columns absent from this file are null (optional columns, older exports).
    for col in spec.columns:
        if col.name not in present:
            output.append(parse_expr(pl.lit(None, pl.Utf8), col.kind, timezone).alias(col.name))

    reason = (pl.concat_str(problems, separator="; ", ignore_nulls=True)
              if problems else pl.lit(None, pl.Utf8))
    checked = cleaned.with_columns(parsed_columns).with_columns(
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
    return Parsed(good=good, bad=bad)
