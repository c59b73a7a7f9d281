"""The synthetic market of the sandbox: determinism, the consistency rules of the market data, and the
catalogue (every API of the reference, documented fields only, filters and defaults honoured)."""

from __future__ import annotations

import itertools
import re
import subprocess
import sys
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

import numpy as np
import pandas as pd
import pytest

from alphahome.sandbox.catalog import TableQuery
from alphahome.sandbox.market import Market
from alphahome.sandbox.queries import Filter
from alphahome.sandbox.trading_calendar import SPRING_FESTIVAL, last_trading_day_on_or_before
from alphahome.sources.tushare.interfaces import INTERFACES, interface

END = date(2025, 6, 30)

#: Reference §4 (shared/reference/tushare_api.md): every endpoint the sandbox must serve.
# The APIs modelled by hand; every other API of the interface table is served by the long-tail generator.
REFERENCE_APIS = {
    "stock_basic", "trade_cal", "daily", "adj_factor", "daily_basic", "moneyflow", "stk_limit", "suspend_d",
    "income", "balancesheet", "cashflow", "fina_indicator", "forecast", "express", "dividend", "index_basic",
    "index_daily", "index_weight", "index_classify", "index_member", "index_member_all", "fund_basic", "fund_nav",
}  # fmt: skip
VIP_APIS = {
    f"{name}_vip" for name in ("income", "balancesheet", "cashflow", "fina_indicator", "forecast", "express")
}


@pytest.fixture(scope="module")
def market() -> Market:
    return Market(seed=42, scale="small", end_date=END)


def _round2(value: Decimal) -> float:
    return float(value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def _dec(x: float) -> Decimal:
    return Decimal(repr(float(x)))


# ----- construction and determinism ------------------------------------------------------------------------
def test_scales_and_dates() -> None:
    small = Market(seed=1, scale="small", end_date=END)
    assert len(small.universe) == 24
    assert small.end_date == END  # a Monday, open
    assert date(2023, 6, 29) <= small.start_date <= date(2023, 7, 5)
    demo = Market(seed=1, scale="demo", end_date=END)
    assert len(demo.universe) == 300 and demo.start_date.year == 2022
    large = Market(seed=1, scale="large", end_date=END)  # lazy: nothing generated yet
    assert (large.end_date - large.start_date).days >= 365 * 10 - 5
    assert list(small.universe.columns) == [
        "ts_code", "name", "exchange", "market", "list_date", "delist_date", "list_status", "comp_type",
    ]  # fmt: skip


def test_default_end_date_is_last_trading_day_up_to_today() -> None:
    before = date.today()
    m = Market()
    after = date.today()  # the default is the day of construction: either side of a midnight
    assert m.end_date in {last_trading_day_on_or_before(before), last_trading_day_on_or_before(after)}
    assert m.end_date <= after and m.end_date.weekday() < 5
    snapped = Market(end_date=date(2025, 6, 29))  # a Sunday
    assert snapped.end_date == date(2025, 6, 27)


def test_bad_arguments_are_named() -> None:
    with pytest.raises(ValueError, match="unknown scale 'huge'"):
        Market(scale="huge")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="outside the sandbox calendar"):
        Market(end_date=date(2001, 1, 5))
    with pytest.raises(ValueError, match="seed"):
        Market(seed=-1)
    with pytest.raises(KeyError, match="unknown dataset"):
        Market().truth("no_such_api")


def test_same_arguments_same_data(market: Market) -> None:
    again = Market(seed=42, scale="small", end_date=END)
    for name in market.apis:
        pd.testing.assert_frame_equal(market.truth(name), again.truth(name), obj=name)
    other = Market(seed=43, scale="small", end_date=END)
    assert not market.truth("daily").equals(other.truth("daily"))


