"""Where a strategy class comes from: an importable module, or a file loaded by its path.

A class in an installed or importable module is named ``package.module.Class`` and any other
process can import it by that name. A class from a file loaded by its path (``quantstrata
backtest my_dir/my_strategy.py``, which gives the module a generated name) or from a script's
``__main__`` cannot be found by name: it is labelled ``Class (my_dir/my_strategy.py)`` for
people, and worker processes must receive it by value, with the modules of its own folder
that it imported (``my_dir/helpers.py``).
"""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path
from types import ModuleType

__all__ = ["importable_by_name", "modules_beside", "source_file", "strategy_label"]

_FRAMEWORK = __name__.partition(".")[0]


def importable_by_name(module_name: str) -> bool:
    """Return whether a fresh process could import ``module_name`` (``__main__`` cannot).

    The finders on ``sys.meta_path`` are asked directly, so a module that is only present in
    ``sys.modules`` (loaded from a path under a generated name) does not count.
    """
    if module_name == "__main__":
        return False
    top = module_name.partition(".")[0]
    for finder in sys.meta_path:
        find_spec = getattr(finder, "find_spec", None)
        if find_spec is None:
            continue
        with contextlib.suppress(ImportError, ValueError):
            if find_spec(top, None) is not None:
                return True
    return False


def source_file(cls: type) -> Path | None:
    """Return the file ``cls`` was loaded from when its module cannot be imported by name."""
    module = sys.modules.get(cls.__module__)
    location = getattr(module, "__file__", None)
    if location is None or importable_by_name(cls.__module__):
        return None
    return Path(location).resolve()


def strategy_label(cls: type) -> str:
    """Return how people should read ``cls``'s name: ``module.Class`` or ``Class (file)``.

    The file is shown relative to the working directory when it lies below it.
    """
    path = source_file(cls)
    if path is None:
        return f"{cls.__module__}.{cls.__qualname__}"
    with contextlib.suppress(ValueError):
        path = path.relative_to(Path.cwd())
    return f"{cls.__qualname__} ({path.as_posix()})"


def modules_beside(module: ModuleType) -> list[ModuleType]:
    """Return the loaded modules imported from ``module``'s folder as the root of their name.

    These are what ``import helpers`` in ``my_dir/strategy.py`` finds when ``my_dir`` is on
    ``sys.path``: ``my_dir/helpers.py`` as ``helpers``, ``my_dir/lib/__init__.py`` as ``lib``.
    The framework itself is never among them, even when its folder is the same.
    """
    location = getattr(module, "__file__", None)
    if location is None:
        return []
    folder = Path(location).resolve().parent
    found = []
    for name, candidate in list(sys.modules.items()):
        file = getattr(candidate, "__file__", None)
        if candidate is module or file is None or name.partition(".")[0] == _FRAMEWORK:
            continue
        if _module_path(name) in _relative_forms(Path(file).resolve(), folder):
            found.append(candidate)
    return found


def _module_path(name: str) -> Path:
    return Path(*name.split("."))


def _relative_forms(file: Path, folder: Path) -> tuple[Path, ...]:
    """Return the module paths ``file`` stands for below ``folder`` (none when outside it)."""
    try:
        relative = file.relative_to(folder)
    except ValueError:
        return ()
    if relative.name.startswith("__init__."):
        return (relative.parent,)
    return (relative.with_suffix(""),)
