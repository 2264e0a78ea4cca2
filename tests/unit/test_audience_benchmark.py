"""benchmarks/audiences.py: the outcome windows after the cutoff (an off-by-one there
would score a segment on a day it saw, or miss the last day it is judged on) and the
capture share and bootstrap sums its tables are made of, on hand-made customers."""

from datetime import date

import numpy as np
import polars as pl
import pytest

from benchmarks.audiences import bootstrap_sums, capture_share, outcomes

CUTOFF = date(2026, 1, 1)


def _day(n: int) -> date:
    return date.fromordinal(CUTOFF.toordinal() + n)


def test_outcomes_count_days_1_to_30_90_180_after_the_cutoff_only() -> None:
    orders = pl.DataFrame({
        "customer_id": ["a", "a", "b", "b", "c", "d"],
        "order_date": [CUTOFF, _day(30), _day(31), _day(180), _day(91), _day(181)],
        "net_revenue": [999.0, 10.0, 20.0, 30.0, 40.0, 50.0],
    })
    scores = pl.DataFrame({"customer_id": ["a", "b", "c", "d", "e"],
                           "net_revenue_12m": [100.0, 200.0, 300.0, 400.0, 500.0]})
    got = outcomes(orders, scores, CUTOFF)
    assert got["customer_id"].to_list() == ["a", "b", "c", "d", "e"]
    # a's order on the cutoff day is history, not outcome; d's day 181 is past the window.
    assert got["future_value"].to_list() == [10.0, 50.0, 40.0, 0.0, 0.0]
    assert got["ordered_30d"].to_list() == [True, False, False, False, False]
    assert got["ordered_90d"].to_list() == [True, True, False, False, False]
    assert got["at_stake"].to_list() == [0.0, 0.0, 300.0, 400.0, 500.0]


def test_capture_share_and_paired_bootstrap_sums() -> None:
    value = np.array([100.0, 50.0, 0.0, 50.0])
    members = np.array([True, False, True, False])
    assert capture_share(value, members) == 0.5
    assert np.isnan(capture_share(np.zeros(4), members))
    point, draws = bootstrap_sums({"one": np.ones(4), "value": value}, replicates=50, seed=1)
    assert point == {"one": 4.0, "value": 200.0}
    # Every resample holds as many customers as the data, drawn from them.
    assert (draws["one"] == 4).all()
    assert set(np.unique(draws["value"])) <= {v for v in range(0, 401, 50)}
    assert draws["value"].mean() == pytest.approx(200.0, rel=0.2)
