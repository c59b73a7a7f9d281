"""The task runner: executes one dataset's plan.

Each batch is fetched (every request of it, paged by the client), typed, validated, de-duplicated and
saved in ONE transaction together with the sync state that marks its partitions complete, so data and the
record of it commit together or not at all.

One retry budget per batch (docs/monitoring.md): the client retries each request of a fetch up to
``max_retries`` times, and the runner does not fetch again on top of that; a save is retried only when its
error may pass (a lost connection, a deadlock). When consecutive batches fail with the same non-transient
error (storage, schema, bad data), the task stops after a few and reports that error once. ``concurrent_limit`` batches are in flight at once, each held
in memory only until it is saved: a table is streamed through, never held whole.

Small batches are gathered and saved together (up to ``save_batch_size`` rows per transaction), their
partitions marked in that same transaction. A batch that still fails after ``max_retries`` is recorded
as missing and the task ends ``partial`` (or
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
    ServerUnreachable,
    TokenRejected,
    TushareError,
)
from alphahome.tasks.batch import prepare_batch, wire_types
from alphahome.tasks.failures import FailureStreak, failure_signature, is_transient_storage_error
from alphahome.tasks.planner import Batch, TaskPlan, parse_ymd
from alphahome.tasks.spec import DatasetSpec
from alphahome.tasks.sync_store import SyncStore

logger = logging.getLogger("alphahome.tasks")

TaskStatus = Literal["success", "partial", "skipped", "failed"]

#: A trade date this recent that returns no rows has not been published yet (it stays missing).
UNPUBLISHED_HORIZON_DAYS = 10
#: Default rows per save transaction (``tasks.<name>.save_batch_size`` overrides it) …
DEFAULT_SAVE_ROWS = 100_000
#: … and at most this many cells (rows × columns) are held waiting to be saved (wide statement tables).
MAX_BUFFERED_CELLS = 4_000_000


def save_threshold(spec: DatasetSpec, configured: int | None) -> int:
    """Rows to gather before one save: the configured size, else as many as fit the cell budget."""
    if configured:
        return configured
    return max(1, min(DEFAULT_SAVE_ROWS, MAX_BUFFERED_CELLS // max(1, len(spec.field_names))))


@dataclass(frozen=True)
class TaskOptions:
    """How one task runs (effective values: flags > config > dataset defaults)."""

    concurrent_limit: int = 3
    max_retries: int = 3
    retry_delay: float = 5.0
    #: Rows gathered before one save transaction (None: :func:`save_threshold`'s default).
    save_batch_size: int | None = None
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
    #: Times a request of this task waited for the rate limiter (quota pacing).
    quota_waits: int = 0

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
        # Fetched batches waiting to be saved together (see _buffer_batch).
        self._buffer: list[tuple[Batch, pa.Table, tuple[str, ...]]] = []
        self._buffered_rows = 0
        self._save_lock = asyncio.Lock()
        self._save_rows = save_threshold(spec, options.save_batch_size)
        self._streak = FailureStreak()
        self._logged: set[str] = set()
        #: The task stopped on a systematic storage error: what is still queued is not tried again.
        self._storage_broken = False

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
        except* (TokenRejected, ServerUnreachable) as eg:
            raise eg.exceptions[0] from None
        except* TaskAborted:
            pass  # recorded in self._abort by the worker
        async with self._save_lock:
            if self._storage_broken:
                self._failed += [(b, str(self._abort)) for b, _, _ in self._buffer]
                self._buffer = []
            else:
                try:
                    await self._save_buffer()  # what was fetched before an abort is kept
                except TaskAborted:
                    pass
        finished = datetime.now(UTC)
        logger.debug("%s: %d batches in %.2fs", self.spec.name, len(self.plan.batches), time.monotonic() - t0)
        return self.result(started, finished)

    def result(self, started: datetime, finished: datetime) -> TaskResult:
        """The result so far (also for a task stopped from outside, e.g. by the run's time limit)."""
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
            quota_waits=self.counter.waits,
        )

    async def _worker(self, batches: Iterator[Batch]) -> None:
        # One shared iterator: each batch is taken by exactly one worker.
        for batch in batches:
            if self._abort is not None:
                return
            await self._run_batch(batch)

    async def _run_batch(self, batch: Batch) -> None:
        """Fetch and prepare one batch, then hand it to the save buffer. The client has spent the batch's
        retry budget on each request, so a fetch that still fails is not fetched again here."""
        try:
            table, partitions = await self._fetch(batch)
        except (TokenRejected, ServerUnreachable):
            raise
        except (PermissionDenied, RequestError) as exc:
            self._abort_with(exc, batch)
        except QuotaExceeded as exc:
            if exc.window != "day":
                raise
            self._abort_with(exc, batch)
        except TushareError as exc:
            await self._give_up([batch], exc, transient=exc.retryable)
            return
        except (AlphaHomeError, OSError, pa.ArrowException) as exc:
            # preparing the same rows again fails the same way
            await self._give_up([batch], exc, transient=False)
            return
        await self._buffer_batch(batch, table, partitions)

    async def _pause_before_retry(self, label: str, exc: BaseException, attempt: int) -> None:
        delay = self.options.retry_delay * (2 ** (attempt - 1))
        logger.warning("%s: batch %s failed (%s); retry %d/%d in %.1fs", self.spec.name, label, exc, attempt,
                       self.options.max_retries, delay)
        await asyncio.sleep(delay)

    async def _give_up(self, batches: list[Batch], exc: BaseException, *, transient: bool,
                       attempts: int = 1) -> None:
        """Batches that failed after their retries: recorded missing, the task goes on, unless this is the
        ``SYSTEMATIC_AFTER``-th consecutive batch failing with one non-transient error (then it stops).
        Each distinct error is logged in full once; repeats are counted at debug level."""
        signature = failure_signature(exc)
        for batch in batches:
            if signature in self._logged:
                logger.debug("%s: batch %s failed (same error as before)", self.spec.name, batch.label)
            else:
                tries = f" after {attempts} save attempt(s)" if attempts > 1 else ""
                logger.error("%s: batch %s failed%s: %s", self.spec.name, batch.label, tries, exc)
                self._logged.add(signature)
            self._failed.append((batch, f"{batch.label}: {exc}"))
        partitions = [p for b in batches for p in b.partitions]
        if partitions:
            try:
                await self.store.mark_missing(self.spec, partitions, str(exc))
            except AlphaHomeError as err:  # the database itself may be what failed
                logger.debug("%s: could not record missing partitions: %s", self.spec.name, err)
        self._report()
        if not transient and self._streak.failure(exc) and self._abort is None:
            self._abort = TaskAborted(
                f"stopped after {self._streak.count} consecutive batches failed with the same error: {exc}")
            logger.error("%s: %s", self.spec.name, self._abort)
            raise self._abort

    def _abort_with(self, exc: BaseException, batch: Batch) -> None:
        if self._abort is None:
            self._abort = exc
            logger.error("%s: %s", self.spec.name, exc)
        self._failed.append((batch, str(exc)))
        raise TaskAborted(str(exc))

    def _report(self) -> None:
        if self.progress is not None:
            self.progress(self.spec.name, self._done + len(self._failed), len(self.plan.batches), self._rows)

    async def _fetch(self, batch: Batch) -> tuple[pa.Table, tuple[str, ...]]:
        """Every request of the batch, typed, validated and de-duplicated; and the partitions it completes."""
        tables = []
        for params in batch.requests:
            table = await self.client.fetch(
                batch.api, params, self.spec.field_names, page_size=self.plan.page_size,
                types=self._types, counter=self.counter, max_retries=self.options.max_retries,
            )
            tables.append(table)
        fetched = pa.concat_tables(tables, promote_options="permissive") if len(tables) > 1 else tables[0]
        prepared = prepare_batch(self.spec, fetched)
        if prepared.conflicts:
            # Rows of one answer with the same key but different values: only one can be stored, the others
            # are lost. Never silent: a key too narrow for the data (stages, revisions, NULL dates) shows here.
            logger.warning("%s: batch %s: %d row(s) conflict on the key (%s) with another row of the same "
                           "answer; the last of each key is kept", self.spec.name, batch.label,
                           prepared.conflicts, ", ".join(self.spec.key))
        copies = prepared.duplicates - prepared.conflicts
        if copies:
            logger.info("%s: batch %s: %d exact duplicate row(s) dropped", self.spec.name, batch.label, copies)
        partitions = self._complete_partitions(batch, prepared.table)
        left = len(batch.partitions) - len(partitions)
        if left:
            logger.info("%s: batch %s: %d recent date(s) returned no rows (not yet published); left missing",
                        self.spec.name, batch.label, left)
        return prepared.table, partitions

    async def _buffer_batch(self, batch: Batch, table: pa.Table, partitions: tuple[str, ...]) -> None:
        """Queue a fetched batch; once the queue holds ``save_batch_size`` rows, save it all in ONE
        transaction with the sync state of every partition in it. Fewer, larger transactions are much
        cheaper than one per small batch; memory stays bounded by the threshold. Nothing is marked
        complete before its rows commit, so a run that dies with batches queued fetches them again."""
        async with self._save_lock:
            self._buffer.append((batch, table, partitions))
            self._buffered_rows += table.num_rows
            # Until rows have been saved, save each batch at once: a table that cannot be written
            # is found after a few batches, not after fetching a whole buffer's worth.
            if self._buffered_rows >= self._save_rows or (table.num_rows and not self._rows):
                await self._save_buffer()

    async def _save_buffer(self) -> None:
        """Save the queued batches (caller holds ``_save_lock``), retrying; on failure they are missing."""
        if not self._buffer:
            return
        entries, self._buffer, self._buffered_rows = self._buffer, [], 0
        tables = [t for _, t, _ in entries if t.num_rows]
        table = pa.concat_tables(tables) if len(tables) > 1 else (tables[0] if tables else pa.table({}))
        partitions = [p for _, _, parts in entries for p in parts]
        attempt = 0
        while True:
            try:
                if not self._table_ready:
                    await self.store.ensure_table(self.spec)
                    self._table_ready = True
                saved = await self.store.save(self.spec, table, partitions)
                break
            except (AlphaHomeError, OSError, pa.ArrowException) as exc:
                transient = is_transient_storage_error(exc)
                attempt += 1
                if not transient or attempt > self.options.max_retries:
                    try:
                        await self._give_up([b for b, _, _ in entries], exc, transient=transient,
                                            attempts=attempt)
                    except TaskAborted:
                        self._storage_broken = True
                        raise
                    return
                await self._pause_before_retry(f"save of {len(entries)} batch(es)", exc, attempt)
        if table.num_rows:  # an empty save proves nothing about the table
            self._streak.success()
        self._rows += saved
        self._done += len(entries)
        self._report()

    def _complete_partitions(self, batch: Batch, table: pa.Table) -> tuple[str, ...]:
        """The partitions this batch makes complete. For datasets whose recent trade dates may not be
        published yet, a recent date with no rows is left out (a later run asks again)."""
        spec = self.spec
        if not (spec.empty_means_unpublished and spec.shape.dated_partitions):
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
