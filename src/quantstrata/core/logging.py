"""Logging that never shows a secret.

quantstrata logs through the standard :mod:`logging` module under the ``quantstrata`` logger.
:class:`RedactingFilter` masks secrets in every record, including its arguments and traceback
text; :func:`get_logger` returns a logger that carries the filter. Nothing is configured at import
time: applications choose handlers, and :func:`configure_logging` offers a sensible default.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from quantstrata.core.secrets import Secret, redact

__all__ = ["RedactingFilter", "configure_logging", "get_logger"]

ROOT_LOGGER = "quantstrata"


class RedactingFilter(logging.Filter):
    """Mask secrets and key-like URL parameters in log records before any handler sees them."""

    def __init__(self, secrets: Iterable[Secret | str] = ()) -> None:
        """Remember extra secrets to mask besides the key-like patterns."""
        super().__init__()
        self._secrets: list[Secret | str] = list(secrets)

    def add_secret(self, secret: Secret | str) -> None:
        """Mask ``secret`` in every later record."""
        self._secrets.append(secret)

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite the record's message with secrets masked; never drop the record."""
        message = record.getMessage()
        record.msg = redact(message, self._secrets)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text, self._secrets)
        return True


def get_logger(name: str) -> logging.Logger:
    """Return the logger ``name`` under the ``quantstrata`` tree, with redaction attached."""
    full_name = name if name.startswith(ROOT_LOGGER) else f"{ROOT_LOGGER}.{name}"
    logger = logging.getLogger(full_name)
    if not any(isinstance(existing, RedactingFilter) for existing in logger.filters):
        logger.addFilter(RedactingFilter())
    return logger


def configure_logging(level: int | str = logging.INFO) -> logging.Handler:
    """Send quantstrata's records to standard error through a redacting handler."""
    handler = logging.StreamHandler()
    handler.addFilter(RedactingFilter())
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger(ROOT_LOGGER)
    root.addHandler(handler)
    root.setLevel(level)
    return handler
