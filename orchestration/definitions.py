"""The one Dagster code location of storeops, merged from the per-domain modules in defs/.

`build_definitions(settings)` takes the store's settings (storeops.yml, read once) and
hands them to the assets as resources: the CLI calls it with the home it was given.
`defs` is what `dagster dev -m orchestration.definitions` loads (lazily, `@dg.definitions`):
that process finds its home in $STOREOPS_HOME, set for it by `storeops ui`.
"""

from __future__ import annotations

import dagster as dg

from orchestration.defs import (
    anomalies,
    customers,
    delivery,
    forecasting,
    growth,
    ingest,
    inputs,
    outputs,
    pull,
    quality,
    warehouse,
)
from orchestration.defs.resources import resources_for
from orchestration.settings import Settings


def build_definitions(settings: Settings) -> dg.Definitions:
    """The assets, checks, jobs, schedule and sensor of storeops, bound to one home."""
    daily_job = dg.define_asset_job(
        "daily_job",
        # Delivery runs after the daily job, in its own (deliver_job): a message must know
        # how the run ended.
        selection=dg.AssetSelection.all() - dg.AssetSelection.assets(delivery.DELIVERIES_KEY),
        description="Everything: ingest what is new, build the warehouse, write the outputs.",
    )
    daily_schedule = dg.ScheduleDefinition(
        name="daily_at_six",
        job=daily_job,
        cron_schedule="0 6 * * *",
        execution_timezone=settings.timezone,
        default_status=dg.DefaultScheduleStatus.RUNNING,
        description="The daily run at 06:00 store time, before the morning brief is read.",
    )
    return dg.Definitions(
        assets=[*pull.pull_assets, *ingest.raw_assets, *inputs.inputs_assets, warehouse.warehouse_dbt_assets, warehouse.warehouse_docs,
                *forecasting.forecasting_assets, *customers.customer_assets, *growth.growth_assets,
                *anomalies.anomaly_assets, *outputs.output_assets, *quality.quality_assets,
                *delivery.delivery_assets],
        asset_checks=[*pull.pull_checks, *ingest.raw_checks, *customers.customer_checks, *quality.gx_checks],
        jobs=[ingest.ingest_job, daily_job, delivery.deliver_job],
        schedules=[daily_schedule],
        sensors=[ingest.new_landing_files_sensor, *delivery.delivery_sensors],
        resources={**resources_for(settings), "dbt": warehouse.dbt_resource()},
    )


@dg.definitions
def defs() -> dg.Definitions:
    return build_definitions(Settings.load())
