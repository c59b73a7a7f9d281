"""Shared fixtures: a fresh PostgreSQL database per test (from the cluster that scripts/run_tests.sh starts)
and a DuckDB temp file, offered together as the ``database_url`` parameter so storage-level tests run
the same on both backends; and the pinned last day of the sandbox market (``SANDBOX_END``).

Pinning the date: the sandbox market ends on today's date unless told otherwise, so a test that counts
rows, dates or partitions would change from day to day. Every test that builds a market or a sandbox
server passes ``end_date=SANDBOX_END`` (``from conftest import SANDBOX_END``), and every update it runs
counts that day as today (``UpdateRequest(today=SANDBOX_END)``, or ``--mode smart --end-date`` with
``SANDBOX_END_ARG`` for the CLI). The suite passes under ``faketime '+90 days'`` to prove it."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Awaitable, Callable, Iterator
from datetime import date
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest

PG_ENV = "ALPHAHOME_TEST_PG_URL"

#: The last day of the sandbox market in every test (a past trading day, a Monday): see the module docstring.
SANDBOX_END = date(2025, 6, 30)
#: ``SANDBOX_END`` as the CLI's ``--end-date`` value.
SANDBOX_END_ARG = SANDBOX_END.strftime("%Y%m%d")


def _pg_admin_url() -> str | None:
    return os.environ.get(PG_ENV) or None


def _with_database(url: str, database: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + database, parts.query, parts.fragment))


async def _admin(url: str, sql: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(url)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@pytest.fixture
def pg_url() -> Iterator[str]:
    """URL of a brand-new, empty PostgreSQL database, dropped after the test."""
    admin = _pg_admin_url()
    if admin is None:
        pytest.skip(f"{PG_ENV} is not set: run the suite through scripts/run_tests.sh")
    name = "t_" + uuid.uuid4().hex[:16]
    asyncio.run(_admin(admin, f'CREATE DATABASE "{name}"'))
    try:
        yield _with_database(admin, name)
    finally:
        asyncio.run(_admin(admin, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(scope="session")
def sandbox_end() -> date:
    """The pinned last day of the sandbox market (``SANDBOX_END``), for tests that prefer a fixture."""
    return SANDBOX_END


@pytest.fixture
def duckdb_url(tmp_path) -> str:
    """URL of a DuckDB file in a fresh temp directory (the file does not exist yet)."""
    return f"duckdb:///{tmp_path / 'alphahome.duckdb'}"


@pytest.fixture(params=["duckdb", "postgres"])
def database_url(request) -> str:
    """The same test on both backends: a fresh DuckDB file, then a fresh PostgreSQL database."""
    if request.param == "duckdb":
        return request.getfixturevalue("duckdb_url")
    return request.getfixturevalue("pg_url")


# ---- Citus (tests marked `citus`; the cluster comes from scripts/run_tests.sh) ------------------------------

CITUS_ENV = "ALPHAHOME_TEST_CITUS_URL"
#: Schemas AlphaHome creates; dropped between tests that share one Citus database.
CITUS_SCHEMAS = ("tushare", "pit", "alphahome", "alphahome_stage")


async def _citus_nodes(admin: str) -> list[tuple[str, int]]:
    import asyncpg

    conn = await asyncpg.connect(admin)
    try:
        rows = await conn.fetch("SELECT nodename, nodeport FROM pg_dist_node WHERE groupid <> 0 ORDER BY nodeid")
    finally:
        await conn.close()
    return [(r[0], int(r[1])) for r in rows]


def _with_host(url: str, host: str, port: int, database: str) -> str:
    parts = urlsplit(url)
    credentials = parts.netloc.rpartition("@")[0]
    return urlunsplit((parts.scheme, f"{credentials}@{host}:{port}", "/" + database, parts.query, ""))


#: Advisory lock key (on the coordinator's postgres database) serialising the creation and dropping of the
#: per-xdist-worker Citus databases: two workers creating databases on all nodes at once make Citus fail
#: with "failure on connection marked as essential".
_CITUS_DDL_LOCK = 0x616C7068  # "alph"


async def _with_ddl_lock(admin: str, work: Callable[[], Awaitable[Any]]) -> Any:
    """Run ``await work()`` holding the coordinator-wide lock (a session lock on its own connection)."""
    import asyncpg

    holder = await asyncpg.connect(admin)
    try:
        await holder.execute("SELECT pg_advisory_lock($1)", _CITUS_DDL_LOCK)
        return await work()
    finally:
        await holder.close()  # ends the session, and with it the lock


async def _drop_everywhere(admin: str, name: str, nodes: list[tuple[str, int]]) -> None:
    """DROP ``name`` on every node; a drop that fails (a connection Citus is still closing) is retried."""
    for host, port in nodes:
        node_admin = _with_host(admin, host, port, "postgres")
        for attempt in range(5):
            try:
                await _admin(node_admin, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                break
            except Exception:
                if attempt == 4:
                    raise
                await asyncio.sleep(0.5 * (attempt + 1))


async def _all_nodes(admin: str) -> list[tuple[str, int]]:
    coordinator = urlsplit(admin)
    return [(coordinator.hostname or "127.0.0.1", coordinator.port or 5432), *await _citus_nodes(admin)]


async def _create_citus_database(admin: str, name: str) -> str:
    """``name`` on the coordinator and every worker, with the extension, and the workers registered.

    Tests reading the database run with ``citus.local_table_join_policy = never``: a join between a
    coordinator table and a distributed table is an error, never silently planned through the coordinator.
    """

    async def create() -> str:
        nodes = await _all_nodes(admin)
        await _drop_everywhere(admin, name, nodes)
        for host, port in nodes:
            await _admin(_with_host(admin, host, port, "postgres"), f'CREATE DATABASE "{name}"')
            await _admin(_with_host(admin, host, port, name), "CREATE EXTENSION citus")
        url = _with_database(admin, name)
        (host, port), workers = nodes[0], nodes[1:]
        statements = [f"SELECT citus_set_coordinator_host('{host}', {port})"]
        statements += [f"SELECT citus_add_node('{h}', {p})" for h, p in workers]
        statements.append(f'ALTER DATABASE "{name}" SET citus.local_table_join_policy = never')
        await _admin(url, "; ".join(statements))
        return url

    return await _with_ddl_lock(admin, create)


async def _drop_citus_database(admin: str, name: str) -> None:
    async def drop() -> None:
        await _drop_everywhere(admin, name, await _all_nodes(admin))

    await _with_ddl_lock(admin, drop)


@pytest.fixture(scope="session")
def _citus_database() -> Iterator[str]:
    """One Citus database per pytest(-xdist) worker, on the coordinator and both workers."""
    admin = os.environ.get(CITUS_ENV)
    if not admin:
        pytest.skip(
            f"{CITUS_ENV} is not set: Citus tests need scripts/run_tests.sh with Citus installed "
            "(../shared/tools/install_citus.sh beside the clone)"
        )
    name = "alphahome_citus_" + os.environ.get("PYTEST_XDIST_WORKER", "main")
    url = asyncio.run(_create_citus_database(admin, name))
    try:
        yield url
    finally:
        asyncio.run(_drop_citus_database(admin, name))


@pytest.fixture
def citus_url(_citus_database: str) -> str:
    """URL of the Citus coordinator's test database, emptied of AlphaHome's schemas."""
    drops = "; ".join(f'DROP SCHEMA IF EXISTS "{s}" CASCADE' for s in CITUS_SCHEMAS)
    asyncio.run(_admin(_citus_database, drops))
    return _citus_database


@pytest.fixture(autouse=True)
def _restore_alphahome_logging() -> Iterator[None]:
    """In-process CLI runs configure the ``alphahome`` logger for a whole run (their own handlers, no
    propagation). Undo that after each test so later tests' caplog sees records and no handler writes to
    a stream that CliRunner has closed."""
    import logging

    logger = logging.getLogger("alphahome")
    before = list(logger.handlers)
    yield
    for handler in list(logger.handlers):
        if handler not in before:
            logger.removeHandler(handler)
            handler.close()
    logger.propagate = True
    logger.setLevel(logging.NOTSET)
