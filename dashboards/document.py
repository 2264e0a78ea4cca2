"""One document model for the briefs and reports, rendered to Markdown and to HTML.

A report is a list of blocks (`Heading`, `Paragraph`, `Bullets`, `Table`, `Note`); the
same blocks give the `.md` (read in the Dagster UI, pasted into Slack) and the `.html`
(opened from the shared folder), so the two can never disagree. HTML is self-contained:
inline CSS, no script, no web font.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from datetime import date


@dataclass(frozen=True)
class Heading:
    """A section heading; level 2 (##) to 4."""

    text: str
    level: int = 2


@dataclass(frozen=True)
class Paragraph:
    """Running text; **bold** is kept in both renderings."""

    text: str


@dataclass(frozen=True)
class Note:
    """A muted line: 'not enough history', where a number comes from."""

    text: str


@dataclass(frozen=True)
class Bullets:
    """A bulleted list, one string per item."""

    items: tuple[str, ...]


@dataclass(frozen=True)
class Table:
    """A table of already formatted cells (`money`, `number`, `percent`); one row per tuple,
    as many cells as columns."""

    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    # Columns holding numbers are right-aligned.
    numeric: tuple[bool, ...] = ()


Block = Heading | Paragraph | Note | Bullets | Table


@dataclass
class Document:
    """A brief or report: title, subtitle and blocks, rendered by `to_markdown` and
    `to_html` from the same blocks."""

    title: str
    subtitle: str = ""
    blocks: list[Block] = field(default_factory=list)

    def add(self, *blocks: Block) -> Document:
        """Append blocks in order; returns the document, for chaining."""
        self.blocks.extend(blocks)
        return self

    def headings(self) -> list[str]:
        """The text of every heading, in order (the report's sections)."""
        return [b.text for b in self.blocks if isinstance(b, Heading)]

    def to_markdown(self) -> str:
        """The document as GitHub-flavoured Markdown (numeric columns right-aligned)."""
        out = [f"# {self.title}", ""]
        if self.subtitle:
            out += [f"_{self.subtitle}_", ""]
        for block in self.blocks:
            if isinstance(block, Heading):
                out += ["#" * block.level + " " + block.text, ""]
            elif isinstance(block, Paragraph):
                out += [block.text, ""]
            elif isinstance(block, Note):
                out += [f"_{block.text}_", ""]
            elif isinstance(block, Bullets):
                out += [f"- {item}" for item in block.items] + [""]
            elif isinstance(block, Table):
                out.append("| " + " | ".join(block.columns) + " |")
                aligns = block.numeric or (False,) * len(block.columns)
                out.append("|" + "|".join("---:" if n else "---" for n in aligns) + "|")
                out += ["| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |"
                        for row in block.rows]
                out.append("")
        return "\n".join(out).rstrip() + "\n"

    def to_html(self) -> str:
        """The document as one self-contained HTML page (inline CSS, no script)."""
        body = [f"<h1>{html.escape(self.title)}</h1>"]
        if self.subtitle:
            body.append(f'<p class="subtitle">{html.escape(self.subtitle)}</p>')
        for block in self.blocks:
            if isinstance(block, Heading):
                level = min(max(block.level, 2), 4)
                body.append(f"<h{level}>{html.escape(block.text)}</h{level}>")
            elif isinstance(block, Paragraph):
                body.append(f"<p>{_inline(block.text)}</p>")
            elif isinstance(block, Note):
                body.append(f'<p class="note">{_inline(block.text)}</p>')
            elif isinstance(block, Bullets):
                body.append("<ul>" + "".join(f"<li>{_inline(i)}</li>" for i in block.items) + "</ul>")
            elif isinstance(block, Table):
                aligns = block.numeric or (False,) * len(block.columns)
                head = "".join(f'<th class="{"num" if n else ""}">{html.escape(c)}</th>'
                               for c, n in zip(block.columns, aligns))
                rows = "".join(
                    "<tr>" + "".join(f'<td class="{"num" if n else ""}">{_inline(c)}</td>'
                                     for c, n in zip(row, aligns)) + "</tr>"
                    for row in block.rows)
                body.append(f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>")
        return PAGE.format(title=html.escape(self.title), body="\n".join(body))


def _inline(text: str) -> str:
    """Escape, then honour **bold** (the only inline markup the reports use)."""
    parts = html.escape(text).split("**")
    return "".join(f"<strong>{p}</strong>" if i % 2 else p for i, p in enumerate(parts))


PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>
body {{ font-family: -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif;
       color: #1f2933; max-width: 60rem; margin: 2rem auto; padding: 0 1rem; line-height: 1.45; }}
h1 {{ font-size: 1.6rem; margin-bottom: .2rem; }}
h2 {{ font-size: 1.2rem; border-bottom: 1px solid #d9e2ec; padding-bottom: .2rem; margin-top: 1.6rem; }}
h3 {{ font-size: 1.05rem; }}
.subtitle, .note {{ color: #627d98; }}
.note {{ font-size: .9rem; font-style: italic; }}
table {{ border-collapse: collapse; margin: .5rem 0 1rem; font-size: .92rem; }}
th, td {{ padding: .25rem .6rem; border-bottom: 1px solid #e4e7eb; text-align: left; }}
th {{ background: #f0f4f8; }}
td.num, th.num {{ text-align: right; font-variant-numeric: tabular-nums; }}
a {{ color: #2f6fdf; }}
</style></head>
<body>
{body}
</body></html>
"""


def money(value: float | None, currency: str, digits: int = 0) -> str:
    """An amount in `currency` (ISO code) with thousands separators: "$1,234", "-€5",
    "1,234 CHF" for a currency without a symbol here; "n/a" for None."""
    if value is None:
        return "n/a"
    symbol = {"USD": "$", "EUR": "€", "GBP": "£"}.get(currency)
    sign = "-" if value < 0 else ""
    amount = f"{abs(value):,.{digits}f}"
    return f"{sign}{symbol}{amount}" if symbol else f"{sign}{amount} {currency}"


def number(value: float | None, digits: int = 0) -> str:
    """A count or quantity with thousands separators; "n/a" for None."""
    return "n/a" if value is None else f"{value:,.{digits}f}"


def percent(value: float | None, digits: int = 1) -> str:
    """A share (0.25) as a percentage ("25.0%"); "n/a" for None."""
    return "n/a" if value is None else f"{100 * value:.{digits}f}%"


def change(current: float | None, previous: float | None) -> float | None:
    """Relative change, None when either side is missing or the base is 0."""
    if current is None or previous is None or previous == 0:
        return None
    return current / previous - 1


def signed_percent(value: float | None, digits: int = 1) -> str:
    """A relative change (0.05) with its sign ("+5.0%"); "n/a" for None."""
    return "n/a" if value is None else f"{100 * value:+.{digits}f}%"


def iso_week_label(day: date) -> str:
    """The ISO week of `day` as "YYYY-Www" (the weekly report's name)."""
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"
