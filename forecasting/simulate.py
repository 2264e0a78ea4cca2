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

Policies provided:
- `storeops_policy()`: `forecast_demand` + `reorder_suggestions`, as the daily job runs.
- `seasonal_naive_policy()`: the same `reorder_suggestions` fed by a seasonal naive
  forecast with its own intervals (`seasonal_naive_forecast`).
- `min_max_policy(reorder_days=30, order_days=60)`: reorder when stock falls under 30
  days of average sales (trailing 90 days), order 60 days of average sales.

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

from forecasting.policy import _round_to_packs, reorder_suggestions

HISTORY_SCHEMA = {"unique_id": pl.Utf8, "ds": pl.Date, "y": pl.Float64,
                  "is_stockout": pl.Boolean, "is_promo": pl.Boolean}
ABC_WINDOW_DAYS = 90  # as marts.dim_products: revenue over the last 90 days
ABC_SHARES = (0.80, 0.95)  # A = first 80% of revenue, B = next 15%, C = the rest


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


# --------------------------------------------------------------------------- policies


def average_daily_sales(history: pl.DataFrame, as_of: date, days: int) -> pl.DataFrame:
    """`unique_id, avg_sales`: mean units sold per day over the `days` days up to as_of.

    Days without a row count as 0; a series younger than the window is averaged over the
    days since its first row. Recorded sales: stockout days pull the average down.
    """
    window_start = as_of - timedelta(days=days - 1)
    return (
        history.filter(pl.col("ds") <= as_of).group_by("unique_id").agg(
            pl.col("y").filter(pl.col("ds") >= window_start).sum().alias("units"),
            pl.col("ds").min().alias("first"),
        ).with_columns(
            ((pl.lit(as_of) - pl.max_horizontal(pl.col("first"), pl.lit(window_start)))
             .dt.total_days() + 1).alias("span"))
        .select("unique_id", (pl.col("units") / pl.col("span").clip(lower_bound=1))
                .alias("avg_sales"))
    )


def min_max_policy(reorder_days: float = 30, order_days: float = 60, *,
                   sales_window_days: int = 90, use_inventory_position: bool = True) -> Policy:
    """The naive baseline: reorder under `reorder_days` of average sales, order `order_days`.

    average sales = mean units *sold* per day over the trailing `sales_window_days` (90)
    days (`average_daily_sales`). On a review day where the SKU's supplier is due, a SKU
    whose stock is under reorder_days x average sales gets order_days x average sales,
    rounded up to whole case packs and at least the MOQ (the same rounding as
    `reorder_suggestions`, so both policies face the same supplier terms). Stock is the
    inventory position on hand + on order (`use_inventory_position`, the default: a
    buyer does not reorder what is already on its way); False reads on hand only, the
    issue's literal wording, which re-orders every review while an order is in transit.
    """
    if reorder_days < 0 or order_days <= 0 or sales_window_days < 1:
        raise ValueError("reorder_days >= 0, order_days > 0 and sales_window_days >= 1")

    def policy(review: Review) -> pl.DataFrame:
        lines = (
            review.position.filter(pl.col("due"))
            .join(review.terms.select(
                "sku",
                *((pl.col(c) if c in review.terms.columns else pl.lit(1)).cast(pl.Int64)
                  .fill_null(1).alias(c) for c in ("case_pack", "moq_units"))), on="sku")
            .join(average_daily_sales(review.history, review.as_of, sales_window_days)
                  .rename({"unique_id": "sku"}), on="sku", how="left")
            .with_columns(pl.col("avg_sales").fill_null(0.0))
        )
        if lines.is_empty():
            return pl.DataFrame(schema={"sku": pl.Utf8, "qty": pl.Int64})
        stock = (lines["on_hand"] + lines["on_order"] - lines["committed"]
                 if use_inventory_position else lines["on_hand"]).to_numpy()
        avg = lines["avg_sales"].to_numpy()
        trigger = (stock < reorder_days * avg) & (avg > 0)
        raw = np.where(trigger, order_days * avg, 0.0)
        qty = _round_to_packs(raw, lines["case_pack"].to_numpy(), lines["moq_units"].to_numpy())
        return pl.DataFrame({"sku": lines["sku"], "qty": qty})

    policy.__name__ = (f"min_max_{reorder_days:g}_{order_days:g}"
                       + ("" if use_inventory_position else "_on_hand"))
    return policy


