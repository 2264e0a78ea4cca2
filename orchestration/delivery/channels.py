"""Delivery channels (issue 20): email through an SMTP relay and Slack incoming webhooks.

`build_email` makes the message (text, optional html alternative, attachments such as the
buyer's XLSX) with a Message-ID the caller chooses, so a resend after a crash carries the
same id; `send_email` hands it to the relay; `post_slack` posts a Block Kit payload to an
incoming webhook. Both senders raise `DeliveryError`, one line saying which channel failed,
what the server answered and whether a later attempt may succeed (`retryable`), for the
outbox to decide between retrying and giving up.

Secrets never leave this module: the SMTP password and the webhook URL (the URL is the
credential) are named by their environment variables in messages, never quoted, and are
removed from what slack_sdk logs. Pure: no Dagster imports.

The libraries do the protocol work: smtplib and email.message from the standard library,
slack_sdk's WebhookClient with its retry handlers (429 honouring Retry-After, 5xx and
connection errors with exponential backoff and jitter).
"""

from __future__ import annotations

import email.policy
import logging
import smtplib
import ssl
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, getaddresses
from http.client import HTTPException
from typing import Any
from urllib.parse import urlsplit

from slack_sdk.errors import SlackClientError
from slack_sdk.http_retry import (
    BackoffRetryIntervalCalculator,
    ConnectionErrorRetryHandler,
    HttpRequest,
    HttpResponse,
    RateLimitErrorRetryHandler,
    RetryState,
)
from slack_sdk.http_retry.builtin_handlers import ServerErrorRetryHandler
from slack_sdk.webhook import WebhookClient

log = logging.getLogger(__name__)
# slack_sdk logs the request URL (the webhook's secret) at DEBUG: its records go through
# this logger, whose filter replaces the URL while a post is under way.
_slack_sdk_log = logging.getLogger(f"{__name__}.slack_sdk")

SECURITY_MODES = ("starttls", "tls", "none")
LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})
# Waits between Slack retries of 5xx and connection errors: 0.25 s, 0.5 s, 1 s (+ up to 1 s
# of jitter each). Short on purpose: the outbox retries later what still fails.
SLACK_BACKOFF = BackoffRetryIntervalCalculator(backoff_factor=0.25)
# A 429 asking to wait longer than this is handed back (retryable) rather than slept on
# inside a pipeline step; Slack's webhooks allow about one message a second.
MAX_RETRY_AFTER_SECONDS = 60
_REPLY_CHARS = 300


# The standard library folds headers at 78 characters and, for a subject that fits on the
# line after "Subject:" but not beside it, folds before the first word: read back, the
# subject starts with a space. RFC 5322 allows lines of 998 characters; folding there
# leaves every real subject on its line.
POLICY = email.policy.default.clone(max_line_length=998)


class DeliveryError(RuntimeError):
    """A message could not be delivered. The text is one line naming the channel, the
    server (or the webhook's variable) and its reply; never a password or a webhook URL.

    `retryable`: a later attempt may succeed (timeouts, refused connections, SMTP 4xx
    replies, HTTP 429/5xx after the client's own retries); False when the same message
    would fail again until someone changes the configuration or the recipients (SMTP
    5xx, HTTP 4xx, TLS verification, a rejected login).
    """

    retryable: bool

    def __init__(self, message: str, retryable: bool) -> None:
        super().__init__(message)
        self.retryable = retryable

    def __reduce__(self) -> tuple[Any, ...]:
        # Keeps `retryable` when the error crosses a process boundary (pickle).
        return (type(self), (str(self), self.retryable))


@dataclass(frozen=True)
class SmtpSettings:
    """How to reach the SMTP relay.

    security: "starttls" (plain connection upgraded with STARTTLS, which the server must
    offer; usually port 587), "tls" (implicit TLS from the first byte, usually 465) or
    "none" (no encryption: only for a relay on this machine; login is refused over it to
    any other host). sender: the From address. username: None for a relay without AUTH.
    password_env: the environment variable holding the password (the caller reads it and
    passes it to `send_email`; messages name the variable, never the value). ca_file: a
    PEM bundle trusted in addition to the system's CAs (a company relay, a test
    certificate). timeout: seconds for connecting and for each reply.

    Raises ValueError on a setting that cannot work, saying which one to fix.
    """

    host: str
    port: int = 587
    security: str = "starttls"
    sender: str = ""
    username: str | None = None
    password_env: str = "STOREOPS_SMTP_PASSWORD"
    ca_file: str | None = None
    timeout: float = 30.0

    def __post_init__(self) -> None:
        if not self.host:
            raise ValueError("smtp host is empty: set the relay's host name")
        if self.security not in SECURITY_MODES:
            raise ValueError(f"smtp security must be one of {', '.join(SECURITY_MODES)}, "
                             f"not {self.security!r}")
        if not 0 < self.port < 65536:
            raise ValueError(f"smtp port must be 1-65535, not {self.port}")
        if self.timeout <= 0:
            raise ValueError(f"smtp timeout must be a positive number of seconds, "
                             f"not {self.timeout}")


