"""Every API of the interface table through the official ``tushare`` SDK pointed at the sandbox: asked for
all of its fields it gets them, in the order asked, with the rows the market holds for the request; default
fields come back when none are named; required parameters, Tushare's defaults and row caps hold; paging
reassembles a capped answer."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pandas as pd
import pytest
import tushare as ts
from test_sandbox_server_market import normalised

from alphahome.sandbox.market import Market
from alphahome.sandbox.server import SandboxServer, run_sandbox_in_thread
from alphahome.sandbox.tokens import TOKEN_5000, TOKEN_10000
from alphahome.sources.tushare.interfaces import INTERFACES, interface

END = dt.date(2024, 6, 28)
#: Points enough for every API of the table (some need 6000 or 8000).
TOKEN_ALL = TOKEN_10000


@pytest.fixture(scope="module")
def market() -> Market:
    return Market(seed=7, scale="small", end_date=END)


@pytest.fixture(scope="module")
def sandbox(market: Market) -> Iterator[SandboxServer]:
    with run_sandbox_in_thread(market) as srv:
        yield srv


def sdk(srv: SandboxServer, token: str = TOKEN_ALL):
    pro = ts.pro_api(token=token, timeout=30)
    pro._DataApi__http_url = f"{srv.url}/dataapi"
    return pro


def required_params(market: Market, name: str) -> dict[str, str]:
    """Values for the API's required groups, taken from one row of its data (the first param of each group
    whose column has a value there)."""
    facts = interface(name)
    truth = market.truth(name)
    params: dict[str, str] = {}
    for group in facts.required:
        for param in group:
            column = facts.column_of(param)
            if column in truth.columns:
                values = truth[column].dropna()
                if len(values):
                    params[param] = str(values.iloc[len(values) // 2])
                    break
        else:
            raise AssertionError(f"{name}: no data to satisfy {group}")
    return params


@pytest.mark.parametrize("name", sorted(INTERFACES))
def test_sdk_gets_every_field_of_every_api(sandbox: SandboxServer, market: Market, name: str) -> None:
    api = market.apis[name]
    params = required_params(market, name)
    fields = api.field_names
    got = sdk(sandbox).query(name, fields=",".join(fields), **params)
    assert list(got.columns) == fields
    expected = api.query(market, params)
    assert len(expected) > 0, f"{name}: the sandbox has no rows for {params}"
    assert len(got) == min(len(expected), api.row_cap)
    if len(expected) <= api.row_cap:
        pd.testing.assert_frame_equal(normalised(got, api), normalised(expected[fields], api))
    # Named in reverse, the fields come back in the order asked.
    reverse = list(reversed(fields))
    again = sdk(sandbox).query(name, fields=",".join(reverse), limit=3, **params)
    assert list(again.columns) == reverse
    # None named: the default fields.
    plain = sdk(sandbox).query(name, limit=3, **params)
    assert list(plain.columns) == api.default_field_names


@pytest.mark.parametrize("name", sorted(n for n, i in INTERFACES.items() if i.required))
def test_required_parameters_are_enforced(sandbox: SandboxServer, name: str) -> None:
    first = interface(name).required[0][0]
    with pytest.raises(Exception, match=f"{first} required"):
        sdk(sandbox).query(name)


@pytest.mark.parametrize("name", sorted(n for n, i in INTERFACES.items() if i.points > 5000))
def test_points_above_5000_are_enforced(sandbox: SandboxServer, market: Market, name: str) -> None:
    with pytest.raises(Exception, match="权限"):
        sdk(sandbox, TOKEN_5000).query(name, **required_params(market, name))


def test_index_basic_answers_sse_without_market(sandbox: SandboxServer, market: Market) -> None:
    pro = sdk(sandbox)
    assert set(pro.index_basic()["market"]) == {"SSE"}
    every = {m: set(pro.index_basic(market=m)["ts_code"]) for m in ("SSE", "SZSE", "CSI", "SW", "OTH")}
    assert all(every.values()), every
    assert set().union(*every.values()) == set(market.truth("index_basic")["ts_code"])


def test_a_capped_answer_pages_back_to_the_whole(sandbox: SandboxServer, market: Market) -> None:
    name = "fut_holding"
    api = market.apis[name]
    truth = market.truth(name)
    limit = 2000
    assert len(truth) > limit
    pages, offset = [], 0
    while True:
        page = sdk(sandbox).query(name, fields=",".join(api.field_names), offset=offset, limit=limit)
        pages.append(page)
        offset += len(page)
        if len(page) < limit:
            break
    got = pd.concat(pages, ignore_index=True)
    pd.testing.assert_frame_equal(normalised(got, api), normalised(truth, api))


def test_filters_and_windows_of_the_long_tail(sandbox: SandboxServer, market: Market) -> None:
    pro = sdk(sandbox)
    bars = pro.fut_daily(ts_code=market.truth("fut_daily")["ts_code"].iloc[0], start_date="20240301",
                         end_date="20240331")
    assert len(bars) > 10 and bars["trade_date"].between("20240301", "20240331").all()
    assert list(bars["trade_date"]) == sorted(bars["trade_date"], reverse=True)  # newest first
    assert (bars["high"] >= bars[["open", "close", "low"]].max(axis=1)).all()
    assert (bars["low"] <= bars[["open", "close"]].min(axis=1)).all()
    cpi = pro.cn_cpi(start_m="202301", end_m="202306")
    assert sorted(cpi["month"]) == [f"2023{m:02d}" for m in range(1, 7)]
    assert list(pro.cn_cpi(m="202305")["month"]) == ["202305"]
    weekly = pro.stk_weekly_monthly(freq="week", trade_date="20240628")
    assert len(weekly) > 0 and set(weekly["freq"]) == {"week"}
    calendar = pro.hk_tradecal(start_date="20240101", end_date="20240131")
    assert len(calendar) == 31 and set(calendar["exchange"]) == {"HKEX"}
    assert calendar.set_index("cal_date").at["20240101", "is_open"] == 0


def test_weekly_and_monthly_bars_agree_with_daily(market: Market) -> None:
    daily = market.truth("daily")
    bars = market.truth("stk_weekly_monthly")
    day = pd.to_datetime(daily["trade_date"], format="%Y%m%d")
    for freq, period in (("week", day.dt.to_period("W")), ("month", day.dt.to_period("M"))):
        grouped = daily.assign(p=period).sort_values("trade_date").groupby(["ts_code", "p"])
        expected = grouped.agg(trade_date=("trade_date", "last"), open=("open", "first"), high=("high", "max"),
                               low=("low", "min"), close=("close", "last"), pre_close=("pre_close", "first"),
                               vol=("vol", "sum")).reset_index(drop=False)  # fmt: skip
        got = bars[bars["freq"] == freq].set_index(["ts_code", "trade_date"]).sort_index()
        want = expected.set_index(["ts_code", "trade_date"]).sort_index()
        assert list(got.index) == list(want.index), freq
        for column in ("open", "high", "low", "close", "pre_close"):
            assert (got[column] == want[column]).all(), (freq, column)
        assert (got["vol"] - want["vol"]).abs().max() < 0.01
        assert (got["change"] == (got["close"] - got["pre_close"]).round(4)).all()


def test_event_tables_leave_dates_null_where_tushare_does(market: Market) -> None:
    repurchase = market.truth("repurchase")
    assert repurchase["exp_date"].isna().any() and repurchase["exp_date"].notna().any()
    assert repurchase["high_limit"].isna().any()
    assert not repurchase[["ts_code", "ann_date", "proc"]].isna().any().any()
    assert not repurchase.duplicated(["ts_code", "ann_date", "proc"]).any()
    dividend = market.truth("dividend")
    assert dividend.loc[dividend["div_proc"] != "实施", "ex_date"].isna().all()


@pytest.mark.parametrize("name", sorted(n for n, i in INTERFACES.items() if i.base is None and i.key))
def test_keys_are_unique_in_the_data(market: Market, name: str) -> None:
    key = list(interface(name).key)
    truth = market.truth(name)
    assert not truth.duplicated(key).any(), f"{name}: key {key} repeats"
