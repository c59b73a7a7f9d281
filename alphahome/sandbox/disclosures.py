"""When each synthetic company publishes each report, and in how many versions.

The schedule follows the Chinese disclosure rules: Q1 by the end of April, H1 by the end of August, Q3 by
the end of October, the annual report by the end of April of the next year (many companies publish the
annual report and Q1 on the same day). A company listed during the range has, before its listing, only
the annual reports of its prospectus, all announced shortly before the listing day. Nothing is announced
after the market's present (``end``) or after a delisting.

The hard cases the sync and the point-in-time builder must survive are planted deterministically on the
first eligible companies of the universe (listed before the first modelled year, still listed at
``end``, not banks), on periods announced between ``start`` and ``end``, in this order: a restated period (three versions), an annual report published late
(after the next Q1), a period never published, two periods with NULL ``f_ann_date``, one with NULL
``ann_date``, and one period whose rows are sent twice. ``FinancialCases`` names them. Random
restatements and duplicates are sprinkled over the other companies at low rates.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from alphahome.sandbox.company_random import CompanyDraws, ScheduleRow

#: Bits of ``Versions.duplicate``: which tables send the version's rows twice.
DUP_INCOME, DUP_BALANCE, DUP_CASHFLOW, DUP_INDICATOR = 1, 2, 4, 8
DUP_ALL = DUP_INCOME | DUP_BALANCE | DUP_CASHFLOW | DUP_INDICATOR

RANDOM_RESTATE_RATE = 0.008
RANDOM_DUPLICATE_RATE = 0.0015

_EPOCH = dt.date(1970, 1, 1)
#: A day number that ``day_strings`` renders as NULL.
NULL_DAY = -(10**7)
_FAR_PAST = -(10**6)
_FAR_FUTURE = 10**6

#: Announcement windows per quarter (Q1, H1, Q3, annual): (years after the period's year, month, day).
_WINDOWS = (
    ((0, 4, 8), (0, 4, 30)),
    ((0, 7, 12), (0, 8, 31)),
    ((0, 10, 10), (0, 10, 31)),
    ((1, 1, 20), (1, 4, 30)),
)
#: Versions of the restated case period: (days after the first publication, factor on the true values).
_CASE_RESTATEMENT = ((0, 1.06), (30, 0.98), (95, 1.0))


def to_day(d: dt.date) -> int:
    """Days since 1970-01-01."""
    return (d - _EPOCH).days


def day_strings(days: np.ndarray) -> np.ndarray:
    """'YYYYMMDD' strings (object array) for day numbers; None where the day is negative-infinite (NULL)."""
    out = np.full(days.shape, None, dtype=object)
    ok = days > _FAR_PAST
    if ok.any():
        lo, hi = int(days[ok].min()), int(days[ok].max())
        table = pd.to_datetime(np.arange(lo, hi + 1), unit="D").strftime("%Y%m%d").to_numpy(dtype=object)
        out[ok] = table[days[ok] - lo]
    return out


@dataclass(frozen=True)
class Calendar:
    """Days on which announcements may happen: the given trading days, weekdays outside their range."""

    days: np.ndarray

    @classmethod
    def build(cls, trade_dates: Sequence[dt.date], lo: int, hi: int) -> Calendar:
        trading = np.unique(np.array([to_day(d) for d in trade_dates], dtype=np.int64))
        span = np.arange(lo, hi + 1, dtype=np.int64)
        weekdays = span[(span + 3) % 7 < 5]  # 1970-01-01 was a Thursday
        if len(trading):
            outside = weekdays[(weekdays < trading[0]) | (weekdays > trading[-1])]
            days = np.union1d(trading, outside)
        else:
            days = weekdays
        return cls(days)

    def on_or_before(self, d: np.ndarray | int) -> np.ndarray:
        idx = np.searchsorted(self.days, d, side="right") - 1
        return self.days[np.clip(idx, 0, len(self.days) - 1)]

    def on_or_after(self, d: np.ndarray | int) -> np.ndarray:
        idx = np.searchsorted(self.days, d, side="left")
        return self.days[np.clip(idx, 0, len(self.days) - 1)]


@dataclass(frozen=True)
class PeriodGrid:
    """Quarter ends from Q1 of ``first_year`` (a hidden year: last year's figures for growth rates and
    forecasts, never published) over ``n_years`` whole years."""

    first_year: int
    n_years: int

    @classmethod
    def for_range(cls, start: dt.date, end: dt.date) -> PeriodGrid:
        # Published periods begin early enough that TTM (four single quarters, each a YTD difference)
        # is computable on the first day: a start before May sees at best Q3 of the previous year.
        first_published = start.year - 1 if start >= dt.date(start.year, 5, 1) else start.year - 2
        return cls(first_published - 1, end.year - first_published + 2)

    @property
    def n_quarters(self) -> int:
        return 4 * self.n_years

    @property
    def quarter(self) -> np.ndarray:
        return np.arange(self.n_quarters) % 4

    @property
    def year(self) -> np.ndarray:
        return self.first_year + np.arange(self.n_quarters) // 4

    def end_dates(self) -> list[dt.date]:
        ends = ((3, 31), (6, 30), (9, 30), (12, 31))
        return [dt.date(int(y), *ends[q]) for y, q in zip(self.year, self.quarter, strict=True)]

    @property
    def end_days(self) -> np.ndarray:
        return np.array([to_day(d) for d in self.end_dates()], dtype=np.int64)

    def window(self, which: int) -> np.ndarray:
        """First (which=0) or last (which=1) day of each period's announcement window."""
        out = []
        for y, q in zip(self.year, self.quarter, strict=True):
            dy, m, d = _WINDOWS[q][which]
            out.append(to_day(dt.date(int(y) + dy, m, d)))
        return np.array(out, dtype=np.int64)


