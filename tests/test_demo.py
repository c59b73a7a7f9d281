"""``alphahome demo``: starts the sandbox in-process, fills a DuckDB file completely, prints the summary."""

from __future__ import annotations

import subprocess
import sys
from datetime import timedelta

from test_catalogue_sync import CoveredMarket
from test_update_support import table_differences

from alphahome.demo import DEMO_PER_DATE_DAYS
from alphahome.sandbox.market import Market
from alphahome.tasks.catalogue import CATALOGUE, DATASETS, INDICES


def test_demo_fills_a_duckdb_file_with_the_whole_market(tmp_path):
    target = tmp_path / "demo" / "demo.duckdb"
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}  # no user config, no token, no database URL
    done = subprocess.run(
        [sys.executable, "-c", "from alphahome.cli import main; main()", "demo", "--path", str(target),
         "--scale", "small"],
        env=env, cwd=tmp_path, capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    out = done.stdout
    assert str(target) in out and "sandbox listening on http://127.0.0.1:" in out
    assert f"{len(CATALOGUE)} task(s): {len(CATALOGUE)} success" in out
    assert target.exists() and (tmp_path / "demo" / "logs" / "demo_update.log").exists()
    market = Market(seed=42, scale="small")
    # Per-date APIs are synced over the last DEMO_PER_DATE_DAYS days; index datasets cover the major indices.
    recent = (market.end_date - timedelta(days=DEMO_PER_DATE_DAYS)).strftime("%Y%m%d")
    served = set(market.truth("index_daily")["ts_code"])
    covered = CoveredMarket(market, tuple(c for c in INDICES.default if c in served),
                            lambda name: recent if DATASETS[name].shape.one_call_per_date else None)
    assert table_differences(f"duckdb:///{target}", covered, [s.name for s in CATALOGUE]) == {}