def abc_classes(history: pl.DataFrame, terms: pl.DataFrame, as_of: date,
                days: int = ABC_WINDOW_DAYS) -> pl.DataFrame:
    """`sku, abc_class` by revenue (units sold x price) over the `days` days up to as_of.

    The rule of marts.dim_products: SKUs sorted by revenue, A = those making the first
    80% of revenue, B = the next 15%, C = the rest and SKUs without revenue.
    """
    window_start = as_of - timedelta(days=days - 1)
    units = (history.filter((pl.col("ds") >= window_start) & (pl.col("ds") <= as_of))
             .group_by("unique_id").agg(pl.col("y").sum().alias("units")))
    ranked = (
        terms.select("sku", pl.col("price").cast(pl.Float64).fill_null(0.0))
        .join(units.rename({"unique_id": "sku"}), on="sku", how="left")
        .with_columns((pl.col("units").fill_null(0.0) * pl.col("price")).alias("revenue"))
        .sort(["revenue", "sku"], descending=[True, False])
        .with_columns((pl.col("revenue").cum_sum() - pl.col("revenue")).alias("before"),
                      pl.col("revenue").sum().alias("total"))
    )
    return ranked.select(
        "sku",
        pl.when((pl.col("revenue") <= 0) | (pl.col("total") <= 0)).then(pl.lit("C"))
        .when(pl.col("before") < ABC_SHARES[0] * pl.col("total")).then(pl.lit("A"))
        .when(pl.col("before") < ABC_SHARES[1] * pl.col("total")).then(pl.lit("B"))
        .otherwise(pl.lit("C")).alias("abc_class"),
    ).sort("sku")


ForecastFn = Callable[[pl.DataFrame, int, pl.DataFrame], pl.DataFrame]


def forecast_policy(forecast_fn: ForecastFn, *, horizon: int = 56,
                    service_level: dict[str, float] | None = None,
                    safety_factor: dict[str, float] | None = None,
                    reclassify_abc: bool = True, name: str = "forecast_policy",
                    lines_log: list[pl.DataFrame] | None = None,
                    forecast_log: dict[date, pl.DataFrame] | None = None) -> Policy:
    """`reorder_suggestions` on the forecast `forecast_fn(history, horizon, promotions)`.

    Every review re-forecasts every SKU from the censored history; the SKUs whose supplier
    is due get `suggested_qty` (whole case packs, at least the MOQ). With `reclassify_abc`
    the ABC class (and so the service level) is recomputed from the last 90 days of
    sales at each review, as marts.dim_products does every day in production.
    `lines_log`, when given, receives each review's reorder lines (with `as_of`, and the
    forecast's `model`, `error_sd`, `level_sd` per SKU when it has them), to study the
    policy afterwards (e.g. how often demand beat the order-up-to level).
    `forecast_log`, when given, receives each review's forecast keyed by `as_of`, to
    replay the same forecasts under other safety stocks (`recorded_forecasts`).
    `service_level` and `safety_factor` go to `reorder_suggestions`.
    """

    def policy(review: Review) -> pl.DataFrame:
        due = review.position.filter(pl.col("due"))
        if due.is_empty():
            return pl.DataFrame(schema={"sku": pl.Utf8, "qty": pl.Int64})
        forecast = forecast_fn(review.history, horizon, review.promotions)
        if forecast_log is not None:
            forecast_log[review.as_of] = forecast
        terms = review.terms.filter(pl.col("sku").is_in(due["sku"].implode()))
        if reclassify_abc:
            terms = terms.drop("abc_class").join(
                abc_classes(review.history, review.terms, review.as_of), on="sku", how="left")
        lines = reorder_suggestions(forecast, due.drop("due"), terms, as_of=review.as_of,
                                    service_level=service_level, safety_factor=safety_factor)
        if lines_log is not None:
            logged = lines.with_columns(pl.lit(review.as_of).alias("as_of"))
            extra = [c for c in ("model", "error_sd", "level_sd") if c in forecast.columns]
            if extra:
                per_sku = forecast.group_by("unique_id").agg(pl.col(extra).first())
                logged = logged.join(per_sku.rename({"unique_id": "sku"}), on="sku", how="left")
            lines_log.append(logged)
        return lines.select("sku", pl.col("suggested_qty").alias("qty"))

    policy.__name__ = name
    return policy


