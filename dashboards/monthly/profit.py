"""Profit: the month's profit ladder (net sales -> contribution margin 1, 2, 3) against the
previous month and the same month last year, contribution margin by channel, CAC payback
on contribution margin by acquisition channel, and the SKUs that earned the most and the
least contribution margin 1. Costs that are missing or estimated
are named in the Data notes (dashboards.profit.missing_cost_notes)."""

from __future__ import annotations

from dashboards.document import Note, Paragraph, Table, number, percent
from dashboards.monthly.context import (
    MonthlyContext,
    add_months,
    channel_label,
    month_end_of,
    month_label,
)
from dashboards.profit import cac_payback, ladder, ladder_table, missing_cost_notes, payback_table
from quality.warehouse import rows as _rows
from quality.warehouse import table_exists

TOP_SKUS = 8


def profit(ctx: MonthlyContext) -> list:
    """The Profit blocks; notes of missing costs go to ctx.notes, and ctx.facts gets
    "cm2" and "cm2_margin" for the Summary."""
    this = ladder(ctx.con, ctx.month, ctx.month_end)
    if this is None:
        text = ("No profit figures: the warehouse has no contribution margins for the month "
                "(marts.fct_profit_daily).")
        ctx.notes.append(text)
        return [Note(text)]
    previous_month, year_month = add_months(ctx.month, -1), add_months(ctx.month, -12)
    previous = ladder(ctx.con, previous_month, month_end_of(previous_month))
    last_year = ladder(ctx.con, year_month, month_end_of(year_month))
    blocks: list = [
        Paragraph(f"Contribution margin 2 was {ctx.money(this.values['contribution_margin_2'])} "
                  f"({percent(this.margin('contribution_margin_2'))} of net sales) and, after "
                  f"{ctx.money(this.values['ad_spend'])} of ad spend, contribution margin 3 "
                  f"{ctx.money(this.values['contribution_margin_3'])} "
                  f"({percent(this.margin('contribution_margin_3'))})."),
        ladder_table(this, ctx.currency, previous=previous,
                     previous_label=month_label(previous_month),
                     last_year=last_year, last_year_label=month_label(year_month)),
    ]
    ctx.facts["cm2"] = ctx.money(this.values["contribution_margin_2"])
    ctx.facts["cm2_margin"] = percent(this.margin("contribution_margin_2"))
    ctx.notes.extend(missing_cost_notes(ctx.con, ctx.month, ctx.month_end, ctx.currency))

    channels = _rows(ctx.con, """
        select channel, sum(net_sales) as net_sales, sum(contribution_margin_2) as cm2,
               sum(ad_spend) as ad_spend, sum(contribution_margin_3) as cm3,
               sum(new_customers) as new_customers
        from marts.fct_profit_daily where profit_date between ? and ?
        group by channel order by sum(net_sales) desc nulls last, channel""",
                     [ctx.month, ctx.month_end])
    rows = []
    for r in channels:
        net = float(r["net_sales"] or 0)
        rows.append((channel_label(r["channel"]), ctx.money(net), ctx.money(float(r["cm2"] or 0)),
                     percent(float(r["cm2"] or 0) / net) if net else "n/a",
                     ctx.money(float(r["ad_spend"] or 0)), ctx.money(float(r["cm3"] or 0)),
                     percent(float(r["cm3"] or 0) / net) if net else "n/a"))
    blocks.append(Table(("Channel", "Net sales", "CM2", "CM2 %", "Ad spend", "CM3", "CM3 %"),
                        tuple(rows), (False,) + (True,) * 6))

    paybacks = cac_payback(ctx.con, ctx.month_end)
    if paybacks:
        blocks.append(Paragraph(
            "CAC payback on contribution margin 2, for the customers each paid channel acquired "
            "in the 12 months to this one: the share of the channel's ad spend their orders "
            "(first and repeat, after every cost) had earned back by the end of each month "
            "after the first order, and the month it was all back."))
        blocks.append(payback_table(paybacks, ctx.currency, label=channel_label))
        ctx.facts["payback"] = {p.channel: p.payback_months for p in paybacks}

    if table_exists(ctx.con, "marts", "fct_order_line_profit"):
        skus = _rows(ctx.con, """
            select sku, max(line_name) as product, sum(quantity - coalesce(units_returned, 0)) as units,
                   sum(net_sales) as net_sales, sum(contribution_margin_1) as cm1
            from marts.fct_order_line_profit
            where order_date between ? and ? and is_revenue and sku is not null
                and contribution_margin_1 is not null
            group by sku""", [ctx.month, ctx.month_end])
        skus.sort(key=lambda r: float(r["cm1"] or 0), reverse=True)
        best = skus[:TOP_SKUS]
        # The thinnest margins among SKUs that sell (at least the median SKU's net sales):
        # a SKU that sold nothing this month is not a margin problem.
        sales = sorted(float(r["net_sales"] or 0) for r in skus)
        floor = max(sales[len(sales) // 2], 0.01) if sales else 0.0
        selling = [r for r in skus if float(r["net_sales"] or 0) >= floor and r not in best]
        worst = sorted(selling, key=lambda r: float(r["cm1"] or 0) / float(r["net_sales"]))[:TOP_SKUS]

        def sku_rows(selection):
            return tuple((r["sku"], r["product"] or "", number(float(r["units"] or 0)),
                          ctx.money(float(r["net_sales"] or 0)), ctx.money(float(r["cm1"] or 0)),
                          percent(float(r["cm1"] or 0) / float(r["net_sales"]))
                          if r["net_sales"] else "n/a") for r in selection)

        header = ("SKU", "Product", "Units kept", "Net sales", "CM1", "CM1 %")
        if best:
            blocks.append(Paragraph("SKUs that earned the most contribution margin 1 "
                                    "(net sales - cost of goods at the order date's cost):"))
            blocks.append(Table(header, sku_rows(best), (False, False, True, True, True, True)))
        if worst:
            blocks.append(Paragraph(
                f"SKUs with the thinnest contribution margin 1, among those with at least "
                f"{ctx.money(floor)} of net sales in the month (the median SKU's):"))
            blocks.append(Table(header, sku_rows(worst), (False, False, True, True, True, True)))
    return blocks
