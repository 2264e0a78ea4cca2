"""Reorder suggestions: a periodic-review, order-up-to policy on the demand forecast.

`reorder_suggestions(forecast, position, terms, *, as_of, ...)` returns one line per SKU
with the safety stock, reorder point, suggested quantity (whole case packs, at least the
MOQ), days of cover, projected stockout date, urgency and the reason in words.

The policy is the (R, S) periodic review, order-up-to system of Silver, Pyke & Peterson,
"Inventory Management and Production Planning and Scheduling" (3rd ed., 1998), ch. 7:
the stock must protect over the review interval plus the lead time. The safety stock
adds the variance of a random lead time as in Chopra & Meindl, "Supply Chain
Management", safety inventory chapter (ss = z sqrt(L sigma_D^2 + D^2 s_L^2)), with the
protection period in place of the lead time:

    P              = lead_time_days + order_cycle_days           (protection period)
    demand over x  = sum of the daily forecast over the next x days
    safety_stock   = k * z * sqrt(var_P + mean_d^2 * sigma_LT^2)
    var_P          = P * (error_sd^2 - level_sd^2) + P^2 * level_sd^2   (with error_sd, level_sd)
                   = P * sigma_d^2                                    (without)
    reorder_point  = demand over lead time + safety_stock
    order_up_to    = demand over P + safety_stock
    inventory_position = on_hand + on_order - committed
    order            order_up_to - inventory_position, when inventory_position <= reorder_point

z = Phi^-1(service level of the SKU's ABC class), k = the class's safety factor (1 by
default, see `safety_factor`); mean_d = demand over P / P. With the
`error_sd` and `level_sd` columns of `forecast_demand` (cross-validated daily error and
its persistent part), the error over P days grows with P^2 for the persistent part: a
forecast 20% low stays 20% low for the whole lead time. We measured what ignoring that
costs: replaying the demo store's second year (benchmarks/inventory_sim.py), true demand
over the protection period beat the order-up-to level in 16% of class-B reviews against
a nominal 5%. Without those columns, sigma_d is
the daily forecast standard deviation, read from the forecast's upper 80% bound (or 95%)
assuming a normal error: sigma = (hi_80 - forecast) / Phi^-1(0.90). The upper bound is
used because the lower one is clipped at zero. sigma_d over P is the root mean square of
the daily values; sigma_LT is lead_time_std_days.
"""

from __future__ import annotations

import math
from datetime import date, datetime

import numpy as np
import polars as pl
from scipy.stats import norm

URGENCY_ORDER = ("order_now", "order_soon", "healthy", "overstock")
DEFAULT_SERVICE_LEVEL = {"A": 0.98, "B": 0.95, "C": 0.90}
DEFAULT_SAFETY_FACTOR = {"A": 1.0, "B": 1.0, "C": 1.0}
COVER_DAYS = 28  # days of cover and daily_forecast use the next four weeks
SOON_DAYS = 7
OVERSTOCK_MIN_DAYS = 90
OVERSTOCK_CYCLES = 3
OUTPUT_COLUMNS = [
    "sku", "supplier_id", "product", "on_hand", "on_order", "committed", "daily_forecast",
    "lead_time_days", "safety_stock", "reorder_point", "days_of_cover",
    "projected_stockout_date", "suggested_qty", "unit_cost", "line_value", "urgency", "reason",
    "approved_qty",
    "inventory_position", "order_up_to", "case_pack", "moq_units", "abc_class",
    "expected_revenue_at_risk", "auto_approved",
]


def _require(frame: pl.DataFrame, name: str, columns: list[str]) -> None:
    if not isinstance(frame, pl.DataFrame):
        raise TypeError(f"{name} must be a polars DataFrame, got {type(frame).__name__}")
    for column in columns:
        if column not in frame.columns:
            raise ValueError(f"{name} is missing column '{column}'")


def _optional(frame: pl.DataFrame, column: str, default, dtype: pl.DataType) -> pl.Expr:
    expr = (pl.col(column) if column in frame.columns else pl.lit(None)).cast(dtype)
    return (expr if default is None else expr.fill_null(default)).alias(column)


