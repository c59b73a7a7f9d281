"""The synthetic exchange calendar: weekends plus Chinese public-holiday closures.

Lunar festivals are placed from the Spring Festival date of the year (a table of real dates) by average
lunar-month arithmetic, so they land within a few days of the real ones: real-looking, not authoritative.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache

import numpy as np
import pandas as pd

#: Lunar New Year's Day (春节), 2000-2045.
SPRING_FESTIVAL: dict[int, date] = {
    y: date(y, m, d)
    for y, m, d in [
        (2000, 2, 5), (2001, 1, 24), (2002, 2, 12), (2003, 2, 1), (2004, 1, 22), (2005, 2, 9),
        (2006, 1, 29), (2007, 2, 18), (2008, 2, 7), (2009, 1, 26), (2010, 2, 14), (2011, 2, 3),
        (2012, 1, 23), (2013, 2, 10), (2014, 1, 31), (2015, 2, 19), (2016, 2, 8), (2017, 1, 28),
        (2018, 2, 16), (2019, 2, 5), (2020, 1, 25), (2021, 2, 12), (2022, 2, 1), (2023, 1, 22),
        (2024, 2, 10), (2025, 1, 29), (2026, 2, 17), (2027, 2, 6), (2028, 1, 26), (2029, 2, 13),
        (2030, 2, 3), (2031, 1, 23), (2032, 2, 11), (2033, 1, 31), (2034, 2, 19), (2035, 2, 8),
        (2036, 1, 28), (2037, 2, 15), (2038, 2, 4), (2039, 1, 24), (2040, 2, 12), (2041, 2, 1),
        (2042, 1, 22), (2043, 2, 10), (2044, 1, 30), (2045, 2, 17),
    ]
}  # fmt: skip

LUNAR_MONTH_DAYS = 29.53
#: Exchanges whose calendar the sandbox publishes (both follow the same mainland holidays).
CALENDAR_EXCHANGES: tuple[str, ...] = ("SSE", "SZSE")


#: Lunar years with a leap month, and after which month it comes (2000-2045).
LEAP_MONTH: dict[int, int] = {
    2001: 4, 2004: 2, 2006: 7, 2009: 5, 2012: 4, 2014: 9, 2017: 6, 2020: 4, 2023: 2, 2025: 6, 2028: 5,
    2031: 3, 2033: 11, 2036: 6, 2039: 5, 2042: 2, 2044: 7,
}  # fmt: skip


def _lunar_day(year: int, month: int, day: int) -> date:
    """Approximate Gregorian date of lunar (month, day) in ``year``: whole mean lunar months after the
    Spring Festival, one more when the year's leap month comes before ``month``."""
    months = month - 1 + (1 if LEAP_MONTH.get(year, 13) < month else 0)
    return SPRING_FESTIVAL[year] + timedelta(days=round(months * LUNAR_MONTH_DAYS) + day - 1)


def _with_bridge(day: date) -> list[date]:
    """A one-day festival closes a bridging day so that the holiday joins a weekend (Tue -> Mon too,
    Thu -> Fri too; one on a weekend moves to the Monday), as the State Council's schedules usually do."""
    if day.weekday() >= 5:
        return [day, day + timedelta(days=7 - day.weekday())]
    if day.weekday() == 1:
        return [day - timedelta(days=1), day]
    if day.weekday() == 3:
        return [day, day + timedelta(days=1)]
    return [day]


def _span(first: date, days: int) -> list[date]:
    return [first + timedelta(days=i) for i in range(days)]


@cache
def holidays(year: int) -> frozenset[date]:
    """Weekday-or-weekend dates on which the mainland exchanges are closed for a public holiday."""
    if year not in SPRING_FESTIVAL or year + 1 not in SPRING_FESTIVAL:
        raise ValueError(f"the sandbox calendar covers 2000-2044, not {year}")
    closed: list[date] = []
    closed += _with_bridge(date(year, 1, 1))
    # Spring Festival: New Year's Eve through the sixth day.
    spring = _span(SPRING_FESTIVAL[year] - timedelta(days=1), 7)
    if spring[-1].weekday() == 3:  # ends on a Thursday: the Friday is taken too
        spring.append(spring[-1] + timedelta(days=1))
    closed += spring
    closed += _span(date(year, 10, 1), 7)  # National Day golden week
    if year < 2008:
        closed += _span(date(year, 5, 1), 7)  # the old Labour Day golden week
    else:
        closed += _span(date(year, 5, 1), 5) if year >= 2020 else _with_bridge(date(year, 5, 1))
        qingming = date(year, 4, 4) if year % 4 in (0, 1) else date(year, 4, 5)
        closed += _with_bridge(qingming)
        closed += _with_bridge(_lunar_day(year, 5, 5))  # Dragon Boat
        mid_autumn = _lunar_day(year, 8, 15)
        if not date(year, 9, 28) <= mid_autumn <= date(year, 10, 8):  # else it merges into golden week
            closed += _with_bridge(mid_autumn)
        else:
            closed.append(mid_autumn)
    return frozenset(closed)


