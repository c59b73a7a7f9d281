"""The storage interface every backend implements, and :func:`open_backend`.

A :class:`Backend` is one database (one DuckDB connection or one asyncpg pool). Reads, writes and
bulk upserts go through it or through a :class:`Transaction` it opens; both offer the same
:class:`Session` methods, so data and bookkeeping can commit together::

    async with open_backend(url) as db:
        await db.ensure_table(spec)
        async with db.transaction() as tx:
            result = await tx.upsert(spec, batch)
            await mark_complete(tx, "daily", ["20240102"], rows=result.rows)
"""

from __future__ import annotations

import asyncio
from abc import ABC, abstractmethod
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import pyarrow as pa

from alphahome.errors import StorageError
from alphahome.storage.batch import Batch, prepare_batch
from alphahome.storage.options import Capabilities, DuckDBOptions
from alphahome.storage.spec import TableSpec
from alphahome.storage.sql import qualified, quote_ident
from alphahome.storage.url import BackendKind, DatabaseURL, parse_database_url

if TYPE_CHECKING:  # only fetch_df needs pandas at run time
    import pandas as pd

UpsertMode = Literal["merge", "insert", "append"]
UPSERT_MODES: tuple[str, ...] = ("merge", "insert", "append")

@dataclass(frozen=True)
class UpsertResult:
    """What an upsert did: rows inserted, rows whose values changed, rows already stored identically."""

    inserted: int = 0
    updated: int = 0
    unchanged: int = 0

    @property
    def rows(self) -> int:
        """Rows received (after in-batch de-duplication)."""
        return self.inserted + self.updated + self.unchanged

    @property
    def written(self) -> int:
        """Rows actually written (inserted or updated)."""
        return self.inserted + self.updated

    def __add__(self, other: UpsertResult) -> UpsertResult:
        return UpsertResult(
            self.inserted + other.inserted, self.updated + other.updated, self.unchanged + other.unchanged
        )


def split_table_name(table: TableSpec | str) -> tuple[str, str]:
    """``(schema, name)`` of a spec or of a ``"schema.name"`` string."""
    if isinstance(table, TableSpec):
        return table.schema, table.name
    schema, dot, name = table.partition(".")
    if not dot or not schema or not name:
        raise ValueError(f"expected 'schema.table', got {table!r}")
    return schema, name


class Session(ABC):
    """Statements and bulk upserts: what both a backend and an open transaction offer.

    SQL uses ``$1, $2, …`` placeholders on both backends; values are always bound, never formatted.
    ``kind`` is the backend's identity and SQL dialect: ``"duckdb"`` or ``"postgres"``.
    """

    kind: BackendKind

    @property
    def dialect(self) -> BackendKind:
        """The SQL dialect this session speaks (the same as ``kind``)."""
        return self.kind

    @abstractmethod
    async def execute(self, sql: str, *params: Any) -> None:
        """Run one statement (DDL or DML) with bound parameters."""

    @abstractmethod
    async def fetch_arrow(self, sql: str, *params: Any) -> pa.Table:
        """Run a query and return its rows as an Arrow table (``numeric`` read back as float64)."""

    @abstractmethod
    async def fetchval(self, sql: str, *params: Any) -> Any:
        """The first column of the first row, or None when there is no row."""

    async def fetch_df(self, sql: str, *params: Any) -> pd.DataFrame:
        """Run a query and return a pandas DataFrame (dates as ``datetime64``)."""
        table = await self.fetch_arrow(sql, *params)
        return table.to_pandas(date_as_object=False)

    async def upsert(self, spec: TableSpec, batch: Batch, *, mode: UpsertMode = "merge") -> UpsertResult:
        """Write ``batch`` into ``spec``'s table (which must exist: see ``Backend.ensure_table``).

        * ``merge`` (keyed tables): new keys are inserted; stored rows are updated only where a value
          really changed (``update_time`` moves only then); identical rows are counted as unchanged.
        * ``insert`` (keyed tables): rows of partitions known to be new go straight in; a key that
          already exists raises :class:`DataValidationError` and nothing is written.
        * ``append`` (tables without a key): plain bulk insert.

        The batch is validated and converted first (see :func:`prepare_batch`); a bad value or a NULL in
        a non-nullable column raises :class:`DataValidationError` before anything is written. Duplicate
        keys inside the batch resolve to the last row.
        """
        if mode not in UPSERT_MODES:
            raise ValueError(f"unknown upsert mode {mode!r} (expected one of {', '.join(UPSERT_MODES)})")
        if mode == "append" and spec.key:
            raise StorageError(f"{spec.qualified_name} has a key: use mode='merge' or 'insert', not 'append'")
        if mode != "append" and not spec.key:
            raise StorageError(f"{spec.qualified_name} has no key: use mode='append'")
        table = await asyncio.to_thread(prepare_batch, spec, batch, dedupe=mode != "append")
        if table.num_rows == 0:
            return UpsertResult()
        return await self._write(spec, table, mode)

    @abstractmethod
    async def _write(self, spec: TableSpec, table: pa.Table, mode: UpsertMode) -> UpsertResult:
        """Write an already prepared batch (exactly the spec's columns and types, keys de-duplicated)."""

    async def table_exists(self, schema: str, name: str) -> bool:
        """True when ``schema.name`` exists (as a table or view)."""
        found = await self.fetchval(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = $1 AND table_name = $2",
            schema,
            name,
        )
        return bool(found)

    async def table_columns(self, schema: str, name: str) -> dict[str, str]:
        """Column name → the database's type name (upper case), in table order; empty if no table."""
        rows = await self.fetch_arrow(
            "SELECT column_name, upper(data_type) AS data_type FROM information_schema.columns "
            "WHERE table_schema = $1 AND table_name = $2 ORDER BY ordinal_position",
            schema,
            name,
        )
        return dict(zip(rows.column(0).to_pylist(), rows.column(1).to_pylist(), strict=True))

    async def latest_value(self, table: TableSpec | str, column: str) -> Any:
        """``max(column)`` of the table (say its latest trade date), or None if empty or absent."""
        schema, name = split_table_name(table)
        if not await self.table_exists(schema, name):
            return None
        return await self.fetchval(f"SELECT max({quote_ident(column)}) FROM {qualified(schema, name)}")

    async def row_count(self, table: TableSpec | str) -> int:
        """Number of rows in the table (0 if it does not exist)."""
        schema, name = split_table_name(table)
        if not await self.table_exists(schema, name):
            return 0
        return int(await self.fetchval(f"SELECT count(*) FROM {qualified(schema, name)}"))


