"""Long-tail sandbox tables with real structure, checked on what the APIs serve: macro series at plausible
levels with consistent columns, ETF bars tracking their NAVs, convertible bonds above their bond floor and
conversion value, board memberships stable over time, and board bars following their members."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
from conftest import SANDBOX_END

from alphahome.sandbox.market import Market


@pytest.fixture(scope="module")
def market() -> Market:
    return Market(seed=42, scale="demo", end_date=SANDBOX_END)


def served(sandbox: Market, api: str, **params: Any) -> pd.DataFrame:
    """The rows ``api`` answers for ``params`` (what the server pages and encodes)."""
    return sandbox.apis[api].query(sandbox, {k: str(v) for k, v in params.items()})


def days(market: Market) -> list[str]:
    return [str(d) for d in market.day_text]


# ----- macro ----------------------------------------------------------------------------------------------
def test_money_market_rates_rise_with_tenor(market: Market) -> None:
    for api, tenors, band in (("shibor", ["on", "1w", "2w", "1m", "3m", "6m", "9m", "1y"], (1.0, 3.0)),
                              ("hibor", ["on", "1w", "2w", "1m", "2m", "3m", "6m", "12m"], (0.5, 5.0))):  # fmt: skip
        rows = served(market, api, start_date=days(market)[0], end_date=days(market)[-1]).sort_values("date")
        assert len(rows) == len(market.day_text)
        rates = rows[tenors].to_numpy()
        assert (np.diff(rates, axis=1) > 0).all(), f"{api}: a longer tenor below a shorter one"
        assert band[0] <= rates[:, 0].min() and rates[:, 0].max() <= band[1]
        assert rates[:, -1].max() < band[1] + 1.5
        assert np.abs(np.diff(rates[:, 0])).max() < 0.5, f"{api}: the overnight rate jumps"


def test_government_curve_rises_with_term(market: Market) -> None:
    day = days(market)[len(market.day_text) // 2]
    assert set(served(market, "yc_cb", trade_date=day)["curve_type"]) == {"0"}  # Tushare's default type
    for curve_type in ("0", "1"):
        curve = served(market, "yc_cb", ts_code="1001.CB", trade_date=day, curve_type=curve_type)
        curve = curve.sort_values("curve_term")
        assert len(curve) >= 10 and (np.diff(curve["yield"].to_numpy()) > 0).all()
        assert 0.3 < curve["yield"].min() and curve["yield"].max() < 4.0
    long_end = served(market, "yc_cb", curve_type="0", curve_term="10.0").sort_values("trade_date")["yield"]
    assert len(long_end) == len(market.day_text) and np.abs(np.diff(long_end.to_numpy())).max() < 0.1


def test_cpi_and_ppi_columns_agree(market: Market) -> None:
    cpi = served(market, "cn_cpi").sort_values("month").reset_index(drop=True)
    assert len(cpi) >= 30
    for prefix in ("nt", "town", "cnt"):
        assert np.allclose(cpi[f"{prefix}_val"], 100 + cpi[f"{prefix}_yoy"], atol=0.051)
        assert cpi[f"{prefix}_yoy"].between(-1.5, 3.5).all() and cpi[f"{prefix}_mom"].abs().max() < 1.5
        # twelve months of mom compound to the yoy (each mom rounded to 0.1)
        compounded = (1 + cpi[f"{prefix}_mom"] / 100).rolling(12).apply(np.prod, raw=True).sub(1).mul(100)
        assert (compounded - cpi[f"{prefix}_yoy"]).dropna().abs().max() < 0.7
    january = cpi["month"].str.endswith("01")
    assert np.allclose(cpi.loc[january, "nt_accu"], cpi.loc[january, "nt_val"], atol=0.051)
    ppi = served(market, "cn_ppi").sort_values("month")
    assert ppi["ppi_yoy"].between(-6, 6).all() and ppi["ppi_mom"].abs().max() < 1.5
    january = ppi["month"].str.endswith("01")
    assert np.allclose(ppi.loc[january, "ppi_accu"], ppi.loc[january, "ppi_yoy"], atol=0.051)
    # the total lies between its two groups
    low = np.minimum(ppi["ppi_mp_yoy"], ppi["ppi_cg_yoy"]) - 0.11
    high = np.maximum(ppi["ppi_mp_yoy"], ppi["ppi_cg_yoy"]) + 0.11
    assert ppi["ppi_yoy"].between(low, high).all()


def test_pmi_money_and_social_financing(market: Market) -> None:
    pmi = served(market, "cn_pmi")
    assert pmi["pmi010000"].between(48, 52).all()
    assert pmi.drop(columns="month").stack().between(40, 60).all()
    money = served(market, "cn_m").sort_values("month").reset_index(drop=True)
    assert (money["m2"] > money["m1"]).all() and (money["m1"] > money["m0"]).all()
    assert money["m2"].between(1e6, 6e6).all() and money["m2_yoy"].between(7.5, 12.5).all()
    for m in ("m0", "m1", "m2"):
        yoy = (money[m] / money[m].shift(12) - 1) * 100
        mom = (money[m] / money[m].shift(1) - 1) * 100
        assert (yoy - money[f"{m}_yoy"]).dropna().abs().max() < 0.01
        assert (mom - money[f"{m}_mom"]).dropna().abs().max() < 0.01
    sf = served(market, "sf_month").sort_values("month").reset_index(drop=True)
    year = sf["month"].str[:4]
    ytd = sf.groupby(year)["inc_month"].cumsum()
    complete = year != year.iloc[0]  # the first year starts mid-year in the served range
    assert np.allclose(sf.loc[complete, "inc_cumval"], ytd[complete], atol=0.02)
    assert np.allclose(sf["stk_endval"].diff().iloc[1:], sf["inc_month"].iloc[1:] / 1e4, atol=0.011)
    # a month's window filter
    one = served(market, "cn_m", m=money["month"].iloc[5])
    assert list(one["month"]) == [money["month"].iloc[5]]


# ----- funds and convertible bonds --------------------------------------------------------------------------
def test_etf_closes_track_their_nav(market: Market) -> None:
    bars = served(market, "fund_daily", start_date=days(market)[0], end_date=days(market)[-1])
    codes = sorted(set(bars["ts_code"]))
    assert len(codes) >= 5
    basic = served(market, "fund_basic", market="E").set_index("ts_code")
    for code in codes:
        mine = served(market, "fund_daily", ts_code=code)
        nav = served(market, "fund_nav", ts_code=code)
        # the latest announced NAV of each day (a revised NAV replaces the first)
        nav = nav.sort_values(["nav_date", "ann_date"]).drop_duplicates("nav_date", keep="last")
        joined = mine.merge(nav, left_on="trade_date", right_on="nav_date")
        assert len(joined) == len(mine), f"{code}: a bar on a day without a NAV"
        assert (abs(joined["close"] / joined["unit_nav"] - 1) <= 0.011).all(), code
        assert (mine["trade_date"] >= basic.loc[code, "list_date"]).all()
        ordered = mine.sort_values("trade_date")
        assert np.allclose(ordered["pre_close"].iloc[1:], ordered["close"].iloc[:-1])
        assert ((ordered["low"] <= ordered[["open", "close"]].min(axis=1))
                & (ordered[["open", "close"]].max(axis=1) <= ordered["high"])).all()  # fmt: skip
        adj = served(market, "fund_adj", ts_code=code).merge(nav, left_on="trade_date", right_on="nav_date")
        assert len(adj) == len(mine)
        assert (abs(adj["adj_factor"] * adj["unit_nav"] / adj["adj_nav"] - 1) < 0.003).all(), code


def test_convertible_bonds_follow_their_stock(market: Market) -> None:
    basic = served(market, "cb_basic")
    assert len(basic) >= 10 and (basic["par"] == 100).all()
    checked = 0
    for bond in basic.itertuples():
        bars = served(market, "cb_daily", ts_code=bond.ts_code)
        if bars.empty:
            continue
        stock = served(market, "daily", ts_code=bond.stk_code)[["trade_date", "close"]]
        joined = bars.merge(stock, on="trade_date", suffixes=("", "_stock"))
        assert len(joined) == len(bars), f"{bond.ts_code} trades on a day its stock does not"
        conversion = 100 / bond.conv_price * joined["close_stock"]
        assert np.allclose(joined["cb_value"], conversion, atol=1e-3)
        assert (joined["close"] >= conversion - 0.01).all(), bond.ts_code
        assert (joined["close"] >= joined["bond_value"] - 0.001).all(), bond.ts_code
        assert joined["bond_value"].between(90, 120).all()
        assert (bars["trade_date"] >= bond.list_date).all() and (bars["trade_date"] < bond.maturity_date).all()
        premium = (joined["close"] / joined[["bond_value"]].join(conversion.rename("cv")).max(axis=1) - 1)
        assert premium.between(0, 0.2).all()
        checked += 1
    assert checked >= 10


# ----- boards ----------------------------------------------------------------------------------------------
def _members(intervals: pd.DataFrame, day: str, board: str, code: str = "ts_code") -> set[str]:
    rows = intervals[intervals[code] == board]
    live = (rows["in_date"] <= day) & (rows["out_date"].isna() | (rows["out_date"] > day))
    return set(rows.loc[live, "con_code"])


def test_board_memberships_are_stable(market: Market) -> None:
    members = served(market, "ths_member")
    index = served(market, "ths_index").set_index("ts_code")
    current = members[members["is_new"] == "Y"].groupby("ts_code").size()
    assert current.between(10, 300).all() and current.max() >= 30
    assert (index.loc[current.index, "count"] == current).all()
    closed = members[members["out_date"].notna()]
    assert (closed["out_date"] > closed["in_date"]).all() and (closed["is_new"] == "N").all()
    assert not closed.empty and len(closed) < 0.15 * len(members)
    first, later = days(market)[100], days(market)[140]
    for board in current.index:
        a, b = _members(members, first, board), _members(members, later, board)
        assert len(a & b) >= 0.8 * max(len(a), len(b)), board
    for api, low, high in (("dc_member", 10, 150), ("kpl_concept_cons", 8, 80)):
        d1, d2 = days(market)[-60], days(market)[-20]
        one, two = served(market, api, trade_date=d1), served(market, api, trade_date=d2)
        sizes = one.groupby("ts_code").size()
        assert sizes.between(low, high).all() and len(sizes) >= 20
        for board, rows in one.groupby("ts_code"):
            a, b = set(rows["con_code"]), set(two.loc[two["ts_code"] == board, "con_code"])
            assert len(a & b) >= 0.8 * max(len(a), len(b)), (api, board)
        assert one.duplicated(["ts_code", "con_code"]).sum() == 0


def _daily_returns(market: Market, day: str) -> pd.Series:
    daily = served(market, "daily", trade_date=day)
    return pd.Series((daily["close"] / daily["pre_close"] - 1).to_numpy() * 100, index=daily["ts_code"])


def test_board_bars_follow_their_members(market: Market) -> None:
    day = days(market)[-30]
    returns = _daily_returns(market, day)
    index_member = served(market, "index_member")
    ci = pd.concat([served(market, "ci_index_member", is_new=flag) for flag in ("Y", "N")])
    ci = ci.rename(columns={"ts_code": "con_code"})
    ths = served(market, "ths_member")
    dc = served(market, "dc_member", trade_date=day)
    sources = {
        "ths_daily": lambda b: _members(ths, day, b),
        "dc_daily": lambda b: set(dc.loc[dc["ts_code"] == b, "con_code"]),
        "sw_daily": lambda b: _members(index_member, day, b, "index_code"),
        "ci_daily": lambda b: _members(ci, day, b, "l1_code"),
    }
    for api, members_of in sources.items():
        bars = served(market, api, trade_date=day)
        assert len(bars) >= 20, api
        for bar in bars.itertuples():
            traded = [r for c in members_of(bar.ts_code) if (r := returns.get(c)) is not None]
            assert traded, (api, bar.ts_code)
            assert abs(bar.pct_change - float(np.mean(traded))) < 1e-3, (api, bar.ts_code)
    # the level chains: today's pre_close is yesterday's close
    for api in ("ths_daily", "ci_daily"):
        code = served(market, api, trade_date=day)["ts_code"].iloc[0]
        bars = served(market, api, ts_code=code).sort_values("trade_date")
        if "pre_close" in bars:
            assert np.allclose(bars["pre_close"].iloc[1:], bars["close"].iloc[:-1])
        close, pct = bars["close"].to_numpy(), bars["pct_change"].to_numpy()
        assert np.allclose(close[1:], close[:-1] * (1 + pct[1:] / 100), rtol=1e-5)
    sw = served(market, "sw_daily", start_date=days(market)[0], end_date=day)
    assert sw["pe"].between(5, 100).all() and sw["pb"].between(0.4, 12).all()
    stats = served(market, "dc_index", trade_date=day).set_index("ts_code")
    dc_bars = served(market, "dc_daily", trade_date=day).set_index("ts_code")
    assert np.allclose(stats.loc[dc_bars.index, "pct_change"], dc_bars["pct_change"])
    for board in stats.index[:5]:
        mine = returns.reindex(sorted(set(dc.loc[dc["ts_code"] == board, "con_code"]))).dropna()
        assert stats.loc[board, "up_num"] == (mine > 0).sum() and stats.loc[board, "down_num"] == (mine < 0).sum()
        assert abs(stats.loc[board, "leading_pct"] - mine.max()) < 1e-3
        assert mine[stats.loc[board, "leading_code"]] == mine.max()
