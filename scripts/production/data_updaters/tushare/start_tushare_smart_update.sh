#!/usr/bin/env bash
# Tushare smart incremental update (cron-friendly). Runs from the repository root so that the scheduling
# file scripts/production/config/tushare_update_config.yaml is found; takes the original's positional form
# (workers retries delay log_level, e.g. `5 3 5 INFO`) or flags, and passes them on.
#   crontab: 30 18 * * 1-5  /path/to/alphahome/scripts/production/data_updaters/tushare/start_tushare_smart_update.sh --env production
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../../../.." && pwd)"
cd "$ROOT"
PYTHON="${PYTHON:-python3}"
exec "$PYTHON" "$HERE/tushare_smart_update_production.py" "$@"
