"""Benchmark: how much of each API's budget the client uses against a sandbox that enforces quotas.

Several APIs are called at once, each by several concurrent workers, for several (time-scaled) minutes,
through one TushareClient and one RateLimiter, against the sandbox enforcing Tushare's per-token, per-API
quotas. Printed per API: the server's quota, the client's budget, calls per minute achieved, the share of
the budget used (target >= 90%) and the 40203 quota errors met (target 0 when the budget is right).

Three scenarios: the default budgets (90% of the published quota); budgets exactly at the server's
quota; budgets twice the server's quota, where the client must learn the real N from the first 40203
messages and then run at it.

    python bench/bench_rate_limiter.py                       # time scale 0.1: a minute lasts 6 s
    python bench/bench_rate_limiter.py --minutes 5 --time-scale 0.05 --workers 4
    python bench/bench_rate_limiter.py --market sandbox      # the synthetic market's real answers

``--market tiny`` (the default) serves three-row answers so that only the limiter is measured;
``--market sandbox`` serves the synthetic market (scale small), one trade date per call.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import logging
import socket
import sys
import time
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass

import pandas as pd

from alphahome.sandbox.apidef import ApiDef, FieldDef
from alphahome.sandbox.quota import QuotaLimits
from alphahome.sandbox.server import SandboxServer
from alphahome.sandbox.tokens import TOKEN_2000
from alphahome.sources.tushare.client import TushareClient
from alphahome.sources.tushare.rate_limiter import Budget, RateLimiter, default_budget

POINTS = 2000
#: API -> the server's per-minute quota (the 2000-point tier's 200, stock_basic's own 50).
SERVER_QUOTAS: dict[str, int] = {"daily": 200, "adj_factor": 200, "daily_basic": 200, "stock_basic": 50}

_ROWS = pd.DataFrame({"ts_code": ["000001.SZ", "600000.SH", "300750.SZ"], "trade_date": ["20240102"] * 3,
                      "value": [1.5, None, 3.25]})


def _query(market: object, params: Mapping[str, str]) -> pd.DataFrame:
    return _ROWS


class QuotaMarket:
    """Small answers, so that the measurement is about the rate limiter rather than the market."""

    apis: Mapping[str, ApiDef] = {
        name: ApiDef(name=name, fields=(FieldDef("ts_code", "s"), FieldDef("trade_date", "s"), FieldDef("value")),
                     params=("trade_date",), required=(), row_cap=6000, min_points=120,
                     sort_desc=("ts_code",), query=_query)
        for name in SERVER_QUOTAS
    }


@dataclass
class Outcome:
    api: str
    server_quota: int
    budget: int
    ok: int
    quota_errors: int
    waits: int
    final_budget: int | None


@asynccontextmanager
async def tiny_server(time_scale: float) -> AsyncIterator[str]:
    """The tiny market in this process."""
    overrides = {api: QuotaLimits(per_minute=n) for api, n in SERVER_QUOTAS.items()}
    async with SandboxServer(QuotaMarket(), time_scale=time_scale, quota_overrides=overrides) as server:
        yield server.url


@asynccontextmanager
async def sandbox_server(time_scale: float) -> AsyncIterator[str]:
    """``alphahome sandbox serve`` (synthetic market, scale small) in its own process, so that building
    answers does not compete with the client for this process's event loop."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    quotas = [arg for api, n in SERVER_QUOTAS.items() for arg in ("--quota", f"{api}={n}/min")]
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "alphahome.cli", "sandbox", "serve", "--scale", "small", "--seed", "1",
        "--port", str(port), "--time-scale", str(time_scale), *quotas,
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        for _ in range(600):
            try:
                _, writer = await asyncio.open_connection("127.0.0.1", port)
            except OSError:
                await asyncio.sleep(0.1)
                continue
            writer.close()
            await writer.wait_closed()
            break
        else:
            raise RuntimeError("the sandbox did not start within 60 s")
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        await proc.wait()


