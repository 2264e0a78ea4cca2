"""Inventory health: inventory value, cost of goods sold, turns, weeks of cover, overstock,
dead stock and stockouts for the month against the previous one (marts.fct_inventory_daily,
dim_products, fct_sku_demand_daily and fct_orders' product cost), and the largest stock to
act on. Adds the changes in overstock and dead stock value to the movers."""

from __future__ import annotations

from datetime import date, timedelta

from dashboards.document import Note, Paragraph, Table, change, number, signed_percent
from dashboards.monthly.context import MonthlyContext, Mover, add_months, month_end_of, month_label

DEAD_STOCK_DAYS = 90
OVERSTOCK_MIN_COVER_DAYS = 90
OVERSTOCK_CYCLES = 3  # overstock: cover above 3 x (lead time + review cycle)
DEFAULT_REVIEW_DAYS = 7  # weekly replenishment when a supplier has no order cycle
DEMAND_WINDOW_DAYS = 90


def inventory_health(ctx: MonthlyContext) -> list:
    """The Inventory health blocks; appends overstock and dead stock movers to `ctx.movers`."""
    lacking = ctx.missing("marts.fct_inventory_daily", "marts.dim_products",
                           "marts.fct_sku_demand_daily")
    if lacking:
        return ctx.lacking("Inventory health", lacking)
    previous = add_months(ctx.month, -1)
    this = _inventory_month(ctx, ctx.month)
    if this is None:
        return [ctx.history_note(
            f"Not enough history: no inventory snapshot in {month_label(ctx.month)}, so no "
            "inventory health figures.")]
    before = _inventory_month(ctx, previous)
    blocks: list = []
    specs = (
        ("Average inventory value at cost", "average_value", lambda v: ctx.money(v)),
        ("Inventory value at month end", "end_value", lambda v: ctx.money(v)),
        ("Cost of goods sold", "cogs", lambda v: ctx.money(v)),
        ("Inventory turns (annualised)", "turns", lambda v: number(v, 1)),
        ("Weeks of cover", "weeks_of_cover", lambda v: number(v, 1)),
        ("Overstock value at cost", "overstock_value", lambda v: ctx.money(v)),
        ("Overstocked SKUs", "overstock_skus", lambda v: number(v)),
        ("Dead stock value at cost", "dead_value", lambda v: ctx.money(v)),
        ("Dead stock SKUs", "dead_skus", lambda v: number(v)),
        ("Stockout SKU-days", "stockout_days", lambda v: number(v)),
        ("SKUs with a stockout", "stockout_skus", lambda v: number(v)),
    )
    rows = []
    for name, key, fmt in specs:
        cur = this.get(key)
        prev = before.get(key) if before else None
        rows.append((name, fmt(cur) if cur is not None else "n/a",
                     fmt(prev) if prev is not None else "n/a",
                     signed_percent(change(cur, prev))))
        if key in ("overstock_value", "dead_value") and cur is not None and prev is not None:
            ctx.movers.append(Mover(name[0].lower() + name[1:], fmt(cur), fmt(prev),
                                      abs(cur - prev)))
    blocks.append(Table(("Metric", month_label(ctx.month), month_label(previous), "Change"), tuple(rows),
                        (False, True, True, True)))
    blocks.append(Note(
        f"Turns = cost of goods sold in the month x 365 / days in the month / average "
        f"inventory value at cost. Weeks of cover = month-end value / weekly cost of goods "
        f"sold. Overstock: SKUs whose on hand covers more than {OVERSTOCK_CYCLES} x (lead time "
        f"+ review cycle) and more than {OVERSTOCK_MIN_COVER_DAYS} days of demand (the "
        f"in-stock daily rate of the last {DEMAND_WINDOW_DAYS} days); it includes dead stock. "
        f"Dead stock: on hand, stocked for at least {DEAD_STOCK_DAYS} days, and no sale in the "
        f"last {DEAD_STOCK_DAYS} days. Values at today's unit cost (marts.dim_products)."))
    if this.get("history_short"):
        blocks.append(ctx.history_note(this["history_short"]))
    top = this.get("top", [])
    if top:
        blocks.append(Paragraph("**Largest stock to act on** (dead stock first, then overstock, by value)"))
        blocks.append(Table(
            ("SKU", "Product", "Supplier", "On hand", "Value at cost", "Days of cover", "Last sale"),
            tuple((r["sku"], r["product"], r["supplier"], number(r["on_hand"]),
                   ctx.money(r["value"]),
                   "no sale" if r["cover"] is None else number(r["cover"]),
                   r["last_sale"].isoformat() if r["last_sale"] else "none")
                  for r in top),
            (False, False, False, True, True, True, False)))
    sentence = []
    if this.get("dead_value") is not None:
        sentence.append(f"Dead stock ties up {ctx.money(this['dead_value'])} at cost in "
                        f"{number(this['dead_skus'])} SKUs")
    if this.get("stockout_days") is not None and before and before.get("stockout_days") is not None:
        sentence.append(f"stockouts took {number(this['stockout_days'])} SKU-days against "
                        f"{number(before['stockout_days'])} in {month_label(previous)}")
    if sentence:
        blocks.insert(0, Paragraph("; ".join(sentence)[0].upper() + "; ".join(sentence)[1:] + "."))
    return blocks

