"""The embedded backend: one DuckDB file (or ``:memory:``), one connection.

DuckDB is in-process and allows one read-write process per file, or any number of read-only ones. Read
paths open the file read-only (``open_backend(url, read_only=True)``), so notebooks and queries share it;
a writer that finds the file held waits up to ``DuckDBOptions.lock_wait_seconds`` for it, then fails
naming the holder's pid (see docs/architecture.md, "Readers and writers"). Every connection gets the
configured ``memory_limit`` and ``threads``.

The backend holds a single connection and runs every statement in a worker thread, one at a time (an
asyncio lock; a transaction holds it until it ends). Keys are enforced by the merge itself rather than by an index: DuckDB's ART
indexes make bulk updates dozens of times slower and treat NULL keys as distinct, while a hash join on
the key (``IS NOT DISTINCT FROM`` for nullable columns) is fast and matches NULL to NULL.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import os
import re
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any, TypeVar

import duckdb
import pyarrow as pa

from alphahome.errors import ConnectionFailed, DataValidationError, StorageError
from alphahome.storage import duckdb_files
from alphahome.storage.base import (
    Backend,
    Capabilities,
    DuckDBOptions,
    Session,
    Transaction,
    UpsertMode,
    UpsertResult,
)
from alphahome.storage.run_lock import FileRunLock, LockHolder
from alphahome.storage.spec import UPDATE_TIME_COLUMN, TableSpec
from alphahome.storage.sql import (
    DUCKDB_TYPES,
    added_column_statements,
    column_definitions,
    column_list,
    distinct_values_condition,
    key_match_condition,
    quote_ident,
    table_ref,
)

T = TypeVar("T")

log = logging.getLogger(__name__)

CAPABILITIES = Capabilities(
    writers_across_processes=False,
    parallel_statements=False,
    key_index=False,
    secondary_indexes=False,
    statement_timeout=False,
    pool=False,
)
#: Rows written per statement (see ``_write_in_transaction``). Measured on 1M-row merges
#: (bench/bench_storage.py --compare-whole): whole batch up to +172 MB RSS, 500k slices up to +139 MB,
#: 250k slices up to +93 MB, at about the same CPU per row.
WRITE_SLICE_ROWS = 250_000
#: How often a connect waiting for a held file tries again.
_LOCK_POLL_SECONDS = 0.2

_NOW = "current_timestamp"
#: The catalog a database file is attached as (see ``_open``).
CATALOG = "warehouse"
_LOCK_HOLDER = re.compile(r"Conflicting lock is held in (?P<program>.*?) \(PID (?P<pid>\d+)\)")
#: DuckDB's words for "another process has this file locked" (its message names the pid when it can).
_LOCK_CONFLICT = ("Could not set lock", "Conflicting lock")


class _FileHeld(Exception):
    """Opening failed because another process holds the file (internal: connect() waits and retries)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        holder = _LOCK_HOLDER.search(message)
        self.pid: int | None = int(holder.group("pid")) if holder else None
_batch_names = itertools.count(1)


def _complete(con: duckdb.DuckDBPyConnection) -> None:
    """Finish the pending ``execute()`` result: DuckDB 2 refuses other work on the connection until then."""
    finish = getattr(con, "complete", None)
    if finish is not None:
        finish()


def _to_arrow(relation: Any) -> pa.Table:
    # duckdb >= 1.4 names it to_arrow_table; keep the older alias working too.
    convert = getattr(relation, "to_arrow_table", None) or relation.arrow
    table: pa.Table = convert()
    return _decimals_as_float(table)


def _decimals_as_float(table: pa.Table) -> pa.Table:
    """``numeric`` columns come back as float64, as they do from PostgreSQL."""
    if not any(pa.types.is_decimal(f.type) for f in table.schema):
        return table
    return table.cast(
        pa.schema(
            [pa.field(f.name, pa.float64()) if pa.types.is_decimal(f.type) else f for f in table.schema]
        )
    )


