"""kpi_series, detect_anomalies, threshold_baseline and evaluate_alerts on small
synthetic stores with known answers."""

from datetime import date, timedelta

import numpy as np
import polars as pl
import pytest

from models.anomalies.baseline import threshold_baseline
from models.anomalies.detect import detect_anomalies
from models.anomalies.incidents import ALERT_COLUMNS
from models.anomalies.series import kpi_series
from orchestration.demo.anomaly_evaluation import evaluate_alerts

START = date(2025, 1, 6)  # a Monday
WEEKEND_DOUBLE = [1.0, 1.0, 1.0, 1.0, 1.0, 2.0, 2.0]  # Monday .. Sunday


def day(i: int) -> date:
    return START + timedelta(days=i)


def series(metric, dimension, values, *, volume=None, money_weight=None):
    """One series in kpi_series' long format, day 0 = START."""
    n = len(values)
    return pl.DataFrame({
        "metric": [metric] * n,
        "dimension": [dimension] * n,
        "ds": [day(i) for i in range(n)],
        "value": [float(v) for v in values],
        "volume": [None if volume is None else float(volume[i] if hasattr(volume, "__len__")
                                                     else volume) for i in range(n)],
        "money_weight": [money_weight] * n,
    }, schema_overrides={"volume": pl.Float64, "money_weight": pl.Float64})


def poisson_counts(n, level, *, pattern=WEEKEND_DOUBLE, seed=1):
    rng = np.random.default_rng(seed)
    return rng.poisson([level * pattern[(START + timedelta(days=i)).weekday()]
                        for i in range(n)]).astype(float)


def test_a_three_day_spike_is_one_incident_on_the_right_days():
    values = poisson_counts(400, 30)
    values[380:383] *= 3  # a carrier delay: three days of triple order-status tickets
    tickets = series("ticket_volume", "category=order_status", values, volume=values,
                     money_weight=5.0)
    alerts = detect_anomalies(tickets, as_of=day(399), lookback_days=60)
    assert alerts.columns == list(ALERT_COLUMNS)
    assert alerts["date"].to_list() == [day(380), day(381), day(382)]
    assert set(alerts["direction"]) == {"up"}
    assert alerts["incident_id"].unique().to_list() == [
        f"ticket_volume|category=order_status|{day(380)}"]
    assert set(alerts["incident_start"]) == {day(380)}
    assert set(alerts["incident_end"]) == {day(382)}
    assert not alerts["is_current"].any()
    assert (alerts["value"] > alerts["hi"]).all()
    assert alerts["impact"].to_list() == pytest.approx(
        ((alerts["value"] - alerts["expected"]) * 5.0).to_list())
    # The same spike on the last day is current.
    values[397:400] *= 3
    tickets = series("ticket_volume", "category=order_status", values, volume=values,
                     money_weight=5.0)
    alerts = detect_anomalies(tickets, as_of=day(399), lookback_days=10)
    assert alerts["date"].to_list() == [day(397), day(398), day(399)]
    assert alerts["is_current"].all()


def test_a_steady_weekly_pattern_raises_no_alert():
    # Two years of revenue with weekends twice the weekdays, orders behind it.
    orders = poisson_counts(730, 200, seed=2)
    rng = np.random.default_rng(3)
    revenue = orders * rng.normal(40.0, 1.5, 730)
    frame = pl.concat([
        series("revenue", "all", revenue, volume=orders, money_weight=1.0),
        series("orders", "all", orders, volume=orders, money_weight=40.0),
    ])
    assert detect_anomalies(frame, as_of=day(729), lookback_days=365).is_empty()


