"""Benchmark of the whole Tushare sync (updater + planner + runner + client + storage) against the sandbox.

Four measurements, each printed as figures (run by hand; nothing here is asserted):

``budget``  calls per (time-scaled) minute achieved versus the configured budget, per API, over a
            multi-minute, multi-API sync against a sandbox enforcing the same quotas; target >= 90% of the
            budget with zero 40203 quota errors. A 2000-point account: the six financial datasets go per
            stock (one call per stock and report type), so every API is held back by its budget.
``rows``    end-to-end rows/s of a full sync (demo scale: 300 stocks, 3 years) at the real budgets.
``noop``    wall time of an update on a current database (the demo-scale database of ``rows``): the
            default smart run (which re-fetches its look-back dates and open periods) and a run with no
            look-back, both as the ``alphahome tushare update`` command and in-process.
``memory``  peak memory (RSS) of the update process during a large-scale full sync (5,000 stocks, 10
            years) of wide and long datasets, next to what the stored tables would take in memory:
            batches are streamed, so the peak stays far below the data's size.

    python bench/bench_sync.py                      # budget, rows, noop (DuckDB)
    python bench/bench_sync.py budget --budget 90 --time-scale 1   # ~7 minutes
    python bench/bench_sync.py memory               # several minutes: the large market is big
    python bench/bench_sync.py rows noop --database-url postgresql://user:pw@host/db
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from alphahome.config.loader import load_settings  # noqa: E402
from alphahome.sandbox.server import run_sandbox_in_thread  # noqa: E402
from alphahome.sandbox.tokens import TOKEN_2000, TOKEN_5000  # noqa: E402
from alphahome.sources.tushare.rate_limiter import RateLimiter  # noqa: E402
from alphahome.tasks.catalogue import CATALOGUE  # noqa: E402
from alphahome.tasks.sync_store import opened_store  # noqa: E402
from alphahome.updater import updater as updater_module  # noqa: E402
from alphahome.updater.updater import RUN_LOCK_NAME, Updater, UpdateReport, UpdateRequest  # noqa: E402

FINANCIAL = ("income", "balancesheet", "cashflow", "fina_indicator", "express", "forecast")


def _settings(db_url: str, api_url: str, token: str, points: int, tasks: dict[str, dict[str, Any]] | None = None,
              **flags: Any) -> Any:
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as fh:
        json.dump({"tasks": tasks or {}}, fh)
        config = fh.name
    try:
        return load_settings(config, flag_overrides={
            "database.url": db_url, "api.tushare_token": token, "api.tushare_api_url": api_url,
            "api.tushare_points": points, "production.log_file": "", "production.retry_delay": 0.2, **flags,
        }, environ={}).settings
    finally:
        os.unlink(config)


async def _update(settings: Any, request: UpdateRequest, time_scale: float = 1.0,
                  clients: list[Any] | None = None) -> UpdateReport:
    async with opened_store(settings, run_lock=RUN_LOCK_NAME) as store:
        updater = Updater(settings, store, request, limiter_time_scale=time_scale)
        report = await updater.run()
        if clients is not None:
            clients.append(updater.client)
        return report


class _ServeProcess:
    """``alphahome sandbox serve`` in its own process (its own core), for as long as the block runs."""

    def __init__(self, *args: str) -> None:
        self.args = args
        self.url = ""

    def __enter__(self) -> _ServeProcess:
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
        return self

    def __exit__(self, *exc: object) -> None:
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout=60)


def _fresh_duckdb(name: str) -> str:
    path = Path(tempfile.mkdtemp(prefix="alphahome-bench-")) / f"{name}.duckdb"
    return f"duckdb:///{path}"


# ----------------------------------------------------------------------------------------------- budget


class _TimedLimiter(RateLimiter):
    """The run's limiter, also noting when each API's calls were let through."""

    stamps: dict[str, list[float]]

    async def acquire(self, api: str) -> float:
        waited = await super().acquire(api)
        self.stamps[api].append(time.monotonic())
        return waited


def bench_budget(time_scale: float, scale: str, budget: int | None) -> None:
    window = 60.0 * time_scale
    limiters: list[_TimedLimiter] = []
    original = updater_module.build_limiter

    def build(tasks: Any, settings: Any, *, time_scale: float = 1.0) -> RateLimiter:
        base = original(tasks, settings, time_scale=time_scale)
        timed = _TimedLimiter({api: base.budget(api) for api in base._apis}, time_scale=time_scale)
        timed.stamps = defaultdict(list)
        limiters.append(timed)
        return timed

    updater_module.build_limiter = build  # type: ignore[assignment]
    serve_args = ["--scale", scale, "--time-scale", str(time_scale)]
    tasks: dict[str, dict[str, Any]] = {n: {"concurrent_limit": 6} for n in FINANCIAL}
    if budget is not None:
        # The server enforces the quota the budget is 90% of (as with Tushare's published figures).
        quota = round(budget / 0.9)
        serve_args += ["--quota", f"*={quota}/min"]
        for n in FINANCIAL:
            tasks[n]["rate_limit"] = budget
    print(f"== budget: 2000-point account, financial datasets per stock, scale {scale}, a minute = {window:g}s"
          + (f", budget {budget}/min against a server quota of {round(budget / 0.9)}/min" if budget else ""))
    with _ServeProcess(*serve_args) as server:
        settings = _settings(_fresh_duckdb("budget"), server.url, TOKEN_2000, 2000, tasks=tasks,
                             **{"production.max_workers": 8, "network.max_concurrent_requests": 64})
        # Reference data first (not measured), then the financial datasets all at once.
        asyncio.run(_update(settings, UpdateRequest(tasks=("stock_basic",)), time_scale))
        clients: list[Any] = []
        started = time.monotonic()
        report = asyncio.run(_update(settings, UpdateRequest(tasks=FINANCIAL), time_scale, clients))
        wall = time.monotonic() - started
        quota_errors = sum(s.quota_errors for s in clients[0].stats().values())
    updater_module.build_limiter = original  # type: ignore[assignment]
    limiter = limiters[-1]
    print(f"{'api':<20}{'calls':>7}{'minutes':>9}{'calls/min':>11}{'budget':>8}{'used':>8}"
          f"   calls in each whole minute (the first holds the opening burst)")
    shares, steady = [], []
    sent = clients[0].stats()
    for api, stamps in sorted(limiter.stamps.items()):
        per_minute = limiter.budget(api).per_minute or 0
        if len(stamps) < 2 or not per_minute or api not in sent:
            continue
        # N calls use N/budget windows: the last burst's window ends one window after it starts.
        minutes = (stamps[-1] - stamps[0] + window) / window
        calls = sent[api].calls
        rate = calls / minutes
        shares.append(rate / per_minute)
        whole = int((stamps[-1] - stamps[0]) // window)
        counts = [sum(1 for t in stamps if stamps[0] + k * window <= t < stamps[0] + (k + 1) * window)
                  for k in range(whole)]
        steady += [c / per_minute for c in counts[1:]]
        print(f"{api:<20}{calls:>7}{minutes:>9.2f}{rate:>11.1f}{per_minute:>8}{rate / per_minute:>8.1%}   {counts}")
    statuses = {r.dataset: r.status for r in report.results}
    print(f"tasks: {statuses}")
    print(f"budget used over each API's whole sync: min {min(shares):.1%}, mean {sum(shares) / len(shares):.1%}")
    if steady:
        print(f"budget used in whole minutes after the first: min {min(steady):.1%}, "
              f"mean {sum(steady) / len(steady):.1%} ({len(steady)} API-minutes)")
    print(f"40203 quota errors: {quota_errors}; wall {wall:.1f}s ({wall / window:.1f} scaled minutes)")


# ------------------------------------------------------------------------------------------- rows / noop


def bench_rows_and_noop(db_url: str | None, scale: str, parts: set[str]) -> None:
    db_url = db_url or _fresh_duckdb("rows")
    print(f"== full sync, scale {scale}, 5000 points, real budgets, into {db_url.split('@')[-1]}")
    with run_sandbox_in_thread(seed=42, scale=scale) as server:
        settings = _settings(db_url, server.url, TOKEN_5000, 5000, **{"production.max_workers": 6})
        today = server.market.end_date
        started = time.monotonic()
        report = asyncio.run(_update(settings, UpdateRequest(today=today)))
        wall = time.monotonic() - started
        rows = sum(r.rows for r in report.results)
        calls = sum(r.calls for r in report.results)
        failed = [r.dataset for r in report.results if r.status not in ("success", "skipped")]
        print(f"rows {rows:,}  calls {calls:,}  wall {wall:.1f}s  -> {rows / wall:,.0f} rows/s end to end"
              f"{'  FAILED: ' + ', '.join(failed) if failed else ''}")
        top = sorted(report.results, key=lambda r: r.rows / max(r.duration, 1e-9), reverse=True)[:5]
        print("fastest tasks: " + ", ".join(f"{r.dataset} {r.rows / max(r.duration, 1e-9):,.0f} rows/s" for r in top))
        if "noop" not in parts:
            return
        print("== no-op update on the current database")
        env = {**os.environ, "DATABASE_URL": db_url, "TUSHARE_TOKEN": TOKEN_5000, "TUSHARE_API_URL": server.url,
               "ALPHAHOME_TUSHARE_POINTS": "5000", "ALPHAHOME_CONFIG": os.devnull + ".json"}
        with tempfile.TemporaryDirectory() as cwd:
            config = Path(cwd) / "config.json"
            config.write_text(json.dumps({"tasks": {s.name: {"smart_lookback_days": 0} for s in CATALOGUE}}))
            Path(cwd, "empty.json").write_text("{}")
            nothing_open = ["--exclude", ",".join((*FINANCIAL, "dividend", "index_weight"))]
            for label, cfg, more in (("default look-back", "empty.json", []), ("no look-back", "config.json", []),
                                     ("no look-back, datasets with nothing open", "config.json", nothing_open)):
                extra = {"ALPHAHOME_CONFIG": str(Path(cwd, cfg))}
                server.stats.reset()
                t0 = time.monotonic()
                done = subprocess.run([sys.executable, "-c", "from alphahome.cli import main; main()", "tushare",
                                       "update", "--end-date", today.strftime("%Y%m%d"), *more],
                                      env={**env, **extra}, cwd=cwd, capture_output=True, text=True)
                elapsed = time.monotonic() - t0
                print(f"command, {label}: exit {done.returncode}, {elapsed:.2f}s wall, "
                      f"{server.stats.total_calls} calls {dict(server.stats.calls.most_common(4))}")
            t0 = time.monotonic()
            subprocess.run([sys.executable, "-c", "import alphahome.cli, alphahome.updater.commands"], check=True)
            print(f"(python start-up and imports alone: {time.monotonic() - t0:.2f}s)")
            settings0 = _settings(db_url, server.url, TOKEN_5000, 5000,
                                  tasks={s.name: {"smart_lookback_days": 0} for s in CATALOGUE})
            server.stats.reset()
            t0 = time.monotonic()
            asyncio.run(_update(settings0, UpdateRequest(today=today)))
            print(f"in-process, no look-back: {time.monotonic() - t0:.2f}s, {server.stats.total_calls} calls "
                  "(open report periods and index-weight months only)")


# ----------------------------------------------------------------------------------------------- memory


def _peak_rss(proc: subprocess.Popen[bytes], samples: list[int], stop: threading.Event) -> None:
    ps = psutil.Process(proc.pid)
    while not stop.is_set():
        try:
            samples.append(ps.memory_info().rss)
        except psutil.Error:
            return
        time.sleep(0.1)


def bench_memory(datasets: tuple[str, ...], scale: str, db_url: str | None) -> None:
    print(f"== memory: full sync of {', '.join(datasets)} at scale {scale} (sandbox in its own process)")
    server = subprocess.Popen([sys.executable, "-c", "from alphahome.cli import main; main()", "sandbox", "serve",
                               "--scale", scale, "--no-quotas"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              text=True)
    url = None
    assert server.stdout is not None
    for line in server.stdout:
        if "http://127.0.0.1:" in line:
            url = "http://" + line.split("http://", 1)[1].split()[0].rstrip(".,)")
            break
    if url is None:
        raise SystemExit("the sandbox did not start")
    db_url = db_url or _fresh_duckdb("large")
    print(f"into {db_url.split('@')[-1]}" + ("  (DuckDB's buffer pool, by default 80% of RAM, counts in the "
                                             "update's RSS: it caches the file, it is not the streamed data)"
                                             if db_url.startswith("duckdb") else ""))
    with tempfile.TemporaryDirectory() as cwd:
        config = Path(cwd) / "config.json"
        # Unthrottled: the point is memory, not the quota (the sandbox runs without quotas).
        config.write_text(json.dumps({"tasks": {s.name: {"rate_limit": 100000, "concurrent_limit": 4}
                                                 for s in CATALOGUE}}))
        env = {**os.environ, "DATABASE_URL": db_url, "TUSHARE_TOKEN": TOKEN_5000, "TUSHARE_API_URL": url,
               "ALPHAHOME_TUSHARE_POINTS": "5000", "ALPHAHOME_CONFIG": str(config)}
        t0 = time.monotonic()
        proc = subprocess.Popen([sys.executable, "-c", "from alphahome.cli import main; main()", "tushare", "update",
                                 "--tasks", ",".join(datasets), "--workers", "3"],
                                env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        samples: list[int] = []
        stop = threading.Event()
        sampler = threading.Thread(target=_peak_rss, args=(proc, samples, stop), daemon=True)
        sampler.start()
        output = proc.communicate()[0].decode(errors="replace")
        stop.set()
        wall = time.monotonic() - t0
    server.send_signal(signal.SIGTERM)
    server.wait(timeout=60)
    summary = [line for line in output.splitlines() if "task(s):" in line or "failed" in line]
    print("\n".join(summary[-3:]))

    async def sizes() -> tuple[int, int]:
        from alphahome.storage import open_backend

        async with open_backend(db_url) as db:
            rows = cells = 0
            for spec in CATALOGUE:
                if spec.name in datasets and await db.table_exists("tushare", spec.table_name):
                    n = await db.row_count(f"tushare.{spec.table_name}")
                    rows += n
                    cells += n * len(spec.field_names)
            return rows, cells

    rows, cells = asyncio.run(sizes())
    peak = max(samples) if samples else 0
    print(f"rows stored {rows:,} ({cells * 8 / 2**20:,.0f} MiB as 8-byte cells); "
          f"wall {wall:.0f}s, {rows / wall:,.0f} rows/s")
    print(f"peak RSS of the update process: {peak / 2**20:,.0f} MiB (sampled every 0.1 s)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("parts", nargs="*", default=["budget", "rows", "noop"],
                        choices=["budget", "rows", "noop", "memory"])
    parser.add_argument("--time-scale", type=float, default=1.0, help="budget: a minute lasts 60*x seconds")
    parser.add_argument("--budget-scale", default="demo", choices=["small", "demo", "large"])
    parser.add_argument("--budget", type=int, default=90,
                        help="budget: calls per minute per API (0: the 2000-point default, 180)")
    parser.add_argument("--rows-scale", default="demo", choices=["small", "demo", "large"])
    parser.add_argument("--memory-scale", default="large", choices=["small", "demo", "large"])
    parser.add_argument("--memory-datasets", default="trade_cal,stock_basic,daily,adj_factor,moneyflow,balancesheet")
    parser.add_argument("--database-url", default=None,
                        help="rows/noop/memory: an empty database (default: a fresh DuckDB file)")
    args = parser.parse_args()
    parts = set(args.parts)
    if args.budget == 0:
        args.budget = None
    if "budget" in parts:
        bench_budget(args.time_scale, args.budget_scale, args.budget)
    if parts & {"rows", "noop"}:
        bench_rows_and_noop(args.database_url, args.rows_scale, parts)
    if "memory" in parts:
        bench_memory(tuple(args.memory_datasets.split(",")), args.memory_scale, args.database_url)


if __name__ == "__main__":
    main()
