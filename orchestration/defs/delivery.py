"""Delivery in Dagster (issue 20): the asset `output/deliveries`, run by its own job after
the daily run (never inside it: a message must know how the run ended), and the sensors
that launch it.

- `deliver_job`: one delivery pass (orchestration.delivery.send.deliver) on the latest
  data. `storeops run` runs it in process right after the daily job; `storeops send` runs
  it alone; in a deployment with the Dagster daemon, `deliver_after_daily_run` launches it
  when a scheduled daily run ends (success or failure) and `reorder_escalation_sensor`
  when a reorder file has waited longer than `escalation_hours`.
- Run tags: FAILED_CHECKS_TAG (JSON list of the blocking checks the daily run failed; when
  absent, read from the last daily run in the instance), DRY_RUN_TAG ("true": write the
  previews only), ONLY_TAG (comma-separated kinds, e.g. "escalation").
- A failed send never fails the job: it is in the asset's metadata, in the outbox, and in
  the check `all_messages_delivered` (WARN).
"""


import datetime as dt
import json
from pathlib import Path

import dagster as dg

from orchestration.defs.resources import StoreResource, WarehouseResource
from orchestration.defs.shared import AS_OF_TAG, DUCKDB_POOL, run_as_of

DELIVERIES_KEY = dg.AssetKey(["output", "deliveries"])
FAILED_CHECKS_TAG = "storeops/failed_checks"
DRY_RUN_TAG = "storeops/dry_run"
ONLY_TAG = "storeops/deliver_only"
DAILY_JOB = "daily_job"


def _last_daily_run(instance: dg.DagsterInstance):
    records = instance.get_run_records(
        dg.RunsFilter(job_name=DAILY_JOB, statuses=[dg.DagsterRunStatus.SUCCESS,
                                                    dg.DagsterRunStatus.FAILURE]), limit=1)
    return records[0].dagster_run if records else None


def replayed_as_of(instance: dg.DagsterInstance) -> str | None:
    """The --as-of date of the last finished daily run when it was a replay of a past
    date (the warehouse then holds that date's view), else None."""
    run = _last_daily_run(instance)
    return run.tags.get(AS_OF_TAG) if run is not None else None


def failed_blocking_checks(instance: dg.DagsterInstance) -> list[str]:
    """The blocking checks (severity ERROR, API pulls aside) the last finished daily run
    failed; [] when it passed them or there was none."""
    for record in instance.get_run_records(
            dg.RunsFilter(job_name=DAILY_JOB, statuses=[dg.DagsterRunStatus.SUCCESS,
                                                        dg.DagsterRunStatus.FAILURE]),
            limit=1):
        failed = []
        for event in instance.all_logs(record.dagster_run.run_id,
                                       of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION):
            evaluation = event.dagster_event.event_specific_data
            if (not evaluation.passed and evaluation.severity != dg.AssetCheckSeverity.WARN
                    and evaluation.asset_key.path[0] != "pull"):
                failed.append(f"{evaluation.asset_key.to_user_string()}: {evaluation.check_name}")
        return failed
    return []


