"""The per-API rate limiter: window maths on a virtual clock, learning, pauses, sharing and cancellation."""

from __future__ import annotations

import asyncio
import heapq
import itertools
from collections.abc import Awaitable, Sequence
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from alphahome.sources.tushare.errors import QuotaExceeded
from alphahome.sources.tushare.rate_limiter import (
    Budget,
    RateLimiter,
    default_budget,
    tier_per_day,
    tier_per_minute,
)


class VirtualClock:
    """A clock whose time moves only when every task is asleep: then it jumps to the next wake-up."""

    def __init__(self) -> None:
        self._now = 0.0
        self._sleepers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._seq = itertools.count()

    def now(self) -> float:
        return self._now

    async def sleep(self, seconds: float) -> None:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._sleepers, (self._now + max(0.0, seconds), next(self._seq), future))
        await future

    @staticmethod
    async def settle() -> None:
        for _ in range(30):
            await asyncio.sleep(0)

    def _wake_due(self) -> None:
        while self._sleepers and self._sleepers[0][0] <= self._now:
            _, _, future = heapq.heappop(self._sleepers)
            if not future.done():
                future.set_result(None)

    async def advance(self, seconds: float) -> None:
        """Let ``seconds`` of virtual time pass, waking sleepers at their deadlines on the way."""
        target = self._now + seconds
        await self.settle()
        while self._sleepers and self._sleepers[0][0] <= target:
            self._now = max(self._now, self._sleepers[0][0])
            self._wake_due()
            await self.settle()
        self._now = target

    async def run(self, *aws: Awaitable[Any]) -> list[Any]:
        """Run ``aws`` to completion, jumping time forward whenever all of them sleep."""
        tasks = [asyncio.ensure_future(a) for a in aws]
        while True:
            await self.settle()
            if all(t.done() for t in tasks):
                return [t.result() for t in tasks]
            live = [s for s in self._sleepers if not s[2].done()]
            if not live:
                raise AssertionError("deadlock: tasks pending but nobody sleeps")
            self._now = max(self._now, min(s[0] for s in live))
            self._wake_due()


def max_in_any_window(times: Sequence[float], window: float) -> int:
    """The most grants inside any half-open span [t, t + window)."""
    ordered = sorted(times)
    best, lo = 0, 0
    for hi, t in enumerate(ordered):
        while ordered[lo] + window <= t + 1e-9:  # the limiter's own float tolerance
            lo += 1
        best = max(best, hi - lo + 1)
    return best


class Recorder:
    """Acquires through a limiter and records the virtual time of every grant, per API."""

    def __init__(self, limiter: RateLimiter, clock: VirtualClock) -> None:
        self.limiter = limiter
        self.clock = clock
        self.grants: dict[str, list[float]] = {}

    async def call(self, api: str, after: float = 0.0) -> None:
        if after:
            await self.clock.sleep(after)
        await self.limiter.acquire(api)
        self.grants.setdefault(api, []).append(self.clock.now())


# --- default budgets -------------------------------------------------------------------------------------


def test_default_budgets_follow_the_points_tiers_with_headroom() -> None:
    assert [tier_per_minute(p) for p in (0, 120, 1999, 2000, 4999, 5000, 15000)] == [50, 50, 50, 200, 200, 500, 500]
    assert [tier_per_day(p) for p in (120, 2000, 5000)] == [8000, 100_000, None]
    assert default_budget(120) == 45
    assert default_budget(2000) == 180
    assert default_budget(5000) == 450
    # An API's own figure replaces the tier's (stock_basic is 50/min even at 5000 points).
    assert default_budget(5000, api_specific=50) == 45
    assert default_budget(2000, api_specific=1) == 1
    assert default_budget(2000, headroom=1.0) == 200


def test_budget_rejects_nonsense() -> None:
    with pytest.raises(ValueError, match="per_minute"):
        Budget(per_minute=0)
    with pytest.raises(ValueError, match="per_hour"):
        Budget(per_hour=2.5)  # type: ignore[arg-type]
    limiter = RateLimiter()
    with pytest.raises(ValueError, match="per_day"):
        limiter.set_budget("daily", per_minute=10, per_day=-1)
    with pytest.raises(ValueError, match="time_scale"):
        RateLimiter(time_scale=0)
    with pytest.raises(ValueError, match="learned limit"):
        limiter.learn("daily", "minute", 0)


# --- window maths ----------------------------------------------------------------------------------------


