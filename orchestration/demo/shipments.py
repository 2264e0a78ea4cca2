"""The demo store's shipping labels (ShipStation shipments): one label per shipped order,
with the realistic extras a warehouse meets (split shipments, voided labels replaced,
return labels, orders shipped without a label, labels of no order). Cents and ounces.

Shipped: not a test order, not cancelled, with a product line (`Lineitem requires
shipping` true), not a POS order (SOURCES "pos": the customer takes the goods in the
shop, and the orders export marks it fulfilled a minute after checkout) and fulfilled
before the newest orders export that has the order. No label is created at or after that
export, so the files never show a label the orders export does not explain.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from orchestration.demo import calendar as cal
from orchestration.demo.calendar import DAY, HOUR
from orchestration.demo.catalog import Catalog
from orchestration.demo.orders import LINE_PRODUCT, NEVER, SOURCES, Orders, round_div
from orchestration.demo.writers import export_instant, newest_export_at

# (carrier, service, base cents, cents per pound)
SERVICES = [
    ("USPS", "USPS Ground Advantage", 450, 90),
    ("UPS", "UPS 2nd Day Air", 1200, 250),
    ("USPS", "USPS Priority Mail International", 1800, 300),
]
GROUND, SECOND_DAY, INTERNATIONAL = 0, 1, 2
EXPRESS_METHOD = 3  # index of "Express Shipping" in SHIPPING_METHODS
OUNCE_GRAMS = 28.349523125
BOX_OUNCES = 4  # box and filling, per label
INSURED_ABOVE = 30_000  # order Total in cents above which labels are insured
INSURANCE_PER_MILLE, INSURANCE_MIN = 15, 100
RETURN_LABEL_CENTS = (600, 900)
SPLIT_SHARE = 0.03  # of multi-line shipped orders
VOID_SHARE = 0.01  # of labelled orders: first label voided, then a replacement
NO_LABEL_SHARE, NO_LABEL_MIN = 0.003, 2  # shipped with another tool
ORPHANS = ("WS-1042", "WS-1057", "WS-1063")  # manual wholesale shipments: no store order
ORPHAN_AT = (0.2, 0.5, 0.8)  # shares of the window


@dataclass(frozen=True)
class Labels:
    """Shipping labels sorted by creation (the writer numbers them in this order)."""

    order: np.ndarray  # index into Orders, -1 for labels of no store order
    order_number: np.ndarray  # as written: the order's Name without '#', or ORPHANS
    created: np.ndarray  # UTC seconds
    service: np.ndarray  # index into SERVICES
    weight_oz: np.ndarray
    cost: np.ndarray  # cents, written even when voided
    insurance: np.ndarray  # cents
    is_return: np.ndarray
    voided: np.ndarray
    void_at: np.ndarray  # UTC seconds, NEVER if not voided
    tracking: np.ndarray  # str

    @property
    def n(self) -> int:
        return self.order.size


@dataclass(frozen=True)
class Shipments:
    """Labels and, per order of the answer key (index = truth.order_cents' index), whether
    it was shipped and whether it was shipped without any label."""

    labels: Labels
    index: np.ndarray
    shipped: np.ndarray
    without_label: np.ndarray

    def label_cents(self) -> np.ndarray:
        """Per order of `index`: Shipment Cost + Insurance Cost of its non-voided labels."""
        a = int(self.index[0]) if self.index.size else 0
        lab = self.labels
        m = (lab.order >= 0) & ~lab.voided
        return np.bincount(
            lab.order[m] - a, weights=lab.cost[m] + lab.insurance[m], minlength=self.index.size
        ).astype(np.int64)


def label_cost(service: np.ndarray, weight_oz: np.ndarray) -> np.ndarray:
    """Cents of a label: the service's base + its rate per pound x weight, rounded half up."""
    base = np.array([s[2] for s in SERVICES])[service]
    rate = np.array([s[3] for s in SERVICES])[service]
    return base + round_div(rate * np.asarray(weight_oz, dtype=np.int64), 16)


def simulate_shipments(
    rng: np.random.Generator,
    *,
    orders: Orders,
    catalog: Catalog,
    cents: dict[str, np.ndarray],
    window: tuple[int, int],
) -> Shipments:
    """Labels of the orders of `cents` (truth.order_cents) and the three orphan labels."""
    i = cents["index"]
    n = i.size
    a = int(i[0]) if n else 0
    as_of = newest_export_at(orders.local_day[i], window)
    la, lb = np.searchsorted(orders.line_order, [a, a + n])
    lo = orders.line_order[la:lb] - a
    product = orders.line_kind[la:lb] == LINE_PRODUCT
    sku = np.where(product, orders.line_sku[la:lb], 0)
    unit_oz = np.ceil(catalog.grams / OUNCE_GRAMS).astype(np.int64)[sku]
    line_oz = np.where(product, orders.line_qty[la:lb] * unit_oz, 0)
    back_oz = np.where(product, orders.line_returned_qty[la:lb] * unit_oz, 0)
    starts = np.searchsorted(lo, np.arange(n))
    first_line = np.arange(lo.size) == starts[lo]  # product lines come first in an order
    n_product = np.bincount(lo, weights=product, minlength=n)

    cancelled = cents["is_cancelled"]
    f1, ff = orders.fulfilled_first[i], orders.fulfilled_full[i]
    shipped = (
        ~orders.is_test[i]
        & ~cancelled
        & (n_product > 0)
        & (orders.source[i] != SOURCES.index("pos"))
        & (f1 < as_of)
    )
    returned = (cents["returns"] > 0) & ~cancelled

    # Draws: a fixed number per order, so each choice stays put when another changes.
    pool = np.flatnonzero(shipped & ~returned)
    k = min(pool.size, max(NO_LABEL_MIN, round(NO_LABEL_SHARE * int(shipped.sum()))))
    without_label = np.zeros(n, dtype=bool)
    without_label[rng.choice(pool, k, replace=False)] = True
    later = _same_local_day(f1, rng.integers(15 * 60, 90 * 60, n))
    split_u, void_u = rng.random(n), rng.random(n)
    void_after, redo_after = rng.integers(10 * 60, 90 * 60, n), rng.integers(120, 1200, n)
    return_cents = rng.integers(RETURN_LABEL_CENTS[0], RETURN_LABEL_CENTS[1] + 1, n)

    labelled = shipped & ~without_label
    second_at = np.where(ff != f1, ff, later)
    split = labelled & (n_product >= 2) & (split_u < SPLIT_SHARE) & (second_at < as_of)
    void = labelled & (void_u < VOID_SHARE) & (f1 + void_after + redo_after < as_of)
    in_first = product & (~split[lo] | first_line)
    oz_first = np.bincount(lo, weights=np.where(in_first, line_oz, 0), minlength=n)
    oz_second = np.bincount(lo, weights=np.where(product & ~in_first, line_oz, 0), minlength=n)
    oz_back = np.bincount(lo, weights=back_oz, minlength=n)
    service = np.where(
        orders.taxes_included[i],
        INTERNATIONAL,
        np.where(orders.shipping_method[i] == EXPRESS_METHOD, SECOND_DAY, GROUND),
    )
    total = orders.total[i]
    insured = np.maximum(INSURANCE_MIN, round_div(total * INSURANCE_PER_MILLE, 1000))
    insurance = np.where(total > INSURED_ABOVE, insured, 0)

    v, m, s, r = (np.flatnonzero(x) for x in (void, labelled, split, returned))
    redo = f1 + void_after + redo_after
    w0, w1 = window
    orphan_day = w0 + np.round(np.array(ORPHAN_AT) * (w1 - w0)).astype(np.int64)
    orphan_at = cal.local_to_utc(orphan_day * DAY + 10 * HOUR + rng.integers(0, 6 * HOUR, 3))
    orphan_oz = rng.integers(160, 481, len(ORPHANS))
    offsets = rng.integers(0, 10**17, 2)
    no_order = np.full(len(ORPHANS), -1)
    box = BOX_OUNCES
    groups = [  # voided first labels, first labels (or replacements), second, return, orphan
        _group(
            v, f1[v], service[v], oz_first[v] + box, insurance[v], void_at=f1[v] + void_after[v]
        ),
        _group(m, np.where(void[m], redo[m], f1[m]), service[m], oz_first[m] + box, insurance[m]),
        _group(s, second_at[s], service[s], oz_second[s] + box, 0),
        _group(r, orders.refunded[i][r], GROUND, oz_back[r] + box, 0, cost=return_cents[r]),
        _group(no_order, orphan_at, GROUND, orphan_oz, 0),
    ]
    g = {key: np.concatenate([grp[key] for grp in groups]) for key in groups[0]}
    kind = np.concatenate([np.full(grp["order"].size, k) for k, grp in enumerate(groups)])
    order = np.where(g["order"] >= 0, g["order"] + a, -1)
    cutoff = np.where(order >= 0, as_of[np.maximum(g["order"], 0)], export_instant(w1))
    sort = np.lexsort((kind, order, g["created"]))
    sort = sort[g["created"][sort] < cutoff[sort]]
    number = orders.number[np.maximum(order, 0)].astype(str).astype(object)
    number[order < 0] = np.array(ORPHANS, dtype=object)
    labels = Labels(
        order=order[sort],
        order_number=number[sort],
        created=g["created"][sort],
        service=g["service"][sort],
        weight_oz=g["weight_oz"][sort],
        cost=g["cost"][sort],
        insurance=g["insurance"][sort],
        is_return=kind[sort] == 3,
        voided=g["void_at"][sort] < NEVER,
        void_at=g["void_at"][sort],
        tracking=_tracking(g["service"][sort], offsets),
    )
    return Shipments(labels=labels, index=i, shipped=shipped, without_label=without_label)


def _group(
    pos: np.ndarray,
    created: np.ndarray,
    service: np.ndarray | int,
    weight_oz: np.ndarray,
    insurance: np.ndarray | int,
    *,
    cost: np.ndarray | None = None,
    void_at: np.ndarray | None = None,
) -> dict[str, np.ndarray]:
    """Columns of labels of the orders at positions `pos`; cost priced by the service
    unless given, not voided unless void_at is given."""
    k = pos.size

    def full(x) -> np.ndarray:
        return np.broadcast_to(np.asarray(x, dtype=np.int64), (k,)).copy()

    svc, oz = full(service), full(weight_oz)
    return {
        "order": full(pos),
        "created": full(created),
        "service": svc,
        "weight_oz": oz,
        "cost": label_cost(svc, oz) if cost is None else full(cost),
        "insurance": full(insurance),
        "void_at": np.full(k, NEVER, dtype=np.int64) if void_at is None else full(void_at),
    }


def _same_local_day(utc_s: np.ndarray, seconds: np.ndarray) -> np.ndarray:
    """utc_s + seconds, but no later than 23:59 of utc_s's store-local day (NEVER stays)."""
    ok = utc_s < NEVER
    local = cal.utc_to_local(np.where(ok, utc_s, 0))
    last = local // DAY * DAY + DAY - 60
    return np.where(ok, cal.local_to_utc(np.minimum(local + seconds, last)), NEVER)


def _tracking(service: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """Unique tracking numbers: 22 digits for USPS (`9400...`), 18 characters for UPS
    (`1Z` + shipper + service code 02 + serial). Serials are (position x a step coprime
    with 10 + a drawn offset) modulo a power of ten: distinct, and not visibly sequential."""
    seq = np.arange(service.size, dtype=np.int64)
    usps = (seq * 982_451_653_117 + offsets[0]) % 10**18  # < 9.2e18 for 8 million labels
    ups = (seq * 48_271 + offsets[1]) % 10**8
    usps = "9400" + pl.Series(usps).cast(pl.String).str.zfill(18)
    ups = "1ZA4V8Y202" + pl.Series(ups).cast(pl.String).str.zfill(8)
    ups_label = pl.Series(service == SECOND_DAY)
    return pl.select(pl.when(ups_label).then(ups).otherwise(usps)).to_series().to_numpy()
