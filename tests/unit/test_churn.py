"""Churn, lifetime value and repurchase timing on small synthetic customer histories."""

from datetime import date, timedelta

import numpy as np
import polars as pl
import pytest

from models import bgnbd
from models.churn import (
    BASELINES,
    Candidate,
    assign_segments,
    auc_difference,
    choose_model,
    churn_labels,
    customer_features,
    order_days,
    score_customers,
)
from models.repurchase import product_repurchase, replenishment_reminders, win_back_list
from orchestration.demo.buyers import simulate_buyers

START = date(2024, 1, 1)


def simulate_bgnbd(n: int, params: bgnbd.BgNbdParams, weeks: float, seed: int = 0):
    """Customers from the BG/NBD story: Poisson purchases at rate lambda, after each
    purchase dropout with probability p. All start at week 0 (their first purchase)."""
    rng = np.random.default_rng(seed)
    lam = rng.gamma(params.r, 1 / params.alpha, n)
    p = rng.beta(params.a, params.b, n)
    t = np.zeros(n)
    alive = np.ones(n, bool)
    x = np.zeros(n)
    t_x = np.zeros(n)
    for _ in range(400):
        if not alive.any():
            break
        t = t + rng.exponential(1 / np.maximum(lam, 1e-9))
        bought = alive & (t <= weeks)
        x[bought] += 1
        t_x[bought] = t[bought]
        alive = bought & (rng.random(n) >= p)
    return x, t_x, np.full(n, weeks)


def synthetic_orders(n: int = 1500, days: int = 720, seed: int = 3) -> pl.DataFrame:
    """Orders of customers with their own rhythm; some stop buying for good."""
    rng = np.random.default_rng(seed)
    rows = []
    for customer in range(n):
        first = START + timedelta(days=int(rng.integers(0, days - 30)))
        gap = float(rng.choice([20, 45, 90, 200]))
        stop_after = int(rng.geometric(0.3))
        day, k = first, 0
        value = float(rng.gamma(4, 12))
        while day <= START + timedelta(days=days) and k <= stop_after:
            rows.append({"order_id": f"{customer}-{k}", "customer_id": f"c{customer:05d}",
                         "order_date": day, "net_revenue": round(value * rng.uniform(0.7, 1.3), 2),
                         "channel": ["meta", "google", "email"][customer % 3],
                         "has_discount": bool(rng.random() < 0.3)})
            day = day + timedelta(days=max(1, int(rng.exponential(gap))))
            k += 1
    return pl.DataFrame(rows)


def test_bgnbd_conditional_expectations_match_monte_carlo():
    # a < 1 (fitted on the demo store) and a > 1: the closed forms hold for both.
    rng = np.random.default_rng(1)
    for params in (bgnbd.BgNbdParams(0.46, 5.78, 0.55, 3.44), bgnbd.BgNbdParams(0.5, 10.0, 2.5, 4.0)):
        for x, t_x, age, t in ((0, 0, 30, 13), (2, 20, 40, 13), (6, 35, 40, 52)):
            # Given alive: lambda ~ Gamma(r+x, alpha+T), p ~ Beta(a, b+x); purchases in t
            # weeks with dropout after each: (1 - exp(-lambda p t)) / p.
            lam = rng.gamma(params.r + x, 1 / (params.alpha + age), 400_000)
            p = rng.beta(params.a, params.b + x, 400_000)
            alive = bgnbd.p_alive(params, x, t_x, age)
            expected = alive * np.mean((1 - np.exp(-lam * p * t)) / p)
            quiet = 1 - alive + alive * np.mean(np.exp(-lam * t))
            assert bgnbd.expected_purchases(params, x, t_x, age, t) == pytest.approx(expected, rel=0.02)
            assert bgnbd.p_no_purchase(params, x, t_x, age, t) == pytest.approx(quiet, abs=0.003)


def test_bgnbd_fit_recovers_the_parameters_it_was_simulated_with():
    truth = bgnbd.BgNbdParams(r=0.8, alpha=6.0, a=0.9, b=3.0)
    x, t_x, age = simulate_bgnbd(20_000, truth, weeks=78, seed=2)
    fit = bgnbd.fit_bgnbd(x, t_x, age)
    assert fit.r == pytest.approx(truth.r, rel=0.15)
    assert fit.alpha == pytest.approx(truth.alpha, rel=0.2)
    assert fit.a == pytest.approx(truth.a, rel=0.3)
    assert fit.b == pytest.approx(truth.b, rel=0.3)


