"""Helpers shared by the update tests (no tests here): settings for a sandbox run, running the updater
in-process or as the ``alphahome`` command, and comparing stored tables with the sandbox's ground truth."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import math
import os
import subprocess
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import pandas as pd
from conftest import SANDBOX_END, SANDBOX_END_ARG

from alphahome.api import update_async
from alphahome.config.loader import load_settings
from alphahome.config.settings import Settings
from alphahome.sources.tushare.fields import api_fields
from alphahome.tasks.catalogue import CATALOGUE, get_dataset
from alphahome.updater.updater import UpdateReport, UpdateRequest

#: Financial history before this has no rows in the small sandbox (its periods start two years before its
#: market data); tests start there to avoid ~100 empty period calls per dataset. The planner's own default
#: start is covered by the planner tests. (``dividend`` keeps its own start: its whole history costs one
#: call per period, a later start two calls per announcement day.)
FINANCIAL = ("income", "balancesheet", "cashflow", "fina_indicator", "express", "forecast")


#: The core datasets (the whole catalogue is synced per dataset in test_catalogue_sync.py).
CORE_DATASETS = ("trade_cal", "stock_basic", "index_basic", "index_classify", "fund_basic", "daily", "adj_factor",
                 "daily_basic", "moneyflow", "stk_limit", "suspend_d", "index_daily", "index_weight", "fund_nav",
                 "income", "balancesheet", "cashflow", "fina_indicator", "express", "forecast", "dividend",
                 "index_member_all")


def write_config(path: Path, *, financial_start: str = "20220101", lookback: int | None = None,
                 extra: dict[str, dict[str, Any]] | None = None) -> Path:
    """A config.json for tests (no database or token: those come from flags or the environment)."""
    tasks: dict[str, dict[str, Any]] = {name: {"default_start_date": financial_start} for name in FINANCIAL}
    if lookback is not None:
        for spec in CATALOGUE:
            tasks.setdefault(spec.name, {})["smart_lookback_days"] = lookback
    for name, values in (extra or {}).items():
        tasks.setdefault(name, {}).update(values)
    path.write_text(json.dumps({"tasks": tasks}), encoding="utf-8")
    return path


def write_schedule(path: Path, **production: Any) -> Path:
    """A scheduling YAML with fast retries and the log file under ``path``'s directory."""
    values = {"max_workers": 4, "max_retries": 3, "retry_delay": 0.05,
              "log_file": str(path.parent / "logs" / "update.log"), **production}
    lines = ["production:"] + [f"  {k}: {json.dumps(v)}" for k, v in values.items()]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def sandbox_settings(db_url: str, api_url: str, token: str, config: Path, *, points: int = 5000,
                     schedule: Path | None = None, **flags: Any) -> Settings:
    """Effective settings for an in-process run against a sandbox."""
    overrides = {"database.url": db_url, "api.tushare_token": token, "api.tushare_api_url": api_url,
                 "api.tushare_points": points, "production.retry_delay": 0.05, **flags}
    return load_settings(config, schedule, flag_overrides=overrides, environ={}).settings


def run_update(settings: Settings, request: UpdateRequest | None = None, *,
               limiter_time_scale: float = 1.0) -> UpdateReport:
    """One in-process update (the same code path as the command, minus argument parsing and printing);
    without a request, a smart run of everything up to ``SANDBOX_END``."""

    return asyncio.run(update_async(settings, request or UpdateRequest(today=SANDBOX_END), limiter_time_scale=limiter_time_scale))


