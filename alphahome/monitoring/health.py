"""What ``alphahome status``, ``alphahome runs`` and ``alphahome check`` read (docs/monitoring.md): table
statistics for the raw and PIT tables, the run history grouped by run, and the freshness verdict.

Expected dates (``check``): a daily dataset (one row set per trade date) is current when it holds the last
open trade date before the check's day; a financial statement dataset when it holds the latest report
period whose legal disclosure deadline has passed (Q1: 30 April, half year: 31 August, Q3: 31 October,
annual: 30 April of the next year). ``max_age_days`` allows that many calendar days of delay."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field
from typing import Any

import pandas as pd

from alphahome.config.settings import Settings
from alphahome.storage.bookkeeping import RUN_HISTORY
from alphahome.storage.sql import qualified, quote_ident, table_ref
from alphahome.tasks.catalogue import CATALOGUE, DATASETS
from alphahome.tasks.shapes import CodeDates, TradeDates
from alphahome.tasks.sync_store import SyncStore

#: Statement datasets with a report for every listed company and period (express, forecast and dividend
#: exist only for some periods, so their absence says nothing).
STATEMENT_DATASETS = ("income", "balancesheet", "cashflow", "fina_indicator")
PIT_TABLES = ("income_quarterly", "balance_quarterly", "financial_indicators", "industry_classification")
#: PIT table -> the target name its builds are recorded under.
PIT_TARGET = {t: t for t in PIT_TABLES}


async def open_reader(settings: Settings) -> SyncStore:
    """The store opened read-only (DuckDB then never takes the writer's lock; a missing file is an error,
    never created). Callers never write through it."""
    return await SyncStore.open(settings, read_only=True)


def database_missing(settings: Settings) -> bool:
    """A DuckDB file that does not exist yet (reads must not create it)."""
    path = settings.database.duckdb_path
    return path is not None and not path.exists()


# ------------------------------------------------------------------------------------------- run history


async def run_history(store: SyncStore) -> pd.DataFrame:
    """Every run-history row, newest first (empty when no run has been recorded)."""
    columns = [c.name for c in RUN_HISTORY.columns]
    if not await store.backend.table_exists(RUN_HISTORY.schema, RUN_HISTORY.name):
        return pd.DataFrame(columns=columns)
    quoted = ", ".join(quote_ident(c) for c in columns)
    return await store.backend.fetch_df(
        f"SELECT {quoted} FROM {table_ref(RUN_HISTORY)} ORDER BY started_at DESC, task")


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _stamp(value: Any) -> str | None:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    stamp = pd.Timestamp(value)
    if stamp.tzinfo is None:
        stamp = stamp.tz_localize("UTC")
    return stamp.isoformat()


def _int(value: Any) -> int:
    return 0 if value is None or pd.isna(value) else int(value)


@dataclass
class RunView:
    """One run: its tasks and their outcomes."""

    run_id: str
    kind: str
    mode: str | None
    started: str | None
    finished: str | None
    status: str
    rows: int
    calls: int
    tasks: list[dict[str, Any]] = field(default_factory=list)

    @property
    def failed_tasks(self) -> list[dict[str, Any]]:
        return [t for t in self.tasks if t["status"] in ("failed", "partial")]

    def as_json(self, *, with_tasks: bool = True) -> dict[str, Any]:
        data = asdict(self)
        if not with_tasks:
            data.pop("tasks")
            data["failed"] = [t["task"] for t in self.failed_tasks]
        return data


def group_runs(frame: pd.DataFrame) -> list[RunView]:
    """Run-history rows -> runs, newest first. A run is failed if a task failed, partial if one is."""
    runs: dict[str, RunView] = {}
    for row in frame.to_dict("records"):
        run_id = row["run_id"]
        task = {"task": row["task"], "status": row["status"], "started": _stamp(row["started_at"]),
                "finished": _stamp(row.get("finished_at")), "rows": _int(row.get("rows")),
                "calls": _int(row.get("calls")), "error": _text(row.get("error"))}
        view = runs.get(run_id)
        if view is None:
            view = runs[run_id] = RunView(run_id, row["kind"], _text(row.get("mode")), task["started"],
                                          task["finished"], "success", 0, 0)
        view.tasks.append(task)
        view.rows += task["rows"]
        view.calls += task["calls"]
        if task["started"] and (view.started is None or task["started"] < view.started):
            view.started = task["started"]
        if task["finished"] and (view.finished is None or task["finished"] > view.finished):
            view.finished = task["finished"]
    for view in runs.values():
        states = {t["status"] for t in view.tasks}
        view.status = "failed" if "failed" in states else "partial" if "partial" in states else "success"
        view.tasks.sort(key=lambda t: t["task"])
    return sorted(runs.values(), key=lambda v: v.started or "", reverse=True)


# ------------------------------------------------------------------------------------------------ status


async def status_rows(store: SyncStore) -> list[dict[str, Any]]:
    """Per raw and PIT table: rows, latest date (the latest knowledge date for PIT tables), last run or
    build, its result, duration and full error."""
    history = group_runs(await run_history(store))
    last: dict[tuple[str, str], dict[str, Any]] = {}
    for run in reversed(history):  # oldest first, so the newest wins
        for task in run.tasks:
            last[(run.kind, task["task"])] = task
    out = []
    for spec in CATALOGUE:
        stats = await store.table_stats(spec)
        out.append(_status_row(f"tushare.{spec.table_name}", "tushare", stats.exists, stats.rows, stats.latest,
                               last.get(("tushare", spec.name))))
    for table in PIT_TABLES:
        exists = await store.backend.table_exists("pit", table)
        rows, latest = 0, None
        if exists:
            name = qualified("pit", table)
            rows = int(await store.backend.fetchval(f"SELECT count(*) FROM {name}") or 0)
            value = await store.backend.fetchval(f"SELECT max(valid_from) FROM {name}")
            latest = value.isoformat() if isinstance(value, dt.date) else None
        out.append(_status_row(f"pit.{table}", "pit", exists, rows, latest, last.get(("pit", PIT_TARGET[table]))))
    return out


def _status_row(table: str, kind: str, exists: bool, rows: int, latest: str | None,
                run: dict[str, Any] | None) -> dict[str, Any]:
    seconds = None
    if run and run["started"] and run["finished"]:
        seconds = (pd.Timestamp(run["finished"]) - pd.Timestamp(run["started"])).total_seconds()
    return {"table": table, "kind": kind, "exists": exists, "rows": rows if exists else None,
            "latest": latest, "last_run": run["started"] if run else None,
            "result": run["status"] if run else None, "seconds": seconds,
            "error": run["error"] if run else None}


# ------------------------------------------------------------------------------------------------- check


def expected_period(day: dt.date) -> dt.date:
    """The latest report period whose disclosure deadline is on or before ``day``."""
    candidates = []
    for year in (day.year - 1, day.year):
        candidates += [
            (dt.date(year, 4, 30), dt.date(year, 3, 31)),
            (dt.date(year, 8, 31), dt.date(year, 6, 30)),
            (dt.date(year, 10, 31), dt.date(year, 9, 30)),
            (dt.date(year + 1, 4, 30), dt.date(year, 12, 31)),
        ]
    return max(period for deadline, period in candidates if deadline <= day)


@dataclass
class Finding:
    """One reason ``check`` fails."""

    what: str  # dataset, PIT table or run
    problem: str


async def check_health(store: SyncStore, settings: Settings, today: dt.date, max_age_days: int = 0,
                       *, runs: bool = True) -> list[Finding]:
    """Stale datasets (see the module docstring) and, with ``runs``, failed last runs; empty when all is
    well."""
    findings: list[Finding] = []
    excluded = set(settings.schedule.task_filter.exclude_tasks)
    slack = dt.timedelta(days=max_age_days)
    last_trade_day = await _last_trade_day(store, today)
    if last_trade_day is None:
        findings.append(Finding("trade_cal", "no trading calendar: daily datasets cannot be checked"))
    for spec in CATALOGUE:
        if spec.name in excluded:
            continue
        expected: dt.date | None = None
        column: str | None = None
        if isinstance(spec.shape, TradeDates | CodeDates) and spec.empty_means_unpublished:
            expected = last_trade_day
            column = spec.date_column
        elif spec.name in STATEMENT_DATASETS:
            expected = expected_period(today)
            column = "end_date"
        if expected is None or column is None:
            continue
        stats = await store.table_stats(spec)
        latest = None
        if stats.exists:
            value = await store.backend.fetchval(
                f"SELECT max({quote_ident(column)}) FROM {qualified('tushare', spec.table_name)}")
            latest = value if isinstance(value, dt.date) else None
        if latest is None:
            findings.append(Finding(spec.name, f"no data (expected {column} {expected:%Y-%m-%d})"))
        elif latest + slack < expected:
            findings.append(Finding(spec.name, f"stale: latest {column} {latest:%Y-%m-%d}, expected "
                                               f"{expected:%Y-%m-%d}"))
    for run in _latest_per_kind(group_runs(await run_history(store))) if runs else []:
        if run.status != "success":
            names = ", ".join(f"{t['task']} ({t['status']})" for t in run.failed_tasks)
            findings.append(Finding(f"{run.kind} run {run.run_id}", f"{run.status}: {names}"))
    return findings


def _latest_per_kind(runs: list[RunView]) -> list[RunView]:
    seen: dict[str, RunView] = {}
    for run in runs:  # newest first
        seen.setdefault(run.kind, run)
    return list(seen.values())


async def _last_trade_day(store: SyncStore, today: dt.date) -> dt.date | None:
    """The last open trade date before ``today`` (None without a calendar)."""
    spec = DATASETS["trade_cal"]
    if not (await store.table_stats(spec)).exists:
        return None
    value = await store.backend.fetchval(
        f"SELECT max(cal_date) FROM {qualified('tushare', spec.table_name)} "
        "WHERE cal_date < $1 AND CAST(is_open AS VARCHAR) IN ('1', '1.0')", today)
    return value if isinstance(value, dt.date) else None
