"""The database a read function uses: the one given, or one opened read-only for a URL / the configuration."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from alphahome.storage.sync import SyncBackend


@contextmanager
def reading(db: Any) -> Iterator[SyncBackend]:
    """Yield a :class:`SyncBackend` for ``db``: an open one as it is (left open), else one opened for the
    URL (None = the configured ``database.url``) and closed afterwards."""
    if isinstance(db, SyncBackend):
        yield db
        return
    if db is not None and not isinstance(db, str):
        raise TypeError(f"db must be None, a database URL or an open SyncBackend, not {type(db).__name__}")
    handle = open_reader(db)
    try:
        yield handle
    finally:
        handle.close()


def open_reader(db: str | None) -> SyncBackend:
    """A new read-only connection for a URL, or for the configured ``database.url`` when None (with the
    configured pool and DuckDB options)."""
    from alphahome.storage.sync import open_configured_sync

    return open_configured_sync(db, read_only=True)
