"""Replay demand day by day under a replenishment policy: fill rate, stockouts, inventory.

`simulate_inventory(demand, terms, *, start, end, policy, initial_on_hand, ...)` is the
evaluation behind "fewer stockouts with less money tied up in stock": every SKU starts
from the same stock, the true (uncensored) demand of each day is served from what is on
hand, and on review days a policy decides what to order; orders arrive after a lead time
drawn from the supplier's observed lead times, not the one the policy assumes.

Policies are plain callables `policy(review: Review) -> DataFrame[sku, qty]`. The review
holds only what storeops would see on that day: the recorded *sales* up to and including
that day with their stockout flags (censored history, exactly what `forecast_demand`
gets in production), the stock position, the supplier terms and the planned promotions.
Never the demand of a future day, nor the demand lost on a stockout day.

The policies compared in the replay (`storeops_policy`, `seasonal_naive_policy`,
`min_max_policy`, `never_order`, ...) are in forecasting/replay_policies.py; the
safety-stock calibration read off a forecast policy's review lines (`review_shortfall`,
`fit_safety_factor`) is in forecasting/safety_calibration.py.

Day d, for all SKUs at once (numpy arrays SKU x day; the only Python loop is over days):
    1. arrivals due on day d land in on hand (start of day);
    2. sales = min(true demand, on hand); the rest is lost (no backorders);
    3. on hand at end of day is recorded; the day is a stockout day for the history the
       policy sees when nothing is left (is_stockout = on hand at end of day == 0, as in
       marts.fct_inventory_daily);
    4. on review days (every `review_days` from `start`) the policy is called after the
       day's sales; a SKU can be ordered only when its supplier's order cycle is due
       (`order_cycle_days` from `start`, see `due_for_order`); an order placed at the end
       of day d with lead time L (>= 1) lands at the start of day d + L.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import numpy as np
import polars as pl

HISTORY_SCHEMA = {"unique_id": pl.Utf8, "ds": pl.Date, "y": pl.Float64,
                  "is_stockout": pl.Boolean, "is_promo": pl.Boolean}


@dataclass(frozen=True)
class Review:
    """What a policy sees on a review day (all of it known at the end of `as_of`).

    history: `unique_id, ds, y, is_stockout, is_promo` for every SKU and day up to and
        including as_of: y is units *sold* (censored on stockout days, never the demand).
    position: `sku, on_hand, on_order, committed, due`: stock at the end of as_of, units
        ordered and not yet received, committed (always 0 here), and whether the SKU's
        supplier order cycle is due today (orders for other SKUs are ignored).
    terms: the supplier terms the simulation was given (one row per sku).
    promotions: planned promotions after as_of, `unique_id, ds, uplift` (uplift null:
        "use the measured one"), the calendar a store knows in advance.
    """

    as_of: date
    history: pl.DataFrame
    position: pl.DataFrame
    terms: pl.DataFrame
    promotions: pl.DataFrame


Policy = Callable[[Review], pl.DataFrame]


@dataclass(frozen=True)
class SimulationResult:
    """The replay, day by day, and its metrics (see `simulation_metrics`).

    daily: `sku, date, demand_units, sales_units, lost_units, received_units,
        on_hand_end, on_order_end` (on_order_end: ordered, not yet received, end of day).
    orders: `sku, supplier_id, order_date, arrival_date, qty_ordered, qty_received,
        order_value` (qty_ordered x unit_cost); arrival_date may fall after `end`.
    summary: the metrics over all SKUs, a dict.
    by_class: the metrics per `abc_class` of the terms given.
    reviews: how many times the policy was called.
    policy_seconds: time spent inside the policy; seconds: the whole replay.
    """

    daily: pl.DataFrame
    orders: pl.DataFrame
    summary: dict[str, float]
    by_class: pl.DataFrame
    reviews: int
    policy_seconds: float
    seconds: float
    terms: pl.DataFrame = field(repr=False)


# --------------------------------------------------------------------------- simulation


def _as_date(value: date | datetime, name: str) -> date:
    if isinstance(value, datetime):
        return value.date()
    if not isinstance(value, date):
        raise TypeError(f"{name} must be a date, got {type(value).__name__}")
    return value


def _require(frame: pl.DataFrame | None, name: str, columns: list[str]) -> None:
    if not isinstance(frame, pl.DataFrame):
        raise TypeError(f"{name} must be a polars DataFrame, got {type(frame).__name__}")
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"{name} is missing column(s) {', '.join(missing)}")


def _prepare_terms(terms: pl.DataFrame) -> pl.DataFrame:
    _require(terms, "terms", ["sku", "unit_cost"])
    out = terms.with_columns(
        pl.col("sku").cast(pl.Utf8),
        pl.col("unit_cost").cast(pl.Float64),
        *((pl.col(c) if c in terms.columns else pl.lit(None)).cast(dtype).alias(c)
          for c, dtype in (("supplier_id", pl.Utf8), ("price", pl.Float64),
                           ("lead_time_days", pl.Float64), ("order_cycle_days", pl.Float64),
                           ("abc_class", pl.Utf8))),
    ).with_columns(
        pl.col("supplier_id").fill_null("unknown_supplier"),
        pl.col("price").fill_null(0.0),
        pl.col("abc_class").fill_null("C"),
    ).sort("sku")
    if out["sku"].is_null().any():
        raise ValueError("terms has a null sku")
    if out["sku"].is_duplicated().any():
        raise ValueError("terms has more than one row for a sku; keep one row per sku")
    if (out["unit_cost"].is_null() | (out["unit_cost"] < 0)).any():
        raise ValueError("terms: unit_cost is null or negative for some sku")
    return out


def _sku_index(skus: pl.Series) -> dict[str, int]:
    return {s: i for i, s in enumerate(skus.to_list())}


def _matrix(frame: pl.DataFrame, sku_col: str, date_col: str, value_col: str,
            index: dict[str, int], start: date, n_days: int, name: str) -> np.ndarray:
    """SKU x day int matrix from a long frame (missing cells are 0; rows outside dropped)."""
    out = np.zeros((len(index), n_days), dtype=np.int64)
    if frame.is_empty():
        return out
    rows = frame.select(
        pl.col(sku_col).cast(pl.Utf8).replace_strict(index, default=-1, return_dtype=pl.Int64)
        .alias("row"),
        (pl.col(date_col).cast(pl.Date) - pl.lit(start)).dt.total_days().cast(pl.Int64)
        .alias("day"),
        pl.col(value_col).cast(pl.Float64).alias("value"),
    ).filter((pl.col("row") >= 0) & (pl.col("day") >= 0) & (pl.col("day") < n_days))
    value = rows["value"].to_numpy()
    if np.isnan(value).any() or (value < 0).any():
        raise ValueError(f"{name} has null, NaN or negative {value_col}")
    if (value != np.round(value)).any():
        raise ValueError(f"{name} column {value_col} must hold whole units")
    np.add.at(out, (rows["row"].to_numpy(), rows["day"].to_numpy()), value.astype(np.int64))
    return out


def due_for_order(day: int, order_cycle_days: np.ndarray, review_days: int) -> np.ndarray:
    """Whether each SKU's supplier order cycle is due on review day `day` (days from start).

    A supplier with an order cycle of c days is ordered from on the first review of each
    c-day block: day mod c < review_days (every review when c <= review_days or unknown).
    With weekly reviews, a 14-day supplier is ordered from every other week.
    """
    cycle = np.where(np.isnan(order_cycle_days) | (order_cycle_days <= review_days),
                     review_days, order_cycle_days)
    return np.mod(day, cycle) < review_days


def _supplier_draws(rng: np.random.Generator, lead_times: pl.DataFrame | None,
                    terms: pl.DataFrame, n_days: int) -> tuple[np.ndarray, np.ndarray]:
    """Lead time per SKU and order day (one draw per supplier and day: a purchase order),
    and received share per SKU and order day (one draw per line).

    Drawn before the replay so every policy ordering from a supplier on the same day
    meets the same lead time (common random numbers). Without observed lead times for a
    supplier: the terms' lead time, rounded, everything received.
    """
    n_sku = terms.height
    suppliers = terms["supplier_id"].to_numpy()
    stated = np.maximum(np.round(terms["lead_time_days"].fill_null(1.0).to_numpy()), 1)
    lead = np.repeat(stated[:, None], n_days, axis=1).astype(np.int64)
    share = np.ones((n_sku, n_days))
    if lead_times is None:
        return lead, share
    _require(lead_times, "lead_times", ["supplier_id", "lead_time_days"])
    observed = lead_times.select(
        pl.col("supplier_id").cast(pl.Utf8),
        pl.col("lead_time_days").cast(pl.Float64),
        (pl.col("received_share") if "received_share" in lead_times.columns else pl.lit(1.0))
        .cast(pl.Float64).fill_null(1.0).clip(0.0, 1.0).alias("received_share"),
    ).drop_nulls("lead_time_days").sort("supplier_id", "lead_time_days", "received_share")
    if (observed["lead_time_days"] < 0).any():
        raise ValueError("lead_times has a negative lead_time_days")
    for supplier in sorted(set(suppliers.tolist())):
        rows = observed.filter(pl.col("supplier_id") == supplier)
        if rows.is_empty():
            continue
        mine = np.flatnonzero(suppliers == supplier)
        lt = rows["lead_time_days"].to_numpy()
        lead[mine] = np.maximum(np.round(lt[rng.integers(0, lt.size, n_days)]), 1)[None, :]
        shares = rows["received_share"].to_numpy()
        share[mine] = shares[rng.integers(0, shares.size, (mine.size, n_days))]
    return lead, share


def _history_frame(history: pl.DataFrame | None, skus: pl.Series, start: date) -> pl.DataFrame:
    if history is None:
        return pl.DataFrame(schema=HISTORY_SCHEMA)
    _require(history, "history", ["unique_id", "ds", "y"])
    frame = history.select(
        pl.col("unique_id").cast(pl.Utf8),
        pl.col("ds").cast(pl.Date),
        pl.col("y").cast(pl.Float64),
        *((pl.col(c).cast(pl.Boolean).fill_null(False) if c in history.columns
           else pl.lit(False)).alias(c) for c in ("is_stockout", "is_promo")),
    ).filter(pl.col("unique_id").is_in(skus.implode()))
    if frame.filter(pl.col("ds") >= start).height:
        raise ValueError(f"history must end before start ({start}); the replay writes the "
                         "history from start on, from the simulated sales")
    return frame


def simulate_inventory(
    demand: pl.DataFrame,
    terms: pl.DataFrame,
    *,
    start: date,
    end: date,
    policy: Policy,
    initial_on_hand: pl.DataFrame,
    history: pl.DataFrame | None = None,
    open_orders: pl.DataFrame | None = None,
    lead_times: pl.DataFrame | None = None,
    promotions: pl.DataFrame | None = None,
    review_days: int = 7,
    seed: int = 0,
) -> SimulationResult:
    """Replay `start`..`end` (inclusive) day by day under `policy`.

    Args:
        demand: true, uncensored demand: `sku, date, demand_units` (whole units; a
            missing SKU-day is 0). Only the SKUs of `terms` are replayed.
        terms: one row per sku: `sku, unit_cost`, and `supplier_id, price` (lost sales
            value; 0 if absent), `lead_time_days` (used when a supplier has no observed
            lead time), `order_cycle_days` (when orders can be placed, see
            `due_for_order`), `abc_class` (for `by_class`) and whatever the policy reads
            (case_pack, moq_units, lead_time_std_days...). Passed to the policy as given.
        start, end: the replayed days; the first review is at the end of `start`.
        policy: `policy(review) -> DataFrame[sku, qty]` (whole units >= 0; missing skus
            order nothing); see `Review` for what it sees.
        initial_on_hand: `sku, on_hand` at the start of `start` (missing skus: 0).
        history: what storeops recorded before `start`: `unique_id, ds, y` (+
            `is_stockout`, `is_promo`), all ds < start; prepended to the simulated
            sales in every review's history.
        open_orders: purchase orders open at `start`: `sku, arrival_date, qty_ordered`
            (+ `qty_received`, default qty_ordered); arrival_date >= start (they count as
            on order until then, and for ever when after `end`).
        lead_times: observed lead times to sample from: `supplier_id, lead_time_days`
            (+ `received_share`, the share of an order line received, default 1): one
            lead time per supplier and order day (a purchase order), one share per line.
            None: every order arrives after the terms' lead time, complete.
        promotions: the promotion calendar `sku, date` (+ `uplift`): flags `is_promo` in
            the history and is shown to the policy, from the day after each review on, as
            planned promotions.
        review_days: days between reviews.
        seed: seeds the lead time and received share draws.

    Returns:
        A `SimulationResult`.
    """
    started = time.perf_counter()
    start, end = _as_date(start, "start"), _as_date(end, "end")
    if end < start:
        raise ValueError(f"end ({end}) is before start ({start})")
    if not isinstance(review_days, int) or review_days < 1:
        raise ValueError(f"review_days must be a positive integer, got {review_days!r}")
    if not callable(policy):
        raise TypeError("policy must be a callable taking a Review")
    terms = _prepare_terms(terms)
    _require(demand, "demand", ["sku", "date", "demand_units"])
    _require(initial_on_hand, "initial_on_hand", ["sku", "on_hand"])
    skus = terms["sku"]
    index = _sku_index(skus)
    n_sku, n_days = skus.len(), (end - start).days + 1
    dates = pl.date_range(start, end, "1d", eager=True)

    true_demand = _matrix(demand, "sku", "date", "demand_units", index, start, n_days, "demand")
    on_hand = _matrix(initial_on_hand.with_columns(pl.lit(start).alias("_d")), "sku", "_d",
                      "on_hand", index, start, 1, "initial_on_hand")[:, 0]
    past = _history_frame(history, skus, start)

    promo_calendar = pl.DataFrame(schema={"unique_id": pl.Utf8, "ds": pl.Date,
                                          "uplift": pl.Float64})
    is_promo = np.zeros((n_sku, n_days), dtype=bool)
    if promotions is not None:
        _require(promotions, "promotions", ["sku", "date"])
        promo_calendar = promotions.select(
            pl.col("sku").cast(pl.Utf8).alias("unique_id"), pl.col("date").cast(pl.Date).alias("ds"),
            (pl.col("uplift") if "uplift" in promotions.columns else pl.lit(None))
            .cast(pl.Float64).alias("uplift"),
        ).filter(pl.col("unique_id").is_in(skus.implode())).unique(["unique_id", "ds"]).sort(
            "unique_id", "ds")
        is_promo = _matrix(promo_calendar.with_columns(pl.lit(1).alias("one")), "unique_id",
                           "ds", "one", index, start, n_days, "promotions") > 0

    # Stock flows: arrive[s, d] lands at the start of day d; close[s, d] leaves on order.
    lead, share = _supplier_draws(np.random.default_rng(seed), lead_times, terms, n_days)
    width = n_days + int(lead.max(initial=1)) + 1
    arrive = np.zeros((n_sku, width), dtype=np.int64)
    close = np.zeros((n_sku, width), dtype=np.int64)
    on_order = np.zeros(n_sku, dtype=np.int64)
    if open_orders is not None and not open_orders.is_empty():
        _require(open_orders, "open_orders", ["sku", "arrival_date", "qty_ordered"])
        frame = open_orders.select(
            pl.col("sku").cast(pl.Utf8), pl.col("arrival_date").cast(pl.Date),
            pl.col("qty_ordered").cast(pl.Int64),
            (pl.col("qty_received") if "qty_received" in open_orders.columns
             else pl.col("qty_ordered")).cast(pl.Int64).alias("qty_received"),
        ).filter(pl.col("sku").is_in(skus.implode()))
        if frame["arrival_date"].is_null().any() or frame["qty_ordered"].is_null().any():
            raise ValueError("open_orders has a null arrival_date or qty_ordered")
        if frame.filter(pl.col("arrival_date") < start).height:
            raise ValueError("open_orders has an arrival_date before start")
        if frame.filter((pl.col("qty_ordered") < 0) | (pl.col("qty_received") < 0)).height:
            raise ValueError("open_orders has a negative quantity")
        rows = frame["sku"].replace_strict(index, return_dtype=pl.Int64).to_numpy()
        day = (frame["arrival_date"] - start).dt.total_days().to_numpy()
        np.add.at(on_order, rows, frame["qty_ordered"].to_numpy())
        inside = day < n_days
        np.add.at(arrive, (rows[inside], day[inside]), frame["qty_received"].to_numpy()[inside])
        np.add.at(close, (rows[inside], day[inside]), frame["qty_ordered"].to_numpy()[inside])

    cycle = terms["order_cycle_days"].cast(pl.Float64).fill_null(float("nan")).to_numpy()
    sales = np.zeros((n_sku, n_days), dtype=np.int64)
    received = np.zeros((n_sku, n_days), dtype=np.int64)
    on_hand_end = np.zeros((n_sku, n_days), dtype=np.int64)
    on_order_end = np.zeros((n_sku, n_days), dtype=np.int64)
    order_parts: list[tuple[np.ndarray, int, np.ndarray, np.ndarray, np.ndarray]] = []
    policy_seconds, reviews = 0.0, 0
    zeros = pl.Series("committed", np.zeros(n_sku, dtype=np.int64))

    for d in range(n_days):
        on_hand += arrive[:, d]
        received[:, d] = arrive[:, d]
        on_order -= close[:, d]
        sold = np.minimum(true_demand[:, d], on_hand)
        on_hand -= sold
        sales[:, d] = sold
        on_hand_end[:, d] = on_hand
        if d % review_days == 0:
            due = due_for_order(d, cycle, review_days)
            as_of = start + timedelta(days=d)
            review = Review(
                as_of=as_of,
                history=_review_history(past, skus, dates, sales, on_hand_end, is_promo, d),
                position=pl.DataFrame({"sku": skus, "on_hand": on_hand.copy(),
                                       "on_order": on_order.copy(), "committed": zeros,
                                       "due": due}),
                terms=terms.clone(),
                promotions=promo_calendar.filter(pl.col("ds") > as_of),
            )
            t0 = time.perf_counter()
            decided = policy(review)
            policy_seconds += time.perf_counter() - t0
            reviews += 1
            qty = np.where(due, _order_quantities(decided, index), 0)
            if qty.any():
                rows = np.flatnonzero(qty)
                arrival = d + lead[rows, d]
                got = np.floor(qty[rows] * share[rows, d] + 1e-9).astype(np.int64)
                on_order[rows] += qty[rows]
                np.add.at(arrive, (rows, arrival), got)
                np.add.at(close, (rows, arrival), qty[rows])
                order_parts.append((rows, d, arrival, qty[rows], got))
        on_order_end[:, d] = on_order

    daily = pl.DataFrame({
        "sku": skus.gather(np.repeat(np.arange(n_sku), n_days)),
        "date": dates.gather(np.tile(np.arange(n_days), n_sku)),
        "demand_units": true_demand.ravel(),
        "sales_units": sales.ravel(),
        "lost_units": (true_demand - sales).ravel(),
        "received_units": received.ravel(),
        "on_hand_end": on_hand_end.ravel(),
        "on_order_end": on_order_end.ravel(),
    })
    orders = _orders_frame(order_parts, terms, start)
    summary_frame = simulation_metrics(daily, orders, terms)
    return SimulationResult(
        daily=daily,
        orders=orders,
        summary=summary_frame.row(0, named=True),
        by_class=simulation_metrics(daily, orders, terms, by="abc_class"),
        reviews=reviews,
        policy_seconds=policy_seconds,
        seconds=time.perf_counter() - started,
        terms=terms,
    )


def _review_history(past: pl.DataFrame, skus: pl.Series, dates: pl.Series, sales: np.ndarray,
                    on_hand_end: np.ndarray, is_promo: np.ndarray, d: int) -> pl.DataFrame:
    """The recorded history up to day d: sales (never demand) and stockout flags."""
    n_sku, days = skus.len(), d + 1
    replayed = pl.DataFrame({
        "unique_id": skus.gather(np.repeat(np.arange(n_sku), days)),
        "ds": dates.gather(np.tile(np.arange(days), n_sku)),
        "y": sales[:, :days].ravel().astype(np.float64),
        "is_stockout": (on_hand_end[:, :days] <= 0).ravel(),
        "is_promo": is_promo[:, :days].ravel(),
    })
    return pl.concat([past, replayed], how="vertical")


def _order_quantities(decided: pl.DataFrame, index: dict[str, int]) -> np.ndarray:
    """The policy's `sku, qty` as a vector in terms order (missing skus: 0)."""
    qty = np.zeros(len(index), dtype=np.int64)
    if decided is None or decided.is_empty():
        return qty
    _require(decided, "the policy's result", ["sku", "qty"])
    frame = decided.select(pl.col("sku").cast(pl.Utf8),
                           pl.col("qty").cast(pl.Float64).fill_null(0.0))
    unknown = frame.filter(~pl.col("sku").is_in(list(index)))["sku"]
    if unknown.len():
        raise ValueError(f"the policy ordered sku(s) not in terms: {', '.join(unknown.head(5))}")
    if frame["sku"].is_duplicated().any():
        raise ValueError("the policy returned more than one row for a sku")
    values = frame["qty"].to_numpy()
    if np.isnan(values).any() or (values < 0).any() or (values != np.round(values)).any():
        raise ValueError("the policy's qty must be whole units >= 0")
    qty[frame["sku"].replace_strict(index, return_dtype=pl.Int64).to_numpy()] = values
    return qty


