"""simulate_inventory on tiny hand-computed cases: flows, timing, metrics, blindness."""

from datetime import date, timedelta

import numpy as np
import polars as pl
import pytest

from forecasting.replay_policies import (
    abc_classes,
    average_daily_sales,
    forecast_policy,
    min_max_policy,
    never_order,
    recorded_forecasts,
    seasonal_naive_forecast,
)
from forecasting.safety_calibration import fit_safety_factor, review_shortfall, shortfall_by_class
from forecasting.simulate import Review, due_for_order, simulate_inventory

START = date(2026, 1, 1)


def days(n, first=START):
    return [first + timedelta(days=i) for i in range(n)]


def demand_frame(per_day, n, sku="A"):
    values = per_day if isinstance(per_day, list) else [per_day] * n
    return pl.DataFrame({"sku": [sku] * n, "date": days(n), "demand_units": values})


def terms_frame(*rows):
    base = {"sku": "A", "supplier_id": "S1", "unit_cost": 2.0, "price": 4.0,
            "lead_time_days": 2.0, "lead_time_std_days": 0.0, "moq_units": 1, "case_pack": 1,
            "order_cycle_days": 1.0, "abc_class": "A"}
    return pl.DataFrame([{**base, **r} for r in (rows or ({},))])


def on_hand(**units):
    return pl.DataFrame({"sku": list(units), "on_hand": list(units.values())})


def flat_history(per_day, n_days, sku="A"):
    return pl.DataFrame({"unique_id": [sku] * n_days,
                         "ds": days(n_days, START - timedelta(days=n_days)),
                         "y": [float(per_day)] * n_days})


def fixed_orders(plan):
    """Orders {review date: qty} for sku A."""
    def policy(review: Review) -> pl.DataFrame:
        return pl.DataFrame({"sku": ["A"], "qty": [plan.get(review.as_of, 0)]})
    return policy


def test_never_ordering_runs_out_on_the_day_computed_by_hand():
    # 25 units, 10 a day: 15, 5, then day 3 sells 5 and loses 5, nothing after.
    out = simulate_inventory(demand_frame(10, 10), terms_frame(), start=START,
                             end=START + timedelta(days=9), policy=never_order,
                             initial_on_hand=on_hand(A=25))
    assert out.daily["on_hand_end"].to_list() == [15, 5] + [0] * 8
    assert out.daily["sales_units"].to_list() == [10, 10, 5] + [0] * 7
    s = out.summary
    assert s["fill_rate"] == pytest.approx(0.25)
    assert s["stockout_sku_days"] == 8 and s["zero_stock_sku_days"] == 8
    assert s["lost_units"] == 75 and s["lost_sales_value"] == pytest.approx(300.0)
    assert s["avg_inventory_units"] == pytest.approx(2.0)  # (15 + 5) / 10
    assert s["avg_inventory_value"] == pytest.approx(4.0)
    assert s["order_lines"] == 0 and s["ordered_value"] == 0.0
    assert out.reviews == 2  # days 0 and 7 with weekly reviews


def test_an_order_lands_at_the_start_of_order_day_plus_lead_time():
    out = simulate_inventory(demand_frame(10, 6), terms_frame(), start=START,
                             end=START + timedelta(days=5), review_days=1,
                             policy=fixed_orders({START: 30}), initial_on_hand=on_hand(A=25))
    # Ordered at the end of day 0 with lead time 2: lands at the start of day 2.
    assert out.daily["received_units"].to_list() == [0, 0, 30, 0, 0, 0]
    assert out.daily["on_hand_end"].to_list() == [15, 5, 25, 15, 5, 0]
    assert out.daily["on_order_end"].to_list() == [30, 30, 0, 0, 0, 0]
    assert out.daily["lost_units"].to_list() == [0, 0, 0, 0, 0, 5]
    order = out.orders.row(0, named=True)
    assert (order["order_date"], order["arrival_date"]) == (START, START + timedelta(days=2))
    assert order["qty_ordered"] == 30 and order["order_value"] == pytest.approx(60.0)


