"""storeops' Dagster code location, CLI, settings, ingestion and demo store."""

import os
import sys

# Silence multiprocessing's resource-tracker leak warnings before anything starts the
# tracker (it copies sys.warnoptions when it starts); why: forecasting/parallel.py.
# Inline, because importing forecasting here would import statsforecast on every CLI call.
_QUIET_TRACKER = "ignore::UserWarning:multiprocessing.resource_tracker"
if _QUIET_TRACKER not in sys.warnoptions:
    sys.warnoptions.append(_QUIET_TRACKER)

# Nothing calls home: dbt and Dagster telemetry off in this process and what it starts,
# unless the caller decided otherwise.
os.environ.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
os.environ.setdefault("DAGSTER_DISABLE_TELEMETRY", "true")
