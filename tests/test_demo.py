"""``alphahome demo``: starts the sandbox in-process, fills a DuckDB file completely, prints the summary."""

from __future__ import annotations

import subprocess
import sys

from test_update_support import table_differences

from alphahome.sandbox.market import Market
from alphahome.tasks.catalogue import CATALOGUE


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
    assert "22 task(s): 22 success" in out
    assert target.exists() and (tmp_path / "demo" / "logs" / "demo_update.log").exists()
    market = Market(seed=42, scale="small")
    assert table_differences(f"duckdb:///{target}", market, [s.name for s in CATALOGUE]) == {}
