"""Forecasting on Spark (issue 18, the distributed path): `compute="spark"` sends
statsforecast through its Fugue backend to a local Spark session, and must give the local
path's forecasts on the same data. Opt in: `make test-spark` (the `spark` extra and Java).
"""

from datetime import date, timedelta

import numpy as np
import polars as pl
import pytest

pytestmark = pytest.mark.spark
pytest.importorskip("pyspark", reason="the spark extra is not installed (make test-spark)")

from forecasting import backtest, forecast_demand

WEEKLY_PATTERN = [10.0, 12.0, 14.0, 16.0, 30.0, 50.0, 20.0]


def series(unique_id: str, values) -> pl.DataFrame:
    start = date(2025, 1, 6)
    return pl.DataFrame({
        "unique_id": [unique_id] * len(values),
        "ds": [start + timedelta(days=i) for i in range(len(values))],
        "y": [float(v) for v in values],
        "is_stockout": [False] * len(values),
        "is_promo": [False] * len(values),
    })


@pytest.fixture(scope="module")
def history() -> pl.DataFrame:
    rng = np.random.default_rng(7)
    return pl.concat([
        series("S1", [w + rng.normal(0, 2) for _ in range(30) for w in WEEKLY_PATTERN]),
        series("S2", [2 * w + rng.normal(0, 3) for _ in range(30) for w in WEEKLY_PATTERN]),
        series("I", rng.binomial(1, 0.3, 210) * rng.poisson(3, 210)),
    ])


def test_spark_gives_the_local_forecasts(history):
    local = forecast_demand(history, 14, n_jobs=1)
    spark = forecast_demand(history, 14, n_jobs=1, compute="spark")
    assert spark.columns == local.columns and spark.height == local.height
    assert spark["model"].to_list() == local["model"].to_list()
    for column in ("forecast", "lo_80", "hi_80", "lo_95", "hi_95"):
        assert np.allclose(spark[column].to_numpy(), local[column].to_numpy(),
                           rtol=1e-5, atol=1e-5), column


def test_spark_gives_the_local_backtest(history):
    local = backtest(history, 14, windows=2, n_jobs=1)
    spark = backtest(history, 14, windows=2, n_jobs=1, compute="spark")
    assert spark["model"].to_list() == local["model"].to_list()
    assert np.allclose(spark["mase"].to_numpy(), local["mase"].to_numpy(), rtol=1e-5)