def test_min_max_by_hand():
    # Demand 10/day, 90 days of history at 10/day: average 10. Reorder under 3 days (30),
    # order 5 days (50), lead time 4, daily reviews, 40 on hand.
    # end of day: d0 30 | d1 20 order 50 (lands d5) | d2 10 | d3 0 | d4 0, 10 lost |
    # d5 40 | d6 30 (not under 29.9) | d7 20 order (lands d11) | d8 10 | d9 0 | d10 0, lost |
    # d11 40. The average slips to 9.89 after the first lost day; 9.89 x 5 rounds up to 50.
    out = simulate_inventory(
        demand_frame(10, 12), terms_frame({"lead_time_days": 4.0}), start=START,
        end=START + timedelta(days=11), review_days=1, initial_on_hand=on_hand(A=40),
        history=flat_history(10, 90), policy=min_max_policy(3, 5))
    assert out.daily["on_hand_end"].to_list() == [30, 20, 10, 0, 0, 40, 30, 20, 10, 0, 0, 40]
    assert out.orders["order_date"].to_list() == [START + timedelta(days=1),
                                                  START + timedelta(days=7)]
    assert out.orders["qty_ordered"].to_list() == [50, 50]
    s = out.summary
    assert s["fill_rate"] == pytest.approx(100 / 120)
    assert s["stockout_sku_days"] == 2  # days 4 and 10: demand not met
    assert s["zero_stock_sku_days"] == 4  # days 3, 4, 9 and 10 end empty
    assert s["lost_sales_value"] == pytest.approx(20 * 4.0)
    assert s["avg_inventory_value"] == pytest.approx(200 / 12 * 2.0)  # 200 unit-days
    assert s["ordered_units"] == 100 and s["purchase_orders"] == 2


def test_min_max_rounds_to_case_packs_and_moq_and_reads_on_hand_when_asked():
    terms = terms_frame({"case_pack": 12, "moq_units": 30, "lead_time_days": 3.0})
    common = {"start": START, "end": START + timedelta(days=1), "review_days": 1,
              "initial_on_hand": on_hand(A=5), "history": flat_history(2, 90)}
    # Average 2/day: under 30 days (60) -> order 60 days = 120 units = 10 packs of 12.
    out = simulate_inventory(demand_frame(0, 2), terms, policy=min_max_policy(), **common)
    assert out.orders["qty_ordered"].to_list() == [120]  # position 5 + 120 > 60 next day
    on_hand_only = simulate_inventory(demand_frame(0, 2), terms,
                                      policy=min_max_policy(use_inventory_position=False),
                                      **common)
    assert on_hand_only.orders["qty_ordered"].to_list() == [120, 120]  # in transit: again
    small = simulate_inventory(demand_frame(0, 2), terms, policy=min_max_policy(3, 1), **common)
    assert small.orders["qty_ordered"].to_list() == [36]  # 2 units -> MOQ 30 -> 3 packs


def test_the_policy_sees_sales_and_flags_never_demand():
    seen: list[Review] = []

    def recorder(review: Review) -> pl.DataFrame:
        seen.append(review)
        return pl.DataFrame({"sku": ["A"], "qty": [0]})

    demand = demand_frame([10, 10, 10, 50, 99, 10, 10, 10], 8)
    simulate_inventory(demand, terms_frame(), start=START, end=START + timedelta(days=7),
                       review_days=4, policy=recorder, initial_on_hand=on_hand(A=35),
                       history=flat_history(7, 3),
                       promotions=pl.DataFrame({"sku": ["A", "A"],
                                                "date": [START + timedelta(days=1),
                                                         START + timedelta(days=6)]}))
    assert [r.as_of for r in seen] == [START, START + timedelta(days=4)]
    last = seen[-1].history.sort("ds")
    assert last["ds"].max() == START + timedelta(days=4)  # nothing after the review day
    # 3 past days, then sales 10, 10, 10, 5 (demand 50, censored), 0 (demand 99).
    assert last["y"].to_list() == [7.0, 7.0, 7.0, 10.0, 10.0, 10.0, 5.0, 0.0]
    assert last["is_stockout"].to_list() == [False] * 6 + [True, True]
    assert last["is_promo"].to_list() == [False, False, False, False, True, False, False, False]
    assert seen[-1].position.row(0, named=True) == {
        "sku": "A", "on_hand": 0, "on_order": 0, "committed": 0, "due": True}
    # Planned promotions after the review day only.
    assert seen[-1].promotions["ds"].to_list() == [START + timedelta(days=6)]
    assert "demand_units" not in seen[-1].history.columns


def test_empirical_lead_times_and_partial_receipts():
    lead_times = pl.DataFrame({"supplier_id": ["S1", "S1"], "lead_time_days": [3.0, 3.0],
                               "received_share": [0.5, 0.5]})
    out = simulate_inventory(demand_frame(0, 6), terms_frame(), start=START,
                             end=START + timedelta(days=5), review_days=1,
                             policy=fixed_orders({START + timedelta(days=1): 25}),
                             initial_on_hand=on_hand(A=0), lead_times=lead_times)
    # Terms say 2 days; the supplier takes 3 and ships half (rounded down).
    assert out.daily["received_units"].to_list() == [0, 0, 0, 0, 12, 0]
    assert out.daily["on_order_end"].to_list() == [0, 25, 25, 25, 0, 0]
    assert out.orders.select("qty_ordered", "qty_received").row(0) == (25, 12)


