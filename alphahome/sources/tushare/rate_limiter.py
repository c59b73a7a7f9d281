"""Per-API call budgets, shared by every concurrent task of the process.

Tushare limits calls per token *and* per API (per minute, for some APIs per hour or per day). The limiter
keeps, per API and window, a log of the moments it let a call through, and lets a new call through only
when the last ``window`` seconds hold fewer than N calls: at most N in *any* span of the window's length.
That is the strictest reading of "N per minute", so a server that counts in fixed clock minutes (or in a
sliding window of its own) never sees too many.

Waiting is asynchronous (the injected clock's ``sleep``, by default ``asyncio.sleep``). Waiters of one API
queue in order behind one lock; a waiter that is cancelled leaves without taking a slot.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Protocol

from alphahome.sources.tushare.errors import QuotaExceeded, Window

# Tier quotas live in the interface table; re-exported here for the callers that import them from this module.
from alphahome.sources.tushare.interfaces import tier_per_day as tier_per_day
from alphahome.sources.tushare.interfaces import tier_per_minute

#: Window lengths in real seconds, before ``time_scale``.
WINDOW_SECONDS: dict[Window, float] = {"minute": 60.0, "hour": 3600.0, "day": 86400.0}
WINDOWS: tuple[Window, ...] = ("minute", "hour", "day")

#: Time comparisons tolerate float rounding (a call due at t + 60 may compute as t + 59.999999999).
_EPSILON = 1e-9
#: Widest margin quota errors can widen an API's windows to.
MAX_MARGIN = 0.1
#: Share of the published figure to use by default, leaving room for other users of the same token.
DEFAULT_HEADROOM = 0.9


def default_budget(points: int, api_specific: int | None = None, *, headroom: float = DEFAULT_HEADROOM) -> int:
    """A per-minute budget for one API: ``headroom`` (~90%) of the API's own published figure when it has
    one (e.g. stock_basic 50/min), else of the points tier's (120 → 45, 2000 → 180, 5000 → 450)."""
    figure = api_specific if api_specific is not None else tier_per_minute(points)
    return max(1, math.floor(figure * headroom))


class Clock(Protocol):
    """Time source of the limiter: monotonic seconds and an asynchronous sleep."""

    def now(self) -> float: ...

    async def sleep(self, seconds: float) -> None: ...


class MonotonicClock:
    """The real clock: ``time.monotonic`` and ``asyncio.sleep``."""

    def now(self) -> float:
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


@dataclass(frozen=True)
class Budget:
    """Calls allowed per window for one API; ``None`` means that window is unlimited."""

    per_minute: int | None = None
    per_hour: int | None = None
    per_day: int | None = None

    def __post_init__(self) -> None:
        for window in WINDOWS:
            value = self.limit(window)
            if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
                raise ValueError(f"rate budget per_{window} must be a positive integer, got {value!r}")

    def limit(self, window: Window) -> int | None:
        """The limit of one window."""
        return {"minute": self.per_minute, "hour": self.per_hour, "day": self.per_day}[window]


@dataclass
class ApiLimiterStats:
    """What the limiter did for one API."""

    calls: int = 0
    #: Acquires that had to wait (for a window or a pause) before going through.
    waits: int = 0
    wait_seconds: float = 0.0
    #: Budgets lowered by quota messages.
    learned: int = 0
    pauses: int = 0
    #: Quota errors reported to the limiter (``quota_error``).
    quota_errors: int = 0


@dataclass
class _ApiState:
    budget: Budget
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    logs: dict[Window, deque[float]] = field(default_factory=lambda: {w: deque() for w in WINDOWS})
    paused_until: float = float("-inf")
    pause_window: Window = "minute"
    #: This API's own margin once widened by quota errors (None: the limiter's).
    margin: float | None = None
    stats: ApiLimiterStats = field(default_factory=ApiLimiterStats)


