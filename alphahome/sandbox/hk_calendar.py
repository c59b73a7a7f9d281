"""The Hong Kong exchange's calendar (``hk_tradecal``): weekdays, less fixed holidays (New Year, Labour
Day, HKSAR Day, National Day, Christmas and Boxing Day) and the weekdays the mainland closes for the Lunar
New Year (an approximation: Hong Kong closes about three of them)."""

from __future__ import annotations

import numpy as np
import pandas as pd

_FIXED = ("0101", "0501", "0701", "1001", "1225", "1226")


def hk_calendar(mainland: pd.DataFrame) -> pd.DataFrame:
    """``hk_tradecal`` rows (exchange 'HKEX', cal_date, is_open, pretrade_date) over the days of one
    exchange's ``trade_cal`` frame ``mainland``."""
    cal = mainland["cal_date"].to_numpy(dtype=object)
    days = pd.to_datetime(pd.Series(cal), format="%Y%m%d")
    weekday = days.dt.day_of_week.to_numpy() < 5
    md = np.array([c[4:] for c in cal], dtype=object)
    lunar = weekday & (mainland["is_open"].to_numpy() == 0) & np.isin(days.dt.month.to_numpy(), (1, 2))
    # of each run of lunar closures keep the first three weekdays closed
    run = np.zeros(len(cal), dtype=int)
    for i in range(len(cal)):
        run[i] = (run[i - 1] + 1) if (i and lunar[i]) else int(lunar[i])
    is_open = weekday & ~np.isin(md, _FIXED) & ~(lunar & (run <= 3))
    open_pos = np.flatnonzero(is_open)
    prev = np.searchsorted(open_pos, np.arange(len(cal)), side="left") - 1
    pretrade = np.where(prev >= 0, cal[open_pos[np.maximum(prev, 0)]], np.array(None, dtype=object))
    return pd.DataFrame(
        {
            "exchange": pd.Series(["HKEX"] * len(cal), dtype=object),
            "cal_date": pd.Series(cal, dtype=object),
            "is_open": is_open.astype(np.int64),
            "pretrade_date": pd.Series(pretrade, dtype=object),
        }
    )