def build_email(*, sender: str, to: Sequence[str], subject: str, text: str,
                html: str | None = None,
                attachments: Sequence[tuple[str, bytes, str]] = (),
                message_id: str, cc: Sequence[str] = (),
                reply_to: str | None = None) -> EmailMessage:
    """An email ready for `send_email`.

    sender: the From address; to, cc: recipient addresses ("Name <a@b>" or "a@b");
    text: the plain-text body; html: an optional html rendering of the same content,
    added as a multipart/alternative part (RFC 2046 section 5.1.4); attachments:
    (filename, content bytes, MIME type, e.g. "text/csv" or
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"; text types get
    "; charset=utf-8" unless the type names another), base64-encoded
    so their bytes arrive intact, the body then wrapped in multipart/mixed; message_id:
    set verbatim as the Message-ID header, "<left@right>" (RFC 5322 section 3.6.4) - the
    caller derives it from what the message is, so a resend after a crash carries the
    same id and the receiving side can recognise the duplicate.

    Also sets Date (now, UTC) and Auto-Submitted: auto-generated (RFC 3834, so
    out-of-office replies are not sent back to the store's address).

    Raises ValueError on a missing sender or recipient, a malformed message_id or MIME
    type, or a header containing a line break; TypeError when an attachment is not bytes.
    """
    if not sender:
        raise ValueError("email needs a sender: set the From address (SmtpSettings.sender)")
    if not to:
        raise ValueError("email needs at least one recipient in `to`")
    if not (message_id.startswith("<") and message_id.endswith(">") and "@" in message_id
            and " " not in message_id):
        raise ValueError(f"message_id must look like '<left@right>' (RFC 5322 3.6.4), "
                         f"not {message_id!r}")
    message = EmailMessage(policy=POLICY)
    message["From"] = sender
    message["To"] = ", ".join(to)
    if cc:
        message["Cc"] = ", ".join(cc)
    if reply_to:
        message["Reply-To"] = reply_to
    message["Subject"] = subject
    message["Date"] = format_datetime(datetime.now(UTC))
    message["Message-ID"] = message_id
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(text)
    if html is not None:
        message.add_alternative(html, subtype="html")
    for filename, content, mime_type in attachments:
        kind, *options = (part.strip() for part in mime_type.split(";"))
        maintype, _, subtype = kind.partition("/")
        if not maintype or not subtype or not all("=" in option for option in options):
            raise ValueError(f"attachment {filename!r}: MIME type must be 'type/subtype' "
                             f"(optionally '; key=value'), not {mime_type!r}")
        params = dict(option.split("=", 1) for option in options)
        if maintype == "text":
            # Without it a reader assumes US-ASCII (RFC 2046 4.1.2); storeops writes UTF-8.
            params.setdefault("charset", "utf-8")
        if not isinstance(content, bytes | bytearray):
            raise TypeError(f"attachment {filename!r}: content must be bytes "
                            f"(encode text first), not {type(content).__name__}")
        # Turns the body into multipart/mixed on the first attachment, keeping the
        # alternative (text + html) as its first part.
        message.add_attachment(bytes(content), maintype=maintype, subtype=subtype,
                               filename=filename, params=params)
    return message


