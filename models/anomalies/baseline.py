"""The naive comparator of the anomaly detector: a fixed trailing mean +- sigma x std band."""

from __future__ import annotations

from datetime import date

import polars as pl

from models.anomalies.detect import _alert_exprs, _grid, _validate_series
from models.anomalies.incidents import _finish, _merge_incidents, _revenue_reference

# Naive comparator.
BASELINE_DAYS = 28


def threshold_baseline(series: pl.DataFrame, *, as_of: date, lookback_days: int = 90,
                       sigma: float = 3.0) -> pl.DataFrame:
    """The naive comparator: a fixed band of trailing mean +- sigma x std.

    expected = mean of the series over the 28 days before the day, lo/hi = expected -+
    sigma x their standard deviation (no weekday, no season, no volume); score = (value
    - expected) / std. Same input, hurting directions, return-rate maturity, incident
    merging, impact, severity and output columns as `detect_anomalies` (driver null).
    """
    if sigma <= 0:
        raise ValueError(f"sigma must be positive, got {sigma}")
    frame = _validate_series(series, as_of, lookback_days)
    window = {"window_size": BASELINE_DAYS, "min_samples": BASELINE_DAYS // 2}
    out = _grid(frame, as_of).with_columns(
        pl.col("value").rolling_mean(**window).shift(1).over("sid").alias("expected"),
        pl.col("value").rolling_std(**window).shift(1).over("sid").alias("sd"),
    ).with_columns(
        pl.when(pl.col("sd") > 0).then((pl.col("value") - pl.col("expected")) / pl.col("sd"))
        .alias("score"),
        (pl.col("expected") - sigma * pl.col("sd")).alias("lo"),
        (pl.col("expected") + sigma * pl.col("sd")).alias("hi"),
    )
    out = out.with_columns(_alert_exprs(as_of, lookback_days, sigma, guard_volume=False))
    alerts = _merge_incidents(out.filter(pl.col("is_alert")))
    return _finish(alerts, _revenue_reference(out, "expected"))
