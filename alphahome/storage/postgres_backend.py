"""The PostgreSQL backend: one asyncpg pool, bulk writes by binary COPY, set-based merges.

``merge`` (:func:`merge_batch`) streams the batch by binary COPY into a temporary staging table, then,
under a per-table transaction advisory lock, runs one set-based statement (PostgreSQL 15+)::

    MERGE INTO target t USING stage s ON <same key>
      WHEN MATCHED AND (t.values) IS DISTINCT FROM (s.values) THEN UPDATE SET …, update_time = now()
      WHEN NOT MATCHED THEN INSERT …

Identical rows are left alone (``update_time`` moves only with a real change). Older servers take two
statements (UPDATE changed, then INSERT … WHERE NOT EXISTS). Tables a merge can update in place are made
with a fillfactor of 50 (:data:`MERGE_FILLFACTOR`), so a changed row's new version fits on its own page:
a heap-only-tuple update, which writes no index entry. Measured on 1M ``daily`` rows
(docs/postgres_storage.md), that and the single join merge a fully restated batch about three times as fast as
the seed's ``INSERT … ON CONFLICT DO UPDATE``, which also locks every conflicting row and pays speculative
insertion for every new one. The advisory lock serialises concurrent merges into the same table, so one
cannot miss rows another is inserting: no unique violation, no duplicate.

Keys with nullable columns are ``UNIQUE NULLS NOT DISTINCT`` (PostgreSQL 15+), and the merge matches them
with ``IS NOT DISTINCT FROM``, so NULL matches NULL. With the ``citus`` extension, tables whose spec names
a distribution column are distributed by it (``create_distributed_table``).
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import itertools
import logging
import re
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from alphahome.errors import ConfigError, ConnectionFailed, DataValidationError, StorageError
from alphahome.storage import citus
from alphahome.storage.base import Backend, Capabilities, Session, Transaction, UpsertMode, UpsertResult
from alphahome.storage.pgbinary import BINARY_DECODERS, can_decode, decode_binary_copy
from alphahome.storage.pgcopy import (
    BINARY_HEADER,
    BINARY_TRAILER,
    copy_format_for,
    encode_chunk,
    iter_chunks,
)
from alphahome.storage.run_lock import LockHolder, advisory_lock_key
from alphahome.storage.spec import UPDATE_TIME_COLUMN, Column, TableSpec
from alphahome.storage.sql import (
    POSTGRES_TYPES,
    added_column_statements,
    column_definitions,
    column_list,
    distinct_values_condition,
    key_match_condition,
    object_name,
    qualified,
    quote_ident,
    table_ref,
)
from alphahome.storage.url import DatabaseURL

log = logging.getLogger(__name__)

_NOW = "now()"

#: Keys ``pool_config`` may carry (asyncpg.create_pool arguments; ``timeout`` is the connect timeout).
POOL_KEYS = frozenset(
    {
        "min_size",
        "max_size",
        "command_timeout",
        "max_queries",
        "max_inactive_connection_lifetime",
        "server_settings",
        "timeout",
    }
)
DEFAULT_POOL: dict[str, Any] = {"min_size": 1, "max_size": 10, "timeout": 10.0}

#: Serialises concurrent DDL (CREATE SCHEMA/TABLE IF NOT EXISTS race on the catalog otherwise).
_DDL_LOCK_KEY = advisory_lock_key("ddl")

RUN_LOCK_SPEC = TableSpec(
    schema="alphahome",
    name="run_lock",
    columns=(
        Column("name", "text", nullable=False),
        Column("pid", "integer"),
        Column("host", "text"),
        Column("started_at", "timestamp"),
    ),
    key=("name",),
    track_update_time=False,
    description="Who holds each run lock (the lock itself is a PostgreSQL advisory lock).",
)

#: PostgreSQL result types → Arrow, for fetch_arrow; other types are inferred from the values.
_ARROW_OF_PG: dict[str, pa.DataType] = {**BINARY_DECODERS, "oid": pa.int64()}

_stage_names = itertools.count(1)

CAPABILITIES = Capabilities(
    writers_across_processes=True,
    parallel_statements=True,
    key_index=True,
    secondary_indexes=True,
    statement_timeout=True,
    pool=True,
)


def _pool_arguments(pool_config: dict[str, Any] | None) -> dict[str, Any]:
    config = dict(pool_config or {})
    unknown = sorted(set(config) - POOL_KEYS)
    if unknown:
        raise ConfigError(
            f"database.pool_config: unknown key(s) {', '.join(unknown)} (known: {', '.join(sorted(POOL_KEYS))})"
        )
    merged = {**DEFAULT_POOL, **{k: v for k, v in config.items() if v is not None}}
    if merged["min_size"] > merged["max_size"]:
        merged["min_size"] = merged["max_size"]
    return merged


async def _init_connection(conn: asyncpg.Connection) -> None:
    # numeric travels as float both ways, matching the Arrow float64 the batches use.
    await conn.set_type_codec("numeric", encoder=str, decoder=float, schema="pg_catalog", format="text")


@contextlib.contextmanager
def _database_errors(what: str = "PostgreSQL") -> Iterator[None]:
    """Turn driver errors into StorageError (one line, the server's own message)."""
    try:
        yield
    except (asyncpg.PostgresError, asyncpg.InterfaceError, OSError) as exc:
        raise _storage_error(what, exc) from exc


def _storage_error(what: str, exc: BaseException) -> StorageError:
    if isinstance(exc, asyncpg.PostgresError):
        detail = f" ({exc.detail})" if getattr(exc, "detail", None) else ""
        return StorageError(f"{what}: {exc}{detail}")
    return StorageError(f"{what}: connection problem: {exc}")


class _PostgresSession(Session):
    """Statement helpers shared by the backend (a pooled connection per call) and its transactions."""

    kind = "postgres"

    def _connection(self) -> contextlib.AbstractAsyncContextManager[asyncpg.Connection]:  # pragma: no cover
        raise NotImplementedError

    async def execute(self, sql: str, *params: Any) -> None:
        async with self._connection() as conn:
            with _database_errors():
                await conn.execute(sql, *params)

    async def fetchval(self, sql: str, *params: Any) -> Any:
        async with self._connection() as conn:
            with _database_errors():
                return await conn.fetchval(sql, *params)

    #: Large results by binary COPY (pgbinary) instead of CSV COPY: the snapshot reads, whose rows (bars,
    #: factors: fixed-width text) decode as a few long runs. Rows whose text lengths vary row to row cut
    #: the stream into short runs, where Arrow's C++ CSV reader is faster, so plain reads keep CSV.
    binary_copy = False

    async def fetch_arrow(self, sql: str, *params: Any) -> pa.Table:
        async with self._connection() as conn:
            with _database_errors():
                return await _fetch_arrow_on(conn, sql, params, binary=self.binary_copy)


class PostgresSnapshot(_PostgresSession):
    """Reads that all see one snapshot of the database: one or more connections, each in a ``REPEATABLE
    READ READ ONLY`` transaction, the others importing the first one's snapshot (see
    :meth:`PostgresBackend.read_snapshot`)."""

    binary_copy = True

    def __init__(self, connections: Sequence[asyncpg.Connection]) -> None:
        self._connections = list(connections)

    @property
    def connections(self) -> int:
        """How many statements :meth:`fetch_arrow_all` runs at once."""
        return len(self._connections)

    @asynccontextmanager
    async def _connection(self) -> AsyncIterator[asyncpg.Connection]:
        yield self._connections[0]

    async def fetch_arrow_all(self, statements: Sequence[tuple[str, Sequence[Any]]]) -> list[pa.Table]:
        """Run ``(sql, params)`` statements, as many at once as there are connections; results in order."""
        lanes = [list(range(i, len(statements), len(self._connections))) for i in range(len(self._connections))]
        results: list[pa.Table] = [pa.table({})] * len(statements)

        async def lane(conn: asyncpg.Connection, indexes: list[int]) -> None:
            for i in indexes:
                sql, params = statements[i]
                with _database_errors():
                    results[i] = await _fetch_arrow_on(conn, sql, tuple(params), binary=True)

        await asyncio.gather(*(lane(c, ix) for c, ix in zip(self._connections, lanes, strict=True) if ix))
        return results

    async def _write(self, spec: TableSpec, table: pa.Table, mode: UpsertMode) -> UpsertResult:
        raise StorageError("a read snapshot does not write")


async def _fetch_arrow_on(
    conn: asyncpg.Connection, sql: str, params: tuple[Any, ...], *, binary: bool = False
) -> pa.Table:
    """A query's rows as Arrow on ``conn``: by COPY when its types allow (binary COPY decoded with numpy
    when ``binary``, else CSV parsed by Arrow's C++ reader), else record by record. COPY takes no bound
    parameters: asyncpg has the server quote each value (quote_literal over the prepared parameter types)."""
    statement = await conn.prepare(sql)
    attributes = statement.get_attributes()
    if binary and attributes and can_decode([a.type.name for a in attributes]):
        # The server formats no float or date as text and the client parses none.
        return await _fetch_by_binary_copy(conn, sql, attributes, params)
    if attributes and all(a.type.name in _ARROW_OF_PG for a in attributes):
        # Several times faster than one Python object per value.
        return await _fetch_by_copy(conn, sql, attributes, params)
    return _records_to_arrow(await statement.fetch(*params), attributes)


async def _quiet_rollback(tx: Any) -> None:
    with contextlib.suppress(Exception):  # never mask an error raised inside the snapshot
        await asyncio.shield(tx.rollback())


def _unique_names(names: list[str]) -> list[str]:
    """Column names made unique (``n``, ``n_1``…) as a table needs them."""
    seen: dict[str, int] = {}
    unique = []
    for n in names:
        seen[n] = seen.get(n, 0) + 1
        unique.append(n if seen[n] == 1 else f"{n}_{seen[n] - 1}")
    return unique


def _records_to_arrow(records: list[asyncpg.Record], attributes: Any) -> pa.Table:
    names = _unique_names([a.name for a in attributes])
    columns = list(zip(*records, strict=True)) if records else [() for _ in names]
    arrays = [
        pa.array(values, type=_ARROW_OF_PG.get(a.type.name))
        for a, values in zip(attributes, columns, strict=True)
    ]
    return pa.Table.from_arrays(arrays, names=names)


async def _fetch_by_copy(
    conn: asyncpg.Connection, sql: str, attributes: Any, params: tuple[Any, ...] = ()
) -> pa.Table:
    names = _unique_names([a.name for a in attributes])
    types = [_ARROW_OF_PG[a.type.name] for a in attributes]
    chunks: list[bytes] = []

    async def collect(chunk: bytes) -> None:
        chunks.append(chunk)

    await conn.copy_from_query(sql.strip().rstrip(";"), *params, output=collect, format="csv")
    return await asyncio.to_thread(_parse_copy_csv, b"".join(chunks), names, types)


async def _fetch_by_binary_copy(
    conn: asyncpg.Connection, sql: str, attributes: Any, params: tuple[Any, ...] = ()
) -> pa.Table:
    names = _unique_names([a.name for a in attributes])
    types = [a.type.name for a in attributes]
    data = bytearray()

    async def collect(chunk: bytes) -> None:
        data.extend(chunk)

    await conn.copy_from_query(sql.strip().rstrip(";"), *params, output=collect, format="binary")
    return await asyncio.to_thread(decode_binary_copy, data, names, types)


def _parse_copy_csv(data: bytes, names: list[str], types: list[pa.DataType]) -> pa.Table:
    if not data:
        return pa.Table.from_arrays([pa.array([], t) for t in types], names=names)
    # timestamptz arrives as text with a short offset ("…+08"); it is cast once the offset is completed.
    read_types = {
        n: (pa.string() if pa.types.is_timestamp(t) and t.tz else t)
        for n, t in zip(names, types, strict=True)
    }
    table = pacsv.read_csv(
        io.BytesIO(data),
        read_options=pacsv.ReadOptions(column_names=names),
        convert_options=pacsv.ConvertOptions(
            column_types=read_types,
            null_values=[""],
            strings_can_be_null=True,
            quoted_strings_can_be_null=False,  # "" is an empty string, an unquoted empty field is NULL
            true_values=["t"],
            false_values=["f"],
        ),
    )
    for i, (name, t) in enumerate(zip(names, types, strict=True)):
        if pa.types.is_timestamp(t) and t.tz:
            text = pc.replace_substring_regex(table.column(i), r"([+-]\d\d)$", r"\1:00")
            table = table.set_column(i, name, text.cast(t))
    return table


class PostgresTransaction(_PostgresSession, Transaction):
    """A transaction on one pooled connection."""

    def __init__(self, conn: asyncpg.Connection, backend: PostgresBackend) -> None:
        self._conn = conn
        self._backend = backend

    @asynccontextmanager
    async def _connection(self) -> AsyncIterator[asyncpg.Connection]:
        yield self._conn

    async def _write(self, spec: TableSpec, table: pa.Table, mode: UpsertMode) -> UpsertResult:
        return await _write(self._conn, spec, table, mode, self._backend.citus is not None)


class PostgresBackend(_PostgresSession, Backend):
    """PostgreSQL (or Citus): ``postgresql://user:password@host:port/database``."""

    capabilities = CAPABILITIES

    def __init__(
        self,
        url: DatabaseURL,
        pool_config: dict[str, Any] | None = None,
        citus_mode: str = "auto",
        *,
        read_only: bool = False,
    ) -> None:
        self.url = url
        self.read_only = read_only
        self._pool_args = _pool_arguments(pool_config)
        if read_only:
            # The server refuses any write in these sessions: a read path can never change the database.
            settings = dict(self._pool_args.get("server_settings") or {})
            settings["default_transaction_read_only"] = "on"
            self._pool_args["server_settings"] = settings
        self._pool: asyncpg.Pool | None = None
        self.server_version: tuple[int, ...] = ()
        self.has_citus = False
        #: ``database.citus``; after connect(), the Citus cluster in use (None: a single node).
        self.citus_mode = citus_mode
        self.citus: citus.CitusCluster | None = None
        self._transaction_tasks: dict[asyncio.Task[Any] | None, int] = {}

    # -- connection -------------------------------------------------------------------------------------

    def _connect_kwargs(self) -> dict[str, Any]:
        kwargs: dict[str, Any] = {"timeout": self._pool_args["timeout"]}
        if self._pool_args.get("server_settings"):
            kwargs["server_settings"] = dict(self._pool_args["server_settings"])
        if self.citus is not None:
            kwargs["server_settings"] = {**citus.SESSION_SETTINGS, **kwargs.get("server_settings", {})}
        if self._pool_args.get("command_timeout") is not None:
            kwargs["command_timeout"] = self._pool_args["command_timeout"]
        return kwargs

    async def connect(self) -> None:
        if self._pool is not None:
            return
        args = dict(self._pool_args)
        try:
            pool = await asyncpg.create_pool(self.url.dsn, init=_init_connection, **args)
        except BaseException as exc:
            raise self._connection_error(exc) from None
        try:
            async with pool.acquire() as conn:
                self.server_version = tuple(conn.get_server_version()[:2])
                self.citus = await citus.detect(conn, self.citus_mode, f"PostgreSQL {self.url.masked}")
                self.has_citus = self.citus is not None
            if self.citus is not None:  # Citus wants its own session settings on every connection
                await pool.close()
                args["server_settings"] = {**citus.SESSION_SETTINGS, **(args.get("server_settings") or {})}
                pool = await asyncpg.create_pool(self.url.dsn, init=_init_connection, **args)
        except BaseException as exc:
            await pool.close()
            raise self._connection_error(exc) from None
        self._pool = pool

    def _connection_error(self, exc: BaseException) -> BaseException:
        if isinstance(exc, asyncio.CancelledError | KeyboardInterrupt | ConfigError):
            return exc
        where = f"cannot connect to PostgreSQL {self.url.masked}"
        host = f"{self.url.host}:{self.url.port}"
        if isinstance(exc, asyncpg.InvalidPasswordError):
            problem = f"password authentication failed for user {self.url.user!r}"
        elif isinstance(exc, asyncpg.InvalidCatalogNameError):
            problem = f"database {self.url.database!r} does not exist"
        elif isinstance(
            exc, asyncpg.InvalidAuthorizationSpecificationError | asyncpg.TooManyConnectionsError
        ):
            problem = str(exc)
        elif isinstance(exc, TimeoutError | asyncio.TimeoutError):
            problem = f"timed out reaching the server at {host}"
        elif isinstance(exc, ConnectionRefusedError):
            problem = f"server unreachable at {host} (connection refused)"
        elif isinstance(exc, OSError):
            problem = f"server unreachable at {host} ({exc.strerror or exc})"
        elif isinstance(exc, asyncpg.PostgresError | asyncpg.InterfaceError):
            problem = str(exc)
        else:
            problem = f"{type(exc).__name__}: {exc}"
        return ConnectionFailed(f"{where}: {_scrub(problem, self.url)}")

    async def close(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            await pool.close()

    def _require_pool(self) -> asyncpg.Pool:
        if self._pool is None:
            raise StorageError(f"PostgreSQL {self.url.masked} is not connected (call connect() first)")
        return self._pool

    @asynccontextmanager
    async def _connection(self) -> AsyncIterator[asyncpg.Connection]:
        pool = self._require_pool()
        with _database_errors():
            conn = await pool.acquire()
        try:
            yield conn
        finally:
            await pool.release(conn)

    # -- writes and transactions ----------------------------------------------------------------------

    async def _write(self, spec: TableSpec, table: pa.Table, mode: UpsertMode) -> UpsertResult:
        if asyncio.current_task() in self._transaction_tasks:
            # It would run on another connection, outside the open transaction, and could wait forever
            # for locks that transaction holds (the per-table merge lock, its new rows).
            raise StorageError("a transaction is open in this task: write through its handle (tx.upsert)")
        async with self._connection() as conn:
            async with conn.transaction():
                return await _write(conn, spec, table, mode, self.citus is not None)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Transaction]:
        task = asyncio.current_task()
        if task in self._transaction_tasks:
            # As on DuckDB: a second transaction would run on another connection and could wait forever
            # for locks the first one holds.
            raise StorageError("transactions do not nest: this task already has one open")
        async with self._connection() as conn:
            with _database_errors():
                tx = conn.transaction()
                await tx.start()
            self._transaction_tasks[task] = self._transaction_tasks.get(task, 0) + 1
            try:
                try:
                    yield PostgresTransaction(conn, self)
                except BaseException:
                    with contextlib.suppress(Exception):  # never mask the error that caused the rollback
                        await asyncio.shield(tx.rollback())
                    raise
                with _database_errors():
                    await tx.commit()
            finally:
                if self._transaction_tasks[task] == 1:
                    del self._transaction_tasks[task]
                else:
                    self._transaction_tasks[task] -= 1

    @asynccontextmanager
    async def read_snapshot(self, connections: int = 1) -> AsyncIterator[PostgresSnapshot]:
        """Reads that see one consistent state even while a sync writes (say a table and the factors that
        scale it): ``connections`` pooled connections in ``REPEATABLE READ READ ONLY`` transactions, the
        first exporting its snapshot (``pg_export_snapshot``) and the others adopting it (``SET
        TRANSACTION SNAPSHOT``), so their statements can run at once and still agree. JIT is off: plain
        scans gain nothing from it and would pay its compile time. On Citus one connection only (an
        exported snapshot is the coordinator's alone), and never more than the pool's ``max_size``.
        Nothing to commit: rolled back at the end."""
        # Never more connections than the pool has: a second acquire would wait for the first forever.
        count = 1 if self.citus is not None else max(1, min(connections, self._require_pool().get_max_size()))
        async with contextlib.AsyncExitStack() as stack:
            conns = [await stack.enter_async_context(self._connection()) for _ in range(count)]
            snapshot_id = None
            for i, conn in enumerate(conns):
                with _database_errors():
                    tx = conn.transaction(isolation="repeatable_read", readonly=True)
                    await tx.start()
                    stack.push_async_callback(_quiet_rollback, tx)
                    if i == 0 and count > 1:
                        snapshot_id = await conn.fetchval("SELECT pg_export_snapshot()")
                        if not re.fullmatch(r"[0-9A-Fa-f-]+", str(snapshot_id)):
                            raise StorageError(f"unexpected snapshot id {snapshot_id!r}")
                    elif i > 0:
                        # Must come first in the transaction; the id is the server's own (checked above).
                        await conn.execute(f"SET TRANSACTION SNAPSHOT '{snapshot_id}'")
                    await conn.execute("SET LOCAL jit = off")
            yield PostgresSnapshot(conns)

    # -- DDL ---------------------------------------------------------------------------------------------

    async def ensure_schema(self, name: str) -> None:
        async with self._connection() as conn, conn.transaction():
            with _database_errors():
                await conn.execute("SELECT pg_advisory_xact_lock($1)", _DDL_LOCK_KEY)
                await conn.execute(f"CREATE SCHEMA IF NOT EXISTS {quote_ident(name)}")

    async def ensure_table(self, spec: TableSpec) -> None:
        if spec.nullable_key_columns and self.server_version and self.server_version < (15,):
            raise StorageError(
                f"{spec.qualified_name}: nullable key columns need PostgreSQL 15+ (UNIQUE NULLS NOT DISTINCT); "
                f"this server is {'.'.join(map(str, self.server_version))}"
            )
        async with self._connection() as conn, conn.transaction():
            with _database_errors(f"creating {spec.qualified_name}"):
                await conn.execute("SELECT pg_advisory_xact_lock($1)", _DDL_LOCK_KEY)
                if self.citus is not None:
                    # The coordinator's copy of a reference table must be created in this transaction,
                    # which alone sees the schema it may just have created.
                    await conn.execute(citus.DDL_SETTING)
                await conn.execute(f"CREATE SCHEMA IF NOT EXISTS {quote_ident(spec.schema)}")
                existing = await _table_columns(conn, spec.schema, spec.name)
                if not existing:
                    await conn.execute(_create_table_sql(spec))
                else:
                    for statement in added_column_statements(spec, existing, POSTGRES_TYPES, _NOW):
                        await conn.execute(statement)
                    await _adopt_merge_fillfactor(conn, spec)
                    await _adopt_key(conn, spec)
                if self.citus is not None:
                    await self._place_on_citus(conn, spec)
                for index in spec.indexes:
                    await conn.execute(
                        f"CREATE INDEX IF NOT EXISTS {quote_ident(object_name(spec.name, 'idx', index))} "
                        f"ON {table_ref(spec)} ({column_list(index)})"
                    )

    async def _place_on_citus(self, conn: asyncpg.Connection, spec: TableSpec) -> None:
        """Citus: distribute the table, or make it a reference table (a table that existed before Citus
        was used has its rows moved to the workers now), with its merge staging table placed alike (see
        alphahome/storage/citus.py)."""
        where = citus.placement(spec)
        if where == "local":
            return
        if not await _table_is_citus(conn, spec):
            await citus.place_table(conn, spec, where)
        if not spec.key:  # only keyed tables are merged
            return
        stage = citus.stage_spec(spec)
        await conn.execute(f"CREATE SCHEMA IF NOT EXISTS {quote_ident(stage.schema)}")
        await conn.execute(_create_table_sql(stage))
        if not await _table_is_citus(conn, stage):
            await citus.place_table(conn, stage, where)

    # -- run lock --------------------------------------------------------------------------------------

    @asynccontextmanager
    async def run_lock(self, name: str) -> AsyncIterator[None]:
        """A session advisory lock held on a dedicated connection (not a pooled one, whose reset would
        release it); the holder's pid, host and start time go in ``alphahome.run_lock``."""
        await self.ensure_table(RUN_LOCK_SPEC)
        key = advisory_lock_key(name)
        lock_table = table_ref(RUN_LOCK_SPEC)
        try:
            conn = await asyncpg.connect(self.url.dsn, **self._connect_kwargs())
        except BaseException as exc:
            raise self._connection_error(exc) from None
        try:
            with _database_errors("run lock"):
                acquired = await conn.fetchval("SELECT pg_try_advisory_lock($1)", key)
                if not acquired:
                    row = await conn.fetchrow(
                        f"SELECT pid, host, started_at FROM {lock_table} WHERE name = $1", name
                    )
                    holder = LockHolder(*row) if row else LockHolder()
                    raise holder.refusal(name, self.url.masked)
                me = LockHolder.current()
                await conn.execute(
                    f"INSERT INTO {lock_table} (name, pid, host, started_at) VALUES ($1, $2, $3, $4) "
                    "ON CONFLICT (name) DO UPDATE SET pid = EXCLUDED.pid, host = EXCLUDED.host, "
                    "started_at = EXCLUDED.started_at",
                    name,
                    me.pid,
                    me.host,
                    me.started_at,
                )
            try:
                yield
            finally:
                with contextlib.suppress(Exception):
                    await conn.execute(
                        f"DELETE FROM {lock_table} WHERE name = $1 AND pid = $2 AND host = $3",
                        name,
                        me.pid,
                        me.host,
                    )
                    await conn.execute("SELECT pg_advisory_unlock($1)", key)
        finally:
            with contextlib.suppress(Exception):
                await conn.close(timeout=5)
            if not conn.is_closed():
                conn.terminate()


def _scrub(message: str, url: DatabaseURL) -> str:
    """Remove the password from a driver message, should one ever echo it."""
    from urllib.parse import unquote, urlsplit

    try:
        password = urlsplit(url.raw).password
    except ValueError:
        password = None
    for secret in {password, unquote(password) if password else None}:
        if secret and len(secret) >= 3:
            message = message.replace(secret, "***")
    return message


async def _table_columns(conn: asyncpg.Connection, schema: str, name: str) -> dict[str, str]:
    rows = await conn.fetch(
        "SELECT column_name, upper(data_type) FROM information_schema.columns "
        "WHERE table_schema = $1 AND table_name = $2 ORDER BY ordinal_position",
        schema,
        name,
    )
    return {r[0]: r[1] for r in rows}


async def _table_is_citus(conn: asyncpg.Connection, spec: TableSpec) -> bool:
    return bool(await conn.fetchval(
        "SELECT EXISTS (SELECT 1 FROM pg_dist_partition WHERE logicalrelid = $1::regclass)", table_ref(spec)
    ))


def _create_table_sql(spec: TableSpec) -> str:
    defs = column_definitions(spec, POSTGRES_TYPES, _NOW)
    if spec.key:
        # NULL is a legitimate value of a nullable key column and must match NULL (PostgreSQL 15+).
        name, definition = _key_constraint_sql(spec)
        defs.append(f"CONSTRAINT {quote_ident(name)} {definition}")
    fillfactor = merge_fillfactor(spec)
    storage = f" WITH (fillfactor = {fillfactor})" if fillfactor else ""
    return f"CREATE TABLE IF NOT EXISTS {table_ref(spec)} ({', '.join(defs)}){storage}"


def _key_constraint_sql(spec: TableSpec) -> tuple[str, str]:
    """(constraint name, its definition) of ``spec``'s key: a primary key, or ``UNIQUE NULLS NOT DISTINCT``
    when real rows leave a key column NULL (NULL must then match NULL; PostgreSQL 15+)."""
    if spec.nullable_key_columns:
        return object_name(spec.name, "key"), f"UNIQUE NULLS NOT DISTINCT ({column_list(spec.key)})"
    return object_name(spec.name, "pkey"), f"PRIMARY KEY ({column_list(spec.key)})"


async def _adopt_key(conn: asyncpg.Connection, spec: TableSpec) -> None:
    """Bring an existing table's key constraint (one AlphaHome made) to ``spec``'s key.

    A key that only gains columns (``fund_nav``: (ts_code, nav_date) → (ts_code, nav_date, ann_date), so
    that corrected NAVs are kept as versions) is migrated in place: every stored row is unique under the
    wider key, so the old constraint is dropped and the new one added, in the caller's transaction. Any
    other change could make stored rows collide: that is refused with an error naming the table and the
    fix, and nothing is written."""
    if not spec.key:
        return
    ours = (object_name(spec.name, "pkey"), object_name(spec.name, "key"))
    rows = await conn.fetch(
        "SELECT c.conname, array_agg(a.attname::text ORDER BY k.ord) AS cols "
        "FROM pg_constraint c CROSS JOIN LATERAL unnest(c.conkey) WITH ORDINALITY AS k(attnum, ord) "
        "JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.attnum "
        "WHERE c.conrelid = $1::regclass AND c.contype IN ('p', 'u') AND c.conname = ANY($2::text[]) "
        "GROUP BY c.conname",
        table_ref(spec), list(ours),
    )
    if not rows:
        return  # not a table AlphaHome keyed (made by hand): left as it is
    name, definition = _key_constraint_sql(spec)
    stored = {r["conname"]: tuple(r["cols"]) for r in rows}
    if list(stored) == [name] and stored[name] == tuple(spec.key):
        return
    old = sorted({c for cols in stored.values() for c in cols})
    if not set(old) <= set(spec.key):
        raise StorageError(
            f"{spec.qualified_name}: its stored key ({', '.join(old)}) is not the dataset's key "
            f"({', '.join(spec.key)}), and stored rows may collide under the new one. Fix: move the old table "
            f"aside (ALTER TABLE {table_ref(spec)} RENAME TO {quote_ident(spec.name + '_old')}) and sync "
            "the dataset again (alphahome tushare update --tasks NAME --mode full)"
        )
    log.info("%s: key (%s) widened to (%s)", spec.qualified_name, ", ".join(old), ", ".join(spec.key))
    for constraint in stored:
        await conn.execute(f"ALTER TABLE {table_ref(spec)} DROP CONSTRAINT {quote_ident(constraint)}")
    await conn.execute(f"ALTER TABLE {table_ref(spec)} ADD CONSTRAINT {quote_ident(name)} {definition}")


async def _adopt_merge_fillfactor(conn: asyncpg.Connection, spec: TableSpec) -> None:
    """Give an existing table (made before the merge fillfactor) :func:`merge_fillfactor`, unless its
    owner set a fillfactor of their own. It applies to pages written from now on: the first restatement
    of old rows moves them to such pages (or ``VACUUM FULL`` rewrites the table at once)."""
    fillfactor = merge_fillfactor(spec)
    if fillfactor is None:
        return
    options = await conn.fetchval(
        "SELECT reloptions FROM pg_class WHERE oid = $1::text::regclass", table_ref(spec)
    )
    if not any(option.startswith("fillfactor=") for option in options or ()):
        await conn.execute(f"ALTER TABLE {table_ref(spec)} SET (fillfactor = {int(fillfactor)})")


# -- bulk writes -----------------------------------------------------------------------------------------------


async def _copy_chunks(table: pa.Table, types: Sequence[str], fmt: str) -> AsyncIterator[bytes | memoryview]:
    """COPY payload chunk by chunk; the next chunk is encoded in a thread while the current one is sent."""
    if fmt == "binary":
        yield BINARY_HEADER
    pending: asyncio.Future[bytes | memoryview] | None = None
    try:
        for batch in iter_chunks(table):
            ahead = asyncio.ensure_future(asyncio.to_thread(encode_chunk, batch, types, fmt))  # type: ignore[arg-type]
            if pending is not None:
                yield await pending
            pending = ahead
        if pending is not None:
            chunk, pending = await pending, None
            yield chunk
    finally:
        if pending is not None:
            pending.cancel()
    if fmt == "binary":
        yield BINARY_TRAILER


async def _copy_into(
    conn: asyncpg.Connection, schema: str, name: str, spec: TableSpec, table: pa.Table
) -> None:
    types = [c.type for c in spec.columns]
    fmt = copy_format_for(types)
    await conn.copy_to_table(
        name,
        schema_name=schema,
        columns=spec.column_names,
        source=_copy_chunks(table, types, fmt),
        format=fmt,
    )


async def _write(
    conn: asyncpg.Connection, spec: TableSpec, table: pa.Table, mode: UpsertMode, on_citus: bool = False
) -> UpsertResult:
    if mode == "merge":
        with _database_errors(f"merging into {spec.qualified_name}"):
            if on_citus and citus.placement(spec) != "local":
                return await citus.merge(conn, spec, table, _copy_into)
            return await merge_batch(conn, spec, table)
    try:
        await _copy_into(conn, spec.schema, spec.name, spec, table)
    except asyncpg.UniqueViolationError as exc:
        raise DataValidationError(
            f"{spec.qualified_name}: insert mode found a row that already exists "
            f"({exc.detail or exc}); nothing was written — use mode='merge' for partitions that may hold data"
        ) from None
    except (asyncpg.PostgresError, asyncpg.InterfaceError, OSError) as exc:
        raise _storage_error(f"copying into {spec.qualified_name}", exc) from exc
    return UpsertResult(inserted=table.num_rows)


#: work_mem for the merge statements only: lets the hash join of a large batch stay in memory (it is an
#: upper bound; small batches use what they need). Restored right after the merge.
MERGE_WORK_MEM = "256MB"

#: Heap fillfactor of the tables a merge updates in place: keyed source tables with value columns whose
#: ``update_time`` the merge maintains (raw Tushare data). Half of each page stays free, so the new
#: version of a changed row fits beside the old one: a heap-only-tuple (HOT) update, which writes no index
#: entry (no index holds a value column). The price is about twice the heap on disk (indexes unchanged).
#: Derived tables (PIT, bookkeeping: no ``update_time``) keep the default. See docs/postgres_storage.md.
MERGE_FILLFACTOR = 50

#: First server major version with MERGE (older ones take the UPDATE + INSERT path).
MERGE_STATEMENT_VERSION = 15


def merge_fillfactor(spec: TableSpec) -> int | None:
    """The fillfactor ``spec``'s table is created with: :data:`MERGE_FILLFACTOR` for a table whose rows
    a merge updates in place (a key, value columns, ``update_time`` tracked), else ``None`` (the
    server's default, 100)."""
    if spec.key and spec.value_columns and spec.track_update_time:
        return MERGE_FILLFACTOR
    return None


def _merge_statement_sql(spec: TableSpec, stage: str) -> str:
    """One MERGE: a single join of stage and table; changed rows updated, new rows inserted, identical
    rows left alone (``update_time`` moves only with a real change)."""
    values = spec.value_columns
    cols = spec.column_names
    insert_cols = cols + ([UPDATE_TIME_COLUMN] if spec.track_update_time else [])
    insert_values = column_list(cols, "s") + (f", {_NOW}" if spec.track_update_time else "")
    sql = (
        f"MERGE INTO {table_ref(spec)} AS t USING {qualified('pg_temp', stage)} AS s "
        f"ON {key_match_condition(spec, 't', 's')} "
    )
    if values:
        sql += f"WHEN MATCHED AND {distinct_values_condition(values, 't', 's')} THEN UPDATE SET {_assignments(spec)} "
    return sql + f"WHEN NOT MATCHED THEN INSERT ({column_list(insert_cols)}) VALUES ({insert_values})"


def _assignments(spec: TableSpec) -> str:
    assignments = [f"{quote_ident(c)} = s.{quote_ident(c)}" for c in spec.value_columns]
    if spec.track_update_time:
        assignments.append(f"{quote_ident(UPDATE_TIME_COLUMN)} = {_NOW}")
    return ", ".join(assignments)


def _update_changed_sql(spec: TableSpec, stage: str) -> str:
    return (
        f"UPDATE {table_ref(spec)} AS t SET {_assignments(spec)} "
        f"FROM {qualified('pg_temp', stage)} AS s "
        f"WHERE {key_match_condition(spec, 't', 's')} AND {distinct_values_condition(spec.value_columns, 't', 's')}"
    )


def _insert_new_sql(spec: TableSpec, stage: str) -> str:
    cols = spec.column_names
    insert_cols = column_list(cols + ([UPDATE_TIME_COLUMN] if spec.track_update_time else []))
    select_cols = column_list(cols, "s") + (f", {_NOW}" if spec.track_update_time else "")
    return (
        f"INSERT INTO {table_ref(spec)} ({insert_cols}) "
        f"SELECT {select_cols} FROM {qualified('pg_temp', stage)} AS s "
        f"WHERE NOT EXISTS (SELECT 1 FROM {table_ref(spec)} AS t WHERE {key_match_condition(spec, 't', 's')})"
    )


def _matched_count_sql(spec: TableSpec, stage: str) -> str:
    return (
        f"SELECT count(*) FROM {qualified('pg_temp', stage)} AS s "
        f"WHERE EXISTS (SELECT 1 FROM {table_ref(spec)} AS t WHERE {key_match_condition(spec, 't', 's')})"
    )


#: This transaction's inserted and updated row counts of one table, so far (the statistics collector's
#: per-transaction counters; MERGE's command tag gives only their sum before PostgreSQL 17).
_XACT_WRITES_SQL = (
    "SELECT pg_stat_get_xact_tuples_inserted($1::text::regclass), pg_stat_get_xact_tuples_updated($1::text::regclass), "
    "current_setting('track_counts')::boolean"
)


def _status_count(status: str) -> int:
    """Rows affected, from a command tag such as ``UPDATE 12`` or ``INSERT 0 12``."""
    return int(status.rsplit(" ", 1)[-1])


async def _stage_batch(conn: asyncpg.Connection, spec: TableSpec, table: pa.Table) -> str:
    """COPY the batch into a new temporary table (dropped at commit at the latest); returns its name."""
    stage = f"_alphahome_stage_{next(_stage_names)}"
    stage_cols = ", ".join(f"{quote_ident(c.name)} {POSTGRES_TYPES[c.type]}" for c in spec.columns)
    await conn.execute(f"CREATE TEMP TABLE {quote_ident(stage)} ({stage_cols}) ON COMMIT DROP")
    await _copy_into(conn, "pg_temp", stage, spec, table)
    return stage


async def _merge_statement(conn: asyncpg.Connection, spec: TableSpec, stage: str, rows: int) -> UpsertResult:
    """Merge the stage with one MERGE statement (PostgreSQL 15+)."""
    target = table_ref(spec)
    ins0, upd0, counted = await conn.fetchrow(_XACT_WRITES_SQL, target)
    matched = None if counted else await conn.fetchval(_matched_count_sql(spec, stage))
    written = _status_count(await conn.execute(_merge_statement_sql(spec, stage)))
    if matched is None:
        ins1, upd1, _ = await conn.fetchrow(_XACT_WRITES_SQL, target)
        inserted, updated = ins1 - ins0, upd1 - upd0
        if inserted + updated != written:  # never expected; the counts must not lie, so fail loudly
            raise StorageError(f"MERGE wrote {written} rows but the statistics counted {inserted + updated}")
    else:  # track_counts is off: the counters stay at zero, so the matches were counted beforehand
        inserted = rows - matched
        updated = written - inserted
    return UpsertResult(inserted=inserted, updated=updated, unchanged=rows - inserted - updated)


async def _merge_update_insert(
    conn: asyncpg.Connection, spec: TableSpec, stage: str, rows: int
) -> UpsertResult:
    """Merge the stage with UPDATE of changed rows, then INSERT of new ones (servers before MERGE)."""
    updated = inserted = 0
    if spec.value_columns:
        updated = _status_count(await conn.execute(_update_changed_sql(spec, stage)))
    if updated < rows:  # when every staged row was an update, none can be new
        inserted = _status_count(await conn.execute(_insert_new_sql(spec, stage)))
    return UpsertResult(inserted=inserted, updated=updated, unchanged=rows - inserted - updated)


async def merge_batch(conn: asyncpg.Connection, spec: TableSpec, table: pa.Table) -> UpsertResult:
    """Merge a prepared batch (spec's columns, keys de-duplicated) into ``spec``'s table on ``conn``,
    which must be inside a transaction.

    Steps: binary COPY into a temporary stage; the per-table advisory lock (concurrent merges into one
    table queue here, so none misses rows another is inserting); one set-based statement — MERGE on
    PostgreSQL 15+, else UPDATE changed + INSERT new. See docs/postgres_storage.md for the measurements.
    """
    stage = await _stage_batch(conn, spec, table)
    await conn.execute("SELECT pg_advisory_xact_lock($1)", advisory_lock_key(f"merge:{spec.qualified_name}"))
    previous_work_mem = await conn.fetchval("SELECT current_setting('work_mem')")
    await conn.execute("SELECT set_config('work_mem', $1, true)", MERGE_WORK_MEM)
    if conn.get_server_version().major >= MERGE_STATEMENT_VERSION:
        result = await _merge_statement(conn, spec, stage, table.num_rows)
    else:
        result = await _merge_update_insert(conn, spec, stage, table.num_rows)
    await conn.execute("SELECT set_config('work_mem', $1, true)", previous_work_mem)
    await conn.execute(f"DROP TABLE {qualified('pg_temp', stage)}")
    return result
