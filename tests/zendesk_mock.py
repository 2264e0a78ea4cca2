"""A local Zendesk incremental ticket export for tests (pytest-httpserver), answering as
Zendesk documents (developer.zendesk.com, "Incremental Exports", cursor-based):
`GET /api/v2/incremental/tickets/cursor.json` with HTTP Basic auth `<email>/token` and
the API token (else 401), `start_time` (unix seconds) or `cursor`, sideloads
`include=users,groups,metric_sets`; the answer holds `tickets`, `users`, `groups`,
`metric_sets`, `after_cursor`, `after_url`, `before_cursor`, `end_of_stream`. The cursor
marks a position in (updated_at, id), so a later request with it returns what changed
after. Planned faults by request number: `fail[n] = "429"` (Retry-After: 1) or `"500"`."""

from __future__ import annotations

import base64
import json
from datetime import datetime

from werkzeug import Request, Response


def zendesk_ticket(number: int, *, created: str, updated: str, requester: int, status="solved",
                   channel="email", score="good", group=1) -> dict:
    return {"id": number, "subject": f"Where is order #{number}?", "status": status,
            "priority": "normal", "type": "question", "tags": ["order_status", "shipping"],
            "via": {"channel": channel}, "created_at": created, "updated_at": updated,
            "requester_id": requester, "assignee_id": 7, "group_id": group,
            "satisfaction_rating": {"score": score}}


def metric_set(number: int, *, assigned: str, solved: str | None, replies=2, reopens=0) -> dict:
    return {"ticket_id": number, "assigned_at": assigned, "solved_at": solved, "reopens": reopens,
            "replies": replies, "reply_time_in_minutes": {"calendar": 42, "business": 30},
            "full_resolution_time_in_minutes": {"calendar": 600, "business": 420}}


class ZendeskMock:
    def __init__(self, httpserver, *, email: str, token: str, tickets: list[dict],
                 metrics: list[dict], users: list[dict], page_size: int = 100,
                 groups: list[dict] | None = None):
        self.groups = groups or [{"id": 1, "name": "Orders"}, {"id": 2, "name": "Returns & Exchanges"}]
        self.auth = "Basic " + base64.b64encode(f"{email}/token:{token}".encode()).decode()
        self.tickets, self.metrics, self.users = tickets, metrics, users
        self.page_size = page_size
        self.fail: dict[int, str] = {}
        self.requests: list[tuple[dict, int]] = []
        httpserver.expect_request("/api/v2/incremental/tickets/cursor.json",
                                  method="GET").respond_with_handler(self.handle)

    def handle(self, request: Request) -> Response:
        params = dict(request.args)
        number = len(self.requests) + 1
        if request.headers.get("Authorization") != self.auth:
            self.requests.append((params, 401))
            return Response(json.dumps({"error": "Couldn't authenticate you"}), status=401,
                            content_type="application/json")
        if self.fail.get(number) == "429":
            self.requests.append((params, 429))
            return Response(json.dumps({"error": "APIRateLimitExceeded"}), status=429,
                            headers={"Retry-After": "1"}, content_type="application/json")
        if self.fail.get(number) == "500":
            self.requests.append((params, 500))
            return Response("Internal Server Error", status=500)
        assert params.get("include") == "users,groups,metric_sets", params
        ordered = sorted(self.tickets, key=lambda t: (t["updated_at"], t["id"]))
        if "cursor" in params:
            after = tuple(json.loads(base64.b64decode(params["cursor"])))
            rest = [t for t in ordered if (t["updated_at"], t["id"]) > after]
        else:
            start = datetime.fromtimestamp(int(params["start_time"])).astimezone()
            rest = [t for t in ordered if datetime.fromisoformat(t["updated_at"]) >= start]
        chunk = rest[:self.page_size]
        last = (chunk[-1]["updated_at"], chunk[-1]["id"]) if chunk else (
            json.loads(base64.b64decode(params["cursor"])) if "cursor" in params else ("", 0))
        cursor = base64.b64encode(json.dumps(list(last)).encode()).decode()
        ids = {t["id"] for t in chunk}
        people = {t["requester_id"] for t in chunk} | {t["assignee_id"] for t in chunk}
        self.requests.append((params, 200))
        return Response(json.dumps({
            "tickets": chunk,
            "users": [u for u in self.users if u["id"] in people],
            "groups": self.groups,
            "metric_sets": [m for m in self.metrics if m["ticket_id"] in ids],
            "after_cursor": cursor, "after_url": f"/api/v2/incremental/tickets/cursor.json?cursor={cursor}",
            "before_cursor": None, "before_url": None,
            "end_of_stream": len(rest) <= self.page_size}), status=200,
            content_type="application/json")