async def test_a_burst_goes_through_one_budget_per_window() -> None:
    clock = VirtualClock()
    limiter = RateLimiter({"daily": Budget(per_minute=5)}, margin=0.0, clock=clock)
    rec = Recorder(limiter, clock)
    await clock.run(*(rec.call("daily") for _ in range(12)))
    grants = rec.grants["daily"]
    # 5 at once, the next 5 exactly a window later, then 2 more: full use of the budget and never more.
    assert sorted(grants) == [0.0] * 5 + [60.0] * 5 + [120.0] * 2
    stats = limiter.stats()["daily"]
    assert stats.calls == 12
    assert stats.waits == 7
    assert stats.wait_seconds == pytest.approx(5 * 60 + 2 * 120)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    per_minute=st.integers(1, 8),
    per_hour=st.one_of(st.none(), st.integers(1, 30)),
    gaps=st.lists(st.floats(0, 90, allow_nan=False), min_size=1, max_size=60),
    workers=st.integers(1, 6),
)
def test_never_more_than_the_budget_in_any_window(
    per_minute: int, per_hour: int | None, gaps: list[float], workers: int
) -> None:
    async def scenario() -> list[float]:
        clock = VirtualClock()
        limiter = RateLimiter(
            {"x": Budget(per_minute=per_minute, per_hour=per_hour)}, margin=0.0, clock=clock
        )
        rec = Recorder(limiter, clock)

        async def worker(my_gaps: list[float]) -> None:
            for gap in my_gaps:
                await rec.call("x", after=gap)

        await clock.run(*(worker(gaps[i::workers]) for i in range(workers)))
        return rec.grants["x"]

    grants = asyncio.run(scenario())
    assert len(grants) == len(gaps)
    assert max_in_any_window(grants, 60.0) <= per_minute
    if per_hour is not None:
        assert max_in_any_window(grants, 3600.0) <= per_hour


async def test_margin_and_time_scale_stretch_and_shrink_windows() -> None:
    clock = VirtualClock()
    limiter = RateLimiter({"daily": Budget(per_minute=2)}, time_scale=0.05, margin=0.1, clock=clock)
    assert limiter.window_seconds("minute") == pytest.approx(3.0)
    rec = Recorder(limiter, clock)
    await clock.run(*(rec.call("daily") for _ in range(3)))
    assert sorted(rec.grants["daily"]) == pytest.approx([0.0, 0.0, 3.3])


async def test_apis_have_independent_budgets_shared_by_all_tasks() -> None:
    clock = VirtualClock()
    limiter = RateLimiter({"daily": Budget(per_minute=3), "income": Budget(per_minute=10)}, margin=0.0, clock=clock)
    rec = Recorder(limiter, clock)

    async def task(api: str, n: int) -> None:
        for _ in range(n):
            await rec.call(api)

    async def main() -> None:
        async with asyncio.TaskGroup() as tg:
            for _ in range(4):
                tg.create_task(task("daily", 3))  # 12 daily calls from 4 tasks share 3/min
            tg.create_task(task("income", 10))

    await clock.run(main())
    assert max_in_any_window(rec.grants["daily"], 60.0) == 3
    assert max(rec.grants["daily"]) == pytest.approx(180.0)
    # income never waited for daily's queue.
    assert rec.grants["income"] == [0.0] * 10


async def test_unconfigured_apis_use_the_default_budget_or_none() -> None:
    clock = VirtualClock()
    unlimited = RateLimiter(clock=clock)
    rec = Recorder(unlimited, clock)
    await clock.run(*(rec.call("anything") for _ in range(100)))
    assert set(rec.grants["anything"]) == {0.0}

    limited = RateLimiter(default=Budget(per_minute=2), margin=0.0, clock=clock)
    assert limited.budget("new_api") == Budget(per_minute=2)


# --- learning and pauses ---------------------------------------------------------------------------------


async def test_learning_lowers_a_budget_and_never_raises_it() -> None:
    clock = VirtualClock()
    limiter = RateLimiter({"daily": Budget(per_minute=10)}, margin=0.0, clock=clock)
    assert limiter.learn("daily", "minute", 4) is True
    assert limiter.budget("daily").per_minute == 4
    assert limiter.learn("daily", "minute", 8) is False  # never raised
    assert limiter.budget("daily").per_minute == 4
    assert limiter.learn("daily", "hour", 30) is True  # a new window is added
    assert limiter.budget("daily") == Budget(per_minute=4, per_hour=30)
    assert limiter.stats()["daily"].learned == 2

    rec = Recorder(limiter, clock)
    await clock.run(*(rec.call("daily") for _ in range(9)))
    assert max_in_any_window(rec.grants["daily"], 60.0) == 4


async def test_a_budget_lowered_below_recent_calls_waits_for_them_to_age_out() -> None:
    clock = VirtualClock()
    limiter = RateLimiter({"daily": Budget(per_minute=10)}, margin=0.0, clock=clock)
    rec = Recorder(limiter, clock)
    await clock.run(*(rec.call("daily") for _ in range(6)))  # 6 calls at t=0
    await clock.advance(30)
    limiter.learn("daily", "minute", 2)
    await clock.run(rec.call("daily"))
    # Two slots free up only when the first 5 of the 6 calls leave the window, at t=60.
    assert rec.grants["daily"][-1] == pytest.approx(60.0)


