"""From alert days to the alert frame: incidents, drivers, severity, output columns.

Shared by `detect_anomalies` and `threshold_baseline`: consecutive alert days of one
series become one incident, a store-level alert is explained by the breakdown that
moved most (`DRIVER_PREFIX`), and severity weighs the deviation against the money at
stake. Output columns: `ALERT_COLUMNS`.
"""

from __future__ import annotations

import polars as pl

from models.anomalies.metrics import METRICS, _spec_column

# The breakdown whose series may explain a store-level alert of each metric (the driver).
DRIVER_PREFIX = {"revenue": "channel=", "orders": "channel=", "conversion_rate": "channel=",
                 "aov": "channel=", "ticket_volume": "category=", "return_rate": "sku="}

ALERT_COLUMNS = ("metric", "dimension", "date", "value", "expected", "lo", "hi", "severity",
                 "direction", "score", "impact", "incident_id", "incident_start",
                 "incident_end", "driver", "is_current")

MERGE_GAP_DAYS = 1

# Severity from the deviation (in alert thresholds) and the money at stake (share of the
# store's expected revenue that day).
SEVERITY_SHARE = {"critical": 0.05, "high": 0.02, "medium": 0.005}


def _revenue_reference(scored: pl.DataFrame, column: str) -> pl.DataFrame:
    """The store's expected revenue per day: what an impact is a share of."""
    return scored.filter((pl.col("metric") == "revenue") & (pl.col("dimension") == "all")
                         ).select("ds", pl.col(column).alias("revenue_reference"))


def _merge_incidents(alerts: pl.DataFrame) -> pl.DataFrame:
    """Consecutive alert days of one series in one direction become one incident; one
    day back inside the band does not split it (a doubled budget that happens to convert
    well one day is still one mistake)."""
    alerts = alerts.sort("sid", "ds")
    new = ((pl.col("ds").diff().over("sid") > pl.duration(days=1 + MERGE_GAP_DAYS))
           | (pl.col("direction") != pl.col("direction").shift(1).over("sid"))).fill_null(True)
    alerts = alerts.with_columns(new.cum_sum().over("sid").alias("_incident"))
    return alerts.with_columns(
        pl.col("ds").min().over("sid", "_incident").alias("incident_start"),
        pl.col("ds").max().over("sid", "_incident").alias("incident_end"),
    ).with_columns(
        pl.concat_str("metric", "dimension", pl.col("incident_start").cast(pl.Utf8),
                      separator="|").alias("incident_id"),
        (pl.col("incident_end") >= pl.col("last_scored")).alias("is_current"),
    ).drop("_incident")


def _add_drivers(alerts: pl.DataFrame, scored: pl.DataFrame) -> pl.DataFrame:
    """The breakdown that explains most of each store-level alert (see detect_anomalies)."""
    contribution = pl.when(_spec_column("noise", pl.Utf8) == "rate").then(
        (pl.col("value") - pl.col("expected")) * pl.col("volume")
    ).when(pl.col("metric") == "aov").then(
        (pl.col("value") - pl.col("expected")) * pl.col("volume")
    ).otherwise(pl.col("value") - pl.col("expected"))
    wanted = alerts.filter((pl.col("dimension") == "all")
                           & pl.col("metric").is_in(list(DRIVER_PREFIX)))
    if wanted.is_empty():
        return alerts.with_columns(pl.lit(None, pl.Utf8).alias("driver"))
    prefix = pl.col("metric").replace_strict(DRIVER_PREFIX, default=None)
    parts = (
        scored.filter(pl.col("metric").is_in(list(DRIVER_PREFIX))
                      & (pl.col("dimension") != "all")
                      & pl.col("dimension").str.starts_with(prefix)
                      & pl.col("ds").is_in(wanted["ds"].unique().implode()))
        .select("metric", "ds", pl.col("dimension").alias("part"),
                contribution.alias("part_change"))
        .drop_nulls("part_change")
    )
    totals = wanted.select("metric", "ds", "direction", contribution.alias("total_change"))
    sign = pl.when(pl.col("direction") == "down").then(-1.0).otherwise(1.0)
    best = (
        totals.join(parts, on=["metric", "ds"], how="inner")
        .filter(pl.col("part_change") * sign > 0)
        .sort(pl.col("part_change") * sign, descending=True)
        .group_by("metric", "ds", maintain_order=True).first()
    )
    units = {name: spec.driver_unit for name, spec in METRICS.items() if spec.driver_unit}
    text = [
        _driver_text(row["part"], row["part_change"], row["total_change"], units[row["metric"]])
        for row in best.iter_rows(named=True)
    ]
    best = best.select("metric", "ds", pl.Series("driver", text, dtype=pl.Utf8),
                       pl.lit("all").alias("dimension"))
    return alerts.join(best, on=["metric", "dimension", "ds"], how="left")


def _driver_text(part: str, change: float, total: float, unit: str) -> str:
    if unit == "money":  # in the store's currency, which the caller knows
        return f"{part}: {change:+,.0f} of {total:+,.0f}"
    return f"{part}: {change:+,.0f} of {total:+,.0f} {unit}"


def _severity(revenue_reference: pl.Expr) -> pl.Expr:
    """critical / high / medium / low from |score| (in thresholds) and impact share."""
    size = pl.col("score").abs() / pl.col("threshold")
    share = pl.col("impact") / revenue_reference
    by_size = pl.when(size >= 2).then(pl.lit("medium")).otherwise(pl.lit("low"))
    by_money = (
        pl.when((share >= SEVERITY_SHARE["critical"]) & (size >= 2)).then(pl.lit("critical"))
        .when((share >= SEVERITY_SHARE["critical"])
              | ((share >= SEVERITY_SHARE["high"]) & (size >= 1.5))).then(pl.lit("high"))
        .when((share >= SEVERITY_SHARE["medium"]) | (size >= 2)).then(pl.lit("medium"))
        .otherwise(pl.lit("low"))
    )
    return pl.when(share.is_null() | ~share.is_finite()).then(by_size).otherwise(by_money)


def _finish(alerts: pl.DataFrame, reference: pl.DataFrame) -> pl.DataFrame:
    """Severity (money share of the store's expected revenue that day), output columns."""
    if "driver" not in alerts.columns:
        alerts = alerts.with_columns(pl.lit(None, pl.Utf8).alias("driver"))
    return (
        alerts.join(reference, on="ds", how="left")
        .with_columns(_severity(pl.col("revenue_reference")).alias("severity"))
        .select(
            "metric", "dimension", pl.col("ds").alias("date"), "value", "expected", "lo", "hi",
            "severity", "direction", "score", "impact", "incident_id", "incident_start",
            "incident_end", "driver", "is_current",
        )
        .sort("date", "metric", "dimension")
    )
