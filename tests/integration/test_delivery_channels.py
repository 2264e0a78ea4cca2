"""Delivery channels against real local servers: aiosmtpd as the SMTP relay (plain,
STARTTLS with a self-signed certificate and AUTH, implicit TLS), pytest-httpserver as the
Slack webhook. Planted secrets must never reach a log record or an error's text."""

import base64
import datetime as dt
import email
import email.policy
import io
import ipaddress
import logging
import pickle
import socket
import ssl
from contextlib import contextmanager

import openpyxl
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from werkzeug import Response

from orchestration.delivery.channels import (
    DeliveryError,
    SmtpSettings,
    build_email,
    post_slack,
    send_email,
)

pytestmark = pytest.mark.integration

USER = "storeops@shop.example"
PASSWORD = "PLANTED-pw-7f3a9c"
MESSAGE_ID = "<3f9a1c2e8b7d4a60b1c2d3e4f5a6b7c8.brief.2026-03-02@storeops>"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
SECRET_PATH = "/services/T000/B000/PLANTEDsecret"
WEBHOOK_ENV = "STOREOPS_SLACK_WEBHOOK_URL"
CSV = "sku,name,qty\r\nMUG-BLUE,Tasse bleue é,48\r\n".encode()


class Relay:
    """aiosmtpd handler: keeps what it accepts; refuses recipients starting with
    'nobody@' (550) and, when told, defers DATA (451)."""

    def __init__(self, data_reply: str | None = None):
        self.data_reply = data_reply
        self.envelopes = []

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.startswith("nobody@"):
            return "550 5.1.1 no such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.data_reply:
            return self.data_reply
        self.envelopes.append(envelope)
        return "250 OK"

    def received(self):
        [envelope] = self.envelopes
        return envelope, email.message_from_bytes(envelope.content, policy=email.policy.default)


def authenticator(server, session, envelope, mechanism, auth_data):
    ok = auth_data.login == USER.encode() and auth_data.password == PASSWORD.encode()
    return AuthResult(success=ok, handled=False)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def relay(handler, **smtp_options):
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port, **smtp_options)
    controller.start()
    try:
        yield port
    finally:
        controller.stop()


