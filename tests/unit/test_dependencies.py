"""Every package quantstrata imports is declared, and optional ones load only when used.

Each module under ``src/quantstrata`` is read as source (AST, nothing imported). A third-party
import that runs when the module is imported (module top or class body, not under
``TYPE_CHECKING``) must belong to a core dependency; one inside a function may belong to a core
dependency too. An optional package (an extra's) is never imported by an ``import`` statement:
only through :func:`quantstrata.core._extras.require`, whose table names the right extra.
"""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from collections.abc import Iterator
from importlib.metadata import packages_distributions
from pathlib import Path

from quantstrata.core._extras import EXTRAS

REPO_ROOT = Path(__file__).resolve().parents[2]
SOURCE = REPO_ROOT / "src" / "quantstrata"
_PROJECT = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
_NOT_RUNTIME_EXTRAS = {"all", "dev", "docs"}


def _distribution(requirement: str) -> str:
    """``"psycopg[binary]>=3.1"`` -> ``"psycopg"`` (normalised as PEP 503 does)."""
    name = re.match(r"[A-Za-z0-9._-]+", requirement)
    assert name is not None, requirement
    return re.sub(r"[-_.]+", "-", name.group(0)).lower()


CORE = {_distribution(item) for item in _PROJECT["dependencies"]}
OPTIONAL = {
    extra: {_distribution(item) for item in items}
    for extra, items in _PROJECT["optional-dependencies"].items()
    if extra not in _NOT_RUNTIME_EXTRAS
}


_INSTALLED = packages_distributions()  # slow to build: read once


def _distributions_of(module: str) -> set[str]:
    return {_distribution(name) for name in _INSTALLED.get(module, [])}


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(node: ast.AST, in_function: bool = False) -> Iterator[tuple[str, int, bool]]:
    """Yield (top-level package, line, imported inside a function) for each import statement."""
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.If) and _is_type_checking(child):
            yield from (item for branch in child.orelse for item in _imports(branch, in_function))
            continue
        if isinstance(child, ast.Import):
            for alias in child.names:
                yield alias.name.partition(".")[0], child.lineno, in_function
        elif isinstance(child, ast.ImportFrom) and child.level == 0 and child.module:
            yield child.module.partition(".")[0], child.lineno, in_function
        inside = in_function or isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef)
        yield from _imports(child, inside)


def _third_party_imports() -> Iterator[tuple[str, str, bool]]:
    """Yield (``path:line``, top-level package, inside a function) for every third-party import."""
    for path in sorted(SOURCE.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for package, line, in_function in _imports(tree):
            if package in sys.stdlib_module_names or package in {"quantstrata", "__future__"}:
                continue
            yield f"{path.relative_to(REPO_ROOT)}:{line}", package, in_function


def test_every_import_at_import_time_is_a_core_dependency() -> None:
    undeclared = [
        f"{where}: {package} ({sorted(_distributions_of(package)) or 'not installed'})"
        for where, package, in_function in _third_party_imports()
        if not in_function and not _distributions_of(package) & CORE
    ]

    assert undeclared == []


def test_every_import_inside_a_function_is_a_core_or_an_optional_dependency() -> None:
    declared = CORE.union(*OPTIONAL.values())
    undeclared = [
        f"{where}: {package}"
        for where, package, in_function in _third_party_imports()
        if in_function and not _distributions_of(package) & declared
    ]

    assert undeclared == []


def test_each_optional_package_belongs_to_the_extra_require_names() -> None:
    for package, extra in EXTRAS.items():
        assert _distributions_of(package) & OPTIONAL[extra], (package, extra)
        assert not _distributions_of(package) & CORE, package


def test_the_all_extra_installs_every_runtime_extra() -> None:
    (everything,) = _PROJECT["optional-dependencies"]["all"]

    assert everything == f"quantstrata[{','.join(OPTIONAL)}]"
