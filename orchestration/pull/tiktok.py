"""TikTok ad performance through the Business API's integrated report, written as the
TikTok Ads Manager daily report.

API: https://business-api.tiktok.com/portal/docs (Reporting, v1.3)
`GET /open_api/v1.3/report/integrated/get/` with the header `Access-Token`,
`advertiser_id`, `report_type=BASIC`, `data_level=AUCTION_AD`,
`dimensions=["ad_id","stat_time_day"]`, the metrics in METRICS (the names of campaign, ad
group and ad are attribute metrics at this level), `start_date`/`end_date` (at most 30 days
with a daily dimension) and `page`/`page_size` (up to 1,000; `page_info.total_page` says
how many). Every answer is HTTP 200 with a `code` in the body: 0 is success; 40100 is the
rate limit (TikTok sends no Retry-After: the pull waits 1 s, then doubles, up to
`max_attempts`); 40001, 40102, 40104 and 40105 are a token that is invalid, expired or
without access to the advertiser; any other code stops the pull with TikTok's message.

Rows are per ad per day, the grain of the report the landing folder holds (`By Day`,
`Campaign name`, `Ad group name`, `Ad name`). As for Meta, every pull asks again for the
last `lookback_days` (7) before its cursor, because conversions settle late; the new copy
replaces the old (newest file wins; files are dated by `By Day`). The cursor (the last
day pulled completely) is saved after each window of up to 30 days.

Pages land as `<landing>/tiktok_ads/api_report_<pull>_p<page>.csv` in the report's
columns: `Cost` (spend), `Impressions`, `Clicks (destination)` (clicks), `Conversions`
(conversion), `Total complete payment value` (TikTok's `total_complete_payment_rate`,
which despite its name is the value of complete-payment events), `Currency` (the
setting `currency`, default the store's: the report does not carry it), plus `Ad ID`.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from orchestration.pull.config import section_values
from orchestration.pull.credentials import (
    CredentialError,
    PullError,
    credential,
    redact,
)
from orchestration.pull.state import (
    PullLog,
    PullState,
    csv_bytes,
    daily_window,
    land_page,
    recorded,
)

SOURCE = "tiktok"
RESOURCE = "report"
LANDING_FOLDER = "tiktok_ads"
TOKEN_ENV = "TIKTOK_ACCESS_TOKEN"
API_VERSION = "v1.3"
MAX_DAYS = 30  # a report with stat_time_day spans at most 30 days
METRICS = ["campaign_name", "adgroup_name", "ad_name", "spend", "impressions", "clicks",
           "conversion", "total_complete_payment_rate"]
RATE_LIMITED = 40100
TOKEN_CODES = {40001, 40102, 40104, 40105}
COLUMNS = ["By Day", "Campaign name", "Ad group name", "Ad name", "Currency", "Cost",
           "Impressions", "Clicks (destination)", "Conversions", "Total complete payment value",
           "Ad ID"]


@dataclass
class TikTokSettings:
    """`sources: tiktok:` in storeops.yml.

    advertiser_id: the ad account; currency: its currency (default: the store's);
    base_url: instead of https://business-api.tiktok.com; token_env: the variable holding
    the access token; lookback_days, initial_days: as for Meta; page_size: rows per
    request (1-1000); freshness_hours: as for Shopify.
    """

    advertiser_id: str
    currency: str | None = None
    base_url: str | None = None
    token_env: str = TOKEN_ENV
    lookback_days: int = 7
    initial_days: int = 90
    page_size: int = 1000
    freshness_hours: float = 26.0

    @classmethod
    def from_config(cls, config: dict, where: str = "storeops.yml") -> TikTokSettings:
        """Read and check `sources: tiktok:`. Raises ValueError naming `where` and the key."""
        values = section_values(cls, config, source="tiktok", where=where,
                                required=("advertiser_id",),
                                needs="advertiser_id: <the ad account's number>",
                                bounds={"lookback_days": 365, "initial_days": 3650,
                                        "page_size": 1000})
        if not str(values["advertiser_id"]).isdigit():
            raise ValueError(f"{where}: sources: tiktok: advertiser_id must be the ad account's "
                             f"number, got {values['advertiser_id']!r}")
        return cls(**{**values, "advertiser_id": str(values["advertiser_id"]),
                      "token_env": str(values["token_env"])})

    @property
    def url(self) -> str:
        base = (self.base_url or "https://business-api.tiktok.com").rstrip("/")
        return f"{base}/open_api/{API_VERSION}/report/integrated/get/"


def report_rows(rows: list[dict], currency: str) -> list[dict[str, str]]:
    """Rows of the integrated report (`dimensions` and `metrics` per row, strings) as rows
    of the Ads Manager daily report, keys COLUMNS."""
    out = []
    for row in rows:
        dims, metrics = row["dimensions"], row["metrics"]
        out.append({
            "By Day": dims["stat_time_day"][:10], "Campaign name": metrics.get("campaign_name") or "",
            "Ad group name": metrics.get("adgroup_name") or "", "Ad name": metrics.get("ad_name") or "",
            "Currency": currency, "Cost": metrics.get("spend") or "0",
            "Impressions": metrics.get("impressions") or "0",
            "Clicks (destination)": metrics.get("clicks") or "",
            "Conversions": metrics.get("conversion") or "",
            "Total complete payment value": metrics.get("total_complete_payment_rate") or "",
            "Ad ID": str(dims.get("ad_id") or ""),
        })
    return out


def pull_report(home: Path, landing: Path, settings: TikTokSettings, *, timezone: str,
                currency: str, since: str | None = None, token: str | None = None,
                today: date | None = None, backoff: float = 1.0, max_attempts: int = 6,
                sleep: Callable[[float], None] = time.sleep,
                on_page: Callable[[str, int], None] | None = None) -> PullLog:
    """Pull the daily ad report from `lookback_days` before the saved cursor (or from
    `since`, ISO date, or `initial_days` ago) to yesterday in the store's timezone into
    `<landing>/tiktok_ads/`; save the cursor after each window of up to 30 days.

    currency: the store's currency, used when the setting `currency` is not given; token:
    the access token (default: from `settings.token_env`); backoff, max_attempts: HTTP
    retries (dlt) and the waits after TikTok's rate-limit code; sleep: how to wait.
    Returns the PullLog. Raises CredentialError (token missing or refused, one line naming
    the variable) or PullError (another error code, or rate-limited after every attempt).
    """
    os.environ.setdefault("RUNTIME__DLTHUB_TELEMETRY", "false")  # nothing calls home
    from dlt.sources.helpers.requests import Client

    token = token or credential(settings.token_env, purpose="TikTok Business API access token")
    currency = settings.currency or currency
    state = PullState(home)
    saved = state.cursor(SOURCE, RESOURCE)
    first, until = daily_window(saved, since=since,
                                today=today or datetime.now(ZoneInfo(timezone)).date(),
                                lookback_days=settings.lookback_days,
                                initial_days=settings.initial_days)
    session = Client(request_max_attempts=max_attempts, request_backoff_factor=backoff,
                     request_max_retry_delay=120, raise_for_status=False).session

    def count(response, *args, **kwargs):
        log.requests += 1
        response.raise_for_status()  # 429 and 5xx: dlt's retry

    def fetch(params: dict) -> dict:
        wait = 1.0
        for _ in range(max_attempts):
            body = session.get(settings.url, params=params, headers={"Access-Token": token},
                               hooks={"response": [count]}).json()
            code = body.get("code")
            if code == 0:
                return body["data"]
            message = redact(str(body.get("message", ""))[:300], token)
            if code in TOKEN_CODES:
                raise CredentialError(f"{settings.token_env} was refused by TikTok (code {code}: "
                                      f"{message}): renew the token or grant it this advertiser")
            if code != RATE_LIMITED:
                raise PullError(f"tiktok: the report answered code {code}: {message}")
            log.throttle_waits += 1
            log.throttle_seconds += wait
            sleep(wait)
            wait *= 2
        raise PullError(f"tiktok: rate-limited (code {RATE_LIMITED}) {max_attempts} times in a "
                        "row; try again later")

    number = 0

    def rounded(log: PullLog) -> None:
        log.throttle_seconds = round(log.throttle_seconds, 3)

    with recorded(home, SOURCE, RESOURCE, first.isoformat(), secrets=(token,),
                  finish=rounded) as log:
        log.cursor = saved
        day = first
        while day <= until:
            end = min(day + timedelta(days=MAX_DAYS - 1), until)
            page, pages = 1, 1
            while page <= pages:
                data = fetch({"advertiser_id": settings.advertiser_id, "report_type": "BASIC",
                              "data_level": "AUCTION_AD",
                              "dimensions": json.dumps(["ad_id", "stat_time_day"]),
                              "metrics": json.dumps(METRICS), "start_date": day.isoformat(),
                              "end_date": end.isoformat(), "page": page,
                              "page_size": settings.page_size})
                pages = int((data.get("page_info") or {}).get("total_page") or 1)
                rows = report_rows(data.get("list") or [], currency)
                page += 1
                if not rows:
                    continue
                number += 1
                land_page(log, landing, LANDING_FOLDER, f"api_report_{log.pull_id}_p{number:04d}.csv",
                          csv_bytes(COLUMNS, rows), rows=len(rows), records=len(rows),
                          on_page=on_page)
            log.cursor = end.isoformat()
            state.save(SOURCE, RESOURCE, log.cursor)
            day = end + timedelta(days=1)
    return log
