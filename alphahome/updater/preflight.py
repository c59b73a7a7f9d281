"""The checks a ``tushare update`` makes before it opens anything, shared with ``config validate`` so the
two never disagree (docs/monitoring.md). Each failure is a :class:`ConfigError` (exit 2) and nothing has
been written: no database file, no lock, no log file."""

from __future__ import annotations

import os
from pathlib import Path

from alphahome.config.loader import InvalidConfiguration, LoadedSettings
from alphahome.tasks import catalogue


def known_dataset_names() -> set[str]:
    """Every name ``tasks.<name>`` and ``exclude_tasks`` may use: the catalogue's names and, where the
    catalogue defines them, the original AlphaHome's task names (its aliases)."""
    from alphahome.tasks.aliases import ORIGINAL_TASKS

    return set(catalogue.DATASETS) | set(ORIGINAL_TASKS)


def _writable_location(path: Path) -> str | None:
    """Why a file cannot be created at ``path`` (checked without creating anything), or None."""
    probe = path.parent
    while not probe.exists():
        if probe.parent == probe:
            return f"no existing parent directory of {path.parent}"
        probe = probe.parent
    if not probe.is_dir():
        return f"{probe} is not a directory"
    target = path if path.exists() else probe
    if not os.access(target, os.W_OK):
        return f"{target} is not writable"
    return None


def preflight(loaded: LoadedSettings, *, need_token: bool = True) -> None:
    """Raise :class:`InvalidConfiguration` listing what would stop an update: unknown dataset names, no
    token (when the run will call Tushare), a log file or metrics file that cannot be created."""
    problems: list[str] = []
    try:
        loaded.check_task_names(known_dataset_names())
    except InvalidConfiguration as exc:
        problems += exc.problems
    settings = loaded.settings
    token = settings.api.tushare_token
    if need_token and (token is None or not token.get_secret_value().strip()):
        problems.append("no Tushare token: set TUSHARE_TOKEN or api.tushare_token in config.json")
    production, monitoring = settings.schedule.production, settings.schedule.monitoring
    for key, raw in (("production.log_file", production.log_file),
                     ("monitoring.prometheus_textfile", monitoring.prometheus_textfile)):
        if raw:
            why = _writable_location(Path(raw).expanduser())
            if why:
                problems.append(f"{key}: cannot create {raw}: {why}")
    if problems:
        raise InvalidConfiguration(problems)
