"""The task layer's view of the database: typed batches and their sync state in, plan inputs and run
history out. Everything goes through the storage backend (DuckDB or PostgreSQL) and its bookkeeping
tables (``alphahome.sync_state``, ``alphahome.run_history``); this module only decides *what* to read
and write for a dataset.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import pandas as pd
import pyarrow as pa

from alphahome.config.settings import Settings
from alphahome.storage import bookkeeping as bk
from alphahome.storage.base import Backend
from alphahome.storage.configured import backend_for
from alphahome.storage.sql import qualified, quote_ident, table_ref
from alphahome.tasks.catalogue import DATASETS
from alphahome.tasks.planner import SNAPSHOT_PARTITION
from alphahome.tasks.spec import DatasetSpec

logger = logging.getLogger("alphahome.tasks")

#: The exchange whose open days are the trade dates partitions follow.
CALENDAR_EXCHANGE = "SSE"


@dataclass(frozen=True)
class TableStats:
    """What ``alphahome status`` shows of one table."""

    exists: bool
    rows: int = 0
    latest: str | None = None


@dataclass(frozen=True)
class LastRun:
    """A dataset's most recent run-history row."""

    started: dt.datetime
    finished: dt.datetime | None
    status: str
    rows: int
    calls: int
    error: str | None

    @property
    def duration(self) -> float:
        return (self.finished - self.started).total_seconds() if self.finished else 0.0


def _local(value: Any) -> dt.datetime | None:
    """A stored timestamp (UTC) as a local naive datetime; None/NaT as None."""
    if value is None:
        return None
    stamp = pd.Timestamp(value)
    if pd.isna(stamp):
        return None
    if stamp.tzinfo is None:
        stamp = stamp.tz_localize("UTC")
    return stamp.to_pydatetime().astimezone().replace(tzinfo=None)


def _num(value: Any) -> float:
    return 0.0 if value is None or value != value else float(value)


def _as_date(value: Any) -> dt.date | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return None