def test_same_supplier_same_day_same_lead_time_and_seeded():
    terms = terms_frame({"sku": "A"}, {"sku": "B"})
    lead_times = pl.DataFrame({"supplier_id": ["S1"] * 4, "lead_time_days": [1.0, 2, 5, 9]})
    demand = pl.concat([demand_frame(0, 30, "A"), demand_frame(0, 30, "B")])

    def both(review):
        return pl.DataFrame({"sku": ["A", "B"], "qty": [1, 1]})

    def run(seed):
        return simulate_inventory(demand, terms, start=START, end=START + timedelta(days=29),
                                  policy=both, initial_on_hand=on_hand(A=0, B=0),
                                  lead_times=lead_times, seed=seed, review_days=3).orders

    orders = run(3)
    per_po = orders.group_by("order_date").agg(pl.col("arrival_date").n_unique())
    assert (per_po["arrival_date"] == 1).all()
    assert orders.equals(run(3))


def test_open_orders_at_start_and_supplier_order_cycle():
    terms = terms_frame({"order_cycle_days": 14.0})
    out = simulate_inventory(
        demand_frame(1, 28), terms, start=START, end=START + timedelta(days=27),
        policy=lambda r: pl.DataFrame({"sku": ["A"], "qty": [5]}),
        initial_on_hand=on_hand(A=0),
        open_orders=pl.DataFrame({"sku": ["A", "A"],
                                  "arrival_date": [START + timedelta(days=3), date(2027, 1, 1)],
                                  "qty_ordered": [10, 7]}))
    assert out.daily["received_units"][3] == 10
    assert out.daily["on_order_end"][0] == 10 + 7 + 5
    # Weekly reviews, a 14-day supplier: ordered from on days 0 and 14 only.
    assert out.orders["order_date"].to_list() == [START, START + timedelta(days=14)]
    assert due_for_order(7, np.array([7.0, 14.0, np.nan]), 7).tolist() == [True, False, True]


def test_metrics_by_class():
    terms = terms_frame({"sku": "A", "abc_class": "A"},
                        {"sku": "B", "abc_class": "C", "unit_cost": 1.0, "price": 3.0})
    demand = pl.concat([demand_frame(10, 4, "A"), demand_frame(1, 4, "B")])
    out = simulate_inventory(demand, terms, start=START, end=START + timedelta(days=3),
                             policy=never_order, initial_on_hand=on_hand(A=100, B=2))
    by = {r["abc_class"]: r for r in out.by_class.iter_rows(named=True)}
    assert by["A"]["fill_rate"] == 1.0 and by["A"]["avg_inventory_value"] == pytest.approx(
        (90 + 80 + 70 + 60) / 4 * 2.0)
    assert by["C"]["stockout_sku_days"] == 2 and by["C"]["lost_sales_value"] == pytest.approx(6)
    assert out.summary["demand_units"] == 44 and out.summary["skus"] == 2


def test_invalid_inputs_are_refused():
    common = {"start": START, "end": START + timedelta(days=2), "policy": never_order,
              "initial_on_hand": on_hand(A=1)}
    with pytest.raises(ValueError, match="history must end before start"):
        simulate_inventory(demand_frame(1, 3), terms_frame(),
                           history=pl.DataFrame({"unique_id": ["A"], "ds": [START], "y": [1.0]}),
                           **common)
    with pytest.raises(ValueError, match="whole units"):
        simulate_inventory(demand_frame(1, 3), terms_frame(), **{
            **common, "policy": lambda r: pl.DataFrame({"sku": ["A"], "qty": [1.5]})})
    with pytest.raises(ValueError, match="not in terms"):
        simulate_inventory(demand_frame(1, 3), terms_frame(), **{
            **common, "policy": lambda r: pl.DataFrame({"sku": ["Z"], "qty": [1]})})
    with pytest.raises(ValueError, match="before start"):
        simulate_inventory(demand_frame(1, 3), terms_frame(), **{**common, "end": date(2025, 1, 1)})


