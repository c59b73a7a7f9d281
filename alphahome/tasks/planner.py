"""The planner: pure functions that turn a dataset spec, its stored sync state and the trade calendar into
the batches of requests that bring the dataset up to date.

Partitions (the unit the sync state records as complete):

==============  =====================  =========================================================
split           partition              request shape
==============  =====================  =========================================================
snapshot        ``all``                one request per variant (paged), refreshed by policy
trade_dates     ``YYYYMMDD``           whole market, trade-date windows of ~row_cap rows
code_dates      ``CODE|YYYYMMDD``      per code, trade-date windows of ~row_cap rows
code_months     ``CODE|YYYYMM``        per code, month windows of ~row_cap rows
periods         ``YYYYMMDD``           whole market per report period (``*_vip`` when allowed)
codes           ``CODE``               per code, all history
==============  =====================  =========================================================

Smart mode fetches what is not complete between the dataset's start and ``today`` (trading days only),
plus a look-back window of recent trade dates and the still "open" report periods. Full mode re-fetches
everything; manual mode re-fetches ``start``..``end`` inclusive.

Open periods: a report period younger than ``spec.open_days`` (~15 months for statements) still receives
late reports, restatements and new versions, so each smart run fetches it again (a handful of whole-market
calls). Older periods are complete once fetched.
"""

from __future__ import annotations

import calendar
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Literal

from alphahome.tasks.spec import DatasetSpec

Mode = Literal["smart", "full", "manual"]

SNAPSHOT_PARTITION = "all"
#: Aim a window a little under the page size, so that normal growth does not spill onto a second page.
WINDOW_FILL = 0.95
#: A batch of per-code requests holds at most about this many cells (rows × columns) in memory.
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


# --------------------------------------------------------------------------------------------------------
# small pure helpers


def window_size(page_size: int, rows_per_unit: float) -> int:
    """Units (dates, months) per call so that one call returns about ``page_size`` rows (at least 1)."""
    per_unit = max(1.0, float(rows_per_unit))
    return max(1, math.floor(page_size * WINDOW_FILL / per_unit))


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
# the planner


def _bounds(spec: DatasetSpec, inp: PlanInput) -> tuple[date, date]:
    """The date range a run covers: manual start..end, else the dataset's start..today."""
    start = inp.start_date or parse_ymd(spec.start_date)
    if inp.data_start is not None and inp.data_start > start:
        start = inp.data_start
    end = inp.today
    if inp.mode == "manual":
        start = inp.start or start
        end = inp.end or end
    return start, end


def _lookback(spec: DatasetSpec, inp: PlanInput) -> int:
    return spec.lookback_days if inp.lookback_days is None else inp.lookback_days


def _page_size(spec: DatasetSpec, inp: PlanInput, api: str | None = None) -> int:
    cap = spec.row_cap_for(api or spec.api_for(inp.points))
    return min(cap, inp.page_size) if inp.page_size else cap


def _rows_per_unit(spec: DatasetSpec, inp: PlanInput, fallback: float) -> float:
    if inp.rows_per_unit is not None and inp.rows_per_unit > 0:
        return inp.rows_per_unit
    if isinstance(spec.rows_per_date, int):
        return float(spec.rows_per_date)
    return fallback


def plan_missing_ranges(spec: DatasetSpec, inp: PlanInput) -> TaskPlan:
    """The plan of one dataset: which partitions to fetch, shaped into batches of requests."""
    kind = spec.split.kind
    if kind == "snapshot":
        plan = _plan_snapshot(spec, inp)
    elif kind == "trade_dates":
        plan = _plan_trade_dates(spec, inp)
    elif kind in ("code_dates", "code_months"):
        plan = _plan_code_windows(spec, inp)
    elif kind == "periods":
        plan = _plan_periods(spec, inp)
    elif kind == "codes":
        plan = _plan_codes(spec, inp)
    else:
        raise ValueError(f"dataset {spec.name}: unknown split {kind!r}")
    return replace(plan, page_size=_page_size(spec, inp, plan.api))


def _with_variants(spec: DatasetSpec, params: Mapping[str, str]) -> list[dict[str, str]]:
    return [{**params, **variant} for variant in spec.variants]


