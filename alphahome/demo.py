"""``alphahome demo``: the whole pipeline on a laptop, with no token and no network.

Starts the sandbox (a Tushare-compatible server over a deterministic synthetic market) on a free loopback
port inside this process, runs the full Tushare update into a DuckDB file, prints the summary, then hands
over to the PIT step (build + a sample as-of query) when the PIT package provides it.
"""

from __future__ import annotations

import asyncio
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import click
from rich.console import Console

from alphahome import api
from alphahome.config.loader import load_settings
from alphahome.sandbox.tokens import sandbox_token
from alphahome.tasks.catalogue import CATALOGUE
from alphahome.tasks.shapes import ReportPeriods
from alphahome.tasks.sync_store import SyncStore, opened_store
from alphahome.updater.logging_setup import setup_logging
from alphahome.updater.progress import RunProgress
from alphahome.updater.summary import print_summary

#: Where the demo database goes unless --path says otherwise.
DEFAULT_DEMO_PATH = Path("~/.alphahome/demo.duckdb")
#: A tier that opens every API of the catalogue (the boards and ETF APIs need 6000-8000 points).
DEMO_POINTS = 10000
DEMO_TOKEN = sandbox_token("points-10000")
#: Datasets that cost one call per date are synced over this many recent days.
DEMO_PER_DATE_DAYS = 45
#: Report periods swept before the sandbox market's first year.
DEMO_REPORT_YEARS = 5


@click.command("demo")
@click.option("--path", "path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help=f"DuckDB file to fill (default {DEFAULT_DEMO_PATH}).")
@click.option("--scale", type=click.Choice(["small", "demo", "large"]), default="demo", show_default=True,
              help="Size of the synthetic market (small: 24 stocks/2 years; demo: 300/3; large: 5000/10).")
@click.option("--seed", type=click.IntRange(min=0), default=42, show_default=True,
              help="Seed of the synthetic market (same seed, same data).")
@click.option("--workers", type=click.IntRange(min=1), default=4, show_default=True, help="Tasks run at once.")
def demo_command(path: Path | None, scale: str, seed: int, workers: int) -> int:
    """Run the whole Tushare update (and the PIT build) against the built-in sandbox into a DuckDB file."""
    target = (path or DEFAULT_DEMO_PATH).expanduser().absolute()
    target.parent.mkdir(parents=True, exist_ok=True)
    console = Console()
    console.print(f"AlphaHome demo: sandbox market (scale {scale}, seed {seed}) -> [bold]{target}[/]")
    return asyncio.run(run_demo(target, scale=scale, seed=seed, workers=workers, console=console))


async def run_demo(target: Path, *, scale: str = "demo", seed: int = 42, workers: int = 4,
                   console: Console | None = None) -> int:
    """The demo's body: sandbox up, full update into ``target``, summary, PIT step. Returns the exit code."""
    from alphahome.sandbox.server import SandboxServer

    console = console or Console()
    started = time.monotonic()
    async with SandboxServer(seed=seed, scale=scale, tokens={DEMO_TOKEN: DEMO_POINTS}) as server:
        console.print(f"sandbox listening on {server.url} (started in {server.startup_seconds or 0:.1f}s)")
        log_file = target.parent / "logs" / "demo_update.log"
        market_start: date = server.market.start_date  # type: ignore[attr-defined]
        # The synthetic market has no reports older than a few years before its first trading day (the
        # oldest are prospectus figures): start the report-period sweep there instead of in 1990.
        history_start = date(market_start.year - DEMO_REPORT_YEARS, 1, 1).strftime("%Y%m%d")
        starts = {f"tasks.{spec.name}.default_start_date": history_start
                  for spec in CATALOGUE if isinstance(spec.shape, ReportPeriods)}
        # APIs without a date window cost one call per date: the demo syncs their last weeks only.
        market_end_day: date = server.market.end_date  # type: ignore[attr-defined]
        recent = (market_end_day - timedelta(days=DEMO_PER_DATE_DAYS)).strftime("%Y%m%d")
        starts.update({f"tasks.{spec.name}.default_start_date": recent
                       for spec in CATALOGUE if spec.shape.one_call_per_date})
        settings = load_settings(flag_overrides={
            **starts,
            "database.url": f"duckdb:///{target}",
            "api.tushare_token": DEMO_TOKEN,
            "api.tushare_api_url": server.url,
            "api.tushare_points": DEMO_POINTS,
            "production.max_workers": workers,
            "production.retry_delay": 0.5,
            "production.log_file": str(log_file),
            "production.log_level": "WARNING",
        }, environ={}).settings
        setup_logging("WARNING", log_file, secrets=settings.secret_values(),
                      rich_console=console if console.is_terminal else None)
        market_end: date = server.market.end_date  # type: ignore[attr-defined]
        # The store stays open after the update for the PIT step (one writer on the file throughout).
        async with opened_store(settings) as store:
            progress = RunProgress(console)
            with progress:
                report = await api.update_async(settings, api.request(today=market_end), progress=progress.advance,
                                                on_task_start=progress.start_task, store=store)
            print_summary(console, report.results, report.wall_seconds)
            console.print(f"{server.stats.total_calls:,} calls answered by the sandbox")
            await pit_demo_step(store, console, market_end)
    console.print(f"demo database: {target}  (total {time.monotonic() - started:.1f}s)")
    console.print(f"try: DATABASE_URL=duckdb:///{target} alphahome status")
    return report.exit_code


async def pit_demo_step(store: SyncStore, console: Console, as_of: date) -> None:
    """HOOK for the PIT layer: build the PIT tables and print a sample as-of query.

    Calls ``alphahome.pit.demo.demo_step(backend, console, as_of)`` when the PIT package provides it;
    until then it says so and the demo ends after the Tushare update.
    """
    try:
        from alphahome.pit import demo as pit_demo
    except ImportError:
        console.print("PIT build: not available in this version (alphahome.pit.demo is missing)")
        return
    step: Any = getattr(pit_demo, "demo_step", None)
    if step is None:
        console.print("PIT build: alphahome.pit.demo has no demo_step yet")
        return
    await step(store.backend, console, as_of)
