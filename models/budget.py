"""Where the next ad dollar goes: response curves of paid channels and budget advice.

Per paid channel, the store-measured new customers of each day are modelled as

    new_t ~ quasi-Poisson(mean = demand_t * beta * exp(drift_t) * hill(adstock_t))
    adstock_t = decay * adstock_{t-1} + (1 - decay) * spend_t
    hill(a) = a^shape / (a^shape + half_saturation^shape)

demand_t is the number of new customers the store got that day from channels without
spend (organic, direct, email...), smoothed over 7 days: it carries the season, the
store's growth and its promotions, so the curve is left with what spend explains. This is
the adstock-and-saturation structure of marketing-mix models (Jin, Wang, Sun, Chan &
Koehler 2017, "Bayesian Methods for Media Mix Modeling with Carryover and Shape Effects",
Google; the geometric adstock of Broadbent 1979), fitted here by maximum likelihood with
scipy (L-BFGS-B from a grid of carry-over rates and half-saturation points), with a
quasi-Poisson covariance of the log-parameters (dispersion from Pearson's chi-square);
every interval below is a delta-method interval on that covariance (on the log scale
for positive quantities).

The advice keeps the total budget: it moves money to the channels whose next dollar
earns most (value per new customer x marginal new customers per dollar), within the
spend each channel has run at (a curve is not extrapolated past 1.25 x the highest
28-day spend it has seen, nor below 0.75 x the lowest), and only when the gain's 90%
interval is above zero. Where the data cannot support a curve (too few days, too little
variation in spend) the channel keeps its budget and the reason says so.

Assumptions a reader must know: store attribution (last click by UTM) decides which
channel a new customer belongs to; a channel's halo on organic demand is not modelled,
so the curves describe attributed customers, not total incrementality.

Pure: numpy, scipy and polars only; called from a script, a notebook or a Dagster step.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np
import polars as pl
from scipy import optimize, signal

MIN_DAYS = 120  # days with spend a curve needs
DRIFT_KNOT_DAYS = 120  # the demand index's slow drift: a linear spline, a knot every 120 days
MIN_SPEND_VARIATION = 0.10  # coefficient of variation of the 14-day average spend
CURRENT_DAYS = 28  # "today's" spend and demand: the mean of the last 28 days
EXTRAPOLATION = (0.75, 1.25)  # of the lowest / highest 28-day spend seen
MAX_MOVE = 0.5  # no channel's budget moves by more than half in one piece of advice
LEVEL = 0.90
UNCERTAIN_RATIO = 10.0  # a marginal-return interval wider than this (hi / lo) is a guess
Z = 1.6448536269514722  # two-sided 90%


def adstock(spend: np.ndarray, decay: float) -> np.ndarray:
    """Geometric carry-over, normalised so that a constant spend is its own adstock.

    spend: (n,) spend per day (any currency unit); decay in [0, 1): the share of the day's
    adstock that carries to the next day. Returns (n,) in the spend's unit; the series
    starts as if its first day's spend had always run. Source: Broadbent (1979).
    """
    x = np.asarray(spend, dtype=float)
    if x.size == 0:
        return x
    out, _ = signal.lfilter([1.0 - decay], [1.0, -decay], x, zi=[decay * x[0]])
    return out


def hill(x: np.ndarray | float, half_saturation: float, shape: float) -> np.ndarray:
    """Hill saturation x^shape / (x^shape + half^shape): 0 at 0, 1/2 at half_saturation.

    x and half_saturation in the same unit (spend per day)."""
    z = np.power(np.maximum(np.asarray(x, dtype=float), 0.0) / half_saturation, shape)
    return z / (1.0 + z)


def _hill_slope(x: np.ndarray | float, half: float, shape: float) -> np.ndarray:
    """d hill / dx (per unit of spend)."""
    x = np.maximum(np.asarray(x, dtype=float), 1e-12)
    z = np.power(x / half, shape)
    return shape * z / (x * (1.0 + z) ** 2)


@dataclass
class ResponseCurve:
    """A fitted channel: new customers per day = demand * beta * hill(adstock).

    Parameters are the maximum-likelihood estimates; `theta` (4,) holds them on the log
    scale (log beta, log half_saturation, log shape, logit decay) and `cov` (4, 4) their
    quasi-Poisson covariance. Spend in the store's currency per day; demand in unpaid new
    customers per day."""

    channel: str
    beta: float
    half_saturation: float
    shape: float
    decay: float
    dispersion: float
    n_days: int
    spend_range: tuple[float, float]  # lowest and highest 28-day average spend seen
    theta: np.ndarray = field(repr=False)
    cov: np.ndarray = field(repr=False)

    def new_customers(self, spend: np.ndarray | float, demand: float,
                      theta: np.ndarray | None = None) -> np.ndarray:
        """Expected new customers per day at a steady spend per day (adstock = spend)."""
        beta, half, shape, _ = _unpack(self.theta if theta is None else theta)
        return demand * beta * hill(spend, half, shape)

    def marginal(self, spend: float, demand: float, theta: np.ndarray | None = None) -> float:
        """Extra new customers per day from one more unit of spend per day, at `spend`."""
        beta, half, shape, _ = _unpack(self.theta if theta is None else theta)
        return float(demand * beta * _hill_slope(spend, half, shape))

    def interval(self, quantity, *, log: bool = False) -> tuple[float, float]:
        """Delta-method 90% interval of quantity(theta) (on the log scale when `log`, for
        a positive quantity)."""
        return _delta([self], lambda thetas: quantity(thetas[0]), log=log)



def _unpack(theta: np.ndarray) -> tuple[float, float, float, float]:
    log_beta, log_half, log_shape, logit_decay = theta[:4]
    return (float(np.exp(log_beta)), float(np.exp(log_half)), float(np.exp(log_shape)),
            float(1.0 / (1.0 + np.exp(-logit_decay))))


def drift_basis(n: int) -> np.ndarray:
    """(n, k) linear-spline (hat) basis over n days with a knot every DRIFT_KNOT_DAYS,
    minus its value on the last day, so a drift is 0 today. k = 0 below two knots."""
    knots = np.linspace(0, n - 1, max(round((n - 1) / DRIFT_KNOT_DAYS) + 1, 2))
    if knots.size < 3:
        return np.zeros((n, 0))
    t = np.arange(n, dtype=float)
    width = knots[1] - knots[0]
    hats = np.clip(1 - np.abs(t[:, None] - knots[None, :-1]) / width, 0, None)
    return hats - hats[-1]


def _mean(theta: np.ndarray, spend: np.ndarray, demand: np.ndarray,
          basis: np.ndarray | None = None) -> np.ndarray:
    beta, half, shape, decay = _unpack(theta)
    if basis is None:
        basis = drift_basis(spend.size)
    drift = np.exp(basis @ theta[4:]) if basis.shape[1] else 1.0
    return np.maximum(demand * beta * drift * hill(adstock(spend, decay), half, shape), 1e-9)


def _nll(theta: np.ndarray, spend: np.ndarray, demand: np.ndarray, y: np.ndarray,
         basis: np.ndarray) -> float:
    mu = _mean(theta, spend, demand, basis)
    return float(np.sum(mu - y * np.log(mu)))


def fit_response_curve(channel: str, spend: np.ndarray, new_customers: np.ndarray,
                       demand: np.ndarray) -> ResponseCurve:
    """Fit one channel's curve by maximum likelihood.

    spend, new_customers, demand: (n,) per consecutive day (spend in currency per day,
    counts per day; demand = unpaid new customers, already smoothed, > 0). Raises
    ValueError if the arrays differ in length or have fewer than MIN_DAYS days.
    """
    spend = np.asarray(spend, dtype=float)
    y = np.asarray(new_customers, dtype=float)
    demand = np.maximum(np.asarray(demand, dtype=float), 1e-3)
    if not (spend.size == y.size == demand.size):
        raise ValueError(f"{channel}: spend, new_customers and demand differ in length")
    if spend.size < MIN_DAYS:
        raise ValueError(f"{channel}: {spend.size} days, a curve needs {MIN_DAYS}")
    from threadpoolctl import threadpool_limits

    # BLAS threads only slow a 4-parameter fit down, badly when the cores are busy.
    with threadpool_limits(limits=1, user_api="blas"):
        return _fit(channel, spend, y, demand)


def _fit(channel: str, spend: np.ndarray, y: np.ndarray, demand: np.ndarray) -> ResponseCurve:
    typical = float(np.median(spend[spend > 0])) if (spend > 0).any() else 1.0
    bounds = [(-12.0, 8.0), (np.log(0.05 * typical), np.log(20 * typical)),
              (np.log(0.5), np.log(3.0)), (-4.0, 2.2),  # decay from 0.02 to 0.9
              ]
    basis = drift_basis(spend.size)
    bounds += [(-1.5, 1.5)] * basis.shape[1]  # slow drift of the demand index's relation
    best: optimize.OptimizeResult | None = None
    for decay in (0.1, 0.3, 0.5, 0.7):
        for half_mult in (0.5, 1.5, 4.0):
            theta = np.array([0.0, np.log(half_mult * typical), 0.0,
                              np.log(decay / (1 - decay)), *([0.0] * basis.shape[1])])
            # beta in closed form given the rest: sum(y) = beta * sum(demand * hill)
            h = demand * hill(adstock(spend, decay), half_mult * typical, 1.0)
            theta[0] = np.log(max(y.sum(), 1.0) / max(h.sum(), 1e-9))
            res = optimize.minimize(_nll, theta, args=(spend, demand, y, basis), method="L-BFGS-B",
                                    bounds=bounds)
            if best is None or res.fun < best.fun:
                best = res
    assert best is not None
    theta = best.x
    mu = _mean(theta, spend, demand, basis)
    k_params = theta.size
    dispersion = max(float(np.sum((y - mu) ** 2 / mu) / max(y.size - k_params, 1)), 1.0)
    # Fisher information of the log-parameters: sum mu * J J^T, J = d log mu / d theta.
    eps = 1e-4
    jac = np.empty((y.size, k_params))
    for k in range(k_params):
        step = np.zeros(k_params)
        step[k] = eps
        jac[:, k] = (np.log(_mean(theta + step, spend, demand, basis))
                     - np.log(_mean(theta - step, spend, demand, basis))) / (2 * eps)
    info = (jac * mu[:, None]).T @ jac
    cov = dispersion * np.linalg.pinv(info)
    avg28 = np.convolve(spend, np.ones(CURRENT_DAYS) / CURRENT_DAYS, mode="valid")
    beta, half, shape, decay = _unpack(theta)
    return ResponseCurve(channel=channel, beta=beta, half_saturation=half, shape=shape,
                         decay=decay, dispersion=dispersion, n_days=int(y.size),
                         spend_range=(float(avg28.min()), float(avg28.max())),
                         theta=theta.copy(), cov=(cov + cov.T) / 2)


def _centred_mean(x: np.ndarray, days: int) -> np.ndarray:
    half = days // 2
    padded = np.pad(x, (half, days - 1 - half), mode="edge")
    return np.convolve(padded, np.ones(days) / days, mode="valid")


def demand_index(unpaid_new_customers: np.ndarray,
                 returning_orders: np.ndarray | None = None) -> np.ndarray:
    """The store's demand per day, in unpaid new customers per day: what the curves scale.

    unpaid_new_customers: (n,) new customers from channels without spend, per day;
    returning_orders: (n,) orders of returning customers per day (optional). A store gets
    few unpaid new customers a day, too few to show a day's demand, so the index takes
    its day-to-day shape (weekdays, promotions, the BFCM peak) from the 7-day centred
    mean of the returning customers' orders, which are many, and its level from the
    ratio of the two over 13 weeks (centred). Without returning orders: the 7-day
    centred mean of the unpaid new customers. Floored at 0.1. Returns (n,).
    """
    unpaid = np.asarray(unpaid_new_customers, dtype=float)
    if unpaid.size == 0:
        return unpaid
    if returning_orders is None:
        return np.maximum(_centred_mean(unpaid, 7), 0.1)
    ret = np.asarray(returning_orders, dtype=float)
    if ret.shape != unpaid.shape:
        raise ValueError("unpaid_new_customers and returning_orders differ in length")
    level = _centred_mean(unpaid, 91) / np.maximum(_centred_mean(ret, 91), 1e-9)
    return np.maximum(_centred_mean(ret, 7) * level, 0.1)


def _delta(curves: list[ResponseCurve], quantity, *, log: bool = False) -> tuple[float, float]:
    """90% delta-method interval of quantity([theta of each curve]); the curves'
    estimates are independent (block-diagonal covariance)."""
    thetas = [c.theta.copy() for c in curves]

    def f(ts: list[np.ndarray]) -> float:
        value = float(quantity(ts))
        return float(np.log(max(value, 1e-300))) if log else value

    point = f(thetas)
    var = 0.0
    for k, c in enumerate(curves):
        grad = np.empty(c.theta.size)
        for j in range(c.theta.size):
            h = 1e-4
            up = [t.copy() for t in thetas]
            down = [t.copy() for t in thetas]
            up[k][j] += h
            down[k][j] -= h
            grad[j] = (f(up) - f(down)) / (2 * h)
        var += float(grad @ c.cov @ grad)
    sd = float(np.sqrt(max(var, 0.0)))
    lo, hi = point - Z * sd, point + Z * sd
    return (float(np.exp(lo)), float(np.exp(hi))) if log else (lo, hi)


def allocate_budget(curves: list[ResponseCurve], current: np.ndarray, demand: np.ndarray,
                    value: np.ndarray) -> np.ndarray:
    """The spend per day of each curve that maximises sum(value * new customers) at the
    same total as `current`, by SLSQP (scipy), each channel kept within MAX_MOVE of its
    current spend and within EXTRAPOLATION of the 28-day spends its curve has seen.

    curves: k fitted curves; current, demand, value: (k,) today's spend per day, demand
    index and value per new customer. Returns (k,) spend per day (today's split if the
    optimiser fails)."""
    lo = np.array([max(c.spend_range[0] * EXTRAPOLATION[0], s * (1 - MAX_MOVE))
                   for c, s in zip(curves, current, strict=True)])
    hi = np.array([min(c.spend_range[1] * EXTRAPOLATION[1], s * (1 + MAX_MOVE))
                   for c, s in zip(curves, current, strict=True)])
    lo, hi = np.minimum(lo, current), np.maximum(hi, current)
    total = float(current.sum())
    scale = max(total, 1.0)

    def minus_value(x: np.ndarray) -> float:
        spend = x * scale
        return -float(sum(v * c.new_customers(s, d)
                          for c, s, d, v in zip(curves, spend, demand, value, strict=True)))

    res = optimize.minimize(
        minus_value, current / scale, method="SLSQP",
        bounds=list(zip(lo / scale, hi / scale, strict=True)),
        constraints=[{"type": "eq", "fun": lambda x: x.sum() - total / scale}])
    out = res.x * scale if res.success else current.copy()
    return np.clip(out, lo, hi)


def budget_recommendations(daily: pl.DataFrame, *, as_of: dt.date,
                           value_per_customer: dict[str, float] | None = None,
                           value_basis: str = "new customers",
                           currency: str = "USD") -> pl.DataFrame:
    """Response curve, marginal return and suggested daily budget per paid channel.

    daily: one row per date x channel with columns date (Date), channel (str), spend
    (float, currency per day, 0 where the channel did not run), new_customers (int,
    store-attributed first orders), unpaid_new_customers (int, the same for every
    channel of a date: new customers from channels without spend) and optionally
    returning_orders (int, the same for every channel of a date: orders of returning
    customers), which make the demand index (demand_index). Rows after `as_of`
    are ignored; missing dates count as no spend and no customers.
    value_per_customer: channel -> value of one new customer (e.g. CM2 over their first
    90 days); without it the advice is in new customers and value_basis says so.

    Returns one row per paid channel (spend > 0 in the last 28 days): channel, status
    ('advice' when the budget should move, 'keep' when the curve is fitted but moving
    money would not pay with 90% confidence, 'no_curve' when the data cannot support a
    curve), current_spend and suggested_spend (per day), new_customers_per_day at
    today's spend, marginal_new_customers_per_100 with its 90% interval
    (marginal_lo/hi), value_per_customer, marginal_return and average_return (value
    per unit of spend), saturation (today's spend / half saturation), the curve
    (beta, half_saturation, shape, decay), fit_days, expected_weekly_gain with its
    interval (the whole reallocation, the same on every row), reason (words), headline
    (words, the same on every row). Raises ValueError when a required column is
    missing.
    """
    need = {"date", "channel", "spend", "new_customers", "unpaid_new_customers"}
    missing = need - set(daily.columns)
    if missing:
        raise ValueError(f"daily frame lacks {sorted(missing)}")
    daily = daily.filter(pl.col("date") <= as_of)
    if daily.is_empty():
        return _empty()
    series, demand = channel_series(daily, daily["date"].min(), as_of)
    rows, curves, current, now_demand, values = [], [], [], [], []
    for channel, (spend, y) in series.items():
        if spend[-CURRENT_DAYS:].sum() <= 0:
            continue
        first = int(np.argmax(spend > 0))
        spend_f, y_f, d_f = spend[first:], y[first:], demand[first:]
        s0 = float(spend[-CURRENT_DAYS:].mean())
        d0 = float(demand[-CURRENT_DAYS:].mean())
        value = (value_per_customer or {}).get(channel)
        value = float(value) if value is not None and np.isfinite(value) else None
        base = {"channel": channel, "current_spend": s0, "value_per_customer": value,
                "fit_days": int(spend_f.size)}
        reason = _no_curve_reason(spend_f)
        curve = None
        if reason is None:
            curve = fit_response_curve(channel, spend_f, y_f, d_f)
            if not (curve.spend_range[0] * 0.5 <= s0 <= curve.spend_range[1] * 1.5):
                reason = "today's spend is outside the range the curve was fitted on"
        if curve is None or reason is not None:
            rows.append({**base, "status": "no_curve", "reason": reason})
            continue
        lo, hi = curve.interval(lambda t, c=curve, s=s0, d=d0: c.marginal(s, d, t) * 100, log=True)
        v = value if value is not None else 1.0
        new_now = float(curve.new_customers(s0, d0))
        rows.append({**base, "status": "keep",
                     "new_customers_per_day": new_now,
                     "marginal_new_customers_per_100": curve.marginal(s0, d0) * 100,
                     "marginal_lo": lo, "marginal_hi": hi,
                     "marginal_return": curve.marginal(s0, d0) * v,
                     "average_return": new_now * v / s0,
                     "saturation": s0 / curve.half_saturation,
                     "beta": curve.beta, "half_saturation": curve.half_saturation,
                     "shape": curve.shape, "decay": curve.decay,
                     "reason": _uncertain_reason(lo, hi)})
        curves.append(curve)
        current.append(s0)
        now_demand.append(d0)
        values.append(v)
    if not rows:
        return _empty()
    table = pl.DataFrame([{k: row.get(k) for k in _SCHEMA} for row in rows],
                         schema=_SCHEMA)
    unit = "new customers" if value_per_customer is None else currency
    headline = "No budget advice: no paid channel has a curve the data supports."
    gain = gain_lo = gain_hi = None
    suggested = {row["channel"]: row["current_spend"] for row in rows}
    capped: dict[str, str] = {}
    if len(curves) >= 2:
        cur = np.array(current)
        dem = np.array(now_demand)
        val = np.array(values)
        best = allocate_budget(curves, cur, dem, val)
        def weekly_gain(thetas: list[np.ndarray]) -> float:
            return 7 * float(sum(
                v * (c.new_customers(b, d, t) - c.new_customers(s, d, t))
                for c, b, s, d, v, t in zip(curves, best, cur, dem, val, thetas, strict=True)))

        gain = weekly_gain([c.theta for c in curves])
        gain_lo, gain_hi = _delta(curves, weekly_gain)
        moved = np.abs(best - cur).sum() / 2
        if gain_lo > 0 and moved >= 0.02 * cur.sum():
            for c, b in zip(curves, best, strict=True):
                suggested[c.channel] = float(b)
                if b >= c.spend_range[1] * EXTRAPOLATION[1] * 0.999 and b > c.spend_range[1]:
                    capped[c.channel] = (
                        f"capped at {EXTRAPOLATION[1]:.2f}x the highest 28-day spend seen "
                        f"({c.spend_range[1]:,.0f} a day): the curve has not seen more, so a "
                        "test at a higher budget would show whether more pays")
            headline = _headline(curves, cur, best, gain, (gain_lo, gain_hi), unit, currency)
        else:
            headline = (f"Keep today's split: moving budget between "
                        f"{', '.join(c.channel for c in curves)} would change "
                        f"{_money(gain, unit, currency)} a week, and the 90% interval "
                        f"({_money(gain_lo, unit, currency)} to "
                        f"{_money(gain_hi, unit, currency)}) includes no gain.")
    elif len(curves) == 1:
        headline = (f"No reallocation: only {curves[0].channel} has a curve the data "
                    "supports, so there is nothing to compare it with.")
    if capped:
        table = table.with_columns(
            pl.coalesce(pl.col("reason"), pl.col("channel").replace_strict(
                capped, default=None, return_dtype=pl.String)).alias("reason"))
    table = table.with_columns(
        pl.col("channel").replace_strict(suggested, return_dtype=pl.Float64)
        .alias("suggested_spend"),
        pl.lit(gain, dtype=pl.Float64).alias("expected_weekly_gain"),
        pl.lit(gain_lo, dtype=pl.Float64).alias("expected_weekly_gain_lo"),
        pl.lit(gain_hi, dtype=pl.Float64).alias("expected_weekly_gain_hi"),
        pl.lit(unit).alias("gain_unit"),
        pl.lit(value_basis).alias("value_basis"),
        pl.lit(headline).alias("headline"),
        pl.lit(as_of).alias("as_of_date"),
    )
    moved = (pl.col("suggested_spend") - pl.col("current_spend")).abs() > 0.005 * pl.col(
        "current_spend")
    table = table.with_columns(
        pl.when((pl.col("status") == "keep") & moved).then(pl.lit("advice"))
        .otherwise(pl.col("status")).alias("status"),
        (pl.col("suggested_spend") - pl.col("current_spend")).alias("change_per_day"))
    return table.select(COLUMNS)


COLUMNS = ["as_of_date", "channel", "status", "current_spend", "suggested_spend",
           "change_per_day", "new_customers_per_day", "marginal_new_customers_per_100",
           "marginal_lo", "marginal_hi", "value_per_customer", "value_basis",
           "marginal_return", "average_return", "saturation", "beta", "half_saturation",
           "shape", "decay", "fit_days", "expected_weekly_gain", "expected_weekly_gain_lo",
           "expected_weekly_gain_hi", "gain_unit", "reason", "headline"]
_SCHEMA = {"channel": pl.String, "status": pl.String, "value_per_customer": pl.Float64, "new_customers_per_day": pl.Float64,
           "marginal_new_customers_per_100": pl.Float64, "marginal_lo": pl.Float64,
           "marginal_hi": pl.Float64, "marginal_return": pl.Float64,
           "average_return": pl.Float64, "saturation": pl.Float64, "beta": pl.Float64,
           "half_saturation": pl.Float64, "shape": pl.Float64, "decay": pl.Float64,
           "reason": pl.String, "current_spend": pl.Float64, "fit_days": pl.Int64}


def _empty() -> pl.DataFrame:
    schema = {c: pl.Float64 for c in COLUMNS}
    schema.update({"as_of_date": pl.Date, "channel": pl.String, "status": pl.String,
                   "fit_days": pl.Int64, "value_basis": pl.String, "gain_unit": pl.String,
                   "reason": pl.String, "headline": pl.String})
    return pl.DataFrame(schema=schema)


def _no_curve_reason(spend: np.ndarray) -> str | None:
    """Why a channel's spend history cannot support a curve, or None."""
    if spend.size < MIN_DAYS:
        return f"{spend.size} days of spend; a curve needs {MIN_DAYS}"
    avg14 = np.convolve(spend, np.ones(14) / 14, mode="valid")
    cv = float(avg14.std() / max(avg14.mean(), 1e-9))
    if cv < MIN_SPEND_VARIATION:
        return (f"spend has barely changed (its 14-day average varies by {cv:.0%}); "
                "the data cannot show what more or less spend would bring")
    return None


def _uncertain_reason(lo: float, hi: float) -> str | None:
    """Words for a curve whose marginal return the data barely constrain (the 90%
    interval's ends more than UNCERTAIN_RATIO apart, or not finite), else None."""
    if np.isfinite(hi) and lo > 0 and hi / lo <= UNCERTAIN_RATIO:
        return None
    return (f"uncertain: the data pin this curve down poorly (the next 100 of spend brings "
            f"{lo:,.2f} to {hi:,.2f} new customers, 90% interval); read its figures as a "
            "guess, and a budget test would settle it")


def _money(amount: float | None, unit: str, currency: str) -> str:
    if amount is None:
        return "n/a"
    if unit == currency:
        sign = "-" if amount < 0 else "+"
        return f"{sign}${abs(amount):,.0f}" if currency == "USD" else f"{amount:+,.0f} {currency}"
    return f"{amount:+,.1f} {unit}"


def _headline(curves: list[ResponseCurve], current: np.ndarray, best: np.ndarray,
              gain: float, interval: tuple[float, float], unit: str, currency: str) -> str:
    change = best - current
    give = [(c.channel, -d) for c, d in zip(curves, change, strict=True) if d < 0]
    take = [(c.channel, d) for c, d in zip(curves, change, strict=True) if d > 0]
    def names(parts: list[tuple[str, float]]) -> str:
        return " and ".join(f"{ch} (${amount:,.0f})" if currency == "USD"
                            else f"{ch} ({amount:,.0f} {currency})" for ch, amount in parts)
    moved = sum(d for _, d in take)
    money = f"${moved:,.0f}" if currency == "USD" else f"{moved:,.0f} {currency}"
    return (f"Move {money} a day from {names(give)} to {names(take)}: expected "
            f"{_money(gain, unit, currency)} a week (90% interval "
            f"{_money(interval[0], unit, currency)} to {_money(interval[1], unit, currency)}).")


def curve_points(daily: pl.DataFrame, table: pl.DataFrame, *, as_of: dt.date,
                 points: int = 40) -> pl.DataFrame:
    """Points of each fitted curve for a chart: channel, spend (per day, 0 to 1.5 x the
    highest of today's and the suggested spend), new_customers per day at today's demand
    (steady state), is_current (today's spend: the table's new_customers_per_day) and
    is_suggested (the suggested spend, on the curve; also for a channel whose suggestion
    is today's spend). table: the output of budget_recommendations."""
    rows = []
    for row in table.filter(pl.col("status") != "no_curve").iter_rows(named=True):
        curve_table = daily.filter((pl.col("channel") == row["channel"])
                                   & (pl.col("date") <= as_of))
        if curve_table.is_empty():
            continue
        demand_now = row["new_customers_per_day"] / max(
            float(row["beta"] * hill(row["current_spend"], row["half_saturation"],
                                     row["shape"])), 1e-12)
        top = 1.5 * max(row["current_spend"], row["suggested_spend"] or 0)
        for s in np.linspace(0, top, points):
            rows.append({"channel": row["channel"], "spend": float(s),
                         "new_customers": float(demand_now * row["beta"] * hill(
                             s, row["half_saturation"], row["shape"])),
                         "is_current": False, "is_suggested": False})
        rows.append({"channel": row["channel"], "spend": row["current_spend"],
                     "new_customers": row["new_customers_per_day"], "is_current": True,
                     "is_suggested": False})
        if row["suggested_spend"] is not None:
            rows.append({"channel": row["channel"], "spend": row["suggested_spend"],
                         "new_customers": float(demand_now * row["beta"] * hill(
                             row["suggested_spend"], row["half_saturation"], row["shape"])),
                         "is_current": False, "is_suggested": True})
    return pl.DataFrame(rows, schema={"channel": pl.String, "spend": pl.Float64,
                                      "new_customers": pl.Float64, "is_current": pl.Boolean,
                                      "is_suggested": pl.Boolean})


def channel_series(daily: pl.DataFrame, start: dt.date, end: dt.date
                   ) -> tuple[dict[str, tuple[np.ndarray, np.ndarray]], np.ndarray]:
    """Per paid channel (spend, new customers) arrays over every day start..end (missing
    days 0), and the demand index (demand_index) over the same days. daily: as for
    budget_recommendations."""
    dates = pl.DataFrame(pl.date_range(start, end, "1d", eager=True).alias("date"))
    store_cols = [c for c in ("unpaid_new_customers", "returning_orders") if c in daily.columns]
    store = (daily.group_by("date").agg(pl.col(store_cols).max())
             .join(dates, on="date", how="right").sort("date")
             .with_columns(pl.col(store_cols).fill_null(0)))
    demand = demand_index(
        store["unpaid_new_customers"].to_numpy(),
        store["returning_orders"].to_numpy() if "returning_orders" in store_cols else None)
    out = {}
    for channel in sorted(daily.filter(pl.col("spend") > 0)["channel"].unique().to_list()):
        frame = (daily.filter(pl.col("channel") == channel).select("date", "spend", "new_customers")
                 .join(dates, on="date", how="right").sort("date").fill_null(0))
        out[channel] = (frame["spend"].to_numpy().astype(float),
                        frame["new_customers"].to_numpy().astype(float))
    return out, demand


def holdout_evaluation(daily: pl.DataFrame, *, cutoff: dt.date, horizon_days: int = 56
                       ) -> pl.DataFrame:
    """How well the curves predict new customers on days they did not see, against the
    constant-CAC baseline (a constant ROAS in customers: each dollar brings what a dollar
    brought over the last 28 days before the cutoff).

    daily: as for budget_recommendations, covering at least cutoff + horizon_days. Curves
    are fitted on the days up to `cutoff`; the held-out days get the actual spend (with
    the carry-over from before the cutoff) and the demand index, the drift frozen at its
    cutoff value. Returns one row per channel with a curve: channel, cutoff, days,
    actual (new customers over the held-out days), predicted, baseline, and the weekly
    absolute error of each (mae_weekly_model, mae_weekly_baseline: mean over the whole
    weeks of |predicted - actual| customers per week), spend_change (held-out spend per
    day / the last 28 days' before the cutoff - 1).
    """
    start = daily["date"].min()
    end = cutoff + dt.timedelta(days=horizon_days)
    series, demand = channel_series(daily.filter(pl.col("date") <= end), start, end)
    n_train = (cutoff - start).days + 1
    rows = []
    for channel, (spend, y) in series.items():
        first = int(np.argmax(spend > 0))
        if first >= n_train or _no_curve_reason(spend[first:n_train]) is not None:
            continue
        curve = fit_response_curve(channel, spend[first:n_train], y[first:n_train],
                                   demand[first:n_train])
        stock = adstock(spend[first:], curve.decay)[n_train - first:]
        predicted = demand[n_train:] * curve.beta * hill(stock, curve.half_saturation,
                                                         curve.shape)
        last = slice(n_train - CURRENT_DAYS, n_train)
        per_dollar = y[last].sum() / max(spend[last].sum(), 1e-9)
        baseline = spend[n_train:] * per_dollar
        actual = y[n_train:]
        weeks = actual.size // 7

        def weekly_mae(pred: np.ndarray, actual=actual, weeks=weeks) -> float:
            a = actual[: weeks * 7].reshape(weeks, 7).sum(axis=1)
            p = pred[: weeks * 7].reshape(weeks, 7).sum(axis=1)
            return float(np.abs(p - a).mean()) if weeks else float("nan")

        rows.append({"channel": channel, "cutoff": cutoff, "days": int(actual.size),
                     "actual": float(actual.sum()), "predicted": float(predicted.sum()),
                     "baseline": float(baseline.sum()),
                     "mae_weekly_model": weekly_mae(predicted),
                     "mae_weekly_baseline": weekly_mae(baseline),
                     "spend_change": float(spend[n_train:].mean()
                                           / max(spend[last].mean(), 1e-9) - 1)})
    return pl.DataFrame(rows, schema={
        "channel": pl.String, "cutoff": pl.Date, "days": pl.Int64, "actual": pl.Float64,
        "predicted": pl.Float64, "baseline": pl.Float64, "mae_weekly_model": pl.Float64,
        "mae_weekly_baseline": pl.Float64, "spend_change": pl.Float64})
