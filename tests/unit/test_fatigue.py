"""Creative fatigue alerts (models.fatigue) on hand-made ad days with exact figures."""

from __future__ import annotations

from datetime import date, timedelta

import polars as pl
import pytest

from models.fatigue import ALERT_SCHEMA, creative_alerts, score_ad_days

START = date(2026, 1, 1)
DAYS = 50
AS_OF = START + timedelta(days=DAYS - 1)
WORN_FROM = 35  # day index from which the worn-out ad's audience stops clicking


def ad_days(name: str, *, channel: str = "meta", impressions: int = 10_000,
            ctr=lambda d: 0.01, frequency=lambda d: 1.4, spend=lambda d: 100.0,
            conversions=lambda d: 10, days: int = DAYS, with_reach: bool = True,
            campaign: str = "Prospecting") -> pl.DataFrame:
    """One ad's daily rows from day 0 (START) for `days` days; rates as functions of the day."""
    return pl.DataFrame({
        "ad_date": [START + timedelta(days=d) for d in range(days)],
        "channel": channel,
        "campaign_name": campaign,
        "ad_group_name": "Broad",
        "ad_name": name,
        "currency_code": "USD",
        "spend": [spend(d) for d in range(days)],
        "impressions": impressions,
        "reach": [round(impressions / frequency(d)) if with_reach else None
                  for d in range(days)],
        "clicks": [round(impressions * ctr(d)) for d in range(days)],
        "platform_conversions": [float(conversions(d)) for d in range(days)],
    }, schema_overrides={"reach": pl.Int64})


def worn(day: int) -> bool:
    return day >= WORN_FROM


def test_a_worn_out_creative_alerts_with_its_figures() -> None:
    frame = pl.concat([
        ad_days("UGC video #1", ctr=lambda d: 0.005 if worn(d) else 0.01,
                frequency=lambda d: 3.0 if worn(d) else 1.4),
        ad_days("Carousel #1"),
    ])
    alerts = creative_alerts(frame, as_of=AS_OF)
    assert alerts.schema == pl.Schema(ALERT_SCHEMA)
    assert alerts["ad_name"].to_list() == ["UGC video #1"]
    alert = alerts.row(0, named=True)
    assert alert["baseline_ctr"] == pytest.approx(0.01)
    assert alert["recent_ctr"] == pytest.approx(0.005)
    assert alert["ctr_change"] == pytest.approx(-0.5)
    assert alert["baseline_frequency"] == pytest.approx(10_000 / 7143)
    assert alert["recent_frequency"] == pytest.approx(3.0, abs=1e-3)
    assert alert["ctr_p_value"] < 1e-10
    # the 7-day CTR is 25% down once 4 of its days are worn: day 35 + 3
    assert alert["first_alert_date"] == START + timedelta(days=WORN_FROM + 3)
    assert alert["is_new"] is False  # 12 days ago
    assert alert["launched_date"] == START and alert["days_live"] == DAYS
    assert (alert["rule"], alert["severity"]) == ("ctr_and_frequency", "high")
    assert alert["recent_spend"] == 700.0 and alert["recent_clicks"] == 350
    assert alert["reason"] == ("CTR 0.50% vs 1.00% in its first two weeks (-50%), "
                               "frequency 3.0 vs 1.4; consider a new creative")


def test_is_new_within_a_week_of_the_first_alert() -> None:
    frame = ad_days("UGC video #1", ctr=lambda d: 0.005 if worn(d) else 0.01,
                    frequency=lambda d: 3.0 if worn(d) else 1.4)
    as_of = START + timedelta(days=WORN_FROM + 5)
    alert = creative_alerts(frame, as_of=as_of).row(0, named=True)
    assert alert["first_alert_date"] == START + timedelta(days=WORN_FROM + 3)
    assert alert["is_new"] is True


def test_without_reach_ctr_alone_alerts_and_says_so() -> None:
    frame = ad_days("Creator video #2", channel="tiktok", with_reach=False,
                    ctr=lambda d: 0.006 if worn(d) else 0.01)
    alert = creative_alerts(frame, as_of=AS_OF).row(0, named=True)
    assert alert["recent_frequency"] is None and alert["frequency_change"] is None
    assert alert["reason"].startswith("CTR 0.60% vs 1.00% in its first two weeks (-40%), "
                                      "frequency not reported")


def test_a_flat_creative_and_a_young_one_do_not_alert() -> None:
    frame = pl.concat([
        ad_days("Carousel #1", frequency=lambda d: 1.4 + 0.004 * d),  # slow creep only
        ad_days("Fresh #2", days=20, ctr=lambda d: 0.004 if d > 15 else 0.01),
    ])
    scores = score_ad_days(frame, as_of=AS_OF)
    assert set(scores["ad_name"]) == {"Carousel #1"}  # 20 days < 14 baseline + 7
    assert not scores["is_alert"].any()
    assert creative_alerts(frame, as_of=AS_OF).is_empty()


