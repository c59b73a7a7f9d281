"""Storage: table specs, the DuckDB and PostgreSQL backends, bulk upserts, bookkeeping.

Public entry points (the backends themselves are imported only when a URL asks for them)::

    from alphahome.storage import open_backend, open_sync, TableSpec, Column, UpsertResult
"""

from alphahome.storage.base import Backend, Session, Transaction, UpsertMode, UpsertResult, open_backend
from alphahome.storage.spec import Column, TableSpec
from alphahome.storage.sync import SyncBackend, open_sync
from alphahome.storage.url import DatabaseURL, mask_url, parse_database_url

__all__ = [
    "Backend",
    "Column",
    "DatabaseURL",
    "Session",
    "SyncBackend",
    "TableSpec",
    "Transaction",
    "UpsertMode",
    "UpsertResult",
    "mask_url",
    "open_backend",
    "open_sync",
    "parse_database_url",
]
