"""A local Meta Marketing API (insights edge) for tests (pytest-httpserver), answering as
Meta documents (developers.facebook.com, Ads Insights API): `GET /<version>/act_<id>/insights`
with `level=ad`, `time_increment=1`, `time_range` (JSON since/until), `fields`, `limit`;
rows `{date_start, date_stop, account_currency, campaign_name, adset_name, ad_name, ad_id,
impressions, reach, frequency, inline_link_clicks, spend, actions, action_values}` as
strings; `paging: {cursors: {before, after}, next}`; errors as HTTP 400
`{"error": {"message", "type": "OAuthException", "code", "fbtrace_id"}}` (190: bad token;
80004: too many calls to the ad account). `purchases[(ad, day)]` can be changed between
pulls (conversions that settle late). `rows` (API-shaped insight rows, e.g. a demo store's)
are served instead of the made-up ads, by their date_start. Planned faults by request
number: "throttle", "500".
"""

from __future__ import annotations

import base64
import json
from datetime import date, timedelta
from urllib.parse import urlencode

from werkzeug import Request, Response

ADS = [("Prospecting", "Broad", "Video A", "6001"), ("Prospecting", "Broad", "Video B", "6002"),
       ("Retargeting", "Site visitors", "Carousel", "6003")]


class MetaMock:
    def __init__(self, httpserver, *, token: str, account: str, first: date, last: date,
                 version: str = "v25.0", currency: str = "EUR", rows: list[dict] | None = None):
        self.token, self.currency, self.version = token, currency, version
        self.rows = rows
        self.url = httpserver.url_for(f"/{version}/act_{account}/insights")
        self.purchases = {(ad[3], first + timedelta(days=d)): d % 3
                          for ad in ADS for d in range((last - first).days + 1)}
        self.fail: dict[int, str] = {}
        self.requests: list[tuple[dict, int]] = []
        httpserver.expect_request(f"/{version}/act_{account}/insights",
                                  method="GET").respond_with_handler(self.handle)

    @staticmethod
    def _error(code: int, message: str) -> Response:
        return Response(json.dumps({"error": {"message": message, "type": "OAuthException",
                                              "code": code, "fbtrace_id": "AbCdEf"}}),
                        status=400, content_type="application/json")

    def handle(self, request: Request) -> Response:
        params = dict(request.args)
        number = len(self.requests) + 1
        if request.headers.get("Authorization") != f"Bearer {self.token}":
            self.requests.append((params, 190))
            return self._error(190, "Error validating access token: Session has expired.")
        if self.fail.get(number) == "throttle":
            self.requests.append((params, 80004))
            return self._error(80004, "There have been too many calls to this ad-account. "
                                      "Wait a bit and try again.")
        if self.fail.get(number) == "500":
            self.requests.append((params, 500))
            return Response("{}", status=500, content_type="application/json")
        assert params["level"] == "ad" and params["time_increment"] == "1", params
        window = json.loads(params["time_range"])
        since, until = date.fromisoformat(window["since"]), date.fromisoformat(window["until"])
        rows = [] if self.rows is None else [
            r for r in self.rows if since <= date.fromisoformat(r["date_start"]) <= until]
        for d in range((until - since).days + 1 if self.rows is None else 0):
            day = since + timedelta(days=d)
            for campaign, adset, ad, ad_id in ADS:
                if (ad_id, day) not in self.purchases:
                    continue
                bought = self.purchases[(ad_id, day)]
                spend = 20 + int(ad_id[-1]) * 5 + d % 4
                rows.append({
                    "date_start": day.isoformat(), "date_stop": day.isoformat(),
                    "account_currency": self.currency, "campaign_name": campaign,
                    "adset_name": adset, "ad_name": ad, "ad_id": ad_id,
                    "impressions": str(1000 + 10 * d), "reach": str(800 + 5 * d),
                    "frequency": "1.25", "inline_link_clicks": str(30 + d % 5),
                    "spend": f"{spend:.2f}",
                    "actions": [{"action_type": "link_click", "value": "40"},
                                {"action_type": "purchase", "value": str(bought)},
                                {"action_type": "omni_purchase", "value": str(bought)}],
                    "action_values": [{"action_type": "purchase", "value": f"{bought * 45.5:.2f}"}],
                })
        limit = int(params.get("limit", 25))
        start = int(base64.b64decode(params["after"]).decode()) if params.get("after") else 0
        chunk = rows[start:start + limit]
        paging = {"cursors": {"before": base64.b64encode(str(start).encode()).decode(),
                              "after": base64.b64encode(str(start + limit).encode()).decode()}}
        if start + limit < len(rows):
            query = {k: v for k, v in params.items() if k != "after"}
            query["after"] = paging["cursors"]["after"]
            paging["next"] = f"{self.url}?{urlencode(query)}"
        self.requests.append((params, 200))
        return Response(json.dumps({"data": chunk, "paging": paging}), status=200,
                        content_type="application/json")
