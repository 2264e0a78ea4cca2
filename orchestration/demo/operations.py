"""What customers put in their baskets, and the warehouse that may not have it.

Line items are drawn per day (favourite products or the day's popularity, which carries
category seasons and promotion uplift). Stock is then simulated day by day per SKU:
a line is sold only while stock lasts (sales = min(demand, stock), first come first
served), so recorded sales are censored demand. Purchase orders follow a simple weekly
review policy per supplier that forecasts from recent *sales* (not demand) and ignores
seasonality, as many small stores do, so stockouts happen and cluster on some SKUs.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from orchestration.demo import calendar as cal
from orchestration.demo.catalog import Catalog, Promotion
from orchestration.demo.customers import Purchases
from orchestration.demo.names import CATEGORIES

LINES_PER_ORDER_P = np.array([0.47, 0.32, 0.14, 0.07])  # 1..4 lines before de-duplication
SAFETY_K = 0.7  # safety stock in sqrt(units over lead time + review); deliberately thin
PARTIAL_SHARE = 0.07
CANCELLED_SHARE = 0.015


@dataclass
class Lines:
    order: np.ndarray  # index into purchases
    sku: np.ndarray
    qty: np.ndarray
    day: np.ndarray  # sim day
    kept: np.ndarray  # sold (False: dropped because of a stockout, or order never placed)
    promo: np.ndarray  # index of the promotion running on this SKU that day, -1 = none


@dataclass
class PurchaseOrderLines:
    po_number: np.ndarray
    supplier: np.ndarray
    sku: np.ndarray
    qty_ordered: np.ndarray
    qty_received: np.ndarray
    ordered_day: np.ndarray  # sim day
    expected_day: np.ndarray
    arrival_day: np.ndarray  # sim day the goods arrive (may be after the window)
    cancelled: np.ndarray
    partial: np.ndarray


@dataclass
class Inventory:
    demand: np.ndarray  # (n_sku, n_days) units wanted (placed orders, before stockouts)
    sales: np.ndarray  # units sold
    available_end: np.ndarray  # available units at end of day (sellable)
    incoming_end: np.ndarray  # open purchase order units at end of day
    first_day: int  # first simulated day of stock (earlier days are unconstrained)
    purchase_orders: PurchaseOrderLines


def draw_lines(
    rng: np.random.Generator,
    catalog: Catalog,
    promos: list[Promotion],
    purchases: Purchases,
    regular: np.ndarray,
    fav: np.ndarray,
    first_day_number: int,
    n_days: int,
) -> Lines:
    """Line items of all would-be orders (sorted by order, orders by time)."""
    n_orders = purchases.customer.size
    n_lines = rng.choice(4, n_orders, p=LINES_PER_ORDER_P) + 1
    order = np.repeat(np.arange(n_orders), n_lines)
    starts = np.cumsum(n_lines) - n_lines
    pos = np.arange(order.size) - starts[order]
    cust = purchases.customer[order]
    first = purchases.is_first[order]
    use_fav = np.where(first, pos == 0, rng.random(order.size) < np.where(regular[cust], 0.8, 0.55))
    slot = np.where(first, 0, rng.choice(3, order.size, p=[0.6, 0.25, 0.15]))
    sku = np.where(use_fav, fav[cust, slot], -1)
    day = purchases.day[order]

    # Popularity of the day: base weight x category month x promotion boosts.
    days_num = first_day_number + np.arange(n_days)
    months = days_num.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64) % 12
    cat_factor = catalog.category_month[:, catalog.category]  # (12, n_sku)
    bounds = np.searchsorted(day, np.arange(n_days + 1))
    promo_of = -np.ones(order.size, dtype=np.int64)
    active_promos = [
        (i, p.start - first_day_number, p.end - first_day_number, p) for i, p in enumerate(promos)
    ]
    for d in range(n_days):
        lo, hi = bounds[d], bounds[d + 1]
        if hi == lo:
            continue
        w = catalog.weight * cat_factor[months[d]]
        running = [(i, p) for i, s0, s1, p in active_promos if s0 <= d <= s1]
        for _i, p in running:
            w[p.sku_idx] *= p.boost
        need = np.flatnonzero(sku[lo:hi] < 0) + lo
        if need.size:
            sku[need] = rng.choice(w.size, need.size, p=w / w.sum())
        for i, p in running:
            seg = sku[lo:hi]
            hit = np.isin(seg, p.sku_idx) & (promo_of[lo:hi] < 0)
            promo_of[lo:hi][hit] = i

    consumable = np.array([CATEGORIES[c]["consumable"] for c in catalog.category])[sku]
    u = rng.random(order.size)
    qty = 1 + (u < np.where(consumable, 0.20, 0.07)) + (u < np.where(consumable, 0.05, 0.015))

    # One line per SKU in an order: Shopify merges the same variant into one line.
    o = np.lexsort((pos, sku, order))
    dup = np.zeros(order.size, dtype=bool)
    dup[o[1:]] = (order[o[1:]] == order[o[:-1]]) & (sku[o[1:]] == sku[o[:-1]])
    keep = ~dup
    return Lines(
        order=order[keep],
        sku=sku[keep],
        qty=qty[keep].astype(np.int64),
        day=day[keep],
        kept=np.ones(keep.sum(), dtype=bool),
        promo=promo_of[keep],
    )


def simulate_inventory(
    rng: np.random.Generator,
    catalog: Catalog,
    lines: Lines,
    placed_candidate: np.ndarray,
    *,
    n_days: int,
    first_stock_day: int,
    first_day_number: int,
    late_supplier: int,
    drift_start: int,
    drift: float,
) -> Inventory:
    """Day-by-day stock per SKU from `first_stock_day` to the last sim day.

    Sets lines.kept (False when the line's order was not placed or the SKU was out of
    stock when the order came in). `placed_candidate` marks orders that reached checkout.
    Days are sim days; the window's last day is n_days - 1.
    """
    n_sku = catalog.n_skus
    horizon = n_days + 260
    candidate_line = placed_candidate[lines.order]
    lines.kept[:] = candidate_line
    demand = np.zeros((n_sku, n_days), dtype=np.int32)
    flat = lines.day[candidate_line] * n_sku + lines.sku[candidate_line]
    demand_flat = np.bincount(flat, weights=lines.qty[candidate_line], minlength=n_days * n_sku)
    demand[:] = demand_flat.reshape(n_days, n_sku).T
    sales = demand.copy()
    available_end = np.zeros((n_sku, n_days), dtype=np.int32)
    incoming_end = np.zeros((n_sku, n_days), dtype=np.int32)
    arrive = np.zeros((n_sku, horizon), dtype=np.int64)
    close = np.zeros((n_sku, horizon), dtype=np.int64)

    suppliers = catalog.suppliers
    lead = np.array([s.lead_time_days for s in suppliers])
    cycle = np.array([s.order_cycle_days for s in suppliers])
    cover = np.array([s.cover_days for s in suppliers])
    sup_skus = [
        np.flatnonzero((catalog.supplier == j) & catalog.active) for j in range(len(suppliers))
    ]
    bias = rng.lognormal(-0.05, 0.25, n_sku)

    # Opening stock: what the policy would hold on an average day.
    w0 = max(0, first_stock_day - 28)
    rate0 = demand[:, w0:first_stock_day].mean(axis=1) if first_stock_day > w0 else np.zeros(n_sku)
    sup = catalog.supplier
    available = np.ceil(
        rate0 * (lead[sup] + cycle[sup] + 0.6 * cover[sup]) + 0.5 * catalog.moq
    ).astype(np.int64)
    available[~catalog.active] = 0
    on_order = np.zeros(n_sku, dtype=np.int64)

    po_rows: dict[str, list] = {
        k: []
        for k in (
            "po_number",
            "supplier",
            "sku",
            "qty_ordered",
            "qty_received",
            "ordered_day",
            "expected_day",
            "arrival_day",
            "cancelled",
            "partial",
        )
    }
    po_counter = 0
    last_day = n_days - 1
    forced_done = False
    weekdays = cal.weekday(first_day_number + np.arange(n_days))
    line_bounds = np.searchsorted(lines.day, np.arange(n_days + 1))

    for d in range(first_stock_day, n_days):
        available += arrive[:, d]
        on_order -= close[:, d]
        lo, hi = line_bounds[d], line_bounds[d + 1]
        if hi > lo:
            idx = np.flatnonzero(candidate_line[lo:hi]) + lo
            s_d, q_d = lines.sku[idx], lines.qty[idx]
            o = np.argsort(s_d, kind="stable")  # within a SKU, first come first served
            s_sorted, q_sorted = s_d[o], q_d[o]
            cum = np.cumsum(q_sorted)
            starts = np.ones(s_sorted.size, dtype=bool)
            starts[1:] = s_sorted[1:] != s_sorted[:-1]
            group = np.cumsum(starts) - 1
            first_idx = np.flatnonzero(starts)
            before = cum[first_idx] - q_sorted[first_idx]
            ok_sorted = (cum - before[group]) <= available[s_sorted]
            ok = np.empty_like(ok_sorted)
            ok[o] = ok_sorted
            lines.kept[idx] = ok
            sold = np.bincount(s_d[ok], weights=q_d[ok], minlength=n_sku).astype(np.int64)
            available -= sold
            sales[:, d] = sold
        else:
            sales[:, d] = 0

        # Weekly (or fortnightly) review per supplier.
        for j, s in enumerate(suppliers):
            skus = sup_skus[j]
            if skus.size == 0 or weekdays[d] != s.review_weekday:
                continue
            if ((d - first_stock_day) // 7) % (s.order_cycle_days // 7) != 0:
                continue
            h0 = max(0, d - 27)
            rate = sales[skus, h0 : d + 1].mean(axis=1) * bias[skus]
            recent_demand = demand[skus, max(0, d - 55) : d + 1].sum(axis=1)
            need = rate * (s.lead_time_days + s.order_cycle_days)
            rop = need + SAFETY_K * np.sqrt(need)
            position = available[skus] + on_order[skus]
            want = position < rop
            rescue = (available[skus] == 0) & (on_order[skus] == 0) & (recent_demand > 0)
            rate = np.where(rescue, np.maximum(rate, recent_demand / 56.0), rate)
            qty = rop + rate * s.cover_days - position
            expected = d + s.lead_time_days
            force = (
                j == late_supplier and not forced_done and last_day - 14 <= expected <= last_day - 3
            )
            order_mask = want | rescue
            if force:
                order_mask[int(np.argmax(catalog.weight[skus]))] = True
                forced_done = True
            if not order_mask.any():
                continue
            k = skus[order_mask]
            pack = catalog.case_pack[k]
            q = np.maximum(qty[order_mask], catalog.moq[k])
            q = (np.ceil(q / pack) * pack).astype(np.int64)
            po_counter += 1
            # Actual lead time: the supplier's own bias, noise, and for the late supplier a
            # drift that grows linearly to `drift` at the end of the window.
            mean = s.lead_time_days * s.on_time_bias
            if j == late_supplier and d >= drift_start:
                mean = s.lead_time_days * (
                    1 + drift * (d - drift_start) / max(1, last_day - drift_start)
                )
            actual = np.maximum(1, np.round(rng.normal(mean, s.lead_time_std_days, k.size))).astype(
                np.int64
            )
            arrival = d + actual
            if j == late_supplier and last_day - 14 <= expected <= last_day - 1:
                # Goods still on the water at the end: open and overdue.
                arrival = np.maximum(arrival, last_day + 1 + rng.integers(2, 10, k.size))
            cancelled = rng.random(k.size) < CANCELLED_SHARE
            partial = (rng.random(k.size) < PARTIAL_SHARE) & ~cancelled & (pack < q)
            received = q.copy()
            cut = np.floor(q * rng.uniform(0.5, 0.95, k.size) / pack) * pack
            received[partial] = np.maximum(pack[partial], cut[partial]).astype(np.int64)
            received[cancelled] = 0
            live = ~cancelled
            on_order[k[live]] += q[live]
            arrival = np.minimum(arrival, horizon - 1)
            arrive[k[live], arrival[live]] += received[live]
            close[k[live], arrival[live]] += q[live]
            for key, val in (
                ("po_number", np.full(k.size, po_counter)),
                ("supplier", np.full(k.size, j)),
                ("sku", k),
                ("qty_ordered", q),
                ("qty_received", received),
                ("ordered_day", np.full(k.size, d)),
                ("expected_day", np.full(k.size, expected)),
                ("arrival_day", arrival),
                ("cancelled", cancelled),
                ("partial", partial),
            ):
                po_rows[key].append(val)

        available_end[:, d] = available
        incoming_end[:, d] = on_order

    pos = PurchaseOrderLines(
        **{k: (np.concatenate(v) if v else np.zeros(0, dtype=np.int64)) for k, v in po_rows.items()}
    )
    return Inventory(
        demand=demand,
        sales=sales,
        available_end=available_end,
        incoming_end=incoming_end,
        first_day=first_stock_day,
        purchase_orders=pos,
    )
