"""The monthly strategic report: how the month went, and where money is being won or lost.

`monthly_report(con, month=..., currency=...)` reads the marts (and, when present, the
analytics tables) of a storeops warehouse and returns a `Document` with, in order:
Summary, Cohort retention, Channel efficiency, Inventory health, Customer lifetime value
by acquisition channel, Customer segments, Data notes.

Every figure is computed from rows dated on or before the month's last day, so a later run
reproduces the same report (except where a later export corrected an earlier one, such as
a refund booked after the month: the marts keep the newest version of an order). The
analytics tables hold one as-of date each; they are only used when that date falls in the
month after the report month, and are labelled with it.

A store with little history, or without sessions, ads, help desk or analytics tables, still
gets a report: what cannot be computed is replaced by a Note and listed under Data notes.
Only aggregates are printed (no email, no per-customer row).
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass, field
from datetime import date, timedelta

import duckdb

from dashboards.document import (
    Bullets,
    Document,
    Heading,
    Note,
    Paragraph,
    Table,
    change,
    money,
    number,
    percent,
    signed_percent,
)
from quality.warehouse import table_exists

SECTIONS = (
    "Summary",
    "Cohort retention",
    "Channel efficiency",
    "Inventory health",
    "Customer lifetime value by acquisition channel",
    "Customer segments",
    "Data notes",
)
RETENTION_MONTHS = (1, 2, 3, 6, 12)
COHORTS = 12
CHANNEL_MONTHS = 6
DEAD_STOCK_DAYS = 90
OVERSTOCK_MIN_COVER_DAYS = 90
OVERSTOCK_CYCLES = 3  # overstock: cover above 3 x (lead time + review cycle)
DEFAULT_REVIEW_DAYS = 7  # weekly replenishment when a supplier has no order cycle
DEMAND_WINDOW_DAYS = 90
# In the first months of data every returning customer looks new (their earlier orders are
# not in the warehouse): first orders this close to the data start are not counted as
# acquisitions when comparing new customers, cohorts or lifetime value.
WARM_UP_DAYS = 180
STALE_DAYS = 7
LTV_WINDOWS = (90, 365)
# Lifecycle stages of the dbt macro lifecycle_stage (marts.fct_lifecycle_movement_monthly).
STAGES = ("new", "active", "reactivated", "lapsing", "lapsed")
NOT_YET = "not yet a customer"
NOT_YET_STAGE = "not_yet_customer"  # its from_stage in the mart
CHURN_SEGMENTS = ("active", "reactivated", "at_risk", "high_value_at_risk", "lapsed")
CHANNEL_NAMES = {"meta": "Meta", "google": "Google", "tiktok": "TikTok", "email": "Email",
                 "organic": "Organic", "direct": "Direct", "pos": "POS",
                 "draft_order": "Draft orders", "none": "Unknown"}


def monthly_report(con: duckdb.DuckDBPyConnection, *, month: date, currency: str) -> Document:
    """The monthly report for the calendar month starting on `month` (a complete month).

    Reads `marts.fct_orders, fct_daily_kpis, fct_channel_daily, fct_marketing_daily,
    fct_inventory_daily, fct_sku_demand_daily, dim_products, fct_support_tickets` and,
    when present, `analytics.churn_scores`. Money is formatted in `currency`.
    """
    if month.day != 1:
        raise ValueError(f"month must be the first day of a month, got {month.isoformat()}")
    report = _Report(con, month, currency)
    sections = [
        ("Cohort retention", report.cohort_retention),
        ("Channel efficiency", report.channel_efficiency),
        ("Inventory health", report.inventory_health),
        ("Customer lifetime value by acquisition channel", report.lifetime_value),
        ("Customer segments", report.customer_segments),
    ]
    bodies: list[tuple[str, list]] = []
    for heading, build in sections:
        bodies.append((heading, build()))
    summary = report.summary()  # last: it quotes the other sections' tables

    doc = Document(
        title=f"Monthly report — {month:%B %Y}",
        subtitle=(f"{month:%-d %B} to {report.month_end:%-d %B %Y} · computed from data on or "
                  f"before {report.month_end.isoformat()} · {currency}"),
    )
    doc.add(Heading("Summary"), *summary)
    for heading, blocks in bodies:
        doc.add(Heading(heading), *blocks)
    doc.add(Heading("Data notes"), *report.data_notes())
    return doc


# ----------------------------------------------------------------------------- helpers

def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def _month_end(month: date) -> date:
    return month.replace(day=calendar.monthrange(month.year, month.month)[1])


def _label(month: date) -> str:
    return f"{month:%b %Y}"


def _channel(name: str | None) -> str:
    return CHANNEL_NAMES.get(name or "none", (name or "Unknown").replace("_", " ").capitalize())


def _stage(name: str) -> str:
    return name.replace("_", " ")


def _f(value) -> float | None:
    return None if value is None else float(value)


@dataclass
class _Mover:
    label: str
    current: str
    previous: str
    at_stake: float


@dataclass
class _Report:
    con: duckdb.DuckDBPyConnection
    month: date
    currency: str
    month_end: date = field(init=False)
    notes: list[str] = field(default_factory=list)  # Data notes, in order
    movers: list[_Mover] = field(default_factory=list)
    facts: dict = field(default_factory=dict)  # formatted figures the Summary quotes

    def __post_init__(self) -> None:
        self.month_end = _month_end(self.month)
        self.data_start = None
        if self.has("marts", "fct_orders"):
            self.data_start = self.rows("select min(order_date) from marts.fct_orders where order_date <= ?",
                                        [self.month_end])[0][0]
        self.warm_up_end = (self.data_start + timedelta(days=WARM_UP_DAYS)
                            if self.data_start else None)

    def in_warm_up(self, day: date) -> bool:
        """True when first orders on `day` may be returning customers seen for the first time."""
        return self.warm_up_end is not None and day < self.warm_up_end

    def warm_up_text(self) -> str:
        return (f"the orders start on {self.data_start.isoformat()}, so in the first {WARM_UP_DAYS} "
                "days many first orders in the data are from existing customers")

    # -- database access

    def rows(self, sql: str, params: list | None = None) -> list[tuple]:
        return self.con.execute(sql, params or []).fetchall()

    def has(self, schema: str, table: str) -> bool:
        return table_exists(self.con, schema, table)

    def columns(self, schema: str, table: str) -> set[str]:
        return {r[0] for r in self.rows(
            "select column_name from information_schema.columns where table_schema = ? and table_name = ?",
            [schema, table])}

    def money(self, value: float | None, digits: int = 0) -> str:
        return money(value, self.currency, digits)

    def missing(self, *tables: str) -> list[str]:
        return [t for t in tables if not self.has(*t.split("."))]

    def lacking(self, section: str, tables: list[str]) -> list:
        text = f"{section} needs {', '.join(tables)}, which the warehouse does not have."
        self.notes.append(text)
        return [Note(text)]

    def history_note(self, text: str) -> Note:
        self.notes.append(text)
        return Note(text)

    # -- store totals by month (fct_daily_kpis)

    def kpi_months(self, months: list[date]) -> dict[date, dict]:
        """Net revenue, orders, new customers, ad spend, paid revenue per complete month;
        a month the data does not fully cover is left out."""
        if not self.has("marts", "fct_daily_kpis"):
            return {}
        first, last = self.rows(
            "select min(kpi_date), max(kpi_date) from marts.fct_daily_kpis where kpi_date <= ?",
            [self.month_end])[0]
        if first is None:
            return {}
        out = {}
        for m in months:
            if m < first or _month_end(m) > last:
                continue
            revenue, orders, new, spend, aov = self.rows(
                """
                select sum(revenue)::double, sum(orders), sum(new_customers),
                       sum(ad_spend)::double, sum(revenue)::double / nullif(sum(orders), 0)
                from marts.fct_daily_kpis where kpi_date between ? and ?
                """, [m, _month_end(m)])[0]
            out[m] = {"revenue": revenue, "orders": orders, "new_customers": new,
                      "ad_spend": spend, "aov": aov,
                      "mer": revenue / spend if spend else None,
                      "cac": spend / new if spend and new else None}
        return out

    # ------------------------------------------------------------------ 1. Summary

    def summary(self) -> list:
        previous, last_year = _add_months(self.month, -1), _add_months(self.month, -12)
        kpis = self.kpi_months([self.month, previous, last_year])
        this = kpis.get(self.month)
        if this is None:
            text = ("Not enough history: the month is not fully covered by the daily KPIs "
                    "(marts.fct_daily_kpis), so no summary figures.")
            self.notes.append(text)
            return [Note(text)]
        prev, year = kpis.get(previous), kpis.get(last_year)
        metrics = (
            ("Net revenue", "revenue", lambda v: self.money(v)),
            ("Orders", "orders", lambda v: number(v)),
            ("Average order value", "aov", lambda v: self.money(v, 2)),
            ("New customers", "new_customers", lambda v: number(v)),
            ("Ad spend", "ad_spend", lambda v: self.money(v)),
            ("Blended CAC (ad spend / new customers)", "cac", lambda v: self.money(v, 2)),
            ("MER (net revenue / ad spend)", "mer", lambda v: number(v, 2)),
        )
        rows, text = [], {}
        censored = ("new_customers", "cac")
        notes = []
        for m in (previous, last_year):
            if kpis.get(m) and self.in_warm_up(m):
                notes.append(Note(f"New customers and CAC of {_label(m)} are not compared: "
                                  f"{self.warm_up_text()}."))
        for name, key, fmt in metrics:
            cur = this[key]
            p = prev[key] if prev and not (key in censored and self.in_warm_up(previous)) else None
            y = year[key] if year and not (key in censored and self.in_warm_up(last_year)) else None
            cells = {"cur": fmt(cur), "prev": fmt(prev[key]) if prev else "n/a",
                     "d_prev": signed_percent(change(cur, p)),
                     "year": fmt(year[key]) if year else "n/a",
                     "d_year": signed_percent(change(cur, y))}
            text[key] = cells
            rows.append((name, cells["cur"], cells["prev"], cells["d_prev"], cells["year"],
                         cells["d_year"]))
        table = Table(("Metric", _label(self.month), _label(previous), "Change",
                       _label(last_year), "Change"), tuple(rows),
                      (False, True, True, True, True, True))

        def versus(key: str) -> str:
            parts = []
            if prev and text[key]["d_prev"] != "n/a":
                parts.append(f"{text[key]['d_prev']} on the previous month")
            if year and text[key]["d_year"] != "n/a":
                parts.append(f"{text[key]['d_year']} on the same month last year")
            return " and ".join(parts) if parts else "with no comparable earlier month"

        sentences = [
            (f"Net revenue was **{text['revenue']['cur']}** from {text['orders']['cur']} orders, "
             f"{versus('revenue')}."),
            (f"{text['new_customers']['cur']} new customers placed a first order, "
             f"{versus('new_customers')}."),
        ]
        if this["mer"] is not None:
            earlier = []
            if prev and prev["mer"] is not None:
                earlier.append(f"{text['mer']['prev']} the month before")
            if year and year["mer"] is not None:
                earlier.append(f"{text['mer']['year']} a year earlier")
            sentences.append(
                f"Ad spend was {text['ad_spend']['cur']}, so MER (net revenue / ad spend) was "
                f"{text['mer']['cur']}" + (f", against {' and '.join(earlier)}" if earlier else "")
                + ".")
        else:
            sentences.append("No ad spend was recorded for the month, so there is no MER.")
        if not prev:
            sentences.append("The previous month is not fully in the data, so there are no "
                             "month-on-month changes.")
        movers = sorted((m for m in self.movers if m.at_stake > 0),
                        key=lambda m: (-m.at_stake, m.label))[:3]
        if movers:
            listed = [f"{m.label} ({m.current}, from {m.previous})" for m in movers]
            joined = listed[0] if len(listed) == 1 else ", ".join(listed[:-1]) + " and " + listed[-1]
            sentences.append(f"Biggest movers against the previous month, by money at stake: {joined}.")
        if "lapsed_net" in self.facts:
            sentences.append(f"Net flow into lapsed customers was {self.facts['lapsed_net']} "
                             "over the month.")
        return [Paragraph(" ".join(sentences[:6])), table, *notes]

    # --------------------------------------------------------- 2. Cohort retention

    def cohort_retention(self) -> list:
        lacking = self.missing("marts.fct_cohort_retention")
        if lacking:
            return self.lacking("Cohort retention", lacking)
        first_cohort = _add_months(self.month, -COHORTS)
        # The mart (the one home of the rule) counts orders up to the run's as-of date; the
        # cells read here end with the report month, which that date has passed.
        found = self.rows(
            """
            select cohort_month, months_after, case when months_after = 0 then cohort_customers
                                                   else active_customers end
            from marts.fct_cohort_retention
            where cohort_month between ? and ? and activity_month <= ?
            """, [first_cohort, _add_months(self.month, -1), self.month])
        sizes: dict[date, int] = {}
        retained: dict[tuple[date, int], int] = {}
        for cohort, months_after, customers in found:
            if months_after == 0:  # everyone orders in the month of their first order
                sizes[cohort] = customers
            else:
                retained[(cohort, months_after)] = customers
        cohorts = sorted(sizes)
        if not cohorts:
            return [self.history_note(
                "Not enough history: cohort retention needs at least one complete month after "
                "the first order.")]

        def share(cohort: date, k: int) -> float | None:
            if _add_months(cohort, k) > self.month:
                return None
            return retained.get((cohort, k), 0) / sizes[cohort]

        rows = tuple(
            (_label(c) + (" *" if self.in_warm_up(c) else ""), number(sizes[c]),
             *("" if share(c, k) is None else percent(share(c, k)) for k in RETENTION_MONTHS))
            for c in cohorts)
        table = Table(("First order month", "Customers", *(f"Month {k}" for k in RETENTION_MONTHS)),
                      rows, (False,) + (True,) * (1 + len(RETENTION_MONTHS)))
        blocks: list = [Paragraph(
            "Share of each month's new customers who ordered again in the given calendar month "
            "after their first order (month 1 = the next calendar month). Blank: that month is not "
            "complete yet.")]
        if any(self.in_warm_up(c) for c in cohorts):
            blocks.append(Note(f"* Includes existing customers seen for the first time: "
                               f"{self.warm_up_text()}. Left out of the comparison below."))
        latest = _add_months(self.month, -3)
        if latest in sizes:
            earlier = [c for c in cohorts if c < latest and not self.in_warm_up(c)]
            latest_share = percent(share(latest, 3))
            if earlier:
                pooled = sum(retained.get((c, 3), 0) for c in earlier) / sum(sizes[c] for c in earlier)
                span = (_label(earlier[0]) if len(earlier) == 1
                        else f"{_label(earlier[0])}–{_label(earlier[-1])}")
                direction = ("above" if share(latest, 3) > pooled
                             else "below" if share(latest, 3) < pooled else "level with")
                blocks.append(Paragraph(
                    f"Month-3 retention of the {_label(latest)} cohort was {latest_share}, "
                    f"{direction} the {percent(pooled)} of the {len(earlier)} cohorts before it "
                    f"taken together ({span})."))
            else:
                blocks.append(Paragraph(
                    f"Month-3 retention of the {_label(latest)} cohort was {latest_share}; "
                    "no earlier cohort to compare it with."))
        else:
            blocks.append(self.history_note(
                "Not enough history: month-3 retention needs a cohort whose first order is at "
                "least three complete months before the report month."))
        blocks.insert(1, table)
        return blocks

    # ------------------------------------------------------- 3. Channel efficiency

    def channel_efficiency(self) -> list:
        lacking = self.missing("marts.fct_channel_daily")
        if lacking:
            return self.lacking("Channel efficiency", lacking)
        window = [_add_months(self.month, -i) for i in range(CHANNEL_MONTHS - 1, -1, -1)]
        kpis = self.kpi_months(window)
        months = [m for m in window if m in kpis] if kpis else []
        if not months:
            return [self.history_note(
                "Not enough history: channel efficiency needs at least one complete month of "
                "orders.")]
        blocks: list = []
        if len(months) < len(window):
            blocks.append(self.history_note(
                f"Channel efficiency covers {len(months)} complete month(s); the data starts "
                f"after {_label(window[0])}."))
        per = {(m, ch): (spend, new, revenue) for m, ch, spend, new, revenue in self.rows(
            """
            select cast(date_trunc('month', channel_date) as date), channel,
                   sum(spend)::double, sum(new_customers), sum(net_revenue)::double
            from marts.fct_channel_daily
            where channel_date between ? and ?
            group by all
            """, [months[0], self.month_end])}
        channels = sorted({ch for (_, ch) in per})
        paid = [ch for ch in channels
                if sum(per.get((m, ch), (0, 0, 0))[0] or 0 for m in months) > 0]
        heads = ("Channel", *(_label(m) for m in months))
        numeric = (False,) + (True,) * len(months)

        def value(m, ch, i):
            return per.get((m, ch), (0.0, 0, 0.0))[i] or 0

        def table(rows) -> Table:
            return Table(heads, tuple(rows), numeric)

        paid_revenue = {m: sum(value(m, ch, 2) for ch in paid) for m in months}
        blocks.append(Paragraph(
            "New customers and net revenue are what the store measured (each order counted once, "
            "in the channel of its attribution), not what ad platforms report. CAC = spend / new "
            "customers; ROAS = store net revenue from the channel / its spend; MER = all net "
            "revenue / all ad spend."))
        if paid:
            blocks += [
                Paragraph("**Ad spend**"),
                table([(_channel(ch), *(self.money(value(m, ch, 0)) for m in months)) for ch in paid]
                      + [("All paid channels", *(self.money(kpis[m]["ad_spend"]) for m in months))]),
                Paragraph("**New customers**"),
                table([(_channel(ch), *(number(value(m, ch, 1)) for m in months)) for ch in paid]
                      + [("Store (all channels)", *(number(kpis[m]["new_customers"]) for m in months))]),
                Paragraph("**CAC**"),
                table([(_channel(ch), *(self.money(_ratio(value(m, ch, 0), value(m, ch, 1)), 2)
                                        for m in months)) for ch in paid]
                      + [("Store (blended)", *(self.money(kpis[m]["cac"], 2) for m in months))]),
                Paragraph("**ROAS and MER**"),
                table([(_channel(ch), *(number(_ratio(value(m, ch, 2), value(m, ch, 0)), 2)
                                        for m in months)) for ch in paid]
                      + [("Paid channels (ROAS)",
                          *(number(_ratio(paid_revenue[m], kpis[m]["ad_spend"]), 2) for m in months)),
                         ("Store MER", *(number(kpis[m]["mer"], 2) for m in months))]),
            ]
        else:
            blocks.append(self.history_note(
                "No ad spend in these months (no ad platform data): CAC, ROAS and MER cannot be "
                "computed."))
        blocks += [
            Paragraph("**Net revenue by channel**"),
            table([(_channel(ch), *(self.money(value(m, ch, 2)) for m in months))
                   for ch in channels if any(value(m, ch, 2) for m in months)]
                  + [("Store", *(self.money(kpis[m]["revenue"]) for m in months))]),
        ]
        if len(months) >= 2 and months[-2] == _add_months(self.month, -1):
            this, before = self.month, months[-2]
            for ch in channels:
                cur, prev = value(this, ch, 2), value(before, ch, 2)
                self.movers.append(_Mover(f"{_channel(ch)} net revenue", self.money(cur),
                                          self.money(prev), abs(cur - prev)))
            for ch in paid:
                cur, prev = value(this, ch, 0), value(before, ch, 0)
                self.movers.append(_Mover(f"{_channel(ch)} ad spend", self.money(cur),
                                          self.money(prev), abs(cur - prev)))
            moves = []
            for ch in paid:
                cur = _ratio(value(this, ch, 0), value(this, ch, 1))
                prev = _ratio(value(before, ch, 0), value(before, ch, 1))
                if change(cur, prev) is not None:
                    moves.append((abs(change(cur, prev)), ch, cur, prev))
            if moves:
                _, ch, cur, prev = max(moves, key=lambda t: (t[0], t[1]))
                verb = "rose" if cur > prev else "fell" if cur < prev else "held"
                blocks.append(Paragraph(
                    f"{_channel(ch)}'s CAC moved most: it {verb} from {self.money(prev, 2)} in "
                    f"{_label(before)} to {self.money(cur, 2)} in {_label(this)} "
                    f"({signed_percent(change(cur, prev))}), on {number(value(this, ch, 1))} new "
                    f"customers and {self.money(value(this, ch, 0))} of spend."))
        return blocks

    # --------------------------------------------------------- 4. Inventory health

    def inventory_health(self) -> list:
        lacking = self.missing("marts.fct_inventory_daily", "marts.dim_products",
                               "marts.fct_sku_demand_daily")
        if lacking:
            return self.lacking("Inventory health", lacking)
        previous = _add_months(self.month, -1)
        this = self._inventory_month(self.month)
        if this is None:
            return [self.history_note(
                f"Not enough history: no inventory snapshot in {_label(self.month)}, so no "
                "inventory health figures.")]
        before = self._inventory_month(previous)
        blocks: list = []
        specs = (
            ("Average inventory value at cost", "average_value", lambda v: self.money(v)),
            ("Inventory value at month end", "end_value", lambda v: self.money(v)),
            ("Cost of goods sold", "cogs", lambda v: self.money(v)),
            ("Inventory turns (annualised)", "turns", lambda v: number(v, 1)),
            ("Weeks of cover", "weeks_of_cover", lambda v: number(v, 1)),
            ("Overstock value at cost", "overstock_value", lambda v: self.money(v)),
            ("Overstocked SKUs", "overstock_skus", lambda v: number(v)),
            ("Dead stock value at cost", "dead_value", lambda v: self.money(v)),
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
                self.movers.append(_Mover(name[0].lower() + name[1:], fmt(cur), fmt(prev),
                                          abs(cur - prev)))
        blocks.append(Table(("Metric", _label(self.month), _label(previous), "Change"), tuple(rows),
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
            blocks.append(self.history_note(this["history_short"]))
        top = this.get("top", [])
        if top:
            blocks.append(Paragraph("**Largest stock to act on** (dead stock first, then overstock, by value)"))
            blocks.append(Table(
                ("SKU", "Product", "Supplier", "On hand", "Value at cost", "Days of cover", "Last sale"),
                tuple((r["sku"], r["product"], r["supplier"], number(r["on_hand"]),
                       self.money(r["value"]),
                       "no sale" if r["cover"] is None else number(r["cover"]),
                       r["last_sale"].isoformat() if r["last_sale"] else "none")
                      for r in top),
                (False, False, False, True, True, True, False)))
        sentence = []
        if this.get("dead_value") is not None:
            sentence.append(f"Dead stock ties up {self.money(this['dead_value'])} at cost in "
                            f"{number(this['dead_skus'])} SKUs")
        if this.get("stockout_days") is not None and before and before.get("stockout_days") is not None:
            sentence.append(f"stockouts took {number(this['stockout_days'])} SKU-days against "
                            f"{number(before['stockout_days'])} in {_label(previous)}")
        if sentence:
            blocks.insert(0, Paragraph("; ".join(sentence)[0].upper() + "; ".join(sentence)[1:] + "."))
        return blocks

    def _inventory_month(self, month: date) -> dict | None:
        end = _month_end(month)
        snapshots = self.rows(
            """select max(inventory_date)
               from marts.fct_inventory_daily where inventory_date between ? and ?""", [month, end])
        last_snap = snapshots[0][0]
        if last_snap is None:
            return None
        average_value, = self.rows(
            """
            select sum(inv.on_hand * products.unit_cost)::double / count(distinct inv.inventory_date)
            from marts.fct_inventory_daily as inv
            inner join marts.dim_products as products on products.sku = inv.sku
            where inv.inventory_date between ? and ?
            """, [month, end])[0]
        cogs = None
        if self.has("marts", "fct_orders") and "product_cost" in self.columns("marts", "fct_orders"):
            cogs = self.rows("""select coalesce(sum(product_cost), 0)::double from marts.fct_orders
                                where is_revenue and order_date between ? and ?""", [month, end])[0][0]
        history_start = self.rows("select min(demand_date) from marts.fct_sku_demand_daily")[0][0]
        window_start = end - timedelta(days=DEMAND_WINDOW_DAYS - 1)
        skus = self.rows(
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
            """, [last_snap, end, max(window_start, history_start or window_start), end, end])
        window_days = (end - max(window_start, history_start or window_start)).days + 1
        out: dict = {"average_value": average_value, "cogs": cogs}
        end_value = self.rows(
            """select coalesce(sum(inv.on_hand * products.unit_cost), 0)::double
               from marts.fct_inventory_daily as inv
               inner join marts.dim_products as products on products.sku = inv.sku
               where inv.inventory_date = ?""", [last_snap])[0][0]
        out["end_value"] = end_value
        # A month the orders only partly cover (the first month of data) is annualised over
        # the days it covers.
        covered_from = max(month, self.data_start) if self.data_start else month
        days = max((end - covered_from).days + 1, 1)
        if cogs is not None and average_value:
            out["turns"] = cogs * 365 / days / average_value
        if cogs:
            out["weeks_of_cover"] = end_value / (cogs / days * 7)
        stockouts = self.rows(
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

    # ------------------------------------------- 5. Lifetime value by acquisition channel

    def lifetime_value(self) -> list:
        lacking = self.missing("marts.fct_orders")
        if lacking:
            return self.lacking("Customer lifetime value", lacking)
        acquired_from = _add_months(self.month, -(COHORTS - 1))
        firsts_sql = """
            with firsts as (
                select customer_id, min(order_date) as first_date,
                       arg_min(channel, created_at) as channel
                from marts.fct_orders
                where is_revenue and customer_id is not null and order_date <= ?
                group by 1
            )
        """
        acquired = dict(self.rows(
            firsts_sql + "select coalesce(channel, 'none'), count(*) from firsts "
                         "where first_date between ? and ? group by 1",
            [self.month_end, acquired_from, self.month_end]))
        values: dict[int, dict[str, tuple[float, int]]] = {}
        for window in LTV_WINDOWS:
            latest_first = self.month_end - timedelta(days=window)
            earliest_first = latest_first - timedelta(days=364)
            if self.warm_up_end is not None:
                earliest_first = max(earliest_first, self.warm_up_end)
            values[window] = {ch: (avg, n) for ch, avg, n in self.rows(
                firsts_sql + """
                select coalesce(firsts.channel, 'none'),
                       sum(orders.net_revenue)::double / count(distinct firsts.customer_id),
                       count(distinct firsts.customer_id)
                from firsts
                inner join marts.fct_orders as orders on orders.customer_id = firsts.customer_id
                where orders.is_revenue and orders.order_date < firsts.first_date + ?
                  and firsts.first_date between ? and ?
                group by 1
                """, [self.month_end, window, earliest_first, latest_first])}
        predicted: dict[str, float] = {}
        blocks: list = []
        scores = self._analytics_table("churn_scores")
        if scores:
            predicted = {ch: avg for ch, avg in self.rows(
                firsts_sql + """
                select coalesce(firsts.channel, 'none'), avg(scores.predicted_clv)::double
                from firsts
                inner join analytics.churn_scores as scores on scores.customer_id = firsts.customer_id
                where firsts.first_date between ? and ?
                group by 1
                """, [self.month_end, acquired_from, self.month_end])}
        channels = sorted(set(acquired) | set(values[90]) | set(values[365]),
                          key=lambda ch: (-acquired.get(ch, 0), ch))
        if not channels:
            return [self.history_note(
                "Not enough history: no customer has a first order on or before the month's end.")]
        total = sum(acquired.values())
        rows = []
        for ch in channels:
            v90, n90 = values[90].get(ch, (None, 0))
            v365, n365 = values[365].get(ch, (None, 0))
            rows.append((_channel(ch), number(acquired.get(ch, 0)),
                         percent(acquired.get(ch, 0) / total) if total else "n/a",
                         self.money(v90, 2) if n90 else "", number(n90) if n90 else "",
                         self.money(v365, 2) if n365 else "", number(n365) if n365 else "",
                         *((self.money(predicted.get(ch), 2) if ch in predicted else "",) if scores else ())))
        columns = ("Acquisition channel", f"New customers, {_label(acquired_from)}–{_label(self.month)}",
                   "Share", "Net revenue per customer, first 90 days", "Customers measured",
                   "Net revenue per customer, first 365 days", "Customers measured",
                   *(("Predicted 12-month value",) if scores else ()))
        blocks.append(Table(columns, tuple(rows), (False,) + (True,) * (len(columns) - 1)))
        blocks.append(Note(
            "Acquisition channel = channel of the first order. Net revenue per customer includes the "
            "first order. Each window is measured on the customers old enough for it: first order in "
            "the 12 months ending 90 (or 365) days before the month's end."
            + (f" Predicted 12-month value: the churn model's BG/NBD x Gamma-Gamma estimate as of "
               f"{scores}, for customers acquired in the last 12 months." if scores else "")))
        if self.in_warm_up(acquired_from):
            blocks.append(Note(f"New customer counts before {self.warm_up_end.isoformat()} include "
                               f"existing customers seen for the first time: {self.warm_up_text()}. "
                               "The per-customer values leave those first orders out."))
        if not values[90]:
            blocks.append(self.history_note(
                "Not enough history: 90-day value needs customers whose first order is at least 90 "
                f"days before the month's end and at least {WARM_UP_DAYS} days after the first order "
                "in the data."))
        if not values[365]:
            blocks.append(self.history_note(
                "Not enough history: 365-day value needs customers whose first order is at least 365 "
                f"days before the month's end and at least {WARM_UP_DAYS} days after the first order "
                "in the data."))
        return blocks

    def _analytics_table(self, table: str) -> str | None:
        """The as-of date of an analytics table usable for this month, else None (with a note).

        Analytics tables are rewritten by every run, at the run's as-of date; for a past month
        they would describe a later state, so they are used only when that date falls in the
        month right after the report month (the usual case: the report of the last complete month).
        """
        if not self.has("analytics", table):
            if f"analytics.{table}" not in " ".join(self.notes):
                self.notes.append(f"analytics.{table} is missing: the figures that depend on it are "
                                  "not shown.")
            return None
        as_of = None
        if "as_of_date" in self.columns("analytics", table):
            as_of = self.rows(f"select max(as_of_date) from analytics.{table}")[0][0]
        usable = as_of is not None and self.month_end < as_of <= _month_end(_add_months(self.month, 1))
        if not usable:
            text = (f"analytics.{table} is as of {as_of.isoformat() if as_of else 'an unknown date'}, "
                    f"not the month after {_label(self.month)}: not used, so the report describes "
                    "the month and not a later state.")
            if text not in self.notes:
                self.notes.append(text)
            return None
        text = f"analytics.{table} is as of {as_of.isoformat()} (the run after the month) and is used as such."
        if text not in self.notes:
            self.notes.append(text)
        return as_of.isoformat()

    # ---------------------------------------------------------- 6. Customer segments

    def customer_segments(self) -> list:
        blocks: list = []
        scores = self._analytics_table("churn_scores")
        if scores:
            found = self.rows(
                """select segment, count(*), sum(predicted_clv)::double
                   from analytics.churn_scores group by 1""")
            total = sum(n for _, n, _ in found) or 1
            order = {s: i for i, s in enumerate(CHURN_SEGMENTS)}
            blocks.append(Paragraph(f"**Churn segments** (churn model as of {scores})"))
            blocks.append(Table(
                ("Segment", "Customers", "Share", "Predicted 12-month value", "Per customer"),
                tuple((_stage(s), number(n), percent(n / total), self.money(v),
                       self.money(v / n if n else None, 2))
                      for s, n, v in sorted(found, key=lambda r: (order.get(r[0], 99), r[0]))),
                (False, True, True, True, True)))
        else:
            blocks.append(Note("Churn segments need analytics.churn_scores for this month (see Data notes)."))
        if self.missing("marts.fct_lifecycle_movement_monthly"):
            return blocks + self.lacking("Lifecycle movement",
                                         ["marts.fct_lifecycle_movement_monthly"])
        start = self.month - timedelta(days=1)
        moves = [(NOT_YET if f == NOT_YET_STAGE else f, t, n) for f, t, n in self.rows(
            """select from_stage, to_stage, customers from marts.fct_lifecycle_movement_monthly
               where month_start = ?""", [self.month])]
        if not any(f != NOT_YET for f, _, _ in moves):
            blocks.append(self.history_note(
                "Not enough history: lifecycle movement needs customers with orders before the month."))
            return blocks
        counts = {(f, t): n for f, t, n in moves}
        froms = (NOT_YET, *STAGES)
        rows = []
        for f in froms:
            total = sum(counts.get((f, t), 0) for t in STAGES)
            rows.append((_stage(f), *(number(counts.get((f, t), 0)) for t in STAGES),
                         number(total) if f != NOT_YET else "—"))
        rows.append(("Total at end", *(number(sum(counts.get((f, t), 0) for f in froms)) for t in STAGES), ""))
        blocks.append(Paragraph(
            f"**Lifecycle movement** from {start.isoformat()} (rows) to {self.month_end.isoformat()} "
            "(columns), by days since the last order: new = one order in the last 90 days, active = "
            "two or more, reactivated = back after a gap of more than 180 days, lapsing = 91–180 "
            "days, lapsed = more than 180 days."))
        blocks.append(Table(("From \\ to", *(_stage(t) for t in STAGES), "Total at start"),
                            tuple(rows), (False,) + (True,) * (len(STAGES) + 1)))
        into = sum(n for (f, t), n in counts.items() if t == "lapsed" and f != "lapsed")
        out_of = sum(n for (f, t), n in counts.items() if f == "lapsed" and t != "lapsed")
        net = into - out_of
        self.facts["lapsed_net"] = f"{net:+,d}"
        lapsed_start = sum(counts.get(("lapsed", t), 0) for t in STAGES)
        blocks.append(Paragraph(
            f"{number(into)} customers became lapsed during the month and {number(out_of)} lapsed "
            f"customers ordered again: a net flow into lapsed of {net:+,d}."))
        blocks.append(Table(
            ("Lapsed customers", "Customers"),
            (("At the start of the month", number(lapsed_start)),
             ("Became lapsed", number(into)),
             ("Ordered again", number(out_of)),
             ("Net flow into lapsed", f"{net:+,d}"),
             ("At the end of the month", number(lapsed_start + net))),
            (False, True)))
        return blocks

    # ----------------------------------------------------------------- 7. Data notes

    def data_notes(self) -> list:
        found = []
        end = self.month_end
        stale_before = end - timedelta(days=STALE_DAYS)

        def last_date(table: str, column: str, where: str = "") -> date | None | bool:
            if not self.has("marts", table):
                return False
            return self.rows(f"select max({column}) from marts.{table} where {column} <= ? {where}",
                             [end])[0][0]

        orders_last = last_date("fct_orders", "order_date")
        if orders_last is False or orders_last is None:
            found.append("No orders on or before the month's end.")
        elif orders_last < end:
            found.append(f"Orders run only to {orders_last.isoformat()}: the month is incomplete.")
        checks = (
            ("sessions", "fct_daily_kpis", "kpi_date", "and sessions is not null",
             "no sessions export (analytics/sessions.csv): conversion rates cannot be computed"),
            ("ads", "fct_marketing_daily", "marketing_date", "",
             "no ad platform data: spend, CAC, ROAS and MER cannot be computed"),
            ("tickets", "fct_support_tickets", "created_date", "",
             "no help-desk tickets (Zendesk or Gorgias)"),
            ("inventory", "fct_inventory_daily", "inventory_date", "",
             "no inventory snapshots: inventory health cannot be computed"),
        )
        for _, table, column, where, missing_text in checks:
            last = last_date(table, column, where)
            if not last:
                found.append(missing_text[0].upper() + missing_text[1:] + ".")
            elif last < self.month:
                found.append(f"{missing_text[0].upper() + missing_text[1:]} for the month "
                             f"(last data {last.isoformat()}).")
            elif last < stale_before:
                found.append(f"{table} is stale: its last data is {last.isoformat()}, more than "
                             f"{STALE_DAYS} days before the month's end.")
        if self.has("marts", "fct_marketing_daily"):
            for channel, last in self.rows(
                    """select channel, max(marketing_date) from marts.fct_marketing_daily
                       where marketing_date <= ? group by 1 order by 1""", [end]):
                if last < stale_before and last >= _add_months(self.month, -3):
                    found.append(f"{_channel(channel)} ads are stale: last day {last.isoformat()}.")
        for note in self.notes:
            if note not in found:
                found.append(note)
        found.append("Net revenue is after discounts and refunds as known when the warehouse was "
                     "built; a refund booked after the month lowers that month's figures in a later run.")
        return [Bullets(tuple(found))]


def _ratio(numerator: float | None, denominator: float | None) -> float | None:
    if numerator is None or not denominator:
        return None
    return numerator / denominator

