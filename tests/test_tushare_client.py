"""The Tushare client against the real sandbox server on loopback, over a small hand-made market whose
every row is known: envelope, paging edge cases, typing, every error class, retries, quota waits."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import AsyncIterator, Mapping
from typing import Any

import aiohttp
import pandas as pd
import pyarrow as pa
import pytest

from alphahome.sandbox.apidef import ApiDef, FieldDef
from alphahome.sandbox.faults import FaultConfig
from alphahome.sandbox.quota import QuotaLimits
from alphahome.sandbox.server import SandboxServer
from alphahome.sandbox.tokens import TOKEN_120, TOKEN_2000, TOKEN_5000
from alphahome.sources.tushare.client import CallStats, TushareClient
from alphahome.sources.tushare.errors import (
    PermissionDenied,
    PossiblyTruncated,
    QuotaExceeded,
    RequestError,
    ServiceError,
    TokenRejected,
    TransportError,
)
from alphahome.sources.tushare.rate_limiter import Budget, RateLimiter

FIELDS = ["ts_code", "trade_date", "close", "vol", "flag"]
TYPES = {"ts_code": "s", "trade_date": "s", "close": "f", "vol": "i", "flag": "s"}
CAP = 7


def _toy_rows() -> pd.DataFrame:
    rows = []
    for day in range(1, 12):
        for code in ("000001.SZ", "600000.SH"):
            close = None if (day, code) == (3, "600000.SH") else round(10 + day * 0.25, 2)
            rows.append({
                "ts_code": code,
                "trade_date": f"202401{day:02d}",
                "close": close,
                "vol": day * 100,
                "flag": None if day % 5 == 0 else "1",
            })
    rows.append({"ts_code": "000002.SZ", "trade_date": "20240105", "close": 7.5, "vol": 1, "flag": "0"})
    return pd.DataFrame(rows)  # 23 rows


TOY = _toy_rows()


def _query(market: Any, params: Mapping[str, str]) -> pd.DataFrame:
    frame = TOY
    if "ts_code" in params:
        frame = frame[frame["ts_code"].isin(params["ts_code"].split(","))]
    if "trade_date" in params:
        frame = frame[frame["trade_date"] == params["trade_date"]]
    if "start_date" in params:
        frame = frame[frame["trade_date"] >= params["start_date"]]
    if "end_date" in params:
        frame = frame[frame["trade_date"] <= params["end_date"]]
    return frame.reset_index(drop=True)


def _api(name: str, min_points: int, **quota: int) -> ApiDef:
    return ApiDef(
        name=name,
        fields=(FieldDef("ts_code", "s"), FieldDef("trade_date", "s"), FieldDef("close", "f"),
                FieldDef("vol", "i"), FieldDef("flag", "s", default=False)),
        params=("ts_code", "trade_date", "start_date", "end_date"),
        required=(("ts_code", "trade_date", "start_date"),),
        row_cap=CAP,
        min_points=min_points,
        sort_desc=("trade_date", "ts_code"),
        query=_query,
        **quota,
    )


class ToyMarket:
    """A market of three APIs over the same 23 rows: free, regular and vip."""

    apis: Mapping[str, ApiDef] = {
        "toy": _api("toy", 120),
        "toy_regular": _api("toy_regular", 2000),
        "toy_vip": _api("toy_vip", 5000),
    }


def truth(params: Mapping[str, str], fields: list[str] = FIELDS) -> list[tuple[Any, ...]]:
    frame = _query(None, params)[fields]
    rows = [tuple(None if pd.isna(v) else v for v in row) for row in frame.itertuples(index=False)]
    return sorted(rows, key=lambda r: (r[0], r[1]))


def table_rows(table: pa.Table) -> list[tuple[Any, ...]]:
    rows = [tuple(r.values()) for r in table.to_pylist()]
    return sorted(rows, key=lambda r: (r[0], r[1]))


ALL = {"start_date": "20240101"}


@pytest.fixture
async def server() -> AsyncIterator[SandboxServer]:
    async with SandboxServer(ToyMarket(), quotas_enabled=False) as srv:
        yield srv


def make_client(url: str, token: str = TOKEN_2000, limiter: RateLimiter | None = None, **kw: Any) -> TushareClient:
    kw.setdefault("retry_delay", 0.01)
    return TushareClient(token, url, limiter=limiter or RateLimiter(), **kw)


# --- success, envelope, paging ---------------------------------------------------------------------------


async def test_call_posts_the_reference_envelope_and_maps_by_fields(server: SandboxServer) -> None:
    async with make_client(server.url) as client:
        page = await client.call(
            "toy", {"ts_code": ["000001.SZ", "000002.SZ"], "start_date": dt.date(2024, 1, 4),
                    "end_date": "2024-01-05", "unused": None},
            ["trade_date", "ts_code", "close"],
        )
    assert page.fields == ["trade_date", "ts_code", "close"]
    assert sorted(page.rows) == [["20240104", "000001.SZ", 11.0], ["20240105", "000001.SZ", 11.25],
                                 ["20240105", "000002.SZ", 7.5]]
    assert page.has_more is False
    assert page.request_id is not None and len(page.request_id) >= 32
    sent = server.stats.recent[-1]
    # Params nested, dates as YYYYMMDD, lists comma-joined, None dropped; fields a comma string.
    assert sent.params == {"ts_code": "000001.SZ,000002.SZ", "start_date": "20240104", "end_date": "20240105"}
    assert sent.fields == "trade_date,ts_code,close"


async def test_fetch_pages_to_exactly_the_truth_with_typed_columns(server: SandboxServer) -> None:
    async with make_client(server.url) as client:
        table = await client.fetch("toy", ALL, FIELDS, page_size=CAP, types=TYPES)
    assert table.column_names == FIELDS
    assert table.schema.types == [pa.string(), pa.string(), pa.float64(), pa.int64(), pa.string()]
    assert table_rows(table) == truth(ALL)
    assert table.num_rows == 23
    # None stays null, never 0.
    assert table.column("close").null_count == 1
    assert table.column("flag").null_count == 4
    # 23 rows at 7 per page: 7 + 7 + 7 + 2.
    assert server.stats.calls["toy"] == 4
    offsets = [(r.params["offset"], r.params["limit"]) for r in server.stats.recent]
    assert offsets == [(0, 7), (7, 7), (14, 7), (21, 7)]


async def test_a_full_last_page_without_has_more_asks_for_the_next_offset(server: SandboxServer) -> None:
    params = {"ts_code": "000001.SZ,600000.SH", "start_date": "20240101", "end_date": "20240107"}  # 14 rows
    async with make_client(server.url) as client:
        table = await client.fetch("toy", params, FIELDS, page_size=CAP, types=TYPES)
    assert table_rows(table) == truth(params)
    # 7 + 7 (exactly at the cap, possibly truncated) + an empty page that proves the end.
    assert server.stats.calls["toy"] == 3


async def test_a_page_size_above_the_server_cap_follows_has_more(server: SandboxServer) -> None:
    async with make_client(server.url) as client:
        table = await client.fetch("toy", ALL, FIELDS, page_size=10, types=TYPES)
    assert table_rows(table) == truth(ALL)
    # The server cuts each page at 7 with has_more: offsets 0, 7, 14, 21.
    assert [r.params["offset"] for r in server.stats.recent] == [0, 7, 14, 21]


async def test_an_api_without_offset_paging_raises_possibly_truncated(server: SandboxServer) -> None:
    async with make_client(server.url) as client:
        with pytest.raises(PossiblyTruncated) as info:
            await client.fetch("toy", ALL, FIELDS, page_size=CAP, offset_paging=False)
        assert info.value.rows == CAP
        assert info.value.api == "toy"
        assert info.value.params == ALL
        assert "split" in str(info.value)
        one_day = {"trade_date": "20240102"}
        table = await client.fetch("toy", one_day, FIELDS, page_size=CAP, offset_paging=False, types=TYPES)
    assert table_rows(table) == truth(one_day)
    assert "offset" not in server.stats.recent[-1].params


async def test_an_empty_result_still_has_the_requested_columns_in_order(server: SandboxServer) -> None:
    async with make_client(server.url) as client:
        typed = await client.fetch("toy", {"trade_date": "20231231"}, ["vol", "ts_code", "close"],
                                   page_size=CAP, types=TYPES)
        untyped = await client.fetch("toy", {"trade_date": "20231231"}, ["vol", "ts_code"], page_size=CAP)
    assert typed.num_rows == 0
    assert typed.column_names == ["vol", "ts_code", "close"]
    assert typed.schema.types == [pa.int64(), pa.string(), pa.float64()]
    assert untyped.column_names == ["vol", "ts_code"]


async def test_default_fields_and_inferred_types(server: SandboxServer) -> None:
    async with make_client(server.url) as client:
        table = await client.fetch("toy", ALL, None, page_size=CAP)
        dated = await client.fetch("toy", ALL, ["trade_date"], page_size=CAP, types={"trade_date": "d"})
    # The server's default columns (flag is non-default), types inferred from the values.
    assert table.column_names == ["ts_code", "trade_date", "close", "vol"]
    assert table.schema.types == [pa.string(), pa.string(), pa.float64(), pa.int64()]
    assert dated.schema.types == [pa.date32()]
    assert min(dated.column("trade_date").to_pylist()) == dt.date(2024, 1, 1)


async def test_fetch_refuses_caller_paging_params(server: SandboxServer) -> None:
    async with make_client(server.url) as client:
        with pytest.raises(ValueError, match="offset"):
            await client.fetch("toy", {"start_date": "20240101", "offset": 5}, FIELDS, page_size=CAP)
        with pytest.raises(ValueError, match="page_size"):
            await client.fetch("toy", ALL, FIELDS, page_size=0)


# --- errors that must not be retried ---------------------------------------------------------------------


async def test_a_bad_token_is_rejected_at_once_without_leaking_it(
    server: SandboxServer, caplog: pytest.LogCaptureFixture
) -> None:
    bad = "f" * 56
    caplog.set_level(logging.DEBUG)
    async with make_client(server.url, token=bad) as client:
        with pytest.raises(TokenRejected) as info:
            await client.call("toy", ALL, FIELDS)
        assert bad not in repr(client)
    err = info.value
    assert err.exit_code == 2
    assert err.code == 40101
    assert "token" in str(err)
    assert err.request_id
    assert bad not in str(err) and bad not in repr(err.__dict__)
    assert server.stats.calls["toy"] == 1  # not retried
    assert all(bad not in r.getMessage() for r in caplog.records)


async def test_a_tier_too_low_is_permission_denied_naming_the_api(server: SandboxServer) -> None:
    async with make_client(server.url, token=TOKEN_2000, api_points={"toy_vip": 5000}) as client:
        with pytest.raises(PermissionDenied) as info:
            await client.fetch("toy_vip", ALL, FIELDS, page_size=CAP)
    err = info.value
    assert err.api == "toy_vip"
    assert err.code == 40203
    assert err.points_needed == 5000
    assert "tushare API 'toy_vip' refused: your token lacks permission (needs 5000 points" in str(err)
    assert server.stats.calls["toy_vip"] == 1

    async with make_client(server.url, token=TOKEN_120) as client:
        with pytest.raises(PermissionDenied, match=r"'toy_regular'.*needs 2000 points"):
            await client.call("toy_regular", ALL, FIELDS)
    async with make_client(server.url, token=TOKEN_5000) as client:
        assert len((await client.call("toy_vip", {"trade_date": "20240102"}, FIELDS)).rows) == 2


async def test_bad_requests_are_request_errors(server: SandboxServer) -> None:
    async with make_client(server.url) as client:
        with pytest.raises(RequestError, match="ts_code required") as missing:
            await client.call("toy", {}, FIELDS)
        with pytest.raises(RequestError, match="unknown API name 'no_such_api'"):
            await client.call("no_such_api", ALL, FIELDS)
    assert missing.value.code == 40101
    assert server.stats.total_calls == 2  # neither retried


# --- retried errors --------------------------------------------------------------------------------------


async def test_injected_faults_are_retried_and_the_data_equals_the_truth(
    server: SandboxServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="alphahome.tushare")
    server.faults = FaultConfig(http5xx=0.2, truncate=0.15, system=0.15, seed=3)
    counter = CallStats()
    async with make_client(server.url, max_retries=10) as client:
        tables = [await client.fetch("toy", ALL, FIELDS, page_size=CAP, types=TYPES, counter=counter)
                  for _ in range(4)]
        stats = client.stats()["toy"]
    for table in tables:
        assert table_rows(table) == truth(ALL)
    faults = server.stats.faults
    assert faults["http5xx"] > 0 and faults["truncate"] > 0 and faults["system"] > 0
    injected = faults["http5xx"] + faults["truncate"] + faults["system"]
    assert stats.retries == injected == stats.failed
    assert stats.ok == 16
    assert stats.waits == 0 and stats.quota_errors == 0  # an unlimited limiter holds nothing back
    assert stats.calls == server.stats.calls["toy"] == 16 + injected
    assert counter.calls == stats.calls and counter.retries == stats.retries and counter.rows == 4 * 23
    retry_lines = [r.getMessage() for r in caplog.records if "retry" in r.getMessage()]
    assert len(retry_lines) == injected
    assert any("HTTP 50" in line for line in retry_lines)
    assert any("malformed" in line for line in retry_lines)
    assert any("service error" in line for line in retry_lines)
    assert all(TOKEN_2000 not in line for line in retry_lines)


async def test_a_delay_past_the_timeout_is_retried() -> None:
    faults = FaultConfig(quota_next={}, delay=0.3, delay_seconds=1.0, seed=5)
    async with SandboxServer(ToyMarket(), quotas_enabled=False, faults=faults) as srv:
        async with make_client(srv.url, timeout=0.25, max_retries=10) as client:
            table = await client.fetch("toy", ALL, FIELDS, page_size=CAP, types=TYPES)
            stats = client.stats()["toy"]
    assert table_rows(table) == truth(ALL)
    assert srv.stats.faults["delay"] > 0
    assert stats.retries == srv.stats.faults["delay"]


async def test_exhausted_retries_raise_the_last_transport_or_service_error(server: SandboxServer) -> None:
    server.faults = FaultConfig(http5xx=1.0)
    async with make_client(server.url, max_retries=2) as client:
        with pytest.raises(TransportError) as info:
            await client.call("toy", ALL, FIELDS)
        assert info.value.status in (502, 503)
        assert client.stats()["toy"].calls == 3
        assert client.stats()["toy"].failed == 3
    assert server.stats.calls["toy"] == 3

    server.faults = FaultConfig(system=1.0)
    async with make_client(server.url, max_retries=1) as client:
        with pytest.raises(ServiceError, match="系统未知错误"):
            await client.call("toy", ALL, FIELDS)
    assert server.stats.calls["toy"] == 5


async def test_a_dead_server_is_a_transport_error(server: SandboxServer) -> None:
    # A server that answered before and then goes away: a retried transport error.
    url = server.url
    async with make_client(url, max_retries=1) as client:
        await client.call("toy", ALL, FIELDS)
        await server.stop()
        with pytest.raises(TransportError, match="request failed"):
            await client.call("toy", ALL, FIELDS)
        assert client.stats()["toy"].calls == 3


async def test_a_server_that_never_answered_is_unreachable_at_once(server: SandboxServer) -> None:
    # A wrong URL or no network (docs/monitoring.md): not retried, the run stops with one line.
    from alphahome.sources.tushare.errors import ServerUnreachable

    url = server.url
    await server.stop()
    async with make_client(url, max_retries=3) as client:
        with pytest.raises(ServerUnreachable, match=f"cannot reach Tushare at {url}: Cannot connect to host"):
            await client.call("toy", ALL, FIELDS)
        assert client.stats()["toy"].calls == 1


# --- quota -----------------------------------------------------------------------------------------------


async def test_quota_errors_are_waited_out_and_the_budget_learned() -> None:
    # The server allows 3 calls per (scaled) minute of 0.6 s; the client believes in 20.
    async with SandboxServer(ToyMarket(), time_scale=0.01,
                             quota_overrides={"toy": QuotaLimits(per_minute=3)}) as srv:
        limiter = RateLimiter({"toy": Budget(per_minute=20)}, time_scale=0.01, margin=0.25)
        async with make_client(srv.url, limiter=limiter) as client:
            table = await client.fetch("toy", ALL, FIELDS, page_size=CAP, types=TYPES)
            again = await client.fetch("toy", ALL, FIELDS, page_size=CAP, types=TYPES)
            stats = client.stats()["toy"]
    assert table_rows(table) == table_rows(again) == truth(ALL)
    assert limiter.budget("toy").per_minute == 3
    assert stats.quota_errors == srv.stats.errors[40203] >= 1
    assert stats.ok == 8 and stats.retries == 0
    # Once learned, the budget is right: the second fetch met no quota error.
    assert stats.quota_errors == 1


async def test_forced_quota_errors_never_fail_a_fetch(server: SandboxServer) -> None:
    server.faults = FaultConfig(quota_next={"toy": 2})
    limiter = RateLimiter(time_scale=0.005)
    async with make_client(server.url, limiter=limiter, max_retries=0) as client:
        table = await client.fetch("toy", ALL, FIELDS, page_size=CAP, types=TYPES)
        stats = client.stats()["toy"]
    assert table_rows(table) == truth(ALL)
    assert stats.quota_errors == 2 and stats.retries == 0 and stats.failed == 0
    assert stats.calls == stats.ok + 2
    assert stats.waits >= 1
    assert limiter.stats()["toy"].pauses == 2


async def test_a_daily_quota_stops_that_api() -> None:
    async with SandboxServer(ToyMarket(), quota_overrides={"toy": QuotaLimits(per_day=2)}) as srv:
        async with make_client(srv.url) as client:
            for _ in range(2):
                await client.call("toy", {"trade_date": "20240102"}, FIELDS)
            with pytest.raises(QuotaExceeded) as info:
                await client.call("toy", {"trade_date": "20240102"}, FIELDS)
            assert info.value.window == "day" and info.value.limit == 2
            with pytest.raises(QuotaExceeded, match="daily"):
                await client.call("toy", {"trade_date": "20240102"}, FIELDS)
            # Other APIs go on.
            await client.call("toy_regular", {"trade_date": "20240102"}, FIELDS)
    assert srv.stats.calls["toy"] == 3  # the last refusal came from the limiter, not the server


async def test_concurrent_tasks_share_one_budget_with_zero_quota_errors() -> None:
    # The margin (0.75 s of a scaled 3 s minute) absorbs the jitter between a granted slot and the server's
    # clock, which on a loaded test machine sharing one event loop with the server can reach hundreds of ms.
    async with SandboxServer(ToyMarket(), time_scale=0.05,
                             quota_overrides={"toy": QuotaLimits(per_minute=6)}) as srv:
        limiter = RateLimiter({"toy": Budget(per_minute=6)}, time_scale=0.05, margin=0.25)
        async with make_client(srv.url, limiter=limiter) as client:
            async with asyncio.TaskGroup() as tg:
                tasks = [tg.create_task(client.fetch("toy", {"trade_date": f"202401{d:02d}"}, FIELDS,
                                                     page_size=CAP, types=TYPES))
                         for d in range(1, 12)]
    for day, task in enumerate(tasks, start=1):
        assert table_rows(task.result()) == truth({"trade_date": f"202401{day:02d}"})
    assert srv.stats.errors[40203] == 0
    assert limiter.stats()["toy"].waits > 0


# --- session and cancellation ----------------------------------------------------------------------------


async def test_one_session_closed_on_exit_and_a_given_session_left_open(server: SandboxServer) -> None:
    client = make_client(server.url)
    async with client:
        await client.call("toy", {"trade_date": "20240102"}, FIELDS)
        session = client._session
        await client.call("toy", {"trade_date": "20240103"}, FIELDS)
        assert client._session is session
    assert session is not None and session.closed

    async with aiohttp.ClientSession() as own:
        async with make_client(server.url, session=own) as client:
            await client.call("toy", {"trade_date": "20240102"}, FIELDS)
        assert not own.closed


async def test_a_cancelled_call_propagates_cancellation() -> None:
    async with SandboxServer(ToyMarket(), quotas_enabled=False,
                             faults=FaultConfig(delay=1.0, delay_seconds=5.0)) as srv:
        async with make_client(srv.url) as client:
            task = asyncio.create_task(client.call("toy", ALL, FIELDS))
            await asyncio.sleep(0.2)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            assert client.stats()["toy"].retries == 0


def test_constructor_validates_its_arguments() -> None:
    limiter = RateLimiter()
    with pytest.raises(ValueError, match="token"):
        TushareClient("  ", limiter=limiter)
    with pytest.raises(ValueError, match="timeout"):
        TushareClient("t", limiter=limiter, timeout=0)
    with pytest.raises(ValueError, match="max_retries"):
        TushareClient("t", limiter=limiter, max_retries=-1)


# --- a misbehaving server (a few lines of aiohttp) -------------------------------------------------------


@pytest.fixture
async def scripted() -> AsyncIterator[tuple[str, list[Any]]]:
    """A server answering each request with the next scripted body (bytes, or a dict sent as JSON)."""
    from aiohttp import web

    script: list[Any] = []

    async def handle(request: web.Request) -> web.Response:
        body = script.pop(0) if len(script) > 1 else script[0]
        if isinstance(body, bytes):
            return web.Response(body=body, content_type="application/json")
        return web.json_response(body)

    app = web.Application()
    app.router.add_post("/", handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield f"http://127.0.0.1:{port}", script
    finally:
        await runner.cleanup()


def _ok(rows: list[list[Any]], has_more: bool = False, fields: list[str] | None = None) -> dict[str, Any]:
    return {"request_id": "r" * 32, "code": 0, "msg": "", "message": "extra keys are ignored",
            "data": {"fields": fields or ["a", "b"], "items": rows, "has_more": has_more, "count": 0}}


async def test_a_server_that_ignores_offset_is_caught(scripted: tuple[str, list[Any]]) -> None:
    url, script = scripted
    script.append(_ok([[1, "x"], [2, "y"]]))
    async with make_client(url) as client:
        with pytest.raises(PossiblyTruncated, match="ignored offset=2"):
            await client.fetch("toy", {}, ["a", "b"], page_size=2)


async def test_malformed_envelopes_are_transport_errors(scripted: tuple[str, list[Any]]) -> None:
    url, script = scripted
    bad = [
        b'{"code": 0, "data": {"fields": ["a"], "items": [[1]',  # truncated
        b"<html>nginx</html>",
        {"msg": "no code"},
        {"code": 0, "msg": "", "data": None},
        _ok([[1, "x"], [2]]),  # a short row
        {"code": "zero", "msg": ""},
    ]
    async with make_client(url, max_retries=0) as client:
        for body in bad:
            script[:] = [body]
            with pytest.raises(TransportError, match="malformed"):
                await client.call("toy", {}, ["a", "b"])


async def test_rows_are_mapped_by_the_servers_field_order(scripted: tuple[str, list[Any]]) -> None:
    url, script = scripted
    # The server answers in its own column order, and without the requested column 'c'.
    script.append(_ok([["x", 1], ["y", None]], fields=["b", "a"]))
    async with make_client(url) as client:
        table = await client.fetch("toy", {}, ["a", "b", "c"], page_size=100, types={"a": "i", "b": "s", "c": "f"})
    assert table.column_names == ["a", "b", "c"]
    assert table.to_pylist() == [{"a": 1, "b": "x", "c": None}, {"a": None, "b": "y", "c": None}]
