"""The daemon's path to delivery: after a scheduled daily run ends, the run-status sensors
ask for one delivery pass, with the run's failed checks; never for a replay of a past
date, and never for a run of `storeops run`, which delivers in its own process."""

import dagster as dg
import pytest

from orchestration.defs.delivery import (
    FAILED_CHECKS_TAG,
    deliver_after_daily_run,
    notify_after_failed_daily_run,
)


@pytest.mark.parametrize("sensor, event", [(deliver_after_daily_run, "PIPELINE_SUCCESS"),
                                           (notify_after_failed_daily_run, "PIPELINE_FAILURE")])
def test_a_scheduled_daily_run_asks_for_one_delivery_pass(sensor, event):
    with dg.DagsterInstance.ephemeral() as instance:
        def evaluate(job: str, tags: dict, run_id: str):
            run = dg.DagsterRun(job_name=job, run_id=run_id, tags=tags)
            return sensor(dg.build_run_status_sensor_context(
                sensor_name=sensor.name, dagster_instance=instance, dagster_run=run,
                dagster_event=dg.DagsterEvent(event_type_value=event, job_name=job)))

        scheduled = evaluate("daily_job", {"dagster/schedule_name": "daily_at_six"}, "run-1")
        assert isinstance(scheduled, dg.RunRequest)
        assert scheduled.run_key == "after:run-1"  # one pass per daily run
        assert scheduled.tags[FAILED_CHECKS_TAG] == "[]"  # none in this instance
        assert "replay" in evaluate("daily_job", {"storeops/as_of": "2026-11-01"}, "run-2").skip_message
        assert "own process" in evaluate("daily_job", {"storeops/trigger": "cli"}, "run-3").skip_message
        assert "not the daily run" in evaluate("deliver_job", {}, "run-4").skip_message


def test_after_a_replay_the_warehouse_is_not_the_latest_data_and_nothing_is_sent():
    from orchestration.defs.delivery import replayed_as_of
    from orchestration.defs.shared import AS_OF_TAG

    with dg.DagsterInstance.ephemeral() as instance:
        assert replayed_as_of(instance) is None  # no daily run yet
        instance.add_run(dg.DagsterRun(job_name="daily_job", run_id="latest",
                                       status=dg.DagsterRunStatus.SUCCESS))
        assert replayed_as_of(instance) is None
        instance.add_run(dg.DagsterRun(job_name="daily_job", run_id="replay",
                                       status=dg.DagsterRunStatus.SUCCESS,
                                       tags={AS_OF_TAG: "2026-10-01"}))
        assert replayed_as_of(instance) == "2026-10-01"
