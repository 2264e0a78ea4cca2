"""The dashboards' pure numbers (unit-tested): the overview's KPI windows with their
changes, the cohort chart's cells, and the month helpers of the SQL loading. Polars only."""

from __future__ import annotations

from datetime import date, timedelta

import polars as pl

KPI_WINDOW_DAYS = 7
LAST_YEAR_DAYS = 364  # 52 weeks: the same weekdays last year
COHORT_MONTHS = 12


def month_start(day: date) -> date:
    """The first day of `day`'s month."""
    return day.replace(day=1)


def months_back(n: int) -> timedelta:
    """Roughly n months back, safe to snap to a month start afterwards."""
    return timedelta(days=31 * n - 15) if n else timedelta(0)


def add_months(month: date, n: int) -> date:
    """The first day of the month `n` months after `month`'s (n may be negative)."""
    index = month.year * 12 + month.month - 1 + n
    return date(index // 12, index % 12 + 1, 1)


KPIS = (
    # key, label, format, which way is good (+1 up, -1 down, 0 neither)
    ("revenue", "Revenue", "money", 1),
    ("orders", "Orders", "count", 1),
    ("aov", "Average order value", "money2", 1),
    ("conversion_rate", "Conversion rate", "percent", 1),
    ("new_customers", "New customers", "count", 1),
    ("ad_spend", "Ad spend", "money", 0),
    ("mer", "MER (revenue ÷ ad spend)", "ratio", 1),
)


def kpi_windows(daily: pl.DataFrame, as_of: date, days: int = KPI_WINDOW_DAYS) -> pl.DataFrame:
    """The overview's KPIs over the last `days` days, the `days` before, and the same
    weekdays a year earlier (364 days back), with relative changes.

    `daily`: fct_daily_kpis columns kpi_date, revenue, orders, new_customers, ad_spend,
    sessions, conversion_rate. A window missing any day gives null, as do ratios with a
    zero or null denominator (no sessions export: no conversion rate; no ads: no MER).
    Output: kpi, label, format, good_direction, current, previous, last_year,
    vs_previous, vs_last_year (relative change, 0.1 = +10%).
    """
    missing = {"kpi_date", "revenue", "orders"} - set(daily.columns)
    if missing:
        raise ValueError(f"daily KPIs are missing column(s) {sorted(missing)}")
    windows = {
        "current": as_of - timedelta(days=days - 1),
        "previous": as_of - timedelta(days=2 * days - 1),
        "last_year": as_of - timedelta(days=LAST_YEAR_DAYS + days - 1),
    }
    values: dict[str, dict[str, float | None]] = {}
    for name, start in windows.items():
        window = daily.filter(pl.col("kpi_date").is_between(start, start + timedelta(days=days - 1)))
        values[name] = _window_kpis(window, days)
    rows = []
    for key, label, fmt, good in KPIS:
        current, previous, last_year = (values[w][key] for w in windows)
        rows.append({"kpi": key, "label": label, "format": fmt, "good_direction": good,
                     "current": current, "previous": previous, "last_year": last_year,
                     "vs_previous": _relative(current, previous),
                     "vs_last_year": _relative(current, last_year)})
    return pl.DataFrame(rows, schema={
        "kpi": pl.Utf8, "label": pl.Utf8, "format": pl.Utf8, "good_direction": pl.Int64,
        "current": pl.Float64, "previous": pl.Float64, "last_year": pl.Float64,
        "vs_previous": pl.Float64, "vs_last_year": pl.Float64})


def _window_kpis(window: pl.DataFrame, days: int) -> dict[str, float | None]:
    if window["kpi_date"].n_unique() < days:
        return {key: None for key, *_ in KPIS}

    def total(column: str) -> float | None:
        if column not in window.columns or window[column].null_count() == window.height:
            return None
        return float(window[column].cast(pl.Float64).sum())

    revenue, orders = total("revenue"), total("orders")
    spend = total("ad_spend")
    conversion = None
    if {"sessions", "conversion_rate"} <= set(window.columns):
        # Weighted by sessions, so it is the mart's orders / sessions over the window.
        with_sessions = window.filter(pl.col("sessions").is_not_null()
                                      & pl.col("conversion_rate").is_not_null())
        sessions = float(with_sessions["sessions"].cast(pl.Float64).sum())
        if with_sessions.height == window.height and sessions > 0:
            conversion = float((with_sessions["conversion_rate"]
                                * with_sessions["sessions"].cast(pl.Float64)).sum()) / sessions
    return {
        "revenue": revenue,
        "orders": orders,
        "aov": revenue / orders if revenue is not None and orders else None,
        "conversion_rate": conversion,
        "new_customers": total("new_customers"),
        "ad_spend": spend,
        "mer": revenue / spend if revenue is not None and spend else None,
    }


def _relative(current: float | None, base: float | None) -> float | None:
    if current is None or base is None or base == 0:
        return None
    return current / base - 1


def cohort_grid(retention: pl.DataFrame, as_of: date,
                months: int = COHORT_MONTHS) -> pl.DataFrame:
    """The cohort chart's cells from marts.fct_cohort_retention (the one home of the rule:
    who belongs to a first-order-month cohort and who ordered again).

    retention: `cohort_month, months_after, cohort_customers, active_customers` (the mart's
    rows, any months_after). Output: `cohort_month, customers, months_after (1..months),
    share` with every cohort whose first month ended by `as_of` (a cohort still acquiring
    customers has no retention to show and no final size) times every months_after,
    sorted; share =
    active_customers / customers, null where that month had not ended by `as_of` (not
    observed yet: a partial month never reads as churn) or the mart has no such cell yet.
    Raises ValueError naming a missing column.
    """
    missing = {"cohort_month", "months_after", "cohort_customers", "active_customers"} - set(
        retention.columns)
    if missing:
        raise ValueError(f"retention is missing column(s) {sorted(missing)}")
    schema = {"cohort_month": pl.Date, "customers": pl.Int64, "months_after": pl.Int64,
              "share": pl.Float64}
    # A month is observed when its last day is on or before as_of.
    last_complete = as_of.year * 12 + as_of.month - (0 if (as_of + timedelta(days=1)).day == 1
                                                     else 1)
    cohort_index = pl.col("cohort_month").dt.year() * 12 + pl.col("cohort_month").dt.month()
    frame = retention.with_columns(pl.col("cohort_month").cast(pl.Date),
                                   pl.col("months_after").cast(pl.Int64)).filter(
        cohort_index <= last_complete)
    if not frame.height:
        return pl.DataFrame(schema=schema)
    sizes = frame.group_by("cohort_month").agg(
        pl.col("cohort_customers").first().cast(pl.Int64).alias("customers"))
    grid = sizes.join(pl.DataFrame({"months_after": list(range(1, months + 1))},
                                   schema={"months_after": pl.Int64}), how="cross")
    return (grid.join(frame.select("cohort_month", "months_after", "active_customers"),
                      on=["cohort_month", "months_after"], how="left")
            .with_columns(
                pl.when(cohort_index + pl.col("months_after") <= last_complete)
                .then(pl.col("active_customers") / pl.col("customers"))
                .otherwise(None).cast(pl.Float64).alias("share"))
            .select("cohort_month", "customers", "months_after", "share")
            .sort("cohort_month", "months_after"))
