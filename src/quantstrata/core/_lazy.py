"""Lazy re-exports for package ``__init__`` modules (PEP 562), so importing a package is cheap.

A package lists what it re-exports as a mapping ``name -> module that defines it`` and hands
it to :func:`lazy_exports`; the returned ``__getattr__`` imports the defining module the first
time a name is used, and ``__dir__`` lists the names. The package also imports the same names
under ``typing.TYPE_CHECKING``, so mypy, IDEs and the documentation see ordinary imports.

Why: ``import quantstrata`` and the CLI's start-up must not pay for Numba, pandas, the venue's
web server or an optional client they do not use (httpx does the same for its extras).
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping

__all__ = ["lazy_exports"]


def lazy_exports(
    package: str, exports: Mapping[str, str]
) -> tuple[Callable[[str], object], Callable[[], list[str]]]:
    """Return the ``__getattr__`` and ``__dir__`` of ``package`` for its lazy ``exports``.

    ``exports`` maps each re-exported name to the module that defines it (``name`` must be an
    attribute of that module), or a submodule ``package.name`` to itself. A loaded name is
    stored on the package, so the import runs once.
    """

    def __getattr__(name: str) -> object:  # noqa: N807 -- the PEP 562 hook's own name
        try:
            source = exports[name]
        except KeyError:
            raise AttributeError(f"module {package!r} has no attribute {name!r}") from None
        module = importlib.import_module(source)
        value = module if source == f"{package}.{name}" else getattr(module, name)
        setattr(sys.modules[package], name, value)
        return value

    def __dir__() -> list[str]:  # noqa: N807 -- the PEP 562 hook's own name
        return sorted({*vars(sys.modules[package]), *exports})

    return __getattr__, __dir__
