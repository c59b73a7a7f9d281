"""Storage: table specs, the DuckDB and PostgreSQL backends, bulk upserts, bookkeeping.

Public entry points (imported on first use, so ``import alphahome.storage`` stays cheap; the backends
themselves are imported only when a URL asks for them)::

    from alphahome.storage import open_backend, open_sync, TableSpec, Column, UpsertResult

``open_backend(url, read_only=True)`` is the one way to open a database for reading (see
docs/architecture.md); ``backend_for(settings)`` opens the configured one.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from alphahome.storage.base import Backend, Session, Transaction, UpsertMode, UpsertResult, open_backend  # noqa: F401
    from alphahome.storage.configured import backend_for, opened_backend  # noqa: F401
    from alphahome.storage.options import Capabilities, DuckDBOptions  # noqa: F401
    from alphahome.storage.spec import Column, TableSpec  # noqa: F401
    from alphahome.storage.sync import SyncBackend, open_sync  # noqa: F401
    from alphahome.storage.url import DatabaseURL, mask_url, parse_database_url  # noqa: F401

#: public name -> the module defining it.
_EXPORTS: dict[str, str] = {
    "Backend": "base",
    "Session": "base",
    "Transaction": "base",
    "UpsertMode": "base",
    "UpsertResult": "base",
    "open_backend": "base",
    "backend_for": "configured",
    "opened_backend": "configured",
    "Capabilities": "options",
    "DuckDBOptions": "options",
    "Column": "spec",
    "TableSpec": "spec",
    "SyncBackend": "sync",
    "open_sync": "sync",
    "DatabaseURL": "url",
    "mask_url": "url",
    "parse_database_url": "url",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'alphahome.storage' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"alphahome.storage.{module}"), name)
    globals()[name] = value
    return value
