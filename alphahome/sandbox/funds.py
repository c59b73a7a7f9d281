"""Funds: exchange-traded (ETF/LOF, market E) and over-the-counter (market O) funds with their daily net
asset values. NAVs follow the market factor by fund type; net assets are disclosed only at quarter ends
(null otherwise), as in the real data."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from alphahome.sandbox.trading_calendar import yyyymmdd

_MANAGERS = (
    "华夏基金",
    "易方达基金",
    "南方基金",
    "嘉实基金",
    "博时基金",
    "广发基金",
    "汇添富基金",
    "富国基金",
)
_CUSTODIANS = ("中国工商银行", "中国建设银行", "中国银行", "招商银行", "交通银行")


@dataclass(frozen=True)
class _Kind:
    market: str
    fund_type: str
    invest_type: str
    themes: tuple[str, ...]  # product names (after the manager's short name)
    benchmark: str
    beta: float
    drift: float
    m_fee: float
    c_fee: float


_KINDS = (
    _Kind("E", "股票型", "被动指数型", ("沪深300ETF", "中证500ETF", "上证50ETF", "中证1000ETF", "红利ETF"),
          "标的指数收益率", 1.0, 0.0, 0.5, 0.1),
    _Kind("E", "股票型", "被动指数型", ("创业板ETF", "科创50ETF", "半导体ETF", "医药ETF", "证券ETF"),
          "标的指数收益率", 1.3, 0.0, 0.5, 0.1),
    _Kind("E", "混合型", "偏股混合型", ("优选LOF", "价值LOF", "成长LOF"),
          "沪深300指数收益率*80%+中债总指数收益率*20%", 0.8, 0.0, 1.2, 0.2),
    _Kind("O", "混合型", "灵活配置型", ("稳健混合A", "稳健混合C", "价值精选混合A", "新兴产业混合A"),
          "沪深300指数收益率*50%+中债总指数收益率*50%", 0.5, 0.0001, 1.2, 0.2),
    _Kind("O", "债券型", "中长期纯债型", ("信用债A", "信用债C", "纯债A", "安心债A"),
          "中债综合指数收益率", 0.02, 0.00015, 0.3, 0.1),
    _Kind("O", "股票型", "普通股票型", ("成长精选", "消费升级股票A", "高端制造股票A"),
          "中证800指数收益率*90%+银行活期存款利率*10%", 1.1, 0.0, 1.5, 0.25),
)  # fmt: skip


def _fund_name(manager: str, kind: _Kind, taken: set[str]) -> str:
    """The manager's first unused product name of this kind (a numbered series when all are taken)."""
    stem = manager.removesuffix("基金")
    for series in range(1, 100):
        for theme in kind.themes:
            name = stem + theme + ("" if series == 1 else f"{series}号")
            if name not in taken:
                taken.add(name)
                return name
    raise RuntimeError("fund names exhausted")  # pragma: no cover


