"""reorder_suggestions on hand-made forecasts, stock positions and supplier terms."""

from datetime import date, timedelta

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from forecasting import reorder_suggestions
from forecasting.policy import OUTPUT_COLUMNS

AS_OF = date(2026, 3, 2)
Z_90 = 1.2815515655446004  # norm.ppf(0.90): hi_80 = forecast + Z_90 * sigma


def flat_forecast(sku, per_day, *, sigma=0.0, days=56):
    return pl.DataFrame({
        "unique_id": [sku] * days,
        "ds": [AS_OF + timedelta(days=i + 1) for i in range(days)],
        "forecast": [float(per_day)] * days,
        "lo_80": [max(per_day - Z_90 * sigma, 0.0)] * days,
        "hi_80": [per_day + Z_90 * sigma] * days,
    })


def position_row(sku, on_hand, on_order=0, committed=0, available=None):
    return {"sku": sku, "on_hand": on_hand, "on_order": on_order, "committed": committed,
            "available": on_hand - committed if available is None else available}


def terms_row(sku, *, supplier="ACME", cost=5.0, price=12.0, lead=14.0, lead_std=0.0,
              moq=1, case_pack=1, cycle=7.0, abc="C"):
    return {"sku": sku, "supplier_id": supplier, "product_title": f"Product {sku}",
            "unit_cost": cost, "price": price, "lead_time_days": lead,
            "lead_time_std_days": lead_std, "moq_units": moq, "case_pack": case_pack,
            "order_cycle_days": cycle, "abc_class": abc}


POSITION_SCHEMA = {"sku": pl.Utf8, "on_hand": pl.Int64, "on_order": pl.Int64,
                   "committed": pl.Int64, "available": pl.Int64}
TERMS_SCHEMA = {"sku": pl.Utf8, "supplier_id": pl.Utf8, "product_title": pl.Utf8,
                "unit_cost": pl.Float64, "price": pl.Float64, "lead_time_days": pl.Float64,
                "lead_time_std_days": pl.Float64, "moq_units": pl.Int64, "case_pack": pl.Int64,
                "order_cycle_days": pl.Float64, "abc_class": pl.Utf8}


def suggest(forecasts, positions, terms, **kwargs):
    return reorder_suggestions(
        pl.concat(forecasts), pl.DataFrame(positions, schema=POSITION_SCHEMA),
        pl.DataFrame(terms, schema=TERMS_SCHEMA), as_of=AS_OF, **kwargs)


def line(out, sku):
    return out.row(by_predicate=pl.col("sku") == sku, named=True)


def test_one_sku_computed_by_hand():
    out = suggest([flat_forecast("A", 2.0, sigma=1.0)],
                  [position_row("A", on_hand=10, on_order=6, committed=2)],
                  [terms_row("A", cost=5.0, price=20.0, lead=14, lead_std=2.0, cycle=7,
                             case_pack=12, abc="B")])
    a = line(out, "A")
    # P = 14 + 7 = 21 days; mean 2/day, sigma 1/day, sigma_LT 2 days, z(0.95) = 1.64485:
    # safety stock = 1.64485 * sqrt(21 * 1 + 2^2 * 2^2) = 1.64485 * sqrt(37) = 10.0053
    assert a["safety_stock"] == pytest.approx(10.005254, abs=1e-5)
    assert a["reorder_point"] == pytest.approx(28 + 10.005254, abs=1e-5)  # 14 days x 2
    assert a["order_up_to"] == pytest.approx(42 + 10.005254, abs=1e-5)  # 21 days x 2
    assert a["inventory_position"] == 14  # 10 + 6 - 2
    # 52.005 - 14 = 38.005 units -> 4 cases of 12
    assert a["suggested_qty"] == 48
    assert a["line_value"] == 240.0
    assert a["daily_forecast"] == 2.0
    assert a["days_of_cover"] == 4.0  # available 8 / 2 a day
    assert a["projected_stockout_date"] == AS_OF + timedelta(days=5)  # 10 > 8 on day 5
    assert a["urgency"] == "order_now"  # stockout on day 5, lead time 14
    assert a["expected_revenue_at_risk"] == 400.0  # (28 - 8) units short x $20
    assert a["reason"] == ("stock covers 4 days, lead time 14 days; order 48 (4 cases of 12) "
                           "to cover 21 days + safety stock 10")
    assert a["approved_qty"] is None
    assert a["auto_approved"] is False


