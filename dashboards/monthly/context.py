"""What every section of the monthly report shares: `MonthlyContext` (the connection, the
month and its last day, the currency, the Data notes collected so far, the biggest movers and
the facts the Summary quotes), the store totals by month, the analytics-table rule, the
warm-up rule for young stores and the month and channel labels.

Sections are functions of a `MonthlyContext`; they append to its `notes`, `movers` and
`facts`, so `dashboards.monthly.monthly_report` runs them in a fixed order (Summary and Data
notes last).
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass, field
from datetime import date, timedelta

import duckdb

from dashboards.document import Note, money
from quality.warehouse import table_exists

COHORTS = 12
# In the first months of data every returning customer looks new (their earlier orders are
# not in the warehouse): first orders this close to the data start are not counted as
# acquisitions when comparing new customers, cohorts or lifetime value.
WARM_UP_DAYS = 180
CHANNEL_NAMES = {"meta": "Meta", "google": "Google", "tiktok": "TikTok", "email": "Email",
                 "organic": "Organic", "direct": "Direct", "pos": "POS",
                 "draft_order": "Draft orders", "none": "Unknown"}


def add_months(day: date, months: int) -> date:
    """The first day of the month `months` calendar months after `day`'s (negative: before)."""
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def month_end_of(month: date) -> date:
    """The last day of `month`'s calendar month."""
    return month.replace(day=calendar.monthrange(month.year, month.month)[1])


def month_label(month: date) -> str:
    """A month as the report's tables head it, e.g. 'Mar 2026'."""
    return f"{month:%b %Y}"


def channel_label(name: str | None) -> str:
    """A channel as managers read it ('meta' -> 'Meta'; missing -> 'Unknown')."""
    return CHANNEL_NAMES.get(name or "none", (name or "Unknown").replace("_", " ").capitalize())


@dataclass
class Mover:
    """A figure that moved against the previous month; the Summary names the biggest ones."""

    label: str
    current: str
    previous: str
    at_stake: float  # the absolute change, in money, that ranks the movers


@dataclass
class MonthlyContext:
    """The report month and what its sections share while the report is built.

    `notes` collects the Data notes in order, `movers` the figures the Summary may name, and
    `facts` formatted figures computed by a section that the Summary quotes.
    """

    con: duckdb.DuckDBPyConnection
    month: date
    currency: str
    month_end: date = field(init=False)
    notes: list[str] = field(default_factory=list)  # Data notes, in order
    movers: list[Mover] = field(default_factory=list)
    facts: dict = field(default_factory=dict)  # formatted figures the Summary quotes

    def __post_init__(self) -> None:
        self.month_end = month_end_of(self.month)
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
        """Why first orders in the warm-up are not all acquisitions (for a Note)."""
        return (f"the orders start on {self.data_start.isoformat()}, so in the first {WARM_UP_DAYS} "
                "days many first orders in the data are from existing customers")

    # -- database access

    def rows(self, sql: str, params: list | None = None) -> list[tuple]:
        """All rows of `sql` run with `params`."""
        return self.con.execute(sql, params or []).fetchall()

    def has(self, schema: str, table: str) -> bool:
        """True when the warehouse has `schema.table`."""
        return table_exists(self.con, schema, table)

    def columns(self, schema: str, table: str) -> set[str]:
        """The column names of `schema.table` (empty when it does not exist)."""
        return {r[0] for r in self.rows(
            "select column_name from information_schema.columns where table_schema = ? and table_name = ?",
            [schema, table])}

    def money(self, value: float | None, digits: int = 0) -> str:
        """`value` formatted in the report's currency."""
        return money(value, self.currency, digits)

    def missing(self, *tables: str) -> list[str]:
        """Those of `tables` ('schema.table') the warehouse does not have."""
        return [t for t in tables if not self.has(*t.split("."))]

    def lacking(self, section: str, tables: list[str]) -> list:
        """A section's blocks when it lacks `tables`: one Note, also listed under Data notes."""
        text = f"{section} needs {', '.join(tables)}, which the warehouse does not have."
        self.notes.append(text)
        return [Note(text)]

    def history_note(self, text: str) -> Note:
        """A Note (e.g. 'Not enough history: ...') also listed under Data notes."""
        self.notes.append(text)
        return Note(text)

    # -- store totals by month (fct_daily_kpis)

    def kpi_months(self, months: list[date]) -> dict[date, dict]:
        """Net revenue, orders, new customers, ad spend, average order value, MER and CAC per
        complete month of `months`; a month the data does not fully cover is left out."""
        if not self.has("marts", "fct_daily_kpis"):
            return {}
        first, last = self.rows(
            "select min(kpi_date), max(kpi_date) from marts.fct_daily_kpis where kpi_date <= ?",
            [self.month_end])[0]
        if first is None:
            return {}
        out = {}
        for m in months:
            if m < first or month_end_of(m) > last:
                continue
            revenue, orders, new, spend, aov = self.rows(
                """
                select sum(revenue)::double, sum(orders), sum(new_customers),
                       sum(ad_spend)::double, sum(revenue)::double / nullif(sum(orders), 0)
                from marts.fct_daily_kpis where kpi_date between ? and ?
                """, [m, month_end_of(m)])[0]
            out[m] = {"revenue": revenue, "orders": orders, "new_customers": new,
                      "ad_spend": spend, "aov": aov,
                      "mer": revenue / spend if spend else None,
                      "cac": spend / new if spend and new else None}
        return out

    # -- analytics tables

    def analytics_table(self, table: str) -> str | None:
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
        usable = as_of is not None and self.month_end < as_of <= month_end_of(add_months(self.month, 1))
        if not usable:
            text = (f"analytics.{table} is as of {as_of.isoformat() if as_of else 'an unknown date'}, "
                    f"not the month after {month_label(self.month)}: not used, so the report describes "
                    "the month and not a later state.")
            if text not in self.notes:
                self.notes.append(text)
            return None
        text = f"analytics.{table} is as of {as_of.isoformat()} (the run after the month) and is used as such."
        if text not in self.notes:
            self.notes.append(text)
        return as_of.isoformat()
