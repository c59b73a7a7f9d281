"""AlphaHome on a real Citus cluster (a coordinator and two workers, started by scripts/run_tests.sh).

The same pinned sandbox market is synced into a single PostgreSQL node and into Citus: every raw table equals
the sandbox's truth, tables are placed as docs/scale-out.md says, every PIT table (full and incremental
builds) and every as-of query and SQL function give the single node's answers row for row. Data and sync
state commit together even when a worker fails at commit; a killed sync reruns to one clean run's data; the
run lock holds; ``status`` and ``config show`` name the cluster.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import time
from datetime import date, timedelta
from typing import Any

import asyncpg
import pandas as pd
import pyarrow as pa
import pytest
from test_pit_incremental import _normal, load_batches, table_rows
from test_pit_oracle import generate_raw, load_raw
from test_update_support import (
    alphahome_command,
    cli_env,
    run_cli,
    run_update,
    sandbox_settings,
    table_differences,
    write_config,
    write_schedule,
)

from alphahome.errors import RunLockHeld, StorageError
from alphahome.pit import query as pit_query
from alphahome.pit.builder import PitBuilder
from alphahome.pit.definitions import TARGETS
from alphahome.pit.query import dialect_of
from alphahome.pit.update import run_pit_update
from alphahome.sandbox.market import Market
from alphahome.sandbox.server import run_sandbox_in_thread
from alphahome.sandbox.tokens import TOKEN_5000
from alphahome.storage import bookkeeping as bk
from alphahome.storage import citus, open_backend
from alphahome.tasks.catalogue import table_spec
from alphahome.updater.updater import UpdateRequest

pytestmark = pytest.mark.citus

#: What the PIT tables and queries read (the kill test syncs the whole catalogue).
PIT_INPUTS = ["trade_cal", "stock_basic", "index_classify", "index_member_all", "income", "balancesheet",
              "fina_indicator", "express", "forecast"]
END = date(2025, 6, 30)
#: The small market's statements start two years before its prices (which start two years before END).
FINANCIAL_START = "20210101"
#: Dates the as-of queries are asked at (inside the pinned market's two years).
QUERY_DATES = (date(2024, 4, 30), date(2024, 9, 2), date(2025, 3, 31), END)


@pytest.fixture(scope="module")
def sandbox():
    with run_sandbox_in_thread(Market(seed=42, scale="small", end_date=END)) as server:
        yield server


async def _placements(url: str) -> dict[str, str]:
    """``schema.table`` -> Citus placement: 'distributed', 'reference', or 'local' (on the coordinator)."""
    conn = await asyncpg.connect(url)
    try:
        rows = await conn.fetch(
            "SELECT t.table_schema || '.' || t.table_name AS name, p.partmethod::text AS method "
            "FROM information_schema.tables t LEFT JOIN pg_dist_partition p "
            "ON p.logicalrelid = (quote_ident(t.table_schema) || '.' || quote_ident(t.table_name))::regclass "
            "WHERE (t.table_schema IN ('tushare', 'pit') OR t.table_schema LIKE 'alphahome%') "
            "AND t.table_type = 'BASE TABLE'"
        )
    finally:
        await conn.close()
    kinds = {"h": "distributed", "n": "reference", None: "local"}
    return {r["name"]: kinds[r["method"]] for r in rows}


async def _pit_answers(url: str) -> dict[str, pd.DataFrame]:
    """Every as-of query and SQL function, at several dates, through the public API and plain SQL."""
    out: dict[str, pd.DataFrame] = {}
    async with open_backend(url) as db:
        for table in ("income_quarterly", "balance_quarterly", "financial_indicators"):
            prefix = {"income_quarterly": "income", "balance_quarterly": "balance",
                      "financial_indicators": "indicators"}[table]
            for d in QUERY_DATES:
                out[f"as_of {table} {d}"] = await pit_query.as_of_async(db, table, d)
                out[f"sql {prefix}_as_of {d}"] = await db.fetch_df(f"SELECT * FROM pit.{prefix}_as_of($1)", d)
                period = date(d.year - 1, 12, 31)
                out[f"period_as_of {table} {d}"] = await pit_query.period_as_of_async(db, table, period, d)
                out[f"sql {prefix}_period_as_of {d}"] = await db.fetch_df(
                    f"SELECT * FROM pit.{prefix}_period_as_of($1, $2)", period, d)
        for d in QUERY_DATES:
            # Named fields (the latest report answering them may be an earlier period: the fallback) and a
            # list of stocks (bound values used in both parts of the query).
            out[f"as_of indicators roe {d}"] = await pit_query.as_of_async(db, "indicators", d, fields=["roe"])
            codes = sorted(out[f"as_of income_quarterly {d}"]["ts_code"])[:3]
            out[f"as_of income codes {d}"] = await pit_query.as_of_async(
                db, "income", d, codes=codes, fields=["n_income_attr_p", "revenue_ttm"])
        out["series income"] = await pit_query.series_async(
            db, "income", "revenue_ttm", None, date(2024, 1, 1), date(2024, 12, 31))
        out["series indicators"] = await pit_query.series_async(
            db, "indicators", "roe", None, date(2024, 7, 1), END)
        for d in QUERY_DATES:
            out[f"industry {d}"] = await pit_query.industry_as_of_async(db, d)
            out[f"sql industry_as_of {d}"] = await db.fetch_df("SELECT * FROM pit.industry_as_of($1)", d)
    return out


async def _all_pit_rows(url: str) -> dict[str, pd.DataFrame]:
    async with open_backend(url) as db:
        return {t: await table_rows(db, t) for t in TARGETS}


def _fallbacks(answers: dict[str, pd.DataFrame]) -> int:
    """(date, stock) pairs whose latest report answering ``roe`` is older than its latest report: the
    as-of query's fallback part gave their rows."""
    count = 0
    for d in QUERY_DATES:
        roe = answers[f"as_of indicators roe {d}"].set_index("ts_code")["end_date"]
        latest = answers[f"as_of financial_indicators {d}"].set_index("ts_code")["end_date"]
        both = roe.to_frame("roe").join(latest.to_frame("latest"), how="inner")
        count += int((both["roe"] < both["latest"]).sum())
    return count


