"""Profit of the demo store: what its goods cost over time (supplier price rises), what
each order's payment costs (Shopify Payments transactions; other gateways' fees from the
`profit:` settings of storeops.yml) and what it costs to fulfil. Money is integer cents.

The shipping labels are simulated in `shipments.py`; the answer key's contribution
margins are computed in `truth.py` (profit_cents).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from fractions import Fraction
from math import floor, lcm

import numpy as np

from orchestration.demo import calendar as cal
from orchestration.demo.catalog import Catalog
from orchestration.demo.orders import (
    NEVER,
    PAYMENT_METHODS,
    SOURCES,
    Orders,
    round_div,
)

SHOPIFY_PAYMENTS = PAYMENT_METHODS.index("Shopify Payments")
# Shopify Payments' online rates: US cards, and international cards (the tax-inclusive
# market pays with UK cards). Basis points of the amount, plus a fixed fee in cents.
CARD_FEE_BP = {"domestic": 290, "international": 390}
CARD_FEE_FIXED = 30
CARD_BRANDS = ["visa", "mastercard", "american_express"]
CARD_BRAND_SHARES = [0.62, 0.28, 0.10]
CHARGE, REFUND = 0, 1

# Supplier price rises: on the first day of the month at these shares of the window,
# this many suppliers raise every SKU they sell by one percentage in this range.
COST_CHANGES_AT = (0.40, 0.75)
SUPPLIERS_PER_CHANGE = 3
COST_RISE_PERCENT = (4.0, 12.0)

# The demo store's `profit:` section of storeops.yml (the `from` months depend on the
# window, see demo_profit_settings): fulfilment per shipped order from a share of the
# window on, and the gateways whose fees no export carries.
FULFILMENT_PER_ORDER = (
    (0.0, {"packaging": 0.85, "pick_and_pack": 1.90}),
    (0.6, {"packaging": 0.90, "pick_and_pack": 2.10}),
)
PAYMENT_FEES = {
    "PayPal Express Checkout": {"percent": 3.49, "fixed": 0.49},
    "Afterpay": {"percent": 6.0, "fixed": 0.30},
}


def _month_start(day: int) -> int:
    return cal.day_number(cal.to_date(day).replace(day=1))


def _next_month(day: int) -> int:
    d = cal.to_date(day)
    return cal.day_number(d.replace(year=d.year + (d.month == 12), month=d.month % 12 + 1, day=1))


def demo_profit_settings(window: tuple[int, int]) -> dict:
    """The demo store's `profit:` section as plain YAML-ready values: fulfilment_per_order
    entries ({from: YYYY-MM, packaging: dollars, pick_and_pack: dollars}, the first from
    the window's first month, the second from the month at ~60 % of it) and payment_fees
    ({gateway: {percent, fixed dollars}})."""
    w0, w1 = window
    entries, last = [], None
    for share, costs in FULFILMENT_PER_ORDER:
        month = _month_start(w0 + round(share * (w1 - w0)))
        if last is not None and month <= last:
            month = _next_month(last)
        last = month
        entries.append({"from": cal.to_date(month).strftime("%Y-%m"), **costs})
    return {
        "fulfilment_per_order": entries,
        "payment_fees": {k: dict(v) for k, v in PAYMENT_FEES.items()},
    }


@dataclass(frozen=True)
class ProfitRules:
    """A `profit:` section in exact integer form.

    fulfilment: ((first day number, cents per shipped order), ...) ascending; an entry
    applies to orders whose store-local date is on or after its day, until the next one.
    gateway_fee: {payment index: (A, B, D)}: the fee of a charged order of Total t cents
    is (t x A + B) / D cents rounded half up, i.e. t x percent / 100 + fixed x 100.
    """

    fulfilment: tuple[tuple[int, int], ...]
    gateway_fee: dict[int, tuple[int, int, int]]

    @classmethod
    def from_settings(cls, section: dict) -> ProfitRules:
        """Read a `profit:` mapping (as in storeops.yml); raises ValueError naming the key
        that cannot be used."""
        entries = section.get("fulfilment_per_order") or []
        if isinstance(entries, dict):
            entries = [entries]
        fulfilment = []
        for n, entry in enumerate(entries, 1):
            try:
                start = entry["from"]
                if isinstance(start, dt.date):
                    first = dt.date(start.year, start.month, start.day)
                else:
                    text = str(start).strip()
                    first = dt.date.fromisoformat(text + "-01" if len(text) == 7 else text)
                total = sum(Fraction(str(v)) for k, v in entry.items() if k != "from") * 100
            except (KeyError, TypeError, ValueError) as exc:
                raise ValueError(
                    f"profit.fulfilment_per_order entry {n}: needs from: YYYY-MM and amounts, "
                    f"got {entry!r} ({exc})"
                ) from None
            fulfilment.append((cal.day_number(first), floor(total + Fraction(1, 2))))
        fees = {}
        names = {m.lower(): k for k, m in enumerate(PAYMENT_METHODS)}
        for gateway, rate in (section.get("payment_fees") or {}).items():
            k = names.get(str(gateway).strip().lower())
            if k is None or k == SHOPIFY_PAYMENTS:
                continue  # no order of the demo pays this way / fees come from its export
            try:
                per = Fraction(str(rate.get("percent", 0))) / 100
                fixed = Fraction(str(rate.get("fixed", 0))) * 100
            except (AttributeError, ValueError) as exc:
                raise ValueError(
                    f"profit.payment_fees.{gateway}: needs {{percent: ..., fixed: ...}}, "
                    f"got {rate!r} ({exc})"
                ) from None
            d = lcm(per.denominator, fixed.denominator)
            fees[k] = (
                per.numerator * d // per.denominator,
                fixed.numerator * d // fixed.denominator,
                d,
            )
        return cls(fulfilment=tuple(sorted(fulfilment)), gateway_fee=fees)

    def fulfilment_on(self, days: np.ndarray) -> np.ndarray:
        """Cents per shipped order in effect on store-local day numbers `days`."""
        starts = np.array([d for d, _ in self.fulfilment], dtype=np.int64)
        cents = np.array([0] + [c for _, c in self.fulfilment], dtype=np.int64)
        return cents[np.searchsorted(starts, np.asarray(days), side="right")]

    def gateway_fees(self, payment: np.ndarray, total: np.ndarray) -> np.ndarray:
        """Cents of fee per order of the settings' gateways (0 for other gateways)."""
        out = np.zeros(np.asarray(payment).size, dtype=np.int64)
        for k, (a, b, d) in self.gateway_fee.items():
            m = payment == k
            out[m] = (2 * (total[m] * a + b) + d) // (2 * d)
        return out


def card_fee(amount: np.ndarray, international: np.ndarray) -> np.ndarray:
    """Shopify Payments fee of charges of `amount` cents: amount x 2.9 % (3.9 % for
    international cards) + 30 cents, rounded half up to the cent."""
    bp = np.where(international, CARD_FEE_BP["international"], CARD_FEE_BP["domestic"])
    return round_div(np.asarray(amount, dtype=np.int64) * bp, 10_000) + CARD_FEE_FIXED


@dataclass(frozen=True)
class CostHistory:
    """Cost per item of every SKU over time (cents).

    change_days: day numbers of the supplier price rises, ascending; cost[k] (n_skus) is in
    effect from change_days[k - 1] (cost[0] before the first); cost[-1] = catalog.cost.
    changes: one dict per supplier rise (date, supplier, percent, skus).
    """

    change_days: np.ndarray
    cost: np.ndarray
    changes: list[dict]

    def unit_cost_on(self, days: np.ndarray, skus: np.ndarray) -> np.ndarray:
        """Cents per unit of SKUs `skus` (catalog indices) on store-local day numbers."""
        period = np.searchsorted(self.change_days, np.asarray(days), side="right")
        return self.cost[period, np.asarray(skus)]

    def snapshots(self, window: tuple[int, int]) -> list[tuple[int, np.ndarray]]:
        """(day number, cost cents per SKU) of the products exports: the window's first
        day, each change day and the last day, each with the cost in effect from it on."""
        days = sorted({window[0], *self.change_days.tolist(), window[1]})
        return [(d, self.cost[np.searchsorted(self.change_days, d, side="right")]) for d in days]


def build_cost_history(
    rng: np.random.Generator, catalog: Catalog, window: tuple[int, int]
) -> CostHistory:
    """Two supplier price rises inside the window; earlier costs are the final cost
    (catalog.cost) divided by the rises still to come, rounded half up to the cent."""
    w0, w1 = window
    days, last = [], w0
    for share in COST_CHANGES_AT:
        day = _month_start(w0 + round(share * (w1 - w0)))
        if day <= last:
            day = _next_month(last)
        if day > w1:
            break
        days.append(day)
        last = day
    n_sup = len(catalog.suppliers)
    factor = np.ones((len(days), n_sup))
    changes = []
    for k, day in enumerate(days):
        picked = np.sort(rng.choice(n_sup, min(SUPPLIERS_PER_CHANGE, n_sup), replace=False))
        percent = np.round(rng.uniform(*COST_RISE_PERCENT, picked.size), 1)
        factor[k, picked] = 1 + percent / 100
        for s, p in zip(picked.tolist(), percent.tolist()):
            changes.append(
                {
                    "date": cal.to_date(day).isoformat(),
                    "supplier": catalog.suppliers[s].name,
                    "percent": p,
                    "skus": int((catalog.supplier == s).sum()),
                }
            )
    cost = np.empty((len(days) + 1, catalog.n_skus), dtype=np.int64)
    for k in range(len(days) + 1):
        to_come = np.prod(factor[k:], axis=0)[catalog.supplier]
        cost[k] = np.floor(catalog.cost / to_come + 0.5).astype(np.int64)
    cost[-1] = catalog.cost
    return CostHistory(np.array(days, dtype=np.int64), cost, changes)


@dataclass(frozen=True)
class Transactions:
    """Shopify Payments balance transactions of the window's orders: one charge per order
    paid with Shopify Payments (none for cancelled orders whose authorisation was voided),
    and one refund per refund the answer key shows. Amounts in cents, refunds negative."""

    order: np.ndarray  # index into Orders
    kind: np.ndarray  # CHARGE or REFUND
    at: np.ndarray  # UTC seconds
    amount: np.ndarray
    fee: np.ndarray
    brand: np.ndarray  # index into CARD_BRANDS
    card_present: np.ndarray  # bool: paid at the shop's terminal (POS)
    checkout: np.ndarray  # numeric checkout id

    @property
    def n(self) -> int:
        return self.order.size


def simulate_transactions(
    rng: np.random.Generator, orders: Orders, cents: dict[str, np.ndarray]
) -> Transactions:
    """Transactions of the orders of `cents` (truth.order_cents), sorted by instant."""
    i = cents["index"]
    brand = rng.choice(len(CARD_BRANDS), i.size, p=CARD_BRAND_SHARES)
    voided = orders.cancel_voids[i] & (orders.cancelled[i] < NEVER)
    paid = (orders.payment[i] == SHOPIFY_PAYMENTS) & ~orders.is_test[i] & ~voided
    refund = paid & (cents["refunded"] > 0)
    c, r = np.flatnonzero(paid), np.flatnonzero(refund)
    total = orders.total[i]
    refund_at = np.where(cents["is_cancelled"], orders.cancelled[i], orders.refunded[i])
    pos = np.concatenate([c, r])
    amount = np.concatenate([total[c], -cents["refunded"][r]])
    fee = np.concatenate([card_fee(total[c], orders.taxes_included[i][c]), np.zeros(r.size, int)])
    at = np.concatenate([orders.created[i][c], refund_at[r]])
    kind = np.concatenate([np.full(c.size, CHARGE), np.full(r.size, REFUND)])
    order = np.lexsort((kind, pos, at))
    number = orders.number[i][pos]
    return Transactions(
        order=i[pos][order],
        kind=kind[order],
        at=at[order],
        amount=amount[order].astype(np.int64),
        fee=fee[order].astype(np.int64),
        brand=brand[pos][order],
        card_present=(orders.source[i][pos] == SOURCES.index("pos"))[order],
        checkout=(31_000_000_000 + number * 97)[order],
    )


__all__ = [
    "CostHistory",
    "ProfitRules",
    "Transactions",
    "build_cost_history",
    "card_fee",
    "demo_profit_settings",
    "simulate_transactions",
]
