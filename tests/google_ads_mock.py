"""A local Google OAuth token endpoint and Google Ads API searchStream for tests
(pytest-httpserver), answering as Google documents:
- `POST /token` (form: client_id, client_secret, refresh_token, grant_type=refresh_token)
  -> `{"access_token", "expires_in", "scope", "token_type": "Bearer"}`; a wrong secret or
  refresh token -> HTTP 400 `{"error": "invalid_grant", "error_description": "Token has been
  expired or revoked."}`.
- `POST /<version>/customers/<id>/googleAds:searchStream` with `Authorization: Bearer`,
  `developer-token` (and `login-customer-id`), body `{"query": GAQL}` -> a JSON array of
  batches `{"results": [{segments: {date}, campaign: {name}, adGroup: {name}, customer:
  {currencyCode}, metrics: {costMicros (string), impressions (string), clicks (string),
  conversions (number), conversionsValue (number)}}], "fieldMask", "requestId"}`; a bad
  developer token -> 401 UNAUTHENTICATED; planned faults by request number: "429"
  (RESOURCE_EXHAUSTED), "500".
The GAQL date range is read from its `BETWEEN 'a' AND 'b'`; the mock does not run GAQL.
`results` (API-shaped, e.g. a demo store's) are served instead of the made-up ad groups.
"""

from __future__ import annotations

import json
import re
from datetime import date, timedelta

from werkzeug import Request, Response

GROUPS = [("Search - Brand", "Brand exact"), ("Search - Generic", "Candles"),
          ("Shopping", "All products")]


class GoogleAdsMock:
    def __init__(self, httpserver, *, client_id: str, client_secret: str, refresh_token: str,
                 developer_token: str, customer: str, first: date, last: date,
                 version: str = "v22", batch_size: int = 40,
                 results: list[dict] | None = None):
        self.results = results
        self.client = (client_id, client_secret, refresh_token)
        self.developer_token, self.access = developer_token, "ya29.mock-access-token"
        self.conversions = {(g[1], first + timedelta(days=d)): float(d % 3)
                            for g in GROUPS for d in range((last - first).days + 1)}
        self.batch_size = batch_size
        self.fail: dict[int, str] = {}
        self.requests: list[tuple[str, object]] = []
        httpserver.expect_request("/token", method="POST").respond_with_handler(self.token)
        httpserver.expect_request(f"/{version}/customers/{customer}/googleAds:searchStream",
                                  method="POST").respond_with_handler(self.search)

    def token(self, request: Request) -> Response:
        form = request.form
        self.requests.append(("token", 200))
        if (form.get("client_id"), form.get("client_secret"), form.get("refresh_token")) != self.client \
                or form.get("grant_type") != "refresh_token":
            return Response(json.dumps({"error": "invalid_grant",
                                        "error_description": "Token has been expired or revoked."}),
                            status=400, content_type="application/json")
        return Response(json.dumps({"access_token": self.access, "expires_in": 3599,
                                    "scope": "https://www.googleapis.com/auth/adwords",
                                    "token_type": "Bearer"}), status=200,
                        content_type="application/json")

    @staticmethod
    def _error(status: int, code: str, message: str) -> Response:
        return Response(json.dumps([{"error": {"code": status, "message": message, "status": code}}]),
                        status=status, content_type="application/json")

    def search(self, request: Request) -> Response:
        number = len(self.requests) + 1
        if request.headers.get("Authorization") != f"Bearer {self.access}" or \
                request.headers.get("developer-token") != self.developer_token:
            self.requests.append(("search", 401))
            return self._error(401, "UNAUTHENTICATED", "Request is missing required "
                                                       "authentication credential.")
        if self.fail.get(number) == "429":
            self.requests.append(("search", 429))
            return self._error(429, "RESOURCE_EXHAUSTED", "Too many requests. Retry in 1 second.")
        if self.fail.get(number) == "500":
            self.requests.append(("search", 500))
            return self._error(500, "INTERNAL", "Internal error encountered.")
        query = request.get_json()["query"]
        since, until = re.search(r"BETWEEN '([0-9-]+)' AND '([0-9-]+)'", query).groups()
        start, end = date.fromisoformat(since), date.fromisoformat(until)
        results = [] if self.results is None else [
            r for r in self.results if start <= date.fromisoformat(r["segments"]["date"]) <= end]
        for d in range((end - start).days + 1 if self.results is None else 0):
            day = start + timedelta(days=d)
            for i, (campaign, group) in enumerate(GROUPS):
                if (group, day) not in self.conversions:
                    continue
                conv = self.conversions[(group, day)]
                results.append({"segments": {"date": day.isoformat()},
                                "campaign": {"resourceName": f"customers/1/campaigns/{i}", "name": campaign},
                                "adGroup": {"resourceName": f"customers/1/adGroups/{i}", "name": group},
                                "customer": {"resourceName": "customers/1", "currencyCode": "GBP"},
                                "metrics": {"costMicros": str(12_345_678 + 1_000_000 * i + 10_000 * d),
                                            "impressions": str(500 + d), "clicks": str(20 + i),
                                            "conversions": conv, "conversionsValue": conv * 52.5}})
        batches = [{"results": results[k:k + self.batch_size],
                    "fieldMask": "segments.date,campaign.name,adGroup.name,customer.currencyCode,"
                                 "metrics.costMicros,metrics.impressions,metrics.clicks,"
                                 "metrics.conversions,metrics.conversionsValue",
                    "requestId": f"req{number}"} for k in range(0, max(len(results), 1), self.batch_size)]
        self.requests.append(("search", 200))
        return Response(json.dumps(batches), status=200, content_type="application/json")
