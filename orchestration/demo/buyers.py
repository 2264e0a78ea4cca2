"""A second customer base whose buyers do not follow BG/NBD, so churn models are not tuned
to the one process the demo store simulates (issue 16).

The demo store's customers (orchestration/demo/customers.py) buy at a gamma-distributed
Poisson rate and drop out after a purchase with a beta-distributed probability: the
BG/NBD story (Fader, Hardie & Lee 2005), which flatters BG/NBD and any model that learns
it. Here every buyer follows one of four other processes:

- `cycle`: replenishes on a fixed cycle of 14-90 days (their own), each gap jittered by
  about 8% and now and then a cycle skipped (product left over); they stop at a
  Weibull-distributed lifetime (shape 1.5: the hazard rises with age, unlike BG/NBD's
  per-purchase coin), whatever their purchases.
- `seasonal`: gift buyers who buy around one or two dates a year (mid-December for most,
  plus Valentine's, Mother's Day or a personal date), +-5 days; each occasion of an active
  year bought with probability 0.85, and after each year they stop with probability 0.3.
- `subscription`: a monthly cadence (30 days +-1), a cancellation hazard of 15% a month
  in the first two months and 5% after, and a skipped month now and then (a pause).
- `one_off`: one order; 8% buy once more at a random later day (no rate behind it).

Acquisition is uniform over the period. Order values are per-customer gamma means with
noise (subscriptions: a fixed plan price). `has_discount` and `channel` are drawn
independently of everything else: pure noise for a churn model to ignore.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import polars as pl

BUYER_TYPES = ("cycle", "seasonal", "subscription", "one_off")
DEFAULT_MIX = {"cycle": 0.30, "seasonal": 0.15, "subscription": 0.15, "one_off": 0.40}
CYCLE_DAYS = np.array([14, 21, 30, 45, 60, 90])
CYCLE_SHARE = np.array([0.10, 0.15, 0.30, 0.20, 0.15, 0.10])
CYCLE_JITTER = 0.08  # sd of a gap, as a share of the cycle
CYCLE_SKIP = 0.10  # chance a cycle is skipped (the gap doubles)
CYCLE_LIFETIME_SHAPE, CYCLE_LIFETIME_SCALE = 1.5, 420.0  # Weibull, days
GIFT_DAYS_OF_YEAR = (346, 41, 128)  # 12 Dec, 10 Feb, 8 May (non-leap day of year, 1-based)
GIFT_JITTER_DAYS = 5.0
GIFT_BUY_PROB = 0.85
GIFT_STOP_PER_YEAR = 0.30
SUBSCRIPTION_DAYS = 30
SUBSCRIPTION_CANCEL_EARLY, SUBSCRIPTION_CANCEL_LATE = 0.15, 0.05  # per month
SUBSCRIPTION_PAUSE = 0.05
SUBSCRIPTION_PRICES = np.array([29.0, 49.0])
ONE_OFF_RETURN = 0.08
CHANNELS = ("meta", "google", "tiktok", "email", "organic", "direct")


@dataclass(frozen=True)
class Buyers:
    """customers: `customer_id, buyer_type, cycle_days` (null unless cycle/subscription),
    `acquired_on` (date of the first order). orders: `order_id, customer_id, order_date,
    net_revenue, gross_revenue, refunds, has_discount, channel, buyer_type`, one row per
    order (at most one per customer and day), sorted by date and customer; money in the
    store currency. The orders frame is what `models.churn.score_customers` reads."""

    customers: pl.DataFrame
    orders: pl.DataFrame


def _cycle_days(rng: np.random.Generator, acquired: np.ndarray, cycle: np.ndarray,
                days: int) -> tuple[np.ndarray, np.ndarray]:
    """(customer index, day) of cycle buyers' orders."""
    n = acquired.size
    steps = days // int(CYCLE_DAYS.min()) + 2
    gaps = cycle[:, None] * (1.0 + CYCLE_JITTER * rng.standard_normal((n, steps)))
    gaps = np.where(rng.random((n, steps)) < CYCLE_SKIP, 2.0 * gaps, gaps)
    offsets = np.concatenate([np.zeros((n, 1)), np.cumsum(np.maximum(np.rint(gaps), 1.0), axis=1)],
                             axis=1)
    lifetime = CYCLE_LIFETIME_SCALE * rng.weibull(CYCLE_LIFETIME_SHAPE, n)
    day = acquired[:, None] + offsets
    keep = (offsets <= lifetime[:, None]) | (offsets == 0)
    keep &= day < days
    who = np.broadcast_to(np.arange(n)[:, None], day.shape)
    return who[keep], day[keep].astype(int)