def _validate_terms(terms: pl.DataFrame) -> pl.DataFrame:
    _require(terms, "terms", ["sku", "supplier_id", "unit_cost", "lead_time_days"])
    frame = terms.select(
        pl.col("sku").cast(pl.Utf8),
        pl.col("supplier_id").cast(pl.Utf8).fill_null("unknown_supplier"),
        (pl.col("product_title") if "product_title" in terms.columns else pl.lit(None))
        .cast(pl.Utf8).fill_null(pl.col("sku")).alias("product"),
        pl.col("unit_cost").cast(pl.Float64),
        _optional(terms, "price", None, pl.Float64),
        pl.col("lead_time_days").cast(pl.Float64),
        (pl.col("lead_time_std_days") if "lead_time_std_days" in terms.columns
         else pl.lit(None)).cast(pl.Float64)
        .fill_null(0.25 * pl.col("lead_time_days")).alias("lead_time_std_days"),
        _optional(terms, "moq_units", 1, pl.Int64),
        _optional(terms, "case_pack", 1, pl.Int64),
        _optional(terms, "order_cycle_days", 7.0, pl.Float64),
        _optional(terms, "abc_class", "C", pl.Utf8),
        _optional(terms, "location", "default", pl.Utf8),
    )
    if frame["sku"].is_duplicated().any():
        raise ValueError("terms has more than one row for a sku; keep one row per sku")
    problems = {
        "lead_time_days is null or negative": pl.col("lead_time_days").is_null()
        | (pl.col("lead_time_days") < 0),
        "lead_time_std_days is negative": pl.col("lead_time_std_days") < 0,
        "case_pack is below 1": pl.col("case_pack") < 1,
        "moq_units is below 1": pl.col("moq_units") < 1,
        "order_cycle_days is negative": pl.col("order_cycle_days") < 0,
        "unit_cost is negative": pl.col("unit_cost") < 0,
    }
    for message, condition in problems.items():
        bad = frame.filter(condition)["sku"]
        if bad.len():
            raise ValueError(f"terms: {message} for sku(s) {', '.join(bad.head(5))}")
    return frame


def _validate_position(position: pl.DataFrame) -> pl.DataFrame:
    _require(position, "position", ["sku", "on_hand", "on_order", "committed"])
    frame = position.select(
        pl.col("sku").cast(pl.Utf8),
        *(pl.col(c).cast(pl.Int64).fill_null(0) for c in ("on_hand", "on_order", "committed")),
        (pl.col("available") if "available" in position.columns else pl.lit(None))
        .cast(pl.Int64).alias("available"),
    ).with_columns(pl.col("available").fill_null(pl.col("on_hand") - pl.col("committed")))
    if frame["sku"].is_duplicated().any():
        raise ValueError("position has more than one row for a sku; keep one row per sku")
    return frame


def _validate_forecast(forecast: pl.DataFrame) -> pl.DataFrame:
    _require(forecast, "forecast", ["unique_id", "ds", "forecast"])
    if "hi_80" in forecast.columns:
        sigma = (pl.col("hi_80") - pl.col("forecast")) / float(norm.ppf(0.90))
    elif "hi_95" in forecast.columns:
        sigma = (pl.col("hi_95") - pl.col("forecast")) / float(norm.ppf(0.975))
    else:
        sigma = pl.lit(0.0)
    spread = [pl.col(c).cast(pl.Float64).fill_null(0.0).clip(lower_bound=0.0)
              for c in ("error_sd", "level_sd") if c in forecast.columns]
    if len(spread) == 1:
        raise ValueError("forecast has only one of error_sd and level_sd; give both or neither")
    return forecast.select(
        pl.col("unique_id").cast(pl.Utf8).alias("sku"),
        pl.col("ds").cast(pl.Date),
        pl.col("forecast").cast(pl.Float64).fill_null(0.0).clip(lower_bound=0.0),
        sigma.cast(pl.Float64).fill_null(0.0).clip(lower_bound=0.0).alias("sigma"),
        *spread,
    )


