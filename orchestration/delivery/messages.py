"""What is sent, composed from the warehouse and the files a run wrote.

Each function returns `Message`s: a kind, a key that names the message without its
recipient (`daily_brief:2026-11-22`; the outbox adds channel and recipient), the email
parts (subject, plain text, HTML, attachments, recipients) and the Slack payload (Block
Kit) when the kind is posted there. Nothing here sends or records anything (send.py).
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from dashboards.document import (
    Bullets,
    Document,
    Heading,
    Note,
    Paragraph,
    Table,
    iso_week_label,
    money,
    number,
)
from dashboards.reorder_files import supplier_file_stem
from orchestration.delivery.settings import DeliverySettings
from quality.warehouse import rows as _rows
from quality.warehouse import table_exists as _exists

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
SLACK_TEXT_LIMIT = 2900  # a section block's text holds 3,000 characters


@dataclass
class Message:
    """One message, before it is addressed per recipient."""

    kind: str
    key: str
    as_of: dt.date | None
    subject: str
    text: str
    html: str | None = None
    attachments: list[tuple[str, bytes, str]] = field(default_factory=list)
    to: tuple[str, ...] = ()
    slack: dict | None = None
    items: tuple[str, ...] = ()  # the alerts it reports (sent once each)

    @property
    def content_sha256(self) -> str:
        digest = hashlib.sha256()
        for part in (self.subject, self.text, self.html or "",
                     json.dumps(self.slack, sort_keys=True) if self.slack else ""):
            digest.update(part.encode())
        for name, data, _ in self.attachments:
            digest.update(name.encode())
            digest.update(data)
        return digest.hexdigest()


@dataclass(frozen=True)
class Alert:
    """One alert: `key` (sent once), the `section` it is listed under, its `line`; for a
    SKU to order now also its supplier, order value, sales at risk and stockout date (an
    alert groups them per supplier)."""

    key: str
    section: str
    line: str
    supplier: str | None = None
    value: float = 0.0
    at_risk: float = 0.0
    stockout: dt.date | None = None


def _count(n: int, noun: str) -> str:
    """"1 line", "3 lines"."""
    return f"{n:,} {noun}{'' if n == 1 else 's'}"


def _section(text: str) -> dict:
    if len(text) > SLACK_TEXT_LIMIT:
        text = text[:SLACK_TEXT_LIMIT].rsplit("\n", 1)[0] + "\n_…cut; the email has it all_"
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def _slack(title: str, sections: list[str], context: list[str]) -> dict:
    """A Block Kit message: a header, mrkdwn sections, a context line; `text` is the
    notification's fallback (Slack's documented requirement for accessibility)."""
    blocks: list[dict] = [{"type": "header", "text": {"type": "plain_text", "text": title[:150]}}]
    blocks += [_section(s) for s in sections if s]
    if context:
        blocks.append({"type": "context", "elements": [
            {"type": "mrkdwn", "text": " · ".join(context)[:2900]}]})
    return {"text": title, "blocks": blocks}


def _footer(settings: DeliverySettings, extra: str = "") -> str:
    link = f" Dashboards and files: {settings.dashboard_url}" if settings.dashboard_url else ""
    return f"Sent by storeops.{link} {extra}".strip()


def _blocks_after(doc: Document, heading: str) -> list:
    """The blocks of `doc` under the heading `heading`, up to the next heading."""
    out, inside = [], False
    for block in doc.blocks:
        if isinstance(block, Heading):
            if inside:
                break
            inside = block.text == heading
        elif inside:
            out.append(block)
    return out


def stale_sources(doc: Document) -> list[str]:
    """The brief's "Stale: ..." lines (daily feeds that end before its day)."""
    return [item for block in _blocks_after(doc, "Data quality") if isinstance(block, Bullets)
            for item in block.items if item.startswith("Stale:")]


