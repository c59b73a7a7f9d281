"""Connections: every bad case gives one clear line without the password; the run lock across processes;
cancellation; the synchronous facade."""

from __future__ import annotations

import asyncio
import os
import socket
import sys
from urllib.parse import urlsplit, urlunsplit

import pandas as pd
import pytest

from alphahome.errors import ConfigError, ConnectionFailed, RunLockHeld
from alphahome.storage import DuckDBOptions, open_backend, open_sync
from alphahome.storage.spec import Column, TableSpec

LOCK = "tushare-update"

# A second process that takes the run lock and holds it until told to stop (a line on stdin).
HOLD_RUN_LOCK = """
import asyncio, sys
from alphahome.storage import open_backend

async def main():
    async with open_backend(sys.argv[1]) as db:
        async with db.run_lock(sys.argv[2]):
            print("locked", flush=True)
            await asyncio.to_thread(sys.stdin.readline)

asyncio.run(main())
"""

# A second process that merely keeps a DuckDB file open.
HOLD_DUCKDB_OPEN = """
import asyncio, sys
from alphahome.storage import open_backend

async def main():
    async with open_backend(sys.argv[1]):
        print("open", flush=True)
        await asyncio.to_thread(sys.stdin.readline)

asyncio.run(main())
"""


def password_of(url: str) -> str | None:
    return urlsplit(url).password


def with_netloc(
    url: str, *, password: str | None = None, port: int | None = None, database: str | None = None
) -> str:
    parts = urlsplit(url)
    user = parts.username or ""
    netloc = (
        f"{user}:{password if password is not None else parts.password}@{parts.hostname}:{port or parts.port}"
    )
    path = f"/{database}" if database is not None else parts.path
    return urlunsplit((parts.scheme, netloc, path, "", ""))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Holder:
    """A child process running ``script`` against ``url``; released on exit."""

    def __init__(self, script: str, *args: str) -> None:
        self.script = script
        self.args = args
        self.proc: asyncio.subprocess.Process | None = None

    async def __aenter__(self) -> asyncio.subprocess.Process:
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([os.getcwd(), os.environ.get("PYTHONPATH", "")])}
        self.proc = await asyncio.create_subprocess_exec(
            sys.executable, "-c", self.script, *self.args,
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env=env,
        )  # fmt: skip
        assert self.proc.stdout is not None
        line = await asyncio.wait_for(self.proc.stdout.readline(), 60)
        if not line:
            err = await self.proc.stderr.read() if self.proc.stderr else b""
            raise AssertionError(f"holder process failed: {err.decode()[-2000:]}")
        return self.proc

    async def __aexit__(self, *exc_info: object) -> None:
        assert self.proc is not None and self.proc.stdin is not None
        if self.proc.returncode is None:
            self.proc.stdin.write(b"stop\n")
            await self.proc.stdin.drain()
        await asyncio.wait_for(self.proc.wait(), 60)


# -- bad connections ---------------------------------------------------------------------------------------


async def test_unreachable_server(pg_url: str) -> None:
    port = free_port()
    url = with_netloc(pg_url, port=port)
    with pytest.raises(ConnectionFailed) as excinfo:
        await open_backend(url).connect()
    message = str(excinfo.value)
    assert f"server unreachable at 127.0.0.1:{port}" in message
    assert "***" in message and password_of(pg_url) not in message
    assert "\n" not in message


async def test_wrong_password(pg_url: str) -> None:
    url = with_netloc(pg_url, password="Wrong-Secret-42")
    with pytest.raises(ConnectionFailed) as excinfo:
        await open_backend(url).connect()
    message = str(excinfo.value)
    assert "password authentication failed for user 'alphahome'" in message
    assert "Wrong-Secret-42" not in message and "\n" not in message


async def test_missing_database(pg_url: str) -> None:
    url = with_netloc(pg_url, database="no_such_db_here")
    with pytest.raises(ConnectionFailed) as excinfo:
        await open_backend(url).connect()
    message = str(excinfo.value)
    assert "database 'no_such_db_here' does not exist" in message
    assert password_of(pg_url) not in message


