"""PIT benchmark at the sandbox's large scale: full build time, the as-of cross-section of every stock at
one date (target < 100 ms), and a one-year daily panel of one field for every stock (target < 2 s), on
DuckDB and PostgreSQL, each against a straightforward pandas implementation over the same raw versions.

The raw truth of the synthetic market is loaded straight through the storage upsert (no HTTP). The pandas
answers are also compared with the SQL answers, a second oracle at full scale.

    python bench/bench_pit.py                               # DuckDB only (temp file)
    python bench/bench_pit.py --pg-url postgresql://user:pass@127.0.0.1:5432/bench    # plus PostgreSQL
    (or ALPHAHOME_BENCH_PG_URL); the PostgreSQL database must exist and may be emptied.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from alphahome.pit import query as pq
from alphahome.pit.builder import PitBuilder, expand_targets
from alphahome.pit.definitions import TARGETS
from alphahome.pit.query import dialect_of

RAW = ("income", "balancesheet", "express", "forecast", "fina_indicator", "index_member_all", "trade_cal")
FIELD = "n_income_attr_p"


# ---------------------------------------------------------------------------------------------------------
# the straightforward pandas implementation (income: n_income_attr_p, its single quarter and TTM)


def pandas_versions(raw: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Every income version of net income attributable to the parent: ts_code, end_date, k, prio, value."""
    def dates(s: pd.Series) -> pd.Series:
        return pd.to_datetime(s, format="%Y%m%d", errors="coerce")

    inc = raw["income"]
    inc = inc[inc["report_type"].astype(str) == "1"]
    parts = [pd.DataFrame({
        "ts_code": inc["ts_code"], "end_date": dates(inc["end_date"]),
        "k": dates(inc["f_ann_date"]).fillna(dates(inc["ann_date"])), "rank": 1,
        "flag": (inc["update_flag"].astype(str) == "1").astype(int),
        "value": pd.to_numeric(inc[FIELD], errors="coerce")})]
    fc = raw["forecast"]
    parts.append(pd.DataFrame({
        "ts_code": fc["ts_code"], "end_date": dates(fc["end_date"]), "k": dates(fc["ann_date"]), "rank": 3,
        "flag": (fc["update_flag"].astype(str) == "1").astype(int),
        "value": (pd.to_numeric(fc["net_profit_min"], errors="coerce")
                  + pd.to_numeric(fc["net_profit_max"], errors="coerce")) * 5000.0}))
    ex = raw["express"]  # express has no n_income_attr_p: a version without a value (it still counts)
    parts.append(pd.DataFrame({
        "ts_code": ex["ts_code"], "end_date": dates(ex["end_date"]), "k": dates(ex["ann_date"]), "rank": 2,
        "flag": 1, "value": np.nan}))
    v = pd.concat(parts, ignore_index=True)
    v = v[v["k"].notna() & v["end_date"].dt.is_quarter_end]
    v["prio"] = (v["k"] - pd.Timestamp("1900-01-01")).dt.days * 8 + (3 - v["rank"]) * 2 + v["flag"]
    return v.sort_values(["prio", "value"]).reset_index(drop=True)


def pandas_as_of(v: pd.DataFrame, day: pd.Timestamp) -> pd.DataFrame:
    """ts_code, end_date, value, sq, ttm of each stock's latest period known at ``day`` with a value (the
    latest-report rule for a query of this one field)."""
    known = v[v["k"] <= day]
    state = known.groupby(["ts_code", "end_date"], sort=False)["value"].last()  # last non-NaN = winner
    periods = state[state.notna()].reset_index()[["ts_code", "end_date"]]
    latest = periods.groupby("ts_code")["end_date"].max()
    out = latest.rename("end_date").reset_index()

    def value_at(end: pd.Series) -> np.ndarray:
        idx = pd.MultiIndex.from_arrays([out["ts_code"], end])
        return state.reindex(idx).to_numpy()

    ends = [out["end_date"] - pd.offsets.QuarterEnd(i) if i else out["end_date"] for i in range(5)]
    vals = [value_at(e) for e in ends]
    sq = [np.where(ends[i].dt.month == 3, vals[i], vals[i] - vals[i + 1]) for i in range(4)]
    out["value"], out["sq"], out["ttm"] = vals[0], sq[0], sq[0] + sq[1] + sq[2] + sq[3]
    return out


def pandas_series(v: pd.DataFrame, days: pd.DatetimeIndex) -> pd.DataFrame:
    """The one-year panel the straightforward way: the as-of cross-section of every trading day."""
    cols = {day: pandas_as_of(v, day).set_index("ts_code")["ttm"] for day in days}
    return pd.DataFrame(cols).T


# ---------------------------------------------------------------------------------------------------------