def _daily_matrices(forecast: pl.DataFrame, skus: pl.Series, as_of: date,
                    days: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Forecast and sigma per SKU and day 1..days after as_of, and each SKU's horizon.

    Days past the forecast's last day repeat its last value; a SKU without a forecast
    has 0 demand.
    """
    future = (
        forecast.filter(pl.col("ds") > as_of)
        .with_columns((pl.col("ds") - pl.lit(as_of)).dt.total_days().cast(pl.Int64).alias("day"))
        .filter(pl.col("day") <= days)
    )
    horizon = (
        pl.DataFrame({"sku": skus})
        .join(future.group_by("sku").agg(pl.col("day").max().alias("horizon")), on="sku",
              how="left")["horizon"].fill_null(0).to_numpy()
    )
    grid = (
        pl.DataFrame({"sku": skus}).with_row_index("row")
        .join(pl.DataFrame({"day": np.arange(1, days + 1, dtype=np.int64)}), how="cross")
        .join(future.select("sku", "day", "forecast", "sigma"), on=["sku", "day"], how="left")
        .sort("row", "day")
        .with_columns(
            pl.col(c).forward_fill().backward_fill().over("row").fill_null(0.0)
            for c in ("forecast", "sigma")
        )
    )
    shape = (skus.len(), days)
    return (grid["forecast"].to_numpy().reshape(shape), grid["sigma"].to_numpy().reshape(shape),
            horizon)


def _demand_over(cumulative: np.ndarray, daily: np.ndarray, days: np.ndarray) -> np.ndarray:
    """Forecast demand over the next `days` (fractional days take part of the next day)."""
    whole = np.floor(days).astype(np.int64)
    rows = np.arange(daily.shape[0])
    return cumulative[rows, whole] + (days - whole) * daily[rows, whole]


def _round_to_packs(raw: np.ndarray, case_pack: np.ndarray, moq: np.ndarray) -> np.ndarray:
    """Whole case packs, at least the MOQ (itself rounded up to whole packs), or 0."""
    moq_in_packs = np.ceil(moq / case_pack) * case_pack
    # Round before ceil so 48.0000001 units of 12 stay 4 packs.
    packs = np.ceil(np.round(np.maximum(raw, 0) / case_pack, 9)) * case_pack
    return np.where(raw > 0, np.maximum(packs, moq_in_packs), 0).astype(np.int64)


def reorder_suggestions(
    forecast: pl.DataFrame,
    position: pl.DataFrame,
    terms: pl.DataFrame,
    *,
    as_of: date,
    service_level: dict[str, float] | None = None,
    safety_factor: dict[str, float] | None = None,
    budget: float | None = None,
    storage_capacity: dict[str, float] | None = None,
    auto_approve_below: float = 0.0,
    currency: str = "USD",
) -> pl.DataFrame:
    """One reorder line per SKU from the daily demand forecast, stock and supplier terms.

    Args:
        forecast: output of `forecast_demand` on daily data: `unique_id` (the sku), `ds`,
            `forecast` (units/day), optional `hi_80` or `hi_95` for the uncertainty.
        position: one row per sku: `sku, on_hand, on_order, committed` (units), optional
            `available` (units that can be sold now; default on_hand - committed).
        terms: one row per sku: `sku, supplier_id, unit_cost, lead_time_days`, and
            optionally `product_title, price, lead_time_std_days` (default 0.25 x lead
            time), `moq_units` (1), `case_pack` (1), `order_cycle_days` (7), `abc_class`
            ("C"), `location` ("default", where the SKU is stocked). Costs and prices in the store currency, times in days.
        as_of: the day the suggestion is made; the forecast from the next day is used.
        service_level: cycle service level per ABC class, merged over the defaults
            A 0.98, B 0.95, C 0.90 (unknown classes get C's).
        safety_factor: multiplier on the safety stock per ABC class, merged over the
            defaults A 1, B 1, C 1 (unknown classes get C's): the calibration of the
            safety stock against what the store's own replay shows (see
            `forecasting.safety_calibration.fit_safety_factor`), so that the share of review cycles
            whose demand beats the order-up-to level matches 1 - service level. On the
            demo store's replay (benchmarks/inventory_sim.py, forecasts of ccaecdf) the
            factors fitted on the first half are A 0.66, B 0.60, C 1.18: with 1, 0.8% /
            1.3% / 12.2% of the second half's cycles ran short against 2% / 5% / 10%,
            with them 2.7% / 6.0% / 10.2% on the same forecasts. The default stays 1:
            fit the factors on the store's own replay (they depend on its forecasts).
        budget: cash for the whole order; when the lines cost more, they are funded in
            priority order (urgency, then margin per unit of cost (price - cost) / cost)
            until it runs out: a line that does not fit is cut to the largest whole
            number of packs at least the MOQ that fits (or 0), and what is left funds
            the next lines.
        storage_capacity: units each location can hold, keyed by the `location` of terms
            (default "default"); orders are cut, in the same priority order, to the room
            left after on hand + on order of the SKUs stocked there. Applied before the
            budget; a location not named is unconstrained.
        auto_approve_below: lines worth more than 0 and less than this, not "order_now",
            get `auto_approved`.
        currency: the store currency, for the reason of a line cut by the budget.

    Returns:
        One row per sku in terms (a sku without position has no stock; a position sku
        without terms is an error), sorted by supplier, urgency, sku, with columns
        `sku, supplier_id, product, on_hand, on_order, committed, daily_forecast`
        (mean units/day over the next 28 days), `lead_time_days, safety_stock,
        reorder_point` (units), `days_of_cover` (available / daily_forecast, null without
        demand), `projected_stockout_date` (as_of + first day the cumulative forecast
        exceeds available stock, as_of when already short, null if beyond the forecast),
        `suggested_qty` (units), `unit_cost, line_value` (suggested_qty x unit_cost),
        `urgency` (order_now, order_soon, healthy, overstock), `reason`, `approved_qty`
        (null, for the buyer), then `inventory_position, order_up_to, case_pack,
        moq_units, abc_class, expected_revenue_at_risk` (price x forecast units short
        before an order placed today arrives) and `auto_approved`.

    Urgency: order_now when the inventory position is at or below the reorder point and
    either a stockout is projected within the lead time or the position is below the
    safety stock; order_soon when at or below the reorder point otherwise, or when the
    next 7 days of demand take it there; overstock when stock covers more than 3 x (lead
    time + order cycle) and more than 90 days, or there is stock and no demand at all.
    """
    if isinstance(as_of, datetime):
        as_of = as_of.date()
    if not isinstance(as_of, date):
        raise TypeError(f"as_of must be a date, got {type(as_of).__name__}")
    levels = {**DEFAULT_SERVICE_LEVEL, **(service_level or {})}
    for cls, level in levels.items():
        if not 0 < level < 1:
            raise ValueError(f"service level for class {cls!r} must be between 0 and 1, "
                             f"got {level!r}")
    factors = {**DEFAULT_SAFETY_FACTOR, **(safety_factor or {})}
    for cls, factor in factors.items():
        if factor is None or not math.isfinite(factor) or factor < 0:
            raise ValueError(f"safety factor for class {cls!r} must be a number >= 0, "
                             f"got {factor!r}")
    if budget is not None and budget < 0:
        raise ValueError(f"budget must be >= 0, got {budget!r}")
    for location, units in (storage_capacity or {}).items():
        if units is None or units < 0:
            raise ValueError(f"storage capacity of {location!r} must be >= 0 units, got {units!r}")
    terms = _validate_terms(terms)
    position = _validate_position(position)
    forecast = _validate_forecast(forecast)
    orphans = position.join(terms, on="sku", how="anti")["sku"]
    if orphans.len():
        raise ValueError(f"position has sku(s) without terms: {', '.join(orphans.head(5))}; "
                         "add them to terms or drop them from position")

    lines = (
        terms.join(position, on="sku", how="left")
        .with_columns(pl.col(c).fill_null(0) for c in ("on_hand", "on_order", "committed",
                                                       "available"))
        .sort("sku")
    )
    lead = lines["lead_time_days"].to_numpy()
    protection = lead + lines["order_cycle_days"].to_numpy()
    days = max(math.ceil(protection.max(initial=0.0)) + 1, COVER_DAYS + 1, SOON_DAYS + 1)
    days = max(days, int(forecast.filter(pl.col("ds") > as_of)
                         .select((pl.col("ds").max() - pl.lit(as_of)).dt.total_days())
                         .item() or 0))
    daily, sigma, horizon = _daily_matrices(forecast, lines["sku"], as_of, days)
    cumulative = np.concatenate([np.zeros((daily.shape[0], 1)), np.cumsum(daily, axis=1)],
                                axis=1)

    demand_lead = _demand_over(cumulative, daily, lead)
    demand_protection = _demand_over(cumulative, daily, protection)
    demand_week = cumulative[:, SOON_DAYS]
    daily_forecast = cumulative[:, COVER_DAYS] / COVER_DAYS
    in_protection = np.arange(days)[None, :] < np.ceil(protection)[:, None]
    sigma_daily = np.sqrt(np.where(in_protection, sigma**2, 0).sum(axis=1)
                          / np.maximum(in_protection.sum(axis=1), 1))
    mean_daily = np.where(protection > 0, demand_protection / np.maximum(protection, 1e-12), 0)
    z = norm.ppf([levels.get(c, levels["C"]) for c in lines["abc_class"]])
    lead_std = lines["lead_time_std_days"].to_numpy()
    if "error_sd" in forecast.columns:
        # Forecast errors are not independent from day to day: a level error lasts the
        # whole protection period, so it adds P^2 level_sd^2, not P level_sd^2.
        spread = (pl.DataFrame({"sku": lines["sku"]})
                  .join(forecast.group_by("sku").agg(pl.col("error_sd", "level_sd").first()),
                        on="sku", how="left").fill_null(0.0))
        error_sd, level_sd = spread["error_sd"].to_numpy(), spread["level_sd"].to_numpy()
        noise = np.maximum(error_sd**2 - level_sd**2, 0.0)
        demand_variance = protection * noise + protection**2 * level_sd**2
    else:
        demand_variance = protection * sigma_daily**2
    factor = np.array([factors.get(c, factors["C"]) for c in lines["abc_class"]], dtype=float)
    safety_stock = factor * z * np.sqrt(demand_variance + mean_daily**2 * lead_std**2)
    reorder_point = demand_lead + safety_stock
    order_up_to = demand_protection + safety_stock

    on_hand, on_order, committed, available = (
        lines[c].to_numpy().astype(np.float64)
        for c in ("on_hand", "on_order", "committed", "available"))
    inventory_position = on_hand + on_order - committed
    below_reorder_point = (inventory_position <= reorder_point) & (order_up_to > inventory_position)
    raw_qty = np.where(below_reorder_point, order_up_to - inventory_position, 0.0)
    case_pack = lines["case_pack"].to_numpy()
    moq = lines["moq_units"].to_numpy()
    suggested = _round_to_packs(raw_qty, case_pack, moq)

    in_stock = np.maximum(available, 0)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        days_of_cover = np.where(daily_forecast > 0, in_stock / daily_forecast, np.nan)
    short = cumulative[:, 1:] > available[:, None]
    short &= np.arange(1, days + 1)[None, :] <= horizon[:, None]
    stockout_day = np.where(available < 0, 0,
                            np.where(short.any(axis=1), short.argmax(axis=1) + 1, -1))
    stockout_in_lead = (stockout_day >= 0) & (stockout_day <= lead)
    order_now = below_reorder_point & (stockout_in_lead | (inventory_position < safety_stock))
    order_soon = ~order_now & (below_reorder_point | (
        (demand_week > 0) & (inventory_position - demand_week <= reorder_point)))
    no_demand = cumulative[:, -1] <= 0
    overstock = ~order_now & ~order_soon & (
        ((days_of_cover > OVERSTOCK_CYCLES * protection) & (days_of_cover > OVERSTOCK_MIN_DAYS))
        | (no_demand & (in_stock > 0)))
    urgency = np.select([order_now, order_soon, overstock],
                        ["order_now", "order_soon", "overstock"], "healthy")
    short_units = np.maximum(demand_lead - in_stock, 0)

    lines = lines.with_columns(
        pl.Series("daily_forecast", daily_forecast),
        pl.Series("safety_stock", safety_stock),
        pl.Series("reorder_point", reorder_point),
        pl.Series("order_up_to", order_up_to),
        pl.Series("protection_days", protection),
        pl.Series("days_of_cover", days_of_cover).fill_nan(None),
        pl.Series("stockout_day", stockout_day),
        pl.Series("inventory_position", inventory_position.astype(np.int64)),
        pl.Series("raw_qty", raw_qty),
        pl.Series("suggested_qty", suggested),
        pl.Series("urgency", urgency),
        pl.Series("short_units", short_units),
        pl.Series("no_demand", no_demand),
    ).with_columns(
        pl.when(pl.col("stockout_day") >= 0)
        .then(pl.lit(as_of) + pl.duration(days=pl.col("stockout_day")))
        .alias("projected_stockout_date"),
        (pl.col("price") * pl.col("short_units")).alias("expected_revenue_at_risk"),
        _reason().alias("reason"),
    )
    lines = _apply_budget(_apply_storage(lines, storage_capacity), budget, currency)
    rank = {u: i for i, u in enumerate(URGENCY_ORDER)}
    return (
        lines.with_columns(
            (pl.col("suggested_qty") * pl.col("unit_cost")).alias("line_value"),
        )
        .with_columns(
            ((pl.col("line_value") > 0) & (pl.col("line_value") < auto_approve_below)
             & (pl.col("urgency") != "order_now")).fill_null(False).alias("auto_approved"),
            pl.lit(None, pl.Int64).alias("approved_qty"),
            pl.col("urgency").replace_strict(rank, return_dtype=pl.Int64).alias("urgency_rank"),
        )
        .sort("supplier_id", "urgency_rank", "sku")
        .select(OUTPUT_COLUMNS)
    )


def _whole(column: str) -> pl.Expr:
    return pl.col(column).round(0).cast(pl.Int64)


def _reason() -> pl.Expr:
    """The line in words, with the numbers a buyer checks."""
    cover = (
        pl.when((pl.col("available") <= 0) & pl.col("days_of_cover").is_null())
        .then(pl.lit("out of stock and no forecast demand"))
        .when(pl.col("available") <= 0).then(pl.lit("out of stock"))
        .when(pl.col("days_of_cover").is_null()).then(pl.lit("no forecast demand"))
        .when(pl.col("days_of_cover") > 99_999).then(pl.lit("stock covers over 99999 days"))
        .otherwise(pl.format("stock covers {} days", _whole("days_of_cover")))
    )
    packs = (
        pl.when(pl.col("case_pack") > 1)
        .then(pl.format(" ({} cases of {})", pl.col("suggested_qty") // pl.col("case_pack"),
                        pl.col("case_pack")))
        .otherwise(pl.lit(" units"))
    )
    moq_in_packs = ((pl.col("moq_units") + pl.col("case_pack") - 1) // pl.col("case_pack")
                    * pl.col("case_pack"))
    moq = (
        pl.when((pl.col("suggested_qty") == moq_in_packs) & (pl.col("moq_units") > 1)
                & (pl.col("raw_qty") < moq_in_packs))
        .then(pl.format(" (the MOQ of {})", pl.col("moq_units")))
        .otherwise(pl.lit(""))
    )
    order = pl.format(
        "{}, lead time {} days; order {}{}{} to cover {} days + safety stock {}",
        cover, _whole("lead_time_days"), pl.col("suggested_qty"), packs, moq,
        _whole("protection_days"), _whole("safety_stock"),
    )
    return (
        pl.when(pl.col("suggested_qty") > 0).then(order)
        .when(pl.col("urgency") == "overstock").then(pl.format(
            "{}, more than {} x lead time + order cycle ({} days); no order", cover,
            pl.lit(OVERSTOCK_CYCLES), _whole("protection_days")))
        .when(pl.col("urgency") == "order_soon").then(pl.format(
            "{}; inventory position {} reaches the reorder point {} within {} days; "
            "no order yet", cover, pl.col("inventory_position"), _whole("reorder_point"),
            pl.lit(SOON_DAYS)))
        .when(pl.col("no_demand")).then(pl.format("{}; no order", cover))
        .otherwise(pl.format(
            "{}; inventory position {} is above the reorder point {}; no order", cover,
            pl.col("inventory_position"), _whole("reorder_point")))
    )


CURRENCY_SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "CAD": "CA$", "AUD": "A$"}


def _money(amount: float, currency: str) -> str:
    symbol = CURRENCY_SYMBOLS.get(currency)
    return f"{symbol}{amount:,.0f}" if symbol else f"{amount:,.0f} {currency}"


def _apply_budget(lines: pl.DataFrame, budget: float | None, currency: str = "USD") -> pl.DataFrame:
    """Fund lines in priority order until the cash budget runs out (see the docstring)."""
    if budget is None:
        return lines
    return _apply_limit(lines, budget, pl.col("unit_cost").fill_null(0.0),
                        f"the cash budget of {_money(budget, currency)}")


def _apply_storage(lines: pl.DataFrame, capacity: dict[str, float] | None) -> pl.DataFrame:
    """Cut orders to the free room of each location with a storage capacity (in units).

    Free room = capacity - (on hand + on order) of the SKUs stocked there; the orders of a
    location are funded in the same priority order as the budget.
    """
    if not capacity:
        return lines
    parts = []
    for location, part in lines.group_by("location", maintain_order=True):
        name = location[0]
        if name not in capacity:
            parts.append(part)
            continue
        stocked = float(part.select(pl.col("on_hand").clip(lower_bound=0).sum()
                                    + pl.col("on_order").sum()).item() or 0)
        room = max(float(capacity[name]) - stocked, 0.0)
        label = (f"the storage capacity of {name} ({capacity[name]:,.0f} units, "
                 f"{room:,.0f} free)")
        parts.append(_apply_limit(part, room, pl.lit(1.0), label))
    return pl.concat(parts, how="vertical_relaxed") if parts else lines


def _apply_limit(lines: pl.DataFrame, limit: float, per_unit: pl.Expr,
                 label: str) -> pl.DataFrame:
    """Fund lines in priority order (urgency, then margin per unit of cost) within `limit`.

    `per_unit` is what one unit uses of the limit (its cost for a budget, 1 for storage).
    Lines are taken in priority order; a line that does not fit whole is cut to the largest
    whole number of case packs, at least the MOQ, that fits (or to 0), and what is left
    goes on to the next lines, so a large urgent line does not leave the rest unfunded.
    The reason of every cut line says what was cut and why.
    """
    value = pl.col("suggested_qty") * per_unit
    total = lines.select(value.sum()).item() or 0.0
    if total <= limit + 1e-9:
        return lines
    rank = {u: i for i, u in enumerate(URGENCY_ORDER)}
    margin = (pl.col("price") - pl.col("unit_cost")) / pl.col("unit_cost")
    ordered = (
        lines.with_columns(
            per_unit.cast(pl.Float64).fill_null(0.0).alias("per_unit"),
            pl.col("urgency").replace_strict(rank, return_dtype=pl.Int64).alias("urgency_rank"),
            margin.fill_nan(None).alias("margin"),
        )
        .sort(["urgency_rank", "margin", "sku"], descending=[False, True, False],
              nulls_last=True)
    )
    qty = ordered["suggested_qty"].to_numpy()
    unit = ordered["per_unit"].to_numpy()
    pack = ordered["case_pack"].to_numpy()
    moq_packs = np.ceil(ordered["moq_units"].to_numpy() / pack) * pack
    funded = qty.copy()
    left = float(limit)
    for i in np.flatnonzero(qty > 0):
        use = qty[i] * unit[i]
        if use <= left + 1e-9:
            left -= use
            continue
        fits = np.floor(left / (pack[i] * unit[i]) + 1e-9) * pack[i] if unit[i] > 0 else qty[i]
        funded[i] = int(fits) if fits >= moq_packs[i] else 0
        left -= funded[i] * unit[i]
    note = pl.format(f"; cut by {label} from {{}} to {{}}", pl.col("suggested_qty"),
                     pl.col("cut_to"))
    return (
        ordered.with_columns(pl.Series("cut_to", funded, dtype=pl.Int64))
        .with_columns(
            pl.when(pl.col("cut_to") != pl.col("suggested_qty"))
            .then(pl.col("reason") + note).otherwise(pl.col("reason")).alias("reason"),
            pl.col("cut_to").alias("suggested_qty"),
        )
        .drop("per_unit", "urgency_rank", "margin", "cut_to")
    )
