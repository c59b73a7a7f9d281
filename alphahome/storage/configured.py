"""The configured database: a backend built from ``settings.database`` (URL, pool, DuckDB options).

Every command and the Python front door open the database through here, so each backend gets the same
pool settings, memory limit, threads and lock wait, and every read path asks for ``read_only=True``
(docs/architecture.md, "Readers and writers").
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

from alphahome.storage.base import Backend, open_backend

if TYPE_CHECKING:
    from alphahome.config.settings import DatabaseSettings, Settings


def backend_for(settings: Settings | DatabaseSettings, *, read_only: bool = False) -> Backend:
    """The backend of the configured database (not yet connected). ``settings``: the whole settings or
    their ``database`` part. Read paths pass ``read_only=True``."""
    from alphahome.config.settings import Settings

    database = settings.database if isinstance(settings, Settings) else settings
    return open_backend(
        database.url,
        database.pool_config.model_dump(exclude_none=True),
        read_only=read_only,
        duckdb=database.duckdb_options(),
        citus=database.citus,
    )


@asynccontextmanager
async def opened_backend(settings: Settings | DatabaseSettings, *, read_only: bool = False) -> AsyncIterator[Backend]:
    """``async with opened_backend(settings, read_only=True) as db``: connect, yield, close."""
    async with backend_for(settings, read_only=read_only) as backend:
        yield backend
