"""Building the store's daily metric series (`kpi_series`) from the marts frames.

Output is one long frame `metric, dimension, ds, value, volume, money_weight`
(`SERIES_COLUMNS`), the input of `detect_anomalies` and `threshold_baseline`.
"""

from __future__ import annotations

from datetime import date

import polars as pl

SERIES_COLUMNS = ("metric", "dimension", "ds", "value", "volume", "money_weight")

# An assumed cost of handling one support ticket (agent time), in store currency: turns
# a ticket spike into money at stake. Not in the data; change it for your team.
TICKET_HANDLING_COST = 5.0

# Return rate by order-date cohort, pooled over a window of order days (there is no
# refund date in the data; see `kpi_series`).
RETURN_WINDOW_DAYS = 14  # one SKU sells a few lines a day: pool two weeks of cohorts

PAID_WINDOW_DAYS = 7  # cac and roas: over the 7 days ending ds (see _channel_series)

KPI_REQUIRED = ("kpi_date", "orders", "gross_revenue", "discounts")
CHANNEL_REQUIRED = ("channel_date", "channel", "spend", "sessions", "orders", "new_customers")
LINES_REQUIRED = ("order_id", "order_date", "channel", "sku", "gross_revenue", "discounts",
                  "is_refunded", "is_revenue")
TICKETS_REQUIRED = ("category", "created_date")


def kpi_series(daily_kpis: pl.DataFrame, channel_daily: pl.DataFrame,
               order_lines: pl.DataFrame, tickets: pl.DataFrame) -> pl.DataFrame:
    """The store's daily metrics as one long frame, one row per metric, dimension and day.

    Inputs are the marts as polars frames (extra columns are ignored; an empty frame is
    a source the store does not have):
    - daily_kpis (marts.fct_daily_kpis): kpi_date, orders, gross_revenue, discounts;
      optional sessions, first_reply_minutes_median;
    - channel_daily (marts.fct_channel_daily): channel_date, channel, spend, sessions,
      orders, new_customers;
    - order_lines (marts.fct_order_lines): order_id, order_date, channel, sku,
      gross_revenue, discounts, is_refunded, is_revenue;
    - tickets (marts.fct_support_tickets): category, created_date; optional
      first_reply_minutes.

    Output columns: metric, dimension, ds (date), value, volume, money_weight (Float64).
    `volume` is the count behind the value, `money_weight` turns a deviation of one unit
    of value into store currency for that day (impact = |value - expected| x weight):

    | metric | dimension | value | volume | money_weight |
    |---|---|---|---|---|
    | revenue | all, channel=c | gross revenue - discounts of the orders placed that day | orders | 1 |
    | orders | all, channel=c | orders | orders | AOV that day (an order lost is an AOV lost) |
    | conversion_rate | all, channel=c | orders / sessions | sessions | sessions x AOV |
    | aov | all, channel=c | revenue / orders | orders | orders |
    | spend | channel=c (paid) | ad spend | null | 1 |
    | cac | channel=c (paid) | spend / new customers, 7 days ending ds | those new customers | new customers per day |
    | roas | channel=c (paid) | channel revenue / spend, 7 days ending ds | those orders | spend per day |
    | return_rate | all, sku=s | share of the lines ordered in the 14 days ending ds that were refunded | those lines | their revenue / 14 |
    | ticket_volume | all, category=k | tickets created | tickets | assumed handling cost per ticket (5) |
    | first_reply_minutes | all | median first reply of the day's tickets | tickets replied | null (no honest conversion) |

    Revenue is taken before refunds: refunds are booked to the order day weeks later,
    so revenue net of refunds would make the last three weeks look better than they will
    be. Refunds are watched through return_rate, by order-date cohort (there is no
    refund date in the data); its last 21 days of cohorts are immature and are not
    scored by `detect_anomalies`. Paid channels are those with any spend. conversion_rate
    needs sessions, paid-channel metrics need spend, ticket metrics need tickets: a
    store without them gets series without those metrics. Count series have a row for
    every day from their first day to the last day of the data (0 when nothing happened);
    rates have no row on days without sessions (or a 14-day window without lines).
    """
    kpis = _source(daily_kpis, "daily_kpis", KPI_REQUIRED, "kpi_date")
    channels = _source(channel_daily, "channel_daily", CHANNEL_REQUIRED, "channel_date")
    lines = _source(order_lines, "order_lines", LINES_REQUIRED, "order_date")
    tix = _source(tickets, "tickets", TICKETS_REQUIRED, "created_date")
    ends = [frame[column].max() for frame, column in ((kpis, "kpi_date"),
            (channels, "channel_date"), (lines, "order_date"), (tix, "created_date"))
            if frame is not None]
    if not ends:
        return _empty_series()
    last = max(ends)
    parts: list[pl.DataFrame] = []
    if kpis is not None:
        parts.append(_store_series(kpis, tix))
    if channels is not None:
        parts.append(_channel_series(channels, lines, last))
    if lines is not None:
        parts.append(_return_rate_series(lines, last))
    if tix is not None:
        parts.append(_ticket_series(tix, last))
    out = pl.concat([p.select(_series_schema_exprs()) for p in parts if p.height])
    return out.filter(pl.col("value").is_not_null()).sort("metric", "dimension", "ds")