def brief_summary(doc: Document, settings: DeliverySettings) -> dict:
    """The daily brief's Slack summary: the headline figures against last week, the top
    actions (stock to order, supply problems, anomalies), stale sources; the email has the
    rest."""
    figures = []
    for block in _blocks_after(doc, "At a glance"):
        if isinstance(block, Table):
            for row in block.rows:
                figures.append(f"*{row[0]}* {row[1]} ({row[3]} vs last week)")
        elif isinstance(block, Note):
            figures.append(f"_{block.text}_")
    actions = []
    for block in _blocks_after(doc, "Inventory"):
        if isinstance(block, Bullets):
            actions += [item.replace("**", "*") for item in block.items[:3]]
    for block in _blocks_after(doc, "Anomalies"):
        if isinstance(block, Table):
            actions += [f"{r[0]}: {r[1]} in {r[2]} (value {r[4]}, expected {r[5]})"
                        + (f"; {r[6]}" if r[6] else "") for r in block.rows[:3]]
    stale = [s.replace("**", "*") for s in stale_sources(doc)]
    context = [doc.subtitle] + ([f"<{settings.dashboard_url}|Dashboards>"]
                                if settings.dashboard_url else [])
    return _slack(doc.title, ["\n".join(figures), "*Top actions*\n" + "\n".join(
        f"• {a}" for a in actions) if actions else "", "\n".join(f":warning: {s}" for s in stale)],
        context)


def _email_parts(doc: Document, settings: DeliverySettings, *, preheader: str = "",
                 note: str = "") -> tuple[str, str]:
    footer = _footer(settings, note)
    text = doc.to_markdown() + f"\n{footer}\n"
    return text, doc.to_email_html(preheader=preheader, footer=footer)


def daily_brief(con, settings: DeliverySettings, *, as_of: dt.date, currency: str,
                failed_checks: list[str]) -> Message:
    """The morning brief of `as_of` (the same Document as output/briefings/<as_of>.html),
    or, when a blocking check failed, a short notice that says what broke instead."""
    from dashboards.briefings import daily_brief as build

    if failed_checks:
        return notice(settings, as_of=as_of, failed_checks=failed_checks)
    doc = build(con, as_of=as_of, currency=currency, failed_checks=[])
    stale = stale_sources(doc)
    glance = next((b for b in _blocks_after(doc, "At a glance") if isinstance(b, Table)), None)
    headline = (", ".join(f"{r[0]} {r[1]}" for r in glance.rows[:2]) if glance else "no orders")
    subject = f"Daily brief {as_of:%a %d %b}: {headline}" + (" (stale data)" if stale else "")
    text, page = _email_parts(doc, settings, preheader=headline)
    return Message("daily_brief", f"daily_brief:{as_of}", as_of, subject, text, page,
                   to=settings.email_to("daily_brief"),
                   slack=brief_summary(doc, settings) if settings.posts("daily_brief") else None)


def notice(settings: DeliverySettings, *, as_of: dt.date, failed_checks: list[str]) -> Message:
    """Instead of the brief when a blocking check failed: what broke, and that nothing
    was sent from the data it guards."""
    doc = Document(title=f"No brief for {as_of:%a %d %b %Y}: data checks failed",
                   subtitle="The brief, reports and buyer files are held back until the data "
                            "passes its checks again.")
    doc.add(Heading("What failed"), Bullets(tuple(failed_checks[:20])))
    if len(failed_checks) > 20:
        doc.add(Note(f"{len(failed_checks) - 20} more in the quality report."))
    doc.add(Paragraph("The data team can see each failure, its rows and where to look in the "
                      "quality report (output/quality/) and in the Dagster UI."))
    digest = hashlib.sha256("\n".join(sorted(failed_checks)).encode()).hexdigest()[:12]
    text, page = _email_parts(doc, settings)
    slack = (_slack(doc.title, ["\n".join(f"• {c}" for c in failed_checks[:10])],
                    [doc.subtitle]) if settings.posts("notice") else None)
    return Message("notice", f"notice:{as_of}:{digest}", as_of, doc.title, text, page,
                   to=settings.email_to("daily_brief"), slack=slack)