def _seasonal_days(rng: np.random.Generator, acquired: np.ndarray, start: date,
                   days: int) -> tuple[np.ndarray, np.ndarray]:
    """(customer index, day) of gift buyers' orders: occasions on or after acquisition."""
    n = acquired.size
    first_year, last_year = start.year - 1, (start + timedelta(days=days)).year + 1
    years = np.arange(first_year, last_year + 1)
    # Every buyer has mid-December; 40% have a second date.
    second = np.where(rng.random(n) < 0.4, rng.choice([1, 2, 3], n), 0)
    personal = rng.integers(1, 366, n)
    anchors = np.column_stack([
        np.full(n, GIFT_DAYS_OF_YEAR[0]),
        np.select([second == 1, second == 2, second == 3],
                  [GIFT_DAYS_OF_YEAR[1], GIFT_DAYS_OF_YEAR[2], personal], default=-1),
    ])
    year_start = np.array([(date(int(y), 1, 1) - start).days for y in years])
    # occasion day (sim days) per customer, year, anchor
    occasion = (year_start[None, :, None] + anchors[:, None, :] - 1
                + np.rint(GIFT_JITTER_DAYS * rng.standard_normal((n, years.size, 2))))
    valid = (anchors[:, None, :] > 0) & np.ones((n, years.size, 2), bool)
    occasion = np.where(valid, occasion, np.inf)
    # The first order is the first occasion on or after the acquisition day.
    flat = occasion.reshape(n, -1)
    after = np.where(flat >= acquired[:, None], flat, np.inf)
    first = after.min(axis=1)
    first_year_index = np.searchsorted(year_start, first, side="right") - 1
    active_years = rng.geometric(GIFT_STOP_PER_YEAR, n)  # years including the first
    year_index = np.arange(years.size)[None, :, None]
    in_life = ((year_index >= first_year_index[:, None, None])
               & (year_index < (first_year_index + active_years)[:, None, None]))
    bought = rng.random(occasion.shape) < GIFT_BUY_PROB
    keep = valid & in_life & bought & (occasion > first[:, None, None]) & (occasion < days)
    who = np.broadcast_to(np.arange(n)[:, None, None], occasion.shape)
    first_ok = np.isfinite(first) & (first < days)
    customers = np.concatenate([np.flatnonzero(first_ok), who[keep]])
    order_days = np.concatenate([first[first_ok], occasion[keep]]).astype(int)
    return customers, order_days


def _subscription_days(rng: np.random.Generator, acquired: np.ndarray,
                       days: int) -> tuple[np.ndarray, np.ndarray]:
    """(customer index, day) of subscribers' orders."""
    n = acquired.size
    months = days // SUBSCRIPTION_DAYS + 2
    gaps = SUBSCRIPTION_DAYS + rng.integers(-1, 2, (n, months))
    gaps = np.where(rng.random((n, months)) < SUBSCRIPTION_PAUSE, gaps + SUBSCRIPTION_DAYS, gaps)
    offsets = np.concatenate([np.zeros((n, 1)), np.cumsum(gaps, axis=1)], axis=1)
    hazard = np.where(np.arange(months + 1) < 2, SUBSCRIPTION_CANCEL_EARLY, SUBSCRIPTION_CANCEL_LATE)
    # renewals before cancelling: the first renewal month whose coin comes up "cancel"
    cancels = rng.random((n, months + 1)) < hazard[None, :]
    cancels[:, 0] = False  # the first order is always placed
    renewals = np.where(cancels.any(axis=1), cancels.argmax(axis=1), months + 1)
    day = acquired[:, None] + offsets
    keep = (np.arange(months + 1)[None, :] < renewals[:, None]) & (day < days)
    who = np.broadcast_to(np.arange(n)[:, None], day.shape)
    return who[keep], day[keep].astype(int)


def _one_off_days(rng: np.random.Generator, acquired: np.ndarray,
                  days: int) -> tuple[np.ndarray, np.ndarray]:
    n = acquired.size
    again = rng.random(n) < ONE_OFF_RETURN
    later = acquired + 1 + (rng.random(n) * np.maximum(days - 1 - acquired, 0)).astype(int)
    keep = again & (later < days) & (later > acquired)
    return (np.concatenate([np.arange(n), np.flatnonzero(keep)]),
            np.concatenate([acquired, later[keep]]))


