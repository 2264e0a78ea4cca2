"""The `storeops` command: make a demo store, run the pipeline, open the Dagster UI.

Runs execute in process (one Python process, no per-step code reload) against the
Dagster instance of the home, so every CLI run also shows up in `storeops ui`.
Exit codes: 0 success, 1 failed blocking checks or a failed step, 2 bad usage.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from orchestration import progress
from orchestration.settings import Settings, SettingsError

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="storeops: the analytics warehouse and decision pipeline of an online store.",
    pretty_exceptions_show_locals=False,
)
# Wide enough for the summary table when output goes to a file or CI log.
console = Console(width=None if sys.stdout.isatty() else 130)
err = Console(stderr=True, width=None if sys.stderr.isatty() else 130)

HomeOption = Annotated[
    Path | None,
    typer.Option("--home", help="storeops home directory (default: $STOREOPS_HOME or ./storeops_home)"),
]


def prepare_home(settings: Settings) -> None:
    """Create the home and its Dagster instance directory with storeops' dagster.yaml."""
    settings.home.mkdir(parents=True, exist_ok=True)
    settings.dagster_home.mkdir(parents=True, exist_ok=True)
    target = settings.dagster_home / "dagster.yaml"
    template = Path(__file__).with_name("dagster.yaml")
    if not target.exists() or target.read_text() != template.read_text():
        shutil.copyfile(template, target)


def load_definitions(settings: Settings):
    """The code location bound to this home (its settings reach the assets as resources;
    nothing goes through the environment)."""
    from orchestration.definitions import build_definitions

    prepare_home(settings)
    return build_definitions(settings)


def home_instance(settings: Settings):
    """The Dagster instance of this home (<home>/dagster, storeops' dagster.yaml)."""
    import dagster as dg

    return dg.DagsterInstance.from_config(str(settings.dagster_home))


@dataclass
class RunSummary:
    success: bool
    seconds: float
    sources: list[dict] = field(default_factory=list)
    failed_checks: list[str] = field(default_factory=list)  # blocking (severity ERROR)
    check_details: dict[str, str] = field(default_factory=dict)  # check -> what broke, where
    warnings: list[str] = field(default_factory=list)  # checks failed with severity WARN
    quality_report: Path | None = None
    failed_steps: list[str] = field(default_factory=list)
    models_built: int = 0
    checks_passed: int = 0


def _error_summary(message: str) -> str:
    """The lines of a step's error that say what broke: for dbt, the model and the
    database error ("Database Error in model stg_shopify__orders ..." + "Binder Error:
    ..."), not only the last line; else the last line."""
    lines = [line.strip() for line in message.strip().splitlines() if line.strip()]
    if not lines:
        return ""
    telling: list[str] = []
    for i, line in enumerate(lines):
        if re.search(r"\b(Error in (model|test|seed|snapshot)|[A-Z][a-z]+ Error:)", line):
            telling.append(line)
            after = lines[i + 1] if i + 1 < len(lines) else ""
            if after and not after.startswith(">") and len(after) < 200:
                telling.append(after)  # dbt puts the reason on the next line
    return " / ".join(dict.fromkeys(telling[:4])) if telling else lines[-1]


def _value(metadata: dict, key: str, default=0):
    v = metadata.get(key)
    return getattr(v, "value", v) if v is not None else default


def execute_pipeline(settings: Settings, *, as_of: date | None = None,
                     on_progress=None) -> RunSummary:
    """Run the daily job in process on this home and summarise it (one run per home at a
    time: a second one waits, then raises HomeBusy)."""
    from orchestration.runlock import home_lock

    with home_lock(settings.home, on_wait=on_progress):
        return _execute_pipeline(settings, as_of=as_of, on_progress=on_progress)


