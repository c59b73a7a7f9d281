"""Market indices computed from their constituents: monthly constituent snapshots (``index_weight``,
weights by circulating market value) and a daily level chained from the cap-weighted returns of the
members (``index_daily``; vol and amount are the members' sums)."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from alphahome.sandbox import cell_noise
from alphahome.sandbox.prices import PricePanel
from alphahome.sandbox.sw2021 import classify_frame
from alphahome.sandbox.trading_calendar import yyyymmdd


@dataclass(frozen=True)
class IndexDef:
    """One index: its ``index_basic`` row and its constituent rule (a pool, a share of it, a cap)."""

    ts_code: str
    name: str
    fullname: str
    market: str
    publisher: str
    category: str
    base_date: str
    base_point: float
    list_date: str
    weight_rule: str
    desc: str
    pool: Callable[[pd.DataFrame], np.ndarray]  # stock_basic -> bool mask of eligible stocks
    share: float  # fraction of the eligible pool kept (by market value)
    cap: int  # the real index's constituent count
    level0: float  # level at the start of the range


def _exchange(ex: str) -> Callable[[pd.DataFrame], np.ndarray]:
    return lambda basic: (basic["exchange"] == ex).to_numpy()


def _board(market: str) -> Callable[[pd.DataFrame], np.ndarray]:
    return lambda basic: (basic["market"] == market).to_numpy()


def _all(basic: pd.DataFrame) -> np.ndarray:
    return (basic["exchange"] != "BSE").to_numpy()


_CAP_WEIGHTED = "流通市值加权"
INDICES: tuple[IndexDef, ...] = (
    IndexDef("000001.SH", "上证指数", "上海证券交易所综合股价指数", "SSE", "中证公司", "综合指数", "19901219", 100.0,
             "19910715", "总市值加权", "上交所全部上市股票", _exchange("SSE"), 1.0, 100000, 3100.0),
    IndexDef("000016.SH", "上证50", "上证50指数", "SSE", "中证公司", "规模指数", "20031231", 1000.0, "20040102",
             _CAP_WEIGHTED, "上交所规模大、流动性好的50只股票", _exchange("SSE"), 0.25, 50, 2600.0),
    IndexDef("000300.SH", "沪深300", "沪深300指数", "SSE", "中证公司", "规模指数", "20041231", 1000.0, "20050408",
             _CAP_WEIGHTED, "沪深两市规模大、流动性好的300只股票", _all, 0.3, 300, 3800.0),
    IndexDef("000905.SH", "中证500", "中证小盘500指数", "SSE", "中证公司", "规模指数", "20041231", 1000.0,
             "20070115", _CAP_WEIGHTED, "沪深300之外规模居前的500只股票", _all, 0.55, 800, 5600.0),
    IndexDef("000688.SH", "科创50", "上证科创板50成份指数", "SSE", "中证公司", "规模指数", "20191231", 1000.0,
             "20200723", _CAP_WEIGHTED, "科创板市值大、流动性好的50只证券", _board("科创板"), 0.5, 50, 1000.0),
    IndexDef("399001.SZ", "深证成指", "深证成份指数", "SZSE", "深交所", "规模指数", "19940720", 1000.0, "19950123",
             _CAP_WEIGHTED, "深交所规模大、流动性好的500只股票", _exchange("SZSE"), 0.5, 500, 10200.0),
    IndexDef("399006.SZ", "创业板指", "创业板指数", "SZSE", "深交所", "规模指数", "20100531", 1000.0, "20100601",
             _CAP_WEIGHTED, "创业板规模大、流动性好的100只股票", _board("创业板"), 0.5, 100, 2100.0),
    IndexDef("899050.BJ", "北证50", "北证50成份指数", "OTH", "北交所", "规模指数", "20220429", 1000.0, "20221121",
             _CAP_WEIGHTED, "北交所规模大、流动性好的50只股票", _exchange("BSE"), 0.6, 50, 1000.0),
    IndexDef("000852.SH", "中证1000", "中证1000指数", "SSE", "中证公司", "规模指数", "20041231", 1000.0, "20141017",
             _CAP_WEIGHTED, "中证800之外规模偏小的1000只股票", _all, 0.8, 1000, 6000.0),
    IndexDef("932000.CSI", "中证2000", "中证2000指数", "CSI", "中证公司", "规模指数", "20131231", 1000.0,
             "20230811", _CAP_WEIGHTED, "中证1000之外规模偏小的2000只股票", _all, 0.9, 2000, 2500.0),
)  # fmt: skip

_CATEGORY = {"L1": "一级行业指数", "L2": "二级行业指数", "L3": "三级行业指数"}


def index_basic_frame() -> pd.DataFrame:
    """``index_basic`` rows: the computed indices, then the Shenwan industry indices (no daily bars here:
    the real service serves those from ``sw_daily``)."""
    rows: list[list[Any]] = [
        [
            i.ts_code,
            i.name,
            i.fullname,
            i.market,
            i.publisher,
            "规模指数" if i.category == "规模指数" else "综合指数",
            i.category,
            i.base_date,
            i.base_point,
            i.list_date,
            i.weight_rule,
            i.desc,
            None,
        ]
        for i in INDICES
    ]
    for rec in classify_frame().itertuples(index=False):
        rows.append([rec.index_code, rec.industry_name, f"申万{rec.industry_name}指数", "SW", "申万研究",
                     "行业指数", _CATEGORY[str(rec.level)], "19991230", 1000.0, "20211213", "总市值加权",
                     f"申万2021{rec.industry_name}行业指数", None])  # fmt: skip
    cols = ["ts_code", "name", "fullname", "market", "publisher", "index_type", "category", "base_date",
            "base_point", "list_date", "weight_rule", "desc", "exp_date"]  # fmt: skip
    return pd.DataFrame(rows, columns=cols).astype({c: object for c in cols if c != "base_point"})


def snapshot_days(days: np.ndarray) -> np.ndarray:
    """Positions of the last open day of each month in ``days`` (the final, incomplete month excluded)."""
    months = days.astype("datetime64[M]")
    last_of_month = np.flatnonzero(months[1:] != months[:-1])
    return last_of_month


def _members(
    index: IndexDef, panel: PricePanel, basic: pd.DataFrame, day: int, pool: np.ndarray
) -> np.ndarray:
    listed = panel.listed(day)
    seasoned = ~panel.universe.is_ipo[listed] | (panel.universe.first_day[listed] <= day - 20)
    listed = listed[pool[listed] & seasoned]
    if len(listed) == 0:
        return listed
    mv = panel.close_cents[day, listed] * panel.params.shares0[listed]
    keep = min(index.cap, max(1, int(np.ceil(len(listed) * index.share))))
    if index.ts_code == "000905.SH":  # the next tier below the 300
        ranked = listed[np.argsort(-mv, kind="stable")]
        skip = int(np.ceil(len(listed) * 0.3))
        return np.sort(ranked[skip : skip + keep])
    return np.sort(listed[np.argsort(-mv, kind="stable")[:keep]])


@dataclass(frozen=True)
class Constituents:
    """Monthly constituent snapshots of every computed index."""

    snapshot_days: np.ndarray  # positions in the range's open days
    membership: tuple[np.ndarray, ...]  # per index (INDICES order): bool (snapshots, stocks)
    weights: pd.DataFrame  # index_weight rows


def build_constituents(panel: PricePanel, days: np.ndarray) -> Constituents:
    """Constituents and weights (by circulating value) at the last open day of each month."""
    basic = panel.universe.stock_basic
    n = len(panel.universe)
    snaps = snapshot_days(days)
    day_str = yyyymmdd(days)
    float_mv_weight = panel.params.shares0 * panel.params.float_ratio
    codes = panel.universe.codes
    cols: dict[str, list[np.ndarray]] = {"index_code": [], "con_code": [], "trade_date": [], "weight": []}
    memberships = []
    for index in INDICES:
        pool = index.pool(basic)
        membership = np.zeros((len(snaps), n), dtype=bool)
        for k, day in enumerate(snaps):
            members = _members(index, panel, basic, int(day), pool)
            membership[k, members] = True
            if len(members):
                circ = panel.close_cents[day, members] * float_mv_weight[members]
                cols["index_code"].append(np.full(len(members), index.ts_code, dtype=object))
                cols["con_code"].append(codes[members])
                cols["trade_date"].append(np.full(len(members), day_str[day], dtype=object))
                cols["weight"].append(np.round(circ / circ.sum() * 100.0, 4))
        memberships.append(membership)
    weights = pd.DataFrame(
        {
            name: pd.Series(
                np.concatenate(parts) if parts else np.zeros(0, dtype=object),
                dtype=np.float64 if name == "weight" else object,
            )
            for name, parts in cols.items()
        }
    )
    return Constituents(snapshot_days=snaps, membership=tuple(memberships), weights=weights)


def build_index_daily(
    seed: int, panel: PricePanel, constituents: Constituents, days: np.ndarray, agg: Aggregates | None = None
) -> pd.DataFrame:
    """``index_daily`` rows of every computed index (``agg``: the panel's :func:`aggregates`, when the
    caller already has them)."""
    agg = aggregates(panel) if agg is None else agg
    day_str = yyyymmdd(days)
    parts = [
        _index_daily(seed, number, index, panel, agg, constituents.membership[number], constituents.snapshot_days,
                     day_str)
        for number, index in enumerate(INDICES)
    ]  # fmt: skip
    return pd.concat(parts, ignore_index=True)


@dataclass(frozen=True)
class Aggregates:
    """Per (day, stock) float32 panels, zero where the stock did not trade: weight x return, weight
    (circulating value at the previous close), volume (lots) and amount (thousand CNY)."""

    weighted_return: np.ndarray
    weight: np.ndarray
    volume: np.ndarray
    amount: np.ndarray


def aggregates(panel: PricePanel) -> Aggregates:
    """The :class:`Aggregates` panels of every traded cell (index and board bars sum them)."""
    shape = (panel.n_days, len(panel.universe))
    out = Aggregates(*(np.zeros(shape, dtype=np.float32) for _ in range(4)))
    float_shares = panel.params.shares0 * panel.params.float_ratio
    for lo in range(0, panel.n_days, 250):  # day chunks bound the temporaries
        d, s = panel.cells(None, lo, lo + 249, with_suspended=False)
        close, pre = panel.closes(d, s)
        weight = pre * float_shares[s]
        vol = panel.volume(d, s)
        out.weighted_return[d, s] = weight * (close / pre - 1.0)
        out.weight[d, s] = weight
        out.volume[d, s] = vol
        out.amount[d, s] = vol * close / 10.0
    return out


def _index_daily(
    seed: int,
    number: int,
    index: IndexDef,
    panel: PricePanel,
    agg: Aggregates,
    membership: np.ndarray,
    snaps: np.ndarray,
    day_str: np.ndarray,
) -> pd.DataFrame:
    n_days = panel.n_days
    if len(snaps) == 0:
        return pd.DataFrame()
    # Members on day t: those of the latest snapshot before t (the first snapshot's before it).
    period = np.clip(np.searchsorted(snaps, np.arange(n_days), side="left") - 1, 0, len(snaps) - 1)
    sums = np.zeros((4, n_days))
    bounds = np.r_[0, np.flatnonzero(np.diff(period)) + 1, n_days]
    for lo, hi in itertools.pairwise(bounds):
        cols = np.flatnonzero(membership[period[lo]])
        for k, values in enumerate((agg.weighted_return, agg.weight, agg.volume, agg.amount)):
            sums[k, lo:hi] = values[lo:hi][:, cols].sum(axis=1, dtype=np.float64)
    ret = np.divide(sums[0], sums[1], out=np.zeros(n_days), where=sums[1] > 0)
    vol, amount = sums[2], sums[3]
    level = index.level0 * np.cumprod(1.0 + ret)
    pre_level = np.r_[index.level0, level[:-1]]
    key = cell_noise.stream_key(seed, f"index-{number}")
    days_idx = np.arange(n_days)
    open_ = pre_level * (1.0 + 0.3 * ret + 0.002 * cell_noise.normal(key, 0, days_idx))
    high = np.maximum(open_, level) * (1.0 + np.abs(0.004 * cell_noise.normal(key, 1, days_idx)))
    low = np.minimum(open_, level) * (1.0 - np.abs(0.004 * cell_noise.normal(key, 2, days_idx)))
    close_r, pre_r = np.round(level, 4), np.round(pre_level, 4)
    return pd.DataFrame(
        {
            "ts_code": pd.Series([index.ts_code] * n_days, dtype=object),
            "trade_date": pd.Series(day_str, dtype=object),
            "close": close_r,
            "open": np.round(open_, 4),
            "high": np.round(high, 4),
            "low": np.round(low, 4),
            "pre_close": pre_r,
            "change": np.round(close_r - pre_r, 4),
            "pct_chg": np.round((close_r / pre_r - 1.0) * 100.0, 4),
            "vol": np.round(vol, 2),
            "amount": np.round(amount, 3),
        }
    )
