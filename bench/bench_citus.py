"""Citus benchmark: the 1M-row load cases of bench_storage.py and the PIT cross-section and one-year panel of
bench_pit.py on a Citus cluster, as ratios against a single PostgreSQL node measured in the same run.

Run by hand; prints figures (no assertions)::

    scripts/citus_cluster.sh start /tmp/citus-bench secret      # prints the coordinator's URL
    python bench/bench_citus.py --pg-url postgresql://…/postgres --citus-url postgresql://…/postgres

The merge on distributed tables is measured with each strategy of alphahome/storage/citus.py (a co-located
staging table, then UPDATE + INSERT … NOT EXISTS, one INSERT … ON CONFLICT, or one MERGE). One machine runs
every node here, so expect ratios below 1×: the point is correctness and the shape of the cost.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import sys
import time
from collections.abc import Awaitable, Callable
from datetime import date
from pathlib import Path

import pyarrow as pa

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_pit import RAW, load_and_build, timed
from bench_storage import changed, daily_spec, make_daily

from alphahome.pit import query as pq
from alphahome.storage import citus, open_backend, open_sync
from alphahome.storage import postgres_backend as pg
from alphahome.storage.base import UpsertResult
from alphahome.storage.batch import prepare_batch


async def _best(label: str, rows: int, setup: Callable[[], Awaitable[None]],
                work: Callable[[], Awaitable[object]], repeat: int) -> float:
    rates = []
    for _ in range(repeat):
        await setup()
        t0 = time.perf_counter()
        result = await work()
        rates.append(rows / (time.perf_counter() - t0))
    print(f"    {label:<44} {max(rates):>11,.0f} rows/s  {result if result is not None else ''}", flush=True)
    return max(rates)


async def storage_cases(url: str, data: pa.Table, repeat: int, strategies: list[str]) -> dict[str, float]:
    """Best rows/s of each load case on one database (every merge strategy on Citus)."""
    # bench_storage's daily table, sharded by stock on Citus like tushare.daily.
    spec = dataclasses.replace(daily_spec("daily"), distribution_column="ts_code")
    target = f'"{spec.schema}"."{spec.name}"'
    rows = data.num_rows
    out: dict[str, float] = {}
    async with open_backend(url, {"min_size": 1, "max_size": 2}) as db:
        await db.ensure_schema("bench")
        prepared = prepare_batch(spec, data, dedupe=True)
        prepared_changed = prepare_batch(spec, changed(data), dedupe=True)

        async def empty() -> None:
            await db.execute(f"DROP TABLE IF EXISTS {target}")
            await db.ensure_table(spec)

        async def loaded() -> None:
            await empty()
            await db.upsert(spec, data, mode="insert")
            await db.execute(f"VACUUM ANALYZE {target}")

        async def merge_with(strategy: str, table: pa.Table) -> UpsertResult:
            if db.citus is None:  # type: ignore[attr-defined]
                return await db.upsert(spec, table)
            async with db.transaction() as tx:
                conn = tx._conn  # type: ignore[attr-defined]
                return await citus.merge(conn, spec, table, pg._copy_into, strategy)  # type: ignore[arg-type]

        out["insert mode, empty table"] = await _best(
            "insert mode, empty table", rows, empty, lambda: db.upsert(spec, data, mode="insert"), repeat)
        for strategy in strategies:
            suffix = f" [{strategy}]" if db.citus is not None else ""  # type: ignore[attr-defined]
            try:
                await _strategy_cases(out, suffix, strategy, rows, empty, loaded, merge_with, prepared,
                                      prepared_changed, repeat)
            except Exception as exc:  # a strategy Citus refuses is a result too
                print(f"    {strategy}: refused by the server: {str(exc).splitlines()[0]}")
            if db.citus is None:  # type: ignore[attr-defined]
                break
        await db.execute(f"DROP TABLE IF EXISTS {target}")
    return out


async def _strategy_cases(out: dict[str, float], suffix: str, strategy: str, rows: int,
                          empty: Callable[[], Awaitable[None]], loaded: Callable[[], Awaitable[None]],
                          merge_with: Callable[[str, pa.Table], Awaitable[UpsertResult]],
                          prepared: pa.Table, prepared_changed: pa.Table, repeat: int) -> None:
    """The three merge cases (all new, all unchanged, all changed) with one strategy."""
    out[f"merge, all new{suffix}"] = await _best(
        f"merge, all new{suffix}", rows, empty, lambda: merge_with(strategy, prepared), repeat)
    out[f"merge, all unchanged{suffix}"] = await _best(
        f"merge, all unchanged{suffix}", rows, loaded, lambda: merge_with(strategy, prepared), repeat)
    out[f"merge, all changed{suffix}"] = await _best(
        f"merge, all changed{suffix}", rows, loaded, lambda: merge_with(strategy, prepared_changed), repeat)


def pit_cases(url: str, raw: dict, day: date, start: date, end: date) -> dict[str, float]:
    """Seconds: load + full build + incremental (from bench_pit), then the cross-section and the panel."""
    times = asyncio.run(load_and_build(url, raw))
    with open_sync(url) as db:
        pq.as_of("income", day, db=db)  # warm
        times["as_of income, all stocks, all columns"], cross = timed(lambda: pq.as_of("income", day, db=db), 9)
        times["series revenue_ttm, one year"], panel = timed(
            lambda: pq.series("income", "revenue_ttm", None, start, end, db=db), 3)
    times["_cross"] = cross  # type: ignore[assignment]
    times["_panel"] = panel  # type: ignore[assignment]
    return times


#: Why the cluster has the shard count it has (printed with the figures).
SHARD_COUNT_WHY = (
    "shard count: the cluster's citus.shard_count when each table was created (scripts/citus_cluster.sh "
    "sets 8: two workers on a two-core machine, a few shards per core so that adding workers moves whole "
    "shards; more shards only add per-shard planning and dispatch to every statement here)"
)


async def shards_per_node(url: str, table: str = "pit.income_quarterly") -> dict[str, int]:
    """``host:port`` -> number of ``table``'s shards placed there."""
    async with open_backend(url) as db:
        df = await db.fetch_df(
            "SELECT nodename || ':' || nodeport AS node, count(*) AS shards FROM citus_shards "
            "WHERE CAST(table_name AS TEXT) = $1 GROUP BY 1 ORDER BY 1", table)
    return {str(r.node): int(r.shards) for r in df.itertuples(index=False)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pg-url", required=True, help="a single PostgreSQL node (the baseline)")
    parser.add_argument("--citus-url", required=True, help="the Citus coordinator")
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=2, help="rounds per storage case; the best is reported")
    parser.add_argument("--strategies", default="update_insert,on_conflict,merge")
    parser.add_argument("--scale", default="demo", choices=["small", "demo", "large"], help="PIT market scale")
    parser.add_argument("--end-date", default="2024-12-31")
    parser.add_argument("--date", default="2024-05-06")
    parser.add_argument("--year", type=int, default=2023)
    parser.add_argument("--skip-storage", action="store_true")
    parser.add_argument("--skip-pit", action="store_true")
    args = parser.parse_args()

    async def describe() -> str:
        async with open_backend(args.citus_url) as db:
            cluster = db.citus  # type: ignore[attr-defined]
            if cluster is None:
                raise SystemExit(f"{args.citus_url}: no citus extension")
            return cluster.describe()

    print(f"cluster: {asyncio.run(describe())}")
    print(SHARD_COUNT_WHY)
    if not args.skip_storage:
        data = make_daily(args.rows)
        print(f"\nstorage: {args.rows:,} daily rows")
        print("  single node")
        single = asyncio.run(storage_cases(args.pg_url, data, args.repeat, ["update_insert"]))
        print("  Citus")
        cluster = asyncio.run(storage_cases(args.citus_url, data, args.repeat, args.strategies.split(",")))
        print("\n  Citus vs single node (best rows/s ratio)")
        for name, rate in cluster.items():
            base = single[name.split(" [")[0]]
            print(f"    {name:<44} {rate:>11,.0f} rows/s  {rate / base:5.2f}×  (single {base:,.0f})")
    if not args.skip_pit:
        from alphahome.sandbox.market import Market

        market = Market(seed=7, scale=args.scale, end_date=date.fromisoformat(args.end_date))
        raw = {name: market.truth(name) for name in RAW}
        day, start, end = date.fromisoformat(args.date), date(args.year, 1, 1), date(args.year, 12, 31)
        print(f"\nPIT: {args.scale} market, {market.spec.stocks} stocks, {market.spec.years} years")
        single_t = pit_cases(args.pg_url, raw, day, start, end)
        cluster_t = pit_cases(args.citus_url, raw, day, start, end)
        same = single_t.pop("_cross").equals(cluster_t.pop("_cross"))  # type: ignore[attr-defined]
        same_panel = single_t.pop("_panel").equals(cluster_t.pop("_panel"))  # type: ignore[attr-defined]
        print(f"  {'':<44} {'single':>9} {'Citus':>9}  Citus/single time")
        for name, seconds in single_t.items():
            other = cluster_t.get(name, float("nan"))
            unit, scale = ("ms", 1000) if name.startswith(("as_of", "series")) else ("s", 1)
            print(f"  {name:<44} {seconds * scale:8.1f}{unit} {other * scale:8.1f}{unit}  "
                  f"{other / seconds:5.2f}× the time (speed ratio {seconds / other:4.2f}×)")
        print(f"  answers equal: cross-section {same}, panel {same_panel}")
        print(f"  shards of pit.income_quarterly per node: {asyncio.run(shards_per_node(args.citus_url))}")


if __name__ == "__main__":
    main()
