"""Support tickets: volume follows orders, fulfilment delays and returns.

Categories: order status ("where is my order"), return/refund, product question (some
from people who never ordered), complaint, other. The store moved from Zendesk to Gorgias
part-way through the window; both exports exist.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from orchestration.demo import calendar as cal
from orchestration.demo.calendar import DAY, HOUR
from orchestration.demo.orders import NEVER, Orders

CATEGORIES = ["order_status", "return_refund", "product_question", "complaint", "other"]

# Tag sets per category (the team was not perfectly consistent).
TAG_SETS = [
    [["wismo"], ["order-status"], ["wismo", "shipping"], ["order-status", "shipping-delay"]],
    [["return"], ["refund"], ["return", "refund"], ["returns", "exchange"]],
    [["product-question"], ["pre-sale"], ["product-question", "sizing"]],
    [["complaint"], ["complaint", "urgent"], ["damaged"]],
    [["general"], [], ["account"]],
]
ALL_TAGS = sorted({t for sets in TAG_SETS for s in sets for t in s})

SUBJECTS = [  # (prefix, suffix) around the order name, or whole subjects
    [
        ("Where is my order ", "?"),
        ("Order ", " not arrived yet"),
        ("Tracking for order ", ""),
        ("Has my order ", " shipped?"),
        ("Shipping update on ", ""),
        ("WISMO ", ""),
    ],
    [
        ("Return request for order ", ""),
        ("Refund for ", "?"),
        ("I want to return my order ", ""),
        ("Exchange size - order ", ""),
        ("Damaged item in order ", ""),
    ],
    [
        ("Question about ", ""),
        ("Is the ", " back in stock?"),
        ("Sizing question - ", ""),
        ("What's in the ", "?"),
    ],
    [
        "Very disappointed",
        "Item arrived damaged",
        "Wrong item received",
        "Terrible delivery experience",
        "Charged twice?",
        "Package left in the rain",
    ],
    [
        "Change my address",
        "Update my email address",
        "Wholesale inquiry",
        "Collaboration request",
        "Unsubscribe me please",
        "Gift card question",
        "Do you ship to Canada?",
    ],
]


@dataclass
class Tickets:
    category: np.ndarray
    created: np.ndarray  # UTC seconds
    order_number: np.ndarray  # -1 none
    customer: np.ndarray  # -1 = someone who never ordered
    prospect: np.ndarray  # index of the non-customer requester (when customer == -1)
    subject_kind: np.ndarray
    product: np.ndarray  # product index for product questions
    tag_set: np.ndarray
    first_reply_min: np.ndarray
    resolution_min: np.ndarray
    replies: np.ndarray
    reopens: np.ndarray
    csat: np.ndarray  # Zendesk: 0 Unoffered, 1 Offered, 2 Good, 3 Bad; Gorgias: 0 null, 1..5
    channel: np.ndarray
    priority: np.ndarray
    agent: np.ndarray
    email_variant: np.ndarray  # 0 as is, 1 title case, 2 upper, 3 trailing space, 4 leading space

    @property
    def n(self) -> int:
        return self.created.size


def simulate_tickets(
    rng: np.random.Generator,
    *,
    orders: Orders,
    window: tuple[int, int],
    spike: tuple[int, int, float],
    product_weight: np.ndarray,
    n_agents: int,
) -> Tickets:
    """Tickets created inside the window (day numbers, inclusive)."""
    w0, w1 = window
    real = ~orders.is_test & (orders.customer >= 0)
    n = orders.n
    delay_days = np.where(
        orders.fulfilled_full < NEVER, (orders.fulfilled_full - orders.created) / DAY, 10.0
    )
    parts: list[dict] = []

    # Where is my order: more likely the longer fulfilment takes.
    p_wismo = np.clip(0.07 + 0.05 * np.maximum(delay_days - 2, 0), 0, 0.4)
    ask = real & (orders.source != 1) & (orders.cancelled == NEVER) & (rng.random(n) < p_wismo)
    idx = np.flatnonzero(ask)
    created = orders.created[idx] + (rng.uniform(1.5, 8.0, idx.size) * DAY).astype(np.int64)
    parts.append({"category": 0, "idx": idx, "created": created})
    # Carrier delay: order-status tickets reach `mult` times their usual level on the
    # spike days (the usual level: the two weeks before).
    s0, s1, mult = spike
    t_day = cal.utc_to_local(created) // DAY
    usual = ((t_day >= s0 - 14) & (t_day < s0)).sum() / 14.0
    base_on_spike = np.bincount((t_day - s0)[(t_day >= s0) & (t_day <= s1)], minlength=s1 - s0 + 1)
    extra_n = rng.poisson(np.maximum(mult * max(usual, 1.0) - base_on_spike, 0.0))
    e_day = np.repeat(np.arange(s0, s1 + 1), extra_n)
    pool_lo = np.searchsorted(orders.local_day, e_day - 10)
    pool_hi = np.searchsorted(orders.local_day, e_day)
    pick = pool_lo + (rng.random(e_day.size) * np.maximum(pool_hi - pool_lo, 1)).astype(np.int64)
    pick = np.minimum(pick, n - 1)
    e_created = cal.local_to_utc(e_day * DAY + 8 * HOUR + rng.integers(0, 14 * HOUR, e_day.size))
    ok = real[pick]
    parts.append({"category": 0, "idx": pick[ok], "created": e_created[ok]})

    # Returns and refunds: most returns start with a ticket a few days before the refund.
    ask = real & (orders.refunded < NEVER) & (rng.random(n) < 0.85)
    idx = np.flatnonzero(ask)
    created = orders.refunded[idx] - (rng.uniform(1, 6, idx.size) * DAY).astype(np.int64)
    created = np.maximum(created, orders.fulfilled_full[idx] + DAY)
    parts.append({"category": 1, "idx": idx, "created": created})
    # Return questions that end without a refund (policy, exchanges, changed minds).
    ask = (
        real
        & (orders.fulfilled_full < NEVER)
        & (orders.refunded == NEVER)
        & (rng.random(n) < 0.025)
    )
    idx = np.flatnonzero(ask)
    parts.append(
        {
            "category": 1,
            "idx": idx,
            "created": orders.fulfilled_full[idx]
            + (rng.uniform(2, 20, idx.size) * DAY).astype(np.int64),
        }
    )
    ask = real & (orders.cancelled < NEVER) & (rng.random(n) < 0.3)
    idx = np.flatnonzero(ask)
    parts.append(
        {
            "category": 1,
            "idx": idx,
            "created": orders.cancelled[idx] + rng.integers(600, 2 * DAY, idx.size),
        }
    )

    # Complaints: after delivery, more when fulfilment was slow.
    p_c = 0.018 + 0.03 * (delay_days >= 4)
    ask = real & (orders.fulfilled_full < NEVER) & (rng.random(n) < p_c)
    idx = np.flatnonzero(ask)
    parts.append(
        {
            "category": 3,
            "idx": idx,
            "created": orders.fulfilled_full[idx]
            + (rng.uniform(2, 6, idx.size) * DAY).astype(np.int64),
        }
    )

    # Product questions and other contacts: proportional to the day's orders.
    days = np.arange(w0, w1 + 1)
    in_window = real & (orders.local_day >= w0) & (orders.local_day <= w1)
    per_day = np.bincount(orders.local_day[in_window] - w0, minlength=days.size).astype(float)
    smooth = np.convolve(np.pad(per_day, 3, mode="edge"), np.ones(7) / 7, mode="valid")
    for cat, rate in ((2, 0.055), (4, 0.035)):
        k = rng.poisson(np.maximum(smooth, 0.5) * rate)
        d = np.repeat(days, k)
        t = cal.local_to_utc(d * DAY + 7 * HOUR + rng.integers(0, 16 * HOUR, d.size))
        parts.append({"category": cat, "idx": np.full(d.size, -1), "created": t})

    category = np.concatenate([np.full(p["idx"].size, p["category"]) for p in parts])
    order_idx = np.concatenate([p["idx"] for p in parts])
    created = np.concatenate([p["created"] for p in parts])
    local_day = cal.utc_to_local(created) // DAY
    keep = (local_day >= w0) & (local_day <= w1)
    category, order_idx, created = category[keep], order_idx[keep], created[keep]
    o = np.lexsort((order_idx, category, created))
    category, order_idx, created = category[o], order_idx[o], created[o]
    m = created.size

    # Who asks: the order's customer, or for questions a customer or a prospect.
    customer = np.where(order_idx >= 0, orders.customer[np.maximum(order_idx, 0)], -1)
    from_customer = (order_idx < 0) & (rng.random(m) < np.where(category == 2, 0.6, 0.85))
    window_customers = np.unique(orders.customer[in_window])
    rand_cust = (
        window_customers[rng.integers(0, max(window_customers.size, 1), m)]
        if window_customers.size
        else np.full(m, -1)
    )
    customer = np.where(from_customer, rand_cust, customer)
    prospect = np.where(customer < 0, np.arange(m), -1)
    order_number = np.where(
        (order_idx >= 0) & (category <= 1), orders.number[np.maximum(order_idx, 0)], -1
    )
    subject_kind = (rng.random(m) * np.array([len(x) for x in SUBJECTS])[category]).astype(np.int64)
    pw = product_weight / product_weight.sum()
    product = rng.choice(pw.size, m, p=pw)
    tag_set = (rng.random(m) * np.array([len(TAG_SETS[c]) for c in range(5)])[category]).astype(
        np.int64
    )

    # Service levels: slower on weekends and during the carrier-delay spike.
    local = cal.utc_to_local(created)
    wd = cal.weekday(local // DAY)
    weekend = wd >= 5
    on_spike = (local // DAY >= s0) & (local // DAY <= s1)
    first_reply = (
        rng.lognormal(np.log(85), 0.9, m)
        * np.where(weekend, 3.5, 1.0)
        * np.where(on_spike, 2.2, 1.0)
    )
    first_reply = np.maximum(1, np.round(first_reply)).astype(np.int64)
    resolution = first_reply + np.round(
        rng.lognormal(np.log(np.where(category == 3, 1500, 500)), 1.0, m)
    ).astype(np.int64)
    replies = 1 + rng.poisson(np.where(category == 3, 2.5, 1.2))
    reopens = rng.poisson(np.where(category == 3, 0.35, 0.1))
    unhappy = (category == 3) | (first_reply > 600)
    u = rng.random(m)
    csat_z = np.where(
        u < 0.40,
        1,
        np.where(u < 0.62, 0, np.where(rng.random(m) < np.where(unhappy, 0.35, 0.12), 3, 2)),
    )
    score_p = np.where(unhappy[:, None], [0.25, 0.2, 0.2, 0.2, 0.15], [0.04, 0.04, 0.1, 0.25, 0.57])
    cum = np.cumsum(score_p, axis=1)
    score = 1 + (rng.random(m)[:, None] > cum).sum(axis=1)
    csat_g = np.where(rng.random(m) < 0.45, 0, np.minimum(score, 5))
    csat = np.stack([csat_z, csat_g], axis=1)
    channel = rng.choice(4, m, p=[0.55, 0.22, 0.17, 0.06])
    priority = np.where(
        category == 3, np.where(rng.random(m) < 0.4, 2, 1), np.where(rng.random(m) < 0.1, 0, 1)
    )
    priority = np.where(rng.random(m) < 0.01, 3, priority)
    agent = rng.integers(0, n_agents, m)
    v = rng.random(m)
    email_variant = np.where(v < 0.9, 0, 1 + (rng.random(m) * 4).astype(np.int64))
    return Tickets(
        category=category,
        created=created,
        order_number=order_number,
        customer=customer,
        prospect=prospect,
        subject_kind=subject_kind,
        product=product,
        tag_set=tag_set,
        first_reply_min=first_reply,
        resolution_min=resolution,
        replies=replies,
        reopens=reopens,
        csat=csat,
        channel=channel,
        priority=priority,
        agent=agent,
        email_variant=email_variant,
    )