def cli_env(db_url: str, api_url: str, token: str, config: Path, schedule: Path, points: int = 5000) -> dict[str, str]:
    """Environment for ``alphahome tushare update`` as a subprocess against a sandbox."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ALPHAHOME_", "TUSHARE_", "DATABASE_URL"))}
    env.update(DATABASE_URL=db_url, TUSHARE_TOKEN=token, TUSHARE_API_URL=api_url,
               ALPHAHOME_TUSHARE_POINTS=str(points), ALPHAHOME_CONFIG=str(config),
               ALPHAHOME_SCHEDULE_CONFIG=str(schedule),
               COLUMNS="200")  # a fixed width for rich's tables; tests still assert on data where they can
    return env


def alphahome_command(*args: str) -> list[str]:
    """The ``alphahome`` console script, run with this interpreter. A ``tushare update`` that names no
    range or mode counts the pinned ``SANDBOX_END`` as today (``--mode smart --end-date``), like the
    sandboxes the tests start (see conftest.py)."""
    if tuple(args[:2]) == ("tushare", "update") and not {"--mode", "--start-date", "--end-date"} & set(args):
        args = (*args, "--mode", "smart", "--end-date", SANDBOX_END_ARG)
    return [sys.executable, "-c", "from alphahome.cli import main; main()", *args]


def run_cli(args: Sequence[str], env: dict[str, str], cwd: Path, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(alphahome_command(*args), env=env, cwd=cwd, capture_output=True, text=True,
                          timeout=timeout)


# ------------------------------------------------------------------------------------------ truth


def _norm(value: Any, kind: str) -> Any:
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NaT:
        return None
    if kind == "d":
        if isinstance(value, dt.datetime | pd.Timestamp):
            return value.strftime("%Y%m%d")
        if isinstance(value, dt.date):
            return value.strftime("%Y%m%d")
        return str(value)
    if kind == "f":
        return float(value)
    if kind == "i":
        return int(value)
    return str(value)


def normalised_rows(frame: pd.DataFrame, dataset: str) -> list[tuple[Any, ...]]:
    """Rows as tuples of plain values (dates 'YYYYMMDD', floats, ints, str, None), sorted by the key."""
    spec = get_dataset(dataset)
    kinds = [(f.name, f.kind) for f in api_fields(spec.api)]
    columns = [[_norm(v, kind) for v in frame[name].tolist()] for name, kind in kinds]
    rows = list(zip(*columns, strict=True)) if columns else []
    key_at = [spec.field_names.index(k) for k in spec.key]
    return sorted(rows, key=lambda row: tuple((row[i] is None, row[i] or "") for i in key_at))


async def stored_frame(db_url: str, dataset: str) -> pd.DataFrame:
    """Every row of a dataset's table (the spec's columns), or an empty frame when the table is absent."""
    from alphahome.storage import open_backend

    spec = get_dataset(dataset)
    names = spec.field_names
    async with open_backend(db_url) as db:
        if not await db.table_exists("tushare", spec.table_name):
            return pd.DataFrame(columns=names)
        quoted = ", ".join(f'"{n}"' for n in names)
        table = await db.fetch_arrow(f'SELECT {quoted} FROM tushare."{spec.table_name}"')
    return pd.DataFrame({n: table.column(n).to_pylist() for n in names})


def last_run_outcomes(db_url: str, kind: str = "tushare") -> dict[str, tuple[str, str]]:
    """Task -> (status, error) of its latest recorded run: what a run reported, read as data rather than
    from a rich table that wraps at the terminal's width."""
    from alphahome.storage import bookkeeping as bk
    from alphahome.storage import open_backend

    async def read() -> pd.DataFrame:
        async with open_backend(db_url) as db:
            return await bk.last_runs(db, kind=kind)  # type: ignore[arg-type]

    runs = asyncio.run(read())
    return {str(r["task"]): (str(r["status"]), str(r["error"] or "")) for r in runs.to_dict("records")}


def table_differences(db_url: str, market: Any, datasets: Iterable[str]) -> dict[str, str]:
    """Dataset -> what differs between the stored table and ``market.truth(dataset)`` (empty: equal)."""
    problems: dict[str, str] = {}
    for name in datasets:
        spec = get_dataset(name)
        stored = normalised_rows(asyncio.run(stored_frame(db_url, name)), name)
        truth = normalised_rows(market.truth(name), name)
        if len(stored) != len(truth):
            problems[name] = f"{len(stored)} rows stored, truth has {len(truth)}"
            continue
        kinds = [f.kind for f in api_fields(spec.api)]
        names = spec.field_names
        for a, b in zip(stored, truth, strict=True):
            for i, (x, y) in enumerate(zip(a, b, strict=True)):
                same = (x == y) if kinds[i] != "f" or x is None or y is None else math.isclose(
                    x, y, rel_tol=1e-12, abs_tol=1e-12)
                if not same:
                    problems[name] = f"column {names[i]}: stored {x!r} vs truth {y!r} (row key {a[:3]})"
                    break
            if name in problems:
                break
    return problems


async def table_names(db_url: str) -> list[str]:
    """``schema.table`` of every table in the tushare and alphahome schemas."""
    from alphahome.storage import open_backend

    async with open_backend(db_url) as db:
        rows = await db.fetch_arrow(
            "SELECT table_schema, table_name FROM information_schema.tables "
            "WHERE table_schema IN ('tushare', 'alphahome') ORDER BY 1, 2"
        )
    return [f"{s}.{t}" for s, t in zip(rows.column(0).to_pylist(), rows.column(1).to_pylist(), strict=True)]
