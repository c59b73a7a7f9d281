"""``alphahome tasks``: the catalogue, each dataset with its API, key, schedule and state."""

from __future__ import annotations

import asyncio

import click
from rich.table import Table

from alphahome.config.loader import load_settings
from alphahome.config.settings import Settings
from alphahome.errors import AlphaHomeError
from alphahome.tasks.catalogue import CATALOGUE
from alphahome.tasks.spec import DatasetSpec


def schedule_text(spec: DatasetSpec, points: int) -> str:
    """How a dataset is requested and refreshed, in a few words (its request shape's description)."""
    return spec.shape.describe(spec, points)


@click.command("tasks")
@click.option("--config", "config_path", type=click.Path(dir_okay=False), help="config.json to read.")
def tasks_command(config_path: str | None) -> int:
    """List the datasets AlphaHome syncs: API, key, schedule and state in the database."""
    from alphahome.updater.commands import make_console

    settings = load_settings(config_path).settings
    console = make_console()
    states, problem = asyncio.run(_states(settings))
    points = settings.api.tushare_points
    table = Table(title=f"Datasets ({len(CATALOGUE)}; points tier {points})", title_justify="left")
    for column in ("dataset", "family", "api", "key", "schedule", "state"):
        table.add_column(column, overflow="fold")
    for spec in CATALOGUE:
        api = spec.api_for(points)
        api_text = api if spec.points <= points or api != spec.api else f"{api} (needs {spec.points} points)"
        table.add_row(spec.name, spec.family, api_text, ", ".join(spec.key), schedule_text(spec, points),
                      states.get(spec.name, "-"))
    console.print(table)
    if problem:
        console.print(f"[yellow]state not shown: {problem}[/]")
    return 0


async def _states(settings: Settings) -> tuple[dict[str, str], str | None]:
    """Each dataset's state, read-only (beside other readers). The catalogue is worth showing without a
    database, so a missing file or a database that cannot be opened is a note, not an error."""
    from alphahome.tasks.sync_store import opened_store

    try:
        async with opened_store(settings, read_only=True) as store:
            runs = await store.last_runs()
            out = {}
            for spec in CATALOGUE:
                complete = len(await store.completed(spec))
                run = runs.get(spec.name)
                last = f"; last run {run.status} {run.started:%Y-%m-%d %H:%M}" if run else "; never run"
                out[spec.name] = f"{complete:,} partition(s) complete{last}"
            return out, None
    except AlphaHomeError as exc:
        return {}, str(exc)