def test_frequency_up_without_a_ctr_drop_is_not_fatigue() -> None:
    frame = ad_days("DPA #1", frequency=lambda d: 3.0 if worn(d) else 1.4)
    assert creative_alerts(frame, as_of=AS_OF).is_empty()


def test_a_seasonal_cost_rise_on_every_ad_is_not_fatigue() -> None:
    # Q4: every ad of the channel pays twice as much for the same impressions and results.
    q4 = lambda d: 200.0 if d >= 30 else 100.0
    frame = pl.concat([ad_days("Founder story #1", spend=q4), ad_days("Carousel #3", spend=q4)])
    scores = score_ad_days(frame, as_of=AS_OF).filter(pl.col("ad_date") == AS_OF)
    assert scores["recent_cost_per_result"].to_list() == [20.0, 20.0]  # raw: +100%
    assert scores["channel_cost_per_result_change"].to_list() == [pytest.approx(1.0)] * 2
    assert scores["cost_per_result_change"].to_list() == [pytest.approx(0.0)] * 2
    assert creative_alerts(frame, as_of=AS_OF).is_empty()


def test_cost_per_result_rising_on_one_ad_alerts() -> None:
    frame = pl.concat([ad_days("Founder story #1", conversions=lambda d: 4 if worn(d) else 10),
                       ad_days("Carousel #3")])
    alert = creative_alerts(frame, as_of=AS_OF).row(0, named=True)
    assert (alert["ad_name"], alert["rule"]) == ("Founder story #1", "cost_per_result")
    assert alert["recent_cost_per_result"] == pytest.approx(25.0)
    assert alert["cost_per_result_change"] == pytest.approx(1.5)
    assert "cost per result 25.00 USD vs 10.00 USD (+150% after the channel's +0%)" in alert["reason"]


def test_a_tiny_ad_does_not_alert_on_a_few_clicks() -> None:
    # 100 impressions and one click a day, then a click every other day, frequency up:
    # -50% CTR on 3 clicks is chance (conditional binomial p ~ 0.2), not fatigue.
    frame = ad_days("Static #4", impressions=100, conversions=lambda d: 0,
                    ctr=lambda d: (d % 2) * 0.01 if worn(d) else 0.01,
                    frequency=lambda d: 3.0 if worn(d) else 1.4)
    scores = score_ad_days(frame, as_of=AS_OF)
    last = scores.filter(pl.col("ad_date") == AS_OF).row(0, named=True)
    assert last["ctr_change"] <= -0.25 and last["frequency_change"] >= 0.25
    assert last["ctr_p_value"] > 0.05
    assert not scores["is_alert"].any()


def test_missing_column_is_named() -> None:
    with pytest.raises(ValueError, match="'reach'"):
        creative_alerts(ad_days("X").drop("reach"), as_of=AS_OF)


def test_the_daily_brief_lists_only_new_alerts_one_line_each() -> None:
    import duckdb

    from dashboards.briefings import _daily_creative_fatigue
    from dashboards.document import Bullets, Document

    con = duckdb.connect()
    doc = Document(title="brief")
    _daily_creative_fatigue(doc, con, AS_OF)  # no analytics.creative_alerts yet: nothing
    assert doc.blocks == []
    frame = pl.concat([
        ad_days("UGC video #1", ctr=lambda d: 0.005 if worn(d) else 0.01,
                frequency=lambda d: 3.0 if worn(d) else 1.4),
        ad_days("Creator video #2", channel="tiktok", campaign="Spark Ads", with_reach=False,
                ctr=lambda d: 0.006 if d >= WORN_FROM + 8 else 0.01),
    ])
    alerts = creative_alerts(frame, as_of=AS_OF).with_columns(pl.lit(AS_OF).alias("as_of_date"))
    assert alerts["is_new"].to_list() == [False, True]  # first alerted 12 and 2 days ago
    con.execute("create schema analytics")
    con.register("incoming", alerts.to_arrow())
    con.execute("create table analytics.creative_alerts as select * from incoming")
    _daily_creative_fatigue(doc, con, AS_OF)
    bullets = [b for b in doc.blocks if isinstance(b, Bullets)]
    assert [len(b.items) for b in bullets] == [1]
    assert bullets[0].items[0] == (
        "**Creator video #2** (TikTok, Spark Ads), since 2026-02-17: "
        "CTR 0.60% vs 1.00% in its first two weeks (-40%).")
    con.execute("delete from analytics.creative_alerts where is_new")
    quiet = Document(title="brief")
    _daily_creative_fatigue(quiet, con, AS_OF)
    assert quiet.blocks == []