def weekly_report(con, settings: DeliverySettings, *, week_start: dt.date,
                  currency: str, home: Path | None = None) -> Message:
    """The weekly report of the ISO week starting `week_start` (a Monday); `home` gives its
    "Spend and audiences" section the audience counts of output/audiences/."""
    from dashboards.briefings import weekly_report as build

    doc = build(con, week_start=week_start, currency=currency,
                audiences_dir=Path(home) / "output" / "audiences" if home else None)
    label = iso_week_label(week_start)
    text, page = _email_parts(doc, settings)
    slack = (_slack(doc.title, [doc.to_slack_mrkdwn(max_rows=6)], [doc.subtitle])
             if settings.posts("weekly_report") else None)
    return Message("weekly_report", f"weekly_report:{label}", week_start + dt.timedelta(days=6),
                   f"Weekly report {label}", text, page, to=settings.email_to("weekly_report"),
                   slack=slack)


def monthly_report(con, settings: DeliverySettings, *, month: dt.date, currency: str) -> Message:
    """The monthly report of the calendar month starting `month`."""
    from dashboards.monthly import monthly_report as build

    doc = build(con, month=month, currency=currency)
    text, page = _email_parts(doc, settings)
    slack = (_slack(doc.title, [doc.to_slack_mrkdwn(max_rows=6)], [doc.subtitle])
             if settings.posts("monthly_report") else None)
    last_day = (month.replace(day=28) + dt.timedelta(days=4)).replace(day=1) - dt.timedelta(days=1)
    return Message("monthly_report", f"monthly_report:{month:%Y-%m}", last_day,
                   f"Monthly report {month:%B %Y}", text, page,
                   to=settings.email_to("monthly_report"), slack=slack)


def alert_items(con, *, as_of: dt.date, currency: str) -> list[Alert]:
    """Every alert of the run of `as_of` (Alert: key, section, line, ...): critical and high
    anomalies (one key per incident), SKUs to order now (one key per SKU and ISO week:
    the brief lists them daily, an alert says it once a week), and purchase orders late
    or likely to arrive after the SKU runs out (one key per PO line and kind), each with
    the driver and the money at stake."""
    items: list[Alert] = []
    if _exists(con, "analytics", "anomalies"):
        for r in _rows(con, """
                select metric, dimension, incident_start, value, expected, severity, direction,
                       driver, impact
                from analytics.anomalies
                where date = ? and is_current and severity in ('critical', 'high')
                order by case severity when 'critical' then 0 else 1 end, impact desc nulls last""",
                       [as_of]):
            where = "the store" if r["dimension"] == "all" else r["dimension"].replace("=", " ")
            at_stake = (f"; {money(float(r['impact']), currency)} at stake that day"
                        if r["impact"] is not None else "")
            items.append(Alert(f"anomaly:{r['metric']}:{r['dimension']}:{r['incident_start']}",
                          "Anomalies",
                          f"**{r['severity']}**: {r['metric']} {r['direction']} in {where} since "
                          f"{r['incident_start']} ({number(float(r['value']), 2)} against "
                          f"{number(float(r['expected']), 2)} expected){at_stake}"
                          + (f". Driver: {r['driver']}" if r["driver"] else "")))
    week = iso_week_label(as_of)
    if _exists(con, "analytics", "reorder_suggestions"):
        for r in _rows(con, """
                select sku, product, supplier_id, days_of_cover, projected_stockout_date,
                       suggested_qty, line_value, expected_revenue_at_risk
                from analytics.reorder_suggestions
                where urgency = 'order_now' and suggested_qty > 0 and as_of_date = ?
                order by expected_revenue_at_risk desc nulls last, sku""", [as_of]):
            risk = r["expected_revenue_at_risk"]
            items.append(Alert(
                f"order_now:{r['sku']}:{week}", "Order now",
                f"**{r['sku']}** {r['product'] or ''} from {r['supplier_id']}: "
                f"{number(float(r['days_of_cover'] or 0), 1)} days of cover, runs out "
                f"{r['projected_stockout_date'] or 'soon'}; order "
                f"{number(float(r['suggested_qty']))} ({money(float(r['line_value'] or 0), currency)})"
                + (f"; {money(float(risk), currency)} of sales at risk" if risk else ""),
                supplier=r["supplier_id"] or "unknown supplier",
                value=float(r["line_value"] or 0), at_risk=float(risk or 0),
                stockout=r["projected_stockout_date"]))
    if _exists(con, "analytics", "supply_alerts"):
        risk_by_sku = {}
        if _exists(con, "analytics", "reorder_suggestions"):
            risk_by_sku = {r["sku"]: r["expected_revenue_at_risk"] for r in _rows(
                con, "select sku, expected_revenue_at_risk from analytics.reorder_suggestions")}
        for r in _rows(con, """
                select alert_type, severity, supplier_id, sku, po_number, message
                from analytics.supply_alerts
                where alert_type = 'po_at_risk' or (alert_type = 'po_late' and severity = 'high')
                order by alert_type, po_number, sku"""):
            risk = risk_by_sku.get(r["sku"])
            items.append(Alert(f"{r['alert_type']}:{r['po_number']}:{r['sku']}", "Purchase orders",
                               r["message"] + (f"; {money(float(risk), currency)} of sales at risk"
                                               if risk else "")))
    return items


