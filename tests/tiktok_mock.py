"""A local TikTok Business API integrated report for tests (pytest-httpserver), answering as
TikTok documents (business-api.tiktok.com, Reporting v1.3): `GET
/open_api/v1.3/report/integrated/get/` with the header `Access-Token`, `advertiser_id`,
`report_type`, `data_level`, `dimensions` and `metrics` (JSON lists), `start_date`,
`end_date` (at most 30 days with stat_time_day), `page`, `page_size`; every answer HTTP 200
with `{code, message, request_id, data: {list: [{dimensions, metrics}], page_info}}`; code
40105 for a bad token, 40100 when rate-limited, 40002 for a range over 30 days.
`payments[(ad_id, day)]` can change between pulls (conversions settling). Planned faults by
request number: "limit" (40100), "500" (HTTP 500). `rows` (API-shaped, e.g. a demo
store's) are served instead of the made-up ads."""

from __future__ import annotations

import json
from datetime import date, timedelta

from werkzeug import Request, Response

ADS = [("Spring Sale", "Lookalike", "UGC 1", 7001), ("Spring Sale", "Lookalike", "UGC 2", 7002)]


class TikTokMock:
    def __init__(self, httpserver, *, token: str, advertiser: str, first: date, last: date,
                 rows: list[dict] | None = None):
        self.token, self.advertiser, self.rows = token, advertiser, rows
        self.payments = {(ad[3], first + timedelta(days=d)): d % 4
                         for ad in ADS for d in range((last - first).days + 1)}
        self.fail: dict[int, str] = {}
        self.requests: list[tuple[dict, object]] = []
        httpserver.expect_request("/open_api/v1.3/report/integrated/get/",
                                  method="GET").respond_with_handler(self.handle)

    @staticmethod
    def _body(code: int, message: str, data: dict | None = None) -> Response:
        return Response(json.dumps({"code": code, "message": message, "request_id": "2026120611",
                                    "data": data or {}}), status=200,
                        content_type="application/json")

    def handle(self, request: Request) -> Response:
        params = dict(request.args)
        number = len(self.requests) + 1
        if request.headers.get("Access-Token") != self.token:
            self.requests.append((params, 40105))
            return self._body(40105, "The access token is invalid or has been revoked.")
        if self.fail.get(number) == "limit":
            self.requests.append((params, 40100))
            return self._body(40100, "Too many requests. Please retry in some time.")
        if self.fail.get(number) == "500":
            self.requests.append((params, 500))
            return Response("Internal Server Error", status=500)
        assert params["advertiser_id"] == self.advertiser and params["data_level"] == "AUCTION_AD"
        assert json.loads(params["dimensions"]) == ["ad_id", "stat_time_day"]
        start, end = date.fromisoformat(params["start_date"]), date.fromisoformat(params["end_date"])
        if (end - start).days >= 30:
            self.requests.append((params, 40002))
            return self._body(40002, "The time span between start_date and end_date can't "
                                     "exceed 30 days when stat_time_day is a dimension.")
        rows = [] if self.rows is None else [
            r for r in self.rows
            if start <= date.fromisoformat(r["dimensions"]["stat_time_day"][:10]) <= end]
        for d in range((end - start).days + 1 if self.rows is None else 0):
            day = start + timedelta(days=d)
            for campaign, group, ad, ad_id in ADS:
                if (ad_id, day) not in self.payments:
                    continue
                paid = self.payments[(ad_id, day)]
                rows.append({"dimensions": {"ad_id": ad_id, "stat_time_day": f"{day} 00:00:00"},
                             "metrics": {"campaign_name": campaign, "adgroup_name": group,
                                         "ad_name": ad, "spend": f"{10 + ad_id % 10 + d % 3:.2f}",
                                         "impressions": str(2000 + d), "clicks": str(25 + d % 7),
                                         "conversion": str(paid),
                                         "total_complete_payment_rate": f"{paid * 39.9:.2f}"}})
        size, page = int(params["page_size"]), int(params["page"])
        chunk = rows[(page - 1) * size:page * size]
        total_page = max(1, -(-len(rows) // size))
        self.requests.append((params, 0))
        return self._body(0, "OK", {"list": chunk, "page_info": {
            "page": page, "page_size": size, "total_number": len(rows), "total_page": total_page}})
