"""One DuckDB instance per database file in this process, shared by every backend that opens it.

DuckDB refuses to attach a file twice in one process ("Unique file handle conflict"), yet a notebook
routinely holds several handles at once: a ``pro_api()`` kept open, a PIT query, ``bars()``. So the first
backend to open a file attaches it on a root connection; every backend (the first included) then works on
its own cursor of that root — a separate DuckDB connection to the same instance — and the root closes when
the last cursor is released. A file attached read-only cannot take a writer until its readers close.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from dataclasses import dataclass

import duckdb

from alphahome.errors import ConnectionFailed


@dataclass
class _Attached:
    root: duckdb.DuckDBPyConnection
    read_only: bool
    users: int


_lock = threading.Lock()
_files: dict[str, _Attached] = {}


def _key(path: str) -> str:
    return os.path.realpath(path)


def acquire(
    path: str,
    read_only: bool,
    open_root: Callable[[], duckdb.DuckDBPyConnection],
    prepare: Callable[[duckdb.DuckDBPyConnection], None],
    where: str,
) -> duckdb.DuckDBPyConnection:
    """A new cursor on the process's instance of ``path`` (``open_root`` attaches it the first time);
    ``prepare`` runs on the cursor (session settings, the default catalog)."""
    with _lock:
        key = _key(path)
        entry = _files.get(key)
        if entry is not None and entry.read_only and not read_only:
            raise ConnectionFailed(
                f"cannot open {where} for writing: this process has it open read-only (a pro_api, PIT or "
                "query handle that is still open): close those handles first"
            )
        if entry is None:
            entry = _Attached(open_root(), read_only, 0)
            _files[key] = entry
        cursor = entry.root.cursor()
        try:
            prepare(cursor)
        except BaseException:
            cursor.close()
            if entry.users == 0:
                entry.root.close()
                del _files[key]
            raise
        entry.users += 1
        return cursor


def release(path: str, cursor: duckdb.DuckDBPyConnection) -> None:
    """Close a cursor from :func:`acquire`; the last one out closes the file."""
    cursor.close()
    with _lock:
        key = _key(path)
        entry = _files.get(key)
        if entry is None:
            return
        entry.users -= 1
        if entry.users <= 0:
            entry.root.close()
            del _files[key]
