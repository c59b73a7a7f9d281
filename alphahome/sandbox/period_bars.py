"""Weekly and monthly bars (``stk_weekly_monthly``) aggregated from the market's own daily bars, so they
agree with ``daily`` exactly: open of the first day, highest high, lowest low, close of the last day, volume
and amount summed; ``pre_close`` is the first day's ``pre_close`` (the ex-rights reference close, so an
ex-dividend at the period boundary is accounted for as in ``daily``), ``change``/``pct_chg`` follow. The
bar of a period is dated by its last trading day with data (``trade_date`` = ``end_date``)."""

from __future__ import annotations

import numpy as np
import pandas as pd


def period_bars(daily: pd.DataFrame) -> pd.DataFrame:
    """Weekly (``freq`` 'week') and monthly ('month') bars of every stock in ``daily``."""
    days = pd.to_datetime(daily["trade_date"], format="%Y%m%d")
    parts = []
    for freq, period in (("week", days.dt.to_period("W-SUN")), ("month", days.dt.to_period("M"))):
        frame = daily.assign(_p=period.to_numpy()).sort_values(["ts_code", "trade_date"], kind="stable")
        grouped = frame.groupby(["ts_code", "_p"], sort=False)
        bars = grouped.agg(
            trade_date=("trade_date", "last"),
            open=("open", "first"),
            high=("high", "max"),
            low=("low", "min"),
            close=("close", "last"),
            pre_close=("pre_close", "first"),
            vol=("vol", "sum"),
            amount=("amount", "sum"),
        ).reset_index()
        bars["freq"] = freq
        parts.append(bars)
    out = pd.concat(parts, ignore_index=True)
    out["end_date"] = out["trade_date"]
    out["change"] = np.round(out["close"] - out["pre_close"], 4)
    out["pct_chg"] = np.round(out["change"] / out["pre_close"] * 100, 4)
    out["vol"] = np.round(out["vol"], 2)
    out["amount"] = np.round(out["amount"], 3)
    return out.drop(columns="_p").sort_values(["trade_date", "ts_code", "freq"], kind="stable")
