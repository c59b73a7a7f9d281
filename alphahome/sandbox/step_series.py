"""Per-stock piecewise-constant series (adjustment factor, share counts, reported earnings).

Stored as each stock's change days and values, so a value for any (stock, day) cells is a small
vectorised look-up: no stock x day panel is ever materialised for them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np

_NEVER = np.iinfo(np.int64).max


@dataclass(frozen=True)
class StepSeries:
    """``values[s, k]`` holds from ``change_days[s, k-1]`` (inclusive) to ``change_days[s, k]``;
    ``values[s, 0]`` holds before the first change. Unused change slots are padded with a huge day."""

    change_days: np.ndarray  # int64 (n, K), ascending per row
    values: np.ndarray  # float64 (n, K + 1)
    #: Set when every stock changes on the same days (then a look-up searches just these).
    shared_days: np.ndarray | None = None

    @classmethod
    def from_events(
        cls, n: int, initial: np.ndarray, stocks: np.ndarray, days: np.ndarray, new_values: np.ndarray
    ) -> StepSeries:
        """From events (stock, day, value from that day on); ``initial`` is each stock's value before."""
        order = np.lexsort((days, stocks))
        stocks, days, new_values = stocks[order], days[order], new_values[order]
        counts = np.bincount(stocks, minlength=n) if len(stocks) else np.zeros(n, dtype=np.int64)
        k = int(counts.max()) if n and len(stocks) else 0
        change_days = np.full((n, k), _NEVER, dtype=np.int64)
        values = np.repeat(np.asarray(initial, dtype=np.float64)[:, None], k + 1, axis=1)
        if len(stocks):
            slot = np.arange(len(stocks)) - np.repeat(np.cumsum(counts) - counts, counts)
            change_days[stocks, slot] = days
            values[stocks, slot + 1] = new_values
            # Unused trailing slots repeat the last value.
            for j in range(1, k + 1):
                unused = j > counts
                values[unused, j] = values[unused, j - 1]
        return cls(change_days=change_days, values=values)

    @classmethod
    def common(cls, change_days: Sequence[int], values: np.ndarray) -> StepSeries:
        """Every stock changes on the same days; ``values`` is (n, len(change_days) + 1)."""
        n = values.shape[0]
        days = np.tile(np.asarray(change_days, dtype=np.int64), (n, 1))
        shared = np.asarray(change_days, dtype=np.int64)
        return cls(change_days=days, values=np.asarray(values, dtype=np.float64), shared_days=shared)

    @cached_property
    def _keys(self) -> tuple[np.ndarray, np.ndarray]:
        # Real change days as one sorted key array (stock << 32 | day) and each stock's first position:
        # a look-up is then one binary search per cell instead of a compare against every slot.
        n, k = self.change_days.shape
        stocks = np.repeat(np.arange(n, dtype=np.int64), k)
        days = self.change_days.ravel()
        real = days != _NEVER
        keys = (stocks[real] << 32) | days[real]
        starts = np.searchsorted(keys, np.arange(n, dtype=np.int64) << 32)
        return keys, starts

    def at(self, stocks: np.ndarray, days: np.ndarray) -> np.ndarray:
        """Values at the cells (stocks[i], days[i]) (days >= 0)."""
        stocks = np.asarray(stocks, dtype=np.int64)
        if self.change_days.shape[1] == 0:
            return self.values[stocks, 0]
        if self.shared_days is not None:
            return self.values[stocks, np.searchsorted(self.shared_days, days, side="right")]
        keys, starts = self._keys
        slot = (
            np.searchsorted(keys, (stocks << 32) | np.asarray(days, dtype=np.int64), side="right")
            - starts[stocks]
        )
        return self.values[stocks, slot]
