#!/usr/bin/env python3
"""Tushare smart incremental update: the production script, a thin wrapper around
``alphahome tushare update`` with the same flags.

    python scripts/production/data_updaters/tushare/tushare_smart_update_production.py \
        --workers 3 --max_retries 3 --retry_delay 5 --log_level INFO [--dry-run]
        [--tasks daily,income] [--exclude forecast] [--start-date 20240101 --end-date 20240131]
        [--mode smart|full|manual] [--config config.json] [--schedule-config file.yaml] [--env production]

Hyphenated spellings (--max-retries, --retry-delay, --log-level, --dry_run) are accepted too, and the
original's positional form ``5 3 5 INFO`` (workers, retries, delay, log level). Exit codes: 0 every task
succeeded or was current, 1 some task failed, 2 bad usage or configuration (nothing written). Logs go to
~/.alphahome/logs/tushare_production_update.log unless the scheduling YAML says otherwise.
"""

from __future__ import annotations

import sys
from pathlib import Path

# Runs from a checkout without installation: the repository root is four levels up.
ROOT = Path(__file__).resolve().parents[4]
if (ROOT / "alphahome").is_dir() and str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from alphahome.cli import main  # noqa: E402
from alphahome.errors import ConfigError  # noqa: E402
from alphahome.updater.launch_args import tushare_launcher_args  # noqa: E402

if __name__ == "__main__":
    try:
        args = tushare_launcher_args(sys.argv[1:])
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(2)
    main(["tushare", "update", *args])
