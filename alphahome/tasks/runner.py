"""The task runner: executes one dataset's plan.

Each batch is fetched (every request of it, paged by the client), typed, validated, de-duplicated and
saved in ONE transaction together with the sync state that marks its partitions complete, so data and the
record of it commit together or not at all. ``concurrent_limit`` batches are in flight at once, each held
in memory only until it is saved: a table is streamed through, never held whole.

A batch that still fails after ``max_retries`` is recorded as missing and the task ends ``partial`` (or
``failed`` when nothing succeeded); the next smart run plans it again because it is not complete.
A permission error fails the task at once (every batch would meet it); a rejected token stops the run.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Literal

import pyarrow as pa
import pyarrow.compute as pc

from alphahome.errors import AlphaHomeError
from alphahome.sources.tushare.client import CallStats, TushareClient
from alphahome.sources.tushare.errors import (
    PermissionDenied,
    QuotaExceeded,
    RequestError,
    TokenRejected,
)
from alphahome.tasks.batch import prepare_batch, wire_types
from alphahome.tasks.planner import Batch, TaskPlan, parse_ymd
from alphahome.tasks.spec import DatasetSpec
from alphahome.tasks.sync_store import SyncStore

logger = logging.getLogger("alphahome.tasks")

TaskStatus = Literal["success", "partial", "skipped", "failed"]

#: A trade date this recent that returns no rows has not been published yet (it stays missing).
UNPUBLISHED_HORIZON_DAYS = 10
#: Partitions that came back empty are recorded together, this many at a time (there is no data to commit
#: with them; if the run dies first they are simply asked for again).
EMPTY_FLUSH = 500


@dataclass(frozen=True)
class TaskOptions:
    """How one task runs (effective values: flags > config > dataset defaults)."""

    concurrent_limit: int = 3
    max_retries: int = 3
    retry_delay: float = 5.0
    #: The day the run counts as today (for the "not yet published" rule).
    today: date = field(default_factory=date.today)


@dataclass
class TaskResult:
    """The outcome of one task, as the summary table and the run history record it."""

    dataset: str
    status: TaskStatus
    started: datetime
    finished: datetime
    rows: int = 0
    calls: int = 0
    batches: int = 0
    batches_failed: int = 0
    error: str | None = None
    note: str = ""
    #: Labels of the batches that failed (their partitions are recorded missing).
    missing: list[str] = field(default_factory=list)

    @property
    def duration(self) -> float:
        return (self.finished - self.started).total_seconds()


class TaskAborted(AlphaHomeError):
    """The task cannot go on (permission, bad request, daily quota): remaining batches are not tried."""


#: Progress callback: (dataset, batches done, batches planned, rows saved so far).
Progress = Callable[[str, int, int, int], None]


class TaskRunner:
    """Runs one dataset's plan against one shared client and store."""

    def __init__(
        self,
        spec: DatasetSpec,
        plan: TaskPlan,
        client: TushareClient,
        store: SyncStore,
        options: TaskOptions,
        progress: Progress | None = None,
    ) -> None:
        self.spec = spec
        self.plan = plan
        self.client = client
        self.store = store
        self.options = options
        self.progress = progress
        self.counter = CallStats()
        self._types = wire_types(spec)
        self._rows = 0
        self._done = 0
        self._failed: list[tuple[Batch, str]] = []
        self._abort: BaseException | None = None
        self._table_ready = False
        self._empty: list[str] = []

    async def run(self) -> TaskResult:
        """Execute every batch; never raises except for a rejected token (which stops the whole run) and
        cancellation."""
        started = datetime.now(UTC)
        t0 = time.monotonic()
        if not self.plan.batches:
            now = datetime.now(UTC)
            return TaskResult(self.spec.name, "skipped", started, now, note=self.plan.note or "up to date")
        batches = iter(self.plan.batches)
        try:
            async with asyncio.TaskGroup() as group:
                for _ in range(max(1, min(self.options.concurrent_limit, len(self.plan.batches)))):
                    group.create_task(self._worker(batches))
        except* TokenRejected as eg:
            raise eg.exceptions[0] from None
        except* TaskAborted:
            pass  # recorded in self._abort by the worker
        await self._flush_empty()
        finished = datetime.now(UTC)
        logger.debug("%s: %d batches in %.2fs", self.spec.name, len(self.plan.batches), time.monotonic() - t0)
        return self._result(started, finished)

    def _result(self, started: datetime, finished: datetime) -> TaskResult:
        planned = len(self.plan.batches)
        failed = len(self._failed)
        not_tried = planned - self._done - failed
        missing = [b.label for b, _ in self._failed]
        if self._abort is not None:
            error = str(self._abort)
            status: TaskStatus = "partial" if self._done else "failed"
        elif failed:
            error = f"{failed} of {planned} batch(es) failed after retries; first: {self._failed[0][1]}"
            status = "partial" if self._done else "failed"
        else:
            error = None
            status = "success"
        note = self.plan.note
        if not_tried and self._abort is not None:
            note = f"{not_tried} batch(es) not tried"
        return TaskResult(
            self.spec.name, status, started, finished, rows=self._rows, calls=self.counter.calls,
            batches=self._done, batches_failed=failed, error=error, note=note, missing=missing,
        )

    async def _worker(self, batches: Iterator[Batch]) -> None:
        # One shared iterator: each batch is taken by exactly one worker.
        for batch in batches:
            if self._abort is not None:
                return
            await self._run_batch(batch)

    async def _run_batch(self, batch: Batch) -> None:
        attempt = 0
        while True:
            try:
                saved = await self._fetch_and_save(batch)
            except TokenRejected:
                raise
            except PermissionDenied as exc:
                self._abort_with(exc, batch)
            except RequestError as exc:
                self._abort_with(exc, batch)
            except QuotaExceeded as exc:
                if exc.window != "day":
                    raise
                self._abort_with(exc, batch)
            except (AlphaHomeError, OSError, pa.ArrowException) as exc:
                attempt += 1
                if attempt > self.options.max_retries:
                    message = f"{batch.label}: {exc}"
                    logger.error("%s: batch %s failed after %d attempt(s): %s", self.spec.name, batch.label,
                                 attempt, exc)
                    self._failed.append((batch, message))
                    await self._record_missing(batch, str(exc))
                    self._report()
                    return
                delay = self.options.retry_delay * (2 ** (attempt - 1))
                logger.warning("%s: batch %s failed (%s); retry %d/%d in %.1fs", self.spec.name, batch.label,
                               exc, attempt, self.options.max_retries, delay)
                await asyncio.sleep(delay)
                continue
            self._rows += saved
            self._done += 1
            self._report()
            return

    def _abort_with(self, exc: BaseException, batch: Batch) -> None:
        if self._abort is None:
            self._abort = exc
            logger.error("%s: %s", self.spec.name, exc)
        self._failed.append((batch, str(exc)))
        raise TaskAborted(str(exc))

    def _report(self) -> None:
        if self.progress is not None:
            self.progress(self.spec.name, self._done + len(self._failed), len(self.plan.batches), self._rows)

    async def _record_missing(self, batch: Batch, error: str) -> None:
        if not batch.partitions:
            return
        try:
            await self.store.mark_missing(self.spec, batch.partitions, error)
        except AlphaHomeError as exc:  # the database itself may be what failed
            logger.error("%s: could not record missing partitions: %s", self.spec.name, exc)

    async def _fetch_and_save(self, batch: Batch) -> int:
        tables = []
        for params in batch.requests:
            table = await self.client.fetch(
                batch.api, params, self.spec.field_names, page_size=self.plan.page_size,
                types=self._types, counter=self.counter,
            )
            tables.append(table)
        fetched = pa.concat_tables(tables, promote_options="permissive") if len(tables) > 1 else tables[0]
        prepared = prepare_batch(self.spec, fetched)
        partitions = self._complete_partitions(batch, prepared.table)
        if not self._table_ready:
            await self.store.ensure_table(self.spec)
            self._table_ready = True
        if prepared.table.num_rows == 0:
            self._empty.extend(partitions)
            if len(self._empty) >= EMPTY_FLUSH:
                await self._flush_empty()
            return 0
        await self.store.save(self.spec, prepared.table, partitions)
        if prepared.duplicates:
            logger.info("%s: batch %s: %d duplicate key row(s) dropped", self.spec.name, batch.label,
                        prepared.duplicates)
        left = len(batch.partitions) - len(partitions)
        if left:
            logger.info("%s: batch %s: %d recent date(s) returned no rows (not yet published); left missing",
                        self.spec.name, batch.label, left)
        return prepared.table.num_rows

    async def _flush_empty(self) -> None:
        """Record the partitions that came back empty as complete, in one transaction."""
        pending, self._empty = self._empty, []
        if pending:
            await self.store.save(self.spec, pa.table({}), pending)

    def _complete_partitions(self, batch: Batch, table: pa.Table) -> tuple[str, ...]:
        """The partitions this batch makes complete. For datasets whose recent trade dates may not be
        published yet, a recent date with no rows is left out (a later run asks again)."""
        spec = self.spec
        if not (spec.empty_means_unpublished and spec.split.kind in ("trade_dates", "code_dates")):
            return batch.partitions
        horizon = self.options.today - timedelta(days=UNPUBLISHED_HORIZON_DAYS)
        present: set[str] = set()
        if table.num_rows and spec.date_column is not None:
            dates = pc.unique(table.column(spec.date_column))
            present = {d.strftime("%Y%m%d") for d in dates.to_pylist() if d is not None}
        keep = []
        for partition in batch.partitions:
            day_text = partition.rsplit("|", 1)[-1]
            if day_text in present or parse_ymd(day_text) < horizon:
                keep.append(partition)
        return tuple(keep)