def is_trading_day(day: date) -> bool:
    """Whether the mainland exchanges are open on ``day``."""
    return day.weekday() < 5 and day not in holidays(day.year)


def last_trading_day_on_or_before(day: date) -> date:
    """The latest open day not after ``day``."""
    while not is_trading_day(day):
        day -= timedelta(days=1)
    return day


@dataclass(frozen=True)
class TradingCalendar:
    """Every calendar day from ``first`` to ``last`` with its open flag and previous open day."""

    first: date
    last: date
    days: np.ndarray  # datetime64[D], every calendar day
    is_open: np.ndarray  # bool, aligned with ``days``

    @classmethod
    def build(cls, first: date, last: date) -> TradingCalendar:
        """The calendar over ``[first, last]``."""
        days = np.arange(np.datetime64(first, "D"), np.datetime64(last, "D") + 1)
        weekday_open = np.is_busday(days)
        closed = np.array(
            sorted(d for y in range(first.year, last.year + 1) for d in holidays(y)), dtype="datetime64[D]"
        )
        is_open = weekday_open & ~np.isin(days, closed)
        return cls(first=first, last=last, days=days, is_open=is_open)

    def open_days(self, start: date | None = None, end: date | None = None) -> np.ndarray:
        """Open days (datetime64[D]) within ``[start, end]``."""
        mask = self.is_open.copy()
        if start is not None:
            mask &= self.days >= np.datetime64(start, "D")
        if end is not None:
            mask &= self.days <= np.datetime64(end, "D")
        return self.days[mask]

    def frame(self, exchanges: tuple[str, ...] = CALENDAR_EXCHANGES) -> pd.DataFrame:
        """``trade_cal`` rows for each exchange: exchange, cal_date, is_open (int), pretrade_date.

        ``pretrade_date`` is the open day before ``cal_date`` (for closed days too), None before the
        first open day of the calendar.
        """
        open_idx = np.flatnonzero(self.is_open)
        # For day i: the last open day strictly before i.
        prev_pos = np.searchsorted(open_idx, np.arange(len(self.days)), side="left") - 1
        pretrade = np.where(prev_pos >= 0, self.days[open_idx[np.maximum(prev_pos, 0)]], np.datetime64("NaT"))
        cal = yyyymmdd(self.days)
        pre = yyyymmdd(pretrade)
        is_open = self.is_open.astype(np.int64)
        parts = [
            pd.DataFrame(
                {
                    "exchange": pd.Series([ex] * len(cal), dtype=object),
                    "cal_date": pd.Series(cal, dtype=object),
                    "is_open": is_open,
                    "pretrade_date": pd.Series(pre, dtype=object),
                }
            )
            for ex in exchanges
        ]
        return pd.concat(parts, ignore_index=True)


_TEXT_FIRST = np.datetime64("1990-01-01", "D")
_TEXT_LAST = np.datetime64("2050-12-31", "D")


@cache
def _day_texts() -> np.ndarray:
    # Every day's 'YYYYMMDD' once, so converting any array of days is a single take.
    days = np.arange(_TEXT_FIRST, _TEXT_LAST + 1)
    return np.array([t.replace("-", "") for t in np.datetime_as_string(days, unit="D")], dtype=object)


def yyyymmdd(days: np.ndarray) -> np.ndarray:
    """datetime64[D] array -> object array of 'YYYYMMDD' strings (None for NaT); 1990-2050."""
    days = np.asarray(days, dtype="datetime64[D]")
    missing = np.isnat(days)
    pos = np.where(missing, 0, (days - _TEXT_FIRST).astype(np.int64))
    if (pos < 0).any() or (pos > (_TEXT_LAST - _TEXT_FIRST).astype(np.int64)).any():
        raise ValueError("the sandbox writes dates from 1990 to 2050 only")
    out = _day_texts()[pos]
    out[missing] = None
    return out
