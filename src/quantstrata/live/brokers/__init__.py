"""Broker implementations of :class:`quantstrata.live.broker.Broker`."""

__all__: list[str] = []
