"""Concept-board memberships that hold over time (THS ``ths_member``, DC ``dc_member``, KPL
``kpl_concept_cons``).

Each board draws a size (tens of stocks, up to a few hundred for THS boards, never more than two fifths of
the market) and that many members; a member holds from ``in_date`` (the board's setup or the stock's
listing, whichever is later) and a few join or leave inside the market's range, so membership changes
rarely. Intervals are ``[in_date, out_date)``: a stock is a member on day ``d`` when
``in_date <= d`` and ``out_date`` is NULL or after ``d``. ``ths_member`` lists the intervals
(``is_new`` 'Y' for current members); ``dc_member`` and ``kpl_concept_cons`` list the members of each
board on each trading day of their range. Everything is drawn from a ``(seed, board set)``-seeded
generator.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class BoardSizes:
    """Board size distribution of one board family: lognormal around ``median``, clipped to the range."""

    median: float
    low: int
    high: int


#: Sizes by board family (daily-snapshot families are kept smaller: their tables repeat every member on
#: every day).
SIZES: dict[str, BoardSizes] = {
    "ths": BoardSizes(40.0, 10, 300),
    "dc": BoardSizes(25.0, 10, 150),
    "kpl": BoardSizes(15.0, 8, 80),
}


def _plus_days(day: str, offset: int) -> str:
    return (pd.Timestamp(day) + pd.Timedelta(days=offset)).strftime("%Y%m%d")


def board_intervals(
    seed: int,
    family: str,
    boards: tuple[str, ...],
    stock_codes: np.ndarray,
    stock_names: np.ndarray,
    stock_list_dates: np.ndarray,
    days: np.ndarray,
) -> pd.DataFrame:
    """Membership intervals of ``boards``: columns ``ts_code`` (board), ``con_code``, ``con_name``,
    ``in_date``, ``out_date`` (NULL while current), ``is_new``; also ``setup`` (the board's setup day).
    ``days`` are the market's open days ('YYYYMMDD' text)."""
    rng = np.random.default_rng([seed, zlib.crc32(f"boards:{family}".encode())])
    sizes = SIZES[family]
    n_stocks = len(stock_codes)
    first, last = str(days[0]), str(days[-1])
    inner = days[5:-5] if len(days) > 20 else days
    parts: list[tuple[np.ndarray, ...]] = []
    for board in boards:
        size = int(np.clip(round(rng.lognormal(np.log(sizes.median), 0.6)), sizes.low, sizes.high))
        size = max(1, min(size, int(n_stocks * 0.4)))  # a small market has small boards
        setup = _plus_days(first, -int(rng.integers(60, 3000)))
        joiners = int(rng.poisson(0.08 * size))
        leavers = max(0, min(int(rng.poisson(0.06 * size)), size - sizes.low))
        # the board's members at the start of the range are stocks listed by then; joiners may be any stock
        seasoned = np.flatnonzero(stock_list_dates.astype(str) <= first)
        pool = seasoned if len(seasoned) >= size else np.arange(n_stocks)
        base = rng.choice(pool, size=min(size, len(pool)), replace=False)
        others = np.setdiff1d(np.arange(n_stocks), base)
        late = rng.choice(others, size=min(joiners, len(others)), replace=False)
        picked = np.r_[base, late].astype(np.int64)
        size = len(base)
        listed = stock_list_dates[picked].astype(str)
        in_dates = np.where(listed > setup, listed, setup).astype(object)
        # joiners come in on a day inside the range (after their listing)
        join_days = inner[rng.integers(0, len(inner), len(late))] if len(late) else np.zeros(0, dtype=object)
        join_days, prior = join_days.astype(str), in_dates[size:].astype(str)
        in_dates[size:] = np.where(join_days > prior, join_days, prior)
        out_dates = np.full(len(picked), None, dtype=object)
        if leavers:
            who = rng.choice(size, size=leavers, replace=False)
            out_dates[who] = inner[rng.integers(0, len(inner), leavers)]
        valid = np.array([o is None or o > i for i, o in zip(in_dates, out_dates, strict=True)], dtype=bool)
        valid &= in_dates.astype(str) <= last
        kept = picked[valid]
        parts.append((np.full(len(kept), board, dtype=object), kept, in_dates[valid], out_dates[valid],
                      np.full(len(kept), setup, dtype=object)))  # fmt: skip
    board_col, stock, in_col, out_col, setup_col = (np.concatenate(column) for column in zip(*parts, strict=True))
    out = pd.DataFrame(
        {
            "ts_code": board_col,
            "con_code": stock_codes[stock],
            "con_name": stock_names[stock],
            "in_date": in_col,
            "out_date": out_col,
            "setup": setup_col,
        }
    )
    out["is_new"] = np.where(out["out_date"].isna(), "Y", "N")
    return out.sort_values(["ts_code", "con_code"], kind="stable", ignore_index=True)


def members_on(intervals: pd.DataFrame, dates: np.ndarray) -> pd.DataFrame:
    """One row per (trading day of ``dates``, board, member of that board that day): columns
    ``trade_date``, ``ts_code``, ``con_code``, ``con_name``, in (day, board, stock) order."""
    day_text = np.asarray(dates, dtype=str)
    lo = np.searchsorted(day_text, intervals["in_date"].to_numpy(dtype=str), side="left")
    out_dates = intervals["out_date"].to_numpy(dtype=object)
    hi = np.where(
        pd.isna(out_dates), len(day_text), np.searchsorted(day_text, out_dates.astype(str), side="left")
    )
    counts = np.maximum(hi - lo, 0)
    row = np.repeat(np.arange(len(intervals)), counts)
    offset = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
    day = np.repeat(lo, counts) + offset
    frame = pd.DataFrame(
        {
            "trade_date": day_text.astype(object)[day],
            "ts_code": intervals["ts_code"].to_numpy(dtype=object)[row],
            "con_code": intervals["con_code"].to_numpy(dtype=object)[row],
            "con_name": intervals["con_name"].to_numpy(dtype=object)[row],
        }
    )
    return frame.sort_values(["trade_date", "ts_code", "con_code"], kind="stable", ignore_index=True)
