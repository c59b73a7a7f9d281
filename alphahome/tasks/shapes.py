"""Request shapes: how one dataset's requests are cut, one object per shape.

A shape owns three things that used to be switched on by name in several places: its **planning** (which
partitions are missing and how they become batches of requests), its **partition format** (what the sync
state records as complete) and its **description** (the words ``alphahome tasks`` shows). It also says what
the planner needs to know from the database (:attr:`RequestShape.reads`).

==================  =====================  ===========================================================
shape               partition              request
==================  =====================  ===========================================================
Snapshot            ``all``                whole table, one request per variant (paged), by policy
TradeDates          ``YYYYMMDD``           whole market per trade date (date windows of ~row_cap rows)
CalendarDates       ``YYYYMMDD``           whole market per calendar day: announcement dates of event
                                           datasets, daily macro series (date windows or one day/call)
CodeDates           ``CODE|YYYYMMDD``      per code, trade-date windows of ~row_cap rows
CodeMonths          ``CODE|YYYYMM``        per code, month windows paged (as long as the cell budget allows)
ReportPeriods       ``YYYYMMDD``           whole market per report period (``*_vip`` when allowed,
                                           else :class:`PerCode`)
PerCode             ``CODE``               per code, all history (refreshed since ``open_days``)
==================  =====================  ===========================================================

The catalogue names shapes by these objects; adding a dataset of an existing shape is one spec line.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from typing import TYPE_CHECKING, ClassVar, Literal

from alphahome.tasks.planner import (
    MAX_BATCH_CELLS,
    SNAPSHOT_PARTITION,
    Batch,
    PlanInput,
    TaskPlan,
    bounds,
    cell_capped_units,
    chunks,
    describe_ranges,
    lookback_of,
    month_end,
    month_starts,
    page_size_of,
    quarter_ends,
    rows_per_unit_of,
    runs,
    window_size,
    with_variants,
    ymd,
)

if TYPE_CHECKING:
    from alphahome.tasks.spec import DatasetSpec

#: What a shape's plan needs from the database (see ``SyncStore.plan_state``).
StateRead = Literal["last_refresh", "trade_dates", "codes", "rows_per_unit", "open_periods"]


@dataclass(frozen=True)
class CodeSource:
    """Where the codes of a per-code shape come from.

    ``table_column`` (``table.column`` of a catalogue dataset, e.g. ``stock_basic.ts_code``) lists them all;
    ``default`` names a fixed set instead (e.g. the major indices). ``configurable``: the set may be
    changed per dataset with ``tasks.<name>.codes`` or ``tasks.<name>.filter`` (index datasets).
    """

    table_column: str = "stock_basic.ts_code"
    default: tuple[str, ...] = ()
    configurable: bool = False

    @property
    def table(self) -> str:
        return self.table_column.partition(".")[0]

    def describe(self) -> str:
        if self.default:
            extra = " (configurable)" if self.configurable else ""
            return f"{len(self.default)} listed codes{extra}"
        return f"{self.table} codes"


STOCKS = CodeSource()


class RequestShape:
    """Base of the shapes: see the module docstring."""

    #: Short name (shown by ``alphahome tasks``, named by the interface table).
    name: ClassVar[str] = ""
    #: How partitions are written, for docs and the tasks listing.
    partition_format: ClassVar[str] = ""
    #: Whether a date-less dataset is allowed (snapshots, per-code all history).
    needs_date_column: ClassVar[bool] = True
    #: A recent partition that returned no rows may be "not yet published" (left missing).
    dated_partitions: ClassVar[bool] = False
    #: Rows per unit are counted per code (``count / distinct codes``) in this column.
    per_code_column: str | None = None

    def plan(self, spec: DatasetSpec, inp: PlanInput) -> TaskPlan:
        """The batches that bring ``spec`` up to date."""
        raise NotImplementedError

    @property
    def one_call_per_date(self) -> bool:
        """Whether history costs one call per date (the API takes no date window): long histories are
        expensive, so demos and tests start such datasets late."""
        return False

    def describe(self, spec: DatasetSpec, points: int) -> str:
        """How the dataset is requested and refreshed, in a few words."""
        raise NotImplementedError

    def reads(self, spec: DatasetSpec, points: int) -> frozenset[StateRead]:
        """What the plan needs from the database."""
        return frozenset()

    def code_source(self) -> CodeSource | None:
        """Where per-code requests get their codes (None: not per code)."""
        return None

    def api(self, spec: DatasetSpec, inp: PlanInput) -> str:
        return spec.api_for(inp.points)

    def _none(self, spec: DatasetSpec, inp: PlanInput, note: str) -> TaskPlan:
        return TaskPlan(spec.name, self.api(spec, inp), inp.mode, (), note=note)


# ------------------------------------------------------------------------------------------ snapshot


@dataclass(frozen=True)
class Snapshot(RequestShape):
    """The whole table, one (paged) request per variant; one partition, refreshed by policy."""

    name: ClassVar[str] = "snapshot"
    partition_format: ClassVar[str] = SNAPSHOT_PARTITION
    needs_date_column: ClassVar[bool] = False

    def reads(self, spec: DatasetSpec, points: int) -> frozenset[StateRead]:
        return frozenset({"last_refresh"})

    def plan(self, spec: DatasetSpec, inp: PlanInput) -> TaskPlan:
        api = self.api(spec, inp)
        due, note = True, ""
        if inp.mode == "smart" and SNAPSHOT_PARTITION in inp.completed and inp.last_refresh is not None:
            age = max(0, (inp.today - inp.last_refresh).days)
            due = age >= spec.refresh_days
            note = f"refreshed {age} day(s) ago (policy: every {spec.refresh_days} day(s))"
        if not due:
            return TaskPlan(spec.name, api, inp.mode, (), note=note or "up to date")
        batch = Batch(api, tuple(with_variants(spec, {})), (SNAPSHOT_PARTITION,), "snapshot")
        return TaskPlan(spec.name, api, inp.mode, (batch,), ranges=("whole table",), note=note or "refresh")

    def describe(self, spec: DatasetSpec, points: int) -> str:
        every = "every run" if spec.refresh_days == 0 else f"every {spec.refresh_days}d"
        variants = ",".join("/".join(v.values()) for v in spec.variants if v)
        return f"snapshot {every}" + (f" ({variants})" if variants else "")


# ------------------------------------------------------------------------------------- dated shapes


def needed_dates(spec: DatasetSpec, inp: PlanInput, candidates: list[date], key: str = "") -> list[date]:
    """Candidates not yet complete (smart), plus the look-back window; all of them otherwise."""
    if inp.mode != "smart":
        return candidates
    prefix = f"{key}|" if key else ""
    needed = {d for d in candidates if f"{prefix}{ymd(d)}" not in inp.completed}
    lookback = lookback_of(spec, inp)
    if lookback > 0:
        needed.update(candidates[-lookback:])
    return sorted(needed)


def _windowed(spec: DatasetSpec, api: str, needed: list[date], universe: list[date], size: int,
              extra: dict[str, str] | None = None) -> list[Batch]:
    """Batches of ``start_date``/``end_date`` windows over runs of ``needed`` (consecutive in ``universe``)."""
    out = []
    for run in runs(needed, universe):
        for piece in chunks(run, size):
            params = {**(extra or {}), "start_date": ymd(piece[0]), "end_date": ymd(piece[-1])}
            label = ymd(piece[0]) if len(piece) == 1 else f"{ymd(piece[0])}..{ymd(piece[-1])}"
            out.append(Batch(api, tuple(with_variants(spec, params)), tuple(ymd(d) for d in piece), label))
    return out


@dataclass(frozen=True)
class TradeDates(RequestShape):
    """Whole market per trade date. With ``window``, several dates per call through
    ``start_date``/``end_date`` (sized so one call returns about ``row_cap`` rows); else one call per date
    with ``date_param`` — or, with ``code_windows``, per code in date windows when that takes fewer calls
    (a small universe over a long range). Partition = the date."""

    name: ClassVar[str] = "trade_dates"
    partition_format: ClassVar[str] = "YYYYMMDD"
    dated_partitions: ClassVar[bool] = True

    window: bool = True
    date_param: str = "trade_date"
    code_windows: bool = False
    code_param: str = "ts_code"
    codes: CodeSource = STOCKS
    #: Without a stored estimate: rows per trade date assumed (whole A-share market).
    fallback_rows: float = 5000.0
    #: A window holds about this many pages (paged with offset/limit). 1 keeps one call per window; more
    #: suits tables whose daily volume is uncertain: a window sized for N pages costs the same calls as N
    #: one-page windows when the estimate is right, and far fewer when the market is smaller.
    pages_per_window: int = 1

    @property
    def one_call_per_date(self) -> bool:
        return not self.window and not self.code_windows

    def reads(self, spec: DatasetSpec, points: int) -> frozenset[StateRead]:
        out: set[StateRead] = {"trade_dates", "rows_per_unit"}
        if self.code_windows:
            out.add("codes")
        return frozenset(out)

    def code_source(self) -> CodeSource | None:
        return self.codes if self.code_windows else None

    def plan(self, spec: DatasetSpec, inp: PlanInput) -> TaskPlan:
        api = self.api(spec, inp)
        start, end = bounds(spec, inp)
        calendar_days = [d for d in inp.trade_dates if start <= d <= end]
        if not calendar_days:
            return self._none(spec, inp, "no trading days in range" if inp.trade_dates else "trade calendar not loaded")
        needed = needed_dates(spec, inp, calendar_days)
        if not needed:
            return self._none(spec, inp, "up to date")
        page = page_size_of(spec, inp, api)
        universe = list(inp.trade_dates)
        date_runs = runs(needed, universe)
        per_batch_rows = MAX_BATCH_CELLS // len(spec.field_names)
        per_code_size = min(window_size(page, 1), max(1, per_batch_rows // max(1, len(inp.codes))))
        per_code_calls = len(inp.codes) * sum(math.ceil(len(run) / per_code_size) for run in date_runs)
        batches: list[Batch] = []
        if self.window:
            per_date = rows_per_unit_of(spec, inp, self.fallback_rows)
            size = min(window_size(page * self.pages_per_window, per_date), cell_capped_units(spec, per_date))
            batches = _windowed(spec, api, needed, universe, size)
        elif self.code_windows and inp.codes and per_code_calls < len(needed):
            # Few codes, many dates: one call per code and date window beats one call per date.
            for run in date_runs:
                for piece in chunks(run, per_code_size):
                    window = {"start_date": ymd(piece[0]), "end_date": ymd(piece[-1])}
                    requests = tuple(r for code in inp.codes
                                     for r in with_variants(spec, {self.code_param: code, **window}))
                    label = f"{ymd(piece[0])}..{ymd(piece[-1])} per code"
                    batches.append(Batch(api, requests, tuple(ymd(d) for d in piece), label))
        else:
            for d in needed:
                batches.append(Batch(api, tuple(with_variants(spec, {self.date_param: ymd(d)})), (ymd(d),), ymd(d)))
        ranges = tuple(describe_ranges(needed, universe))
        return TaskPlan(spec.name, api, inp.mode, tuple(batches), ranges=ranges, note=f"{len(needed)} trade date(s)")

    def describe(self, spec: DatasetSpec, points: int) -> str:
        shape = "date windows" if self.window else f"per {self.date_param}"
        return f"whole market, {shape}; look-back {spec.lookback_days}d"


def calendar_days(first: date, last: date) -> list[date]:
    """Every day from ``first`` to ``last`` inclusive."""
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


@dataclass(frozen=True)
class CalendarDates(RequestShape):
    """Whole market per calendar day of ``date_param`` — the announcement date of an event dataset
    (dividends, repurchases, holder trades, …: a plan announced in 2023 for FY2022 belongs to 2023), or the
    date of a daily series published on non-trading days too (Shibor). With ``window``, several days per call
    through ``start_date``/``end_date``; else one call per day. Smart runs re-fetch ``lookback_days``
    calendar days (late and revised announcements). Partition = the day. Days with no rows are normal."""

    name: ClassVar[str] = "ann_dates"
    partition_format: ClassVar[str] = "YYYYMMDD"

    date_param: str = "ann_date"
    window: bool = True
    #: Without a stored estimate: rows per day assumed.
    fallback_rows: float = 50.0
    #: Only these weekdays (0 = Monday) carry data (weekly statistics dated on Fridays); None: every day.
    weekdays: tuple[int, ...] | None = None
    #: A window holds about this many pages (see :attr:`TradeDates.pages_per_window`).
    pages_per_window: int = 1

    @property
    def one_call_per_date(self) -> bool:
        return not self.window and self.weekdays is None

    def reads(self, spec: DatasetSpec, points: int) -> frozenset[StateRead]:
        return frozenset()

    def plan(self, spec: DatasetSpec, inp: PlanInput) -> TaskPlan:
        api = self.api(spec, inp)
        start, end = bounds(spec, inp)
        if start > end:
            return self._none(spec, inp, "nothing in range")
        days = calendar_days(start, end)
        if self.weekdays is not None:
            days = [d for d in days if d.weekday() in self.weekdays]
        needed = needed_dates(spec, inp, days)
        if not needed:
            return self._none(spec, inp, "up to date")
        if self.window:
            page = page_size_of(spec, inp, api) * self.pages_per_window
            per_day = rows_per_unit_of(spec, inp, self.fallback_rows)
            size = min(window_size(page, per_day), cell_capped_units(spec, per_day))
            batches = _windowed(spec, api, needed, days, size)
        else:
            batches = [Batch(api, tuple(with_variants(spec, {self.date_param: ymd(d)})), (ymd(d),), ymd(d))
                       for d in needed]
        ranges = tuple(describe_ranges(needed, days, "days"))
        return TaskPlan(spec.name, api, inp.mode, tuple(batches), ranges=ranges, note=f"{len(needed)} day(s)")

    def describe(self, spec: DatasetSpec, points: int) -> str:
        shape = "day windows" if self.window else "one call per day"
        if self.weekdays is not None:
            shape = "one call per week"
        return f"whole market by {self.date_param}, {shape}; look-back {spec.lookback_days} day(s)"


# ------------------------------------------------------------------------------------ per-code shapes


@dataclass(frozen=True)
class CodeDates(RequestShape):
    """Per code in trade-date windows. Partition = ``CODE|YYYYMMDD``."""

    name: ClassVar[str] = "per_index"
    partition_format: ClassVar[str] = "CODE|YYYYMMDD"
    dated_partitions: ClassVar[bool] = True

    code_param: str = "ts_code"
    codes: CodeSource = STOCKS

    @property
    def per_code_column(self) -> str | None:  # type: ignore[override]
        return self.code_param

    def reads(self, spec: DatasetSpec, points: int) -> frozenset[StateRead]:
        return frozenset({"trade_dates", "codes", "rows_per_unit"})

    def code_source(self) -> CodeSource | None:
        return self.codes

    def plan(self, spec: DatasetSpec, inp: PlanInput) -> TaskPlan:
        api = self.api(spec, inp)
        codes = tuple(inp.codes) or self.codes.default
        if not codes:
            return self._none(spec, inp, f"no codes ({self.codes.table_column} is empty)")
        start, end = bounds(spec, inp)
        units = [d for d in inp.trade_dates if start <= d <= end]
        if not units:
            return self._none(spec, inp, "no trading days in range" if inp.trade_dates else "trade calendar not loaded")
        per_date = rows_per_unit_of(spec, inp, 1.0)
        size = min(window_size(page_size_of(spec, inp, api), per_date), cell_capped_units(spec, per_date))
        batches: list[Batch] = []
        all_needed: set[date] = set()
        for code in codes:
            needed = needed_dates(spec, inp, units, key=code)
            all_needed.update(needed)
            for run in runs(needed, units):
                for piece in chunks(run, size):
                    params = {self.code_param: code, "start_date": ymd(piece[0]), "end_date": ymd(piece[-1])}
                    parts = tuple(f"{code}|{ymd(u)}" for u in piece)
                    batches.append(Batch(api, tuple(with_variants(spec, params)), parts,
                                         f"{code} {ymd(piece[0])}..{ymd(piece[-1])}"))
        if not batches:
            return self._none(spec, inp, "up to date")
        ranges = tuple(describe_ranges(sorted(all_needed), units))
        return TaskPlan(spec.name, api, inp.mode, tuple(batches), ranges=ranges, note=f"{len(codes)} code(s)")

    def describe(self, spec: DatasetSpec, points: int) -> str:
        return f"per code ({self.codes.describe()}), date windows; look-back {spec.lookback_days}d"


@dataclass(frozen=True)
class CodeMonths(RequestShape):
    """Per code in month windows (monthly snapshots such as index weights). The current and the previous
    month are re-fetched while open. Partition = ``CODE|YYYYMM``.

    A window spans as many months as a batch's cell budget allows (:data:`MAX_BATCH_CELLS`) and is paged
    with offset/limit, so a code costs what the row cap needs (its rows ÷ the cap, at least one call)
    whatever its size: the codes of one dataset differ a hundredfold (BSE 50 beside the SSE Composite's
    2,000+ members), so no one rows-per-month figure sizes one-page windows for all of them (sizing by the
    stock count made one call per index and month: ~2,400 calls for the major indices since 2005)."""

    name: ClassVar[str] = "per_index_month"
    partition_format: ClassVar[str] = "CODE|YYYYMM"

    code_param: str = "ts_code"
    codes: CodeSource = STOCKS
    #: Without a stored estimate: rows per code and month assumed.
    fallback_rows: float = 300.0

    @property
    def per_code_column(self) -> str | None:  # type: ignore[override]
        return self.code_param

    def reads(self, spec: DatasetSpec, points: int) -> frozenset[StateRead]:
        return frozenset({"codes", "rows_per_unit"})

    def code_source(self) -> CodeSource | None:
        return self.codes

    def plan(self, spec: DatasetSpec, inp: PlanInput) -> TaskPlan:
        api = self.api(spec, inp)
        codes = tuple(inp.codes) or self.codes.default
        if not codes:
            return self._none(spec, inp, f"no codes ({self.codes.table_column} is empty)")
        start, end = bounds(spec, inp)
        units = month_starts(start, end)
        if not units:
            return self._none(spec, inp, "no months in range")
        open_units = set(units[-2:]) if inp.mode == "smart" else set()
        # The stock count (the estimate before any weights are stored) bounds an index's month from above.
        size = cell_capped_units(spec, rows_per_unit_of(spec, inp, self.fallback_rows))
        batches: list[Batch] = []
        all_needed: set[date] = set()
        for code in codes:
            if inp.mode == "smart":
                needed = sorted(u for u in units if f"{code}|{u:%Y%m}" not in inp.completed or u in open_units)
            else:
                needed = units
            all_needed.update(needed)
            for run in runs(needed, units):
                for piece in chunks(run, size):
                    first, last = piece[0], month_end(piece[-1])
                    if inp.mode == "manual":
                        first, last = max(first, start), min(last, end)
                    params = {self.code_param: code, "start_date": ymd(first), "end_date": ymd(last)}
                    parts = tuple(f"{code}|{u:%Y%m}" for u in piece)
                    batches.append(Batch(api, tuple(with_variants(spec, params)), parts,
                                         f"{code} {ymd(first)}..{ymd(last)}"))
        if not batches:
            return self._none(spec, inp, "up to date")
        ranges = tuple(describe_ranges(sorted(all_needed), units, "months"))
        return TaskPlan(spec.name, api, inp.mode, tuple(batches), ranges=ranges, note=f"{len(codes)} code(s)")

    def describe(self, spec: DatasetSpec, points: int) -> str:
        return f"per code ({self.codes.describe()}), paged month windows; last 2 months re-fetched"


@dataclass(frozen=True)
class PerCode(RequestShape):
    """One call per code (all of its history). A code never fetched gets its whole history; in smart mode
    every other code is asked for announcements since ``open_days`` ago. Partition = the code."""

    name: ClassVar[str] = "per_code"
    partition_format: ClassVar[str] = "CODE"
    needs_date_column: ClassVar[bool] = False

    code_param: str = "ts_code"
    codes: CodeSource = STOCKS

    def reads(self, spec: DatasetSpec, points: int) -> frozenset[StateRead]:
        return frozenset({"codes"})

    def code_source(self) -> CodeSource | None:
        return self.codes

    def api(self, spec: DatasetSpec, inp: PlanInput) -> str:
        return spec.api

    def plan(self, spec: DatasetSpec, inp: PlanInput) -> TaskPlan:
        api = self.api(spec, inp)
        codes = tuple(inp.codes) or self.codes.default
        if not codes:
            return self._none(spec, inp, f"no codes ({self.codes.table_column} is empty)")
        start, end = bounds(spec, inp)
        batches: list[Batch] = []
        fresh = 0
        for code in codes:
            params: dict[str, str] = {self.code_param: code}
            parts: tuple[str, ...] = (code,)
            if inp.mode == "manual":
                params.update(start_date=ymd(start), end_date=ymd(end))
                parts = ()
            elif inp.mode == "smart" and code in inp.completed:
                params["start_date"] = ymd(inp.today - timedelta(days=spec.open_days))
            else:
                fresh += 1
            batches.append(Batch(api, tuple(with_variants(spec, params)), parts, code))
        note = f"per code: {fresh} new code(s), {len(batches) - fresh} refreshed"
        return TaskPlan(spec.name, api, inp.mode, tuple(batches), ranges=(note,), note=note)

    def describe(self, spec: DatasetSpec, points: int) -> str:
        return f"per code ({self.codes.describe()}), all history; refreshed since {spec.open_days}d"


@dataclass(frozen=True)
class ReportPeriods(RequestShape):
    """Whole market per report period (``date_param`` = ``period`` or ``end_date``) on the ``*_vip`` API
    where the dataset has one; below the vip tier one call per stock (:class:`PerCode`). Periods younger
    than ``open_days`` are re-fetched each smart run. Partition = the period (``CODE`` per stock)."""

    name: ClassVar[str] = "periods"
    partition_format: ClassVar[str] = "YYYYMMDD"

    date_param: str = "period"
    period_months: tuple[int, ...] = (3, 6, 9, 12)
    per_stock: PerCode = field(default_factory=PerCode)

    def _per_stock(self, spec: DatasetSpec, points: int) -> bool:
        return spec.vip_api is not None and spec.api_for(points) != spec.vip_api

    def reads(self, spec: DatasetSpec, points: int) -> frozenset[StateRead]:
        return frozenset({"codes"}) if self._per_stock(spec, points) else frozenset()

    def code_source(self) -> CodeSource | None:
        return self.per_stock.codes  # used below the vip tier only

    def plan(self, spec: DatasetSpec, inp: PlanInput) -> TaskPlan:
        if self._per_stock(spec, inp.points):
            return self.per_stock.plan(spec, inp)
        api = self.api(spec, inp)
        start, end = bounds(spec, inp)
        periods = quarter_ends(start, end, self.period_months)
        if inp.mode == "smart":
            open_from = inp.today - timedelta(days=spec.open_days)
            needed = [p for p in periods if ymd(p) not in inp.completed or p >= open_from]
        else:
            needed = periods
        if not needed:
            return self._none(spec, inp, "up to date")
        batches = tuple(Batch(api, tuple(with_variants(spec, {self.date_param: ymd(p)})), (ymd(p),), ymd(p))
                        for p in needed)
        ranges = tuple(describe_ranges(needed, periods, "periods"))
        return TaskPlan(spec.name, api, inp.mode, batches, ranges=ranges, note=f"{len(needed)} period(s)")

    def describe(self, spec: DatasetSpec, points: int) -> str:
        if self._per_stock(spec, points):
            return f"per stock (needs {spec.vip_points} points for per-period); open {spec.open_days}d"
        return f"per {self.date_param}; periods open {spec.open_days}d re-fetched"


def with_codes(shape: RequestShape, codes: CodeSource) -> RequestShape:
    """``shape`` with another code source (per-code shapes only)."""
    return replace(shape, codes=codes)  # type: ignore[type-var]
