"""Meta ad insights pulled through the Marketing API (a local mock that answers as Meta
documents: tests/meta_mock.py) land as the Ads Manager daily export; the attribution
window is pulled again so late conversions replace the first copy."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import duckdb
import pytest

from orchestration.ingest import SPECS_BY_TABLE, ingest_source
from orchestration.pull import CredentialError
from orchestration.pull.meta import MetaSettings, pull_insights
from orchestration.pull.shopify import PullError
from tests.dbt_sql import build_model
from tests.meta_mock import ADS, MetaMock

TOKEN = "EAAplanted_meta_token_77aa88bb"
ACCOUNT = "123456789"
TZ = "Europe/Berlin"


@pytest.fixture
def meta(httpserver):
    return MetaMock(httpserver, token=TOKEN, account=ACCOUNT, first=date(2026, 10, 1),
                    last=date(2026, 11, 30))


@pytest.fixture
def settings(httpserver):
    return MetaSettings(account_id=f"act_{ACCOUNT}", base_url=httpserver.url_for("/"))


def pull(home, landing, settings, **kwargs):
    return pull_insights(home, landing, settings, timezone=TZ, token=TOKEN, backoff=0.05,
                         **kwargs)


def load(landing, con):
    return ingest_source(con, landing, SPECS_BY_TABLE["meta_ads"], run_id="t", timezone=TZ)


def test_daily_insights_land_as_the_export_and_late_conversions_replace_the_first_copy(
        meta, settings, tmp_path):
    home, landing = tmp_path / "home", tmp_path / "landing"
    # 2026-11-01 .. 2026-11-20 (yesterday on Nov 21): 20 days x 3 ads, in 3 slices of 7
    # days, 60 rows; the limit of 500 rows keeps each slice to one page.
    first = pull(home, landing, settings, since="2026-11-01", today=date(2026, 11, 21))
    assert (first.records, first.pages, first.requests, first.cursor) == (60, 3, 3, "2026-11-20")

    con = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    result = load(landing, con)
    assert result.rows_loaded == 60 and result.rows_quarantined == 0
    row = con.execute("""select currency, amount_spent, purchases, purchases_conversion_value,
                                link_clicks, day, "ad_id"
                         from raw.meta_ads where ad_name = 'Carousel' and day = '2026-11-05'""").fetchone()
    assert meta.purchases[("6003", date(2026, 11, 5))] == 2
    assert row[0] == "EUR" and row[1] == Decimal("35.0000")  # 20 + 3 x 5 + 4 % 4
    assert (row[2], row[3], row[4], str(row[5]), row[6]) == (2.0, Decimal("91.0000"), 34, "2026-11-05", "6003")

    # Conversions on Nov 18 settle later; the next pull (on Nov 24) asks again for the 7
    # days up to its cursor and on to yesterday: Nov 14 .. Nov 23.
    meta.purchases[("6001", date(2026, 11, 18))] = 9
    before = len(meta.requests)
    second = pull(home, landing, settings, today=date(2026, 11, 24))
    window = [eval_window(p) for p, _ in meta.requests[before:]]
    assert window == [("2026-11-14", "2026-11-20"), ("2026-11-21", "2026-11-23")]
    assert second.records == 30 and second.cursor == "2026-11-23"
    load(landing, con)
    build_model(con, "stg_meta_ads__ad_daily", {"store_timezone": TZ})
    staged = con.execute("""select count(*), sum(case when ad_name = 'Video A' and
                                   report_date = '2026-11-18' then platform_conversions end)
                            from staging.stg_meta_ads__ad_daily""").fetchone()
    assert staged == (3 * 23, 9)


def eval_window(params: dict) -> tuple[str, str]:
    import json

    window = json.loads(params["time_range"])
    return window["since"], window["until"]


def test_pages_rate_limits_errors_and_a_refused_token(meta, settings, tmp_path):
    # One slice of 7 days x 3 ads = 21 rows, 10 a page: 3 pages through paging.next; the
    # rate-limit answer (HTTP 400, code 80004) and a 500 are retried.
    meta.fail = {2: "throttle", 3: "500"}
    settings.page_size = 10
    log = pull(tmp_path / "h", tmp_path / "l", settings, since="2026-11-01",
               today=date(2026, 11, 8))
    assert log.records == 21 and [s for _, s in meta.requests] == [200, 80004, 500, 200, 200]
    assert meta.requests[3][0]["after"]  # the next page's cursor from paging.next
    with pytest.raises(CredentialError, match="META_ACCESS_TOKEN was refused by Meta"):
        pull_insights(tmp_path / "h2", tmp_path / "l2", settings, timezone=TZ, token="expired",
                      today=date(2026, 11, 8), backoff=0.05)
    meta.fail = {n: "500" for n in range(1, 50)}
    with pytest.raises(PullError, match="HTTP 500 after retries"):
        pull_insights(tmp_path / "h3", tmp_path / "l3", settings, timezone=TZ, token=TOKEN,
                      today=date(2026, 11, 8), backoff=0.01, max_attempts=3)
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert TOKEN.encode() not in path.read_bytes()
    assert len(ADS) == 3


def test_a_campaign_level_export_beside_ad_level_pulls_is_a_warning(meta, settings, tmp_path):
    """The same day and campaign at two grains would count its spend twice: the dbt test
    assert_ad_rows_at_one_grain names platform, day, campaign and files."""
    from tests.dbt_sql import data_test_failures

    home, landing = tmp_path / "home", tmp_path / "landing"
    pull(home, landing, settings, since="2026-11-01", today=date(2026, 11, 4))
    (landing / "meta_ads" / "campaigns_nov.csv").write_text(
        "Reporting starts,Reporting ends,Day,Campaign name,Amount spent (EUR),Impressions\n"
        "2026-11-02,2026-11-02,2026-11-02,Prospecting,50.00,2000\n")
    con = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    load(landing, con)
    for model in ("stg_meta_ads__ad_daily", "stg_google_ads__ad_daily", "stg_tiktok_ads__ad_daily",
                  "fct_marketing_daily"):
        build_model(con, model, {"store_timezone": TZ})
    failures = data_test_failures(con, "assert_ad_rows_at_one_grain")
    assert [(f[0], str(f[1]), f[2], f[3], f[4]) for f in failures] == [
        ("meta", "2026-11-02", "Prospecting", "ad", "campaign")]
    # the spend the mart holds for that day and campaign: both grains summed
    assert failures[0][7] > 50
    files = sorted(failures[0][5:7])
    assert files[0].startswith("meta_ads/api_insights_") and files[1] == "meta_ads/campaigns_nov.csv"