def test_gamma_gamma_shrinks_a_single_repeat_toward_the_population():
    rng = np.random.default_rng(4)
    x = rng.integers(1, 8, 3000).astype(float)
    m = rng.gamma(6, 8, 3000)
    params = bgnbd.fit_gamma_gamma(x, m)
    one, many = bgnbd.expected_order_value(params, [1, 20], [200.0, 200.0], 50.0)
    assert m.mean() < one < many < 200.0  # few orders: pulled toward the mean
    assert bgnbd.expected_order_value(params, [0], [0.0], 50.0)[0] == 50.0


def test_features_at_a_cutoff_ignore_everything_after_it():
    orders = synthetic_orders(400)
    cutoff = date(2025, 3, 1)
    with_future, _ = customer_features(orders, cutoff=cutoff)
    without, _ = customer_features(orders.filter(pl.col("order_date") <= cutoff), cutoff=cutoff)
    assert with_future.equals(without)
    assert with_future["last_order_date"].max() <= cutoff


def test_order_days_shared_across_cutoffs_give_the_same_features():
    # score_customers groups the orders into order days once and filters them per cutoff.
    orders = synthetic_orders(400)
    days = order_days(orders)
    for cutoff in (date(2024, 9, 1), date(2025, 3, 1), date(2025, 12, 1)):
        alone, alone_fit = customer_features(orders, cutoff=cutoff)
        shared, shared_fit = customer_features(orders, cutoff=cutoff, days=days)
        assert shared.equals(alone) and shared_fit == alone_fit


def test_labels_come_only_from_the_following_window():
    orders = pl.DataFrame({
        "customer_id": ["a", "a", "b", "b", "c"],
        "order_date": [date(2025, 1, 1), date(2025, 2, 1), date(2025, 1, 5), date(2025, 6, 1),
                       date(2025, 2, 15)],
        "net_revenue": [10.0] * 5,
    })
    labels = churn_labels(orders, cutoff=date(2025, 1, 10), horizon_days=90)
    # a re-bought inside the window, b only after it; c had no order by the cutoff.
    assert labels.to_dicts() == [{"customer_id": "a", "churned": False},
                                 {"customer_id": "b", "churned": True}]


@pytest.mark.parametrize("candidates", [("gradient_boosting", "recency"), ("logistic",)])
def test_scores_at_as_of_do_not_change_when_later_orders_exist(candidates):
    """The label must not leak: orders after as_of change nothing, not the choice of
    model, not its evaluation, not a single score."""
    orders = synthetic_orders(800)
    as_of = date(2025, 10, 1)
    # margin -1 and z -10: the challenger is used whatever it scores, so the refit and
    # final scoring of a learned model are what is compared.
    forced = {"candidates": candidates, "margin": -1.0, "z": -10.0}
    later = score_customers(orders, as_of=as_of, **forced)
    cut = score_customers(orders.filter(pl.col("order_date") <= as_of), as_of=as_of, **forced)
    assert later.chosen_model == cut.chosen_model == candidates[0]
    assert later.choice.rule == "challenger"
    assert later.evaluation.equals(cut.evaluation)
    assert later.scores.equals(cut.scores)


def test_score_customers_evaluates_every_candidate_on_a_held_out_window():
    orders = synthetic_orders(1500)
    as_of = date(2025, 12, 20)
    result = score_customers(orders, as_of=as_of)
    test = result.evaluation.filter((pl.col("window") == "test") & (pl.col("metric") == "roc_auc")
                                    & (pl.col("population") == "all"))
    assert set(test["model"]) == {"gradient_boosting", "logistic", "bgnbd", "bgnbd_p_alive",
                                  "bgnbd_expected", "logistic_rfm", "recency"}
    assert test["value"].is_between(0.0, 1.0).all()
    scores = result.scores
    assert scores.height == orders.filter(pl.col("order_date") <= as_of)["customer_id"].n_unique()
    assert scores["p_churn"].is_between(0, 1).all()
    assert (scores["expected_next_order_date"] > scores["last_order_date"]).all()
    assert (scores["predicted_clv"] >= 0).all()
    assert set(scores["segment"]) <= {"active", "at_risk", "high_value_at_risk", "lapsed", "reactivated"}


