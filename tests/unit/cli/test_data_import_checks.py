"""``quantstrata data import`` and ``validate`` on bad files: policies, file lines, intervals."""

from __future__ import annotations

from pathlib import Path

import pytest

from quantstrata.cli.app import main
from quantstrata.data.catalog import Catalog

GOOD_ROW = "1,2,0.5,1.5,1.5,100"
YAHOO_WITH_A_BAD_AND_A_NULL_ROW = (
    "Date,Open,High,Low,Close,Adj Close,Volume\n"
    f"2024-01-02,{GOOD_ROW}\n"
    "2024-01-03,1,2,3,1.5,1.5,100\n"
    f"2024-01-04,{GOOD_ROW}\n"
    "2024-01-05,null,null,null,null,null,null\n"
    f"2024-01-08,{GOOD_ROW}\n"
    f"2024-01-09,{GOOD_ROW}\n"
    f"2024-01-10,{GOOD_ROW}\n"
)


def _run(arguments: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(arguments)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _yahoo(tmp_path: Path) -> Path:
    path = tmp_path / "YHO_1d.csv"
    path.write_text(YAHOO_WITH_A_BAD_AND_A_NULL_ROW, encoding="utf-8")
    return path


def test_import_refuses_bad_rows_naming_file_lines_and_the_policy_option(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tmp_path / "catalog"

    code, _, err = _run(
        ["data", "import", str(_yahoo(tmp_path)), "-i", "1d", "--catalog", str(root)], capsys
    )

    assert code == 1
    error, hint = err.splitlines()
    assert "file line 3" in error
    assert "file line 5" in error
    assert "could not parse" not in error
    assert "--policy" in hint
    assert Catalog(root).describe().is_empty()


@pytest.mark.parametrize(("policy", "written"), [("drop", 5), ("repair", 6)])
def test_import_policy_drops_or_repairs_the_bad_rows(
    policy: str, written: int, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tmp_path / "catalog"

    source = str(_yahoo(tmp_path))
    arguments = ["data", "import", source, "-i", "1d", "--catalog", str(root), "--policy", policy]

    code, out, err = _run(arguments, capsys)

    assert code == 0, err
    assert f"{written} rows written" in out
    assert Catalog(root).read(["YHO"], interval="1d").height == written


def test_validate_table_numbers_rows_by_file_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = _run(["data", "validate", str(_yahoo(tmp_path))], capsys)

    assert code == 1
    assert "file line" in out
    lines = out.splitlines()
    header = next(line for line in lines if "┃" in line and "file line" in line)
    column = [cell.strip() for cell in header.split("┃")].index("file line")
    cells = [[cell.strip() for cell in line.split("│")] for line in lines if line.count("│") > 1]
    assert {row[column] for row in cells} - {""} == {"3", "5"}


def test_import_refuses_an_interval_the_file_does_not_have(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "DAY_1d.csv"
    path.write_text(
        "Date,Open,High,Low,Close,Volume\n"
        + "".join(f"2024-01-0{day},1,2,0.5,1.5,100\n" for day in (2, 3, 4, 5))
    )
    root = tmp_path / "catalog"

    code, _, err = _run(["data", "import", str(path), "-i", "1m", "--catalog", str(root)], capsys)

    assert code == 1
    assert "1d apart" in err
    assert "not 1m" in err
    assert Catalog(root).describe().is_empty()
