"""``alphahome tushare update`` and ``alphahome status``.

Exit codes (DESIGN.md §3): 0 every selected task succeeded or was already current; 1 some failed (or
another run holds the lock); 2 bad usage or configuration, an unreachable database or a rejected token —
one clear line, nothing written.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import tempfile
from datetime import date
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.table import Table

from alphahome.config.loader import LoadedSettings, load_settings
from alphahome.config.masking import redact
from alphahome.config.settings import LOG_LEVELS, Settings, parse_date
from alphahome.errors import AlphaHomeError, ConfigError
from alphahome.sources.tushare.errors import TokenRejected
from alphahome.storage.description import describe_backend
from alphahome.tasks.catalogue import CATALOGUE, DATASETS
from alphahome.tasks.planner import TaskPlan
from alphahome.tasks.sync_store import SyncStore
from alphahome.updater.logging_setup import setup_logging
from alphahome.updater.progress import RunProgress
from alphahome.updater.summary import format_duration, print_summary
from alphahome.updater.updater import (
    RUN_LOCK_NAME,
    Updater,
    UpdateReport,
    UpdateRequest,
    effective_today,
    estimate_run_seconds,
    estimate_seconds,
    select_datasets,
)


def make_console() -> Console:
    """The console: rich on a terminal; in cron/pipes plain text 160 columns wide (no colour codes)."""
    console = Console()
    if not console.is_terminal:
        console = Console(width=160, no_color=True, highlight=False)
    return console


def _names(values: tuple[str, ...]) -> tuple[str, ...]:
    """``--tasks a,b --tasks c`` -> (a, b, c)."""
    out: list[str] = []
    for value in values:
        out += [v.strip() for v in value.split(",") if v.strip()]
    return tuple(dict.fromkeys(out))


def _date(_ctx: click.Context, param: click.Parameter, value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return parse_date(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint=f"--{param.name.replace('_', '-')}") from None  # type: ignore[union-attr]


@click.group("tushare")
def tushare_group() -> None:
    """Tushare Pro data: the smart incremental update."""


@tushare_group.command("update")
@click.option("--workers", type=click.IntRange(min=1), help="Tasks run at once (production.max_workers).")
@click.option("--max_retries", "--max-retries", "max_retries", type=click.IntRange(min=0),
              help="Retries of a failed batch (production.max_retries).")
@click.option("--retry_delay", "--retry-delay", "retry_delay", type=click.FloatRange(min=0),
              help="Seconds before the first retry, doubling after (production.retry_delay).")
@click.option("--log_level", "--log-level", "log_level", type=click.Choice(LOG_LEVELS, case_sensitive=False),
              help="Log level (production.log_level).")
@click.option("--dry-run", "--dry_run", "dry_run", is_flag=True, default=None,
              help="Print each task's missing ranges, estimated calls and time; fetch and write nothing.")
@click.option("--no-dry-run", "no_dry_run", is_flag=True, default=False, hidden=True,
              help="Run for real even if the scheduling file enables dry runs.")
@click.option("--tasks", "tasks", multiple=True, help="Datasets to update (comma list, repeatable). Default: all.")
@click.option("--exclude", "exclude", multiple=True, help="Datasets to skip (comma list, repeatable).")
@click.option("--start-date", "--start_date", "start_date", callback=_date,
              help="Manual range start (YYYYMMDD or YYYY-MM-DD, inclusive).")
@click.option("--end-date", "--end_date", "end_date", callback=_date,
              help="Manual range end (inclusive); with --mode smart, the day the run counts as today.")
@click.option("--mode", type=click.Choice(["smart", "full", "manual"]),
              help="smart (default): what is missing; full: everything again; manual: --start-date..--end-date.")
@click.option("--config", "config_path", type=click.Path(dir_okay=False), help="config.json to read.")
@click.option("--schedule-config", "--schedule_config", "schedule_path", type=click.Path(dir_okay=False),
              help="Scheduling YAML to read.")
@click.option("--env", "env_name", type=click.Choice(["development", "production"]),
              help="Apply that section of the scheduling YAML.")
def update_command(**options: Any) -> int:
    """The smart incremental update of every Tushare dataset (see `alphahome tasks`)."""
    return run_update_command(**options)


def run_update_command(
    *,
    workers: int | None = None,
    max_retries: int | None = None,
    retry_delay: float | None = None,
    log_level: str | None = None,
    dry_run: bool | None = None,
    no_dry_run: bool = False,
    tasks: tuple[str, ...] = (),
    exclude: tuple[str, ...] = (),
    start_date: date | None = None,
    end_date: date | None = None,
    mode: str | None = None,
    config_path: str | None = None,
    schedule_path: str | None = None,
    env_name: str | None = None,
    console: Console | None = None,
    limiter_time_scale: float = 1.0,
) -> int:
    """The body of ``alphahome tushare update`` (also used by the production wrapper script)."""
    if start_date is not None and mode is None:
        mode = "manual"
    mode = mode or "smart"
    if mode == "manual" and start_date is None:
        raise ConfigError("--mode manual needs --start-date (and optionally --end-date)")
    if mode != "manual" and start_date is not None:
        raise ConfigError(f"--start-date only applies to manual mode, not --mode {mode}")
    if start_date and end_date and end_date < start_date:
        raise ConfigError(f"--end-date {end_date:%Y%m%d} is before --start-date {start_date:%Y%m%d}")
    loaded = load_settings(
        config_path, schedule_path, env_name,
        flag_overrides={
            "production.max_workers": workers,
            "production.max_retries": max_retries,
            "production.retry_delay": retry_delay,
            "production.log_level": log_level.upper() if log_level else None,
            "production.enable_dry_run": True if dry_run else (False if no_dry_run else None),
        },
    )
    loaded.check_task_names(DATASETS)
    settings = loaded.settings
    console = console or make_console()
    production = settings.schedule.production
    rich_console = console if console.is_terminal else None
    log_path = setup_logging(production.log_level, production.log_file, secrets=settings.secret_values(),
                             rich_console=rich_console)
    request = UpdateRequest(
        mode=mode,  # type: ignore[arg-type]
        tasks=_names(tasks),
        exclude=_names(exclude),
        start=start_date,
        end=end_date,
        dry_run=production.enable_dry_run,
    )
    request = UpdateRequest(**{**request.__dict__, "today": effective_today(request)})
    select_datasets(settings, request)  # unknown names are a usage error before anything is opened
    try:
        return asyncio.run(_update(loaded, request, console, limiter_time_scale, log_path))
    except TokenRejected as exc:
        raise _OneLine(redact(str(exc), settings.secret_values()), 2) from None


class _OneLine(AlphaHomeError):
    """An error shown as one line with its own exit code."""

    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message)
        self.exit_code = exit_code


async def _update(loaded: LoadedSettings, request: UpdateRequest, console: Console, time_scale: float,
                  log_path: Path | None) -> int:
    settings = loaded.settings
    if request.dry_run:
        return await _dry_run(settings, request, console)
    store = await SyncStore.open(settings)
    try:
        async with store.run_lock(RUN_LOCK_NAME):
            progress = RunProgress(console)
            updater = Updater(settings, store, request, progress=progress.advance,
                              on_task_start=progress.start_task, limiter_time_scale=time_scale)
            with progress:
                report = await updater.run()
            _finish(console, report, settings, log_path)
            return report.exit_code
    finally:
        await store.close()


async def _dry_run(settings: Settings, request: UpdateRequest, console: Console) -> int:
    """Plan every task from what the database holds, print it, write nothing (a DuckDB file that does not
    exist yet is not created: an empty stand-in in a temporary directory is planned against instead)."""
    path = settings.database.duckdb_path
    with tempfile.TemporaryDirectory(prefix="alphahome-dry-run-") as scratch:
        if path is not None and not path.exists():
            settings = settings.model_copy(update={"database": settings.database.model_copy(
                update={"url": f"duckdb:///{Path(scratch) / 'empty.duckdb'}"})})
        store = await SyncStore.open(settings)
        try:
            plans = await Updater(settings, store, request).dry_run()
        finally:
            await store.close()
    print_plans(console, plans, settings, request)
    return 0


def _finish(console: Console, report: UpdateReport, settings: Settings, log_path: Path | None) -> None:
    """Performance lines and alerts (log), then the summary table and where the log is."""
    monitoring = settings.schedule.monitoring
    thresholds = monitoring.alert_thresholds
    log = logging.getLogger("alphahome.updater")
    for r in report.results:
        if monitoring.enable_performance_log and r.status != "skipped":
            rate = r.rows / r.duration if r.duration > 0 else 0.0
            log.info("perf %s: %d rows, %d calls, %.1fs, %.0f rows/s", r.dataset, r.rows, r.calls,
                     r.duration, rate)
        if r.duration > thresholds.max_execution_time:
            log.warning("ALERT: %s ran %s, longer than max_execution_time %gs", r.dataset,
                        format_duration(r.duration), thresholds.max_execution_time)
    ran = [r for r in report.results if r.status != "skipped"]
    if ran:
        rate = sum(r.status == "success" for r in ran) / len(ran)
        if rate < thresholds.success_rate:
            log.warning("ALERT: success rate %.0f%% is below the threshold %.0f%%", rate * 100,
                        thresholds.success_rate * 100)
    print_summary(console, report.results, report.wall_seconds)
    if log_path is not None:
        console.print(f"log: {log_path}")


def print_plans(console: Console, plans: list[TaskPlan], settings: Settings, request: UpdateRequest) -> None:
    """The dry-run output: each task, its missing ranges, estimated calls and time at current budgets."""
    table = Table(title=f"Dry run ({request.mode} mode, up to {request.today:%Y-%m-%d}): nothing is fetched "
                        "or written", title_justify="left")
    table.add_column("dataset")
    table.add_column("api")
    table.add_column("missing ranges", overflow="fold")
    table.add_column("calls", justify="right")
    table.add_column("est. time", justify="right")
    table.add_column("note", overflow="fold")
    for plan in plans:
        ranges = plan.ranges
        shown = "; ".join(ranges[:4]) + (f"; … (+{len(ranges) - 4} more)" if len(ranges) > 4 else "")
        table.add_row(plan.dataset, plan.api, shown or "-", f"{plan.calls:,}",
                      format_duration(estimate_seconds(plan, settings)) if plan.calls else "-",
                      plan.note)
    console.print(table)
    total = sum(p.calls for p in plans)
    console.print(f"{len(plans)} task(s), ~{total:,} call(s), about "
                  f"{format_duration(estimate_run_seconds(plans, settings))} at the current budgets")


# ------------------------------------------------------------------------------------------------ status


@click.command("status")
@click.option("--config", "config_path", type=click.Path(dir_okay=False), help="config.json to read.")
def status_command(config_path: str | None) -> int:
    """Per table: rows, latest date, last run, its result and duration."""
    settings = load_settings(config_path).settings
    console = make_console()
    found = asyncio.run(_status_rows(settings))
    if found is None:
        console.print(f"database {settings.database.masked_url} does not exist yet: run `alphahome tushare update`")
        return 0
    database, rows = found
    click.echo(f"database: {database['text']}")  # one unwrapped line: PostgreSQL, or Citus with N workers
    table = Table(title=f"AlphaHome status ({settings.database.masked_url})", title_justify="left")
    for column, justify in (("table", "left"), ("rows", "right"), ("latest date", "left"),
                            ("last run", "left"), ("result", "left"), ("duration", "right"),
                            ("error", "left")):
        table.add_column(column, justify=justify, overflow="fold")  # type: ignore[arg-type]
    for row in rows:
        table.add_row(*row)
    console.print(table)
    return 0


async def _status_rows(settings: Settings) -> tuple[dict[str, Any], list[tuple[str, ...]]] | None:
    path = settings.database.duckdb_path
    if path is not None and not path.exists():
        return None
    store = await SyncStore.open(settings)
    try:
        out: list[tuple[str, ...]] = []
        runs = await store.last_runs()
        for spec in CATALOGUE:
            stats = await store.table_stats(spec)
            run = runs.get(spec.name)
            out.append((
                f"tushare.{spec.table_name}",
                f"{stats.rows:,}" if stats.exists else "-",
                stats.latest or "-",
                run.started.strftime("%Y-%m-%d %H:%M") if run else "never",
                run.status if run else "-",
                format_duration(run.duration) if run else "-",
                (run.error or "")[:120] if run else "",
            ))
        return describe_backend(store.backend), out
    finally:
        await store.close()


def main_update(argv: list[str] | None = None) -> None:
    """Entry point of the production wrapper script: ``alphahome tushare update`` with its flags."""
    from alphahome.cli import main

    main(["tushare", "update", *(sys.argv[1:] if argv is None else argv)])

