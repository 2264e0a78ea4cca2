"""Fault injection for the crash tests: `STOREOPS_FAILPOINT=<name>[:<n>]` kills the
process with SIGKILL the n-th time (default the first) the code passes `hit(name)`.

The points sit where a crash does the most harm: inside the transaction that loads a
file (`ingest`), while dbt builds the marts (`dbt`), between writing an output file's
temporary copy and renaming it (`write`). Unset (always, outside tests) `hit` is one
dictionary lookup.
"""

from __future__ import annotations

import os
import signal

_seen: dict[str, int] = {}


def hit(name: str) -> None:
    """Kill this process with SIGKILL when STOREOPS_FAILPOINT names `name` and this is
    its n-th pass in the process; otherwise return at once. Raises ValueError when the
    variable names this point with an `:<n>` that is not an integer."""
    spec = os.environ.get("STOREOPS_FAILPOINT")
    if not spec:
        return
    point, _, nth = spec.partition(":")
    if point != name:
        return
    _seen[name] = _seen.get(name, 0) + 1
    if _seen[name] >= int(nth or 1):
        os.kill(os.getpid(), signal.SIGKILL)
