"""BG/NBD repeat-purchase model and Gamma-Gamma spend model, fitted by maximum likelihood.

Fader, Hardie & Lee (2005), "Counting your customers the easy way: an alternative to the
Pareto/NBD model", Marketing Science 24(2); Fader, Hardie & Lee (2005), "RFM and CLV:
using iso-value curves for customer base analysis" (Gamma-Gamma). The formulas follow
Hardie's notes; time is in weeks here (the likelihood is better conditioned than in days).

Per customer the models read the summary of their orders before a cutoff:
- `frequency` x: repeat purchases (distinct order days after the first),
- `recency` t_x: weeks from the first to the last order,
- `age` T: weeks from the first order to the cutoff,
- `monetary` m: mean net revenue of the repeat orders (Gamma-Gamma, x >= 1 only).

Known pitfall, measured in benchmarks/churn.py: on real data P(alive) ranks churners badly
(a one-order customer is "alive" by construction), while the expected number of purchases
ranks well; storeops uses P(no purchase in the horizon), which combines both, as one
candidate and as features of the supervised model.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import optimize, special


@dataclass(frozen=True)
class BgNbdParams:
    """Fitted BG/NBD parameters, time in weeks: a customer's purchase rate is
    Gamma(shape r, rate alpha), alpha in weeks; the probability that they drop out after
    each purchase is Beta(a, b) (Fader, Hardie & Lee 2005)."""

    r: float
    alpha: float
    a: float
    b: float


@dataclass(frozen=True)
class GammaGammaParams:
    """Fitted Gamma-Gamma parameters: an order's value is Gamma(shape p, rate nu), and
    a customer's nu is Gamma(shape q, rate gamma); gamma is in the store currency, and
    the population's mean order value is p * gamma / (q - 1) when q > 1 (Fader, Hardie &
    Lee 2005, "RFM and CLV")."""

    p: float
    q: float
    gamma: float


@dataclass(frozen=True)
class _Customers:
    """Customers' (x, t_x, T) with each distinct value of each stored once and an index
    back to the customers: the special functions and logarithms of the likelihood are
    evaluated per distinct value (a few dozen frequencies, a few hundred weeks) instead of
    per customer. The 10x store's 14 fits took 97 s of its 269 s churn scoring."""

    x: np.ndarray
    x_values: np.ndarray
    x_index: np.ndarray
    t_values: np.ndarray
    t_index: np.ndarray
    age_values: np.ndarray
    age_index: np.ndarray

    @classmethod
    def of(cls, x: np.ndarray, t_x: np.ndarray, age: np.ndarray) -> _Customers:
        x_values, x_index = np.unique(x, return_inverse=True)
        t_values, t_index = np.unique(t_x, return_inverse=True)
        age_values, age_index = np.unique(age, return_inverse=True)
        return cls(x, x_values, x_index, t_values, t_index, age_values, age_index)


def _bgnbd_log_likelihood(log_params: np.ndarray, customers: _Customers) -> float:
    """Minus the BG/NBD log-likelihood of the customers at exp(log_params) = (r, alpha,
    a, b); each customer's term is the same expression as per customer, with its
    x-, t_x- and T-dependent parts looked up from their distinct values."""
    r, alpha, a, b = np.exp(log_params)
    c = customers
    x = c.x
    common = (special.gammaln(r + c.x_values)[c.x_index] - special.gammaln(r)
              + r * np.log(alpha))
    # Still alive at T: B(a, b+x)/B(a, b) * ... / (alpha+T)^(r+x)
    alive = (special.betaln(a, b + c.x_values)[c.x_index] - special.betaln(a, b)
             - (r + x) * np.log(alpha + c.age_values)[c.age_index])
    # Dropped out right after the last purchase (only possible when x > 0).
    with np.errstate(divide="ignore", invalid="ignore"):
        dropped = np.where(
            x > 0,
            special.betaln(a + 1, np.maximum(b + c.x_values - 1, 1e-12))[c.x_index]
            - special.betaln(a, b)
            - (r + x) * np.log(alpha + c.t_values)[c.t_index],
            -np.inf,
        )
    total = common + np.logaddexp(alive, dropped)
    return -float(np.sum(total))


def fit_bgnbd(frequency: np.ndarray, recency: np.ndarray, age: np.ndarray) -> BgNbdParams:
    """Maximum-likelihood BG/NBD parameters (r, alpha, a, b) for customers' (x, t_x, T)."""
    x = np.asarray(frequency, dtype=float)
    t_x = np.asarray(recency, dtype=float)
    age = np.asarray(age, dtype=float)
    if len(x) == 0:
        raise ValueError("fit_bgnbd needs at least one customer")
    if np.any(t_x > age + 1e-9) or np.any(x < 0):
        raise ValueError("fit_bgnbd: recency must not exceed age and frequency must be >= 0")
    start = np.log([0.5, max(float(np.mean(age)), 1.0), 0.8, 2.5])
    result = optimize.minimize(_bgnbd_log_likelihood, start,
                               args=(_Customers.of(x, t_x, age),), method="L-BFGS-B",
                               bounds=[(-9.0, 9.0)] * 4)
    r, alpha, a, b = np.exp(result.x)
    return BgNbdParams(r=float(r), alpha=float(alpha), a=float(a), b=float(b))


