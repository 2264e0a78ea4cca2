"""One document model for the briefs and reports, rendered to Markdown and to HTML.

A report is a list of blocks (`Heading`, `Paragraph`, `Bullets`, `Table`, `Note`); the
same blocks give the `.md` (read in the Dagster UI, pasted into Slack) and the `.html`
(opened from the shared folder), so the two can never disagree. HTML is self-contained:
inline CSS, no script, no web font.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from datetime import date, timedelta


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


    def to_email_html(self, *, preheader: str = "", footer: str = "") -> str:
        """The document as an HTML email body: every style inline on its element (mail
        clients drop or rewrite <style> blocks: Gmail keeps only some, Outlook's Word
        engine most), a single 640-pixel column in a layout table, web-safe fonts, no
        images or script. `preheader`: the hidden line inbox lists show after the
        subject; `footer`: a muted last paragraph (where the data came from, a link)."""
        font = "font-family:Arial,Helvetica,sans-serif;color:#1f2933;"
        body = [f'<h1 style="{font}font-size:22px;margin:0 0 4px;">{html.escape(self.title)}</h1>']
        if self.subtitle:
            body.append(f'<p style="{font}color:#627d98;font-size:13px;margin:0 0 12px;">'
                        f"{html.escape(self.subtitle)}</p>")
        for block in self.blocks:
            if isinstance(block, Heading):
                size = {2: 17, 3: 15}.get(block.level, 14)
                body.append(f'<h{min(max(block.level, 2), 4)} style="{font}font-size:{size}px;'
                            'margin:20px 0 6px;border-bottom:1px solid #d9e2ec;padding-bottom:3px;">'
                            f"{html.escape(block.text)}</h{min(max(block.level, 2), 4)}>")
            elif isinstance(block, Paragraph):
                body.append(f'<p style="{font}font-size:14px;margin:6px 0;">{_inline(block.text)}</p>')
            elif isinstance(block, Note):
                body.append(f'<p style="{font}color:#627d98;font-size:12px;font-style:italic;'
                            f'margin:6px 0;">{_inline(block.text)}</p>')
            elif isinstance(block, Bullets):
                body.append(f'<ul style="{font}font-size:14px;margin:6px 0;padding-left:20px;">'
                            + "".join(f'<li style="margin:2px 0;">{_inline(i)}</li>'
                                      for i in block.items) + "</ul>")
            elif isinstance(block, Table):
                aligns = block.numeric or (False,) * len(block.columns)
                cell = f"{font}font-size:13px;padding:4px 8px;border-bottom:1px solid #e4e7eb;"
                head = "".join(f'<th style="{cell}background:#f0f4f8;text-align:'
                               f'{"right" if n else "left"};">{html.escape(c)}</th>'
                               for c, n in zip(block.columns, aligns))
                rows = "".join(
                    "<tr>" + "".join(f'<td style="{cell}text-align:{"right" if n else "left"};">'
                                     f"{_inline(c)}</td>" for c, n in zip(row, aligns)) + "</tr>"
                    for row in block.rows)
                body.append('<table role="presentation" cellpadding="0" cellspacing="0" '
                            'style="border-collapse:collapse;margin:6px 0 12px;">'
                            f"<thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>")
        if footer:
            body.append(f'<p style="{font}color:#627d98;font-size:12px;margin:20px 0 0;">'
                        f"{_inline(footer)}</p>")
        hidden = (f'<div style="display:none;max-height:0;overflow:hidden;">'
                  f"{html.escape(preheader)}</div>" if preheader else "")
        return EMAIL.format(title=html.escape(self.title), preheader=hidden, body="\n".join(body))

    def to_slack_mrkdwn(self, *, max_rows: int = 8) -> str:
        """The document in Slack's mrkdwn (bold is *x*, tables as `label: cells` lines),
        for a message that quotes it: at most `max_rows` rows of each table."""
        out = [f"*{self.title}*"]
        for block in self.blocks:
            if isinstance(block, Heading):
                out.append(f"\n*{block.text}*")
            elif isinstance(block, Paragraph | Note):
                out.append(_slack_inline(block.text))
            elif isinstance(block, Bullets):
                out += [f"• {_slack_inline(item)}" for item in block.items]
            elif isinstance(block, Table):
                out += [f"• {row[0]}: " + ", ".join(
                    f"{c} {v}" for c, v in zip(block.columns[1:], row[1:]) if v)
                        for row in block.rows[:max_rows]]
                if len(block.rows) > max_rows:
                    out.append(f"_and {len(block.rows) - max_rows} more_")
        return "\n".join(out)


def _slack_inline(text: str) -> str:
    """**bold** as Slack's *bold*, with &, < and > escaped as Slack asks."""
    escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return escaped.replace("**", "*")


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


EMAIL = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title></head>
<body style="margin:0;padding:0;background:#ffffff;">
{preheader}<table role="presentation" width="100%" cellpadding="0" cellspacing="0"
 style="border-collapse:collapse;"><tr><td align="center" style="padding:16px 8px;">
<table role="presentation" width="640" cellpadding="0" cellspacing="0"
 style="border-collapse:collapse;max-width:640px;width:100%;"><tr><td style="text-align:left;">
{body}
</td></tr></table>
</td></tr></table>
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


def last_complete_week(as_of: date) -> date:
    """The Monday of the last ISO week that ended on or before `as_of` (the weekly
    report's week)."""
    sunday = as_of - timedelta(days=(as_of.weekday() + 1) % 7)
    return sunday - timedelta(days=6)


def last_complete_month(as_of: date) -> date:
    """The first day of the last calendar month that ended on or before `as_of` (the
    monthly report's month)."""
    following = as_of + timedelta(days=1)
    if following.day == 1:  # as_of is a month's last day
        return as_of.replace(day=1)
    first = as_of.replace(day=1)
    return (first - timedelta(days=1)).replace(day=1)


def iso_week_label(day: date) -> str:
    """The ISO week of `day` as "YYYY-Www" (the weekly report's name)."""
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"
