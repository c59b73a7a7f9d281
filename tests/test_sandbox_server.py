"""The sandbox server's wire protocol, over a tiny fake market defined here (the real market has its own
tests): routes, envelope, validation order and texts, params, fields, ordering, paging, caps, values."""

from __future__ import annotations

import asyncio
import json
import math
import re
import socket
import threading
from collections.abc import AsyncIterator, Mapping
from typing import Any

import aiohttp
import pandas as pd
import pyarrow as pa
import pytest
import requests
from hypothesis import given, settings
from hypothesis import strategies as st

from alphahome.sandbox.apidef import ApiDef, FieldDef
from alphahome.sandbox.faults import SYSTEM_ERROR_CODE
from alphahome.sandbox.pages import QueryResult, json_tokens
from alphahome.sandbox.server import SandboxServer, run_sandbox_in_thread
from alphahome.sandbox.tokens import (
    BUILTIN_TOKENS,
    TOKEN_120,
    TOKEN_2000,
    TOKEN_5000,
    TOKEN_10000,
    sandbox_token,
)

TOKEN_ERROR = "您的token不对，请确认。"
UNKNOWN_API = "请指定正确的接口名"
DOC = "权限的具体详情访问：https://tushare.pro/document/1?doc_id=108。"

CODES = ["000001.SZ", "600000.SH", "830001.BJ"]
DAYS = ["20240102", "20240103", "20240104", "20240105"]


