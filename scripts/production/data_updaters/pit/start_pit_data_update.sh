#!/usr/bin/env bash
# Launcher for cron: the PIT update with the production defaults; extra flags are passed through.
# Example crontab line (after the Tushare update):  30 19 * * 1-5  /path/to/start_pit_data_update.sh
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
PYTHON="${PYTHON:-python3}"
exec "$PYTHON" "$HERE/pit_data_update_production.py" --target all --mode incremental --parallel --workers 2 "$@"