def test_output_columns_and_order():
    out = suggest(
        [flat_forecast(s, 1.0) for s in ("A", "B", "C", "D")],
        [position_row("A", 0), position_row("B", 500), position_row("C", 30),
         position_row("D", 0)],
        [terms_row("A", supplier="Zeta"), terms_row("B", supplier="Alpha"),
         terms_row("C", supplier="Alpha"), terms_row("D", supplier="Alpha")])
    assert out.columns == OUTPUT_COLUMNS
    assert out.columns[:18] == [
        "sku", "supplier_id", "product", "on_hand", "on_order", "committed", "daily_forecast",
        "lead_time_days", "safety_stock", "reorder_point", "days_of_cover",
        "projected_stockout_date", "suggested_qty", "unit_cost", "line_value", "urgency",
        "reason", "approved_qty"]
    assert out.select("supplier_id", "sku", "urgency").rows() == [
        ("Alpha", "D", "order_now"), ("Alpha", "C", "healthy"), ("Alpha", "B", "overstock"),
        ("Zeta", "A", "order_now")]


@pytest.mark.parametrize(("case_pack", "moq", "expected"), [
    (1, 1, 21),    # 21 units needed
    (12, 1, 24),   # two cases
    (12, 30, 36),  # MOQ 30 rounded up to whole cases
    (1, 50, 50),   # the MOQ
    (5, 1, 25),
    (7, 21, 21),   # exactly the MOQ, exactly 3 cases
])
def test_case_pack_and_moq_rounding(case_pack, moq, expected):
    # No uncertainty: safety stock 0, order-up-to = 21 days x 1 a day, nothing in stock.
    out = suggest([flat_forecast("A", 1.0)], [position_row("A", 0)],
                  [terms_row("A", lead=14, cycle=7, case_pack=case_pack, moq=moq)])
    assert line(out, "A")["safety_stock"] == 0.0
    assert line(out, "A")["suggested_qty"] == expected


def test_defaults_for_missing_terms():
    terms = pl.DataFrame({"sku": ["A"], "supplier_id": ["S"], "unit_cost": [2.0],
                          "lead_time_days": [10.0]})
    out = reorder_suggestions(flat_forecast("A", 3.0, sigma=1.0),
                              pl.DataFrame([position_row("A", 0)], schema=POSITION_SCHEMA),
                              terms, as_of=AS_OF)
    a = line(out, "A")
    assert (a["case_pack"], a["moq_units"], a["abc_class"], a["product"]) == (1, 1, "C", "A")
    # P = 10 + 7; sigma_LT = 2.5 days; z(0.90) = 1.28155
    assert a["safety_stock"] == pytest.approx(1.2815516 * (17 * 1 + 9 * 2.5**2) ** 0.5, abs=1e-5)


def test_urgency_classes():
    out = suggest(
        [flat_forecast(s, 2.0) for s in ("NOW", "SOON", "SOON2", "OK", "OVER")]
        + [flat_forecast("DEAD", 0.0)],
        [position_row("NOW", 10),            # runs out on day 6, lead time 14
         position_row("SOON", 40, on_order=0, committed=0, available=40),
         position_row("SOON2", 28),          # at the reorder point, lasts the lead time
         position_row("OK", 70),             # well above the reorder point, 35 days of cover
         position_row("OVER", 400),          # 200 days of cover
         position_row("DEAD", 25)],          # stock, no demand
        [terms_row("NOW", lead=14), terms_row("SOON", lead=14, lead_std=0.0, cycle=7),
         terms_row("SOON2", lead=14, cycle=7), terms_row("OK", lead=14, cycle=7),
         terms_row("OVER", lead=14, cycle=7), terms_row("DEAD", lead=14)])
    urgency = dict(out.select("sku", "urgency").iter_rows())
    # NOW: position 10 <= reorder point 28 and stockout on day 6 < 14 days lead time.
    assert urgency["NOW"] == "order_now"
    # SOON: position 40 > 28 today, 40 - 14 = 26 <= 28 within 7 days: no order yet.
    assert urgency["SOON"] == "order_soon"
    assert line(out, "SOON")["suggested_qty"] == 0
    # SOON2: position 28 <= 28, but 28 units last the 14 days of lead time: order soon.
    assert urgency["SOON2"] == "order_soon"
    assert line(out, "SOON2")["suggested_qty"] == 14  # up to 21 days x 2
    # OK: 70 - 14 = 56 > 28 in a week; 35 days of cover < 90.
    assert urgency["OK"] == "healthy"
    # OVER: 200 days of cover > 3 x 21 and > 90.
    assert urgency["OVER"] == "overstock"
    assert urgency["DEAD"] == "overstock"
    assert line(out, "DEAD")["days_of_cover"] is None
    assert line(out, "OVER")["projected_stockout_date"] is None  # beyond the 56-day forecast


