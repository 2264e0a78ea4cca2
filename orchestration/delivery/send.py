"""One delivery pass: compose what is due, send each message once to each recipient,
record every attempt in the outbox (outbox.py states the guarantee), never raise for a
failed send.

What is due after the run of `as_of` (the latest data, never a replay):
- the daily brief of `as_of`, or a notice of what broke when a blocking check failed (then
  nothing else made from the data is sent);
- the weekly report of the last complete ISO week (normally on Monday morning: a week is
  sent once, so a missed Monday sends it on Tuesday) and the monthly report of the last
  complete month (on the 1st, likewise);
- the alerts of `as_of` not sent before (anomalies, SKUs to order now, late purchase
  orders that will cause a stockout);
- each supplier's reorder file of `as_of` to its buyer;
- the audience files of `as_of` (hashed, ad platforms only) to the data team;
- escalations: reorder files unanswered for `escalation_hours`;
- retries: earlier deliveries that failed or were interrupted, from their spooled copy.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from dashboards.document import iso_week_label, last_complete_month, last_complete_week
from orchestration.delivery import outbox
from orchestration.delivery.channels import (
    POLICY,
    DeliveryError,
    build_email,
    post_slack,
    send_email,
)
from orchestration.delivery.messages import (
    Message,
    alerts,
    audience_files,
    daily_brief,
    escalations,
    monthly_report,
    reorder_files,
    weekly_report,
)
from orchestration.delivery.settings import DeliverySettings
from orchestration.pull.credentials import CredentialError, credential
from orchestration.pull.state import write_atomic


@dataclass
class DeliveryReport:
    """What one pass did: deliveries sent (kind/channel -> count), failed (one line each,
    no secrets), already sent before (skipped), previews written (dry run), and messages
    nobody is configured to receive."""

    sent: Counter = field(default_factory=Counter)
    failed: list[str] = field(default_factory=list)
    already_sent: int = 0
    previews: list[str] = field(default_factory=list)
    unaddressed: list[str] = field(default_factory=list)

    def as_metadata(self) -> dict:
        return {"sent": dict(self.sent), "sent_total": sum(self.sent.values()),
                "failed": list(self.failed), "already_sent": self.already_sent,
                "previews": list(self.previews), "unaddressed": list(self.unaddressed)}


def compose(con: duckdb.DuckDBPyConnection, settings: DeliverySettings, *, home: Path,
            as_of: dt.date, currency: str, failed_checks: list[str], now: dt.datetime,
            only: set[str] | None = None) -> list[Message]:
    """Every message due after the run of `as_of` (see the module docstring); `only`:
    just these kinds (the escalation sensor asks for "escalation")."""
    if only is not None:
        return escalations(con, settings, now=now, currency=currency) if "escalation" in only else []

    def wanted(kind: str, key: str) -> bool:
        """Whether a report is still to be sent to someone (else it is not even composed:
        a rerun on the same day costs no report building)."""
        pairs = [("email", to) for to in settings.email_to(kind)]
        pairs += [("slack", settings.slack.webhook_env)] if settings.posts(kind) else []
        return any(outbox.due(con, outbox.delivery_id(key, *pair)) for pair in pairs)

    messages = []
    if failed_checks or wanted("daily_brief", f"daily_brief:{as_of}"):
        messages.append(daily_brief(con, settings, as_of=as_of, currency=currency,
                                    failed_checks=failed_checks))
    if not failed_checks:
        week, month = last_complete_week(as_of), last_complete_month(as_of)
        if wanted("weekly_report", f"weekly_report:{iso_week_label(week)}"):
            messages.append(weekly_report(con, settings, week_start=week, currency=currency,
                                          home=home))
        if wanted("monthly_report", f"monthly_report:{month:%Y-%m}"):
            messages.append(monthly_report(con, settings, month=month, currency=currency))
        fresh = alerts(con, settings, as_of=as_of, currency=currency,
                       already_sent=outbox.sent_items(con, "alerts"))
        if fresh:
            messages.append(fresh)
        messages += reorder_files(con, settings, home=home, as_of=as_of, currency=currency)
        if wanted("audiences", f"audiences:{as_of}"):
            messages += audience_files(settings, home=home, as_of=as_of)
    messages += escalations(con, settings, now=now, currency=currency)
    return messages


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-")[:80]


class _Channels:
    """The secrets, read once per pass and only when a message needs them."""

    def __init__(self, settings: DeliverySettings):
        self.settings = settings
        self._password: str | None | CredentialError = None
        self._webhook: str | CredentialError | None = None

    def password(self) -> str | None:
        smtp = self.settings.email
        if smtp is None or not smtp.username:
            return None
        if self._password is None:
            try:
                self._password = credential(smtp.password_env, purpose="SMTP password")
            except CredentialError as exc:
                self._password = exc
        if isinstance(self._password, CredentialError):
            raise self._password
        return self._password

    def webhook(self) -> str:
        if self._webhook is None:
            try:
                self._webhook = credential(self.settings.slack.webhook_env,
                                           purpose="Slack incoming webhook URL")
            except CredentialError as exc:
                self._webhook = exc
        if isinstance(self._webhook, CredentialError):
            raise self._webhook
        return self._webhook


def _addressed(message: Message, settings: DeliverySettings) -> list[tuple[str, str]]:
    """(channel, recipient) pairs of a message."""
    pairs = [("email", to) for to in message.to]
    if message.slack is not None:
        pairs.append(("slack", settings.slack.webhook_env))
    return pairs


def deliver(con: duckdb.DuckDBPyConnection, settings: DeliverySettings, *, home: Path,
            as_of: dt.date, currency: str, failed_checks: list[str] = (),
            now: dt.datetime | None = None, dry_run: bool = False,
            only: set[str] | None = None) -> DeliveryReport:
    """Compose what is due after the run of `as_of` and send it (see the module docstring).

    con: a writable connection to the warehouse (the outbox is analytics.outbox);
    failed_checks: the blocking checks the run failed (then only a notice is sent);
    now: UTC, for escalations (default: the clock); dry_run: write every message that would
    go out under `<home>/output/outbox/<as_of>/` (the email as .html and .eml, the Slack
    post as .slack.json) and send and record nothing; only: compose just these kinds
    (retries of earlier deliveries are sent all the same).

    Returns a DeliveryReport. Never raises for a failed send: the error is recorded in the
    outbox and the report, and the delivery is retried by the next pass.
    """
    now = now or dt.datetime.now(dt.UTC)
    report = DeliveryReport()
    outbox.ensure(con)
    messages = compose(con, settings, home=Path(home), as_of=as_of, currency=currency,
                       failed_checks=list(failed_checks), now=now, only=only)
    channels = _Channels(settings)
    spool = Path(home) / "outbox"
    preview = Path(home) / "output" / "outbox" / as_of.isoformat()
    if dry_run and preview.exists():  # a preview shows this pass only, not earlier ones
        for old in preview.iterdir():
            old.unlink()
    report.unaddressed += unknown_buyers(con, settings)
    composed: set[str] = set()
    for message in messages:
        pairs = _addressed(message, settings)
        if not pairs:
            report.unaddressed.append(f"{message.kind}: {message.subject}")
            continue
        for channel, recipient in pairs:
            ident = outbox.delivery_id(message.key, channel, recipient)
            composed.add(ident)
            if not outbox.due(con, ident):
                report.already_sent += 1
                continue
            payload = _payload(message, channel, recipient, ident, settings)
            if dry_run:
                report.previews += _write_preview(preview, message, channel, recipient, payload)
                _check_credential(channels, channel, report)
                continue
            write_atomic(spool / f"{ident}.{'eml' if channel == 'email' else 'json'}", payload)
            outbox.begin(con, ident=ident, message_key=message.key, kind=message.kind,
                         as_of=message.as_of, channel=channel, recipient=recipient,
                         subject=message.subject, content_sha256=message.content_sha256,
                         items=list(message.items))
            _send(con, channels, settings, report, ident, message.kind, channel, payload)
    if not dry_run:
        _retry_spooled(con, channels, settings, report, spool, skip=composed)
    return report


def _check_credential(channels: _Channels, channel: str, report: DeliveryReport) -> None:
    """In a dry run: say (once) when the credential a real send needs is missing."""
    try:
        channels.password() if channel == "email" else channels.webhook()
    except CredentialError as exc:
        line = f"a real send would fail: {exc}"
        if line not in report.failed:
            report.failed.append(line)


def unknown_buyers(con: duckdb.DuckDBPyConnection, settings: DeliverySettings) -> list[str]:
    """`buyers:` keys that name no supplier of the purchasing files (their files would go
    to the default buyer, or nowhere), one line each with the suppliers there are."""
    keys = sorted(set(settings.buyers) - {"default"})
    if not keys:
        return []
    try:
        known = {s for (s,) in con.execute(
            "select distinct supplier_id from analytics.reorder_suggestions "
            "where supplier_id is not null").fetchall()}
    except duckdb.Error:
        return []
    return [f"buyers: {key!r} is not a supplier of the reorder files (they name "
            f"{', '.join(sorted(known)[:8])}{', ...' if len(known) > 8 else ''})"
            for key in keys if key not in known]


def _payload(message: Message, channel: str, recipient: str, ident: str,
             settings: DeliverySettings) -> bytes:
    if channel == "slack":
        return json.dumps(message.slack, sort_keys=True).encode()
    email = build_email(sender=settings.email.sender, to=[recipient], subject=message.subject,
                        text=message.text, html=message.html, attachments=message.attachments,
                        message_id=f"<{ident}@storeops>")
    return bytes(email)


def _send(con, channels: _Channels, settings: DeliverySettings, report: DeliveryReport,
          ident: str, kind: str, channel: str, payload: bytes) -> None:
    try:
        if channel == "email":
            import email

            message = email.message_from_bytes(payload, policy=POLICY)
            send_email(settings.email, message, password=channels.password())
        else:
            post_slack(channels.webhook(), json.loads(payload),
                       webhook_env=settings.slack.webhook_env)
    except (DeliveryError, CredentialError) as exc:
        retryable = getattr(exc, "retryable", True)
        outbox.finish(con, ident, error=str(exc), retryable=retryable)
        report.failed.append(f"{kind} by {channel}: {exc}")
        return
    outbox.finish(con, ident)
    report.sent[f"{kind}/{channel}"] += 1


def _retry_spooled(con, channels: _Channels, settings: DeliverySettings,
                   report: DeliveryReport, spool: Path, *, skip: set[str]) -> None:
    """Send again what an earlier pass failed to send or was interrupted sending, from the
    copy it spooled (a brief of an earlier day goes out late rather than never)."""
    for ident, kind, channel in outbox.retries(con):
        if ident in skip:
            continue
        path = spool / f"{ident}.{'eml' if channel == 'email' else 'json'}"
        if not path.exists() or (channel == "email" and settings.email is None) or \
                (channel == "slack" and settings.slack is None):
            continue
        outbox.retry(con, ident)
        _send(con, channels, settings, report, ident, kind, channel, path.read_bytes())


def _write_preview(folder: Path, message: Message, channel: str, recipient: str,
                   payload: bytes) -> list[str]:
    stem = _slug(f"{message.kind}-{message.key.split(':', 1)[1]}-{recipient}")
    written = []
    if channel == "email":
        for name, data in ((f"{stem}.eml", payload),
                           (f"{stem}.html", (message.html or message.text).encode())):
            write_atomic(folder / name, data)
            written.append(str(folder / name))
    else:
        path = folder / f"{_slug(message.kind + '-' + message.key.split(':', 1)[1])}.slack.json"
        write_atomic(path, json.dumps(json.loads(payload), indent=2).encode())
        written.append(str(path))
    return written


def escalations_due(con: duckdb.DuckDBPyConnection, settings: DeliverySettings, *,
                    now: dt.datetime) -> list[str]:
    """Message keys of the escalations due now and not yet sent to every recipient (for the
    sensor: it reads, the pass it launches sends)."""
    if not settings.configured:
        return []
    has_outbox = bool(con.execute("select count(*) from information_schema.tables where "
                                  "table_schema = 'analytics' and table_name = 'outbox'").fetchone()[0])
    due = []
    for message in escalations(con, settings, now=now, currency=""):
        pending = [pair for pair in _addressed(message, settings)
                   if not has_outbox or outbox.due(con, outbox.delivery_id(message.key, *pair))]
        if pending:
            due.append(message.key)
    return due
