"""Conformance with a client nobody here wrote: the official ``tushare`` SDK (1.4.x), pointed at the sandbox,
returns DataFrames equal to the market's ground truth and raises the sandbox's messages on error paths.

SDK 1.4.29 POSTs to ``{DataApi.__http_url}/{api_name}`` (``http://api.waditu.com/dataapi/<api>``) with a
private, name-mangled URL attribute; pointing it at the sandbox means setting ``_DataApi__http_url``.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator

import pandas as pd
import pytest
import tushare as ts
from test_sandbox_server_market import normalised

from alphahome.sandbox.apidef import ApiDef
from alphahome.sandbox.faults import FaultConfig
from alphahome.sandbox.market import Market
from alphahome.sandbox.quota import QuotaLimits
from alphahome.sandbox.server import SandboxServer, run_sandbox_in_thread
from alphahome.sandbox.tokens import TOKEN_120, TOKEN_2000, TOKEN_5000

END = dt.date(2024, 6, 28)
DOC = "权限的具体详情访问：https://tushare.pro/document/1?doc_id=108。"


@pytest.fixture(scope="module")
def market() -> Market:
    return Market(seed=11, scale="small", end_date=END)


@pytest.fixture(scope="module")
def sandbox(market: Market) -> Iterator[SandboxServer]:
    with run_sandbox_in_thread(market) as srv:
        yield srv


def sdk(srv: SandboxServer, token: str = TOKEN_5000):
    """The SDK's own DataApi from its public entry point, aimed at the sandbox."""
    pro = ts.pro_api(token=token, timeout=10)
    assert pro._DataApi__http_url == "http://api.waditu.com/dataapi"  # the SDK version this test knows
    pro._DataApi__http_url = f"{srv.url}/dataapi"
    return pro


def assert_matches_truth(got: pd.DataFrame, expected: pd.DataFrame, api: ApiDef, fields: list[str]) -> None:
    assert list(got.columns) == fields
    assert len(expected) > 0, "an empty expectation proves nothing"
    pd.testing.assert_frame_equal(
        normalised(got, api, drop_duplicates=True), normalised(expected[fields], api, drop_duplicates=True)
    )


def test_daily_by_trade_date(sandbox, market):
    pro = sdk(sandbox)
    api = market.apis["daily"]
    truth = market.truth("daily")
    days = sorted(truth["trade_date"].unique())
    for day in [*days[-3:], days[0]]:
        got = pro.daily(trade_date=day)
        assert_matches_truth(got, truth[truth["trade_date"] == day], api, api.default_field_names)
        assert got["close"].dtype == "float64"
        assert list(got["ts_code"]) == list(truth[truth["trade_date"] == day]["ts_code"])  # stable within a day
    # The request the SDK sent: params nested, its own ts_type_name injected (and ignored by the sandbox).
    record = sandbox.stats.recent[-1]
    assert record.api_name == "daily" and record.code == 0
    assert record.params["ts_type_name"] == f"{sandbox.url}/dataapi"


def test_daily_for_several_codes_and_a_date_range(sandbox, market):
    api = market.apis["daily"]
    truth = market.truth("daily")
    codes = sorted(truth["ts_code"].unique())[:3]
    got = sdk(sandbox).daily(ts_code=",".join(codes), start_date="20240301", end_date="20240331")
    expected = truth[truth["ts_code"].isin(codes) & truth["trade_date"].between("20240301", "20240331")]
    assert_matches_truth(got, expected, api, api.default_field_names)
    assert list(got["trade_date"]) == sorted(got["trade_date"], reverse=True)  # newest first


def test_trade_cal(sandbox, market):
    pro = sdk(sandbox, TOKEN_2000)
    api = market.apis["trade_cal"]
    truth = market.truth("trade_cal")
    for exchange in ("SSE", "SZSE"):
        got = pro.trade_cal(exchange=exchange, start_date="20240101", end_date="20241231")
        expected = truth[(truth["exchange"] == exchange) & truth["cal_date"].between("20240101", "20241231")]
        assert_matches_truth(got, expected, api, api.default_field_names)
        assert got["is_open"].dtype == "int64"  # JSON ints, as from the real service
        assert len(got) == 366
    # exchange defaults to SSE
    assert_matches_truth(pro.trade_cal(start_date="20240101", end_date="20240131"),
                         truth[(truth["exchange"] == "SSE") & truth["cal_date"].between("20240101", "20240131")],
                         api, api.default_field_names)


def test_stock_basic_every_list_status(sandbox, market):
    pro = sdk(sandbox, TOKEN_2000)
    api = market.apis["stock_basic"]
    truth = market.truth("stock_basic")
    fields = ["ts_code", "name", "exchange", "list_status", "list_date", "delist_date"]
    parts = [pro.stock_basic(list_status=status, fields=",".join(fields)) for status in "LDPG"]
    assert all(len(part) for part in parts)
    assert_matches_truth(pd.concat(parts, ignore_index=True), truth, api, fields)
    # Default: listed only, default columns.
    assert_matches_truth(pro.stock_basic(), truth[truth["list_status"] == "L"], api, api.default_field_names)


