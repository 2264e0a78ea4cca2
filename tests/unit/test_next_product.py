"""models.next_product on small hand-made order lines whose answers are worked out by hand."""

from datetime import date, timedelta

import polars as pl
import pytest

from models.next_product import (
    best_sellers,
    buy_again,
    hit_rate_at_k,
    next_products,
    product_complements,
    wilson_interval,
)

D = date(2025, 1, 1)


def lines_of(rows):
    """rows: (customer, days after 2025-01-01, sku)."""
    return pl.DataFrame(
        [(c, D + timedelta(days=d), s, f"Product {s}") for c, d, s in rows],
        schema=["customer_id", "order_date", "sku", "line_name"], orient="row")


def basket_store():
    # A and B bought together by 6 customers; C bought alone by 20; one buys A and C, one B.
    rows = [(f"ab{i}", 0, s) for i in range(6) for s in ("A", "B")]
    rows += [(f"c{i}", 0, "C") for i in range(20)]
    rows += [("ac", 0, "A"), ("ac", 0, "C"), ("b", 0, "B")]
    return lines_of(rows)


def test_a_pair_bought_together_is_the_top_complement_with_its_lift_by_hand():
    rules = product_complements(basket_store(), as_of=D)
    a = rules.filter(pl.col("sku") == "A")
    # 28 customers; 7 bought A, 6 of them B with it; 7 bought B: confidence 6/7,
    # lift (6/7) / (7/28) = 3.429. A -> C (1 of 7) has fewer than 3 co-buyers.
    assert a.select("complement_sku", "rank", "co_buyers", "same_order_buyers", "buyers",
                    "support", "confidence", "lift").rows() == [
        ("B", 1, 6, 6, 7, round(6 / 28, 6), round(6 / 7, 4), round(24 / 7, 3))]
    # Wilson 95% lower bound of 6/7 is 0.4869, over P(B) = 0.25.
    assert a["lift_lower"][0] == pytest.approx(1.947, abs=1e-3)
    # P(at least 6 of 7 | 0.25 each) = 7 x 0.25^6 x 0.75 + 0.25^7, below 0.05 / 6 pairs.
    assert a["p_value"][0] == pytest.approx(7 * 0.25**6 * 0.75 + 0.25**7)
    assert a["median_days_after"][0] is None  # always in the same order
    assert a["complement_product"][0] == "Product B"
    assert set(rules["sku"]) == {"A", "B"}  # C's only partner (A, once) is below 3 co-buyers


def test_a_pair_that_chance_explains_is_no_complement():
    # 4 of A's 5 buyers bought B, which half of all 10 customers buy: P = 6/32 = 0.19.
    rows = [(f"ab{i}", 0, s) for i in range(4) for s in ("A", "B")]
    rows += [(f"c{i}", 0, "C") for i in range(4)] + [("ac", 0, "A"), ("ac", 0, "C"), ("b", 0, "B")]
    assert product_complements(lines_of(rows), as_of=D).is_empty()
    kept = product_complements(lines_of(rows), as_of=D, alpha=None)
    assert kept.filter(pl.col("sku") == "A").select("complement_sku", "lift", "p_value").rows() \
        == [("B", 1.6, 6 / 32)]


def test_complements_leave_out_products_not_in_stock():
    rules = product_complements(basket_store(), as_of=D, in_stock=pl.DataFrame({"sku": ["A", "C"]}))
    assert rules.select("sku", "complement_sku").rows() == [("B", "A")]


def test_a_later_order_counts_with_its_gap_and_later_lines_are_ignored():
    rows = [(f"x{i}", 0, "A") for i in range(3)] + [(f"x{i}", 10 + 10 * i, "B") for i in range(3)]
    rows += [("y", 0, "C"), ("y", 100, "A"), ("y", 100, "B")]  # after as_of: not seen
    rules = product_complements(lines_of(rows), as_of=D + timedelta(days=60), alpha=None)
    assert rules.select("sku", "complement_sku", "co_buyers", "same_order_buyers",
                        "median_days_after").rows() == [("A", "B", 3, 0, 20.0)]


def sequence_store():
    # Six customers buy A, then B a month later; ten buy C and D, then C again.
    rows = [(f"c{i}", 0, "A") for i in range(6)] + [(f"c{i}", 31, "B") for i in range(6)]
    rows += [(f"d{i}", 4, s) for i in range(10) for s in ("C", "D")]
    rows += [(f"d{i}", 63, "C") for i in range(10)]
    rows += [("x", 59, "A")]
    return lines_of(rows)


def test_next_products_scores_by_hand():
    as_of = D + timedelta(days=89)
    out = next_products(sequence_store(), None, None, as_of=as_of, k=3)
    x = out.filter(pl.col("customer_id") == "x")
    # B after A: 6 of the 6 transitions from an order with A to the next brought B, where
    # 6 of the 16 repeat orders brought B first (0.375): chance gives 6 of 6 with
    # P = 0.375^6 = 0.0028, below 0.05 / 12 pairs. Shrunk toward B's popularity (the
    # same 0.375 in the last 90 days): (6 + 5 x 0.375) / (6 + 5). Buy A again: no A buyer
    # re-bought it in 6 later orders; the store's re-buy share is 10 of 26 later orders,
    # so (0 + 5 x 10/26) / 11.
    assert x.select("rank", "sku", "reason", "because_sku").rows() == [
        (1, "B", "bought with Product A", "A"), (2, "A", "buy again", None)]
    assert x["score"].to_list() == [round(7.875 / 11, 4), round(5 * 10 / 26 / 11, 4)]
    # A C-and-D customer: C again (10 re-buys in 10 later orders: (10 + 5 x 10/26) / 15,
    # then their own record: (1 + 5 x that) / (1 + 5)) before the best seller B (0.375).
    d0 = out.filter(pl.col("customer_id") == "d0")
    c_again = (10 + 5 * 10 / 26) / 15
    assert d0.select("sku", "reason").rows() == [("C", "buy again"), ("B", "best seller"),
                                                 ("D", "buy again")]
    assert d0["score"][0] == round((1 + 5 * c_again) / 6, 4)


