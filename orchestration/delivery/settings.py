"""`delivery:` in storeops.yml: where briefs, alerts and buyer files are sent.

```yaml
delivery:
  email:                       # SMTP; leave out to send no email
    host: smtp.example.com
    port: 587                  # default: 587 with starttls, 465 with tls, 25 with none
    security: starttls         # starttls | tls | none (none: only to a relay on localhost)
    from: storeops@store.example
    username: storeops@store.example    # leave out for a relay without AUTH
    password_env: STOREOPS_SMTP_PASSWORD
  slack:                       # an incoming webhook; leave out to post nothing
    webhook_env: STOREOPS_SLACK_WEBHOOK_URL
    kinds: [daily_brief, alerts, escalation]
  recipients:
    daily_brief: [owner@store.example]
    weekly_report: [owner@store.example]
    monthly_report: [owner@store.example]
    alerts: [ops@store.example]
    escalation: [owner@store.example]
    audiences: [data@store.example]     # the data team: the ad-platform audience files
    buyers: {default: buyer@store.example, SUP-001: jo@store.example}
  escalation_hours: 24
  dashboard_url: https://files.store.example/storeops/   # optional: a link in what is sent
```

Passwords and webhook URLs are never in this file: only the names of the environment
variables that hold them. The audience files go by email only (never to Slack: a channel
is wider than a recipient list, and a webhook carries no file).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from orchestration.delivery.channels import SmtpSettings

KINDS = ("daily_brief", "weekly_report", "monthly_report", "alerts", "reorder_file",
         "escalation", "notice", "audiences")
RECIPIENT_KINDS = ("daily_brief", "weekly_report", "monthly_report", "alerts", "escalation",
                   "audiences")
SLACK_KINDS = ("daily_brief", "weekly_report", "monthly_report", "alerts", "escalation", "notice")
EMAIL = re.compile(r"^[^@\s,;<>]+@[^@\s,;<>]+\.[^@\s,;<>]+$")


class DeliveryConfigError(ValueError):
    """A wrong `delivery:` section: one line naming the file, the key and what is expected."""


@dataclass(frozen=True)
class SlackSettings:
    """Slack: the variable holding the incoming webhook's URL, and the kinds posted."""

    webhook_env: str = "STOREOPS_SLACK_WEBHOOK_URL"
    kinds: tuple[str, ...] = ("daily_brief", "alerts", "escalation", "notice")


