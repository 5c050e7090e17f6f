"""Who is asking: the admin token, the viewer token, or nobody.

A token arrives as ``Authorization: Bearer …`` (scripts), or once through the login form or
``/?token=…``, after which the browser holds an HttpOnly, SameSite=Strict session cookie whose
value is a random id, never the token. Tokens are compared in constant time and never logged.
"""

from __future__ import annotations

import hmac
import secrets
from collections import OrderedDict
from enum import StrEnum

from starlette.requests import HTTPConnection

from quantstrata.core.secrets import Secret
from quantstrata.live.dashboard.config import DashboardConfig

__all__ = ["COOKIE", "Role", "Sessions"]

COOKIE = "quantstrata_dashboard"
_MAX_SESSIONS = 1_000


class Role(StrEnum):
    """What a caller may do: everything, or look."""

    ADMIN = "admin"
    VIEWER = "viewer"


def _same(given: str, token: Secret | None) -> bool:
    if token is None or not given:
        return False
    return hmac.compare_digest(given.encode(), token.reveal().encode())


class Sessions:
    """Check tokens and remember the browser sessions they opened."""

    def __init__(self, config: DashboardConfig) -> None:
        """Start with no session."""
        self._config = config
        self._sessions: OrderedDict[str, Role] = OrderedDict()

    def __repr__(self) -> str:
        """Show only how many sessions are open."""
        return f"Sessions(open={len(self._sessions)})"

    def role_of_token(self, given: str | None) -> Role | None:
        """Return the role ``given`` grants, or ``None`` for a missing or wrong token."""
        if given is None:
            return None
        if _same(given, self._config.admin_token):
            return Role.ADMIN
        if _same(given, self._config.viewer_token):
            return Role.VIEWER
        return None

    def open(self, role: Role) -> str:
        """Open a session for ``role``; return its random id (the cookie's value)."""
        session = secrets.token_urlsafe(32)
        self._sessions[session] = role
        while len(self._sessions) > _MAX_SESSIONS:
            self._sessions.popitem(last=False)
        return session

    def close(self, session: str | None) -> None:
        """Forget a session (logout)."""
        if session is not None:
            self._sessions.pop(session, None)

    def role_of(self, connection: HTTPConnection) -> Role | None:
        """Return the caller's role from its bearer token or session cookie."""
        header = connection.headers.get("authorization", "")
        scheme, _, value = header.partition(" ")
        if scheme.lower() == "bearer" and value:
            return self.role_of_token(value.strip())
        session = connection.cookies.get(COOKIE)
        if session is None:
            return None
        return self._sessions.get(session)
