"""Creative fatigue: ads whose audience has seen them too often, against their own early weeks.

- `score_ad_days(ad_daily, *, as_of)`: every day of every ad's life scored as that morning
  would have scored it (trailing windows only, so one call replays the whole history).
- `creative_alerts(ad_daily, *, as_of)`: the ads alerting on `as_of`, one row each, with
  the figures behind the alert and a sentence saying what to do.

Input `ad_daily` is `marts.fct_ad_daily` (or any frame with its columns): `ad_date` (date),
`channel`, `campaign_name`, `ad_group_name`, `ad_name` (strings; rows without an ad name,
Google's, are ignored), `spend` (store currency), `impressions`, `reach` (people reached
that day; null where the platform does not report it, TikTok), `clicks`,
`platform_conversions`; `currency_code` is used in the sentence when present.

Method. An ad's baseline is its own first `BASELINE_DAYS` active days (a day with at least
`MIN_ACTIVE_IMPRESSIONS` impressions). From `BASELINE_DAYS + RECENT_DAYS` active days on,
each day compares the ad's last `RECENT_DAYS` calendar days with that baseline:

- frequency: impressions / reach summed over the days that report reach (the day's
  average views per person reached; when the same people are shown the ad again and
  again it climbs while reach lags);
- click-through rate, tested with the conditional binomial test of two Poisson rates
  (Przyborowski & Wilenski 1940: given the clicks of both windows, the recent ones are
  binomial with the recent share of impressions under "no change"), one-sided, so an ad
  with a few hundred impressions cannot reach significance;
- cost per result (spend / platform conversions), divided by the same change of the
  other ads of the channel on the same days when theirs rose, so a seasonal CPM or
  conversion-rate swing that lifts every ad's cost (Q4) is not read as fatigue (a fall
  of theirs is not held against this ad); tested like clicks, with spend as the
  exposure (conversions per dollar) and the channel's rise as the null.

A day alerts when CTR is down at least `CTR_DROP` (p < `ALPHA`) and frequency is up at
least `FREQUENCY_RISE` (or the platform does not report reach), or when the normalised
cost per result is up at least `COST_PER_RESULT_RISE` (p < `ALPHA`). CTR itself is not
driven by CPM, so the CTR rule needs no seasonal correction. Alert days less than
`EPISODE_GAP_DAYS` apart form one episode; `first_alert_date` is its first day.

Thresholds were chosen on the demo store with seed 7 and evaluated on other seeds
(benchmarks/fatigue.py, results in benchmarks/results/fatigue.md).
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import polars as pl
from scipy.stats import binom

BASELINE_DAYS = 14
RECENT_DAYS = 7
MIN_ACTIVE_IMPRESSIONS = 50  # a day with fewer is not an active day of the ad
MIN_RECENT_IMPRESSIONS = 500  # a recent week with fewer is not scored
CTR_DROP = 0.25  # CTR at least 25% below the ad's first two weeks
FREQUENCY_RISE = 0.25  # frequency at least 25% above them
COST_PER_RESULT_RISE = 0.60  # cost per result at least 60% above, after the channel's change
ALPHA = 0.001  # one-sided; every ad-day is tested, so a stringent level
EPISODE_GAP_DAYS = 7
NEW_ALERT_DAYS = 7  # an alert is "new" when its first day is this recent
SEVERITY_HIGH = (0.40, 1.00)  # CTR drop, cost-per-result rise for "high"
AD_KEY = ["channel", "campaign_name", "ad_group_name", "ad_name"]
REQUIRED_COLUMNS = ("ad_date", "channel", "campaign_name", "ad_group_name", "ad_name", "spend",
                    "impressions", "reach", "clicks", "platform_conversions")
ALERT_SCHEMA = {
    "channel": pl.String,
    "campaign_name": pl.String,
    "ad_group_name": pl.String,
    "ad_name": pl.String,
    "launched_date": pl.Date,
    "days_live": pl.Int64,
    "first_alert_date": pl.Date,
    "is_new": pl.Boolean,
    "severity": pl.String,
    "rule": pl.String,
    "baseline_frequency": pl.Float64,
    "recent_frequency": pl.Float64,
    "frequency_change": pl.Float64,
    "baseline_ctr": pl.Float64,
    "recent_ctr": pl.Float64,
    "ctr_change": pl.Float64,
    "ctr_p_value": pl.Float64,
    "baseline_cost_per_result": pl.Float64,
    "recent_cost_per_result": pl.Float64,
    "cost_per_result_change": pl.Float64,
    "channel_cost_per_result_change": pl.Float64,
    "cost_per_result_p_value": pl.Float64,
    "recent_spend": pl.Float64,
    "recent_impressions": pl.Int64,
    "recent_clicks": pl.Int64,
    "reason": pl.String,
}
_SUMS = ("spend", "impressions", "clicks", "conversions", "reach_impressions", "reach")
_OTHER_SUMS = ("spend", "conversions")


def _validate(ad_daily: pl.DataFrame) -> None:
    missing = [c for c in REQUIRED_COLUMNS if c not in ad_daily.columns]
    if missing:
        raise ValueError(f"ad_daily is missing column(s) {', '.join(map(repr, missing))}: "
                         "pass marts.fct_ad_daily or a frame with its columns")


def _rate_test(recent: pl.Series, baseline: pl.Series, recent_exposure: pl.Series,
               baseline_exposure: pl.Series) -> np.ndarray:
    """One-sided p-value that the recent rate (events per unit of exposure) is lower than
    the baseline's: P(X <= recent) for X ~ Binomial(recent + baseline, share of exposure
    in the recent window). NaN where there is no exposure or no event at all."""
    k = recent.to_numpy().astype(float)
    n = k + baseline.to_numpy().astype(float)
    e_r, e_b = recent_exposure.to_numpy().astype(float), baseline_exposure.to_numpy().astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        share = e_r / (e_r + e_b)
    ok = (n > 0) & np.isfinite(share) & (share > 0) & (share < 1)
    out = np.full(k.size, np.nan)
    out[ok] = binom.cdf(np.round(k[ok]), np.round(n[ok]), share[ok])
    return out


def score_ad_days(ad_daily: pl.DataFrame, *, as_of: date) -> pl.DataFrame:
    """Every scored day of every ad up to `as_of`: AD_KEY, `ad_date`, the baseline and
    recent-window figures and tests of the module docstring, and `is_alert`,
    `is_ctr_alert`, `is_cost_alert`.

    Only days from the end of the baseline + RECENT_DAYS on, with at least
    MIN_RECENT_IMPRESSIONS impressions in the recent window, are returned. Units: rates
    are fractions (0.011 = 1.1%), changes relative (-0.44 = -44%), money in the store
    currency. Raises ValueError when a column is missing."""
    _validate(ad_daily)
    numeric = ["spend", "impressions", "clicks", "platform_conversions"]
    rows = (
        ad_daily.lazy()
        .filter(pl.col("ad_name").is_not_null() & (pl.col("ad_date") <= as_of))
        .with_columns(pl.col("ad_group_name").fill_null(""),
                      *(pl.col(c).cast(pl.Float64).fill_null(0.0) for c in numeric),
                      pl.col("reach").cast(pl.Float64))
        .group_by(*AD_KEY, "ad_date")
        .agg(pl.col("spend").sum(), pl.col("impressions").sum(), pl.col("clicks").sum(),
             pl.col("platform_conversions").sum().alias("conversions"),
             # frequency only over the days that report reach
             pl.col("impressions").filter(pl.col("reach").is_not_null()).sum()
             .alias("reach_impressions"),
             pl.col("reach").sum().alias("reach"))
    )
    channel_days = rows.group_by("channel", "ad_date").agg(
        *(pl.col(c).sum().alias(f"channel_{c}") for c in _OTHER_SUMS))
    first_day = (rows.filter(pl.col("impressions") >= MIN_ACTIVE_IMPRESSIONS)
                 .group_by(AD_KEY).agg(pl.col("ad_date").min().alias("launched_date"),
                                       pl.col("ad_date").max().alias("last_active_date")))
    calendar = (first_day.with_columns(pl.date_ranges("launched_date", "last_active_date")
                                       .alias("ad_date")).explode("ad_date"))
    days = (
        calendar.join(rows, on=[*AD_KEY, "ad_date"], how="left")
        .join(channel_days, on=["channel", "ad_date"], how="left")
        .with_columns(*(pl.col(c).fill_null(0.0) for c in _SUMS),
                      *(pl.col(f"channel_{c}").fill_null(0.0) for c in _OTHER_SUMS))
        .with_columns(*((pl.col(f"channel_{c}") - pl.col(c)).clip(0.0).alias(f"other_{c}")
                        for c in _OTHER_SUMS))
        .sort(*AD_KEY, "ad_date")
        .with_columns((pl.col("impressions") >= MIN_ACTIVE_IMPRESSIONS).alias("is_active"))
        .with_columns(pl.col("is_active").cast(pl.Int64).cum_sum().over(AD_KEY)
                      .alias("active_day"))
        .with_columns((pl.col("is_active") & (pl.col("active_day") <= BASELINE_DAYS))
                      .alias("is_baseline"))
    )
    sums = [*_SUMS, *(f"other_{c}" for c in _OTHER_SUMS)]
    baseline = (
        days.filter(pl.col("is_baseline"))
        .group_by(AD_KEY)
        .agg(pl.col("ad_date").max().alias("baseline_end"), pl.len().alias("baseline_days"),
             *(pl.col(c).sum().alias(f"b_{c}") for c in sums))
        .filter(pl.col("baseline_days") == BASELINE_DAYS)
    )
    scored = (
        days.with_columns(*(pl.col(c).rolling_sum(RECENT_DAYS, min_samples=1).over(AD_KEY)
                            .alias(f"r_{c}") for c in sums))
        .join(baseline, on=AD_KEY, how="inner")
        .filter((pl.col("ad_date") >= pl.col("baseline_end") + timedelta(days=RECENT_DAYS))
                & (pl.col("r_impressions") >= MIN_RECENT_IMPRESSIONS))
        .with_columns(
            pl.when(pl.col("b_reach") > 0)
            .then(pl.col("b_reach_impressions") / pl.col("b_reach")).alias("baseline_frequency"),
            pl.when(pl.col("r_reach") > 0)
            .then(pl.col("r_reach_impressions") / pl.col("r_reach")).alias("recent_frequency"),
            (pl.col("b_clicks") / pl.col("b_impressions")).alias("baseline_ctr"),
            (pl.col("r_clicks") / pl.col("r_impressions")).alias("recent_ctr"),
            pl.when(pl.col("b_conversions") > 0)
            .then(pl.col("b_spend") / pl.col("b_conversions")).alias("baseline_cost_per_result"),
            pl.when(pl.col("r_conversions") > 0)
            .then(pl.col("r_spend") / pl.col("r_conversions")).alias("recent_cost_per_result"),
            # the channel's other ads over the same days: how much a result got dearer anyway
            pl.when((pl.col("b_other_conversions") > 0) & (pl.col("r_other_conversions") > 0)
                    & (pl.col("b_other_spend") > 0) & (pl.col("r_other_spend") > 0))
            .then(pl.col("r_other_spend") / pl.col("r_other_conversions")
                  / (pl.col("b_other_spend") / pl.col("b_other_conversions")))
            .otherwise(1.0).alias("channel_cost_ratio_raw"),
        )
        # The channel's change only excuses a rise (a seasonal one): other ads getting
        # cheaper per result (often one of them wearing out in their baseline) must not
        # make this one look worn out.
        .with_columns(pl.col("channel_cost_ratio_raw").clip(lower_bound=1.0)
                      .alias("channel_cost_ratio"))
        .collect()
    )
    ctr_p = _rate_test(scored["r_clicks"], scored["b_clicks"], scored["r_impressions"],
                       scored["b_impressions"])
    # conversions per dollar, the recent dollars deflated by the channel's change
    cost_p = _rate_test(scored["r_conversions"], scored["b_conversions"],
                        scored["r_spend"] / scored["channel_cost_ratio"], scored["b_spend"])
    return (
        scored.with_columns(pl.Series("ctr_p_value", ctr_p, nan_to_null=True),
                            pl.Series("cost_per_result_p_value", cost_p, nan_to_null=True))
        .with_columns(
            (pl.col("recent_frequency") / pl.col("baseline_frequency") - 1)
            .alias("frequency_change"),
            (pl.col("recent_ctr") / pl.col("baseline_ctr") - 1).alias("ctr_change"),
            (pl.col("recent_cost_per_result") / pl.col("baseline_cost_per_result")
             / pl.col("channel_cost_ratio") - 1).alias("cost_per_result_change"),
            (pl.col("channel_cost_ratio_raw") - 1).alias("channel_cost_per_result_change"),
            # no conversion at all in the recent week against some before: as bad as it gets
            ((pl.col("r_spend") * pl.col("b_conversions"))
             / (pl.col("b_spend") * pl.col("r_conversions") * pl.col("channel_cost_ratio"))
             - 1).alias("_cost_rise"),
        )
        .with_columns(
            ((pl.col("ctr_change") <= -CTR_DROP) & (pl.col("ctr_p_value") < ALPHA)
             & ((pl.col("frequency_change") >= FREQUENCY_RISE)
                | pl.col("frequency_change").is_null())).fill_null(False)
            .alias("is_ctr_alert"),
            ((pl.col("_cost_rise") >= COST_PER_RESULT_RISE)
             & (pl.col("cost_per_result_p_value") < ALPHA)).fill_null(False)
            .alias("is_cost_alert"),
        )
        .with_columns((pl.col("is_ctr_alert") | pl.col("is_cost_alert")).alias("is_alert"))
        .select(*AD_KEY, "ad_date", "launched_date", "last_active_date", "baseline_end",
                "baseline_frequency", "recent_frequency", "frequency_change", "baseline_ctr",
                "recent_ctr", "ctr_change", "ctr_p_value", "baseline_cost_per_result",
                "recent_cost_per_result", "cost_per_result_change",
                "channel_cost_per_result_change", "cost_per_result_p_value",
                pl.col("r_spend").alias("recent_spend"),
                pl.col("r_impressions").cast(pl.Int64).alias("recent_impressions"),
                pl.col("r_clicks").cast(pl.Int64).alias("recent_clicks"),
                "is_ctr_alert", "is_cost_alert", "is_alert")
    )


def alert_episodes(scores: pl.DataFrame) -> pl.DataFrame:
    """Alert days of `score_ad_days` merged into episodes (alert days less than
    EPISODE_GAP_DAYS apart): AD_KEY, `first_alert_date`, `last_alert_date`, `alert_days`."""
    return (
        scores.filter(pl.col("is_alert")).sort(*AD_KEY, "ad_date")
        .with_columns((pl.col("ad_date").diff().over(AD_KEY).dt.total_days()
                       .fill_null(EPISODE_GAP_DAYS + 1) > EPISODE_GAP_DAYS)
                      .cum_sum().over(AD_KEY).alias("episode"))
        .group_by(*AD_KEY, "episode")
        .agg(pl.col("ad_date").min().alias("first_alert_date"),
             pl.col("ad_date").max().alias("last_alert_date"), pl.len().alias("alert_days"))
        .drop("episode").sort(*AD_KEY, "first_alert_date")
    )


def _reason(row: dict, currency: str) -> str:
    parts = []
    if row["recent_ctr"] is not None and row["baseline_ctr"]:
        parts.append(f"CTR {row['recent_ctr']:.2%} vs {row['baseline_ctr']:.2%} in its first two "
                     f"weeks ({row['ctr_change']:+.0%})")
    if row["recent_frequency"] is not None and row["baseline_frequency"] is not None:
        parts.append(f"frequency {row['recent_frequency']:.1f} vs {row['baseline_frequency']:.1f}")
    else:
        parts.append("frequency not reported")
    unit = f" {currency}" if currency else ""
    if row["rule"] != "ctr_and_frequency" and row["baseline_cost_per_result"] is not None:
        recent = ("no result in the last 7 days" if row["recent_cost_per_result"] is None else
                  f"{row['recent_cost_per_result']:.2f}{unit}")
        change = ("" if row["cost_per_result_change"] is None
                  else f" ({row['cost_per_result_change']:+.0%} after the channel's "
                       f"{row['channel_cost_per_result_change']:+.0%})")
        parts.append(f"cost per result {recent} vs {row['baseline_cost_per_result']:.2f}{unit}"
                     + change)
    return ", ".join(parts) + "; consider a new creative"


def creative_alerts(ad_daily: pl.DataFrame, *, as_of: date) -> pl.DataFrame:
    """The ads worn out as of `as_of`: one row per ad that alerts on `as_of` and was
    active on it or the day before (a replaced creative needs no action), ALERT_SCHEMA,
    most severe first.

    `first_alert_date` is the first day of the current alert episode, `is_new` whether it
    is within the last NEW_ALERT_DAYS days; `rule` is `ctr_and_frequency`,
    `cost_per_result` or `both`; `severity` is `high` when CTR is down at least 40% or the
    cost per result up at least 100%, else `medium`. Empty (with the schema) when no ad
    alerts. Raises ValueError when a column is missing."""
    scores = score_ad_days(ad_daily, as_of=as_of)
    episodes = alert_episodes(scores).filter(pl.col("last_alert_date") == as_of)
    today = (scores.filter(pl.col("is_alert") & (pl.col("ad_date") == as_of)
                           & (pl.col("last_active_date") >= as_of - timedelta(days=1)))
             .join(episodes.select(*AD_KEY, "first_alert_date"), on=AD_KEY, how="left"))
    if today.is_empty():
        return pl.DataFrame(schema=ALERT_SCHEMA)
    currency = ""
    if "currency_code" in ad_daily.columns:
        codes = ad_daily["currency_code"].drop_nulls().unique()
        currency = codes[0] if codes.len() == 1 else ""
    frame = today.with_columns(
        ((pl.lit(as_of) - pl.col("launched_date")).dt.total_days() + 1).alias("days_live"),
        (pl.col("first_alert_date") > as_of - timedelta(days=NEW_ALERT_DAYS)).alias("is_new"),
        pl.when(pl.col("is_ctr_alert") & pl.col("is_cost_alert")).then(pl.lit("both"))
        .when(pl.col("is_ctr_alert")).then(pl.lit("ctr_and_frequency"))
        .otherwise(pl.lit("cost_per_result")).alias("rule"),
        pl.when((pl.col("is_ctr_alert") & (pl.col("ctr_change") <= -SEVERITY_HIGH[0]))
                | (pl.col("is_cost_alert")
                   & (pl.col("cost_per_result_change").fill_null(np.inf) >= SEVERITY_HIGH[1])))
        .then(pl.lit("high")).otherwise(pl.lit("medium")).alias("severity"),
    )
    reasons = [_reason(row, currency) for row in frame.iter_rows(named=True)]
    return (frame.with_columns(pl.Series("reason", reasons, dtype=pl.String))
            .select(list(ALERT_SCHEMA)).cast(ALERT_SCHEMA)
            .sort(pl.col("severity") == "high", "recent_spend", descending=True))