@dg.asset(
    key=DELIVERIES_KEY,
    group_name="outputs",
    pool=DUCKDB_POOL,  # it writes analytics.outbox
    kinds={"email", "slack"},
    check_specs=[dg.AssetCheckSpec("all_messages_delivered", asset=DELIVERIES_KEY,
                                   description="Every message due was sent (WARN: a failed "
                                               "send is retried by the next pass).")],
    description=("Sends what is due after the daily run by email and Slack (delivery: in "
                 "storeops.yml): the brief (or a notice of what broke), reports, alerts, "
                 "buyers' reorder files, escalations; each recorded in analytics.outbox."),
)
def deliveries(context: dg.AssetExecutionContext, warehouse: WarehouseResource,
               store: StoreResource):
    from orchestration.delivery.send import deliver

    settings = store.delivery
    tags = context.run.tags
    dry_run = tags.get(DRY_RUN_TAG) == "true"
    only = set(tags[ONLY_TAG].split(",")) if tags.get(ONLY_TAG) else None
    failed_checks = (json.loads(tags[FAILED_CHECKS_TAG]) if FAILED_CHECKS_TAG in tags
                     else failed_blocking_checks(context.instance))
    replay = tags.get(AS_OF_TAG) or replayed_as_of(context.instance)
    if replay or not (settings.configured or dry_run):
        why = (f"the warehouse holds a replay as of {replay}, and a replay sends nothing: "
               "`storeops run` brings it back to the latest data" if replay
               else "nothing to send with: storeops.yml has no delivery: email: or slack:")
        yield dg.MaterializeResult(metadata={"skipped": why})
        yield dg.AssetCheckResult(check_name="all_messages_delivered", passed=True,
                                  metadata={"skipped": why})
        return
    with warehouse.connect() as con:
        as_of = run_as_of(context, con)
        report = deliver(con, settings, home=Path(store.home), as_of=as_of,
                         currency=store.currency, failed_checks=failed_checks,
                         now=dt.datetime.now(dt.UTC), dry_run=dry_run, only=only)
    for line in report.failed:
        context.log.warning(line)
    metadata = report.as_metadata()
    yield dg.MaterializeResult(metadata={
        "as_of": as_of.isoformat(), "dry_run": dry_run, "blocked_by": failed_checks,
        "sent": dg.MetadataValue.json(metadata["sent"]), "sent_total": metadata["sent_total"],
        "failed": dg.MetadataValue.json(metadata["failed"]),
        "already_sent": metadata["already_sent"],
        "previews": dg.MetadataValue.json(metadata["previews"]),
        "unaddressed": dg.MetadataValue.json(metadata["unaddressed"]),
    })
    yield dg.AssetCheckResult(
        check_name="all_messages_delivered", passed=not report.failed,
        severity=dg.AssetCheckSeverity.WARN,
        description=(f"{len(report.failed)} deliveries failed; they are retried by the next "
                     "run or `storeops send`" if report.failed else None),
        metadata={"failed": dg.MetadataValue.json(report.failed)})


deliver_job = dg.define_asset_job(
    "deliver_job", selection=dg.AssetSelection.assets(DELIVERIES_KEY),
    description="One delivery pass: send what is due by email and Slack (delivery:).")


@dg.run_status_sensor(run_status=dg.DagsterRunStatus.SUCCESS, request_job=deliver_job,
                      name="deliver_after_daily_run", default_status=dg.DefaultSensorStatus.RUNNING,
                      description="After a scheduled daily run: send the brief, alerts and "
                                  "files (runs of `storeops run` deliver in process).")
def deliver_after_daily_run(context: dg.RunStatusSensorContext):
    return _after(context)


@dg.run_status_sensor(run_status=dg.DagsterRunStatus.FAILURE, request_job=deliver_job,
                      name="notify_after_failed_daily_run",
                      default_status=dg.DefaultSensorStatus.RUNNING,
                      description="After a failed daily run: send the notice of what broke.")
def notify_after_failed_daily_run(context: dg.RunStatusSensorContext):
    return _after(context)


def _after(context: dg.RunStatusSensorContext):
    run = context.dagster_run
    if run.job_name != DAILY_JOB:
        return dg.SkipReason(f"{run.job_name} is not the daily run")
    if run.tags.get(AS_OF_TAG):
        return dg.SkipReason("a replay of a past date sends nothing")
    if run.tags.get("storeops/trigger") == "cli":
        return dg.SkipReason("storeops run delivers in its own process")
    return dg.RunRequest(run_key=f"after:{run.run_id}",
                         tags={FAILED_CHECKS_TAG: json.dumps(
                             failed_blocking_checks(context.instance))})


@dg.sensor(job=deliver_job, minimum_interval_seconds=900,
           default_status=dg.DefaultSensorStatus.RUNNING,
           description="Every 15 minutes: reorder files nobody answered within "
                       "escalation_hours get one escalation each.")
def reorder_escalation_sensor(context: dg.SensorEvaluationContext, warehouse: WarehouseResource,
                              store: StoreResource):
    from orchestration.delivery.send import escalations_due

    settings = store.delivery
    if not settings.configured or not Path(warehouse.path).exists():
        return dg.SkipReason("no delivery: configured, or no warehouse yet")
    with warehouse.connect(read_only=True) as con:
        due = escalations_due(con, settings, now=dt.datetime.now(dt.UTC))
    if not due:
        return dg.SkipReason("no reorder file waits for an answer beyond escalation_hours")
    return dg.RunRequest(run_key="escalate:" + ",".join(sorted(due)),
                         tags={ONLY_TAG: "escalation"})


delivery_assets = [deliveries]
delivery_sensors = [deliver_after_daily_run, notify_after_failed_daily_run,
                    reorder_escalation_sensor]