class RateLimiter:
    """Per-API call budgets with sliding windows, shared by every task of the process.

    ``default`` is the budget of an API nobody configured (``None``: such APIs are unlimited).
    ``time_scale`` shrinks every window (0.05: a minute lasts 3 s), for tests and benchmarks against a
    sandbox running with the same scale. ``margin`` (a fraction of each window, 1% by default) widens the
    windows slightly to absorb the delay between granting a slot and the server receiving the call.
    A call that only a *day* window blocks is refused with ``QuotaExceeded(window='day')`` rather than
    waited for, so that the caller can stop that API for the run.
    """

    def __init__(
        self,
        budgets: dict[str, Budget] | None = None,
        *,
        default: Budget | None = None,
        time_scale: float = 1.0,
        margin: float = 0.01,
        clock: Clock | None = None,
    ) -> None:
        if not time_scale > 0:
            raise ValueError(f"time_scale must be positive, got {time_scale!r}")
        if not 0 <= margin < 1:
            raise ValueError(f"margin must be in [0, 1), got {margin!r}")
        self.time_scale = float(time_scale)
        self.margin = float(margin)
        self.default = default
        self.clock: Clock = clock or MonotonicClock()
        self._apis: dict[str, _ApiState] = {}
        for api, budget in (budgets or {}).items():
            self._apis[api] = _ApiState(budget)

    # --- configuration ------------------------------------------------------------------------------

    def window_seconds(self, window: Window) -> float:
        """The length of ``window`` after ``time_scale`` (without the margin)."""
        return WINDOW_SECONDS[window] * self.time_scale

    def _span(self, window: Window, state: _ApiState | None = None) -> float:
        margin = state.margin if state is not None and state.margin is not None else self.margin
        return self.window_seconds(window) * (1.0 + margin)

    def margin_of(self, api: str) -> float:
        """The margin applied to ``api``'s windows (the limiter's, or the API's own once widened)."""
        state = self._state(api)
        return state.margin if state.margin is not None else self.margin

    def _state(self, api: str) -> _ApiState:
        state = self._apis.get(api)
        if state is None:
            state = self._apis[api] = _ApiState(self.default or Budget())
        return state

    def set_budget(
        self, api: str, per_minute: int | None = None, per_hour: int | None = None, per_day: int | None = None
    ) -> None:
        """Set ``api``'s budget (replacing any earlier one, learned limits included)."""
        self._state(api).budget = Budget(per_minute, per_hour, per_day)

    def budget(self, api: str) -> Budget:
        """The budget currently applied to ``api``."""
        return self._state(api).budget

    def learn(self, api: str, window: Window, limit: int) -> bool:
        """Lower ``api``'s ``window`` budget to ``limit`` (the N of a 40203 quota message) for the rest of the
        run. Never raises a budget. Returns whether the budget changed."""
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
            raise ValueError(f"a learned limit must be a positive integer, got {limit!r}")
        state = self._state(api)
        current = state.budget.limit(window)
        if current is not None and current <= limit:
            return False
        values = {w: state.budget.limit(w) for w in WINDOWS}
        values[window] = limit
        state.budget = Budget(values["minute"], values["hour"], values["day"])
        state.stats.learned += 1
        return True

    def pause(self, api: str, seconds: float, *, window: Window = "minute") -> None:
        """Hold every call of ``api`` for ``seconds`` from now (a quota error said its ``window`` is full).
        A pause caused by a ``day`` window makes later acquires raise ``QuotaExceeded`` instead of waiting."""
        state = self._state(api)
        until = self.clock.now() + max(0.0, seconds)
        if until > state.paused_until:
            state.paused_until = until
            state.pause_window = window
        state.stats.pauses += 1

    def pause_window(self, api: str, window: Window) -> None:
        """Hold ``api`` for one whole ``window`` (scaled): by then any server's window has reopened."""
        self.pause(api, self._span(window, self._state(api)), window=window)

    def recent_calls(self, api: str, window: Window) -> int:
        """Calls of ``api`` let through within the last ``window`` (margin included)."""
        state = self._state(api)
        horizon = self.clock.now() - self._span(window, state)
        return sum(1 for t in state.logs[window] if t > horizon)

    def quota_error(self, api: str, window: Window, limit: int | None) -> float:
        """Take in a 40203 quota answer for ``api`` and return how long the API is paused (seconds).

        The limit N is learned (budgets only go down). When this process's own recent calls explain the
        refusal (N or more in the window), the budget alone holds the next call until a slot ages out, and
        the refusal only shows that calls reach the server later than the margin allows: that API's
        margin is doubled (up to 10%) instead of pausing. Otherwise someone else spends the same quota (or
        the limit is unknown): the API is paused for a whole window.
        """
        state = self._state(api)
        state.stats.quota_errors += 1
        if limit is not None:
            self.learn(api, window, limit)
            if window != "day" and self.recent_calls(api, window) >= limit:
                state.margin = min(MAX_MARGIN, max(self.margin_of(api) * 2, 0.005))
                return 0.0
        self.pause_window(api, window)
        return self._span(window, state)

    # --- acquiring ----------------------------------------------------------------------------------

    def _delay(self, state: _ApiState, now: float) -> tuple[float, Window | None]:
        """Seconds until a call of this API fits every window, and the window that blocks longest."""
        delay, blocking = 0.0, None
        if state.paused_until > now:
            delay, blocking = state.paused_until - now, state.pause_window
        for window in WINDOWS:
            log = state.logs[window]
            span = self._span(window, state)
            while log and log[0] + span <= now + _EPSILON:
                log.popleft()
            limit = state.budget.limit(window)
            if limit is None or len(log) < limit:
                continue
            # The (len-limit+1)-th oldest call must age out; logs can exceed a budget lowered later.
            wait = log[len(log) - limit] + span - now
            if wait > delay:
                delay, blocking = wait, window
        return delay, blocking

    async def acquire(self, api: str) -> float:
        """Wait until a call of ``api`` fits in every window, then count it. Returns the seconds it was held
        back (0.0 when it went straight through).

        Raises ``QuotaExceeded(window='day')`` when only tomorrow would let the call through.
        """
        state = self._state(api)
        started = self.clock.now()
        # The lock is only ever held across an await by a waiter that sleeps: finding it taken means
        # this call is held back too.
        waited = state.lock.locked()
        async with state.lock:
            while True:
                now = self.clock.now()
                delay, blocking = self._delay(state, now)
                if delay <= _EPSILON:
                    break
                if blocking == "day":
                    limit = state.budget.per_day
                    raise QuotaExceeded(
                        f"tushare API '{api}' has used its daily budget"
                        + (f" ({limit} calls per day)" if limit is not None else "")
                        + "; it cannot be called again in this run",
                        window="day",
                        limit=limit,
                        api=api,
                    )
                waited = True
                await self.clock.sleep(delay)
            # Minute and hour logs are kept even when unlimited (a budget learned later then applies to
            # calls already made); the day log only when needed, since it may hold most of a day's calls.
            state.logs["minute"].append(now)
            state.logs["hour"].append(now)
            if state.budget.per_day is not None:
                state.logs["day"].append(now)
            state.stats.calls += 1
            if not waited:
                return 0.0
            spent = now - started
            state.stats.waits += 1
            state.stats.wait_seconds += spent
            return spent

    @asynccontextmanager
    async def slot(self, api: str) -> AsyncIterator[None]:
        """``async with limiter.slot(api):`` acquires one call of ``api`` (nothing to give back)."""
        await self.acquire(api)
        yield

    # --- reporting ----------------------------------------------------------------------------------

    def stats(self) -> dict[str, ApiLimiterStats]:
        """Per API: calls let through, waits and their seconds, learned budgets and pauses (copies)."""
        return {api: ApiLimiterStats(**vars(s.stats)) for api, s in self._apis.items()}