def _assert_same_frames(got: dict[str, pd.DataFrame], want: dict[str, pd.DataFrame]) -> None:
    assert got.keys() == want.keys()
    for name in want:
        g, w = got[name], want[name]
        assert len(w) or name.startswith(("sql", "period")), f"{name}: the single node has no rows to compare"
        assert list(g.columns) == list(w.columns), name
        if name.startswith("series"):
            pd.testing.assert_frame_equal(g, w, check_exact=True, obj=name)
        else:
            pd.testing.assert_frame_equal(_normal(g), _normal(w), check_exact=True, obj=name)


#: The first sync counts this day as today: the annual and first-quarter reports announced after it (and
#: the restatements among them) reach the PIT tables through the incremental build after the second sync.
MID = date(2025, 3, 14)


def _pit_state(url: str) -> tuple[dict[str, pd.DataFrame], dict[str, pd.DataFrame]]:
    return asyncio.run(_all_pit_rows(url)), asyncio.run(_pit_answers(url))


def _assert_same_pit(citus_url: str, pg_url: str, when: str) -> None:
    (citus_rows, citus_answers), (single_rows, single_answers) = _pit_state(citus_url), _pit_state(pg_url)
    for target in TARGETS:
        assert len(single_rows[target]) > 0, target
        pd.testing.assert_frame_equal(citus_rows[target], single_rows[target], check_exact=True,
                                      obj=f"{when}: {target}")
    _assert_same_frames(citus_answers, single_answers)
    assert _fallbacks(single_answers) > 0, "no answer came from the as-of query's fallback part"


async def _build_modes(url: str) -> dict[str, set[str]]:
    async with open_backend(url) as db:
        df = await db.fetch_df("SELECT target, mode FROM alphahome.pit_watermark")
    modes: dict[str, set[str]] = {}
    for r in df.itertuples(index=False):
        modes.setdefault(str(r.target), set()).add(str(r.mode))
    return modes