def _orders_frame(parts: list, terms: pl.DataFrame, start: date) -> pl.DataFrame:
    schema = {"sku": pl.Utf8, "supplier_id": pl.Utf8, "order_date": pl.Date,
              "arrival_date": pl.Date, "qty_ordered": pl.Int64, "qty_received": pl.Int64,
              "order_value": pl.Float64}
    if not parts:
        return pl.DataFrame(schema=schema)
    rows = np.concatenate([p[0] for p in parts])
    frame = pl.DataFrame({
        "row": rows,
        "order_day": np.concatenate([np.full(p[0].size, p[1]) for p in parts]),
        "arrival_day": np.concatenate([p[2] for p in parts]),
        "qty_ordered": np.concatenate([p[3] for p in parts]).astype(np.int64),
        "qty_received": np.concatenate([p[4] for p in parts]).astype(np.int64),
    })
    info = terms.select("sku", "supplier_id", "unit_cost").with_row_index("row").with_columns(
        pl.col("row").cast(pl.Int64))
    return frame.join(info, on="row", how="left").select(
        "sku", "supplier_id",
        (pl.lit(start) + pl.duration(days=pl.col("order_day"))).alias("order_date"),
        (pl.lit(start) + pl.duration(days=pl.col("arrival_day"))).alias("arrival_date"),
        "qty_ordered", "qty_received",
        (pl.col("qty_ordered") * pl.col("unit_cost")).alias("order_value"),
    ).cast(schema)