def _execute_pipeline(settings: Settings, *, as_of: date | None, on_progress) -> RunSummary:
    import dagster as dg

    defs = load_definitions(settings)
    job = defs.resolve_job_def("daily_job")
    tags = {"storeops/trigger": "cli"}
    if as_of:
        tags["storeops/as_of"] = as_of.isoformat()
    progress.set_listener(on_progress)
    started = time.monotonic()
    try:
        with home_instance(settings) as instance:
            recover_interrupted_runs(instance)
            result = job.execute_in_process(
                instance=instance,
                raise_on_error=False,
                tags=tags,
                run_config={"loggers": {"console": {"config": {"log_level": "ERROR"}}}},
            )
    finally:
        progress.set_listener(None)
    summary = RunSummary(success=result.success, seconds=time.monotonic() - started)
    for event in result.get_asset_materialization_events():
        key = event.asset_key
        md = event.materialization.metadata
        if key.path == ["output", "quality_report"]:
            summary.quality_report = Path(_value(md, "path", ""))
        if key.path[0] != "raw":
            summary.models_built += 1
            continue
        summary.sources.append({
            "table": key.path[-1],
            "files_loaded": _value(md, "files_loaded"),
            "files_skipped": _value(md, "files_skipped"),
            "files_rejected": _value(md, "files_rejected"),
            "rows_loaded": _value(md, "rows_loaded"),
            "rows_quarantined": _value(md, "rows_quarantined"),
            "table_rows": _value(md, "table_rows"),
            "last_date_seen": _value(md, "last_date_seen", ""),
            "messages": _value(md, "file_messages", ""),
            "warnings": _value(md, "file_warnings", ""),
        })
    for evaluation in result.get_asset_check_evaluations():
        summary.checks_passed += evaluation.passed
        if evaluation.passed:
            continue
        name = f"{evaluation.asset_key.to_user_string()}: {evaluation.check_name}"
        detail = evaluation.description or ""
        where = _value(evaluation.metadata or {}, "where_to_look", "")
        if where:
            detail += f" (look at {where})"
        summary.check_details[name] = detail
        if evaluation.severity == dg.AssetCheckSeverity.WARN:
            summary.warnings.append(name)
        else:
            summary.failed_checks.append(name)
    if summary.quality_report is None:  # its asset was skipped: a check stopped the outputs
        summary.quality_report = _write_quality_report(settings)
    for event in result.all_events:
        if event.event_type_value == "STEP_FAILURE":
            data = event.event_specific_data
            message = getattr(getattr(data, "error", None), "message", "") or ""
            summary.failed_steps.append(f"{event.step_key}: {_error_summary(message)}")
    return summary


def recover_interrupted_runs(instance) -> list[str]:
    """Close the CLI runs a killed process left open and free their pool slots.

    A `storeops run` killed with SIGKILL cannot release its claim on the `duckdb_write`
    pool (limit 1) in the Dagster instance: every later run would wait for that slot
    forever. CLI runs execute only under the home lock, which this process now holds, so
    a CLI run still marked as running is dead. Runs started from `storeops ui` are left
    alone (they do not take the home lock and may be alive)."""
    import dagster as dg

    open_statuses = [dg.DagsterRunStatus.STARTED, dg.DagsterRunStatus.STARTING,
                     dg.DagsterRunStatus.NOT_STARTED, dg.DagsterRunStatus.CANCELING]
    closed = []
    for run in instance.get_runs(filters=dg.RunsFilter(statuses=open_statuses,
                                                       tags={"storeops/trigger": "cli"})):
        instance.event_log_storage.free_concurrency_slots_for_run(run.run_id)
        instance.report_run_failed(run, "The storeops process running this was killed; "
                                        "the next run freed its pool slot and marked it failed.")
        closed.append(run.run_id)
    return closed


def _write_quality_report(settings: Settings) -> Path | None:
    """output/quality/index.html when a blocking check stopped the outputs and with them
    the report's own asset: above all then, the report must say why."""
    from orchestration.defs.quality import write_quality_report

    if not settings.warehouse_path.exists():
        return None
    try:
        with home_instance(settings) as instance:
            return write_quality_report(settings.home, settings.warehouse_path, instance,
                                        currency=settings.currency)
    except Exception as exc:  # noqa: BLE001 - the report must never hide the run's own result
        err.print(f"[yellow]Could not write the data-quality report: {escape(str(exc))}[/yellow]")
        return None


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
    if summary.models_built:
        print_marts(settings)
        print_outputs(settings)
        print_customers_and_anomalies(settings)
        index = settings.output_dir / "index.html"
        if index.exists():
            console.print(f"Open {index}: the brief, reports, dashboards and files.", soft_wrap=True)
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