@dataclass(frozen=True)
class FinancialCases:
    """Where the hard cases are: ts_codes, or (ts_code, end_date 'YYYYMMDD') pairs."""

    #: Periods with three versions: f_ann_date rising, update_flag '0', '0', '1', values differing.
    restated: tuple[tuple[str, str], ...] = ()
    #: (ts_code, annual end_date, end_date of the later period announced before it).
    late_report: tuple[tuple[str, str, str], ...] = ()
    #: Periods that were never published (their successor's single quarter and TTM must be NULL).
    missing_period: tuple[tuple[str, str], ...] = ()
    #: Companies listed during the range whose pre-listing reports are annual only, from the prospectus.
    prelisting: tuple[str, ...] = ()
    #: Periods whose rows appear twice, identical, in income, balancesheet, cashflow and fina_indicator.
    duplicated: tuple[tuple[str, str], ...] = ()
    #: Statement rows with f_ann_date NULL (their ann_date is the knowledge date).
    null_f_ann_date: tuple[tuple[str, str], ...] = ()
    #: Statement rows with ann_date NULL and f_ann_date set.
    null_ann_date: tuple[tuple[str, str], ...] = ()
    #: Banks (comp_type '2') with reports.
    banks: tuple[str, ...] = ()


@dataclass
class Versions:
    """One row per published version of a (company, period) report, shared by the three statements and
    fina_indicator. Arrays of equal length, sorted by (company, period, f_ann_date)."""

    stock: np.ndarray
    period: np.ndarray
    #: Multiplier on the true values (1.0 for correct figures; a restated original differs).
    factor: np.ndarray
    ann: np.ndarray
    f_ann: np.ndarray
    #: '1' for the newest version of its period as of ``end``, '0' for superseded ones.
    update_flag: np.ndarray
    null_ann: np.ndarray
    null_f_ann: np.ndarray
    duplicate: np.ndarray

    def __len__(self) -> int:
        return len(self.stock)


@dataclass
class Schedule:
    codes: list[str]
    comp_types: list[str]
    grid: PeriodGrid
    calendar: Calendar
    end_day: int
    list_day: np.ndarray
    delist_day: np.ndarray
    #: First publication day of each (company, period) report; -1 if never published by ``end``.
    first_ann: np.ndarray
    versions: Versions
    cases: FinancialCases
    case_stocks: set[int] = field(default_factory=set)


