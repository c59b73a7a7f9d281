"""Bars tied to what they trade on: exchange-traded fund bars follow their net asset value, convertible bond
bars follow their underlying stock.

- ``fund_daily``: an ETF/LOF trades at its unit NAV (``fund_nav``, the same day) times a small premium or
  discount (an AR(1) path inside +-1 %), on the days with a NAV from the fund's listing on; ``pre_close`` is
  the previous row's close. ``fund_adj.adj_factor`` is the NAV's own adjustment (``adj_nav / unit_nav``),
  held constant until it moves by more than rounding (so it steps only at distributions).
- ``cb_basic`` / ``cb_daily``: each bond converts into ``stk_code`` at ``conv_price`` (set near the stock's
  price when the bond was issued); its price is a smooth maximum of the bond floor (redemption and coupons
  discounted at a slowly moving rate, about 95-110) and the conversion value ``100 / conv_price x close``
  of the stock's ``daily`` close, plus a small premium, so it is never below either; the bond trades on the
  days its stock trades, from listing to maturity. ``bond_value``/``cb_value`` and the premium rates
  (``*_over_rate``, %) are those numbers.

Both generators draw from ``(seed, api)``-seeded generators and are deterministic.
"""

from __future__ import annotations

import zlib

import numpy as np
import pandas as pd

#: Bars' columns a tied table overrides in a generated frame with the same key.
BAR_COLUMNS = ("open", "high", "low", "close", "pre_close", "change", "pct_chg", "pct_change", "vol", "amount")


def _rng(seed: int, name: str) -> np.random.Generator:
    return np.random.default_rng([seed, zlib.crc32(f"tied:{name}".encode())])


def _starts(codes: np.ndarray) -> np.ndarray:
    """True on the first row of each code (rows grouped by code)."""
    return np.r_[True, codes[1:] != codes[:-1]] if len(codes) else np.zeros(0, dtype=bool)


def _layout(first: np.ndarray) -> tuple[np.ndarray, np.ndarray, int, int]:
    """(group, position in group, groups, longest group) of rows grouped where ``first`` starts a group:
    a recursion along each group then runs as one loop over positions, vectorised across groups."""
    group = np.cumsum(first) - 1
    starts = np.flatnonzero(first)
    position = np.arange(len(first)) - starts[group] if len(first) else group
    longest = int(position.max()) + 1 if len(first) else 0
    return group, position, len(starts), longest


def _grouped_ar1(rng: np.random.Generator, first: np.ndarray, sd: float, phi: float, bound: float) -> np.ndarray:
    """An AR(1) path per group (restarting where ``first``), inside ``[-bound, bound]``."""
    shocks = rng.normal(0.0, sd * np.sqrt(1.0 - phi * phi), len(first))
    group, position, groups, longest = _layout(first)
    grid = np.zeros((groups, longest))
    grid[group, position] = shocks
    x = np.clip(grid[:, 0] / np.sqrt(1.0 - phi * phi), -bound, bound)
    grid[:, 0] = x
    for t in range(1, longest):
        x = np.clip(phi * x + grid[:, t], -bound, bound)
        grid[:, t] = x
    return grid[group, position]


def _ohlc(
    rng: np.random.Generator, close: np.ndarray, first: np.ndarray, digits: int
) -> dict[str, np.ndarray]:
    """open/high/low/pre_close/change/pct around a close path (rows grouped by entity, in date order)."""
    n = len(close)
    pre = np.r_[np.nan, close[:-1]]
    pre = np.where(first, np.round(close / (1.0 + rng.normal(0.0, 0.008, n)), digits), pre)
    ret = close / pre - 1.0
    open_ = np.round(pre * (1.0 + 0.3 * ret + rng.normal(0.0, 0.002, n)), digits)
    high = np.round(np.maximum(open_, close) * (1.0 + np.abs(rng.normal(0.0, 0.003, n))), digits)
    low = np.round(np.minimum(open_, close) * (1.0 - np.abs(rng.normal(0.0, 0.003, n))), digits)
    change = np.round(close - pre, digits)
    pct = np.round(change / pre * 100.0, 4)
    return {"open": open_, "high": high, "low": low, "close": close, "pre_close": pre, "change": change,
            "pct_chg": pct, "pct_change": pct}  # fmt: skip