def recorded_forecasts(forecasts: dict[date, pl.DataFrame]) -> ForecastFn:
    """A `ForecastFn` that returns the forecast recorded for the review's day (the last
    day of its history), as `forecast_log` of `forecast_policy` collected it.

    Replaying a policy on recorded forecasts costs a few seconds instead of re-forecasting
    every review, to sweep the safety stock. It is an approximation: a policy that stocks
    differently censors a different set of days, and a re-forecast would see that.
    """
    if not forecasts:
        raise ValueError("recorded_forecasts needs at least one recorded forecast")

    def forecast(history: pl.DataFrame, horizon: int, promotions: pl.DataFrame) -> pl.DataFrame:
        as_of = history["ds"].max()
        if as_of not in forecasts:
            raise ValueError(f"no forecast recorded for the review of {as_of}; record the "
                             "forecasts with the same start, end and review days")
        return forecasts[as_of]

    return forecast


def storeops_policy(*, horizon: int = 56, service_level: dict[str, float] | None = None,
                    safety_factor: dict[str, float] | None = None,
                    n_jobs: int | None = None, cv_windows: int = 2,
                    use_promotions: bool = True, reclassify_abc: bool = True,
                    lines_log: list[pl.DataFrame] | None = None,
                    forecast_log: dict[date, pl.DataFrame] | None = None) -> Policy:
    """storeops as the daily job runs it: `forecast_demand` (censored history, model per
    SKU by cross-validation, planned promotions lifted) + `reorder_suggestions` at the
    default service levels (A 98%, B 95%, C 90%) and safety factors (1) unless
    `service_level` / `safety_factor` say otherwise. horizon 56 days as
    orchestration/defs/forecasting.py. `lines_log`, `forecast_log`: see `forecast_policy`."""
    from forecasting.demand import forecast_demand

    def forecast(history: pl.DataFrame, h: int, promotions: pl.DataFrame) -> pl.DataFrame:
        return forecast_demand(history, h, n_jobs=n_jobs, cv_windows=cv_windows,
                               promotions=promotions if use_promotions else None)

    return forecast_policy(forecast, horizon=horizon, service_level=service_level,
                           safety_factor=safety_factor, reclassify_abc=reclassify_abc,
                           name="storeops", lines_log=lines_log, forecast_log=forecast_log)


def seasonal_naive_forecast(history: pl.DataFrame, horizon: int, *, season_length: int = 7,
                            level: tuple[int, ...] = (80, 95),
                            promotions: pl.DataFrame | None = None,
                            n_jobs: int = 1) -> pl.DataFrame:
    """Seasonal naive forecast (the last season repeated) with statsforecast's intervals.

    Fitted, as in `forecasting.backtest`, on the same censored baseline as
    `forecast_demand` (stockout and promotion days replaced by `censor_demand`'s
    estimate, last 364 days) and lifted by the same promotion uplift, so a comparison
    with `forecast_demand` isolates the choice of model. Intervals: statsforecast's
    SeasonalNaive intervals (normal, from the in-sample seasonal differences, widening
    with each further season). Same output columns as `forecast_demand`.
    """
    import warnings

    from statsforecast import StatsForecast
    from statsforecast.models import Naive, SeasonalNaive

    from forecasting.demand import apply_promotions, finish, output_schema, validate_promotions
    from forecasting.history import (
        DAILY,
        FIT_PERIODS,
        censor_demand,
        classify_series,
        last_periods,
        measure_uplift,
        prepare_panel,
        validate_history,
    )

    level = tuple(level)
    frame = validate_history(history)
    if frame.is_empty():
        return pl.DataFrame(schema=output_schema(pl.Date, level))
    panel = prepare_panel(frame, DAILY, season_length)
    measured = measure_uplift(panel)
    kinds = classify_series(last_periods(panel, FIT_PERIODS["daily"]), 2 * season_length)
    panel = last_periods(censor_demand(panel, kinds), FIT_PERIODS["daily"])
    train = panel.select("unique_id", "ds", pl.col("y_baseline").alias("y"))
    sf = StatsForecast(models=[SeasonalNaive(season_length)], freq=DAILY.every, n_jobs=n_jobs,
                       fallback_model=Naive())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        wide = sf.forecast(df=train, h=horizon, level=list(level))
    name = "SeasonalNaive"
    forecast = wide.select(
        "unique_id", "ds", pl.lit(name).alias("model"), pl.col(name).alias("yhat"),
        *(pl.col(f"{name}-{side}-{lvl}").alias(f"{side}_{lvl}")
          for lvl in level for side in ("lo", "hi")),
    )
    planned = validate_promotions(promotions, pl.Date)
    forecast = apply_promotions(forecast, planned, measured, level)
    return finish(forecast, level).sort("unique_id", "ds")


