"""Start-up time of the sandbox at each scale and the latency of large pages (run by hand; prints figures).

    python bench/bench_sandbox.py                      # small + demo + large with the real market
    python bench/bench_sandbox.py --scales demo        # one scale
    python bench/bench_sandbox.py --synthetic          # no market needed: a 6,000-row toy daily

Latency is wall-clock time measured from a plain HTTP client (requests, keep-alive) against
``alphahome sandbox serve`` running in its own process (the synthetic run uses a background thread):
POST until the body is read completely, JSON not parsed. "miss" pages query the market anew each time;
"hit" pages repeat one query (its sorted result and rendered page are cached).
"server CPU per page" is the server's own work measured with thread CPU time, which a busy shared
machine inflates far less than wall-clock latency.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import os
import re
import signal
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np
import pandas as pd
import requests

from alphahome.sandbox.apidef import ApiDef, FieldDef
from alphahome.sandbox.pages import QueryResult
from alphahome.sandbox.server import run_sandbox_in_thread
from alphahome.sandbox.tokens import TOKEN_5000

DAILY_FIELDS = ("open", "high", "low", "close", "pre_close", "change", "pct_chg", "vol", "amount")


class SyntheticMarket:
    """6,000 stocks × 20 days of random `daily` bars, for a market-free measurement."""

    def __init__(self) -> None:
        rng = np.random.default_rng(0)
        days = [f"202401{d:02d}" for d in range(2, 22)]
        codes = [f"{i:06d}.SZ" for i in range(6000)]
        frame = pd.DataFrame({"ts_code": np.tile(codes, len(days)), "trade_date": np.repeat(days, len(codes))})
        for name in DAILY_FIELDS:
            frame[name] = np.round(rng.random(len(frame)) * 100, 2)
        self._by_date = {day: part.reset_index(drop=True) for day, part in frame.groupby("trade_date")}
        self.trade_dates = days
        self.apis: Mapping[str, ApiDef] = {"daily": ApiDef(
            name="daily",
            fields=(FieldDef("ts_code", "s"), FieldDef("trade_date", "s"), *(FieldDef(f) for f in DAILY_FIELDS)),
            params=("ts_code", "trade_date", "start_date", "end_date"), required=(), row_cap=6000,
            min_points=120, sort_desc=("trade_date",), query=self._query)}

    def _query(self, market: Any, params: Mapping[str, str]) -> pd.DataFrame:
        return self._by_date[params["trade_date"]]


def post(session: requests.Session, url: str, api: str, params: dict[str, Any]) -> tuple[float, int, int]:
    body = {"api_name": api, "token": TOKEN_5000, "params": params, "fields": ""}
    started = time.perf_counter()
    resp = session.post(url, json=body, timeout=60)
    content = resp.content
    elapsed = time.perf_counter() - started
    answer = resp.json()
    if answer["code"] != 0:
        raise SystemExit(f"{api} {params}: {answer['code']} {answer['msg']}")
    return elapsed, len(answer["data"]["items"]), len(content)


def report(label: str, samples: list[tuple[float, int, int]]) -> None:
    times = sorted(s[0] * 1000 for s in samples)
    rows = statistics.median(s[1] for s in samples)
    size = statistics.median(s[2] for s in samples) / 1024
    p95 = times[min(len(times) - 1, int(len(times) * 0.95))]
    print(f"  {label:<44} rows {rows:>6.0f}  {size:>6.0f} KiB   median {statistics.median(times):6.1f} ms"
          f"   p95 {p95:6.1f} ms   max {times[-1]:6.1f} ms")


def report_cpu(label: str, market: Any, api_name: str, requests_: list[dict[str, Any]]) -> None:
    """CPU time (this thread only, so other processes on a busy machine do not inflate it) of the
    server's own work per page: market query, sort, JSON rendering of the first page."""
    api = market.apis[api_name]
    api.query(market, requests_[-1])  # warm-up: the in-process market builds its tables lazily too
    times = []
    for params in requests_:
        started = time.thread_time()
        result = QueryResult(api, api.query(market, params))
        result.page_json(api.default_field_names, 0, min(result.n_rows, api.row_cap))
        times.append((time.thread_time() - started) * 1000)
    times.sort()
    print(f"  {label:<44} server CPU per page: median {statistics.median(times):6.1f} ms   max {times[-1]:6.1f} ms")