def _plan_snapshot(spec: DatasetSpec, inp: PlanInput) -> TaskPlan:
    api = spec.api_for(inp.points)
    due = True
    note = ""
    if inp.mode == "smart" and SNAPSHOT_PARTITION in inp.completed and inp.last_refresh is not None:
        age = max(0, (inp.today - inp.last_refresh).days)
        due = age >= spec.refresh_days
        note = f"refreshed {age} day(s) ago (policy: every {spec.refresh_days} day(s))"
    if not due:
        return TaskPlan(spec.name, api, inp.mode, (), note=note or "up to date")
    requests = tuple(_with_variants(spec, {}))
    batch = Batch(api, requests, (SNAPSHOT_PARTITION,), "snapshot")
    return TaskPlan(spec.name, api, inp.mode, (batch,), ranges=("whole table",), note=note or "refresh")


def _needed_dates(spec: DatasetSpec, inp: PlanInput, candidates: list[date], key: str = "") -> list[date]:
    """Candidates not yet complete (smart), plus the look-back window; all of them otherwise."""
    if inp.mode != "smart":
        return candidates
    prefix = f"{key}|" if key else ""
    needed = {d for d in candidates if f"{prefix}{ymd(d)}" not in inp.completed}
    lookback = _lookback(spec, inp)
    if lookback > 0:
        needed.update(candidates[-lookback:])
    return sorted(needed)


