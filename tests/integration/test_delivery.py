"""Issue 20, end to end: the demo store (the shared long-history store, copied) with a
real SMTP server (aiosmtpd) and a Slack webhook (pytest-httpserver) on 127.0.0.1.

- `storeops send --dry-run` writes every message under output/outbox/ and sends nothing;
  the brief's email HTML renders in headless Chromium.
- `storeops run` delivers the daily brief (email and Slack), the weekly and monthly
  reports, the alerts, one email per supplier with its XLSX and CSV, and the audience
  files (hashed, ad platforms only, with the manifest) to the data team; a 429 from Slack
  is waited out, a recipient deferred by the server (451) is retried by the next run.
- No customer's email address is in anything sent: the Klaviyo lists stay on disk.
- A second run delivers nothing new (only that retry).
- A reorder file unanswered for 25 hours: the escalation sensor asks for one pass, which
  sends exactly one escalation per file; the next asks for nothing.
- Data that failed a blocking check: a notice of what broke, nothing made from the data.
- The SMTP password and the webhook URL appear in no output, log or file.
"""

import csv
import email
import email.policy
import io
import json
import os
import re
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import duckdb
import openpyxl
import pytest
import yaml
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult
from werkzeug import Request, Response

from dashboards.reorder_files import supplier_file_stem
from tests.stores import copy_store

pytestmark = pytest.mark.integration

PASSWORD = "PLANTED-smtp-pw-5e6f"
SECRET_PATH = "/services/T0STORE/B0OPS/PLANTEDwebhook9a8b"
CHROMIUM = shutil.which("chromium")


class Relay:
    """Keeps every message; defers `flaky@` once (451) as a busy server would."""

    def __init__(self):
        self.messages: list[tuple[str, email.message.EmailMessage]] = []
        self.deferred = 0

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.startswith("flaky@") and not self.deferred:
            self.deferred += 1
            return "451 4.3.0 mailbox busy, try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        for to in envelope.rcpt_tos:
            self.messages.append((to, email.message_from_bytes(envelope.content,
                                                               policy=email.policy.default)))
        return "250 OK"

    def to(self, address: str) -> list[email.message.EmailMessage]:
        return [m for who, m in self.messages if who == address]


def _login(server, session, envelope, mechanism, auth_data):
    return AuthResult(success=auth_data.login == b"storeops@store.example"
                      and auth_data.password == PASSWORD.encode(), handled=False)


class Webhook:
    """A Slack incoming webhook: the first post gets 429 with Retry-After: 1."""

    def __init__(self, httpserver):
        self.posts: list[dict] = []
        self.statuses: list[int] = []
        httpserver.expect_request(SECRET_PATH, method="POST").respond_with_handler(self.handle)

    def handle(self, request: Request) -> Response:
        if not self.statuses:
            self.statuses.append(429)
            return Response("rate_limited", status=429, headers={"Retry-After": "1"})
        self.statuses.append(200)
        self.posts.append(json.loads(request.data))
        return Response("ok", status=200)


def _port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def relay():
    handler = Relay()
    controller = Controller(handler, hostname="127.0.0.1", port=_port(), authenticator=_login,
                            auth_require_tls=False)
    controller.start()
    yield handler, controller.port
    controller.stop()


def storeops(home: Path, *args: str, env: dict) -> subprocess.CompletedProcess:
    done = subprocess.run([sys.executable, "-m", "orchestration.cli", *args, "--home", str(home)],
                          env=env, capture_output=True, text=True, timeout=600, check=False)
    return done


