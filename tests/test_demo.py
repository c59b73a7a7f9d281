"""``alphahome demo``: starts the sandbox in-process, fills a DuckDB file completely, prints the summary."""

from __future__ import annotations

import asyncio
import datetime as dt
import subprocess
import sys
from datetime import timedelta

import pytest
from test_catalogue_sync import CoveredMarket
from test_update_support import table_differences

from alphahome.demo import DEMO_PER_DATE_DAYS
from alphahome.sandbox.market import Market
from alphahome.storage import bookkeeping as bk
from alphahome.storage import open_backend
from alphahome.tasks.catalogue import CATALOGUE, DATASETS, INDICES


async def _demo_outcome(db_url: str) -> tuple[dict[str, str], dt.date]:
    """Each Tushare task's latest run status, and the last stored trading day (the market's end)."""
    async with open_backend(db_url) as db:
        runs = await bk.last_runs(db, kind="tushare")
        last_day = await db.fetchval('SELECT max("trade_date") FROM "tushare"."daily"')
    return dict(zip(runs["task"], runs["status"], strict=True)), last_day


@pytest.mark.slow
def test_demo_fills_a_duckdb_file_with_the_whole_market(tmp_path):
    target = tmp_path / "demo" / "demo.duckdb"
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}  # no user config, no token, no database URL
    done = subprocess.run(
        [sys.executable, "-c", "from alphahome.cli import main; main()", "demo", "--path", str(target),
         "--scale", "small"],
        env=env, cwd=tmp_path, capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    # Rich wraps long lines at the terminal's width: assert on what the demo stored, not on its text.
    assert "sandbox listening on http://127.0.0.1:" in done.stdout
    assert target.exists() and (tmp_path / "demo" / "logs" / "demo_update.log").exists()
    db_url = f"duckdb:///{target}"
    statuses, last_day = asyncio.run(_demo_outcome(db_url))
    assert statuses == {s.name: "success" for s in CATALOGUE}
    # The demo's market ends on the day it ran: rebuild that market from the stored last trading day
    # (not from today's date, which may have moved on since).
    last_day = last_day if isinstance(last_day, dt.date) else dt.date.fromisoformat(str(last_day)[:10])
    market = Market(seed=42, scale="small", end_date=last_day)
    # Per-date APIs are synced over the last DEMO_PER_DATE_DAYS days; index datasets cover the major indices.
    recent = (market.end_date - timedelta(days=DEMO_PER_DATE_DAYS)).strftime("%Y%m%d")
    served = set(market.truth("index_daily")["ts_code"])
    covered = CoveredMarket(market, tuple(c for c in INDICES.default if c in served),
                            lambda name: recent if DATASETS[name].shape.one_call_per_date else None)
    assert table_differences(db_url, covered, [s.name for s in CATALOGUE]) == {}
