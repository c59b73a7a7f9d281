"""Event and versioned datasets end to end against the sandbox, on DuckDB and PostgreSQL:

* ``dividend`` is selected by announcement day: a ranged run stores exactly the rows proposed
  (``ann_date``) or implemented (``imp_ann_date``) in the window, whatever their report period (FY plans
  proposed the next year, Q1 and Q3 plans, implementations of older plans, plans without an ann_date); the
  whole history goes per report period, and a later smart run asks only new days and open plans.
* ``fund_nav`` keeps a corrected NAV as a second version (same nav_date, later ann_date, update_flag '1'
  and '0' on the NAV it supersedes), through a sync and a re-sync.
* PostgreSQL: a table made with the old, narrower key is migrated to the wider one in place; a key change
  that is not a widening stops with an error naming the table and the fix.
"""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import date, timedelta

import pandas as pd
import pytest
from conftest import SANDBOX_END
from test_update_support import (
    normalised_rows,
    sandbox_settings,
    stored_frame,
    table_differences,
    write_config,
)
from test_update_support import run_update as run_update_at

from alphahome.sandbox.server import run_sandbox_in_thread
from alphahome.sandbox.tokens import TOKEN_5000
from alphahome.storage import open_backend
from alphahome.tasks.catalogue import get_dataset
from alphahome.tasks.planner import ymd
from alphahome.updater.updater import UpdateRequest

DIVIDEND = get_dataset("dividend")
#: A quota "minute" lasts 1.2 s, on the server and in the client's limiter alike (a ranged dividend run is
#: two calls per day).
TIME_SCALE = 0.02


@pytest.fixture(scope="module")
def sandbox():
    with run_sandbox_in_thread(seed=42, scale="small", end_date=SANDBOX_END, time_scale=TIME_SCALE) as server:
        yield server


def run_update(settings, request):  # type: ignore[no-untyped-def]
    return run_update_at(settings, request, limiter_time_scale=TIME_SCALE)


def _announced_in(frame: pd.DataFrame, first: date, last: date) -> pd.DataFrame:
    """Rows proposed or implemented from ``first`` to ``last`` (what a ranged run must store)."""
    lo, hi = ymd(first), ymd(last)
    inside = [frame[c].notna() & (frame[c].astype(str) >= lo) & (frame[c].astype(str) <= hi)
              for c in DIVIDEND.shape.date_params]  # type: ignore[attr-defined]
    return frame[pd.concat(inside, axis=1).any(axis=1)].reset_index(drop=True)


def _stored(db_url: str, dataset: str) -> list[tuple[object, ...]]:
    return normalised_rows(asyncio.run(stored_frame(db_url, dataset)), dataset)


def test_a_ranged_dividend_run_stores_what_was_announced_in_the_window(sandbox, database_url, tmp_path):
    first, last = date(2024, 1, 1), date(2025, 6, 30)
    truth = sandbox.market.truth("dividend")
    expected = _announced_in(truth, first, last)
    # The window's rows come from every kind of period and stage: FY2023 plans proposed in 2024, Q1 and Q3
    # plans, implementations announced in the window of plans proposed before it.
    assert {"0331", "0930", "1231"} <= set(expected["end_date"].str[4:])
    assert (expected["end_date"] == "20231231").any()
    older = expected[(expected["ann_date"].isna()) | (expected["ann_date"] < ymd(first))]
    assert len(older) and set(older["div_proc"]) == {"实施"}
    # What a per-period range would have taken instead: plans of the window's periods, however announced.
    by_period = truth[(truth["end_date"] >= ymd(first)) & (truth["end_date"] <= ymd(last))]
    assert len(by_period) != len(expected)

    settings = sandbox_settings(database_url, sandbox.url, TOKEN_5000, write_config(tmp_path / "config.json"))
    request = UpdateRequest(mode="manual", tasks=("dividend",), start=first, end=last, today=SANDBOX_END)
    sandbox.stats.reset()
    report = run_update(settings, request)
    assert [(r.dataset, r.status) for r in report.results] == [("dividend", "success")]
    days = (last - first).days + 1
    assert sandbox.stats.ok["dividend"] == 2 * days  # ann_date and imp_ann_date per day, one page each
    assert _stored(database_url, "dividend") == normalised_rows(expected, "dividend")
    # Again: the same rows, nothing lost or doubled.
    assert run_update(settings, request).exit_code == 0
    assert _stored(database_url, "dividend") == normalised_rows(expected, "dividend")


