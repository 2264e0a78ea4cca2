"""The `storeops` command: make a demo store, run the pipeline, open the Dagster UI.

The command line only: arguments, exit codes and which process runs what. A run itself is
orchestration.pipeline, what is printed after it orchestration.summary, stopping child
processes orchestration.processes.
Exit codes: 0 success, 1 failed blocking checks or a failed step, 2 bad usage, 128 + N
when stopped by signal N (143 SIGTERM, 130 Ctrl-C).
"""

from __future__ import annotations

import os
import sys
import time
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from orchestration.pipeline import RunSummary, execute_pipeline, prepare_home
from orchestration.processes import die_with_parent, run_until_stopped, tool_env
from orchestration.settings import LANDING_ENV, Settings, SettingsError
from orchestration.summary import console, err, print_summary

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="storeops: the analytics warehouse and decision pipeline of an online store.",
    pretty_exceptions_show_locals=False,
)

HomeOption = Annotated[
    Path | None,
    typer.Option("--home", help="storeops home directory (default: $STOREOPS_HOME or ./storeops_home)"),
]










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


def _run_with_progress(settings: Settings, as_of: date | None,
                       rebuild: bool = False, pull: bool = False) -> RunSummary:
    from orchestration.runlock import HomeBusy

    try:
        with console.status("Running the pipeline…") as status:
            def on_progress(message: str) -> None:
                status.update(f"Running the pipeline… {message}")
            return execute_pipeline(settings, as_of=as_of, on_progress=on_progress,
                                    rebuild=rebuild, pull=pull)
    except HomeBusy as exc:
        err.print(f"[red]Another storeops run is using this home:[/red] {exc}", soft_wrap=True)
        raise typer.Exit(1) from None


def _parse_as_of(value: str | None, option: str = "--as-of") -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(f"{value!r} is not a date: use YYYY-MM-DD", param_hint=option)


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
    # The generator adds the demo store's costs (profit:) to storeops.yml: read it again.
    settings = replace(_load_settings(home), landing=settings.home / "landing")
    console.print(
        f"Demo store: {store.n_orders:,} orders ({store.n_order_lines:,} lines), "
        f"{store.n_customers:,} customers, {store.n_skus:,} SKUs from {store.n_suppliers} suppliers, "
        f"{store.n_tickets:,} tickets, {store.start_date} to {store.end_date}; "
        f"{store.files} files in {store.landing_dir} ({time.monotonic() - started:.1f} s)"
    )
    run_stoppably(settings, None)


@app.command()
def run(
    landing: Annotated[Path | None, typer.Option(help="Landing directory with one folder per source; default: `landing:` in the home's storeops.yml, else <home>/landing.")] = None,
    home: HomeOption = None,
    as_of: Annotated[str | None, typer.Option("--as-of", help="Compute outputs as of this date (YYYY-MM-DD); default: the last date in the data.")] = None,
    rebuild: Annotated[bool, typer.Option("--rebuild", help="Build the warehouse, analytics and outputs even when nothing they are built from changed since the last finished run.")] = False,
    pull: Annotated[bool, typer.Option("--pull", help="First pull what changed from the vendors' APIs configured under `sources:` (as `storeops pull` does).")] = False,
) -> None:
    """Ingest what is new in the landing directory, build, write outputs. When no raw table, setting, code or as-of date changed since the last finished run, only ingest runs and the outputs stand (--rebuild builds anyway)."""
    as_of_date = _parse_as_of(as_of)
    settings = _load_settings(home, landing)
    if pull and settings.sources and landing is None:
        settings.landing.mkdir(parents=True, exist_ok=True)  # the pulls write into it
    if not settings.landing.is_dir():
        source = ("--landing" if landing else
                  f"${LANDING_ENV}, storeops.yml's landing or <home>/landing")
        err.print(f"[red]Landing directory {settings.landing} does not exist[/red] (from {source}). "
                  "It should hold one folder per source (shopify/orders/, meta_ads/, …).")
        raise typer.Exit(2)
    run_stoppably(settings, as_of_date, rebuild=rebuild, pull=pull)


def run_stoppably(settings: Settings, as_of: date | None, *, rebuild: bool = False,
                  pull: bool = False) -> None:
    """Run the pipeline on `settings` and print the summary, in a worker process this one
    can stop at once (`storeops run` and `demo`): Dagster defers SIGTERM and SIGINT to the
    end of the running step, and churn scoring takes minutes. In the worker itself
    (STOREOPS_RUN_WORKER=1), run in process."""
    if os.environ.get(RUN_WORKER_ENV) == "1":
        die_with_parent()
        _finish(_run_with_progress(settings, as_of, rebuild, pull), settings)
        return
    worker = [sys.executable, "-m", "orchestration.cli", "run", "--landing", str(settings.landing),
              "--home", str(settings.home), *(["--as-of", as_of.isoformat()] if as_of else []),
              *(["--rebuild"] if rebuild else []), *(["--pull"] if pull else [])]
    exit_like(run_until_stopped(worker, {**tool_env(), RUN_WORKER_ENV: "1"}, stopped_code=None,
                                on_stop=lambda: err.print("Stopping ...")))


def exit_like(code: int) -> None:
    """Exit with a child's exit code; a child killed by signal N kills this process with N,
    so whoever started storeops sees what happened to the run (the crash tests do)."""
    import signal

    if code < 0:
        if -code not in (signal.SIGKILL, signal.SIGSTOP):  # these cannot be handled anyway
            signal.signal(-code, signal.SIG_DFL)
        os.kill(os.getpid(), -code)
    raise typer.Exit(code)




