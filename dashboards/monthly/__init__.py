"""The monthly strategic report: how the month went, and where money is being won or lost.

`monthly_report(con, month=..., currency=...)` reads the marts (and, when present, the
analytics tables) of a storeops warehouse and returns a `Document` with, in order:
Summary, Profit (the contribution margin ladder, by channel and by SKU), Cohort retention,
Channel efficiency, Inventory health, Customer lifetime value
by acquisition channel, Customer segments, Data notes.

Every figure is computed from rows dated on or before the month's last day, so a later run
reproduces the same report (except where a later export corrected an earlier one, such as
a refund booked after the month: the marts keep the newest version of an order). The
analytics tables hold one as-of date each; they are only used when that date falls in the
month after the report month, and are labelled with it.

A store with little history, or without sessions, ads, help desk or analytics tables, still
gets a report: what cannot be computed is replaced by a Note and listed under Data notes.
Only aggregates are printed (no email, no per-customer row).

The sections live in one module each (cohorts, channels, inventory, lifetime_value, segments,
summary, data_notes) as functions of the shared `MonthlyContext` (context); they collect the
Data notes, the movers and the facts the Summary quotes on it, so they run in a fixed order.
"""

from __future__ import annotations

from datetime import date

import duckdb

from dashboards.document import Document, Heading
from dashboards.monthly import (
    channels,
    cohorts,
    data_notes,
    inventory,
    lifetime_value,
    profit,
    segments,
    summary,
)
from dashboards.monthly.context import MonthlyContext

__all__ = ["SECTIONS", "monthly_report"]

SECTIONS = (
    "Summary",
    "Profit",
    "Cohort retention",
    "Channel efficiency",
    "Inventory health",
    "Customer lifetime value by acquisition channel",
    "Customer segments",
    "Data notes",
)


def monthly_report(con: duckdb.DuckDBPyConnection, *, month: date, currency: str) -> Document:
    """The monthly report for the calendar month starting on `month` (a complete month).

    Reads `marts.fct_orders, fct_daily_kpis, fct_channel_daily, fct_marketing_daily,
    fct_inventory_daily, fct_sku_demand_daily, dim_products, fct_support_tickets` and,
    when present, `analytics.churn_scores`. Money is formatted in `currency`.
    """
    if month.day != 1:
        raise ValueError(f"month must be the first day of a month, got {month.isoformat()}")
    ctx = MonthlyContext(con, month, currency)
    sections = [
        ("Profit", profit.profit),
        ("Cohort retention", cohorts.cohort_retention),
        ("Channel efficiency", channels.channel_efficiency),
        ("Inventory health", inventory.inventory_health),
        ("Customer lifetime value by acquisition channel", lifetime_value.lifetime_value),
        ("Customer segments", segments.customer_segments),
    ]
    bodies: list[tuple[str, list]] = []
    for heading, build in sections:
        bodies.append((heading, build(ctx)))
    summary_blocks = summary.summary(ctx)  # last: it quotes the other sections' tables

    doc = Document(
        title=f"Monthly report — {month:%B %Y}",
        subtitle=(f"{month:%-d %B} to {ctx.month_end:%-d %B %Y} · computed from data on or "
                  f"before {ctx.month_end.isoformat()} · {currency}"),
    )
    doc.add(Heading("Summary"), *summary_blocks)
    for heading, blocks in bodies:
        doc.add(Heading(heading), *blocks)
    doc.add(Heading("Data notes"), *data_notes.data_notes(ctx))
    return doc
