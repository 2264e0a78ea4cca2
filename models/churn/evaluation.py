"""Evaluation rows of the churn models: ROC AUC, top-decile precision and lift, Brier
score and calibration error per window and population, the calibration table
(equal-count bins), and the BG/NBD x Gamma-Gamma revenue forecast against the
naive trailing-year rate."""

from __future__ import annotations

import numpy as np
import polars as pl

from models import bgnbd
from models.churn.clv import _expected_value


def _metrics(y: np.ndarray, p: np.ndarray) -> dict[str, float]:
    from sklearn.metrics import roc_auc_score

    n = len(y)
    out = {"customers": float(n), "churn_rate": float(y.mean()) if n else float("nan")}
    if n == 0 or y.min() == y.max():
        return out
    order = np.argsort(-p, kind="stable")
    top = order[: max(1, n // 10)]
    out["roc_auc"] = float(roc_auc_score(y, p))
    out["precision_top_decile"] = float(y[top].mean())
    out["lift_top_decile"] = out["precision_top_decile"] / out["churn_rate"]
    out["brier"] = float(np.mean((p - y) ** 2))
    bins = _calibration(y, p)
    out["calibration_error"] = float((bins["gap"].abs() * bins["customers"]).sum() / n)
    return out


def _calibration(y: np.ndarray, p: np.ndarray, bins: int = 10) -> pl.DataFrame:
    """Equal-count bins of predicted P(churn) against the observed churn rate:
    `bin, customers, predicted, observed, gap` (gap = predicted - observed).

    Sums run in one fixed order (a stable sort, then sequential per-bin sums), so the same
    scores give the same table to the last bit: a multithreaded group-by mean added them
    in varying order and the evaluation differed at 1e-15 from run to run."""
    order = np.argsort(p, kind="stable")
    sorted_p, sorted_y = np.asarray(p, dtype=float)[order], np.asarray(y, dtype=float)[order]
    n = len(sorted_p)
    if n == 0:
        return pl.DataFrame(schema={"bin": pl.Int64, "customers": pl.UInt32, "predicted": pl.Float64,
                                    "observed": pl.Float64, "gap": pl.Float64})
    index = np.arange(n) * bins // n
    customers = np.bincount(index, minlength=bins)
    kept = customers > 0
    predicted = np.bincount(index, weights=sorted_p, minlength=bins)[kept] / customers[kept]
    observed = np.bincount(index, weights=sorted_y, minlength=bins)[kept] / customers[kept]
    return pl.DataFrame({"bin": np.arange(bins)[kept].astype(np.int64),
                         "customers": customers[kept].astype(np.uint32),
                         "predicted": predicted, "observed": observed,
                         "gap": predicted - observed})


def _evaluate(name: str, frame: pl.DataFrame, p: np.ndarray, window: str) -> list[dict]:
    y = frame["churned"].to_numpy().astype(int)
    repeat = (frame["orders"] >= 2).to_numpy()
    rows = []
    for population, mask in (("all", np.ones(len(y), bool)), ("repeat", repeat)):
        for metric, value in _metrics(y[mask], p[mask]).items():
            rows.append({"model": name, "window": window, "population": population,
                         "metric": metric, "value": value})
    return rows


def _clv_rows(frame: pl.DataFrame, gg: bgnbd.GammaGammaParams | None,
              params: bgnbd.BgNbdParams | None, horizon_days: int, window: str) -> list[dict]:
    """BG/NBD + Gamma-Gamma predicted revenue in the window against what customers spent,
    next to the naive forecast 'the same as in the previous window'."""
    if gg is None or params is None:
        return []
    value = _expected_value(frame, gg)
    predicted = frame["bg_expected_orders"].to_numpy() * value
    actual = frame["future_net_revenue"].to_numpy()
    naive = (frame["net_revenue_365d"].to_numpy() * horizon_days / 365.0)
    rows = []
    from scipy.stats import spearmanr

    for model, guess in (("bgnbd_gamma_gamma", predicted), ("trailing_year_rate", naive)):
        for metric, val in (
            ("revenue_total_bias", float(guess.sum() / actual.sum() - 1) if actual.sum() else float("nan")),
            ("revenue_mae", float(np.mean(np.abs(guess - actual)))),
            ("revenue_spearman", float(spearmanr(guess, actual).statistic)),
        ):
            rows.append({"model": model, "window": window, "population": "all",
                         "metric": metric, "value": val})
    return rows