def _finish(summary: RunSummary, settings: Settings) -> None:
    print_summary(summary, settings)
    if summary.failed_checks:
        err.print("[bold red]Blocking checks failed[/bold red] (outputs downstream were not "
                  "written; the last good ones are kept):")
        for c in summary.failed_checks:
            detail = summary.check_details.get(c, "")
            err.print(f"  - {c}" + (f": {detail}" if detail else ""), markup=False, soft_wrap=True)
        where = summary.quality_report or settings.output_dir / "quality" / "index.html"
        err.print(f"Details: {where}; each check's metadata in `storeops ui`.", soft_wrap=True)
        raise typer.Exit(1)
    if summary.failed_steps or not summary.success:
        err.print("[bold red]The run failed[/bold red]:")
        for s in summary.failed_steps:
            err.print(f"  - {s}", markup=False)
        raise typer.Exit(1)


def _run_with_progress(settings: Settings, as_of: date | None) -> RunSummary:
    from orchestration.runlock import HomeBusy

    try:
        with console.status("Running the pipeline…") as status:
            def on_progress(message: str) -> None:
                status.update(f"Running the pipeline… {message}")
            return execute_pipeline(settings, as_of=as_of, on_progress=on_progress)
    except HomeBusy as exc:
        err.print(f"[red]Another storeops run is using this home:[/red] {exc}", soft_wrap=True)
        raise typer.Exit(1) from None


def _parse_as_of(value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(f"{value!r} is not a date: use YYYY-MM-DD", param_hint="--as-of")


def _load_settings(home: Path | None, landing: Path | None = None) -> Settings:
    """Settings of the home; a storeops.yml storeops cannot use is bad usage (exit 2)."""
    try:
        return Settings.load(home, landing)
    except SettingsError as exc:
        err.print(f"[red]{escape(str(exc))}[/red]", highlight=False, soft_wrap=True)
        raise typer.Exit(2) from None


@app.command()
def demo(
    home: HomeOption = None,
    scale: Annotated[float, typer.Option(help="Multiplies customers, orders and SKUs.", min=0.001)] = 1.0,
    days: Annotated[int, typer.Option(help="Days of history to generate.", min=30)] = 730,
    seed: Annotated[int, typer.Option(help="Random seed: the same seed gives the same files.")] = 7,
) -> None:
    """Generate a demo store in <home>/landing (answer key in <home>/demo_truth) and run everything."""
    from orchestration.demo import generate_store

    settings = _load_settings(home)
    settings = replace(settings, landing=settings.home / "landing")
    settings.home.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    with console.status("Generating the demo store…") as status:
        store = generate_store(settings.home, scale=scale, days=days, seed=seed,
                               progress=lambda step: status.update(f"Generating the demo store… {step}"))
    console.print(
        f"Demo store: {store.n_orders:,} orders ({store.n_order_lines:,} lines), "
        f"{store.n_customers:,} customers, {store.n_skus:,} SKUs from {store.n_suppliers} suppliers, "
        f"{store.n_tickets:,} tickets, {store.start_date} to {store.end_date}; "
        f"{store.files} files in {store.landing_dir} ({time.monotonic() - started:.1f} s)"
    )
    run_stoppably(settings, None)


@app.command()
def run(
    landing: Annotated[Path, typer.Option(help="Landing directory with one folder per source.")],
    home: HomeOption = None,
    as_of: Annotated[str | None, typer.Option("--as-of", help="Compute outputs as of this date (YYYY-MM-DD); default: the last date in the data.")] = None,
) -> None:
    """Ingest what is new in the landing directory, build, write outputs."""
    as_of_date = _parse_as_of(as_of)
    if not landing.is_dir():
        err.print(f"[red]Landing directory {landing} does not exist.[/red] "
                  "It should hold one folder per source (shopify/orders/, meta_ads/, …).")
        raise typer.Exit(2)
    settings = _load_settings(home, landing)
    run_stoppably(settings, as_of_date)


def run_stoppably(settings: Settings, as_of: date | None) -> None:
    """Run the pipeline on `settings` and print the summary, in a worker process this one
    can stop at once (`storeops run` and `demo`): Dagster defers SIGTERM and SIGINT to the
    end of the running step, and churn scoring takes minutes. In the worker itself
    (STOREOPS_RUN_WORKER=1), run in process."""
    if os.environ.get(RUN_WORKER_ENV) == "1":
        die_with_parent()
        _finish(_run_with_progress(settings, as_of), settings)
        return
    worker = [sys.executable, "-m", "orchestration.cli", "run", "--landing", str(settings.landing),
              "--home", str(settings.home), *(["--as-of", as_of.isoformat()] if as_of else [])]
    exit_like(run_until_stopped(worker, {**tool_env(), RUN_WORKER_ENV: "1"},
                                grace_s=RUN_STOP_GRACE_S, stopped_code=None))


def exit_like(code: int) -> None:
    """Exit with a child's exit code; a child killed by signal N kills this process with N,
    so whoever started storeops sees what happened to the run (the crash tests do)."""
    import signal

    if code < 0:
        if -code not in (signal.SIGKILL, signal.SIGSTOP):  # these cannot be handled anyway
            signal.signal(-code, signal.SIG_DFL)
        os.kill(os.getpid(), -code)
    raise typer.Exit(code)


def die_with_parent() -> None:
    """Linux: SIGKILL this worker when the `storeops run` that started it dies (killed by
    a timeout or SIGKILL, it cannot pass the stop on); elsewhere nothing."""
    if not sys.platform.startswith("linux"):
        return
    import ctypes
    import signal

    pr_set_pdeathsig = 1
    ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGKILL)
    if os.getppid() == 1:  # the parent died before the call
        os.kill(os.getpid(), signal.SIGKILL)


