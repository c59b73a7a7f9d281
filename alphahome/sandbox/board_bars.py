"""Board and industry bars derived from their members' daily bars (``ths_daily``, ``dc_daily``,
``sw_daily``, ``ci_daily``).

A board's daily return is the equal-weighted mean of ``close / pre_close - 1`` over the members (the
membership intervals ``[in_date, out_date)`` of ``ths_member``, ``dc_member``, ``index_member`` or
``ci_index_member``) that traded that day; its level is chained from a seeded base level, open/high/low
are drawn around it, volume and amount are the members' sums, market values the members' (circulating
value at the close; total value through each stock's float ratio) and turnover the members' volume over
their circulating shares. A board has a bar on the days at least one member traded.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence

import numpy as np
import pandas as pd

from alphahome.sandbox.indices import Aggregates
from alphahome.sandbox.prices import PricePanel


def _positions(day_text: np.ndarray, dates: np.ndarray, missing: int) -> np.ndarray:
    """Positions of 'YYYYMMDD' ``dates`` among the open days (first day on or after); NULL -> ``missing``."""
    out = np.full(len(dates), missing, dtype=np.int64)
    known = ~pd.isna(dates)
    out[known] = np.searchsorted(day_text, dates[known].astype(str), side="left")
    return out


def _or_null(known: np.ndarray, values: np.ndarray) -> np.ndarray:
    out = np.full(len(values), None, dtype=object)
    out[known] = values[known]
    return out


def _cells(
    panel: PricePanel, agg: Aggregates, float_shares: np.ndarray, day: slice | np.ndarray, stock: np.ndarray
) -> np.ndarray:
    """Per member-day cells -- the days of slice ``day`` x ``stock`` (2-D), or the cells (day[i], stock[i])
    (1-D) -- of: return, traded, volume, amount, float value at the close, total value, float shares
    (traded), up, at the limit, down; zero where the stock did not trade."""

    def take(values: np.ndarray) -> np.ndarray:
        # a row slice then the columns reads each day's row once (the panels are day-major)
        taken = values[day][:, stock] if isinstance(day, slice) else values[day, stock]
        return np.asarray(taken, dtype=np.float64)

    weight = take(agg.weight)
    traded = weight > 0
    close, pre = take(panel.close_cents), take(panel.pre_close_cents)
    ret = np.divide(close, pre, out=np.ones_like(close), where=traded & (pre > 0)) - 1.0
    mv = weight * (1.0 + ret)
    out = np.empty((10, *weight.shape))
    out[0], out[1] = ret, traded
    out[2], out[3] = take(agg.volume), take(agg.amount)
    out[4], out[5] = mv, mv / panel.params.float_ratio[stock]
    out[6] = traded * float_shares[stock]
    out[7], out[8], out[9] = traded & (ret > 0), traded & (ret >= 0.095), traded & (ret < 0)
    return out


def board_bars(
    seed: int,
    name: str,
    boards: Sequence[str],
    intervals: pd.DataFrame,
    panel: PricePanel,
    agg: Aggregates,
    day_text: np.ndarray,
    dates: np.ndarray,
    leaders: bool = False,
) -> pd.DataFrame:
    """Bars of ``boards`` on ``dates`` (open days, ascending) from ``intervals`` (columns ``board``,
    ``con_code``, ``in_date``, ``out_date``). Columns: ``_e`` (board position), ``trade_date``, open, high,
    low, close, pre_close, change, pct_change, vol, amount, float_mv, total_mv, turnover_rate, avg_price,
    swing, up_num, down_num, limit_num (at 9.5 % or more), leading_code / leading / leading_pct (the best
    member; NULL unless ``leaders``), pe and pb (a seeded valuation moving with the level against its
    trailing year)."""
    day_text = np.asarray(day_text, dtype=str)
    n_days = len(day_text)
    board_pos = {b: i for i, b in enumerate(boards)}
    stock_pos = {c: i for i, c in enumerate(panel.universe.codes)}
    frame = intervals[intervals["board"].isin(board_pos) & intervals["con_code"].isin(stock_pos)]
    b = frame["board"].map(board_pos).to_numpy(dtype=np.int64)
    s = frame["con_code"].map(stock_pos).to_numpy(dtype=np.int64)
    lo = _positions(day_text, frame["in_date"].to_numpy(dtype=object), 0)
    hi = _positions(day_text, frame["out_date"].to_numpy(dtype=object), n_days)
    # ret, traded, vol, amount, float mv, total mv, float shares, up, at the limit (9.5 % and more)
    sums = np.zeros((9, len(boards), n_days))
    down = np.zeros((len(boards), n_days))
    best = np.full((len(boards), n_days), -np.inf)  # the day's best member return and who it was
    leader = np.full((len(boards), n_days), -1, dtype=np.int64)
    float_shares = panel.params.shares0 * panel.params.float_ratio
    # members sharing a board and an interval are summed in one slice (most boards: one big group)
    live = hi > lo
    b, s, lo, hi = b[live], s[live], lo[live], hi[live]
    order = np.lexsort((s, hi, lo, b))
    b, s, lo, hi = b[order], s[order], lo[order], hi[order]
    starts = np.flatnonzero(np.r_[True, (b[1:] != b[:-1]) | (lo[1:] != lo[:-1]) | (hi[1:] != hi[:-1])])
    ends = np.r_[starts[1:], len(b)]
    alone = ends - starts == 1
    for first_row, end_row in zip(starts[~alone], ends[~alone], strict=True):
        board = int(b[first_row])
        cols = s[first_row:end_row]
        span = slice(int(lo[first_row]), int(hi[first_row]))
        cells = _cells(panel, agg, float_shares, span, cols)
        for k, values in enumerate(cells[:9]):
            sums[k, board, span] += values.sum(axis=1)
        down[board, span] += cells[9].sum(axis=1)
        if not leaders:
            continue
        ranked = np.where(cells[1] > 0, cells[0], -np.inf)
        top = ranked.argmax(axis=1)
        top_ret = ranked[np.arange(len(top)), top]
        better = top_ret > best[board, span]
        best[board, span] = np.where(better, top_ret, best[board, span])
        leader[board, span] = np.where(better, cols[top], leader[board, span])
    # members alone in their (board, interval) -- stocks listed or moved inside the range -- are summed
    # cell by cell, in batches (one slice per member would cost a Python round per stock)
    single = starts[alone]
    lengths = hi[single] - lo[single]
    batch = np.cumsum(lengths) // 2_000_000
    flat_size = len(boards) * n_days
    for part in np.unique(batch):
        rows = single[batch == part]
        count = hi[rows] - lo[rows]
        which = np.repeat(rows, count)
        day = lo[which] + np.arange(count.sum()) - np.repeat(np.cumsum(count) - count, count)
        # day-major cell order reads the day-major panels row by row
        by_day = np.argsort(day * len(panel.universe) + s[which], kind="stable")
        which, day = which[by_day], day[by_day]
        cells = _cells(panel, agg, float_shares, day, s[which])
        flat = b[which] * n_days + day
        for k, values in enumerate(cells[:9]):
            sums[k] += np.bincount(flat, weights=values, minlength=flat_size).reshape(len(boards), n_days)
        down += np.bincount(flat, weights=cells[9], minlength=flat_size).reshape(len(boards), n_days)
        if not leaders:
            continue
        ranked = np.where(cells[1] > 0, cells[0], -np.inf)
        order = np.lexsort((ranked, flat))
        last = np.r_[flat[order][1:] != flat[order][:-1], True]
        top_flat, top_ret, top_stock = flat[order][last], ranked[order][last], s[which][order][last]
        better = top_ret > best.ravel()[top_flat]
        best.ravel()[top_flat[better]] = top_ret[better]
        leader.ravel()[top_flat[better]] = top_stock[better]
    names = panel.universe.stock_basic["name"].to_numpy(dtype=object)
    in_range = np.isin(day_text, np.asarray(dates, dtype=str))
    rng = np.random.default_rng([seed, zlib.crc32(f"board-bars:{name}".encode())])
    board_of, day_of, prices = [], [], []
    for k in range(len(boards)):
        count = sums[1, k]
        days = np.flatnonzero(in_range & (count > 0))
        base = 1000.0 * float(np.exp(rng.normal(0.0, 0.4)))
        noise = rng.normal(0.0, 1.0, (3, len(days)))
        pe0, pb0 = np.exp(rng.normal([np.log(22.0), np.log(2.2)], 0.35))
        if len(days) == 0:
            continue
        ret = sums[0, k, days] / count[days]
        close = base * np.cumprod(1.0 + ret)
        pre = np.r_[base, close[:-1]]
        open_ = pre * (1.0 + 0.3 * ret + 0.002 * noise[0])
        high = np.maximum(open_, close) * (1.0 + np.abs(0.004 * noise[1]))
        low = np.minimum(open_, close) * (1.0 - np.abs(0.004 * noise[2]))
        board_of.append(np.full(len(days), k, dtype=np.int64))
        day_of.append(days)
        # valuations move with the level against its trailing year's mean (earnings and book value follow
        # prices slowly)
        total = np.cumsum(close)
        trailing = (total - np.r_[np.zeros(250), total[:-250]][: len(total)]) / np.minimum(np.arange(len(total)) + 1, 250)
        rel = close / trailing
        prices.append(np.stack([open_, high, low, close, pre, ret, pe0 * rel, pb0 * rel]))
    if not board_of:
        return pd.DataFrame(columns=["_e", "trade_date"])
    bk, d = np.concatenate(board_of), np.concatenate(day_of)
    open_, high, low, close, pre, ret, pe, pb = np.concatenate(prices, axis=1)
    close_r, pre_r = np.round(close, 4), np.round(pre, 4)
    vol = sums[2, bk, d]
    top = leader[bk, d]
    known = top >= 0
    return pd.DataFrame(
        {
            "_e": bk,
            "trade_date": day_text[d].astype(object),
            "open": np.round(open_, 4),
            "high": np.round(high, 4),
            "low": np.round(low, 4),
            "close": close_r,
            "pre_close": pre_r,
            "change": np.round(close_r - pre_r, 4),
            "pct_change": np.round(ret * 100.0, 4),
            "vol": np.round(vol, 2),
            "amount": np.round(sums[3, bk, d], 3),
            "float_mv": np.round(sums[4, bk, d], 2),
            "total_mv": np.round(sums[5, bk, d], 2),
            "turnover_rate": np.round(vol / sums[6, bk, d], 4),
            "avg_price": np.round((high + low + 2.0 * close) / 4.0, 4),
            "swing": np.round((high - low) / pre * 100.0, 4),
            "up_num": sums[7, bk, d].astype(np.int64),
            "down_num": down[bk, d].astype(np.int64),
            "limit_num": sums[8, bk, d].astype(np.int64),
            "leading_code": _or_null(known, panel.universe.codes[top]),
            "leading": _or_null(known, names[top]),
            "leading_pct": np.where(known, np.round(best[bk, d] * 100.0, 4), np.nan),
            "pe": np.round(pe, 4),
            "pb": np.round(pb, 4),
        }
    )
