"""The sandbox server over the real synthetic market: every API answers with typed default columns in
newest-first order, tiers and required params hold per API, paging reassembles the ground truth exactly,
and answers are byte-identical across processes."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import subprocess
import sys
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pandas as pd
import pytest

from alphahome.sandbox.apidef import ApiDef
from alphahome.sandbox.market import Market
from alphahome.sandbox.server import SandboxServer
from alphahome.sandbox.tokens import TOKEN_120, TOKEN_2000, TOKEN_5000, TOKEN_10000

SEED, SCALE, END = 7, "small", dt.date(2024, 6, 28)
DOC = "权限的具体详情访问：https://tushare.pro/document/1?doc_id=108。"


@pytest.fixture(scope="module")
def market() -> Market:
    return Market(seed=SEED, scale=SCALE, end_date=END)


@pytest.fixture
async def server(market: Market) -> AsyncIterator[SandboxServer]:
    async with SandboxServer(market, quotas_enabled=False) as srv:
        yield srv


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as s:
        yield s


async def call(session: aiohttp.ClientSession, srv: SandboxServer, api: str, params: dict[str, Any],
               fields: Any = "", token: str = TOKEN_5000) -> dict[str, Any]:
    body = {"api_name": api, "token": token, "params": params, "fields": fields}
    async with session.post(srv.url + "/dataapi/" + api, json=body) as resp:
        assert resp.status == 200
        return json.loads(await resp.read())


def required_params(market: Market, api: ApiDef) -> dict[str, str]:
    """A value for the first param of each required group, taken from the API's ground truth."""
    truth = market.truth(api.name)
    params: dict[str, str] = {}
    for group in api.required:
        name = group[0]
        column = truth[name].dropna()
        assert len(column), f"{api.name}: no {name} in the ground truth"
        params[name] = str(column.iloc[len(column) // 2])
    return params


def check_types(api: ApiDef, fields: list[str], items: list[list[Any]]) -> None:
    kinds = {f.name: f.type for f in api.fields}
    allowed = {"s": (str,), "f": (float,), "i": (int,)}
    for row in items:
        for name, value in zip(fields, row, strict=True):
            if value is not None:
                assert type(value) in allowed[kinds[name]], f"{api.name}.{name}: {value!r} is not {kinds[name]}"


def check_newest_first(api: ApiDef, fields: list[str], items: list[list[Any]]) -> None:
    keys = [fields.index(c) for c in api.sort_desc if c in fields]
    if not keys:
        return
    first = keys[0]
    values = [row[first] for row in items if row[first] is not None]
    assert values == sorted(values, reverse=True), f"{api.name} is not newest-first by {api.sort_desc[0]}"


async def test_every_api_answers_with_typed_default_columns_newest_first(market, server, session):
    assert len(market.apis) >= 29
    for name, api in sorted(market.apis.items()):
        token = TOKEN_5000 if api.min_points <= 5000 else TOKEN_10000
        answer = await call(session, server, name, required_params(market, api), token=token)
        assert answer["code"] == 0, f"{name}: {answer['msg']}"
        data = answer["data"]
        assert data["fields"] == api.default_field_names, name
        assert data["items"], f"{name}: no rows"
        assert len(data["items"]) <= api.row_cap
        check_types(api, data["fields"], data["items"])
        check_newest_first(api, data["fields"], data["items"])
        # Every non-default column comes back when named.
        extra = [f.name for f in api.fields if not f.default]
        if extra:
            named = await call(session, server, name, required_params(market, api), fields=extra,
                               token=token)
            assert named["code"] == 0, f"{name}: {named['msg']}"
            assert named["data"]["fields"] == extra, name
            check_types(api, extra, named["data"]["items"])


async def test_required_params_and_tiers_per_api(market, server, session):
    for name, api in sorted(market.apis.items()):
        if api.required:
            answer = await call(session, server, name, {})
            assert (answer["code"], answer["msg"]) == (40101, f"{api.required[0][0]} required"), name
        params = required_params(market, api)
        for token, points in ((TOKEN_120, 120), (TOKEN_2000, 2000), (TOKEN_5000, 5000)):
            answer = await call(session, server, name, params, token=token)
            if api.min_points > points:
                assert (answer["code"], answer["msg"]) == (40203, f"抱歉，您没有接口({name})访问权限，{DOC}")
            else:
                assert answer["code"] == 0, f"{name} at {points}: {answer['msg']}"
    assert market.apis["daily"].min_points == 120
    assert all(api.min_points == 5000 for name, api in market.apis.items() if name.endswith("_vip"))


def normalised(frame: pd.DataFrame, api: ApiDef, *, drop_duplicates: bool = False) -> pd.DataFrame:
    """One representation per Tushare type, rows in a canonical order (exact duplicates dropped on request)."""
    kinds = {f.name: f.type for f in api.fields}
    columns: dict[str, pd.Series] = {}
    for name in frame.columns:
        values = frame[name].reset_index(drop=True)
        if kinds[name] == "f":
            columns[name] = pd.to_numeric(values, errors="raise").astype("float64")
        elif kinds[name] == "i":
            columns[name] = pd.to_numeric(values, errors="raise").astype("Int64")
        else:
            columns[name] = pd.Series([None if pd.isna(v) else v for v in values], dtype=object)
    out = pd.DataFrame(columns, index=range(len(frame)))
    if drop_duplicates:
        out = out.drop_duplicates()
    return out.sort_values(list(out.columns), kind="stable", na_position="last").reset_index(drop=True)


@pytest.mark.parametrize("limit", [None, 4000])
async def test_paging_a_broad_query_reassembles_the_ground_truth(market, server, session, limit):
    api = market.apis["daily"]
    truth = market.truth("daily")
    assert len(truth) > api.row_cap  # several pages
    params: dict[str, Any] = {"start_date": "20000101", "end_date": END.strftime("%Y%m%d")}
    pages, offset = [], 0
    while True:
        answer = await call(session, server, "daily", {**params, "offset": offset, "limit": limit},
                            fields=api.field_names)
        items = answer["data"]["items"]
        assert len(items) == min(limit or api.row_cap, api.row_cap, len(truth) - offset)
        pages.append(pd.DataFrame(items, columns=answer["data"]["fields"]))
        offset += len(items)
        if not answer["data"]["has_more"]:
            break
    assert offset == len(truth)
    got = pd.concat(pages, ignore_index=True)
    pd.testing.assert_frame_equal(normalised(got, api), normalised(truth, api))


async def test_non_default_columns_only_when_named(market, server, session):
    day = market.truth("daily")["trade_date"].max()
    answer = await call(session, server, "daily", {"trade_date": day})
    assert "ah_vol" not in answer["data"]["fields"]
    answer = await call(session, server, "daily", {"trade_date": day}, fields="ts_code,ah_vol,close")
    assert answer["data"]["fields"] == ["ts_code", "ah_vol", "close"]


REQUESTS: list[tuple[str, dict[str, str], str]] = [
    ("daily", {"start_date": "20240101", "end_date": "20240628"}, ""),
    ("trade_cal", {"exchange": "SZSE"}, ""),
    ("stock_basic", {"list_status": "D"}, "ts_code,name,list_date,delist_date"),
    ("index_member_all", {"is_new": "N"}, ""),
    ("adj_factor", {"trade_date": "20240628"}, ""),
]


def answer_digests(seed: int, scale: str, end: dt.date) -> list[str]:
    """sha256 of each answer's bytes after the request_id, from a fresh server over a fresh market."""
    import asyncio

    async def run() -> list[str]:
        out = []
        async with SandboxServer(Market(seed=seed, scale=scale, end_date=end)) as srv, aiohttp.ClientSession() as s:
            for api, params, fields in REQUESTS:
                body = {"api_name": api, "token": TOKEN_5000, "params": params, "fields": fields}
                async with s.post(srv.url, json=body) as resp:
                    raw = await resp.read()
                out.append(hashlib.sha256(raw[raw.index(b'"code"'):]).hexdigest())
        return out

    return asyncio.run(run())


def test_answers_are_byte_identical_across_processes():
    here = answer_digests(SEED, SCALE, END)
    code = (
        "import datetime as dt, json, sys; sys.path.insert(0, 'tests');"
        "from test_sandbox_server_market import answer_digests;"
        f"print(json.dumps(answer_digests({SEED}, {SCALE!r}, dt.date({END.year}, {END.month}, {END.day}))))"
    )
    there = json.loads(subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True,
                                      timeout=120).stdout)
    assert here == there
    assert answer_digests(SEED + 1, SCALE, END) != here