async def test_unwritable_duckdb_path(tmp_path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    with pytest.raises(ConnectionFailed) as excinfo:
        await open_backend(f"duckdb:///{blocker}/sub/x.duckdb").connect()
    message = str(excinfo.value)
    assert message.startswith(
        f"cannot open DuckDB database duckdb:///{blocker}/sub/x.duckdb: cannot create directory"
    )


def test_malformed_url_is_a_config_error() -> None:
    with pytest.raises(ConfigError) as excinfo:
        open_backend("postgresql://u:Sekrit-99@db:port/x")
    assert "bad port" in str(excinfo.value) and "Sekrit-99" not in str(excinfo.value)
    with pytest.raises(ConfigError, match="unsupported scheme"):
        open_backend("sqlite:///x.db")


def test_unknown_pool_setting_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match=r"unknown key.*max_connections"):
        open_backend("postgresql://u:p@h/db", {"max_connections": 5})


async def test_duckdb_file_held_by_another_process(duckdb_url: str) -> None:
    async with Holder(HOLD_DUCKDB_OPEN, duckdb_url) as proc:
        with pytest.raises(ConnectionFailed) as excinfo:
            await open_backend(duckdb_url, duckdb=DuckDBOptions(lock_wait_seconds=0)).connect()
    message = str(excinfo.value)
    assert f"in use by another process (PID {proc.pid})" in message
    assert "one writing process at a time" in message
    async with open_backend(duckdb_url) as db:  # free again
        assert await db.fetchval("SELECT 1") == 1


# -- run lock ------------------------------------------------------------------------------------------------


async def test_run_lock_refuses_a_second_process_and_names_it(database_url: str) -> None:
    # On DuckDB the running update holds the file itself: opening fails (exit 2, no wait here) and names it.
    no_wait = DuckDBOptions(lock_wait_seconds=0)
    async with Holder(HOLD_RUN_LOCK, database_url, LOCK) as proc:
        with pytest.raises((RunLockHeld, ConnectionFailed)) as excinfo:
            async with open_backend(database_url, duckdb=no_wait) as db, db.run_lock(LOCK):
                pytest.fail("the lock was granted twice")
        message = str(excinfo.value)
        assert f"another run is in progress (pid {proc.pid}, since 20" in message
        password = password_of(database_url)
        assert password is None or password not in message
    # Released with the holder: the lock can be taken again.
    async with open_backend(database_url) as db:
        async with db.run_lock(LOCK):
            pass
        async with db.run_lock(LOCK):
            pass


async def test_run_lock_in_one_process_and_independent_names(database_url: str) -> None:
    async with open_backend(database_url) as db:
        async with db.run_lock(LOCK):
            with pytest.raises(RunLockHeld, match=f"pid {os.getpid()}"):
                async with db.run_lock(LOCK):
                    pytest.fail("the lock was granted twice")
            async with db.run_lock("pit-update"):
                pass
        async with db.run_lock(LOCK):
            pass


# -- cancellation and the sync facade ------------------------------------------------------------------------


async def test_cancelled_query_leaves_the_backend_usable(database_url: str) -> None:
    slow = (
        "SELECT pg_sleep(30)"
        if database_url.startswith("postgres")
        else ("SELECT count(*) FROM range(100000000000) t(i) WHERE i % 7 = 3")
    )
    async with open_backend(database_url) as db:
        task = asyncio.create_task(db.fetchval(slow))
        await asyncio.sleep(0.3)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await asyncio.wait_for(task, 20)
        assert await asyncio.wait_for(db.fetchval("SELECT 41 + 1"), 20) == 42


def test_sync_facade(database_url: str) -> None:
    spec = TableSpec(
        "tushare",
        "trade_cal",
        (Column("cal_date", "date", nullable=False), Column("is_open", "text")),
        key=("cal_date",),
    )
    with open_sync(database_url) as db:
        assert db.kind in ("duckdb", "postgres")
        db.ensure_table(spec)
        result = db.upsert(spec, pd.DataFrame({"cal_date": ["20240101", "20240102"], "is_open": ["0", "1"]}))
        assert result.inserted == 2
        df = db.fetch_df("SELECT cal_date, is_open FROM tushare.trade_cal WHERE is_open = $1", "1")
        assert df["cal_date"].dt.strftime("%Y%m%d").tolist() == ["20240102"]
        assert db.row_count(spec) == 2
        assert db.latest_value(spec, "cal_date").isoformat() == "2024-01-02"
        assert db.fetch_arrow("SELECT count(*) AS n FROM tushare.trade_cal").column("n").to_pylist() == [2]
    with pytest.raises(ConnectionFailed):
        open_sync("duckdb:////proc/definitely/not/here.duckdb")
