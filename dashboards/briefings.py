"""The daily brief and the weekly report, as `Document`s (Markdown + HTML from one source).

- `daily_brief(con, *, as_of, currency, failed_checks)`: one screen for the morning: the
  day's KPIs against the same weekday last week and last year, channels, inventory
  alerts, open anomalies with their driver, support, data quality.
- `weekly_report(con, *, week_start, currency, audiences_dir)`: every key metric week
  over week and year over year, and a narrative that names the significant changes in
  order of money at stake, attributed to channel, SKU or ticket category. The narrative is
  built from the same formatted cells as the tables, so every number quoted is a number
  shown. "Spend and audiences" gives the budget advice of the run that writes the report
  (analytics.budget_recommendations, its held-out check in analytics.model_evaluation),
  the creatives worn out (analytics.creative_alerts) and the audience files written
  (counts from the newest output/audiences/<as_of>/manifest.csv, never a person).

Both read the warehouse (marts, analytics, raw.load_log) through a DuckDB connection and
only rows dated on or before the period they describe, so a past date replays what the
brief said then. Missing sources give a line saying so, never an error.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import duckdb

from dashboards.document import (
    Bullets,
    Document,
    Heading,
    Note,
    Paragraph,
    Table,
    change,
    iso_week_label,
    money,
    number,
    percent,
    signed_percent,
)
from dashboards.profit import ladder, missing_cost_notes
from quality.warehouse import ad_spend_gap, file_warnings
from quality.warehouse import rows as _rows
from quality.warehouse import table_exists as _exists

DAILY_SECTIONS = ("At a glance", "Channels", "Inventory", "Anomalies", "Support",
                  "Data quality")
WEEKLY_SECTIONS = ("Summary", "Key metrics", "Channels", "Spend and audiences", "Products",
                   "Support", "Anomalies this week")
# A change is worth a sentence when it moves at least this share of the week's revenue
# (in money at stake) and at least 5% relative.
SIGNIFICANT_SHARE = 0.01
SIGNIFICANT_CHANGE = 0.05
TICKET_HANDLING_COST = 5.0  # same assumption as models.anomalies
PAID = ("meta", "google", "tiktok")
PLATFORM_NAMES = {"meta": "Meta", "google": "Google", "tiktok": "TikTok"}


def _float(value) -> float | None:
    return None if value is None else float(value)


# ---------------------------------------------------------------------------------------
# Daily brief
# ---------------------------------------------------------------------------------------

KPI_SQL = """
select kpi_date, revenue, orders, average_order_value, conversion_rate, new_customers,
       sessions, ad_spend, tickets, first_reply_minutes_median, csat
