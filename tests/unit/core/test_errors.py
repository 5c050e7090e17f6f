from __future__ import annotations

import pytest

from quantstrata.core.errors import (
    BarValidationError,
    CatalogConflictError,
    CatalogError,
    DataError,
    DataIssue,
    QuantstrataError,
    UnknownSymbolError,
)


def test_issue_text_names_row_column_and_value():
    issue = DataIssue(
        "non_finite", "value is not finite", row=7, column="close", value=float("nan")
    )
    assert str(issue) == "row 7, column 'close': value is not finite (value: nan) [non_finite]"


def test_data_error_lists_issues_and_counts_the_rest():
    issues = tuple(DataIssue("check", f"problem {i}", row=i) for i in range(13))
    error = BarValidationError("13 bad rows", issues)
    text = str(error)
    assert "row 0" in text
    assert "row 9" in text
    assert "row 10" not in text
    assert "and 3 more" in text
    assert error.issues == issues


@pytest.mark.parametrize(
    ("error_type", "bases"),
    [
        (BarValidationError, (DataError, ValueError, QuantstrataError)),
        (UnknownSymbolError, (DataError, KeyError)),
        (CatalogConflictError, (CatalogError, DataError)),
    ],
)
def test_errors_can_be_caught_by_their_families(error_type, bases):
    assert issubclass(error_type, bases)


def test_unknown_symbol_message_is_not_quoted_like_a_key_error():
    assert str(UnknownSymbolError("symbol 'X' not in catalog")) == "symbol 'X' not in catalog"