def test_order_now_when_position_below_safety_stock_without_a_projected_stockout():
    # 30 available covers the 14-day lead time (28 units) but the position is below the
    # safety stock, so the buffer is already being eaten.
    out = suggest([flat_forecast("A", 2.0, sigma=4.0)], [position_row("A", 30)],
                  [terms_row("A", lead=14, cycle=7, abc="A")])
    a = line(out, "A")
    assert a["projected_stockout_date"] == AS_OF + timedelta(days=16)
    assert a["inventory_position"] < a["safety_stock"]
    assert a["urgency"] == "order_now"


def test_budget_cuts_the_lowest_priority_lines_first():
    forecasts = [flat_forecast(s, 1.0) for s in ("HIGH_MARGIN", "LOW_MARGIN", "SOON")]
    positions = [position_row("HIGH_MARGIN", 0), position_row("LOW_MARGIN", 0),
                 position_row("SOON", 14)]
    terms = [terms_row("HIGH_MARGIN", cost=10.0, price=30.0, case_pack=1),  # 21 units, $210
             terms_row("LOW_MARGIN", cost=10.0, price=12.0, case_pack=5),   # 25 units, $250
             terms_row("SOON", cost=1.0, price=10.0)]                       # order_soon, 7 units
    full = suggest(forecasts, positions, terms)
    assert dict(full.select("sku", "line_value").iter_rows()) == {
        "HIGH_MARGIN": 210.0, "LOW_MARGIN": 250.0, "SOON": 7.0}
    assert line(full, "SOON")["urgency"] == "order_soon"

    # $400: HIGH_MARGIN (order_now, margin 2.0) is funded, LOW_MARGIN (order_now, margin
    # 0.2) gets the $190 left in whole cases of 5 ($50): 15 units, and SOON (order_soon,
    # last despite its margin of 9) its $7 from the $40 still left.
    out = suggest(forecasts, positions, terms, budget=400)
    assert dict(out.select("sku", "suggested_qty").iter_rows()) == {
        "HIGH_MARGIN": 21, "LOW_MARGIN": 15, "SOON": 7}
    assert out["line_value"].sum() == 367
    assert line(out, "LOW_MARGIN")["reason"].endswith("cut by the cash budget of $400 from 25 to 15")
    assert "budget" not in line(out, "HIGH_MARGIN")["reason"] + line(out, "SOON")["reason"]

    # $215: the order-soon line waits behind the urgent ones that use it all.
    out = suggest(forecasts, positions, terms, budget=215)
    assert dict(out.select("sku", "suggested_qty").iter_rows()) == {
        "HIGH_MARGIN": 21, "LOW_MARGIN": 0, "SOON": 5}
    assert "cut by the cash budget of $215 from 25 to 0" in line(out, "LOW_MARGIN")["reason"]
    assert "cut by the cash budget of $215 from 7 to 5" in line(out, "SOON")["reason"]

    # A cut that cannot reach the MOQ drops the line, and the money goes to the next one.
    terms[1] = terms_row("LOW_MARGIN", cost=10.0, price=12.0, case_pack=5, moq=25)
    out = suggest(forecasts, positions, terms, budget=400)
    assert line(out, "LOW_MARGIN")["suggested_qty"] == 0
    assert line(out, "SOON")["suggested_qty"] == 7


