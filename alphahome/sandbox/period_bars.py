"""Weekly and monthly bars (``stk_weekly_monthly``) aggregated from the market's own daily bars, so they
agree with ``daily`` exactly: open of the first day, highest high, lowest low, close of the last day, volume
and amount summed; ``pre_close`` is the first day's ``pre_close`` (the ex-rights reference close, so an
ex-dividend at the period boundary is accounted for as in ``daily``), ``change``/``pct_chg`` follow. The
bar of a period is dated by its last trading day with data (``trade_date`` = ``end_date``)."""

from __future__ import annotations

import numpy as np
import pandas as pd


def _bars_of(daily: pd.DataFrame, period: np.ndarray, freq: str) -> pd.DataFrame:
    """One bar per (stock, period) of ``daily`` sorted by stock then date; ``period`` aligned with it."""
    codes = daily["ts_code"].to_numpy(dtype=object)
    starts = np.flatnonzero(np.r_[True, (codes[1:] != codes[:-1]) | (period[1:] != period[:-1])])
    ends = np.r_[starts[1:], len(codes)] - 1
    high, low = daily["high"].to_numpy(), daily["low"].to_numpy()
    vol, amount = daily["vol"].to_numpy(), daily["amount"].to_numpy()
    return pd.DataFrame(
        {
            "ts_code": codes[starts],
            "trade_date": daily["trade_date"].to_numpy(dtype=object)[ends],
            "freq": freq,
            "open": daily["open"].to_numpy()[starts],
            "high": np.maximum.reduceat(high, starts),
            "low": np.minimum.reduceat(low, starts),
            "close": daily["close"].to_numpy()[ends],
            "pre_close": daily["pre_close"].to_numpy()[starts],
            "vol": np.round(np.add.reduceat(vol, starts), 2),
            "amount": np.round(np.add.reduceat(amount, starts), 3),
        }
    )


def period_bars(daily: pd.DataFrame) -> pd.DataFrame:
    """Weekly (``freq`` 'week') and monthly ('month') bars of every stock in ``daily``."""
    frame = daily.sort_values(["ts_code", "trade_date"], kind="stable").reset_index(drop=True)
    days = pd.to_datetime(frame["trade_date"], format="%Y%m%d").to_numpy().astype("datetime64[D]")
    number = days.astype(np.int64)
    week = (number + 3) // 7  # Monday-based weeks (1970-01-01 was a Thursday)
    month = days.astype("datetime64[M]").astype(np.int64)
    out = pd.concat([_bars_of(frame, week, "week"), _bars_of(frame, month, "month")], ignore_index=True)
    out["end_date"] = out["trade_date"]
    out["change"] = np.round(out["close"] - out["pre_close"], 4)
    out["pct_chg"] = np.round(out["change"] / out["pre_close"] * 100, 4)
    return out.sort_values(["trade_date", "ts_code", "freq"], kind="stable", ignore_index=True)
