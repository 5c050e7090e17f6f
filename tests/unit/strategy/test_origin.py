"""Where a strategy class comes from: importable by name, or a file loaded by its path."""

from __future__ import annotations

import importlib.util
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from quantstrata.strategy.examples import SmaCrossover
from quantstrata.strategy.origin import importable_by_name, modules_beside, strategy_label

_STRATEGY = """
import polars as pl

from quantstrata.strategy import SignalStrategy

import beside_helper


class FromFile(SignalStrategy):
    def warmup_bars(self) -> int:
        return beside_helper.WARMUP

    def targets(self, bars: pl.DataFrame) -> pl.DataFrame:
        return bars.select("ts", "symbol", target=pl.lit(1.0))
"""


@pytest.fixture
def file_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[object]:
    folder = tmp_path / "my_dir"
    folder.mkdir()
    (folder / "beside_helper.py").write_text("WARMUP = 3\n", encoding="utf-8")
    (folder / "my_strategy.py").write_text(textwrap.dedent(_STRATEGY), encoding="utf-8")
    monkeypatch.syspath_prepend(str(folder))
    monkeypatch.chdir(tmp_path)
    spec = importlib.util.spec_from_file_location("generated_name_1234", folder / "my_strategy.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    yield module
    for name in (spec.name, "beside_helper"):
        sys.modules.pop(name, None)


def test_a_module_loaded_from_a_path_is_not_importable_by_its_generated_name(
    file_module: object,
) -> None:
    assert not importable_by_name("generated_name_1234")
    assert importable_by_name("quantstrata.strategy.examples")
    assert not importable_by_name("__main__")


def test_a_file_class_is_labelled_by_its_name_and_file(file_module: object) -> None:
    assert strategy_label(file_module.FromFile) == "FromFile (my_dir/my_strategy.py)"  # type: ignore[attr-defined]
    assert strategy_label(SmaCrossover) == f"{SmaCrossover.__module__}.SmaCrossover"


def test_the_modules_beside_a_file_are_those_of_its_folder(file_module: object) -> None:
    assert [module.__name__ for module in modules_beside(file_module)] == ["beside_helper"]  # type: ignore[arg-type]