def _source(frame: pl.DataFrame, name: str, required: tuple[str, ...],
            date_column: str) -> pl.DataFrame | None:
    """The frame with decimals as floats, None when the store has no such data."""
    if not isinstance(frame, pl.DataFrame):
        raise TypeError(f"{name} must be a polars DataFrame, got {type(frame).__name__}")
    if frame.height == 0:
        return None
    for column in required:
        if column not in frame.columns:
            raise ValueError(f"{name} is missing column '{column}'")
    if frame.schema[date_column] != pl.Date:
        raise ValueError(f"{name} column '{date_column}' must be a date, got "
                         f"{frame.schema[date_column]}")
    return frame.with_columns(pl.col(pl.Decimal).cast(pl.Float64))


def _series_schema_exprs() -> list[pl.Expr]:
    return [pl.col("metric").cast(pl.Utf8), pl.col("dimension").cast(pl.Utf8),
            pl.col("ds").cast(pl.Date),
            *(pl.col(name).cast(pl.Float64).fill_nan(None)
              for name in ("value", "volume", "money_weight"))]


def _empty_series() -> pl.DataFrame:
    return pl.DataFrame(schema={"metric": pl.Utf8, "dimension": pl.Utf8, "ds": pl.Date,
                                "value": pl.Float64, "volume": pl.Float64,
                                "money_weight": pl.Float64})


def _ratio(numerator: str | pl.Expr, denominator: str | pl.Expr) -> pl.Expr:
    num = pl.col(numerator) if isinstance(numerator, str) else numerator
    den = pl.col(denominator) if isinstance(denominator, str) else denominator
    return pl.when(den > 0).then(num / den).otherwise(None)


def _long(frame: pl.DataFrame, metric: str, value: pl.Expr, volume: pl.Expr | None,
          weight: pl.Expr | None) -> pl.DataFrame:
    return frame.select(
        pl.lit(metric).alias("metric"), "dimension", "ds", value.alias("value"),
        (volume if volume is not None else pl.lit(None, pl.Float64)).alias("volume"),
        (weight if weight is not None else pl.lit(None, pl.Float64)).alias("money_weight"),
    )


def _daily_grid(frame: pl.DataFrame, key: str, last: date, fill: list[str]) -> pl.DataFrame:
    """One row per key and day from the key's first day to `last`; `fill` columns 0."""
    grid = (frame.group_by(key).agg(pl.col("ds").min().alias("first"))
            .select(key, pl.date_ranges("first", pl.lit(last), "1d").alias("ds"))
            .explode("ds"))
    return (grid.join(frame, on=[key, "ds"], how="left")
            .with_columns(pl.col(fill).fill_null(0.0)).sort(key, "ds"))


