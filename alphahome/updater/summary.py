"""The end-of-run summary: one line per task (status, rows, calls, duration, reason) and the totals."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from rich.console import Console
from rich.table import Table

from alphahome.tasks.runner import TaskResult

_STYLE = {"success": "green", "skipped": "dim", "partial": "yellow", "failed": "red"}
_LABEL = {"success": "success", "skipped": "up-to-date", "partial": "partial", "failed": "failed"}


def status_label(result: TaskResult) -> str:
    """``success``, ``up-to-date`` (skipped), ``partial`` or ``failed``."""
    return _LABEL[result.status]


def format_duration(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, secs = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes}m{secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m"


def summary_table(results: Sequence[TaskResult], *, title: str = "Tushare update") -> Table:
    """A rich table of the run's results."""
    table = Table(title=title, title_justify="left", show_lines=False)
    table.add_column("dataset")
    table.add_column("status")
    table.add_column("rows", justify="right")
    table.add_column("calls", justify="right")
    table.add_column("duration", justify="right")
    table.add_column("reason / note", overflow="fold")
    for r in results:
        reason = r.error or r.note or ""
        table.add_row(
            r.dataset,
            f"[{_STYLE[r.status]}]{status_label(r)}[/]",
            f"{r.rows:,}",
            f"{r.calls:,}",
            format_duration(r.duration),
            reason,
        )
    return table


def totals_line(results: Sequence[TaskResult], wall_seconds: float) -> str:
    """``22 tasks: 18 success, 3 up-to-date, 1 failed; 1,234,567 rows, 812 calls in 3m02s``."""
    counts = Counter(status_label(r) for r in results)
    parts = [f"{counts[k]} {k}" for k in ("success", "up-to-date", "partial", "failed") if counts[k]]
    rows = sum(r.rows for r in results)
    calls = sum(r.calls for r in results)
    return (f"{len(results)} task(s): {', '.join(parts) or 'none'}; {rows:,} rows, {calls:,} calls "
            f"in {format_duration(wall_seconds)}")


def print_summary(console: Console, results: Sequence[TaskResult], wall_seconds: float) -> None:
    """Print the table and the totals line."""
    console.print(summary_table(results))
    console.print(totals_line(results, wall_seconds))
