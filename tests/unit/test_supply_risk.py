"""Supply alerts on small hand-made purchase orders, forecasts and promotions."""

from datetime import date, timedelta

import polars as pl

from forecasting.supply_risk import supply_alerts

AS_OF = date(2026, 11, 22)


def pos(rows):
    return pl.DataFrame(rows, schema={
        "po_number": pl.Utf8, "supplier_id": pl.Utf8, "sku": pl.Utf8, "qty_ordered": pl.Int64,
        "qty_received": pl.Int64, "ordered_date": pl.Date, "expected_date": pl.Date,
        "received_date": pl.Date, "status": pl.Utf8})


def flat_forecast(sku, per_day, days=60):
    return pl.DataFrame({"unique_id": [sku] * days,
                         "ds": [AS_OF + timedelta(days=i + 1) for i in range(days)],
                         "forecast": [float(per_day)] * days})


NO_PROMOS = pl.DataFrame(schema={"sku": pl.Utf8, "promotion_name": pl.Utf8,
                                 "starts_on": pl.Date, "ends_on": pl.Date})


def received_po(n, supplier, ordered, lead, expected_lead=20):
    return {"po_number": f"PO-{supplier}-{n}", "supplier_id": supplier, "sku": "A",
            "qty_ordered": 10, "qty_received": 10, "ordered_date": ordered,
            "expected_date": ordered + timedelta(days=expected_lead),
            "received_date": ordered + timedelta(days=lead), "status": "received"}


def test_open_po_past_expected_date_is_late_and_high_when_the_sku_runs_out():
    orders = pos([{"po_number": "PO-1", "supplier_id": "Acme", "sku": "A", "qty_ordered": 100,
                   "qty_received": 0, "ordered_date": date(2026, 10, 1),
                   "expected_date": date(2026, 11, 19), "received_date": None, "status": "open"}])
    position = pl.DataFrame({"sku": ["A"], "on_hand": [10], "committed": [0], "available": [10]})
    alerts = supply_alerts(orders, flat_forecast("A", 4), position, NO_PROMOS, as_of=AS_OF)
    assert alerts.select("alert_type", "severity", "po_number", "value").rows() == [
        ("po_late", "high", "PO-1", 3.0)]
    assert "runs out 2026-11-25" in alerts["message"][0]


def test_lead_time_drift_needs_significance_and_size():
    start = date(2025, 6, 1)
    history = [received_po(i, "Slow", start + timedelta(days=10 * i), 20 + i % 3) for i in range(20)]
    recent = [received_po(100 + i, "Slow", AS_OF - timedelta(days=80 - 10 * i), 32 + i % 2)
              for i in range(5)]
    steady = [received_po(200 + i, "Steady", start + timedelta(days=15 * i), 20 + i % 3)
              for i in range(30)]
    alerts = supply_alerts(pos(history + recent + steady), flat_forecast("A", 1),
                           pl.DataFrame({"sku": ["A"], "on_hand": [500], "committed": [0]}),
                           NO_PROMOS, as_of=AS_OF)
    drift = alerts.filter(pl.col("alert_type") == "lead_time_drift")
    assert drift["supplier_id"].to_list() == ["Slow"]
    assert (drift["value"][0], drift["baseline"][0]) == (32.0, 21.0)
    assert drift["p_value"][0] < 0.01


def test_promotion_short_of_cover():
    promos = pl.DataFrame({"sku": ["A", "B"], "promotion_name": ["BFCM", "BFCM"],
                           "starts_on": [date(2026, 11, 27)] * 2,
                           "ends_on": [date(2026, 11, 30)] * 2})
    forecast = pl.concat([flat_forecast("A", 10), flat_forecast("B", 1)])
    position = pl.DataFrame({"sku": ["A", "B"], "on_hand": [30, 30], "committed": [0, 0]})
    alerts = supply_alerts(pos([]), forecast, position, promos, as_of=AS_OF)
    assert alerts.select("alert_type", "sku", "value", "baseline").rows() == [
        ("promo_short_cover", "A", 30.0, 80.0)]
