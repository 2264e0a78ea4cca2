"""Where a pull resumes from, and what each pull did.

`<home>/pulls/state.json`: per source and resource, the cursor of the last page whose
file is in the landing folder, written atomically (temporary file, fsync, rename) after
each page. `<home>/pulls/log.jsonl`: one line per pull (source, resource, window, pages,
records, requests, throttle waits, cursor, status), appended when it ends.
"""

from __future__ import annotations

import csv
import io
import json
import os
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import requests

from orchestration.pull.credentials import CredentialError, PullError, http_failure, redact
from quality import failpoints


def write_atomic(path: Path, data: bytes) -> None:
    """Write `data` to `path` so that a reader (or a crash) sees the old file or the whole
    new one, never part of it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)


class PullState:
    """Cursors per `source/resource`, kept in `<home>/pulls/state.json`."""

    def __init__(self, home: Path):
        self.path = Path(home) / "pulls" / "state.json"
        self._cursors: dict[str, str] = (json.loads(self.path.read_text())
                                         if self.path.exists() else {})

    def cursor(self, source: str, resource: str) -> str | None:
        """The saved cursor (an ISO 8601 timestamp), or None before the first pull."""
        return self._cursors.get(f"{source}/{resource}")

    def save(self, source: str, resource: str, cursor: str) -> None:
        """Record `cursor` and write the state file at once (atomically)."""
        self._cursors[f"{source}/{resource}"] = cursor
        write_atomic(self.path, json.dumps(self._cursors, indent=2, sort_keys=True).encode())


@dataclass
class PullLog:
    """What one pull of one resource did (appended to `<home>/pulls/log.jsonl`)."""

    source: str
    resource: str
    pull_id: str
    since: str | None  # the window's start: the cursor it resumed from, or --since
    status: str = "running"  # running, done, failed, skipped (error says why)
    pages: int = 0
    records: int = 0  # entities fetched (orders), not rows written
    rows: int = 0  # rows written to landing files
    requests: int = 0  # HTTP requests sent, retries included
    throttle_waits: int = 0
    throttle_seconds: float = 0.0
    cursor: str | None = None
    files: list[str] = field(default_factory=list)
    error: str | None = None
    seconds: float = 0.0

    def append_to(self, home: Path) -> None:
        path = Path(home) / "pulls" / "log.jsonl"
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "a") as handle:
            handle.write(json.dumps(asdict(self), sort_keys=True) + "\n")


@contextmanager
def recorded(home: Path, source: str, resource: str, since: str | None, *,
             secrets: Sequence[str] = (),
             finish: Callable[[PullLog], None] | None = None) -> Iterator[PullLog]:
    """Run one pull of `source/resource` and record it, whatever happens.

    Yields a new PullLog (pull id from the UTC clock, `since` the window's start) for the
    pull to fill in (pages through `land_page`, `cursor` as it saves it). On leaving: status
    "done" (or "skipped", when the pull set it and its reason in `error`: a resource the
    account does not have), or "failed" with the error; `finish(log)` (the caller's
    counters), the seconds taken, and the line appended to `<home>/pulls/log.jsonl`.

    Raises CredentialError and PullError as they came; a requests HTTPError (what is left
    after the client's retries) or any other requests failure as PullError, one line
    naming the source and the request, with `secrets` (read at the end: a token obtained
    during the pull may be added) removed from it and from the logged error.
    """
    started = time.perf_counter()
    log = PullLog(source, resource, datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ"), since)
    try:
        yield log
        if log.status == "running":  # a pull that found nothing to read set "skipped"
            log.status = "done"
    except (CredentialError, PullError) as exc:
        log.status, log.error = "failed", redact(str(exc), *secrets)
        raise
    except requests.HTTPError as exc:
        request = exc.response.request if exc.response is not None else exc.request
        what = f"{request.method} {urlsplit(request.url).path}" if request is not None else "a request"
        log.status, log.error = "failed", http_failure(source, what, exc.response, *secrets)
        raise PullError(log.error) from None
    except requests.ConnectionError as exc:
        url = urlsplit(exc.request.url if exc.request is not None else "")
        reason = str(exc).rsplit("Failed to establish a new connection: ", 1)[-1]
        reason = redact(reason, *secrets)[:200].rstrip(")\"'")
        log.status, log.error = "failed", (f"{source}: cannot connect to {url.scheme}://"
                                           f"{url.netloc} after retries: {reason}")
        raise PullError(log.error) from None
    except requests.RequestException as exc:
        log.status, log.error = "failed", f"{source}: {redact(str(exc), *secrets)}"
        raise PullError(log.error) from None
    finally:
        if finish:
            finish(log)
        log.seconds = round(time.perf_counter() - started, 3)
        log.append_to(home)


def csv_bytes(columns: list[str], rows: list[dict[str, str]], *, before: str = "") -> bytes:
    """`rows` (dicts keyed by `columns`) as a CSV file: UTF-8, `before` (a report's title
    lines) first, then the header and one line per row."""
    out = io.StringIO()
    out.write(before)
    writer = csv.DictWriter(out, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode()


def land_page(log: PullLog, landing: Path, folder: str, name: str, data: bytes, *, rows: int,
              records: int = 0, on_page: Callable[[str, int], None] | None = None) -> None:
    """Write one pulled page to `<landing>/<folder>/<name>` atomically, then count it in
    `log` (pages, rows, records, files) and report it to `on_page(name, records or rows)`.
    The failpoint "pull" between the file and the count is where the crash tests kill a
    pull: after its page, before its cursor."""
    write_atomic(Path(landing) / folder / name, data)
    failpoints.hit("pull")
    log.pages += 1
    log.rows += rows
    log.records += records
    log.files.append(f"{folder}/{name}")
    if on_page:
        on_page(name, records or rows)


def daily_window(saved: str | None, *, since: str | None, today: date, lookback_days: int,
                 initial_days: int) -> tuple[date, date]:
    """(first day, last day) a pull of daily ad reports asks for: from `since` (ISO date)
    when given, else `lookback_days` back from and including the saved cursor (the last day
    pulled: conversions settle late, so those days are asked again), else `initial_days`
    before `today`; up to yesterday. The first day is after the last when there is nothing
    to ask."""
    if since:
        first = date.fromisoformat(since[:10])
    elif saved:
        first = date.fromisoformat(saved) - timedelta(days=lookback_days - 1)
    else:
        first = today - timedelta(days=initial_days)
    return first, today - timedelta(days=1)