def _store_series(kpis: pl.DataFrame, tix: pl.DataFrame | None) -> pl.DataFrame:
    has_sessions = "sessions" in kpis.columns and bool((kpis["sessions"].fill_null(0) > 0).any())
    k = kpis.select(
        pl.lit("all").alias("dimension"), pl.col("kpi_date").alias("ds"),
        pl.col("orders").cast(pl.Float64),
        (pl.col("gross_revenue").fill_null(0.0) - pl.col("discounts").fill_null(0.0))
        .cast(pl.Float64).alias("revenue"),
        (pl.col("sessions").cast(pl.Float64) if has_sessions
         else pl.lit(None, pl.Float64)).alias("sessions"),
        (pl.col("first_reply_minutes_median").cast(pl.Float64)
         if "first_reply_minutes_median" in kpis.columns
         else pl.lit(None, pl.Float64)).alias("first_reply"),
    ).with_columns(_ratio("revenue", "orders").alias("aov"))
    parts = [
        _long(k, "revenue", pl.col("revenue"), pl.col("orders"), pl.lit(1.0)),
        _long(k, "orders", pl.col("orders"), pl.col("orders"), pl.col("aov")),
        _long(k, "aov", pl.col("aov"), pl.col("orders"), pl.col("orders")),
    ]
    if has_sessions:
        parts.append(_long(k, "conversion_rate", _ratio("orders", "sessions"),
                           pl.col("sessions"), pl.col("sessions") * pl.col("aov")))
    if k["first_reply"].is_not_null().any():
        if tix is not None and "first_reply_minutes" in tix.columns:
            replied = tix.filter(pl.col("first_reply_minutes").is_not_null()).group_by(
                pl.col("created_date").alias("ds")).agg(pl.len().cast(pl.Float64).alias("n"))
            k = k.join(replied, on="ds", how="left")
        elif "tickets" in kpis.columns:
            k = k.join(kpis.select(pl.col("kpi_date").alias("ds"),
                                   pl.col("tickets").cast(pl.Float64).alias("n")), on="ds")
        else:
            k = k.with_columns(pl.lit(None, pl.Float64).alias("n"))
        parts.append(_long(k.filter(pl.col("first_reply").is_not_null()),
                           "first_reply_minutes", pl.col("first_reply"), pl.col("n"), None))
    return pl.concat(parts)