def trade_dates(market: Any, count: int) -> list[str]:
    """The newest open days with market data (from trade_cal, so the price panels stay unbuilt)."""
    if isinstance(market, SyntheticMarket):
        return market.trade_dates[:count]
    cal = market.truth("trade_cal")
    last = market.end_date.strftime("%Y%m%d")
    cal = cal[(cal["exchange"] == "SSE") & (cal["is_open"] == 1) & (cal["cal_date"] <= last)]
    return sorted(cal["cal_date"], reverse=True)[:count]


def bench_pages(base_url: str, market: Any, pages: int) -> None:
    """Wall-clock latency over HTTP, and server CPU per page measured in-process on ``market``."""
    with requests.Session() as session:
        url = base_url + "/dataapi"
        dates = trade_dates(market, 400)
        first = post(session, url, "daily", {"trade_date": dates[-1]})
        print(f"  first call (builds the price panels lazily): {first[0]:.2f} s")
        misses = dates[:pages]
        report("daily by trade_date (miss)", [post(session, url, "daily", {"trade_date": d}) for d in misses])
        report("daily by trade_date (hit)", [post(session, url, "daily", {"trade_date": dates[0]})
                                             for _ in range(pages)])
        report_cpu("daily by trade_date (miss)", market, "daily", [{"trade_date": d} for d in misses])
        # Windows of enough days to fill a 6,000-row page (the daily cap), each a new query.
        per_day = max(1, first[1])
        span = -(-6000 // per_day) + 1
        if span * 4 > len(dates) or isinstance(market, SyntheticMarket):
            return
        windows = [dates[i * span:(i + 1) * span] for i in range(min(pages, len(dates) // span))]
        report(f"daily {span}-day window, capped page (miss)",
               [post(session, url, "daily", {"start_date": min(w), "end_date": max(w)}) for w in windows])
        report(f"daily {span}-day window, capped page (hit)",
               [post(session, url, "daily", {"start_date": min(windows[0]), "end_date": max(windows[0])})
                for _ in range(pages)])
        report_cpu(f"daily {span}-day window, capped page (miss)", market, "daily",
                   [{"start_date": min(w), "end_date": max(w)} for w in windows])


@contextlib.contextmanager
def serve_in_subprocess(scale: str, seed: int, end: str) -> Iterator[tuple[str, float]]:
    """``alphahome sandbox serve`` in its own process (as a user runs it): its URL and the seconds from
    launch to listening."""
    started = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "alphahome.cli", "sandbox", "serve", "--scale", scale, "--seed", str(seed),
         "--end-date", end, "--no-quotas"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        assert proc.stdout is not None
        url = ""
        for line in proc.stdout:
            match = re.search(r"listening on (\S+)", line)
            if match:
                url = match.group(1)
            if line.startswith("Press Ctrl-C"):
                break
        if not url:
            raise SystemExit(f"the sandbox did not start (exit code {proc.wait()})")
        yield url, time.perf_counter() - started
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scales", default="small,demo,large")
    parser.add_argument("--pages", type=int, default=20)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--synthetic", action="store_true")
    args = parser.parse_args()
    if args.synthetic:
        started = time.perf_counter()
        market = SyntheticMarket()
        print(f"synthetic market built in {time.perf_counter() - started:.2f} s")
        with run_sandbox_in_thread(market, quotas_enabled=False) as server:
            bench_pages(server.url, market, min(args.pages, 20))
        return 0
    from alphahome.sandbox.market import Market

    end = dt.date.today()
    for scale in (s.strip() for s in args.scales.split(",")):
        with serve_in_subprocess(scale, args.seed, end.isoformat()) as (url, startup):
            print(f"scale {scale}: `alphahome sandbox serve` listening {startup:.2f} s after launch")
            bench_pages(url, Market(seed=args.seed, scale=scale, end_date=end), args.pages)  # type: ignore[arg-type]
    return 0


if __name__ == "__main__":
    sys.exit(main())
