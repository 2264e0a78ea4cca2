"""Google Ads performance through the Google Ads API (`searchStream` with GAQL), written as
the campaign performance report the landing folder holds.

API: https://developers.google.com/google-ads/api/docs/start
- Auth: OAuth 2.0. The refresh token is exchanged for an access token at Google's token
  endpoint (`grant_type=refresh_token` with the OAuth client's id and secret); every
  request carries `Authorization: Bearer <access token>`, the `developer-token` header
  and, when the account is reached through a manager account, `login-customer-id`.
- Report: `POST /<version>/customers/<customer id>/googleAds:searchStream` with
  `{"query": GAQL}`; the answer is a JSON array of batches `{"results": [...],
  "fieldMask", "requestId"}`. The query asks per ad group per day for
  `metrics.cost_micros`, impressions, clicks, conversions and conversions value, with
  `customer.currency_code`.
- Errors: 401/403 (a refused token or developer token) stop the pull with one line naming
  the variables; 429 (RESOURCE_EXHAUSTED) and 5xx are retried with backoff by dlt's
  requests client.

Conversions are attributed to the day of the click and arrive for the length of the
conversion window, so every pull asks again for the last `lookback_days` (default 14)
before its cursor; the new copy replaces the old (newest file wins; files are dated by
`Day`). Windows of `slice_days` (30); the cursor is saved after each.

Pages land as `<landing>/google_ads/api_report_<pull>_p<page>.csv` shaped as the export
(two title lines, then `Day, Campaign, Ad group, Currency code, Cost, Impr., Clicks, ...`);
`Cost` is cost_micros / 1,000,000 to 4 decimals (the warehouse's money precision; at most
0.00005 off per row). `CTR`, `Avg. CPC` and `Cost / conv.` are ratios the API leaves to the
reader: left empty, staging computes its own.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
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

SOURCE = "google_ads"
RESOURCE = "report"
LANDING_FOLDER = "google_ads"
API_VERSION = "v22"
TOKEN_URL = "https://oauth2.googleapis.com/token"
DEVELOPER_TOKEN_ENV = "GOOGLE_ADS_DEVELOPER_TOKEN"
CLIENT_SECRET_ENV = "GOOGLE_ADS_CLIENT_SECRET"
REFRESH_TOKEN_ENV = "GOOGLE_ADS_REFRESH_TOKEN"
QUERY = """SELECT segments.date, campaign.name, ad_group.name, customer.currency_code,
  metrics.cost_micros, metrics.impressions, metrics.clicks, metrics.conversions,
  metrics.conversions_value
