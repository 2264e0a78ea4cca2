"""Paid channels and traffic: campaigns, daily ad platform reports, and sessions.

Platforms report their own conversions, which over-count the store's orders from that
channel (view-through, cross-device, overlapping attribution windows): summed over
platforms they claim about 1.5x the paid orders the store can attribute by UTM.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from orchestration.demo import calendar as cal

PLATFORMS = ["meta", "google", "tiktok"]


@dataclass(frozen=True)
class Campaign:
    platform: int  # index into PLATFORMS (= channel index)
    name: str
    slug: str  # utm_campaign
    group: str  # ad set / ad group
    ad: str
    kind: str  # Google campaign type (Search, Shopping, Performance Max) or objective
    share: float  # of the platform's budget
    efficiency: float  # conversions per dollar relative to the platform average
    ctr: float
    cpm: float  # USD per 1000 impressions
    seasonal: bool = False  # BFCM only


CAMPAIGNS = [
    Campaign(
        0,
        "Prospecting | Broad | Purchase",
        "prospecting_broad",
        "Broad | US 18-65",
        "UGC video - bestsellers",
        "Sales",
        0.34,
        0.85,
        0.009,
        11.0,
    ),
    Campaign(
        0,
        "Prospecting | LAL 2% Purchasers",
        "prospecting_lal2",
        "LAL 2% | US",
        "Carousel - new arrivals",
        "Sales",
        0.22,
        0.9,
        0.010,
        12.0,
    ),
    Campaign(
        0,
        "Retargeting | ATC 7d",
        "retargeting_atc7d",
        "Add to cart 7d",
        "DPA - catalog",
        "Sales",
        0.14,
        2.0,
        0.018,
        16.0,
    ),
    Campaign(
        0,
        "Advantage+ Shopping | Evergreen",
        "asc_evergreen",
        "Advantage+ audience",
        "Founder story video",
        "Sales",
        0.30,
        1.1,
        0.012,
        10.0,
    ),
    Campaign(
        0,
        "BFCM | Sale",
        "bfcm_sale",
        "Broad | US",
        "BFCM 25% off static",
        "Sales",
        0.45,
        1.2,
        0.014,
        15.0,
        seasonal=True,
    ),
    Campaign(
        1, "Brand | Search", "brand_search", "Brand - Exact", "", "Search", 0.12, 2.5, 0.019, 40.0
    ),
    Campaign(
        1,
        "Non-Brand | Search | Generic",
        "nonbrand_search",
        "Generic - gifts",
        "",
        "Search",
        0.20,
        0.7,
        0.013,
        30.0,
    ),
    Campaign(
        1,
        "Shopping | All Products",
        "shopping_all",
        "All products",
        "",
        "Shopping",
        0.30,
        1.0,
        0.011,
        9.0,
    ),
    Campaign(
        1,
        "PMax | All Products",
        "pmax_all",
        "Asset group - all products",
        "",
        "Performance Max",
        0.38,
        1.0,
        0.008,
        12.0,
    ),
    Campaign(
        2,
        "Spark Ads | Prospecting",
        "spark_prospecting",
        "Interest - wellness & home",
        "Creator video - Maya",
        "Conversions",
        0.5,
        0.9,
        0.009,
        7.0,
    ),
    Campaign(
        2,
        "Retargeting | Video viewers 30d",
        "retargeting_vv30",
        "Video viewers 30d",
        "Catalog carousel",
        "Conversions",
        0.2,
        1.8,
        0.012,
        9.0,
    ),
    Campaign(
        2,
        "Smart+ | Catalog",
        "smart_catalog",
        "Smart+ auto",
        "Catalog video",
        "Conversions",
        0.3,
        1.0,
        0.010,
        7.5,
    ),
]
EMAIL_CAMPAIGNS = [
    "welcome_flow",
    "abandoned_cart",
    "weekly_newsletter",
    "winback_flow",
    "post_purchase_flow",
]
UTM_SOURCE = {
    0: ("facebook", "instagram"),
    1: ("google", "google"),
    2: ("tiktok", "tiktok"),
    3: ("klaviyo", "klaviyo"),
}
UTM_MEDIUM = {0: "paid", 1: "cpc", 2: "paid", 3: "email"}

# Cost per newly acquired customer each platform is run at, and how much it over-reports.
TARGET_CAC = np.array([48.0, 40.0, 60.0])
OVERCOUNT = np.array([1.6, 1.35, 1.75])
# Conversion rate of a session by channel: meta, google, tiktok, email, organic, direct.
SESSION_CR = np.array([0.013, 0.026, 0.008, 0.045, 0.024, 0.030])


def in_bfcm_campaign(day: np.ndarray) -> np.ndarray:
    """The seasonal Meta campaign runs from Nov 10 to the Tuesday after Cyber Monday."""
    day = np.asarray(day)
    years, _doy = cal.year_and_doy(day)
    out = np.zeros(day.shape, dtype=bool)
    for y in np.unique(years):
        _, b1 = cal.bfcm_days(int(y))
        start = cal.day_number(cal.to_date(b1).replace(month=11, day=10))
        out |= (day >= start) & (day <= b1)
    return out


def campaigns_of(
    rng: np.random.Generator,
    channel: np.ndarray,
    day: np.ndarray,
    order_promo: np.ndarray,
    uses_promo: np.ndarray,
    is_first: np.ndarray,
) -> np.ndarray:
    """utm_campaign of each order: index into CAMPAIGNS for paid channels, into
    EMAIL_CAMPAIGNS for email (len(EMAIL_CAMPAIGNS) + promotion index for promo emails)."""
    out = np.full(channel.size, -1, dtype=np.int64)
    season = in_bfcm_campaign(day)
    for p in range(3):
        ids = [i for i, c in enumerate(CAMPAIGNS) if c.platform == p]
        for on in (False, True):
            mask = (channel == p) & (season == on)
            if not mask.any():
                continue
            w = np.array(
                [
                    CAMPAIGNS[i].share
                    * CAMPAIGNS[i].efficiency
                    * (0 if CAMPAIGNS[i].seasonal and not on else 1)
                    for i in ids
                ]
            )
            out[mask] = np.array(ids)[rng.choice(len(ids), mask.sum(), p=w / w.sum())]
    email = channel == 3
    pick = rng.choice(len(EMAIL_CAMPAIGNS), channel.size, p=[0.1, 0.25, 0.35, 0.15, 0.15])
    pick = np.where(is_first, 0, pick)
    pick = np.where(uses_promo & (order_promo >= 0), len(EMAIL_CAMPAIGNS) + order_promo, pick)
    out[email] = pick[email]
    return out


@dataclass
class AdRows:
    campaign: np.ndarray
    day: np.ndarray  # day number
    spend: np.ndarray  # cents
    impressions: np.ndarray
    reach: np.ndarray
    clicks: np.ndarray
    conversions: np.ndarray  # float (Google reports fractions)
    value: np.ndarray  # cents


def simulate_ads(
    rng: np.random.Generator,
    *,
    days: np.ndarray,
    new_paid: np.ndarray,
    paid_orders: np.ndarray,
    paid_revenue: np.ndarray,
    cac_spike: tuple[int, int, float],
    spend_usd: np.ndarray | None = None,
) -> AdRows:
    """Daily rows per campaign.

    days: window day numbers; new_paid / paid_orders: (3, n_days) first orders and all
    orders the store attributes to each platform; paid_revenue: (3, n_days) cents.
    cac_spike: (first day, last day, multiplier) applied to Meta spend (the extra spend
    buys nothing: the planted CAC spike).
    spend_usd: (3, n_days) each platform's daily spend, when the budgets drove acquisition
    (orchestration.demo.response); without it, spend follows the new customers at the
    platform's target CAC.
    """
    n_days = days.size
    out: dict[str, list] = {k: [] for k in AdRows.__dataclass_fields__}
    kernel = np.ones(7) / 7
    for p in range(3):
        if spend_usd is not None:
            spend = spend_usd[p].astype(float)
        else:
            smooth = np.convolve(
                np.pad(new_paid[p].astype(float), 3, mode="edge"), kernel, mode="valid"
            )
            smooth = np.maximum(smooth, 0.3 * max(new_paid[p].mean(), 0.1))
            # Budget changes: the team moves budgets every few weeks.
            budget = np.ones(n_days)
            i = 0
            while i < n_days:
                length = int(rng.integers(14, 46))
                budget[i : i + length] = rng.lognormal(0.0, 0.12)
                i += length
            # No budget change in the last five weeks, so the planted CAC spike stands out.
            budget[max(0, n_days - 35) :] = budget[max(0, n_days - 36)]
            spend = TARGET_CAC[p] * smooth * budget * rng.lognormal(0.0, 0.07, n_days)
        if p == 0:
            s0, s1, mult = cac_spike
            spend = np.where((days >= s0) & (days <= s1), spend * mult, spend)
        reported = paid_orders[p] * OVERCOUNT[p] * rng.lognormal(0.0, 0.12, n_days)
        aov = np.where(
            paid_orders[p] > 0,
            paid_revenue[p] / np.maximum(paid_orders[p], 1),
            paid_revenue[p].sum() / max(paid_orders[p].sum(), 1),
        )
        ids = [i for i, c in enumerate(CAMPAIGNS) if c.platform == p]
        season = in_bfcm_campaign(days)
        share = np.array([[CAMPAIGNS[i].share for i in ids]] * n_days)
        for k, i in enumerate(ids):
            if CAMPAIGNS[i].seasonal:
                share[:, k] = np.where(season, share[:, k], 0.0)
        share = share * rng.lognormal(0.0, 0.1, share.shape)
        share = share / share.sum(axis=1, keepdims=True)
        eff = np.array([CAMPAIGNS[i].efficiency for i in ids])
        conv_share = share * eff
        conv_share = conv_share / conv_share.sum(axis=1, keepdims=True)
        q4 = np.isin(
            days.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64) % 12, [9, 10, 11]
        )
        for k, i in enumerate(ids):
            c = CAMPAIGNS[i]
            live = share[:, k] > 0
            c_spend = np.round(spend * share[:, k] * 100).astype(np.int64)
            cpm = c.cpm * np.where(q4, 1.3, 1.0) * rng.lognormal(0.0, 0.06, n_days)
            impressions = np.maximum(1, np.round(c_spend / 100 / cpm * 1000)).astype(np.int64)
            clicks = rng.binomial(
                impressions, np.minimum(c.ctr * rng.lognormal(0.0, 0.08, n_days), 0.5)
            )
            reach = np.maximum(1, np.round(impressions / rng.uniform(1.1, 1.6, n_days))).astype(
                np.int64
            )
            expected_conv = reported * conv_share[:, k]
            if p == 1:  # Google's data-driven attribution reports fractions
                conversions = np.round(expected_conv * rng.lognormal(0.0, 0.1, n_days), 2)
            else:
                conversions = rng.poisson(expected_conv).astype(float)
            value = np.round(conversions * aov * rng.lognormal(0.0, 0.08, n_days)).astype(np.int64)
            for key, val in (
                ("campaign", np.full(n_days, i)),
                ("day", days),
                ("spend", c_spend),
                ("impressions", impressions),
                ("reach", reach),
                ("clicks", clicks),
                ("conversions", conversions),
                ("value", value),
            ):
                out[key].append(val[live])
    return AdRows(**{k: np.concatenate(v) for k, v in out.items()})


def simulate_sessions(rng: np.random.Generator, would_be_orders: np.ndarray) -> np.ndarray:
    """Sessions per channel and day from the orders shoppers meant to place: (6, n_days)."""
    cr = SESSION_CR[:, None] * rng.lognormal(0.0, 0.06, would_be_orders.shape)
    base = np.maximum(would_be_orders, 0.2) / cr
    return rng.poisson(base).astype(np.int64)
