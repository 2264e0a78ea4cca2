"""Generate a demo store: vendor exports under `<home>/landing` and the answer key of the
incidents planted in them under `<home>/demo_truth`.

The store is simulated, not sampled from templates, so the structure later models must
learn is really there: weekly and yearly seasonality with a BFCM peak and growth,
BG/NBD-like repeat buying, ABC-shaped SKU demand censored by stockouts, purchase orders
from a simple imperfect policy, promotions with real uplift, returns, support tickets that
follow orders, and ad platforms that over-report conversions. Same arguments, same bytes:
all randomness comes from `numpy.random.default_rng(seed)`.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import polars as pl

from orchestration.demo import calendar as cal
from orchestration.demo import response
from orchestration.demo import writers as w
from orchestration.demo.calendar import DAY, HOUR
from orchestration.demo.catalog import build_catalog, build_promotions, pick_late_supplier
from orchestration.demo.creatives import rotate_creatives
from orchestration.demo.customers import CHANNELS, simulate_customers
from orchestration.demo.marketing import OVERCOUNT, TARGET_CAC, simulate_ads, simulate_sessions
from orchestration.demo.names import AGENTS, CATEGORIES, CITIES, FIRST_NAMES, LAST_NAMES, STREETS
from orchestration.demo.operations import draw_lines, simulate_inventory
from orchestration.demo.orders import NEVER, assign_channels, build_orders
from orchestration.demo.profit import ProfitRules, build_cost_history, simulate_transactions
from orchestration.demo.profit_key import profit_key, profit_readme, profit_settings_of
from orchestration.demo.response import plan_acquisition
from orchestration.demo.shipments import simulate_shipments
from orchestration.demo.support import simulate_tickets
from orchestration.demo.truth import money_stats, order_cents, orders_truth, profit_cents
from orchestration.demo.writers.payments import write_payment_transactions
from orchestration.demo.writers.shipping import write_shipments

DEFAULT_END_DATE = dt.date(2026, 11, 22)
HISTORY_DAYS = 730  # customers are acquired from this long before the window starts
STOCK_WARMUP_DAYS = 120  # stock is simulated from this long before the window starts
GROWTH_PER_YEAR = 0.08  # of new-customer acquisition; repeat buying adds the rest
REFERENCE_ORDERS_PER_DAY = 375  # would-be orders/day at scale 1 over the year before end_date
CHECKOUT_LOSS = 0.40
RETURN_SPIKE_RATE = 0.45
CAC_SPIKE = 2.2
TICKET_SPIKE = 3.0
LEAD_TIME_DRIFT = 0.60
TAX_INCLUSIVE_SHARE = 0.08  # of customers (and so of orders): the VAT-inclusive market
TIP_SHARE = 0.03  # of web orders
GIFT_CARD_SHARE = 0.01  # of orders


@dataclass(frozen=True)
class DemoSummary:
    landing_dir: Path
    truth_dir: Path
    start_date: dt.date
    end_date: dt.date
    n_skus: int  # active SKUs (the catalog also has a few draft/archived ones)
    n_suppliers: int
    n_customers: int  # rows of the customers export
    n_orders: int  # orders created in the window (a handful of test orders included)
    n_order_lines: int
    n_tickets: int
    files: int  # files written under landing


def generate_store(
    home: Path,
    *,
    scale: float = 1.0,
    days: int = 730,
    seed: int = 7,
    end_date: dt.date = DEFAULT_END_DATE,
    progress: Callable[[str], None] | None = None,
    taxes_included: bool | None = None,
) -> DemoSummary:
    """Write a demo store's landing files and answer key under `home`.

    scale multiplies customers, orders and SKUs (1.0: ~500 SKUs, ~330 orders a day);
    days is the length of the exported window ending on end_date (at least 60).
    taxes_included: None (default) is a US store whose international market (about 8% of
    customers, UK addresses) buys at VAT-inclusive prices (20% VAT), so its orders are
    exported tax-inclusive (Total = Subtotal + Shipping, Taxes = the VAT inside); True makes
    every customer part of that market (a whole VAT-inclusive store: set `taxes_included:
    true` in storeops.yml to tell the pipeline); False has no tax-inclusive orders. The
    store's size, currency (USD) and every other draw are the same whatever this is.
    Deletes and rewrites `<home>/landing` and `<home>/demo_truth`, and adds the demo's
    `profit:` section to `<home>/storeops.yml` when the file has none (never changing a
    `profit:` that is there: the answer key then uses that one).
    """
    if scale <= 0:
        raise ValueError(f"scale must be positive, got {scale}")
    if days < 60:
        raise ValueError(f"days must be at least 60 (the planted incidents need room), got {days}")
    step = progress or (lambda _label: None)
    home = Path(home)
    landing_dir, truth_dir = home / "landing", home / "demo_truth"
    for d in (landing_dir, truth_dir):
        if d.exists():
            shutil.rmtree(d)
        d.mkdir(parents=True)

    # Streams 0-11 drive the store as before; 12 draws the money features (tax-inclusive
    # market, tips, gift cards, return details) and 13 the ads' creatives and their planted
    # fatigue, so they leave the rest unchanged (spawn(n) keeps the first children the same).
    streams = np.random.default_rng(seed).spawn(14)
    # Profit (cost history, payments, shipping labels) draws from its own generator, so
    # the streams above give the same store as before it existed.
    cost_rng, pay_rng, ship_rng, ship_file_rng = np.random.default_rng([seed, 2101]).spawn(4)
    E = cal.day_number(end_date)
    n_sim = HISTORY_DAYS + days  # sim day 0 = first day of customer history
    first_day = E - n_sim + 1
    W0 = E - days + 1
    window = (W0, E)

    # Planted incidents (day numbers, inclusive), all in the second half of a 90-day window
    # or later, except the return spike whose refunds need a few weeks to show.
    return_spike_days = (E - 42, E - 33)
    conversion_drop_days = (E - 25, E - 23)
    ticket_spike_days = (E - 15, E - 12)
    cac_spike_days = (E - 6, E)
    drift_start = E - min(120, days // 2)

    step("catalog")
    catalog = build_catalog(streams[0], scale)
    late = pick_late_supplier(catalog)
    promos = build_promotions(streams[0], catalog, start=W0, end=E, late_supplier=late)
    abc = catalog.abc_class()
    b_skus = np.flatnonzero(abc == "B")
    pool = b_skus if b_skus.size else np.flatnonzero(catalog.active)
    spike_sku = int(pool[np.argmax(catalog.weight[pool])])

    step("customers")
    intensity = cal.season_factor(first_day + np.arange(n_sim))
    growth = np.exp(GROWTH_PER_YEAR * (np.arange(n_sim) - (n_sim - 1)) / 365.0)
    consumable = np.array([CATEGORIES[c]["consumable"] for c in catalog.category], dtype=float)
    # Paid acquisition answers each platform's budget through planted response curves
    # (orchestration.demo.response); budgets and channels draw from their own generator.
    budget_rng, channel_rng = np.random.default_rng([seed, 2202]).spawn(2)
    acquisition = plan_acquisition(
        budget_rng, intensity * growth, frozen_from=n_sim - response.FROZEN_DAYS
    )
    customers, purchases, fav = simulate_customers(
        streams[1],
        intensity=intensity,
        growth=growth,
        n_days=n_sim,
        target_orders=REFERENCE_ORDERS_PER_DAY * scale * 365,
        target_from=n_sim - 365,
        min_orders_from=HISTORY_DAYS,
        min_orders_per_day=3,
        n_skus_weight=catalog.weight,
        consumable=consumable,
        cities_weight=np.array([c[5] for c in CITIES], dtype=float),
        n_first=len(FIRST_NAMES),
        n_last=len(LAST_NAMES),
        n_streets=len(STREETS),
        acquisition=acquisition,
        channel_rng=channel_rng,
    )

    step("baskets")
    channel_all, source_all = assign_channels(streams[2], customers, purchases)
    lines = draw_lines(
        streams[3], catalog, promos, purchases, customers.regular, fav, first_day, n_sim
    )
    # Checkout bug: part of the would-be orders on those days never go through.
    p_day = first_day + purchases.day
    lost = (
        (p_day >= conversion_drop_days[0])
        & (p_day <= conversion_drop_days[1])
        & (streams[2].random(purchases.day.size) < CHECKOUT_LOSS)
    )
    candidate = ~lost

    step("inventory")
    inv = simulate_inventory(
        streams[4],
        catalog,
        lines,
        candidate,
        n_days=n_sim,
        first_stock_day=HISTORY_DAYS - STOCK_WARMUP_DAYS,
        first_day_number=first_day,
        late_supplier=late,
        drift_start=drift_start - first_day,
        drift=LEAD_TIME_DRIFT,
    )
    placed = candidate & (np.bincount(lines.order[lines.kept], minlength=candidate.size) > 0)
    kept = lines.kept

    step("orders")
    intl_u = streams[12].random(customers.n)
    share = {None: TAX_INCLUSIVE_SHARE, True: 1.0, False: 0.0}[taxes_included]
    intl = intl_u < share
    orders = build_orders(
        streams[5],
        catalog=catalog,
        promos=promos,
        customers=customers,
        purchases=purchases,
        placed=placed,
        channel_all=channel_all,
        source_all=source_all,
        line_order=lines.order[kept],
        line_sku=lines.sku[kept],
        line_qty=lines.qty[kept],
        line_promo=lines.promo[kept],
        first_day_number=first_day,
        window_start=W0,
        window_end=E,
        return_spike=(spike_sku, *return_spike_days),
        carrier_delay=ticket_spike_days,
        extra=streams[12],
        taxes_included=intl,
        tip_share=TIP_SHARE,
        gift_card_share=GIFT_CARD_SHARE,
    )
    export_at = int(cal.local_to_utc(np.array([(E + 1) * DAY + 8 * HOUR]))[0])

    step("support")
    product_weight = np.bincount(
        catalog.product, weights=catalog.weight, minlength=len(catalog.title)
    )
    tickets = simulate_tickets(
        streams[6],
        orders=orders,
        window=window,
        spike=(*ticket_spike_days, TICKET_SPIKE),
        product_weight=product_weight,
        n_agents=len(AGENTS),
    )

    step("marketing")
    real = ~orders.is_test & (orders.local_day >= W0) & (orders.local_day <= E)
    od = orders.local_day[real] - W0
    och = orders.channel[real]
    new_paid = np.zeros((3, days))
    paid_orders = np.zeros((3, days))
    paid_revenue = np.zeros((3, days))
    for p in range(3):
        m = och == p
        new_paid[p] = np.bincount(od[m & orders.is_first[real]], minlength=days)
        paid_orders[p] = np.bincount(od[m], minlength=days)
        paid_revenue[p] = np.bincount(od[m], weights=orders.total[real][m], minlength=days)
    window_sim = slice(HISTORY_DAYS, n_sim)
    per_unit = response.dollars_per_unit(
        acquisition, customers.channel, customers.acq_day, window_sim, TARGET_CAC
    )
    response.write_truth(
        truth_dir, acquisition, per_unit=per_unit, first_day=first_day, window=window_sim
    )
    ads = simulate_ads(
        streams[7],
        days=np.arange(W0, E + 1),
        new_paid=new_paid,
        paid_orders=paid_orders,
        paid_revenue=paid_revenue,
        cac_spike=(*cac_spike_days, CAC_SPIKE),
        spend_usd=acquisition.spend_units[:, window_sim] * per_unit[:, None],
    )
    creatives = rotate_creatives(streams[13], ads, last_day=E)
    ads = creatives.rows
    in_win = purchases.day >= HISTORY_DAYS
    would_be = np.zeros((len(CHANNELS), days))
    for c in range(len(CHANNELS)):
        m = in_win & (channel_all == c)
        would_be[c] = np.bincount(purchases.day[m] - HISTORY_DAYS, minlength=days)
    sessions = simulate_sessions(streams[7], would_be)

    # Stock as Shopify shows it: committed = sold but not yet fulfilled (or cancelled).
    step("inventory snapshots")
    active = np.flatnonzero(catalog.active)
    pos_of = -np.ones(catalog.n_skus, dtype=np.int64)
    pos_of[active] = np.arange(active.size)
    lm = ~orders.is_test[orders.line_order] & (orders.line_kind == 0)
    l_sku = pos_of[orders.line_sku[lm]]
    l_qty = orders.line_qty[lm]
    created_day = orders.local_day[orders.line_order[lm]]
    release = np.minimum(orders.line_fulfilled[lm], orders.cancelled[orders.line_order[lm]])
    release_day = np.where(
        release < NEVER, cal.utc_to_local(np.minimum(release, 2**40)) // DAY, E + 1
    )
    a = np.clip(created_day, W0, E + 1) - W0
    b = np.clip(release_day, W0, E + 1) - W0
    ok = b > a
    width = days + 1
    diff = np.bincount(
        l_sku[ok] * width + a[ok], weights=l_qty[ok], minlength=active.size * width
    ) - np.bincount(l_sku[ok] * width + b[ok], weights=l_qty[ok], minlength=active.size * width)
    committed = np.cumsum(diff.reshape(active.size, width), axis=1)[:, :days].astype(np.int64)
    available = inv.available_end[active][:, HISTORY_DAYS:].astype(np.int64)
    incoming = inv.incoming_end[active][:, HISTORY_DAYS:].astype(np.int64)
    unavailable = _damaged_units(streams[8], active.size, days)
    on_hand = available + committed + unavailable

    step("writing exports")
    landing = w.Landing(landing_dir)
    buyers = np.unique(orders.customer[real])
    n_subscribers = max(5, round(0.03 * buyers.size))
    people = w.customer_table(customers, n_subscribers, streams[9], intl)
    export = w.write_orders(
        landing,
        streams[10],
        orders=orders,
        people=people,
        customers=customers,
        catalog=catalog,
        promos=promos,
        window=window,
    )
    n_orders, n_lines = export.n_orders, export.n_lines
    n_customers = w.write_customers(
        landing,
        people=people,
        customers=customers,
        orders=orders,
        window=window,
        n_subscribers=n_subscribers,
        export_at=export_at,
    )
    on_hand_end = np.zeros(catalog.n_skus, dtype=np.int64)
    on_hand_end[active] = on_hand[:, -1]
    costs = build_cost_history(cost_rng, catalog, window)
    product_files = w.write_products(landing, catalog, on_hand_end, costs.snapshots(window))
    w.write_inventory(
        landing,
        catalog,
        window=window,
        available=available,
        committed=committed,
        incoming=incoming,
        unavailable=unavailable,
    )
    w.write_purchasing(
        landing, catalog, inv.purchase_orders, first_day_number=first_day, last_sim_day=n_sim - 1
    )
    comma_month = str(np.datetime64(W0 + days // 2, "D").astype("datetime64[M]"))
    comma = w.write_ads(
        landing, ads, export_day=E + 1, comma_month=comma_month, ad_names=creatives.ad_name
    )
    w.write_sessions(landing, sessions, window)
    w.write_promotions(landing, catalog, promos)
    migration_day = W0 + round(0.55 * days)
    w.write_tickets(
        landing,
        tickets,
        people=people,
        catalog=catalog,
        migration_day=migration_day,
        export_at=export_at,
        rng=streams[11],
    )

    step("payments and shipping")
    cents = order_cents(orders, window)
    transactions = simulate_transactions(pay_rng, orders, cents)
    tx_written, payment_files = write_payment_transactions(landing, transactions, orders, window)
    shipments = simulate_shipments(
        ship_rng, orders=orders, catalog=catalog, cents=cents, window=window
    )
    shipping = write_shipments(landing, shipments.labels, ship_file_rng)
    profit_settings, settings_source = profit_settings_of(home, window)
    profit = profit_cents(
        orders,
        window,
        cents,
        costs=costs,
        rules=ProfitRules.from_settings(profit_settings),
        transactions=transactions,
        written_fees=np.where(tx_written, transactions.fee, 0),
        label_cents=shipments.label_cents(),
        shipped=shipments.shipped,
        without_label=shipments.without_label,
    )

    step("answer key")
    summary = DemoSummary(
        landing_dir=landing_dir,
        truth_dir=truth_dir,
        start_date=cal.to_date(W0),
        end_date=end_date,
        n_skus=int(active.size),
        n_suppliers=len(catalog.suppliers),
        n_customers=n_customers,
        n_orders=n_orders,
        n_order_lines=n_lines,
        n_tickets=int(tickets.n),
        files=len(landing.files),
    )
    pos = inv.purchase_orders
    late_name = catalog.suppliers[late].name
    late_open = (
        (pos.supplier == late)
        & ~pos.cancelled
        & (pos.arrival_day > n_sim - 1)
        & (pos.expected_day < n_sim - 1)
    )
    stockout_share = float((available == 0).mean())
    in_real = real[orders.line_order] & (orders.line_kind == 0)
    n_real = max(int(real.sum()), 1)
    censored = inv.demand[active][:, HISTORY_DAYS:] > inv.sales[active][:, HISTORY_DAYS:]
    stats = {
        "orders_per_day": round(float(real.sum()) / days, 1),
        "lines_per_order": round(float(in_real.sum()) / n_real, 3),
        "revenue_per_year_usd": round(float(orders.total[real].sum()) / 100 / days * 365),
        "new_customer_order_share": round(float(orders.is_first[real].mean()), 3),
        "line_return_rate": round(float(orders.line_returned[in_real].mean()), 4),
        "order_cancel_rate": round(float((orders.cancelled[real] < NEVER).mean()), 4),
        "tickets_per_order": round(tickets.n / n_real, 3),
        "stockout_share_sku_days": round(stockout_share, 4),
        "censored_share_sku_days": round(float(censored.mean()), 4),
        "platform_conversions_over_paid_orders": round(
            float(ads.conversions.sum()) / max(float(paid_orders.sum()), 1), 3
        ),
        "zendesk_to_gorgias_migration": cal.to_date(migration_day).isoformat(),
        "overcount_factors": dict(zip(["meta", "google", "tiktok"], OVERCOUNT.tolist())),
        "late_supplier_open_overdue_pos": sorted(
            {f"PO-{10000 + int(n)}" for n in pos.po_number[late_open]}
        ),
        **money_stats(orders, window),
        "taxes_included": {None: "mixed", True: "all", False: "none"}[taxes_included],
        "decimal_comma_file": None
        if comma is None
        else {
            "file": comma["file"],
            "rows": comma["rows"],
            "spend_column": comma["spend_column"],
            "spend_total": f"{comma['spend_cents'] // 100}.{comma['spend_cents'] % 100:02d}",
            "delimiter": ";",
            "decimal_mark": ",",
            "thousands_mark": ".",
        },
        "duplicated_order_rows": export.duplicate,
        "creatives": {
            "meta_and_tiktok_creatives": creatives.truth.height,
            "fatigued": int(creatives.truth["fatigued"].sum()),
        },
    }
    incidents = _incidents(
        catalog,
        spike_sku,
        late_name,
        return_spike_days,
        conversion_drop_days,
        ticket_spike_days,
        cac_spike_days,
        drift_start,
        E,
        stats,
    )
    profit_info = profit_key(
        orders,
        settings=profit_settings,
        settings_source=settings_source,
        costs=costs,
        window=window,
        shipments=shipments,
        shipping_files=shipping,
        payment_files=payment_files,
        product_files=product_files,
    )
    (truth_dir / "profit.json").write_text(json.dumps(profit_info, indent=2) + "\n")
    (truth_dir / "incidents.json").write_text(json.dumps(incidents, indent=2) + "\n")
    creatives.truth.write_csv(truth_dir / "creative_fatigue.csv")
    (truth_dir / "README.md").write_text(
        _readme(incidents, summary, stats, profit_info) + "\n" + response.readme_section())
    params = {"scale": scale, "days": days, "seed": seed, "end_date": end_date.isoformat()}
    if taxes_included is not None:
        params["taxes_included"] = taxes_included
    summary_json = {
        k: (str(v) if isinstance(v, (Path, dt.date)) else v) for k, v in asdict(summary).items()
    }
    summary_json["landing_dir"] = "landing"
    summary_json["truth_dir"] = "demo_truth"
    (truth_dir / "summary.json").write_text(
        json.dumps({"summary": summary_json, "parameters": params, "stats": stats}, indent=2) + "\n"
    )
    truth = pl.DataFrame(
        {
            "sku": w._gather(catalog.sku, np.repeat(active, days)),
            "date": pl.Series(np.tile(np.arange(W0, E + 1), active.size))
            .cast(pl.Int32)
            .cast(pl.Date),
            "demand_units": inv.demand[active][:, HISTORY_DAYS:].reshape(-1).astype(np.int64),
            "sales_units": inv.sales[active][:, HISTORY_DAYS:].reshape(-1).astype(np.int64),
            "on_hand_end": on_hand.reshape(-1),
        }
    )
    truth.write_parquet(truth_dir / "true_demand.parquet", statistics=False)
    orders_truth(orders, window, profit).write_parquet(
        truth_dir / "orders.parquet", statistics=False
    )
    return summary


def _damaged_units(rng: np.random.Generator, n_sku: int, n_days: int) -> np.ndarray:
    """Now and then a few units of a SKU are set aside as damaged for a while."""
    k = rng.poisson(n_days / 150.0, n_sku)
    sku = np.repeat(np.arange(n_sku), k)
    start = rng.integers(0, n_days, sku.size)
    end = np.minimum(start + rng.integers(3, 21, sku.size), n_days)
    units = rng.integers(1, 4, sku.size)
    diff = np.zeros((n_sku, n_days + 1), dtype=np.int64)
    np.add.at(diff, (sku, start), units)
    np.add.at(diff, (sku, end), -units)
    return np.cumsum(diff, axis=1)[:, :n_days]


def _incidents(
    catalog,
    spike_sku,
    late_name,
    return_spike,
    conv_drop,
    ticket_spike,
    cac_spike,
    drift_start,
    E,
    stats,
) -> list[dict]:
    iso = lambda d: cal.to_date(d).isoformat()
    sku = catalog.sku[spike_sku]
    return [
        {
            "id": "INC-1",
            "kind": "conversion_rate_drop",
            "metric": "conversion_rate",
            "dimension": {"channel": "all"},
            "start_date": iso(conv_drop[0]),
            "end_date": iso(conv_drop[1]),
            "magnitude": -CHECKOUT_LOSS,
            "description": f"Checkout bug: about {CHECKOUT_LOSS:.0%} of would-be orders were lost on "
            "these days while sessions stayed as expected.",
        },
        {
            "id": "INC-2",
            "kind": "return_rate_spike",
            "metric": "return_rate",
            "dimension": {"sku": sku},
            "start_date": iso(return_spike[0]),
            "end_date": iso(return_spike[1]),
            "magnitude": RETURN_SPIKE_RATE,
            "description": f"A bad batch of {sku} ({catalog.title[catalog.product[spike_sku]]}): "
            f"{RETURN_SPIKE_RATE:.0%} of its lines on orders placed in these days were "
            f"returned (usual rate {catalog.return_rate[spike_sku]:.1%}), refunded 4-14 "
            "days after fulfilment.",
        },
        {
            "id": "INC-3",
            "kind": "cac_spike",
            "metric": "cac",
            "dimension": {"channel": "meta"},
            "start_date": iso(cac_spike[0]),
            "end_date": iso(cac_spike[1]),
            "magnitude": CAC_SPIKE,
            "description": f"Meta spend x{CAC_SPIKE} (a budget mistake) while Meta orders and "
            "platform conversions did not rise; it runs to the last day of the data.",
        },
        {
            "id": "INC-4",
            "kind": "ticket_volume_spike",
            "metric": "ticket_volume",
            "dimension": {"category": "order_status"},
            "start_date": iso(ticket_spike[0]),
            "end_date": iso(ticket_spike[1]),
            "magnitude": TICKET_SPIKE,
            "description": f"Carrier delay: order-status tickets x{TICKET_SPIKE:g} on these days; "
            "orders placed from two days before to the end of the spike were "
            "fulfilled about 3 days later than usual and first replies were slower.",
        },
        {
            "id": "INC-5",
            "kind": "supplier_late",
            "metric": "lead_time_days",
            "dimension": {"supplier": late_name},
            "start_date": iso(drift_start),
            "end_date": iso(E),
            "magnitude": LEAD_TIME_DRIFT,
            "description": f"Real lead time of {late_name} drifts up linearly to +{LEAD_TIME_DRIFT:.0%} "
            "over these days while suppliers.csv still quotes the old lead time; POs "
            "arrive after expected_at and at least one PO is open and overdue at the "
            f"end: {', '.join(stats['late_supplier_open_overdue_pos']) or 'none'}.",
        },
    ]


def _readme(incidents: list[dict], summary: DemoSummary, stats: dict, profit: dict) -> str:
    lines = [
        "# Demo store answer key",
        "",
        (
            f"Window {summary.start_date} .. {summary.end_date}: {summary.n_orders} orders, "
            f"{summary.n_order_lines} order lines, {summary.n_customers} customers, {summary.n_skus} "
            f"active SKUs from {summary.n_suppliers} suppliers, {summary.n_tickets} support tickets."
        ),
        "",
        "These files are NOT inside landing/: they are what a correct pipeline should find.",
        "",
        "## Planted incidents",
        "",
    ]
    for inc in incidents:
        dim = ", ".join(f"{k}={v}" for k, v in inc["dimension"].items())
        lines += [
            f"### {inc['id']} {inc['kind']} ({inc['metric']}, {dim})",
            f"{inc['start_date']} .. {inc['end_date']}, magnitude {inc['magnitude']}.",
            inc["description"],
            "",
        ]
    lines += [
        "## Other structure worth finding",
        "",
        (
            "- Weekly seasonality (Sunday and Monday high, mid-week low), a Nov-Dec peak with BFCM "
            "about twice an ordinary day, growth of roughly 15-25% a year."
        ),
        (
            "- Customers follow a BG/NBD-like process (gamma purchase rates, beta dropout), a core "
            "buys consumables on a ~30-day cadence, ~10% of lapsed customers come back once."
        ),
        (
            "- SKU demand is ABC-shaped and censored by stockouts: `true_demand.parquet` has the "
            "uncensored demand (units in placed orders before stockouts removed lines), the sales "
            "and the on-hand units per SKU and day."
        ),
        f"- Share of active SKU-days ending with nothing available: {stats['stockout_share_sku_days']:.1%}.",
        (
            f"- Ad platforms report {stats['platform_conversions_over_paid_orders']:.2f}x the paid orders "
            "the store attributes by UTM."
        ),
        f"- Support moved from Zendesk to Gorgias on {stats['zendesk_to_gorgias_migration']}.",
        (
            f"- Creative fatigue (`creative_fatigue.csv`): the Meta and TikTok campaigns rotate "
            f"{stats['creatives']['meta_and_tiktok_creatives']} creatives (`Ad name`, each live "
            f"5-12 weeks); {stats['creatives']['fatigued']} wear out from `fatigue_onset`: "
            "frequency climbs and CTR decays 2-4% a day to 40-60% below its start (clicks and "
            "platform conversions fall, cost per result rises). The Q4 CPM rise is not fatigue."
        ),
        "",
    ]
    lines += _money_readme(stats)
    lines += profit_readme(profit)
    return "\n".join(lines)


def _money_readme(stats: dict) -> list[str]:
    pct = lambda key: f"{stats[key]:.1%}"
    comma, dup = stats["decimal_comma_file"], stats["duplicated_order_rows"]
    lines = [
        "## Money (orders.parquet)",
        "",
        (
            "`orders.parquet` has one row per order created in the window, as the newest export "
            "that has it shows it (a refund made after that export is not in the data): "
            "order_name, order_date (store-timezone date of Created at), currency, "
            "taxes_included, gross_sales, discounts, returns, net_sales, shipping, "
            "refunded_shipping, taxes, refunded_taxes, tips, gift_card_sales, total, refunded "
            "(decimal(18,2), store currency, exact from integer cents), is_cancelled, is_test."
        ),
        (
            "- Shopify finance-report definitions: gross sales = product price x quantity; "
            "net_sales = gross_sales - discounts - returns; returns = the goods part of refunds; "
            "refunded shipping and refunded tax are their own amounts; tips and gift cards are "
            "not sales. gross_sales, discounts, returns, net_sales and shipping are ex tax (VAT "
            "taken out of tax-inclusive orders); taxes is all tax charged, shipping VAT included."
        ),
        (
            "- For every order that is not cancelled: net_sales + (shipping - refunded_shipping) "
            "+ (taxes - refunded_taxes) + tips + gift_card_sales = total - refunded, to the cent."
        ),
        (
            "- Revenue per day (fct_daily_kpis.revenue) = sum of net_sales of orders neither "
            "cancelled nor test, by order_date. A cancelled order keeps its placed amounts with "
            "its sale reversed (returns, refunded_shipping and refunded_taxes = all of it, net "
            "sales 0); its `refunded` is the export's Refunded Amount (0 when only voided)."
        ),
        (
            f"- Tax-inclusive orders (international market, 20% VAT, UK addresses; Tax 1 Name "
            f"`VAT 20%`): {pct('tax_inclusive_order_share')} of orders (store setting: "
            f"{stats['taxes_included']}). Line prices, Subtotal and Shipping include VAT, "
            "Taxes = the VAT inside products and shipping, Total = Subtotal + Shipping."
        ),
        (
            f"- Refunds: {pct('partial_refund_order_share')} of orders partly refunded (returned "
            "lines, some 2 of 3 lines, some 1 unit of a multi-unit line: the lines' value after "
            "their discount share plus its tax, the tax rounded once on the refunded value; "
            "tax-inclusive: the inclusive value), "
            f"{pct('full_refund_with_shipping_order_share')} fully refunded with shipping "
            "(everything returned: Refunded Amount = Total). An order with a tip or gift card "
            "whose goods all come back keeps the tip, the gift card and the shipping."
        ),
        (
            f"- Tips: {pct('tip_order_share')} of orders (web checkout) have a `Tip` line (no SKU, "
            "not taxable, no shipping) counted in Subtotal and Total; gift cards: "
            f"{pct('gift_card_order_share')} of orders have a `Gift Card - $N` line. Neither is "
            "stock (no inventory, demand or cost)."
        ),
    ]
    if comma:
        lines.append(
            f"- `{comma['file']}` was re-saved by a decimal-comma spreadsheet: `;` delimiter, "
            f"decimal commas (`1.204,50`), CRLF; {comma['rows']} rows, "
            f"{comma['spend_column']} totals {comma['spend_total']} exactly."
        )
    if dup:
        lines.append(
            f"- `{dup['file']}`: the {dup['repeated_rows']} rows of order {dup['order']} appear "
            "twice in a row, exactly repeated (pasted twice); the order counts once."
        )
    lines.append("")
    return lines
