"""The planner: pure functions that turn a dataset spec, its stored sync state and the trade calendar into
the batches of requests that bring the dataset up to date.

Each dataset's request shape (:mod:`alphahome.tasks.shapes`) plans it, records its own partition format and
describes itself; this module holds what all shapes share: the plan's types and the date helpers.

Smart mode fetches what is not complete between the dataset's start and ``today``, plus a look-back window
of recent dates and the still "open" report periods. Full mode re-fetches everything; manual mode
re-fetches ``start``..``end`` inclusive.

Open periods: a report period younger than ``spec.open_days`` (~15 months for statements) still receives
late reports, restatements and new versions, so each smart run fetches it again (a handful of whole-market
calls). Older periods are complete once fetched.
"""

from __future__ import annotations

import calendar
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from alphahome.tasks.spec import DatasetSpec

Mode = Literal["smart", "full", "manual"]

SNAPSHOT_PARTITION = "all"
#: Aim a window a little under the page size, so that normal growth does not spill onto a second page.
WINDOW_FILL = 0.95
#: A batch holds at most about this many cells (rows × columns) in memory: its window (dates, months) is
#: shortened to fit, whatever the page size and pages per window allow (a 5,000-stock market of wide tables
#: otherwise made batches of several GiB).
MAX_BATCH_CELLS = 8_000_000


def ymd(day: date) -> str:
    """``date`` as Tushare's ``YYYYMMDD``."""
    return day.strftime("%Y%m%d")


def parse_ymd(text: str) -> date:
    """``YYYYMMDD`` (or ``YYYY-MM-DD``) as a date."""
    text = text.replace("-", "")
    return date(int(text[:4]), int(text[4:6]), int(text[6:8]))


@dataclass(frozen=True)
class Batch:
    """One unit of work: its requests are fetched, their rows saved in one transaction together with the
    sync state marking ``partitions`` complete."""

    api: str
    requests: tuple[Mapping[str, str], ...]
    partitions: tuple[str, ...]
    label: str

    @property
    def calls(self) -> int:
        """Requests (at least one call each; paging may add more)."""
        return len(self.requests)


@dataclass(frozen=True)
class TaskPlan:
    """What one dataset's run will do."""

    dataset: str
    api: str
    mode: Mode
    batches: tuple[Batch, ...]
    #: Human-readable missing ranges, e.g. ``20240102..20240131 (21 dates)``.
    ranges: tuple[str, ...] = ()
    #: Why nothing (or what) is planned.
    note: str = ""
    #: Rows per call (offset/limit page) for ``api``.
    page_size: int = 6000

    @property
    def calls(self) -> int:
        """Estimated calls (one per request; extra pages not counted)."""
        return sum(b.calls for b in self.batches)

    @property
    def up_to_date(self) -> bool:
        return not self.batches


@dataclass(frozen=True)
class PlanInput:
    """Everything the planner needs to know about one dataset's state (read from the database)."""

    today: date
    mode: Mode = "smart"
    #: Manual mode's inclusive range.
    start: date | None = None
    end: date | None = None
    #: Open trading days (sorted ascending), from the stored calendar.
    trade_dates: Sequence[date] = ()
    #: Partitions recorded complete.
    completed: frozenset[str] = frozenset()
    #: Snapshot datasets: the day of the last complete refresh.
    last_refresh: date | None = None
    #: Per-code splits: the codes (indices, stocks).
    codes: Sequence[str] = ()
    #: Estimated rows per partition unit (per trade date, or per code and month); None = spec default.
    rows_per_unit: float | None = None
    #: The token's points tier (chooses the ``*_vip`` API).
    points: int = 2000
    #: Effective config: first date of history and look-back trade dates.
    start_date: date | None = None
    lookback_days: int | None = None
    page_size: int | None = None
    #: Earliest date any data can exist (e.g. the first listing); avoids calls for empty history.
    data_start: date | None = None
    #: Announcement-day datasets: the report periods of plans still open (re-fetched by smart runs).
    open_periods: Sequence[date] = ()


# --------------------------------------------------------------------------------------------------------
# small pure helpers


def window_size(page_size: int, rows_per_unit: float) -> int:
    """Units (dates, months) per call so that one call returns about ``page_size`` rows (at least 1)."""
    per_unit = max(1.0, float(rows_per_unit))
    return max(1, math.floor(page_size * WINDOW_FILL / per_unit))


