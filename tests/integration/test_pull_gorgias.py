"""Gorgias tickets pulled through the REST API (a local mock that answers as Gorgias
documents: tests/gorgias_mock.py) land as the JSON lines the loader reads."""

from __future__ import annotations

import base64
import json

import duckdb
import pytest

from orchestration.ingest import SPECS_BY_TABLE, ingest_source
from orchestration.pull import CredentialError
from orchestration.pull.gorgias import GorgiasSettings, Pacer, pull_tickets
from orchestration.pull.shopify import PullError
from tests.dbt_sql import build_model
from tests.gorgias_mock import GorgiasMock, ticket

USER = "ops@store.example"
KEY = "gorgias_planted_key_9f8e7d6c5b4a"


def tickets(n: int = 250) -> list[dict]:
    return [ticket(i, created=f"2026-11-{1 + i % 20:02d}T09:00:00+00:00",
                   updated=f"2026-11-{1 + i % 20:02d}T{10 + i % 12:02d}:{i % 60:02d}:00+00:00")
            for i in range(1, n + 1)]


@pytest.fixture
def gorgias(httpserver):
    return GorgiasMock(httpserver, username=USER, key=KEY, tickets=tickets())


@pytest.fixture
def settings(httpserver):
    return GorgiasSettings(domain="storeops-test", username=USER, base_url=httpserver.url_for("/"))


def load(landing, con):
    return ingest_source(con, landing, SPECS_BY_TABLE["gorgias_tickets"], run_id="test",
                         timezone="UTC")


def test_a_pull_then_an_incremental_pull_and_newest_wins(gorgias, settings, tmp_path):
    home, landing = tmp_path / "home", tmp_path / "landing"
    first = pull_tickets(home, landing, settings, key=KEY, backoff=0.05)
    assert (first.status, first.records, first.pages, first.requests) == ("done", 250, 3, 3)
    newest = max(t["updated_datetime"] for t in gorgias.tickets)
    assert first.cursor == newest
    assert [p.get("limit") for p, _ in gorgias.requests] == ["100"] * 3

    # Two tickets change (one reopened), then a pull reads newest first and stops at the
    # first ticket older than the cursor: one request.
    for t in gorgias.tickets:
        if t["id"] in (7, 8):
            t["status"], t["updated_datetime"] = "open", "2026-11-30T08:00:00+00:00"
    at_cursor = sum(t["updated_datetime"] == newest for t in gorgias.tickets)
    before = len(gorgias.requests)
    second = pull_tickets(home, landing, settings, key=KEY, backoff=0.05)
    assert second.records == 2 + at_cursor  # the changed and those at the old cursor
    assert len(gorgias.requests) - before == second.requests == 1
    assert second.cursor == "2026-11-30T08:00:00+00:00"

    con = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    result = load(landing, con)
    assert result.rows_loaded == 250 + 2 + at_cursor and result.rows_quarantined == 0
    build_model(con, "stg_gorgias__tickets", {"store_timezone": "UTC"})
    rows = dict(con.execute("select ticket_id, status from staging.stg_gorgias__tickets").fetchall())
    assert len(rows) == 250
    assert rows["gorgias-7"] == rows["gorgias-8"] == "open" and rows["gorgias-9"] == "closed"
    log = [json.loads(line) for line in (home / "pulls" / "log.jsonl").read_text().splitlines()]
    assert [(e["source"], e["records"]) for e in log] == [("gorgias", 250), ("gorgias", 2 + at_cursor)]


def test_the_rate_limit_is_kept_and_a_429_is_retried_after_retry_after(httpserver, settings, tmp_path):
    # 5 calls per 2 seconds here (40 per 20 s at Gorgias): the pacer waits instead of
    # running into 429s; a planned 429 is retried after its Retry-After (1 s).
    gorgias = GorgiasMock(httpserver, username=USER, key=KEY, tickets=tickets(700),
                          calls=5, window=2.0)
    gorgias.fail = {2: "429"}
    log = pull_tickets(tmp_path / "home", tmp_path / "landing", settings, key=KEY,
                       backoff=0.05, pacer=Pacer(calls=5, window=2.0))
    assert log.status == "done" and log.records == 700 and log.pages == 7
    statuses = [s for _, s in gorgias.requests]
    assert statuses.count(429) == 1 and statuses[1] == 429
    assert log.requests == len(gorgias.requests) == 8
    assert log.throttle_waits >= 1 and log.throttle_seconds > 0


