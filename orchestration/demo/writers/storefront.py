"""Storefront analytics exports: daily sessions by channel (`analytics/sessions.csv`) and
the promotion calendar (`analytics/promotions.csv`)."""

from __future__ import annotations

import numpy as np
import polars as pl

from orchestration.demo import calendar as cal
from orchestration.demo.catalog import Catalog, Promotion
from orchestration.demo.customers import CHANNELS
from orchestration.demo.writers.format import Landing, _gather


def write_sessions(landing: Landing, sessions: np.ndarray, window: tuple[int, int]) -> None:
    w0, w1 = window
    n_days = w1 - w0 + 1
    day = np.repeat(np.arange(w0, w1 + 1), len(CHANNELS))
    ch = np.tile(np.arange(len(CHANNELS)), n_days)
    frame = pl.DataFrame(
        {
            "date": cal.fmt_day(pl.Series(day)),
            "channel": _gather(CHANNELS, ch),
            "sessions": pl.Series(sessions[ch, day - w0]).cast(pl.String),
        }
    )
    landing.write_csv("analytics/sessions.csv", frame, ["date", "channel", "sessions"])


def write_promotions(landing: Landing, catalog: Catalog, promos: list[Promotion]) -> None:
    frame = pl.DataFrame(
        {
            "name": [p.name for p in promos],
            "starts_on": [cal.to_date(p.start).isoformat() for p in promos],
            "ends_on": [cal.to_date(p.end).isoformat() for p in promos],
            "skus": [";".join(catalog.sku[i] for i in p.sku_idx) for p in promos],
            "collection": [p.collection for p in promos],
            "expected_uplift": [f"{p.expected_uplift:.1f}" for p in promos],
        },
        schema={
            k: pl.String
            for k in ("name", "starts_on", "ends_on", "skus", "collection", "expected_uplift")
        },
    )
    landing.write_csv(
        "analytics/promotions.csv",
        frame,
        ["name", "starts_on", "ends_on", "skus", "collection", "expected_uplift"],
    )
