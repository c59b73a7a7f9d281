"""Systematic errors end a run fast (docs/monitoring.md): one retry budget per batch, a dataset whose saves
all fail stops after a few batches and reports the error once, and an unreachable Tushare URL ends the run
within seconds with one line."""

from __future__ import annotations

import asyncio
import json
import logging
import socket
import time

import pytest
from conftest import SANDBOX_END
from test_update_support import cli_env, run_cli, run_update, sandbox_settings, write_config, write_schedule

from alphahome.errors import StorageError
from alphahome.sandbox.faults import FaultConfig
from alphahome.sandbox.server import run_sandbox_in_thread
from alphahome.sandbox.tokens import TOKEN_5000
from alphahome.tasks.catalogue import DATASETS
from alphahome.tasks.failures import SYSTEMATIC_AFTER
from alphahome.tasks.sync_store import SyncStore
from alphahome.updater.updater import UpdateRequest


@pytest.fixture(scope="module")
def sandbox():
    with run_sandbox_in_thread(seed=42, scale="small", end_date=SANDBOX_END) as server:
        yield server


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_a_failing_batch_is_tried_max_retries_plus_one_times_not_squared(sandbox, duckdb_url, tmp_path):
    config = write_config(tmp_path / "config.json")
    settings = sandbox_settings(duckdb_url, sandbox.url, TOKEN_5000, config, **{"production.max_retries": 2})
    sandbox.faults = FaultConfig(http5xx=1.0)
    try:
        sandbox.stats.reset()
        report = run_update(settings, UpdateRequest(tasks=("trade_cal",), today=sandbox.market.end_date))
    finally:
        sandbox.faults = FaultConfig()
    (result,) = report.results
    assert result.status == "failed" and "HTTP 5" in (result.error or "")
    # one batch, one budget: 1 attempt + 2 retries (the runner used to retry the client's retries: 9)
    assert result.calls == 3 == sandbox.stats.calls["trade_cal"]


async def _break_daily(db_url: str, settings) -> None:
    """Create tushare.daily with a trigger that makes every write to it fail (PostgreSQL)."""
    import asyncpg

    store = await SyncStore.open(settings)
    try:
        await store.ensure_table(DATASETS["daily"])
    finally:
        await store.close()
    conn = await asyncpg.connect(db_url)
    try:
        await conn.execute("""
            CREATE FUNCTION public.refuse_writes() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN RAISE EXCEPTION 'could not extend file: No space left on device'; END $$;
            CREATE TRIGGER refuse BEFORE INSERT OR UPDATE ON tushare.daily
                FOR EACH ROW EXECUTE FUNCTION public.refuse_writes();""")
    finally:
        await conn.close()


def test_a_dataset_whose_saves_all_fail_stops_after_a_few_batches(sandbox, database_url, tmp_path, monkeypatch,
                                                                   caplog):
    config = tmp_path / "config.json"  # daily from the market's first listings: every batch has rows
    config.write_text(json.dumps({"tasks": {"daily": {"default_start_date": "20250101"}}}))
    settings = sandbox_settings(database_url, sandbox.url, TOKEN_5000, config)
    if database_url.startswith("postgresql"):
        asyncio.run(_break_daily(database_url, settings))
    else:  # DuckDB has no triggers: the store itself refuses
        original = SyncStore.save

        async def refuse(self, spec, table, partitions):
            if spec.name == "daily":
                raise StorageError("DuckDB: IO Error: could not extend file: No space left on device")
            return await original(self, spec, table, partitions)

        monkeypatch.setattr(SyncStore, "save", refuse)
    sandbox.stats.reset()
    t0 = time.monotonic()
    with caplog.at_level(logging.DEBUG, logger="alphahome"):
        report = run_update(settings, UpdateRequest(tasks=("daily",), today=sandbox.market.end_date))
    elapsed = time.monotonic() - t0
    results = {r.dataset: r for r in report.results}
    daily = results["daily"]
    assert daily.status == "failed" and daily.rows == 0
    assert daily.error.startswith(f"stopped after {SYSTEMATIC_AFTER} consecutive batches failed with the same "
                                  "error: ") and "No space left on device" in daily.error
    assert results["trade_cal"].status == "success"
    # the failing batches are a few (3 in flight), not the hundreds of trade dates left in the plan
    assert daily.batches_failed <= SYSTEMATIC_AFTER + 3, daily.batches_failed
    assert daily.calls <= daily.batches + daily.batches_failed + 3  # + fetches in flight when it stopped
    assert sandbox.stats.calls["daily"] == daily.calls
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR and r.name.startswith("alphahome")
              and "No space left on device" in r.getMessage()]
    assert len(errors) == 3, errors  # the error once, the stop, the task's result line
    assert elapsed < 60


def test_an_unreachable_tushare_url_ends_the_run_at_once_with_one_line(duckdb_url, tmp_path):
    config = write_config(tmp_path / "config.json")
    schedule = write_schedule(tmp_path / "schedule.yaml")
    url = f"http://127.0.0.1:{_free_port()}"
    env = cli_env(duckdb_url, url, TOKEN_5000, config, schedule)
    t0 = time.monotonic()
    done = run_cli(["tushare", "update", "--tasks", "daily"], env, tmp_path)
    assert time.monotonic() - t0 < 20
    assert done.returncode == 2, done.stderr
    lines = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert lines == [f"error: cannot reach Tushare at {url}: Cannot connect to host {url[7:]} ssl:default "
                     f"[Connect call failed ('127.0.0.1', {url.rsplit(':', 1)[1]})]"], done.stderr
    assert "Traceback" not in done.stderr
