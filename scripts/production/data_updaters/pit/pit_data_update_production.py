#!/usr/bin/env python3
"""Production PIT update (the seed's script path): a thin wrapper around ``alphahome pit update``.

Same flags: --target balance|income|financial_indicators|industry_classification|all (repeatable),
--mode incremental|full, --parallel, --workers N, --log-level LEVEL, --config PATH. The database comes from
--config / DATABASE_URL / ~/.alphahome/config.json as for every alphahome command. The original's positional
form works too: ``income full true`` (target, mode, parallel). Exit codes: 0 every
target built or was current, 1 some target failed, 2 bad usage/configuration or unreachable database.
"""

from __future__ import annotations

import sys
from pathlib import Path

try:
    import alphahome  # noqa: F401
except ModuleNotFoundError:  # run from a checkout without `pip install -e .`
    sys.path.insert(0, str(Path(__file__).resolve().parents[4]))

from alphahome.cli import main
from alphahome.errors import ConfigError
from alphahome.updater.launch_args import pit_launcher_args

if __name__ == "__main__":
    try:
        args = pit_launcher_args(sys.argv[1:])
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(2)
    main(["pit", "update", *args])
