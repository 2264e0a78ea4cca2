"""TikTok ad performance pulled through the Business API's integrated report (a local mock
that answers as TikTok documents: tests/tiktok_mock.py) lands as the Ads Manager daily
report; 30-day windows, pages, the rate-limit code and late conversions."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import duckdb
import pytest

from orchestration.ingest import SPECS_BY_TABLE, ingest_source
from orchestration.pull import CredentialError
from orchestration.pull.shopify import PullError
from orchestration.pull.tiktok import TikTokSettings, pull_report
from tests.dbt_sql import build_model
from tests.tiktok_mock import TikTokMock

TOKEN = "tiktok_planted_token_5e6f7a8b9c"
ADVERTISER = "7000123456789"
TZ = "America/Los_Angeles"


@pytest.fixture
def tiktok(httpserver):
    return TikTokMock(httpserver, token=TOKEN, advertiser=ADVERTISER, first=date(2026, 9, 1),
                      last=date(2026, 11, 30))


@pytest.fixture
def settings(httpserver):
    return TikTokSettings(advertiser_id=ADVERTISER, base_url=httpserver.url_for("/"), page_size=50)


def pull(home, landing, settings, **kwargs):
    return pull_report(home, landing, settings, timezone=TZ, currency="USD", token=TOKEN,
                       backoff=0.05, sleep=lambda s: None, **kwargs)


def test_windows_of_30_days_pages_and_late_conversions(tiktok, settings, tmp_path):
    home, landing = tmp_path / "home", tmp_path / "landing"
    # Oct 1 .. Nov 19: 50 days = a 30-day window (60 rows: 2 pages of 50) and a 20-day one
    # (40 rows: 1 page).
    first = pull(home, landing, settings, since="2026-10-01", today=date(2026, 11, 20))
    assert (first.records, first.pages, first.requests, first.cursor) == (100, 3, 3, "2026-11-19")
    windows = [(p["start_date"], p["end_date"], p["page"]) for p, _ in tiktok.requests]
    assert windows == [("2026-10-01", "2026-10-30", "1"), ("2026-10-01", "2026-10-30", "2"),
                       ("2026-10-31", "2026-11-19", "1")]

    con = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    result = ingest_source(con, landing, SPECS_BY_TABLE["tiktok_ads"], run_id="t", timezone=TZ)
    assert result.rows_loaded == 100 and result.rows_quarantined == 0
    paid = tiktok.payments[(7002, date(2026, 11, 10))]
    row = con.execute("""select currency, cost, conversions, total_complete_payment_value, ad_id
                         from raw.tiktok_ads where ad_name = 'UGC 2' and by_day = '2026-11-10'""").fetchone()
    assert row[0] == "USD" and row[2] == paid
    assert row[3] == Decimal(f"{paid * 39.9:.2f}") and row[4] == "7002"
    assert row[1] == Decimal(f"{10 + 2 + 10 % 3:.2f}")  # day 10 of the Oct 31 window

    # A conversion on Nov 15 settles later: the next pull asks again from Nov 13 (7 days
    # back from its Nov 19 cursor) and the new copy wins in staging.
    tiktok.payments[(7001, date(2026, 11, 15))] = 11
    second = pull(home, landing, settings, today=date(2026, 11, 22))
    assert tiktok.requests[-1][0]["start_date"] == "2026-11-13" and second.cursor == "2026-11-21"
    ingest_source(con, landing, SPECS_BY_TABLE["tiktok_ads"], run_id="t", timezone=TZ)
    build_model(con, "stg_tiktok_ads__ad_daily", {"store_timezone": TZ})
    staged = con.execute("""select count(*), sum(case when ad_name = 'UGC 1' and report_date =
                                   '2026-11-15' then platform_conversions end)
                            from staging.stg_tiktok_ads__ad_daily""").fetchone()
    assert staged == (2 * 52, 11)


def test_the_rate_limit_code_a_refused_token_and_other_errors(tiktok, settings, tmp_path):
    tiktok.fail = {1: "limit", 2: "limit", 3: "500"}
    waits = []
    log = pull_report(tmp_path / "h", tmp_path / "l", settings, timezone=TZ, currency="USD",
                      token=TOKEN, backoff=0.05, sleep=waits.append, since="2026-11-01",
                      today=date(2026, 11, 8))
    assert log.records == 14 and waits == [1.0, 2.0] and log.throttle_waits == 2
    assert [s for _, s in tiktok.requests] == [40100, 40100, 500, 0]
    with pytest.raises(CredentialError, match="TIKTOK_ACCESS_TOKEN was refused by TikTok"):
        pull_report(tmp_path / "h2", tmp_path / "l2", settings, timezone=TZ, currency="USD",
                    token="revoked", today=date(2026, 11, 8))
    tiktok.fail = {n: "limit" for n in range(1, 50)}
    with pytest.raises(PullError, match="rate-limited"):
        pull_report(tmp_path / "h3", tmp_path / "l3", settings, timezone=TZ, currency="USD",
                    token=TOKEN, sleep=lambda s: None, max_attempts=3, today=date(2026, 11, 8))
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert TOKEN.encode() not in path.read_bytes()