def _inventory_month(ctx: MonthlyContext, month: date) -> dict | None:
    end = month_end_of(month)
    snapshots = ctx.rows(
        """select max(inventory_date)
           from marts.fct_inventory_daily where inventory_date between ? and ?""", [month, end])
    last_snap = snapshots[0][0]
    if last_snap is None:
        return None
    average_value, = ctx.rows(
        """
        select sum(inv.on_hand * products.unit_cost)::double / count(distinct inv.inventory_date)
        from marts.fct_inventory_daily as inv
        inner join marts.dim_products as products on products.sku = inv.sku
        where inv.inventory_date between ? and ?
        """, [month, end])[0]
    cogs = None
    if ctx.has("marts", "fct_orders") and "product_cost" in ctx.columns("marts", "fct_orders"):
        cogs = ctx.rows("""select coalesce(sum(product_cost), 0)::double from marts.fct_orders
                            where is_revenue and order_date between ? and ?""", [month, end])[0][0]
    history_start = ctx.rows("select min(demand_date) from marts.fct_sku_demand_daily")[0][0]
    window_start = end - timedelta(days=DEMAND_WINDOW_DAYS - 1)
    skus = ctx.rows(
        """
        with stock as (
            select sku, sum(on_hand) as on_hand
            from marts.fct_inventory_daily where inventory_date = ?
            group by sku
        ),
        first_seen as (
            select sku, min(inventory_date) as first_snapshot
            from marts.fct_inventory_daily where inventory_date <= ? group by sku
        ),
        demand as (
            select sku,
                   sum(units) filter (where not coalesce(is_stockout, false)) as units_in_stock,
                   count(*) filter (where coalesce(is_stockout, false)) as stockout_days
            from marts.fct_sku_demand_daily where demand_date between ? and ?
            group by sku
        ),
        last_sale as (
            select sku, max(demand_date) as last_sale_date
            from marts.fct_sku_demand_daily where demand_date <= ? and units > 0
            group by sku
        )
        select stock.sku,
               coalesce(products.product_title || coalesce(' ' || products.variant_title, ''), stock.sku),
               coalesce(products.supplier_id, ''),
               stock.on_hand, products.unit_cost::double, products.lead_time_days::double,
               products.order_cycle_days::double, coalesce(demand.units_in_stock, 0),
               coalesce(demand.stockout_days, 0), last_sale.last_sale_date, first_seen.first_snapshot
        from stock
        inner join marts.dim_products as products on products.sku = stock.sku
        left join first_seen on first_seen.sku = stock.sku
        left join demand on demand.sku = stock.sku
        left join last_sale on last_sale.sku = stock.sku
        where stock.on_hand > 0
        order by stock.sku  -- the totals below are float sums: one order, one result
        """, [last_snap, end, max(window_start, history_start or window_start), end, end])
    window_days = (end - max(window_start, history_start or window_start)).days + 1
    out: dict = {"average_value": average_value, "cogs": cogs}
    end_value = ctx.rows(
        """select coalesce(sum(inv.on_hand * products.unit_cost), 0)::double
           from marts.fct_inventory_daily as inv
           inner join marts.dim_products as products on products.sku = inv.sku
           where inv.inventory_date = ?""", [last_snap])[0][0]
    out["end_value"] = end_value
    # A month the orders only partly cover (the first month of data) is annualised over
    # the days it covers.
    covered_from = max(month, ctx.data_start) if ctx.data_start else month
    days = max((end - covered_from).days + 1, 1)
    if cogs is not None and average_value:
        out["turns"] = cogs * 365 / days / average_value
    if cogs:
        out["weeks_of_cover"] = end_value / (cogs / days * 7)
    stockouts = ctx.rows(
        """select count(*) filter (where is_stockout), count(distinct sku) filter (where is_stockout)
           from marts.fct_sku_demand_daily where demand_date between ? and ?""", [month, end])[0]
    out["stockout_days"], out["stockout_skus"] = stockouts
    if history_start is None or (end - history_start).days + 1 < 28:
        out["history_short"] = ("Not enough history: overstock and dead stock need at least "
                                "28 days of sales (dead stock 90).")
        return out
    overstock_value = dead_value = 0.0
    overstock_skus = dead_skus = 0
    flagged = []
    dead_history = (end - history_start).days + 1 >= DEAD_STOCK_DAYS
    for (sku, product, supplier, on_hand, unit_cost, lead, cycle, units_in_stock,
         stockout_days, last_sale, first_snapshot) in skus:
        value = on_hand * (unit_cost or 0)
        in_stock_days = window_days - stockout_days
        rate = units_in_stock / in_stock_days if in_stock_days > 0 else None
        cover = on_hand / rate if rate else None  # None: no in-stock sale, cover unbounded
        threshold = max(OVERSTOCK_CYCLES * ((lead or 0) + (cycle or DEFAULT_REVIEW_DAYS)),
                        OVERSTOCK_MIN_COVER_DAYS)
        is_dead = (dead_history and first_snapshot is not None
                   and (end - first_snapshot).days + 1 >= DEAD_STOCK_DAYS
                   and (last_sale is None or (end - last_sale).days >= DEAD_STOCK_DAYS))
        is_over = in_stock_days > 0 and (cover is None or cover > threshold)
        if is_over:
            overstock_value += value
            overstock_skus += 1
        if is_dead:
            dead_value += value
            dead_skus += 1
        if is_over or is_dead:
            flagged.append({"sku": sku, "product": product, "supplier": supplier,
                            "on_hand": on_hand, "value": value, "cover": cover,
                            "last_sale": last_sale, "dead": is_dead})
    out.update(overstock_value=overstock_value, overstock_skus=overstock_skus)
    if dead_history:
        out.update(dead_value=dead_value, dead_skus=dead_skus)
    else:
        out["history_short"] = (f"Not enough history: dead stock needs {DEAD_STOCK_DAYS} days "
                                "of sales history.")
    out["top"] = sorted(flagged, key=lambda r: (not r["dead"], -r["value"], r["sku"]))[:8]
    return out
