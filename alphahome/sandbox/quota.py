"""Per-token, per-API call quotas of the sandbox: sliding windows of a minute, an hour and a day.

A window admits at most N accepted calls in any span of its length (a sliding log, the strictest reading
of "N per minute": a client that respects it also respects a fixed clock-aligned window). Rejected calls
do not count against the quota, so a client that backs off recovers as soon as its old calls age out.
``time_scale`` shrinks every window (0.05 turns a minute into 3 s) so rate-limit tests run fast.

Effective limits, field by field, strongest first: a per-API override (``--quota daily=100/min``), a
``*`` override for every API, the API's own figure (``ApiDef.per_minute`` …), the token's tier default.
"""

from __future__ import annotations

import re
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, fields, replace
from typing import TYPE_CHECKING, Literal

from alphahome.sandbox.tokens import tier_quota

if TYPE_CHECKING:
    from alphahome.sandbox.apidef import ApiDef

Window = Literal["minute", "hour", "day"]

#: Window lengths in real seconds, before ``time_scale``.
WINDOW_SECONDS: dict[Window, float] = {"minute": 60.0, "hour": 3600.0, "day": 86400.0}

_WINDOW_WORDS: dict[Window, str] = {"minute": "每分钟", "hour": "每小时", "day": "每天"}
PERMISSION_DOC = "权限的具体详情访问：https://tushare.pro/document/1?doc_id=108。"


def quota_message(window: Window, limit: int) -> str:
    """Tushare's 40203 quota text for ``window``, carrying the limit N."""
    return f"抱歉，您{_WINDOW_WORDS[window]}最多访问该接口{limit}次，{PERMISSION_DOC}"


@dataclass(frozen=True)
class QuotaLimits:
    """Calls allowed per window; ``None`` leaves that window to the next source (or unlimited)."""

    per_minute: int | None = None
    per_hour: int | None = None
    per_day: int | None = None

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
                raise ValueError(f"quota {f.name} must be a positive integer, got {value!r}")

    def over(self, base: QuotaLimits) -> QuotaLimits:
        """These limits where set, ``base``'s elsewhere."""
        return QuotaLimits(
            per_minute=self.per_minute if self.per_minute is not None else base.per_minute,
            per_hour=self.per_hour if self.per_hour is not None else base.per_hour,
            per_day=self.per_day if self.per_day is not None else base.per_day,
        )

    def limit(self, window: Window) -> int | None:
        """The limit of one window."""
        return {"minute": self.per_minute, "hour": self.per_hour, "day": self.per_day}[window]


_OVERRIDE_RE = re.compile(r"^\s*([A-Za-z0-9_*]+)\s*=\s*(\d+)\s*/\s*(min|minute|h|hour|d|day)\s*$")
_UNIT_FIELD = {"min": "per_minute", "minute": "per_minute", "h": "per_hour", "hour": "per_hour",
               "d": "per_day", "day": "per_day"}


def parse_quota_overrides(specs: Iterable[str]) -> dict[str, QuotaLimits]:
    """Parse ``API=N/min``, ``API=N/hour`` or ``API=N/day`` items (``*`` for every API) into overrides.

    Several items for one API combine (``daily=100/min`` and ``daily=2000/day``). Raises ``ValueError``
    naming the bad item.
    """
    result: dict[str, QuotaLimits] = {}
    for spec in specs:
        match = _OVERRIDE_RE.match(spec)
        if match is None:
            raise ValueError(f"bad quota {spec!r}: expected API=N/min, API=N/hour or API=N/day (e.g. daily=100/min)")
        api, count, unit = match.groups()
        try:
            limits = replace(QuotaLimits(), **{_UNIT_FIELD[unit]: int(count)})
        except ValueError as exc:
            raise ValueError(f"bad quota {spec!r}: {exc}") from None
        result[api] = limits.over(result.get(api, QuotaLimits()))
    return result


@dataclass(frozen=True)
class QuotaRejection:
    """A call refused by a quota window: 40203 with Tushare's text."""

    window: Window
    limit: int

    @property
    def message(self) -> str:
        return quota_message(self.window, self.limit)


class QuotaKeeper:
    """Counts accepted calls per (token, API) and refuses those beyond a window's limit."""

    def __init__(
        self,
        *,
        enabled: bool = True,
        time_scale: float = 1.0,
        overrides: Mapping[str, QuotaLimits] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not time_scale > 0:
            raise ValueError(f"time_scale must be positive, got {time_scale!r}")
        self.enabled = enabled
        self.time_scale = float(time_scale)
        self._overrides: dict[str, QuotaLimits] = dict(overrides or {})
        self._clock = clock
        self._calls: dict[tuple[str, str, Window], deque[float]] = {}

    def set_override(self, api_name: str, limits: QuotaLimits | None) -> None:
        """Override (or with ``None`` drop the override of) one API's limits; ``*`` means every API."""
        if limits is None:
            self._overrides.pop(api_name, None)
        else:
            self._overrides[api_name] = limits

    @property
    def overrides(self) -> Mapping[str, QuotaLimits]:
        return dict(self._overrides)

    def limits_for(self, api: ApiDef, points: int) -> QuotaLimits:
        """The limits that apply to a token with ``points`` calling ``api``."""
        tier = tier_quota(points)
        limits = QuotaLimits(per_minute=tier.per_minute, per_day=tier.per_day)
        limits = QuotaLimits(per_minute=api.per_minute_for(points), per_hour=api.per_hour,
                             per_day=api.per_day).over(limits)
        if "*" in self._overrides:
            limits = self._overrides["*"].over(limits)
        if api.name in self._overrides:
            limits = self._overrides[api.name].over(limits)
        return limits

    def window_seconds(self, window: Window) -> float:
        """A window's length after ``time_scale``."""
        return WINDOW_SECONDS[window] * self.time_scale

    def acquire(self, token: str, api: ApiDef, points: int) -> QuotaRejection | None:
        """Count one call, or refuse it (counting nothing) when a window is full.

        When several windows are full the longest one is reported, since that is the real wait.
        """
        if not self.enabled:
            return None
        limits = self.limits_for(api, points)
        now = self._clock()
        logs: list[deque[float]] = []
        refused: QuotaRejection | None = None
        for window in ("minute", "hour", "day"):
            limit = limits.limit(window)
            if limit is None:
                continue
            log = self._calls.setdefault((token, api.name, window), deque())
            horizon = now - self.window_seconds(window)
            while log and log[0] <= horizon:
                log.popleft()
            if len(log) >= limit:
                refused = QuotaRejection(window, limit)
            logs.append(log)
        if refused is not None:
            return refused
        for log in logs:
            log.append(now)
        return None

    def reset(self) -> None:
        """Forget every counted call (all windows open again)."""
        self._calls.clear()
