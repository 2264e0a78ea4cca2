"""What `storeops run` prints after a run: ingestion table, marts, buyers' files,
customers and anomalies, warnings and where the reports are."""

from __future__ import annotations

import sys
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from orchestration.pipeline import RunSummary
from orchestration.settings import Settings

# Wide enough for the summary table when output goes to a file or CI log.
console = Console(width=None if sys.stdout.isatty() else 130)
err = Console(stderr=True, width=None if sys.stderr.isatty() else 130)


# Which metrics stay empty while a source has no data.
NEEDED_FOR: list[tuple[set[str], str]] = [
    ({"shopify_orders"}, "orders, revenue, customers: nearly everything"),
    ({"shopify_products"}, "product names, prices, costs, margin"),
    ({"shopify_inventory"}, "stock on hand, stockout flags, inventory position"),
    ({"shopify_customers"}, "marketing consent"),
    ({"meta_ads", "google_ads", "tiktok_ads"}, "ad spend, CAC, ROAS, MER"),
    ({"zendesk_tickets", "gorgias_tickets"}, "support tickets, first reply, CSAT"),
    ({"purchasing_suppliers", "purchasing_sku_suppliers"}, "supplier terms, lead times, MOQ, reorder suggestions"),
    ({"purchasing_purchase_orders"}, "stock on order, PO lateness"),
    ({"analytics_sessions"}, "sessions, conversion rate"),
    ({"analytics_promotions"}, "promotion flags"),
]