@dataclass(frozen=True)
class DeliverySettings:
    """The checked `delivery:` section (see the module docstring). `recipients` maps each
    kind of RECIPIENT_KINDS to email addresses; `buyers` maps a supplier id (or
    "default") to the buyer's address."""

    email: SmtpSettings | None = None
    slack: SlackSettings | None = None
    recipients: dict[str, tuple[str, ...]] = field(default_factory=dict)
    buyers: dict[str, str] = field(default_factory=dict)
    escalation_hours: float = 24.0
    dashboard_url: str | None = None

    @property
    def configured(self) -> bool:
        """Whether anything can be sent at all."""
        return self.email is not None or self.slack is not None

    def email_to(self, kind: str) -> tuple[str, ...]:
        """The addresses a message of `kind` is emailed to (none without SMTP settings)."""
        return self.recipients.get(kind, ()) if self.email else ()

    def posts(self, kind: str) -> bool:
        """Whether a message of `kind` goes to Slack ("notice" follows "daily_brief")."""
        if self.slack is None:
            return False
        return kind in self.slack.kinds or (kind == "notice" and "daily_brief" in self.slack.kinds)

    def buyer_of(self, supplier: str) -> str | None:
        """The buyer's address for a supplier's reorder file, else the default buyer."""
        return self.buyers.get(supplier) or self.buyers.get("default")

    @classmethod
    def from_config(cls, config: dict | None, where: str = "storeops.yml") -> DeliverySettings:
        """Read and check `delivery:`. Raises DeliveryConfigError (a ValueError) naming `where`, the key and what is
        expected; an empty or missing section gives settings that send nothing."""
        if not config:
            return cls()
        if not isinstance(config, dict):
            raise DeliveryConfigError(f"{where}: delivery must be a mapping (delivery: email: ...)")
        _known(config, {"email", "slack", "recipients", "escalation_hours", "dashboard_url"},
               where, "delivery")
        email = None
        if config.get("email"):
            smtp = config["email"]
            if not isinstance(smtp, dict):
                raise DeliveryConfigError(f"{where}: delivery: email: must be a mapping (host: ...)")
            _known(smtp, {"host", "port", "security", "from", "username", "password_env",
                          "ca_file", "timeout"}, where, "delivery: email")
            if not smtp.get("host") or not smtp.get("from"):
                raise DeliveryConfigError(f"{where}: delivery: email: needs host: and from:")
            security = smtp.get("security", "starttls")
            if security not in ("starttls", "tls", "none"):
                raise DeliveryConfigError(f"{where}: delivery: email: security must be starttls, tls "
                                 f"or none, got {security!r}")
            port = smtp.get("port", {"tls": 465, "starttls": 587, "none": 25}[security])
            if not isinstance(port, int) or not 0 < port < 65536:
                raise DeliveryConfigError(f"{where}: delivery: email: port must be a port number, got {port!r}")
            _address(smtp["from"], where, "delivery: email: from")
            email = SmtpSettings(host=str(smtp["host"]), port=port, security=security,
                                 sender=str(smtp["from"]), username=smtp.get("username"),
                                 password_env=str(smtp.get("password_env", "STOREOPS_SMTP_PASSWORD")),
                                 ca_file=smtp.get("ca_file"),
                                 timeout=float(smtp.get("timeout", 30.0)))
        slack = None
        if config.get("slack"):
            section = config["slack"]
            if not isinstance(section, dict):
                raise DeliveryConfigError(f"{where}: delivery: slack: must be a mapping (webhook_env: ...)")
            _known(section, {"webhook_env", "kinds"}, where, "delivery: slack")
            kinds = tuple(section.get("kinds", SlackSettings.kinds))
            wrong = sorted(set(kinds) - set(SLACK_KINDS))
            if wrong:
                raise DeliveryConfigError(f"{where}: delivery: slack: kinds {wrong} are not among "
                                 f"{', '.join(SLACK_KINDS)}")
            slack = SlackSettings(webhook_env=str(section.get("webhook_env", SlackSettings.webhook_env)),
                                  kinds=kinds)
        recipients: dict[str, tuple[str, ...]] = {}
        buyers: dict[str, str] = {}
        section = config.get("recipients") or {}
        if not isinstance(section, dict):
            raise DeliveryConfigError(f"{where}: delivery: recipients: must be a mapping of kind to addresses")
        _known(section, {*RECIPIENT_KINDS, "buyers"}, where, "delivery: recipients")
        for kind in RECIPIENT_KINDS:
            value = section.get(kind) or []
            addresses = [value] if isinstance(value, str) else value
            if not isinstance(addresses, list):
                raise DeliveryConfigError(f"{where}: delivery: recipients: {kind} must be a list of addresses")
            recipients[kind] = tuple(_address(a, where, f"delivery: recipients: {kind}")
                                     for a in addresses)
        value = section.get("buyers") or {}
        if isinstance(value, str):
            value = {"default": value}
        if not isinstance(value, dict):
            raise DeliveryConfigError(f"{where}: delivery: recipients: buyers must map supplier ids "
                             "(or default) to an address")
        for supplier, address in value.items():
            buyers[str(supplier)] = _address(address, where,
                                             f"delivery: recipients: buyers: {supplier}")
        hours = config.get("escalation_hours", 24)
        if not isinstance(hours, int | float) or hours <= 0:
            raise DeliveryConfigError(f"{where}: delivery: escalation_hours must be a number of hours "
                             f"above 0, got {hours!r}")
        return cls(email=email, slack=slack, recipients=recipients, buyers=buyers,
                   escalation_hours=float(hours), dashboard_url=config.get("dashboard_url"))


def _known(section: dict, known: set[str], where: str, name: str) -> None:
    unknown = sorted(set(section) - known)
    if unknown:
        raise DeliveryConfigError(f"{where}: {name}: unknown key(s) {', '.join(map(str, unknown))} "
                         f"(known: {', '.join(sorted(known))})")


def _address(value, where: str, name: str) -> str:
    if not isinstance(value, str) or not EMAIL.match(value.strip()):
        raise DeliveryConfigError(f"{where}: {name}: {value!r} is not an email address")
    return value.strip()