def test_sync_and_pit_on_citus_equal_the_single_node(sandbox, pg_url, citus_url, tmp_path):
    """Sync to MID, full PIT build; sync to END, ``pit update --mode incremental`` (the CLI, with its
    one-hour safety window): after each, every PIT table and answer equals the single node's."""
    config = write_config(tmp_path / "config.json", financial_start=FINANCIAL_START, lookback=0)
    schedule = write_schedule(tmp_path / "schedule.yaml")
    for url in (pg_url, citus_url):
        request = UpdateRequest(today=MID, tasks=tuple(PIT_INPUTS))
        report = run_update(sandbox_settings(url, sandbox.url, TOKEN_5000, config), request)
        assert report.exit_code == 0, [(r.dataset, r.error) for r in report.results if r.status != "success"]
        results = asyncio.run(_pit_full(url))
        assert [r.status for r in results] == ["success"] * len(TARGETS), results

    placed = asyncio.run(_placements(citus_url))
    assert placed["tushare.income"] == placed["tushare.balancesheet"] == placed["pit.income_quarterly"] == "distributed"
    for name in ("trade_cal", "stock_basic", "index_classify", "index_member_all"):
        assert placed[f"tushare.{name}"] == "reference", name
    for name in ("sync_state", "run_history", "run_lock", "pit_watermark"):
        assert placed[f"alphahome.{name}"] == "local", name
    # The safety-window figures are per stock: distributed with the data the drift query joins them with.
    assert placed["alphahome.pit_window"] == "distributed"
    for target in TARGETS:
        for table in ("pit_slice", "pit_drift", "pit_window_new"):
            assert placed[f"alphahome_slice_{target}.{table}"] == "distributed", (target, table)
    _assert_same_pit(citus_url, pg_url, "full build")

    for url in (pg_url, citus_url):
        request = UpdateRequest(today=END, tasks=tuple(PIT_INPUTS))
        report = run_update(sandbox_settings(url, sandbox.url, TOKEN_5000, config), request)
        assert report.exit_code == 0, [(r.dataset, r.error) for r in report.results if r.status != "success"]
        assert table_differences(url, sandbox.market, PIT_INPUTS) == {}
        env = cli_env(url, sandbox.url, TOKEN_5000, config, schedule)
        done = run_cli(["pit", "update", "--mode", "incremental"], env, tmp_path, timeout=300)
        assert done.returncode == 0, done.stdout + done.stderr
        modes = asyncio.run(_build_modes(url))
        # The statements changed in a small share of their slices: really incremental, not a rebuild.
        assert modes["income_quarterly"] == modes["balance_quarterly"] == {"incremental"}, modes
    _assert_same_pit(citus_url, pg_url, "incremental build")


async def _pit_full(url: str) -> list[Any]:
    async with open_backend(url) as db:
        return await run_pit_update(db, list(TARGETS), "full")


async def _incremental_in_step(pg: str, citus: str) -> None:
    """Load the raw versions batch by batch (late restatements last) into both; after each batch an
    incremental build on each must leave the same rows."""
    raw = generate_raw(seed=99, n_stocks=3)
    async with open_backend(pg) as single, open_backend(citus) as cluster:
        builders = [PitBuilder(db, dialect_of(db), margin=timedelta(0), rebuild_share=None)
                    for db in (single, cluster)]
        for b in builders:
            await b.ensure()
        for step, batch in enumerate(load_batches(raw)):
            for db, builder in zip((single, cluster), builders, strict=True):
                await load_raw(db, batch)
                for target in TARGETS:
                    result = await builder.build(target, "incremental")
                    assert result.status in ("success", "current"), result
                    if step > 0 and target != "industry_classification":
                        assert result.mode == "incremental", result
            for target in TARGETS:
                pd.testing.assert_frame_equal(await table_rows(cluster, target), await table_rows(single, target),
                                              check_exact=True, obj=f"after batch {step}: {target}")


def test_incremental_pit_on_citus_equals_the_single_node(pg_url, citus_url):
    asyncio.run(_incremental_in_step(pg_url, citus_url))


async def _worker_fails_at_commit(url: str) -> tuple[int, set[str]]:
    """Write daily rows (shards on both workers) and their sync state (a coordinator table) in one
    transaction; before it commits, end its connections on one worker. Returns what is stored after."""
    spec = table_spec("daily")
    codes = [f"{600000 + i:06d}.SH" for i in range(40)]  # enough stocks to reach shards on both workers
    batch = pa.table({
        "ts_code": codes, "trade_date": [date(2024, 1, 2)] * len(codes),
        **{c: [10.0] * len(codes) for c in ("open", "high", "low", "close")},
    })
    async with open_backend(url) as db:
        await db.ensure_table(spec)
        await bk.ensure_bookkeeping(db)
        worker = await db.fetchval("SELECT nodeport FROM pg_dist_node WHERE groupid <> 0 ORDER BY nodeid LIMIT 1")
        with pytest.raises(StorageError):
            async with db.transaction() as tx:
                await tx.upsert(spec, batch)
                await bk.mark_complete(tx, "daily", ["20240102"], rows=len(codes))
                await _terminate_citus_connections(url, int(worker))
        rows = await db.row_count(spec)
        done = await bk.completed_partitions(db, "daily")
    return rows, done


async def _terminate_citus_connections(url: str, port: int) -> None:
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    worker_url = urlunsplit((parts.scheme, f"{parts.netloc.rpartition('@')[0]}@127.0.0.1:{port}", parts.path, "", ""))
    conn = await asyncpg.connect(worker_url)
    try:
        ended = await conn.fetchval(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid() AND application_name LIKE 'citus_internal%' AND state = 'idle in transaction'"
        )
    finally:
        await conn.close()
    assert ended > 0, "the transaction had no open connection on the worker"


