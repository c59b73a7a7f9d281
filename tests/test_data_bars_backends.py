"""``bars`` on PostgreSQL (plain scans in one snapshot, joined client-side) gives exactly what DuckDB gives
(its single-statement SQL) and what the server-side SQL join gives, on a sandbox market with factor rows
taken out (days that need Tushare's fill, inside the range and before its first day)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from conftest import SANDBOX_END

from alphahome.data import bars
from alphahome.data.price_bars import _adjusted, _bars_sql
from alphahome.sandbox.market import Market
from alphahome.storage import open_sync
from alphahome.tasks.catalogue import table_spec

START, END = dt.date(2024, 7, 1), dt.date(2025, 3, 31)


@pytest.fixture(scope="module")
def market_rows() -> tuple[pd.DataFrame, pd.DataFrame]:
    """The small market's daily and adj_factor, with factor rows removed where the fill must work."""
    market = Market(seed=1, scale="small", end_date=SANDBOX_END)
    daily, factors = market.truth("daily"), market.truth("adj_factor")
    codes = sorted(daily["ts_code"].unique())
    day = pd.to_datetime(factors["trade_date"], format="%Y%m%d").dt.date
    # Three stocks lose their factor rows of the range's first week (the fill reaches before START),
    # and one in fifty rows goes everywhere (the fill stays inside the range).
    first_week = factors["ts_code"].isin(codes[:3]) & (day >= START) & (day < START + dt.timedelta(days=7))
    sparse = np.random.default_rng(7).random(len(factors)) < 0.02
    return daily, factors[~(first_week | sparse)].reset_index(drop=True)


def _load(url: str, daily: pd.DataFrame, factors: pd.DataFrame) -> None:
    with open_sync(url) as db:
        for name, rows in (("daily", daily), ("adj_factor", factors)):
            spec = table_spec(name)
            db.ensure_table(spec)
            db.upsert(spec, rows, mode="insert")


CALLS = [
    dict(codes=None, start=START, end=END, adjust="qfq"),
    dict(codes=None, start=START, end=END, adjust="hfq"),
    dict(codes=None, start=START, end=END, adjust="qfq", anchor=dt.date(2024, 1, 15)),
    dict(codes=None, start=START, end=END, adjust="qfq", anchor=dt.date(2025, 6, 30)),
    dict(codes=None, start=START, end=END, adjust=None, adj_factor=True),
    dict(codes=None, start=START, end=END, adjust="qfq", freq="W"),
    dict(codes=None, start=START, end=END, adjust="hfq", freq="M", digits=2),
    dict(codes="000540.SZ,001151.SZ", start=START, end=END, adjust="qfq"),
    dict(codes=["NOPE.SZ"], start=START, end=END, adjust="qfq"),
    dict(codes=None, start=dt.date(2030, 1, 1), end=dt.date(2030, 2, 1), adjust="hfq"),
]


@pytest.mark.parametrize("call", CALLS, ids=lambda c: "-".join(f"{k}={v}" for k, v in c.items() if v))
def test_postgres_bars_equal_duckdb_bars(call, market_rows, duckdb_url, pg_url):
    daily, factors = market_rows
    _load(duckdb_url, daily, factors)
    _load(pg_url, daily, factors)
    args = {k: v for k, v in call.items() if k not in ("codes", "start", "end")}
    on_duckdb = bars(call["codes"], call["start"], call["end"], db=duckdb_url, **args)
    on_postgres = bars(call["codes"], call["start"], call["end"], db=pg_url, **args)
    pd.testing.assert_frame_equal(on_postgres, on_duckdb, check_exact=True)
    if call["codes"] is None and call["start"] == START and "freq" not in call and "anchor" not in call:
        # Not vacuous: thousands of bars, nearly all with prices (NaN only where the drop above took a
        # listing day's factor: no factor on or before the day, so no price by the rule; with an early
        # anchor, stocks listed after it have no reference factor either).
        assert len(on_postgres) > 3000 and on_postgres["close"].notna().mean() > 0.99


def test_postgres_bars_equal_the_server_side_join(market_rows, pg_url):
    """The client-side join returns what the single SQL statement (a server hash join) returns."""
    daily, factors = market_rows
    _load(pg_url, daily, factors)
    with open_sync(pg_url) as db:
        for adjust, anchor in (("qfq", None), ("qfq", dt.date(2024, 9, 2)), ("hfq", None)):
            sql = _bars_sql("postgres", START, END, None, adjust, anchor, False)
            joined = db.fetch_arrow(*sql).sort_by([("ts_code", "ascending"), ("trade_date", "ascending")])
            want = _adjusted(joined, adjust, None).drop_columns(["adj_factor"]).to_pandas(date_as_object=False)
            got = bars(None, START, END, adjust=adjust, anchor=anchor, db=db)
            pd.testing.assert_frame_equal(got, want, check_exact=True)


def test_read_snapshot_connections_share_one_state(pg_url):
    """Statements of one read snapshot run on separate connections yet see one state: a row committed
    meanwhile by another session is in none of them (and JIT is off inside)."""
    with open_sync(pg_url) as db, open_sync(pg_url) as writer:
        db.execute("CREATE TABLE snap_probe (x int)")
        db.execute("INSERT INTO snap_probe VALUES (1)")
        with db.read_snapshot(connections=2) as snap:
            writer.execute("INSERT INTO snap_probe VALUES (2)")
            probe = "SELECT count(*)::int4 AS n, pg_backend_pid() AS pid, current_setting('jit') AS jit FROM snap_probe"
            a, b = snap.fetch_arrow_all([(probe, []), (probe, [])])
            assert a.column("n").to_pylist() == b.column("n").to_pylist() == [1]
            assert a.column("pid").to_pylist() != b.column("pid").to_pylist()  # two connections
            assert a.column("jit").to_pylist() == b.column("jit").to_pylist() == ["off"]
            with pytest.raises(Exception, match="read-only"):
                snap.fetchval("INSERT INTO snap_probe VALUES (3) RETURNING x")
        assert db.fetchval("SELECT count(*) FROM snap_probe") == 2


@pytest.mark.citus
def test_citus_bars_equal_duckdb_bars(market_rows, duckdb_url, citus_url):
    """On a Citus coordinator (tables distributed by ts_code) the same plain statements give the same bars."""
    daily, factors = market_rows
    _load(duckdb_url, daily, factors)
    _load(citus_url, daily, factors)
    for args in (dict(adjust="qfq"), dict(adjust="hfq"), dict(adjust="qfq", anchor=dt.date(2024, 9, 2))):
        on_duckdb = bars(None, START, END, db=duckdb_url, **args)
        on_citus = bars(None, START, END, db=citus_url, **args)
        pd.testing.assert_frame_equal(on_citus, on_duckdb, check_exact=True)


def test_postgres_bars_with_a_one_connection_pool(market_rows, pg_url):
    """A pool of one connection reads the snapshot on that one (never waits for a second)."""
    daily, factors = market_rows
    _load(pg_url, daily, factors)
    with open_sync(pg_url) as wide, open_sync(pg_url, {"min_size": 1, "max_size": 1}) as narrow:
        with narrow.read_snapshot(connections=2) as snap:
            pids = snap.fetch_arrow_all([("SELECT pg_backend_pid() AS pid", []), ("SELECT pg_backend_pid() AS pid", [])])
            assert pids[0].equals(pids[1])
        pd.testing.assert_frame_equal(bars(None, START, END, adjust="qfq", db=narrow),
                                      bars(None, START, END, adjust="qfq", db=wide), check_exact=True)
