"""Customers and when they buy: a BG/NBD-like process simulated in operational time.

Each customer has a purchase rate (gamma distributed across customers) and drops out
after any purchase with their own probability (beta distributed). Purchases happen in
"operational time", the cumulative daily intensity of the store (weekday, season), and are
mapped back to calendar days through its inverse, so seasonality shapes repeat orders as
well as first ones. A core of regular customers buys on a ~30-day cadence; about 10% of
customers who dropped out come back once after a long gap.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from orchestration.demo.calendar import HOUR_WEIGHTS

if TYPE_CHECKING:
    from orchestration.demo.response import Acquisition

CHANNELS = ["meta", "google", "tiktok", "email", "organic", "direct"]
PAID = [0, 1, 2]
ACQUISITION_SHARE = np.array([0.35, 0.30, 0.10, 0.07, 0.12, 0.06])

P_REGULAR = 0.13  # customers on a consumable cadence
REGULAR_GAP_DAYS = 30.0
RATE_SHAPE, RATE_SCALE = 0.9, 1 / 60.0  # gamma purchase rate (per operational day)
DROP_A, DROP_B = 1.0, 2.0  # beta dropout probability after each purchase
REGULAR_DROP_A, REGULAR_DROP_B = 1.5, 20.0
REACTIVATION_SHARE = 0.10
REACTIVATION_GAP = (150.0, 400.0)


@dataclass
class Customers:
    acq_day: np.ndarray  # sim day of the first order
    channel: np.ndarray  # acquisition channel, index into CHANNELS
    regular: np.ndarray  # bool
    discount_propensity: np.ndarray
    accepts_email: np.ndarray
    accepts_sms: np.ndarray
    first_name: np.ndarray  # indexes into names lists
    last_name: np.ndarray
    email_domain: np.ndarray
    city: np.ndarray
    street_no: np.ndarray
    street: np.ndarray
    apartment: np.ndarray  # 0 = none
    has_phone: np.ndarray
    phone: np.ndarray

    @property
    def n(self) -> int:
        return len(self.acq_day)

    def take(self, keep: np.ndarray) -> Customers:
        return Customers(**{k: v[keep] for k, v in self.__dict__.items()})


@dataclass
class Purchases:
    """Would-be orders, before the checkout bug and stockouts."""

    customer: np.ndarray
    day: np.ndarray  # sim day
    second: np.ndarray  # local second of the day
    is_first: np.ndarray
    is_reactivation: np.ndarray

    def take(self, keep: np.ndarray) -> Purchases:
        return Purchases(**{k: v[keep] for k, v in self.__dict__.items()})


def _purchase_chains(
    rng: np.random.Generator,
    acq_day: np.ndarray,
    regular: np.ndarray,
    intensity: np.ndarray,
    n_days: int,
):
    """Purchase days of every customer: (customer, day, is_first, is_reactivation)."""
    n = len(acq_day)
    cum = np.concatenate([[0.0], np.cumsum(intensity)])
    horizon = cum[n_days]
    rate = np.where(
        regular,
        1.0 / (REGULAR_GAP_DAYS * rng.lognormal(0.0, 0.12, n)),
        rng.gamma(RATE_SHAPE, RATE_SCALE, n),
    )
    rate = np.clip(rate, 1 / 600, 1 / 8)
    drop = np.where(
        regular, rng.beta(REGULAR_DROP_A, REGULAR_DROP_B, n), rng.beta(DROP_A, DROP_B, n)
    )
    shape = np.where(regular, 6.0, 1.0)
    tau0 = cum[acq_day] + rng.random(n) * intensity[acq_day]
    cust_parts, tau_parts = [np.arange(n)], [tau0]
    last_tau = tau0.copy()
    dropped = rng.random(n) < drop
    idx = np.flatnonzero(~dropped)
    tau = tau0[idx]
    while idx.size:
        tau = tau + rng.gamma(shape[idx], 1.0 / (rate[idx] * shape[idx]))
        inside = tau < horizon
        idx, tau = idx[inside], tau[inside]
        cust_parts.append(idx)
        tau_parts.append(tau)
        last_tau[idx] = tau
        leaves = rng.random(idx.size) < drop[idx]
        dropped[idx[leaves]] = True
        idx, tau = idx[~leaves], tau[~leaves]
    back = np.flatnonzero(dropped & (rng.random(n) < REACTIVATION_SHARE))
    tau_back = last_tau[back] + rng.uniform(*REACTIVATION_GAP, back.size)
    inside = tau_back < horizon
    back, tau_back = back[inside], tau_back[inside]
    customer = np.concatenate(cust_parts + [back])
    tau = np.concatenate(tau_parts + [tau_back])
    day = np.searchsorted(cum, tau, side="right") - 1
    is_first = np.zeros(customer.size, dtype=bool)
    is_first[:n] = True
    is_react = np.zeros(customer.size, dtype=bool)
    is_react[customer.size - back.size :] = True
    return customer, np.minimum(day, n_days - 1), is_first, is_react


def simulate_customers(
    rng: np.random.Generator,
    *,
    intensity: np.ndarray,
    growth: np.ndarray,
    n_days: int,
    target_orders: float,
    target_from: int,
    min_orders_from: int,
    min_orders_per_day: int,
    n_skus_weight: np.ndarray,
    consumable: np.ndarray,
    cities_weight: np.ndarray,
    n_first: int,
    n_last: int,
    n_streets: int,
    acquisition: Acquisition | None = None,
    channel_rng: np.random.Generator | None = None,
) -> tuple[Customers, Purchases, np.ndarray]:
    """Acquire customers day by day and simulate their purchases.

    intensity: store intensity per sim day (season, no trend); growth: acquisition trend.
    target_orders: wanted would-be orders on sim days >= target_from (calibrated by
    simulating once and thinning customers; a second pass only if the first fell short).
    Returns customers, purchases sorted by (day, second), and favourites (n, 3) SKU indexes.

    acquisition (with channel_rng): acquisition channels follow the paid platforms'
    planted response to spend (orchestration.demo.response); without it, channels are
    drawn from ACQUISITION_SHARE.
    """
    acq_rate = intensity[:n_days] * growth[:n_days]
    scale_a = target_orders / (acq_rate[target_from:].sum() * 3.2)  # first guess
    if acquisition is not None:
        scale_a /= acquisition.expected_keep(target_from)
    channel = np.zeros(0, dtype=np.int64)
    for _attempt in range(3):
        new_per_day = rng.poisson(acq_rate * scale_a)
        acq_day = np.repeat(np.arange(n_days), new_per_day)
        if acquisition is not None:
            assert channel_rng is not None
            channel, acquired = acquisition.draw(channel_rng, acq_day)
            acq_day, channel = acq_day[acquired], channel[acquired]
        regular = rng.random(acq_day.size) < P_REGULAR
        customer, day, is_first, is_react = _purchase_chains(
            rng, acq_day, regular, intensity, n_days
        )
        measured = float((day >= target_from).sum())
        ratio = target_orders / max(measured, 1.0)
        if ratio <= 1.0:
            break
        scale_a *= ratio * 1.1
    keep_customer = rng.random(acq_day.size) < min(ratio, 1.0)
    if acquisition is not None:  # the expected would-be new customers per day, for the answer key
        acquisition.would_be_per_day = acq_rate * scale_a * min(ratio, 1.0)
    new_index = np.cumsum(keep_customer) - 1
    keep_order = keep_customer[customer]
    customer, day = new_index[customer[keep_order]], day[keep_order]
    is_first, is_react = is_first[keep_order], is_react[keep_order]
    acq_day, regular = acq_day[keep_customer], regular[keep_customer]
    if acquisition is not None:
        channel = channel[keep_customer]

    # A tiny store still takes a few orders every day: one-off customers fill thin days.
    counts = np.bincount(day, minlength=n_days)
    short = np.maximum(min_orders_per_day - counts, 0)
    short[:min_orders_from] = 0
    extra_day = np.repeat(np.arange(n_days), short)
    if extra_day.size:
        extra_ids = acq_day.size + np.arange(extra_day.size)
        acq_day = np.concatenate([acq_day, extra_day])
        regular = np.concatenate([regular, np.zeros(extra_day.size, dtype=bool)])
        customer = np.concatenate([customer, extra_ids])
        day = np.concatenate([day, extra_day])
        is_first = np.concatenate([is_first, np.ones(extra_day.size, dtype=bool)])
        is_react = np.concatenate([is_react, np.zeros(extra_day.size, dtype=bool)])
        if acquisition is not None:  # one-off customers who found the store themselves
            channel = np.concatenate([channel, np.full(extra_day.size, 4)])

    n = acq_day.size
    hour = rng.choice(24, customer.size, p=HOUR_WEIGHTS)
    second = hour * 3600 + rng.integers(0, 3600, customer.size)
    order = np.lexsort((customer, second, day))
    purchases = Purchases(
        customer=customer[order],
        day=day[order],
        second=second[order],
        is_first=is_first[order],
        is_reactivation=is_react[order],
    )

    if acquisition is None:
        channel = rng.choice(len(CHANNELS), n, p=ACQUISITION_SHARE)
    accepts_email = rng.random(n) < np.where(channel == 3, 1.0, 0.62)
    customers = Customers(
        acq_day=acq_day,
        channel=channel,
        regular=regular,
        discount_propensity=rng.beta(1.2, 3.5, n),
        accepts_email=accepts_email,
        accepts_sms=accepts_email & (rng.random(n) < 0.3),
        first_name=rng.integers(0, n_first, n),
        last_name=rng.integers(0, n_last, n),
        email_domain=rng.choice(3, n, p=[0.6, 0.2, 0.2]),
        city=rng.choice(len(cities_weight), n, p=cities_weight / cities_weight.sum()),
        street_no=rng.integers(1, 9800, n),
        street=rng.integers(0, n_streets, n),
        apartment=np.where(rng.random(n) < 0.25, rng.integers(1, 40, n), 0),
        has_phone=rng.random(n) < 0.35,
        phone=rng.integers(100, 200, n),
    )

    # Favourite products: the first one is what the first order starts with; regular
    # customers favour consumables.
    w = n_skus_weight / n_skus_weight.sum()
    wc = n_skus_weight * consumable
    wc = wc / wc.sum() if wc.sum() > 0 else w
    fav = rng.choice(w.size, (n, 3), p=w)
    fav_regular = rng.choice(w.size, (n, 3), p=wc)
    fav = np.where(regular[:, None], fav_regular, fav)
    return customers, purchases, fav
