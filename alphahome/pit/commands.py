"""``alphahome pit update`` and ``alphahome pit query``.

Exit codes (DESIGN.md §3): 0 every target built or was current; 1 some target failed; 2 bad usage, bad
configuration or an unreachable database — one clear line, nothing written.
"""

from __future__ import annotations

import asyncio
import sys
from typing import Any

import click
import pandas as pd

from alphahome.errors import ConfigError
from alphahome.pit.builder import BuildResult
from alphahome.pit.query import (
    PitQueryError,
    as_of_async,
    industry_as_of_async,
    output_columns,
    table_name,
    to_date,
)
from alphahome.pit.update import parse_targets, run_pit_update

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


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
def update_command(targets: tuple[str, ...], mode: str, parallel: bool, workers: int, log_level: str,
                   config_path: str | None) -> int:
    """Build the PIT tables (schema pit) from the raw Tushare tables, inside the database."""
    return run_update_command(targets=targets, mode=mode, parallel=parallel, workers=workers,
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
    results = asyncio.run(_update(settings, selected, mode, parallel, workers))
    _print_summary(results)
    return 1 if any(r.status == "failed" for r in results) else 0


async def _update(settings: Any, targets: list[str], mode: str, parallel: bool, workers: int) -> list[BuildResult]:
    from alphahome.storage import open_backend

    async with open_backend(settings.database.url, _pool(settings), settings.database.citus) as backend:
        return await run_pit_update(backend, targets, mode, parallel=parallel, workers=workers)  # type: ignore[arg-type]


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
@click.option("--fields", default=None, help="Comma-separated Tushare field names (default: all).")
@click.option("--format", "fmt", type=click.Choice(["table", "csv"]), default="table", show_default=True)
@click.option("--config", "config_path", type=click.Path(dir_okay=False), help="config.json to read.")
def query_command(table: str, day: str, codes: str | None, fields: str | None, fmt: str,
                  config_path: str | None) -> int:
    """What was known on a day: each stock's latest report (or industry) as of --date."""
    try:
        name = table_name(table)
        when = to_date(day, "--date")
        field_list = [f for f in (fields or "").split(",") if f.strip()] or None
        if name == "industry_classification":
            if field_list:
                raise PitQueryError("--fields does not apply to industry_classification")
        else:
            output_columns(name, field_list)  # validates the names before touching the database
    except PitQueryError as exc:
        raise click.UsageError(str(exc)) from None
    settings = _settings(config_path)
    df = asyncio.run(_query(settings, name, when, codes, field_list))
    _print_frame(df, fmt)
    return 0


async def _query(settings: Any, name: str, when: Any, codes: str | None, fields: list[str] | None) -> pd.DataFrame:
    from alphahome.storage import open_backend

    async with open_backend(settings.database.url, _pool(settings), settings.database.citus) as backend:
        if name == "industry_classification":
            return await industry_as_of_async(backend, when, codes)
        return await as_of_async(backend, name, when, codes, fields)


def _print_frame(df: pd.DataFrame, fmt: str) -> None:
    out = df.copy()
    for col in out.columns:
        if pd.api.types.is_datetime64_any_dtype(out[col]):
            out[col] = out[col].dt.strftime("%Y-%m-%d")
    if fmt == "csv":
        sys.stdout.write(out.to_csv(index=False))
        return
    if out.empty:
        click.echo("(no rows)")
        return
    click.echo(out.to_string(index=False, na_rep="", float_format=_number))


def _pool(settings: Any) -> dict[str, Any] | None:
    pool = settings.database.pool_config
    return pool.model_dump(exclude_none=True) if hasattr(pool, "model_dump") else pool


def _number(x: float) -> str:
    """Amounts in CNY with two decimals, ratios and per-share values with six significant digits."""
    return f"{x:.2f}" if abs(x) >= 1e4 else f"{x:.6g}"


def _settings(config_path: str | None) -> Any:
    from alphahome.config import load_settings

    return load_settings(config_path).settings


def _logging(level: str, settings: Any) -> None:
    from alphahome.updater.logging_setup import setup_logging

    secrets = settings.secret_values() if hasattr(settings, "secret_values") else ()
    setup_logging(level.upper(), None, secrets=secrets)
