"""Data notes: what the report could not show or had to qualify — missing or stale sources
(orders, sessions, ads, tickets, inventory), the notes the sections collected, and how
refunds booked after the month change its figures. Built last."""

from __future__ import annotations

from datetime import date, timedelta

from dashboards.document import Bullets
from dashboards.monthly.context import MonthlyContext, add_months, channel_label

STALE_DAYS = 7


def data_notes(ctx: MonthlyContext) -> list:
    """The Data notes: source checks, then `ctx.notes` in order; run after every other section."""
    found = []
    end = ctx.month_end
    stale_before = end - timedelta(days=STALE_DAYS)

    def last_date(table: str, column: str, where: str = "") -> date | None | bool:
        if not ctx.has("marts", table):
            return False
        return ctx.rows(f"select max({column}) from marts.{table} where {column} <= ? {where}",
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
        elif last < ctx.month:
            found.append(f"{missing_text[0].upper() + missing_text[1:]} for the month "
                         f"(last data {last.isoformat()}).")
        elif last < stale_before:
            found.append(f"{table} is stale: its last data is {last.isoformat()}, more than "
                         f"{STALE_DAYS} days before the month's end.")
    if ctx.has("marts", "fct_marketing_daily"):
        for channel, last in ctx.rows(
                """select channel, max(marketing_date) from marts.fct_marketing_daily
                   where marketing_date <= ? group by 1 order by 1""", [end]):
            if last < stale_before and last >= add_months(ctx.month, -3):
                found.append(f"{channel_label(channel)} ads are stale: last day {last.isoformat()}.")
    for note in ctx.notes:
        if note not in found:
            found.append(note)
    found.append("Net revenue is after discounts and refunds as known when the warehouse was "
                 "built; a refund booked after the month lowers that month's figures in a later run.")
    return [Bullets(tuple(found))]

