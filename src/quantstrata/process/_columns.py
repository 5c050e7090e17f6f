"""Match the column names users bring (``Open``, ``Adj Close``, ``Vol``, ``open_time``) to roles.

Names are folded to snake_case first; a role (``ts``, ``symbol``, ``open`` …) is then found through
a short alias list. Two input columns that fold to the same name, or two that could fill the same
role, are an error: the user must say which one is meant rather than have us guess.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from quantstrata.core.errors import DataIssue, SchemaError

__all__ = ["INDEX_COLUMN", "ROLE_ALIASES", "ColumnPlan", "plan_columns", "snake_case"]

#: Name given to an unnamed pandas index; it can fill the ``ts`` role when no column does.
INDEX_COLUMN = "__index__"

ROLE_ALIASES: dict[str, frozenset[str]] = {
    "ts": frozenset({"ts", "t", "time", "timestamp", "date", "datetime", "date_time", "open_time"}),
    "symbol": frozenset({"symbol", "ticker"}),
    "open": frozenset({"open", "o"}),
    "high": frozenset({"high", "h"}),
    "low": frozenset({"low", "l"}),
    "close": frozenset({"close", "c"}),
    "volume": frozenset({"volume", "vol", "v"}),
}

_ACRONYM_WORD = re.compile(r"([A-Z]+)([A-Z][a-z])")
_LOWER_UPPER = re.compile(r"([a-z0-9])([A-Z])")
_NON_WORD = re.compile(r"[^0-9A-Za-z]+")


def snake_case(name: str) -> str:
    """Fold ``name`` to snake_case: ``"Adj Close"`` → ``adj_close``, ``"openTime"`` → ``open_time``.

    An all-capitals word stays one word (``"OPEN"`` → ``open``).
    """
    text = _ACRONYM_WORD.sub(r"\1_\2", name.strip())
    text = _LOWER_UPPER.sub(r"\1_\2", text)
    return _NON_WORD.sub("_", text).strip("_").lower()


@dataclass(frozen=True, slots=True)
class ColumnPlan:
    """Where each role comes from and which other columns travel along as extras.

    ``roles`` maps a role (``ts``, ``open`` …) to the input column name; ``extras`` lists
    ``(input name, snake_case name)`` pairs in input order.
    """

    roles: dict[str, str]
    extras: tuple[tuple[str, str], ...]


def plan_columns(names: Sequence[str]) -> ColumnPlan:
    """Assign every input column a role or an extra name; raise on collisions.

    Raises :class:`SchemaError` naming each pair of columns that fold to the same name or that
    compete for one role.
    """
    folded = {
        name: snake_case(name) or f"column_{position}"
        for position, name in enumerate(names)
        if name != INDEX_COLUMN
    }
    issues = list(_duplicate_issues(folded))
    roles: dict[str, str] = {}
    for role, aliases in ROLE_ALIASES.items():
        candidates = [name for name, snake in folded.items() if snake in aliases]
        if len({folded[name] for name in candidates}) > 1:
            issues.append(
                DataIssue(
                    "ambiguous_column",
                    f"several columns could be {role!r}: {candidates}; keep or rename one",
                    column=candidates[1],
                    value=candidates,
                )
            )
        elif candidates:
            roles[role] = candidates[0]
    if issues:
        raise SchemaError("cannot tell which column is which", tuple(issues))
    if "ts" not in roles and INDEX_COLUMN in names:
        roles["ts"] = INDEX_COLUMN
    used = set(roles.values())
    extras = tuple((name, snake) for name, snake in folded.items() if name not in used and snake)
    return ColumnPlan(roles=roles, extras=extras)


def _duplicate_issues(folded: dict[str, str]) -> list[DataIssue]:
    seen: dict[str, list[str]] = {}
    for name, snake in folded.items():
        seen.setdefault(snake, []).append(name)
    return [
        DataIssue(
            "duplicate_column",
            f"columns {originals} all fold to {snake!r}; drop or rename all but one",
            column=originals[1],
            value=originals,
        )
        for snake, originals in seen.items()
        if len(originals) > 1
    ]
