"""The Python front door: an update, a backend and the PIT reads, for scripts and notebooks.

::

    import alphahome

    report = alphahome.update(tasks=["daily"])           # the smart update, as `alphahome tushare update`
    df = alphahome.as_of("income", "2024-05-06", fields=["revenue"])
    async with alphahome.open_backend(read_only=True) as db:  # the configured database, read-only
        ...

``alphahome/__init__.py`` exports these lazily, so ``import alphahome`` stays cheap. The CLI and the demo
call :func:`update_async` too. Layers and data flow: docs/architecture.md.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from datetime import date
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from alphahome.config.settings import Settings
    from alphahome.storage.base import Backend
    from alphahome.tasks.planner import Mode, TaskPlan
    from alphahome.tasks.sync_store import SyncStore
    from alphahome.updater.updater import UpdateReport, UpdateRequest


def load(config_path: str | None = None) -> Settings:
    """The effective settings: ``config_path`` (else ``$ALPHAHOME_CONFIG`` or ``~/.alphahome/config.json``),
    the environment and the built-in defaults (ConfigError, exit 2, names what is wrong)."""
    from alphahome.config.loader import load_settings

    return load_settings(config_path).settings


def open_backend(
    url: str | None = None, *, read_only: bool = False, settings: Settings | None = None
) -> Backend:
    """A backend (not yet connected: ``async with``): ``url``, else the configured database, with the
    configured pool and DuckDB options. Reads should pass ``read_only=True`` (readers share a DuckDB file)."""
    from alphahome.storage.configured import backend_for

    settings = settings or load()
    if url is not None:
        database = settings.database.model_copy(update={"url": url})
        return backend_for(database, read_only=read_only)
    return backend_for(settings, read_only=read_only)


def request(
    *,
    tasks: Sequence[str] = (),
    exclude: Sequence[str] = (),
    mode: Mode | None = None,
    start: date | None = None,
    end: date | None = None,
    today: date | None = None,
    dry_run: bool = False,
) -> UpdateRequest:
    """An update request as the command line builds it: ``start`` without ``mode`` means manual mode over
    [start, end]; smart/full runs end at ``end`` when given, else ``today`` (default: the real date).
    Inconsistent arguments raise ConfigError before anything is opened."""
    from alphahome.errors import ConfigError
    from alphahome.updater.updater import UpdateRequest, effective_today

    if start is not None and mode is None:
        mode = "manual"
    mode = mode or "smart"
    if mode == "manual" and start is None:
        raise ConfigError("--mode manual needs --start-date (and optionally --end-date)")
    if mode != "manual" and start is not None:
        raise ConfigError(f"--start-date only applies to manual mode, not --mode {mode}")
    if start and end and end < start:
        raise ConfigError(f"--end-date {end:%Y%m%d} is before --start-date {start:%Y%m%d}")
    req = UpdateRequest(mode=mode, tasks=tuple(tasks), exclude=tuple(exclude), start=start, end=end,
                        dry_run=dry_run, today=today)
    return UpdateRequest(**{**req.__dict__, "today": effective_today(req)})


async def update_async(
    settings: Settings,
    update_request: UpdateRequest,
    *,
    progress: Callable[..., Any] | None = None,
    on_task_start: Callable[[str, TaskPlan], None] | None = None,
    limiter_time_scale: float = 1.0,
    store: SyncStore | None = None,
) -> UpdateReport:
    """Run one update: open the store, take the run lock, run the selected tasks, release, close.

    ``store``: an already open store to run in (its owner closes it; the run lock is still taken).
    Raises RunLockHeld when another run holds the lock, ConnectionFailed (exit 2) when the database cannot
    be opened — a DuckDB writer first waits ``database.duckdb_lock_wait_seconds`` for a held file.
    """
    from alphahome.tasks.sync_store import opened_store
    from alphahome.updater.updater import RUN_LOCK_NAME, Updater

    async def run(open_store: SyncStore) -> UpdateReport:
        updater = Updater(settings, open_store, update_request, progress=progress, on_task_start=on_task_start,
                          limiter_time_scale=limiter_time_scale)
        return await updater.run()

    if store is not None:
        async with store.run_lock(RUN_LOCK_NAME):
            return await run(store)
    async with opened_store(settings, run_lock=RUN_LOCK_NAME) as opened:
        return await run(opened)


def update(
    tasks: Sequence[str] = (),
    *,
    exclude: Sequence[str] = (),
    mode: Mode | None = None,
    start: date | None = None,
    end: date | None = None,
    today: date | None = None,
    settings: Settings | None = None,
    config_path: str | None = None,
) -> UpdateReport:
    """The Tushare update from Python, as ``alphahome tushare update`` runs it (blocking).

    ``tasks``/``exclude``: dataset names (default: every enabled one). Returns the report
    (``report.results`` per task, ``report.exit_code``). Not for use inside a running event loop (a
    notebook cell): there, ``await update_async(settings, request(...))``.
    """
    from alphahome.updater.updater import select_datasets

    settings = settings or load(config_path)
    req = request(tasks=tasks, exclude=exclude, mode=mode, start=start, end=end, today=today)
    select_datasets(settings, req)  # unknown names are a usage error before anything is opened
    return asyncio.run(update_async(settings, req))
