"""Progress of a run: rich progress bars (per task and overall) on a terminal; in cron, plain log lines at
each tenth of a task."""

from __future__ import annotations

import logging
from types import TracebackType

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

from alphahome.tasks.planner import TaskPlan

logger = logging.getLogger("alphahome.updater")


class RunProgress:
    """Receives the runner's progress callbacks and shows them."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.live = console.is_terminal
        self._bars: Progress | None = None
        self._ids: dict[str, TaskID] = {}
        self._overall: TaskID | None = None
        self._planned = 0
        self._done: dict[str, int] = {}
        self._logged_tenth: dict[str, int] = {}

    def __enter__(self) -> RunProgress:
        if self.live:
            self._bars = Progress(
                TextColumn("{task.description:<18}"), BarColumn(), MofNCompleteColumn(),
                TextColumn("{task.fields[rows]:>12} rows"), TimeElapsedColumn(),
                console=self.console, transient=False,
            )
            self._bars.start()
            self._overall = self._bars.add_task("all batches", total=0, rows="")
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if self._bars is not None:
            self._bars.stop()

    def start_task(self, name: str, plan: TaskPlan) -> None:
        """A task has been planned and starts."""
        total = len(plan.batches)
        self._planned += total
        if self._bars is not None and total:
            self._ids[name] = self._bars.add_task(name, total=total, rows="0")
            if self._overall is not None:
                self._bars.update(self._overall, total=self._planned)

    def advance(self, name: str, done: int, total: int, rows: int) -> None:
        """A batch of ``name`` finished (saved or given up)."""
        self._done[name] = done
        if self._bars is not None:
            task_id = self._ids.get(name)
            if task_id is not None:
                self._bars.update(task_id, completed=done, rows=f"{rows:,}")
            if self._overall is not None:
                self._bars.update(self._overall, completed=sum(self._done.values()))
            return
        tenth = (done * 10) // total if total else 10
        if total >= 10 and tenth > self._logged_tenth.get(name, 0) and done < total:
            self._logged_tenth[name] = tenth
            logger.info("%s: %d/%d batches, %d rows", name, done, total, rows)