class _DuckDBSession(Session):
    """Statement helpers shared by the backend and its transactions. ``_call`` runs blocking work."""

    kind = "duckdb"

    async def _call(self, fn: Callable[..., T], *args: Any) -> T:  # pragma: no cover - abstract
        raise NotImplementedError

    @property
    def _backend(self) -> DuckDBBackend:  # pragma: no cover - abstract
        raise NotImplementedError

    async def execute(self, sql: str, *params: Any) -> None:
        con = self._backend._connection()

        def run() -> None:
            con.execute(sql, list(params))
            _complete(con)

        await self._call(run)

    async def fetch_arrow(self, sql: str, *params: Any) -> pa.Table:
        con = self._backend._connection()

        def run() -> pa.Table:
            relation = con.sql(sql, params=list(params)) if params else con.sql(sql)
            return _to_arrow(relation) if relation is not None else pa.table({})

        return await self._call(run)

    async def fetchval(self, sql: str, *params: Any) -> Any:
        con = self._backend._connection()

        def run() -> Any:
            row = con.execute(sql, list(params)).fetchone()
            _complete(con)
            return None if row is None else row[0]

        return await self._call(run)

    async def _write(self, spec: TableSpec, table: pa.Table, mode: UpsertMode) -> UpsertResult:
        con = self._backend._connection()
        return await self._call(self._backend._write_in_transaction, con, spec, table, mode)


class DuckDBTransaction(_DuckDBSession, Transaction):
    """A transaction on the backend's connection (which it holds exclusively until it ends)."""

    def __init__(self, backend: DuckDBBackend) -> None:
        self._owner = backend
        self.closed = False

    @property
    def _backend(self) -> DuckDBBackend:
        return self._owner

    async def _call(self, fn: Callable[..., T], *args: Any) -> T:
        if self.closed:
            raise StorageError("this transaction has ended: its handle cannot be used any more")
        return await self._owner._in_thread(fn, *args)


