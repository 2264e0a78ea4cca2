"""Store calendar of the demo: seasonality, the store's clock, and timestamp formatting.

Days are integers (days since 1970-01-01), instants are integer seconds since the epoch.
"Local" seconds are the store's wall clock (America/New_York) read as if it were UTC,
which is how exports without an offset (Zendesk) show time.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl

STORE_TIMEZONE = "America/New_York"
DAY = 86_400
HOUR = 3_600
EST = -5 * HOUR
EDT = -4 * HOUR

# Monday..Sunday. DTC stores peak on Sunday evening and Monday, dip mid-week.
WEEKDAY_FACTOR = np.array([1.10, 0.95, 0.90, 0.92, 0.96, 1.00, 1.17])
WEEKDAY_FACTOR = WEEKDAY_FACTOR / WEEKDAY_FACTOR.mean()

# (month, day, level) anchors of the yearly shape, linearly interpolated; BFCM is added
# on top because its dates move with Thanksgiving.
_YEAR_ANCHORS = [
    (1, 1, 0.95),
    (1, 10, 0.82),
    (2, 1, 0.88),
    (3, 1, 0.95),
    (4, 15, 0.98),
    (5, 8, 1.06),
    (5, 15, 0.98),
    (6, 15, 0.90),
    (8, 1, 0.90),
    (9, 1, 0.97),
    (10, 15, 1.02),
    (11, 1, 1.10),
    (11, 20, 1.25),
    (12, 1, 1.45),
    (12, 15, 1.35),
    (12, 21, 1.05),
    (12, 25, 0.60),
    (12, 26, 0.90),
    (12, 31, 0.95),
]
# Wednesday before Thanksgiving .. Tuesday after Cyber Monday, as multiples of the level.
_BFCM_BOOST = np.array([1.15, 1.35, 2.0, 1.7, 1.55, 1.85, 1.2])

# Share of a day's orders per local hour (evening peak, quiet night).
HOUR_WEIGHTS = np.array(
    [
        1.5,
        0.9,
        0.6,
        0.4,
        0.4,
        0.6,
        1.2,
        2.2,
        3.2,
        4.0,
        4.4,
        4.6,
        4.8,
        4.6,
        4.4,
        4.4,
        4.6,
        5.0,
        5.6,
        6.4,
        7.0,
        6.8,
        5.2,
        3.0,
    ]
)
HOUR_WEIGHTS = HOUR_WEIGHTS / HOUR_WEIGHTS.sum()

EPOCH = dt.date(1970, 1, 1)


def day_number(d: dt.date) -> int:
    return (d - EPOCH).days


def to_date(day: int) -> dt.date:
    return EPOCH + dt.timedelta(days=int(day))


def weekday(days: np.ndarray) -> np.ndarray:
    """Monday = 0 (1970-01-01 was a Thursday)."""
    return (np.asarray(days) + 3) % 7


def thanksgiving(year: int) -> dt.date:
    first = dt.date(year, 11, 1)
    first_thursday = first + dt.timedelta(days=(3 - first.weekday()) % 7)
    return first_thursday + dt.timedelta(days=21)


def bfcm_days(year: int) -> tuple[int, int]:
    """First and last day (day numbers) of the BFCM week: Wednesday before Thanksgiving
    to the Tuesday after Cyber Monday."""
    start = day_number(thanksgiving(year)) - 1
    return start, start + len(_BFCM_BOOST) - 1


def year_and_doy(days: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    d64 = np.asarray(days).astype("datetime64[D]")
    years = d64.astype("datetime64[Y]")
    doy = (d64 - years.astype("datetime64[D]")).astype(np.int64)
    return years.astype(np.int64) + 1970, doy


def season_factor(days: np.ndarray) -> np.ndarray:
    """Weekly x yearly shape of demand (no trend), about 1 on an ordinary day."""
    days = np.asarray(days, dtype=np.int64)
    years, doy = year_and_doy(days)
    anchor_doy = np.array(
        [dt.date(2025, m, d).timetuple().tm_yday - 1 for m, d, _ in _YEAR_ANCHORS]
    )
    anchor_val = np.array([v for _, _, v in _YEAR_ANCHORS])
    yearly = np.interp(doy, anchor_doy, anchor_val)
    for year in np.unique(years):
        start, _ = bfcm_days(int(year))
        offset = days - start
        inside = (offset >= 0) & (offset < len(_BFCM_BOOST))
        yearly[inside] *= _BFCM_BOOST[offset[inside]]
    return WEEKDAY_FACTOR[weekday(days)] * yearly


def _dst_bounds(years: range) -> np.ndarray:
    """UTC instants where US Eastern time switches, sorted: [start_y, end_y, ...].

    Since 2007: second Sunday of March at 02:00 EST, first Sunday of November at 02:00 EDT.
    """
    bounds = []
    for y in years:
        march1 = dt.date(y, 3, 1)
        start = march1 + dt.timedelta(days=(6 - march1.weekday()) % 7 + 7)
        nov1 = dt.date(y, 11, 1)
        end = nov1 + dt.timedelta(days=(6 - nov1.weekday()) % 7)
        bounds.append(day_number(start) * DAY + 7 * HOUR)
        bounds.append(day_number(end) * DAY + 6 * HOUR)
    return np.array(bounds, dtype=np.int64)


_BOUNDS = _dst_bounds(range(2000, 2101))


def utc_offset(utc_s: np.ndarray) -> np.ndarray:
    """Offset of the store's clock from UTC (seconds, negative) at UTC instants."""
    idx = np.searchsorted(_BOUNDS, np.asarray(utc_s, dtype=np.int64), side="right")
    return np.where(idx % 2 == 1, EDT, EST)


def local_to_utc(local_s: np.ndarray) -> np.ndarray:
    local_s = np.asarray(local_s, dtype=np.int64)
    return local_s - utc_offset(local_s - EST)


def utc_to_local(utc_s: np.ndarray) -> np.ndarray:
    utc_s = np.asarray(utc_s, dtype=np.int64)
    return utc_s + utc_offset(utc_s)


def fmt_local(local_s: pl.Expr) -> pl.Expr:
    """`2026-11-01 09:14:55` (null stays null)."""
    return pl.from_epoch(local_s, time_unit="s").dt.strftime("%Y-%m-%d %H:%M:%S")


def fmt_shopify(utc_s: pl.Expr) -> pl.Expr:
    """`2026-11-01 09:14:55 -0500` in the store timezone (input: UTC seconds column)."""
    return (
        pl.from_epoch(utc_s, time_unit="s")
        .dt.replace_time_zone("UTC")
        .dt.convert_time_zone(STORE_TIMEZONE)
        .dt.strftime("%Y-%m-%d %H:%M:%S %z")
    )


def fmt_iso_utc(utc_s: pl.Expr) -> pl.Expr:
    """`2026-11-02T09:14:03.000000+00:00`, as the Gorgias API writes datetimes."""
    return pl.from_epoch(utc_s, time_unit="s").dt.strftime("%Y-%m-%dT%H:%M:%S.000000+00:00")


def fmt_day(days: pl.Expr) -> pl.Expr:
    return pl.from_epoch(days, time_unit="d").dt.strftime("%Y-%m-%d")