def test_storage_capacity_cuts_orders_to_the_free_room_of_the_location():
    forecasts = [flat_forecast(s, 1.0) for s in ("HIGH_MARGIN", "LOW_MARGIN", "FULL")]
    positions = [position_row("HIGH_MARGIN", 0), position_row("LOW_MARGIN", 0),
                 position_row("FULL", 100)]
    terms = [terms_row("HIGH_MARGIN", cost=10.0, price=30.0),               # 21 units
             terms_row("LOW_MARGIN", cost=10.0, price=12.0, case_pack=5),   # 25 units
             terms_row("FULL")]                                             # no order
    # 140 units of room, 100 taken by FULL: HIGH_MARGIN gets its 21, LOW_MARGIN the 19
    # left in whole cases of 5.
    out = suggest(forecasts, positions, terms, storage_capacity={"default": 140})
    assert dict(out.select("sku", "suggested_qty").iter_rows()) == {
        "HIGH_MARGIN": 21, "LOW_MARGIN": 15, "FULL": 0}
    assert line(out, "LOW_MARGIN")["reason"].endswith(
        "cut by the storage capacity of default (140 units, 40 free) from 25 to 15")
    # A location that is not named is not constrained; storage then the budget both bind.
    assert suggest(forecasts, positions, terms, storage_capacity={"Other": 1})[
        "suggested_qty"].sum() == 46
    both = suggest(forecasts, positions, terms, storage_capacity={"default": 140}, budget=300)
    assert dict(both.select("sku", "suggested_qty").iter_rows()) == {
        "HIGH_MARGIN": 21, "LOW_MARGIN": 5, "FULL": 0}
    with pytest.raises(ValueError, match="storage capacity of 'default' must be >= 0"):
        suggest(forecasts, positions, terms, storage_capacity={"default": -1})


def test_auto_approval_of_small_lines_that_are_not_urgent():
    out = suggest([flat_forecast("NOW", 1.0), flat_forecast("SOON", 1.0)],
                  [position_row("NOW", 0), position_row("SOON", 14)],
                  [terms_row("NOW", cost=1.0), terms_row("SOON", cost=1.0)],
                  auto_approve_below=100.0)
    assert dict(out.select("sku", "auto_approved").iter_rows()) == {"NOW": False, "SOON": True}


def test_inputs_are_validated():
    with pytest.raises(ValueError, match="position is missing column 'on_order'"):
        reorder_suggestions(flat_forecast("A", 1.0), pl.DataFrame({"sku": ["A"], "on_hand": [1],
                                                                   "committed": [0]}),
                            pl.DataFrame([terms_row("A")], schema=TERMS_SCHEMA), as_of=AS_OF)
    with pytest.raises(ValueError, match="position has sku\\(s\\) without terms: B"):
        suggest([flat_forecast("A", 1.0)], [position_row("A", 1), position_row("B", 1)],
                [terms_row("A")])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.tuples(
            st.floats(0, 50), st.floats(0, 20),  # daily demand, sigma
            st.integers(-20, 500), st.integers(0, 300), st.integers(0, 50),  # stock
            st.floats(0, 60), st.floats(0, 10), st.floats(0, 28),  # lead, lead std, cycle
            st.integers(1, 48), st.integers(1, 200),  # case pack, moq
            st.floats(0.01, 100), st.sampled_from(["A", "B", "C", None]),
        ),
        min_size=1, max_size=6),
    st.one_of(st.none(), st.floats(0, 5_000)),
    st.one_of(st.none(), st.integers(0, 3_000)),
)
def test_every_quantity_is_zero_or_whole_case_packs_at_least_the_moq(skus, budget, capacity):
    forecasts, positions, terms = [], [], []
    for i, (demand, sigma, on_hand, on_order, committed, lead, lead_std, cycle, pack, moq,
            cost, abc) in enumerate(skus):
        sku = f"S{i}"
        forecasts.append(flat_forecast(sku, demand, sigma=sigma, days=28))
        positions.append(position_row(sku, on_hand, on_order, committed))
        terms.append(terms_row(sku, cost=cost, price=cost * 2, lead=lead, lead_std=lead_std,
                               cycle=cycle, case_pack=pack, moq=moq, abc=abc))
    storage = None if capacity is None else {"default": capacity}
    out = suggest(forecasts, positions, terms, budget=budget, storage_capacity=storage)
    assert out.height == len(skus)
    for row in out.iter_rows(named=True):
        qty = row["suggested_qty"]
        assert qty == 0 or (qty % row["case_pack"] == 0 and qty >= row["moq_units"])
        assert row["safety_stock"] >= 0
    if budget is not None:
        assert out["line_value"].sum() <= max(budget, 0) + 1e-6
    if capacity is not None:
        stocked = sum(max(p["on_hand"], 0) + p["on_order"] for p in positions)
        assert out["suggested_qty"].sum() <= max(capacity - stocked, 0)