def test_a_low_volume_sku_is_ignored_while_a_busy_one_with_the_same_jump_alerts():
    # BUSY sells 10 lines a day, 1 in 20 refunded; LOW one line a week, none refunded.
    # Orders placed on days 300-309 come back at 50% for both (LOW: 1 return of 2).
    rows = []
    for i in range(400):
        for line in range(10):
            bad = 300 <= i <= 309
            rows.append(("BUSY", i, line % 2 == 0 if bad else line == 0 and i % 2 == 0))
        if i % 7 == 0:
            rows.append(("LOW", i, 300 <= i <= 309 and i % 14 == 0))
    lines = pl.DataFrame({
        "order_id": [f"o{k}" for k in range(len(rows))],
        "order_date": [day(i) for _, i, _ in rows],
        "channel": ["organic"] * len(rows),
        "sku": [sku for sku, _, _ in rows],
        "gross_revenue": [20.0] * len(rows),
        "discounts": [0.0] * len(rows),
        "is_refunded": [refunded for _, _, refunded in rows],
        "is_revenue": [True] * len(rows),
    })
    empty = pl.DataFrame()
    frame = kpi_series(empty, empty, lines, empty)
    low = frame.filter((pl.col("dimension") == "sku=LOW") & (pl.col("ds") == day(308)))
    assert low.select("value", "volume").row(0) == (0.5, 2.0)  # 1 return of 2 lines
    alerts = detect_anomalies(frame, as_of=day(399), lookback_days=120)
    by_sku = alerts.filter(pl.col("dimension").str.starts_with("sku="))
    assert set(by_sku["dimension"]) == {"sku=BUSY"}
    assert set(by_sku["direction"]) == {"up"}
    # 14-day cohort windows that hold a bad day: first alert once enough returns are in.
    assert by_sku["date"].min() >= day(300) and by_sku["date"].max() <= day(309 + 13)
    assert by_sku["incident_id"].n_unique() == 1
    # The cohorts of the last 21 days are not mature: never scored.
    assert alerts["date"].max() <= day(399 - 21)


def test_no_look_ahead_later_values_never_move_an_earlier_band():
    values = poisson_counts(500, 50, seed=4)
    values[450] *= 3
    base = series("ticket_volume", "all", values, volume=values, money_weight=5.0)
    changed = values.copy()
    changed[451:] = changed[451:] * 4 + 17  # everything after day 450 rewritten
    later = series("ticket_volume", "all", changed, volume=changed, money_weight=5.0)
    columns = ["date", "value", "expected", "lo", "hi", "score"]

    def row(frame, as_of):
        alerts = detect_anomalies(frame, as_of=as_of, lookback_days=200)
        return alerts.filter(pl.col("date") == day(450)).select(columns).row(0)

    scored_at_the_end = row(base, day(499))
    assert row(later, day(499)) == scored_at_the_end
    assert row(base, day(450)) == scored_at_the_end  # the replay of that morning


def test_the_driver_names_the_channel_whose_drop_explains_a_revenue_drop():
    n = 120
    channels = {"meta": 1000.0, "google": 500.0, "email": 300.0}
    parts = []
    for channel, revenue in channels.items():
        values = [revenue] * n
        if channel == "meta":
            values[-1] = 400.0
        parts.append(series("revenue", f"channel={channel}", values, volume=[500] * n,
                            money_weight=1.0))
    store = [1800.0] * (n - 1) + [1200.0]
    parts.append(series("revenue", "all", store, volume=[2000] * n, money_weight=1.0))
    alerts = detect_anomalies(pl.concat(parts), as_of=day(n - 1), lookback_days=30)
    assert alerts.select("metric", "dimension", "date", "direction").rows() == [
        ("revenue", "all", day(n - 1), "down")]  # channels only explain, never alert
    assert alerts["driver"].item() == "channel=meta: -600 of -600"
    assert alerts["expected"].item() == pytest.approx(1800.0)
    assert alerts["impact"].item() == pytest.approx(600.0)
    assert alerts["severity"].item() in {"critical", "high"}  # a third of the day's revenue