RUN_WORKER_ENV = "STOREOPS_RUN_WORKER"


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
def pull(
    home: HomeOption = None,
    source: Annotated[str | None, typer.Option(help="Pull only this source (shopify, meta, google_ads, tiktok, gorgias, zendesk); default: every source under `sources:` in storeops.yml.")] = None,
    since: Annotated[str | None, typer.Option(help="Pull what changed since this date (YYYY-MM-DD) instead of since the saved cursor.")] = None,
) -> None:
    """Pull what is new from the vendors' APIs into the landing directory (`storeops run`
    then loads it like any export). Credentials come from the environment only."""
    from orchestration.pull import CredentialError
    from orchestration.pull.sources import PULLERS, PullError, pull_source

    settings = _load_settings(home)
    import difflib

    def hint(name: str) -> str:
        close = difflib.get_close_matches(name, PULLERS, n=1)
        return f" (did you mean {close[0]}?)" if close else ""

    if source is not None and source not in PULLERS:
        err.print(f"[red]Unknown source {source!r}[/red]{hint(source)}: choose from "
                  f"{', '.join(PULLERS)}.")
        raise typer.Exit(2)
    unknown = sorted(set(settings.sources) - set(PULLERS))
    if unknown and (source is None or source in unknown):
        err.print(f"[red]sources: {', '.join(f'{u}{hint(u)}' for u in unknown)} in "
                  f"{settings.home / 'storeops.yml'}: not a source storeops pulls[/red] "
                  f"(it pulls {', '.join(PULLERS)}).", soft_wrap=True)
        raise typer.Exit(2)
    wanted = [source] if source else list(settings.sources)
    if not wanted or any(name not in settings.sources for name in wanted):
        err.print(f"[red]Nothing to pull:[/red] add `sources: {source or 'shopify'}:` to "
                  f"{settings.home / 'storeops.yml'} (README, 'Connecting the APIs').")
        raise typer.Exit(2)
    since_iso = (f"{_parse_as_of(since, '--since').isoformat()}T00:00:00Z" if since else None)
    code = 0
    for name in wanted:
        try:
            with console.status(f"Pulling {name}…") as status:
                logs = pull_source(name, settings, since=since_iso, on_page=lambda page, n, name=name, status=status: status.update(
                    f"Pulling {name}… {page}: {n:,} records"))
        except (ValueError, CredentialError) as exc:  # its settings, its credential
            err.print(f"[red]{escape(str(exc))}[/red]", soft_wrap=True)
            code = 2
            continue  # the other sources are pulled all the same
        except PullError as exc:
            err.print(f"[red]{escape(str(exc))}[/red] (the pages written so far stay; the next "
                      "pull resumes from the saved cursor)", soft_wrap=True)
            code = max(code, 1)
            continue
        for log in logs:
            if log.status == "skipped":  # not an error: e.g. a store without Shopify Payments
                console.print(f"[yellow]{escape(log.error or '')}[/yellow]", soft_wrap=True)
                continue
            console.print(f"{name} {log.resource}: {log.records:,} records in {log.pages} pages "
                          f"({log.rows:,} rows) into {settings.landing}; {log.requests} requests, "
                          f"{log.throttle_waits} throttle waits; cursor {log.cursor or 'none'} "
                          f"({log.seconds:.1f} s)", soft_wrap=True)
    if code:
        raise typer.Exit(code)


@app.command()
def send(
    home: HomeOption = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Write every message that would go out under <home>/output/outbox/<as_of>/ (HTML, .eml, Slack JSON) and send nothing.")] = False,
) -> None:
    """Send what is due by email and Slack (`delivery:` in storeops.yml): the brief of the
    latest data (or a notice when its checks failed), reports, alerts, buyers' files,
    escalations, and retries of failed sends. Nothing is sent twice."""
    from orchestration.pipeline import home_instance, load_definitions, run_delivery
    from orchestration.runlock import HomeBusy, home_lock

    settings = _load_settings(home)
    if not settings.delivery:
        err.print(f"[red]Nothing to send with:[/red] add `delivery:` (email: and/or slack:, "
                  f"recipients:) to {settings.home / 'storeops.yml'} (README, 'Delivery'); "
                  "then --dry-run shows what would go out.", soft_wrap=True)
        raise typer.Exit(2)
    if not settings.warehouse_path.exists():
        err.print(f"[red]No warehouse in {settings.home}[/red]: run `storeops run` first.",
                  soft_wrap=True)
        raise typer.Exit(2)
    prepare_home(settings)
    try:
        with home_lock(settings.home), home_instance(settings) as instance:
            report = run_delivery(load_definitions(settings), instance, dry_run=dry_run)
    except HomeBusy as exc:
        err.print(f"[red]Another storeops run is using this home:[/red] {exc}", soft_wrap=True)
        raise typer.Exit(1) from None
    from orchestration.pipeline import _write_quality_report
    from orchestration.summary import print_deliveries

    if not dry_run:  # the quality report lists what is still not delivered
        _write_quality_report(settings, [])
    print_deliveries(report)
    if not report.get("success", True) or (report.get("failed") and not dry_run):
        raise typer.Exit(1)  # a cron job sees it


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
    raise typer.Exit(run_until_stopped(cmd, env, stopped_code=0,
                                       on_stop=lambda: err.print("Stopping ...")))






def main() -> None:  # pragma: no cover
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
