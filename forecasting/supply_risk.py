"""Supply risk: late purchase orders, suppliers whose lead time drifts, promotions short of stock.

`supply_alerts(purchase_orders, forecast, position, promotions, *, as_of)` returns one row
per alert: `alert_type, severity, supplier_id, sku, po_number, message, value, baseline,
p_value`.

- po_late: an open PO line past its expected date. po_at_risk: an open PO line due within
  7 days from a supplier whose recent receipts arrived late on average, so it is likely
  to slip past the SKU's projected stockout date.
- lead_time_drift: lead times of POs ordered in the last `recent_days` (received ones, and
  overdue open ones counted at their age so far, a lower bound) against all earlier
  received POs, by a one-sided Mann-Whitney U test (no normality assumed, robust to a few
  extreme POs) at `alpha`, and only when the recent median is at least `min_drift` (15%,
  three days on a three-week lead time) longer: tiny shifts are not worth a buyer's time.
- promo_short_cover: a SKU in a promotion starting within `promo_window_days` whose stock
  available + units on order due before the promotion ends is below the forecast demand
  from today to the promotion's end (the forecast already carries the promotion uplift).
"""

from __future__ import annotations

from datetime import date, timedelta

import polars as pl
from scipy.stats import mannwhitneyu

ALERT_SCHEMA = {
    "alert_type": pl.Utf8, "severity": pl.Utf8, "supplier_id": pl.Utf8, "sku": pl.Utf8,
    "po_number": pl.Utf8, "message": pl.Utf8, "value": pl.Float64, "baseline": pl.Float64,
    "p_value": pl.Float64,
}
PO_COLUMNS = ["po_number", "supplier_id", "sku", "qty_ordered", "qty_received", "ordered_date",
              "expected_date", "received_date", "status"]


def _require(frame: pl.DataFrame, name: str, columns: list[str]) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"{name} is missing column(s) {', '.join(map(repr, missing))}")


def _late_pos(pos: pl.DataFrame, stockouts: pl.DataFrame, as_of: date,
              recent_days: int) -> list[dict]:
    open_pos = pos.filter(pl.col("status").is_in(["open", "partial"]))
    received = pos.filter(pl.col("received_date").is_not_null()
                          & (pl.col("received_date") > as_of - timedelta(days=recent_days)))
    slip = dict(
        received.group_by("supplier_id")
        .agg((pl.col("received_date") - pl.col("expected_date")).dt.total_days().mean())
        .iter_rows()
    )
    stockout_by_sku = dict(stockouts.select("sku", "stockout").iter_rows())
    out_now = set(stockouts.filter(pl.col("stock") <= 0)["sku"].to_list())
    alerts = []
    for po in open_pos.iter_rows(named=True):
        open_units = po["qty_ordered"] - (po["qty_received"] or 0)
        stockout = stockout_by_sku.get(po["sku"])
        if po["expected_date"] < as_of:
            overdue = (as_of - po["expected_date"]).days
            severe = stockout is not None and stockout <= as_of + timedelta(days=7)
            alerts.append({
                "alert_type": "po_late", "severity": "high" if severe or overdue > 7 else "medium",
                "supplier_id": po["supplier_id"], "sku": po["sku"], "po_number": po["po_number"],
                "message": (f"{po['po_number']} ({open_units} x {po['sku']}) from "
                            f"{po['supplier_id']} is {overdue} days past its expected date "
                            f"{po['expected_date']}"
                            + ("; the SKU is out of stock now" if po["sku"] in out_now
                               else f"; the SKU runs out {stockout}" if stockout else "")),
                "value": float(overdue), "baseline": 0.0, "p_value": None,
            })
            continue
        mean_slip = slip.get(po["supplier_id"])
        due_in = (po["expected_date"] - as_of).days
        if mean_slip and mean_slip > 1 and due_in <= 7:
            likely = po["expected_date"] + timedelta(days=round(mean_slip))
            if stockout is not None and likely > stockout:
                alerts.append({
                    "alert_type": "po_at_risk", "severity": "medium",
                    "supplier_id": po["supplier_id"], "sku": po["sku"],
                    "po_number": po["po_number"],
                    "message": (f"{po['po_number']} ({po['sku']}) is due {po['expected_date']}, "
                                f"but {po['supplier_id']} delivered {mean_slip:.1f} days late on "
                                f"average lately: likely {likely}, after the stockout on {stockout}"),
                    "value": float(mean_slip), "baseline": 0.0, "p_value": None,
                })
    return alerts