def test_data_and_sync_state_commit_together_when_a_worker_fails(citus_url):
    rows, done = asyncio.run(_worker_fails_at_commit(citus_url))
    assert (rows, done) == (0, set())


#: What the kill test syncs: market tables and statements (distributed), snapshots (reference).
KILL_TASKS = ["trade_cal", "stock_basic", "fund_basic", "daily", "adj_factor", "moneyflow", "income"]
#: The update command on the pinned market: smart mode counting END as today.
UPDATE_ARGS = ("tushare", "update", "--mode", "smart", "--end-date", END.strftime("%Y%m%d"),
               "--tasks", ",".join(KILL_TASKS))


def _kill_after_calls(env: dict[str, str], cwd, server, calls: int) -> bool:
    """Start an update and SIGKILL it once the sandbox answered ``calls`` more calls (False: it finished)."""
    start = server.stats.total_calls
    proc = subprocess.Popen(alphahome_command(*UPDATE_ARGS), env=env, cwd=cwd,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 90
    while proc.poll() is None and server.stats.total_calls - start < calls and time.monotonic() < deadline:
        time.sleep(0.005)
    if proc.poll() is not None:
        return False
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    return True


def test_sigkill_mid_sync_then_rerun_equals_one_clean_run(sandbox, citus_url, tmp_path):
    config = write_config(tmp_path / "config.json", financial_start=FINANCIAL_START)
    schedule = write_schedule(tmp_path / "schedule.yaml", max_workers=4)
    env = cli_env(citus_url, sandbox.url, TOKEN_5000, config, schedule)
    assert _kill_after_calls(env, tmp_path, sandbox, 30), "the update finished before the kill point"
    done = run_cli(list(UPDATE_ARGS), env, tmp_path, timeout=400)
    assert done.returncode == 0, done.stdout + done.stderr
    assert table_differences(citus_url, sandbox.market, KILL_TASKS) == {}
    # Idempotent: one more run changes nothing.
    again = run_cli(list(UPDATE_ARGS), env, tmp_path, timeout=400)
    assert again.returncode == 0, again.stdout + again.stderr
    assert table_differences(citus_url, sandbox.market, KILL_TASKS) == {}
    placed = asyncio.run(_placements(citus_url))
    assert placed["tushare.daily"] == placed["tushare.moneyflow"] == placed["tushare.income"] == "distributed"
    assert placed["tushare.fund_basic"] == "reference"
    # index_weight has no stock column in its key: it stays on the coordinator.
    assert citus.placement(table_spec("index_weight")) == "local"


async def _second_holder(url: str) -> str:
    async with open_backend(url) as first, open_backend(url) as second:
        async with first.run_lock("tushare_update"):
            with pytest.raises(RunLockHeld) as refused:
                async with second.run_lock("tushare_update"):
                    pass
        async with second.run_lock("tushare_update"):  # free again once released
            pass
    return str(refused.value)


def test_run_lock_on_citus(citus_url):
    message = asyncio.run(_second_holder(citus_url))
    assert f"pid {os.getpid()}" in message and "another run is in progress" in message


def test_status_and_config_show_name_the_cluster(citus_url, tmp_path):
    config = write_config(tmp_path / "config.json")
    schedule = write_schedule(tmp_path / "schedule.yaml")
    env = cli_env(citus_url, "http://127.0.0.1:9", TOKEN_5000, config, schedule)
    shown = run_cli(["config", "show", "--format", "json"], env, tmp_path)
    assert shown.returncode == 0, shown.stderr
    document = json.loads(shown.stdout)
    assert document["database"]["kind"] == "citus" and document["database"]["workers"] == 2, document["database"]
    status = run_cli(["status"], env, tmp_path)
    assert status.returncode == 0, status.stderr
    first_line = status.stdout.splitlines()[0]
    assert first_line.startswith("database: Citus ") and "coordinator + 2 workers" in first_line, first_line


def test_citus_on_without_the_extension_is_a_configuration_error(pg_url, tmp_path):
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"database": {"citus": "on"}}), encoding="utf-8")
    schedule = write_schedule(tmp_path / "schedule.yaml")
    env = cli_env(pg_url, "http://127.0.0.1:9", TOKEN_5000, config, schedule)
    done = run_cli(["tushare", "update", "--tasks", "trade_cal"], env, tmp_path)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "database.citus is 'on'" in done.stderr + done.stdout and "no citus extension" in done.stderr + done.stdout
