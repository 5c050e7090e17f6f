"""Lazy re-exports: each name is the object its module defines, listed in ``__all__``."""

from __future__ import annotations

import importlib

import pytest

LAZY_PACKAGES = (
    "quantstrata",
    "quantstrata.core",
    "quantstrata.live",
    "quantstrata.live.brokers",
    "quantstrata.live.dashboard",
    "quantstrata.live.feeds",
    "quantstrata.venue",
)


@pytest.mark.parametrize("name", LAZY_PACKAGES)
def test_each_lazy_name_is_public_and_is_its_modules_object(name: str) -> None:
    package = importlib.import_module(name)
    exports: dict[str, str] = package._EXPORTS

    assert set(exports) <= set(package.__all__)
    assert set(package.__all__) <= set(exports) | {"__version__"}
    for export, source in exports.items():
        module = importlib.import_module(source)
        expected = module if source == f"{name}.{export}" else getattr(module, export)
        assert getattr(package, export) is expected
        assert export in dir(package)


def test_an_unknown_name_is_an_attribute_error() -> None:
    package = importlib.import_module("quantstrata")

    with pytest.raises(AttributeError, match="no attribute 'Nope'"):
        _ = package.Nope
