"""Find the strategy a user names on the command line and build it with their parameters.

A strategy is named by a Python file (``examples/sma_cross.py``), a file and a class
(``my_strategies.py:Breakout``) or a module and a class (``package.module:ClassName``). A file is
imported with :func:`importlib.util.spec_from_file_location`, the documented recipe, so its
``if __name__ == "__main__":`` block does not run; its folder is put first on ``sys.path``, as
``python my_dir/file.py`` does, so it can import the modules beside it. Without a class name
the file or module must hold exactly one strategy class: the one defined there, else the one
its ``__all__`` exports.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import inspect
import sys
import traceback
from pathlib import Path
from types import ModuleType
from typing import Any

from quantstrata.core.errors import ConfigError
from quantstrata.strategy.event import EventStrategy
from quantstrata.strategy.parameters import ParameterSpec, parameter_space
from quantstrata.strategy.signal import SignalStrategy

__all__ = [
    "StrategyClass",
    "StrategyFileError",
    "StrategySyntaxError",
    "build_strategy",
    "describe_parameters",
    "load_strategy_class",
]

StrategyClass = type[SignalStrategy] | type[EventStrategy]

_NONE_WORDS = frozenset({"none", "null"})


class StrategyFileError(ConfigError):
    """The strategy file or module cannot give a usable strategy class; the message says why."""


class StrategySyntaxError(StrategyFileError):
    """The strategy file is not valid Python; the message names ``file:line``."""


def load_strategy_class(source: str) -> StrategyClass:
    """Return the strategy class ``source`` names: ``file.py``, ``file.py:Class``, ``mod:Class``."""
    named = ":" in source and not source.endswith(".py")
    location, _, class_name = source.rpartition(":") if named else (source, "", "")
    if not location:
        raise StrategyFileError(
            f"strategy {source!r} names a class but no file or module before ':'"
        )
    module = _import_source(location)
    if class_name:
        found = getattr(module, class_name, None)
        if isinstance(found, type) and _lacks_methods(found):
            raise StrategyFileError(_incomplete(found))
        if not _is_strategy_class(found):
            raise StrategyFileError(
                f"{location} has no strategy class {class_name!r}; "
                f"its strategy classes are: {_listing(_strategy_classes(module))}"
            )
        return _as_strategy_class(found)
    return _single_strategy(module, location)


def build_strategy(
    strategy_class: StrategyClass, assignments: list[str]
) -> SignalStrategy | EventStrategy:
    """Build ``strategy_class`` from ``name=value`` assignments, validated by its Parameters."""
    space = parameter_space(strategy_class.Parameters)
    known = {spec.name: spec for spec in space}
    values: dict[str, Any] = {}
    for assignment in assignments:
        name, separator, raw = assignment.partition("=")
        name = name.strip()
        if not separator or not name:
            raise ConfigError(f"--param takes name=value, got {assignment!r}")
        if name not in known:
            raise ConfigError(
                f"{strategy_class.__name__} has no parameter {name!r}; "
                f"its parameters are: {describe_parameters(space)}"
            )
        values[name] = _parse_value(raw.strip())
    return strategy_class(**values)


def describe_parameters(space: list[ParameterSpec]) -> str:
    """Return ``name (default D, L..U)`` for every parameter, or ``none`` when there are none."""
    if not space:
        return "none"
    parts = []
    for spec in space:
        bounds = ""
        if spec.choices is not None:
            bounds = ", one of " + "/".join(str(choice) for choice in spec.choices)
        elif spec.lower is not None or spec.upper is not None:
            lower = "" if spec.lower is None else f"{spec.lower:g}"
            upper = "" if spec.upper is None else f"{spec.upper:g}"
            bounds = f", {lower}..{upper}"
        parts.append(f"{spec.name} (default {spec.default!r}{bounds})")
    return ", ".join(parts)


def _parse_value(raw: str) -> Any:
    """Return the text as given (the Parameters model converts it), or None for none/null."""
    return None if raw.lower() in _NONE_WORDS else raw


def _import_source(location: str) -> ModuleType:
    path = Path(location)
    if path.suffix == ".py" or path.is_file():
        return _import_file(path)
    try:
        return importlib.import_module(location)
    except ImportError as error:
        raise StrategyFileError(
            f"cannot import the strategy module {location!r}: {error}; "
            "name a .py file or an importable package.module"
        ) from error


def _import_file(path: Path) -> ModuleType:
    if not path.is_file():
        raise StrategyFileError(f"strategy file {path} does not exist")
    resolved = path.resolve()
    digest = hashlib.sha256(str(resolved).encode()).hexdigest()[:12]
    module_name = f"quantstrata_user_strategy_{resolved.stem}_{digest}"
    existing = sys.modules.get(module_name)
    if existing is not None:
        return existing
    spec = importlib.util.spec_from_file_location(module_name, resolved)
    if spec is None or spec.loader is None:
        raise ConfigError(f"cannot load {path} as a Python module")
    module = importlib.util.module_from_spec(spec)
    _put_folder_on_path(resolved.parent)
    # Registered before running, as the importlib recipe says, so pydantic and dataclasses
    # can resolve the module's annotations.
    sys.modules[module_name] = module
    try:
        spec.loader.exec_module(module)
    except SyntaxError as error:
        del sys.modules[module_name]
        raise StrategySyntaxError(
            f"{path}:{error.lineno}: {error.msg} in the strategy file"
        ) from error
    except Exception as error:
        del sys.modules[module_name]
        raise StrategyFileError(
            f"{path}:{_failing_line(error, resolved)}: importing the strategy file raised "
            f"{type(error).__name__}: {error}"
        ) from error
    except BaseException:
        del sys.modules[module_name]
        raise
    return module


def _failing_line(error: BaseException, file: Path) -> int | None:
    """Return the line of ``file`` where ``error`` was raised (the innermost frame in it)."""
    lines = [
        frame.lineno
        for frame in traceback.extract_tb(error.__traceback__)
        if Path(frame.filename) == file
    ]
    return lines[-1] if lines else None


def _put_folder_on_path(folder: Path) -> None:
    """Let the file import the modules beside it, as ``python my_dir/file.py`` does."""
    entry = str(folder)
    if entry not in sys.path:
        sys.path.insert(0, entry)


def _single_strategy(module: ModuleType, location: str) -> StrategyClass:
    candidates = _strategy_classes(module)
    defined = [item for item in candidates if item.__module__ == module.__name__]
    exported = set(getattr(module, "__all__", ()))
    chosen = defined or [item for item in candidates if item.__name__ in exported]
    if len(chosen) == 1:
        return chosen[0]
    if not chosen:
        incomplete = _incomplete_strategy_classes(module)
        if incomplete:
            raise StrategyFileError("; ".join(incomplete))
        raise StrategyFileError(
            f"{location} defines no strategy class (a SignalStrategy or EventStrategy subclass)"
        )
    raise StrategyFileError(
        f"{location} holds several strategy classes ({_listing(chosen)}); "
        f"name one as {location}:ClassName"
    )


def _incomplete_strategy_classes(module: ModuleType) -> list[str]:
    """Describe each strategy subclass defined in ``module`` that leaves abstract methods out."""
    return [
        _incomplete(value)
        for value in vars(module).values()
        if isinstance(value, type) and value.__module__ == module.__name__ and _lacks_methods(value)
    ]


def _lacks_methods(value: type) -> bool:
    """Whether ``value`` is a user's strategy subclass that leaves abstract methods undefined."""
    return (
        issubclass(value, SignalStrategy | EventStrategy)
        and value not in {SignalStrategy, EventStrategy}
        and inspect.isabstract(value)
    )