class SyncStore:
    """One database, seen by the tasks (see the module docstring)."""

    def __init__(self, backend: Backend) -> None:
        self.backend = backend
        self._ensured: set[str] = set()
        self._bookkeeping = False

    @classmethod
    async def open(cls, settings: Settings, *, read_only: bool = False) -> SyncStore:
        """Connect to the configured database (ConnectionFailed, exit 2, when it cannot).

        Nothing is created until the first write: a run that stops before saving anything (a rejected
        token) leaves the database as it found it; absent tables read as empty. ``read_only``: for the
        read commands (a DuckDB file then must exist and is shared with other readers).
        """
        backend = backend_for(settings, read_only=read_only)
        await backend.connect()
        return cls(backend)

    async def _ensure_bookkeeping(self) -> None:
        if not self._bookkeeping:
            await bk.ensure_bookkeeping(self.backend)
            self._bookkeeping = True

    async def close(self) -> None:
        await self.backend.close()

    def run_lock(self, name: str) -> Any:
        """The database's run lock (RunLockHeld names the holder)."""
        return self.backend.run_lock(name)

    # -- writes --------------------------------------------------------------------------------------

    async def ensure_table(self, spec: DatasetSpec) -> None:
        """Create the dataset's table if missing (once per store)."""
        if spec.name not in self._ensured:
            await self._ensure_bookkeeping()
            await self.backend.ensure_table(spec.table_spec())
            self._ensured.add(spec.name)

    async def save(self, spec: DatasetSpec, table: pa.Table, partitions: Sequence[str]) -> int:
        """Upsert a prepared batch and mark its partitions complete in ONE transaction."""
        async with self.backend.transaction() as tx:
            result = await tx.upsert(spec.table_spec(), table) if table.num_rows else None
            if partitions:
                await bk.mark_complete(tx, spec.name, list(partitions))
        return result.rows if result is not None else 0

    async def mark_missing(self, spec: DatasetSpec, partitions: Sequence[str], error: str) -> None:
        """Record partitions whose batch failed after its retries (the next run fetches them again)."""
        await self._ensure_bookkeeping()
        await bk.mark_missing(self.backend, spec.name, list(partitions), error[:2000])

    async def record_run(self, run_id: str, result: Any, mode: str) -> None:
        """One run-history row for a task's result."""
        await self._ensure_bookkeeping()
        await bk.record_run(self.backend, bk.RunRecord(
            run_id=run_id, task=result.dataset, kind="tushare", mode=mode, started_at=result.started,
            finished_at=result.finished, status=result.status, rows=result.rows, calls=result.calls,
            error=result.error,
        ))

    # -- reads ---------------------------------------------------------------------------------------

    async def _exists(self, table: str) -> bool:
        return await self.backend.table_exists("tushare", table)

    async def has_rows(self, spec: DatasetSpec) -> bool:
        """Whether the dataset's table holds any row."""
        if not await self._exists(spec.table_name):
            return False
        found = await self.backend.fetchval(f"SELECT 1 FROM {qualified('tushare', spec.table_name)} LIMIT 1")
        return found is not None

    async def completed(self, spec: DatasetSpec) -> set[str]:
        """Partitions recorded complete."""
        return set(await bk.completed_partitions(self.backend, spec.name))

    async def trade_dates(self) -> list[dt.date]:
        """Open days of the stored calendar, ascending (empty before trade_cal is loaded)."""
        if not await self._exists("trade_cal"):
            return []
        table = await self.backend.fetch_arrow(
            "SELECT cal_date FROM tushare.trade_cal WHERE exchange = $1 AND is_open = 1 ORDER BY cal_date",
            CALENDAR_EXCHANGE,
        )
        return [d for d in table.column(0).to_pylist() if d is not None]

    async def codes(self, source: str) -> list[str]:
        """The distinct values of ``table.column`` (a catalogue dataset's table), sorted."""
        table_name, _, column = source.partition(".")
        if not await self._exists(table_name):
            return []
        rows = await self.backend.fetch_arrow(
            f"SELECT DISTINCT {quote_ident(column)} AS code FROM {qualified('tushare', table_name)} "
            f"WHERE {quote_ident(column)} IS NOT NULL ORDER BY 1"
        )
        return [str(c) for c in rows.column(0).to_pylist()]

    async def rows_per_unit(self, spec: DatasetSpec) -> float | None:
        """Rows on the latest stored date (per code for per-code shapes); else, for stock datasets, the
        number of listed stocks; None when nothing is known."""
        if spec.date_column and await self._exists(spec.table_name):
            t = qualified("tushare", spec.table_name)
            d = quote_ident(spec.date_column)
            per = ""
            if spec.shape.per_code_column is not None:
                per = f" / NULLIF(count(DISTINCT {quote_ident(spec.shape.per_code_column)}), 0)"
            value = await self.backend.fetchval(
                f"SELECT CAST(count(*) AS DOUBLE PRECISION){per} FROM {t} WHERE {d} = (SELECT max({d}) FROM {t})"
            )
            if value:
                return float(value)
        if spec.rows_per_date == "stocks" and await self._exists("stock_basic"):
            value = await self.backend.fetchval(
                "SELECT count(*) FROM tushare.stock_basic WHERE list_status IN ('L', 'P')"
            )
            if value:
                return float(value)
        return None

    async def last_refresh(self, spec: DatasetSpec) -> dt.date | None:
        """The local day a snapshot dataset was last completed."""
        if not await self.backend.table_exists(bk.SYNC_STATE.schema, bk.SYNC_STATE.name):
            return None
        value = await self.backend.fetchval(
            f"SELECT max(updated_at) FROM {table_ref(bk.SYNC_STATE)} "
            "WHERE dataset = $1 AND \"partition\" = $2 AND status = 'complete'",
            spec.name, SNAPSHOT_PARTITION,
        )
        if isinstance(value, dt.datetime) and value.tzinfo is not None:
            value = value.astimezone()
        return _as_date(value)

    async def index_codes(self, code_filter: Mapping[str, str]) -> list[str]:
        """The codes of ``index_basic`` whose columns equal every value of ``code_filter`` (e.g.
        ``{"market": "CSI", "category": "规模指数"}``), sorted; empty before index_basic is loaded."""
        if not await self._exists("index_basic"):
            return []
        where = " AND ".join(f"{quote_ident(col)} = ${i}" for i, col in enumerate(code_filter, 1))
        rows = await self.backend.fetch_arrow(
            f"SELECT DISTINCT ts_code FROM tushare.index_basic WHERE {where or 'TRUE'} ORDER BY 1",
            *code_filter.values(),
        )
        return [str(c) for c in rows.column(0).to_pylist() if c is not None]

    async def plan_state(
        self, spec: DatasetSpec, *, today: dt.date, points: int, codes: Sequence[str] | None = None,
        code_filter: Mapping[str, str] | None = None,
    ) -> dict[str, Any]:
        """The database-derived fields of the planner's input for ``spec`` (what its shape reads).

        ``codes``/``code_filter`` (``tasks.<name>.codes``/``.filter`` of a configurable code set, e.g. the
        indices of an index dataset) replace the shape's default codes."""
        reads = spec.shape.reads(spec, points)
        state: dict[str, Any] = {"completed": frozenset(await self.completed(spec))}
        if "last_refresh" in reads:
            state["last_refresh"] = await self.last_refresh(spec)
        if "trade_dates" in reads:
            state["trade_dates"] = await self.trade_dates()
        source = spec.shape.code_source()
        if "codes" in reads and source is not None:
            if codes:
                state["codes"] = tuple(codes)
            elif code_filter:
                state["codes"] = tuple(await self.index_codes(code_filter))
            elif source.default:
                state["codes"] = source.default
            else:
                state["codes"] = tuple(await self.codes(source.table_column))
        if "rows_per_unit" in reads:
            state["rows_per_unit"] = await self.rows_per_unit(spec)
        if "open_periods" in reads:
            state["open_periods"] = await self.open_periods(spec, today - dt.timedelta(days=spec.open_days))
        return state

    async def open_periods(self, spec: DatasetSpec, since: dt.date) -> list[dt.date]:
        """Report periods of the plans of an announcement-day dataset proposed on or after ``since`` that
        have no final stage yet (their later stages are filed under the old proposal day), ascending."""
        shape: Any = spec.shape
        if not await self._exists(spec.table_name):
            return []
        ann, stage = quote_ident(shape.date_params[0]), quote_ident(shape.stage_column)
        period = quote_ident(shape.period_param)
        plan = ", ".join(quote_ident(c) for c in shape.open_plan_key(spec))
        rows = await self.backend.fetch_arrow(
            f"SELECT DISTINCT {period} AS period FROM {qualified('tushare', spec.table_name)} "
            f"WHERE {ann} >= $1 GROUP BY {plan} HAVING sum(CASE WHEN {stage} = $2 THEN 1 ELSE 0 END) = 0 "
            "ORDER BY 1",
            since, shape.final_stage,
        )
        return [d for d in rows.column(0).to_pylist() if d is not None]

    async def table_stats(self, spec: DatasetSpec) -> TableStats:
        """Rows and latest date of the dataset's table."""
        if not await self._exists(spec.table_name):
            return TableStats(False)
        t = qualified("tushare", spec.table_name)
        rows = int(await self.backend.fetchval(f"SELECT count(*) FROM {t}") or 0)
        latest = None
        column = spec.date_column or ("cal_date" if spec.name == "trade_cal" else None)
        if column is not None:
            value = await self.backend.fetchval(f"SELECT max({quote_ident(column)}) FROM {t}")
            latest = value.isoformat() if isinstance(value, dt.date) else (str(value) if value else None)
        return TableStats(True, rows, latest)

    async def last_runs(self) -> dict[str, LastRun]:
        """Each dataset's latest run-history row."""
        out: dict[str, LastRun] = {}
        frame = await bk.last_runs(self.backend, kind="tushare")
        for row in frame.to_dict("records"):
            if row["task"] in DATASETS:
                out[row["task"]] = LastRun(
                    _local(row["started_at"]), _local(row.get("finished_at")), row["status"],  # type: ignore[arg-type]  # started_at is NOT NULL
                    int(_num(row.get("rows"))), int(_num(row.get("calls"))),
                    row["error"] if isinstance(row.get("error"), str) and row["error"] else None,
                )
        return out


@asynccontextmanager
async def opened_store(
    settings: Settings, *, read_only: bool = False, run_lock: str | None = None
) -> AsyncIterator[SyncStore]:
    """``async with opened_store(settings, run_lock=RUN_LOCK_NAME) as store``: connect, take the named run
    lock if one is given (RunLockHeld names its holder), yield, release, close. The one place commands,
    the demo and the Python front door open the store."""
    store = await SyncStore.open(settings, read_only=read_only)
    try:
        if run_lock is None:
            yield store
        else:
            async with store.run_lock(run_lock):
                yield store
    finally:
        await store.close()