def _store(n=90, *, sessions=True, ads=True, tickets=True):
    """The four marts of a small store as kpi_series receives them."""
    days = [day(i) for i in range(n)]
    kpis = pl.DataFrame({
        "kpi_date": days, "orders": [10] * n, "gross_revenue": [500.0] * n,
        "discounts": [20.0] * n,
        "sessions": [400.0] * n if sessions else [None] * n,
        "first_reply_minutes_median": [30.0] * n if tickets else [None] * n,
    }, schema_overrides={"sessions": pl.Float64, "first_reply_minutes_median": pl.Float64})
    channel_names = ["meta", "organic"] if ads else ["organic"]
    channel_daily = pl.DataFrame({
        "channel_date": [d for d in days for _ in channel_names],
        "channel": channel_names * n,
        "spend": [100.0 if c == "meta" else 0.0 for _ in days for c in channel_names],
        "sessions": [200.0 if sessions else None for _ in days for _ in channel_names],
        "orders": [5 if ads else 10 for _ in days for _ in channel_names],
        "new_customers": [2 for _ in days for _ in channel_names],
    }, schema_overrides={"sessions": pl.Float64})
    order_lines = pl.DataFrame({
        "order_id": [f"{d}-{k}" for d in days for k in range(10)],
        "order_date": [d for d in days for _ in range(10)],
        "channel": [channel_names[k % len(channel_names)] for _ in days for k in range(10)],
        "sku": ["SKU-1" for _ in days for _ in range(10)],
        "gross_revenue": [50.0] * (10 * n), "discounts": [2.0] * (10 * n),
        "is_refunded": [k == 0 for _ in days for k in range(10)],
        "is_revenue": [True] * (10 * n),
    })
    support = pl.DataFrame({
        "ticket_id": [f"t{i}" for i in range(3 * n)],
        "category": ["order_status", "complaint", "other"] * n,
        "created_date": [d for d in days for _ in range(3)],
        "first_reply_minutes": [30.0] * (3 * n),
    }) if tickets else pl.DataFrame(schema={"ticket_id": pl.Utf8, "category": pl.Utf8,
                                            "created_date": pl.Date})
    return kpis, channel_daily, order_lines, support


def test_a_full_store_gives_every_metric():
    frame = kpi_series(*_store())
    assert frame.columns == ["metric", "dimension", "ds", "value", "volume", "money_weight"]
    store_level = set(frame.filter(pl.col("dimension") == "all")["metric"])
    assert store_level == {"revenue", "orders", "aov", "conversion_rate", "first_reply_minutes",
                           "ticket_volume", "return_rate"}
    paid = frame.filter(pl.col("metric").is_in(["spend", "cac", "roas"]))
    assert set(paid["dimension"]) == {"channel=meta"}
    assert set(frame.filter(pl.col("metric") == "ticket_volume")["dimension"]) == {
        "all", "category=order_status", "category=complaint", "category=other"}
    first = frame.filter((pl.col("metric") == "revenue") & (pl.col("dimension") == "all")
                         & (pl.col("ds") == day(0)))
    assert first.select("value", "volume", "money_weight").row(0) == (480.0, 10.0, 1.0)
    conversion = frame.filter((pl.col("metric") == "conversion_rate")
                              & (pl.col("dimension") == "all"))
    assert conversion["value"].unique().to_list() == [10 / 400]
    week = frame.filter((pl.col("metric") == "cac") & (pl.col("ds") == day(30)))
    assert week.select("value", "volume").row(0) == (50.0, 14.0)  # 700 spent / 14 new, 7 days


@pytest.mark.parametrize("missing, absent", [
    ({"sessions": False}, {"conversion_rate"}),
    ({"ads": False}, {"spend", "cac", "roas"}),
    ({"tickets": False}, {"ticket_volume", "first_reply_minutes"}),
    ({"sessions": False, "ads": False, "tickets": False},
     {"conversion_rate", "spend", "cac", "roas", "ticket_volume", "first_reply_minutes"}),
])
def test_a_store_without_sessions_ads_or_tickets_still_gets_its_other_series(missing, absent):
    frame = kpi_series(*_store(**missing))
    metrics = set(frame["metric"])
    assert metrics.isdisjoint(absent)
    assert metrics >= {"revenue", "orders", "aov", "return_rate"}
    alerts = detect_anomalies(frame, as_of=day(89), lookback_days=30)
    assert alerts.columns == list(ALERT_COLUMNS) and alerts.is_empty()


def test_a_store_with_no_data_at_all_gives_no_series():
    empty = pl.DataFrame()
    frame = kpi_series(empty, empty, empty, empty)
    assert frame.is_empty() and frame.columns[:3] == ["metric", "dimension", "ds"]
    assert detect_anomalies(frame, as_of=day(0)).is_empty()


def test_bad_input_says_which_column_is_missing():
    kpis, channels, lines, support = _store()
    with pytest.raises(ValueError, match="daily_kpis is missing column 'orders'"):
        kpi_series(kpis.drop("orders"), channels, lines, support)
    with pytest.raises(ValueError, match="order_lines is missing column 'is_refunded'"):
        kpi_series(kpis, channels, lines.drop("is_refunded"), support)
    frame = kpi_series(kpis, channels, lines, support)
    with pytest.raises(ValueError, match="series is missing column 'volume'"):
        detect_anomalies(frame.drop("volume"), as_of=day(89))
    with pytest.raises(ValueError, match="series is missing column 'value'"):
        threshold_baseline(frame.drop("value"), as_of=day(89))
    with pytest.raises(ValueError, match="unknown metric"):
        detect_anomalies(frame.with_columns(pl.lit("refunds").alias("metric")), as_of=day(89))