def test_segments_follow_the_customer_rhythm():
    frame = pl.DataFrame({
        "customer_id": ["lapsed", "overdue_vip", "overdue", "on_rhythm", "back", "fan"],
        "p_churn": [0.95, 0.7, 0.7, 0.7, 0.6, 0.2],
        "recency_days": [400, 50, 50, 10, 20, 5],
        "next_interval_days": [30.0, 30.0, 30.0, 30.0, 30.0, 20.0],
        "last_gap_days": [30, 30, 30, 30, 250, 15],
        "value_tier": ["gold", "vip", "bronze", "bronze", "silver", "silver"],
        "_clv_top": [False, False, False, False, False, False],
        "orders": [3, 9, 2, 2, 4, 5],
        "min_interval_days": [30, 20, 30, 30, 60, 10],
        "complaints": [0, 0, 0, 0, 0, 0],
        "csat_share_satisfied": [None, 1.0, None, None, None, None],
        "refund_share": [0.0] * 6,
    })
    out = assign_segments(frame, horizon_days=90)
    assert dict(zip(out["customer_id"], out["segment"])) == {
        "lapsed": "lapsed", "overdue_vip": "high_value_at_risk", "overdue": "at_risk",
        "on_rhythm": "active", "back": "reactivated", "fan": "active"}
    assert out.filter(pl.col("is_advocate"))["customer_id"].to_list() == ["on_rhythm", "back", "fan"]


def test_product_repurchase_median_days_and_reminders():
    lines = pl.DataFrame({
        "customer_id": [f"c{i}" for i in range(12) for _ in range(2)] + ["solo"],
        "order_date": [d for i in range(12) for d in (date(2025, 1, 1), date(2025, 1, 1) + timedelta(days=20 + i))]
        + [date(2025, 3, 1)],
        "sku": ["TEA"] * 24 + ["TEA"],
        "line_name": ["Tea"] * 25,
    })
    timing = product_repurchase(lines, as_of=date(2025, 6, 1))
    row = timing.row(0, named=True)
    assert (row["buyers"], row["repurchasers"]) == (13, 12)
    assert row["median_days_to_repurchase"] == 25.5  # 20..31 days
    scores = pl.DataFrame({"customer_id": ["solo"], "p_churn": [0.4], "segment": ["active"]})
    reminders = replenishment_reminders(lines, scores, timing, as_of=date(2025, 3, 20), days_ahead=14)
    # last order 1 March + 26 days - 3 days of lead = 24 March
    assert reminders.select("customer_id", "remind_on").to_dicts() == [
        {"customer_id": "solo", "remind_on": date(2025, 3, 24)}]


def test_win_back_list_has_no_email_and_only_high_value_at_risk():
    scores = pl.DataFrame({
        "customer_id": ["x", "y"], "segment": ["high_value_at_risk", "active"],
        "p_churn": [0.8, 0.1], "predicted_clv": [300.0, 500.0], "value_tier": ["vip", "vip"],
        "orders": [6, 9], "net_revenue_12m": [400.0, 800.0],
        "last_order_date": [date(2025, 1, 1), date(2025, 5, 1)], "days_since_last_order": [150, 30],
        "usual_interval_days": [40.0, 30.0], "days_overdue": [110, 0],
        "acquisition_channel": ["meta", "email"], "email": ["x@example.com", "y@example.com"],
    })
    lines = pl.DataFrame({"customer_id": ["x", "x"], "order_date": [date(2025, 1, 1)] * 2,
                          "sku": ["A", "B"], "line_name": ["Oolong", "Cup"]})
    out = win_back_list(scores, lines, as_of=date(2025, 6, 1))
    assert out["customer_id"].to_list() == ["x"]
    assert "email" not in out.columns
    assert out["last_products"].to_list() == ["Cup; Oolong"]
    assert out["value_at_risk"].to_list() == [240.0]


