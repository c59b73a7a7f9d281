"""A whole-catalogue first sync from the sandbox, then the next day's smart run, with per-dataset figures.

Prints, per dataset: calls, rows, seconds; then totals, 40203 quota errors, peak RSS and CPU-seconds of the
update process (the sandbox runs in its own process); the quota floor (calls ÷ the per-minute budget of each
points tier, with the run's workers); the next trading day's smart run (calls, seconds); and whether every
table's row count equals what the sandbox market holds (its truth, cut as the sync covers it: the index
datasets' indices, the configured start dates). Nothing is asserted: figures to read (machine load shown).

    python bench/bench_large_sync.py --scale demo                       # the demo's catalogue, ~3 min
    python bench/bench_large_sync.py --scale large --datasets daily,adj_factor,index_weight,income
    python bench/bench_large_sync.py --scale large                      # ~1 hour at real quotas: the whole
                                                                         # large market (5,000 stocks, 10 y)
    python bench/bench_large_sync.py --scale demo --pg-url postgresql://u:pw@host/empty_db

``--starts demo`` (the default at demo scale) uses ``alphahome demo``'s start dates: report periods from
five years before the market, datasets that cost one call per date over their last 45 days. ``--starts
catalogue`` (the default otherwise) is a production first load: every dataset from its own default start.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from alphahome.config.loader import load_settings  # noqa: E402
from alphahome.sandbox.tokens import sandbox_token  # noqa: E402
from alphahome.sources.tushare.rate_limiter import default_budget  # noqa: E402
from alphahome.tasks.catalogue import CATALOGUE, DATASETS, INDICES  # noqa: E402
from alphahome.tasks.shapes import PerCode, ReportPeriods, Snapshot  # noqa: E402
from alphahome.tasks.sync_store import opened_store  # noqa: E402
from alphahome.updater.updater import RUN_LOCK_NAME, Updater, UpdateReport, UpdateRequest  # noqa: E402

TIERS = (120, 2000, 5000, 10000)
#: The sandbox market's last day (as the tests pin it): no dependence on today's date.
END = date(2025, 6, 30)
#: ``alphahome demo``'s start dates (see alphahome/demo.py).
DEMO_REPORT_YEARS = 5
DEMO_PER_DATE_DAYS = 45


class SandboxProcess:
    """``alphahome sandbox serve`` in its own process, so the update's RSS and CPU are its own."""

    def __init__(self, scale: str, seed: int, end: date, time_scale: float) -> None:
        self.args = ["--scale", scale, "--seed", str(seed), "--end-date", end.isoformat(),
                     "--time-scale", str(time_scale)]
        self.url = ""

    def __enter__(self) -> SandboxProcess:
        self.started = time.monotonic()
        self.proc = subprocess.Popen([sys.executable, "-c", "from alphahome.cli import main; main()", "sandbox",
                                      "serve", *self.args], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            if "http://127.0.0.1:" in line:
                self.url = "http://" + line.split("http://", 1)[1].split()[0].rstrip(".,)")
                break
        if not self.url:
            self.proc.kill()
            raise SystemExit("the sandbox did not start")
        threading.Thread(target=self.proc.stdout.read, daemon=True).start()  # keep its pipe drained
        self.startup = time.monotonic() - self.started
        return self

    def __exit__(self, *exc: object) -> None:
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout=120)


def start_dates(mode: str, market_start: date, end: date) -> dict[str, str]:
    """``tasks.<name>.default_start_date`` overrides: none for ``catalogue``, the demo's for ``demo``."""
    if mode == "catalogue":
        return {}
    periods = date(market_start.year - DEMO_REPORT_YEARS, 1, 1).strftime("%Y%m%d")
    recent = (end - timedelta(days=DEMO_PER_DATE_DAYS)).strftime("%Y%m%d")
    starts = {s.name: periods for s in CATALOGUE if isinstance(s.shape, ReportPeriods)}
    starts.update({s.name: recent for s in CATALOGUE if s.shape.one_call_per_date})
    return starts


def settings_for(db_url: str, api_url: str, points: int, workers: int, starts: dict[str, str]) -> Any:
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as fh:
        json.dump({"tasks": {name: {"default_start_date": day} for name, day in starts.items()}}, fh)
        config = fh.name
    try:
        return load_settings(config, flag_overrides={
            "database.url": db_url, "api.tushare_token": sandbox_token(f"points-{points}"),
            "api.tushare_api_url": api_url, "api.tushare_points": points, "production.log_file": "",
            "production.log_level": "WARNING", "production.max_workers": workers, "production.retry_delay": 0.5,
        }, environ={}).settings
    finally:
        os.unlink(config)


