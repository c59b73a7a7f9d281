"""The ``alphahome`` command. Sub-commands live beside the layer they drive and are imported lazily,
so ``alphahome --help`` stays fast and one broken layer never hides the others."""

from __future__ import annotations

import importlib
import sys

import click

from alphahome import __version__
from alphahome.errors import AlphaHomeError

#: command name -> ("module:attribute" of its click command or group, one line for ``alphahome --help``).
#: The line is written here so that listing the commands imports none of them (pandas, aiohttp, pydantic…);
#: tests/test_cli_startup.py checks that every name resolves to its command and that listing imports none.
COMMANDS: dict[str, tuple[str, str]] = {
    "demo": ("alphahome.demo:demo_command",
             "Run the whole Tushare update (and the PIT build) against the local sandbox."),
    "tushare": ("alphahome.updater.commands:tushare_group", "Tushare Pro data: the smart incremental update."),
    "pit": ("alphahome.pit.commands:pit_group",
            "Point-in-time financial tables: build them, and ask what was known on a given day."),
    "tasks": ("alphahome.tasks.commands:tasks_command",
              "List the datasets AlphaHome syncs: API, key, schedule and state."),
    "status": ("alphahome.updater.health_commands:status_command",
               "Per raw and PIT table: rows, latest date, last run or build."),
    "runs": ("alphahome.updater.health_commands:runs_command", "Past runs from alphahome.run_history, newest first."),
    "check": ("alphahome.updater.health_commands:check_command",
              "Exit 0 when every enabled dataset is current and the last runs succeeded."),
    "query": ("alphahome.data.commands:query_command", "Rows of a synced DATASET, as a table, CSV or Parquet."),
    "config": ("alphahome.config.commands:config_group", "Show, create and check the configuration."),
    "sandbox": ("alphahome.sandbox.commands:sandbox_group",
                "The local Tushare-Pro-compatible sandbox over a deterministic market."),
}


class LazyGroup(click.Group):
    """A group whose sub-commands are imported only when used, never to be listed."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        entry = COMMANDS.get(cmd_name)
        if entry is None:
            return None
        module_name, attr = entry[0].split(":")
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name == module_name:
                return None
            raise
        return getattr(module, attr, None)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        with formatter.section("Commands"):
            formatter.write_dl([(name, line) for name, (_, line) in COMMANDS.items()])


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="alphahome")
def cli() -> None:
    """AlphaHome: keep a warehouse of Tushare Pro market data in sync and build point-in-time tables."""


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point: run the CLI and turn AlphaHome errors into one clear line."""
    try:
        rv = cli.main(args=argv, prog_name="alphahome", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except AlphaHomeError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(exc.exit_code)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        click.echo("Interrupted.", err=True)
        sys.exit(130)
    # Commands may return their exit code (0 ok, 1 some task failed, 2 bad usage/configuration).
    sys.exit(rv if isinstance(rv, int) else 0)


if __name__ == "__main__":
    main()