# --------------------------------------------------------------------------- metrics


def simulation_metrics(daily: pl.DataFrame, orders: pl.DataFrame, terms: pl.DataFrame,
                       by: str | None = None) -> pl.DataFrame:
    """The replay's metrics, over all SKUs or per value of a terms column `by`.

    - fill_rate = units sold / units demanded (true demand);
    - stockout_sku_days: SKU-days with demand not met (demand > 0, lost units > 0);
      zero_stock_sku_days: SKU-days ending with nothing on hand (demand or not);
    - lost_units, lost_sales_value = lost units x price;
    - avg_inventory_value = mean over days of sum over SKUs of on hand at end of day x
      unit_cost; avg_inventory_units likewise; end_inventory_value on the last day;
      end_on_order_value: ordered, not received, at the end (pipeline x unit_cost);
    - inventory_turns = cost of goods sold, annualised, / avg_inventory_value;
    - order_lines, purchase_orders (supplier x order day), ordered_units, ordered_value.
    """
    info = terms.select("sku", "unit_cost", "price", *([by] if by and by != "sku" else []))
    days = daily["date"].n_unique()
    last = daily["date"].max()
    keys = [by] if by else []
    d = daily.join(info, on="sku", how="left").with_columns(pl.lit("all").alias("_all"))
    group = keys or ["_all"]
    metrics = d.group_by(group).agg(
        pl.col("sku").n_unique().alias("skus"),
        pl.col("demand_units").sum().alias("demand_units"),
        pl.col("sales_units").sum().alias("sales_units"),
        pl.col("lost_units").sum().alias("lost_units"),
        (pl.col("lost_units") > 0).sum().alias("stockout_sku_days"),
        (pl.col("on_hand_end") <= 0).sum().alias("zero_stock_sku_days"),
        (pl.col("lost_units") * pl.col("price")).sum().alias("lost_sales_value"),
        (pl.col("sales_units") * pl.col("price")).sum().alias("sales_value"),
        (pl.col("sales_units") * pl.col("unit_cost")).sum().alias("cost_of_goods_sold"),
        ((pl.col("on_hand_end") * pl.col("unit_cost")).sum() / days).alias("avg_inventory_value"),
        (pl.col("on_hand_end").sum() / days).alias("avg_inventory_units"),
        (pl.col("on_hand_end") * pl.col("unit_cost")).filter(pl.col("date") == last).sum()
        .alias("end_inventory_value"),
        (pl.col("on_order_end") * pl.col("unit_cost")).filter(pl.col("date") == last).sum()
        .alias("end_on_order_value"),
    )
    o = orders.join(info.select("sku", *keys) if by and by != "sku" else info.select("sku"),
                    on="sku", how="left").with_columns(pl.lit("all").alias("_all"))
    placed = o.group_by(group).agg(
        pl.len().alias("order_lines"),
        pl.struct("supplier_id", "order_date").n_unique().alias("purchase_orders"),
        pl.col("qty_ordered").sum().alias("ordered_units"),
        pl.col("order_value").sum().alias("ordered_value"),
    )
    out = metrics.join(placed, on=group, how="left").with_columns(
        pl.col("order_lines", "purchase_orders", "ordered_units").fill_null(0).cast(pl.Int64),
        pl.col("ordered_value").fill_null(0.0),
        pl.when(pl.col("demand_units") > 0)
        .then(pl.col("sales_units") / pl.col("demand_units")).otherwise(1.0).alias("fill_rate"),
        pl.when(pl.col("avg_inventory_value") > 0)
        .then(pl.col("cost_of_goods_sold") * (365.0 / days) / pl.col("avg_inventory_value"))
        .alias("inventory_turns"),
        pl.lit(days).alias("days"),
    )
    columns = ["skus", "days", "fill_rate", "stockout_sku_days", "zero_stock_sku_days",
               "demand_units", "sales_units", "lost_units", "lost_sales_value", "sales_value",
               "avg_inventory_value", "avg_inventory_units", "end_inventory_value",
               "end_on_order_value", "inventory_turns", "order_lines", "purchase_orders",
               "ordered_units", "ordered_value"]
    out = out.select(*keys, *columns)
    return out.sort(keys) if keys else out


__all__ = [
    "Policy",
    "Review",
    "SimulationResult",
    "due_for_order",
    "simulate_inventory",
    "simulation_metrics",
]