def cell_capped_units(spec: DatasetSpec, rows_per_unit: float) -> int:
    """Most units (dates, months) one batch may span so that its rows × columns stay under
    :data:`MAX_BATCH_CELLS`: every variant of the dataset is a request of its own in the batch."""
    per_unit = max(1.0, float(rows_per_unit)) * max(1, len(spec.variants))
    max_rows = MAX_BATCH_CELLS // max(1, len(spec.field_names))
    return max(1, math.floor(max_rows / per_unit))


def runs(items: Sequence[date], universe: Sequence[date]) -> list[list[date]]:
    """Split sorted ``items`` into runs that are consecutive in ``universe`` (e.g. trade dates)."""
    position = {d: i for i, d in enumerate(universe)}
    result: list[list[date]] = []
    last = -2
    for d in items:
        i = position[d]
        if result and i == last + 1:
            result[-1].append(d)
        else:
            result.append([d])
        last = i
    return result


def chunks(items: Sequence[date], size: int) -> list[Sequence[date]]:
    """``items`` cut into consecutive pieces of at most ``size``."""
    return [items[i : i + size] for i in range(0, len(items), size)]


def describe_ranges(days: Sequence[date], universe: Sequence[date], unit: str = "dates") -> list[str]:
    """Runs of ``days`` (consecutive in ``universe``) as ``first..last (n dates)`` strings."""
    out = []
    for run in runs(sorted(days), universe):
        if len(run) == 1:
            out.append(f"{ymd(run[0])} (1 {unit.rstrip('s')})")
        else:
            out.append(f"{ymd(run[0])}..{ymd(run[-1])} ({len(run)} {unit})")
    return out


def quarter_ends(first: date, last: date, months: Iterable[int] = (3, 6, 9, 12)) -> list[date]:
    """Report periods (month ends in ``months``) from ``first`` to ``last`` inclusive."""
    wanted = set(months)
    out = []
    year, month = first.year, first.month
    while (year, month) <= (last.year, last.month):
        if month in wanted:
            end = date(year, month, calendar.monthrange(year, month)[1])
            if first <= end <= last:
                out.append(end)
        month += 1
        if month > 12:
            year, month = year + 1, 1
    return out


def month_starts(first: date, last: date) -> list[date]:
    """The first day of every month from ``first``'s month to ``last``'s month."""
    out = []
    year, month = first.year, first.month
    while (year, month) <= (last.year, last.month):
        out.append(date(year, month, 1))
        month += 1
        if month > 12:
            year, month = year + 1, 1
    return out


def month_end(day: date) -> date:
    return date(day.year, day.month, calendar.monthrange(day.year, day.month)[1])


# --------------------------------------------------------------------------------------------------------
# shared by the shapes


def bounds(spec: DatasetSpec, inp: PlanInput) -> tuple[date, date]:
    """The date range a run covers: manual start..end, else the dataset's start..today."""
    start = inp.start_date or parse_ymd(spec.start_date)
    if inp.data_start is not None and inp.data_start > start:
        start = inp.data_start
    end = inp.today
    if inp.mode == "manual":
        start = inp.start or start
        end = inp.end or end
    return start, end


def lookback_of(spec: DatasetSpec, inp: PlanInput) -> int:
    """Look-back units (trade dates, days) a smart run re-fetches: config, else the spec's."""
    return spec.lookback_days if inp.lookback_days is None else inp.lookback_days


def page_size_of(spec: DatasetSpec, inp: PlanInput, api: str | None = None) -> int:
    """Rows per call of ``api``: its cap, lowered by a configured page size."""
    cap = spec.row_cap_for(api or spec.api_for(inp.points))
    return min(cap, inp.page_size) if inp.page_size else cap


def rows_per_unit_of(spec: DatasetSpec, inp: PlanInput, fallback: float) -> float:
    """Expected rows per unit (date, code-month): the stored estimate, the spec's figure, else ``fallback``."""
    if inp.rows_per_unit is not None and inp.rows_per_unit > 0:
        return inp.rows_per_unit
    if isinstance(spec.rows_per_date, int):
        return float(spec.rows_per_date)
    return fallback


def with_variants(spec: DatasetSpec, params: Mapping[str, str]) -> list[dict[str, str]]:
    """``params`` once per fixed-parameter variant of the dataset."""
    return [{**params, **variant} for variant in spec.variants]


def plan_missing_ranges(spec: DatasetSpec, inp: PlanInput) -> TaskPlan:
    """The plan of one dataset (made by its request shape), with the page size of the API it calls."""
    plan = spec.shape.plan(spec, inp)
    return replace(plan, page_size=page_size_of(spec, inp, plan.api))
