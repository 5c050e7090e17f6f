from __future__ import annotations

import gzip
from pathlib import Path

import polars as pl
import pytest

from quantstrata.cli.app import main
from quantstrata.data.catalog import Catalog

GOOD_CSV = """Date,Open,High,Low,Close,Adj Close,Volume
1/4/1999,1229.22998,1248.810059,1219.099976,1228.099976,1228.099976,877000000
1/5/1999,1228.099976,1246.109985,1228.099976,1244.780029,1244.780029,775000000
1/6/1999,1244.780029,1272.5,1244.780029,1272.339966,1272.339966,986900000
1/7/1999,1272.339966,1272.339966,1257.680054,1269.72998,1269.72998,863000000
1/8/1999,1269.72998,1278.23999,1261.819946,1275.089966,1275.089966,937800000
"""


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_import_then_list_then_show(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    source = _write(tmp_path, "SPX_1d.csv", GOOD_CSV)
    root = tmp_path / "catalog"
    assert main(["data", "import", str(source), "--interval", "1d", "--catalog", str(root)]) == 0
    assert "5 rows written" in capsys.readouterr().out
    stored = Catalog(root).read(["SPX"], interval="1d")
    assert stored["close"].to_list() == pl.read_csv(source)["Close"].to_list()

    assert main(["data", "list", "--catalog", str(root)]) == 0
    listing = capsys.readouterr().out
    assert "SPX" in listing
    assert "1d" in listing

    assert main(["data", "show", "SPX", "--interval", "1d", "--catalog", str(root)]) == 0
    shown = capsys.readouterr().out
    assert "1999-01-04" in shown
    assert "1,275.09" in shown


def test_reimporting_different_values_is_refused_with_a_hint(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    root = tmp_path / "catalog"
    first = _write(tmp_path, "SPX_1d.csv", GOOD_CSV)
    assert main(["data", "import", str(first), "-i", "1d", "--catalog", str(root)]) == 0
    changed = _write(tmp_path, "SPX_v2.csv", GOOD_CSV.replace("1275.089966,1275", "1276.5,1275"))
    code = main(["data", "import", str(changed), "-i", "1d", "--catalog", str(root)])
    captured = capsys.readouterr()
    assert code == 1
    assert "error:" in captured.err
    assert "--on-conflict" in captured.err
    assert (
        main(
            [
                "data",
                "import",
                str(changed),
                "-i",
                "1d",
                "--catalog",
                str(root),
                "--on-conflict",
                "overwrite",
            ]
        )
        == 0
    )


def test_validate_passes_a_clean_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    path = tmp_path / "SPX_1d.csv.gz"
    path.write_bytes(gzip.compress(GOOD_CSV.encode()))
    assert main(["data", "validate", str(path), "--calendar", "XNYS"]) == 0
    assert "pass every check" in capsys.readouterr().out


def test_validate_names_each_bad_row_column_and_value(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    lines = GOOD_CSV.splitlines()
    lines[2] = "1/5/1999,1228.099976,1200.5,1228.099976,1244.780029,1244.780029,775000000"
    lines[4] = "1/7/1999,1272.339966,1272.339966,1257.680054,1269.72998,1269.72998,-5"
    path = _write(tmp_path, "SPX_bad.csv", "\n".join(lines) + "\n")
    assert main(["data", "validate", str(path)]) == 1
    out = capsys.readouterr().out
    assert "high" in out
    assert "1200.5" in out
    assert "volume" in out
    assert "-5" in out


def test_unknown_symbol_error_is_one_line_with_a_hint(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    source = _write(tmp_path, "SPX_1d.csv", GOOD_CSV)
    root = tmp_path / "catalog"
    main(["data", "import", str(source), "-i", "1d", "--catalog", str(root)])
    capsys.readouterr()
    assert main(["data", "show", "NOPE", "-i", "1d", "--catalog", str(root)]) == 1
    err = capsys.readouterr().err
    assert "NOPE" in err
    assert "quantstrata data list" in err
    assert "Traceback" not in err


def test_debug_shows_the_traceback(tmp_path: Path):
    root = tmp_path / "catalog"
    Catalog(root)
    with pytest.raises(Exception, match="NOPE"):
        main(["--debug", "data", "show", "NOPE", "-i", "1d", "--catalog", str(root)])


def test_usage_errors_exit_with_click_codes(capsys: pytest.CaptureFixture[str]):
    assert main(["data", "import"]) == 2
    assert "Missing argument" in capsys.readouterr().err


def test_show_reads_naive_from_and_to_as_utc(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    source = _write(tmp_path, "SPX_1d.csv", GOOD_CSV)
    root = tmp_path / "catalog"
    main(["data", "import", str(source), "-i", "1d", "--catalog", str(root)])
    capsys.readouterr()
    window = ["--from", "1999-01-05", "--to", "1999-01-07"]
    assert main(["data", "show", "SPX", "-i", "1d", "--catalog", str(root), *window]) == 0
    out = capsys.readouterr().out
    assert "2 bars" in out
    assert "1999-01-05" in out
    assert "1999-01-04" not in out
