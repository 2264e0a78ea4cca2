"""The landing sensor asks for a run when files appear or change, and only then."""

import dagster as dg

from orchestration.defs.ingest import new_landing_files_sensor
from orchestration.defs.resources import StoreResource


def evaluate(landing, cursor):
    store = StoreResource(home=str(landing.parent), landing=str(landing),
                          timezone="UTC", currency="USD")
    with dg.build_sensor_context(cursor=cursor, resources={"store": store}) as context:
        result = new_landing_files_sensor(context)
        return result, context.cursor


def test_sensor_requests_runs_for_new_and_changed_files_only(tmp_path):
    landing = tmp_path / "landing"
    (landing / "meta_ads").mkdir(parents=True)
    result, cursor = evaluate(landing, None)
    assert isinstance(result, dg.SkipReason)

    (landing / "meta_ads" / "nov.csv").write_text("Reporting starts\n")
    result, cursor = evaluate(landing, cursor)
    assert isinstance(result, dg.RunRequest)
    assert result.tags["storeops/new_files"] == "1"

    result, cursor = evaluate(landing, cursor)
    assert isinstance(result, dg.SkipReason)  # nothing new

    (landing / "meta_ads" / "nov.csv").write_text("Reporting starts,Reporting ends\n")
    (landing / "meta_ads" / ".DS_Store").write_text("junk")  # hidden files are ignored
    result, cursor = evaluate(landing, cursor)
    assert isinstance(result, dg.RunRequest)
    assert result.tags["storeops/new_files"] == "1"
