"""A local Gorgias REST API for tests (pytest-httpserver), answering as Gorgias documents
(https://developers.gorgias.com/reference): `GET /api/tickets` with HTTP Basic auth
(email, API key; a wrong key gets 401), cursor pagination (`limit` up to 100, `cursor`,
`order_by=updated_datetime:desc`; `{"data", "object": "list", "uri", "meta": {next_cursor,
prev_cursor}}`), 40 calls per 20 seconds (then 429 with Retry-After), and planned faults
by request number (`fail[n] = "429"` or `"500"`)."""

from __future__ import annotations

import base64
import json
import time

from werkzeug import Request, Response


def ticket(number: int, *, created: str, updated: str, status: str = "closed") -> dict:
    """A ticket as the list endpoint returns it."""
    return {"id": number, "uri": f"/api/tickets/{number}/", "subject": f"Order question {number}",
            "status": status, "channel": "email", "via": "email", "language": "en",
            "created_datetime": created, "opened_datetime": created,
            "closed_datetime": updated if status == "closed" else None,
            "last_message_datetime": updated, "updated_datetime": updated,
            "tags": [{"id": 11, "name": "order-status"}],
            "customer": {"id": 900 + number, "email": f"c{number}@example.com", "name": f"C {number}"},
            "assignee_user": {"id": 5, "email": "agent@store.example", "name": "Sam"},
            "satisfaction_survey": None, "messages_count": 2, "spam": False}


class GorgiasMock:
    """`tickets`, the account's `username` and `key`; `requests` records (params, status)."""

    def __init__(self, httpserver, *, username: str, key: str, tickets: list[dict],
                 calls: int = 40, window: float = 20.0):
        self.auth = "Basic " + base64.b64encode(f"{username}:{key}".encode()).decode()
        self.tickets = tickets
        self.calls, self.window = calls, window
        self.sent: list[float] = []
        self.fail: dict[int, str] = {}
        self.requests: list[tuple[dict, int]] = []
        httpserver.expect_request("/api/tickets", method="GET").respond_with_handler(self.handle)

    def handle(self, request: Request) -> Response:
        params = dict(request.args)
        number = len(self.requests) + 1
        if request.headers.get("Authorization") != self.auth:
            self.requests.append((params, 401))
            return Response(json.dumps({"error": {"msg": "Unauthorized"}}), status=401,
                            content_type="application/json")
        now = time.monotonic()
        self.sent = [t for t in self.sent if now - t < self.window]
        if self.fail.get(number) == "429" or len(self.sent) >= self.calls:
            self.requests.append((params, 429))
            return Response(json.dumps({"error": {"msg": "Too many requests"}}), status=429,
                            headers={"Retry-After": "1"}, content_type="application/json")
        if self.fail.get(number) == "500":
            # A debugging proxy's error page that quotes the request's headers.
            self.requests.append((params, 500))
            return Response("Internal Server Error. Request headers: Authorization: "
                            f"{request.headers.get('Authorization')}", status=500)
        self.sent.append(now)
        assert params.get("order_by") == "updated_datetime:desc", params
        ordered = sorted(self.tickets, key=lambda t: (t["updated_datetime"], t["id"]), reverse=True)
        limit = min(int(params.get("limit", 30)), 100)
        start = json.loads(base64.b64decode(params["cursor"]))["at"] if params.get("cursor") else 0
        chunk = ordered[start:start + limit]
        more = start + limit < len(ordered)
        self.requests.append((params, 200))
        return Response(json.dumps({
            "data": chunk, "object": "list", "uri": "/api/tickets",
            "meta": {"next_cursor": base64.b64encode(json.dumps({"at": start + limit}).encode()).decode()
                     if more else None,
                     "prev_cursor": None}}), status=200, content_type="application/json")