def seasonal_naive_policy(*, horizon: int = 56, season_length: int = 7,
                          service_level: dict[str, float] | None = None,
                          use_promotions: bool = True, reclassify_abc: bool = True,
                          lines_log: list[pl.DataFrame] | None = None) -> Policy:
    """`reorder_suggestions` fed by `seasonal_naive_forecast` instead of `forecast_demand`."""

    def forecast(history: pl.DataFrame, h: int, promotions: pl.DataFrame) -> pl.DataFrame:
        return seasonal_naive_forecast(history, h, season_length=season_length,
                                       promotions=promotions if use_promotions else None)

    return forecast_policy(forecast, horizon=horizon, service_level=service_level,
                           reclassify_abc=reclassify_abc, name="seasonal_naive",
                           lines_log=lines_log)


# --------------------------------------------------------------------------- safety stock


def _cumulative_at(cumulative: pl.DataFrame, keys: pl.DataFrame, on: str) -> pl.Series:
    """Cumulative demand of each row's sku through the date in column `on` (0 before)."""
    found = keys.with_row_index("_row").sort("sku", on).join_asof(
        cumulative.sort("sku", "date"), left_on=on, right_on="date", by="sku",
        strategy="backward", check_sortedness=False)
    return found.sort("_row")["cum"].fill_null(0.0)


