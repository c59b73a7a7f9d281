"""``alphahome status``, ``alphahome runs`` and ``alphahome check`` (docs/monitoring.md): read-only views of
the tables and the run history, and a health probe for a monitoring system (exit 0 healthy, 1 not, 2 bad
usage or configuration)."""

from __future__ import annotations

import asyncio
import json
from datetime import date
from typing import Any

import click
from rich.table import Table

from alphahome.config.loader import load_settings
from alphahome.config.settings import Settings, parse_date
from alphahome.monitoring.health import (
    Finding,
    RunView,
    check_health,
    database_missing,
    group_runs,
    open_reader,
    run_history,
    status_rows,
)
from alphahome.storage.description import describe_backend
from alphahome.updater.commands import make_console
from alphahome.updater.summary import format_duration

_config = click.option("--config", "config_path", type=click.Path(dir_okay=False), help="config.json to read.")
_format = click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)


def _echo_json(document: Any) -> None:
    click.echo(json.dumps(document, indent=2, ensure_ascii=False, default=str))


async def _read(settings: Settings, work: Any) -> Any:
    store = await open_reader(settings)
    try:
        return await work(store)
    finally:
        await store.close()


# ------------------------------------------------------------------------------------------------ status


@click.command("status")
@_config
@_format
def status_command(config_path: str | None, fmt: str) -> int:
    """Per raw and PIT table: rows, latest date, last run or build, its result and duration."""
    settings = load_settings(config_path).settings

    async def read(store: Any) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        return describe_backend(store.backend), await status_rows(store)

    # Read-only: a mistyped DuckDB path is an error (exit 2), never a new empty file.
    database, rows = asyncio.run(_read(settings, read))
    if fmt == "json":
        _echo_json({"database": settings.database.masked_url, "engine": database, "tables": rows})
        return 0
    console = make_console()
    click.echo(f"database: {database['text']}")  # one unwrapped line: DuckDB, PostgreSQL, or Citus with N workers
    table = Table(title=f"AlphaHome status ({settings.database.masked_url})", title_justify="left")
    for column, justify in (("table", "left"), ("rows", "right"), ("latest date", "left"),
                            ("last run", "left"), ("result", "left"), ("duration", "right"),
                            ("error", "left")):
        table.add_column(column, justify=justify, overflow="fold")  # type: ignore[arg-type]
    for row in rows:
        table.add_row(
            row["table"], f"{row['rows']:,}" if row["exists"] else "-", row["latest"] or "-",
            row["last_run"][:16].replace("T", " ") if row["last_run"] else "never", row["result"] or "-",
            format_duration(row["seconds"]) if row["seconds"] is not None else "-", row["error"] or "",
        )
    console.print(table)
    return 0


# -------------------------------------------------------------------------------------------------- runs


@click.command("runs")
@click.option("--failed", is_flag=True, help="Only runs in which a dataset failed or was partial.")
@click.option("--limit", type=click.IntRange(min=1), default=20, show_default=True, help="Runs to list.")
@click.option("--show", "show", metavar="RUN_ID", help="Every dataset of one run, with its full error text.")
@_format
@_config
def runs_command(failed: bool, limit: int, show: str | None, fmt: str, config_path: str | None) -> int:
    """Past runs from alphahome.run_history, newest first."""
    settings = load_settings(config_path).settings
    runs: list[RunView] = []
    if not database_missing(settings):
        runs = group_runs(asyncio.run(_read(settings, run_history)))
    if show is not None:
        match = [r for r in runs if r.run_id == show or r.run_id.startswith(show)]
        if len(match) != 1:
            raise click.UsageError(f"--show {show}: " + ("no such run" if not match else "ambiguous run id"))
        return _show_run(match[0], fmt)
    if failed:
        runs = [r for r in runs if r.status != "success"]
    runs = runs[:limit]
    if fmt == "json":
        _echo_json([r.as_json(with_tasks=False) for r in runs])
        return 0
    if not runs:
        click.echo("no runs recorded yet")
        return 0
    table = Table(title="AlphaHome runs (newest first)", title_justify="left")
    for column in ("run id", "kind", "mode", "started", "duration", "status", "rows", "calls", "failed"):
        table.add_column(column, overflow="fold")
    for run in runs:
        seconds = _seconds(run.started, run.finished)
        table.add_row(run.run_id, run.kind, run.mode or "-", (run.started or "-")[:19].replace("T", " "),
                      format_duration(seconds) if seconds is not None else "-", run.status, f"{run.rows:,}",
                      f"{run.calls:,}", ", ".join(t["task"] for t in run.failed_tasks))
    make_console().print(table)
    return 0


def _seconds(start: str | None, end: str | None) -> float | None:
    from datetime import datetime

    if not start or not end:
        return None
    return (datetime.fromisoformat(end) - datetime.fromisoformat(start)).total_seconds()


def _show_run(run: RunView, fmt: str) -> int:
    if fmt == "json":
        _echo_json(run.as_json())
        return 0
    click.echo(f"run {run.run_id} ({run.kind}, {run.mode or '-'}): {run.status}; started {run.started}, "
               f"finished {run.finished}; {run.rows:,} rows, {run.calls:,} calls")
    for task in run.tasks:
        click.echo(f"  {task['task']}: {task['status']}, {task['rows']:,} rows, {task['calls']:,} calls")
        if task["error"]:
            click.echo(f"    error: {task['error']}")  # the full text, never cut
    return 0


# ------------------------------------------------------------------------------------------------- check


@click.command("check")
@click.option("--max-age-days", "--max_age_days", "max_age_days", type=click.IntRange(min=0), default=0,
              show_default=True, help="Calendar days a dataset may lag behind its expected date.")
@click.option("--as-of", "as_of", hidden=True, help="The day the check counts as today (tests).")
@_format
@_config
def check_command(max_age_days: int, as_of: str | None, fmt: str, config_path: str | None) -> int:
    """Exit 0 when every enabled dataset is current and the last runs succeeded; else exit 1 naming what
    is stale or failed. For a monitoring system's probe."""
    settings = load_settings(config_path).settings
    try:
        today = parse_date(as_of) if as_of else date.today()
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--as-of") from None
    if database_missing(settings):
        findings = [Finding("database", f"{settings.database.masked_url} does not exist yet")]
    else:
        findings = asyncio.run(_read(settings, lambda store: check_health(store, settings, today, max_age_days)))
    if fmt == "json":
        _echo_json({"ok": not findings, "as_of": today.isoformat(),
                    "problems": [{"what": f.what, "problem": f.problem} for f in findings]})
    elif findings:
        for f in findings:
            click.echo(f"{f.what}: {f.problem}")
    else:
        click.echo(f"ok: every enabled dataset is current as of {today:%Y-%m-%d} and the last runs succeeded")
    return 1 if findings else 0