async def run_update(settings: Any, request: UpdateRequest, time_scale: float) -> tuple[UpdateReport, int]:
    """One update in this process; the report and its 40203 quota errors."""
    async with opened_store(settings, run_lock=RUN_LOCK_NAME) as store:
        updater = Updater(settings, store, request, limiter_time_scale=time_scale)
        report = await updater.run()
        quota_errors = sum(s.quota_errors for s in updater.client.stats().values())
        return report, quota_errors


def next_weekday(day: date) -> date:
    day += timedelta(days=1)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


def quota_floor(results: Iterable[Any], tier: int, workers: int) -> tuple[float, float, int]:
    """Minutes these calls need at ``tier``'s budgets (~90% of the published per-minute quotas): the
    slowest API alone, and the lower bound with ``workers`` tasks at a time (each API has its own budget,
    so they overlap up to the worker count); and how many datasets the tier cannot call (left out)."""
    minutes, beyond = [], 0
    for r in results:
        spec = DATASETS[r.dataset]
        if spec.points_needed > tier:
            beyond += 1
            continue
        api = spec.api_for(tier)
        per_minute = default_budget(tier, spec.rate_for(api, tier)) or 0
        if r.calls and per_minute:
            minutes.append(r.calls / per_minute)
    if not minutes:
        return 0.0, 0.0, beyond
    return max(minutes), max(max(minutes), sum(minutes) / workers), beyond


def covered_truth_rows(market: Any, dataset: str, start: str | None) -> int:
    """Rows of the market's truth the sync covers (distinct keys; NULL = NULL)."""
    frame = market.truth(dataset)
    spec = DATASETS[dataset]
    shape = spec.shape
    if start and spec.date_column is not None and not isinstance(shape, Snapshot | PerCode):
        frame = frame[frame[spec.date_column].astype(str) >= start]
    if shape.code_source() is INDICES:
        frame = frame[frame[getattr(shape, "code_param", "ts_code")].isin(INDICES.default)]
    if spec.key:
        frame = frame.drop_duplicates(subset=list(spec.key), keep="last")
    return len(frame)


async def stored_rows(db_url: str, names: Iterable[str]) -> dict[str, int]:
    from alphahome.storage import open_backend

    out: dict[str, int] = {}
    async with open_backend(db_url) as db:
        for name in names:
            spec = DATASETS[name]
            exists = await db.table_exists("tushare", spec.table_name)
            out[name] = await db.row_count(f"tushare.{spec.table_name}") if exists else 0
    return out


def load() -> str:
    one, five, _ = os.getloadavg()
    return f"load average {one:.2f} (1 min), {five:.2f} (5 min) on {os.cpu_count()} cores"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", default="large", choices=["small", "demo", "large"])
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--datasets", default="", help="a,b,… (default: the whole catalogue); "
                        "dependencies, and the stock list that sizes request windows, are brought along")
    parser.add_argument("--points", type=int, default=10000, choices=TIERS, help="the token's points tier")
    parser.add_argument("--workers", type=int, default=3, help="tasks run at once")
    parser.add_argument("--starts", choices=["demo", "catalogue"], default=None,
                        help="start dates (default: demo at demo/small scale, catalogue at large)")
    parser.add_argument("--time-scale", type=float, default=1.0,
                        help="a quota minute lasts 60*x seconds (sandbox and limiter); 1 = real quotas")
    parser.add_argument("--pg-url", default=None, help="an empty PostgreSQL database (default: a fresh DuckDB)")
    parser.add_argument("--no-next-day", action="store_true", help="skip the next day's smart run")
    parser.add_argument("--no-truth", action="store_true", help="skip the row-count check against the market")
    parser.add_argument("--keep", action="store_true", help="keep the DuckDB file made for the run (default: removed)")
    parser.add_argument("--max-batch-cells", type=int, default=None,
                        help="override the planner's MAX_BATCH_CELLS (a huge value: windows as before the cap)")
    args = parser.parse_args()
    if args.max_batch_cells is not None:
        from alphahome.tasks import planner, shapes

        planner.MAX_BATCH_CELLS = shapes.MAX_BATCH_CELLS = args.max_batch_cells  # type: ignore[misc]
    starts_mode = args.starts or ("catalogue" if args.scale == "large" else "demo")
    chosen = tuple(n.strip() for n in args.datasets.split(",") if n.strip())
    if chosen and "stock_basic" not in chosen and any(DATASETS[n].rows_per_date == "stocks" for n in chosen):
        # A real first sync has the stock list: without it, stock-sized windows assume 5,000 rows a date.
        chosen = ("stock_basic", *chosen)
    folder = None if args.pg_url else Path(tempfile.mkdtemp(prefix="alphahome-large-"))
    db_url = args.pg_url or f"duckdb:///{folder / 'sync.duckdb'}"
    try:
        run(args, db_url, chosen, starts_mode)
    finally:
        if folder is not None and not args.keep:
            shutil.rmtree(folder, ignore_errors=True)


