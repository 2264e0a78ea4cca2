"""Meta ad insights through the Marketing API, written as the Ads Manager daily export.

API: https://developers.facebook.com/documentation/ads-commerce/marketing-api/insights
`GET https://graph.facebook.com/<version>/act_<account>/insights` with `level=ad`,
`time_increment=1` (one row per ad per day), `time_range={"since","until"}` and the
fields below; pages follow `paging.next` (dlt's RESTClient, JSONLinkPaginator). Auth: a
system-user access token with `ads_read`, sent as `Authorization: Bearer` (not in the URL,
so no page link or log carries it). Errors come as HTTP 400 with `error.code`: 190 is a
bad or expired token; 4, 17, 32, 613 and 80000-80014 are rate limits, retried with
dlt's backoff like 429 and 5xx.

Conversions settle late (attribution windows of up to 7 days after a click), so every pull
asks again for the last `lookback_days` days (default 7) before the first day it has not
pulled; the re-pulled days replace the earlier copies (newest file wins: the files are
dated by `Day`). A window is asked in slices of `slice_days` days (default 7, one
synchronous request chain each); the cursor (the last day pulled completely, in the
store's timezone) is saved after each slice.

Each page becomes `<landing>/meta_ads/api_insights_<pull>_p<page>.csv` with the export's
columns: `Amount spent (<account currency>)`, `Link clicks` (inline link clicks),
`Purchases` and `Purchases conversion value` (the `purchase` action, else
`omni_purchase`, else the pixel's), plus `Ad ID`. `Results`, `Result indicator`,
`Cost per result` and `Delivery status` are Ads Manager columns the insights rows do
not carry: left empty (staging counts purchases, not results).
"""

from __future__ import annotations

import json
import os
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
)
from orchestration.pull.state import (
    PullLog,
    PullState,
    csv_bytes,
    daily_window,
    land_page,
    recorded,
)

SOURCE = "meta"
RESOURCE = "insights"
LANDING_FOLDER = "meta_ads"
TOKEN_ENV = "META_ACCESS_TOKEN"
GRAPH_VERSION = "v25.0"
FIELDS = ("account_currency,campaign_name,adset_name,ad_name,ad_id,impressions,reach,"
          "frequency,inline_link_clicks,spend,actions,action_values")
PURCHASE_ACTIONS = ("purchase", "omni_purchase", "offsite_conversion.fb_pixel_purchase")
RATE_LIMIT_CODES = {4, 17, 32, 613, *range(80000, 80015)}
COLUMNS = ["Reporting starts", "Reporting ends", "Day", "Campaign name", "Ad set name",
           "Ad name", "Delivery status", "Amount spent", "Impressions", "Reach", "Frequency",
           "Link clicks", "Results", "Result indicator", "Cost per result", "Purchases",
           "Purchases conversion value", "Ad ID"]


@dataclass
class MetaSettings:
    """`sources: meta:` in storeops.yml.

    account_id: the ad account (digits, with or without `act_`); api_version: the Graph
    API version; base_url: instead of https://graph.facebook.com; token_env: the variable
    holding the access token; lookback_days: days asked again on every pull;
    initial_days: how far back the first pull starts; slice_days: days per request chain;
    page_size: rows per request (`limit`); freshness_hours: as for Shopify.
    """

    account_id: str
    api_version: str = GRAPH_VERSION
    base_url: str | None = None
    token_env: str = TOKEN_ENV
    lookback_days: int = 7
    initial_days: int = 90
    slice_days: int = 7
    page_size: int = 500
    freshness_hours: float = 26.0

    def __post_init__(self) -> None:
        self.account_id = str(self.account_id).removeprefix("act_")

    @classmethod
    def from_config(cls, config: dict, where: str = "storeops.yml") -> MetaSettings:
        """Read and check `sources: meta:`. Raises ValueError naming `where` and the key."""
        values = section_values(cls, config, source="meta", where=where, required=("account_id",),
                                needs="account_id: <ad account id>",
                                bounds={"lookback_days": 365, "initial_days": 3650,
                                        "slice_days": 90, "page_size": 5000})
        account = str(values["account_id"]).removeprefix("act_")
        if not account.isdigit():
            raise ValueError(f"{where}: sources: meta: account_id must be the ad account's "
                             f"number, got {values['account_id']!r}")
        return cls(**{**values, "account_id": account, "api_version": str(values["api_version"]),
                      "token_env": str(values["token_env"])})

    @property
    def root(self) -> str:
        return (self.base_url or "https://graph.facebook.com").rstrip("/")


def _action(actions: list[dict] | None) -> str:
    values = {a.get("action_type"): a.get("value") for a in actions or []}
    for name in PURCHASE_ACTIONS:
        if values.get(name) is not None:
            return str(values[name])
    return ""