class DuckDBBackend(_DuckDBSession, Backend):
    """DuckDB: ``duckdb:///path/file.duckdb`` or ``duckdb:///:memory:``."""

    capabilities = CAPABILITIES

    def __init__(self, url: Any, options: DuckDBOptions | None = None, *, read_only: bool = False) -> None:
        self.url = url
        self.options = options or DuckDBOptions()
        self.read_only = read_only and not url.in_memory
        self._con: duckdb.DuckDBPyConnection | None = None
        self._lock = asyncio.Lock()
        self._lock_owner: asyncio.Task[Any] | None = None
        self._in_transaction = False
        self._memory_locks: set[str] = set()

    @property
    def _backend(self) -> DuckDBBackend:
        return self

    # -- connection -------------------------------------------------------------------------------------

    async def connect(self) -> None:
        """Open the file (read-only if asked). While another process holds it, try again every 0.2 s for up
        to ``options.lock_wait_seconds``, then raise :class:`ConnectionFailed` naming the holder's pid."""
        if self._con is not None:
            return
        deadline = time.monotonic() + self.options.lock_wait_seconds
        waited = False
        while True:
            try:
                self._con = await asyncio.to_thread(self._open)
                return
            except _FileHeld as held:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise self._held_error(held, waited) from None
                if not waited:
                    log.warning("%s is held by another process%s; waiting up to %gs for it",
                                self._where, f" (PID {held.pid})" if held.pid else "",
                                self.options.lock_wait_seconds)
                    waited = True
                await asyncio.sleep(min(_LOCK_POLL_SECONDS, remaining))

    @property
    def _where(self) -> str:
        return f"DuckDB database {self.url.masked}"

    def _open(self) -> duckdb.DuckDBPyConnection:
        path = self.url.path
        if self.read_only:
            if not os.path.isfile(path):
                raise ConnectionFailed(
                    f"cannot open {self._where}: no database file at {path!r} (it does not exist yet: "
                    "check the path, or run `alphahome tushare update` to create it)"
                )
        elif not self.url.in_memory:
            directory = os.path.dirname(path) or "."
            try:
                os.makedirs(directory, exist_ok=True)
            except OSError as exc:
                raise ConnectionFailed(
                    f"cannot open {self._where}: cannot create directory {directory!r} ({exc.strerror or exc})"
                ) from None
            if not os.access(directory, os.W_OK) or (os.path.exists(path) and not os.access(path, os.W_OK)):
                raise ConnectionFailed(f"cannot open {self._where}: {path!r} is not writable")
        if self.url.in_memory:
            con = duckdb.connect(":memory:")
            self._configure(con)
            return con
        try:
            return duckdb_files.acquire(path, self.read_only, self._attach, self._use, self._where)
        except duckdb.Error as exc:
            raise self._connection_error(exc) from None

    def _attach(self) -> duckdb.DuckDBPyConnection:
        """The process's root connection to the file (see :mod:`alphahome.storage.duckdb_files`)."""
        con = duckdb.connect(":memory:")
        try:
            self._configure(con)
            # Attached under a fixed catalog name: DuckDB names a file's catalog after its stem, and the
            # default file alphahome.duckdb would make "alphahome.sync_state" ambiguous (catalog or schema).
            mode = " (READ_ONLY)" if self.read_only else ""
            con.execute(f"ATTACH $1 AS {CATALOG}{mode}", [self.url.path])
        except BaseException:
            con.close()
            raise
        return con

    def _use(self, con: duckdb.DuckDBPyConnection) -> None:
        self._configure(con)
        con.execute(f"USE {CATALOG}")

    def _configure(self, con: duckdb.DuckDBPyConnection) -> None:
        """Memory limit, threads and time zone: set before the file is attached, on every connection."""
        con.execute("SET memory_limit = $1", [self.options.memory_limit.strip()])
        con.execute("SET threads = $1", [self.options.threads or os.cpu_count() or 1])
        try:
            con.execute("SET TimeZone = 'UTC'")
        except duckdb.Error:  # pragma: no cover - builds without ICU have no time zones to set
            pass

    def _connection_error(self, exc: duckdb.Error) -> Exception:
        message = str(exc)
        if any(marker in message for marker in _LOCK_CONFLICT):
            return _FileHeld(message)
        message = message.removeprefix("IO Error: ").strip()
        return ConnectionFailed(f"cannot open {self._where}: {message}")

    def _held_error(self, held: _FileHeld, waited: bool) -> ConnectionFailed:
        """The one line a caller gets when the file stayed held: who holds it (the pid from DuckDB's
        message, or a run lock's recorded holder), and what to do."""
        pid = f" (PID {held.pid})" if held.pid else ""
        after = f" after waiting {self.options.lock_wait_seconds:g}s" if waited else ""
        run = ""
        run_lock = FileRunLock.held_beside(self.url.path, self.url.masked)
        if run_lock is not None:
            run = f"; {run_lock.read_holder().refusal(run_lock.name, self.url.masked)}"
        return ConnectionFailed(
            f"cannot open {self._where}: the file is in use by another process{pid}{after}{run}; DuckDB allows "
            "one writing process at a time (or any number of read-only ones) — wait for it to finish or stop "
            "it, or raise database.duckdb_lock_wait_seconds"
        )

    async def close(self) -> None:
        con, self._con = self._con, None
        if con is not None:
            async with self._lock:
                if self.url.in_memory:
                    await asyncio.to_thread(con.close)
                else:
                    await asyncio.to_thread(duckdb_files.release, self.url.path, con)

    def _connection(self) -> duckdb.DuckDBPyConnection:
        if self._con is None:
            raise StorageError(f"DuckDB database {self.url.masked} is not connected (call connect() first)")
        return self._con

    # -- running blocking work ---------------------------------------------------------------------------

    async def _in_thread(self, fn: Callable[..., T], *args: Any) -> T:
        """Run ``fn`` in a worker thread; on cancellation interrupt DuckDB and wait for the thread to stop,
        so the connection is never used by two threads at once."""
        future = asyncio.ensure_future(asyncio.to_thread(fn, *args))
        try:
            return await asyncio.shield(future)
        except duckdb.Error as exc:
            raise StorageError(f"DuckDB: {exc}") from exc
        except asyncio.CancelledError:
            if self._con is not None:
                self._con.interrupt()
            try:
                await future
            except BaseException:
                pass
            raise

    async def _call(self, fn: Callable[..., T], *args: Any) -> T:
        if self._lock_owner is not None and self._lock_owner is asyncio.current_task():
            raise StorageError("a DuckDB transaction is open in this task: run statements through its handle")
        async with self._lock:
            return await self._in_thread(fn, *args)

    # -- writes -----------------------------------------------------------------------------------------

    def _write_in_transaction(
        self, con: duckdb.DuckDBPyConnection, spec: TableSpec, table: pa.Table, mode: UpsertMode
    ) -> UpsertResult:
        own_transaction = not self._in_transaction
        if own_transaction:
            con.execute("BEGIN TRANSACTION")
        try:
            result = UpsertResult()
            # In slices: DuckDB's hash join of a merge holds one slice, not the whole batch (a 1M-row
            # merge stays within 150 MB above its input). Keys are unique across the batch, so slices
            # never touch each other's rows.
            for offset in range(0, table.num_rows, WRITE_SLICE_ROWS):
                piece = table.slice(offset, WRITE_SLICE_ROWS)
                name = f"_alphahome_batch_{next(_batch_names)}"
                con.register(name, piece)
                try:
                    result += _WRITERS[mode](con, spec, name, piece.num_rows)
                finally:
                    con.unregister(name)
        except BaseException:
            if own_transaction:
                con.execute("ROLLBACK")
            raise
        if own_transaction:
            con.execute("COMMIT")
        return result

    # -- transactions ---------------------------------------------------------------------------------------

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Transaction]:
        con = self._connection()
        if self._lock_owner is asyncio.current_task():
            raise StorageError("transactions do not nest: this task already has one open")
        async with self._lock:
            self._lock_owner = asyncio.current_task()
            try:
                await self._in_thread(con.execute, "BEGIN TRANSACTION")
                self._in_transaction = True
                tx = DuckDBTransaction(self)
                try:
                    yield tx
                except BaseException:
                    with contextlib.suppress(Exception):  # never mask the error that caused the rollback
                        await asyncio.shield(self._in_thread(con.execute, "ROLLBACK"))
                    raise
                finally:
                    tx.closed = True
                await self._in_thread(con.execute, "COMMIT")
            finally:
                self._in_transaction = False
                self._lock_owner = None

    # -- DDL --------------------------------------------------------------------------------------------------

    async def ensure_schema(self, name: str) -> None:
        await self.execute(f"CREATE SCHEMA IF NOT EXISTS {quote_ident(name)}")

    async def ensure_table(self, spec: TableSpec) -> None:
        await self.ensure_schema(spec.schema)
        existing = await self.table_columns(spec.schema, spec.name)
        if not existing:
            defs = ", ".join(column_definitions(spec, DUCKDB_TYPES, _NOW))
            await self.execute(f"CREATE TABLE IF NOT EXISTS {table_ref(spec)} ({defs})")
            return
        for statement in added_column_statements(spec, existing, DUCKDB_TYPES, _NOW):
            await self.execute(statement)

    # -- run lock ------------------------------------------------------------------------------------------------

    @asynccontextmanager
    async def run_lock(self, name: str) -> AsyncIterator[None]:
        where = self.url.masked
        if self.url.in_memory:
            # A private in-memory database cannot be shared between processes: an in-process flag suffices.
            if name in self._memory_locks:
                raise LockHolder.current().refusal(name, where)
            self._memory_locks.add(name)
            try:
                yield
            finally:
                self._memory_locks.discard(name)
            return
        lock = FileRunLock(self.url.path, name, where)
        await asyncio.to_thread(lock.acquire)
        try:
            yield
        finally:
            await asyncio.to_thread(lock.release)


