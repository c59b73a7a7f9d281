"""Planner unit tests: pure functions, no database, no network."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from alphahome.tasks.catalogue import get_dataset
from alphahome.tasks.planner import (
    SNAPSHOT_PARTITION,
    PlanInput,
    describe_ranges,
    month_starts,
    plan_missing_ranges,
    quarter_ends,
    runs,
    window_size,
    ymd,
)


def weekdays(first: date, last: date) -> list[date]:
    out, d = [], first
    while d <= last:
        if d.weekday() < 5:
            out.append(d)
        d += timedelta(days=1)
    return out


CAL = weekdays(date(2024, 1, 1), date(2024, 3, 29))
TODAY = date(2024, 3, 29)


def test_window_size_fills_one_page():
    assert window_size(6000, 5000) == 1  # a 5,000-stock market: one day per call
    assert window_size(6000, 24) == 237  # 24 stocks: many days per call, still under one page
    assert window_size(6000, 24) * 24 <= 6000
    assert window_size(100, 0) == 95  # no estimate: treated as one row per unit
    assert window_size(10, 1000) == 1


def test_runs_follow_the_universe_not_the_calendar():
    fri, mon, wed = date(2024, 1, 5), date(2024, 1, 8), date(2024, 1, 10)
    assert runs([fri, mon, wed], CAL) == [[fri, mon], [wed]]
    assert describe_ranges([fri, mon, wed], CAL) == ["20240105..20240108 (2 dates)", "20240110 (1 date)"]


def test_quarter_ends_and_months():
    assert quarter_ends(date(2023, 2, 1), date(2023, 12, 31)) == [
        date(2023, 3, 31), date(2023, 6, 30), date(2023, 9, 30), date(2023, 12, 31)]
    assert quarter_ends(date(2023, 4, 1), date(2023, 9, 29)) == [date(2023, 6, 30)]
    assert month_starts(date(2023, 11, 15), date(2024, 2, 1)) == [
        date(2023, 11, 1), date(2023, 12, 1), date(2024, 1, 1), date(2024, 2, 1)]


def test_empty_database_fetches_everything_in_windows_of_the_cap():
    spec = get_dataset("daily")
    plan = plan_missing_ranges(spec, PlanInput(today=TODAY, trade_dates=CAL, rows_per_unit=1000,
                                               start_date=date(2024, 1, 1)))
    parts = [p for b in plan.batches for p in b.partitions]
    assert parts == [ymd(d) for d in CAL]
    assert all(len(b.partitions) <= 5 for b in plan.batches)  # 6000*0.95/1000 = 5 dates per call
    first = plan.batches[0]
    assert first.requests == ({"start_date": "20240101", "end_date": "20240105"},)
    assert plan.api == "daily"


def test_smart_fetches_only_missing_dates_and_the_lookback():
    spec = get_dataset("daily")
    done = frozenset(ymd(d) for d in CAL if d not in (date(2024, 2, 7), date(2024, 2, 8)))
    plan = plan_missing_ranges(spec, PlanInput(today=TODAY, trade_dates=CAL, completed=done, rows_per_unit=20,
                                               start_date=date(2024, 1, 1), lookback_days=2))
    parts = sorted(p for b in plan.batches for p in b.partitions)
    assert parts == ["20240207", "20240208", "20240328", "20240329"]
    assert [b.requests[0] for b in plan.batches] == [
        {"start_date": "20240207", "end_date": "20240208"},
        {"start_date": "20240328", "end_date": "20240329"},
    ]
    no_lookback = plan_missing_ranges(spec, PlanInput(today=TODAY, trade_dates=CAL, completed=done,
                                                      rows_per_unit=20, start_date=date(2024, 1, 1),
                                                      lookback_days=0))
    assert sorted(p for b in no_lookback.batches for p in b.partitions) == ["20240207", "20240208"]


def test_smart_up_to_date_plans_nothing():
    spec = get_dataset("adj_factor")
    done = frozenset(ymd(d) for d in CAL)
    plan = plan_missing_ranges(spec, PlanInput(today=TODAY, trade_dates=CAL, completed=done,
                                               start_date=date(2024, 1, 1), lookback_days=0))
    assert plan.up_to_date and plan.calls == 0 and plan.note == "up to date"


def test_full_and_manual_modes_ignore_the_sync_state():
    spec = get_dataset("daily")
    done = frozenset(ymd(d) for d in CAL)
    full = plan_missing_ranges(spec, PlanInput(today=TODAY, mode="full", trade_dates=CAL, completed=done,
                                               start_date=date(2024, 1, 1), rows_per_unit=5000))
    assert len(full.batches) == len(CAL)
    manual = plan_missing_ranges(spec, PlanInput(today=TODAY, mode="manual", start=date(2024, 2, 1),
                                                 end=date(2024, 2, 6), trade_dates=CAL, completed=done,
                                                 rows_per_unit=10))
    assert [p for b in manual.batches for p in b.partitions] == [
        "20240201", "20240202", "20240205", "20240206"]


def test_no_calendar_means_no_plan_with_a_reason():
    plan = plan_missing_ranges(get_dataset("daily"), PlanInput(today=TODAY))
    assert plan.up_to_date and "calendar" in plan.note


def test_single_date_api_gets_one_call_per_date():
    spec = get_dataset("fund_nav")
    plan = plan_missing_ranges(spec, PlanInput(today=date(2024, 1, 5), trade_dates=CAL[:5],
                                               start_date=date(2024, 1, 1), codes=[f"{i:06d}.OF" for i in range(9)]))
    assert [b.requests for b in plan.batches] == [({"nav_date": ymd(d)},) for d in CAL[:5]]


def test_few_codes_over_many_dates_go_per_code_in_windows():
    spec = get_dataset("daily_basic")  # needs ts_code or trade_date: no market-wide date window
    codes = ["000001.SZ", "000002.SZ", "600000.SH"]
    plan = plan_missing_ranges(spec, PlanInput(today=TODAY, trade_dates=CAL, codes=codes,
                                               start_date=date(2024, 1, 1)))
    assert len(plan.batches) == 1 and plan.calls == 3
    batch = plan.batches[0]
    assert batch.partitions == tuple(ymd(d) for d in CAL)
    assert batch.requests[0] == {"ts_code": "000001.SZ", "start_date": ymd(CAL[0]), "end_date": ymd(CAL[-1])}
    many = [f"{i:06d}.SZ" for i in range(5000)]
    per_date = plan_missing_ranges(spec, PlanInput(today=TODAY, trade_dates=CAL, codes=many,
                                                   start_date=date(2024, 1, 1)))
    assert per_date.calls == len(CAL) and per_date.batches[0].requests == ({"trade_date": ymd(CAL[0])},)


def test_snapshot_refresh_policy():
    spec = get_dataset("stock_basic")
    fresh = plan_missing_ranges(spec, PlanInput(today=TODAY, completed=frozenset({SNAPSHOT_PARTITION}),
                                                last_refresh=TODAY))
    assert fresh.up_to_date
    stale = plan_missing_ranges(spec, PlanInput(today=TODAY, completed=frozenset({SNAPSHOT_PARTITION}),
                                                last_refresh=TODAY - timedelta(days=1)))
    assert len(stale.batches) == 1
    assert [r["list_status"] for r in stale.batches[0].requests] == ["L", "D", "P", "G"]
    never = plan_missing_ranges(spec, PlanInput(today=TODAY))
    assert never.batches[0].partitions == (SNAPSHOT_PARTITION,)
    forced = plan_missing_ranges(spec, PlanInput(today=TODAY, mode="full",
                                                 completed=frozenset({SNAPSHOT_PARTITION}), last_refresh=TODAY))
    assert len(forced.batches) == 1


def test_periods_use_vip_and_refetch_open_periods():
    spec = get_dataset("income")
    today = date(2024, 5, 10)
    done = frozenset(ymd(p) for p in quarter_ends(date(2020, 1, 1), date(2024, 3, 31)))
    plan = plan_missing_ranges(spec, PlanInput(today=today, completed=done, points=5000,
                                               start_date=date(2020, 1, 1)))
    assert plan.api == "income_vip"
    periods = [b.partitions[0] for b in plan.batches]
    # ~15 months of open periods: 2022Q4 (ended 496 days ago) is closed, 2023Q1 onwards re-fetched.
    assert periods == ["20230331", "20230630", "20230930", "20231231", "20240331"]
    assert plan.batches[0].requests == ({"period": "20230331", "report_type": "1"},
                                        {"period": "20230331", "report_type": "2"})
    assert plan.page_size == 5000  # the vip API's cap, not income's 500


def test_periods_below_vip_tier_go_per_stock():
    spec = get_dataset("income")
    codes = ["000001.SZ", "600000.SH"]
    plan = plan_missing_ranges(spec, PlanInput(today=TODAY, points=2000, codes=codes,
                                               completed=frozenset({"600000.SH"})))
    assert plan.api == "income"
    assert plan.batches[0].requests == ({"ts_code": "000001.SZ", "report_type": "1"},
                                        {"ts_code": "000001.SZ", "report_type": "2"})
    assert plan.batches[1].requests[0]["ts_code"] == "600000.SH"
    assert plan.batches[1].requests[0]["start_date"] == ymd(TODAY - timedelta(days=spec.open_days))


def test_dividend_whole_history_goes_per_period_in_one_batch():
    """From the dataset's first date, one end_date call per quarter (since two years before it, so plans
    of earlier periods announced then come too) beats two calls per day; the batch marks every day."""
    spec = get_dataset("dividend")
    plan = plan_missing_ranges(spec, PlanInput(today=date(2024, 1, 10)))
    assert len(plan.batches) == 1
    periods = [r["end_date"] for r in plan.batches[0].requests]
    assert periods[:2] == ["20030331", "20030630"] and periods[-1] == "20231231"
    assert "20230930" in periods and "20230331" in periods  # Q1 and Q3 plans (common since 2023)
    days = plan.batches[0].partitions
    assert days[0] == spec.start_date and days[-1] == "20240110" and len(days) == len(set(days))


def test_dividend_manual_range_asks_each_announcement_day():
    """A range means what was announced in it: per day, ann_date (every stage of the plans proposed that day,
    whatever their period: FY2022 plans proposed in 2023) and imp_ann_date (implementations of older
    plans), several days per batch."""
    spec = get_dataset("dividend")
    plan = plan_missing_ranges(spec, PlanInput(today=date(2025, 1, 10), mode="manual", start=date(2023, 1, 1),
                                               end=date(2024, 12, 31)))
    requests = [r for b in plan.batches for r in b.requests]
    days = [ymd(date(2023, 1, 1) + timedelta(days=i)) for i in range(731)]
    assert requests == [{p: d} for d in days for p in ("ann_date", "imp_ann_date")]
    assert [p for b in plan.batches for p in b.partitions] == days
    assert max(len(b.partitions) for b in plan.batches) == 7


def test_dividend_smart_run_asks_new_days_and_open_plans():
    spec = get_dataset("dividend")
    today = date(2024, 6, 30)
    first = date(2005, 1, 1)
    done = frozenset(ymd(first + timedelta(days=i)) for i in range((date(2024, 6, 20) - first).days + 1))
    # Plans of FY2023 and Q1 2024 proposed, approved (filed under their proposal day) but not carried out.
    open_periods = (date(2023, 12, 31), date(2024, 3, 31))
    plan = plan_missing_ranges(spec, PlanInput(today=today, completed=done, open_periods=open_periods))
    days = [p for b in plan.batches for p in b.partitions]
    assert days == [ymd(date(2024, 6, 21) + timedelta(days=i)) for i in range(10)]  # not yet complete
    reopened = [r for b in plan.batches if not b.partitions for r in b.requests]
    assert reopened == [{"end_date": "20231231"}, {"end_date": "20240331"}]
    assert plan.calls == 2 * len(days) + 2
    # Up to date: the look-back days only (late announcements), and the open periods.
    done = done | set(days)
    plan = plan_missing_ranges(spec, PlanInput(today=today, completed=frozenset(done), open_periods=open_periods))
    assert [p for b in plan.batches for p in b.partitions] == [
        ymd(today - timedelta(days=i)) for i in reversed(range(spec.lookback_days))]


def test_index_daily_per_code_windows_and_partitions():
    spec = get_dataset("index_daily")
    done = frozenset(f"000300.SH|{ymd(d)}" for d in CAL)
    plan = plan_missing_ranges(spec, PlanInput(today=TODAY, trade_dates=CAL, completed=done,
                                               start_date=date(2024, 1, 1), lookback_days=1))
    by_code = {b.requests[0]["ts_code"]: b for b in plan.batches}
    assert set(by_code) == set(spec.shape.codes.default)  # the major indices
    assert by_code["000300.SH"].partitions == (f"000300.SH|{ymd(CAL[-1])}",)
    assert len(by_code["399001.SZ"].partitions) == len(CAL)  # one call: the cap is 8000 rows
    assert by_code["399001.SZ"].requests[0]["start_date"] == "20240101"


def test_index_weight_month_windows_keep_open_months():
    spec = get_dataset("index_weight")
    done = frozenset(f"000300.SH|2024{m:02d}" for m in (1, 2, 3))
    plan = plan_missing_ranges(spec, PlanInput(today=TODAY, completed=done,
                                               start_date=date(2024, 1, 1), rows_per_unit=300))
    mine = [b for b in plan.batches if b.requests[0]["index_code"] == "000300.SH"]
    assert [b.partitions for b in mine] == [("000300.SH|202402", "000300.SH|202403")]
    assert len(plan.batches) == len(spec.shape.codes.default)  # others never fetched: one window each
    assert mine[0].requests == (
        {"index_code": "000300.SH", "start_date": "20240201", "end_date": "20240331"},)


@settings(max_examples=200, deadline=None)
@given(
    done_mask=st.lists(st.booleans(), min_size=len(CAL), max_size=len(CAL)),
    rows=st.integers(min_value=1, max_value=9000),
    lookback=st.integers(min_value=0, max_value=10),
)
def test_plan_covers_exactly_the_needed_dates(done_mask, rows, lookback):
    spec = get_dataset("adj_factor")
    done = frozenset(ymd(d) for d, ok in zip(CAL, done_mask, strict=True) if ok)
    plan = plan_missing_ranges(spec, PlanInput(today=TODAY, trade_dates=CAL, completed=done,
                                               rows_per_unit=rows, start_date=date(2024, 1, 1),
                                               lookback_days=lookback))
    expected = {ymd(d) for d, ok in zip(CAL, done_mask, strict=True) if not ok}
    expected |= {ymd(d) for d in CAL[len(CAL) - lookback:]} if lookback else set()
    parts = [p for b in plan.batches for p in b.partitions]
    assert sorted(parts) == sorted(expected) and len(parts) == len(set(parts))
    size = window_size(spec.row_cap, rows)
    position = {ymd(d): i for i, d in enumerate(CAL)}
    for batch in plan.batches:
        assert len(batch.partitions) <= size
        idx = [position[p] for p in batch.partitions]
        assert idx == list(range(idx[0], idx[0] + len(idx)))  # consecutive trade dates
        assert batch.requests[0] == {"start_date": batch.partitions[0], "end_date": batch.partitions[-1]}


@pytest.mark.parametrize("name", ["daily", "income", "index_member_all", "index_weight", "trade_cal"])
def test_every_plan_request_carries_the_variants(name):
    spec = get_dataset(name)
    plan = plan_missing_ranges(spec, PlanInput(today=TODAY, trade_dates=CAL, codes=["000300.SH"],
                                               points=5000, start_date=date(2024, 1, 1)))
    for batch in plan.batches:
        assert len(batch.requests) == len(spec.variants)
        for request, variant in zip(batch.requests, spec.variants, strict=True):
            assert dict(variant).items() <= dict(request).items()