def test_suggestions_from_a_forecast_demand_output():
    from forecasting import forecast_demand

    days = 120
    start = AS_OF - timedelta(days=days - 1)
    history = pl.DataFrame({
        "unique_id": ["A"] * days + ["B"] * days,
        "ds": [start + timedelta(days=i) for i in range(days)] * 2,
        "y": [4.0] * days + [1.0 if i % 3 == 0 else 0.0 for i in range(days)],
    })
    forecast = forecast_demand(history, 56, n_jobs=1)
    out = suggest([forecast], [position_row("A", 20), position_row("B", 100)],
                  [terms_row("A", lead=10, case_pack=6), terms_row("B", lead=10)])
    a, b = line(out, "A"), line(out, "B")
    assert a["daily_forecast"] == pytest.approx(4.0)
    assert a["projected_stockout_date"] == AS_OF + timedelta(days=6)  # 24 > 20 on day 6
    assert a["urgency"] == "order_now"
    assert a["safety_stock"] == pytest.approx(0.0)  # a constant history: no uncertainty
    assert a["suggested_qty"] == 48  # 17 days x 4 - 20 = 48 = 8 cases of 6
    assert b["urgency"] == "overstock"  # ~300 days of cover at a third of a unit a day
    assert b["suggested_qty"] == 0


def test_a_persistent_forecast_error_grows_with_the_square_of_the_protection_period():
    """error_sd 3, level_sd 1 a day over P = 14 + 7 days: var = 21 (9 - 1) + 21^2 1 = 609."""
    forecast = flat_forecast("A", 10.0, sigma=5.0).with_columns(
        pl.lit(3.0).alias("error_sd"), pl.lit(1.0).alias("level_sd"))
    out = reorder_suggestions(forecast, pl.DataFrame([position_row("A", 0)], schema=POSITION_SCHEMA),
                              pl.DataFrame([terms_row("A")], schema=TERMS_SCHEMA), as_of=AS_OF)
    assert line(out, "A")["safety_stock"] == pytest.approx(Z_90 * 609 ** 0.5)
    # Without the spread columns the daily sigma (5, from hi_80) adds up as independent.
    plain = suggest([flat_forecast("A", 10.0, sigma=5.0)], [position_row("A", 0)],
                    [terms_row("A")])
    assert line(plain, "A")["safety_stock"] == pytest.approx(Z_90 * (21 * 25) ** 0.5)
    with pytest.raises(ValueError, match="only one of error_sd and level_sd"):
        reorder_suggestions(forecast.drop("level_sd"), pl.DataFrame([position_row("A", 0)],
                            schema=POSITION_SCHEMA),
                            pl.DataFrame([terms_row("A")], schema=TERMS_SCHEMA), as_of=AS_OF)


def test_safety_factor_scales_the_safety_stock_of_its_class_only():
    forecasts = [flat_forecast("A", 2.0, sigma=1.0), flat_forecast("C", 2.0, sigma=1.0)]
    positions = [position_row("A", 100), position_row("C", 100)]
    terms = [terms_row("A", lead=14, lead_std=2.0, abc="B"),
             terms_row("C", lead=14, lead_std=2.0, abc="C")]
    plain = suggest(forecasts, positions, terms)
    scaled = suggest(forecasts, positions, terms, safety_factor={"B": 0.5})
    # B's safety stock of test_one_sku_computed_by_hand (10.005254) halves; C keeps its own.
    assert line(scaled, "A")["safety_stock"] == pytest.approx(10.005254 / 2, abs=1e-5)
    assert line(scaled, "A")["order_up_to"] == pytest.approx(42 + 10.005254 / 2, abs=1e-5)
    assert line(scaled, "C")["safety_stock"] == line(plain, "C")["safety_stock"]
    none = suggest(forecasts, positions, terms, safety_factor={"B": 0.0, "C": 0.0})
    assert none["safety_stock"].to_list() == [0.0, 0.0]
    assert scaled.columns == OUTPUT_COLUMNS
    for bad in (-0.1, float("nan"), None):
        with pytest.raises(ValueError, match="safety factor for class 'A'"):
            suggest(forecasts, positions, terms, safety_factor={"A": bad})
