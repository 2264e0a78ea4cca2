"""Customer value: the Gamma-Gamma fit on repeat order values and the expected value of a
customer's future orders (net revenue, store currency), what predicted_clv multiplies
BG/NBD's expected purchases by."""

from __future__ import annotations

import numpy as np
import polars as pl

from models import bgnbd


def _expected_value(frame: pl.DataFrame, gg: bgnbd.GammaGammaParams) -> np.ndarray:
    x = (frame["order_days"] - 1).to_numpy().astype(float)
    m = frame["repeat_order_value"].fill_null(0.0).to_numpy()
    population_mean = float(frame["average_order_value"].clip(lower_bound=0).mean() or 0.0)
    return bgnbd.expected_order_value(gg, x, m, population_mean)


def _fit_gamma_gamma(features: pl.DataFrame) -> bgnbd.GammaGammaParams | None:
    x = (features["order_days"] - 1).to_numpy().astype(float)
    m = features["repeat_order_value"].fill_null(0.0).to_numpy()
    try:
        return bgnbd.fit_gamma_gamma(x, m)
    except ValueError:
        return None