def test_same_data_in_another_process(market: Market) -> None:
    code = (
        "import datetime; from alphahome.sandbox.market import Market;"
        "print(Market(seed=42, scale='small', end_date=datetime.date(2025, 6, 30)).fingerprint())"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    assert re.fullmatch(r"[0-9a-f]{64}", out.stdout.strip())
    assert out.stdout.strip() == market.fingerprint()


# ----- calendar -----------------------------------------------------------------------------------------
def test_trade_calendar(market: Market) -> None:
    cal = market.truth("trade_cal")
    assert set(cal["exchange"]) == {"SSE", "SZSE"}
    sse = cal[cal["exchange"] == "SSE"].sort_values("cal_date").reset_index(drop=True)
    assert cal["is_open"].dtype == np.int64
    days = pd.to_datetime(sse["cal_date"], format="%Y%m%d")
    assert (sse.loc[days.dt.day_of_week >= 5, "is_open"] == 0).all()
    # Published ahead: to the end of the year at least.
    assert sse["cal_date"].max() >= f"{END.year}1231"
    assert sse["cal_date"].min() <= market.start_date.strftime("%Y%m%d")
    # Spring Festival 2024 (Feb 10): the exchange is shut from New Year's Eve for the whole week.
    new_year = SPRING_FESTIVAL[2024]
    week = [(new_year + timedelta(days=k)).strftime("%Y%m%d") for k in range(-1, 6)]
    assert (sse.set_index("cal_date").loc[week, "is_open"] == 0).all()
    assert sse.set_index("cal_date").loc["20240208", "is_open"] == 1
    # National Day golden week, New Year's Day.
    assert (sse.set_index("cal_date").loc[[f"2024100{k}" for k in range(1, 8)], "is_open"] == 0).all()
    assert sse.set_index("cal_date").loc["20250101", "is_open"] == 0
    # pretrade_date is the previous open day.
    open_days = sse.loc[sse["is_open"] == 1, "cal_date"].tolist()
    pretrade = sse.set_index("cal_date")["pretrade_date"]
    assert all(pretrade[cur] == prev for prev, cur in itertools.pairwise(open_days))
    assert market.apis["trade_cal"].query(market, {})["exchange"].eq("SSE").all()
    szse = market.apis["trade_cal"].query(market, {"exchange": "SZSE", "is_open": "1", "start_date": "20240101",
                                                   "end_date": "20240131"})  # fmt: skip
    assert len(szse) == 22 and szse["is_open"].eq(1).all()


# ----- reference data --------------------------------------------------------------------------------------
BOARD_CODES = {
    ("SSE", "主板"): r"^60\d{4}\.SH$",
    ("SSE", "科创板"): r"^688\d{3}\.SH$",
    ("SZSE", "主板"): r"^00\d{4}\.SZ$",
    ("SZSE", "创业板"): r"^30\d{4}\.SZ$",
    ("BSE", "北交所"): r"^(8\d{5}|43\d{4})\.BJ$",
}


def test_stock_basic(market: Market) -> None:
    basic = market.truth("stock_basic")
    assert set(basic["list_status"]) == {"L", "D", "P", "G"}
    assert set(basic["exchange"]) == {"SSE", "SZSE", "BSE"}
    for rec in basic.itertuples(index=False):
        assert re.match(BOARD_CODES[(rec.exchange, rec.market)], rec.ts_code), rec.ts_code
        assert rec.symbol == rec.ts_code[:6]
        assert (rec.delist_date is not None) == (rec.list_status == "D")
    assert basic["ts_code"].is_unique and basic["name"].is_unique
    start, end = market.start_date.strftime("%Y%m%d"), END.strftime("%Y%m%d")
    assert ((basic["list_date"] > start) & (basic["list_date"] <= end)).sum() >= 2  # IPOs inside the range
    assert (basic.loc[basic["list_status"] == "G", "list_date"] > end).all()
    assert set(market.universe["comp_type"]) >= {"1", "2"}
    assert basic["name"].str.contains("ST").any()
    # Default list_status is L; the others on request.
    query = market.apis["stock_basic"].query
    assert set(query(market, {})["list_status"]) == {"L"}
    assert set(query(market, {"list_status": "D"})["ts_code"]) == set(
        basic.loc[basic["list_status"] == "D", "ts_code"]
    )
    assert market.apis["stock_basic"].per_minute == 50


def test_listing_windows(market: Market) -> None:
    basic = market.truth("stock_basic").set_index("ts_code")
    daily, adj = market.truth("daily"), market.truth("adj_factor")
    start = market.start_date.strftime("%Y%m%d")
    for code, rows in adj.groupby("ts_code"):
        rec = basic.loc[code]
        assert rows["trade_date"].min() == max(rec["list_date"], start)
        if rec["delist_date"] is not None:
            assert rows["trade_date"].max() < rec["delist_date"]
    approved = basic.index[basic["list_status"] == "G"]
    assert not daily["ts_code"].isin(approved).any() and not adj["ts_code"].isin(approved).any()
    # The 'P' stock is suspended through the end: adj_factor rows, no daily rows, at the last day.
    paused = basic.index[basic["list_status"] == "P"]
    last = END.strftime("%Y%m%d")
    for code in paused:
        assert ((adj["ts_code"] == code) & (adj["trade_date"] == last)).any()
        assert not ((daily["ts_code"] == code) & (daily["trade_date"] == last)).any()


# ----- price consistency -----------------------------------------------------------------------------------
def _implemented(market: Market) -> pd.DataFrame:
    div = market.truth("dividend")
    start, end = market.start_date.strftime("%Y%m%d"), END.strftime("%Y%m%d")
    impl = div[(div["div_proc"] == "实施") & (div["ex_date"] >= start) & (div["ex_date"] <= end)]
    assert len(impl) >= 5
    return impl


def test_pre_close_follows_previous_close_and_corporate_actions(market: Market) -> None:
    daily = market.truth("daily").sort_values(["ts_code", "trade_date"])
    adj = market.truth("adj_factor").sort_values(["ts_code", "trade_date"])
    ex = {(r.ts_code, r.ex_date): r for r in _implemented(market).itertuples(index=False)}
    daily["prev_close"] = daily.groupby("ts_code")["close"].shift()
    adj["prev_factor"] = adj.groupby("ts_code")["adj_factor"].shift()
    factors = adj.set_index(["ts_code", "trade_date"])
    checked_ex = 0
    for r in daily.dropna(subset=["prev_close"]).itertuples(index=False):
        key = (r.ts_code, r.trade_date)
        if key in ex:
            plan = ex[key]
            expected = (_dec(r.prev_close) - _dec(plan.cash_div_tax)) / (1 + _dec(plan.stk_div))
            assert r.pre_close == _round2(expected), key
            jump = factors.at[key, "adj_factor"] / factors.at[key, "prev_factor"]
            assert jump == pytest.approx(r.prev_close / r.pre_close, rel=2e-3), key
            assert r.prev_close * factors.at[key, "prev_factor"] == pytest.approx(
                r.pre_close * factors.at[key, "adj_factor"], rel=2e-3
            )
            checked_ex += 1
        else:
            assert r.pre_close == r.prev_close, key
        assert r.change == pytest.approx(r.close - r.pre_close, abs=1e-9)
        assert r.pct_chg == pytest.approx((r.close / r.pre_close - 1) * 100, abs=1e-4)
        assert r.low <= min(r.open, r.close) <= max(r.open, r.close) <= r.high
    assert checked_ex >= 5
    # The factor changes on ex dates only, and never falls.
    changed = adj[adj["prev_factor"].notna() & (adj["adj_factor"] != adj["prev_factor"])]
    assert set(zip(changed["ts_code"], changed["trade_date"], strict=True)) <= set(ex)
    assert (changed["adj_factor"] > changed["prev_factor"]).all()
    ipo_first = adj.groupby("ts_code").first()
    listed_inside = market.truth("stock_basic").set_index("ts_code")[
        "list_date"
    ] > market.start_date.strftime("%Y%m%d")
    assert (
        ipo_first.loc[listed_inside[listed_inside].index.intersection(ipo_first.index), "adj_factor"] == 1.0
    ).all()


def test_dividend_rows_match_adj_factor_jumps(market: Market) -> None:
    div = market.truth("dividend")
    assert set(div["div_proc"]) == {"预案", "股东大会通过", "实施"}
    dated = ["record_date", "ex_date", "pay_date", "imp_ann_date"]
    assert div.loc[div["div_proc"] != "实施", dated].isna().all().all()
    impl = div[div["div_proc"] == "实施"]
    assert impl["ex_date"].notna().all()
    assert (impl["ex_date"] > impl["record_date"]).all() and (impl["record_date"] > impl["imp_ann_date"]).all()
    dated_impl = impl[impl["ann_date"].notna()]
    assert (dated_impl["imp_ann_date"] > dated_impl["ann_date"]).all()
    assert (div["ann_date"].dropna() <= END.strftime("%Y%m%d")).all()
    # As Tushare files them: every stage carries the plan's proposal date (预案公告日); a revised plan has an
    # earlier 预案 row with other amounts; a few plans carry no ann_date at all (NULL).
    assert not div.duplicated(["ts_code", "end_date", "ann_date", "div_proc"]).any()
    revised = 0
    for _, plan in div.groupby(["ts_code", "end_date"], dropna=False):
        final = plan[plan["div_proc"] != "预案"]
        proposals = plan[plan["div_proc"] == "预案"]
        assert final["ann_date"].nunique(dropna=False) <= 1
        if len(proposals) == 2:
            revised += 1
            first, last = proposals.sort_values("ann_date").itertuples(index=False)
            assert first.ann_date < last.ann_date and first.cash_div_tax != last.cash_div_tax
            assert (final["ann_date"] == last.ann_date).all()
        else:
            assert len(proposals) == 1 and (final["ann_date"].isna() == proposals["ann_date"].isna().iloc[0]).all()
    assert revised >= 1 and div["ann_date"].isna().any()
    assert (div["cash_div"] < div["cash_div_tax"]).all()
    assert (div["stk_div"] == div["stk_bo_rate"] + div["stk_co_rate"]).all()
    # Each implemented plan in range moves the factor by exactly the ex-rights ratio.
    adj = market.truth("adj_factor").set_index(["ts_code", "trade_date"])["adj_factor"]
    daily = market.truth("daily").set_index(["ts_code", "trade_date"])
    days = market.day_text
    closes = daily["close"].sort_index()
    for r in _implemented(market).itertuples(index=False):
        position = int(np.searchsorted(days.astype(str), r.ex_date))
        if position == 0:
            continue  # ex on the first day of the range: nothing before it to compare with
        prev_day = days[position - 1]
        ratio = adj[(r.ts_code, r.ex_date)] / adj[(r.ts_code, prev_day)]
        pre = daily.at[(r.ts_code, r.ex_date), "pre_close"]
        # the close of the last day it traded before ex (it may have been suspended the day before)
        prev_close = closes.loc[r.ts_code].loc[: prev_day].iloc[-1]
        assert ratio == pytest.approx(prev_close / pre, rel=2e-3)
        assert ratio > 1.0


def test_daily_basic_and_friends_agree_with_daily(market: Market) -> None:
    daily = market.truth("daily").set_index(["ts_code", "trade_date"]).sort_index()
    basic = market.truth("daily_basic").set_index(["ts_code", "trade_date"]).sort_index()
    flow = market.truth("moneyflow").set_index(["ts_code", "trade_date"]).sort_index()
    limits = market.truth("stk_limit").set_index(["ts_code", "trade_date"]).sort_index()
    assert (
        basic.index.equals(daily.index)
        and flow.index.equals(daily.index)
        and limits.index.equals(daily.index)
    )
    assert (basic["close"] == daily["close"]).all()
    assert (limits["pre_close"] == daily["pre_close"]).all()
    assert basic["total_mv"].to_numpy() == pytest.approx(
        (basic["total_share"] * basic["close"]).to_numpy(), rel=1e-6
    )
    assert basic["turnover_rate"].to_numpy() == pytest.approx((daily["vol"] / basic["float_share"]).to_numpy(),
                                                             rel=1e-3, abs=1e-4)  # fmt: skip
    assert (basic["free_share"] <= basic["float_share"]).all() and (
        basic["float_share"] <= basic["total_share"]
    ).all()
    buy = flow[[f"buy_{b}_vol" for b in ("sm", "md", "lg", "elg")]].sum(axis=1)
    sell = flow[[f"sell_{b}_vol" for b in ("sm", "md", "lg", "elg")]].sum(axis=1)
    assert (flow["net_mf_vol"] == buy - sell).all()
    assert (buy + sell <= daily["vol"] + 1).all()
    assert flow["net_mf_vol"].dtype == np.int64


def test_suspended_days(market: Market) -> None:
    susp = market.truth("suspend_d")
    stops = susp[susp["suspend_type"] == "S"]
    assert len(stops) >= 5 and susp["suspend_timing"].isna().all()
    keys = set(zip(stops["ts_code"], stops["trade_date"], strict=True))
    daily = set(zip(*market.truth("daily")[["ts_code", "trade_date"]].T.to_numpy(), strict=True))
    adj = set(zip(*market.truth("adj_factor")[["ts_code", "trade_date"]].T.to_numpy(), strict=True))
    basic = set(zip(*market.truth("daily_basic")[["ts_code", "trade_date"]].T.to_numpy(), strict=True))
    assert keys <= adj and not keys & daily and not keys & basic
    assert adj - daily == keys  # every listed day without a bar is a suspension day
    resumed = susp[susp["suspend_type"] == "R"]
    assert len(resumed) >= 1
    assert set(zip(resumed["ts_code"], resumed["trade_date"], strict=True)) <= daily


def test_limit_prices_follow_the_board_rule(market: Market) -> None:
    basic = market.truth("stock_basic").set_index("ts_code")
    rule = {
        "主板": Decimal("0.10"),
        "创业板": Decimal("0.20"),
        "科创板": Decimal("0.20"),
        "北交所": Decimal("0.30"),
    }
    limits = market.truth("stk_limit").merge(
        market.truth("daily"), on=["ts_code", "trade_date"], suffixes=("", "_d")
    )
    hits = 0
    for r in limits.itertuples(index=False):
        rec = basic.loc[r.ts_code]
        pct = Decimal("0.05") if "ST" in rec["name"] and rec["market"] == "主板" else rule[rec["market"]]
        pre = _dec(r.pre_close)
        assert r.up_limit == _round2(pre * (1 + pct)), (r.ts_code, r.trade_date)
        assert r.down_limit == max(_round2(pre * (1 - pct)), 0.01)
        assert r.down_limit <= r.low and r.high <= r.up_limit
        hits += r.close in (r.up_limit, r.down_limit)
    assert hits >= 1  # some closes sit at the limit


def test_pe_is_null_for_loss_makers(market: Market) -> None:
    db = market.truth("daily_basic")
    panel = market.prices
    stock = pd.Index(panel.universe.codes).get_indexer(db["ts_code"])
    day = np.searchsorted(market.day_text.astype(str), db["trade_date"].to_numpy(dtype=str))
    profit = panel.earnings.profit_annual.at(stock, day)
    profit_ttm = panel.earnings.profit_ttm.at(stock, day)
    assert db["pe"].isna().any() and (profit <= 0).any()
    assert (db["pe"].isna().to_numpy() == (profit <= 0)).all()
    assert (db["pe_ttm"].isna().to_numpy() == (profit_ttm <= 0)).all()
    assert (db["pe"].dropna() > 0).all() and db["pb"].notna().all()


# ----- indices, industries, funds ---------------------------------------------------------------------------
def test_index_member_all_intervals(market: Market) -> None:
    members = market.truth("index_member_all")
    basic = market.truth("stock_basic").set_index("ts_code")
    moved = 0
    for code, rows in members.groupby("ts_code"):
        rows = rows.sort_values("in_date")
        outs, ins = rows["out_date"].tolist(), rows["in_date"].tolist()
        assert all(o == i for o, i in zip(outs[:-1], ins[1:], strict=True)), code  # no gap, no overlap
        assert all(o is not None and i < o for i, o in zip(ins[:-1], outs[:-1], strict=True))
        current = rows[rows["out_date"].isna()]
        assert (rows["is_new"] == np.where(rows["out_date"].isna(), "Y", "N")).all()
        status = basic.at[code, "list_status"]
        assert len(current) == (0 if status == "D" else 1), code
        moved += len(rows) > 1
    assert moved >= 2
    assert set(members["ts_code"]) == set(basic.index[basic["list_status"] != "G"])
    # Defaults: is_new Y; both on request.
    query = market.apis["index_member_all"].query
    assert set(query(market, {})["is_new"]) == {"Y"}
    assert len(query(market, {"is_new": "N"})) == (members["is_new"] == "N").sum()
    # stock_basic.industry is the current classification's label.
    from alphahome.sandbox.sw2021 import INDUSTRIES

    label = {ind.l3_code: ind.label for ind in INDUSTRIES}
    for r in members[members["is_new"] == "Y"].itertuples(index=False):
        assert basic.at[r.ts_code, "industry"] == label[r.l3_code]


def test_index_classify_and_member(market: Market) -> None:
    classes = market.truth("index_classify")
    assert set(classes["level"]) == {"L1", "L2", "L3"} and set(classes["src"]) == {"SW2021"}
    l1 = classes[classes["level"] == "L1"]
    assert (l1["parent_code"] == "0").all() and l1["index_code"].str.match(r"^80\d{4}\.SI$").all()
    codes = set(classes["industry_code"])
    assert set(classes.loc[classes["level"] != "L1", "parent_code"]) <= codes
    old = market.truth("index_member")
    assert set(old["index_code"]) <= set(classes["index_code"])
    for (_, _), rows in old.groupby(["index_code", "con_code"]):
        rows = rows.sort_values("in_date")
        assert (rows["out_date"].iloc[:-1].to_numpy() <= rows["in_date"].iloc[1:].to_numpy()).all()


def test_indices(market: Market) -> None:
    basic = market.truth("index_basic")
    assert {"000001.SH", "000300.SH", "399001.SZ", "399006.SZ"} <= set(basic["ts_code"])
    weights = market.truth("index_weight")
    per_snapshot = weights.groupby(["index_code", "trade_date"])["weight"].sum()
    assert per_snapshot.to_numpy() == pytest.approx(100.0, abs=0.01)
    dates = sorted(set(weights["trade_date"]))
    assert len({d[:6] for d in dates}) == len(dates)  # one snapshot a month
    bars = market.truth("index_daily")
    assert set(bars["ts_code"]) <= set(basic["ts_code"])
    one = bars[bars["ts_code"] == "000300.SH"].sort_values("trade_date")
    assert (one["pre_close"].iloc[1:].to_numpy() == one["close"].iloc[:-1].to_numpy()).all()
    assert (one["low"] <= one["high"]).all() and (one["vol"] > 0).all()


def test_funds(market: Market) -> None:
    funds = market.truth("fund_basic")
    assert set(funds["market"]) == {"E", "O"} and funds["name"].is_unique and funds["ts_code"].is_unique
    assert set(market.apis["fund_basic"].query(market, {})["market"]) == {"E"}
    nav = market.truth("fund_nav")
    assert set(nav["ts_code"]) <= set(funds["ts_code"])
    assert (nav["ann_date"] > nav["nav_date"]).all()
    assert nav["net_asset"].isna().any() and nav["net_asset"].notna().any()
    issuing = funds.loc[funds["status"] == "I", "ts_code"]
    assert not nav["ts_code"].isin(issuing).any()
    # About 1% of NAVs are corrected: republished for the same nav_date on a later ann_date with another
    # value, update_flag '1' on the correction and '0' on the NAV it supersedes.
    twice = nav[nav.duplicated(["ts_code", "nav_date"], keep=False)].sort_values(["ts_code", "nav_date", "ann_date"])
    assert 0.002 < len(twice) / 2 / len(nav) < 0.02
    assert list(twice["update_flag"]) == ["0", "1"] * (len(twice) // 2)
    assert not nav.duplicated(["ts_code", "nav_date", "ann_date"]).any()
    assert set(nav.loc[~nav.index.isin(twice.index), "update_flag"]) == {"1"}


# ----- catalogue --------------------------------------------------------------------------------------------
def test_catalogue_covers_the_reference(market: Market) -> None:
    assert set(market.apis) == set(INTERFACES) >= REFERENCE_APIS | VIP_APIS
    for name, api in market.apis.items():
        assert api.name == name and api.row_cap > 0 and api.fields
        assert len(set(api.field_names)) == len(api.field_names)
        for group in api.required:
            assert set(group) <= set(api.params), name
        assert api.min_points == interface(name).points, name
        assert api.row_cap == interface(name).row_cap, name
        assert isinstance(api.query, TableQuery)
        assert {f.param for f in api.query.filters} <= set(api.params)
    for base in ("income", "balancesheet", "cashflow", "fina_indicator", "express"):
        assert market.apis[base].required == (("ts_code",),) and market.apis[f"{base}_vip"].required == ()
        assert market.apis[base].field_names == market.apis[f"{base}_vip"].field_names
    assert market.apis["forecast"].required == (("ts_code", "ann_date"),)
    assert market.apis["daily_basic"].required == (("ts_code", "trade_date"),)
    assert not market.apis["stock_basic"].fields[5].default  # fullname is not a default column


def test_a_sync_stores_every_column_the_sandbox_serves(market: Market) -> None:
    # One field table (alphahome.sources.tushare.fields) feeds both sides: the stored table of every synced
    # dataset has exactly the served API's columns, dates stored as dates where the wire carries strings.
    from alphahome.tasks.catalogue import CATALOGUE, table_spec

    stored_type = {"s": {"text", "date"}, "f": {"double"}, "i": {"bigint"}}
    for spec in CATALOGUE:
        served = market.apis[spec.api]
        table = table_spec(spec.name)
        assert table.column_names == served.field_names, spec.name
        for fd, column in zip(served.fields, table.columns, strict=True):
            assert column.type in stored_type[fd.type], (spec.name, fd.name, column.type)
        assert list(market.truth(spec.name).columns) == served.field_names, spec.name


def _expected(frame: pd.DataFrame, conds: list[tuple[Filter, str]]) -> pd.DataFrame:
    """Plain-Python reading of the filters, independent of the query engine."""
    keep = np.ones(len(frame), dtype=bool)
    for f, value in conds:
        text = [
            None if v is None or (isinstance(v, float) and np.isnan(v)) else str(v) for v in frame[f.column]
        ]
        if f.op == "eq":
            hit = [v == value for v in text]
        elif f.op == "in":
            hit = [v in value.split(",") for v in text]
        elif f.op == "symbol":
            hit = [v is not None and v.split(".")[0] in value.split(",") for v in text]
        elif f.op == "ge":
            hit = [v is not None and v >= value for v in text]
        else:
            hit = [v is not None and v <= value for v in text]
        keep &= np.array(hit, dtype=bool)
    return frame[keep]


def _canonical(frame: pd.DataFrame) -> list[tuple[str, ...]]:
    def text(v: object) -> str:
        return "<null>" if v is None or (isinstance(v, float) and np.isnan(v)) else repr(v)

    return sorted(tuple(text(v) for v in row) for row in frame.to_numpy(dtype=object).tolist())


def _check_query(market: Market, name: str, params: dict[str, str]) -> pd.DataFrame:
    api = market.apis[name]
    query: TableQuery = api.query  # type: ignore[assignment]
    got = api.query(market, params)
    assert list(got.columns) == api.field_names, name
    conds = [(f, params.get(f.param, f.default)) for f in query.filters]
    active = [(f, v) for f, v in conds if v is not None]
    source = market.table(query.table).select([])
    expected = _expected(source, active)[api.field_names]  # type: ignore[arg-type]
    assert _canonical(got) == _canonical(expected), (name, params)
    return got


@pytest.mark.parametrize("name", sorted(INTERFACES))
def test_every_filter_is_honoured(market: Market, name: str) -> None:
    api = market.apis[name]
    query: TableQuery = api.query  # type: ignore[assignment]
    source = market.table(query.table).select([])
    defaults = [(f, f.default) for f in query.filters if f.default is not None]
    pool = _expected(source, defaults)  # type: ignore[arg-type]
    assert len(pool) > 0, name
    row = pool.iloc[len(pool) // 2]
    base: dict[str, str] = {}
    for group in api.required:  # satisfy the required group from the same row
        f = next(f for f in query.filters if f.param == group[0])
        base[f.param] = str(row[f.column])
    nonempty = 0
    for f in query.filters:
        value = row[f.column]
        if value is None or (isinstance(value, float) and np.isnan(value)):
            continue
        params = dict(base)
        params[f.param] = str(value)
        if f.op == "symbol":
            params[f.param] = str(value).split(".")[0]
        got = _check_query(market, name, params)
        nonempty += len(got) > 0
    assert nonempty >= 1
    # A window on the main date, and a comma list where allowed.
    window = [f for f in query.filters if f.param == "start_date"]
    if window:
        column = window[0].column
        values = sorted(v for v in pool[column].dropna().unique())
        lo, hi = values[len(values) // 4], values[len(values) // 2]
        _check_query(market, name, {**base, "start_date": lo, "end_date": hi})
    if any(f.op == "in" for f in query.filters):
        codes = ",".join(sorted(source["ts_code"].unique())[:3])
        got = _check_query(market, name, {"ts_code": codes})
        assert got["ts_code"].nunique() == min(3, source["ts_code"].nunique())


def test_defaults_and_types(market: Market) -> None:
    code = market.truth("income")["ts_code"].iloc[0]
    income = market.apis["income"].query(market, {"ts_code": code})
    assert set(income["report_type"]) == {"1"}
    assert set(market.apis["income"].query(market, {"ts_code": code, "report_type": "2"})["report_type"]) == {
        "2"
    }
    assert set(market.truth("income")["report_type"]) >= {"1", "2"}
    assert len(market.apis["income_vip"].query(market, {"period": "20241231"})["ts_code"].unique()) > 1
    classes = market.apis["index_classify"].query(market, {"level": "L1"})
    assert len(classes) >= 10 and set(classes["src"]) == {"SW2021"}
    for name in ("daily", "daily_basic", "trade_cal", "dividend", "stock_basic"):
        api = market.apis[name]
        frame = market.truth(name)
        for fd in api.fields:
            col = frame[fd.name]
            if fd.type == "s":
                assert col.dtype == object and col.map(lambda v: v is None or isinstance(v, str)).all(), (
                    fd.name
                )
            elif fd.type == "f":
                assert col.dtype == np.float64, fd.name
            else:
                assert col.dtype == np.int64 or col.map(lambda v: v is None or isinstance(v, int)).all(), (
                    fd.name
                )
    # An unknown value or a non-trading day gives no rows, not an error.
    assert market.apis["daily"].query(market, {"trade_date": "20240210"}).empty
    assert market.apis["daily"].query(market, {"ts_code": "999999.SZ"}).empty
    assert market.apis["trade_cal"].query(market, {"is_open": "x"}).empty


def test_truth_is_the_union_without_duplicates(market: Market) -> None:
    for name in ("income", "balancesheet", "cashflow", "fina_indicator", "express", "forecast"):
        truth = market.truth(name)
        assert not truth.duplicated().any()
        assert market.truth(f"{name}_vip").equals(truth)
        served = market.table(name).select([])
        assert len(served.drop_duplicates()) == len(truth)
    assert len(market.truth("stock_basic")) == 24
    assert set(market.truth("index_member_all")["is_new"]) == {"Y", "N"}
