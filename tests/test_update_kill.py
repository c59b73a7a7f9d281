"""Kill the update (SIGKILL) at several points, then run it again: the database equals one clean run's.
After each kill, every partition recorded complete holds exactly its rows (data and state commit together).
Both backends; the update runs as the real ``alphahome tushare update`` command in a subprocess."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import time

import pytest
from conftest import SANDBOX_END
from test_catalogue_sync import CoveredMarket
from test_update_support import (
    CORE_DATASETS,
    alphahome_command,
    cli_env,
    normalised_rows,
    run_cli,
    stored_frame,
    table_differences,
    write_config,
    write_schedule,
)

from alphahome.sandbox.server import run_sandbox_in_thread
from alphahome.sandbox.tokens import TOKEN_5000
from alphahome.storage import bookkeeping as bk
from alphahome.storage import open_backend
from alphahome.tasks.catalogue import CATALOGUE, INDICES

#: The core datasets (the whole catalogue is synced per dataset in test_catalogue_sync.py).
ALL = [spec.name for spec in CATALOGUE if spec.name in CORE_DATASETS]
TASKS = ("--tasks", ",".join(ALL))
#: Kill after the sandbox has answered this many more calls (early: reference data; later: market and
#: financial batches in flight).
KILL_AFTER = (6, 45, 110)


@pytest.fixture(scope="module")
def sandbox():
    with run_sandbox_in_thread(seed=42, scale="small", end_date=SANDBOX_END) as server:
        yield server


def _kill_after_calls(env: dict[str, str], cwd, server, calls: int) -> bool:
    """Start an update and SIGKILL it once the sandbox has answered ``calls`` more calls. Returns whether
    it was killed (False: it finished first)."""
    start = server.stats.total_calls
    proc = subprocess.Popen(alphahome_command("tushare", "update", *TASKS), env=env, cwd=cwd,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 90
    while proc.poll() is None and server.stats.total_calls - start < calls and time.monotonic() < deadline:
        time.sleep(0.005)
    if proc.poll() is not None:
        return False
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    return True


async def _complete_partitions(db_url: str, dataset: str) -> set[str]:
    async with open_backend(db_url) as db:
        return await bk.completed_partitions(db, dataset)


def _assert_complete_partitions_hold_their_rows(db_url: str, market) -> None:
    """For date-partitioned datasets: each complete date holds exactly the truth's rows of that date."""
    for name, column in (("daily", "trade_date"), ("adj_factor", "trade_date"), ("moneyflow", "trade_date")):
        done = asyncio.run(_complete_partitions(db_url, name))
        if not done:
            continue
        stored = asyncio.run(stored_frame(db_url, name))
        truth = market.truth(name)
        keep_stored = stored[stored[column].map(lambda d: d.strftime("%Y%m%d")).isin(done)]
        keep_truth = truth[truth[column].isin(done)]
        assert normalised_rows(keep_stored, name) == normalised_rows(keep_truth, name), name


@pytest.mark.slow
def test_sigkill_at_several_points_then_rerun_equals_one_clean_run(sandbox, database_url, tmp_path):
    config = write_config(tmp_path / "config.json", financial_start="20220101")
    schedule = write_schedule(tmp_path / "schedule.yaml", max_workers=4)
    env = cli_env(database_url, sandbox.url, TOKEN_5000, config, schedule)
    killed = 0
    for calls in KILL_AFTER:
        killed += _kill_after_calls(env, tmp_path, sandbox, calls)
        _assert_complete_partitions_hold_their_rows(database_url, sandbox.market)
    assert killed >= 2, "the update finished before most kill points"
    done = run_cli(["tushare", "update", *TASKS], env, tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    served = set(sandbox.market.truth("index_daily")["ts_code"])
    # Index datasets cover the major indices (the sandbox serves more).
    market = CoveredMarket(sandbox.market, tuple(c for c in INDICES.default if c in served), lambda name: None)
    assert table_differences(database_url, market, ALL) == {}