RUN_WORKER_ENV = "STOREOPS_RUN_WORKER"
# A stopped run is safe to kill: loads are transactions, outputs are renamed into place, and
# the next run marks the interrupted Dagster run and redoes what did not finish.
RUN_STOP_GRACE_S = 5.0


@app.command()
def forget(
    email: Annotated[str, typer.Option(help="The customer's email address (any case or spacing).")],
    home: HomeOption = None,
) -> None:
    """Forget one customer (a data-subject request): delete their rows from raw and derived
    tables and the contact lists; later loads drop them too."""
    import duckdb

    from orchestration.privacy import forget_customer

    settings = _load_settings(home)
    if not settings.warehouse_path.exists():
        err.print(f"[red]No warehouse at {settings.warehouse_path}.[/red] Nothing to forget.")
        raise typer.Exit(2)
    from orchestration.runlock import HomeBusy, home_lock

    try:
        with home_lock(settings.home, what="storeops forget"):
            report = forget_customer(settings, email)
    except HomeBusy as exc:
        err.print(f"[red]Another storeops run is using this home:[/red] {exc}", soft_wrap=True)
        raise typer.Exit(1) from None
    except ValueError as exc:
        err.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from None
    except duckdb.IOException as exc:
        err.print(f"[red]The warehouse is in use by another run ({exc}).[/red] "
                  "Try again when it has finished: nothing was deleted.")
        raise typer.Exit(1) from None
    console.print(f"Forgot customer {report.customer_id}: {report.total_rows:,} rows deleted"
                  + ("" if not report.rows_deleted else " (" + ", ".join(
                      f"{t} {n:,}" for t, n in sorted(report.rows_deleted.items())) + ")")
                  + f"; {len(report.files_rewritten)} contact lists rewritten.", soft_wrap=True)
    if not report.total_rows:
        console.print("No row held this email: nothing else to do.")
    for path in report.landing_files_with_email:
        console.print(f"  still in the landing copy {path}: delete it or re-export it at the "
                      "source (storeops will not load this customer again).", soft_wrap=True)