def test_average_sales_and_abc_classes():
    history = pl.DataFrame({"unique_id": ["A"] * 3 + ["B"] * 2 + ["C"],
                            "ds": days(3) + days(2, START + timedelta(days=1)) + [START],
                            "y": [3.0, 3.0, 6.0, 1.0, 1.0, 0.0]})
    as_of = START + timedelta(days=2)
    avg = dict(average_daily_sales(history, as_of, 2).iter_rows())
    assert avg == {"A": 4.5, "B": 1.0, "C": 0.0}
    terms = pl.DataFrame({"sku": ["A", "B", "C"], "price": [10.0, 10.0, 5.0]})
    classes = dict(abc_classes(history, terms, as_of, days=3).iter_rows())
    assert classes == {"A": "A", "B": "B", "C": "C"}  # revenue 120 (86%), 20, 0


def test_seasonal_naive_forecast_repeats_the_last_week():
    pattern = [1.0, 2, 3, 4, 5, 6, 7]
    history = pl.DataFrame({"unique_id": ["A"] * 28, "ds": days(28), "y": pattern * 4})
    out = seasonal_naive_forecast(history, 10)
    assert out["forecast"].to_list() == pattern + pattern[:3]
    assert out["ds"].min() == START + timedelta(days=28)
    assert (out["hi_80"] >= out["forecast"]).all() and out["model"].unique().to_list() == [
        "SeasonalNaive"]


def test_forecast_policy_orders_up_to_the_level_of_reorder_suggestions():
    # A perfect flat forecast of 10/day with no uncertainty, lead time 2, daily cycle:
    # protection 3 days, reorder point 20, order-up-to 30. End of day 0: 15 on hand,
    # position 15 <= 20 -> order 15 (lands day 2); then every day position 20 -> order 10.
    def flat(history, horizon, promotions):
        last = history["ds"].max()
        return pl.DataFrame({"unique_id": ["A"] * horizon,
                             "ds": [last + timedelta(days=i + 1) for i in range(horizon)],
                             "forecast": [10.0] * horizon, "hi_80": [10.0] * horizon})

    log: list[pl.DataFrame] = []
    out = simulate_inventory(demand_frame(10, 8), terms_frame(), start=START,
                             end=START + timedelta(days=7), review_days=1,
                             initial_on_hand=on_hand(A=25), history=flat_history(10, 30),
                             policy=forecast_policy(flat, reclassify_abc=False, lines_log=log))
    assert out.orders["qty_ordered"].to_list() == [15] + [10] * 7
    assert out.daily["on_hand_end"].to_list() == [15, 5] + [10] * 6
    assert out.summary["fill_rate"] == 1.0 and len(log) == 8
    assert log[0].row(0, named=True)["order_up_to"] == pytest.approx(30.0)


def test_lead_time_draws_do_not_depend_on_the_row_order_of_lead_times():
    lead_times = pl.DataFrame({"supplier_id": ["S1"] * 5, "lead_time_days": [1.0, 2, 3, 5, 8],
                               "received_share": [1.0, 0.5, 1.0, 0.9, 1.0]})
    common = {"start": START, "end": START + timedelta(days=20), "review_days": 2,
              "policy": lambda r: pl.DataFrame({"sku": ["A"], "qty": [10]}),
              "initial_on_hand": on_hand(A=0)}
    a = simulate_inventory(demand_frame(0, 21), terms_frame(), lead_times=lead_times, **common)
    b = simulate_inventory(demand_frame(0, 21), terms_frame(),
                           lead_times=lead_times.reverse(), **common)
    assert a.orders.equals(b.orders)


def shortfall_lines(as_of, rows):
    """Logged review lines: rows of (sku, abc_class, order_up_to, safety_stock)."""
    return pl.DataFrame({"sku": [r[0] for r in rows], "as_of": [as_of] * len(rows),
                         "abc_class": [r[1] for r in rows], "lead_time_days": [2.0] * len(rows),
                         "order_up_to": [float(r[2]) for r in rows],
                         "safety_stock": [float(r[3]) for r in rows]})


