"""Sync planning does not depend on timing: on an empty database, ``daily`` (sized by the number of listed
stocks) gets the same windowed plan whether ``stock_basic`` finishes before or after its calendar."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from conftest import SANDBOX_END
from test_update_support import run_update, sandbox_settings, table_differences, write_config

from alphahome.sandbox.server import SandboxServer, run_sandbox_in_thread
from alphahome.sandbox.tokens import TOKEN_5000
from alphahome.tasks.catalogue import get_dataset
from alphahome.tasks.runner import TaskRunner
from alphahome.updater import updater as updater_module
from alphahome.updater.updater import UpdateRequest, select_datasets

TASKS = ("trade_cal", "stock_basic", "daily")


@pytest.fixture(scope="module")
def sandbox() -> Iterator[SandboxServer]:
    with run_sandbox_in_thread(seed=42, scale="small", end_date=SANDBOX_END) as server:
        yield server


def _delaying(slow: str, seconds: float) -> type[TaskRunner]:
    """A TaskRunner that holds back dataset ``slow`` before it starts fetching."""

    class Delayed(TaskRunner):
        async def run(self):  # type: ignore[no-untyped-def]
            if self.spec.name == slow:
                await asyncio.sleep(seconds)
            return await super().run()

    return Delayed


def _daily_requests(sandbox: SandboxServer, db_url: str, tmp_path, monkeypatch, slow: str) -> list[tuple]:
    monkeypatch.setattr(updater_module, "TaskRunner", _delaying(slow, 1.0))
    config = write_config(tmp_path / f"config-{slow}.json")
    settings = sandbox_settings(db_url, sandbox.url, TOKEN_5000, config)
    report = run_update(settings, UpdateRequest(tasks=TASKS, today=SANDBOX_END))
    assert report.exit_code == 0, [(r.dataset, r.error) for r in report.results if r.error]
    assert table_differences(db_url, sandbox.market, TASKS) == {}
    plan = next(p for p in report.plans if p.dataset == "daily")
    return [tuple(sorted(r.items())) for b in plan.batches for r in b.requests]


@pytest.mark.slow
def test_daily_plan_is_the_same_whichever_dependency_finishes_first(sandbox, tmp_path, monkeypatch):
    # stock_basic last: daily's calendar is ready first, and daily must still wait for the stock count.
    stock_list_last = _daily_requests(sandbox, f"duckdb:///{tmp_path / 'a.duckdb'}", tmp_path, monkeypatch,
                                      slow="stock_basic")
    # The calendar last: the stock list is stored before daily can plan.
    calendar_last = _daily_requests(sandbox, f"duckdb:///{tmp_path / 'b.duckdb'}", tmp_path, monkeypatch,
                                    slow="trade_cal")
    assert stock_list_last == calendar_last
    # The fast plan: date windows sized from the stock count, not one call per trading day.
    days = sandbox.market.truth("daily")["trade_date"].nunique()
    assert len(stock_list_last) * 10 < days, (len(stock_list_last), days)
    assert all("start_date" in dict(r) for r in stock_list_last)


def test_stock_sized_datasets_wait_for_the_stock_list_in_the_run():
    from alphahome.config.settings import Settings

    tasks = {t.spec.name: t for t in select_datasets(Settings(), UpdateRequest(tasks=TASKS))}
    assert "stock_basic" in tasks["daily"].waits_for
    assert tasks["daily"].spec.rows_per_date == "stocks" and "stock_basic" not in get_dataset("daily").depends_on
    # Not in the run: nothing to wait for (the stock list's absence is not a failure of daily's).
    alone = {t.spec.name: t for t in select_datasets(Settings(), UpdateRequest(tasks=("daily",)))}
    assert alone["daily"].waits_for == ("trade_cal",)
