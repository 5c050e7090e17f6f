"""An optional package that is not installed: one typed error naming the extra to install."""

from __future__ import annotations

import sys

import pytest

from quantstrata.core._extras import EXTRAS, require
from quantstrata.core.errors import MissingDependencyError, QuantstrataError
from quantstrata.live.journal import PostgresJournal


@pytest.mark.parametrize("package", sorted(EXTRAS))
def test_a_missing_optional_package_names_its_extra(
    package: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, package, None)  # what an install without it looks like

    with pytest.raises(MissingDependencyError) as raised:
        require(package, "this feature")

    message = str(raised.value)
    assert f'pip install "quantstrata[{EXTRAS[package]}]"' in message
    assert "this feature" in message
    assert isinstance(raised.value, QuantstrataError)
    assert isinstance(raised.value, ImportError)


def test_an_installed_optional_package_is_returned() -> None:
    assert require("optuna", "the Optuna search").__name__ == "optuna"


def test_the_postgres_journal_without_psycopg_names_the_extra_and_hides_the_dsn(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "psycopg", None)

    with pytest.raises(MissingDependencyError, match=r"quantstrata\[postgres\]") as raised:
        PostgresJournal("postgresql://user:hunter2@127.0.0.1/test")

    assert "hunter2" not in str(raised.value)
