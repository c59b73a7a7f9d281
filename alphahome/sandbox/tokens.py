"""The tokens the sandbox accepts, each with its Tushare points tier.

The built-in tokens look like real ones (56 lowercase hex characters) but are plainly sandbox ones: each
starts with ``5a4db0c5`` ("sandbox" in hex-speak) and the rest is derived from its tier, so they are the
same on every machine and in every run. They unlock nothing outside the sandbox.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from alphahome.sources.tushare.interfaces import tier

SANDBOX_TOKEN_PREFIX = "5a4db0c5"


def sandbox_token(label: str) -> str:
    """A deterministic 56-hex sandbox token named by ``label`` (e.g. ``"points-2000"``)."""
    digest = hashlib.sha256(f"alphahome-sandbox-token:{label}".encode()).hexdigest()
    return SANDBOX_TOKEN_PREFIX + digest[: 56 - len(SANDBOX_TOKEN_PREFIX)]


#: Free tier: essentially only ``daily``.
TOKEN_120 = sandbox_token("points-120")
#: The usual paid tier: every regular API.
TOKEN_2000 = sandbox_token("points-2000")
#: Adds the ``*_vip`` whole-market financial APIs.
TOKEN_5000 = sandbox_token("points-5000")

#: Adds the special data (concept boards of DC, ETF basics, global indices: 6000-8000 points).
TOKEN_10000 = sandbox_token("points-10000")

#: token -> points of the tokens every sandbox accepts.
BUILTIN_TOKENS: dict[str, int] = {TOKEN_120: 120, TOKEN_2000: 2000, TOKEN_5000: 5000, TOKEN_10000: 10000}


@dataclass(frozen=True)
class TierQuota:
    """The default quotas of a points tier (per token and per API); ``None`` means no limit."""

    per_minute: int
    per_day: int | None


def tier_quota(points: int) -> TierQuota:
    """Default per-API quotas of a points tier, from the interface table's :data:`TIERS`."""
    found = tier(points)
    return TierQuota(per_minute=found.per_minute, per_day=found.per_day)


class TokenBook(Mapping[str, int]):
    """The tokens a sandbox accepts: token -> points. The built-in ones are always present."""

    def __init__(self, extra: Mapping[str, int] | None = None) -> None:
        self._points: dict[str, int] = dict(BUILTIN_TOKENS)
        for token, points in (extra or {}).items():
            self.add(token, points)

    def add(self, token: str, points: int) -> None:
        """Accept ``token`` with ``points`` from now on (replacing its tier if it is already known)."""
        if not isinstance(token, str) or not token.strip():
            raise ValueError("a sandbox token must be a non-empty string")
        if isinstance(points, bool) or not isinstance(points, int) or points < 0:
            raise ValueError(f"points must be a non-negative integer, got {points!r}")
        self._points[token] = points

    def remove(self, token: str) -> None:
        """Stop accepting ``token`` (as when a user rotates it); unknown tokens are ignored."""
        self._points.pop(token, None)

    def points(self, token: object) -> int | None:
        """The points of ``token``, or ``None`` when the sandbox does not know it."""
        if not isinstance(token, str):
            return None
        return self._points.get(token)

    def __getitem__(self, token: str) -> int:
        return self._points[token]

    def __iter__(self) -> Iterator[str]:
        return iter(self._points)

    def __len__(self) -> int:
        return len(self._points)

