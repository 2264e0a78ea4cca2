"""Zendesk tickets through the cursor-based incremental export, written as the ticket export.

API: https://developer.zendesk.com/api-reference/ticketing/ticket-management/incremental_exports/
`GET /api/v2/incremental/tickets/cursor.json?start_time=<unix>` the first time, then
`?cursor=<after_cursor>`; each answer holds `tickets`, `after_cursor` and `end_of_stream`
(true once it has returned everything up to about a minute ago). Sideloads
(`include=users,groups,metric_sets`) give requester and assignee, group names and each
ticket's metrics (reopens, replies, first reply and full resolution times, assigned and
solved times). Auth: HTTP Basic, `<email>/token` and an API token. Rate limit: 10 requests
a minute on these endpoints; past it a 429 with Retry-After, which dlt's requests client
honours; requests are also paced to 10 a minute.

The cursor is Zendesk's own `after_cursor`, saved after each page file is in place, so a
pull killed at any point resumes exactly after the last page it wrote. The first pull
starts `initial_days` back (or at `--since`).

Each page becomes `<landing>/zendesk/api_tickets_<pull>_p<page>.csv` with the columns of
Zendesk's ticket export, times in the store's timezone without an offset (as the export
writes them), `Via` and `Satisfaction Score` in the export's words. Tickets are dated by
`Updated at` when loaded, so a newer copy replaces an older one.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from orchestration.pull.config import section_values
from orchestration.pull.credentials import CredentialError, basic_auth_value, credential
from orchestration.pull.gorgias import Pacer
from orchestration.pull.state import PullLog, PullState, csv_bytes, land_page, recorded

SOURCE = "zendesk"
RESOURCE = "tickets"
LANDING_FOLDER = "zendesk"
TOKEN_ENV = "ZENDESK_API_TOKEN"
CALLS, WINDOW_S = 10, 60.0  # incremental exports: 10 requests a minute
EXPORT_COLUMNS = [
    "Id", "Requester", "Requester email", "Assignee", "Group", "Organization", "Subject", "Tags",
    "Status", "Priority", "Via", "Ticket type", "Created at", "Updated at", "Assigned at",
    "Solved at", "Satisfaction Score", "Reopens", "Replies", "First reply time in minutes",
    "First reply time in minutes within business hours", "Full resolution time in minutes",
    "Full resolution time in minutes within business hours",
]
# The API's via.channel in the words of Zendesk's export.
VIA = {"email": "Mail", "web": "Web form", "chat": "Chat", "voice": "Phone call (incoming)",
       "api": "API", "mobile": "Mobile", "sms": "Text", "native_messaging": "Messaging"}
SATISFACTION = {"good": "Good", "bad": "Bad", "offered": "Offered", "unoffered": "Unoffered"}


@dataclass
class ZendeskSettings:
    """`sources: zendesk:` in storeops.yml.

    subdomain: `mystore` of mystore.zendesk.com; email: the agent the API token acts for;
    base_url: instead of `https://<subdomain>.zendesk.com`; token_env: the variable holding
    the API token; initial_days: how far back the first pull starts; freshness_hours: as
    for Shopify.
    """

    subdomain: str
    email: str
    base_url: str | None = None
    token_env: str = TOKEN_ENV
    initial_days: int = 730
    freshness_hours: float = 26.0

    @classmethod
    def from_config(cls, config: dict, where: str = "storeops.yml") -> ZendeskSettings:
        """Read and check `sources: zendesk:`. Raises ValueError naming `where` and the key."""
        values = section_values(cls, config, source="zendesk", where=where,
                                required=("subdomain", "email"),
                                needs="subdomain: <account> and email: <the agent of the API token>",
                                bounds={"initial_days": 3650})
        return cls(**{**values, "subdomain": str(values["subdomain"]),
                      "email": str(values["email"]), "token_env": str(values["token_env"])})

    @property
    def root(self) -> str:
        return (self.base_url or f"https://{self.subdomain}.zendesk.com").rstrip("/")


def _local(timestamp: str | None, zone: ZoneInfo) -> str:
    if not timestamp:
        return ""
    return datetime.fromisoformat(timestamp).astimezone(zone).strftime("%Y-%m-%d %H:%M:%S")


def _minutes(value: dict | None, kind: str) -> str:
    number = (value or {}).get(kind)
    return "" if number is None else str(number)


def ticket_rows(page: dict, timezone: str) -> list[dict[str, str]]:
    """One page of the incremental export (tickets and their sideloads) as rows of the
    ticket export: one dict per ticket, keys EXPORT_COLUMNS. Deleted tickets are left out
    (the export does not list them)."""
    zone = ZoneInfo(timezone)
    users = {u["id"]: u for u in page.get("users") or []}
    groups = {g["id"]: g for g in page.get("groups") or []}
    metrics = {m["ticket_id"]: m for m in page.get("metric_sets") or []}
    rows = []
    for ticket in page.get("tickets") or []:
        if ticket.get("status") == "deleted":
            continue
        requester = users.get(ticket.get("requester_id")) or {}
        assignee = users.get(ticket.get("assignee_id")) or {}
        metric = metrics.get(ticket["id"]) or {}
        score = (ticket.get("satisfaction_rating") or {}).get("score")
        rows.append({
            "Id": str(ticket["id"]), "Requester": requester.get("name") or "",
            "Requester email": requester.get("email") or "",
            "Assignee": assignee.get("name") or "",
            "Group": (groups.get(ticket.get("group_id")) or {}).get("name") or "",
            "Organization": "", "Subject": ticket.get("subject") or "",
            "Tags": " ".join(ticket.get("tags") or []), "Status": ticket.get("status") or "",
            "Priority": ticket.get("priority") or "",
            "Via": VIA.get((ticket.get("via") or {}).get("channel") or "", ""),
            "Ticket type": ticket.get("type") or "",
            "Created at": _local(ticket.get("created_at"), zone),
            "Updated at": _local(ticket.get("updated_at"), zone),
            "Assigned at": _local(metric.get("assigned_at"), zone),
            "Solved at": _local(metric.get("solved_at"), zone),
            "Satisfaction Score": SATISFACTION.get(score or "", ""),
            "Reopens": "" if metric.get("reopens") is None else str(metric["reopens"]),
            "Replies": "" if metric.get("replies") is None else str(metric["replies"]),
            "First reply time in minutes": _minutes(metric.get("reply_time_in_minutes"), "calendar"),
            "First reply time in minutes within business hours":
                _minutes(metric.get("reply_time_in_minutes"), "business"),
            "Full resolution time in minutes":
                _minutes(metric.get("full_resolution_time_in_minutes"), "calendar"),
            "Full resolution time in minutes within business hours":
                _minutes(metric.get("full_resolution_time_in_minutes"), "business"),
        })
    return rows


def pull_tickets(home: Path, landing: Path, settings: ZendeskSettings, *, timezone: str,
                 since: str | None = None, token: str | None = None, backoff: float = 1.0,
                 max_attempts: int = 5, pacer: Pacer | None = None,
                 on_page: Callable[[str, int], None] | None = None) -> PullLog:
    """Pull the tickets changed since the saved cursor (or since `since`, ISO 8601, or
    `initial_days` ago on the first pull) into `<landing>/zendesk/` as export-shaped CSV
    pages; save Zendesk's cursor after each page; append the pull to the pull log.

    token: the API token (default: from `settings.token_env`); backoff, max_attempts:
    dlt's retries of 429/5xx; pacer: the 10-a-minute limiter. Returns the PullLog. Raises
    CredentialError (token missing or refused, one line naming the variable) or PullError.
    """
    os.environ.setdefault("RUNTIME__DLTHUB_TELEMETRY", "false")  # nothing calls home
    from dlt.sources.helpers.requests import Client

    token = token or credential(settings.token_env, purpose="Zendesk API token")
    state = PullState(home)
    saved = None if since else state.cursor(SOURCE, RESOURCE)
    if saved:
        params: dict = {"cursor": saved}
    else:
        start = (datetime.fromisoformat(since) if since
                 else datetime.now(UTC) - timedelta(days=settings.initial_days))
        params = {"start_time": int(start.timestamp())}
    params["include"] = "users,groups,metric_sets"
    window = saved or datetime.fromtimestamp(params["start_time"], UTC).isoformat()
    pacer = pacer or Pacer(CALLS, WINDOW_S)
    session = Client(request_max_attempts=max_attempts, request_backoff_factor=backoff,
                     request_max_retry_delay=120, raise_for_status=False).session
    auth = (f"{settings.email}/token", token)
    url = f"{settings.root}/api/v2/incremental/tickets/cursor.json"

    def hook(response, *args, **kwargs):
        log.requests += 1
        pacer(response)
        if response.status_code in (401, 403):
            raise CredentialError(f"{settings.token_env} was refused by Zendesk for "
                                  f"{settings.email} (HTTP {response.status_code}): check the "
                                  "token, the email and that token access is enabled")
        response.raise_for_status()  # 429 and 5xx: dlt's retry; the rest: below

    def paced(log: PullLog) -> None:
        log.throttle_waits, log.throttle_seconds = pacer.waits, round(pacer.waited, 3)

    hidden = (token, basic_auth_value(f"{settings.email}/token", token))
    with recorded(home, SOURCE, RESOURCE, window, secrets=hidden, finish=paced) as log:
        log.cursor = saved
        number = 0
        while True:
            response = session.get(url, params=params, auth=auth, hooks={"response": [hook]})
            page = response.json()
            number += 1
            rows = ticket_rows(page, timezone)
            if rows:
                land_page(log, landing, LANDING_FOLDER, f"api_tickets_{log.pull_id}_p{number:04d}.csv",
                          csv_bytes(EXPORT_COLUMNS, rows), rows=len(rows), records=len(rows),
                          on_page=on_page)
            if page.get("after_cursor"):
                log.cursor = page["after_cursor"]
                state.save(SOURCE, RESOURCE, log.cursor)
            if page.get("end_of_stream") or not page.get("after_cursor"):
                break
            params = {"cursor": log.cursor, "include": "users,groups,metric_sets"}
    return log