def _plan_trade_dates(spec: DatasetSpec, inp: PlanInput) -> TaskPlan:
    api = spec.api_for(inp.points)
    start, end = _bounds(spec, inp)
    calendar_days = [d for d in inp.trade_dates if start <= d <= end]
    if not calendar_days:
        note = "no trading days in range" if inp.trade_dates else "trade calendar not loaded"
        return TaskPlan(spec.name, api, inp.mode, (), note=note)
    needed = _needed_dates(spec, inp, calendar_days)
    if not needed:
        return TaskPlan(spec.name, api, inp.mode, (), note="up to date")
    batches: list[Batch] = []
    page = _page_size(spec, inp, api)
    date_runs = runs(needed, inp.trade_dates)
    per_batch_rows = MAX_BATCH_CELLS // len(spec.field_names)
    per_code_size = min(window_size(page, 1), max(1, per_batch_rows // max(1, len(inp.codes))))
    per_code_calls = len(inp.codes) * sum(math.ceil(len(run) / per_code_size) for run in date_runs)
    if spec.split.window:
        size = window_size(page, _rows_per_unit(spec, inp, 5000.0))
        for run in date_runs:
            for piece in chunks(run, size):
                params = {"start_date": ymd(piece[0]), "end_date": ymd(piece[-1])}
                label = ymd(piece[0]) if len(piece) == 1 else f"{ymd(piece[0])}..{ymd(piece[-1])}"
                batches.append(Batch(api, tuple(_with_variants(spec, params)),
                                     tuple(ymd(d) for d in piece), label))
    elif spec.split.code_windows and inp.codes and per_code_calls < len(needed):
        # Few codes, many dates: one call per code and date window beats one call per date.
        for run in date_runs:
            for piece in chunks(run, per_code_size):
                window = {"start_date": ymd(piece[0]), "end_date": ymd(piece[-1])}
                requests = tuple(r for code in inp.codes
                                 for r in _with_variants(spec, {spec.split.code_param: code, **window}))
                label = f"{ymd(piece[0])}..{ymd(piece[-1])} per code"
                batches.append(Batch(api, requests, tuple(ymd(d) for d in piece), label))
    else:
        for d in needed:
            params = {spec.split.date_param: ymd(d)}
            batches.append(Batch(api, tuple(_with_variants(spec, params)), (ymd(d),), ymd(d)))
    ranges = tuple(describe_ranges(needed, inp.trade_dates))
    return TaskPlan(spec.name, api, inp.mode, tuple(batches), ranges=ranges,
                    note=f"{len(needed)} trade date(s)")


def _plan_code_windows(spec: DatasetSpec, inp: PlanInput) -> TaskPlan:
    api = spec.api_for(inp.points)
    codes = spec.split.codes or tuple(inp.codes)
    if not codes:
        return TaskPlan(spec.name, api, inp.mode, (), note=f"no codes ({spec.split.codes_from} is empty)")
    inp = replace(inp, codes=codes)
    start, end = _bounds(spec, inp)
    monthly = spec.split.kind == "code_months"
    if monthly:
        units = month_starts(start, end)
        # The current and the previous month may still receive their snapshot: re-fetched while open.
        open_units = set(units[-2:]) if inp.mode == "smart" else set()
        fallback = 300.0
    else:
        units = [d for d in inp.trade_dates if start <= d <= end]
        open_units = set()
        fallback = 1.0
    if not units:
        note = "no trading days in range" if inp.trade_dates or monthly else "trade calendar not loaded"
        return TaskPlan(spec.name, api, inp.mode, (), note=note)
    size = window_size(_page_size(spec, inp, api), _rows_per_unit(spec, inp, fallback))
    batches: list[Batch] = []
    all_needed: set[date] = set()
    for code in inp.codes:
        if monthly:
            if inp.mode == "smart":
                needed = sorted(u for u in units if f"{code}|{u:%Y%m}" not in inp.completed or u in open_units)
            else:
                needed = units
        else:
            needed = _needed_dates(spec, inp, units, key=code)
        all_needed.update(needed)
        for run in runs(needed, units):
            for piece in chunks(run, size):
                first, last = piece[0], month_end(piece[-1]) if monthly else piece[-1]
                if monthly:
                    first = max(first, start) if inp.mode == "manual" else first
                    last = min(last, end) if inp.mode == "manual" else last
                params = {spec.split.code_param: code, "start_date": ymd(first), "end_date": ymd(last)}
                parts = tuple(f"{code}|{u:%Y%m}" if monthly else f"{code}|{ymd(u)}" for u in piece)
                label = f"{code} {ymd(first)}..{ymd(last)}"
                batches.append(Batch(api, tuple(_with_variants(spec, params)), parts, label))
    if not batches:
        return TaskPlan(spec.name, api, inp.mode, (), note="up to date")
    unit = "months" if monthly else "dates"
    ranges = tuple(describe_ranges(sorted(all_needed), units, unit))
    return TaskPlan(spec.name, api, inp.mode, tuple(batches), ranges=ranges,
                    note=f"{len(inp.codes)} code(s)")


def _plan_periods(spec: DatasetSpec, inp: PlanInput) -> TaskPlan:
    api = spec.api_for(inp.points)
    if spec.vip_api is not None and api != spec.vip_api:
        # Below the vip tier the whole-market call is not allowed: one call per stock instead.
        return _plan_codes(spec, inp)
    start, end = _bounds(spec, inp)
    periods = quarter_ends(start, end, spec.split.period_months)
    if inp.mode == "smart":
        open_from = inp.today - timedelta(days=spec.open_days)
        needed = [p for p in periods if ymd(p) not in inp.completed or p >= open_from]
    else:
        needed = periods
    if not needed:
        return TaskPlan(spec.name, api, inp.mode, (), note="up to date")
    batches = tuple(
        Batch(api, tuple(_with_variants(spec, {spec.split.date_param: ymd(p)})), (ymd(p),), ymd(p))
        for p in needed
    )
    ranges = tuple(describe_ranges(needed, periods, "periods"))
    return TaskPlan(spec.name, api, inp.mode, batches, ranges=ranges, note=f"{len(needed)} period(s)")


def _plan_codes(spec: DatasetSpec, inp: PlanInput) -> TaskPlan:
    """One call per stock. A code never fetched gets its whole history; in smart mode every other code is
    asked for announcements since ``open_days`` ago (new periods, late reports, restatements)."""
    api = spec.api
    if not inp.codes:
        return TaskPlan(spec.name, api, inp.mode, (), note=f"no codes ({spec.split.codes_from} is empty)")
    start, end = _bounds(spec, inp)
    batches: list[Batch] = []
    fresh = 0
    for code in inp.codes:
        params: dict[str, str] = {"ts_code": code}
        if inp.mode == "manual":
            params.update(start_date=ymd(start), end_date=ymd(end))
            parts: tuple[str, ...] = ()
        elif inp.mode == "smart" and code in inp.completed:
            params["start_date"] = ymd(inp.today - timedelta(days=spec.open_days))
            parts = (code,)
        else:
            fresh += 1
            parts = (code,)
        batches.append(Batch(api, tuple(_with_variants(spec, params)), parts, code))
    note = f"per stock: {fresh} new code(s), {len(batches) - fresh} refreshed"
    return TaskPlan(spec.name, api, inp.mode, tuple(batches), ranges=(note,), note=note)