def latest_nav(nav: pd.DataFrame) -> pd.DataFrame:
    """One NAV row per (fund, day), the latest announced, sorted by fund then day."""
    ordered = nav.sort_values(["ts_code", "nav_date", "ann_date"], kind="stable", na_position="first")
    return ordered.drop_duplicates(["ts_code", "nav_date"], keep="last").reset_index(drop=True)


def fund_bars(seed: int, nav: pd.DataFrame, list_dates: dict[str, str | None], days: np.ndarray) -> pd.DataFrame:
    """``fund_daily`` rows (ts_code, trade_date, bars; prices 3 decimals, vol lots, amount 10^3 CNY) of the
    funds of ``list_dates`` from ``nav`` (fund_nav rows), on their NAV days in ``days`` from listing on."""
    rows = latest_nav(nav[nav["ts_code"].isin(list(list_dates))])
    rows = rows[np.isfinite(rows["unit_nav"].to_numpy(dtype=float)) & (rows["unit_nav"] > 0)]
    listed = rows["ts_code"].map(lambda c: list_dates[c] or "99999999").to_numpy(dtype=object)
    keep = (rows["nav_date"].to_numpy(dtype=object) >= listed) & rows["nav_date"].isin(set(days)).to_numpy()
    rows = rows[keep].reset_index(drop=True)
    rng = _rng(seed, "fund_daily")
    codes = rows["ts_code"].to_numpy(dtype=object)
    first = _starts(codes)
    premium = _grouped_ar1(rng, first, 0.003, 0.7, 0.01)
    close = np.round(rows["unit_nav"].to_numpy(dtype=float) * (1.0 + premium), 3)
    out = _ohlc(rng, close, first, 3)
    vol = np.round(rng.lognormal(11.0, 0.8, len(rows)), 2)
    vwap = (out["open"] + out["high"] + out["low"] + 2.0 * close) / 5.0
    frame = pd.DataFrame({"ts_code": codes, "trade_date": rows["nav_date"].to_numpy(dtype=object), **out})
    frame["vol"] = vol
    frame["amount"] = np.round(vol * vwap / 10.0, 3)
    frame["_adj"] = _adj_factor(rows, first)
    return frame


def _adj_factor(rows: pd.DataFrame, first: np.ndarray) -> np.ndarray:
    """``adj_nav / unit_nav``, held until it moves by more than 0.2 % (the NAVs are rounded to 4 decimals,
    so the raw ratio jitters)."""
    ratio = rows["adj_nav"].to_numpy(dtype=float) / rows["unit_nav"].to_numpy(dtype=float)
    group, position, groups, longest = _layout(first)
    grid = np.full((groups, longest), np.nan)
    grid[group, position] = ratio
    held = np.where(np.isfinite(grid[:, 0]) & (grid[:, 0] > 0), np.round(grid[:, 0], 4), 1.0)
    grid[:, 0] = held
    for t in range(1, longest):
        r = grid[:, t]
        moved = np.isfinite(r) & (r > 0) & (np.abs(r / held - 1.0) > 0.002)
        held = np.where(moved, np.round(r, 4), held)
        grid[:, t] = held
    return grid[group, position]


# ----- convertible bonds ---------------------------------------------------------------------------------
def _plus_days(day: str, offset: int) -> str:
    return (pd.Timestamp(day) + pd.Timedelta(days=offset)).strftime("%Y%m%d")


