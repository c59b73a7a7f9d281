"""The Tushare client against the sandbox serving its synthetic market: what the client fetches, paged
and through faults and quotas, equals the market's ground truth (``Market.truth``), NULLs included."""

from __future__ import annotations

import math
from collections.abc import AsyncIterator, Iterable, Mapping
from typing import Any

import pyarrow as pa
import pytest
from conftest import SANDBOX_END

from alphahome.sandbox.faults import FaultConfig
from alphahome.sandbox.market import Market
from alphahome.sandbox.quota import QuotaLimits
from alphahome.sandbox.server import SandboxServer
from alphahome.sandbox.tokens import TOKEN_2000, TOKEN_5000
from alphahome.sources.tushare.client import TushareClient
from alphahome.sources.tushare.errors import PermissionDenied, TokenRejected
from alphahome.sources.tushare.rate_limiter import Budget, RateLimiter, default_budget


@pytest.fixture(scope="module")
def market() -> Market:
    return Market(seed=7, scale="small", end_date=SANDBOX_END)


@pytest.fixture
async def server(market: Market) -> AsyncIterator[SandboxServer]:
    async with SandboxServer(market, quotas_enabled=False) as srv:
        yield srv


def client_for(url: str, token: str = TOKEN_2000, limiter: RateLimiter | None = None, **kw: Any) -> TushareClient:
    kw.setdefault("retry_delay", 0.01)
    return TushareClient(token, url, limiter=limiter or RateLimiter(), **kw)


def _norm(value: Any, kind: str) -> Any:
    if hasattr(value, "item"):
        value = value.item()
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if kind == "i":
        return int(value)
    if kind == "f":
        return float(value)
    return str(value)


def normalised(rows: Iterable[Mapping[str, Any]], kinds: Mapping[str, str]) -> list[tuple[Any, ...]]:
    """Rows as tuples of plain values, in a canonical order (None sorts first)."""
    out = [tuple(_norm(row[name], kind) for name, kind in kinds.items()) for row in rows]
    return sorted(out, key=lambda r: tuple((v is not None, v) for v in r))


def truth_rows(market: Market, dataset: str, **where: Iterable[str]) -> list[tuple[Any, ...]]:
    frame = market.truth(dataset)
    for column, allowed in where.items():
        frame = frame[frame[column].isin(list(allowed))]
    kinds = {f.name: f.type for f in market.apis[dataset].fields}
    return normalised(frame.to_dict("records"), kinds)


def fetched_rows(tables: Iterable[pa.Table], market: Market, api: str) -> list[tuple[Any, ...]]:
    kinds = {f.name: f.type for f in market.apis[api].fields}
    return normalised((row for t in tables for row in t.to_pylist()), kinds)


def spec_of(market: Market, api: str) -> tuple[list[str], dict[str, str]]:
    fields = market.apis[api].fields
    return [f.name for f in fields], {f.name: f.type for f in fields}


async def test_a_whole_table_pages_to_exactly_the_truth(market: Market, server: SandboxServer) -> None:
    fields, types = spec_of(market, "daily")
    async with client_for(server.url) as client:
        at_cap = await client.fetch("daily", {}, fields, page_size=6000, types=types)
        calls_at_cap = server.stats.calls["daily"]
        smaller = await client.fetch("daily", {}, fields, page_size=2500, types=types)
    expected = truth_rows(market, "daily")
    assert len(expected) > 6000  # more than one page at the cap
    assert fetched_rows([at_cap], market, "daily") == expected
    assert fetched_rows([smaller], market, "daily") == expected
    assert at_cap.column_names == fields
    assert calls_at_cap == math.ceil(len(expected) / 6000)
    assert server.stats.calls["daily"] - calls_at_cap == math.ceil(len(expected) / 2500)