@app.command()
def ui(
    home: HomeOption = None,
    port: Annotated[int, typer.Option(help="Port of the Dagster UI.")] = 3000,
) -> None:
    """Open the Dagster UI (dagster dev) on this home."""
    settings = _load_settings(home)
    prepare_home(settings)
    dagster = Path(sys.executable).with_name("dagster")
    cmd = [str(dagster)] if dagster.exists() else [sys.executable, "-m", "dagster"]
    cmd += ["dev", "-m", "orchestration.definitions", "-h", "127.0.0.1", "-p", str(port)]
    console.print(f"Dagster UI on http://127.0.0.1:{port} for home {settings.home}")
    env = {**tool_env(), **settings.child_env()}
    raise typer.Exit(run_until_stopped(cmd, env, grace_s=STOP_GRACE_S, stopped_code=0))


def tool_env() -> dict[str, str]:
    """This environment with the running interpreter's bin directory first on PATH.

    `dagster dev` prepares the dbt project by calling `dbt` from PATH (dagster-dbt's
    DbtProjectPreparer); started as `.venv/bin/storeops ui` without an activated venv,
    that `dbt` was missing and the code location failed to load."""
    env = os.environ.copy()
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    return env


STOP_GRACE_S = 5.0


def run_until_stopped(cmd: list[str], env: dict[str, str], *, grace_s: float,
                      stopped_code: int | None) -> int:
    """Run `cmd` in its own process group until it ends or this process gets SIGTERM or
    SIGINT (Ctrl-C); returns its exit code, or when stopped on request `stopped_code`
    (None: 128 + the signal's number, the shell's convention).

    A stop is passed on as SIGINT (what `dagster dev` shuts down cleanly on, webserver
    and daemon included); after `grace_s` seconds the whole group gets SIGTERM, then
    SIGKILL after as long again, and so does every descendant seen since the stop, since
    some run in sessions of their own (dagster dev's webserver, daemon and code server
    outlived a SIGKILL of its group). Without this, SIGTERM killed `storeops ui` and left
    `dagster dev` and its children serving, and `storeops run` went on to the end of the
    running step."""
    import signal
    import threading

    child = subprocess.Popen(cmd, env=env, start_new_session=True)
    stopping = threading.Event()
    received: list[int] = []

    tree: set[tuple[int, str]] = set()  # (pid, start time) of descendants seen

    def signal_group(signum: int) -> None:
        try:
            os.killpg(child.pid, signum)
        except ProcessLookupError:
            pass

    def signal_tree(signum: int) -> None:
        tree.update(descendants(child.pid))
        signal_group(signum)
        for pid, started in tree:
            if process_start(pid) == started:  # still that process, not a reused pid
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(pid, signum)

    def escalate() -> None:
        for signum in (signal.SIGTERM, signal.SIGKILL):
            try:
                child.wait(timeout=grace_s)
                return
            except subprocess.TimeoutExpired:
                signal_tree(signum)

    def stop(signum, frame) -> None:
        if stopping.is_set():
            return
        stopping.set()
        received.append(signum)
        err.print("Stopping ...")
        tree.update(descendants(child.pid))
        signal_group(signal.SIGINT)
        threading.Thread(target=escalate, daemon=True).start()

    previous = {s: signal.signal(s, stop) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        code = child.wait()
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        signal_group(signal.SIGTERM)  # anything of the group still left
    if not stopping.is_set():
        return code
    return 128 + received[0] if stopped_code is None else stopped_code


def process_start(pid: int) -> str | None:
    """A process' start time in clock ticks since boot (Linux /proc), None if it is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rsplit(")", 1)[1].split()[19]  # field 22, counted after the name


def descendants(pid: int) -> set[tuple[int, str]]:
    """(pid, start time) of every process below `pid`, whatever its session (Linux /proc;
    elsewhere empty)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found: set[tuple[int, str]] = set()
    todo = list(children.get(pid, []))
    while todo:
        current = todo.pop()
        started = process_start(current)
        if started is not None:
            found.add((current, started))
        todo += children.get(current, [])
    return found


def main() -> None:  # pragma: no cover
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