FROM ad_group
WHERE segments.date BETWEEN '{since}' AND '{until}'
ORDER BY segments.date"""
COLUMNS = ["Day", "Campaign", "Ad group", "Currency code", "Cost", "Impr.", "Clicks", "CTR",
           "Avg. CPC", "Conversions", "Conv. value", "Cost / conv."]


@dataclass
class GoogleAdsSettings:
    """`sources: google_ads:` in storeops.yml.

    customer_id: the Google Ads account (digits, dashes allowed); login_customer_id: the
    manager account it is reached through, if any; client_id: the OAuth client's id (not a
    secret; its secret is $GOOGLE_ADS_CLIENT_SECRET); api_version; base_url and token_url:
    instead of Google's (a proxy, a test server); lookback_days (14), initial_days (90),
    slice_days (30); freshness_hours: as for Shopify.
    """

    customer_id: str
    client_id: str
    login_customer_id: str | None = None
    api_version: str = API_VERSION
    base_url: str | None = None
    token_url: str = TOKEN_URL
    lookback_days: int = 14
    initial_days: int = 90
    slice_days: int = 30
    freshness_hours: float = 26.0

    def __post_init__(self) -> None:
        self.customer_id = str(self.customer_id).replace("-", "")
        if self.login_customer_id:
            self.login_customer_id = str(self.login_customer_id).replace("-", "")

    @classmethod
    def from_config(cls, config: dict, where: str = "storeops.yml") -> GoogleAdsSettings:
        """Read and check `sources: google_ads:`. Raises ValueError naming `where` and the key."""
        values = section_values(cls, config, source="google_ads", where=where,
                                required=("customer_id", "client_id"),
                                needs="customer_id: <123-456-7890> and client_id: <the OAuth "
                                      "client's id>",
                                bounds={"lookback_days": 365, "initial_days": 3650,
                                        "slice_days": 365})
        if not str(values["customer_id"]).replace("-", "").isdigit():
            raise ValueError(f"{where}: sources: google_ads: customer_id must be the account's "
                             f"number (123-456-7890), got {values['customer_id']!r}")
        return cls(**{**values, "customer_id": str(values["customer_id"]),
                      "client_id": str(values["client_id"]),
                      "api_version": str(values["api_version"])})

    @property
    def url(self) -> str:
        base = (self.base_url or "https://googleads.googleapis.com").rstrip("/")
        return f"{base}/{self.api_version}/customers/{self.customer_id}/googleAds:searchStream"


def report_rows(batches: list[dict]) -> list[dict[str, str]]:
    """The results of a searchStream answer (a list of batches) as rows of the campaign
    performance report, keys COLUMNS."""
    rows = []
    for batch in batches:
        for result in batch.get("results") or []:
            metrics = result.get("metrics") or {}
            cost = (Decimal(str(metrics.get("costMicros") or 0)) / Decimal(1_000_000)
                    ).quantize(Decimal("0.0001"), rounding=ROUND_HALF_EVEN)
            rows.append({
                "Day": result["segments"]["date"],
                "Campaign": (result.get("campaign") or {}).get("name") or "",
                "Ad group": (result.get("adGroup") or {}).get("name") or "",
                "Currency code": (result.get("customer") or {}).get("currencyCode") or "",
                "Cost": f"{cost}", "Impr.": str(metrics.get("impressions") or 0),
                "Clicks": str(metrics.get("clicks") or 0), "CTR": "", "Avg. CPC": "",
                "Conversions": str(metrics.get("conversions") or 0),
                "Conv. value": str(metrics.get("conversionsValue") or 0), "Cost / conv.": "",
            })
    return rows


def _title(since: date, until: date) -> str:
    def words(d: date) -> str:
        return f"{d.strftime('%B')} {d.day}, {d.year}"
    return f"Campaign performance report\n\"{words(since)} - {words(until)}\"\n"


def pull_report(home: Path, landing: Path, settings: GoogleAdsSettings, *, timezone: str,
                since: str | None = None, today: date | None = None, backoff: float = 2.0,
                max_attempts: int = 6, secrets: dict[str, str] | None = None,
                on_page: Callable[[str, int], None] | None = None) -> PullLog:
    """Pull the daily ad-group report from `lookback_days` before the saved cursor (or from
    `since`, ISO date, or `initial_days` ago) to yesterday in the store's timezone, into
    `<landing>/google_ads/`; save the cursor after each window.

    secrets: the developer token, client secret and refresh token by variable name
    (default: from the environment); backoff, max_attempts: dlt's retries of 429 and 5xx.
    Returns the PullLog. Raises CredentialError (a credential missing or refused, one line
    naming the variables) or PullError.
    """
    os.environ.setdefault("RUNTIME__DLTHUB_TELEMETRY", "false")  # nothing calls home
    from dlt.sources.helpers.requests import Client

    secrets = secrets or {
        DEVELOPER_TOKEN_ENV: credential(DEVELOPER_TOKEN_ENV, purpose="Google Ads developer token"),
        CLIENT_SECRET_ENV: credential(CLIENT_SECRET_ENV, purpose="OAuth client secret"),
        REFRESH_TOKEN_ENV: credential(REFRESH_TOKEN_ENV, purpose="OAuth refresh token"),
    }
    hidden = list(secrets.values())
    state = PullState(home)
    saved = state.cursor(SOURCE, RESOURCE)
    first, until = daily_window(saved, since=since,
                                today=today or datetime.now(ZoneInfo(timezone)).date(),
                                lookback_days=settings.lookback_days,
                                initial_days=settings.initial_days)
    session = Client(request_max_attempts=max_attempts, request_backoff_factor=backoff,
                     request_max_retry_delay=120, raise_for_status=False).session

    def hide(text: str) -> str:
        return redact(text, *hidden)

    def counted(response, *args, **kwargs):
        log.requests += 1
        if response.status_code == 429 or response.status_code >= 500:
            response.raise_for_status()  # dlt's retry

    def hook(response, *args, **kwargs):
        log.requests += 1
        if response.status_code in (401, 403):
            raise CredentialError(
                f"Google Ads refused the request (HTTP {response.status_code}): check "
                f"{DEVELOPER_TOKEN_ENV} (approved for this account), {REFRESH_TOKEN_ENV} and "
                f"that the OAuth user can read customer {settings.customer_id}")
        if response.status_code == 429 or response.status_code >= 500:
            response.raise_for_status()  # dlt's retry

    number = 0
    with recorded(home, SOURCE, RESOURCE, first.isoformat(), secrets=hidden) as log:
        log.cursor = saved
        grant = session.post(settings.token_url, data={
            "client_id": settings.client_id, "client_secret": secrets[CLIENT_SECRET_ENV],
            "refresh_token": secrets[REFRESH_TOKEN_ENV], "grant_type": "refresh_token"},
            hooks={"response": [counted]})
        if grant.status_code != 200:
            reason = grant.json().get("error", "") if grant.headers.get(
                "content-type", "").startswith("application/json") else ""
            raise CredentialError(f"{REFRESH_TOKEN_ENV} or {CLIENT_SECRET_ENV} was refused by "
                                  f"Google's token endpoint (HTTP {grant.status_code}"
                                  f"{': ' + reason if reason else ''}): create a new refresh token")
        access = grant.json()["access_token"]
        hidden.append(access)
        headers = {"Authorization": f"Bearer {access}",
                   "developer-token": secrets[DEVELOPER_TOKEN_ENV]}
        if settings.login_customer_id:
            headers["login-customer-id"] = settings.login_customer_id
        day = first
        while day <= until:
            end = min(day + timedelta(days=settings.slice_days - 1), until)
            response = session.post(settings.url, headers=headers,
                                    json={"query": QUERY.format(since=day, until=end)},
                                    hooks={"response": [hook]})
            if response.status_code != 200:
                raise PullError(f"google_ads: searchStream answered HTTP {response.status_code}: "
                                f"{hide(response.text[:300])}")
            rows = report_rows(response.json())
            if rows:
                number += 1
                land_page(log, landing, LANDING_FOLDER, f"api_report_{log.pull_id}_p{number:04d}.csv",
                          csv_bytes(COLUMNS, rows, before=_title(day, end)), rows=len(rows),
                          records=len(rows), on_page=on_page)
            log.cursor = end.isoformat()
            state.save(SOURCE, RESOURCE, log.cursor)
            day = end + timedelta(days=1)
    return log
