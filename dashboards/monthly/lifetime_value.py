"""Customer lifetime value by acquisition channel: the last 12 months' new customers by the
channel of their first order, their net revenue per customer over the first 90 and 365 days,
and, when analytics.churn_scores is usable for the month, the churn model's predicted
12-month value."""

from __future__ import annotations

from datetime import timedelta

from dashboards.document import Note, Table, number, percent
from dashboards.monthly.context import (
    COHORTS,
    WARM_UP_DAYS,
    MonthlyContext,
    add_months,
    channel_label,
    month_label,
)

LTV_WINDOWS = (90, 365)


def lifetime_value(ctx: MonthlyContext) -> list:
    """The Customer lifetime value blocks, from marts.fct_orders (and analytics.churn_scores)."""
    lacking = ctx.missing("marts.fct_orders")
    if lacking:
        return ctx.lacking("Customer lifetime value", lacking)
    acquired_from = add_months(ctx.month, -(COHORTS - 1))
    firsts_sql = """
        with firsts as (
            select customer_id, min(order_date) as first_date,
                   arg_min(channel, created_at) as channel
            from marts.fct_orders
            where is_revenue and customer_id is not null and order_date <= ?
            group by 1
        )
    """
    acquired = dict(ctx.rows(
        firsts_sql + "select coalesce(channel, 'none'), count(*) from firsts "
                     "where first_date between ? and ? group by 1",
        [ctx.month_end, acquired_from, ctx.month_end]))
    values: dict[int, dict[str, tuple[float, int]]] = {}
    for window in LTV_WINDOWS:
        latest_first = ctx.month_end - timedelta(days=window)
        earliest_first = latest_first - timedelta(days=364)
        if ctx.warm_up_end is not None:
            earliest_first = max(earliest_first, ctx.warm_up_end)
        values[window] = {ch: (avg, n) for ch, avg, n in ctx.rows(
            firsts_sql + """
            select coalesce(firsts.channel, 'none'),
                   sum(orders.net_revenue)::double / count(distinct firsts.customer_id),
                   count(distinct firsts.customer_id)
            from firsts
            inner join marts.fct_orders as orders on orders.customer_id = firsts.customer_id
            where orders.is_revenue and orders.order_date < firsts.first_date + ?
              and firsts.first_date between ? and ?
            group by 1
            """, [ctx.month_end, window, earliest_first, latest_first])}
    predicted: dict[str, float] = {}
    blocks: list = []
    scores = ctx.analytics_table("churn_scores")
    if scores:
        predicted = {ch: avg for ch, avg in ctx.rows(
            firsts_sql + """
            select coalesce(firsts.channel, 'none'), avg(scores.predicted_clv)::double
            from firsts
            inner join analytics.churn_scores as scores on scores.customer_id = firsts.customer_id
            where firsts.first_date between ? and ?
            group by 1
            """, [ctx.month_end, acquired_from, ctx.month_end])}
    channels = sorted(set(acquired) | set(values[90]) | set(values[365]),
                      key=lambda ch: (-acquired.get(ch, 0), ch))
    if not channels:
        return [ctx.history_note(
            "Not enough history: no customer has a first order on or before the month's end.")]
    total = sum(acquired.values())
    rows = []
    for ch in channels:
        v90, n90 = values[90].get(ch, (None, 0))
        v365, n365 = values[365].get(ch, (None, 0))
        rows.append((channel_label(ch), number(acquired.get(ch, 0)),
                     percent(acquired.get(ch, 0) / total) if total else "n/a",
                     ctx.money(v90, 2) if n90 else "", number(n90) if n90 else "",
                     ctx.money(v365, 2) if n365 else "", number(n365) if n365 else "",
                     *((ctx.money(predicted.get(ch), 2) if ch in predicted else "",) if scores else ())))
    columns = ("Acquisition channel", f"New customers, {month_label(acquired_from)}–{month_label(ctx.month)}",
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
    if ctx.in_warm_up(acquired_from):
        blocks.append(Note(f"New customer counts before {ctx.warm_up_end.isoformat()} include "
                           f"existing customers seen for the first time: {ctx.warm_up_text()}. "
                           "The per-customer values leave those first orders out."))
    if not values[90]:
        blocks.append(ctx.history_note(
            "Not enough history: 90-day value needs customers whose first order is at least 90 "
            f"days before the month's end and at least {WARM_UP_DAYS} days after the first order "
            "in the data."))
    if not values[365]:
        blocks.append(ctx.history_note(
            "Not enough history: 365-day value needs customers whose first order is at least 365 "
            f"days before the month's end and at least {WARM_UP_DAYS} days after the first order "
            "in the data."))
    return blocks
