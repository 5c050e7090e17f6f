"""Typed errors of the network data sources; messages never contain an API key."""

from __future__ import annotations

from quantstrata.core.errors import QuantstrataError

__all__ = [
    "AuthenticationError",
    "ProviderError",
    "ProviderUnavailableError",
    "RateLimitedError",
    "RequestRejectedError",
]


class ProviderError(QuantstrataError):
    """A data provider answered with an error; ``code`` is the provider's code as an int."""

    def __init__(self, message: str, *, provider: str, code: int | None = None) -> None:
        """Remember the provider and its error code beside the message."""
        super().__init__(message)
        self.provider = provider
        self.code = code


class AuthenticationError(ProviderError):
    """The API key is missing, wrong, expired or lacks permission: retrying cannot help."""


class RequestRejectedError(ProviderError):
    """The provider refused the request's parameters (unknown symbol, bad range …)."""


class RateLimitedError(ProviderError):
    """The provider asked us to slow down and the retry budget ran out while waiting."""


class ProviderUnavailableError(ProviderError):
    """Network errors or server errors persisted through every retry."""