def test_win_back_list_ranks_by_margin_at_risk():
    # "rev" is worth more in sales, "full" in margin: it buys at full price.
    scores = pl.DataFrame({
        "customer_id": ["rev", "full", "new"], "segment": ["high_value_at_risk"] * 3,
        "p_churn": [0.5, 0.5, 0.5], "predicted_clv": [400.0, 300.0, 100.0],
        "value_tier": ["vip"] * 3, "orders": [6, 5, 2], "net_revenue_12m": [500.0, 400.0, 80.0],
        "last_order_date": [date(2025, 1, 1)] * 3, "days_since_last_order": [150] * 3,
        "usual_interval_days": [40.0] * 3, "days_overdue": [110] * 3,
        "acquisition_channel": ["meta", "email", "google"],
    })
    lines = pl.DataFrame({"customer_id": ["rev"], "order_date": [date(2025, 1, 1)],
                          "sku": ["A"], "line_name": ["Oolong"]})
    margins = pl.DataFrame({"customer_id": ["rev", "full", "new"],
                            "margin_share": [0.10, 0.40, None]})
    out = win_back_list(scores, lines, as_of=date(2025, 6, 1), margins=margins)
    # at risk: rev 200 x 0.10 = 20; full 150 x 0.40 = 60; new 50 x median(0.10, 0.40) = 12.5
    assert out.select("customer_id", "margin_at_risk", "margin_basis").rows() == [
        ("full", 60.0, "customer"), ("rev", 20.0, "customer"), ("new", 12.5, "store")]
    assert win_back_list(scores, lines, as_of=date(2025, 6, 1))["customer_id"].to_list() == [
        "rev", "full", "new"]


def test_missing_column_is_named():
    with pytest.raises(ValueError, match="orders is missing column 'order_date'"):
        customer_features(pl.DataFrame({"customer_id": ["a"], "net_revenue": [1.0]}),
                          cutoff=date(2025, 1, 1))


def recency_only_orders(n: int = 1500, days: int = 720, seed: int = 5) -> pl.DataFrame:
    """Customers who all buy at one Poisson rate (every 20 days on average) until an
    exponential lifetime (mean 200 days) ends: given the history, P(alive) depends on the
    days since the last order alone, so nothing can rank churners better than recency."""
    rng = np.random.default_rng(seed)
    rows = []
    for customer in range(n):
        first = int(rng.integers(0, days - 30))
        death = first + rng.exponential(200.0)
        day = float(first)
        while day <= min(death, days):
            rows.append({"customer_id": f"c{customer:05d}",
                         "order_date": START + timedelta(days=int(day)),
                         "net_revenue": round(float(rng.gamma(4, 12)), 2)})
            day += rng.exponential(20.0)
    return pl.DataFrame(rows).unique(["customer_id", "order_date"], keep="first", maintain_order=True)


def test_choice_falls_back_when_no_challenger_beats_the_baselines_by_the_margin():
    rng = np.random.default_rng(0)
    recency = rng.exponential(60.0, 20_000)
    churned = (rng.random(20_000) < 1 / (1 + np.exp(-(recency - 60) / 25))).astype(int)
    extra = rng.standard_normal(20_000)  # a little signal recency does not have
    churned_extra = (rng.random(20_000) < 1 / (1 + np.exp(-(recency - 60) / 25 - 0.25 * extra))).astype(int)
    scores = {"recency": recency, "logistic_rfm": recency + 0.01 * rng.standard_normal(20_000),
              "gradient_boosting": recency + 0.25 * 25 * extra}
    auc_gb, auc_recency, _ = auc_difference(churned_extra, scores["gradient_boosting"], recency)
    assert 0.0 < auc_gb - auc_recency < 0.005  # better, but by less than the margin
    fallback = choose_model(churned_extra, scores)
    assert (fallback.rule, fallback.challenger) == ("fallback", "gradient_boosting")
    assert fallback.model in BASELINES
    _, auc_reference, _ = auc_difference(churned_extra, recency, scores[fallback.baseline])
    assert fallback.gain == pytest.approx(auc_gb - auc_reference, abs=1e-12)
    # Without a margin the same gain is enough: the rule, not the data, made the fallback.
    assert choose_model(churned_extra, scores, margin=0.0, z=0.0).model == "gradient_boosting"
    # A challenger that is recency plus noise never passes.
    noisy = {"recency": recency, "logistic": recency + 5 * rng.standard_normal(20_000)}
    assert choose_model(churned, noisy).model == "recency"
    with pytest.raises(ValueError, match="needs a score for one of"):
        choose_model(churned, {"gradient_boosting": recency})


def test_auc_difference_matches_sklearn_and_a_bootstrap():
    from sklearn.metrics import roc_auc_score

    rng = np.random.default_rng(1)
    y = rng.random(3000) < 0.4
    first = y + rng.standard_normal(3000)
    second = first + 0.8 * rng.standard_normal(3000)
    auc_first, auc_second, se = auc_difference(y, first, second)
    assert auc_first == pytest.approx(roc_auc_score(y, first), abs=1e-12)
    assert auc_second == pytest.approx(roc_auc_score(y, second), abs=1e-12)
    boot = []
    for _ in range(300):
        i = rng.integers(0, 3000, 3000)
        boot.append(roc_auc_score(y[i], first[i]) - roc_auc_score(y[i], second[i]))
    assert se == pytest.approx(np.std(boot), rel=0.2)