class Transaction(Session):
    """An open transaction: everything done through it commits together or not at all."""


class Backend(Session):
    """One database. Create with :func:`open_backend`; nothing connects until :meth:`connect`.

    A read-only backend (``open_backend(url, read_only=True)``) never creates or changes anything: a
    DuckDB file is opened read-only (so any number of readers share it) and must exist; a PostgreSQL
    session runs with ``default_transaction_read_only``.
    """

    url: DatabaseURL
    read_only: bool = False
    capabilities: Capabilities

    @abstractmethod
    async def connect(self) -> None:
        """Open the connection (pool). Raises :class:`ConnectionFailed` with one clear line."""

    @abstractmethod
    async def close(self) -> None:
        """Close the connection (pool); idempotent."""

    async def __aenter__(self) -> Backend:
        await self.connect()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    @abstractmethod
    def transaction(self) -> AbstractAsyncContextManager[Transaction]:
        """``async with db.transaction() as tx``: commit on success, roll back on any exception."""

    @abstractmethod
    async def ensure_schema(self, name: str) -> None:
        """Create the schema if it does not exist."""

    @abstractmethod
    async def ensure_table(self, spec: TableSpec) -> None:
        """Create the spec's schema and table if missing; add columns the spec gained since. Idempotent.

        A column whose stored type differs from the spec raises :class:`StorageError` (no silent migration).
        """

    @abstractmethod
    def run_lock(self, name: str) -> AbstractAsyncContextManager[None]:
        """Hold the named run lock for the duration of the block, across processes.

        A second holder gets :class:`RunLockHeld`: "another run is in progress (pid …, since …)".
        """


def open_backend(
    url: str | DatabaseURL,
    pool_config: dict[str, Any] | None = None,
    *,
    read_only: bool = False,
    duckdb: DuckDBOptions | None = None,
    citus: str = "auto",
) -> Backend:
    """The backend for ``url`` (not yet connected: ``await backend.connect()`` or ``async with``).

    ``read_only=True`` is for every read path (queries, status, notebooks): see :class:`Backend`.
    ``pool_config`` (PostgreSQL only) takes ``min_size``, ``max_size``, ``command_timeout``, ``max_queries``,
    ``max_inactive_connection_lifetime``, ``server_settings`` and ``timeout`` (connect timeout, seconds).
    ``duckdb`` (DuckDB only): memory limit, threads and how long to wait for a held file.
    To open the configured database, use :func:`alphahome.storage.configured.backend_for`.
    ``citus`` (PostgreSQL only, ``database.citus``): ``auto`` uses Citus when the extension is installed,
    ``on`` requires it, ``off`` ignores it (docs/scale-out.md).
    """
    parsed = url if isinstance(url, DatabaseURL) else parse_database_url(url)
    if parsed.kind == "duckdb":
        from alphahome.storage.duckdb_backend import DuckDBBackend

        return DuckDBBackend(parsed, duckdb or DuckDBOptions(), read_only=read_only)
    from alphahome.storage.postgres_backend import PostgresBackend

    return PostgresBackend(parsed, pool_config, citus, read_only=read_only)
