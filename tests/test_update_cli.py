"""The commands around the update: flags and their spellings, usage errors (exit 2), the dry run (plans,
fetches and writes nothing), manual mode over a range, ``alphahome status`` and ``alphahome tasks``, and the
seed's production wrapper script."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path

import click
import pytest
from conftest import SANDBOX_END, SANDBOX_END_ARG
from test_update_support import (
    cli_env,
    normalised_rows,
    run_cli,
    stored_frame,
    table_differences,
    table_names,
    write_config,
    write_schedule,
)

from alphahome.config.loader import load_settings
from alphahome.sandbox.server import run_sandbox_in_thread
from alphahome.sandbox.tokens import TOKEN_5000
from alphahome.storage import bookkeeping as bk
from alphahome.storage import open_backend
from alphahome.tasks.catalogue import get_dataset
from alphahome.tasks.commands import _states
from alphahome.updater.commands import update_command

ROOT = Path(__file__).resolve().parents[1]
WRAPPER = ROOT / "scripts/production/data_updaters/tushare/tushare_smart_update_production.py"


@pytest.fixture(scope="module")
def sandbox():
    with run_sandbox_in_thread(seed=42, scale="small", end_date=SANDBOX_END) as server:
        yield server


@pytest.fixture
def env_for(sandbox, tmp_path):
    config = write_config(tmp_path / "config.json", financial_start="20250101")
    schedule = write_schedule(tmp_path / "schedule.yaml")

    def make(db_url: str) -> dict[str, str]:
        return cli_env(db_url, sandbox.url, TOKEN_5000, config, schedule)

    return make


@pytest.mark.parametrize("spelling", ["underscore", "hyphen"])
def test_production_flags_accept_both_spellings(spelling):
    sep = "_" if spelling == "underscore" else "-"
    args = ["--workers", "2", f"--max{sep}retries", "4", f"--retry{sep}delay", "1.5", f"--log{sep}level", "debug",
            f"--dry{sep}run", "--tasks", "daily,income", "--tasks", "adj_factor", "--exclude", "forecast",
            f"--start{sep}date", "20240102", f"--end{sep}date", "2024-01-31", "--mode", "manual",
            "--config", "c.json", f"--schedule{sep}config", "s.yaml", "--env", "production"]
    ctx = update_command.make_context("update", args)
    p = ctx.params
    assert (p["workers"], p["max_retries"], p["retry_delay"], p["log_level"], p["dry_run"]) == (2, 4, 1.5, "DEBUG", True)
    assert p["tasks"] == ("daily,income", "adj_factor") and p["exclude"] == ("forecast",)
    assert str(p["start_date"]) == "2024-01-02" and str(p["end_date"]) == "2024-01-31"
    assert (p["mode"], p["config_path"], p["schedule_path"], p["env_name"]) == ("manual", "c.json", "s.yaml", "production")
    with pytest.raises(click.BadParameter, match="not a calendar date"):
        update_command.make_context("update", ["--start-date", "2024-13-45"])


@pytest.mark.parametrize(("args", "message"), [
    (["--tasks", "daily,nosuch"], "unknown dataset(s) nosuch"),
    (["--mode", "manual"], "--mode manual needs --start-date"),
    (["--start-date", "20240301", "--end-date", "20240201"], "is before --start-date"),
    (["--workers", "0"], "--workers"),
])
def test_usage_errors_exit_2_with_one_line(args, message, env_for, duckdb_url, tmp_path):
    done = run_cli(["tushare", "update", *args], env_for(duckdb_url), tmp_path)
    assert done.returncode == 2, done.stdout + done.stderr
    assert message in done.stderr and "Traceback" not in done.stderr
    assert not Path(duckdb_url.removeprefix("duckdb:///")).exists()


def test_dry_run_plans_without_fetching_or_writing(sandbox, env_for, duckdb_url, tmp_path):
    sandbox.stats.reset()
    done = run_cli(["tushare", "update", "--dry-run", "--tasks", "daily,income"], env_for(duckdb_url), tmp_path)
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "Dry run" in out and "nothing is fetched" in out
    for name in ("trade_cal", "daily", "income", "income_vip"):
        assert name in out
    assert "20250331..20" in out  # income's missing periods from the configured start
    assert "calendar not loaded yet" in out and "call(s), about" in out
    assert sandbox.stats.total_calls == 0
    assert not Path(duckdb_url.removeprefix("duckdb:///")).exists()


def test_manual_range_fetches_that_range_and_its_calendar(sandbox, env_for, database_url, tmp_path):
    market = sandbox.market
    days = [d for d in market.day_text if "20250106" <= d <= "20250117"]
    done = run_cli(["tushare", "update", "--tasks", "daily", "--start-date", "20250106", "--end-date", "20250117"],
                   env_for(database_url), tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert table_differences(database_url, market, ["trade_cal"]) == {}  # pulled in as a dependency
    stored = asyncio.run(stored_frame(database_url, "daily"))
    truth = market.truth("daily")
    assert normalised_rows(stored, "daily") == normalised_rows(truth[truth["trade_date"].isin(days)], "daily")

    async def state() -> set[str]:
        async with open_backend(database_url) as db:
            return await bk.completed_partitions(db, "daily")

    assert asyncio.run(state()) == set(days)
    assert set(asyncio.run(table_names(database_url))) >= {"tushare.daily", "tushare.trade_cal",
                                                         "alphahome.sync_state", "alphahome.run_history"}


def test_status_and_tasks_show_tables_and_runs(sandbox, env_for, duckdb_url, tmp_path):
    env = env_for(duckdb_url)
    before = run_cli(["tasks"], env, tmp_path)
    assert before.returncode == 0, before.stderr
    assert "index_member_all" in before.stdout and "does not exist yet" in before.stdout
    done = run_cli(["tushare", "update", "--tasks", "stock_basic,adj_factor"], env, tmp_path)
    assert done.returncode == 0, done.stderr
    status = run_cli(["status"], env, tmp_path)
    assert status.returncode == 0, status.stderr
    listing = run_cli(["tasks"], env, tmp_path)
    assert listing.returncode == 0, listing.stderr
    assert "tushare.adj_factor" in status.stdout and "adj_factor" in listing.stdout

    # What status prints, as data (rich wraps the printed rows at the terminal's width).
    settings = load_settings(None, environ=env).settings
    as_json = run_cli(["status", "--format", "json"], env, tmp_path)
    assert as_json.returncode == 0, as_json.stderr
    rows = {row["table"]: row for row in json.loads(as_json.stdout)["tables"]}
    truth = sandbox.market.truth("adj_factor")
    adj = rows["tushare.adj_factor"]
    assert adj["rows"] == len(truth) and adj["result"] == "success", adj
    assert adj["latest"].replace("-", "") == truth["trade_date"].max() == SANDBOX_END_ARG
    assert rows["tushare.income"]["last_run"] is None
    states, problem = asyncio.run(_states(settings))
    assert problem is None
    # One complete partition per open day of the served calendar from the dataset's start to the pinned
    # end (days before the market's first listing are complete and empty).
    cal = sandbox.market.truth("trade_cal")
    start = get_dataset("adj_factor").start_date
    days = int(((cal["exchange"] == "SSE") & (cal["is_open"] == 1) & (cal["cal_date"] >= start)
                & (cal["cal_date"] <= SANDBOX_END_ARG)).sum())
    assert days == 842  # the pinned market's figure, the same on any day the suite runs
    assert states["adj_factor"].startswith(f"{days:,} partition(s) complete; last run success"), states


def test_production_wrapper_script_runs_the_update(env_for, duckdb_url, tmp_path):
    done = subprocess.run([sys.executable, str(WRAPPER), "--dry_run", "--tasks", "stock_basic"],
                          env=env_for(duckdb_url), cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "stock_basic" in done.stdout and "Dry run" in done.stdout
    help_text = subprocess.run([sys.executable, str(WRAPPER), "--help"], capture_output=True, text=True, timeout=60)
    for flag in ("--workers", "--max_retries", "--retry_delay", "--log_level", "--dry-run"):
        assert flag in help_text.stdout