async def load_and_build(url: str, raw: dict[str, pd.DataFrame]) -> dict[str, float]:
    from alphahome.storage import open_backend
    from alphahome.tasks.catalogue import table_spec

    times: dict[str, float] = {}
    async with open_backend(url) as backend:
        for schema in ("pit", "tushare"):
            await backend.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        await backend.execute('DROP TABLE IF EXISTS alphahome.pit_watermark')
        await backend.execute('DROP TABLE IF EXISTS alphahome.pit_window')
        t0 = time.perf_counter()
        for name in RAW:
            spec = table_spec(name)
            await backend.ensure_table(spec)
            await backend.upsert(spec, raw[name])
        times["load raw (upsert)"] = time.perf_counter() - t0
        builder = PitBuilder(backend, dialect_of(backend))
        await builder.ensure()
        t0 = time.perf_counter()
        for target in expand_targets(list(TARGETS)):
            result = await builder.build(target, "full")
            if result.status != "success":
                raise SystemExit(f"{target} failed: {result.error}")
            times[f"build {target}"] = result.seconds
        times["build total"] = time.perf_counter() - t0
        # A day's worth of news: 200 stocks restate their latest income statement (new versions).
        inc = raw["income"]
        news = inc[inc["report_type"].astype(str) == "1"].sort_values("end_date").groupby("ts_code").tail(1)
        news = news.sample(n=min(200, len(news)), random_state=1).copy()
        news["f_ann_date"] = "20241231"
        news["revenue"] = pd.to_numeric(news["revenue"], errors="coerce") * 1.01
        await backend.upsert(table_spec("income"), news)
        # Everything was loaded within the safety margin: the build must still redo only the news.
        t0 = time.perf_counter()
        slices = 0
        for target in expand_targets(list(TARGETS)):
            result = await builder.build(target, "incremental")
            slices += result.slices
        times[f"incremental: {len(news)} restatements ({slices} slices)"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        for target in expand_targets(list(TARGETS)):
            result = await builder.build(target, "incremental")
            assert result.status == "current", result
        times["incremental: nothing changed"] = time.perf_counter() - t0
    return times


def interval_lookup(db, day: date, columns: list[str]) -> pd.DataFrame:
    """The as-of query before the latest-report rule took the fields into account: one interval look-up
    (each stock's latest period with any version). Timed beside as_of as the baseline."""
    dialect = dialect_of(db)
    cols = ", ".join(f'"{c}"' for c in ["ts_code", "end_date", "knowledge_date", *columns])
    return db.fetch_df(
        f"SELECT {cols} FROM pit.income_quarterly WHERE latest_from IS NOT NULL AND "
        f"{dialect.covers('latest_from', 'latest_to', '$1')} ORDER BY ts_code", day)


def timed(fn, repeat: int) -> tuple[float, object]:
    samples, result = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        samples.append(time.perf_counter() - t0)
    return statistics.median(samples), result


def bench_backend(label: str, url: str, raw: dict[str, pd.DataFrame], v: pd.DataFrame, day: date,
                  start: date, end: date, pandas_figures: dict[str, float]) -> None:
    from alphahome.storage import open_sync

    print(f"\n== {label}")
    times = asyncio.run(load_and_build(url, raw))
    for name, seconds in times.items():
        print(f"  {name:<38} {seconds:8.2f} s")
    with open_sync(url) as db:
        pq.as_of("income", day, db=db)  # warm
        all_columns = pq.output_columns("income_quarterly", None)
        t_base, _ = timed(lambda: interval_lookup(db, day, all_columns), 9)
        t_as_of, cross = timed(lambda: pq.as_of("income", day, db=db), 9)
        t_base_one, _ = timed(lambda: interval_lookup(db, day, pq.output_columns("income_quarterly", [FIELD])), 9)
        t_one, one = timed(lambda: pq.as_of("income", day, fields=[FIELD], db=db), 9)
        t_fallback, fb = timed(lambda: pq.as_of("indicators", day, fields=["roe", "eps"], db=db), 9)
        latest = pq.as_of("indicators", day, fields=["roe", "eps"], db=db)
        any_period = db.fetch_df(
            "SELECT ts_code, end_date FROM pit.financial_indicators WHERE latest_from IS NOT NULL AND "
            f"{dialect_of(db).covers('latest_from', 'latest_to', '$1')}", day)
        t_series, panel = timed(lambda: pq.series("income", f"{FIELD}_ttm", None, start, end, db=db), 3)
        t_ind, _ = timed(lambda: pq.industry_as_of(day, db=db), 9)
    assert isinstance(cross, pd.DataFrame) and isinstance(panel, pd.DataFrame) and isinstance(one, pd.DataFrame)
    assert isinstance(fb, pd.DataFrame)
    older = latest.merge(any_period, on="ts_code", suffixes=("", "_any"))
    n_fallback = int((older["end_date"] != pd.to_datetime(older["end_date_any"])).sum())
    print(f"  as_of income, all stocks, all {cross.shape[1] - 3} columns  {t_as_of * 1000:8.1f} ms"
          f"  ({len(cross)} stocks; one interval look-up {t_base * 1000:.1f} ms: {t_as_of / t_base:.2f}x; "
          f"pandas {pandas_figures['as_of'] * 1000:.0f} ms, ratio {pandas_figures['as_of'] / t_as_of:.0f}x)")
    print(f"  as_of income, all stocks, {FIELD:<20} {t_one * 1000:8.1f} ms"
          f"  (one interval look-up {t_base_one * 1000:.1f} ms: {t_one / t_base_one:.2f}x; "
          f"ratio to pandas {pandas_figures['as_of'] / t_one:.0f}x)")
    print(f"  as_of indicators, all stocks, roe,eps      {t_fallback * 1000:8.1f} ms"
          f"  ({len(fb)} stocks, {n_fallback} answered by an older period than their latest)")
    print(f"  series {FIELD}_ttm, one year          {t_series * 1000:8.1f} ms  (shape {panel.shape}; "
          f"pandas {pandas_figures['series']:.1f} s, ratio {pandas_figures['series'] / t_series:.0f}x)")
    print(f"  industry_as_of, all stocks             {t_ind * 1000:8.1f} ms")
    if not math.isnan(pandas_figures["as_of"]):
        check(one, panel, v, pd.Timestamp(day))


def check(cross: pd.DataFrame, panel: pd.DataFrame, v: pd.DataFrame, day: pd.Timestamp) -> None:
    """The SQL answers equal the pandas answers (same stocks, periods, values)."""
    want = pandas_as_of(v, day).set_index("ts_code")
    got = cross.set_index("ts_code")
    assert set(got.index) == set(want.index), "as_of: different stocks than pandas"
    assert (got["end_date"] == want.loc[got.index, "end_date"]).all(), "as_of: different periods"
    for mine, theirs in ((FIELD, "value"), (f"{FIELD}_sq", "sq"), (f"{FIELD}_ttm", "ttm")):
        a, b = got[mine].to_numpy(float), want.loc[got.index, theirs].to_numpy(float)
        assert np.allclose(a, b, rtol=1e-9, equal_nan=True), f"as_of {mine} differs from pandas"
    for panel_day in panel.index[::20]:
        want_day = pandas_as_of(v, panel_day).set_index("ts_code")["ttm"]
        a = panel.loc[panel_day].to_numpy(float)
        b = want_day.reindex(panel.columns).to_numpy(float)
        assert np.allclose(a, b, rtol=1e-9, equal_nan=True), f"series differs from pandas on {panel_day:%Y-%m-%d}"
    print("  answers equal the pandas implementation: yes")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", default="large", choices=["small", "demo", "large"])
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--end-date", default="2024-12-31")
    parser.add_argument("--date", default="2024-05-06", help="the as-of date of the cross-section")
    parser.add_argument("--year", type=int, default=2023, help="the year of the daily panel")
    parser.add_argument("--pg-url", default=os.environ.get("ALPHAHOME_BENCH_PG_URL"))
    parser.add_argument("--skip-duckdb", action="store_true")
    parser.add_argument("--skip-pandas", action="store_true",
                        help="no pandas baseline nor answer check (the one-year pandas panel takes long)")
    args = parser.parse_args()

    from alphahome.sandbox.market import Market

    t0 = time.perf_counter()
    market = Market(seed=args.seed, scale=args.scale, end_date=date.fromisoformat(args.end_date))
    raw = {name: market.truth(name) for name in RAW}
    print(f"market {args.scale} seed {args.seed}: {market.spec.stocks} stocks, {market.spec.years} years to "
          f"{market.end_date}; raw rows: " + ", ".join(f"{n} {len(raw[n])}" for n in RAW)
          + f"  ({time.perf_counter() - t0:.0f} s to generate)")

    day = date.fromisoformat(args.date)
    start, end = date(args.year, 1, 1), date(args.year, 12, 31)
    v = pandas_versions(raw)
    if args.skip_pandas:
        figures = {"as_of": float("nan"), "series": float("nan")}
    else:
        t_pd_as_of, _ = timed(lambda: pandas_as_of(v, pd.Timestamp(day)), 3)
        cal = raw["trade_cal"]
        cal = cal[(cal["exchange"] == "SSE") & (cal["is_open"].astype(int) == 1)]
        days = pd.DatetimeIndex(sorted(pd.to_datetime(cal["cal_date"], format="%Y%m%d")))
        days = days[(days >= pd.Timestamp(start)) & (days <= pd.Timestamp(end))]
        t_pd_series, _ = timed(lambda: pandas_series(v, days), 1)
        figures = {"as_of": t_pd_as_of, "series": t_pd_series}
        print(f"pandas over the raw versions (one field): as_of {t_pd_as_of * 1000:.0f} ms, "
              f"one-year panel {t_pd_series:.1f} s ({len(days)} days)")

    if not args.skip_duckdb:
        with tempfile.TemporaryDirectory() as tmp:
            bench_backend("DuckDB", f"duckdb:///{Path(tmp) / 'bench.duckdb'}", raw, v, day, start, end, figures)
    if args.pg_url:
        bench_backend("PostgreSQL", args.pg_url, raw, v, day, start, end, figures)
    else:
        print("\n(PostgreSQL skipped: pass --pg-url or set ALPHAHOME_BENCH_PG_URL)")


if __name__ == "__main__":
    main()
