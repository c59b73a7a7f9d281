"""The ``alphahome`` command. Sub-commands live beside the layer they drive and are imported lazily,
so ``alphahome --help`` stays fast and one broken layer never hides the others."""

from __future__ import annotations

import importlib
import sys

import click

from alphahome import __version__
from alphahome.errors import AlphaHomeError

#: command name -> "module:attribute" of its click command or group.
COMMANDS: dict[str, str] = {
    "demo": "alphahome.demo:demo_command",
    "tushare": "alphahome.updater.commands:tushare_group",
    "pit": "alphahome.pit.commands:pit_group",
    "tasks": "alphahome.tasks.commands:tasks_command",
    "status": "alphahome.updater.health_commands:status_command",
    "runs": "alphahome.updater.health_commands:runs_command",
    "check": "alphahome.updater.health_commands:check_command",
    "query": "alphahome.data.commands:query_command",
    "config": "alphahome.config.commands:config_group",
    "sandbox": "alphahome.sandbox.commands:sandbox_group",
}


class LazyGroup(click.Group):
    """A group whose sub-commands are imported only when used or listed."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return [name for name in COMMANDS if self.get_command(ctx, name) is not None]

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = COMMANDS.get(cmd_name)
        if target is None:
            return None
        module_name, attr = target.split(":")
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name == module_name:
                return None
            raise
        return getattr(module, attr, None)


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
