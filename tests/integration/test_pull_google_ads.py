"""Google Ads performance pulled through the Google Ads API (a local OAuth token endpoint
and searchStream that answer as Google documents: tests/google_ads_mock.py) lands as the
campaign performance report."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import duckdb
import pytest

from orchestration.ingest import SPECS_BY_TABLE, ingest_source
from orchestration.pull import CredentialError
from orchestration.pull.google_ads import (
    CLIENT_SECRET_ENV,
    DEVELOPER_TOKEN_ENV,
    REFRESH_TOKEN_ENV,
    GoogleAdsSettings,
    pull_report,
)
from orchestration.pull.shopify import PullError
from tests.dbt_sql import build_model
from tests.google_ads_mock import GoogleAdsMock

SECRETS = {DEVELOPER_TOKEN_ENV: "dev-token-planted-91ab", CLIENT_SECRET_ENV: "GOCSPX-planted-secret",
           REFRESH_TOKEN_ENV: "1//planted-refresh-token-77"}
TZ = "Europe/London"


@pytest.fixture
def google(httpserver):
    return GoogleAdsMock(httpserver, client_id="123.apps.googleusercontent.com",
                         client_secret=SECRETS[CLIENT_SECRET_ENV],
                         refresh_token=SECRETS[REFRESH_TOKEN_ENV],
                         developer_token=SECRETS[DEVELOPER_TOKEN_ENV], customer="1234567890",
                         first=date(2026, 9, 1), last=date(2026, 11, 30))


@pytest.fixture
def settings(httpserver):
    return GoogleAdsSettings(customer_id="123-456-7890", client_id="123.apps.googleusercontent.com",
                             base_url=httpserver.url_for("/"), token_url=httpserver.url_for("/token"))


def pull(home, landing, settings, **kwargs):
    return pull_report(home, landing, settings, timezone=TZ, secrets=dict(SECRETS), backoff=0.05,
                       **kwargs)


def test_the_report_lands_as_the_export_and_late_conversions_replace_the_first_copy(
        google, settings, tmp_path):
    home, landing = tmp_path / "home", tmp_path / "landing"
    # Oct 1 .. Nov 19 (50 days x 3 ad groups) in windows of 30 days: 2 searchStream calls
    # after the token exchange; the answer of the first comes in 3 batches.
    first = pull(home, landing, settings, since="2026-10-01", today=date(2026, 11, 20))
    assert (first.records, first.pages, first.requests, first.cursor) == (150, 2, 3, "2026-11-19")

    con = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    result = ingest_source(con, landing, SPECS_BY_TABLE["google_ads"], run_id="t", timezone=TZ)
    assert result.rows_loaded == 150 and result.rows_quarantined == 0
    assert all(f.notes for f in result.files)  # the title lines were recognised and skipped
    row = con.execute("""select currency_code, cost, impressions, conversions, conv_value
                         from raw.google_ads where ad_group = 'Candles' and day = '2026-10-03'""").fetchone()
    # 12,345,678 + 1,000,000 x 1 + 10,000 x 2 micros = 13.365678 GBP, to 4 decimals.
    assert row[0] == "GBP" and row[1] == Decimal("13.3657") and row[2] == 502
    assert (row[3], row[4]) == (2.0, Decimal("105.0000"))

    google.conversions[("Brand exact", date(2026, 11, 12))] = 7.0
    second = pull(home, landing, settings, today=date(2026, 11, 23))
    assert second.cursor == "2026-11-22"  # asked again from Nov 6 (14 days back from Nov 19)
    ingest_source(con, landing, SPECS_BY_TABLE["google_ads"], run_id="t", timezone=TZ)
    build_model(con, "stg_google_ads__ad_daily", {"store_timezone": TZ})
    staged = con.execute("""select count(*), sum(case when ad_group_name = 'Brand exact' and
                                   report_date = '2026-11-12' then platform_conversions end)
                            from staging.stg_google_ads__ad_daily""").fetchone()
    assert staged == (3 * 53, 7.0)


def test_retries_and_refused_credentials_name_the_variables_and_never_leak(google, settings,
                                                                           tmp_path):
    google.fail = {2: "429", 3: "500"}
    log = pull(tmp_path / "h", tmp_path / "l", settings, since="2026-11-01", today=date(2026, 11, 8))
    assert log.records == 21 and [s for _, s in google.requests] == [200, 429, 500, 200]
    with pytest.raises(CredentialError, match=f"{REFRESH_TOKEN_ENV} or {CLIENT_SECRET_ENV} was "
                                              "refused by Google's token endpoint"):
        pull_report(tmp_path / "h2", tmp_path / "l2", settings, timezone=TZ, backoff=0.05,
                    secrets={**SECRETS, REFRESH_TOKEN_ENV: "revoked"}, today=date(2026, 11, 8))
    with pytest.raises(CredentialError, match=DEVELOPER_TOKEN_ENV):
        pull_report(tmp_path / "h3", tmp_path / "l3", settings, timezone=TZ, backoff=0.05,
                    secrets={**SECRETS, DEVELOPER_TOKEN_ENV: "not-approved"}, today=date(2026, 11, 8))
    google.fail = {n: "500" for n in range(len(google.requests) + 2, len(google.requests) + 40)}
    with pytest.raises(PullError, match="HTTP 500 after retries"):
        pull_report(tmp_path / "h4", tmp_path / "l4", settings, timezone=TZ, backoff=0.01,
                    max_attempts=3, secrets=dict(SECRETS), today=date(2026, 11, 8))
    for path in tmp_path.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            assert not any(secret.encode() in data for secret in SECRETS.values()), path
            assert b"ya29.mock-access-token" not in data
