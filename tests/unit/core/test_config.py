from __future__ import annotations

from pathlib import Path

import pytest

from quantstrata.core.config import FrozenConfig, load_config
from quantstrata.core.errors import ConfigError


class _Example(FrozenConfig):
    cash: float = 10_000.0
    symbols: tuple[str, ...] = ()


def test_unknown_fields_are_rejected_with_the_field_named():
    with pytest.raises(ConfigError, match="cahs"):
        _Example.build(cahs=1.0)


def test_bad_values_name_the_field():
    with pytest.raises(ConfigError, match="cash"):
        _Example.build(cash="lots")


def test_configs_are_frozen():
    config = _Example.build(cash=5.0)
    with pytest.raises(Exception, match="frozen"):
        config.cash = 6.0  # type: ignore[misc]


def test_load_config_reads_a_toml_section(tmp_path: Path):
    path = tmp_path / "quantstrata.toml"
    path.write_text('[backtest]\ncash = 250.5\nsymbols = ["SPX", "GOOG"]\n', encoding="utf-8")
    config = load_config(path, _Example, section="backtest")
    assert config == _Example(cash=250.5, symbols=("SPX", "GOOG"))


@pytest.mark.parametrize(
    ("content", "message"),
    [("cash = [", "not valid TOML"), ("[other]\ncash = 1\n", r"no \[backtest\] section")],
)
def test_load_config_errors_are_clear(tmp_path: Path, content: str, message: str):
    path = tmp_path / "bad.toml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ConfigError, match=message):
        load_config(path, _Example, section="backtest")


def test_missing_config_file_is_named(tmp_path: Path):
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(tmp_path / "absent.toml", _Example)