def insight_rows(rows: list[dict]) -> tuple[list[dict[str, str]], str]:
    """Insights rows (level=ad, time_increment=1) as rows of the Ads Manager daily export,
    and the account currency (for the `Amount spent (<currency>)` header). Raises
    PullError when one page mixes currencies (an account has one)."""
    currencies = {r.get("account_currency") for r in rows if r.get("account_currency")}
    if len(currencies) > 1:
        raise PullError(f"meta: one page of insights in several currencies {sorted(currencies)}")
    out = [{
        "Reporting starts": r["date_start"], "Reporting ends": r["date_stop"],
        "Day": r["date_start"], "Campaign name": r.get("campaign_name") or "",
        "Ad set name": r.get("adset_name") or "", "Ad name": r.get("ad_name") or "",
        "Delivery status": "", "Amount spent": r.get("spend") or "0",
        "Impressions": r.get("impressions") or "", "Reach": r.get("reach") or "",
        "Frequency": r.get("frequency") or "", "Link clicks": r.get("inline_link_clicks") or "",
        "Results": "", "Result indicator": "", "Cost per result": "",
        "Purchases": _action(r.get("actions")),
        "Purchases conversion value": _action(r.get("action_values")),
        "Ad ID": r.get("ad_id") or "",
    } for r in rows]
    return out, (currencies.pop() if currencies else "")


def _rate_limited(response, exception) -> bool:
    """dlt retry predicate: Meta's rate limits answer HTTP 400 with these error codes."""
    if response is None or response.status_code != 400:
        return False
    try:
        return int(response.json().get("error", {}).get("code", 0)) in RATE_LIMIT_CODES
    except ValueError:
        return False


def pull_insights(home: Path, landing: Path, settings: MetaSettings, *, timezone: str,
                  since: str | None = None, token: str | None = None, today: date | None = None,
                  backoff: float = 2.0, max_attempts: int = 6,
                  on_page: Callable[[str, int], None] | None = None) -> PullLog:
    """Pull daily ad insights from `lookback_days` before the saved cursor (or from `since`,
    ISO date, or `initial_days` ago) to yesterday in the store's timezone, into
    `<landing>/meta_ads/` as export-shaped CSV pages; save the cursor after each slice.

    token: the access token (default: from `settings.token_env`); today: the store's date
    (default: now in `timezone`); backoff, max_attempts: dlt's retries of 429, 5xx and
    Meta's rate-limit errors. Returns the PullLog. Raises CredentialError (token missing or
    refused, one line naming the variable) or PullError.
    """
    os.environ.setdefault("RUNTIME__DLTHUB_TELEMETRY", "false")  # nothing calls home
    from dlt.sources.helpers.requests import Client
    from dlt.sources.helpers.rest_client import RESTClient
    from dlt.sources.helpers.rest_client.paginators import JSONLinkPaginator

    token = token or credential(settings.token_env, purpose="Meta Marketing API access token")
    state = PullState(home)
    saved = state.cursor(SOURCE, RESOURCE)
    first, until = daily_window(saved, since=since,
                                today=today or datetime.now(ZoneInfo(timezone)).date(),
                                lookback_days=settings.lookback_days,
                                initial_days=settings.initial_days)
    session = Client(request_max_attempts=max_attempts, request_backoff_factor=backoff,
                     request_max_retry_delay=300, raise_for_status=False,
                     retry_condition=_rate_limited).session
    client = RESTClient(base_url=settings.root, headers={"Authorization": f"Bearer {token}"},
                        session=session, data_selector="data",
                        paginator=JSONLinkPaginator(next_url_path="paging.next"))
    path = f"/{settings.api_version}/act_{settings.account_id}/insights"

    def hook(response, *args, **kwargs):
        log.requests += 1
        if response.status_code in (400, 401, 403):
            try:
                code = int(response.json().get("error", {}).get("code", 0))
            except ValueError:
                code = 0
            if code == 190 or response.status_code in (401, 403):
                raise CredentialError(f"{settings.token_env} was refused by Meta (error "
                                      f"{code or response.status_code}): the token is invalid or "
                                      "expired, or lacks ads_read on this ad account")
        response.raise_for_status()  # 429, 5xx, rate-limit 400s: dlt's retry; the rest: below

    number = 0
    with recorded(home, SOURCE, RESOURCE, first.isoformat(), secrets=(token,)) as log:
        log.cursor = saved
        day = first
        while day <= until:
            end = min(day + timedelta(days=settings.slice_days - 1), until)
            params = {"level": "ad", "time_increment": 1, "fields": FIELDS,
                      "limit": settings.page_size,
                      "time_range": json.dumps({"since": day.isoformat(), "until": end.isoformat()})}
            for page in client.paginate(path, params=params, hooks={"response": [hook]}):
                rows, currency = insight_rows(list(page))
                if not rows:
                    continue
                number += 1
                spent = f"Amount spent ({currency})"  # the export names the currency here
                named = [{(spent if c == "Amount spent" else c): v for c, v in row.items()}
                         for row in rows]
                header = [spent if c == "Amount spent" else c for c in COLUMNS]
                land_page(log, landing, LANDING_FOLDER, f"api_insights_{log.pull_id}_p{number:04d}.csv",
                          csv_bytes(header, named), rows=len(rows), records=len(rows),
                          on_page=on_page)
            log.cursor = end.isoformat()
            state.save(SOURCE, RESOURCE, log.cursor)
            day = end + timedelta(days=1)
    return log
