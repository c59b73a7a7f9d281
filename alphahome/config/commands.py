"""``alphahome config show|init|validate``: explain, create and check the configuration."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import click

from alphahome.config.loader import ENV_SECTIONS, LoadedSettings, config_file_path, load_settings
from alphahome.config.settings import starter_config
from alphahome.errors import ConfigError

_config_option = click.option(
    "--config",
    "config_path",
    metavar="PATH",
    help="config.json to read (default: $ALPHAHOME_CONFIG, else ~/.alphahome/config.json).",
)
_schedule_option = click.option(
    "--schedule-config",
    "schedule_path",
    metavar="PATH",
    help="Scheduling YAML (default: $ALPHAHOME_SCHEDULE_CONFIG, else "
    "scripts/production/config/tushare_update_config.yaml under the working directory, else built-in).",
)


@click.group("config")
def config_group() -> None:
    """Show, create and check the configuration (config.json, environment, scheduling YAML)."""


@config_group.command("show")
@_config_option
@_schedule_option
@click.option(
    "--env",
    "env_name",
    type=click.Choice(sorted(ENV_SECTIONS)),
    help="Apply the YAML's development or production_override section.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "json"]),
    default="table",
    show_default=True,
    help="table: a table on a terminal, aligned text otherwise; json: machine-readable.",
)
def show_command(config_path: str | None, schedule_path: str | None, env_name: str | None, fmt: str) -> None:
    """Print every effective value and where it came from (flag, environment, file, default).

    The token and the database password are masked."""
    loaded = load_settings(config_path, schedule_path, env_name)
    values = loaded.values()
    files = _file_lines(loaded)
    database = _database_kind(loaded)
    if fmt == "json":
        document = {
            **files,
            "database": database,
            "values": {
                key: {"value": value, "source": loaded.sources[key]}
                | ({"note": loaded.notes[key]} if key in loaded.notes else {})
                for key, value in values.items()
            },
        }
        click.echo(json.dumps(document, indent=2, ensure_ascii=False))
        return
    rows = [(key, _text(value), _source_text(loaded, key)) for key, value in values.items()]
    for label, text in {**files, "database": database["text"]}.items():
        click.echo(f"{label + ':':<15}{text}")
    if sys.stdout.isatty():
        from rich.console import Console
        from rich.table import Table

        table = Table("key", "value", "source")
        for row in rows:
            table.add_row(*row)
        Console().print(table)
        return
    key_width = max(len(r[0]) for r in rows)
    value_width = min(max(len(r[1]) for r in rows), 48)
    click.echo("")
    for key, value, source in rows:
        click.echo(f"{key:<{key_width}}  {value:<{value_width}}  {source}".rstrip())


@config_group.command("init")
@click.option(
    "--path",
    "path",
    metavar="PATH",
    help="Where to write (default: $ALPHAHOME_CONFIG, else ~/.alphahome/config.json).",
)
@click.option("--force", is_flag=True, help="Replace an existing file.")
def init_command(path: str | None, force: bool) -> None:
    """Write a starter config.json (the content of config.example.json, token empty).

    Never overwrites an existing file unless --force is given. The file is created readable by its owner
    only, since it will hold the token."""
    target = Path(path).expanduser().absolute() if path else config_file_path()
    if target.is_dir():
        raise ConfigError(f"{target} is a directory; give the path of the file to write")
    if target.exists() and not force:
        raise ConfigError(f"{target} already exists; not overwriting it (use --force to replace it)")
    text = json.dumps(starter_config(), indent=2, ensure_ascii=False) + "\n"
    partial = target.with_name(target.name + ".partial")
    try:
        target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
        os.replace(partial, target)  # a crash never leaves a half-written config
    except OSError as exc:
        partial.unlink(missing_ok=True)
        raise ConfigError(f"cannot write {target}: {exc.strerror or exc}") from None
    click.echo(f"Wrote {target}")
    click.echo(
        "Next: put your Tushare token in api.tushare_token (or the TUSHARE_TOKEN variable), set "
        "database.url if you use PostgreSQL, then run `alphahome config validate`."
    )


@config_group.command("validate")
@_config_option
@_schedule_option
def validate_command(config_path: str | None, schedule_path: str | None) -> None:
    """Check config.json, the environment and the scheduling YAML (both --env sections).

    Runs exactly the checks ``tushare update`` runs before it starts (dataset names against the catalogue,
    the token, the log and metrics locations). Exits 0 and prints OK, or exits 2 listing every problem
    with its file and key path."""
    from alphahome.updater.preflight import preflight

    loaded = load_settings(config_path, schedule_path)
    preflight(loaded)
    click.echo("OK")
    for label, text in _file_lines(loaded).items():
        click.echo(f"  {label + ':':<15}{text}")


def _database_kind(loaded: LoadedSettings) -> dict[str, Any]:
    """DuckDB, PostgreSQL, or Citus with its workers (a short connection; see alphahome/storage/description.py)."""
    import asyncio

    from alphahome.storage.description import probe_database

    database = loaded.settings.database
    return asyncio.run(probe_database(database.url, database.citus))


def _file_lines(loaded: LoadedSettings) -> dict[str, str]:
    env = loaded.env_name
    return {
        "config file": str(loaded.config_path)
        if loaded.config_path
        else f"none at {config_file_path()} (built-in defaults)",
        "schedule file": str(loaded.schedule_path) if loaded.schedule_path else "none (built-in defaults)",
        "env": f"{env} (section {ENV_SECTIONS[env]} applied)"
        if env
        else "none (no override section applied)",
    }


def _text(value: object) -> str:
    if value is None:
        return "(unset)"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ", ".join(map(str, value)) if value else "(none)"
    if isinstance(value, dict) and not value:
        return "(none)"
    return str(value)


def _source_text(loaded: LoadedSettings, key: str) -> str:
    note = loaded.notes.get(key)
    return f"{loaded.sources[key]} ({note})" if note else loaded.sources[key]
