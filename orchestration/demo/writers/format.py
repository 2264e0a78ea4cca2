"""Formatting helpers every vendor writer shares: integer cents and counts as the vendors
print them, string literals, and `Landing`, which writes a frame of strings as a CSV under
`landing/` so the bytes depend only on the data."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import polars as pl


def money(cents: pl.Expr) -> pl.Expr:
    """Integer cents -> `12.50` (null stays null)."""
    a = cents.cast(pl.Int64)
    sign = pl.when(a < 0).then(pl.lit("-")).otherwise(pl.lit(""))
    a = a.abs()
    return sign + (a // 100).cast(pl.String) + "." + (a % 100).cast(pl.String).str.zfill(2)


def thousands(value: pl.Expr) -> pl.Expr:
    """Non-negative integer -> `12,345` (Google Ads style)."""
    v = value.cast(pl.Int64)

    def z3(e: pl.Expr) -> pl.Expr:
        return e.cast(pl.String).str.zfill(3)

    g0, g1, g2, g3 = v % 1000, (v // 1000) % 1000, (v // 1_000_000) % 1000, v // 1_000_000_000
    return (
        pl.when(v >= 1_000_000_000)
        .then(g3.cast(pl.String) + "," + z3(g2) + "," + z3(g1) + "," + z3(g0))
        .when(v >= 1_000_000)
        .then(g2.cast(pl.String) + "," + z3(g1) + "," + z3(g0))
        .when(v >= 1000)
        .then(g1.cast(pl.String) + "," + z3(g0))
        .otherwise(g0.cast(pl.String))
    )


def money_thousands(cents: pl.Expr) -> pl.Expr:
    a = cents.cast(pl.Int64)
    return thousands(a // 100) + "." + (a % 100).cast(pl.String).str.zfill(2)


def money_decimal_comma(cents: pl.Expr) -> pl.Expr:
    """Non-negative cents -> `1.204,50` / `12,50`, as a decimal-comma spreadsheet saves it."""
    a = cents.cast(pl.Int64)
    return (
        thousands(a // 100).str.replace_all(",", ".", literal=True)
        + ","
        + (a % 100).cast(pl.String).str.zfill(2)
    )


def lit_str(value: str) -> pl.Expr:
    return pl.lit(value, dtype=pl.String)


def null_str() -> pl.Expr:
    return pl.lit(None, dtype=pl.String)


@dataclass
class Landing:
    root: Path
    files: list[Path] = field(default_factory=list)

    def path(self, rel: str) -> Path:
        p = self.root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        self.files.append(p)
        return p

    def write_csv(
        self,
        rel: str,
        frame: pl.DataFrame,
        header: list[str],
        *,
        bom: bool = False,
        before: str = "",
        after: bytes = b"",
        separator: str = ",",
        line_terminator: str = "\n",
    ) -> None:
        # Vendors leave empty cells bare (polars would quote an empty string).
        frame = frame.select([pl.col(c).cast(pl.String) for c in header]).with_columns(
            [
                pl.when(pl.col(c) == "").then(null_str()).otherwise(pl.col(c)).alias(c)
                for c in header
            ]
        )
        body = frame.write_csv(
            include_bom=False, null_value="", separator=separator, line_terminator=line_terminator
        )
        data = body.encode("utf-8")
        if before:
            data = before.encode("utf-8") + data
        if bom:
            data = b"\xef\xbb\xbf" + data
        self.path(rel).write_bytes(data + after)

    def write_text(self, rel: str, text: str) -> None:
        self.path(rel).write_text(text, encoding="utf-8")


def _strings(values: list[str]) -> pl.Series:
    return pl.Series(values, dtype=pl.String)


def _gather(values: list[str] | pl.Series, idx: np.ndarray) -> pl.Series:
    s = values if isinstance(values, pl.Series) else _strings(values)
    return s.gather(pl.Series(np.asarray(idx, dtype=np.int64)))
