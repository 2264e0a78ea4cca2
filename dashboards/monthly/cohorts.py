"""Cohort retention: the share of each of the last 12 months' new customers who ordered
again 1, 2, 3, 6 and 12 calendar months later (marts.fct_cohort_retention), and how the
latest cohort's month-3 retention compares with the cohorts before it."""

from __future__ import annotations

from datetime import date

from dashboards.document import Note, Paragraph, Table, number, percent
from dashboards.monthly.context import COHORTS, MonthlyContext, add_months, month_label

RETENTION_MONTHS = (1, 2, 3, 6, 12)


def cohort_retention(ctx: MonthlyContext) -> list:
    """The Cohort retention blocks, from marts.fct_cohort_retention up to the report month."""
    lacking = ctx.missing("marts.fct_cohort_retention")
    if lacking:
        return ctx.lacking("Cohort retention", lacking)
    first_cohort = add_months(ctx.month, -COHORTS)
    # The mart (the one home of the rule) counts orders up to the run's as-of date; the
    # cells read here end with the report month, which that date has passed.
    found = ctx.rows(
        """
        select cohort_month, months_after, case when months_after = 0 then cohort_customers
                                               else active_customers end
        from marts.fct_cohort_retention
        where cohort_month between ? and ? and activity_month <= ?
        """, [first_cohort, add_months(ctx.month, -1), ctx.month])
    sizes: dict[date, int] = {}
    retained: dict[tuple[date, int], int] = {}
    for cohort, months_after, customers in found:
        if months_after == 0:  # everyone orders in the month of their first order
            sizes[cohort] = customers
        else:
            retained[(cohort, months_after)] = customers
    cohorts = sorted(sizes)
    if not cohorts:
        return [ctx.history_note(
            "Not enough history: cohort retention needs at least one complete month after "
            "the first order.")]

    def share(cohort: date, k: int) -> float | None:
        if add_months(cohort, k) > ctx.month:
            return None
        return retained.get((cohort, k), 0) / sizes[cohort]

    rows = tuple(
        (month_label(c) + (" *" if ctx.in_warm_up(c) else ""), number(sizes[c]),
         *("" if share(c, k) is None else percent(share(c, k)) for k in RETENTION_MONTHS))
        for c in cohorts)
    table = Table(("First order month", "Customers", *(f"Month {k}" for k in RETENTION_MONTHS)),
                  rows, (False,) + (True,) * (1 + len(RETENTION_MONTHS)))
    blocks: list = [Paragraph(
        "Share of each month's new customers who ordered again in the given calendar month "
        "after their first order (month 1 = the next calendar month). Blank: that month is not "
        "complete yet.")]
    if any(ctx.in_warm_up(c) for c in cohorts):
        blocks.append(Note(f"* Includes existing customers seen for the first time: "
                           f"{ctx.warm_up_text()}. Left out of the comparison below."))
    latest = add_months(ctx.month, -3)
    if latest in sizes:
        earlier = [c for c in cohorts if c < latest and not ctx.in_warm_up(c)]
        latest_share = percent(share(latest, 3))
        if earlier:
            pooled = sum(retained.get((c, 3), 0) for c in earlier) / sum(sizes[c] for c in earlier)
            span = (month_label(earlier[0]) if len(earlier) == 1
                    else f"{month_label(earlier[0])}–{month_label(earlier[-1])}")
            direction = ("above" if share(latest, 3) > pooled
                         else "below" if share(latest, 3) < pooled else "level with")
            blocks.append(Paragraph(
                f"Month-3 retention of the {month_label(latest)} cohort was {latest_share}, "
                f"{direction} the {percent(pooled)} of the {len(earlier)} cohorts before it "
                f"taken together ({span})."))
        else:
            blocks.append(Paragraph(
                f"Month-3 retention of the {month_label(latest)} cohort was {latest_share}; "
                "no earlier cohort to compare it with."))
    else:
        blocks.append(ctx.history_note(
            "Not enough history: month-3 retention needs a cohort whose first order is at "
            "least three complete months before the report month."))
    blocks.insert(1, table)
    return blocks
