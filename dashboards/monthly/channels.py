"""Channel efficiency: ad spend, new customers, CAC, ROAS and MER by channel over the last
six complete months (marts.fct_channel_daily and the store totals), net revenue by channel,
and the channel whose CAC moved most. Adds the channels' revenue and spend to the movers."""

from __future__ import annotations

from dashboards.document import Paragraph, Table, change, number, signed_percent
from dashboards.monthly.context import MonthlyContext, Mover, add_months, channel_label, month_label

CHANNEL_MONTHS = 6


def channel_efficiency(ctx: MonthlyContext) -> list:
    """The Channel efficiency blocks; appends month-on-month movers to `ctx.movers`."""
    lacking = ctx.missing("marts.fct_channel_daily")
    if lacking:
        return ctx.lacking("Channel efficiency", lacking)
    window = [add_months(ctx.month, -i) for i in range(CHANNEL_MONTHS - 1, -1, -1)]
    kpis = ctx.kpi_months(window)
    months = [m for m in window if m in kpis] if kpis else []
    if not months:
        return [ctx.history_note(
            "Not enough history: channel efficiency needs at least one complete month of "
            "orders.")]
    blocks: list = []
    if len(months) < len(window):
        blocks.append(ctx.history_note(
            f"Channel efficiency covers {len(months)} complete month(s); the data starts "
            f"after {month_label(window[0])}."))
    per = {(m, ch): (spend, new, revenue) for m, ch, spend, new, revenue in ctx.rows(
        """
        select cast(date_trunc('month', channel_date) as date), channel,
               sum(spend)::double, sum(new_customers), sum(net_revenue)::double
        from marts.fct_channel_daily
        where channel_date between ? and ?
        group by all
        """, [months[0], ctx.month_end])}
    channels = sorted({ch for (_, ch) in per})
    paid = [ch for ch in channels
            if sum(per.get((m, ch), (0, 0, 0))[0] or 0 for m in months) > 0]
    heads = ("Channel", *(month_label(m) for m in months))
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
            table([(channel_label(ch), *(ctx.money(value(m, ch, 0)) for m in months)) for ch in paid]
                  + [("All paid channels", *(ctx.money(kpis[m]["ad_spend"]) for m in months))]),
            Paragraph("**New customers**"),
            table([(channel_label(ch), *(number(value(m, ch, 1)) for m in months)) for ch in paid]
                  + [("Store (all channels)", *(number(kpis[m]["new_customers"]) for m in months))]),
            Paragraph("**CAC**"),
            table([(channel_label(ch), *(ctx.money(_ratio(value(m, ch, 0), value(m, ch, 1)), 2)
                                    for m in months)) for ch in paid]
                  + [("Store (blended)", *(ctx.money(kpis[m]["cac"], 2) for m in months))]),
            Paragraph("**ROAS and MER**"),
            table([(channel_label(ch), *(number(_ratio(value(m, ch, 2), value(m, ch, 0)), 2)
                                    for m in months)) for ch in paid]
                  + [("Paid channels (ROAS)",
                      *(number(_ratio(paid_revenue[m], kpis[m]["ad_spend"]), 2) for m in months)),
                     ("Store MER", *(number(kpis[m]["mer"], 2) for m in months))]),
        ]
    else:
        blocks.append(ctx.history_note(
            "No ad spend in these months (no ad platform data): CAC, ROAS and MER cannot be "
            "computed."))
    blocks += [
        Paragraph("**Net revenue by channel**"),
        table([(channel_label(ch), *(ctx.money(value(m, ch, 2)) for m in months))
               for ch in channels if any(value(m, ch, 2) for m in months)]
              + [("Store", *(ctx.money(kpis[m]["revenue"]) for m in months))]),
    ]
    if len(months) >= 2 and months[-2] == add_months(ctx.month, -1):
        this, before = ctx.month, months[-2]
        for ch in channels:
            cur, prev = value(this, ch, 2), value(before, ch, 2)
            ctx.movers.append(Mover(f"{channel_label(ch)} net revenue", ctx.money(cur),
                                      ctx.money(prev), abs(cur - prev)))
        for ch in paid:
            cur, prev = value(this, ch, 0), value(before, ch, 0)
            ctx.movers.append(Mover(f"{channel_label(ch)} ad spend", ctx.money(cur),
                                      ctx.money(prev), abs(cur - prev)))
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
                f"{channel_label(ch)}'s CAC moved most: it {verb} from {ctx.money(prev, 2)} in "
                f"{month_label(before)} to {ctx.money(cur, 2)} in {month_label(this)} "
                f"({signed_percent(change(cur, prev))}), on {number(value(this, ch, 1))} new "
                f"customers and {ctx.money(value(this, ch, 0))} of spend."))
    return blocks


def _ratio(numerator: float | None, denominator: float | None) -> float | None:
    if numerator is None or not denominator:
        return None
    return numerator / denominator
