"""Per-company random numbers for the financial statements, seeded by (seed, ts_code).

A company's numbers do not depend on which other companies are in the universe or on their order. The
announcement schedule is drawn first from each company's generator and the accounts after it, so
planning the schedule alone (``describe_cases``) sees exactly the draws a full build sees.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

#: Uniform (stocks, quarters) series for the schedule: see ``ScheduleRow``.
N_SCHEDULE_ROWS = 16
#: Standard-normal (stocks, quarters) series for the accounts; more are made from these by shifting.
N_NOISE_ROWS = 16
#: Per-company parameters for the accounts (a uniform and a normal each).
N_PARAMS = 160


class ScheduleRow:
    """Which uniform series drives which decision of the schedule (fixed: changing it changes data)."""

    ANNOUNCE = 0
    COMBINE_WITH_ANNUAL = 1
    RESTATE = 2
    RESTATE_DELAY = 3
    RESTATE_SIZE = 4
    DUPLICATE = 5
    DUPLICATE_TABLE = 6
    EXPRESS = 7
    EXPRESS_DAY = 8
    EXPRESS_REVISION = 9
    EXPRESS_ERROR = 10
    FORECAST = 11
    FORECAST_DAY = 12
    FORECAST_REVISION = 13
    FORECAST_WIDTH = 14
    FORECAST_TEXT = 15


@dataclass
class CompanyDraws:
    """Random numbers of ``len(codes)`` companies over ``n_quarters`` quarters."""

    schedule: np.ndarray
    noise: np.ndarray | None = None
    params_uniform: np.ndarray | None = None
    params_normal: np.ndarray | None = None


def draw_companies(codes: Sequence[str], seed: int, n_quarters: int, with_accounts: bool = True
                   ) -> CompanyDraws:
    """Draw each company's numbers from its own generator seeded by (seed, crc32(ts_code))."""
    n = len(codes)
    schedule = np.empty((n, N_SCHEDULE_ROWS, n_quarters))
    noise = np.empty((n, N_NOISE_ROWS, n_quarters)) if with_accounts else None
    pu = np.empty((n, N_PARAMS)) if with_accounts else None
    pz = np.empty((n, N_PARAMS)) if with_accounts else None
    for k, code in enumerate(codes):
        g = np.random.Generator(np.random.PCG64(np.random.SeedSequence([seed, zlib.crc32(code.encode())])))
        schedule[k] = g.random((N_SCHEDULE_ROWS, n_quarters))
        if with_accounts:
            assert noise is not None and pu is not None and pz is not None
            noise[k] = g.standard_normal((N_NOISE_ROWS, n_quarters))
            pu[k] = g.random(N_PARAMS)
            pz[k] = g.standard_normal(N_PARAMS)
    return CompanyDraws(schedule, noise, pu, pz)