def print_summary(summary: RunSummary, settings: Settings) -> None:
    """The run's summary on stdout (ingestion per raw table, what has no data yet, marts,
    outputs, warnings); nothing raised."""
    table = Table(title="Ingestion (skipped = already loaded, same sha256)", header_style="bold")
    table.add_column("raw table", no_wrap=True)
    table.add_column("new files", justify="right")
    table.add_column("skipped", justify="right")
    table.add_column("rejected", justify="right")
    table.add_column("rows loaded", justify="right")
    table.add_column("quarantined", justify="right")
    table.add_column("rows in table", justify="right")
    table.add_column("last date", justify="right", no_wrap=True)
    totals = [0, 0, 0, 0, 0]
    for s in sorted(summary.sources, key=lambda s: s["table"]):
        row = [s["files_loaded"], s["files_skipped"], s["files_rejected"], s["rows_loaded"],
               s["rows_quarantined"]]
        totals = [a + b for a, b in zip(totals, row)]
        table.add_row(
            s["table"], *[f"{v:,}" for v in row], f"{s['table_rows']:,}", str(s["last_date_seen"]),
            style="red" if s["files_rejected"] else ("yellow" if s["rows_quarantined"] else None),
        )
    table.add_section()
    table.add_row("total", *[f"{v:,}" for v in totals], "", "", style="bold")
    console.print(table)
    problems = [s for s in summary.sources if s["messages"] or s.get("warnings")]
    for s in problems:
        console.print(f"[bold]{s['table']}[/bold]")
        if s["messages"]:
            console.print(s["messages"], markup=False, highlight=False, soft_wrap=True)
        if s.get("warnings"):
            # The loader's warnings: numbers it could load but a person must look at
            # (a mangled id column, offsets that do not fit the store timezone).
            console.print("[yellow]Warnings[/yellow] (the rows loaded; see the quality report):")
            console.print(s["warnings"], markup=False, highlight=False, soft_wrap=True)
    empty = {s["table"] for s in summary.sources if not s["table_rows"]}
    # Files came but nothing of them loaded: that is not "no data yet", it is a problem
    # with the files, and the person must hear which.
    unusable = [s for s in summary.sources if not s["table_rows"]
                and (s["files_rejected"] or s["rows_quarantined"])]
    for s in unusable:
        console.print(
            f"[bold red]Nothing loaded[/bold red] into {s['table']}: "
            f"{s['files_rejected']:,} file(s) rejected, {s['rows_quarantined']:,} row(s) "
            "quarantined (reasons above and in the data-quality report).", soft_wrap=True)
    empty -= {s["table"] for s in unusable}
    # A group counts as missing only when all its sources are empty: a store without
    # TikTok ads or without Gorgias is normal.
    missing = [f"{' / '.join(sorted(tables))} ({what})"
               for tables, what in NEEDED_FOR if tables <= empty]
    if missing:
        console.print("[bold]No data yet[/bold] for: " + "; ".join(missing)
                      + ". Those metrics stay empty (null), not zero, until the exports land.",
                      soft_wrap=True)
    if any(s["rows_quarantined"] for s in summary.sources):
        console.print(
            f"Quarantined rows are kept with file, row, column and reason in "
            f"raw.quarantine of {settings.warehouse_path}"
        )
    for pull in summary.pulls:
        if pull["error"]:
            err.print(f"[red]Pull of {pull['table']} failed[/red] (the landing files already "
                      f"there were loaded): {escape(pull['error'])}", soft_wrap=True)
        elif pull["pulled"]:
            console.print(f"Pulled {pull['table']}: {pull['records']:,} records, cursor "
                          f"{escape(str(pull['cursor']))}.", soft_wrap=True)
    if summary.deliveries:
        print_deliveries(summary.deliveries)
    if summary.unchanged:
        console.print(f"[bold]Nothing to rebuild.[/bold] {escape(summary.unchanged)} "
                      "(storeops run --rebuild builds anyway.)", soft_wrap=True)
    if summary.rebuilt_because:
        console.print(f"Built because: {escape(summary.rebuilt_because)}.", soft_wrap=True)
    if summary.models_built or summary.unchanged:  # the outputs standing from the last build
        if summary.models_built:
            print_marts(settings)
        print_outputs(settings)
        print_customers_and_anomalies(settings)
        index = settings.output_dir / "index.html"
        if index.exists():
            console.print(f"Open {index}: the brief, reports, dashboards and files.", soft_wrap=True)
    for problem in summary.problems:
        err.print(f"[yellow]{escape(problem)}[/yellow]", soft_wrap=True)
    for name in summary.warnings:
        console.print(f"[yellow]Data warning[/yellow] {escape(name)}: "
                      f"{escape(summary.check_details.get(name, ''))}", soft_wrap=True)
    if summary.quality_report:
        console.print(f"Data-quality report: {summary.quality_report}", soft_wrap=True)
    console.print(
        f"Warehouse: {settings.warehouse_path}: {summary.models_built} assets built, "
        f"{summary.checks_passed} checks passed, {len(summary.failed_checks)} failed, "
        f"{len(summary.warnings)} warnings ({summary.seconds:.1f} s)"
    )


def print_outputs(settings: Settings) -> None:
    """Where the buyers' files are and what they ask for, and the supply alerts."""
    import duckdb

    try:
        with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
            lines = con.execute(
                """
                select max(as_of_date), count(*) filter (where suggested_qty > 0),
                       count(distinct supplier_id) filter (where suggested_qty > 0),
                       coalesce(sum(line_value), 0),
                       count(*) filter (where urgency = 'order_now' and suggested_qty > 0),
                       count(*) filter (where auto_approved)
                from analytics.reorder_suggestions
                """).fetchall()[0]
            alerts = con.execute(
                "select count(*), count(*) filter (where severity = 'high') "
                "from analytics.supply_alerts").fetchall()[0]
    except duckdb.Error:
        return  # the forecasting group did not run (a failed branch, or no data)
    as_of, n_lines, suppliers, value, order_now, auto = lines
    if as_of is None:
        console.print("Reorder files: no SKU with supplier terms yet "
                      "(landing/purchasing/sku_suppliers.csv).")
        return
    folder = settings.output_dir / "reorders" / as_of.isoformat()
    console.print(
        f"Reorder files: {folder}: {n_lines:,} lines to order from {suppliers} suppliers, "
        f"{value:,.0f} {settings.currency} ({order_now:,} order now, {auto:,} auto-approved); "
        f"supply alerts: {alerts[0]:,} ({alerts[1]:,} high).", soft_wrap=True)