def review_shortfall(lines: pl.DataFrame, demand: pl.DataFrame, terms: pl.DataFrame, *,
                     end: date, daily: pl.DataFrame | None = None) -> pl.DataFrame:
    """Per review line of a forecast policy, whether the review cycle ran short.

    A review cycle "runs short" (the complement of the cycle service level of an (R, S)
    order-up-to system, Silver, Pyke & Peterson ch. 7) when the true demand over the
    protection period P = lead time + order cycle, days as_of + 1 .. as_of + ceil(P),
    exceeds the order-up-to level the policy computed at that review: stock raised to
    that level would then have run out before an order placed at the next review could
    arrive. This is what the safety stock promises to hold to 1 - service level, and it
    does not depend on whether an order was placed, nor on case packs or MOQs.

    Args:
        lines: the `lines_log` of `forecast_policy`: `sku, as_of, abc_class,
            lead_time_days, order_up_to, safety_stock` (units).
        demand: true demand `sku, date, demand_units` (a missing SKU-day is 0).
        terms: `sku` and optionally `order_cycle_days` (default 7, as reorder_suggestions).
        end: the last day with demand; reviews whose protection period runs past it are
            left out.
        daily: optionally the replay's `SimulationResult.daily`; adds the realised
            measure `stockout_in_cycle`: a day with unmet demand in as_of + L + 1 ..
            as_of + L + R (stated lead time L, order cycle R), the days an order placed at
            this review has to cover before one placed at the next review can land.

    Returns:
        One row per line kept: `sku, as_of, abc_class, protection_days, forecast_demand`
        (order_up_to - safety_stock: the forecast over P), `safety_stock, order_up_to,
        demand_over_protection, short` (demand_over_protection > order_up_to) and, with
        `daily`, `stockout_in_cycle`.
    """
    _require(lines, "lines", ["sku", "as_of", "abc_class", "lead_time_days", "order_up_to",
                              "safety_stock"])
    _require(demand, "demand", ["sku", "date", "demand_units"])
    _require(terms, "terms", ["sku"])
    cycle = terms.select(pl.col("sku").cast(pl.Utf8), (
        pl.col("order_cycle_days") if "order_cycle_days" in terms.columns else pl.lit(None))
        .cast(pl.Float64).fill_null(7.0).alias("order_cycle_days"))
    rows = (
        lines.select(pl.col("sku").cast(pl.Utf8), pl.col("as_of").cast(pl.Date),
                     pl.col("abc_class").cast(pl.Utf8),
                     pl.col("lead_time_days", "order_up_to", "safety_stock").cast(pl.Float64))
        .join(cycle, on="sku", how="left")
        .with_columns(pl.col("order_cycle_days").fill_null(7.0))
        .with_columns((pl.col("lead_time_days") + pl.col("order_cycle_days")).ceil()
                      .cast(pl.Int64).alias("protection_days"))
        .with_columns((pl.col("as_of") + pl.duration(days=pl.col("protection_days")))
                      .alias("until"))
        .filter(pl.col("until") <= pl.lit(end))
    )
    cumulative = (demand.select(pl.col("sku").cast(pl.Utf8), pl.col("date").cast(pl.Date),
                                pl.col("demand_units").cast(pl.Float64))
                  .group_by("sku", "date").agg(pl.col("demand_units").sum()).sort("sku", "date")
                  .with_columns(pl.col("demand_units").cum_sum().over("sku").alias("cum"))
                  .select("sku", "date", "cum"))
    out = rows.with_columns(
        (_cumulative_at(cumulative, rows.select("sku", "until"), "until")
         - _cumulative_at(cumulative, rows.select("sku", "as_of"), "as_of"))
        .alias("demand_over_protection"),
        (pl.col("order_up_to") - pl.col("safety_stock")).alias("forecast_demand"),
    ).with_columns((pl.col("demand_over_protection") > pl.col("order_up_to")).alias("short"))
    columns = ["sku", "as_of", "abc_class", "protection_days", "forecast_demand",
               "safety_stock", "order_up_to", "demand_over_protection", "short"]
    if daily is not None:
        _require(daily, "daily", ["sku", "date", "lost_units"])
        lost = (daily.filter(pl.col("lost_units") > 0)
                .select(pl.col("sku").cast(pl.Utf8), pl.col("date").cast(pl.Date)))
        window = out.select(
            "sku", "as_of",
            (pl.col("as_of") + pl.duration(days=pl.col("lead_time_days").round(0)
                                           .cast(pl.Int64))).alias("first"),
            (pl.col("as_of") + pl.duration(days=(pl.col("lead_time_days")
                                                 + pl.col("order_cycle_days")).round(0)
                                           .cast(pl.Int64))).alias("last"),
        )
        hit = (window.join(lost, on="sku")
               .filter((pl.col("date") > pl.col("first")) & (pl.col("date") <= pl.col("last")))
               .select("sku", "as_of").unique().with_columns(pl.lit(True).alias("hit")))
        out = out.join(hit, on=["sku", "as_of"], how="left").with_columns(
            pl.col("hit").fill_null(False).alias("stockout_in_cycle"))
        columns.append("stockout_in_cycle")
    return out.select(columns).sort("as_of", "sku")


def _nominal(classes: pl.Series, service_level: dict[str, float] | None) -> np.ndarray:
    from forecasting.policy import DEFAULT_SERVICE_LEVEL

    levels = {**DEFAULT_SERVICE_LEVEL, **(service_level or {})}
    return 1 - np.array([levels.get(c, levels["C"]) for c in classes.to_list()], dtype=float)