def cb_terms(
    seed: int, codes: tuple[str, ...], stk_codes: tuple[str, ...], daily: pd.DataFrame, days: np.ndarray
) -> pd.DataFrame:
    """The terms of each bond (one row per code): value/list/maturity dates, conversion window,
    conversion price (the stock's close around issue times 0.95-1.3), coupons, redemption price, size."""
    rng = _rng(seed, "cb_basic")
    first_day, last_day = str(days[0]), str(days[-1])
    closes = daily.sort_values(["ts_code", "trade_date"], kind="stable")
    by_stock = {str(code): rows for code, rows in closes.groupby("ts_code", sort=False)}
    empty = closes.iloc[:0]
    rows = []
    for code, stock in zip(codes, stk_codes, strict=True):
        mine = by_stock.get(stock, empty)
        value_date = _plus_days(first_day, -int(rng.integers(30, 700)))
        if len(mine) and str(mine["trade_date"].iloc[0]) > first_day:  # a stock listed inside the range
            value_date = min(_plus_days(str(mine["trade_date"].iloc[0]), 120), _plus_days(last_day, -90))
        list_date = _plus_days(value_date, int(rng.integers(20, 45)))
        maturity_date = _plus_days(value_date, 6 * 365)
        after = mine[mine["trade_date"] >= value_date]
        ref = float(after["close"].iloc[0]) if len(after) else (float(mine["close"].iloc[0]) if len(mine) else 10.0)
        first_conv = round(ref * float(rng.uniform(0.95, 1.3)), 2)
        reset = rng.random() < 0.2  # a downward reset of the conversion price
        conv = round(first_conv * float(rng.uniform(0.8, 0.95)), 2) if reset else first_conv
        size = round(float(rng.uniform(3.0, 50.0)) * 1e8, 2)
        rows.append(
            {
                "ts_code": code,
                "stk_code": stock,
                "value_date": value_date,
                "list_date": list_date,
                "maturity_date": maturity_date,
                "delist_date": maturity_date if maturity_date <= last_day else None,
                "conv_start_date": _plus_days(value_date, 183),
                "conv_end_date": _plus_days(maturity_date, -1),
                "first_conv_price": first_conv,
                "conv_price": conv,
                "coupon_rate": round(float(rng.uniform(0.2, 0.5)), 2),
                "maturity_put_price": round(float(rng.uniform(106.0, 115.0)), 2),
                "issue_size": size,
                "remain_size": round(size * float(rng.uniform(0.3, 1.0)), 2),
            }
        )
    return pd.DataFrame(rows)


def cb_bars(seed: int, terms: pd.DataFrame, daily: pd.DataFrame) -> pd.DataFrame:
    """``cb_daily`` rows: for each bond of ``terms``, the days its stock has a ``daily`` row from listing
    to maturity; close = softmax(bond floor, conversion value) x (1 + premium)."""
    rng = _rng(seed, "cb_daily")
    cells = daily[["ts_code", "trade_date", "close"]].rename(columns={"ts_code": "stk_code", "close": "_stock"})
    frame = terms.merge(cells, on="stk_code", how="inner")
    frame = frame[(frame["trade_date"] >= frame["list_date"]) & (frame["trade_date"] < frame["maturity_date"])]
    frame = frame.sort_values(["ts_code", "trade_date"], kind="stable").reset_index(drop=True)
    n = len(frame)
    codes = frame["ts_code"].to_numpy(dtype=object)
    first = _starts(codes)
    bond = np.cumsum(first) - 1
    n_bonds = int(bond[-1]) + 1 if n else 0
    # yield to discount the bond's remaining cash flows: a per-bond level and a slow common move
    rate = (rng.uniform(0.022, 0.034, n_bonds)[bond] + _grouped_ar1(rng, first, 0.003, 0.995, 0.008))
    day = pd.to_datetime(frame["trade_date"], format="%Y%m%d")
    maturity = pd.to_datetime(frame["maturity_date"], format="%Y%m%d")
    years = np.maximum((maturity - day).dt.days.to_numpy() / 365.25, 0.0)
    discount = (1.0 + rate) ** -years
    coupons = 1.0 * (1.0 - discount) / rate  # about 1 per year still to come (the rising coupons' mean)
    floor = frame["maturity_put_price"].to_numpy(dtype=float) * discount + coupons
    conversion = 100.0 / frame["conv_price"].to_numpy(dtype=float) * frame["_stock"].to_numpy(dtype=float)
    soft = 6.0 * np.logaddexp(floor / 6.0, conversion / 6.0)
    premium = rng.uniform(0.005, 0.03, n_bonds)[bond] + 0.01 * rng.random(n)
    close = np.round(soft * (1.0 + premium), 3)
    out = _ohlc(rng, close, first, 3)
    vol = np.round(rng.lognormal(9.0, 1.0, n), 2)
    vwap = (out["open"] + out["high"] + out["low"] + 2.0 * close) / 5.0
    result = pd.DataFrame({"ts_code": codes, "trade_date": frame["trade_date"].to_numpy(dtype=object), **out})
    result["vol"] = vol
    result["amount"] = np.round(vol * 10.0 * vwap / 1e4, 4)  # lots of 10 bonds, 10^4 CNY
    result["bond_value"] = np.round(floor, 4)
    result["bond_over_rate"] = np.round((close / floor - 1.0) * 100.0, 4)
    result["cb_value"] = np.round(conversion, 4)
    result["cb_over_rate"] = np.round((close / conversion - 1.0) * 100.0, 4)
    return result
