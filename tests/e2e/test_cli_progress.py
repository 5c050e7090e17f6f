"""Long jobs show a progress bar with an ETA on a terminal, and nothing extra in a pipe."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from quantstrata.cli.app import main
from quantstrata.data import load_sample
from tests.kit.terminal import plain, run_in_terminal

_ETA = re.compile(r"eta \d+:\d\d:\d\d")
_STRATEGY = "quantstrata.strategy.examples:SmaCrossover"


def _bar_files(folder: Path) -> list[Path]:
    paths = []
    for name in ("SPX_1d", "IXIC_1d"):
        path = folder / f"{name}.parquet"
        load_sample(name).head(300).drop("symbol").write_parquet(path)
        paths.append(path)
    return paths


def test_import_shows_a_bar_with_an_eta_on_a_terminal(tmp_path: Path) -> None:
    files = _bar_files(tmp_path)

    code, drawn = run_in_terminal(
        ["data", "import", *map(str, files), "-i", "1d", "--catalog", str(tmp_path / "c")]
    )

    text = plain(drawn)
    assert code == 0, text
    assert "importing" in text
    assert "2/2" in text
    assert _ETA.search(text)
    assert "imported SPX_1d.parquet: 300 rows written" in text


def test_import_in_a_pipe_prints_only_the_results(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    files = _bar_files(tmp_path)

    code = main(["data", "import", *map(str, files), "-i", "1d", "--catalog", str(tmp_path / "c")])

    captured = capsys.readouterr()
    assert code == 0
    assert captured.err == ""
    assert [line.split(":")[0] for line in captured.out.splitlines()] == [
        "imported SPX_1d.parquet",
        "imported IXIC_1d.parquet",
    ]


def test_optimise_shows_done_total_and_eta(tmp_path: Path) -> None:
    code, drawn = run_in_terminal(
        [
            "optimize",
            _STRATEGY,
            "--grid",
            "fast=5,10",
            "--grid",
            "slow=50,100",
            "--backend",
            "serial",
            "--report",
            str(tmp_path / "report.html"),
        ]
    )

    text = plain(drawn)
    assert code == 0, text
    assert "4/4" in text
    assert _ETA.search(text)
    assert "best by sharpe" in text


def test_walk_forward_shows_each_window_with_an_eta() -> None:
    code, drawn = run_in_terminal(
        [
            "optimize",
            _STRATEGY,
            "--grid",
            "fast=5,10",
            "--grid",
            "slow=50",
            "--walk-forward",
            "2000:1500",
            "--backend",
            "serial",
        ]
    )

    text = plain(drawn)
    assert code == 0, text
    labels = {
        (int(number), int(total)) for number, total in re.findall(r"window (\d+)/(\d+)", text)
    }
    (total,) = {total for _, total in labels}
    assert total >= 2
    assert {number for number, _ in labels} == set(range(1, total + 1))
    assert re.search(rf"window {total}/{total} \S+ 2/2", text)  # two candidates per window
    assert _ETA.search(text)
