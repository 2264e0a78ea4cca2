"""Gorgias tickets through the REST API, written as the JSON lines the landing folder holds.

API: https://developers.gorgias.com/reference (list tickets: `GET /api/tickets`, cursor
pagination: `limit` up to 100, `cursor`, `order_by`; the answer is `{"data": [...],
"meta": {"next_cursor": ...}}`). Auth: HTTP Basic with the account's email as user and an
API key (Settings → REST API) as password. Rate limit: 40 calls per 20 seconds per API
key; past it Gorgias answers 429 with Retry-After.

The list has no "updated since" filter, so a pull reads tickets newest change first
(`order_by=updated_datetime:desc`, dlt's RESTClient with its cursor paginator) and stops
at the first ticket older than the cursor: the newest `updated_datetime` of the last
complete pull, saved only when a pull completes (a killed pull starts over from the
previous cursor; what it wrote twice is skipped or deduplicated). Requests are paced to 40
per 20 seconds; a 429 is retried after its Retry-After by dlt's client.

Each page becomes `<landing>/gorgias/api_tickets_<pull>_p<page>.jsonl`, the ticket objects
as the API returns them (the landing format of `gorgias/`). Tickets are dated by
`updated_datetime` when loaded, so a newer pull replaces an older copy.
"""

from __future__ import annotations

import json
import os
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from orchestration.pull.config import section_values
from orchestration.pull.credentials import CredentialError, basic_auth_value, credential
from orchestration.pull.state import PullLog, PullState, land_page, recorded

SOURCE = "gorgias"
RESOURCE = "tickets"
LANDING_FOLDER = "gorgias"
KEY_ENV = "GORGIAS_API_KEY"
PAGE_SIZE = 100
CALLS, WINDOW_S = 40, 20.0  # Gorgias: 40 calls per 20 seconds per API key


@dataclass
class GorgiasSettings:
    """`sources: gorgias:` in storeops.yml.

    domain: the account (`mystore` of mystore.gorgias.com); username: the email the API
    key belongs to; base_url: instead of `https://<domain>.gorgias.com` (a proxy, a test
    server); key_env: the variable holding the API key; freshness_hours: as for Shopify.
    """

    domain: str
    username: str
    base_url: str | None = None
    key_env: str = KEY_ENV
    page_size: int = PAGE_SIZE
    freshness_hours: float = 26.0

    @classmethod
    def from_config(cls, config: dict, where: str = "storeops.yml") -> GorgiasSettings:
        """Read and check `sources: gorgias:`. Raises ValueError naming `where` and the key."""
        values = section_values(cls, config, source="gorgias", where=where,
                                required=("domain", "username"),
                                needs="domain: <account> and username: <the email of the API key>",
                                bounds={"page_size": 100})
        return cls(**{**values, "domain": str(values["domain"]),
                      "username": str(values["username"]), "key_env": str(values["key_env"])})

    @property
    def root(self) -> str:
        return (self.base_url or f"https://{self.domain}.gorgias.com").rstrip("/")


class Pacer:
    """At most `calls` requests in any `window` seconds. A response hook: after each
    answer it records the time (later than the server saw the request, so the pacing errs
    on the safe side) and, when `calls` answers fall in the last `window` seconds, waits
    until the oldest of them is `window` old before the next request goes out."""

    def __init__(self, calls: int = CALLS, window: float = WINDOW_S,
                 sleep: Callable[[float], None] = time.sleep):
        self.calls, self.window, self._sleep = calls, window, sleep
        self._sent: deque[float] = deque()
        self.waits = 0
        self.waited = 0.0

    def __call__(self, response, *args, **kwargs) -> None:
        now = time.monotonic()
        while self._sent and now - self._sent[0] >= self.window:
            self._sent.popleft()
        self._sent.append(now)
        if len(self._sent) >= self.calls:
            wait = self.window - (now - self._sent[0])
            if wait > 0:
                self.waits += 1
                self.waited += wait
                self._sleep(wait)
            self._sent.popleft()


def pull_tickets(home: Path, landing: Path, settings: GorgiasSettings, *,
                 since: str | None = None, key: str | None = None, backoff: float = 1.0,
                 max_attempts: int = 5, pacer: Pacer | None = None,
                 on_page: Callable[[str, int], None] | None = None) -> PullLog:
    """Pull the tickets changed since the saved cursor (or `since`, ISO 8601) into
    `<landing>/gorgias/` as JSON-lines pages; save the cursor when the pull completes and
    append it to `<home>/pulls/log.jsonl`.

    key: the API key (default: from `settings.key_env`); backoff, max_attempts: dlt's
    retries of 429/5xx; pacer: the 40-calls-per-20-s limiter. Returns the PullLog. Raises
    CredentialError (key missing or refused, one line naming the variable) or PullError.
    """
    os.environ.setdefault("RUNTIME__DLTHUB_TELEMETRY", "false")  # nothing calls home
    from dlt.sources.helpers.requests import Client
    from dlt.sources.helpers.rest_client import RESTClient
    from dlt.sources.helpers.rest_client.auth import HttpBasicAuth
    from dlt.sources.helpers.rest_client.paginators import JSONResponseCursorPaginator

    key = key or credential(settings.key_env, purpose="Gorgias REST API key")
    state = PullState(home)
    cursor = since or state.cursor(SOURCE, RESOURCE)
    pacer = pacer or Pacer()
    session = Client(request_max_attempts=max_attempts, request_backoff_factor=backoff,
                     request_max_retry_delay=60, raise_for_status=False).session

    def count(response, *args, **kwargs):
        log.requests += 1

    client = RESTClient(base_url=settings.root, auth=HttpBasicAuth(settings.username, key),
                        session=session, data_selector="data",
                        paginator=JSONResponseCursorPaginator(cursor_path="meta.next_cursor",
                                                              cursor_param="cursor"))

    def check(response, *args, **kwargs):
        if response.status_code in (401, 403):
            raise CredentialError(f"{settings.key_env} was refused by Gorgias for "
                                  f"{settings.username} (HTTP {response.status_code}): check "
                                  "the key and the username")
        # An HTTPError is what dlt's retry looks at: 429 (after Retry-After) and 5xx are
        # sent again, anything else or the last attempt reaches the caller.
        response.raise_for_status()

    def paced(log: PullLog) -> None:
        log.throttle_waits, log.throttle_seconds = pacer.waits, round(pacer.waited, 3)

    hidden = (key, basic_auth_value(settings.username, key))
    with recorded(home, SOURCE, RESOURCE, cursor, secrets=hidden, finish=paced) as log:
        log.cursor = cursor
        pages = client.paginate("/api/tickets", params={"limit": settings.page_size,
                                                        "order_by": "updated_datetime:desc"},
                                hooks={"response": [count, pacer, check]})
        for number, page in enumerate(pages, start=1):
            tickets = list(page)
            fresh = [t for t in tickets if cursor is None or t["updated_datetime"] >= cursor]
            if fresh:
                land_page(log, landing, LANDING_FOLDER, f"api_tickets_{log.pull_id}_p{number:04d}.jsonl",
                          "".join(json.dumps(t, sort_keys=True) + "\n" for t in fresh).encode(),
                          rows=len(fresh), records=len(fresh), on_page=on_page)
                log.cursor = max([log.cursor or "", *(t["updated_datetime"] for t in fresh)])
            if len(fresh) < len(tickets):
                break  # older than the cursor from here on
        if log.cursor:
            state.save(SOURCE, RESOURCE, log.cursor)
    return log
