"""``alphahome pit update`` and ``alphahome pit query``.

Exit codes (DESIGN.md §3): 0 every target built or was current; 1 some target failed; 2 bad usage, bad
configuration or an unreachable database — one clear line, nothing written.
"""

from __future__ import annotations

import asyncio
import shutil
import sys
import uuid
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import click

from alphahome.config.settings import LOG_LEVELS
from alphahome.errors import ConfigError
from alphahome.pit.update import parse_targets, run_pit_update

if TYPE_CHECKING:  # the query side pulls pandas; `pit update` never needs it, so it is imported on use
    import pandas as pd

    from alphahome.pit.builder import BuildResult


@click.group("pit")
def pit_group() -> None:
    """Point-in-time financial tables: build them, and ask what was known on a given day."""


@pit_group.command("update")
@click.option("--target", "targets", multiple=True,
              help="balance | income | financial_indicators | industry_classification | all "
                   "(repeatable, comma lists; default all). Indicators bring income and balance along.")
@click.option("--mode", type=click.Choice(["incremental", "full"]), default="incremental", show_default=True,
              help="incremental: redo what the raw tables changed since the last build; full: rebuild.")
@click.option("--parallel", is_flag=True, help="Build independent targets at the same time.")
@click.option("--workers", type=click.IntRange(min=1), default=2, show_default=True,
              help="Targets built at once with --parallel.")
@click.option("--log-level", "--log_level", "log_level", type=click.Choice(LOG_LEVELS, case_sensitive=False),
              default="INFO", show_default=True)
@click.option("--config", "config_path", type=click.Path(dir_okay=False), help="config.json to read.")
@click.argument("more_targets", nargs=-1, metavar="[TARGET]...")
def update_command(targets: tuple[str, ...], mode: str, parallel: bool, workers: int, log_level: str,
                   config_path: str | None, more_targets: tuple[str, ...]) -> int:
    """Build the PIT tables (schema pit) from the raw Tushare tables, inside the database.

    Words after the options are targets too, as the original took them: ``--target balance income``."""
    if more_targets and not targets:
        raise click.UsageError(f"unexpected argument(s) {' '.join(more_targets)}: use --target")
    return run_update_command(targets=targets + more_targets, mode=mode, parallel=parallel, workers=workers,
                              log_level=log_level, config_path=config_path)


def run_update_command(*, targets: tuple[str, ...] = (), mode: str = "incremental", parallel: bool = False,
                       workers: int = 2, log_level: str = "INFO", config_path: str | None = None) -> int:
    """The body of ``alphahome pit update`` (the production wrapper script calls it too)."""
    try:
        selected = parse_targets(targets)
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    settings = _settings(config_path)
    _logging(log_level, settings)
    started = datetime.now(UTC)
    run_id = f"pit-{started:%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:8]}"
    results = asyncio.run(_update(settings, selected, mode, parallel, workers, run_id))
    _print_summary(results)
    asyncio.run(_publish(settings, results, started, run_id))
    return 1 if any(r.status == "failed" for r in results) else 0


async def _publish(settings: Any, results: list[BuildResult], started: datetime, run_id: str) -> None:
    """Threshold alerts, textfile metrics and notifications for this build (docs/monitoring.md)."""
    from alphahome.monitoring.outcome import RunOutcome, TaskOutcome
    from alphahome.monitoring.publish import publish_outcome

    outcome = RunOutcome(
        kind="pit", run_id=run_id, started=started, finished=datetime.now(UTC),
        tasks=[TaskOutcome(r.target, "failed" if r.status == "failed" else "success", r.rows, 0, r.seconds,
                           r.error) for r in results],
    )
    outcome.add_threshold_alerts(settings.schedule.monitoring.alert_thresholds)
    await publish_outcome(outcome, settings)


async def _update(settings: Any, targets: list[str], mode: str, parallel: bool, workers: int,
                  run_id: str | None = None) -> list[BuildResult]:
    from alphahome.storage.configured import opened_backend

    async with opened_backend(settings) as backend:
        return await run_pit_update(backend, targets, mode, parallel=parallel, workers=workers,  # type: ignore[arg-type]
                                    run_id=run_id)


def _print_summary(results: list[BuildResult]) -> None:
    for r in results:
        line = f"{r.target:<24} {r.mode:<11} {r.status:<8} rows={r.rows:<9} {r.seconds:7.2f}s"
        if r.slices:
            line += f"  slices={r.slices}"
        if r.error:
            line += f"  error: {r.error}"
        click.echo(line)


@pit_group.command("query")
@click.option("--table", "table", required=True,
              help="income_quarterly|income, balance_quarterly|balance, financial_indicators|indicators, "
                   "industry_classification|industry.")
@click.option("--date", "day", required=True, help="As-of date, YYYY-MM-DD or YYYYMMDD.")
@click.option("--codes", default=None, help="Comma-separated ts_codes (default: every stock).")
@click.option("--fields", default=None,
              help="Comma-separated columns (default: all): Tushare field names, f_sq / f_ttm of income flow "
                   "items, or l1_code … l3_name for industry. The latest period is the newest answering "
                   "one of them.")
@click.option("--format", "fmt", type=click.Choice(["table", "csv"]), default="table", show_default=True)
@click.option("--config", "config_path", type=click.Path(dir_okay=False), help="config.json to read.")
def query_command(table: str, day: str, codes: str | None, fields: str | None, fmt: str,
                  config_path: str | None) -> int:
    """What was known on a day: each stock's latest report (or industry) as of --date."""
    from alphahome.pit.query import PitQueryError, query_columns, table_name, to_date

    try:
        name = table_name(table)
        when = to_date(day, "--date")
        field_list = [f.strip() for f in (fields or "").split(",") if f.strip()] or None
        query_columns(name, field_list)  # validates the names before touching the database
    except PitQueryError as exc:
        raise click.UsageError(str(exc)) from None
    settings = _settings(config_path)
    df = asyncio.run(_query(settings, name, when, codes, field_list))
    _print_frame(df, fmt)
    return 0


async def _query(settings: Any, name: str, when: Any, codes: str | None, fields: list[str] | None) -> pd.DataFrame:
    from alphahome.pit.query import as_of_async, industry_as_of_async
    from alphahome.storage.configured import opened_backend

    async with opened_backend(settings, read_only=True) as backend:
        if name == "industry_classification":
            return await industry_as_of_async(backend, when, codes, fields=fields)
        return await as_of_async(backend, name, when, codes, fields)


def _print_frame(df: pd.DataFrame, fmt: str) -> None:
    from alphahome.pit.output import render_table, write_csv

    if fmt == "csv":
        write_csv(df, sys.stdout)
        return
    if df.empty:
        click.echo("(no rows)")
        return
    click.echo(render_table(df, shutil.get_terminal_size().columns), nl=False)


def _settings(config_path: str | None) -> Any:
    from alphahome.config import load_settings

    return load_settings(config_path).settings


def _logging(level: str, settings: Any) -> None:
    from alphahome.updater.logging_setup import setup_logging

    secrets = settings.secret_values() if hasattr(settings, "secret_values") else ()
    setup_logging(level.upper(), None, secrets=secrets)
