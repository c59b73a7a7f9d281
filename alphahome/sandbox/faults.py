"""Fault injection for the sandbox: the ways the real service and the network misbehave, on demand.

Each request draws its fate, in arrival order, from a random generator seeded by ``FaultConfig.seed``; the
k-th request of a run therefore meets the same fault in every run. Fractions partition [0, 1), so a
request meets at most one random fault:

- ``http5xx``: answered HTTP 502 or 503 with an nginx-like HTML page, before any processing;
- ``delay``: held ``delay_seconds`` (real seconds, never time-scaled) before being processed normally,
  so a client with a shorter timeout gives up;
- ``truncate``: processed normally, but the JSON body is cut in half;
- ``system``: answered ``SYSTEM_ERROR_CODE`` with Tushare's "系统未知错误" text, before any processing;
- ``quota``: answered 40203 with the per-minute quota text (N = the caller's real per-minute limit) once
  the token, API and permission checks pass; the call is not counted against the quota.

``quota_next`` (API -> K) answers the next K calls to that API with the quota error, whatever the draw.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Literal

FaultKind = Literal["http5xx", "delay", "truncate", "system", "quota"]

#: The order in which the fractions partition [0, 1).
FAULT_KINDS: tuple[FaultKind, ...] = ("http5xx", "delay", "truncate", "system", "quota")

#: The code of the "system unknown error" answer. Tushare's own code for it is undocumented; any
#: non-zero code outside 40101/40203 makes a client classify it by its text, which is what counts.
SYSTEM_ERROR_CODE = 50101


def system_error_message(request_id: str) -> str:
    """Tushare's server-fault text, naming the request."""
    return f"系统未知错误，欢迎上报！ 谢谢！request-id({request_id})"


@dataclass(frozen=True)
class FaultConfig:
    """Which faults to inject, and how often (fractions of requests, 0 to 1, summing to at most 1)."""

    http5xx: float = 0.0
    delay: float = 0.0
    delay_seconds: float = 3.0
    truncate: float = 0.0
    system: float = 0.0
    quota: float = 0.0
    seed: int = 0
    #: API name -> number of its next calls to answer with a quota error.
    quota_next: Mapping[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        total = 0.0
        for kind in FAULT_KINDS:
            value = getattr(self, kind)
            if isinstance(value, bool) or not isinstance(value, int | float) or not 0.0 <= value <= 1.0:
                raise ValueError(f"fault fraction {kind} must be between 0 and 1, got {value!r}")
            total += value
        if total > 1.0 + 1e-9:
            raise ValueError(f"fault fractions add up to {total:g}, more than 1")
        if not self.delay_seconds >= 0:
            raise ValueError(f"delay_seconds must be >= 0, got {self.delay_seconds!r}")
        if isinstance(self.seed, bool) or not isinstance(self.seed, int):
            raise ValueError(f"fault seed must be an integer, got {self.seed!r}")
        for api, count in self.quota_next.items():
            if isinstance(count, bool) or not isinstance(count, int) or count < 0:
                raise ValueError(f"quota_next for {api!r} must be a non-negative integer, got {count!r}")
        object.__setattr__(self, "quota_next", dict(self.quota_next))

    @property
    def active(self) -> bool:
        """Whether any fault can happen at all."""
        return any(getattr(self, kind) > 0 for kind in FAULT_KINDS) or any(self.quota_next.values())

    @classmethod
    def parse(cls, text: str) -> FaultConfig:
        """Parse the CLI syntax: ``key=value`` items separated by commas.

        Keys: ``http5xx``, ``delay``, ``truncate``, ``system``, ``quota`` (fractions, ``0.05`` or ``5%``),
        ``delay_seconds``, ``seed``, and ``quota_next=API:K`` (repeatable). Example:
        ``http5xx=0.1,delay=0.05,delay_seconds=3,truncate=0.05,system=0.05,quota=0.02,seed=7``.
        """
        values: dict[str, object] = {}
        quota_next: dict[str, int] = {}
        known = {f.name for f in fields(cls)}
        for item in (part.strip() for part in text.split(",")):
            if not item:
                continue
            key, sep, raw = (s.strip() for s in item.partition("="))
            if not sep or not raw:
                raise ValueError(f"bad fault item {item!r}: expected key=value")
            try:
                if key in FAULT_KINDS:
                    values[key] = float(raw[:-1]) / 100 if raw.endswith("%") else float(raw)
                elif key == "delay_seconds":
                    values[key] = float(raw)
                elif key == "seed":
                    values[key] = int(raw)
                elif key == "quota_next":
                    api, colon, count = raw.partition(":")
                    if not colon or not api.strip():
                        raise ValueError("expected quota_next=API:K")
                    quota_next[api.strip()] = int(count)
                else:
                    raise ValueError(f"unknown key (known: {', '.join(sorted(known))})")
            except ValueError as exc:
                raise ValueError(f"bad fault item {item!r}: {exc}") from None
        return cls(**values, quota_next=quota_next)  # type: ignore[arg-type]

    def describe(self) -> str:
        """The configuration in the CLI syntax (only what is set)."""
        parts = [f"{kind}={getattr(self, kind):g}" for kind in FAULT_KINDS if getattr(self, kind) > 0]
        if self.delay > 0:
            parts.append(f"delay_seconds={self.delay_seconds:g}")
        parts += [f"quota_next={api}:{k}" for api, k in self.quota_next.items() if k > 0]
        if parts:
            parts.append(f"seed={self.seed}")
        return ",".join(parts) or "none"


@dataclass(frozen=True)
class Fault:
    """The fault one request meets."""

    kind: FaultKind
    #: HTTP status for ``http5xx`` (502 or 503); 200 otherwise.
    status: int = 200


class FaultInjector:
    """Draws each request's fault from a ``FaultConfig``, deterministically in arrival order."""

    def __init__(self, config: FaultConfig) -> None:
        self.config = config
        self._rng = random.Random(config.seed)
        self._quota_next = dict(config.quota_next)

    def draw(self) -> Fault | None:
        """The random fault of the next request, if any. Every draw consumes the same randomness."""
        u, v = self._rng.random(), self._rng.random()
        edge = 0.0
        for kind in FAULT_KINDS:
            edge += getattr(self.config, kind)
            if u < edge:
                return Fault(kind, 502 if v < 0.5 else 503) if kind == "http5xx" else Fault(kind)
        return None

    def take_quota_next(self, api_name: str) -> bool:
        """Whether this call to ``api_name`` is one of the "next K" forced quota errors (uses one up)."""
        left = self._quota_next.get(api_name, 0)
        if left <= 0:
            return False
        self._quota_next[api_name] = left - 1
        return True

    def quota_next_left(self, api_name: str) -> int:
        """How many forced quota errors are still due for ``api_name``."""
        return self._quota_next.get(api_name, 0)
