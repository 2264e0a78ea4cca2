"""Customer segments: the churn model's segments (analytics.churn_scores, when usable for the
month) and the lifecycle movement of customers between stages over the month
(marts.fct_lifecycle_movement_monthly), with the flow into and out of lapsed customers that
the Summary quotes."""

from __future__ import annotations

from datetime import timedelta

from dashboards.document import Note, Paragraph, Table, number, percent
from dashboards.monthly.context import MonthlyContext

# Lifecycle stages of the dbt macro lifecycle_stage (marts.fct_lifecycle_movement_monthly).
STAGES = ("new", "active", "reactivated", "lapsing", "lapsed")
NOT_YET = "not yet a customer"
NOT_YET_STAGE = "not_yet_customer"  # its from_stage in the mart
CHURN_SEGMENTS = ("active", "reactivated", "at_risk", "high_value_at_risk", "lapsed")


def _stage(name: str) -> str:
    return name.replace("_", " ")


def customer_segments(ctx: MonthlyContext) -> list:
    """The Customer segments blocks; sets `ctx.facts["lapsed_net"]` for the Summary."""
    blocks: list = []
    scores = ctx.analytics_table("churn_scores")
    if scores:
        found = ctx.rows(
            """select segment, count(*), sum(predicted_clv)::double
               from analytics.churn_scores group by 1""")
        total = sum(n for _, n, _ in found) or 1
        order = {s: i for i, s in enumerate(CHURN_SEGMENTS)}
        blocks.append(Paragraph(f"**Churn segments** (churn model as of {scores})"))
        blocks.append(Table(
            ("Segment", "Customers", "Share", "Predicted 12-month value", "Per customer"),
            tuple((_stage(s), number(n), percent(n / total), ctx.money(v),
                   ctx.money(v / n if n else None, 2))
                  for s, n, v in sorted(found, key=lambda r: (order.get(r[0], 99), r[0]))),
            (False, True, True, True, True)))
    else:
        blocks.append(Note("Churn segments need analytics.churn_scores for this month (see Data notes)."))
    if ctx.missing("marts.fct_lifecycle_movement_monthly"):
        return blocks + ctx.lacking("Lifecycle movement",
                                     ["marts.fct_lifecycle_movement_monthly"])
    start = ctx.month - timedelta(days=1)
    moves = [(NOT_YET if f == NOT_YET_STAGE else f, t, n) for f, t, n in ctx.rows(
        """select from_stage, to_stage, customers from marts.fct_lifecycle_movement_monthly
           where month_start = ?""", [ctx.month])]
    if not any(f != NOT_YET for f, _, _ in moves):
        blocks.append(ctx.history_note(
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
        f"**Lifecycle movement** from {start.isoformat()} (rows) to {ctx.month_end.isoformat()} "
        "(columns), by days since the last order: new = one order in the last 90 days, active = "
        "two or more, reactivated = back after a gap of more than 180 days, lapsing = 91–180 "
        "days, lapsed = more than 180 days."))
    blocks.append(Table(("From \\ to", *(_stage(t) for t in STAGES), "Total at start"),
                        tuple(rows), (False,) + (True,) * (len(STAGES) + 1)))
    into = sum(n for (f, t), n in counts.items() if t == "lapsed" and f != "lapsed")
    out_of = sum(n for (f, t), n in counts.items() if f == "lapsed" and t != "lapsed")
    net = into - out_of
    ctx.facts["lapsed_net"] = f"{net:+,d}"
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