def _incomplete(value: type) -> str:
    """Say which abstract methods the strategy class ``value`` does not define."""
    base = "SignalStrategy" if issubclass(value, SignalStrategy) else "EventStrategy"
    missing = sorted(getattr(value, "__abstractmethods__", ()))
    where = Path(inspect.getfile(value)).name
    why = (
        " (warmup_bars() returns how many bars precede the first valid decision)"
        if "warmup_bars" in missing
        else ""
    )
    return (
        f"class {value.__name__} in {where} is a {base} but does not define "
        f"{', '.join(f'{name}()' for name in missing)}{why}"
    )


def _strategy_classes(module: ModuleType) -> list[StrategyClass]:
    found = {id(value): value for value in vars(module).values() if _is_strategy_class(value)}
    return sorted(
        (_as_strategy_class(value) for value in found.values()), key=lambda item: item.__name__
    )


def _is_strategy_class(value: object) -> bool:
    return (
        isinstance(value, type)
        and issubclass(value, SignalStrategy | EventStrategy)
        and value not in {SignalStrategy, EventStrategy}
        and not inspect.isabstract(value)
    )


def _as_strategy_class(value: object) -> StrategyClass:
    if isinstance(value, type) and issubclass(value, SignalStrategy):
        return value
    if isinstance(value, type) and issubclass(value, EventStrategy):
        return value
    raise ConfigError(f"{value!r} is not a strategy class")


def _listing(classes: list[StrategyClass]) -> str:
    return ", ".join(item.__name__ for item in classes) or "none"