def simulate_buyers(customers: int = 20_000, *, start: date = date(2024, 1, 1), days: int = 730,
                    seed: int = 7, mix: dict[str, float] | None = None) -> Buyers:
    """Simulate `customers` buyers over `days` days from `start` (see the module docstring).

    mix: share of each buyer type (keys from BUYER_TYPES, summing to 1; default
    DEFAULT_MIX). Same arguments, same frames: every draw comes from one
    numpy Generator seeded with `seed`. Raises ValueError for an unknown type, shares
    that do not sum to 1, or a non-positive `customers` or `days`.
    """
    mix = dict(DEFAULT_MIX if mix is None else mix)
    unknown = set(mix) - set(BUYER_TYPES)
    if unknown:
        raise ValueError(f"unknown buyer types {sorted(unknown)}: choose from {list(BUYER_TYPES)}")
    if abs(sum(mix.values()) - 1.0) > 1e-9 or min(mix.values()) < 0:
        raise ValueError(f"mix shares must be >= 0 and sum to 1, got {mix}")
    if customers <= 0 or days <= 0:
        raise ValueError("customers and days must be positive")
    rng = np.random.default_rng(seed)
    shares = np.array([mix.get(t, 0.0) for t in BUYER_TYPES])
    kind = rng.choice(len(BUYER_TYPES), customers, p=shares)
    acquired = rng.integers(0, days, customers)
    cycle = np.where(kind == 0, rng.choice(CYCLE_DAYS, customers, p=CYCLE_SHARE),
                     np.where(kind == 2, SUBSCRIPTION_DAYS, 0))

    parts_who, parts_day = [], []
    for index, simulate in enumerate((
            lambda idx: _cycle_days(rng, acquired[idx], cycle[idx].astype(float), days),
            lambda idx: _seasonal_days(rng, acquired[idx], start, days),
            lambda idx: _subscription_days(rng, acquired[idx], days),
            lambda idx: _one_off_days(rng, acquired[idx], days))):
        idx = np.flatnonzero(kind == index)
        if idx.size == 0:
            continue
        who, day = simulate(idx)
        parts_who.append(idx[who])
        parts_day.append(day)
    who = np.concatenate(parts_who)
    day = np.concatenate(parts_day)

    # Per-customer mean order value; subscribers pay their plan's price.
    mean_value = np.select(
        [kind == 0, kind == 1, kind == 2],
        [rng.gamma(5.0, 10.0, customers), rng.gamma(4.0, 20.0, customers),
         rng.choice(SUBSCRIPTION_PRICES, customers)],
        default=rng.gamma(3.0, 18.0, customers))
    noise = np.where(kind[who] == 2, 1.0, rng.lognormal(0.0, 0.15, who.size))
    channel = rng.integers(0, len(CHANNELS), customers)
    customer_frame = pl.DataFrame({
        "customer_index": np.arange(customers),
        "customer_id": [f"b{i:06d}" for i in range(customers)],
        "buyer_type": np.array(BUYER_TYPES)[kind],
        "cycle_days": pl.Series(cycle, dtype=pl.Int64),
        "channel": np.array(CHANNELS)[channel],
    }).with_columns(pl.when(pl.col("cycle_days") > 0).then(pl.col("cycle_days")).alias("cycle_days"))
    orders = (
        pl.DataFrame({"customer_index": who, "day": day,
                      "net_revenue": np.round(mean_value[who] * noise, 2),
                      "has_discount": rng.random(who.size) < 0.2})
        # Two occasions of one customer can land on one day (a gift date and the first
        # order): one order per customer and day, one basket as the store would see it.
        .group_by("customer_index", "day")
        .agg(pl.col("net_revenue").sum().round(2), pl.col("has_discount").any())
        .join(customer_frame, on="customer_index")
        .sort("day", "customer_index")
        .select(
            pl.format("B{}", pl.int_range(1, pl.len() + 1)).alias("order_id"),
            "customer_id",
            (pl.lit(start) + pl.duration(days="day")).cast(pl.Date).alias("order_date"),
            "net_revenue", pl.col("net_revenue").alias("gross_revenue"),
            pl.lit(0.0).alias("refunds"), "has_discount", "channel", "buyer_type")
    )
    acquired_on = orders.group_by("customer_id").agg(pl.col("order_date").min().alias("acquired_on"))
    customer_table = (customer_frame.join(acquired_on, on="customer_id", how="inner")
                      .select("customer_id", "buyer_type", "cycle_days", "acquired_on")
                      .sort("customer_id"))
    return Buyers(customers=customer_table, orders=orders)