def shortfall_by_class(shortfall: pl.DataFrame, *,
                       safety_factor: dict[str, float] | None = None,
                       service_level: dict[str, float] | None = None) -> pl.DataFrame:
    """Share of review cycles that ran short per ABC class, against the nominal share.

    shortfall: `review_shortfall`'s rows. `safety_factor` rescales the recorded safety
    stock per class (1 for a class not named) before comparing with demand, to read
    what another safety stock would have given on the same forecasts.

    Returns `abc_class, sku_reviews, short_share, nominal` (1 - service level of the
    class, `service_level` merged over reorder_suggestions' defaults), `mean_safety_stock`
    (units, rescaled) and, when the rows have it, `stockout_in_cycle_share`.
    """
    _require(shortfall, "shortfall", ["abc_class", "forecast_demand", "safety_stock",
                                      "demand_over_protection"])
    factors = safety_factor or {}
    frame = shortfall.with_columns(
        (pl.col("safety_stock") * pl.col("abc_class").replace_strict(
            factors, default=1.0, return_dtype=pl.Float64)).alias("scaled"),
        pl.Series("nominal", _nominal(shortfall["abc_class"], service_level)),
    )
    extra = ([pl.col("stockout_in_cycle").mean().alias("stockout_in_cycle_share")]
             if "stockout_in_cycle" in frame.columns else [])
    return frame.group_by("abc_class").agg(
        pl.len().alias("sku_reviews"),
        (pl.col("demand_over_protection") > pl.col("forecast_demand") + pl.col("scaled"))
        .mean().alias("short_share"),
        pl.col("nominal").first(),
        pl.col("scaled").mean().alias("mean_safety_stock"),
        *extra,
    ).sort("abc_class")


def fit_safety_factor(shortfall: pl.DataFrame, *,
                      service_level: dict[str, float] | None = None,
                      max_factor: float = 4.0) -> dict[str, float]:
    """Per ABC class, the multiplier k on the recorded safety stock at which the share of
    review cycles that ran short equals the nominal 1 - service level.

    A cycle runs short at k when demand_over_protection > forecast_demand + k x
    safety_stock; the share falls as k grows, and k is read off the empirical quantile
    of (demand - forecast) / safety_stock (cycles without safety stock are short or not
    whatever k). k is bounded to [0, max_factor]: max_factor when even that leaves too
    many short cycles, 0 when none are short without any safety stock. Fit it on one
    period (or store) and check it on another: the fit is exact on its own data.
    Multiply by the factor the lines were computed with (1 by default) to get the
    `safety_factor` of reorder_suggestions.
    """
    _require(shortfall, "shortfall", ["abc_class", "forecast_demand", "safety_stock",
                                      "demand_over_protection"])
    if max_factor <= 0:
        raise ValueError(f"max_factor must be > 0, got {max_factor!r}")
    out: dict[str, float] = {}
    for (cls,), part in shortfall.group_by("abc_class", maintain_order=True):
        excess = (part["demand_over_protection"] - part["forecast_demand"]).to_numpy()
        safety = part["safety_stock"].to_numpy()
        alpha = float(_nominal(pl.Series([cls]), service_level)[0])
        fixed_short = int(((safety <= 0) & (excess > 0)).sum())
        ratio = excess[safety > 0] / safety[safety > 0]
        allowed = alpha * len(part) - fixed_short  # short cycles k may still leave
        if ratio.size == 0:
            k = 1.0
        elif allowed <= 0:
            k = max_factor
        elif allowed >= (ratio > 0).sum():
            k = 0.0
        else:
            k = float(np.quantile(ratio, 1 - allowed / ratio.size))
        out[cls] = round(float(np.clip(k, 0.0, max_factor)), 4)
    return dict(sorted(out.items()))


def never_order(review: Review) -> pl.DataFrame:
    """A policy that orders nothing (the stock simply runs down)."""
    return pl.DataFrame(schema={"sku": pl.Utf8, "qty": pl.Int64})


__all__ = [
    "Policy",
    "Review",
    "SimulationResult",
    "abc_classes",
    "average_daily_sales",
    "due_for_order",
    "fit_safety_factor",
    "forecast_policy",
    "min_max_policy",
    "never_order",
    "recorded_forecasts",
    "review_shortfall",
    "seasonal_naive_forecast",
    "seasonal_naive_policy",
    "shortfall_by_class",
    "simulate_inventory",
    "simulation_metrics",
    "storeops_policy",
]