def test_a_pair_chance_explains_gives_no_bought_with_suggestion():
    # Only 4 of the C-and-D customers: B is then first bought in 6 of 10 repeat orders, and
    # 6 of 6 after A has P = 0.6^6 = 0.047, above 0.05 / 12: x gets B as a best seller.
    lines = sequence_store().filter(~pl.col("customer_id").is_in([f"d{i}" for i in range(4, 10)]))
    x = next_products(lines, None, None, as_of=D + timedelta(days=89), k=3).filter(
        pl.col("customer_id") == "x")
    assert x.select("sku", "reason", "score").rows()[0] == ("B", "best seller", 0.6)


def test_out_of_stock_products_are_never_suggested():
    in_stock = pl.DataFrame({"sku": ["A", "C", "D"]})
    out = next_products(sequence_store(), None, in_stock, as_of=D + timedelta(days=89), k=3)
    assert "B" not in out["sku"].to_list()
    assert out.filter(pl.col("customer_id") == "x")["sku"].to_list() == ["A"]
    assert set(out["customer_id"]) == {f"c{i}" for i in range(6)} | {f"d{i}" for i in range(10)} | {"x"}


def test_send_on_follows_the_repurchase_timing_and_is_never_in_the_past():
    repurchase = pl.DataFrame({"sku": ["A", "B", "C", "D"],
                               "median_days_to_repurchase": [None, 40.0, 59.0, None]})
    as_of = D + timedelta(days=89)
    out = next_products(sequence_store(), repurchase, None, as_of=as_of, k=3)
    assert (out["send_on"] > as_of).all()
    d0 = {r["sku"]: r["send_on"] for r in out.filter(pl.col("customer_id") == "d0").iter_rows(named=True)}
    assert d0["C"] == D + timedelta(days=63 + 59)  # last bought C on day 63, re-buy in 59 days
    # x bought A on day 59; A -> B took 31 days: day 90, the day after as_of.
    x = out.filter((pl.col("customer_id") == "x") & (pl.col("sku") == "B"))
    assert x["send_on"][0] == D + timedelta(days=90)
    # Long after: customers c* bought B on day 31; B's 40 days are past, so tomorrow.
    late = next_products(sequence_store(), repurchase, None, as_of=D + timedelta(days=400), k=3)
    assert (late["send_on"] == D + timedelta(days=401)).all()


def test_next_products_rejects_bad_input():
    with pytest.raises(ValueError, match="missing column 'sku'"):
        next_products(pl.DataFrame({"customer_id": ["a"], "order_date": [D]}), None, None,
                      as_of=D)
    with pytest.raises(ValueError, match="k must be at least 1"):
        next_products(sequence_store(), None, None, as_of=D, k=0)


def test_baselines():
    rows = [("a", 0, "X"), ("a", 5, "X"), ("a", 6, "Y"), ("b", 1, "Z"), ("b", 2, "Z"),
            ("b", 3, "Z"), ("c", 200, "Y")]
    lines = lines_of(rows)
    again = buy_again(lines, as_of=D + timedelta(days=10), k=3)
    assert again.rows() == [("a", 1, "X"), ("a", 2, "Y"), ("b", 1, "Z")]
    top = best_sellers(lines, as_of=D + timedelta(days=10), k=2)
    assert top.filter(pl.col("customer_id") == "a").select("rank", "sku").rows() == [
        (1, "Z"), (2, "X")]
    assert set(top["customer_id"]) == {"a", "b"}  # c has not ordered by then


def test_hit_rate_on_a_tiny_held_out_example():
    rows = [("a", 0, "X"), ("a", 20, "X"),                # next order holds X: hit
            ("b", 0, "Y"), ("b", 15, "Z"), ("b", 16, "Y"),  # the first later order (Z) counts
            ("c", 0, "W"),                                # no later order: not counted
            ("d", 12, "X")]                               # no history: not counted
    result = hit_rate_at_k(buy_again, lines_of(rows), cutoff=D + timedelta(days=10), k=3)
    assert (result.n, result.hits, result.rate) == (2, 1, 0.5)
    assert result.detail.select("customer_id", "hit").rows() == [("a", True), ("b", False)]
    assert (result.lo, result.hi) == pytest.approx(wilson_interval(1, 2))
    within = hit_rate_at_k(buy_again, lines_of(rows), cutoff=D + timedelta(days=10), k=3,
                           horizon_days=7)
    assert within.n == 1  # b's next order (day 15) is within 7 days, a's (day 20) is not


def test_wilson_interval_known_values():
    assert wilson_interval(0, 10) == pytest.approx((0.0, 0.2775), abs=1e-4)
    assert wilson_interval(5, 10) == pytest.approx((0.2366, 0.7634), abs=1e-4)
    assert wilson_interval(0, 0) == (None, None)
