"""How paid acquisition answers ad spend in the demo store: the planted response curves.

Each paid platform's budget is set first (it follows the store's expected demand, moved
up or down every few weeks by the team, as budgets are), and the customers it brings
follow from it:

    adstock_t = (1 - decay) * sum_j decay^j * spend_{t-j}       (geometric carry-over)
    response_t = adstock^shape / (adstock^shape + half_saturation^shape)     (Hill)
    E[new customers of platform p on day t] = demand_t * beta_p * response_t

where demand_t is the expected number of new customers the store gets that day from the
channels that are not paid (email, organic, direct) and beta_p the paid platform's
customers per such customer at full saturation. The generator draws every would-be new
customer's channel from shares that make these expectations hold, and a customer drawn
for a paid platform is kept with probability response_t (the rest never saw the ad that
would have brought them). Unpaid channels do not depend on spend.

The three platforms are planted differently, so that the budget advice has something to
find: Meta spends past its half-saturation point (its next dollar brings about half of
what its average dollar does), Google has room (three quarters), TikTok is in between
with an S-shaped curve and the longest carry-over. `demo_truth/response_curves.json` and
`response_daily.csv` hold the curves and, per day, the spend, adstock and the expected
customers (the answer key of `analytics.budget_recommendations`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl

from orchestration.demo import calendar as cal

PLATFORMS = ("meta", "google", "tiktok")
# Store-attributed acquisition shares the demo aims at (meta, google, tiktok, email,
# organic, direct): the same as before spend drove acquisition.
TARGET_SHARE = np.array([0.35, 0.30, 0.10, 0.07, 0.12, 0.06])
# Per paid platform: adstock decay per day, Hill shape, half-saturation in units of the
# platform's average daily spend over the last year of the store.
DECAY = np.array([0.5, 0.2, 0.6])
SHAPE = np.array([1.0, 1.0, 1.3])
HALF_SATURATION = np.array([0.9, 3.0, 1.5])
BUDGET_SD = 0.25  # log-sd of the team's budget level, redrawn every 14-45 days
FROZEN_DAYS = 35  # no budget change at the end of the window (the planted CAC spike)


def adstock(spend: np.ndarray, decay: float) -> np.ndarray:
    """Geometric adstock normalised to the spend's scale: (1-decay) * sum decay^j x_{t-j}
    (the steady state of a constant spend is that spend). spend: (n,) -> (n,)."""
    out = np.empty(spend.shape, dtype=float)
    level = float(spend[0])  # start as if the first day's spend had always run
    for t, x in enumerate(spend):
        level = decay * level + (1.0 - decay) * float(x)
        out[t] = level
    return out


def hill(x: np.ndarray, half: float, shape: float) -> np.ndarray:
    """x^shape / (x^shape + half^shape), 0 at 0, 1/2 at `half`, tending to 1."""
    z = np.power(np.maximum(x, 0.0) / half, shape)
    return z / (1.0 + z)


@dataclass
class Acquisition:
    """The relative budget of each paid platform per sim day and what it does.

    spend_units: (3, n_sim) daily spend in units of the platform's average over the last
    365 sim days (dollars are fixed once the store's size is known: `dollars_per_unit`).
    keep: (3, n_sim) probability a would-be customer of the platform is acquired.
    shares: (6,) channel shares of would-be new customers before that thinning.
    """

    spend_units: np.ndarray
    keep: np.ndarray
    shares: np.ndarray
    would_be_per_day: np.ndarray | None = None  # set by the customer simulation

    def expected_keep(self, start: int) -> float:
        """Share of would-be new customers acquired, on average from sim day `start`."""
        paid = (self.shares[:3, None] * self.keep[:, start:]).sum(axis=0).mean()
        return float(paid + self.shares[3:].sum())

    def draw(self, rng: np.random.Generator, acq_day: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Channel of each would-be new customer (index into CHANNELS) and whether the
        customer is acquired (always for unpaid channels)."""
        channel = rng.choice(self.shares.size, acq_day.size, p=self.shares)
        paid = channel < 3
        keep = np.ones(acq_day.size, dtype=bool)
        u = rng.random(acq_day.size)
        keep[paid] = u[paid] < self.keep[channel[paid], acq_day[paid]]
        return channel, keep


def plan_acquisition(rng: np.random.Generator, demand: np.ndarray, frozen_from: int) -> Acquisition:
    """Budgets and the acquisition they buy, per sim day.

    demand: (n_sim,) expected would-be new customers per day up to a constant (season x
    growth); the team's budget follows its 7-day average, moved by a random level
    redrawn every 14-45 days and daily noise; no level change from `frozen_from` on.
    """
    n = demand.size
    kernel = np.ones(7) / 7
    smooth = np.convolve(np.pad(demand, 3, mode="edge"), kernel, mode="valid")
    units = np.empty((3, n))
    keep = np.empty((3, n))
    for p in range(3):
        level = np.ones(n)
        i = 0
        while i < n:
            length = int(rng.integers(14, 46))
            level[i : i + length] = rng.lognormal(0.0, BUDGET_SD)
            i += length
        level[frozen_from:] = level[max(frozen_from - 1, 0)]
        raw = smooth * level * rng.lognormal(0.0, 0.07, n)
        units[p] = raw / raw[-365:].mean()
        keep[p] = hill(adstock(units[p], DECAY[p]), HALF_SATURATION[p], SHAPE[p])
    # Shares before thinning: paid platforms are drawn more often by 1 / their typical
    # keep probability, so that the acquired mix is about TARGET_SHARE.
    typical = keep[:, -365:].mean(axis=1)
    pre = TARGET_SHARE.copy()
    pre[:3] = TARGET_SHARE[:3] / typical
    return Acquisition(spend_units=units, keep=keep, shares=pre / pre.sum())


def dollars_per_unit(
    acq: Acquisition,
    channel: np.ndarray,
    acq_day: np.ndarray,
    window: slice,
    target_cac: np.ndarray,
) -> np.ndarray:
    """Dollars of one spend unit per platform: the platform's spend over the window is its
    target CAC times the new customers it acquired in the window. (3,)"""
    n_sim = acq.keep.shape[1]
    in_window = (acq_day >= window.start) & (acq_day < (window.stop or n_sim))
    out = np.empty(3)
    for p in range(3):
        acquired = float(((channel == p) & in_window).sum())
        units = float(acq.spend_units[p, window].sum())
        out[p] = target_cac[p] * max(acquired, 1.0) / max(units, 1e-9)
    return out


def write_truth(
    truth_dir: Path, acq: Acquisition, *, per_unit: np.ndarray, first_day: int, window: slice
) -> None:
    """demo_truth/response_curves.json (the curves in dollars) and response_daily.csv
    (per window day and platform: spend before any planted incident, adstock, the
    response and the expected new customers of the platform and of the unpaid channels)."""
    assert acq.would_be_per_day is not None, "simulate the customers first"
    unpaid = acq.would_be_per_day * acq.shares[3:].sum()
    beta = acq.shares[:3] / acq.shares[3:].sum()
    curves = {
        name: {
            "decay": float(DECAY[p]),
            "shape": float(SHAPE[p]),
            "half_saturation_usd_per_day": round(float(HALF_SATURATION[p] * per_unit[p]), 2),
            "beta": round(float(beta[p]), 6),
            "dollars_per_unit": round(float(per_unit[p]), 4),
        }
        for p, name in enumerate(PLATFORMS)
    }
    text = {
        "model": "E[new customers_p,t] = unpaid_new_customers_t * beta_p * "
        "adstock_t^shape / (adstock_t^shape + half_saturation^shape); "
        "adstock_t = decay * adstock_{t-1} + (1 - decay) * spend_t",
        "platforms": curves,
    }
    (truth_dir / "response_curves.json").write_text(json.dumps(text, indent=2) + "\n")
    days = np.arange(acq.keep.shape[1])[window]
    frames = []
    for p, name in enumerate(PLATFORMS):
        dollars = acq.spend_units[p] * per_unit[p]
        stock = adstock(dollars, DECAY[p])
        frames.append(
            pl.DataFrame(
                {
                    "date": [cal.to_date(first_day + int(d)) for d in days],
                    "platform": name,
                    "spend": np.round(dollars[window], 2),
                    "adstock": np.round(stock[window], 4),
                    "response": acq.keep[p, window],
                    "unpaid_new_customers": unpaid[window],
                    "expected_new_customers": unpaid[window] * beta[p] * acq.keep[p, window],
                }
            )
        )
    pl.concat(frames).write_csv(truth_dir / "response_daily.csv")


def true_new_customers(truth_dir: Path, spend: dict[str, float], days: int = 28) -> dict:
    """Expected new customers per day of each platform at a steady `spend` per day under
    the planted curves, at the unpaid demand of the answer key's last `days` days."""
    curves = json.loads((truth_dir / "response_curves.json").read_text())["platforms"]
    daily = pl.read_csv(truth_dir / "response_daily.csv")
    demand = float(daily.filter(pl.col("platform") == PLATFORMS[0])
                   .tail(days)["unpaid_new_customers"].mean())
    out = {}
    for name, s in spend.items():
        c = curves.get(name)
        if c is not None:
            out[name] = demand * c["beta"] * float(
                hill(np.array([s]), c["half_saturation_usd_per_day"], c["shape"])[0])
    return out


def score_recommendations(table: pl.DataFrame, truth_dir: Path) -> pl.DataFrame:
    """How well analytics.budget_recommendations recovered the planted curves: per
    platform with a curve, the fitted and the true marginal new customers per 100 of spend
    at today's spend (the true one at the answer key's demand of the last 28 days),
    whether the truth is inside the fitted 90% interval, and the true weekly change in new
    customers and in value (value_per_customer x customers) of moving to the suggested
    spend, against keeping today's split."""
    rows = []
    fitted = table.filter(pl.col("status") != "no_curve")
    now = dict(zip(fitted["channel"], fitted["current_spend"], strict=True))
    new = dict(zip(fitted["channel"], fitted["suggested_spend"], strict=True))
    step = {k: v + 1.0 for k, v in now.items()}
    at_now, at_step = true_new_customers(truth_dir, now), true_new_customers(truth_dir, step)
    at_new = true_new_customers(truth_dir, new)
    for row in fitted.iter_rows(named=True):
        ch = row["channel"]
        if ch not in at_now:
            continue
        true_marginal = (at_step[ch] - at_now[ch]) * 100
        value = row["value_per_customer"] or 1.0
        rows.append({
            "channel": ch,
            "fitted_marginal_per_100": row["marginal_new_customers_per_100"],
            "true_marginal_per_100": true_marginal,
            "truth_in_interval": row["marginal_lo"] <= true_marginal <= row["marginal_hi"],
            "true_weekly_new_customers_change": 7 * (at_new[ch] - at_now[ch]),
            "true_weekly_value_change": 7 * value * (at_new[ch] - at_now[ch]),
        })
    frame = pl.DataFrame(rows, schema={
        "channel": pl.String, "fitted_marginal_per_100": pl.Float64,
        "true_marginal_per_100": pl.Float64, "truth_in_interval": pl.Boolean,
        "true_weekly_new_customers_change": pl.Float64, "true_weekly_value_change": pl.Float64})
    if frame.height:
        total = frame.select(
            pl.lit("all").alias("channel"), pl.lit(None, pl.Float64).alias(
                "fitted_marginal_per_100"), pl.lit(None, pl.Float64).alias(
                "true_marginal_per_100"), pl.lit(None, pl.Boolean).alias("truth_in_interval"),
            pl.col("true_weekly_new_customers_change").sum(),
            pl.col("true_weekly_value_change").sum())
        frame = pl.concat([frame, total])
    return frame


def readme_section() -> str:
    """The README section on the planted response curves."""
    lines = [
        "## Paid acquisition answers spend (response_curves.json, response_daily.csv)",
        "",
        "Each paid platform's new customers follow its budget through a planted curve:",
        "E[new customers] = unpaid new customers x beta x Hill(adstock of spend), with",
        "geometric carry-over. `response_curves.json` has, per platform, the decay, the Hill",
        "shape, the half-saturation spend in USD a day and beta; `response_daily.csv` the",
        "daily spend (before the planted CAC spike, whose extra spend buys nothing), adstock,",
        "response and expected new customers. Planted: "
        + "; ".join(f"{name} half-saturation at {HALF_SATURATION[p]:g}x its average spend, "
                    f"decay {DECAY[p]:g}, shape {SHAPE[p]:g}" for p, name in enumerate(PLATFORMS))
        + " (Meta is past its bend, Google has room).",
        "",
    ]
    return "\n".join(lines)
