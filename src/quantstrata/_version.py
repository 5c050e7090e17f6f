"""The installed package version, read from the distribution metadata."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("quantstrata")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0+unknown"