from marts.fct_daily_kpis where kpi_date in (?, ?, ?)
"""


def daily_brief(con: duckdb.DuckDBPyConnection, *, as_of: date, currency: str,
                failed_checks: list[str] | tuple[str, ...] = ()) -> Document:
    """The morning brief for `as_of` (the last complete day)."""
    doc = Document(title=f"Daily brief — {as_of:%A %d %B %Y}",
                   subtitle=f"Figures for {as_of.isoformat()}, compared with the same weekday "
                            "last week and last year (52 weeks back). Currency: " + currency + ".")
    last_week, last_year = as_of - timedelta(days=7), as_of - timedelta(days=364)
    kpis = {r["kpi_date"]: r for r in _rows(con, KPI_SQL, [as_of, last_week, last_year])}
    today = kpis.get(as_of)
    doc.add(Heading("At a glance"))
    if today is None:
        doc.add(Note(f"No orders or sessions recorded for {as_of.isoformat()} yet."))
    else:
        specs = [
            ("Revenue", "revenue", lambda v: money(v, currency)),
            ("Orders", "orders", lambda v: number(v)),
            ("AOV", "average_order_value", lambda v: money(v, currency, 2)),
            ("Conversion rate", "conversion_rate", lambda v: percent(v, 2)),
            ("New customers", "new_customers", lambda v: number(v)),
        ]
        rows = []
        for label, column, fmt in specs:
            now = _float(today.get(column))
            week = _float(kpis.get(last_week, {}).get(column))
            year = _float(kpis.get(last_year, {}).get(column))
            rows.append((label, fmt(now) if now is not None else "n/a",
                         fmt(week) if week is not None else "n/a", signed_percent(change(now, week)),
                         fmt(year) if year is not None else "n/a", signed_percent(change(now, year))))
        rows[1:1] = _profit_rows(con, as_of, last_week, last_year, currency)
        doc.add(Table(("Metric", as_of.isoformat(), f"{last_week:%a %d %b}", "vs last week",
                       f"{last_year:%a %d %b %Y}", "vs last year"), tuple(rows),
                      (False, True, True, True, True, True)))
        for text in missing_cost_notes(con, as_of, as_of, currency):
            doc.add(Note(text))
        if last_year not in kpis:
            doc.add(Note("Not enough history for last year's comparison."))
        if today.get("sessions") is None:
            doc.add(Note("No sessions export: conversion rate is not available."))
    _daily_channels(doc, con, as_of, currency)
    _daily_inventory(doc, con, as_of, currency)
    _daily_anomalies(doc, con, as_of)
    _daily_support(doc, con, as_of, kpis, last_week)
    _daily_quality(doc, con, as_of, failed_checks)
    return doc


def _profit_rows(con, as_of: date, last_week: date, last_year: date,
                 currency: str) -> list[tuple[str, ...]]:
    """Contribution margin next to revenue: CM2 (after goods, shipping, fees and
    fulfilment), its share of net sales, and CM3 (after ad spend), for the day and its
    comparison days. No rows without the profit marts."""
    days = {d: ladder(con, d, d) for d in (as_of, last_week, last_year)}
    if days[as_of] is None:
        return []
    specs = (
        ("Contribution margin 2", lambda lad: lad.values["contribution_margin_2"],
         lambda v: money(v, currency)),
        ("CM2 % of net sales", lambda lad: lad.margin("contribution_margin_2"),
         lambda v: percent(v)),
        ("Contribution margin 3 (after ads)", lambda lad: lad.values["contribution_margin_3"],
         lambda v: money(v, currency)),
    )
    rows = []
    for label, value, fmt in specs:
        now, week, year = (value(days[d]) if days[d] is not None else None
                           for d in (as_of, last_week, last_year))
        if label.startswith("CM2 %"):  # a share moves in percentage points
            def delta(a, b):
                return "n/a" if a is None or b is None else f"{100 * (a - b):+.1f} pts"
        else:
            def delta(a, b):
                return signed_percent(change(a, b))
        rows.append((label, fmt(now) if now is not None else "n/a",
                     fmt(week) if week is not None else "n/a", delta(now, week),
                     fmt(year) if year is not None else "n/a", delta(now, year)))
    return rows


def _daily_channels(doc: Document, con, as_of: date, currency: str) -> None:
    doc.add(Heading("Channels"))
    rows = _rows(con, """
        select channel,
               sum(sessions) filter (where channel_date = ?) as sessions,
               sum(orders) filter (where channel_date = ?) as orders,
               sum(net_revenue) filter (where channel_date = ?) as revenue,
               sum(spend) filter (where channel_date = ?) as spend,
               sum(spend) as spend_7d, sum(net_revenue) as revenue_7d,
               sum(new_customers) as new_7d
        from marts.fct_channel_daily
        where channel_date between ? and ?
        group by channel
        order by revenue desc nulls last, channel
    """, [as_of] * 4 + [as_of - timedelta(days=6), as_of])
    if not rows:
        doc.add(Note("No channel data for this day."))
        return
    table = []
    for r in rows[:6]:
        spend7 = _float(r["spend_7d"]) or 0.0
        paid = spend7 > 0
        table.append((
            r["channel"], number(_float(r["sessions"])) if r["sessions"] is not None else "n/a",
            number(_float(r["orders"])), money(_float(r["revenue"]), currency),
            money(_float(r["spend"]), currency) if paid else "",
            f"{(_float(r['revenue_7d']) or 0) / spend7:.2f}" if paid else "",
            money(spend7 / r["new_7d"], currency, 2) if paid and r["new_7d"] else "",
        ))
    doc.add(Table(("Channel", "Sessions", "Orders", "Revenue", "Spend", "ROAS 7d", "CAC 7d"),
                  tuple(table), (False, True, True, True, True, True, True)))
    if not any(_float(r["spend_7d"]) for r in rows):
        # Never "no spend" without the reason when an ad export was refused.
        gap = ad_spend_gap(con)
        doc.add(Note(f"{gap} ROAS and CAC are not available." if gap else
                     "No ad spend in the data: ROAS and CAC are not available."))


def _daily_inventory(doc: Document, con, as_of: date, currency: str) -> None:
    doc.add(Heading("Inventory"))
    if not _exists(con, "analytics", "reorder_suggestions"):
        doc.add(Note("No reorder suggestions yet (the forecasting group has not run, or no "
                     "supplier terms in landing/purchasing/)."))
        return
    computed = con.execute("select max(as_of_date) from analytics.reorder_suggestions").fetchall()[0][0]
    if computed is None:
        doc.add(Note("No reorder suggestions: no SKU has supplier terms yet "
                     "(landing/purchasing/sku_suppliers.csv)."))
        return
    if computed != as_of:
        doc.add(Note(f"The reorder suggestions in the warehouse are as of {computed}, not "
                     f"{as_of.isoformat()}: rerun with --as-of {as_of.isoformat()} to replay them."))
        return
    lines = _rows(con, """
        select sku, product, supplier_id, days_of_cover, projected_stockout_date, lead_time_days,
               suggested_qty, line_value, urgency
        from analytics.reorder_suggestions where suggested_qty > 0
        order by case urgency when 'order_now' then 0 when 'order_soon' then 1 else 2 end,
                 days_of_cover asc nulls last, sku
    """)
    order_now = [r for r in lines if r["urgency"] == "order_now"]
    at_risk = _rows(con, """
        select count(*) as n from analytics.reorder_suggestions
        where projected_stockout_date is not null
          and projected_stockout_date <= ? + to_days(cast(lead_time_days as integer))
    """, [as_of])[0]["n"]
    items = [
        (f"**{len(order_now)}** SKUs to order now "
        f"({money(sum(_float(r['line_value']) or 0 for r in order_now), currency)}); "
        f"{len(lines)} lines in the buyers' files in all."),
        f"**{at_risk}** SKUs run out before a new order could arrive (stockout within lead time).",
    ]
    high_alerts: list[str] = []
    if _exists(con, "analytics", "supply_alerts"):
        alerts = {a["alert_type"]: a for a in _rows(
            con, "select alert_type, count(*) as n, count(distinct po_number) as pos, "
                 "count(distinct supplier_id) as suppliers from analytics.supply_alerts group by 1")}
        for kind, label in (("po_late", "purchase-order lines past their expected date"),
                            ("po_at_risk", "purchase-order lines likely to arrive after a stockout"),
                            ("promo_short_cover", "SKUs in an upcoming promotion short of stock"),
                            ("lead_time_drift", "suppliers delivering slower than they used to")):
            if kind in alerts:
                a = alerts[kind]
                pos = f" ({a['pos']} PO{'s' if a['pos'] != 1 else ''})" if a["pos"] else ""
                items.append(f"**{a['n']}** {label}{pos}.")
        high_alerts = [r["message"] for r in _rows(
            con, "select message from analytics.supply_alerts where severity = 'high' "
                 "order by alert_type, message limit 5")]
    if _exists(con, "analytics", "reorder_file_log"):
        waiting = _rows(con, """
            select supplier, as_of_date from analytics.reorder_file_log
            where not is_reviewed and as_of_date < ? order by as_of_date, supplier
        """, [as_of])
        if waiting:
            items.append(f"**{len(waiting)}** reorder files unanswered for more than a day: "
                         + ", ".join(f"{w['supplier']} ({w['as_of_date']})" for w in waiting[:5]) + ".")
    doc.add(Bullets(tuple(items)))
    if high_alerts:
        doc.add(Paragraph("Needs attention today:"), Bullets(tuple(high_alerts)))
    if order_now:
        doc.add(Table(("SKU", "Product", "Supplier", "Days of cover", "Stockout", "Order", "Value"),
                      tuple((r["sku"], r["product"] or "", r["supplier_id"] or "",
                             number(_float(r["days_of_cover"]), 1),
                             str(r["projected_stockout_date"] or ""), number(_float(r["suggested_qty"])),
                             money(_float(r["line_value"]), currency)) for r in order_now[:5]),
                      (False, False, False, True, False, True, True)))


def _daily_anomalies(doc: Document, con, as_of: date) -> None:
    doc.add(Heading("Anomalies"))
    if not _exists(con, "analytics", "anomalies"):
        doc.add(Note("Anomaly detection has not run yet."))
        return
    rows = _rows(con, """
        select metric, dimension, incident_start, value, expected, severity, direction, driver
        from analytics.anomalies
        where date = ? and is_current
        order by case severity when 'critical' then 0 when 'high' then 1 when 'medium' then 2 else 3 end,
                 impact desc nulls last, metric, dimension
    """, [as_of])
    if not rows:
        doc.add(Paragraph("Nothing unusual on this day."))
        _daily_creative_fatigue(doc, con, as_of)
        return
    doc.add(Table(("Severity", "Metric", "Where", "Since", "Value", "Expected", "Driver"),
                  tuple((r["severity"], f"{r['metric']} {r['direction']}",
                         "store" if r["dimension"] == "all" else r["dimension"],
                         str(r["incident_start"]), _metric_value(r["metric"], r["value"]),
                         _metric_value(r["metric"], r["expected"]), r["driver"] or "")
                        for r in rows[:8]),
                  (False, False, False, False, True, True, False)))
    if len(rows) > 8:
        doc.add(Note(f"{len(rows) - 8} more in analytics.anomalies."))
    _daily_creative_fatigue(doc, con, as_of)


def _daily_creative_fatigue(doc: Document, con, as_of: date) -> None:
    """One line per creative first alerted as worn out in the last week; nothing when none."""
    if not _exists(con, "analytics", "creative_alerts"):
        return
    rows = _rows(con, """
        select channel, campaign_name, ad_name, first_alert_date, recent_ctr, baseline_ctr,
               ctr_change, recent_frequency, baseline_frequency, cost_per_result_change, rule
        from analytics.creative_alerts
        where is_new and as_of_date = ?
        order by severity = 'high' desc, recent_spend desc, ad_name
    """, [as_of])
    if not rows:
        return
    lines = []
    for r in rows[:5]:
        figures = [(f"CTR {percent(_float(r['recent_ctr']), 2)} vs "
                   f"{percent(_float(r['baseline_ctr']), 2)} in its first two weeks "
                   f"({signed_percent(_float(r['ctr_change']), 0)})")]
        if r["recent_frequency"] is not None and r["baseline_frequency"] is not None:
            figures.append(f"frequency {r['recent_frequency']:.1f} vs {r['baseline_frequency']:.1f}")
        if r["rule"] != "ctr_and_frequency" and r["cost_per_result_change"] is not None:
            figures.append(f"cost per result {signed_percent(_float(r['cost_per_result_change']), 0)}")
        lines.append(f"**{r['ad_name']}** ({PLATFORM_NAMES.get(r['channel'], r['channel'])}, "
                     f"{r['campaign_name']}), since {r['first_alert_date']}: "
                     + ", ".join(figures) + ".")
    doc.add(Paragraph("Creatives wearing out (new this week; consider a new creative):"),
            Bullets(tuple(lines)))
    if len(rows) > 5:
        doc.add(Note(f"{len(rows) - 5} more in analytics.creative_alerts."))


def _metric_value(metric: str, value) -> str:
    value = _float(value)
    if value is None:
        return "n/a"
    if metric in ("conversion_rate", "return_rate"):
        return percent(value, 2)
    if metric == "roas":
        return f"{value:.2f}"
    return number(value, 0 if abs(value) >= 100 else 2)


def _daily_support(doc: Document, con, as_of: date, kpis: dict, last_week: date) -> None:
    doc.add(Heading("Support"))
    rows = _rows(con, """
        select category, count(*) filter (where created_date = ?) as today,
               count(*) filter (where created_date = ?) as last_week
        from marts.fct_support_tickets where created_date in (?, ?)
        group by category order by today desc, category
    """, [as_of, last_week, as_of, last_week])
    if not rows:
        doc.add(Note("No tickets on this day (or no help desk export)."))
        return
    doc.add(Table(("Category", as_of.isoformat(), f"{last_week:%a %d %b}", "Change"),
                  tuple((r["category"], number(r["today"]), number(r["last_week"]),
                         signed_percent(change(r["today"], r["last_week"]))) for r in rows),
                  (False, True, True, True)))
    today = kpis.get(as_of, {})
    reply, csat = _float(today.get("first_reply_minutes_median")), _float(today.get("csat"))
    doc.add(Paragraph(f"Median first reply {number(reply)} minutes; CSAT {percent(csat, 0)} satisfied."))


def _daily_quality(doc: Document, con, as_of: date, failed_checks) -> None:
    doc.add(Heading("Data quality"))
    items = []
    if _exists(con, "raw", "load_log"):
        last = _rows(con, """
            with latest as (select max(loaded_at) as at from raw.load_log)
            select count(*) filter (where status = 'loaded') as loaded,
                   count(*) filter (where status = 'rejected') as rejected,
                   coalesce(sum(rows_loaded), 0) as rows_loaded,
                   coalesce(sum(rows_quarantined), 0) as quarantined
            from raw.load_log, latest where loaded_at >= latest.at - interval 1 day
        """)[0]
        items.append(f"Last load: {last['loaded']} files loaded, {last['rejected']} rejected, "
                     f"{number(last['rows_loaded'])} rows, {number(last['quarantined'])} rows quarantined "
                     "(kept with file, row, column and reason in raw.quarantine).")
        rejected = _rows(con, """
            select source_file, message from raw.load_log
            where status = 'rejected' and loaded_at >= (select max(loaded_at) from raw.load_log) - interval 1 day
            order by source_file limit 3
        """)
        items += [f"Rejected {r['source_file']}: {r['message']}" for r in rejected]
        items += [f"Warning: {w['warning']}" for w in file_warnings(con, latest_load_only=True)[:5]]
        # Daily feeds only (purchase orders and catalogues change when they change); the
        # two help desks count as one, so a migration is not reported as a dead feed.
        stale = _rows(con, """
            select case when source in ('zendesk_tickets', 'gorgias_tickets') then 'help desk tickets'
                        else source end as feed,
                   max(max_date) as newest
            from raw.load_log
            where status = 'loaded' and max_date is not null and source in (
                'shopify_orders', 'shopify_inventory', 'meta_ads', 'google_ads', 'tiktok_ads',
                'analytics_sessions', 'zendesk_tickets', 'gorgias_tickets')
            group by feed having max(max_date) < ? order by feed
        """, [as_of - timedelta(days=1)])
        items += [f"Stale: {r['feed']} end on {r['newest']}, before {as_of.isoformat()}." for r in stale]
    if failed_checks:
        items.append(f"**{len(failed_checks)} checks failed**: " + "; ".join(failed_checks[:5]))
    else:
        items.append("All data checks passed.")
    doc.add(Bullets(tuple(items)))


# ---------------------------------------------------------------------------------------
# Weekly report
# ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class _Metric:
    label: str
    sql: str  # aggregate over marts.fct_daily_kpis for the week
    kind: str  # money, money2, count, rate, ratio, minutes


WEEKLY_METRICS = (
    _Metric("Revenue", "sum(revenue)", "money"),
    _Metric("Orders", "sum(orders)", "count"),
    _Metric("AOV", "sum(revenue) / nullif(sum(orders), 0)", "money2"),
    _Metric("Sessions", "sum(sessions)", "count"),
    _Metric("Conversion rate", "sum(orders) filter (where sessions is not null) / nullif(sum(sessions), 0)", "rate"),
    _Metric("New customers", "sum(new_customers)", "count"),
    _Metric("Returning customers", "sum(returning_customers)", "count"),
    _Metric("Ad spend", "sum(ad_spend)", "money"),
    _Metric("CAC (blended)", "sum(ad_spend) / nullif(sum(new_customers), 0)", "money2"),
    _Metric("MER", "sum(revenue) / nullif(sum(ad_spend), 0)", "ratio"),
    _Metric("Gross margin", "sum(gross_margin)", "money"),
    _Metric("Refunds on the week's orders so far", "sum(refunds)", "money"),
    _Metric("Tickets", "sum(tickets)", "count"),
    _Metric("First reply (median of days, min)", "median(first_reply_minutes_median)", "minutes"),
    _Metric("CSAT", "avg(csat)", "rate"),
)


def _fmt(kind: str, value: float | None, currency: str) -> str:
    if value is None:
        return "n/a"
    return {"money": lambda: money(value, currency), "money2": lambda: money(value, currency, 2),
            "count": lambda: number(value), "rate": lambda: percent(value, 2),
            "ratio": lambda: f"{value:.2f}", "minutes": lambda: number(value)}[kind]()


def _week_values(con, start: date) -> dict[str, float | None]:
    select = ", ".join(f"{m.sql} as m{i}" for i, m in enumerate(WEEKLY_METRICS))
    row = con.execute(f"select count(*) as days, {select} from marts.fct_daily_kpis "
                      "where kpi_date between ? and ?", [start, start + timedelta(days=6)]).fetchall()[0]
    if row[0] < 7:  # a partial week (the store's first days) is not comparable
        return {}
    return {m.label: _float(v) for m, v in zip(WEEKLY_METRICS, row[1:])}


def weekly_report(con: duckdb.DuckDBPyConnection, *, week_start: date, currency: str,
                  audiences_dir: Path | None = None) -> Document:
    """The report for the ISO week starting Monday `week_start`.

    audiences_dir: the home's output/audiences/ (its <as_of>/manifest.csv files give the
    section "Spend and audiences" its audience counts); None leaves them out, with a note."""
    if week_start.weekday() != 0:
        raise ValueError(f"week_start must be a Monday, got {week_start} ({week_start:%A})")
    end = week_start + timedelta(days=6)
    last, year = week_start - timedelta(days=7), week_start - timedelta(days=364)
    doc = Document(title=f"Weekly report — {iso_week_label(week_start)}",
                   subtitle=f"{week_start:%d %b} to {end:%d %b %Y}, against the week before and the "
                            f"same week last year. Currency: {currency}.")
    this_week, last_week, last_year = (_week_values(con, d) for d in (week_start, last, year))
    doc.add(Heading("Summary"))
    summary_at = len(doc.blocks)

    # Key metrics: formatted cells, reused word for word in the sentences.
    cells: dict[str, dict[str, str]] = {}
    rows = []
    for m in WEEKLY_METRICS:
        now, prev, ly = (w.get(m.label) for w in (this_week, last_week, last_year))
        delta = None if now is None or prev is None else now - prev
        c = {"now": _fmt(m.kind, now, currency), "prev": _fmt(m.kind, prev, currency),
             "delta": _fmt(m.kind, delta, currency) if m.kind != "rate" else
             ("n/a" if delta is None else f"{100 * delta:+.2f} pts"),
             "wow": signed_percent(change(now, prev)), "ly": _fmt(m.kind, ly, currency),
             "yoy": signed_percent(change(now, ly))}
        if c["delta"] not in ("n/a",) and m.kind in ("money", "money2", "count", "minutes", "ratio") \
                and delta is not None and delta > 0:
            c["delta"] = "+" + c["delta"]
        cells[m.label] = c
        rows.append((m.label, c["now"], c["prev"], c["delta"], c["wow"], c["ly"], c["yoy"]))
    doc.add(Heading("Key metrics"))
    if not this_week:
        doc.add(Note("No data for this week."))
    else:
        doc.add(Table(("Metric", "This week", "Last week", "Change", "vs last week",
                       "Same week last year", "vs last year"), tuple(rows),
                      (False, True, True, True, True, True, True)))
        if not last_year:
            doc.add(Note("Not enough history for the year-over-year comparison."))
        if not last_week:
            doc.add(Note("Not enough history for the week-over-week comparison."))

    revenue = {k: this_week.get(k) for k in ("Revenue", "Orders", "AOV", "Sessions",
                                              "Conversion rate", "Ad spend", "Tickets")}
    prev = {k: last_week.get(k) for k in revenue}
    week_revenue = revenue["Revenue"] or 0.0

    # Channels
    doc.add(Heading("Channels"))
    channels = _rows(con, """
        select channel,
               sum(net_revenue) filter (where channel_date >= ?) as revenue,
               sum(net_revenue) filter (where channel_date < ?) as revenue_prev,
               sum(spend) filter (where channel_date >= ?) as spend,
               sum(spend) filter (where channel_date < ?) as spend_prev,
               sum(new_customers) filter (where channel_date >= ?) as new_customers
        from marts.fct_channel_daily where channel_date between ? and ?
        group by channel order by revenue desc nulls last, channel
    """, [week_start] * 5 + [last, end])
    channel_cells = {}
    if channels:
        crow = []
        for r in channels:
            rev, rev_prev = _float(r["revenue"]) or 0.0, _float(r["revenue_prev"]) or 0.0
            spend, spend_prev = _float(r["spend"]) or 0.0, _float(r["spend_prev"]) or 0.0
            c = {"revenue": money(rev, currency), "delta": _signed_money(rev - rev_prev, currency),
                 "spend": money(spend, currency) if spend or spend_prev else "",
                 "spend_delta": _signed_money(spend - spend_prev, currency) if spend or spend_prev else "",
                 "roas": f"{rev / spend:.2f}" if spend else "",
                 "cac": money(spend / r["new_customers"], currency, 2) if spend and r["new_customers"] else ""}
            channel_cells[r["channel"]] = (rev - rev_prev, spend - spend_prev, c)
            crow.append((r["channel"], c["revenue"], c["delta"], c["spend"], c["spend_delta"], c["roas"], c["cac"]))
        doc.add(Table(("Channel", "Revenue", "Change", "Spend", "Spend change", "ROAS", "CAC"),
                      tuple(crow), (False, True, True, True, True, True, True)))
    else:
        doc.add(Note("No channel data for this week."))

    _weekly_spend_and_audiences(doc, con, end, currency, audiences_dir)

    # Products: the SKUs whose revenue moved most.
    doc.add(Heading("Products"))
    skus = _rows(con, """
        select demand.sku, any_value(trim(products.product_title || ' ' || coalesce(products.variant_title, ''))) as product,
               sum(demand.net_revenue) filter (where demand.demand_date >= ?) as revenue,
               sum(demand.net_revenue) filter (where demand.demand_date < ?) as revenue_prev,
               count(*) filter (where demand.is_stockout and demand.demand_date >= ?) as stockout_days
        from marts.fct_sku_demand_daily as demand
        left join marts.dim_products as products using (sku)
        where demand.demand_date between ? and ?
        group by demand.sku
        order by abs(coalesce(sum(demand.net_revenue) filter (where demand.demand_date >= ?), 0)
                     - coalesce(sum(demand.net_revenue) filter (where demand.demand_date < ?), 0)) desc,
                 demand.sku
        limit 5
    """, [week_start, week_start, week_start, last, end, week_start, week_start])
    sku_cells = []
    if skus:
        srow = []
        for r in skus:
            rev, rev_prev = _float(r["revenue"]) or 0.0, _float(r["revenue_prev"]) or 0.0
            c = (r["sku"], r["product"] or "", money(rev, currency), money(rev_prev, currency),
                 _signed_money(rev - rev_prev, currency), number(r["stockout_days"]))
            sku_cells.append((rev - rev_prev, c))
            srow.append(c)
        doc.add(Table(("SKU", "Product", "Revenue", "Last week", "Change", "Stockout days"),
                      tuple(srow), (False, False, True, True, True, True)))
    else:
        doc.add(Note("No product sales this week."))

    # Support
    doc.add(Heading("Support"))
    cats = _rows(con, """
        select category, count(*) filter (where created_date >= ?) as tickets,
               count(*) filter (where created_date < ?) as tickets_prev
        from marts.fct_support_tickets where created_date between ? and ?
        group by category order by tickets desc, category
    """, [week_start, week_start, last, end])
    cat_cells = {}
    if cats:
        trow = []
        for r in cats:
            c = (r["category"], number(r["tickets"]), number(r["tickets_prev"]),
                 _signed_count(r["tickets"] - r["tickets_prev"]), signed_percent(change(r["tickets"], r["tickets_prev"])))
            cat_cells[r["category"]] = (r["tickets"] - r["tickets_prev"], c)
            trow.append(c)
        doc.add(Table(("Category", "This week", "Last week", "Change", "vs last week"), tuple(trow),
                      (False, True, True, True, True)))
    else:
        doc.add(Note("No tickets this week (or no help desk export)."))

    # Anomalies
    doc.add(Heading("Anomalies this week"))
    if _exists(con, "analytics", "anomalies"):
        incidents = _rows(con, """
            select metric, dimension, min(date) as first_day, max(date) as last_day,
                   arg_max(severity, abs(score)) as severity, any_value(direction) as direction,
                   any_value(driver) filter (where driver is not null) as driver
            from analytics.anomalies where date between ? and ?
            group by metric, dimension, incident_id order by first_day, metric
        """, [week_start, end])
        if incidents:
            doc.add(Table(("Metric", "Where", "Days", "Severity", "Driver"),
                          tuple((f"{i['metric']} {i['direction']}",
                                 "store" if i["dimension"] == "all" else i["dimension"],
                                 f"{i['first_day']:%d %b}" + ("" if i["first_day"] == i["last_day"]
                                                               else f"–{i['last_day']:%d %b}"),
                                 i["severity"], i["driver"] or "") for i in incidents),
                          (False, False, False, False, False)))
        else:
            doc.add(Paragraph("No anomaly this week."))
    else:
        doc.add(Note("Anomaly detection has not run yet."))

    # The narrative: context first, then significant changes by money at stake.
    sentences: list[str] = []
    if this_week:
        rc = cells["Revenue"]
        sentence = f"Revenue was {rc['now']}"
        if last_week:
            sentence += f", {rc['wow']} on last week ({rc['prev']})"
        if last_year:
            sentence += f" and {rc['yoy']} on the same week last year ({rc['ly']})"
        sentences.append(sentence + ".")
        aov_prev = prev["AOV"] or 0.0
        if last_week:
            # (money at stake, relative change, sentence)
            candidates: list[tuple[float, float | None, str]] = []
            d_rev = (revenue["Revenue"] or 0) - (prev["Revenue"] or 0)
            rel_rev = change(revenue["Revenue"], prev["Revenue"])
            same_way = [(n, v) for n, v in channel_cells.items() if v[0] and (v[0] > 0) == (d_rev > 0)]
            if same_way and d_rev:
                name, (_d_ch, _, c) = max(same_way, key=lambda kv: abs(kv[1][0]))
                candidates.append((abs(d_rev), rel_rev,
                                   (f"Of the revenue change of {cells['Revenue']['delta']}, {name} "
                                   f"accounts for {c['delta']}.")))
            if sku_cells:
                d_sku, c = sku_cells[0]
                rev_sku = d_sku + _parse_money(c[3])
                candidates.append((abs(d_sku), change(rev_sku, _parse_money(c[3])),
                                   f"The product that moved most was {c[1] or c[0]} ({c[0]}): {c[2]} against "
                                   f"{c[3]} the week before ({c[4]})"
                                   + (f", out of stock on {c[5]} days." if c[5] != "0" else ".")))
            if revenue["Orders"] is not None and prev["Orders"]:
                candidates.append((abs(revenue["Orders"] - prev["Orders"]) * aov_prev,
                                   change(revenue["Orders"], prev["Orders"]),
                                   f"Orders were {cells['Orders']['now']} ({cells['Orders']['wow']})."))
            if revenue["Conversion rate"] is not None and prev["Conversion rate"] and revenue["Sessions"]:
                d = revenue["Conversion rate"] - prev["Conversion rate"]
                candidates.append((abs(d) * revenue["Sessions"] * aov_prev,
                                   change(revenue["Conversion rate"], prev["Conversion rate"]),
                                   (f"Conversion rate was {cells['Conversion rate']['now']} against "
                                   f"{cells['Conversion rate']['prev']} ({cells['Conversion rate']['delta']}).")))
            if revenue["AOV"] is not None and prev["AOV"]:
                candidates.append((abs(revenue["AOV"] - prev["AOV"]) * (revenue["Orders"] or 0),
                                   change(revenue["AOV"], prev["AOV"]),
                                   f"AOV was {cells['AOV']['now']} ({cells['AOV']['wow']})."))
            if revenue["Ad spend"] is not None and prev["Ad spend"]:
                text = f"Ad spend was {cells['Ad spend']['now']} ({cells['Ad spend']['wow']})"
                paid = [(n, v) for n, v in channel_cells.items() if v[1]]
                if paid:
                    name, (_, _, c) = max(paid, key=lambda kv: abs(kv[1][1]))
                    text += f"; {name} changed by {c['spend_delta']}"
                candidates.append((abs(revenue["Ad spend"] - prev["Ad spend"]),
                                   change(revenue["Ad spend"], prev["Ad spend"]), text + "."))
            if revenue["Tickets"] is not None and prev["Tickets"]:
                text = f"Tickets were {cells['Tickets']['now']} ({cells['Tickets']['wow']})"
                if cat_cells:
                    name, (_, c) = max(cat_cells.items(), key=lambda kv: abs(kv[1][0]))
                    text += f", {name} {c[3]}"
                candidates.append((abs(revenue["Tickets"] - prev["Tickets"]) * TICKET_HANDLING_COST,
                                   change(revenue["Tickets"], prev["Tickets"]), text + "."))
            significant = [(m, t) for m, rel, t in candidates
                           if m >= SIGNIFICANT_SHARE * max(week_revenue, 1.0)
                           and rel is not None and abs(rel) >= SIGNIFICANT_CHANGE]
            significant.sort(key=lambda mt: -mt[0])
            sentences += [t for _, t in significant]
            if not significant:
                sentences.append("No other change this week moved more than 1% of revenue by 5% or more.")
        else:
            sentences.append("Not enough history for a week-over-week comparison.")
    else:
        sentences.append("No data for this week.")
    doc.blocks.insert(summary_at, Paragraph(" ".join(sentences)))
    return doc


# ---------------------------------------------------------------------------------------
# Weekly report: spend and audiences
# ---------------------------------------------------------------------------------------

# The advice a weekly report shows is the run's that writes it: computed on the week's
# last day or within the 7 days after (a Monday run writes last week's report).
ADVICE_WINDOW_DAYS = 7
STATUS_WORDS = {"advice": "move", "keep": "keep", "no_curve": "no curve"}
CREATIVES_LISTED = 8
AUDIENCE_COLUMNS = (("meta", "Meta"), ("google", "Google"), ("tiktok_email", "TikTok (email)"),
                    ("tiktok_phone", "TikTok (phone)"), ("klaviyo", "Klaviyo (consenting)"))


def _weekly_spend_and_audiences(doc: Document, con, end: date, currency: str,
                                audiences_dir: Path | None) -> None:
    """Budget advice per paid channel, worn-out creatives and audience files, as of the
    run that writes the report of the week ending `end`."""
    doc.add(Heading("Spend and audiences"))
    _weekly_budget(doc, con, end, currency)
    _weekly_creatives(doc, con, end)
    _weekly_audiences(doc, end, audiences_dir)


def _advice_date(con, table: str, end: date) -> tuple[date | None, str | None]:
    """(as_of_date of analytics.<table> to show for the week ending `end`, else None with
    the words why)."""
    what, group = {"budget_recommendations": ("budget advice", "growth"),
                   "creative_alerts": ("creative alerts", "anomalies")}[table]
    if not _exists(con, "analytics", table):
        return None, (f"No {what} yet: analytics.{table} has not been built on this store "
                      f"(Dagster group '{group}').")
    computed = con.execute(f"select max(as_of_date) from analytics.{table}").fetchall()[0][0]
    if computed is None:
        return None, None
    if not end <= computed <= end + timedelta(days=ADVICE_WINDOW_DAYS):
        return None, (f"The {what} in the warehouse is as of {computed}, not the run after "
                      f"this week: rerun with --as-of {end + timedelta(days=1)} to replay it.")
    return computed, None


def _weekly_budget(doc: Document, con, end: date, currency: str) -> None:
    computed, why = _advice_date(con, "budget_recommendations", end)
    if computed is None:
        doc.add(Note(why or "No budget advice: no paid channel spent in the 28 days before "
                            "the run."))
        return
    rows = _rows(con, """
        select channel, status, current_spend, suggested_spend, change_per_day,
               marginal_new_customers_per_100, marginal_lo, marginal_hi, marginal_return,
               value_basis, gain_unit, reason, headline
        from analytics.budget_recommendations where as_of_date = ?
        order by current_spend desc, channel
    """, [computed])
    if not rows:
        doc.add(Note(f"No budget advice as of {computed}: no paid channel spent in the 28 "
                     "days before."))
        return
    doc.add(Paragraph(f"**Budget** (as of {computed}): {rows[0]['headline']}"))
    in_money = rows[0]["gain_unit"] == currency
    table = []
    for r in rows:
        marginal = ""
        if r["marginal_new_customers_per_100"] is not None:
            marginal = (f"{number(_float(r['marginal_new_customers_per_100']), 2)} "
                        f"({number(_float(r['marginal_lo']), 2)}–"
                        f"{number(_float(r['marginal_hi']), 2)})")
        mr = _float(r["marginal_return"])
        status = STATUS_WORDS.get(r["status"], r["status"])
        if r["reason"]:
            status += f": {r['reason']}"
        change_day = _float(r["change_per_day"]) or 0.0
        table.append((r["channel"], money(_float(r["current_spend"]), currency),
                      money(_float(r["suggested_spend"]), currency),
                      _signed_money(change_day, currency) if round(change_day) else "0",
                      marginal, money(mr, currency, 2) if in_money and mr is not None else "",
                      status))
    doc.add(Table(("Channel", "Spend per day", "Suggested", "Change",
                   f"New customers per extra {money(100, currency)} (90% interval)",
                   f"Return of the next {money(1, currency)}", "Status"),
                  tuple(table), (False, True, True, True, True, True, False)))
    note = ("Spend per day: the mean of the last 28 days. The curves count store-attributed "
            "new customers (last click), not a channel's halo on organic demand.")
    if in_money:
        note += (f" Return of the next {money(1, currency)}: {rows[0]['value_basis']} of the "
                 "new customers it brings.")
    doc.add(Note(note))
    check = _budget_holdout(con, computed)
    if check:
        doc.add(Paragraph(check))


def _budget_holdout(con, computed: date) -> str | None:
    """How the curves did on the 8 weeks held out of their fit, against a constant CAC
    (analytics.model_evaluation, task 'budget_response'), in one sentence."""
    if not _exists(con, "analytics", "model_evaluation"):
        return None
    rows = {(r["population"], r["model"]): _float(r["value"]) for r in _rows(con, """
        select population, model, value from analytics.model_evaluation
        where task = 'budget_response' and as_of_date = ?
          and metric = 'mae_weekly_new_customers'
    """, [computed])}
    model, baseline = rows.get(("all", "response_curve")), rows.get(("all", "constant_cac"))
    if model is None or baseline is None:
        return None
    verdict = ("closer than" if model < baseline else
               "no closer than" if model > baseline else "as close as")
    return (f"How good: fitted without the last 8 weeks, the curves missed the weekly new "
            f"customers of those weeks by {number(model, 1)} a week (all paid channels), "
            f"against {number(baseline, 1)} for a constant cost per new customer: "
            f"{verdict} the plain baseline.")


def _weekly_creatives(doc: Document, con, end: date) -> None:
    computed, why = _advice_date(con, "creative_alerts", end)
    if computed is None:
        if why:
            doc.add(Note(why))
        else:
            doc.add(Paragraph("No creative is wearing out."))
        return
    rows = _rows(con, """
        select channel, campaign_name, ad_name, first_alert_date, recent_ctr, baseline_ctr,
               ctr_change, recent_frequency, baseline_frequency, cost_per_result_change,
               severity, is_new
        from analytics.creative_alerts where as_of_date = ?
        order by severity = 'high' desc, recent_spend desc, ad_name
    """, [computed])
    if not rows:
        doc.add(Paragraph(f"No creative is wearing out (as of {computed})."))
        return
    new = sum(1 for r in rows if r["is_new"])
    doc.add(Paragraph(f"**Creatives wearing out** (as of {computed}; {new} new in the last 7 "
                      "days): against each ad's own first two weeks; consider a new creative."))
    table = []
    for r in rows[:CREATIVES_LISTED]:
        ctr = ""
        if r["recent_ctr"] is not None and r["baseline_ctr"] is not None:
            ctr = (f"{percent(_float(r['baseline_ctr']), 2)} → {percent(_float(r['recent_ctr']), 2)} "
                   f"({signed_percent(_float(r['ctr_change']), 0)})")
        frequency = ""
        if r["recent_frequency"] is not None and r["baseline_frequency"] is not None:
            frequency = f"{r['baseline_frequency']:.1f} → {r['recent_frequency']:.1f}"
        cost = signed_percent(_float(r["cost_per_result_change"]), 0) \
            if r["cost_per_result_change"] is not None else ""
        table.append((r["ad_name"], PLATFORM_NAMES.get(r["channel"], r["channel"]),
                      r["campaign_name"] or "", ctr, frequency, cost,
                      str(r["first_alert_date"]), r["severity"]))
    doc.add(Table(("Ad", "Channel", "Campaign", "CTR (first 2 weeks → last 7 days)",
                   "Frequency", "Cost per result", "Since", "Severity"), tuple(table),
                  (False, False, False, True, True, True, False, False)))
    if len(rows) > CREATIVES_LISTED:
        doc.add(Note(f"{len(rows) - CREATIVES_LISTED} more in analytics.creative_alerts."))


def latest_audience_folder(audiences_dir: Path, on_or_before: date) -> Path | None:
    """The newest output/audiences/<yyyy-mm-dd>/ with a manifest.csv dated on or before
    `on_or_before`, or None."""
    best: tuple[date, Path] | None = None
    if not audiences_dir.is_dir():
        return None
    for folder in audiences_dir.iterdir():
        try:
            day = date.fromisoformat(folder.name)
        except ValueError:
            continue
        if day <= on_or_before and (folder / "manifest.csv").is_file() \
                and (best is None or day > best[0]):
            best = (day, folder)
    return best[1] if best else None


def _weekly_audiences(doc: Document, end: date, audiences_dir: Path | None) -> None:
    if audiences_dir is None:
        doc.add(Note("Audience files: not looked up (the report was built without the "
                     "home's output folder)."))
        return
    folder = latest_audience_folder(Path(audiences_dir), end + timedelta(days=ADVICE_WINDOW_DAYS))
    if folder is None:
        doc.add(Note("No audience files yet (output/audiences/ is written after the churn "
                     "scores)."))
        return
    with (folder / "manifest.csv").open(newline="") as handle:
        manifest = list(csv.DictReader(handle))
    counts: dict[str, dict[str, int]] = {}
    small = 0
    for entry in manifest:
        platform = entry["platform"]
        if platform == "tiktok":
            platform += "_phone" if entry["file"].endswith("_phone.csv") else "_email"
        counts.setdefault(entry["segment"], {})[platform] = int(entry["rows"])
        small += bool(entry.get("note"))
    doc.add(Paragraph(f"**Audiences written** to output/audiences/{folder.name}/ (people per "
                      "file; the ad-platform files are hashed, the Klaviyo lists hold the "
                      "emails of customers who accepted email marketing, for the data team "
                      "only):"))
    doc.add(Table(("Segment", *(label for _, label in AUDIENCE_COLUMNS)),
                  tuple((segment, *(number(files[key]) if key in files else "—"
                                    for key, _ in AUDIENCE_COLUMNS))
                        for segment, files in counts.items()),
                  (False,) + (True,) * len(AUDIENCE_COLUMNS)))
    if small:
        doc.add(Note(f"{small} of {len(manifest)} files are under their platform's smallest "
                     "usable list (manifest.csv says which)."))


def _signed_money(value: float, currency: str) -> str:
    text = money(value, currency)
    return text if value < 0 else "+" + text


def _parse_money(text: str) -> float:
    """The amount of a formatted money cell ('$1,234', '-€56', '1,234 SEK')."""
    digits = "".join(ch for ch in text if ch.isdigit() or ch in ".-")
    return float(digits) if digits not in ("", "-", ".") else 0.0


def _signed_count(value: float) -> str:
    return f"{value:+,.0f}"