def _dropout_odds(params: BgNbdParams, x: np.ndarray, t_x: np.ndarray,
                  age: np.ndarray) -> np.ndarray:
    """a/(b+x-1) * ((alpha+T)/(alpha+t_x))^(r+x) for x > 0, else 0."""
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        log_odds = (np.log(a) - np.log(np.maximum(b + x - 1, 1e-12))
                    + (r + x) * (np.log(alpha + age) - np.log(alpha + t_x)))
        odds = np.exp(np.minimum(log_odds, 700.0))
    return np.where(x > 0, odds, 0.0)


def p_alive(params: BgNbdParams, frequency, recency, age) -> np.ndarray:
    """P(the customer has not dropped out by T | x, t_x, T)."""
    x, t_x, age = (np.asarray(v, dtype=float) for v in (frequency, recency, age))
    return 1.0 / (1.0 + _dropout_odds(params, x, t_x, age))


def p_no_purchase(params: BgNbdParams, frequency, recency, age, horizon) -> np.ndarray:
    """P(no purchase in (T, T+horizon] | x, t_x, T): dead, or alive and quiet.

    An alive customer's purchase rate has the Gamma(r+x, alpha+T) posterior, and in the
    BG/NBD a customer can only drop out right after a purchase, so an alive customer
    makes no purchase in the next t weeks with probability ((alpha+T)/(alpha+T+t))^(r+x).
    """
    x, t_x, age = (np.asarray(v, dtype=float) for v in (frequency, recency, age))
    alive = p_alive(params, x, t_x, age)
    quiet = ((params.alpha + age) / (params.alpha + age + horizon)) ** (params.r + x)
    return 1.0 - alive + alive * quiet


def expected_purchases(params: BgNbdParams, frequency, recency, age, horizon) -> np.ndarray:
    """E[purchases in (T, T+horizon] | x, t_x, T] (Fader, Hardie & Lee 2005, eq. 10)."""
    x, t_x, age = (np.asarray(v, dtype=float) for v in (frequency, recency, age))
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    if abs(a - 1.0) < 1e-9:
        a = 1.0 + 1e-9  # the closed form has a removable singularity at a = 1
    z = horizon / (alpha + age + horizon)
    hyper = special.hyp2f1(r + x, b + x, a + b + x - 1, z)
    head = (a + b + x - 1) / (a - 1)
    body = 1.0 - ((alpha + age) / (alpha + age + horizon)) ** (r + x) * hyper
    result = head * body / (1.0 + _dropout_odds(params, x, t_x, age))
    return np.clip(np.nan_to_num(result, nan=0.0, posinf=0.0), 0.0, None)


def _gamma_gamma_log_likelihood(log_params: np.ndarray, x: np.ndarray, m: np.ndarray) -> float:
    p, q, gamma = np.exp(log_params)
    total = (special.gammaln(p * x + q) - special.gammaln(p * x) - special.gammaln(q)
             + q * np.log(gamma) + (p * x - 1) * np.log(m) + p * x * np.log(x)
             - (p * x + q) * np.log(gamma + m * x))
    return -float(np.sum(total))


def fit_gamma_gamma(frequency: np.ndarray, monetary: np.ndarray) -> GammaGammaParams:
    """Gamma-Gamma parameters from repeat customers' (x >= 1, mean order value m > 0)."""
    x = np.asarray(frequency, dtype=float)
    m = np.asarray(monetary, dtype=float)
    keep = (x > 0) & (m > 0)
    x, m = x[keep], m[keep]
    if len(x) < 10:
        raise ValueError("fit_gamma_gamma needs at least 10 repeat customers with positive spend")
    start = np.log([2.0, 3.0, float(np.mean(m))])
    result = optimize.minimize(_gamma_gamma_log_likelihood, start, args=(x, m),
                               method="L-BFGS-B", bounds=[(-9.0, 12.0)] * 3)
    p, q, gamma = np.exp(result.x)
    return GammaGammaParams(p=float(p), q=float(q), gamma=float(gamma))


def expected_order_value(params: GammaGammaParams, frequency, monetary,
                         population_mean: float) -> np.ndarray:
    """E[mean order value | x, m]: the customer's mean shrunk toward the population's.

    Customers with no repeat order (x = 0) get the population mean order value.
    """
    x = np.asarray(frequency, dtype=float)
    m = np.nan_to_num(np.asarray(monetary, dtype=float), nan=0.0)
    p, q, gamma = params.p, params.q, params.gamma
    if q <= 1:
        return np.where(x > 0, m, population_mean)
    prior = gamma * p / (q - 1)
    weight = p * x / (p * x + q - 1)
    value = (1 - weight) * prior + weight * m
    return np.where((x > 0) & (m > 0), value, population_mean)