def send_email(settings: SmtpSettings, message: EmailMessage, *, password: str | None) -> None:
    """Hand `message` to the relay described by `settings`: connect (implicit TLS, or
    plain then STARTTLS, or plain), EHLO, log in when `settings.username` is set, send
    to every To and Cc address (envelope sender: `settings.sender`, else the From
    header), QUIT.

    TLS verifies the server's certificate and host name against the system's CAs plus
    `settings.ca_file`. password: the value of `$<settings.password_env>`, read by the
    caller; None or empty is refused when a username is set.

    Raises DeliveryError (one line, without the password) - `retryable` following RFC
    5321 section 4.2.1 (4yz transient, 5yz permanent): SMTP 4xx replies, refused or
    timed-out connections, a dropped connection and other network errors are retryable;
    SMTP 5xx replies (a refused sender, every recipient refused, the message rejected),
    a rejected login (535; 454 is retryable, RFC 4954), a certificate that does not
    verify, a server without STARTTLS under "starttls", and login over "none" to a host
    other than this machine are not. When only some recipients are refused the message
    has gone to the others: DeliveryError, not retryable (a resend would duplicate it),
    naming the refused addresses and their replies.
    """
    where = f"email via {settings.host}:{settings.port}"
    if settings.username and not password:
        raise DeliveryError(f"{where}: no password for {settings.username}: "
                            f"${settings.password_env} is not set", retryable=False)
    if (settings.username and settings.security == "none"
            and settings.host not in LOCAL_HOSTS):
        raise DeliveryError(f"{where}: refusing to log in without TLS (security='none' is "
                            f"only for a relay on this machine): use 'starttls' or 'tls'",
                            retryable=False)
    context = _tls_context(settings, where)
    recipients = len(getaddresses(message.get_all("To", []) + message.get_all("Cc", [])))
    stage = "connecting"
    smtp: smtplib.SMTP | None = None
    try:
        log.debug("%s: connecting (%s)", where, settings.security)
        if settings.security == "tls":
            smtp = smtplib.SMTP_SSL(settings.host, settings.port, timeout=settings.timeout,
                                    context=context)
        else:
            smtp = smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout)
        stage = "EHLO"
        smtp.ehlo()
        if settings.security == "starttls":
            if not smtp.has_extn("starttls"):
                raise DeliveryError(f"{where}: the server does not offer STARTTLS; refusing "
                                    f"to send in clear (check security and port)",
                                    retryable=False)
            stage = "STARTTLS"
            smtp.starttls(context=context)
            smtp.ehlo()
        if settings.username:
            stage = "logging in"
            smtp.login(settings.username, password or "")
        stage = "sending"
        refused = smtp.send_message(message, from_addr=settings.sender or None)
    except DeliveryError:
        raise
    except (smtplib.SMTPException, OSError) as error:
        raise _smtp_failure(error, settings, where, stage, password) from error
    finally:
        if smtp is not None:
            _quit(smtp)
    if refused:
        raise DeliveryError(f"{where}: sent, but these recipients were refused: "
                            f"{_refusals(refused, password)}; not retried, so the others "
                            f"do not receive it twice", retryable=False)
    log.info("%s: sent %s to %d recipient(s)", where, message["Message-ID"], recipients)


