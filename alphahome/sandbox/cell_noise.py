"""Counter-based random numbers: the value for (stream, i, j) is a pure function of those integers.

The synthetic market uses it for per-stock-per-day noise, so any slice of a stock x day panel (one day
of 5,000 stocks, or ten years of one stock) can be regenerated on demand, identically, without
generating or storing the rest. The mixer is SplitMix64's finaliser, applied in uint64 arithmetic.
"""

from __future__ import annotations

import zlib

import numpy as np

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_STEP_J = np.uint64(0xD1B54A32D192ED03)
_S30, _S27, _S31 = np.uint64(30), np.uint64(27), np.uint64(31)


def stream_key(seed: int, name: str) -> int:
    """A 64-bit key for a named noise stream of a seeded market (stable across processes)."""
    return ((seed & 0xFFFFFFFF) << 32) | zlib.crc32(name.encode())


def _mix(z: np.ndarray) -> np.ndarray:
    with np.errstate(over="ignore"):
        z = (z ^ (z >> _S30)) * _M1
        z = (z ^ (z >> _S27)) * _M2
    return z ^ (z >> _S31)


def _hash(key: int, i: np.ndarray | int, j: np.ndarray | int) -> np.ndarray:
    ii = np.asarray(i, dtype=np.int64).astype(np.uint64)
    jj = np.asarray(j, dtype=np.int64).astype(np.uint64)
    with np.errstate(over="ignore"):
        return _mix(np.uint64(key) + ii * _GOLDEN + jj * _STEP_J)


def uniform(key: int, i: np.ndarray | int, j: np.ndarray | int) -> np.ndarray:
    """Uniform floats in (0, 1) for the cells (i, j) of stream ``key`` (broadcasting i against j)."""
    z = _hash(key, i, j)
    return ((z >> np.uint64(11)).astype(np.float64) + 0.5) * (1.0 / 9007199254740992.0)


def normal(key: int, i: np.ndarray | int, j: np.ndarray | int) -> np.ndarray:
    """Standard normal floats for the cells (i, j) of stream ``key`` (Box-Muller on the two 32-bit
    halves of one hash)."""
    z = _hash(key, i, j)
    u1 = ((z >> np.uint64(32)).astype(np.float64) + 0.5) * (1.0 / 4294967296.0)
    u2 = ((z & np.uint64(0xFFFFFFFF)).astype(np.float64) + 0.5) * (1.0 / 4294967296.0)
    return np.sqrt(-2.0 * np.log(u1)) * np.cos(2.0 * np.pi * u2)