async def test_pause_holds_an_api_until_its_window_reopens() -> None:
    clock = VirtualClock()
    limiter = RateLimiter({"daily": Budget(per_minute=100), "other": Budget(per_minute=100)},
                          time_scale=0.5, margin=0.0, clock=clock)
    limiter.pause_window("daily", "minute")  # 30 s at this scale
    rec = Recorder(limiter, clock)
    await clock.run(rec.call("daily"), rec.call("other"))
    assert rec.grants["daily"] == [pytest.approx(30.0)]
    assert rec.grants["other"] == [0.0]
    assert limiter.stats()["daily"].pauses == 1

    # A shorter pause never shortens a longer one.
    limiter.pause("daily", 100)
    limiter.pause("daily", 5)
    await clock.run(rec.call("daily"))
    assert rec.grants["daily"][-1] == pytest.approx(130.0)


async def test_a_day_quota_is_raised_not_waited_for() -> None:
    clock = VirtualClock()
    limiter = RateLimiter({"daily": Budget(per_minute=100, per_day=3)}, margin=0.0, clock=clock)
    rec = Recorder(limiter, clock)
    await clock.run(*(rec.call("daily") for _ in range(3)))
    with pytest.raises(QuotaExceeded) as info:
        await limiter.acquire("daily")
    assert info.value.window == "day"
    assert info.value.limit == 3
    assert info.value.api == "daily"
    assert limiter.stats()["daily"].calls == 3  # the refused call took no slot

    # A server-reported daily quota pauses the API for a day: later calls are refused at once.
    limiter.pause_window("income", "day")
    with pytest.raises(QuotaExceeded, match="income"):
        await limiter.acquire("income")


async def test_a_quota_error_our_own_calls_explain_widens_the_margin_instead_of_pausing() -> None:
    clock = VirtualClock()
    limiter = RateLimiter({"daily": Budget(per_minute=10)}, margin=0.01, clock=clock)
    rec = Recorder(limiter, clock)
    await clock.run(*(rec.call("daily") for _ in range(4)))
    # The server says 4 per minute and we did send 4: learn 4, no pause, a wider margin.
    assert limiter.quota_error("daily", "minute", 4) == 0.0
    assert limiter.budget("daily").per_minute == 4
    assert limiter.margin_of("daily") == pytest.approx(0.02)
    for _ in range(5):
        limiter.quota_error("daily", "minute", 4)
    assert limiter.margin_of("daily") == pytest.approx(0.1)  # capped
    assert limiter.margin_of("other") == pytest.approx(0.01)
    # The next call waits for the first four to leave the widened window.
    await clock.run(rec.call("daily"))
    assert rec.grants["daily"][-1] == pytest.approx(60 * 1.1)
    stats = limiter.stats()["daily"]
    assert stats.quota_errors == 6 and stats.pauses == 0


async def test_a_quota_error_our_calls_do_not_explain_pauses_a_whole_window() -> None:
    clock = VirtualClock()
    limiter = RateLimiter({"daily": Budget(per_minute=10)}, margin=0.0, clock=clock)
    rec = Recorder(limiter, clock)
    await clock.run(rec.call("daily"))
    # Only 1 call of ours in the window, yet the server says 5 per minute: someone else uses the token.
    assert limiter.quota_error("daily", "minute", 5) == pytest.approx(60.0)
    await clock.run(rec.call("daily"))
    assert rec.grants["daily"] == [0.0, pytest.approx(60.0)]
    # Without N in the message there is nothing to learn: pause as well.
    assert limiter.quota_error("daily", "hour", None) == pytest.approx(3600.0)
    assert limiter.budget("daily") == Budget(per_minute=5)
    # A daily quota pauses for a day, which later acquires refuse at once.
    limiter.quota_error("income", "day", 100)
    with pytest.raises(QuotaExceeded, match="daily budget"):
        await limiter.acquire("income")


# --- cancellation ----------------------------------------------------------------------------------------


async def test_a_cancelled_waiter_takes_no_slot() -> None:
    clock = VirtualClock()
    limiter = RateLimiter({"daily": Budget(per_minute=1)}, margin=0.0, clock=clock)
    rec = Recorder(limiter, clock)
    await clock.run(rec.call("daily"))  # the only slot of [0, 60)

    waiter = asyncio.ensure_future(limiter.acquire("daily"))
    queued = asyncio.ensure_future(rec.call("daily"))  # queued behind the waiter
    await clock.advance(10)
    assert not waiter.done()
    waiter.cancel()
    await clock.settle()
    assert waiter.cancelled()
    await clock.run(queued)
    # Had the cancelled waiter used the slot at 60, this call would have come at 120.
    assert rec.grants["daily"] == [0.0, pytest.approx(60.0)]
    assert limiter.stats()["daily"].calls == 2


async def test_slot_context_manager_and_real_clock_with_time_scale() -> None:
    # 0.01 time scale: a minute lasts 0.6 s of real time.
    limiter = RateLimiter({"daily": Budget(per_minute=2)}, time_scale=0.01, margin=0.0)
    loop = asyncio.get_running_loop()
    start = loop.time()
    stamps = []
    for _ in range(3):
        async with limiter.slot("daily"):
            stamps.append(loop.time() - start)
    assert stamps[1] < 0.1
    assert 0.55 <= stamps[2] < 1.5
