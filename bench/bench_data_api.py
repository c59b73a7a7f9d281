"""Data API benchmark on the sandbox's large market (5,000 stocks, 10 years): one year of qfq daily bars for
every stock through ``alphahome.data.bars`` (targets: < 1 s DuckDB, < 3 s PostgreSQL) and
``pro.daily(trade_date=D)`` through ``alphahome.pro_api`` (target < 50 ms on both), each beside the same
answer written by hand in pandas over the raw tables (read with plain SELECTs, then merged and scaled in
pandas). The hand-written answers are also compared with the API's, a second oracle at full scale.

    python bench/bench_data_api.py                          # DuckDB only (temp file)
    python bench/bench_data_api.py --pg-url postgresql://user:pass@127.0.0.1:5432/bench   # plus PostgreSQL
    (or ALPHAHOME_BENCH_PG_URL); the PostgreSQL database must exist and may be emptied.

Loading 18M rows takes minutes, so a loaded database can be kept: ``--duck-file PATH`` keeps the DuckDB
file, ``--reuse`` skips the load when the tables already hold the market's row counts, ``--skip-duckdb`` /
``--skip-pg`` time one side only. A persistent PostgreSQL cluster: ``scripts/bench_pg.sh start`` (data in
/work/bench-pg, prints the URL), e.g.::

    URL=$(scripts/bench_pg.sh start)
    python bench/bench_data_api.py --reuse --duck-file /work/bench-duck.duckdb --pg-url "$URL"

Each figure is a median wall time beside the CPU seconds per call of this process (client) and, for
PostgreSQL on this machine, of the server's backends, and the machine's load average: other work on the
box moves the wall times, the CPU figures much less.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from alphahome.data import bars, pro_api
from alphahome.sandbox.market import Market
from alphahome.storage import open_sync
from alphahome.tasks.catalogue import table_spec

END = date(2024, 12, 31)
YEAR = (date(2024, 1, 1), END)


def _server_cpu(db: Any) -> float:
    """CPU seconds used so far by the PostgreSQL server processes on this machine (0 when not visible)."""
    if db.kind != "postgres":
        return 0.0
    try:
        data_dir = db.fetchval("SELECT current_setting('data_directory')")
        postmaster = int(Path(data_dir, "postmaster.pid").read_text().split()[0])
    except (OSError, ValueError, Exception):  # another machine, or no permission: no server figure
        return 0.0
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError):
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[1]) == postmaster:  # a child of the postmaster: a backend or worker
                total += int(fields[11]) + int(fields[12])
    return total / tick


def timed(fn: Callable[[], Any], repeat: int, db: Any = None) -> tuple[float, Any, float, float]:
    """Median wall seconds over ``repeat`` runs (after one warm-up), the last result, and the mean CPU
    seconds per run of this process and of the PostgreSQL server (when ``db`` is one on this machine)."""
    result = fn()
    times = []
    cpu0, server0 = time.process_time(), _server_cpu(db) if db is not None else 0.0
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    client = (time.process_time() - cpu0) / repeat
    server = ((_server_cpu(db) if db is not None else 0.0) - server0) / repeat
    return statistics.median(times), result, client, server


MARKER = "bench.loaded_market"


def loaded(url: str, label: str) -> bool:
    """True when the database holds the market ``label`` a previous run loaded (its marker row, written
    after the load, and the same row counts now) — checked without generating the market."""
    with open_sync(url) as db:
        if not db.table_exists("bench", "loaded_market"):
            return False
        marks = db.fetch_df(f"SELECT name, n FROM {MARKER} WHERE market = $1", label)
        if len(marks) != 3:
            return False
        for name, n in zip(marks["name"], marks["n"], strict=True):
            if not db.table_exists("tushare", name) or db.row_count(f"tushare.{name}") != n:
                return False
    return True


def load(url: str, market: Market, label: str) -> None:
    t0 = time.perf_counter()
    with open_sync(url) as db:
        db.execute("CREATE SCHEMA IF NOT EXISTS bench")
        db.execute(f"CREATE TABLE IF NOT EXISTS {MARKER} (market TEXT, name TEXT, n BIGINT)")
        db.execute(f"DELETE FROM {MARKER}")
        for name in ("daily", "adj_factor", "trade_cal"):
            spec = table_spec(name)
            db.execute(f"DROP TABLE IF EXISTS tushare.{name}")
            db.ensure_table(spec)
            truth = market.truth(name)
            step = 1_000_000
            for i in range(0, len(truth), step):
                db.upsert(spec, truth.iloc[i:i + step], mode="insert")
            print(f"  loaded {name}: {len(truth):,} rows", flush=True)
            db.execute(f"INSERT INTO {MARKER} VALUES ($1, $2, $3)", label, name, len(truth))
        if db.kind == "postgres":
            # What autovacuum does to a synced table in time (hint bits, visibility map, statistics):
            # without it the first reads after the load pay for setting hint bits.
            db.execute("VACUUM (ANALYZE) tushare.daily")
            db.execute("VACUUM (ANALYZE) tushare.adj_factor")
            db.execute("VACUUM (ANALYZE) tushare.trade_cal")
    print(f"  load took {time.perf_counter() - t0:.1f} s", flush=True)


def pandas_qfq(db: Any) -> pd.DataFrame:
    """qfq by hand: the year's daily and adj_factor rows, merged, each stock scaled by its last factor."""
    daily = db.fetch_df("SELECT * FROM tushare.daily WHERE trade_date >= $1 AND trade_date <= $2", *YEAR)
    factors = db.fetch_df("SELECT ts_code, trade_date, adj_factor FROM tushare.adj_factor "
                          "WHERE trade_date >= $1 AND trade_date <= $2", *YEAR)
    ref = factors.sort_values("trade_date").groupby("ts_code")["adj_factor"].last().rename("ref")
    df = daily.merge(factors, on=["ts_code", "trade_date"], how="left").sort_values(["ts_code", "trade_date"])
    df["adj_factor"] = df.groupby("ts_code")["adj_factor"].ffill()
    df = df.join(ref, on="ts_code")
    scale = df["adj_factor"] / df["ref"]
    for col in ("open", "high", "low", "close", "pre_close"):
        df[col] = df[col] * scale
    df["change"] = df["close"] - df["pre_close"]
    df["pct_chg"] = df["change"] / df["pre_close"] * 100
    return df.drop(columns=["adj_factor", "ref", "update_time"], errors="ignore").reset_index(drop=True)