def run(args: argparse.Namespace, db_url: str, chosen: tuple[str, ...], starts_mode: str) -> None:
    """The measurements (see the module docstring)."""
    from alphahome.sandbox.market import Market

    market_start = Market(seed=args.seed, scale=args.scale, end_date=END).start_date  # cheap: built lazily
    starts = start_dates(starts_mode, market_start, END)
    print(f"== first sync: scale {args.scale} (seed {args.seed}, to {END}), {args.points} points, "
          f"{args.workers} workers, starts: {starts_mode}, time scale {args.time_scale:g}, "
          f"MAX_BATCH_CELLS {args.max_batch_cells or 'default'}, "
          f"into {db_url.split('@')[-1]}")
    print(f"before: {load()}")
    with SandboxProcess(args.scale, args.seed, END, args.time_scale) as server:
        print(f"sandbox started in {server.startup:.1f}s at {server.url}")
        settings = settings_for(db_url, server.url, args.points, args.workers, starts)
        cpu0 = resource.getrusage(resource.RUSAGE_SELF)
        t0 = time.monotonic()
        report, quota_errors = asyncio.run(run_update(settings, UpdateRequest(tasks=chosen, today=END), args.time_scale))
        wall = time.monotonic() - t0
        cpu1 = resource.getrusage(resource.RUSAGE_SELF)
    peak_mib = cpu1.ru_maxrss / 1024  # Linux: KiB; measured before the truth check builds a market here
    cpu = (cpu1.ru_utime - cpu0.ru_utime) + (cpu1.ru_stime - cpu0.ru_stime)
    results = sorted(report.results, key=lambda r: -r.calls)
    total_calls = sum(r.calls for r in results)
    print(f"{'dataset':22s}{'status':>9s}{'calls':>9s}{'share':>7s}{'rows':>13s}{'seconds':>9s}")
    for r in results:
        print(f"{r.dataset:22s}{r.status:>9s}{r.calls:>9,d}{r.calls / max(1, total_calls):>7.1%}{r.rows:>13,d}"
              f"{r.duration:>9.1f}")
    failed = [r.dataset for r in results if r.status not in ("success", "skipped")]
    print(f"total: {len(results)} datasets, {total_calls:,} calls, {sum(r.rows for r in results):,} rows, "
          f"wall {wall:.1f}s ({wall / 60:.1f} min); 40203 quota errors {quota_errors}; "
          f"failed: {', '.join(failed) or 'none'}")
    print(f"update process: peak RSS {peak_mib:,.0f} MiB, {cpu:.0f} CPU-seconds ({cpu / max(wall, 1e-9):.0%} of "
          f"one core); after: {load()}")
    for tier in TIERS:
        slowest, floor, beyond = quota_floor(results, tier, args.workers)
        print(f"quota floor at {tier:>5d} points (these calls at its budgets): slowest API alone {slowest:.1f} min, "
              f"with {args.workers} workers >= {floor:.1f} min"
              + (f" ({beyond} dataset(s) beyond this tier left out)" if beyond else ""))

    if not args.no_truth:
        # Checked before the next day's run: a market ending a day later also starts a day later.
        names = [r.dataset for r in results if r.status == "success"]
        truth_market = Market(seed=args.seed, scale=args.scale, end_date=END)
        stored = asyncio.run(stored_rows(db_url, names))
        bad = {}
        for name in names:
            want = covered_truth_rows(truth_market, name, starts.get(name))
            if stored[name] != want:
                bad[name] = (stored[name], want)
        del truth_market
        print(f"== row counts equal to the sandbox's truth: {len(names) - len(bad)} of {len(names)} tables")
        for name, (got, want) in sorted(bad.items()):
            print(f"   {name}: stored {got:,}, truth {want:,}")

    if not args.no_next_day:
        tomorrow = next_weekday(END)
        with SandboxProcess(args.scale, args.seed, tomorrow, args.time_scale) as server:
            settings = settings_for(db_url, server.url, args.points, args.workers, starts)
            t0 = time.monotonic()
            nxt, quota_errors = asyncio.run(run_update(settings, UpdateRequest(tasks=chosen, today=tomorrow),
                                                        args.time_scale))
            wall = time.monotonic() - t0
        busiest = sorted(nxt.results, key=lambda r: -r.calls)[:6]
        print(f"== next day ({tomorrow}) smart run: {sum(r.calls for r in nxt.results):,} calls, "
              f"{sum(r.rows for r in nxt.results):,} rows, {wall:.1f}s; quota errors {quota_errors}; busiest: "
              + ", ".join(f"{r.dataset} {r.calls}" for r in busiest))


if __name__ == "__main__":
    main()
