"""`alphahome --help` lists the commands without importing them, and every listed command exists."""

from __future__ import annotations

import json
import subprocess
import sys

import click
import pytest

from alphahome.cli import COMMANDS, cli

HEAVY = ("pandas", "pyarrow", "numpy", "aiohttp", "pydantic", "duckdb", "asyncpg")


def test_help_imports_no_command_module_and_no_heavy_library() -> None:
    probe = (
        f"HEAVY = {HEAVY!r}\n"
        "import json, sys\n"
        "from alphahome.cli import main\n"
        "try:\n"
        "    main(['--help'])\n"
        "except SystemExit:\n"
        "    pass\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in HEAVY or m.startswith('alphahome.'))))\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    loaded = json.loads(out.strip().splitlines()[-1])
    assert loaded == ["alphahome.cli", "alphahome.errors"], loaded
    for name, (_, line) in COMMANDS.items():
        assert name in out and line.split()[0] in out


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_every_listed_command_resolves(name: str) -> None:
    with click.Context(cli) as ctx:
        command = cli.get_command(ctx, name)
    assert isinstance(command, click.Command), name
    assert command.name == name


def test_pit_update_does_not_import_pandas() -> None:
    probe = "import sys\nimport alphahome.pit.commands\nprint('pandas' in sys.modules)\n"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def test_publishing_without_channels_does_not_import_aiohttp() -> None:
    probe = "import sys\nimport alphahome.monitoring.publish\nprint('aiohttp' in sys.modules)\n"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"