def test_dividend_history_goes_per_period_then_smart_runs_ask_new_days_and_open_plans(sandbox, database_url, tmp_path):
    settings = sandbox_settings(database_url, sandbox.url, TOKEN_5000, write_config(tmp_path / "config.json"))
    request = UpdateRequest(tasks=("dividend",), today=SANDBOX_END)
    sandbox.stats.reset()
    assert run_update(settings, request).exit_code == 0
    periods = (SANDBOX_END.year - 2003 + 1) * 4 - 2  # 2003Q1 .. 2025Q2, from two years before 20050101
    assert sandbox.stats.ok["dividend"] == periods
    truth = sandbox.market.truth("dividend")
    assert table_differences(database_url, sandbox.market, ["dividend"]) == {}  # every row, NULL ann_dates too
    assert truth["ann_date"].isna().any()

    # Next run: the look-back days, and once each the report periods of plans not yet carried out.
    since = ymd(SANDBOX_END - timedelta(days=DIVIDEND.open_days))
    recent = truth[truth["ann_date"].notna() & (truth["ann_date"] >= since)]
    stages = recent.groupby(["ts_code", "end_date", "ann_date"])["div_proc"].agg(set)
    open_periods = {period for (_, period, _), s in stages.items() if "实施" not in s}
    lookback = [ymd(SANDBOX_END - timedelta(days=i)) for i in range(DIVIDEND.lookback_days)]
    assert open_periods
    sandbox.stats.reset()
    assert run_update(settings, request).exit_code == 0
    assert sandbox.stats.ok["dividend"] == 2 * len(lookback) + len(open_periods)
    assert table_differences(database_url, sandbox.market, ["dividend"]) == {}


def _revised(frame: pd.DataFrame) -> pd.DataFrame:
    """NAVs published twice (the first and the corrected version)."""
    return frame[frame.duplicated(["ts_code", "nav_date"], keep=False)]


def test_fund_nav_keeps_both_versions_of_a_corrected_nav(sandbox, database_url, tmp_path):
    truth = sandbox.market.truth("fund_nav")
    revised = _revised(truth)
    assert len(revised) >= 10
    for _, pair in revised.groupby(["ts_code", "nav_date"]):
        old, new = pair.sort_values("ann_date").itertuples(index=False)
        assert old.ann_date < new.ann_date and (old.update_flag, new.update_flag) == ("0", "1")
        assert old.unit_nav != new.unit_nav
    settings = sandbox_settings(database_url, sandbox.url, TOKEN_5000, write_config(tmp_path / "config.json"))
    assert run_update(settings, UpdateRequest(tasks=("fund_nav",), today=SANDBOX_END)).exit_code == 0
    assert table_differences(database_url, sandbox.market, ["fund_nav"]) == {}
    # A re-sync of a window holding corrected NAVs (every nav_date asked again) keeps both versions.
    days = sorted(revised["nav_date"].unique())
    first, last = (date(int(d[:4]), int(d[4:6]), int(d[6:])) for d in (days[len(days) // 3], days[-1]))
    report = run_update(settings, UpdateRequest(mode="manual", tasks=("fund_nav",), start=first, end=last,
                                                today=SANDBOX_END))
    assert {r.dataset: r.status for r in report.results}["fund_nav"] == "success"
    assert table_differences(database_url, sandbox.market, ["fund_nav"]) == {}
    stored = asyncio.run(stored_frame(database_url, "fund_nav"))
    assert len(_revised(stored)) == len(revised)


async def _make_table(db_url: str, key: tuple[str, ...]) -> None:
    """``tushare.fund_nav`` as an older AlphaHome made it, keyed on ``key``."""
    old = dataclasses.replace(get_dataset("fund_nav"), key=key, nullable_key=())
    async with open_backend(db_url) as db:
        await db.ensure_table(old.table_spec())


async def _key_columns(db_url: str) -> list[list[str]]:
    async with open_backend(db_url) as db:
        rows = await db.fetch_arrow(
            "SELECT array_agg(a.attname::text ORDER BY k.ord) AS cols FROM pg_constraint c "
            "CROSS JOIN LATERAL unnest(c.conkey) WITH ORDINALITY AS k(attnum, ord) "
            "JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.attnum "
            "WHERE c.conrelid = 'tushare.fund_nav'::regclass AND c.contype IN ('p', 'u') GROUP BY c.conname")
    return [list(c) for c in rows.column(0).to_pylist()]


def test_postgres_widens_the_old_fund_nav_key_in_place(sandbox, pg_url, tmp_path):
    asyncio.run(_make_table(pg_url, ("ts_code", "nav_date")))
    assert asyncio.run(_key_columns(pg_url)) == [["ts_code", "nav_date"]]
    settings = sandbox_settings(pg_url, sandbox.url, TOKEN_5000, write_config(tmp_path / "config.json"))
    assert run_update(settings, UpdateRequest(tasks=("fund_nav",), today=SANDBOX_END)).exit_code == 0
    assert asyncio.run(_key_columns(pg_url)) == [["ts_code", "nav_date", "ann_date"]]
    assert table_differences(pg_url, sandbox.market, ["fund_nav"]) == {}


def test_postgres_refuses_a_key_change_that_is_not_a_widening(sandbox, pg_url, tmp_path):
    asyncio.run(_make_table(pg_url, ("ts_code", "nav_date", "accum_nav")))
    settings = sandbox_settings(pg_url, sandbox.url, TOKEN_5000, write_config(tmp_path / "config.json"))
    report = run_update(settings, UpdateRequest(tasks=("fund_nav",), today=SANDBOX_END))
    result = {r.dataset: r for r in report.results}["fund_nav"]
    assert result.status == "failed"
    assert "tushare.fund_nav" in (result.error or "") and "RENAME TO" in (result.error or "")
    assert asyncio.run(_key_columns(pg_url)) == [["ts_code", "nav_date", "accum_nav"]]