@pytest.fixture(scope="module")
def certificate(tmp_path_factory):
    """A self-signed certificate for localhost / 127.0.0.1: (cert path, key path)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([
                x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    folder = tmp_path_factory.mktemp("tls")
    cert_path, key_path = folder / "relay.pem", folder / "relay.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return str(cert_path), str(key_path)


def server_context(certificate) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(*certificate)
    return context


@pytest.fixture
def logs(caplog):
    caplog.set_level(logging.DEBUG)
    return caplog


def assert_password_kept(caplog, *errors):
    # smtplib sends it base64-encoded; neither form may be logged (server side included).
    encoded = base64.b64encode(PASSWORD.encode()).decode()
    texts = [record.getMessage() for record in caplog.records] + [str(e) for e in errors]
    assert not [t for t in texts if PASSWORD in t or encoded in t]


def brief(**overrides):
    fields = {"sender": USER, "to": ["buyer@shop.example"],
              "subject": "Weekly brief: 3 to reorder",
              "text": "Three products need reordering.", "message_id": MESSAGE_ID}
    return build_email(**{**fields, **overrides})


def xlsx_bytes() -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["sku", "order_quantity"])
    sheet.append(["MUG-BLUE", 48])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


# --- email -------------------------------------------------------------------------------

def test_plain_delivery_to_a_local_relay(logs):
    handler = Relay()
    with relay(handler) as port:
        send_email(SmtpSettings(host="127.0.0.1", port=port, security="none", sender=USER),
                   brief(cc=["owner@shop.example"], reply_to="owner@shop.example"),
                   password=None)
    envelope, received = handler.received()
    assert envelope.mail_from == USER
    assert envelope.rcpt_tos == ["buyer@shop.example", "owner@shop.example"]
    assert received["Subject"] == "Weekly brief: 3 to reorder"
    assert received["Message-ID"] == MESSAGE_ID
    assert received["Reply-To"] == "owner@shop.example"
    assert received["Date"] is not None
    assert received.get_content_type() == "text/plain"
    assert received.get_content().strip() == "Three products need reordering."


@pytest.mark.parametrize("mechanism", ["LOGIN", "PLAIN"])
def test_starttls_and_auth_carry_html_text_and_an_xlsx_intact(logs, certificate, mechanism):
    handler = Relay()
    content = xlsx_bytes()
    message = brief(html="<p>Three products need <b>reordering</b>.</p>",
                    attachments=[("reorder_2026-03-02.xlsx", content, XLSX),
                                 ("reorder.csv", CSV, "text/csv")])
    other = {"LOGIN": "PLAIN", "PLAIN": "LOGIN"}[mechanism]
    with relay(handler, tls_context=server_context(certificate), require_starttls=True,
               auth_required=True, authenticator=authenticator,
               auth_exclude_mechanism=[other]) as port:
        send_email(SmtpSettings(host="localhost", port=port, security="starttls", sender=USER,
                                username=USER, ca_file=certificate[0]),
                   message, password=PASSWORD)
    envelope, received = handler.received()
    assert envelope.rcpt_tos == ["buyer@shop.example"]
    assert received["Message-ID"] == MESSAGE_ID
    assert received.get_content_type() == "multipart/mixed"
    assert received.get_body(("plain",)).get_content().strip() == \
        "Three products need reordering."
    assert "<b>reordering</b>" in received.get_body(("html",)).get_content()
    attachments = {part.get_filename(): part for part in received.iter_attachments()}
    assert attachments["reorder_2026-03-02.xlsx"].get_content_type() == XLSX
    assert attachments["reorder_2026-03-02.xlsx"].get_content() == content
    sheet = openpyxl.load_workbook(io.BytesIO(attachments["reorder_2026-03-02.xlsx"]
                                              .get_content())).active
    assert sheet["A2"].value == "MUG-BLUE" and sheet["B2"].value == 48
    assert attachments["reorder.csv"].get_content_type() == "text/csv"
    assert attachments["reorder.csv"].get_content_charset() == "utf-8"
    assert attachments["reorder.csv"].get_payload(decode=True) == CSV
    assert_password_kept(logs)


# aiosmtpd warns that AUTH without STARTTLS is unsafe; here the whole session is TLS.
@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
def test_implicit_tls(logs, certificate):
    handler = Relay()
    # aiosmtpd counts only STARTTLS as TLS: over implicit TLS it hides AUTH unless told.
    with relay(handler, ssl_context=server_context(certificate), authenticator=authenticator,
               auth_required=True, auth_require_tls=False) as port:
        send_email(SmtpSettings(host="localhost", port=port, security="tls", sender=USER,
                                username=USER, ca_file=certificate[0]),
                   brief(), password=PASSWORD)
    assert handler.received()[1]["Message-ID"] == MESSAGE_ID
    assert_password_kept(logs)


def test_an_untrusted_certificate_is_not_retryable(logs, certificate):
    server = relay(Relay(), tls_context=server_context(certificate))
    with server as port, pytest.raises(DeliveryError) as failure:
        send_email(SmtpSettings(host="localhost", port=port, sender=USER), brief(),
                   password=None)
    assert not failure.value.retryable
    assert "ca_file" in str(failure.value)


def test_a_wrong_password_names_the_variable_not_the_password(logs, certificate):
    wrong = PASSWORD + "-but-wrong"
    server = relay(Relay(), tls_context=server_context(certificate), require_starttls=True,
                   auth_required=True, authenticator=authenticator)
    with server as port, pytest.raises(DeliveryError) as failure:
        send_email(SmtpSettings(host="localhost", port=port, sender=USER, username=USER,
                                password_env="SHOP_SMTP_PASSWORD", ca_file=certificate[0]),
                   brief(), password=wrong)
    assert not failure.value.retryable
    assert "$SHOP_SMTP_PASSWORD" in str(failure.value) and "535" in str(failure.value)
    assert wrong not in str(failure.value) and wrong not in logs.text
    assert_password_kept(logs, failure.value)


def test_a_deferred_message_is_retryable(logs):
    server = relay(Relay(data_reply="451 4.3.0 try later"))
    with server as port, pytest.raises(DeliveryError) as failure:
        send_email(SmtpSettings(host="127.0.0.1", port=port, security="none", sender=USER),
                   brief(), password=None)
    assert failure.value.retryable
    assert str(failure.value).endswith("sending: 451 4.3.0 try later")


def test_an_unknown_recipient_is_not_retryable(logs):
    with relay(Relay()) as port, pytest.raises(DeliveryError) as failure:
        send_email(SmtpSettings(host="127.0.0.1", port=port, security="none",
                                sender=USER), brief(to=["nobody@shop.example"]),
                   password=None)
    assert not failure.value.retryable
    assert "nobody@shop.example: 550 5.1.1 no such user" in str(failure.value)


def test_one_refused_recipient_of_two_is_reported_and_not_resent(logs):
    handler = Relay()
    with relay(handler) as port, pytest.raises(DeliveryError) as failure:
        send_email(SmtpSettings(host="127.0.0.1", port=port, security="none",
                                sender=USER),
                   brief(to=["buyer@shop.example", "nobody@shop.example"]),
                   password=None)
    assert not failure.value.retryable
    assert handler.received()[0].rcpt_tos == ["buyer@shop.example"]


def test_a_closed_port_is_retryable(logs):
    with pytest.raises(DeliveryError) as failure:
        send_email(SmtpSettings(host="127.0.0.1", port=free_port(), security="none",
                                sender=USER, timeout=2), brief(), password=None)
    assert failure.value.retryable
    assert "ConnectionRefusedError" in str(failure.value)


def test_no_starttls_offered_is_refused(logs):
    with relay(Relay()) as port, pytest.raises(DeliveryError, match="STARTTLS") as failure:
        send_email(SmtpSettings(host="127.0.0.1", port=port, sender=USER), brief(),
                   password=None)
    assert not failure.value.retryable


def test_login_in_clear_to_a_remote_host_is_refused_before_connecting(logs):
    with pytest.raises(DeliveryError, match="without TLS") as failure:
        send_email(SmtpSettings(host="smtp.shop.example", security="none", sender=USER,
                                username=USER), brief(), password=PASSWORD)
    assert not failure.value.retryable
    assert_password_kept(logs, failure.value)


def test_build_email_says_what_to_fix():
    with pytest.raises(ValueError, match="message_id"):
        brief(message_id="no-angle-brackets@storeops")
    with pytest.raises(ValueError, match="MIME type"):
        brief(attachments=[("a.csv", b"x", "csv")])
    with pytest.raises(ValueError, match="recipient"):
        brief(to=[])


def test_delivery_error_keeps_retryable_through_pickle():
    error = pickle.loads(pickle.dumps(DeliveryError("email via x:587: 451 later", True)))
    assert error.retryable and str(error) == "email via x:587: 451 later"


# --- Slack -------------------------------------------------------------------------------

@pytest.fixture
def webhook(httpserver, monkeypatch):
    for name in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy"):
        monkeypatch.delenv(name, raising=False)  # slack_sdk would send a local URL there
    return httpserver.url_for(SECRET_PATH)


def assert_secret_kept(caplog, *errors):
    # werkzeug's access log belongs to the stand-in Slack server, not to storeops.
    ours = [r.getMessage() for r in caplog.records if not r.name.startswith("werkzeug")]
    assert not [t for t in ours + [str(e) for e in errors] if "PLANTEDsecret" in t]


def counting(*replies):
    """A handler answering with `replies` in turn (the last one repeated) and counting."""
    calls = []

    def handler(request):
        calls.append(request.get_json())
        status, body, headers = replies[min(len(calls), len(replies)) - 1]
        return Response(body, status=status, headers=headers)

    return handler, calls


def test_block_kit_payload_arrives_as_sent(logs, httpserver, webhook):
    payload = {"text": "Weekly brief: 3 to reorder", "blocks": [
        {"type": "header", "text": {"type": "plain_text", "text": "Weekly brief"}},
        {"type": "section", "text": {"type": "mrkdwn", "text": "*MUG-BLUE*: order 48"}}]}
    httpserver.expect_request(SECRET_PATH, method="POST").respond_with_data("ok")
    post_slack(webhook, payload)
    [(request, _)] = httpserver.log
    assert request.headers["Content-Type"].startswith("application/json")
    assert request.get_json() == payload
    # slack_sdk logged the request; the variable's name stands in for the URL.
    assert any(f"url: ${WEBHOOK_ENV}" in r.getMessage() for r in logs.records)
    assert_secret_kept(logs)


def test_rate_limit_waits_retry_after_then_succeeds(logs, httpserver, webhook):
    handler, calls = counting((429, "rate_limited", {"Retry-After": "1"}), (200, "ok", {}))
    httpserver.expect_request(SECRET_PATH).respond_with_handler(handler)
    post_slack(webhook, {"text": "hello"})
    assert len(calls) == 2
    assert_secret_kept(logs)


def test_server_errors_are_retried(logs, httpserver, webhook):
    handler, calls = counting((500, "rollup_error", {}), (500, "rollup_error", {}),
                              (200, "ok", {}))
    httpserver.expect_request(SECRET_PATH).respond_with_handler(handler)
    post_slack(webhook, {"text": "hello"})
    assert len(calls) == 3
    assert_secret_kept(logs)


def test_a_revoked_webhook_names_the_variable_not_the_url(logs, httpserver, webhook):
    handler, calls = counting((404, "no_service", {}))
    httpserver.expect_request(SECRET_PATH).respond_with_handler(handler)
    with pytest.raises(DeliveryError) as failure:
        post_slack(webhook, {"text": "hello"})
    assert len(calls) == 1
    assert not failure.value.retryable
    assert f"${WEBHOOK_ENV}" in str(failure.value)
    assert "404" in str(failure.value) and "no_service" in str(failure.value)
    assert webhook not in str(failure.value)
    assert_secret_kept(logs, failure.value)


def test_rate_limited_to_the_end_is_retryable(logs, httpserver, webhook):
    handler, calls = counting((429, "rate_limited", {"Retry-After": "3600"}))
    httpserver.expect_request(SECRET_PATH).respond_with_handler(handler)
    with pytest.raises(DeliveryError) as failure:
        post_slack(webhook, {"text": "hello"})
    assert len(calls) == 1  # an hour is not waited for inside the call
    assert failure.value.retryable and "Retry-After 3600" in str(failure.value)


def test_an_unreachable_webhook_is_retryable_and_hides_the_url(logs, webhook):
    url = f"http://127.0.0.1:{free_port()}{SECRET_PATH}"
    with pytest.raises(DeliveryError) as failure:
        post_slack(url, {"text": "hello"}, max_attempts=1)
    assert failure.value.retryable
    assert_secret_kept(logs, failure.value)


def test_a_plain_http_webhook_elsewhere_is_refused(logs):
    with pytest.raises(DeliveryError, match="https") as failure:
        post_slack(f"http://hooks.slack.com{SECRET_PATH}", {"text": "hello"})
    assert not failure.value.retryable
    assert_secret_kept(logs, failure.value)