ORDER_NOW_LISTED = 8  # more SKUs to order now than this: one line per supplier


def _order_now_lines(alerts: list[Alert], currency: str) -> list[str]:
    """The SKUs to order now, one line each, or, when there are many (a first run, a
    season's start), one line per supplier: SKUs, order value, sales at risk, first
    stockout; the supplier's reorder file has the lines."""
    if len(alerts) <= ORDER_NOW_LISTED:
        return [a.line for a in alerts]
    by_supplier: dict[str, list[Alert]] = {}
    for a in alerts:
        by_supplier.setdefault(a.supplier or "unknown supplier", []).append(a)
    ranked = sorted(by_supplier.items(), key=lambda kv: (-sum(a.at_risk for a in kv[1]), kv[0]))
    lines = []
    for supplier, group in ranked:
        first = min((a.stockout for a in group if a.stockout), default=None)
        risk = sum(a.at_risk for a in group)
        lines.append(f"**{supplier}**: {_count(len(group), 'SKU')} to order "
                     f"now ({money(sum(a.value for a in group), currency)})"
                     + (f", {money(risk, currency)} of sales at risk" if risk else "")
                     + (f"; the first runs out {first}" if first else "")
                     + ". The lines are in its reorder file.")
    return lines


def alerts(con, settings: DeliverySettings, *, as_of: dt.date, currency: str,
           already_sent: set[str]) -> Message | None:
    """One message with the alerts of `as_of` not sent before (`already_sent`: item keys),
    grouped by kind (SKUs to order now per supplier when there are many); None when there
    is nothing new."""
    fresh = [a for a in alert_items(con, as_of=as_of, currency=currency)
             if a.key not in already_sent]
    if not fresh:
        return None
    counts = [(sum(a.section == section for a in fresh), one, many) for section, one, many in (
        ("Anomalies", "anomaly", "anomalies"), ("Order now", "SKU to order now", "SKUs to order now"),
        ("Purchase orders", "purchase-order line at risk", "purchase-order lines at risk"))]
    doc = Document(title=f"Alerts {as_of:%a %d %b}: " + ", ".join(
                       f"{n} {one if n == 1 else many}" for n, one, many in counts if n),
                   subtitle="Alerts not sent before; the daily brief has the full picture.")
    sections = []
    for section in ("Anomalies", "Order now", "Purchase orders"):
        chosen = [a for a in fresh if a.section == section]
        lines = (_order_now_lines(chosen, currency) if section == "Order now"
                 else [a.line for a in chosen])
        if lines:
            doc.add(Heading(section), Bullets(tuple(lines)))
            sections.append(f"*{section}*\n" + "\n".join(f"• {line.replace('**', '*')}"
                                                        for line in lines[:10])
                            + (f"\n_and {len(lines) - 10} more_" if len(lines) > 10 else ""))
    digest = hashlib.sha256("\n".join(a.key for a in fresh).encode()).hexdigest()[:12]
    text, page = _email_parts(doc, settings)
    slack = _slack(doc.title, sections, [doc.subtitle]) if settings.posts("alerts") else None
    return Message("alerts", f"alerts:{as_of}:{digest}", as_of, doc.title, text, page,
                   to=settings.email_to("alerts"), slack=slack,
                   items=tuple(a.key for a in fresh))