def post_slack(webhook_url: str, payload: dict[str, Any], *, max_attempts: int = 4,
               webhook_env: str = "STOREOPS_SLACK_WEBHOOK_URL") -> None:
    """Post `payload` (Slack message JSON: "text", and optionally Block Kit "blocks") to an
    incoming webhook (https://docs.slack.dev/messaging/sending-messages-using-incoming-webhooks/).

    webhook_url: the value of `$<webhook_env>` (the URL is the credential: it appears in
    no message or log record, `$<webhook_env>` stands for it). Must be https (plain http
    only for a server on this machine). max_attempts: requests in all, counting slack_sdk's
    retries of 429 (waiting Retry-After, up to MAX_RETRY_AFTER_SECONDS), of 5xx and of
    connection errors (exponential backoff with jitter, SLACK_BACKOFF).

    Slack answers 200 "ok", or an HTTP status with a short error string as the body
    (changelog 2016-05-17, "Improving error conditions for Incoming Webhooks"): 400
    invalid_payload / user_not_found, 403 action_prohibited, 404 channel_not_found (and
    no_service for a revoked webhook), 410 channel_is_archived, 429 rate limited, 500
    rollup_error.

    Raises DeliveryError naming `$<webhook_env>`, the last status and body: retryable for
    429 and 5xx (still failing after the retries) and for network errors; not retryable
    for other statuses, a URL that is not https, or a certificate that does not verify.
    Raises ValueError when max_attempts < 1 or the payload has neither text nor blocks.
    """
    where = f"slack via ${webhook_env}"
    if max_attempts < 1:
        raise ValueError(f"max_attempts must be at least 1, not {max_attempts}")
    if not any(payload.get(key) for key in ("text", "blocks", "attachments")):
        raise ValueError(f"a Slack message needs 'text' (and optionally 'blocks'); "
                         f"the payload has keys {sorted(payload)}")
    parts = urlsplit(webhook_url)
    if not (parts.scheme == "https" or (parts.scheme == "http" and parts.hostname in LOCAL_HOSTS)):
        raise DeliveryError(f"{where}: the webhook URL must start with https:// "
                            f"(check ${webhook_env})", retryable=False)
    secrets = [webhook_url] + ([parts.path] if len(parts.path) > 1 else [])
    placeholder = f"${webhook_env}"
    retries = max_attempts - 1
    redaction = _Redaction(secrets, placeholder)
    _slack_sdk_log.addFilter(redaction)
    try:
        client = WebhookClient(webhook_url, logger=_slack_sdk_log, retry_handlers=[
            _RateLimitRetryHandler(max_retry_count=retries),
            _ServerErrorRetryHandler(max_retry_count=retries, interval_calculator=SLACK_BACKOFF),
            ConnectionErrorRetryHandler(max_retry_count=retries,
                                        interval_calculator=SLACK_BACKOFF),
        ])
        response = client.send_dict(payload)
    except (OSError, HTTPException, SlackClientError) as error:
        text = _one_line(_redact(f"{type(error).__name__}: {error}", secrets, placeholder))
        reason = getattr(error, "reason", None)
        if isinstance(reason, ssl.SSLCertVerificationError):
            failure = DeliveryError(f"{where}: TLS certificate check failed: {text}",
                                    retryable=False)
        else:
            failure = DeliveryError(f"{where}: request failed: {text}",
                                    retryable=not isinstance(error, SlackClientError))
        # slack_sdk's SlackRequestError quotes the URL: chain the original only when it
        # does not.
        leaked = any(secret in str(error) for secret in secrets)
        raise failure from (None if leaked else error)
    finally:
        _slack_sdk_log.removeFilter(redaction)
    if response.status_code == 200:
        log.info("%s: posted", where)
        return
    status = response.status_code
    body = _one_line(_redact(response.body or "", secrets, placeholder)) or "(empty body)"
    retryable = status == 429 or status >= 500
    after = f" after {max_attempts} attempt(s)" if retryable else ""
    hint = ""
    if body in {"no_service", "no_team", "invalid_token", "channel_not_found",
                "channel_is_archived"}:
        hint = f"; the webhook was revoked or its channel removed: set ${webhook_env} to a new one"
    elif status == 429:
        retry_after = _header(response.headers, "retry-after")
        hint = f"; Retry-After {retry_after}" if retry_after else ""
    raise DeliveryError(f"{where}: HTTP {status}{after}: {body}{hint}", retryable=retryable)


class _RateLimitRetryHandler(RateLimitErrorRetryHandler):
    # slack_sdk's sleeps whatever Retry-After says and fails on an HTTP-date; a long or
    # unreadable wait is left to the caller's next attempt instead.
    def _can_retry(self, *, state: RetryState, request: HttpRequest,
                   response: HttpResponse | None = None,
                   error: Exception | None = None) -> bool:
        if not super()._can_retry(state=state, request=request, response=response,
                                  error=error):
            return False
        assert response is not None
        values = [v for k, v in response.headers.items() if k.lower() == "retry-after"]
        if not values:
            return True  # slack_sdk then waits 1-2 s
        value = values[0][0].strip()  # slack_sdk gives each header as a list of values
        return value.isdigit() and int(value) <= MAX_RETRY_AFTER_SECONDS


class _ServerErrorRetryHandler(ServerErrorRetryHandler):
    # slack_sdk's retries only 500 and 503; a proxy's 502 or 504 is as transient.
    def _can_retry(self, *, state: RetryState, request: HttpRequest,
                   response: HttpResponse | None = None,
                   error: Exception | None = None) -> bool:
        return response is not None and 500 <= response.status_code < 600


class _Redaction(logging.Filter):
    """Replaces secrets in the records of the logger it is added to."""

    def __init__(self, secrets: Sequence[str], placeholder: str) -> None:
        super().__init__()
        self.secrets = secrets
        self.placeholder = placeholder

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = _redact(message, self.secrets, self.placeholder)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


