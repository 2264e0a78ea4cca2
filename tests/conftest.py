import os

# Nothing may call home, in tests either.
os.environ["DBT_SEND_ANONYMOUS_USAGE_STATS"] = "false"
os.environ["DAGSTER_DISABLE_TELEMETRY"] = "true"

# The generated stores that several test files read are built once per test run and shared
# by the xdist workers (tests/stores.py).
pytest_plugins = ["tests.stores"]

# Seconds each slow file takes in one test process of `make test` (fresh-clone CI on 2
# cores at 4baeae1, 2026-12-06; a file not listed is quick). Only the order of
# files depends on it: `make test` hands whole files to the workers in collection order
# (--dist loadfile --no-loadscope-reorder), and the slowest going first lets the quick
# ones fill in at the end, so the workers finish together instead of one running a
# two-minute file alone.
SECONDS = {
    "tests/integration/test_field_cases.py": 270,
    "tests/e2e/test_dashboards.py": 115,
    "tests/integration/test_concurrency.py": 90,
    "tests/integration/test_crash.py": 81,
    "tests/e2e/test_cli.py": 60,
    "tests/integration/test_partial_stores.py": 47,
    "tests/integration/test_privacy.py": 45,
    "tests/integration/test_incremental.py": 40,
    "tests/integration/test_fuzz_ingest.py": 38,
    "tests/integration/test_replay.py": 34,
    "tests/integration/test_quality_checks.py": 32,
    "tests/e2e/test_ui.py": 25,
    "tests/integration/test_skip_unchanged.py": 23,
    "tests/integration/test_pull_demo_store.py": 39,
    "tests/integration/test_profit_by_hand.py": 14,
    "tests/integration/test_delivery.py": 40,
    "tests/integration/test_approvals.py": 20,
    "tests/integration/test_dbt_failure.py": 20,
    "tests/unit/test_forecast_from_a_script.py": 20,
    "tests/integration/test_ingest_demo_store.py": 20,
}


def pytest_collection_modifyitems(config, items):
    """Slowest files first; the tests of a file keep their order (a stable sort)."""
    items.sort(key=lambda item: -SECONDS.get(item.nodeid.split("::", 1)[0], 0))