def test_income_by_ts_code(sandbox, market):
    pro = sdk(sandbox, TOKEN_2000)
    api = market.apis["income"]
    truth = market.truth("income")
    for code in sorted(truth["ts_code"].unique())[:4]:
        own = truth[truth["ts_code"] == code]
        assert_matches_truth(pro.income(ts_code=code), own[own["report_type"] == "1"], api, api.default_field_names)
        assert_matches_truth(pro.income(ts_code=code, report_type="2"), own[own["report_type"] == "2"], api,
                             api.default_field_names)


def test_fina_indicator_by_ts_code_and_income_vip_by_period(sandbox, market):
    pro = sdk(sandbox)
    api = market.apis["fina_indicator"]
    truth = market.truth("fina_indicator")
    for code in sorted(truth["ts_code"].unique())[-3:]:
        assert_matches_truth(pro.fina_indicator(ts_code=code), truth[truth["ts_code"] == code], api,
                             api.default_field_names)
    vip = market.apis["income_vip"]
    income = market.truth("income")
    fields = ["ts_code", "ann_date", "f_ann_date", "end_date", "report_type", "update_flag", "n_income"]
    got = pro.income_vip(period="20231231", fields=fields)
    expected = income[(income["end_date"] == "20231231") & (income["report_type"] == "1")]
    assert_matches_truth(got, expected, vip, fields)


def test_paging_with_offset_and_limit(sandbox, market):
    pro = sdk(sandbox)
    api = market.apis["daily"]
    truth = market.truth("daily")
    expected = truth[truth["trade_date"].between("20240101", "20240628")]
    pages, offset = [], 0
    while True:
        page = pro.daily(start_date="20240101", end_date="20240628", offset=offset, limit=1000)
        pages.append(page)
        offset += len(page)
        if len(page) < 1000:
            break
    assert len(pages) > 2
    assert_matches_truth(pd.concat(pages, ignore_index=True), expected, api, api.default_field_names)


def test_non_default_fields_as_a_string_or_a_list(sandbox, market):
    pro = sdk(sandbox)
    day = market.truth("daily")["trade_date"].max()
    assert "ah_vol" not in pro.daily(trade_date=day).columns
    assert list(pro.daily(trade_date=day, fields="ts_code,ah_vol").columns) == ["ts_code", "ah_vol"]
    assert list(pro.daily(trade_date=day, fields=["close", "ts_code"]).columns) == ["close", "ts_code"]


def sdk_error(call) -> str:
    """The message of the bare Exception the SDK raises for a non-zero code."""
    with pytest.raises(Exception) as excinfo:
        call()
    return str(excinfo.value)


def test_token_api_permission_and_required_errors(sandbox):
    assert sdk_error(lambda: sdk(sandbox, "0" * 56).daily(trade_date="20240628")) == "您的token不对，请确认。"
    assert sdk_error(lambda: sdk(sandbox).no_such_api()) == "请指定正确的接口名"
    assert sdk_error(lambda: sdk(sandbox, TOKEN_120).income(ts_code="000001.SZ")) == (
        f"抱歉，您没有接口(income)访问权限，{DOC}")
    assert sdk_error(lambda: sdk(sandbox, TOKEN_2000).income_vip(period="20231231")) == (
        f"抱歉，您没有接口(income_vip)访问权限，{DOC}")
    assert sdk_error(lambda: sdk(sandbox, TOKEN_2000).income()) == "ts_code required"
    assert len(sdk(sandbox, TOKEN_120).daily(trade_date="20240628")) > 0


def test_quota_error(sandbox):
    pro = sdk(sandbox, TOKEN_2000)
    sandbox.quotas.reset()  # forget the calls of earlier tests
    sandbox.quotas.set_override("trade_cal", QuotaLimits(per_minute=2))
    try:
        for _ in range(2):
            pro.trade_cal(start_date="20240101", end_date="20240110")
        message = sdk_error(lambda: pro.trade_cal(start_date="20240101", end_date="20240110"))
        assert message == f"抱歉，您每分钟最多访问该接口2次，{DOC}"
        # Per token: another token still gets through.
        assert len(sdk(sandbox, TOKEN_5000).trade_cal(start_date="20240101", end_date="20240110")) == 10
    finally:
        sandbox.quotas.set_override("trade_cal", None)
        sandbox.quotas.reset()


def test_injected_faults_as_the_sdk_sees_them(sandbox):
    pro = sdk(sandbox)
    try:
        sandbox.faults = FaultConfig(system=1.0)
        message = sdk_error(lambda: pro.daily(trade_date="20240628"))
        assert re.fullmatch(r"系统未知错误，欢迎上报！ 谢谢！request-id\([0-9a-f]{32}\)", message)
        # HTTP >= 400: the SDK silently returns an empty frame (reference §1.4), which is why a client
        # must not rely on it.
        sandbox.faults = FaultConfig(http5xx=1.0)
        got = pro.daily(trade_date="20240628")
        assert got.empty and list(got.columns) == []
        sandbox.faults = FaultConfig(truncate=1.0)
        with pytest.raises(ValueError):
            pro.daily(trade_date="20240628")
    finally:
        sandbox.faults = None
    assert len(pro.daily(trade_date="20240628")) > 0