# -- set-based writes (run in the worker thread, inside a transaction) ---------------------------------------------


def _source_select(spec: TableSpec, batch: str) -> str:
    """The registered batch with ``numeric`` columns cast to the stored DECIMAL type."""
    items = []
    for col in spec.columns:
        ident = quote_ident(col.name)
        if col.type == "numeric":
            items.append(f"CAST({ident} AS {DUCKDB_TYPES['numeric']}) AS {ident}")
        else:
            items.append(ident)
    return f"SELECT {', '.join(items)} FROM {quote_ident(batch)}"


def _count(con: duckdb.DuckDBPyConnection, spec: TableSpec) -> int:
    rows = con.execute(f"SELECT count(*) FROM {table_ref(spec)}").fetchall()
    return int(rows[0][0]) if rows else 0


def _merge(con: duckdb.DuckDBPyConnection, spec: TableSpec, batch: str, rows: int) -> UpsertResult:
    values = spec.value_columns
    cols = spec.column_names
    insert_cols = column_list(cols + ([UPDATE_TIME_COLUMN] if spec.track_update_time else []))
    insert_vals = column_list(cols, "s") + (f", {_NOW}" if spec.track_update_time else "")
    when_matched = ""
    if values:
        assignments = [f"{quote_ident(c)} = s.{quote_ident(c)}" for c in values]
        if spec.track_update_time:
            assignments.append(f"{quote_ident(UPDATE_TIME_COLUMN)} = {_NOW}")
        when_matched = (
            f"WHEN MATCHED AND {distinct_values_condition(values, 't', 's')} "
            f"THEN UPDATE SET {', '.join(assignments)} "
        )
    before = _count(con, spec)
    row = con.execute(
        f"MERGE INTO {table_ref(spec)} AS t USING ({_source_select(spec, batch)}) AS s "
        f"ON ({key_match_condition(spec, 't', 's')}) "
        f"{when_matched}"
        f"WHEN NOT MATCHED THEN INSERT ({insert_cols}) VALUES ({insert_vals})"
    ).fetchall()
    affected = int(row[0][0]) if row else 0
    inserted = _count(con, spec) - before
    updated = affected - inserted
    return UpsertResult(inserted=inserted, updated=updated, unchanged=rows - inserted - updated)