def pandas_daily(db: Any, day: date) -> pd.DataFrame:
    """pro.daily(trade_date=D) by hand: the day's rows, dates as YYYYMMDD text, newest first."""
    df = db.fetch_df("SELECT ts_code, trade_date, open, high, low, close, pre_close, change, pct_chg, vol, amount "
                     "FROM tushare.daily WHERE trade_date = $1", day)
    df["trade_date"] = df["trade_date"].dt.strftime("%Y%m%d")
    return df


def run(label: str, url: str, market: Market, repeat: int, reuse: bool) -> None:
    market_label = f"seed={market.seed} scale={market.scale} end={END}"
    if reuse and loaded(url, market_label):
        print(f"\n{label}: reusing the loaded large market ({url.split('@')[-1]})", flush=True)
    else:
        print(f"\n{label}: loading the large market's daily, adj_factor and trade_cal", flush=True)
        load(url, market, market_label)
    day = END
    with open_sync(url) as db, pro_api(db) as pro:
        load_before = os.getloadavg()[0]
        t_bars, got, c_bars, s_bars = timed(lambda: bars(None, *YEAR, adjust="qfq", db=db), repeat, db)
        t_hand, hand, c_hand, s_hand = timed(lambda: pandas_qfq(db), repeat, db)
        assert len(got) == len(hand), (len(got), len(hand))
        np.testing.assert_allclose(got["close"].to_numpy(), hand["close"].to_numpy(), rtol=1e-12)
        t_pro, one_day, c_pro, s_pro = timed(lambda: pro.daily(trade_date=day.strftime("%Y%m%d")), max(repeat, 10), db)
        t_hand_day, hand_day, _, _ = timed(lambda: pandas_daily(db, day), max(repeat, 10))
        assert len(one_day) == len(hand_day)
    print(f"  bars(all stocks, one year, qfq): {t_bars * 1000:8.0f} ms  ({len(got):,} rows); "
          f"pandas by hand {t_hand * 1000:8.0f} ms  → {t_hand / t_bars:4.1f}× faster")
    print(f"      CPU per call: bars client {c_bars:.2f} s + server {s_bars:.2f} s; "
          f"by hand client {c_hand:.2f} s + server {s_hand:.2f} s")
    print(f"  pro.daily(trade_date={day:%Y%m%d}):   {t_pro * 1000:8.1f} ms  ({len(one_day):,} rows); "
          f"pandas by hand {t_hand_day * 1000:8.1f} ms  → {t_hand_day / t_pro:4.1f}×")
    print(f"      CPU per call: client {c_pro * 1000:.1f} ms + server {s_pro * 1000:.1f} ms")
    print(f"  load average (1 min) {load_before:.2f} before, {os.getloadavg()[0]:.2f} after; "
          f"{os.cpu_count()} CPUs")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", default="large", choices=["small", "demo", "large"])
    parser.add_argument("--pg-url", default=os.environ.get("ALPHAHOME_BENCH_PG_URL"))
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--reuse", action="store_true", help="skip the load when the data is already there")
    parser.add_argument("--duck-file", help="DuckDB file to use and keep (default: a temporary file)")
    parser.add_argument("--skip-duckdb", action="store_true")
    parser.add_argument("--skip-pg", action="store_true")
    args = parser.parse_args()
    market = Market(seed=1, scale=args.scale, end_date=END)
    if not args.skip_duckdb:
        if args.duck_file:
            run("DuckDB", f"duckdb:///{Path(args.duck_file).resolve()}", market, args.repeat, args.reuse)
        else:
            with tempfile.TemporaryDirectory() as tmp:
                run("DuckDB", f"duckdb:///{tmp}/bench.duckdb", market, args.repeat, False)
    if args.pg_url and not args.skip_pg:
        run("PostgreSQL", args.pg_url, market, args.repeat, args.reuse)


if __name__ == "__main__":
    main()