def test_the_naive_band_is_the_trailing_mean_plus_three_std():
    values = [10.0, 12.0] * 20 + [30.0]  # mean 11, std 1.0127 over the 28 days before
    alerts = threshold_baseline(series("ticket_volume", "all", values, volume=values,
                                       money_weight=5.0), as_of=day(40), lookback_days=5)
    assert alerts["date"].to_list() == [day(40)]
    trailing = np.array(values[12:40])
    assert alerts["expected"].item() == pytest.approx(trailing.mean())
    assert alerts["hi"].item() == pytest.approx(trailing.mean() + 3 * trailing.std(ddof=1))
    assert alerts["driver"].item() is None


def test_evaluation_counts_detections_consequences_and_false_alerts():
    incidents = [
        {"id": "INC-1", "kind": "conversion_rate_drop", "metric": "conversion_rate",
         "dimension": {"channel": "all"}, "start_date": "2026-10-28", "end_date": "2026-10-30"},
        {"id": "INC-3", "kind": "cac_spike", "metric": "cac", "dimension": {"channel": "meta"},
         "start_date": "2026-11-16", "end_date": "2026-11-22"},
        {"id": "INC-5", "kind": "supplier_late", "metric": "lead_time_days",
         "dimension": {"supplier": "Summit"}, "start_date": "2026-07-25",
         "end_date": "2026-11-22"},
    ]

    def alert(metric, dimension, first, days):
        return [(metric, dimension, first + timedelta(days=k),
                 f"{metric}|{dimension}|{first}") for k in range(days)]

    rows = (alert("conversion_rate", "all", date(2026, 10, 28), 3)  # detected
            + alert("revenue", "all", date(2026, 10, 29), 2)  # a consequence
            + alert("cac", "channel=meta", date(2026, 10, 1), 2)  # false: before INC-3
            + alert("cac", "channel=google", date(2026, 11, 18), 1))  # false: other channel
    alerts = pl.DataFrame(rows, schema=["metric", "dimension", "date", "incident_id"],
                          orient="row")
    result = evaluate_alerts(alerts, incidents, start=date(2025, 11, 23),
                             end=date(2026, 11, 22))
    rows = {row["metric"]: row for row in result.iter_rows(named=True)}
    assert set(rows) == {"revenue", "conversion_rate", "cac", "overall"}
    assert (rows["conversion_rate"]["incidents_detected"], rows["conversion_rate"]["recall"]) == (1, 1.0)
    assert rows["revenue"]["false_alert_incidents"] == 0
    assert (rows["cac"]["incidents_planted"], rows["cac"]["incidents_detected"],
            rows["cac"]["false_alert_incidents"]) == (1, 0, 2)
    overall = rows["overall"]
    assert (overall["incidents_planted"], overall["incidents_detected"],
            overall["alert_incidents"], overall["false_alert_incidents"]) == (2, 1, 4, 2)
    assert overall["false_alerts_per_month"] == pytest.approx(2 / (3 * 365 / 30.4375))


def test_the_packages_re_export_the_modules_public_api():
    import models
    from models import anomalies
    from models.anomalies.detect import HISTORY_DAYS
    from models.anomalies.metrics import METRICS

    for name, function in (("kpi_series", kpi_series), ("detect_anomalies", detect_anomalies),
                           ("threshold_baseline", threshold_baseline)):
        assert getattr(anomalies, name) is function and getattr(models, name) is function
    # The answer-key scoring is the demo's, not the models' (no re-export).
    assert not hasattr(anomalies, "evaluate_alerts") and not hasattr(models, "evaluate_alerts")
    assert (anomalies.ALERT_COLUMNS, anomalies.HISTORY_DAYS, anomalies.METRICS) == (
        ALERT_COLUMNS, HISTORY_DAYS, METRICS)
    assert set(anomalies.__all__) <= set(dir(anomalies))
