"""Outputs: what managers read. The daily brief, the weekly and monthly reports, the
dashboards and the index page under <home>/output/.

The daily job writes them every run: the brief for the as-of day, the weekly report for
the last complete ISO week (so the Monday run writes last week's), the monthly report for
the last complete month (so the run on the 1st writes last month's). The brief's
Markdown is attached to its asset so the data team reads it in the Dagster UI.
"""

from pathlib import Path

import dagster as dg

from dashboards.document import last_complete_month, last_complete_week
from orchestration.defs.resources import StoreResource, WarehouseResource
from orchestration.defs.shared import (
    ANALYTICS_DEPS,
    DUCKDB_POOL,
    MART_DEPS,
    analytics_key,
    mart,
    run_as_of,
    write_document,
)

OUTPUTS_GROUP = "outputs"
def failed_checks_of_run(context: dg.AssetExecutionContext) -> list[str]:
    """The asset checks that failed earlier in this run (dbt tests, row conservation...)."""
    failed = []
    records = context.instance.all_logs(context.run_id,
                                        of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION)
    for record in records:
        evaluation = record.dagster_event.event_specific_data
        if not evaluation.passed:
            kind = "warning" if evaluation.severity == dg.AssetCheckSeverity.WARN else "failed"
            what = f" ({evaluation.description})" if evaluation.description else ""
            failed.append(f"{evaluation.asset_key.to_user_string()}: {evaluation.check_name} "
                          f"[{kind}]{what}")
    return sorted(set(failed))


@dg.asset(
    key=dg.AssetKey(["output", "daily_brief"]),
    group_name=OUTPUTS_GROUP,
    deps=[*ANALYTICS_DEPS, *MART_DEPS],
    pool=DUCKDB_POOL,
    kinds={"markdown", "html"},
    description="output/briefings/<as_of>.md and .html: the one-screen morning brief.",
)
def daily_brief(context: dg.AssetExecutionContext, warehouse: WarehouseResource,
                store: StoreResource) -> dg.MaterializeResult:
    from dashboards.briefings import daily_brief as build

    failed = failed_checks_of_run(context)
    with warehouse.connect(read_only=True) as con:
        as_of = run_as_of(context, con)
        doc = build(con, as_of=as_of, currency=store.currency, failed_checks=failed)
    _, page = write_document(doc, Path(store.home) / "output" / "briefings", as_of.isoformat())
    return dg.MaterializeResult(metadata={
        "as_of": as_of.isoformat(), "path": dg.MetadataValue.path(str(page)),
        "failed_checks": len(failed), "brief": dg.MetadataValue.md(doc.to_markdown()),
    })


@dg.asset(
    key=dg.AssetKey(["output", "weekly_report"]),
    group_name=OUTPUTS_GROUP,
    # Its "Spend and audiences" section reads the budget advice and the audience files too.
    deps=[*ANALYTICS_DEPS, *MART_DEPS, analytics_key("budget_recommendations"),
          dg.AssetKey(["output", "audiences"])],
    pool=DUCKDB_POOL,
    kinds={"markdown", "html"},
    description="output/briefings/weekly-<iso week>.md and .html for the last complete week.",
)
def weekly_report(context: dg.AssetExecutionContext, warehouse: WarehouseResource,
                  store: StoreResource) -> dg.MaterializeResult:
    from dashboards.briefings import weekly_report as build
    from dashboards.document import iso_week_label

    with warehouse.connect(read_only=True) as con:
        as_of = run_as_of(context, con)
        week = last_complete_week(as_of)
        doc = build(con, week_start=week, currency=store.currency,
                    audiences_dir=Path(store.home) / "output" / "audiences")
    _, page = write_document(doc, Path(store.home) / "output" / "briefings",
                              f"weekly-{iso_week_label(week)}")
    return dg.MaterializeResult(metadata={
        "week": iso_week_label(week), "path": dg.MetadataValue.path(str(page)),
        "report": dg.MetadataValue.md(doc.to_markdown()),
    })


@dg.asset(
    key=dg.AssetKey(["output", "monthly_report"]),
    group_name=OUTPUTS_GROUP,
    deps=[*ANALYTICS_DEPS, *MART_DEPS, mart("fct_inventory_daily")],
    pool=DUCKDB_POOL,
    kinds={"markdown", "html"},
    description="output/briefings/monthly-<yyyy-mm>.md and .html for the last complete month: "
                "cohorts, channel efficiency, inventory health, LTV by channel, segments.",
)
def monthly_report(context: dg.AssetExecutionContext, warehouse: WarehouseResource,
                   store: StoreResource) -> dg.MaterializeResult:
    from dashboards.monthly import monthly_report as build

    with warehouse.connect(read_only=True) as con:
        as_of = run_as_of(context, con)
        month = last_complete_month(as_of)
        doc = build(con, month=month, currency=store.currency)
    _, page = write_document(doc, Path(store.home) / "output" / "briefings",
                              f"monthly-{month:%Y-%m}")
    return dg.MaterializeResult(metadata={
        "month": f"{month:%Y-%m}", "path": dg.MetadataValue.path(str(page)),
        "report": dg.MetadataValue.md(doc.to_markdown()),
    })


@dg.asset(
    key=dg.AssetKey(["output", "dashboards"]),
    group_name=OUTPUTS_GROUP,
    deps=[*ANALYTICS_DEPS, *MART_DEPS, analytics_key("demand_forecast"), mart("fct_inventory_daily"),
          analytics_key("budget_recommendations")],
    pool=DUCKDB_POOL,
    kinds={"plotly", "html"},
    description="output/dashboards/{overview,marketing,inventory,customers,support}.html, "
                "self-contained Plotly pages readable offline.",
)
def dashboards(context: dg.AssetExecutionContext, warehouse: WarehouseResource,
               store: StoreResource) -> dg.MaterializeResult:
    from dashboards.pages.data import load_dashboard_data
    from dashboards.pages.write import write_dashboards

    with warehouse.connect(read_only=True) as con:
        as_of = run_as_of(context, con)
        data = load_dashboard_data(con, as_of)
    pages = write_dashboards(data, Path(store.home) / "output" / "dashboards", as_of=as_of,
                             currency=store.currency)
    return dg.MaterializeResult(metadata={
        "pages": dg.MetadataValue.json({name: str(path) for name, path in pages.items()}),
        "megabytes": round(sum(p.stat().st_size for p in pages.values()) / 1e6, 1),
    })


@dg.asset(
    key=dg.AssetKey(["output", "index"]),
    group_name=OUTPUTS_GROUP,
    deps=[dg.AssetKey(["output", n]) for n in ("daily_brief", "weekly_report", "monthly_report",
                                               "dashboards", "reorder_files", "customer_lists",
                                               "quality_report")],
    pool=DUCKDB_POOL,
    kinds={"html"},
    description="output/index.html linking the latest brief, reports, dashboards, reorder "
                "files, customer lists and the data-quality report.",
)
def index_page(context: dg.AssetExecutionContext, warehouse: WarehouseResource,
               store: StoreResource) -> dg.MaterializeResult:
    from dashboards.index import write_index

    with warehouse.connect(read_only=True) as con:
        as_of = run_as_of(context, con)
    path = write_index(Path(store.home) / "output", as_of=as_of, currency=store.currency)
    return dg.MaterializeResult(metadata={"path": dg.MetadataValue.path(str(path))})


output_assets = [daily_brief, weekly_report, monthly_report, dashboards, index_page]
