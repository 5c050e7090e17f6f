"""quantstrata: one Python stack from market data to live trading.

The names users touch first are re-exported here; each layer's package holds the rest.
"""

from quantstrata._version import __version__

__all__ = ["__version__"]
