"""File access for the catalog through fsspec: listing, reading and atomic replacement.

Local roots use the operating system directly (``os.replace`` after an ``fsync``); every other
fsspec filesystem writes a temporary file in the target directory and moves it into place, which
object stores implement as copy-then-delete of a complete object, so readers never see half a
file either way.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import suppress
from pathlib import Path
from typing import Any, BinaryIO
from uuid import uuid4

import polars as pl
from fsspec.core import url_to_fs
from fsspec.implementations.local import LocalFileSystem

from quantstrata.core.errors import CatalogError
from quantstrata.core.secrets import redact

__all__ = ["Storage", "write_parquet"]

_TEMPORARY_SUFFIX = ".tmp"
_MAX_WRITERS = 4


def write_parquet(frame: pl.DataFrame, target: str | BinaryIO) -> None:
    """Write ``frame`` as zstd-compressed Parquet with column statistics (for pruning)."""
    frame.write_parquet(target, compression="zstd", statistics=True)


class Storage:
    """The filesystem behind one catalog root, with the few operations the catalog needs."""

    def __init__(self, root: str, storage_options: Mapping[str, Any]) -> None:
        """Resolve ``root`` (a path or any fsspec URL) to a filesystem and a base path."""
        try:
            self.filesystem, base = url_to_fs(root, **dict(storage_options))
        except (ImportError, ValueError, TypeError) as error:
            raise CatalogError(f"cannot open catalog root {redact(root)}: {error}") from None
        self.base = base.rstrip("/") or "/"
        self.is_local = isinstance(self.filesystem, LocalFileSystem)

    def join(self, *parts: str) -> str:
        """Return the path of ``parts`` under the root."""
        return "/".join((self.base.rstrip("/"), *parts))

    def list_files(self, path: str) -> dict[str, int]:
        """Return every file under ``path`` (recursively) with its size; nothing if it is absent."""
        if not self.filesystem.exists(path):
            return {}
        found = self.filesystem.find(path, withdirs=False, detail=True)
        return {_posix(name): int(info.get("size") or 0) for name, info in found.items()}

    def exists(self, path: str) -> bool:
        """Whether a file or directory exists at ``path``."""
        return bool(self.filesystem.exists(path))

    def source(self, path: str) -> str | bytes:
        """Return what Polars should read for ``path``: the path itself locally, else its bytes."""
        if self.is_local:
            return path
        return bytes(self.filesystem.cat_file(path))

    def read_frame(self, path: str) -> pl.DataFrame:
        """Read one Parquet file whole."""
        try:
            return pl.read_parquet(self.source(path), hive_partitioning=False)
        except (OSError, pl.exceptions.ComputeError) as error:
            raise CatalogError(f"cannot read catalog file {path}: {error}") from error

    def replace(self, path: str, frame: pl.DataFrame) -> None:
        """Write ``frame`` to ``path`` atomically: readers see the old file or the new, never half.

        The frame goes to a hidden temporary file in the same directory first; on any failure the
        temporary file is removed and the previous file stays untouched.
        """
        directory, name = path.rsplit("/", 1)
        temporary = f"{directory}/.{name}.{uuid4().hex}{_TEMPORARY_SUFFIX}"
        self.filesystem.makedirs(directory, exist_ok=True)
        try:
            if self.is_local:
                _write_local(frame, temporary)
                Path(temporary).replace(path)
            else:
                with self.filesystem.open(temporary, "wb") as handle:
                    write_parquet(frame, handle)
                self.filesystem.mv(temporary, path)
        except BaseException:
            with suppress(FileNotFoundError, OSError):
                self.filesystem.rm_file(temporary)
            raise

    def replace_many(self, files: Sequence[tuple[str, pl.DataFrame]]) -> None:
        """Replace several files, each atomically, writing a few at a time.

        Parquet encoding and compression release the GIL, so threads overlap them. The first
        failure is raised after the writes already started have finished.
        """
        if len(files) <= 1:
            for path, frame in files:
                self.replace(path, frame)
            return
        with ThreadPoolExecutor(max_workers=min(_MAX_WRITERS, len(files))) as pool:
            futures = [pool.submit(self.replace, path, frame) for path, frame in files]
        for future in futures:
            future.result()

    def remove_tree(self, path: str) -> None:
        """Remove ``path`` and everything below it."""
        self.filesystem.rm(path, recursive=True)


def _write_local(frame: pl.DataFrame, path: str) -> None:
    with open(path, "wb") as handle:  # noqa: PTH123 - a plain file handle is needed for fsync
        write_parquet(frame, handle)
        handle.flush()
        os.fsync(handle.fileno())


def _posix(name: str) -> str:
    return name.replace("\\", "/")