def build_funds(
    seed: int, n_funds: int, days: np.ndarray, open_days: np.ndarray, market_ret: np.ndarray
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(``fund_basic`` rows with every field, ``fund_nav`` rows) for ``n_funds`` funds over ``days``."""
    rng = np.random.default_rng([seed, 9])
    n_days = len(days)
    day_str = yyyymmdd(days)
    open_str = yyyymmdd(open_days)
    basic_rows, nav_parts = [], []
    taken: set[str] = set()
    names: set[str] = set()
    for f in range(n_funds):
        kind = _KINDS[f % len(_KINDS)]
        manager = _MANAGERS[int(rng.integers(len(_MANAGERS)))]
        code = _fund_code(rng, kind, taken)
        status = "L"
        if f % 11 == 5:
            status = "D"
        elif f % 13 == 7:
            status = "I"
        first = int(rng.integers(-400, n_days // 2))  # found before or inside the range
        last = n_days - 1
        delist = None
        if status == "D":
            last = int(rng.integers(max(first, 0) + 30, n_days - 5))
            delist = str(day_str[last + 1])
        if status == "I":
            first = n_days + 5
        found_pos = int(np.searchsorted(open_days, days[0])) + first
        found = str(open_str[min(max(found_pos, 0), len(open_str) - 1)])
        issue = str(open_str[min(max(found_pos - 20, 0), len(open_str) - 1)])
        listed = str(open_str[min(max(found_pos + 25, 0), len(open_str) - 1)]) if kind.market == "E" else None
        basic_rows.append(
            {
                "ts_code": code,
                "name": _fund_name(manager, kind, names),
                "management": manager,
                "custodian": _CUSTODIANS[int(rng.integers(len(_CUSTODIANS)))],
                "fund_type": kind.fund_type,
                "found_date": None if status == "I" else found,
                "due_date": delist,
                "list_date": None if status == "I" else listed,
                "issue_date": issue,
                "delist_date": delist,
                "issue_amount": float(np.round(rng.uniform(2.0, 80.0), 4)),
                "m_fee": kind.m_fee,
                "c_fee": kind.c_fee,
                "duration_year": None,
                "p_value": 1.0,
                "min_amount": 0.1 if kind.market == "E" else 0.001,
                "exp_return": None,
                "benchmark": kind.benchmark,
                "status": status,
                "invest_type": kind.invest_type,
                "type": "契约型开放式",
                "trustee": None,
                "purc_startdate": listed if kind.market == "E" else found,
                "redm_startdate": listed if kind.market == "E" else found,
                "market": kind.market,
            }
        )
        lo, hi = max(first, 0), last
        if lo <= hi:
            nav_parts.append(_nav(rng, code, kind, lo, hi, days, day_str, open_days, open_str, market_ret))
    basic = pd.DataFrame(basic_rows).astype(object)
    basic = basic.where(basic.notna(), None)
    for col in ("issue_amount", "m_fee", "c_fee", "duration_year", "p_value", "min_amount", "exp_return"):
        basic[col] = basic[col].astype(float)
    nav = pd.concat(nav_parts, ignore_index=True)
    return basic, revise_navs(np.random.default_rng([seed, 9, 1]), nav, open_str)


#: Share of NAVs the fund company later corrects (republished for the same nav_date).
NAV_REVISION_SHARE = 0.01


def revise_navs(rng: np.random.Generator, nav: pd.DataFrame, open_str: np.ndarray) -> pd.DataFrame:
    """``nav`` with about 1% of its NAVs corrected: each chosen NAV is republished 1-3 open days after its
    first announcement with the same ``nav_date``, a later ``ann_date`` and changed unit/accumulated/adjusted
    values. The correction carries ``update_flag`` '1' and the NAV it supersedes '0' (as Tushare flags
    revised statements); every other NAV '1'. Its own generator, so the NAVs themselves do not change."""
    revised = rng.random(len(nav)) < NAV_REVISION_SHARE
    out = nav.assign(update_flag=pd.Series(np.where(revised, "0", "1"), dtype=object, index=nav.index))
    first = out.loc[revised]
    if first.empty:
        return out
    known = np.asarray(open_str, dtype=str)
    pos = np.searchsorted(known, first["ann_date"].to_numpy(dtype=str))
    later = known[np.minimum(pos + rng.integers(1, 4, len(first)), len(known) - 1)]
    delta = rng.choice([-1.0, 1.0], len(first)) * rng.integers(1, 60, len(first)) / 10_000
    fix = first.assign(
        ann_date=pd.Series(later, dtype=object, index=first.index),
        unit_nav=np.round(first["unit_nav"] + delta, 4),
        accum_nav=np.round(first["accum_nav"] + delta, 4),
        adj_nav=np.round(first["adj_nav"] + delta, 4),
        update_flag="1",
    )
    # A correction must come after the first publication: the last open day known has nothing after it.
    fix = fix[fix["ann_date"] > first["ann_date"]]
    return pd.concat([out, fix], ignore_index=True).sort_values(
        ["ts_code", "nav_date", "ann_date"], kind="stable", ignore_index=True)


def _fund_code(rng: np.random.Generator, kind: _Kind, taken: set[str]) -> str:
    while True:
        if kind.market == "O":
            code = f"{int(rng.integers(1, 20000)):06d}.OF"
        elif kind.themes[0].endswith("LOF"):
            code = f"16{int(rng.integers(0, 10000)):04d}.SZ"
        elif rng.random() < 0.5:
            code = f"51{int(rng.integers(0, 10000)):04d}.SH"
        else:
            code = f"159{int(rng.integers(0, 1000)):03d}.SZ"
        if code not in taken:
            taken.add(code)
            return code


def _nav(
    rng: np.random.Generator,
    code: str,
    kind: _Kind,
    lo: int,
    hi: int,
    days: np.ndarray,
    day_str: np.ndarray,
    open_days: np.ndarray,
    open_str: np.ndarray,
    market_ret: np.ndarray,
) -> pd.DataFrame:
    count = hi - lo + 1
    ret = kind.drift + kind.beta * market_ret[lo : hi + 1] + rng.normal(0.0, 0.003 + 0.004 * kind.beta, count)
    unit = np.round(rng.uniform(0.8, 1.6) * np.exp(np.cumsum(ret)), 4)
    paid = np.round(rng.choice([0.0, 0.0, 0.05, 0.12]), 4)
    accum = np.round(unit + paid, 4)
    shares = rng.uniform(1e8, 5e9) * np.exp(np.cumsum(rng.normal(0.0, 0.004, count)))
    months = days[lo : hi + 1].astype("datetime64[M]")
    quarter_end = np.r_[months[1:] != months[:-1], False] & np.isin(months.astype(int) % 12, [2, 5, 8, 11])
    net_asset = np.where(quarter_end, np.round(shares * unit, 2), np.nan)
    ann_pos = np.minimum(np.searchsorted(open_days, days[lo : hi + 1], side="right"), len(open_days) - 1)
    return pd.DataFrame(
        {
            "ts_code": pd.Series([code] * count, dtype=object),
            "ann_date": pd.Series(open_str[ann_pos], dtype=object),
            "nav_date": pd.Series(day_str[lo : hi + 1], dtype=object),
            "unit_nav": unit,
            "accum_nav": accum,
            "accum_div": np.full(count, paid if paid > 0 else np.nan),
            "net_asset": net_asset,
            "total_netasset": np.round(net_asset * rng.uniform(1.0, 1.3), 2),
            "adj_nav": np.round(unit * (1.0 + paid / unit[0]), 4),
            "market": pd.Series([kind.market] * count, dtype=object),
        }
    )