def test_a_refused_key_and_a_failing_server_stop_with_one_clear_line(gorgias, settings, tmp_path):
    with pytest.raises(CredentialError) as refused:
        pull_tickets(tmp_path / "h1", tmp_path / "l1", settings, key="wrong", backoff=0.05)
    assert "GORGIAS_API_KEY was refused by Gorgias" in str(refused.value)
    assert "wrong" not in str(refused.value).replace("wrong password", "")
    gorgias.fail = {n: "500" for n in range(1, 20)}
    with pytest.raises(PullError, match="HTTP 500 after retries") as failed:
        pull_tickets(tmp_path / "h2", tmp_path / "l2", settings, key=KEY, backoff=0.01,
                     max_attempts=3)
    # The server quoted the Basic header: its base64 (user:key) is cut like the key itself.
    encoded = base64.b64encode(f"{USER}:{KEY}".encode())
    assert "Authorization: Basic ***" in str(failed.value)
    assert encoded.decode() not in str(failed.value)
    for path in [*tmp_path.rglob("*")]:
        if path.is_file():
            assert KEY.encode() not in path.read_bytes()
            assert encoded not in path.read_bytes()


def test_storeops_pull_gorgias_from_the_command_line(gorgias, httpserver, tmp_path):
    import os
    import subprocess
    import sys

    home = tmp_path / "home"
    home.mkdir()
    (home / "storeops.yml").write_text(
        f"sources:\n  gorgias:\n    domain: storeops-test\n    username: {USER}\n"
        f"    base_url: {httpserver.url_for('/')}\n")
    cmd = [sys.executable, "-m", "orchestration.cli", "pull", "--home", str(home),
           "--source", "gorgias"]
    env = {k: v for k, v in os.environ.items() if k != "GORGIAS_API_KEY"}
    missing = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert missing.returncode == 2
    assert missing.stderr.strip().splitlines() == [(
        "GORGIAS_API_KEY is not set: export GORGIAS_API_KEY=<Gorgias REST API key> "
        "(or put it in the file named by $STOREOPS_SECRETS_FILE)")]
    secrets = tmp_path / "secrets.env"  # the key from a file outside the repository
    secrets.write_text(f"# storeops\nGORGIAS_API_KEY={KEY}\n")
    pulled = subprocess.run(cmd, env={**env, "STOREOPS_SECRETS_FILE": str(secrets)},
                            capture_output=True, text=True, timeout=120, check=False)
    assert pulled.returncode == 0, pulled.stderr
    assert "gorgias tickets: 250 records in 3 pages" in pulled.stdout
    assert KEY not in pulled.stdout + pulled.stderr
    assert len(list((home / "landing" / "gorgias").glob("api_tickets_*.jsonl"))) == 3

    # A source that cannot be pulled (no token) is said in one line; the others are pulled
    # all the same, and the exit code says something failed.
    (home / "storeops.yml").write_text(
        f"sources:\n  meta:\n    account_id: '42'\n    base_url: {httpserver.url_for('/')}\n"
        f"  gorgias:\n    domain: storeops-test\n    username: {USER}\n"
        f"    base_url: {httpserver.url_for('/')}\n")
    both = subprocess.run(cmd[:-2], env={**env, "STOREOPS_SECRETS_FILE": str(secrets)},
                          capture_output=True, text=True, timeout=120, check=False)
    assert both.returncode == 2
    assert both.stderr.strip().splitlines() == [(
        "META_ACCESS_TOKEN is not set: export META_ACCESS_TOKEN=<Meta Marketing API access "
        "token> (or put it in the file named by $STOREOPS_SECRETS_FILE)")]
    assert "gorgias tickets:" in both.stdout
