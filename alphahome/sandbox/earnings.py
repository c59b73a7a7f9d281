"""The market's view of company earnings: what ``daily_basic`` valuations (pe, pb, ps) and dividend
sizes are computed from. Values change on the disclosure deadlines (Apr 30, Aug 31, Oct 31), so a
valuation moves with the price between reports and jumps when a new report is out."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np

from alphahome.sandbox.step_series import StepSeries


@dataclass(frozen=True)
class Earnings:
    """Reported figures in CNY, as known to the market on each day."""

    profit_ttm: StepSeries
    profit_annual: StepSeries
    revenue_ttm: StepSeries
    revenue_annual: StepSeries
    equity: StepSeries
    #: Net profit of each fiscal year (columns: ``fiscal_years``), for dividend sizes.
    fiscal_profit: np.ndarray
    fiscal_years: tuple[int, ...]


def build_earnings(
    seed: int, market_cap: np.ndarray, loss_maker: np.ndarray, days: np.ndarray, first_year: int
) -> Earnings:
    """Earnings for stocks of initial market value ``market_cap`` (10k CNY) over the open days ``days``.

    ``loss_maker`` stocks report losses throughout; a few others turn to a loss, or back, mid-range.
    """
    rng = np.random.default_rng([seed, 5])
    n = len(market_cap)
    last_year = int(str(days[-1])[:4])
    # Report deadlines inside the range: (day index, fiscal quarter it completes).
    deadlines: list[tuple[int, int, int]] = []  # (day, year, quarter)
    for year in range(first_year, last_year + 1):
        for month, day_of_month, fy, q in ((4, 30, year - 1, 4), (8, 31, year, 2), (10, 31, year, 3)):
            idx = int(np.searchsorted(days, np.datetime64(date(year, month, day_of_month), "D")))
            if 0 < idx < len(days):
                deadlines.append((idx, fy, q))
    k = len(deadlines)
    pe0 = np.exp(rng.normal(np.log(28.0), 0.5, n))
    base = market_cap * 1e4 / pe0
    growth = rng.normal(0.02, 0.10, (n, k + 1))
    growth[:, 0] = 0.0
    level = base[:, None] * np.exp(np.cumsum(growth, axis=1))
    sign = np.where(loss_maker, -1.0, 1.0)[:, None] * np.ones((1, k + 1))
    flips = rng.random(n) < 0.06
    flip_at = rng.integers(1, k + 1, n) if k else np.zeros(n, dtype=np.int64)
    for s in np.flatnonzero(flips):
        sign[s, flip_at[s] :] *= -1.0
    profit_ttm = np.round(level * sign, 2)
    margin = rng.uniform(0.04, 0.25, n)
    revenue_ttm = np.round(np.abs(level) / margin[:, None], 2)
    equity_growth = rng.normal(0.015, 0.03, (n, k + 1))
    equity_growth[:, 0] = 0.0
    pb0 = np.exp(rng.normal(np.log(2.2), 0.4, n))
    equity = np.round((market_cap * 1e4 / pb0)[:, None] * np.exp(np.cumsum(equity_growth, axis=1)), 2)

    # The annual figure changes only when an annual report (Q4) comes out.
    annual_cols = [0] + [j + 1 for j, (_, _, q) in enumerate(deadlines) if q == 4]
    annual_idx = np.zeros(k + 1, dtype=np.int64)
    for j in range(1, k + 1):
        annual_idx[j] = j if j in annual_cols else annual_idx[j - 1]
    change_days = [d for d, _, _ in deadlines]
    fiscal_years = tuple(sorted({fy for _, fy, q in deadlines if q == 4} | {first_year - 1}))
    fiscal = np.zeros((n, len(fiscal_years)))
    for j, (_, fy, q) in enumerate(deadlines):
        if q == 4:
            fiscal[:, fiscal_years.index(fy)] = profit_ttm[:, j + 1]
    fiscal[:, 0] = np.where(fiscal[:, 0] == 0, profit_ttm[:, 0], fiscal[:, 0])
    return Earnings(
        profit_ttm=StepSeries.common(change_days, profit_ttm),
        profit_annual=StepSeries.common(change_days, profit_ttm[:, annual_idx]),
        revenue_ttm=StepSeries.common(change_days, revenue_ttm),
        revenue_annual=StepSeries.common(change_days, revenue_ttm[:, annual_idx]),
        equity=StepSeries.common(change_days, equity),
        fiscal_profit=fiscal,
        fiscal_years=fiscal_years,
    )
