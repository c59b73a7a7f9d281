"""Bookkeeping in schema ``alphahome``: which partitions of each dataset are stored, and the run history.

Partitions are opaque strings chosen by the sync planner (a trade date ``'20240102'``, a window
``'20240101-20240131'``, ``'snapshot'``…). Writers take a transaction handle so that the data and the state
that records it commit together; every write is one set-based upsert, whatever the number of partitions.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Literal

import pyarrow as pa

from alphahome.storage.base import Backend, Session
from alphahome.storage.batch import arrow_schema
from alphahome.storage.spec import Column, TableSpec
from alphahome.storage.sql import table_ref

if TYPE_CHECKING:  # only last_runs builds a DataFrame; recording a run needs no pandas
    import pandas as pd

SCHEMA = "alphahome"

SYNC_STATE = TableSpec(
    schema=SCHEMA,
    name="sync_state",
    columns=(
        Column("dataset", "text", nullable=False),
        Column("partition", "text", nullable=False),
        Column("status", "text", nullable=False, description="'complete' or 'missing'"),
        Column("rows", "bigint"),
        Column("detail", "text", description="why a partition is missing"),
        Column("updated_at", "timestamp", nullable=False),
    ),
    key=("dataset", "partition"),
    track_update_time=False,
    description="Per dataset and partition: stored completely, or known missing (retried next run).",
)

RUN_HISTORY = TableSpec(
    schema=SCHEMA,
    name="run_history",
    columns=(
        Column("run_id", "text", nullable=False),
        Column("task", "text", nullable=False),
        Column("kind", "text", nullable=False, description="'tushare' or 'pit'"),
        Column("mode", "text"),
        Column("started_at", "timestamp", nullable=False),
        Column("finished_at", "timestamp"),
        Column("status", "text", nullable=False, description="success, partial, skipped or failed"),
        Column("rows", "bigint"),
        Column("calls", "bigint"),
        Column("error", "text"),
    ),
    key=("run_id", "task"),
    track_update_time=False,
    description="One row per task per run.",
)

RunKind = Literal["tushare", "pit"]
RunStatus = Literal["success", "partial", "skipped", "failed"]
RUN_KINDS = ("tushare", "pit")
RUN_STATUSES = ("success", "partial", "skipped", "failed")


async def ensure_bookkeeping(backend: Backend) -> None:
    """Create schema ``alphahome`` with the sync-state and run-history tables (idempotent)."""
    await backend.ensure_table(SYNC_STATE)
    await backend.ensure_table(RUN_HISTORY)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _partition_list(partitions: Iterable[str]) -> list[str]:
    items = [partitions] if isinstance(partitions, str) else list(partitions)
    bad = [p for p in items if not isinstance(p, str) or not p]
    if bad:
        raise ValueError(f"partitions must be non-empty strings, got {bad[:3]!r}")
    return items


async def mark_complete(
    tx: Session,
    dataset: str,
    partitions: Iterable[str],
    rows: int | Mapping[str, int] | None = None,
) -> None:
    """Record ``partitions`` of ``dataset`` as completely stored.

    ``rows`` is the row count per partition: a mapping, or one int when a single partition is marked.
    """
    names = _partition_list(partitions)
    if not names:
        return
    if isinstance(rows, Mapping):
        counts: list[int | None] = [rows.get(p) for p in names]
    elif rows is None:
        counts = [None] * len(names)
    elif len(names) == 1:
        counts = [int(rows)]
    else:
        raise ValueError("rows must be a mapping partition -> count when several partitions are marked")
    await _write_state(tx, dataset, names, "complete", counts, [None] * len(names))


async def mark_missing(
    tx: Session, dataset: str, partitions: Iterable[str], detail: str | Mapping[str, str]
) -> None:
    """Record ``partitions`` of ``dataset`` as missing (failed after retries), with the reason why."""
    names = _partition_list(partitions)
    if not names:
        return
    details = [detail.get(p) for p in names] if isinstance(detail, Mapping) else [detail] * len(names)
    await _write_state(tx, dataset, names, "missing", [None] * len(names), details)


async def _write_state(
    tx: Session,
    dataset: str,
    partitions: list[str],
    status: str,
    rows: list[int | None],
    details: Sequence[str | None],
) -> None:
    n = len(partitions)
    batch = pa.table(
        {
            "dataset": pa.array([dataset] * n, pa.string()),
            "partition": pa.array(partitions, pa.string()),
            "status": pa.array([status] * n, pa.string()),
            "rows": pa.array(rows, pa.int64()),
            "detail": pa.array(details, pa.string()),
            "updated_at": pa.array([_now()] * n, pa.timestamp("us", tz="UTC")),
        }
    )
    await tx.upsert(SYNC_STATE, batch)


async def completed_partitions(db: Session, dataset: str) -> set[str]:
    """Partitions of ``dataset`` recorded as complete."""
    return set(await _partition_column(db, dataset, "complete", "partition"))


async def missing_partitions(db: Session, dataset: str) -> dict[str, str]:
    """Partitions of ``dataset`` recorded as missing → the recorded reason."""
    if not await db.table_exists(SYNC_STATE.schema, SYNC_STATE.name):
        return {}
    table = await db.fetch_arrow(
        f'SELECT "partition", detail FROM {table_ref(SYNC_STATE)} WHERE dataset = $1 AND status = $2',
        dataset,
        "missing",
    )
    return dict(zip(table.column(0).to_pylist(), (d or "" for d in table.column(1).to_pylist()), strict=True))


async def _partition_column(db: Session, dataset: str, status: str, column: str) -> list[str]:
    if not await db.table_exists(SYNC_STATE.schema, SYNC_STATE.name):
        return []
    table = await db.fetch_arrow(
        f'SELECT "{column}" FROM {table_ref(SYNC_STATE)} WHERE dataset = $1 AND status = $2', dataset, status
    )
    return table.column(0).to_pylist()


async def clear_dataset(tx: Session, dataset: str) -> None:
    """Forget every partition of ``dataset`` (a full reload starts from nothing)."""
    await tx.execute(f"DELETE FROM {table_ref(SYNC_STATE)} WHERE dataset = $1", dataset)


@dataclass(frozen=True)
class RunRecord:
    """One task of one run, as stored in ``alphahome.run_history``."""

    run_id: str
    task: str
    kind: RunKind
    started_at: dt.datetime
    status: RunStatus
    mode: str | None = None
    finished_at: dt.datetime | None = None
    rows: int | None = None
    calls: int | None = None
    error: str | None = None

    def __post_init__(self) -> None:
        if self.kind not in RUN_KINDS:
            raise ValueError(f"run kind must be one of {RUN_KINDS}, got {self.kind!r}")
        if self.status not in RUN_STATUSES:
            raise ValueError(f"run status must be one of {RUN_STATUSES}, got {self.status!r}")


async def record_run(db: Session, record: RunRecord) -> None:
    """Store (or replace) ``record``; pass a transaction to commit it with the task's data."""
    row = {f.name: getattr(record, f.name) for f in fields(RunRecord)}
    await db.upsert(RUN_HISTORY, pa.Table.from_pylist([row], schema=arrow_schema(RUN_HISTORY)))


async def last_runs(db: Session, kind: RunKind | None = None) -> pd.DataFrame:
    """The latest run of each task (optionally of one kind), ordered by task."""
    columns = [c.name for c in RUN_HISTORY.columns]
    if not await db.table_exists(RUN_HISTORY.schema, RUN_HISTORY.name):
        import pandas as pd

        return pd.DataFrame(columns=columns)
    quoted = ", ".join(f'"{c}"' for c in columns)
    where = "WHERE kind = $1" if kind else ""
    params = (kind,) if kind else ()
    return await db.fetch_df(
        f"SELECT {quoted} FROM (SELECT {quoted}, row_number() OVER "
        f"(PARTITION BY task ORDER BY started_at DESC, run_id DESC) AS latest "
        f"FROM {table_ref(RUN_HISTORY)} {where}) AS runs WHERE latest = 1 ORDER BY task",
        *params,
    )
