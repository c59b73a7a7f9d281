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
    """How a dataset is requested and refreshed, in a few words."""
    split = spec.split
    if split.kind == "snapshot":
        every = "every run" if spec.refresh_days == 0 else f"every {spec.refresh_days}d"
        variants = ",".join("/".join(v.values()) for v in spec.variants if v)
        return f"snapshot {every}" + (f" ({variants})" if variants else "")
    if split.kind == "trade_dates":
        shape = "date windows" if split.window else f"per {split.date_param}"
        return f"whole market, {shape}; look-back {spec.lookback_days}d"
    whose = f"{len(split.codes)} listed codes" if split.codes else f"{split.codes_from.split('.')[0]} codes"
    if split.kind == "code_dates":
        return f"per code ({whose}), date windows; look-back {spec.lookback_days}d"
    if split.kind == "code_months":
        return f"per code ({whose}), month windows; last 2 months re-fetched"
    if split.kind == "periods":
        api = spec.api_for(points)
        if spec.vip_api is not None and api != spec.vip_api:
            return f"per stock (needs {spec.vip_points} points for per-period); open {spec.open_days}d"
        return f"per {split.date_param}; periods open {spec.open_days}d re-fetched"
    return "per stock"


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
    for column in ("dataset", "category", "api", "key", "schedule", "state"):
        table.add_column(column, overflow="fold")
    for spec in CATALOGUE:
        api = spec.api_for(points)
        api_text = api if spec.points <= points or api != spec.api else f"{api} (needs {spec.points} points)"
        table.add_row(spec.name, spec.category, api_text, ", ".join(spec.key), schedule_text(spec, points),
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