def test_review_shortfall_compares_demand_over_the_protection_period_with_order_up_to():
    # A: lead time 2 + cycle 1 = days 1-3 after the review of day 0 (30 units > 29).
    # B: no order cycle -> 7 days, so days 1-9 (4 units > 3.5).
    demand = pl.concat([demand_frame([9, 10, 10, 10] + [0] * 8, 12, "A"),
                        demand_frame([0, 4] + [0] * 10, 12, "B")])
    terms = terms_frame({"sku": "A"}, {"sku": "B", "order_cycle_days": None})
    lines = pl.concat([
        shortfall_lines(START, [("A", "A", 29, 4), ("B", "C", 3.5, 1)]),
        shortfall_lines(START + timedelta(days=10), [("A", "A", 1, 1)]),  # past the end
    ])
    out = review_shortfall(lines, demand, terms, end=START + timedelta(days=11))
    assert out["sku"].to_list() == ["A", "B"]
    assert out["protection_days"].to_list() == [3, 9]
    assert out["demand_over_protection"].to_list() == [30.0, 4.0]
    assert out["forecast_demand"].to_list() == [25.0, 2.5]
    assert out["short"].to_list() == [True, True]
    higher = lines.with_columns(pl.col("order_up_to") + 1)
    assert review_shortfall(higher, demand, terms, end=START + timedelta(days=11))[
        "short"].to_list() == [False, False]
    # With the end on day 8, B's period (to day 9) runs past it: only A stays.
    assert review_shortfall(lines, demand, terms, end=START + timedelta(days=8))[
        "sku"].to_list() == ["A"]


def test_review_shortfall_realised_stockouts_fall_in_the_cycle_after_the_lead_time():
    demand = demand_frame([5] * 8, 8)
    lines = shortfall_lines(START, [("A", "A", 100, 0)])
    terms = terms_frame({"order_cycle_days": 3.0})  # cycle window: days 3-5 after day 0
    for lost_day, expected in ((2, False), (3, True), (5, True), (6, False)):
        daily = pl.DataFrame({"sku": ["A"], "date": [START + timedelta(days=lost_day)],
                              "lost_units": [1]})
        out = review_shortfall(lines, demand, terms, end=START + timedelta(days=7),
                               daily=daily)
        assert out["stockout_in_cycle"].to_list() == [expected], lost_day


def test_fit_safety_factor_makes_the_short_share_nominal_and_shortfall_by_class_reads_it():
    # Class A (nominal 2%): 100 cycles, excess over forecast = 1..100 units, safety stock 10.
    # k x 10 must leave 2 cycles above: k = the 98th percentile of excess / 10 = 9.802.
    # Class C (nominal 10%): 10 cycles, all below the forecast: k can be 0.
    rows = pl.DataFrame({
        "abc_class": ["A"] * 100 + ["C"] * 10,
        "forecast_demand": [50.0] * 110,
        "safety_stock": [10.0] * 100 + [4.0] * 10,
        "demand_over_protection": [50.0 + e for e in range(1, 101)] + [49.0] * 10,
    })
    factors = fit_safety_factor(rows, max_factor=10.0)
    assert factors == {"A": pytest.approx(9.802), "C": 0.0}
    table = shortfall_by_class(rows, safety_factor=factors)
    assert table["short_share"].to_list() == [pytest.approx(0.02), 0.0]
    assert table["nominal"].to_list() == [pytest.approx(0.02), pytest.approx(0.10)]
    before = shortfall_by_class(rows)  # k = 1: 90 of A's 100 cycles beat 50 + 10
    assert before["short_share"].to_list() == [pytest.approx(0.90), 0.0]
    # Cycles without safety stock stay short whatever k; when they alone exceed the
    # nominal share, the factor hits its bound.
    no_stock = rows.with_columns(pl.lit(0.0).alias("safety_stock"))
    assert fit_safety_factor(no_stock.vstack(rows), max_factor=3.0)["A"] == 3.0


def test_recorded_forecasts_replay_what_forecast_log_recorded():
    calls = []

    def flat(history, horizon, promotions):
        calls.append(history["ds"].max())
        last = history["ds"].max()
        return pl.DataFrame({"unique_id": ["A"] * horizon,
                             "ds": [last + timedelta(days=i + 1) for i in range(horizon)],
                             "forecast": [10.0] * horizon, "hi_80": [10.0] * horizon})

    common = {"start": START, "end": START + timedelta(days=7), "review_days": 1,
              "initial_on_hand": on_hand(A=25), "history": flat_history(10, 30)}
    recorded: dict = {}
    first = simulate_inventory(demand_frame(10, 8), terms_frame(), **common,
                               policy=forecast_policy(flat, reclassify_abc=False,
                                                      forecast_log=recorded))
    assert sorted(recorded) == calls and len(calls) == 8
    again = simulate_inventory(demand_frame(10, 8), terms_frame(), **common,
                               policy=forecast_policy(recorded_forecasts(recorded),
                                                      reclassify_abc=False))
    assert len(calls) == 8 and again.orders.equals(first.orders)
    with pytest.raises(ValueError, match="no forecast recorded for the review of"):
        simulate_inventory(demand_frame(10, 9), terms_frame(), **{
            **common, "end": START + timedelta(days=8)},
            policy=forecast_policy(recorded_forecasts(recorded), reclassify_abc=False))