def _lead_time_drift(pos: pl.DataFrame, as_of: date, recent_days: int, alpha: float,
                     min_drift: float) -> list[dict]:
    ordered_recently = pl.col("ordered_date") > as_of - timedelta(days=recent_days)
    received = pl.col("received_date").is_not_null() & (pl.col("received_date") <= as_of)
    # An open line past its expected date has a lead time of at least as_of - ordered_date:
    # leaving it out would hide exactly the delays this alert is for (right-censoring).
    overdue = pl.col("status").is_in(["open", "partial"]) & (pl.col("expected_date") < as_of)
    lead_times = pos.filter(
        pl.col("status") != "cancelled"
    ).with_columns(
        pl.when(received).then((pl.col("received_date") - pl.col("ordered_date")).dt.total_days())
        .when(overdue).then((pl.lit(as_of) - pl.col("ordered_date")).dt.total_days())
        .alias("lead_time"),
        ordered_recently.alias("is_recent"),
    ).filter(pl.col("lead_time").is_not_null() & (pl.col("is_recent") | received))
    alerts = []
    for (supplier,), group in lead_times.group_by("supplier_id", maintain_order=True):
        # One lead time per PO (its lines travel together), not per line.
        per_po = group.group_by("po_number", "is_recent").agg(pl.col("lead_time").max())
        recent = per_po.filter(pl.col("is_recent"))["lead_time"].to_list()
        history = per_po.filter(~pl.col("is_recent"))["lead_time"].to_list()
        if len(recent) < 3 or len(history) < 5:
            continue
        p_value = float(mannwhitneyu(recent, history, alternative="greater").pvalue)
        recent_median = float(pl.Series(recent).median())
        history_median = float(pl.Series(history).median())
        if p_value < alpha and recent_median >= history_median * (1 + min_drift):
            alerts.append({
                "alert_type": "lead_time_drift",
                "severity": "high" if recent_median >= history_median * 1.5 else "medium",
                "supplier_id": supplier, "sku": None, "po_number": None,
                "message": (f"{supplier}: lead time {recent_median:.0f} days (median of "
                            f"{len(recent)} POs ordered in the last {recent_days} days, overdue "
                            f"ones counted as at least their age) against {history_median:.0f} "
                            f"before (one-sided Mann-Whitney U, p={p_value:.3g}); review its "
                            "quoted lead time"),
                "value": recent_median, "baseline": history_median, "p_value": p_value,
            })
    return alerts


