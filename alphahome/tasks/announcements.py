"""The request shape of event datasets filed by report period but selected by announcement date
(``dividend``): :class:`AnnouncementDays`.

Tushare's ``dividend`` takes no date window: a call names one ``ann_date`` (the plan's proposal,
预案公告日, which every stage row of the plan carries), one ``imp_ann_date`` (the implementation
announcement, on 实施 rows only), one record or ex date, or one report period (``end_date``). A research
range means "what was announced in it", whatever the period: the FY2022 plans announced in 2023 belong to a
2023 range, and so do Q1 and Q3 plans. So:

* a day D of a range is two calls, ``ann_date=D`` (every stage of the plans proposed on D) and
  ``imp_ann_date=D`` (implementations of older plans announced on D); the day is the partition;
* the whole history (a run that starts at the dataset's first date) is far cheaper per report period: one
  ``end_date`` call (paged) per quarter since two years before the start, in ONE batch that marks every
  day up to today complete (all of it commits, or none);
* a smart run asks for the days not yet complete plus ``lookback_days`` recent ones, and once more for the
  report periods of the plans still open (no 实施 row yet, proposed within ``open_days``): their
  shareholders' approval (股东大会通过) is filed under the old proposal date and arrives on no new day.
  Asking the period (one to three of them, a few pages each) is cheaper than asking each proposal day of
  the open plans (dozens in the annual-report season).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import ClassVar

from alphahome.tasks.planner import (
    Batch,
    PlanInput,
    TaskPlan,
    bounds,
    chunks,
    describe_ranges,
    parse_ymd,
    quarter_ends,
    with_variants,
    ymd,
)
from alphahome.tasks.shapes import RequestShape, StateRead, calendar_days, needed_dates
from alphahome.tasks.spec import DatasetSpec


@dataclass(frozen=True)
class AnnouncementDays(RequestShape):
    """Per announcement day through each of ``date_params``; the whole history per report period
    (``period_param``); open plans' periods re-fetched. Partition = the day (see the module docstring)."""

    name: ClassVar[str] = "announcement_days"
    partition_format: ClassVar[str] = "YYYYMMDD"

    #: Single-date parameters that together select every row announced on a day.
    date_params: tuple[str, ...] = ("ann_date", "imp_ann_date")
    #: The report-period parameter of the whole-history path and the period months.
    period_param: str = "end_date"
    period_months: tuple[int, ...] = (3, 6, 9, 12)
    #: A plan is announced up to this many days after its period ends (the history path starts its
    #: periods this much before the first day).
    announced_within_days: int = 730
    #: Days per batch (their rows are saved, and the days marked complete, together).
    days_per_batch: int = 7
    #: The column naming a row's stage and the stage that closes a plan.
    stage_column: str = "div_proc"
    final_stage: str = "实施"

    @property
    def one_call_per_date(self) -> bool:
        return False  # the whole history is cheap (per period); a later first date costs two calls a day

    def reads(self, spec: DatasetSpec, points: int) -> frozenset[StateRead]:
        return frozenset({"open_periods"})

    def open_plan_key(self, spec: DatasetSpec) -> tuple[str, ...]:
        """The columns that name one plan (the key without the stage)."""
        return tuple(c for c in spec.key if c != self.stage_column)

    def _day_requests(self, spec: DatasetSpec, day: date) -> list[dict[str, str]]:
        return [r for p in self.date_params for r in with_variants(spec, {p: ymd(day)})]

    def plan(self, spec: DatasetSpec, inp: PlanInput) -> TaskPlan:
        api = self.api(spec, inp)
        start, end = bounds(spec, inp)
        if start > end:
            return self._none(spec, inp, "nothing in range")
        days = calendar_days(start, end)
        needed = needed_dates(spec, inp, days)
        # The whole history, when that is what the run wants and costs fewer calls per period.
        whole = inp.mode != "manual" and (inp.start_date or parse_ymd(spec.start_date)) <= parse_ymd(spec.start_date)
        periods = quarter_ends(start - timedelta(days=self.announced_within_days), end, self.period_months)
        missing = [d for d in days if ymd(d) not in inp.completed] if inp.mode == "smart" else days
        if whole and len(periods) < len(missing) * len(self.date_params):
            requests = tuple(r for p in periods for r in with_variants(spec, {self.period_param: ymd(p)}))
            batch = Batch(api, requests, tuple(ymd(d) for d in days), f"history: {len(periods)} periods")
            return TaskPlan(spec.name, api, inp.mode, (batch,), ranges=tuple(describe_ranges(periods, periods, "periods")),
                            note=f"whole history per {self.period_param}: {len(periods)} period(s)")
        batches = [
            Batch(api, tuple(r for d in piece for r in self._day_requests(spec, d)), tuple(ymd(d) for d in piece),
                  ymd(piece[0]) if len(piece) == 1 else f"{ymd(piece[0])}..{ymd(piece[-1])}")
            for piece in chunks(needed, self.days_per_batch)
        ]
        reopened = sorted(set(inp.open_periods)) if inp.mode == "smart" else []
        for period in reopened:
            requests = tuple(with_variants(spec, {self.period_param: ymd(period)}))
            batches.append(Batch(api, requests, (), f"open plans of {ymd(period)}"))
        if not batches:
            return self._none(spec, inp, "up to date")
        ranges = tuple(describe_ranges(needed, days, "days"))
        if reopened:
            ranges += (f"open plans of {', '.join(ymd(p) for p in reopened)}",)
        return TaskPlan(spec.name, api, inp.mode, tuple(batches), ranges=ranges,
                        note=f"{len(needed)} day(s), {len(reopened)} open period(s)")

    def describe(self, spec: DatasetSpec, points: int) -> str:
        params = "/".join(self.date_params)
        return (f"per announcement day ({params}); whole history per {self.period_param}; "
                f"periods of open plans ({spec.open_days}d) re-fetched; look-back {spec.lookback_days} day(s)")
