"""Summary: the month's store totals against the previous month and the same month last
year, in at most six sentences that quote only figures shown in the report's tables (the
biggest movers and the net flow into lapsed customers come from the later sections, so the
Summary is built last)."""

from __future__ import annotations

from dashboards.document import Note, Paragraph, Table, change, number, signed_percent
from dashboards.monthly.context import MonthlyContext, add_months, month_label


def summary(ctx: MonthlyContext) -> list:
    """The Summary blocks; run after the other sections (it reads `ctx.movers` and `ctx.facts`)."""
    previous, last_year = add_months(ctx.month, -1), add_months(ctx.month, -12)
    kpis = ctx.kpi_months([ctx.month, previous, last_year])
    this = kpis.get(ctx.month)
    if this is None:
        text = ("Not enough history: the month is not fully covered by the daily KPIs "
                "(marts.fct_daily_kpis), so no summary figures.")
        ctx.notes.append(text)
        return [Note(text)]
    prev, year = kpis.get(previous), kpis.get(last_year)
    metrics = (
        ("Net revenue", "revenue", lambda v: ctx.money(v)),
        ("Orders", "orders", lambda v: number(v)),
        ("Average order value", "aov", lambda v: ctx.money(v, 2)),
        ("New customers", "new_customers", lambda v: number(v)),
        ("Ad spend", "ad_spend", lambda v: ctx.money(v)),
        ("Blended CAC (ad spend / new customers)", "cac", lambda v: ctx.money(v, 2)),
        ("MER (net revenue / ad spend)", "mer", lambda v: number(v, 2)),
    )
    rows, text = [], {}
    censored = ("new_customers", "cac")
    notes = []
    for m in (previous, last_year):
        if kpis.get(m) and ctx.in_warm_up(m):
            notes.append(Note(f"New customers and CAC of {month_label(m)} are not compared: "
                              f"{ctx.warm_up_text()}."))
    for name, key, fmt in metrics:
        cur = this[key]
        p = prev[key] if prev and not (key in censored and ctx.in_warm_up(previous)) else None
        y = year[key] if year and not (key in censored and ctx.in_warm_up(last_year)) else None
        cells = {"cur": fmt(cur), "prev": fmt(prev[key]) if prev else "n/a",
                 "d_prev": signed_percent(change(cur, p)),
                 "year": fmt(year[key]) if year else "n/a",
                 "d_year": signed_percent(change(cur, y))}
        text[key] = cells
        rows.append((name, cells["cur"], cells["prev"], cells["d_prev"], cells["year"],
                     cells["d_year"]))
    table = Table(("Metric", month_label(ctx.month), month_label(previous), "Change",
                   month_label(last_year), "Change"), tuple(rows),
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
    movers = sorted((m for m in ctx.movers if m.at_stake > 0),
                    key=lambda m: (-m.at_stake, m.label))[:3]
    if movers:
        listed = [f"{m.label} ({m.current}, from {m.previous})" for m in movers]
        joined = listed[0] if len(listed) == 1 else ", ".join(listed[:-1]) + " and " + listed[-1]
        sentences.append(f"Biggest movers against the previous month, by money at stake: {joined}.")
    if "lapsed_net" in ctx.facts:
        sentences.append(f"Net flow into lapsed customers was {ctx.facts['lapsed_net']} "
                         "over the month.")
    return [Paragraph(" ".join(sentences[:6])), table, *notes]