def test_when_recency_is_all_there_is_the_scores_fall_back_to_a_baseline():
    orders = recency_only_orders()
    result = score_customers(orders, as_of=date(2025, 12, 20),
                             candidates=("gradient_boosting", "logistic", "recency"))
    assert result.choice.rule == "fallback", result.choice.reason
    assert result.chosen_model in BASELINES
    assert set(result.scores["model"]) == {result.chosen_model}
    choice = result.evaluation.filter(pl.col("window") == "choice")
    assert dict(zip(choice["metric"], choice["value"]))["is_fallback"] == 1.0
    assert set(choice["model"]) == {result.chosen_model}
    # The evaluation the pipeline writes names both baselines on the held-out window.
    test = result.evaluation.filter((pl.col("window") == "test") & (pl.col("metric") == "roc_auc"))
    assert {"logistic_rfm", "recency"} <= set(test["model"])


def test_logistic_rfm_reads_recency_frequency_and_value_only():
    orders = synthetic_orders(600)
    cutoff = date(2025, 3, 1)
    features, _ = customer_features(orders, cutoff=cutoff)
    train = features.with_columns(pl.col("recency_days").gt(60).alias("churned"))
    model = Candidate("logistic_rfm", 0).fit(train)
    assert model.model[-1].coef_.shape == (1, 3)
    # Changing everything but recency, order days and order value changes nothing.
    other = features.with_columns(pl.col("tenure_days") * 3, pl.col("orders_90d") + 5,
                                  pl.lit("tiktok").alias("acquisition_channel"),
                                  pl.lit(0.9).alias("discount_order_share"))
    assert np.array_equal(model.predict(features), model.predict(other))
    assert not np.array_equal(model.predict(features),
                              model.predict(features.with_columns(pl.col("recency_days") + 30)))


def test_second_generator_is_seeded_and_its_buyers_keep_their_processes():
    buyers = simulate_buyers(3000, days=730, seed=11)
    again = simulate_buyers(3000, days=730, seed=11)
    assert buyers.orders.equals(again.orders) and buyers.customers.equals(again.customers)
    assert not simulate_buyers(3000, days=730, seed=12).orders.equals(buyers.orders)
    orders = buyers.orders.join(buyers.customers.select("customer_id", "cycle_days"), on="customer_id")
    assert orders.select("customer_id", "order_date").is_duplicated().sum() == 0
    gaps = (orders.sort("customer_id", "order_date")
            .with_columns(pl.col("order_date").diff().over("customer_id").dt.total_days().alias("gap"))
            .drop_nulls("gap"))
    cycle = gaps.filter(pl.col("buyer_type") == "cycle").with_columns(
        (pl.col("gap") / pl.col("cycle_days")).alias("ratio"))
    # Cycle buyers re-buy at their own cycle (jitter 8%, a skipped cycle 10% of the time).
    assert cycle["ratio"].median() == pytest.approx(1.0, abs=0.03)
    assert cycle["ratio"].is_between(0.8, 1.2).mean() > 0.75
    assert cycle["ratio"].is_between(1.8, 2.2).mean() > 0.05
    subscription = gaps.filter(pl.col("buyer_type") == "subscription")["gap"]
    assert subscription.is_between(29, 31).mean() > 0.9
    gifts = orders.filter(pl.col("buyer_type") == "seasonal")["order_date"].dt.month()
    assert (gifts == 12).mean() > 0.6
    per_customer = orders.group_by("customer_id", "buyer_type").len()
    one_off = per_customer.filter(pl.col("buyer_type") == "one_off")["len"]
    assert one_off.max() == 2 and (one_off == 1).mean() > 0.85
    assert set(buyers.customers["buyer_type"]) == {"cycle", "seasonal", "subscription", "one_off"}
    features, _ = customer_features(buyers.orders, cutoff=date(2025, 6, 30))
    assert features.height == buyers.orders.filter(
        pl.col("order_date") <= date(2025, 6, 30))["customer_id"].n_unique()
    with pytest.raises(ValueError, match="sum to 1"):
        simulate_buyers(10, mix={"cycle": 0.5})