def _promo_cover(forecast: pl.DataFrame, position: pl.DataFrame, pos: pl.DataFrame,
                 promotions: pl.DataFrame, as_of: date, window: int) -> list[dict]:
    upcoming = (
        promotions.filter((pl.col("starts_on") > as_of)
                          & (pl.col("starts_on") <= as_of + timedelta(days=window)))
        .group_by("sku").agg(pl.col("promotion_name").first(), pl.col("starts_on").min(),
                             pl.col("ends_on").max())
    )
    alerts = []
    for promo in upcoming.iter_rows(named=True):
        sku = promo["sku"]
        demand = float(forecast.filter((pl.col("unique_id") == sku) & (pl.col("ds") > as_of)
                                       & (pl.col("ds") <= promo["ends_on"]))["forecast"].sum())
        stock_row = position.filter(pl.col("sku") == sku)
        if stock_row.is_empty():
            continue
        stock = stock_row.row(0, named=True)
        available = stock.get("available")
        if available is None:
            available = (stock["on_hand"] or 0) - (stock["committed"] or 0)
        arriving = float(pos.filter(
            (pl.col("sku") == sku) & pl.col("status").is_in(["open", "partial"])
            & (pl.col("expected_date") <= promo["ends_on"])
        ).select((pl.col("qty_ordered") - pl.col("qty_received").fill_null(0)).sum()).item() or 0)
        cover = max(available, 0) + arriving
        if demand > cover:
            alerts.append({
                "alert_type": "promo_short_cover",
                "severity": "high" if cover < 0.5 * demand else "medium",
                "supplier_id": None, "sku": sku, "po_number": None,
                "message": (f"{sku} is in '{promo['promotion_name']}' from {promo['starts_on']}: "
                            f"forecast {demand:.0f} units to {promo['ends_on']} against "
                            f"{cover:.0f} available or arriving in time"),
                "value": cover, "baseline": demand, "p_value": None,
            })
    return alerts


def supply_alerts(purchase_orders: pl.DataFrame, forecast: pl.DataFrame,
                  position: pl.DataFrame, promotions: pl.DataFrame, *, as_of: date,
                  recent_days: int = 90, alpha: float = 0.05, min_drift: float = 0.15,
                  promo_window_days: int = 30) -> pl.DataFrame:
    """All supply alerts as of `as_of`, most severe first.

    purchase_orders: one row per PO line with PO_COLUMNS (dates as dates).
    forecast: `unique_id, ds, forecast` (daily units, from forecast_demand).
    position: `sku, on_hand, committed` (+ `available`) as of `as_of`.
    promotions: `sku, promotion_name, starts_on, ends_on` (one row per SKU and promotion).
    """
    _require(purchase_orders, "purchase_orders", PO_COLUMNS)
    _require(forecast, "forecast", ["unique_id", "ds", "forecast"])
    _require(position, "position", ["sku", "on_hand", "committed"])
    _require(promotions, "promotions", ["sku", "promotion_name", "starts_on", "ends_on"])
    pos = purchase_orders.filter(pl.col("ordered_date") <= as_of)
    position = position.with_columns(
        pl.col(c).cast(pl.Float64) for c in ("on_hand", "committed", "available")
        if c in position.columns
    )
    stockouts = _projected_stockouts(forecast, position, as_of)
    alerts = (
        _late_pos(pos, stockouts, as_of, recent_days)
        + _lead_time_drift(pos, as_of, recent_days, alpha, min_drift)
        + _promo_cover(forecast, position, pos, promotions, as_of, promo_window_days)
    )
    frame = pl.DataFrame(alerts, schema=ALERT_SCHEMA)
    rank = {"high": 0, "medium": 1, "low": 2}
    return frame.sort(pl.col("severity").replace_strict(rank, default=3), "alert_type",
                      "supplier_id", "sku", nulls_last=True)


def _projected_stockouts(forecast: pl.DataFrame, position: pl.DataFrame,
                         as_of: date) -> pl.DataFrame:
    """sku -> first day the cumulative forecast exceeds the stock available today."""
    stock = position.select(
        "sku",
        (pl.col("available") if "available" in position.columns
         else pl.col("on_hand") - pl.col("committed")).clip(lower_bound=0).alias("stock"),
    )
    future = (
        forecast.filter(pl.col("ds") > as_of).sort("unique_id", "ds")
        .with_columns(pl.col("forecast").cum_sum().over("unique_id").alias("cumulative"))
        .join(stock, left_on="unique_id", right_on="sku")
        .filter(pl.col("cumulative") > pl.col("stock"))
        .group_by("unique_id").agg(pl.col("ds").min().alias("stockout"))
    )
    # SKUs with stock and no forecast demand never run out within the horizon.
    return future.join(stock, left_on="unique_id", right_on="sku").select(
        pl.col("unique_id").alias("sku"), pl.col("stockout").cast(pl.Date), "stock")
