"""Synthetic-market figures (run by hand; prints them): start-up of each scale, first-use build time of
each table, and the latency of ``ApiDef.query`` (the market side of a request, before the server sorts,
pages and encodes).

    python bench/bench_sandbox_market.py                   # small, demo, large
    python bench/bench_sandbox_market.py --scales large --repeat 50
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import psutil

from alphahome.sandbox.market import Market

PANEL_APIS = ("daily", "adj_factor", "daily_basic", "moneyflow", "stk_limit")


def _timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def _latency(fn: Callable[[], object], repeat: int) -> tuple[float, float]:
    fn()  # warm
    samples = [_timed(fn) * 1e3 for _ in range(repeat)]
    return statistics.median(samples), max(samples)


def bench(scale: str, repeat: int) -> None:
    t0 = time.perf_counter()
    market = Market(seed=42, scale=scale)  # type: ignore[arg-type]
    construct = time.perf_counter() - t0
    universe = _timed(lambda: market.universe)
    prices = _timed(lambda: market.prices)
    first_daily = _timed(lambda: market.apis["daily"].query(market, {"trade_date": market.day_text[-1]}))
    print(
        f"\n== {scale}: {len(market.universe)} stocks, {len(market.days)} trading days "
        f"({market.start_date}..{market.end_date})"
    )
    print(
        f"start-up: Market() {construct * 1e3:.1f} ms; universe {universe:.2f} s; price panels {prices:.2f} s; "
        f"first daily page {first_daily * 1e3:.1f} ms  => ready to serve daily in "
        f"{construct + universe + prices + first_daily:.2f} s"
    )
    builds = []
    for name in market.apis:
        if name.endswith("_vip") or name in PANEL_APIS:
            continue
        builds.append((name, _timed(lambda name=name: market.table(name))))
    print("first-use table builds: " + ", ".join(f"{n} {t:.2f}s" for n, t in builds))

    day = str(market.day_text[len(market.day_text) // 2])
    code = str(market.universe["ts_code"].iloc[len(market.universe) // 2])
    whole = {"ts_code": code, "start_date": str(market.day_text[0]), "end_date": str(market.day_text[-1])}
    print(f"{'query':<40} {'rows':>6} {'median ms':>10} {'max ms':>8}")
    cases: list[tuple[str, str, dict[str, str]]] = []
    for api in PANEL_APIS:
        cases.append((f"{api} trade_date", api, {"trade_date": day}))
        cases.append((f"{api} ts_code, whole range", api, whole))
    payer = str(market.truth("dividend")["ts_code"].iloc[0])
    snapshot = str(market.table("index_weight").select([]).iloc[-1]["trade_date"])
    cases += [
        ("income ts_code", "income", {"ts_code": code}),
        ("income_vip period", "income_vip", {"period": f"{market.end_date.year - 1}1231"}),
        ("balancesheet_vip ann_date window", "balancesheet_vip",
         {"start_date": f"{market.end_date.year}0401", "end_date": f"{market.end_date.year}0430"}),
        ("index_daily ts_code", "index_daily", {"ts_code": "000300.SH"}),
        ("index_weight one month", "index_weight", {"index_code": "000300.SH", "trade_date": snapshot}),
        ("stock_basic (all L)", "stock_basic", {}),
        ("dividend ts_code", "dividend", {"ts_code": payer}),
    ]  # fmt: skip
    for label, api, params in cases:
        query = market.apis[api].query
        rows = len(query(market, params))
        median, worst = _latency(lambda query=query, params=params: query(market, params), repeat)
        print(f"{label:<40} {rows:>6} {median:>10.2f} {worst:>8.2f}")
    print(f"peak RSS so far: {psutil.Process().memory_info().rss / 2**20:.0f} MiB")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--scales", nargs="+", default=["small", "demo", "large"])
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    for scale in args.scales:
        bench(scale, args.repeat)


if __name__ == "__main__":
    main()
