"""Zendesk tickets pulled through the cursor-based incremental export (a local mock that
answers as Zendesk documents: tests/zendesk_mock.py) land as the ticket export."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import duckdb
import pytest

from orchestration.ingest import SPECS_BY_TABLE, ingest_source
from orchestration.pull import CredentialError
from orchestration.pull.gorgias import Pacer
from orchestration.pull.shopify import PullError
from orchestration.pull.zendesk import ZendeskSettings, pull_tickets
from tests.dbt_sql import build_model
from tests.zendesk_mock import ZendeskMock, metric_set, zendesk_ticket

EMAIL = "agent@store.example"
TOKEN = "zendesk_planted_token_a1b2c3d4e5"
TZ = "America/New_York"


def shop_tickets(n: int = 230):
    tickets, metrics = [], []
    for i in range(1, n + 1):
        day = 1 + i % 25
        tickets.append(zendesk_ticket(i, created=f"2026-11-{day:02d}T14:00:00Z",
                                      updated=f"2026-11-{day:02d}T{15 + i % 8:02d}:{i % 60:02d}:00Z",
                                      requester=1000 + i, channel=("email", "web", "chat")[i % 3],
                                      score=("good", "bad", "offered", "unoffered")[i % 4]))
        metrics.append(metric_set(i, assigned=f"2026-11-{day:02d}T14:05:00Z",
                                  solved=f"2026-11-{day:02d}T18:00:00Z"))
    users = [{"id": 1000 + i, "name": f"Customer {i}", "email": f"c{i}@example.com"}
             for i in range(1, n + 1)] + [{"id": 7, "name": "Sam Agent", "email": EMAIL}]
    return tickets, metrics, users


@pytest.fixture
def zendesk(httpserver):
    tickets, metrics, users = shop_tickets()
    return ZendeskMock(httpserver, email=EMAIL, token=TOKEN, tickets=tickets, metrics=metrics,
                       users=users)


@pytest.fixture
def settings(httpserver):
    return ZendeskSettings(subdomain="storeops-test", email=EMAIL, base_url=httpserver.url_for("/"))


def pull(home, landing, settings, **kwargs):
    return pull_tickets(home, landing, settings, timezone=TZ, token=TOKEN, backoff=0.05,
                        pacer=Pacer(calls=1000, window=60), **kwargs)


def test_a_pull_lands_the_ticket_export_and_the_next_resumes_from_zendesks_cursor(
        zendesk, settings, tmp_path):
    home, landing = tmp_path / "home", tmp_path / "landing"
    first = pull(home, landing, settings, since="2026-10-01T00:00:00+00:00")
    assert (first.status, first.records, first.pages, first.requests) == ("done", 230, 3, 3)
    assert "start_time" in zendesk.requests[0][0] and "cursor" in zendesk.requests[1][0]

    con = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    result = ingest_source(con, landing, SPECS_BY_TABLE["zendesk_tickets"], run_id="t",
                           timezone=TZ)
    assert result.rows_loaded == 230 and result.rows_quarantined == 0
    row = con.execute("""select requester_email, via, satisfaction_score, tags, "group",
                                created_at, solved_at, first_reply_time_in_minutes,
                                full_resolution_time_in_minutes_within_business_hours
                         from raw.zendesk_tickets where id = 6""").fetchone()
    # 14:00Z is 09:00 in New York, written without an offset as the export does, and
    # stored in UTC again by the loader.
    assert row[0] == "c6@example.com" and row[1] == "Mail" and row[2] == "Offered"
    assert row[3] == "order_status shipping" and row[4] == "Orders"
    assert str(row[5]) == "2026-11-07 14:00:00" and str(row[6]) == "2026-11-07 18:00:00"
    assert (row[7], row[8]) == (42.0, 420.0)

    # Two tickets change; the next pull starts at the saved cursor: one request, two rows.
    for t in zendesk.tickets:
        if t["id"] in (3, 4):
            t["status"], t["updated_at"] = "open", "2026-11-29T10:00:00Z"
    second = pull(home, landing, settings)
    assert (second.records, second.requests) == (2, 1)
    assert "cursor" in zendesk.requests[-1][0] and "start_time" not in zendesk.requests[-1][0]
    ingest_source(con, landing, SPECS_BY_TABLE["zendesk_tickets"], run_id="t", timezone=TZ)
    build_model(con, "stg_zendesk__tickets", {"store_timezone": TZ})
    rows = dict(con.execute("select helpdesk_ticket_id, status from staging.stg_zendesk__tickets"
                            ).fetchall())
    assert len(rows) == 230 and rows[3] == rows[4] == "open" and rows[5] == "solved"


def test_killed_between_a_page_and_its_cursor_it_resumes_and_never_leaks_the_token(
        zendesk, httpserver, tmp_path):
    home, landing = tmp_path / "home", tmp_path / "landing"
    home.mkdir()
    (home / "storeops.yml").write_text(
        f"timezone: {TZ}\nlanding: {landing}\nsources:\n  zendesk:\n    subdomain: storeops-test\n"
        f"    email: {EMAIL}\n    base_url: {httpserver.url_for('/')}\n    initial_days: 3650\n")
    env = {**os.environ, "ZENDESK_API_TOKEN": TOKEN, "STOREOPS_FAILPOINT": "pull:2"}
    cmd = [sys.executable, "-m", "orchestration.cli", "pull", "--home", str(home)]
    killed = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert killed.returncode == -9
    del env["STOREOPS_FAILPOINT"]
    resumed = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert resumed.returncode == 0, resumed.stderr
    # Page 2 was written but its cursor not saved: the resumed pull reads it again.
    assert "zendesk tickets: 130 records in 2 pages" in resumed.stdout
    con = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    result = ingest_source(con, landing, SPECS_BY_TABLE["zendesk_tickets"], run_id="t",
                           timezone=TZ)
    assert [f.status for f in result.files].count("skipped") == 1  # the same page twice
    build_model(con, "stg_zendesk__tickets", {"store_timezone": TZ})
    assert con.execute("select count(*), count(distinct helpdesk_ticket_id) "
                       "from staging.stg_zendesk__tickets").fetchone() == (230, 230)
    for text in (killed.stdout, killed.stderr, resumed.stdout, resumed.stderr):
        assert TOKEN not in text
    for path in [*home.rglob("*"), *landing.rglob("*")]:
        if path.is_file():
            assert TOKEN.encode() not in path.read_bytes(), path
    log = [json.loads(line) for line in (home / "pulls" / "log.jsonl").read_text().splitlines()]
    assert [e["status"] for e in log] == ["done"]  # the killed pull never got to log


def test_429_500_and_a_refused_token(zendesk, settings, tmp_path):
    zendesk.fail = {1: "429", 2: "500"}
    log = pull(tmp_path / "h", tmp_path / "l", settings, since="2026-10-01T00:00:00+00:00")
    assert log.records == 230 and [s for _, s in zendesk.requests[:3]] == [429, 500, 200]
    with pytest.raises(CredentialError, match="ZENDESK_API_TOKEN was refused by Zendesk"):
        pull_tickets(tmp_path / "h2", tmp_path / "l2", settings, timezone=TZ, token="nope",
                     backoff=0.05)
    zendesk.fail = {n: "500" for n in range(1, 100)}
    with pytest.raises(PullError, match="HTTP 500 after retries"):
        pull_tickets(tmp_path / "h3", tmp_path / "l3", settings, timezone=TZ, token=TOKEN,
                     backoff=0.01, max_attempts=3)