def print_customers_and_anomalies(settings: Settings) -> None:
    """Who is slipping away (and where the list is), and which numbers broke today."""
    import duckdb

    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        try:
            as_of, scored, at_risk, value, model = con.execute(
                """
                select max(as_of_date), count(*),
                       count(*) filter (where segment = 'high_value_at_risk'),
                       coalesce(sum(p_churn * predicted_clv)
                                filter (where segment = 'high_value_at_risk'), 0),
                       any_value(model)
                from analytics.churn_scores
                """).fetchall()[0]
            if as_of is not None:
                folder = settings.output_dir / "customers" / as_of.isoformat()
                console.print(
                    f"Customers: {scored:,} scored ({model}); {at_risk:,} high-value at risk, "
                    f"{value:,.0f} {settings.currency} of 12-month value at stake: "
                    f"{folder / 'win_back.csv'}", soft_wrap=True)
        except duckdb.Error:
            pass  # the customers group did not run
        try:
            incidents = con.execute(
                """
                select metric, dimension, severity, direction, incident_start, driver
                from analytics.anomalies
                where last_detected_on = (select max(last_detected_on) from analytics.anomalies)
                  and is_current and date = incident_end
                order by case severity when 'critical' then 0 when 'high' then 1
                         when 'medium' then 2 else 3 end, impact desc nulls last
                """).fetchall()
        except duckdb.Error:
            return  # the anomalies group did not run
    if not incidents:
        console.print("Anomalies: nothing unusual on the last day.")
        return
    console.print(f"Anomalies open on the last day: {len(incidents)}")
    for metric, dimension, severity, direction, start, driver in incidents[:8]:
        where = "" if dimension == "all" else f" {dimension}"
        because = f" ({driver})" if driver else ""
        console.print(f"  {severity:<8} {metric}{where} {direction} since {start}{because}",
                      soft_wrap=True)


def print_marts(settings: Settings) -> None:
    """Rows in each mart, so a person sees at a glance what the warehouse now holds."""
    import duckdb

    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        marts = [r[0] for r in con.execute(
            "select table_name from information_schema.tables where table_schema = 'marts' "
            "order by table_name").fetchall()]
        if not marts:
            return
        table = Table(title="Marts", header_style="bold")
        table.add_column("mart", no_wrap=True)
        table.add_column("rows", justify="right")
        for name in marts:
            rows = con.execute(f"select count(*) from marts.{name}").fetchall()[0][0]
            table.add_row(name, f"{rows:,}")
    console.print(table)


def print_deliveries(report: dict) -> None:
    """One line for what a delivery pass sent (per kind and channel), then each failure
    (retried by the next pass) and what nobody is set to receive."""
    if report.get("skipped"):
        console.print(f"Delivery: nothing sent ({escape(str(report['skipped']))}).", soft_wrap=True)
        return
    sent = report.get("sent") or {}
    counts = ", ".join(f"{n} {what}" for what, n in sorted(sent.items()))
    previews = report.get("previews") or []
    if previews:
        folder = Path(previews[0]).parent
        console.print(f"Delivery preview: {len(previews)} files in {folder} (nothing sent).",
                      soft_wrap=True)
    elif report.get("dry_run"):
        console.print("Delivery preview: nothing is due, everything was already sent "
                      "(analytics.outbox).", soft_wrap=True)
    elif sent:
        console.print(f"Delivered: {sum(sent.values())} messages ({counts}).", soft_wrap=True)
    else:
        console.print("Delivered: nothing new (what is due was already sent).", soft_wrap=True)
    for line in report.get("failed") or []:
        if report.get("dry_run"):
            err.print(f"[yellow]Warning[/yellow]: {escape(line)}", soft_wrap=True)
        else:
            err.print(f"[yellow]Not delivered[/yellow] (retried by the next run or "
                      f"`storeops send`): {escape(line)}", soft_wrap=True)
    for line in report.get("unaddressed") or []:
        console.print(f"Nobody is set to receive: {escape(line)} (delivery: recipients: in "
                      "storeops.yml).", soft_wrap=True)
