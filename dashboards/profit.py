"""The profit ladder as the brief, the monthly report and the overview dashboard show it.

Net sales -> contribution margin 1 (after the cost of goods) -> contribution margin 2
(after shipping, payment fees and fulfilment) -> contribution margin 3 (after ad spend),
summed from marts.fct_profit_daily (one row per day and channel), with the orders whose
costs are missing or estimated named in words from marts.fct_order_profit: a margin that
leaves orders out says so, it is never a silent zero.

Reads the warehouse through a DuckDB connection; every function returns plain values or
document blocks and works from a script, a notebook or a Dagster step.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

import duckdb

from dashboards.document import Table, last_complete_month, money, number, percent
from quality.warehouse import rows as _rows
from quality.warehouse import table_exists

STEPS = (
    # (label, column, sign shown: +1 a revenue line, -1 a cost line, 0 a subtotal)
    ("Net sales", "net_sales", 0),
    ("Cost of goods (at the order date's cost)", "cogs", -1),
    ("Contribution margin 1", "contribution_margin_1", 0),
    ("Shipping charged, net of refunds", "net_shipping_revenue", 1),
    ("Shipping labels", "shipping_cost", -1),
    ("Payment fees", "payment_fees", -1),
    ("Fulfilment (packaging, handling)", "fulfilment_cost", -1),
    ("Contribution margin 2", "contribution_margin_2", 0),
    ("Ad spend", "ad_spend", -1),
    ("Contribution margin 3", "contribution_margin_3", 0),
)
COLUMNS = tuple(c for _, c, _ in STEPS)


@dataclass(frozen=True)
class Ladder:
    """The profit ladder of a period, in the store currency.

    values: {column of STEPS: amount}; orders: revenue orders; orders_missing_costs:
    orders left out of the margins because a cost is not known; orders_estimated: orders
    whose shipping label is estimated (not shipped yet); cm2_coverage: share of net sales
    whose contribution margin 2 is known (1.0: all)."""

    start: date
    end: date
    values: dict[str, float]
    orders: int
    orders_missing_costs: int
    orders_estimated: int
    cm2_coverage: float

    def margin(self, column: str) -> float | None:
        """A step as a share of net sales (None without net sales)."""
        net = self.values.get("net_sales") or 0.0
        return self.values.get(column, 0.0) / net if net else None


def ladder(con: duckdb.DuckDBPyConnection, start: date, end: date,
           channel: str | None = None) -> Ladder | None:
    """The ladder of the orders placed from `start` to `end` (both included, store dates),
    of one channel or all. None when the warehouse has no profit marts or no orders then."""
    if not table_exists(con, "marts", "fct_profit_daily"):
        return None
    where, params = "profit_date between ? and ?", [start, end]
    if channel is not None:
        where += " and channel = ?"
        params.append(channel)
    sums = ", ".join(f"sum({c}) as {c}" for c in COLUMNS)
    row = _rows(con, f"""
        select {sums}, sum(orders) as orders, sum(orders_missing_costs) as missing,
               sum(net_sales * cm2_coverage) as covered
        from marts.fct_profit_daily where {where}""", params)[0]
    if not row["orders"] and not row["ad_spend"]:
        return None
    estimated = _rows(con, f"""
        select count(*) as n from marts.fct_order_profit
        where order_date between ? and ? and estimated_costs is not null
        {"and channel = ?" if channel is not None else ""}""", params)[0]["n"]
    net = float(row["net_sales"] or 0)
    return Ladder(start=start, end=end,
                  values={c: float(row[c] or 0) for c in COLUMNS},
                  orders=int(row["orders"] or 0),
                  orders_missing_costs=int(row["missing"] or 0),
                  orders_estimated=int(estimated or 0),
                  cm2_coverage=float(row["covered"] or 0) / net if net else 1.0)


def missing_cost_notes(con: duckdb.DuckDBPyConnection, start: date, end: date,
                       currency: str) -> list[str]:
    """Sentences naming the costs that are missing or estimated for orders placed from
    `start` to `end`, with how many orders and how much net sales they hold, most net
    sales first; and whether fulfilment costs are configured at all. Empty when every
    cost is known."""
    if not table_exists(con, "marts", "fct_order_profit"):
        return []
    notes = []
    for r in _rows(con, """
            select missing_costs as what, count(*) as orders, sum(net_sales) as net_sales,
                   string_agg(distinct case when payment_fees is null then fee_basis end, '; ')
                       as fee_reasons
            from marts.fct_order_profit
            where order_date between ? and ? and missing_costs is not null
            group by 1 order by sum(net_sales) desc nulls last, 1""", [start, end]):
        orders = int(r["orders"])
        reason = f" ({r['fee_reasons'].replace('missing: ', '')})" if r["fee_reasons"] else ""
        notes.append(
            f"Contribution margin 2 leaves out {number(orders)} order{'s' * (orders != 1)} "
            f"whose {r['what']} {'is' if ',' not in r['what'] else 'are'} not known{reason}: "
            f"{money(float(r['net_sales'] or 0), currency)} of net sales.")
    est = _rows(con, """
        select count(*) as orders, sum(shipping_cost) as cost from marts.fct_order_profit
        where order_date between ? and ? and estimated_costs is not null""", [start, end])[0]
    if est["orders"]:
        n = int(est["orders"])
        notes.append(f"{number(n)} order{'s' * (n != 1)} not shipped yet carry an estimated "
                     f"shipping label (the recent average of their shipping method).")
    configured = _rows(con, """
        select bool_or(has_fulfilment_costs) as configured from marts.fct_order_profit""")[0]
    if configured["configured"] is False:
        notes.append("No fulfilment costs are set (storeops.yml profit.fulfilment_per_order): "
                     "contribution margin 2 leaves packaging and handling out.")
    return notes


def ladder_table(current: Ladder, currency: str, *, previous: Ladder | None = None,
                 previous_label: str = "", last_year: Ladder | None = None,
                 last_year_label: str = "") -> Table:
    """The ladder as a table: each step's amount and share of net sales, and the same for
    up to two comparison periods."""
    header = ["Step", "Amount", "% of net sales"]
    others = [(p, label) for p, label in ((previous, previous_label), (last_year, last_year_label))
              if p is not None]
    for _, label in others:
        header += [label, "%"]
    rows = []
    for label, column, sign in STEPS:
        cells = [label]
        for ladder_ in (current, *(p for p, _ in others)):
            value = ladder_.values.get(column, 0.0)
            shown = -value if sign < 0 else value
            cells += [money(shown, currency), percent(ladder_.margin(column)) if column != "net_sales"
                      else "100.0%"]
        rows.append(tuple(cells))
    return Table(tuple(header), tuple(rows), (False,) + (True,) * (len(header) - 1))


@dataclass(frozen=True)
class Payback:
    """CAC payback of one acquisition channel, on contribution margin 2.

    customers and ad_spend: of the cohorts counted (acquired in the 12 months before the
    report); cac = ad_spend / customers; recovered: {months after acquisition: share of
    the cohorts' ad spend their CM2 had earned back by the end of that month}, over the
    cohorts whose month has ended; payback_months: the first month whose share reaches 1
    (0 = within the month of the first order), None when not yet; margin_to_date: CM2 to
    date per customer acquired by the channel, over all its customers (lifetime value on
    margin so far)."""

    channel: str
    customers: int
    ad_spend: float
    cac: float | None
    recovered: dict[int, float]
    payback_months: int | None
    margin_to_date: float | None


def cac_payback(con: duckdb.DuckDBPyConnection, until: date, *,
                cohort_months: int = 12) -> list[Payback]:
    """Payback of each channel that spent on ads, from marts.fct_cohort_payback: the
    cohorts acquired in the `cohort_months` months up to the month of `until`, each month
    after acquisition counted only over cohorts for which it has ended by `until`. Most
    customers first; empty without the mart."""
    if not table_exists(con, "marts", "fct_cohort_payback"):
        return []
    index = until.year * 12 + until.month - 1 - (cohort_months - 1)
    first = date(index // 12, index % 12 + 1, 1)
    rows = _rows(con, """
        select acquisition_channel as channel, months_after,
               sum(cohort_customers) as customers, sum(cohort_month_ad_spend) as spend,
               sum(cumulative_cm2_per_customer * cohort_customers) as cm2
        from marts.fct_cohort_payback
        where cohort_month between ? and ? and activity_month <= ?
        group by 1, 2 order by 1, 2""", [first, until, last_complete_month(until)])
    cohorts = _rows(con, """
        select acquisition_channel as channel, sum(cohort_customers) as customers,
               sum(cohort_month_ad_spend) as spend
        from marts.fct_cohort_payback
        where cohort_month between ? and ? and months_after = 0
        group by 1 having sum(cohort_month_ad_spend) > 0""", [first, until])
    to_date = {r["channel"]: r["margin"] for r in _rows(con, """
        select acquisition_channel as channel, avg(contribution_margin_to_date) as margin
        from marts.dim_customers where orders > 0 group by 1""")}
    out = []
    for c in cohorts:
        recovered = {}
        for r in rows:
            if r["channel"] == c["channel"] and float(r["spend"] or 0) > 0:
                recovered[int(r["months_after"])] = float(r["cm2"] or 0) / float(r["spend"])
        payback = next((k for k in sorted(recovered) if recovered[k] >= 1), None)
        customers, spend = int(c["customers"]), float(c["spend"])
        margin = to_date.get(c["channel"])
        out.append(Payback(channel=c["channel"], customers=customers, ad_spend=spend,
                           cac=spend / customers if customers else None, recovered=recovered,
                           payback_months=payback,
                           margin_to_date=None if margin is None else float(margin)))
    return sorted(out, key=lambda p: (-p.customers, p.channel))


def payback_table(paybacks: list[Payback], currency: str, *,
                  months: tuple[int, ...] = (0, 1, 3, 6, 12),
                  label: Callable[[str], str] = str) -> Table:
    """The paybacks as a table: channel, customers, CAC, the share of CAC earned back by
    the end of some months after acquisition, the payback month, and CM2 to date per
    customer."""
    header = ("Channel", "Customers", "CAC", *(f"Month {m}" for m in months), "Paid back in",
              "CM2 to date per customer")
    rows = []
    for p in paybacks:
        paid = ("not yet" if p.payback_months is None
                else "the first month" if p.payback_months == 0
                else f"{p.payback_months} month{'s' * (p.payback_months != 1)}")
        rows.append((label(p.channel), number(p.customers), money(p.cac, currency, 2),
                     *(percent(p.recovered[m], 0) if m in p.recovered else "" for m in months),
                     paid, money(p.margin_to_date, currency, 2)))
    return Table(header, tuple(rows), (False, True, True) + (True,) * len(months) + (False, True))