async def test_statements_with_null_key_columns_equal_the_truth(market: Market, server: SandboxServer) -> None:
    fields, types = spec_of(market, "income")
    truth = market.truth("income")
    with_null = sorted(truth.loc[truth["f_ann_date"].isna(), "ts_code"].unique())[:2]
    codes = [*with_null, *sorted(set(truth["ts_code"]) - set(with_null))[:2]]
    async with client_for(server.url) as client:
        tables = [
            await client.fetch("income", {"ts_code": code, "report_type": report_type}, fields,
                               page_size=5, types=types)
            for code in codes
            for report_type in ("1", "2")
        ]
    got = fetched_rows(tables, market, "income")
    assert got == truth_rows(market, "income", ts_code=codes)
    assert sum(1 for t in tables for v in t.column("f_ann_date").to_pylist() if v is None) >= 1


async def test_stock_basic_every_list_status(market: Market, server: SandboxServer) -> None:
    fields, types = spec_of(market, "stock_basic")
    async with client_for(server.url) as client:
        tables = [await client.fetch("stock_basic", {"list_status": s}, fields, page_size=6000, types=types)
                  for s in "LDPG"]
    assert fetched_rows(tables, market, "stock_basic") == truth_rows(market, "stock_basic")


async def test_faults_are_retried_and_the_result_is_still_the_truth(market: Market) -> None:
    # A delayed answer (2 s) outlasts the client's timeout (1 s) by far; an ordinary answer, even on a
    # loaded machine, stays well inside it.
    faults = FaultConfig(http5xx=0.12, truncate=0.1, system=0.1, delay=0.05, delay_seconds=2.0, seed=11)
    fields, types = spec_of(market, "daily")
    async with SandboxServer(market, quotas_enabled=False, faults=faults) as srv:
        async with client_for(srv.url, timeout=1.0, max_retries=10) as client:
            table = await client.fetch("daily", {}, fields, page_size=500, types=types)
            stats = client.stats()["daily"]
    assert fetched_rows([table], market, "daily") == truth_rows(market, "daily")
    injected = sum(srv.stats.faults[k] for k in ("http5xx", "truncate", "system", "delay"))
    assert min(srv.stats.faults[k] for k in ("http5xx", "truncate", "system", "delay")) >= 1
    # Every injected fault cost one failed call and one retry; a load spike may add a timeout of its own.
    assert stats.retries == stats.failed >= injected
    assert stats.ok == math.ceil(table.num_rows / 500) + (table.num_rows % 500 == 0)


async def test_quota_with_time_scale_is_waited_out_with_no_failure(market: Market) -> None:
    # The server's quota is 4 calls per (scaled) minute of 0.6 s; the client starts from the tier default.
    fields, types = spec_of(market, "adj_factor")
    async with SandboxServer(market, time_scale=0.01, quota_overrides={"adj_factor": QuotaLimits(per_minute=4)}) as srv:
        limiter = RateLimiter({"adj_factor": Budget(per_minute=default_budget(2000))}, time_scale=0.01, margin=0.25)
        async with client_for(srv.url, limiter=limiter, max_retries=0) as client:
            table = await client.fetch("adj_factor", {}, fields, page_size=1000, types=types)
            stats = client.stats()["adj_factor"]
    assert fetched_rows([table], market, "adj_factor") == truth_rows(market, "adj_factor")
    assert limiter.budget("adj_factor").per_minute == 4
    assert stats.quota_errors >= 1 and stats.retries == 0 and stats.failed == 0
    assert stats.calls == stats.ok + stats.quota_errors
    assert stats.ok == srv.stats.ok["adj_factor"]


async def test_token_and_tier_errors_from_the_real_sandbox(server: SandboxServer) -> None:
    async with client_for(server.url, token="0" * 56) as client:
        with pytest.raises(TokenRejected):
            await client.call("daily", {"trade_date": "20250102"}, "")
    async with client_for(server.url, token=TOKEN_2000) as client:
        with pytest.raises(PermissionDenied, match=r"^tushare API 'income_vip' refused: .*needs 5000 points"):
            await client.call("income_vip", {"period": "20241231"}, "")
    async with client_for(server.url, token=TOKEN_5000) as client:
        page = await client.call("income_vip", {"period": "20250331"}, "ts_code,end_date")
    assert page.fields == ["ts_code", "end_date"]
    assert page.rows and all(r[1] == "20250331" for r in page.rows)