def _channel_series(channels: pl.DataFrame, lines: pl.DataFrame | None,
                    last: date) -> pl.DataFrame:
    c = channels.group_by(pl.col("channel_date").alias("ds"), "channel").agg(
        pl.col(name).cast(pl.Float64).sum() for name in ("spend", "sessions", "orders",
                                                         "new_customers"))
    if lines is not None:
        revenue = (lines.filter(pl.col("is_revenue").fill_null(False))
                   .group_by(pl.col("order_date").alias("ds"), "channel")
                   .agg((pl.col("gross_revenue").fill_null(0.0)
                         - pl.col("discounts").fill_null(0.0)).sum().alias("revenue")))
        c = c.join(revenue, on=["ds", "channel"], how="full", coalesce=True)
    else:
        c = c.with_columns(pl.lit(None, pl.Float64).alias("revenue"))
    c = _daily_grid(c.filter(pl.col("channel").is_not_null()), "channel", last,
                    ["spend", "sessions", "orders", "new_customers"])
    c = c.with_columns(
        pl.col("revenue").fill_null(0.0) if lines is not None else pl.col("revenue"),
        pl.format("channel={}", "channel").alias("dimension"),
    ).with_columns(_ratio("revenue", "orders").alias("aov"))
    totals = c.group_by("channel").agg(pl.col("spend").sum(), pl.col("sessions").sum(),
                                       pl.col("orders").sum())
    paid = totals.filter(pl.col("spend") > 0)["channel"]
    with_sessions = totals.filter(pl.col("sessions") > 0)["channel"]
    selling = totals.filter(pl.col("orders") > 0)["channel"]
    # A paid channel wins a few dozen new customers a day: a daily CAC varies by ~20%
    # from that count alone and would hide anything short of a tripling, so cac and
    # roas are taken over the 7 days ending ds.
    week = {name: pl.col(name).rolling_sum(PAID_WINDOW_DAYS, min_samples=1).over("channel")
            for name in ("spend", "new_customers", "revenue", "orders")}
    p = c.filter(pl.col("channel").is_in(paid.implode())).with_columns(
        week["spend"].alias("spend_week"), week["new_customers"].alias("new_customers_week"),
        week["orders"].alias("orders_week"),
        (week["revenue"] if lines is not None else pl.lit(None, pl.Float64)).alias("revenue_week"))
    s = c.filter(pl.col("channel").is_in(with_sessions.implode())
                 & pl.col("channel").is_in(selling.implode()))
    o = c.filter(pl.col("channel").is_in(selling.implode()))
    parts = [
        _long(p, "spend", pl.col("spend"), None, pl.lit(1.0)),
        _long(p, "cac", _ratio("spend_week", "new_customers_week"),
              pl.col("new_customers_week"), pl.col("new_customers_week") / PAID_WINDOW_DAYS),
        _long(o, "orders", pl.col("orders"), pl.col("orders"), pl.col("aov")),
        _long(s, "conversion_rate", _ratio("orders", "sessions"), pl.col("sessions"),
              pl.col("sessions") * pl.col("aov")),
    ]
    if lines is not None:
        parts += [
            _long(p, "roas", _ratio("revenue_week", "spend_week"), pl.col("orders_week"),
                  pl.col("spend_week") / PAID_WINDOW_DAYS),
            _long(o, "revenue", pl.col("revenue"), pl.col("orders"), pl.lit(1.0)),
            _long(o, "aov", pl.col("aov"), pl.col("orders"), pl.col("orders")),
        ]
    return pl.concat(parts)


def _return_rate_series(lines: pl.DataFrame, last: date) -> pl.DataFrame:
    sold = lines.filter(pl.col("is_revenue").fill_null(False) & pl.col("sku").is_not_null())
    if sold.is_empty():
        return _empty_series()
    daily = sold.group_by(pl.format("sku={}", "sku").alias("dimension"),
                          pl.col("order_date").alias("ds")).agg(
        pl.len().cast(pl.Float64).alias("lines"),
        pl.col("is_refunded").fill_null(False).sum().cast(pl.Float64).alias("refunded"),
        (pl.col("gross_revenue").fill_null(0.0) - pl.col("discounts").fill_null(0.0))
        .sum().cast(pl.Float64).alias("revenue"),
    )
    store = daily.group_by("ds").agg(pl.col("lines", "refunded", "revenue").sum()).select(
        pl.lit("all").alias("dimension"), "ds", "lines", "refunded", "revenue")
    cohorts = _daily_grid(pl.concat([store, daily]), "dimension", last,
                          ["lines", "refunded", "revenue"])
    window = {name: pl.col(name).rolling_sum(RETURN_WINDOW_DAYS, min_samples=1)
              .over("dimension") for name in ("lines", "refunded", "revenue")}
    return _long(cohorts, "return_rate", _ratio(window["refunded"], window["lines"]),
                 window["lines"], window["revenue"] / RETURN_WINDOW_DAYS)


def _ticket_series(tix: pl.DataFrame, last: date) -> pl.DataFrame:
    daily = tix.group_by(pl.format("category={}", pl.col("category").fill_null("unknown"))
                         .alias("dimension"), pl.col("created_date").alias("ds")).agg(
        pl.len().cast(pl.Float64).alias("tickets"))
    store = daily.group_by("ds").agg(pl.col("tickets").sum()).select(
        pl.lit("all").alias("dimension"), "ds", "tickets")
    grid = _daily_grid(pl.concat([store, daily]), "dimension", last, ["tickets"])
    return _long(grid, "ticket_volume", pl.col("tickets"), pl.col("tickets"),
                 pl.lit(TICKET_HANDLING_COST))
