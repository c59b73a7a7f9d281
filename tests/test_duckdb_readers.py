"""DuckDB readers beside writers (docs/architecture.md, "Readers and writers"): every read path opens the
file read-only, so a notebook holding it does not stop ``pit query``, ``status`` or the Python API; a
writer waits ``database.duckdb_lock_wait_seconds`` for a held file, then fails with exit 2 naming the
holder's pid; a read never creates a database file. Each holder is a real second process."""

from __future__ import annotations

import asyncio
import io
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from conftest import SANDBOX_END
from test_pit_oracle import generate_raw, load_raw

from alphahome.errors import ConnectionFailed
from alphahome.pit import query as pq
from alphahome.storage import DuckDBOptions, open_backend, open_sync

# A notebook: DuckDB opened read-only by another process, kept open until a line arrives on stdin.
NOTEBOOK = """
import sys, duckdb
con = duckdb.connect(sys.argv[1], read_only=True)
con.execute("SELECT 1").fetchall()
print("open", flush=True)
sys.stdin.readline()
"""


class Holder:
    """A second process holding ``path`` (read-only) until :meth:`release`."""

    def __init__(self, path: Path) -> None:
        self.proc = subprocess.Popen([sys.executable, "-c", NOTEBOOK, str(path)], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        assert line.strip() == "open", self.proc.stderr.read() if self.proc.stderr else ""

    @property
    def pid(self) -> int:
        return self.proc.pid

    def release(self) -> None:
        if self.proc.poll() is None:
            assert self.proc.stdin is not None
            self.proc.stdin.write("bye\n")
            self.proc.stdin.flush()
        self.proc.wait(timeout=60)


def cli(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", "from alphahome.cli import main; main()", *args], env=env,
                          cwd=cwd, capture_output=True, text=True, timeout=180)


def cli_env(url: str, config: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ALPHAHOME_", "TUSHARE_", "DATABASE_URL"))}
    env.update(DATABASE_URL=url, ALPHAHOME_CONFIG=str(config))
    env["PYTHONPATH"] = os.pathsep.join([os.getcwd(), os.environ.get("PYTHONPATH", "")])
    return env


def write_config(path: Path, **database: object) -> Path:
    path.write_text(json.dumps({"database": database}), encoding="utf-8")
    return path


@pytest.fixture
def built(tmp_path: Path) -> Iterator[tuple[Path, str, dict[str, str]]]:
    """A DuckDB file with raw statements and the PIT tables built; its URL; a CLI environment that waits at
    most 1 s for a held file."""
    path = tmp_path / "warehouse.duckdb"
    url = f"duckdb:///{path}"

    async def load() -> None:
        async with open_backend(url) as backend:
            await load_raw(backend, generate_raw(seed=3, n_stocks=4))

    asyncio.run(load())
    env = cli_env(url, write_config(tmp_path / "config.json", duckdb_lock_wait_seconds=1))
    done = cli(["pit", "update", "--mode", "full", "--log-level", "WARNING"], env, tmp_path)
    assert done.returncode == 0, done.stderr
    yield path, url, env


def test_readers_work_while_a_notebook_holds_the_file(built: tuple[Path, str, dict[str, str]],
                                                      tmp_path: Path) -> None:
    path, url, env = built
    with open_sync(url, read_only=True) as db:
        want = pq.as_of("income", "2018-05-15", fields=["revenue"], db=db)
    assert len(want) > 0
    notebook = Holder(path)
    try:
        query = cli(["pit", "query", "--table", "income", "--date", "20180515", "--fields", "revenue",
                     "--format", "csv"], env, tmp_path)
        assert query.returncode == 0, query.stderr
        got = pd.read_csv(io.StringIO(query.stdout))
        assert list(got["ts_code"]) == list(want["ts_code"])
        pd.testing.assert_series_equal(got["revenue"], want["revenue"], check_names=False)

        status = cli(["status"], env, tmp_path)
        assert status.returncode == 0, status.stderr
        assert "tushare.income" in status.stdout

        tasks = cli(["tasks"], env, tmp_path)
        assert tasks.returncode == 0 and "state not shown" not in tasks.stdout, tasks.stdout

        dry = cli(["tushare", "update", "--dry-run", "--tasks", "trade_cal"], env, tmp_path)  # plans, writes nothing
        assert dry.returncode == 0 and "Dry run" in dry.stdout, dry.stderr

        # The Python API (a URL: opened read-only and closed), beside the notebook and another reader.
        with open_sync(url, read_only=True) as other:
            assert other.read_only and other.fetchval("SELECT count(*) FROM pit.income_quarterly") > 0
            again = pq.as_of("income", "2018-05-15", fields=["revenue"], db=url)
        pd.testing.assert_frame_equal(again, want)
    finally:
        notebook.release()


def test_writer_waits_then_fails_with_exit_2_naming_the_holder(built: tuple[Path, str, dict[str, str]],
                                                               tmp_path: Path) -> None:
    path, _url, env = built
    notebook = Holder(path)
    try:
        started = time.monotonic()
        done = cli(["pit", "update", "--mode", "full"], env, tmp_path)
        waited = time.monotonic() - started
    finally:
        notebook.release()
    assert done.returncode == 2, done.stderr
    errors = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "Traceback" not in done.stderr, done.stderr
    assert f"in use by another process (PID {notebook.pid}) after waiting 1s" in errors[0]
    assert "duckdb_lock_wait_seconds" in errors[0]
    assert waited >= 1.0


def test_writer_gets_the_file_when_the_holder_leaves_within_the_wait(built: tuple[Path, str, dict[str, str]],
                                                                     tmp_path: Path) -> None:
    path, url, env = built
    env = cli_env(url, write_config(tmp_path / "patient.json", duckdb_lock_wait_seconds=120))
    notebook = Holder(path)
    writer = subprocess.Popen([sys.executable, "-c", "from alphahome.cli import main; main()", "pit", "update",
                               "--mode", "full", "--log-level", "WARNING"], env=env, cwd=tmp_path,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert writer.stderr is not None
        # The writer says it waits (a warning on stderr) before the holder leaves.
        line = writer.stderr.readline()
        assert "is held by another process" in line and f"PID {notebook.pid}" in line, line
        assert writer.poll() is None
    finally:
        notebook.release()
    out, err = writer.communicate(timeout=180)
    assert writer.returncode == 0, err
    assert "income_quarterly" in out and "success" in out
    with open_sync(url, read_only=True) as db:
        runs = db.fetchval("SELECT count(*) FROM alphahome.run_history WHERE kind = 'pit'")
    assert runs == 8  # two full builds of four targets


def test_reads_on_a_missing_path_exit_2_and_create_nothing(tmp_path: Path) -> None:
    missing = tmp_path / "typo" / "warehuose.duckdb"
    url = f"duckdb:///{missing}"
    env = cli_env(url, write_config(tmp_path / "config.json"))
    for args in (["pit", "query", "--table", "income", "--date", "20180515"], ["status"]):
        done = cli(args, env, tmp_path)
        assert done.returncode == 2, (args, done.stdout, done.stderr)
        assert f"no database file at '{missing}'" in done.stderr and "Traceback" not in done.stderr
    listing = cli(["tasks"], env, tmp_path)  # the catalogue still lists, with a note instead of the state
    assert listing.returncode == 0 and "does not exist yet" in listing.stdout
    with pytest.raises(ConnectionFailed, match="no database file"):
        pq.as_of("income", "2018-05-15", db=url)
    assert not missing.exists() and not missing.parent.exists()


async def test_every_connection_gets_the_memory_limit_and_threads(tmp_path: Path) -> None:
    url = f"duckdb:///{tmp_path / 'x.duckdb'}"
    options = DuckDBOptions(memory_limit="1GB", threads=1, lock_wait_seconds=0)
    async with open_backend(url, duckdb=options) as db:
        await db.execute("CREATE TABLE t AS SELECT 1 AS a")
        assert await db.fetchval("SELECT current_setting('threads')") == 1
        assert await db.fetchval("SELECT current_setting('memory_limit')") in ("953.6 MiB", "1.0 GB")
    async with open_backend(url, read_only=True, duckdb=options) as reader:
        assert reader.read_only
        assert await reader.fetchval("SELECT current_setting('threads')") == 1
        with pytest.raises(Exception, match="read-only"):
            await reader.execute("INSERT INTO t VALUES (2)")
        assert await reader.fetchval("SELECT count(*) FROM t") == 1


async def test_postgres_read_only_backend_refuses_writes(pg_url: str) -> None:
    async with open_backend(pg_url) as db:
        await db.execute("CREATE TABLE t (a integer)")
    async with open_backend(pg_url, read_only=True) as reader:
        assert reader.read_only and reader.dialect == "postgres"
        with pytest.raises(Exception, match="read-only"):
            await reader.execute("INSERT INTO t VALUES (1)")
        assert await reader.fetchval("SELECT count(*) FROM t") == 0


def test_duckdb_settings_are_validated_and_shown(tmp_path: Path) -> None:
    for bad, words in (({"duckdb_lock_wait_seconds": -1}, "duckdb_lock_wait_seconds"),
                       ({"duckdb_memory_limit": "lots"}, "duckdb_memory_limit"),
                       ({"duckdb_memory_limit": "150%"}, "at most 100%"),
                       ({"duckdb_threads": 0}, "duckdb_threads")):
        env = cli_env("duckdb:///x.duckdb", write_config(tmp_path / "bad.json", **bad))
        done = cli(["config", "validate"], env, tmp_path)
        assert done.returncode == 2 and words in done.stderr, (bad, done.stderr)
    env = cli_env("duckdb:///x.duckdb", write_config(tmp_path / "ok.json", duckdb_memory_limit="2GB"))
    shown = cli(["config", "show", "--format", "json"], env, tmp_path)
    assert shown.returncode == 0, shown.stderr
    values = json.loads(shown.stdout)["values"]
    assert values["database.duckdb_memory_limit"]["value"] == "2GB"
    assert values["database.duckdb_lock_wait_seconds"] == {"value": 60.0, "source": "default"}
    assert values["database.duckdb_threads"]["value"] is None


async def test_backends_name_their_dialect_and_refuse_nested_transactions(database_url: str) -> None:
    from alphahome.errors import StorageError
    from alphahome.pit.query import dialect_of

    async with open_backend(database_url) as db:
        expected = "duckdb" if database_url.startswith("duckdb") else "postgres"
        assert db.kind == db.dialect == dialect_of(db).name == expected
        assert db.capabilities.writers_across_processes is (expected == "postgres")
        await db.execute("CREATE TABLE t (a integer)")
        async with db.transaction() as tx:
            await tx.execute("INSERT INTO t VALUES (1)")
            with pytest.raises(StorageError, match="transactions do not nest"):
                async with db.transaction():
                    pytest.fail("a nested transaction was opened")
        assert await db.fetchval("SELECT count(*) FROM t") == 1  # the outer one committed


def test_python_front_door_updates_and_reads(tmp_path: Path) -> None:
    import datetime as dt

    from test_update_support import sandbox_settings, write_config

    import alphahome
    from alphahome.sandbox.server import run_sandbox_in_thread
    from alphahome.sandbox.tokens import TOKEN_5000

    url = f"duckdb:///{tmp_path / 'front.duckdb'}"
    with run_sandbox_in_thread(seed=42, scale="small", end_date=SANDBOX_END) as server:
        settings = sandbox_settings(url, server.url, TOKEN_5000, write_config(tmp_path / "config.json"))
        end = server.market.end_date  # type: ignore[attr-defined]
        report = alphahome.update(["trade_cal"], end=end, settings=settings)
    assert report.exit_code == 0 and [r.dataset for r in report.results] == ["trade_cal"]
    with open_sync(url, read_only=True) as db:
        assert db.fetchval("SELECT max(cal_date) FROM tushare.trade_cal") >= end - dt.timedelta(days=7)

    async def read() -> int:
        async with alphahome.open_backend(url, read_only=True, settings=settings) as db:
            return int(await db.fetchval("SELECT count(*) FROM tushare.trade_cal"))

    assert asyncio.run(read()) == report.results[0].rows