def reorder_files(con, settings: DeliverySettings, *, home: Path, as_of: dt.date,
                  currency: str) -> list[Message]:
    """One email per supplier file of `as_of` with lines to order, to that supplier's
    buyer (or the default buyer): what is asked in the body, the XLSX and CSV attached.
    Suppliers without a buyer get none (the delivery's metadata lists them)."""
    if not _exists(con, "analytics", "reorder_file_log") or not settings.email:
        return []
    folder = Path(home) / "output" / "reorders" / as_of.isoformat()
    out = []
    for r in _rows(con, """
            select supplier, max(lines) as lines, max(order_value) as order_value
            from analytics.reorder_file_log where as_of_date = ? and lines > 0
            group by supplier order by supplier""", [as_of]):
        buyer = settings.buyer_of(r["supplier"])
        stem = supplier_file_stem(r["supplier"])
        files = [folder / f"{stem}.xlsx", folder / f"{stem}.csv"]
        if buyer is None or not all(f.exists() for f in files):
            continue
        lines = _rows(con, """
            select sku, product, suggested_qty, line_value, urgency, days_of_cover
            from analytics.reorder_suggestions
            where supplier_id = ? and suggested_qty > 0
            order by case urgency when 'order_now' then 0 when 'order_soon' then 1 else 2 end,
                     days_of_cover nulls last, sku""", [r["supplier"]])
        now = sum(1 for line in lines if line["urgency"] == "order_now")
        doc = Document(title=f"Reorder file for {r['supplier']}, {as_of:%d %b %Y}",
                       subtitle=f"{_count(r['lines'], 'line')}, "
                                f"{money(float(r['order_value'] or 0), currency)} at suggested "
                                "quantities.")
        doc.add(Paragraph(f"**What is asked:** review the attached file (XLSX, or CSV), fill in "
                          f"`approved_qty` for each line you order (0 to skip a line) and put the "
                          f"file back in the approvals folder (landing/approvals/). "
                          f"{_count(now, 'line')} {'is' if now == 1 else 'are'} marked order now: "
                          "stock is at or below the reorder point (the file's reason column "
                          "says why for each)."),
                Heading("Lines to look at first"),
                Table(("SKU", "Product", "Urgency", "Days of cover", "Suggested", "Value"),
                      tuple((line["sku"], line["product"] or "", line["urgency"],
                             number(float(line["days_of_cover"]), 1)
                             if line["days_of_cover"] is not None else "n/a",
                             number(float(line["suggested_qty"])),
                             money(float(line["line_value"] or 0), currency)) for line in lines[:10]),
                      (False, False, False, True, True, True)))
        if len(lines) > 10:
            doc.add(Note(f"{_count(len(lines) - 10, 'more line')} in the file."))
        text, page = _email_parts(doc, settings, note="Unanswered files are escalated after "
                                  f"{settings.escalation_hours:g} hours.")
        out.append(Message("reorder_file", f"reorder_file:{r['supplier']}:{as_of}", as_of,
                           doc.title, text, page,
                           attachments=[(files[0].name, files[0].read_bytes(), XLSX),
                                        (files[1].name, files[1].read_bytes(), "text/csv")],
                           to=(buyer,)))
    return out