def _tls_context(settings: SmtpSettings, where: str) -> ssl.SSLContext:
    # create_default_context(cafile=...) would trust that file only; loading it after
    # keeps the system's CAs as well. The context checks the host name.
    context = ssl.create_default_context()
    if settings.ca_file:
        try:
            context.load_verify_locations(cafile=settings.ca_file)
        except (OSError, ssl.SSLError) as error:
            raise DeliveryError(f"{where}: cannot read ca_file {settings.ca_file}: {error}",
                                retryable=False) from error
    return context


def _smtp_failure(error: Exception, settings: SmtpSettings, where: str, stage: str,
                  password: str | None) -> DeliveryError:
    """The DeliveryError for an smtplib/socket/ssl exception raised at `stage`."""
    secrets = [password] if password else []
    if isinstance(error, smtplib.SMTPAuthenticationError):
        return DeliveryError(
            f"{where}: login as {settings.username} refused: "
            f"{_reply(error.smtp_code, error.smtp_error, secrets)}; check the password in "
            f"${settings.password_env}", retryable=_transient(error.smtp_code))
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in error.recipients.values()]
        return DeliveryError(f"{where}: every recipient refused: "
                             f"{_refusals(error.recipients, password)}",
                             retryable=bool(codes) and all(_transient(c) for c in codes))
    if isinstance(error, smtplib.SMTPSenderRefused):
        return DeliveryError(f"{where}: sender {error.sender} refused: "
                             f"{_reply(error.smtp_code, error.smtp_error, secrets)}",
                             retryable=_transient(error.smtp_code))
    if isinstance(error, smtplib.SMTPResponseException):
        return DeliveryError(f"{where}: {stage}: "
                             f"{_reply(error.smtp_code, error.smtp_error, secrets)}",
                             retryable=_transient(error.smtp_code))
    text = _one_line(_redact(str(error) or type(error).__name__, secrets, "***"))
    if isinstance(error, smtplib.SMTPServerDisconnected):
        return DeliveryError(f"{where}: connection lost during {stage}: {text}",
                             retryable=True)
    if isinstance(error, smtplib.SMTPException):
        # SMTPNotSupportedError (no AUTH offered, no SMTPUTF8) and the like: configuration.
        return DeliveryError(f"{where}: {stage}: {text}", retryable=False)
    if isinstance(error, ssl.SSLError):
        return DeliveryError(f"{where}: TLS failed during {stage}: {text}; if the relay's "
                             f"certificate comes from a company CA, point ca_file at its "
                             f"PEM bundle (and check host matches the certificate)",
                             retryable=False)
    if isinstance(error, TimeoutError):
        return DeliveryError(f"{where}: timed out during {stage} after {settings.timeout:g} s",
                             retryable=True)
    return DeliveryError(f"{where}: {stage}: {type(error).__name__}: {text}",
                         retryable=True)


def _quit(smtp: smtplib.SMTP) -> None:
    # The message is already accepted (or the error already taken): a failing QUIT
    # must not turn either into a different outcome.
    try:
        smtp.quit()
    except (smtplib.SMTPException, OSError):
        smtp.close()


def _transient(code: int) -> bool:
    """RFC 5321 section 4.2.1: 4yz is a transient negative completion, 5yz permanent."""
    return 400 <= code < 500


def _reply(code: int, text: bytes | str, secrets: Sequence[str]) -> str:
    if isinstance(text, bytes):
        text = text.decode("utf-8", errors="replace")
    return f"{code} {_one_line(_redact(text, secrets, '***'))}"


def _refusals(refused: dict[str, tuple[int, bytes]], password: str | None) -> str:
    secrets = [password] if password else []
    return "; ".join(f"{address}: {_reply(code, text, secrets)}"
                     for address, (code, text) in refused.items())


def _redact(text: str, secrets: Sequence[str], placeholder: str) -> str:
    for secret in secrets:
        if secret:
            text = text.replace(secret, placeholder)
    return text


def _one_line(text: str) -> str:
    return " ".join(text.split())[:_REPLY_CHARS]


def _header(headers: Any, name: str) -> str | None:
    for key, value in dict(headers or {}).items():
        if key.lower() == name:
            return str(value[0] if isinstance(value, list) else value)
    return None
