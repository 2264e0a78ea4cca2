"""Creatives on the demo's Meta and TikTok campaigns, some of which wear out (planted fatigue).

`simulate_ads` gives one row per campaign and day. `rotate_creatives` splits each Meta and
TikTok campaign's days into a sequence of creatives ("UGC video - bestsellers #3"), each
live 5-12 weeks before the next one replaces it; Google Search, Shopping and Performance
Max have no creative in their export and are left as they are.

Every creative starts with a daily frequency of about 1.2-1.6 and its campaign's
click-through rate. A planted share (`FATIGUE_SHARE` of the creatives that live long
enough to show it) wears out from a known onset day 3-5 weeks into its life: the same
people see it again and again (frequency climbs, reach grows slower than impressions) and
fewer of them click (CTR decays 2-4% a day down to 40-60% below its start), so cost per
click and per result rise. The others keep their CTR, with a slow frequency creep and the
ordinary daily noise; the Q4 CPM rise `simulate_ads` already plants is not fatigue.

Spend and impressions of every row stay what `simulate_ads` produced, and so do the clicks
of every row outside a fatigue episode; inside one, clicks and the platform's conversions
(and their value) are thinned by the CTR decay. Reach is redrawn from each creative's
frequency. The answer key is `truth`: one row per creative.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import polars as pl

from orchestration.demo import calendar as cal
from orchestration.demo.marketing import CAMPAIGNS, PLATFORMS, AdRows

LIFE_DAYS = (35, 84)  # a creative runs 5-12 weeks before the next one replaces it
FATIGUE_SHARE = 0.35  # of the creatives long enough to show fatigue
ONSET_DAYS = (21, 35)  # fatigue starts 3-5 weeks into a creative's life
MIN_FATIGUE_DAYS = 14  # a planted fatigue shows for at least two weeks before retirement
CTR_DECAY_PER_DAY = (0.02, 0.04)
CTR_FLOOR = (0.40, 0.60)  # the worst a worn-out creative gets: 40-60% of its starting CTR
START_FREQUENCY = (1.2, 1.6)
FATIGUE_FREQUENCY_PER_DAY = (0.04, 0.07)  # relative climb of frequency after onset
MAX_FREQUENCY = 4.5
FLAT_FREQUENCY_PER_DAY = 0.003  # a healthy creative's audience saturates slowly too
WITH_CREATIVES = {PLATFORMS.index("meta"), PLATFORMS.index("tiktok")}
TRUTH_SCHEMA = {
    "platform": pl.String,
    "campaign_name": pl.String,
    "ad_name": pl.String,
    "launched": pl.Date,
    "retired": pl.Date,
    "fatigued": pl.Boolean,
    "fatigue_onset": pl.Date,
}


@dataclass
class Creatives:
    rows: AdRows  # simulate_ads' rows with fatigue planted (same rows, same order)
    ad_name: np.ndarray  # per row: the creative's name, "" where the export has none
    truth: pl.DataFrame  # the answer key, TRUTH_SCHEMA, one row per creative


def rotate_creatives(rng: np.random.Generator, ads: AdRows, *, last_day: int) -> Creatives:
    """Creatives for the Meta and TikTok campaigns of `ads`, with planted fatigue.

    `last_day` is the window's last day number: a creative still live then has no
    `retired` date in the answer key. Draws only from `rng`.
    """
    n = ads.day.size
    clicks, conversions = ads.clicks.copy(), ads.conversions.copy()
    value, reach = ads.value.copy(), ads.reach.copy()
    ad_name = np.full(n, "", dtype=object)
    truth: list[dict] = []
    for i, campaign in enumerate(CAMPAIGNS):
        if campaign.platform not in WITH_CREATIVES:
            continue
        rows = np.flatnonzero(ads.campaign == i)
        rows = rows[np.argsort(ads.day[rows], kind="stable")]
        if rows.size == 0:
            continue
        days = ads.day[rows]
        number = 0
        start = 0
        while start < rows.size:
            # A creative lives LIFE_DAYS calendar days, or until the campaign pauses for
            # more than two weeks (the seasonal BFCM campaign gets a new one every year).
            life = int(rng.integers(LIFE_DAYS[0], LIFE_DAYS[1] + 1))
            end = start
            while (end + 1 < rows.size and days[end + 1] - days[start] < life
                   and days[end + 1] - days[end] <= 14):
                end += 1
            number += 1
            mine = rows[start : end + 1]
            launched, retired = int(days[start]), int(days[end])
            name = f"{campaign.ad} #{number}"
            ad_name[mine] = name
            age = ads.day[mine] - launched
            start_frequency = rng.uniform(*START_FREQUENCY)
            frequency = start_frequency * (1 + FLAT_FREQUENCY_PER_DAY * age)
            onset_offset = int(rng.integers(ONSET_DAYS[0], ONSET_DAYS[1] + 1))
            decay = rng.uniform(*CTR_DECAY_PER_DAY)
            floor = rng.uniform(*CTR_FLOOR)
            climb = rng.uniform(*FATIGUE_FREQUENCY_PER_DAY)
            long_enough = retired - launched >= ONSET_DAYS[0] + MIN_FATIGUE_DAYS
            fatigued = bool(rng.random() < FATIGUE_SHARE) and long_enough
            onset = None
            if fatigued:
                onset_offset = min(onset_offset, retired - launched - MIN_FATIGUE_DAYS)
                onset = launched + onset_offset
                worn = np.maximum(ads.day[mine] - onset, 0)
                frequency = frequency * (1 + climb * worn)
                ctr_factor = np.maximum(floor, np.exp(-decay * worn))
                kept = rng.binomial(ads.clicks[mine], ctr_factor)
                converted = rng.binomial(np.round(ads.conversions[mine]).astype(np.int64),
                                         ctr_factor).astype(float)
                share = np.divide(converted, ads.conversions[mine],
                                  out=np.zeros(mine.size), where=ads.conversions[mine] > 0)
                clicks[mine] = kept
                conversions[mine] = converted
                value[mine] = np.round(ads.value[mine] * share).astype(np.int64)
            frequency = np.minimum(frequency, MAX_FREQUENCY) * rng.lognormal(0.0, 0.05, mine.size)
            reach[mine] = np.maximum(
                1, np.round(ads.impressions[mine] / np.maximum(frequency, 1.0))
            ).astype(np.int64)
            truth.append({
                "platform": PLATFORMS[campaign.platform],
                "campaign_name": campaign.name,
                "ad_name": name,
                "launched": cal.to_date(launched),
                "retired": None if retired >= last_day else cal.to_date(retired),
                "fatigued": fatigued,
                "fatigue_onset": None if onset is None else cal.to_date(onset),
            })
            start = end + 1
    rows_out = replace(ads, clicks=clicks, conversions=conversions, value=value, reach=reach)
    return Creatives(rows_out, ad_name, pl.DataFrame(truth, schema=TRUTH_SCHEMA))
