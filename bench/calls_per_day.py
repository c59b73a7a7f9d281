"""Calls each dataset needs per trading day at each points tier, computed from the planner (no network).

A "day" is one smart run on a database that is current up to the previous trading day, for a real-sized
market (5,400 listed stocks, 1,000 THS boards, the 10 major indices), with each dataset's default look-back.
Snapshots count their refresh calls spread over their refresh period. Datasets a tier cannot call show "-".

Run: ``python bench/calls_per_day.py`` (prints a table and the totals per tier).
"""

from __future__ import annotations

from datetime import date, timedelta

from alphahome.tasks.catalogue import CATALOGUE
from alphahome.tasks.planner import PlanInput, plan_missing_ranges, ymd
from alphahome.tasks.shapes import ReportPeriods, Snapshot
from alphahome.tasks.spec import DatasetSpec

TIERS = (120, 2000, 5000, 10000)
TODAY = date(2025, 9, 30)
STOCKS = 5400
CODES_BY_TABLE = {"stock_basic": STOCKS, "ths_index": 1000, "fund_basic": 12000}


def calendar() -> list[date]:
    first = TODAY - timedelta(days=800)
    return [first + timedelta(days=i) for i in range((TODAY - first).days + 1)
            if (first + timedelta(days=i)).weekday() < 5]


def calls(spec: DatasetSpec, points: int, days: list[date]) -> float | None:
    if spec.points_needed > points:
        return None
    source = spec.shape.code_source()
    n_codes = CODES_BY_TABLE.get(source.table, 0) if source is not None and not source.default else 0
    codes = tuple(f"C{i}" for i in range(n_codes)) if n_codes else ()
    if source is not None and source.default:
        codes = source.default
    completed: set[str] = set()
    # Everything up to yesterday is complete.
    if isinstance(spec.shape, Snapshot):
        return len(spec.variants) / max(1, spec.refresh_days)
    completed.update(ymd(d) for d in days[:-1])
    completed.update(codes)
    per_code_dates = source is not None and source.default and not isinstance(spec.shape, ReportPeriods)
    if per_code_dates:  # the index sets: a few codes
        completed.update(f"{c}|{ymd(d)}" for c in codes for d in days[:-1])
        completed.update(f"{c}|{d:%Y%m}" for c in codes for d in days[:-1])
    if isinstance(spec.shape, ReportPeriods):
        completed.update(ymd(d) for d in (TODAY - timedelta(days=i) for i in range(9000)))
    start = days[0]
    for d in range(1, 800):  # calendar-day shapes: complete up to yesterday too
        completed.add(ymd(TODAY - timedelta(days=d)))
    plan = plan_missing_ranges(spec, PlanInput(
        today=TODAY, trade_dates=days, completed=frozenset(completed), codes=codes, points=points,
        start_date=start, rows_per_unit=None, data_start=start,
    ))
    return float(plan.calls)


def main() -> None:
    days = calendar()
    totals = dict.fromkeys(TIERS, 0.0)
    print(f"{'dataset':20s} {'shape':16s} " + " ".join(f"{t:>8d}" for t in TIERS))
    for spec in CATALOGUE:
        row = []
        for tier in TIERS:
            n = calls(spec, tier, days)
            row.append("-" if n is None else f"{n:.1f}".rstrip("0").rstrip("."))
            totals[tier] += n or 0.0
        print(f"{spec.name:20s} {spec.shape.name:16s} " + " ".join(f"{v:>8s}" for v in row))
    print(f"{'total':37s} " + " ".join(f"{totals[t]:>8.0f}" for t in TIERS))


if __name__ == "__main__":
    main()