def _optional_day(value: object, default: int) -> int:
    if value is None or (isinstance(value, float) and np.isnan(value)) or value == "":
        return default
    text = str(value)
    return to_day(dt.date(int(text[:4]), int(text[4:6]), int(text[6:8])))


def plan_schedule(universe: pd.DataFrame, trade_dates: Sequence[dt.date], start: dt.date, end: dt.date,
                  grid: PeriodGrid, draws: CompanyDraws) -> Schedule:
    """Announcement days, versions and hard cases of every (company, period) report."""
    codes = [str(c) for c in universe["ts_code"]]
    comp_types = [str(c) if c is not None and str(c) not in ("", "nan", "None") else "1"
                  for c in universe["comp_type"]]
    n, t = len(codes), grid.n_quarters
    end_day = to_day(end)
    cal = Calendar.build(trade_dates, to_day(dt.date(grid.first_year, 1, 1)), end_day + 800)
    list_day = np.array([_optional_day(v, _FAR_PAST) for v in universe["list_date"]], dtype=np.int64)
    delist_day = np.array([_optional_day(v, _FAR_FUTURE) for v in universe["delist_date"]], dtype=np.int64)
    u = draws.schedule
    quarter, ends = grid.quarter, grid.end_days
    lo, hi = grid.window(0), grid.window(1)

    # Regular announcement days: later in the window is likelier, as in the real calendar.
    target = lo + np.floor(u[:, ScheduleRow.ANNOUNCE, :] ** 0.6 * (hi - lo + 1)).astype(np.int64)
    base = cal.on_or_before(target)
    base = np.where(base < lo, cal.on_or_after(lo + np.zeros_like(base)), base)
    ann = base.copy()
    annual_cols = np.flatnonzero((quarter == 3) & (np.arange(t) + 1 < t))
    together = (u[:, ScheduleRow.COMBINE_WITH_ANNUAL, annual_cols] < 0.3) & (ann[:, annual_cols] >= lo[annual_cols + 1])
    ann[:, annual_cols + 1] = np.where(together, ann[:, annual_cols], ann[:, annual_cols + 1])

    # Before listing: only the prospectus's annual reports (up to three years), announced before listing.
    pre = ends[None, :] < list_day[:, None]
    prospectus_day = cal.on_or_before(list_day - 12)
    in_prospectus = (pre & (quarter == 3)[None, :] & (ends[None, :] <= list_day[:, None] - 120)
                     & (ends[None, :] >= list_day[:, None] - 3 * 366 - 120))
    ann = np.where(in_prospectus, prospectus_day[:, None], ann)
    published = ((np.arange(t) >= 4)[None, :] & (~pre | in_prospectus | (ann >= list_day[:, None]))
                 & (ann <= delist_day[:, None]) & (list_day <= end_day)[:, None])

    case_plan = _plan_cases(comp_types, list_day, delist_day, grid, to_day(start), end_day)
    factor_lists: dict[tuple[int, int], list[tuple[int, float]]] = {}
    null_ann: set[tuple[int, int]] = set()
    null_f_ann: set[tuple[int, int]] = set()
    duplicated: dict[tuple[int, int], int] = {}
    if case_plan.late is not None:
        i, ta = case_plan.late
        ann[i, ta + 1] = base[i, ta + 1]
        ann[i, ta] = cal.on_or_after(ann[i, ta + 1] + 36)
    if case_plan.missing is not None:
        published[case_plan.missing] = False
    if case_plan.restated is not None:
        i, tr = case_plan.restated
        factor_lists[(i, tr)] = [(int(cal.on_or_after(ann[i, tr] + d)), f) for d, f in _CASE_RESTATEMENT]
    null_f_ann.update(case_plan.null_f_ann)
    null_ann.update(case_plan.null_ann)
    if case_plan.duplicated is not None:
        duplicated[case_plan.duplicated] = DUP_ALL

    published &= ann <= end_day
    not_case = np.ones(n, dtype=bool)
    not_case[list(case_plan.stocks)] = False
    eligible = published & not_case[:, None]

    # Random restatements: the first version carried wrong figures, corrected later.
    ri, rt = np.nonzero(eligible & (u[:, ScheduleRow.RESTATE, :] < RANDOM_RESTATE_RATE))
    delay = 20 + np.floor(u[ri, ScheduleRow.RESTATE_DELAY, rt] * 250).astype(np.int64)
    corrected = cal.on_or_after(ann[ri, rt] + delay)
    size = u[ri, ScheduleRow.RESTATE_SIZE, rt]
    wrong = 1 + np.sign(size - 0.5) * (0.01 + 0.07 * np.abs(2 * size - 1))
    # Only corrections known by ``end`` are planted, so the newest version always has the true figures.
    for i, tt, c, w in zip(ri.tolist(), rt.tolist(), corrected.tolist(), wrong.tolist(), strict=True):
        if c <= end_day:
            factor_lists[(i, tt)] = [(int(ann[i, tt]), w), (c, 1.0)]
    di, dt_ = np.nonzero(eligible & (u[:, ScheduleRow.DUPLICATE, :] < RANDOM_DUPLICATE_RATE))
    table_bit = 1 << np.floor(u[di, ScheduleRow.DUPLICATE_TABLE, dt_] * 3).astype(np.int64)
    for i, tt, bit in zip(di.tolist(), dt_.tolist(), table_bit.tolist(), strict=True):
        duplicated[(i, tt)] = bit

    versions = _build_versions(published, ann, factor_lists, null_ann, null_f_ann, duplicated, end_day)
    first_ann = np.where(published, ann, -1)
    cases = _describe(case_plan, codes, comp_types, grid, published, pre, in_prospectus, ann)
    return Schedule(codes, comp_types, grid, cal, end_day, list_day, delist_day, first_ann, versions, cases,
                    set(case_plan.stocks))


