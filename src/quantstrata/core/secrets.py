"""Secrets that cannot leak by accident: no repr, str, log line or URL shows them.

A :class:`Secret` wraps an API key; only :meth:`Secret.reveal` returns the text, and code calls it
at the last moment (building a request header). :func:`redact` masks known secrets and key-like
URL parameters in any text before it is logged or raised.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable

from quantstrata.core.errors import ConfigError

__all__ = ["MASK", "Secret", "SecretUrl", "looks_like_secret_name", "redact"]

MASK = "***"
_KEY_PARAMETER = re.compile(
    r"(?i)((?:api[_-]?key|apikey|token|secret|password|signature|access[_-]?key)=)[^&\s\"']+"
)
_URL_PASSWORD = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://[^:/@\s]*:)[^@/\s]+@")
_SECRET_NAME = re.compile(
    r"(?i)(api[_-]?key|apikey|secret|token|passw(or)?d|passphrase|private[_-]?key|signature"
    r"|credential|access[_-]?key|auth)"
)
_AUTH_HEADER = re.compile(
    r"(?i)((?:x-api-key|authorization)[\"']?\s*[:=]\s*[\"']?(?:(?:bearer|basic|token)\s+)?)"
    r"[^\s\"',}]+"
)


class Secret:
    """A secret string whose text appears only through :meth:`reveal`."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        """Wrap ``value``; an empty secret is a configuration error."""
        if not value:
            raise ConfigError("a secret (API key) cannot be empty")
        self._value = value

    @classmethod
    def from_environment(cls, variable: str) -> Secret:
        """Read a secret from environment variable ``variable``."""
        value = os.environ.get(variable, "")
        if not value:
            raise ConfigError(f"environment variable {variable} is not set or empty")
        return cls(value)

    def reveal(self) -> str:
        """Return the secret text; call only where the text must go on the wire."""
        return self._value

    def __repr__(self) -> str:
        """Hide the value."""
        return f"Secret({MASK})"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        """Compare by value without exposing it."""
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        """Hash by value."""
        return hash(self._value)

    def __reduce__(self) -> tuple[type[Secret], tuple[str]]:
        """Pickle by value so workers receive a usable secret."""
        return (Secret, (self._value,))


class SecretUrl(Secret):
    """A connection URL (a PostgreSQL DSN) whose password is secret.

    It shows itself with the password masked (``postgresql://user:***@host/db``), so a config
    holding it can be printed, dumped and logged; :meth:`reveal` returns the full URL.
    """

    __slots__ = ()

    @property
    def masked(self) -> str:
        """The URL with its password (and any key-like parameter) replaced by ``***``."""
        return redact(self.reveal())

    @property
    def has_password(self) -> bool:
        """Whether the URL carries a password (in its user part or as a parameter)."""
        return self.masked != self.reveal()

    def __repr__(self) -> str:
        """Show the URL with the password masked."""
        return f"SecretUrl({self.masked!r})"

    def __str__(self) -> str:
        """Return the URL with the password masked."""
        return self.masked

    def __reduce__(self) -> tuple[type[Secret], tuple[str]]:
        """Pickle by value so workers receive a usable URL."""
        return (SecretUrl, (self.reveal(),))


def redact(text: str, secrets: Iterable[Secret | str] = ()) -> str:
    """Return ``text`` with every given secret, URL password and key-like parameter masked."""
    for secret in secrets:
        value = secret.reveal() if isinstance(secret, Secret) else secret
        if value:
            text = text.replace(value, MASK)
    text = _URL_PASSWORD.sub(rf"\g<1>{MASK}@", text)
    text = _KEY_PARAMETER.sub(rf"\g<1>{MASK}", text)
    return _AUTH_HEADER.sub(rf"\g<1>{MASK}", text)


def looks_like_secret_name(name: str) -> bool:
    """Return whether a setting's name suggests it holds a credential (``api_key``, ``token`` …).

    Reports and logs drop such fields entirely instead of trying to mask their values.
    """
    return bool(_SECRET_NAME.search(name))