def escalations(con, settings: DeliverySettings, *, now: dt.datetime,
                currency: str) -> list[Message]:
    """One message per reorder file nobody answered within `escalation_hours` of being
    written (analytics.reorder_file_log), to the escalation list. `now` is UTC."""
    if not _exists(con, "analytics", "reorder_file_log"):
        return []
    cutoff = now.replace(tzinfo=None) - dt.timedelta(hours=settings.escalation_hours)
    out = []
    for r in _rows(con, """
            select supplier, as_of_date, min(written_at) as written_at, max(lines) as lines,
                   max(order_value) as order_value
            from analytics.reorder_file_log
            where not is_reviewed and lines > 0
            group by supplier, as_of_date
            having min(written_at) < ?
            order by written_at, supplier""", [cutoff]):
        hours = (now.replace(tzinfo=None) - r["written_at"]).total_seconds() / 3600
        title = (f"Unanswered for {hours:.0f} hours: the reorder file for {r['supplier']} "
                 f"({r['as_of_date']})")
        buyer = settings.buyer_of(r["supplier"])
        doc = Document(title=title, subtitle=f"{r['lines']} lines, "
                                             f"{money(float(r['order_value'] or 0), currency)}.")
        said = ("The file was written at {at} UTC{to} and no answer has come back (no file "
                "naming its SKUs in landing/approvals/). Stock may run out while it waits: "
                "please see that it is reviewed today.")
        at = f"{r['written_at']:%Y-%m-%d %H:%M}"
        doc.add(Paragraph(said.format(at=at, to=f" and sent to {buyer}" if buyer else "")))
        text, page = _email_parts(doc, settings)
        # Slack channels are wider than the escalation list: no address is posted there.
        slack = (_slack(title, [said.format(at=at, to="")], [doc.subtitle])
                 if settings.posts("escalation") else None)
        out.append(Message("escalation", f"escalation:{r['supplier']}:{r['as_of_date']}",
                           r["as_of_date"], title, text, page,
                           to=settings.email_to("escalation"), slack=slack))
    return out


# The audience files of the ad platforms go to the data team; the Klaviyo lists (plain
# emails) never leave the folder. Most mail servers refuse a message over 20-25 MB and
# base64 adds a third: attachments weighing more than this are zipped, and when the zip
# does too, the files stay on disk (only the manifest is attached).
AD_PLATFORMS = ("meta", "google", "tiktok")
MAX_ATTACHED_BYTES = 15_000_000
# Anything shaped like an address: a file that holds one is never attached (a guard: the
# ad-platform files hold only hashes by construction).
ADDRESS = re.compile(rb"[^@\s,;:\"'<>]+@[^@\s,;:\"'<>]+\.[A-Za-z]{2,}")
UPLOAD_WHERE = {
    "meta": "Meta Ads Manager > Audiences > Create audience > Custom audience > Customer list",
    "google": "Google Ads > Tools > Audience manager > + > Customer list > Upload hashed data",
    "tiktok": "TikTok Ads Manager > Assets > Audiences > Create audience > Customer file",
}


