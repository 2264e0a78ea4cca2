"""Fit, choose, test and score: `score_customers` and `churn_scores`, the entry points of
models.churn (its docstring documents the method and where it was measured)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np
import polars as pl

from models import bgnbd
from models.churn.clv import _expected_value, _fit_gamma_gamma
from models.churn.evaluation import _calibration, _clv_rows, _evaluate
from models.churn.features import (
    FEATURES,
    HORIZON_DAYS,
    MIN_HISTORY_DAYS,
    TRAINING_CUTOFFS,
    customer_features,
    cutoff_dates,
    label_features,
    order_days,
    validate_inputs,
)
from models.churn.segments import _usual_interval_from_products, _value_tiers, assign_segments
from models.churn.selection import (
    BASELINES,
    CANDIDATES,
    CHOICE_MARGIN,
    CHOICE_Z,
    COMPARISONS,
    Candidate,
    ModelChoice,
    choose_model,
)

CLV_DAYS = 365


@dataclass
class ChurnResult:
    """What `score_customers` found: the scores and the evidence behind them."""

    scores: pl.DataFrame
    evaluation: pl.DataFrame  # model, window, population, metric, value
    chosen_model: str
    reliability: pl.DataFrame  # test-window calibration bins of the chosen model
    choice: ModelChoice | None = None
    bgnbd_params: bgnbd.BgNbdParams | None = None
    gamma_gamma_params: bgnbd.GammaGammaParams | None = None
    timings: dict[str, float] = field(default_factory=dict)


def _two_classes(frame: pl.DataFrame | None) -> bool:
    """Whether a labelled frame holds both churned and retained customers."""
    return frame is not None and frame.height > 0 and frame["churned"].n_unique() == 2


def score_customers(orders: pl.DataFrame, *, as_of: date, tickets: pl.DataFrame | None = None,
                    order_lines: pl.DataFrame | None = None, horizon_days: int = HORIZON_DAYS,
                    training_cutoffs: int = TRAINING_CUTOFFS, max_training_rows: int = 400_000,
                    candidates: tuple[str, ...] = CANDIDATES, seed: int = 0,
                    margin: float = CHOICE_MARGIN, z: float = CHOICE_Z,
                    features: tuple[str, ...] = FEATURES) -> ChurnResult:
    """Fit, choose, test and score (see the models.churn docstring). Reads nothing after as_of.

    orders, tickets, order_lines: as in `churn_scores`. `candidates` are the models
    evaluated, from CANDIDATES; the BASELINES are evaluated whatever it says, because the
    choice (`choose_model`, with `margin` and `z`) is made against them. `features`: the
    columns the gradient-boosting and full logistic candidates read (default FEATURES;
    benchmarks pass others to measure a feature group). Returns a ChurnResult whose
    `choice` and evaluation rows (window "choice") say which rule picked the model.
    Raises ValueError for an unknown candidate, a missing column, or no order by as_of.
    """
    unknown = set(candidates) - set(CANDIDATES)
    if unknown:
        raise ValueError(f"unknown churn models {sorted(unknown)}: choose from {list(CANDIDATES)}")
    orders, tickets = validate_inputs(orders, tickets)
    orders = orders.filter(pl.col("order_date") <= as_of)
    if tickets is not None:
        tickets = tickets.filter(pl.col("created_date") <= as_of)
    if orders.is_empty():
        raise ValueError(f"orders has no order on or before {as_of}")
    timings: dict[str, float] = {}
    started = time.perf_counter()
    earliest = orders["order_date"].min() + timedelta(days=MIN_HISTORY_DAYS)
    cache: dict[date, pl.DataFrame] = {}
    days = order_days(orders)  # shared by the features at every cutoff

    def labelled(cutoff: date) -> pl.DataFrame:
        if cutoff not in cache:
            features, _ = customer_features(orders, cutoff=cutoff, tickets=tickets,
                                            horizon_days=horizon_days, days=days)
            cache[cutoff] = label_features(features, orders, cutoff, horizon_days)
        return cache[cutoff]

    def stacked(cutoffs: list[date]) -> pl.DataFrame:
        frame = pl.concat([labelled(c) for c in cutoffs], how="vertical_relaxed")
        if frame.height > max_training_rows:
            frame = frame.sample(max_training_rows, seed=seed)
        return frame

    test_cutoff = as_of - timedelta(days=horizon_days)
    validation_cutoff = as_of - timedelta(days=2 * horizon_days)
    selection_train = cutoff_dates(validation_cutoff, horizon_days, training_cutoffs, earliest)
    test_train = cutoff_dates(test_cutoff, horizon_days, training_cutoffs, earliest)
    final_train = cutoff_dates(as_of, horizon_days, training_cutoffs, earliest)

    rows: list[dict] = []
    evaluated = tuple(dict.fromkeys((*candidates, *BASELINES)))
    choice = None
    reliability = pl.DataFrame(schema={"bin": pl.Int64, "customers": pl.UInt32,
                                       "predicted": pl.Float64, "observed": pl.Float64,
                                       "gap": pl.Float64})
    supervised_ok = bool(selection_train) and validation_cutoff >= earliest
    if supervised_ok:
        # Long but thin history (orders imported from an older platform, a handful of
        # customers) can leave one class in a window: nothing to learn or rank there.
        supervised_ok = all(_two_classes(f) for f in (
            stacked(selection_train), labelled(validation_cutoff), labelled(test_cutoff),
            *((stacked(test_train),) if test_train else ()),
            *((stacked(final_train),) if final_train else ())))
    if supervised_ok:
        train = stacked(selection_train)
        validation = labelled(validation_cutoff)
        predictions = {}
        for name in evaluated:
            predictions[name] = Candidate(name, seed, features).fit(train).predict(validation)
            rows += _evaluate(name, validation, predictions[name], "validation")
        choice = choose_model(validation["churned"].to_numpy(),
                              {n: p for n, p in predictions.items() if n not in COMPARISONS},
                              margin=margin, z=z)
        timings["selection_s"] = time.perf_counter() - started
        # Held-out test on the last complete window, every candidate refitted on data
        # whose labels end by the test cutoff (the choice was made before this).
        test_started = time.perf_counter()
        test = labelled(test_cutoff)
        refit_train = stacked(test_train)
        for name in evaluated:
            p = Candidate(name, seed, features).fit(refit_train).predict(test)
            rows += _evaluate(name, test, p, "test")
            if name == choice.model:
                reliability = _calibration(test["churned"].to_numpy().astype(int), p)
        test_features, test_params = customer_features(orders, cutoff=test_cutoff, tickets=tickets,
                                                       horizon_days=horizon_days, days=days)
        rows += _clv_rows(test, _fit_gamma_gamma(test_features), test_params, horizon_days, "test")
        timings["test_s"] = time.perf_counter() - test_started

    score_started = time.perf_counter()
    features_now, params = customer_features(orders, cutoff=as_of, tickets=tickets,
                                             horizon_days=horizon_days, days=days)
    if choice is not None and choice.model not in ("bgnbd",) and final_train:
        p_churn = Candidate(choice.model, seed, features).fit(stacked(final_train)).predict(features_now)
    elif choice is not None and choice.model == "bgnbd" and params is not None:
        p_churn = features_now["bg_p_no_order"].to_numpy()
    elif params is not None:
        choice = ModelChoice(model="bgnbd", rule="bgnbd_only", margin=margin,
                             reason="too little history for a validation and a test window: "
                                    "BG/NBD P(no order), which needs no labels, scores")
        p_churn = features_now["bg_p_no_order"].to_numpy()
    else:
        # Too few repeat customers to fit anything: the store's own rate by recency.
        choice = ModelChoice(model="recency_rule", rule="recency_rule", margin=margin,
                             reason="fewer than 10 repeat customers: p_churn = days since "
                                    "the last order / (2 x horizon), clipped to 0.05..0.95")
        p_churn = np.clip(features_now["recency_days"].to_numpy() / (2.0 * horizon_days), 0.05, 0.95)
    chosen = choice.model
    rows += [{"model": chosen, "window": "choice", "population": "all", "metric": metric,
              "value": value} for metric, value in (
                  ("is_fallback", float(choice.rule != "challenger")),
                  ("margin", choice.margin), ("auc_gain_best_challenger", choice.gain),
                  ("auc_gain_se", choice.gain_se))]
    gg = _fit_gamma_gamma(features_now)
    scores = _finish(features_now, p_churn, params, gg, orders, order_lines, as_of, horizon_days, chosen)
    timings["score_s"] = time.perf_counter() - score_started
    timings["total_s"] = time.perf_counter() - started
    evaluation = pl.DataFrame(rows, schema={"model": pl.String, "window": pl.String,
                                            "population": pl.String, "metric": pl.String,
                                            "value": pl.Float64})
    return ChurnResult(scores=scores, evaluation=evaluation, chosen_model=chosen,
                       reliability=reliability, choice=choice, bgnbd_params=params,
                       gamma_gamma_params=gg, timings=timings)


def _finish(features: pl.DataFrame, p_churn: np.ndarray, params: bgnbd.BgNbdParams | None,
            gg: bgnbd.GammaGammaParams | None, orders: pl.DataFrame,
            order_lines: pl.DataFrame | None, as_of: date, horizon_days: int,
            chosen: str) -> pl.DataFrame:
    x = (features["order_days"] - 1).to_numpy().astype(float)
    t_x = ((features["last_order_date"] - features["first_order_date"]).dt.total_days() / 7).to_numpy()
    age = (features["tenure_days"] / 7).to_numpy()
    if params is not None:
        year_orders = bgnbd.expected_purchases(params, x, t_x, age, CLV_DAYS / 7)
    else:
        year_orders = features["orders_365d"].to_numpy().astype(float)
    value = _expected_value(features, gg) if gg is not None else features["average_order_value"].to_numpy()
    frame = features.with_columns(
        pl.Series("p_churn", np.clip(p_churn, 0.0, 1.0)),
        pl.Series("expected_order_value", value),
        pl.Series("predicted_clv", np.clip(year_orders * value, 0.0, None)),
    )
    frame = frame.with_columns(_usual_interval_from_products(frame, order_lines, as_of))
    tiers = _value_tiers(frame)
    frame = frame.with_columns(
        (pl.col("last_order_date") + pl.duration(days=pl.col("next_interval_days").round(0).cast(pl.Int64)))
        .alias("expected_next_order_date"),
        tiers.alias("value_tier"),
        (pl.col("predicted_clv") >= pl.col("predicted_clv").quantile(0.8)).alias("_clv_top"),
    ).with_columns(
        (pl.lit(as_of) - pl.col("expected_next_order_date")).dt.total_days().clip(lower_bound=0).alias("days_overdue"),
    )
    frame = assign_segments(frame, horizon_days=horizon_days)
    return frame.select(
        "customer_id", pl.col("p_churn").round(4), "expected_next_order_date",
        pl.col("predicted_clv").round(2), "segment", "value_tier", "is_advocate",
        pl.col("bg_p_alive").round(4).alias("p_alive"),
        pl.col("bg_expected_orders").round(3).alias(f"expected_orders_{horizon_days}d"),
        pl.col("expected_order_value").round(2), "orders", pl.col("net_revenue").round(2),
        pl.col("net_revenue_365d").round(2).alias("net_revenue_12m"), "first_order_date",
        "last_order_date", pl.col("recency_days").alias("days_since_last_order"),
        pl.col("next_interval_days").round(1).alias("usual_interval_days"), "days_overdue",
        "acquisition_channel", "support_contacts", "complaints",
        pl.lit(chosen).alias("model"), pl.lit(as_of).alias("as_of_date"),
    ).sort("customer_id")


def churn_scores(orders: pl.DataFrame, *, as_of: date, tickets: pl.DataFrame | None = None,
                 order_lines: pl.DataFrame | None = None,
                 horizon_days: int = HORIZON_DAYS) -> pl.DataFrame:
    """Churn probability, due date, 12-month value and segment per customer (see models.churn).

    orders: `customer_id, order_date, net_revenue` (+ `order_id, gross_revenue, refunds,
    has_discount, channel`), one row per revenue order. Returns `customer_id, p_churn,
    expected_next_order_date, predicted_clv, segment` followed by `value_tier, is_advocate`
    and the figures behind them.
    """
    return score_customers(orders, as_of=as_of, tickets=tickets, order_lines=order_lines,
                           horizon_days=horizon_days).scores
