"""Financial-statement generator figures (run by hand; prints them): build time (wall and CPU), rows per
table and memory of the tables, for each scale's universe and date range.

    python bench/bench_sandbox_financials.py                  # small, demo, large
    python bench/bench_sandbox_financials.py --scales large --repeat 3

The first build in a process also pays the kernel for fresh pages (about 1 GB of tables at the large
scale); later builds in the same process reuse them, so both figures are printed.
"""

from __future__ import annotations

import argparse
import gc
import time

import numpy as np

from alphahome.sandbox.financials import generate_financials
from alphahome.sandbox.market import Market


def bench(scale: str, repeat: int) -> None:
    market = Market(seed=42, scale=scale)  # type: ignore[arg-type]
    universe = market.universe
    trade_dates = [d.astype(object) for d in market.open_days[market.open_days <= np.datetime64(market.end_date)]]
    for run in range(repeat):
        wall, cpu = time.perf_counter(), time.process_time()
        tables = generate_financials(universe, trade_dates, market.start_date, market.end_date, market.seed)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        rows = ", ".join(f"{name} {len(df):,}" for name, df in tables.items())
        size = sum(df.memory_usage(deep=False).sum() for df in tables.values()) / 1e6
        print(f"{scale:>5} run {run + 1}: {len(universe):,} stocks {market.start_date}..{market.end_date}: "
              f"{wall:6.2f} s wall, {cpu:6.2f} s CPU, {size:,.0f} MB; {rows}")
        del tables
        gc.collect()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scales", nargs="+", default=["small", "demo", "large"])
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    for scale in args.scales:
        bench(scale, args.repeat)


if __name__ == "__main__":
    main()
