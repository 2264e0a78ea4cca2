import os

# Nothing may call home, in tests either.
os.environ["DBT_SEND_ANONYMOUS_USAGE_STATS"] = "false"
os.environ["DAGSTER_DISABLE_TELEMETRY"] = "true"

# The generated stores that several test files read are built once per test run and shared
# by the xdist workers (tests/stores.py).
pytest_plugins = ["tests.stores"]
