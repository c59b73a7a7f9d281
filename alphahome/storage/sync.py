"""Blocking access to a backend, for notebooks and scripts::

    with open_sync("duckdb:///~/.alphahome/alphahome.duckdb", read_only=True) as db:
        df = db.fetch_df("SELECT * FROM tushare.daily WHERE trade_date = $1", datetime.date(2024, 1, 2))

Open read-only to read: any number of notebooks then share a DuckDB file (docs/architecture.md).

The async backend runs on a private event-loop thread, so this works the same inside Jupyter (which has
its own running loop) and in a plain script, on both DuckDB and PostgreSQL.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import pandas as pd
import pyarrow as pa

from alphahome.storage.base import Backend, UpsertMode, UpsertResult, open_backend
from alphahome.storage.batch import Batch
from alphahome.storage.options import DuckDBOptions
from alphahome.storage.spec import TableSpec
from alphahome.storage.url import DatabaseURL

T = TypeVar("T")


class SyncBackend:
    """The blocking twin of :class:`Backend` (reads, statements, DDL and upserts; no transactions)."""

    def __init__(self, backend: Backend) -> None:
        self.backend = backend
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="alphahome-storage", daemon=True)
        self._thread.start()
        try:
            self._run(backend.connect())
        except BaseException:
            self._stop_loop()
            raise

    @property
    def kind(self) -> str:
        """``"duckdb"`` or ``"postgres"``."""
        return self.backend.kind

    @property
    def dialect(self) -> str:
        """The SQL dialect the backend speaks (see :attr:`Session.dialect`)."""
        return self.backend.dialect

    @property
    def read_only(self) -> bool:
        """True when opened for reading only."""
        return self.backend.read_only

    def _run(self, coro: Coroutine[Any, Any, T]) -> T:
        future = asyncio.run_coroutine_threadsafe(coro, self._loop)
        try:
            return future.result()
        except KeyboardInterrupt:
            # Ctrl-C in a notebook: cancel the running statement instead of leaving it behind.
            future.cancel()
            raise

    def fetch_df(self, sql: str, *params: Any) -> pd.DataFrame:
        """Run a query and return a pandas DataFrame."""
        return self._run(self.backend.fetch_df(sql, *params))

    def fetch_arrow(self, sql: str, *params: Any) -> pa.Table:
        """Run a query and return an Arrow table."""
        return self._run(self.backend.fetch_arrow(sql, *params))

    def fetchval(self, sql: str, *params: Any) -> Any:
        """The first column of the first row (None when there is no row)."""
        return self._run(self.backend.fetchval(sql, *params))

    @contextmanager
    def read_snapshot(self, connections: int = 1) -> Iterator[SnapshotReader]:
        """PostgreSQL only: reads that all see one snapshot of the database, on up to ``connections``
        connections at once (``REPEATABLE READ READ ONLY``, JIT off; see ``PostgresBackend.read_snapshot``)."""
        opener = getattr(self.backend, "read_snapshot", None)
        if opener is None:
            raise TypeError(f"read_snapshot needs PostgreSQL, not {self.kind}")
        manager = opener(connections)
        session = self._run(manager.__aenter__())
        try:
            yield SnapshotReader(self, session)
        except BaseException as exc:
            self._run(manager.__aexit__(type(exc), exc, exc.__traceback__))
            raise
        self._run(manager.__aexit__(None, None, None))

    def execute(self, sql: str, *params: Any) -> None:
        """Run one statement."""
        self._run(self.backend.execute(sql, *params))

    def upsert(self, spec: TableSpec, batch: Batch, *, mode: UpsertMode = "merge") -> UpsertResult:
        """See :meth:`Session.upsert`."""
        return self._run(self.backend.upsert(spec, batch, mode=mode))

    def ensure_table(self, spec: TableSpec) -> None:
        """See :meth:`Backend.ensure_table`."""
        self._run(self.backend.ensure_table(spec))

    def table_exists(self, schema: str, name: str) -> bool:
        """True when ``schema.name`` exists."""
        return self._run(self.backend.table_exists(schema, name))

    def row_count(self, table: TableSpec | str) -> int:
        """Rows in the table (0 if absent)."""
        return self._run(self.backend.row_count(table))

    def latest_value(self, table: TableSpec | str, column: str) -> Any:
        """``max(column)`` of the table (None if empty or absent)."""
        return self._run(self.backend.latest_value(table, column))

    def close(self) -> None:
        """Close the connection and stop the private loop (idempotent)."""
        if self._loop.is_closed():
            return
        try:
            self._run(self.backend.close())
        finally:
            self._stop_loop()

    def _stop_loop(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join()
        self._loop.close()

    def __enter__(self) -> SyncBackend:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


class SnapshotReader:
    """The blocking reads of an open snapshot (see :meth:`SyncBackend.read_snapshot`)."""

    def __init__(self, owner: SyncBackend, session: Any) -> None:
        self._owner = owner
        self._session = session

    def fetch_arrow(self, sql: str, *params: Any) -> pa.Table:
        """Run a query in the snapshot and return an Arrow table."""
        return self._owner._run(self._session.fetch_arrow(sql, *params))

    def fetchval(self, sql: str, *params: Any) -> Any:
        """The first column of the first row, read in the snapshot."""
        return self._owner._run(self._session.fetchval(sql, *params))

    def fetch_arrow_all(self, statements: list[tuple[str, list[Any]]]) -> list[pa.Table]:
        """Run ``(sql, params)`` statements, as many at once as the snapshot has connections."""
        return self._owner._run(self._session.fetch_arrow_all(statements))


def open_sync(
    url: str | DatabaseURL,
    pool_config: dict[str, Any] | None = None,
    *,
    read_only: bool = False,
    duckdb: DuckDBOptions | None = None,
) -> SyncBackend:
    """A connected :class:`SyncBackend` for ``url`` (raises :class:`ConnectionFailed` like ``connect``);
    arguments as :func:`open_backend`."""
    return SyncBackend(open_backend(url, pool_config, read_only=read_only, duckdb=duckdb))


def open_configured_sync(url: str | None = None, *, read_only: bool = False) -> SyncBackend:
    """A connected :class:`SyncBackend` for ``url`` (else the configured database), with the configured
    pool and DuckDB options (``config.json``, the environment: see docs/architecture.md)."""
    from alphahome.config import load_settings
    from alphahome.storage.configured import backend_for

    database = load_settings().settings.database
    if url is not None:
        database = database.model_copy(update={"url": url})
    return SyncBackend(backend_for(database, read_only=read_only))