class FakeMarket:
    """Three tiny APIs; remembers the params each query received."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, dict[str, str]]] = []
        # Ascending dates on purpose: ordering is the server's job.
        self.daily = pd.DataFrame(
            [(code, day, 10.0 + i + j / 10, 1000.0 * (i + 1), 1.5 if j == 0 else None)
             for i, day in enumerate(DAYS) for j, code in enumerate(CODES)],
            columns=["ts_code", "trade_date", "close", "vol", "ah_vol"],
        )
        self.income = pd.DataFrame(
            {
                "ts_code": ["000001.SZ"] * 4,
                "ann_date": ["20230420", None, "20230830", "20240320"],
                "end_date": ["20230331", "20230331", "20230630", "20231231"],
                "n_income": [1.25, float("nan"), 3.5, 1e12],
                "notice_times": [1, None, 2, 3],
                "is_audit": [0, 0, 1, 1],
                "update_flag": ["0", "1", "1", "1"],
            }
        )
        fields_income = (
            FieldDef("ts_code", "s"), FieldDef("ann_date", "s"), FieldDef("end_date", "s"),
            FieldDef("n_income", "f"), FieldDef("notice_times", "i"), FieldDef("is_audit", "i", default=False),
            FieldDef("update_flag", "s"),
        )
        income_params = ("ts_code", "ann_date", "start_date", "end_date", "period", "report_type")
        self.apis: dict[str, ApiDef] = {
            "daily": ApiDef(
                name="daily",
                fields=(FieldDef("ts_code", "s"), FieldDef("trade_date", "s"), FieldDef("close"),
                        FieldDef("vol"), FieldDef("ah_vol", default=False)),
                params=("ts_code", "trade_date", "start_date", "end_date", "offset", "limit"),
                required=(),
                row_cap=5,
                min_points=120,
                sort_desc=("trade_date",),
                query=self._query_daily,
            ),
            "income": ApiDef(
                name="income", fields=fields_income, params=income_params, required=(("ts_code",),),
                row_cap=100, min_points=2000, sort_desc=("end_date", "ann_date"), query=self._query_income,
            ),
            "income_vip": ApiDef(
                name="income_vip", fields=fields_income, params=income_params,
                required=(("ts_code", "period"),), row_cap=100, min_points=5000,
                sort_desc=("end_date", "ann_date"), query=self._query_income,
            ),
            "two_groups": ApiDef(
                name="two_groups", fields=(FieldDef("ts_code", "s"),), params=("ts_code", "period", "src"),
                required=(("ts_code", "src"), ("period",)), row_cap=10, min_points=2000, sort_desc=(),
                query=lambda market, params: pd.DataFrame({"ts_code": ["X"]}),
            ),
            "broken": ApiDef(
                name="broken", fields=(FieldDef("x", "s"),), params=(), required=(), row_cap=10,
                min_points=120, sort_desc=(), query=self._query_broken,
            ),
        }

    def _query_daily(self, market: Any, params: Mapping[str, str]) -> pd.DataFrame:
        self.seen.append(("daily", dict(params)))
        df = self.daily
        if "ts_code" in params:
            df = df[df["ts_code"].isin(params["ts_code"].split(","))]
        if "trade_date" in params:
            df = df[df["trade_date"] == params["trade_date"]]
        if "start_date" in params:
            df = df[df["trade_date"] >= params["start_date"]]
        if "end_date" in params:
            df = df[df["trade_date"] <= params["end_date"]]
        return df

    def _query_income(self, market: Any, params: Mapping[str, str]) -> pd.DataFrame:
        self.seen.append(("income", dict(params)))
        return self.income

    def _query_broken(self, market: Any, params: Mapping[str, str]) -> pd.DataFrame:
        raise RuntimeError("boom")


@pytest.fixture
def market() -> FakeMarket:
    return FakeMarket()


@pytest.fixture
async def server(market: FakeMarket) -> AsyncIterator[SandboxServer]:
    async with SandboxServer(market) as srv:
        yield srv


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as s:
        yield s


async def post(session: aiohttp.ClientSession, url: str, body: Any, *, raw: bool = False) -> Any:
    """POST a JSON body (or raw bytes); the decoded JSON answer (HTTP 200 asserted)."""
    kwargs = {"data": body} if raw else {"json": body}
    async with session.post(url, **kwargs) as resp:
        assert resp.status == 200
        assert resp.content_type == "application/json"
        return json.loads(await resp.read())


async def call(session: aiohttp.ClientSession, srv: SandboxServer, api: str, params: Any = None,
               fields: Any = "", token: Any = TOKEN_2000, path: str = "/dataapi") -> dict[str, Any]:
    body = {"api_name": api, "token": token, "params": params if params is not None else {}, "fields": fields}
    return await post(session, srv.url + path, body)


def rows(answer: dict[str, Any]) -> list[dict[str, Any]]:
    assert answer["code"] == 0, answer["msg"]
    return [dict(zip(answer["data"]["fields"], item, strict=True)) for item in answer["data"]["items"]]


# ---- routes and envelope --------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/", "/dataapi", "/dataapi/", "/dataapi/daily", "/dataapi/income"])
async def test_every_route_answers_the_api_named_in_the_body(server, session, path):
    answer = await call(session, server, "daily", {"trade_date": "20240103"}, path=path)
    assert answer["code"] == 0
    assert [r["trade_date"] for r in rows(answer)] == ["20240103"] * 3


async def test_api_name_comes_from_the_path_when_the_body_has_none(server, session):
    body = {"token": TOKEN_2000, "params": {"trade_date": "20240104"}, "fields": "ts_code"}
    answer = await post(session, server.url + "/dataapi/daily", body)
    assert answer["data"]["items"] == [["000001.SZ"], ["600000.SH"], ["830001.BJ"]]
    # No name in the body nor in the path: unknown API.
    answer = await post(session, server.url + "/dataapi", body)
    assert (answer["code"], answer["msg"], answer["data"]) == (40101, UNKNOWN_API, None)


async def test_success_envelope(server, session):
    first = await call(session, server, "daily", {"trade_date": "20240102"})
    second = await call(session, server, "daily", {"trade_date": "20240102"})
    assert set(first) == {"request_id", "code", "msg", "data"}
    assert first["code"] == 0 and first["msg"] == ""
    assert set(first["data"]) == {"fields", "items", "has_more"}
    assert first["data"]["fields"] == ["ts_code", "trade_date", "close", "vol"]
    assert first["data"]["has_more"] is False
    for answer in (first, second):
        assert re.fullmatch(r"[0-9a-f]{32}", answer["request_id"])
    assert first["request_id"] != second["request_id"]


async def test_business_errors_are_http_200_with_null_data_and_raw_utf8_text(server, session):
    body = {"api_name": "daily", "token": "nope", "params": {}, "fields": ""}
    async with session.post(server.url, json=body) as resp:
        assert resp.status == 200
        assert resp.content_type == "application/json"
        raw = await resp.read()
    assert TOKEN_ERROR.encode() in raw  # not \u-escaped
    answer = json.loads(raw)
    assert answer["code"] == 40101 and answer["msg"] == TOKEN_ERROR and answer["data"] is None
    assert re.fullmatch(r"[0-9a-f]{32}", answer["request_id"])


async def test_only_post_is_served(server, session):
    async with session.get(server.url + "/dataapi") as resp:
        assert resp.status == 405
    async with session.post(server.url + "/other") as resp:
        assert resp.status == 404


@pytest.mark.parametrize("raw", [b"{not json", b"[1, 2]", b"", b"\"daily\"", b"\xff\xfe"])
async def test_a_body_that_is_not_a_json_object_is_a_40101_error(server, session, raw):
    answer = await post(session, server.url, raw, raw=True)
    assert answer["code"] == 40101
    assert answer["msg"] == "请求格式错误：请求体必须是JSON对象"
    assert answer["data"] is None


# ---- validation order and texts -------------------------------------------------------------------------


async def test_token_is_checked_before_the_api_name(server, session):
    for token in ("bad", None, "", 12345, TOKEN_2000.upper()):
        answer = await call(session, server, "no_such_api", token=token)
        assert (answer["code"], answer["msg"]) == (40101, TOKEN_ERROR)
    body = {"api_name": "daily", "params": {}}  # no token at all
    answer = await post(session, server.url, body)
    assert (answer["code"], answer["msg"]) == (40101, TOKEN_ERROR)


async def test_unknown_api(server, session):
    for name in ("no_such_api", "", None, 7):
        answer = await call(session, server, name)
        assert (answer["code"], answer["msg"], answer["data"]) == (40101, UNKNOWN_API, None)


async def test_permission_by_points_tier_names_the_api(server, session):
    answer = await call(session, server, "income", {"ts_code": "000001.SZ"}, token=TOKEN_120)
    assert answer["code"] == 40203
    assert answer["msg"] == f"抱歉，您没有接口(income)访问权限，{DOC}"
    answer = await call(session, server, "income_vip", {"period": "20231231"}, token=TOKEN_2000)
    assert (answer["code"], answer["msg"]) == (40203, f"抱歉，您没有接口(income_vip)访问权限，{DOC}")
    assert (await call(session, server, "income_vip", {"period": "20231231"}, token=TOKEN_5000))["code"] == 0
    assert (await call(session, server, "daily", {}, token=TOKEN_120))["code"] == 0


async def test_permission_is_checked_before_required_params(server, session):
    answer = await call(session, server, "income", {}, token=TOKEN_120)
    assert answer["code"] == 40203 and "income" in answer["msg"]
    answer = await call(session, server, "income", {}, token=TOKEN_2000)
    assert (answer["code"], answer["msg"]) == (40101, "ts_code required")


async def test_required_names_the_first_param_of_the_first_missing_group(server, session):
    answer = await call(session, server, "two_groups", {})
    assert (answer["code"], answer["msg"], answer["data"]) == (40101, "ts_code required", None)
    answer = await call(session, server, "two_groups", {"src": "SW2021"})
    assert answer["msg"] == "period required"
    answer = await call(session, server, "two_groups", {"ts_code": "X", "period": "20231231"})
    assert answer["code"] == 0
    # Top-level arguments are not params (the real service answers exactly this).
    body = {"api_name": "income", "token": TOKEN_2000, "ts_code": "000001.SZ"}
    assert (await post(session, server.url, body))["msg"] == "ts_code required"


async def test_params_that_are_not_an_object_are_rejected(server, session):
    answer = await call(session, server, "daily", ["ts_code", "000001.SZ"])
    assert (answer["code"], answer["msg"]) == (40101, "params 参数格式错误：应为JSON对象")
    body = {"api_name": "daily", "token": TOKEN_2000, "params": None}
    assert (await post(session, server.url, body))["code"] == 0


# ---- params ---------------------------------------------------------------------------------------------


async def test_null_and_empty_params_mean_absent(server, session, market):
    answer = await call(session, server, "daily",
                        {"ts_code": None, "trade_date": "", "start_date": "  ", "end_date": "20240102"})
    assert len(rows(answer)) == 3
    assert market.seen[-1] == ("daily", {"end_date": "20240102"})
    answer = await call(session, server, "income", {"ts_code": "", "period": None})
    assert (answer["code"], answer["msg"]) == (40101, "ts_code required")


async def test_only_documented_params_reach_the_market_as_trimmed_strings(server, session, market):
    params = {"ts_code": " 000001.SZ,600000.SH ", "trade_date": 20240103, "ts_type_name": "http://x/dataapi",
              "unknown": "value", "offset": 0, "limit": "10"}
    answer = await call(session, server, "daily", params)
    assert [(r["ts_code"], r["trade_date"]) for r in rows(answer)] == [
        ("000001.SZ", "20240103"), ("600000.SH", "20240103")]
    assert market.seen[-1] == ("daily", {"ts_code": "000001.SZ,600000.SH", "trade_date": "20240103"})
    await call(session, server, "daily", {"trade_date": 20240104.0, "ts_code": ["000001.SZ", "830001.BJ"]})
    assert market.seen[-1] == ("daily", {"trade_date": "20240104", "ts_code": "000001.SZ,830001.BJ"})


# ---- fields ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ("", ["ts_code", "trade_date", "close", "vol"]),
        (None, ["ts_code", "trade_date", "close", "vol"]),
        ([], ["ts_code", "trade_date", "close", "vol"]),
        (" close , ts_code ", ["close", "ts_code"]),
        (["vol", " trade_date"], ["vol", "trade_date"]),
        (["close,ts_code"], ["close", "ts_code"]),
        ("ts_code,ah_vol", ["ts_code", "ah_vol"]),
        ("close,no_such_field,ts_code,close", ["close", "ts_code"]),
        ("no_such_field", ["ts_code", "trade_date", "close", "vol"]),
        (",,", ["ts_code", "trade_date", "close", "vol"]),
    ],
)
async def test_fields_selection(server, session, fields, expected):
    answer = await call(session, server, "daily", {"trade_date": "20240102"}, fields=fields)
    assert answer["data"]["fields"] == expected
    assert all(len(item) == len(expected) for item in answer["data"]["items"])
    by_code = {r["ts_code"]: r for r in rows(await call(session, server, "daily", {"trade_date": "20240102"},
                                                         fields="ts_code,close,ah_vol"))}
    got = rows(answer)
    if "close" in expected and "ts_code" in expected:
        assert {r["ts_code"]: r["close"] for r in got} == {c: r["close"] for c, r in by_code.items()}


async def test_non_default_fields_only_when_named(server, session):
    default = await call(session, server, "income", {"ts_code": "000001.SZ"})
    assert "is_audit" not in default["data"]["fields"]
    named = await call(session, server, "income", {"ts_code": "000001.SZ"}, fields="end_date,is_audit")
    assert named["data"]["fields"] == ["end_date", "is_audit"]


@pytest.mark.parametrize("fields", [5, {"a": 1}, ["ts_code", 3], True])
async def test_fields_of_a_wrong_type_are_rejected(server, session, fields):
    answer = await call(session, server, "daily", {}, fields=fields)
    assert (answer["code"], answer["msg"]) == (40101, "fields 列表类型错误：应为逗号分隔的字符串或字符串数组")


# ---- ordering, paging, caps -----------------------------------------------------------------------------


async def test_rows_are_newest_first_and_stable_within_a_date(server, session):
    answer = await call(session, server, "daily", {"start_date": "20240103", "end_date": "20240104"})
    assert [(r["trade_date"], r["ts_code"]) for r in rows(answer)] == [
        ("20240104", c) for c in CODES] + [("20240103", c) for c in CODES][:2]


async def test_nulls_sort_last(server, session):
    got = rows(await call(session, server, "income", {"ts_code": "000001.SZ"}, fields="end_date,ann_date"))
    assert got == [
        {"end_date": "20231231", "ann_date": "20240320"},
        {"end_date": "20230630", "ann_date": "20230830"},
        {"end_date": "20230331", "ann_date": "20230420"},
        {"end_date": "20230331", "ann_date": None},
    ]


async def test_silent_truncation_at_the_row_cap_sets_has_more(server, session):
    answer = await call(session, server, "daily", {})  # 12 rows, cap 5
    assert len(answer["data"]["items"]) == 5 and answer["data"]["has_more"] is True
    assert [r["trade_date"] for r in rows(answer)] == ["20240105"] * 3 + ["20240104"] * 2
    # A limit above the cap is capped too.
    answer = await call(session, server, "daily", {"limit": 100})
    assert len(answer["data"]["items"]) == 5 and answer["data"]["has_more"] is True
    # Exactly the cap: nothing more.
    answer = await call(session, server, "daily", {"start_date": "20240104", "limit": 5, "offset": 1})
    assert len(answer["data"]["items"]) == 5 and answer["data"]["has_more"] is False


async def test_paging_with_offset_and_limit_walks_every_row_once(server, session):
    everything = []
    offset = 0
    while True:
        answer = await call(session, server, "daily", {"offset": str(offset), "limit": "4"})
        page = rows(answer)
        everything += page
        offset += len(page)
        assert answer["data"]["has_more"] is (offset < 12)
        if not answer["data"]["has_more"]:
            break
    assert len(everything) == 12
    assert len({(r["ts_code"], r["trade_date"]) for r in everything}) == 12
    assert [r["trade_date"] for r in everything] == sorted((r["trade_date"] for r in everything), reverse=True)


@pytest.mark.parametrize(
    ("params", "n", "has_more"),
    [
        ({"limit": 2}, 2, True),
        ({"limit": "2", "offset": "10"}, 2, False),
        ({"limit": 2.0, "offset": 11.0}, 1, False),
        ({"offset": 12}, 0, False),
        ({"offset": 100}, 0, False),
        ({"limit": 0}, 5, True),  # limit 0 means not given
        ({"limit": None, "offset": ""}, 5, True),
        ({"offset": 9}, 3, False),
        ({"offset": 3, "limit": 3}, 3, True),
    ],
)
async def test_offset_limit_combinations(server, session, params, n, has_more):
    answer = await call(session, server, "daily", params)
    assert len(answer["data"]["items"]) == n
    assert answer["data"]["has_more"] is has_more


@pytest.mark.parametrize(("name", "value"), [("offset", -1), ("limit", "abc"), ("limit", 2.5), ("offset", True)])
async def test_bad_offset_or_limit(server, session, name, value):
    answer = await call(session, server, "daily", {name: value})
    assert (answer["code"], answer["msg"]) == (40101, f"{name} 参数格式错误：应为非负整数")


async def test_an_empty_result_keeps_its_fields(server, session):
    answer = await call(session, server, "daily", {"trade_date": "20990101"}, fields="ts_code,close")
    assert answer["code"] == 0
    assert answer["data"] == {"fields": ["ts_code", "close"], "items": [], "has_more": False}


# ---- values ---------------------------------------------------------------------------------------------


async def test_values_nulls_ints_floats_strings(server, session):
    body = {"api_name": "income", "token": TOKEN_2000, "params": {"ts_code": "000001.SZ"},
            "fields": "end_date,ann_date,n_income,notice_times,is_audit,update_flag"}
    async with session.post(server.url, json=body) as resp:
        raw = (await resp.read()).decode()
    assert "NaN" not in raw
    items = json.loads(raw)["data"]["items"]
    assert items[0] == ["20231231", "20240320", 1e12, 3, 1, "1"]
    assert items[3] == ["20230331", None, None, None, 0, "1"]
    assert items[2] == ["20230331", "20230420", 1.25, 1, 0, "0"]
    assert all(type(item[3]) is int for item in items if item[3] is not None)
    assert type(items[0][2]) is float
    # Ints are written without a fraction; floats never as bare integers (the SDK would infer int64).
    assert re.search(r'\["20231231","20240320",(1e\+12|1000000000000\.0),3,1,"1"\]', raw)


async def test_float_values_round_trip_exactly(server, session, market):
    got = rows(await call(session, server, "daily", {"ts_code": "600000.SH"}, fields="trade_date,close,ah_vol"))
    truth = market.daily[market.daily["ts_code"] == "600000.SH"].iloc[::-1]
    assert [r["close"] for r in got] == truth["close"].tolist()
    assert all(r["ah_vol"] is None for r in got)
    assert not any(isinstance(r["close"], float) and math.isnan(r["close"]) for r in got)


async def test_a_market_failure_is_a_system_error_and_the_server_survives(server, session):
    answer = await call(session, server, "broken", {})
    assert answer["code"] == SYSTEM_ERROR_CODE and answer["data"] is None
    assert answer["msg"] == f"系统未知错误，欢迎上报！ 谢谢！request-id({answer['request_id']})"
    assert (await call(session, server, "daily", {}))["code"] == 0


# ---- tokens and stats -----------------------------------------------------------------------------------


def test_builtin_tokens_are_56_hex_sandbox_tokens_with_their_tiers():
    assert BUILTIN_TOKENS == {TOKEN_120: 120, TOKEN_2000: 2000, TOKEN_5000: 5000, TOKEN_10000: 10000}
    for token in BUILTIN_TOKENS:
        assert re.fullmatch(r"5a4db0c5[0-9a-f]{48}", token)
    assert sandbox_token("points-2000") == TOKEN_2000  # deterministic


async def test_added_tokens_are_accepted_with_their_tier(market, session):
    extra = "f" * 56
    async with SandboxServer(market, tokens={extra: 120}) as srv:
        assert (await call(session, srv, "daily", {}, token=extra))["code"] == 0
        assert (await call(session, srv, "income", {"ts_code": "X"}, token=extra))["code"] == 40203
        srv.add_token(extra, 5000)
        assert (await call(session, srv, "income_vip", {"period": "1"}, token=extra))["code"] == 0
        srv.tokens.remove(extra)
        assert (await call(session, srv, "daily", {}, token=extra))["msg"] == TOKEN_ERROR
        assert (await call(session, srv, "daily", {}, token=TOKEN_2000))["code"] == 0  # built-ins stay


async def test_stats_count_calls_tokens_errors_and_rows(server, session):
    assert server.stats.total_calls == 0
    await call(session, server, "daily", {"trade_date": "20240102"})
    await call(session, server, "daily", {})
    await call(session, server, "income", {}, token=TOKEN_2000)
    await call(session, server, "income", {"ts_code": "X"}, token="bad")
    await post(session, server.url, b"garbage", raw=True)
    stats = server.stats
    assert stats.requests == 5
    assert stats.calls == {"daily": 2, "income": 2}
    assert stats.total_calls == 4
    assert stats.calls_by_token == {TOKEN_2000: 3, "bad": 1}
    assert stats.ok == {"daily": 2}
    assert stats.rows == {"daily": 3 + 5}
    assert stats.errors == {40101: 3}
    last = stats.recent[-2]
    assert (last.api_name, last.code, last.params) == ("income", 40101, {"ts_code": "X"})
    assert not any(TOKEN_2000 in repr(record) for record in stats.recent)
    stats.reset()
    assert stats.total_calls == 0 and stats.requests == 0 and not stats.recent


# ---- life cycle -----------------------------------------------------------------------------------------


async def test_explicit_port_and_clean_stop(market):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    srv = SandboxServer(market, port=port)
    await srv.start()
    assert srv.url == f"http://127.0.0.1:{port}"
    await srv.stop()
    with pytest.raises(RuntimeError):
        _ = srv.url
    # The port is free again: a second server can take it.
    async with SandboxServer(market, port=port) as again:
        assert again.port == port


async def test_a_busy_port_fails_at_start(server, market):
    with pytest.raises(OSError):
        async with SandboxServer(market, port=server.port):
            pass


def test_thread_backed_sandbox_for_synchronous_callers(market):
    with run_sandbox_in_thread(market) as srv:
        body = {"api_name": "daily", "token": TOKEN_2000, "params": {"trade_date": "20240105"}, "fields": ""}
        answer = requests.post(srv.url + "/dataapi/daily", json=body, timeout=10).json()
        assert answer["code"] == 0 and len(answer["data"]["items"]) == 3
        assert srv.stats.calls["daily"] == 1
        url = srv.url
    with pytest.raises(requests.ConnectionError):
        requests.post(url, json=body, timeout=2)


def test_thread_backed_sandbox_raises_start_up_errors(market):
    with run_sandbox_in_thread(market) as first, pytest.raises(OSError):
        with run_sandbox_in_thread(market, port=first.port):
            pass


# ---- the JSON renderer ----------------------------------------------------------------------------------

_cells = st.tuples(
    st.one_of(st.none(), st.text(max_size=12)),
    st.one_of(st.none(), st.floats(width=64),
              st.sampled_from([math.inf, -math.inf, math.nan, 0.0, -0.0, 57.0, 1e16, 1e12, -3.0, 2.0**60])),
    st.one_of(st.none(), st.integers(min_value=-(2**53), max_value=2**53)),
)


@settings(max_examples=150, deadline=None)
@given(st.lists(_cells, max_size=30), st.integers(0, 35), st.integers(0, 35))
def test_rendered_pages_read_back_as_exact_typed_values(cells, start, length):
    frame = pd.DataFrame({
        "s": pd.Series([c[0] for c in cells], dtype=object),
        "f": pd.Series([c[1] for c in cells], dtype="float64"),
        "i": pd.Series([c[2] for c in cells], dtype="Int64"),
    })
    api = ApiDef(name="x", fields=(FieldDef("s", "s"), FieldDef("f", "f"), FieldDef("i", "i")), params=(),
                 required=(), row_cap=100, min_points=0, sort_desc=(), query=lambda m, p: frame)
    result = QueryResult(api, frame)
    got = json.loads(result.page_json(["i", "s", "f"], start, start + length))
    expected = [
        [i, s, None if f is None or not math.isfinite(f) else f] for s, f, i in cells[start:start + length]
    ]
    assert got == expected
    for row in got:
        assert row[0] is None or type(row[0]) is int
        assert row[2] is None or type(row[2]) is float
        assert row[1] is None or type(row[1]) is str


def test_json_tokens_accept_loosely_typed_market_columns():
    assert json_tokens(pd.Series([1, 2.0, None, "x"], dtype=object), "f").to_pylist() == [
        "1.0", "2.0", "null", "null"]
    assert json_tokens(pd.Series([3.0, float("nan")]), "i").to_pylist() == ["3", "null"]
    assert json_tokens(pd.Series([20240102, None, "a\"b"], dtype=object), "s").to_pylist() == [
        '"20240102"', "null", '"a\\"b"']
    assert json_tokens(pd.Series(["上证", None], dtype="str"), "s").to_pylist() == ['"上证"', "null"]
    chunked = pd.Series(pd.arrays.ArrowExtensionArray(pa.chunked_array([["a", None], ["b\\", "c"]])))
    assert json_tokens(chunked, "s").to_pylist() == ['"a"', "null", '"b\\\\"', '"c"']
    sliced = pd.Series(["x", "y\n", "z"], dtype="str").iloc[2:]
    assert json_tokens(sliced, "s").to_pylist() == ['"z"']
    assert json_tokens(pd.Series([57.0, 1e16, -0.0, 0.5, float("inf")]), "f").to_pylist() == [
        "57.0", "1e+16", "-0.0", "0.5", "null"]


async def test_a_slow_market_query_does_not_stall_other_requests(market, session):
    gate = threading.Event()

    def slow_query(m: Any, params: Mapping[str, str]) -> pd.DataFrame:
        assert gate.wait(10)  # runs in a worker thread, so blocking here blocks no one else
        return pd.DataFrame({"x": ["done"]})

    market.apis["slow"] = ApiDef(name="slow", fields=(FieldDef("x", "s"),), params=(), required=(), row_cap=10,
                                 min_points=120, sort_desc=(), query=slow_query)
    async with SandboxServer(market) as srv:
        slow = asyncio.create_task(call(session, srv, "slow", {}))
        await asyncio.sleep(0.05)
        fast = await call(session, srv, "daily", {"trade_date": "20240102"})
        assert fast["code"] == 0 and not slow.done()
        gate.set()
        assert (await slow)["data"]["items"] == [["done"]]
