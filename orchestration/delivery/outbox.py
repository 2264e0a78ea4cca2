"""The outbox: one row per message and recipient in `analytics.outbox`, written before a
message is sent and after, so that nothing is sent twice and nothing is lost.

The rule (at least once, with a dedupe key). A delivery's id is a hash of its message
key (kind, as-of and subject of the message: `daily_brief:2026-11-22`), channel and
recipient. Before sending, its row is set to `sending` and its attempts counted; after,
to `sent` (or `failed` with the error). A row already `sent` is never sent again. A crash
between sending and recording leaves the row `sending`: the next delivery sends it again,
so it may arrive twice but is never lost. An email carries the delivery id as its
Message-ID, which mail servers and clients use to drop such a duplicate; a Slack post
cannot be deduplicated by Slack and may then show twice.

A `failed` row is retried by the next delivery (a run, or `storeops send`) while the
error was transient and fewer than MAX_ATTEMPTS were made; a refused one (a wrong
address, a revoked webhook) stays `refused` until the settings change.
"""

from __future__ import annotations

import datetime as dt
import hashlib

import duckdb

MAX_ATTEMPTS = 5
STATUSES = ("sending", "sent", "failed", "refused", "previewed")

DDL = """
create schema if not exists analytics;
create table if not exists analytics.outbox (
    delivery_id varchar primary key,
    message_key varchar not null,
    kind varchar not null,
    as_of_date date,
    channel varchar not null,
    recipient varchar not null,
    subject varchar,
    content_sha256 varchar,
    items varchar[],
    status varchar not null,
    attempts integer not null default 0,
    last_error varchar,
    created_at timestamp not null,
    last_attempt_at timestamp,
    sent_at timestamp
)
"""


def delivery_id(message_key: str, channel: str, recipient: str) -> str:
    """The stable id of one message to one recipient on one channel (24 hex digits)."""
    return hashlib.sha256(f"{message_key}|{channel}|{recipient}".encode()).hexdigest()[:24]


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def ensure(con: duckdb.DuckDBPyConnection) -> None:
    """Create analytics.outbox when missing."""
    con.execute(DDL)


def status(con: duckdb.DuckDBPyConnection, ident: str) -> tuple[str, int] | None:
    """(status, attempts) of a delivery, or None when it was never tried."""
    row = con.execute("select status, attempts from analytics.outbox where delivery_id = ?",
                      [ident]).fetchone()
    return (row[0], row[1]) if row else None


def due(con: duckdb.DuckDBPyConnection, ident: str) -> bool:
    """Whether a delivery is to be sent now: never tried, interrupted (`sending`), or
    `failed` with attempts left."""
    found = status(con, ident)
    if found is None:
        return True
    state, attempts = found
    return state == "sending" or (state == "failed" and attempts < MAX_ATTEMPTS)


def begin(con: duckdb.DuckDBPyConnection, *, ident: str, message_key: str, kind: str,
          as_of: dt.date | None, channel: str, recipient: str, subject: str, content_sha256: str,
          items: list[str]) -> None:
    """Record that a delivery is being sent (status `sending`, one more attempt)."""
    now = _now()
    con.execute("""
        insert into analytics.outbox (delivery_id, message_key, kind, as_of_date, channel,
            recipient, subject, content_sha256, items, status, attempts, created_at,
            last_attempt_at)
        values (?, ?, ?, ?, ?, ?, ?, ?, ?, 'sending', 1, ?, ?)
        on conflict (delivery_id) do update set status = 'sending',
            attempts = analytics.outbox.attempts + 1, last_attempt_at = excluded.last_attempt_at,
            subject = excluded.subject, content_sha256 = excluded.content_sha256,
            items = excluded.items, last_error = null
    """, [ident, message_key, kind, as_of, channel, recipient, subject, content_sha256, items,
          now, now])


def finish(con: duckdb.DuckDBPyConnection, ident: str, *, error: str | None = None,
           retryable: bool = True) -> None:
    """Record the outcome: sent, or failed (retried later) / refused (not retried)."""
    if error is None:
        con.execute("update analytics.outbox set status = 'sent', sent_at = ?, last_error = null "
                    "where delivery_id = ?", [_now(), ident])
    else:
        con.execute("update analytics.outbox set status = ?, last_error = ? where delivery_id = ?",
                    ["failed" if retryable else "refused", error[:500], ident])


def sent_items(con: duckdb.DuckDBPyConnection, kind: str) -> set[str]:
    """Every item key (an alert's id) already in a sent message of `kind`."""
    return {item for (item,) in con.execute(
        "select distinct unnest(items) from analytics.outbox where kind = ? and status = 'sent'",
        [kind]).fetchall()}


def retries(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str, str]]:
    """(delivery_id, kind, channel) of every delivery due again: interrupted (`sending`)
    or failed with attempts left, oldest first (the rule `due` applies to one)."""
    return con.execute("""
        select delivery_id, kind, channel from analytics.outbox
        where status = 'sending' or (status = 'failed' and attempts < ?)
        order by created_at""", [MAX_ATTEMPTS]).fetchall()


def retry(con: duckdb.DuckDBPyConnection, ident: str) -> None:
    """Record that a delivery recorded before is being sent again (status `sending`, one
    more attempt)."""
    con.execute("update analytics.outbox set status = 'sending', attempts = attempts + 1, "
                "last_attempt_at = ?, last_error = null where delivery_id = ?", [_now(), ident])