async def run_scenario(*, server: Callable[[float], AbstractAsyncContextManager[str]], time_scale: float,
                       minutes: float, workers: int, budgets: dict[str, int]) -> tuple[list[Outcome], float]:
    async with server(time_scale) as url:
        limiter = RateLimiter({api: Budget(per_minute=n) for api, n in budgets.items()}, time_scale=time_scale)
        async with TushareClient(TOKEN_2000, url, limiter=limiter, retry_delay=0.05,
                                 max_concurrency=len(budgets) * workers) as client:
            days = ["20240102"]
            if server is sandbox_server:  # the last 300 trading days of the synthetic market
                calendar = await client.fetch("trade_cal", {"is_open": 1}, ["cal_date"], page_size=20000)
                today = time.strftime("%Y%m%d")
                days = sorted(d for d in calendar.column("cal_date").to_pylist() if d <= today)[-300:]
            # Warm-up: one call per API, outside the measurement (the server builds its tables lazily).
            for api in budgets:
                await client.call(api, {} if api == "stock_basic" else {"trade_date": days[-1]}, "")
            warm = client.stats()

            duration = minutes * limiter.window_seconds("minute")
            loop = asyncio.get_running_loop()
            deadline = loop.time() + duration

            async def worker(api: str, first: int) -> None:
                n = first
                while loop.time() < deadline:
                    # Each call must be granted before the deadline to count: stop waiting past it.
                    remaining = deadline - loop.time()
                    params = {} if api == "stock_basic" else {"trade_date": days[n % len(days)]}
                    n += workers
                    try:
                        async with asyncio.timeout(remaining):
                            await client.call(api, params, "")
                    except TimeoutError:
                        return

            started = time.perf_counter()
            async with asyncio.TaskGroup() as tg:
                for api in budgets:
                    for i in range(workers):
                        tg.create_task(worker(api, i))
            elapsed = time.perf_counter() - started
            stats = client.stats()
            limiter_stats = limiter.stats()
            outcomes = [
                Outcome(api, SERVER_QUOTAS[api], budgets[api], stats[api].ok - warm[api].ok,
                        stats[api].quota_errors - warm[api].quota_errors, limiter_stats[api].waits,
                        limiter.budget(api).per_minute)
                for api in budgets
            ]
            return outcomes, elapsed / limiter.window_seconds("minute")


def report(title: str, outcomes: list[Outcome], minutes: float) -> None:
    print(f"\n{title}  ({minutes:.2f} scaled minutes measured)")
    header = f"{'api':<12} {'server/min':>10} {'budget/min':>10} {'learned':>8} {'calls':>7} {'calls/min':>10} " \
             f"{'% budget':>9} {'% server':>9} {'quota err':>9} {'waits':>7}"
    print(header)
    print("-" * len(header))
    for o in outcomes:
        per_minute = o.ok / minutes
        effective = min(o.budget, o.final_budget or o.budget)
        print(f"{o.api:<12} {o.server_quota:>10} {o.budget:>10} {o.final_budget or '-':>8} {o.ok:>7} "
              f"{per_minute:>10.1f} {100 * per_minute / effective:>8.1f}% {100 * per_minute / o.server_quota:>8.1f}% "
              f"{o.quota_errors:>9} {o.waits:>7}")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--time-scale", type=float, default=0.1, help="window scale (0.1: a minute lasts 6 s)")
    parser.add_argument("--minutes", type=float, default=4, help="scaled minutes per scenario")
    parser.add_argument("--workers", type=int, default=3, help="concurrent workers per API")
    parser.add_argument("--market", choices=("tiny", "sandbox"), default="tiny",
                        help="tiny three-row answers, or the synthetic market (scale small)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)

    server = sandbox_server if args.market == "sandbox" else tiny_server
    run = functools.partial(run_scenario, server=server, time_scale=args.time_scale, minutes=args.minutes,
                            workers=args.workers)

    right = {api: default_budget(POINTS, api_specific=50 if api == "stock_basic" else None) for api in SERVER_QUOTAS}
    outcomes, minutes = await run(budgets=right)
    report("Scenario 1: default budgets (90% of the published quota)", outcomes, minutes)

    exact = dict(SERVER_QUOTAS)
    outcomes, minutes = await run(budgets=exact)
    report("Scenario 2: budgets equal to the server's quota (100%)", outcomes, minutes)

    too_high = {api: n * 2 for api, n in SERVER_QUOTAS.items()}
    outcomes, minutes = await run(budgets=too_high)
    report("Scenario 3: budgets twice the server's quota (learned from 40203)", outcomes, minutes)


if __name__ == "__main__":
    asyncio.run(main())