def audience_files(settings: DeliverySettings, *, home: Path, as_of: dt.date,
                   max_attached_bytes: int = MAX_ATTACHED_BYTES) -> list[Message]:
    """The audience files of `as_of` (output/audiences/<as_of>/) by email to the data team
    (recipients `audiences`): the Meta, Google and TikTok files (identifiers SHA-256
    hashed) and manifest.csv attached, zipped when they weigh more than
    `max_attached_bytes`, left on disk (and said) when even the zip does; the Klaviyo
    lists, plain emails, are never attached: the body says where they are. Never posted
    to Slack. A file in which anything looks like an email address is not attached.
    Nothing (an empty list) when no one receives the kind or the folder has no manifest."""
    to = settings.email_to("audiences")
    folder = Path(home) / "output" / "audiences" / as_of.isoformat()
    if not to or not (folder / "manifest.csv").is_file():
        return []
    manifest_bytes = (folder / "manifest.csv").read_bytes()
    manifest = list(csv.DictReader(io.StringIO(manifest_bytes.decode())))
    attached: list[tuple[str, bytes, str]] = []
    held: list[str] = []  # ad-platform files not attached, with why
    on_disk: list[dict] = []  # the email-tool lists
    for entry in manifest:
        if entry["platform"] not in AD_PLATFORMS:
            on_disk.append(entry)
            continue
        if not (folder / entry["file"]).is_file():
            held.append(f"{entry['file']} (missing from the folder)")
            continue
        attached.append((entry["file"], (folder / entry["file"]).read_bytes(), "text/csv"))
    attached.append(("manifest.csv", manifest_bytes, "text/csv"))
    for name, data, _ in list(attached):
        if ADDRESS.search(data):
            held.append(f"{name} (something in it looks like an email address: look at it "
                        "before uploading)")
            attached = [a for a in attached if a[0] != name]
    packed = "files"
    if sum(len(data) for _, data, _ in attached) > max_attached_bytes:
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for name, data, _ in attached:
                archive.writestr(zipfile.ZipInfo(name, date_time=(*as_of.timetuple()[:3], 0, 0, 0)),
                                 data, zipfile.ZIP_DEFLATED)
        zipped = buffer.getvalue()
        if len(zipped) <= max_attached_bytes:
            attached, packed = [(f"audiences-{as_of.isoformat()}.zip", zipped,
                                 "application/zip")], "zip"
        else:
            attached = [a for a in attached if a[0] == "manifest.csv"]
            packed = "too big"
    platform_files = [e for e in manifest if e["platform"] in AD_PLATFORMS]
    doc = Document(title=f"Audience files, {as_of:%d %b %Y}",
                   subtitle=f"{_count(len(platform_files), 'file')} for Meta, Google and TikTok "
                            f"(identifiers SHA-256 hashed) from output/audiences/{as_of}/.")
    if packed == "files":
        what = "attached, with manifest.csv"
    elif packed == "zip":
        what = f"attached in audiences-{as_of}.zip, with manifest.csv"
    else:
        what = (f"too big to attach even zipped (over {max_attached_bytes / 1e6:.0f} MB): "
                f"only manifest.csv is attached; the files are in {folder}")
    doc.add(Paragraph(f"**What is sent:** the ad-platform audience files, {what}. Upload each "
                      "where its platform takes customer lists (below), replacing last week's "
                      "list of the same segment, then delete the copies: hashed identifiers "
                      "are still personal data."),
            Bullets(tuple(f"{p.capitalize() if p != 'tiktok' else 'TikTok'}: {UPLOAD_WHERE[p]}"
                          for p in AD_PLATFORMS)),
            Heading("Files"),
            Table(("Segment", "Platform", "File", "Rows", "Note"),
                  tuple((e["segment"], e["platform"], e["file"], number(int(e["rows"])),
                         e.get("note") or "") for e in platform_files),
                  (False, False, False, True, False)))
    if held:
        doc.add(Note("Not attached: " + "; ".join(held) + "."))
    if on_disk:
        lists = ", ".join(f"{e['file']} ({number(int(e['rows']))} rows)" for e in on_disk)
        doc.add(Heading("Email-tool lists, not attached"),
                Paragraph(f"The Klaviyo lists hold plain email addresses (customers who accepted "
                          f"email marketing) and are not sent by email: import them from "
                          f"{folder}/ on the storeops host ({lists}), then delete them."))
    text, page = _email_parts(doc, settings, note="storeops forget removes a customer from "
                              "these files; a list uploaded before keeps them until replaced.")
    return [Message("audiences", f"audiences:{as_of}", as_of, doc.title, text, page,
                    attachments=attached, to=to)]
