#!/usr/bin/env bash
# Launcher for cron: the PIT update (default: every target, incremental). Takes the original's positional
# form (target mode parallel, e.g. `income full true`) or flags (--target income --mode full --parallel).
# Example crontab line (after the Tushare update):  30 19 * * 1-5  /path/to/start_pit_data_update.sh
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
PYTHON="${PYTHON:-python3}"
exec "$PYTHON" "$HERE/pit_data_update_production.py" "$@"
