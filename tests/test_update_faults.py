"""The update under adverse conditions, on both backends: injected faults (5xx, time-outs, truncated bodies,
system errors, quota errors) still give exactly the truth; a permission error fails one task clearly while
the rest complete (exit 1); a rejected token stops the run at once (exit 2) and writes nothing; a second
updater is refused while the first holds the run lock."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import time

import pytest
from conftest import SANDBOX_END
from test_update_support import (
    alphahome_command,
    cli_env,
    last_run_outcomes,
    run_cli,
    run_update,
    sandbox_settings,
    table_differences,
    table_names,
    write_config,
    write_schedule,
)

from alphahome.sandbox.faults import FaultConfig
from alphahome.sandbox.server import run_sandbox_in_thread
from alphahome.sandbox.tokens import TOKEN_2000, TOKEN_5000
from alphahome.updater.updater import UpdateRequest

#: One dataset of every request shape: snapshots with variants, whole-market date windows, per-code date
#: windows, per-code windows for a date-only API, month windows, vip periods, dividend periods.
SHAPES = ("trade_cal", "stock_basic", "index_member_all", "daily", "daily_basic", "index_daily",
          "index_weight", "income", "dividend")
TIME_SCALE = 0.05  # a quota "minute" lasts 3 s, on the server and in the client's limiter alike


#: Random transport and service faults; quota errors on chosen APIs (random ones would make the run's
#: length depend on which API the arrival order hands them to: each costs a (scaled) minute's pause).
FAULTS = FaultConfig(http5xx=0.06, delay=0.02, delay_seconds=2.5, truncate=0.04, system=0.04, seed=11,
                     quota_next={"daily": 2, "income_vip": 1, "index_weight": 1})


@pytest.fixture(scope="module")
def faulty_sandbox():
    with run_sandbox_in_thread(seed=7, scale="small", end_date=SANDBOX_END, time_scale=TIME_SCALE) as server:
        yield server


@pytest.fixture(scope="module")
def sandbox():
    with run_sandbox_in_thread(seed=42, scale="small", end_date=SANDBOX_END) as server:
        yield server


@pytest.mark.slow
def test_injected_faults_still_give_exactly_the_truth(faulty_sandbox, database_url, tmp_path):
    server = faulty_sandbox
    config = write_config(tmp_path / "config.json", financial_start="20220101")
    settings = sandbox_settings(database_url, server.url, TOKEN_5000, config,
                                **{"production.max_retries": 8, "network.request_timeout": 1.0})
    server.stats.reset()
    server.faults = FAULTS  # the same fault sequence for each backend
    report = run_update(settings, UpdateRequest(tasks=SHAPES, today=server.market.end_date),
                        limiter_time_scale=TIME_SCALE)
    statuses = {r.dataset: r.status for r in report.results}
    # (index datasets bring index_basic along: their codes come from it)
    assert set(SHAPES) <= set(statuses) and set(statuses.values()) == {"success"}, [
        (r.dataset, r.error) for r in report.results if r.error]
    faults = server.stats.faults
    assert faults["http5xx"] and faults["truncate"] and faults["system"] and faults["quota"] >= 3
    assert faults["delay"]
    assert table_differences(database_url, server.market, SHAPES) == {}


def test_permission_error_fails_that_task_clearly_and_the_rest_complete(sandbox, database_url, tmp_path):
    # The account is configured as 5000 points but the token has 2000: the *_vip call is refused.
    config = write_config(tmp_path / "config.json", financial_start="20250101")
    schedule = write_schedule(tmp_path / "schedule.yaml")
    env = cli_env(database_url, sandbox.url, TOKEN_2000, config, schedule, points=5000)
    done = run_cli(["tushare", "update", "--tasks", "trade_cal,daily,income"], env, tmp_path)
    assert done.returncode == 1, done.stderr
    outcomes = last_run_outcomes(database_url)
    assert {name: status for name, (status, _) in outcomes.items()} == {
        "trade_cal": "success", "stock_basic": "success", "daily": "success", "income": "failed"}
    assert "income_vip" in outcomes["income"][1] and "5000 points" in outcomes["income"][1]
    assert table_differences(database_url, sandbox.market, ["trade_cal", "daily"]) == {}
    assert TOKEN_2000 not in done.stdout + done.stderr
    log = (tmp_path / "logs" / "update.log").read_text(encoding="utf-8")
    assert "income_vip" in log and TOKEN_2000 not in log


def test_rejected_token_stops_at_once_with_exit_2_and_writes_nothing(sandbox, database_url, tmp_path):
    config = write_config(tmp_path / "config.json")
    schedule = write_schedule(tmp_path / "schedule.yaml")
    bad = "0" * 56
    env = cli_env(database_url, sandbox.url, bad, config, schedule)
    sandbox.stats.reset()
    done = run_cli(["tushare", "update"], env, tmp_path)
    assert done.returncode == 2
    errors = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(errors) == 1 and errors[0].startswith("error: tushare rejected the token"), done.stderr
    assert "Traceback" not in done.stderr and bad not in done.stderr + done.stdout
    # No dataset table, no sync state, no run history (the PostgreSQL run lock keeps its holder table).
    assert [t for t in asyncio.run(table_names(database_url)) if t != "alphahome.run_lock"] == []
    assert sandbox.stats.total_calls <= 4  # stopped at once, not after every task tried


@pytest.mark.slow
def test_second_updater_is_refused_while_the_first_runs(database_url, tmp_path):
    # A very slow sandbox keeps the first run busy however long the second takes to start on a loaded
    # machine; once the second has been refused, the sandbox answers at full speed again.
    with run_sandbox_in_thread(seed=42, scale="small", end_date=SANDBOX_END,
                               faults=FaultConfig(delay=1.0, delay_seconds=3.0)) as slow:
        config = write_config(tmp_path / "config.json", financial_start="20240101")
        # A DuckDB writer would otherwise wait for the file (database.duckdb_lock_wait_seconds) and then run.
        config.write_text(json.dumps({**json.loads(config.read_text()),
                                      "database": {"duckdb_lock_wait_seconds": 0}}), encoding="utf-8")
        schedule = write_schedule(tmp_path / "schedule.yaml", max_workers=1)
        env = cli_env(database_url, slow.url, TOKEN_5000, config, schedule)
        first = subprocess.Popen(alphahome_command("tushare", "update", "--tasks", "trade_cal,stock_basic,income"),
                                 env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            deadline = time.monotonic() + 60
            while slow.stats.total_calls == 0 and time.monotonic() < deadline:
                time.sleep(0.05)  # the first run holds the lock before its first call
            assert first.poll() is None, "the first run finished too early to test the lock"
            second = run_cli(["tushare", "update", "--tasks", "trade_cal"], env, tmp_path)
            assert second.returncode != 0
            assert "another run is in progress" in second.stderr
            assert f"pid {first.pid}" in second.stderr
            assert first.poll() is None  # the two runs overlapped
        finally:
            slow.faults = FaultConfig()
            _out, err = first.communicate(timeout=120)
        assert first.returncode == 0, err
        assert os.path.exists(tmp_path / "logs" / "update.log")


def test_timeout_minutes_bounds_the_run_and_keeps_what_was_saved(duckdb_url, tmp_path):
    with run_sandbox_in_thread(seed=42, scale="small", end_date=SANDBOX_END) as server:
        # One call at a time, each answered after 1 s: income's ~27 batches would take ~27 s.
        config = write_config(tmp_path / "config.json", financial_start="20200101",
                              extra={"income": {"concurrent_limit": 1}})
        fast = sandbox_settings(duckdb_url, server.url, TOKEN_5000, config)
        first = run_update(fast, UpdateRequest(tasks=("trade_cal", "stock_basic"), today=SANDBOX_END))
        assert first.exit_code == 0
        server.faults = FaultConfig(delay=1.0, delay_seconds=1.0)
        settings = sandbox_settings(duckdb_url, server.url, TOKEN_5000, config,
                                    **{"production.timeout_minutes": 0.05, "production.max_workers": 2})
        started = time.monotonic()
        report = run_update(settings, UpdateRequest(tasks=("income",), today=SANDBOX_END))
        elapsed = time.monotonic() - started
        server.faults = FaultConfig()
    assert report.timed_out and report.exit_code == 1
    assert elapsed < 15  # stopped near the limit (3 s), not after the ~27 s all of income takes
    by_name = {r.dataset: r for r in report.results}
    assert by_name["income"].status in ("partial", "failed")
    assert "timed out" in (by_name["income"].error or "")
    # What an earlier run saved stays untouched.
    assert table_differences(duckdb_url, server.market, ["trade_cal", "stock_basic"]) == {}