@dataclass
class _CasePlan:
    stocks: list[int] = field(default_factory=list)
    restated: tuple[int, int] | None = None
    late: tuple[int, int] | None = None
    missing: tuple[int, int] | None = None
    null_f_ann: list[tuple[int, int]] = field(default_factory=list)
    null_ann: list[tuple[int, int]] = field(default_factory=list)
    duplicated: tuple[int, int] | None = None


def _plan_cases(comp_types: list[str], list_day: np.ndarray, delist_day: np.ndarray, grid: PeriodGrid,
                start_day: int, end_day: int) -> _CasePlan:
    first_day = to_day(dt.date(grid.first_year, 1, 1))
    eligible = [k for k, c in enumerate(comp_types)
                if c != "2" and list_day[k] <= first_day and delist_day[k] > end_day]
    plan = _CasePlan()
    if not eligible:
        return plan
    stock = [eligible[k % len(eligible)] for k in range(6)]
    plan.stocks = sorted(set(stock))
    t = np.arange(grid.n_quarters)
    quarter, lo, hi = grid.quarter, grid.window(0), grid.window(1)
    # Cases go on periods announced inside [start, end] (a sync of that range meets them), early enough
    # that corrections and late reports fit before ``end``.
    settled = t[(t >= 4) & (lo >= start_day) & (hi + 150 <= end_day)].tolist()
    if settled:
        plan.restated = (stock[0], settled[len(settled) // 2])
    annual_ok = [int(k) for k in t[(quarter == 3) & (t >= 4) & (t + 1 < grid.n_quarters) & (lo >= start_day)]
                 if to_day(dt.date(int(grid.year[k]) + 1, 6, 30)) <= end_day]
    if annual_ok:
        plan.late = (stock[1], annual_ok[-1])
    q3 = [k for k in settled if quarter[k] == 2]
    if q3:
        plan.missing = (stock[2], q3[0])
    if len(settled) >= 4:
        plan.null_f_ann = [(stock[3], settled[0]), (stock[3], settled[1])]
        plan.null_ann = [(stock[4], settled[2])]
        plan.duplicated = (stock[5], settled[-1])
    return plan


def _build_versions(published: np.ndarray, ann: np.ndarray,
                    factor_lists: dict[tuple[int, int], list[tuple[int, float]]],
                    null_ann: set[tuple[int, int]], null_f_ann: set[tuple[int, int]],
                    duplicated: dict[tuple[int, int], int], end_day: int) -> Versions:
    # A restated period's versions replace its single regular one; versions after ``end`` are unknown yet.
    restated = np.zeros(published.shape, dtype=bool)
    extra: list[tuple[int, int, int, int, float]] = []
    for (i, tt), versions in factor_lists.items():
        if published[i, tt]:
            restated[i, tt] = True
            extra += [(i, tt, int(ann[i, tt]), day, fac) for day, fac in versions if day <= end_day]
    pi, pt = np.nonzero(published & ~restated)
    s = np.concatenate([pi, np.array([e[0] for e in extra], dtype=np.int64)])
    p = np.concatenate([pt, np.array([e[1] for e in extra], dtype=np.int64)])
    a = np.concatenate([ann[pi, pt], np.array([e[2] for e in extra], dtype=np.int64)])
    f = np.concatenate([ann[pi, pt], np.array([e[3] for e in extra], dtype=np.int64)])
    x = np.concatenate([np.ones(len(pi)), np.array([e[4] for e in extra], dtype=float)])
    order = np.lexsort((f, p, s))
    s, p, a, f, x = s[order], p[order], a[order], f[order], x[order]
    last = np.ones(len(s), dtype=bool)
    last[:-1] = (s[1:] != s[:-1]) | (p[1:] != p[:-1])

    width = published.shape[1]
    code = s * width + p

    def marked(keys: set[tuple[int, int]] | dict[tuple[int, int], int]) -> np.ndarray:
        """The value of each version's (company, period) in ``keys`` (1 for a set), else 0."""
        items = keys.items() if isinstance(keys, dict) else ((k, 1) for k in keys)
        table = {i * width + tt: value for (i, tt), value in items}
        if not table:
            return np.zeros(len(s), dtype=np.int64)
        wanted = np.array(sorted(table), dtype=np.int64)
        values = np.array([table[k] for k in wanted.tolist()], dtype=np.int64)
        pos = np.clip(np.searchsorted(wanted, code), 0, len(wanted) - 1)
        return np.where(wanted[pos] == code, values[pos], 0)

    return Versions(
        stock=s, period=p, factor=x, ann=a, f_ann=f,
        update_flag=np.where(last, "1", "0").astype(object),
        null_ann=marked(null_ann).astype(bool),
        null_f_ann=marked(null_f_ann).astype(bool),
        duplicate=marked(duplicated),
    )


def _describe(plan: _CasePlan, codes: list[str], comp_types: list[str], grid: PeriodGrid, published: np.ndarray,
              pre: np.ndarray, in_prospectus: np.ndarray, ann: np.ndarray) -> FinancialCases:
    end_strings = [d.strftime("%Y%m%d") for d in grid.end_dates()]

    def pair(it: tuple[int, int] | None) -> tuple[tuple[str, str], ...]:
        return () if it is None else ((codes[it[0]], end_strings[it[1]]),)

    late: tuple[tuple[str, str, str], ...] = ()
    if plan.late is not None and published[plan.late]:
        i, ta = plan.late
        late = ((codes[i], end_strings[ta], end_strings[ta + 1]),)
    prelisting = tuple(codes[i] for i in range(len(codes))
                       if (published[i] & pre[i] & in_prospectus[i]).any())
    banks = tuple(codes[i] for i in range(len(codes)) if comp_types[i] == "2" and published[i].any())
    return FinancialCases(
        restated=pair(plan.restated),
        late_report=late,
        missing_period=pair(plan.missing),
        prelisting=prelisting,
        duplicated=pair(plan.duplicated),
        null_f_ann_date=tuple(p for it in plan.null_f_ann for p in pair(it)),
        null_ann_date=tuple(p for it in plan.null_ann for p in pair(it)),
        banks=banks,
    )