def _insert_new(con: duckdb.DuckDBPyConnection, spec: TableSpec, batch: str, rows: int) -> UpsertResult:
    clash = con.execute(
        f"SELECT {column_list(spec.key, 's')} FROM ({_source_select(spec, batch)}) AS s "
        f"WHERE EXISTS (SELECT 1 FROM {table_ref(spec)} AS t WHERE {key_match_condition(spec, 't', 's')}) LIMIT 1"
    ).fetchall()
    if clash:
        key = ", ".join(f"{k}={v!r}" for k, v in zip(spec.key, clash[0], strict=True))
        raise DataValidationError(
            f"{spec.qualified_name}: insert mode found a row that already exists ({key}); "
            "nothing was written — use mode='merge' for partitions that may already hold data"
        )
    return _append(con, spec, batch, rows)


def _append(con: duckdb.DuckDBPyConnection, spec: TableSpec, batch: str, rows: int) -> UpsertResult:
    con.execute(
        f"INSERT INTO {table_ref(spec)} ({column_list(spec.column_names)}) {_source_select(spec, batch)}"
    )
    return UpsertResult(inserted=rows)


_WRITERS: dict[str, Callable[[duckdb.DuckDBPyConnection, TableSpec, str, int], UpsertResult]] = {
    "merge": _merge,
    "insert": _insert_new,
    "append": _append,
}