def test_a_run_delivers_once_retries_escalates_once_and_never_leaks(
        long_history_store, relay, httpserver, tmp_path):
    relay_handler, port = relay
    webhook = Webhook(httpserver)
    settings = copy_store(long_history_store, tmp_path / "home")
    home = settings.home
    config = yaml.safe_load((home / "storeops.yml").read_text()) or {}
    config["delivery"] = {
        "email": {"host": "127.0.0.1", "port": port, "security": "none",
                  "from": "storeops@store.example", "username": "storeops@store.example",
                  "password_env": "STOREOPS_SMTP_PASSWORD"},
        "slack": {"webhook_env": "STOREOPS_SLACK_WEBHOOK_URL"},
        "recipients": {"daily_brief": ["owner@store.example", "flaky@store.example"],
                       "weekly_report": ["owner@store.example"],
                       "monthly_report": ["owner@store.example"],
                       "alerts": ["ops@store.example"], "escalation": ["owner@store.example"],
                       "audiences": ["data@store.example"],
                       "buyers": {"default": "buyer@store.example"}},
    }
    (home / "storeops.yml").write_text(yaml.safe_dump(config))
    env = {**{k: v for k, v in os.environ.items() if not k.startswith(("HTTP_PROXY", "HTTPS_PROXY",
                                                                     "http_proxy", "https_proxy"))},
           "STOREOPS_SMTP_PASSWORD": PASSWORD,
           "STOREOPS_SLACK_WEBHOOK_URL": httpserver.url_for(SECRET_PATH)}
    outputs = []

    # 1. Preview: every message as files, nothing sent, nothing recorded.
    preview = storeops(home, "send", "--dry-run", env=env)
    outputs.append(preview.stdout + preview.stderr)
    assert preview.returncode == 0, preview.stderr
    folders = list((home / "output" / "outbox").iterdir())
    assert len(folders) == 1
    files = sorted(p.name for p in folders[0].iterdir())
    assert any(n.startswith("daily_brief-") and n.endswith("owner-store.example.html") for n in files), files
    assert any(n.startswith("daily_brief-") and n.endswith(".slack.json") for n in files), files
    assert any(n.startswith("reorder_file-") and n.endswith(".eml") for n in files), files
    assert any(n.startswith("audiences-") and n.endswith("data-store.example.eml") for n in files), files
    assert relay_handler.messages == [] and webhook.statuses == []
    if CHROMIUM:  # the brief's email as a mail client's web view would draw it
        page = next(p for p in folders[0].iterdir()
                    if p.name.startswith("daily_brief-") and p.name.endswith("owner-store.example.html"))
        common = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                  f"--user-data-dir={tmp_path / 'chromium'}", "--host-resolver-rules=MAP * ~NOTFOUND"]
        dom = subprocess.run([*common, "--dump-dom", page.as_uri()], capture_output=True,
                             text=True, timeout=120, check=True).stdout
        assert "Daily brief" in dom and "At a glance" in dom and "vs last week" in dom
        shot = tmp_path / "brief.png"
        subprocess.run([*common, "--window-size=700,1600", f"--screenshot={shot}", page.as_uri()],
                       capture_output=True, timeout=120, check=True)
        assert shot.stat().st_size > 20_000  # a page with text on it, not a blank one

    # 2. The run delivers.
    first = storeops(home, "run", env=env)
    outputs.append(first.stdout + first.stderr)
    assert first.returncode == 0, first.stdout + first.stderr
    assert "Delivered:" in first.stdout
    # Who receives what is not what the warehouse is built from: no rebuild for it.
    assert "Nothing to rebuild" in first.stdout, first.stdout
    briefs = relay_handler.to("owner@store.example")
    subjects = [m["subject"] for m in briefs]
    assert sum(s.startswith("Daily brief") for s in subjects) == 1, subjects
    assert sum(s.startswith("Weekly report") for s in subjects) == 1, subjects
    assert sum(s.startswith("Monthly report") for s in subjects) == 1, subjects
    brief = next(m for m in briefs if m["subject"].startswith("Daily brief"))
    assert brief["Message-ID"].endswith("@storeops>")
    html = brief.get_body(("html",)).get_content()
    assert "At a glance" in html and "<style" not in html  # styles inline, for mail clients
    assert "At a glance" in brief.get_body(("plain",)).get_content()
    assert relay_handler.to("flaky@store.example") == []  # deferred: retried next time
    assert webhook.statuses[:2] == [429, 200]  # waited out Slack's Retry-After
    assert webhook.posts[0]["blocks"][0]["type"] == "header"
    assert webhook.posts[0]["text"].startswith("Daily brief")

    con = duckdb.connect(str(home / "warehouse.duckdb"), read_only=True)
    as_of = con.execute("select max(as_of_date) from analytics.reorder_file_log").fetchone()[0]
    suppliers = [s for (s,) in con.execute(
        "select distinct supplier from analytics.reorder_file_log where as_of_date = ? and lines > 0",
        [as_of]).fetchall()]
    outbox_rows = con.execute("select kind, channel, status, count(*) from analytics.outbox "
                              "group by all order by all").fetchall()
    con.close()
    assert suppliers
    files_sent = relay_handler.to("buyer@store.example")
    assert sorted(m["subject"] for m in files_sent) == sorted(
        f"Reorder file for {s}, {as_of:%d %b %Y}" for s in suppliers)
    for message in files_sent:
        attached = {part.get_filename(): part.get_content() for part in message.iter_attachments()}
        stem = supplier_file_stem(message["subject"].removeprefix("Reorder file for ").split(",")[0])
        assert set(attached) == {f"{stem}.xlsx", f"{stem}.csv"}
        sheet = openpyxl.load_workbook(io.BytesIO(attached[f"{stem}.xlsx"])).active
        cells = [c.value for row in sheet.iter_rows(max_row=10) for c in row]
        assert "sku" in cells and "approved_qty" in cells
        assert "approved_qty" in attached[f"{stem}.csv"].splitlines()[0]  # text/csv: a str
        assert "What is asked" in message.get_body(("plain",)).get_content()
    assert ("daily_brief", "email", "failed", 1) in outbox_rows, outbox_rows
    assert ("audiences", "email", "sent", 1) in outbox_rows, outbox_rows
    assert not any(kind == "audiences" and channel == "slack" for kind, channel, *_ in outbox_rows)

    # The data team gets the ad-platform audience files (hashed) and the manifest, byte for
    # byte; the Klaviyo lists (plain emails) are named with their folder, not attached.
    folder = home / "output" / "audiences" / as_of.isoformat()
    with (folder / "manifest.csv").open() as handle:
        manifest = list(csv.DictReader(handle))
    [audiences] = relay_handler.to("data@store.example")
    assert audiences["subject"] == f"Audience files, {as_of:%d %b %Y}"
    attached = {part.get_filename(): part.get_payload(decode=True)
                for part in audiences.iter_attachments()}
    platform_files = {e["file"] for e in manifest if e["platform"] in ("meta", "google", "tiktok")}
    klaviyo_files = {e["file"] for e in manifest if e["platform"] == "klaviyo"}
    assert platform_files and klaviyo_files
    assert set(attached) == platform_files | {"manifest.csv"}
    for name, data in attached.items():
        assert data == (folder / name).read_bytes(), name
        assert b"@" not in data, name
    body = audiences.get_body(("plain",)).get_content()
    assert f"{folder}/" in body and all(name in body for name in klaviyo_files)
    report = (home / "output" / "quality" / "index.html").read_text()
    assert "Deliveries (email and Slack)" in report and "1 not delivered" in report
    assert "flaky@store.example" not in report  # addresses masked there
    sent_first = len(relay_handler.messages)

    # 3. A second run: nothing new but the retry of the deferred brief.
    second = storeops(home, "run", env=env)
    outputs.append(second.stdout + second.stderr)
    assert second.returncode == 0, second.stdout + second.stderr
    assert len(relay_handler.messages) == sent_first + 1
    assert [m["subject"] for m in relay_handler.to("flaky@store.example")] == [brief["subject"]]
    assert relay_handler.to("flaky@store.example")[0]["Message-ID"] != brief["Message-ID"]
    posts = len(webhook.posts)

    # 4. 25 hours later nobody has answered the files: one escalation each, once.
    with duckdb.connect(str(home / "warehouse.duckdb")) as con:
        con.execute("update analytics.reorder_file_log set written_at = written_at - interval 25 hour")
        waiting = con.execute("select count(distinct supplier || as_of_date) from analytics.reorder_file_log "
                              "where not is_reviewed and lines > 0").fetchone()[0]
    assert waiting >= 1
    requested = _sensor(home)
    assert requested is not None and requested.run_key.startswith("escalate:")
    sent = storeops(home, "send", env=env)
    outputs.append(sent.stdout + sent.stderr)
    assert sent.returncode == 0, sent.stderr
    escalations = [m for m in relay_handler.to("owner@store.example")
                   if m["subject"].startswith("Unanswered for")]
    assert len(escalations) == waiting, "\n".join(f"{w}: {m['subject']}" for w, m in relay_handler.messages)
    assert len(webhook.posts) == posts + waiting
    again = storeops(home, "send", env=env)
    outputs.append(again.stdout + again.stderr)
    assert len([m for m in relay_handler.to("owner@store.example")
                if m["subject"].startswith("Unanswered for")]) == waiting
    assert _sensor(home) is None

    # 5. Data that failed a blocking check: a notice, nothing made from the data.
    from orchestration.delivery.send import deliver
    from orchestration.settings import Settings

    mine = Settings.load(home)
    from orchestration.delivery.settings import DeliverySettings

    before = len(relay_handler.messages)
    os.environ["STOREOPS_SMTP_PASSWORD"] = PASSWORD
    try:
        with duckdb.connect(str(home / "warehouse.duckdb")) as con:
            report = deliver(con, DeliverySettings.from_config(mine.delivery), home=home,
                             as_of=as_of, currency=mine.currency,
                             failed_checks=["raw/shopify_orders: gx_suite"])
    finally:
        del os.environ["STOREOPS_SMTP_PASSWORD"]
    new = relay_handler.messages[before:]
    assert {m["subject"] for _, m in new} == {f"No brief for {as_of:%a %d %b %Y}: data checks failed"}
    assert "raw/shopify_orders: gx_suite" in new[0][1].get_body(("plain",)).get_content()
    assert report.sent == {"notice/email": 2}

    # 6. No secret anywhere, and no customer's email address in anything sent.
    everything = "\n".join(outputs) + json.dumps(webhook.posts)
    everything += "".join(m.as_string() for _, m in relay_handler.messages)
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as con:
        addresses = {e.lower() for (e,) in con.execute(
            "select email from marts.dim_customers where email is not null").fetchall()}
    assert len(addresses) > 100
    sent = json.dumps(webhook.posts).lower() + "".join(
        part.get_payload(decode=True).decode("utf-8", "replace").lower()
        for _, m in relay_handler.messages for part in m.walk() if not part.is_multipart())
    assert not [a for a in addresses if a in sent]
    assert set(re.findall(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+", sent)) <= {
        "owner@store.example", "flaky@store.example", "ops@store.example",
        "buyer@store.example", "data@store.example", "storeops@store.example"}
    for path in home.rglob("*"):
        if path.is_file() and path.stat().st_size < 50_000_000:
            data = path.read_bytes()
            assert PASSWORD.encode() not in data and SECRET_PATH.encode() not in data, path
    assert PASSWORD not in everything and SECRET_PATH not in everything


def _sensor(home: Path):
    """The escalation sensor evaluated once on this home: its RunRequest, or None."""
    import dagster as dg

    from orchestration.defs.delivery import reorder_escalation_sensor
    from orchestration.defs.resources import resources_for
    from orchestration.settings import Settings

    resources = resources_for(Settings.load(home))
    with dg.DagsterInstance.ephemeral() as instance:
        result = reorder_escalation_sensor(dg.build_sensor_context(
            instance=instance, resources=resources))
    return result if isinstance(result, dg.RunRequest) else None


def _audience_folder(home: Path, as_of) -> Path:
    """A home's output/audiences/<as_of>/ with a manifest of three files: a Meta file of
    hashes, a TikTok file in which an address was planted, and a Klaviyo list."""
    folder = home / "output" / "audiences" / as_of.isoformat()
    folder.mkdir(parents=True)
    digest = "a" * 64
    (folder / "meta_vip.csv").write_text("email,phone\n" + f"{digest},{digest}\n" * 2000)
    (folder / "tiktok_vip_email.csv").write_text(f"Email_SHA256\n{digest}\nleak@example.com\n")
    (folder / "klaviyo_vip.csv").write_text("Email,First Name,Last Name\nann@example.com,Ann,Lee\n")
    (folder / "manifest.csv").write_text(
        "file,segment,platform,rows,match_keys,built_from,note\n"
        "meta_vip.csv,vip,meta,2000,email (SHA-256),top 10%,\n"
        "tiktok_vip_email.csv,vip,tiktok,2,Email_SHA256,top 10%,\"under 1,000 rows\"\n"
        "klaviyo_vip.csv,vip,klaviyo,1,Email (plain),top 10%,\n")
    return folder


def test_audience_files_are_zipped_when_big_and_never_carry_an_address(tmp_path):
    """The size rules and the address guard of the audience email, on a hand-made folder:
    no file that holds an address is attached (the planted one is held back and named),
    big attachments go zipped, and too big even zipped only the manifest goes; Slack
    cannot be asked to post them."""
    import datetime as dt
    import zipfile

    from orchestration.delivery.messages import audience_files
    from orchestration.delivery.settings import DeliveryConfigError, DeliverySettings

    as_of = dt.date(2026, 11, 22)
    folder = _audience_folder(tmp_path, as_of)
    settings = DeliverySettings.from_config({
        "email": {"host": "127.0.0.1", "security": "none", "from": "storeops@store.example"},
        "recipients": {"audiences": ["data@store.example"]}})

    [plain] = audience_files(settings, home=tmp_path, as_of=as_of)
    assert plain.key == "audiences:2026-11-22" and plain.to == ("data@store.example",)
    assert plain.slack is None
    assert [name for name, _, _ in plain.attachments] == ["meta_vip.csv", "manifest.csv"]
    assert "tiktok_vip_email.csv (something in it looks like an email address" in plain.text
    assert "ann@example.com" not in plain.text + plain.html and "klaviyo_vip.csv" in plain.text

    size = (folder / "meta_vip.csv").stat().st_size
    [zipped] = audience_files(settings, home=tmp_path, as_of=as_of, max_attached_bytes=size // 2)
    [(name, data, kind)] = zipped.attachments
    assert (name, kind) == ("audiences-2026-11-22.zip", "application/zip")
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert archive.namelist() == ["meta_vip.csv", "manifest.csv"]
        assert archive.read("meta_vip.csv") == (folder / "meta_vip.csv").read_bytes()

    [manifest_only] = audience_files(settings, home=tmp_path, as_of=as_of, max_attached_bytes=100)
    assert [name for name, _, _ in manifest_only.attachments] == ["manifest.csv"]
    assert f"the files are in {folder}" in manifest_only.text

    assert audience_files(settings, home=tmp_path, as_of=as_of - dt.timedelta(days=1)) == []
    assert audience_files(DeliverySettings(), home=tmp_path, as_of=as_of) == []
    with pytest.raises(DeliveryConfigError, match="audiences"):
        DeliverySettings.from_config({"slack": {"kinds": ["daily_brief", "audiences"]}})
