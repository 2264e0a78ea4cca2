"""API credentials: only from the environment, never printed, logged or stored.

A credential is read from the environment variable its source names (for Shopify,
`SHOPIFY_ACCESS_TOKEN`). For a machine where variables are awkward (a cron job, a
systemd unit) `$STOREOPS_SECRETS_FILE` may name a file of `NAME=value` lines (an
`export ` before the name and quotes around the value are allowed; `#` starts a comment
line) kept outside the repository and the home; a variable set in the environment wins
over it.
"""

from __future__ import annotations

import base64
import os
import re
from pathlib import Path

SECRETS_FILE_ENV = "STOREOPS_SECRETS_FILE"


class CredentialError(RuntimeError):
    """A credential is missing or was rejected. The message is one line that names the
    variable and never contains its value."""


class PullError(RuntimeError):
    """A pull that cannot go on: the API refused, or kept failing after its retries.
    The message names the source, the request and the server's reply (secrets removed)."""


def _from_file(name: str) -> str | None:
    path = os.environ.get(SECRETS_FILE_ENV)
    if not path:
        return None
    file = Path(path).expanduser()
    if not file.is_file():
        raise CredentialError(f"${SECRETS_FILE_ENV} names {file}, which is not a file")
    for number, line in enumerate(file.read_text().splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.removeprefix("export ").partition("=")
        if not sep:
            raise CredentialError(f"{file}: line {number} is not NAME=value")
        if key.strip() == name:
            return value.strip().strip('"').strip("'")
    return None


def credential(name: str, *, purpose: str) -> str:
    """The value of the credential `name` (an environment variable name), from the
    environment, else from the file named by $STOREOPS_SECRETS_FILE.

    purpose: what it is for, in the error ("the Shopify Admin API access token").
    Returns a non-empty string. Raises CredentialError naming `name` when it is unset or
    empty, or when the secrets file cannot be read.
    """
    value = os.environ.get(name) or _from_file(name)
    if not value:
        raise CredentialError(f"{name} is not set: export {name}=<{purpose}> "
                              f"(or put it in the file named by ${SECRETS_FILE_ENV})")
    return value


# An HTTP Authorization value quoted back by a server or a library (Basic carries the
# secret base64-encoded, where replacing the plain secret does not find it).
_AUTH_VALUE = re.compile(r"\b(Basic|Bearer|Token|OAuth)\s+[A-Za-z0-9+/=._~-]{6,}", re.IGNORECASE)


def redact(text: str, *secrets: str) -> str:
    """`text` with every occurrence of each secret, and of its base64 form in an HTTP Basic
    value (`<user>:<secret>`), replaced by `***`, and any Authorization value (`Basic
    ...`, `Bearer ...`) cut to its scheme (for error messages that quote a server's reply
    or a request)."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return _AUTH_VALUE.sub(lambda m: f"{m.group(1)} ***", text)


def basic_auth_value(user: str, secret: str) -> str:
    """The base64 part of the HTTP Basic header for `user` and `secret`: pass it to `redact`
    along with the secret itself."""
    return base64.b64encode(f"{user}:{secret}".encode()).decode()


def http_failure(source: str, what: str, response, *secrets: str) -> str:
    """One line for a request that failed after its retries: source, what was asked, the
    HTTP status and the start of the server's reply, with `secrets` removed."""
    return (f"{source}: {what} answered HTTP {response.status_code} after retries: "
            f"{redact(response.text[:300], *secrets)}")
