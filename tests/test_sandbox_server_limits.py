"""Quotas and fault injection of the sandbox server (over the fake market of test_sandbox_server)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import aiohttp
import pytest
from test_sandbox_server import DOC, FakeMarket, call, post

from alphahome.sandbox.faults import SYSTEM_ERROR_CODE, Fault, FaultConfig, FaultInjector
from alphahome.sandbox.quota import QuotaKeeper, QuotaLimits, QuotaRejection, parse_quota_overrides
from alphahome.sandbox.server import SandboxServer
from alphahome.sandbox.tokens import TOKEN_120, TOKEN_2000, TOKEN_5000


def minute_text(n: int) -> str:
    return f"抱歉，您每分钟最多访问该接口{n}次，{DOC}"


@pytest.fixture
def market() -> FakeMarket:
    return FakeMarket()


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as s:
        yield s


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


# ---- QuotaKeeper ----------------------------------------------------------------------------------------


def test_tier_defaults_api_figures_and_overrides_combine_field_by_field():
    apis = FakeMarket().apis
    keeper = QuotaKeeper()
    assert keeper.limits_for(apis["daily"], 120) == QuotaLimits(per_minute=50, per_day=8000)
    assert keeper.limits_for(apis["daily"], 2000) == QuotaLimits(per_minute=200, per_day=100_000)
    assert keeper.limits_for(apis["daily"], 5000) == QuotaLimits(per_minute=500)
    api = apis["daily"].__class__(**{**apis["daily"].__dict__, "per_minute": 50, "per_hour": 900})
    assert keeper.limits_for(api, 5000) == QuotaLimits(per_minute=50, per_hour=900)
    keeper = QuotaKeeper(overrides={"*": QuotaLimits(per_minute=7), "daily": QuotaLimits(per_day=3)})
    assert keeper.limits_for(api, 5000) == QuotaLimits(per_minute=7, per_hour=900, per_day=3)
    assert keeper.limits_for(apis["income"], 2000) == QuotaLimits(per_minute=7, per_day=100_000)
    keeper.set_override("*", None)
    assert keeper.limits_for(apis["income"], 2000).per_minute == 200


def test_sliding_minute_window_counts_only_accepted_calls():
    clock = FakeClock()
    keeper = QuotaKeeper(overrides={"daily": QuotaLimits(per_minute=3)}, clock=clock)
    daily = FakeMarket().apis["daily"]
    for _ in range(3):
        assert keeper.acquire("t", daily, 2000) is None
        clock.now += 10
    # 20 s after the third call, 30 s after the first: full.
    for _ in range(5):  # refused calls do not count
        assert keeper.acquire("t", daily, 2000) == QuotaRejection("minute", 3)
    assert keeper.acquire("other-token", daily, 2000) is None  # per token
    clock.now = 1000.0 + 60.0  # the first call ages out, exactly 60 s later
    assert keeper.acquire("t", daily, 2000) is None
    assert keeper.acquire("t", daily, 2000) == QuotaRejection("minute", 3)
    clock.now = 1000.0 + 80.0  # calls of t=10 and t=20 aged out, t=60 remains: two slots
    assert keeper.acquire("t", daily, 2000) is None
    assert keeper.acquire("t", daily, 2000) is None
    assert keeper.acquire("t", daily, 2000) == QuotaRejection("minute", 3)


def test_the_longest_full_window_is_reported_and_time_scale_shrinks_windows():
    clock = FakeClock()
    keeper = QuotaKeeper(overrides={"daily": QuotaLimits(per_minute=2, per_hour=3, per_day=5)},
                         time_scale=0.01, clock=clock)
    daily = FakeMarket().apis["daily"]
    assert keeper.window_seconds("minute") == pytest.approx(0.6)
    assert keeper.window_seconds("day") == pytest.approx(864.0)
    assert keeper.acquire("t", daily, 5000) is None
    assert keeper.acquire("t", daily, 5000) is None
    assert keeper.acquire("t", daily, 5000) == QuotaRejection("minute", 2)
    clock.now += 0.7  # past a scaled minute
    assert keeper.acquire("t", daily, 5000) is None
    clock.now += 0.7
    assert keeper.acquire("t", daily, 5000) == QuotaRejection("hour", 3)
    clock.now += 36.0  # past a scaled hour
    assert keeper.acquire("t", daily, 5000) is None
    assert keeper.acquire("t", daily, 5000) is None
    # Minute (2) and day (5) both full: the day is what the caller must wait for.
    assert keeper.acquire("t", daily, 5000) == QuotaRejection("day", 5)
    assert QuotaRejection("day", 4).message == f"抱歉，您每天最多访问该接口4次，{DOC}"
    assert QuotaRejection("hour", 9).message == f"抱歉，您每小时最多访问该接口9次，{DOC}"
    keeper.reset()
    assert keeper.acquire("t", daily, 5000) is None


def test_disabled_quotas_refuse_nothing():
    keeper = QuotaKeeper(enabled=False, overrides={"daily": QuotaLimits(per_minute=1)})
    daily = FakeMarket().apis["daily"]
    assert all(keeper.acquire("t", daily, 120) is None for _ in range(100))


def test_parse_quota_overrides():
    assert parse_quota_overrides(["daily=100/min", "daily = 2000/day", "income=5/hour", "*=10/minute"]) == {
        "daily": QuotaLimits(per_minute=100, per_day=2000),
        "income": QuotaLimits(per_hour=5),
        "*": QuotaLimits(per_minute=10),
    }
    for bad in ("daily", "daily=100", "daily=x/min", "daily=10/week", "daily=0/min", "=3/min"):
        with pytest.raises(ValueError, match="bad quota"):
            parse_quota_overrides([bad])
    with pytest.raises(ValueError):
        QuotaKeeper(time_scale=0)


# ---- quotas over HTTP -----------------------------------------------------------------------------------


async def test_minute_quota_over_http_carries_n_and_the_window_reopens(market, session):
    async with SandboxServer(market, time_scale=0.02, quota_overrides=["daily=3/min"]) as srv:
        for _ in range(3):
            assert (await call(session, srv, "daily", {}))["code"] == 0
        refused = await call(session, srv, "daily", {})
        assert (refused["code"], refused["msg"], refused["data"]) == (40203, minute_text(3), None)
        # Per token and per API: the others still answer.
        assert (await call(session, srv, "daily", {}, token=TOKEN_5000))["code"] == 0
        assert (await call(session, srv, "income", {"ts_code": "X"}))["code"] == 0
        # The scaled minute is 1.2 s; the window reopens once the first call has aged out.
        await asyncio.sleep(1.25)
        assert (await call(session, srv, "daily", {}))["code"] == 0
        assert srv.stats.errors == {40203: 1}


async def test_tier_default_quota_is_the_one_reported(market, session):
    async with SandboxServer(market, time_scale=100) as srv:
        for _ in range(50):
            assert (await call(session, srv, "daily", {}, token=TOKEN_120))["code"] == 0
        refused = await call(session, srv, "daily", {}, token=TOKEN_120)
        assert refused["msg"] == minute_text(50)


async def test_quota_is_checked_after_permission_and_before_required_params(market, session):
    async with SandboxServer(market, quota_overrides={"income": QuotaLimits(per_minute=1)}) as srv:
        assert (await call(session, srv, "income", {}, token=TOKEN_120))["code"] == 40203  # permission
        assert (await call(session, srv, "income", {}))["msg"] == "ts_code required"  # counted
        assert (await call(session, srv, "income", {}))["msg"] == minute_text(1)


async def test_hour_and_day_windows_over_http(market, session):
    async with SandboxServer(market, quota_overrides=["daily=2/hour", "income=1/day"]) as srv:
        for _ in range(2):
            assert (await call(session, srv, "daily", {}))["code"] == 0
        assert (await call(session, srv, "daily", {}))["msg"] == f"抱歉，您每小时最多访问该接口2次，{DOC}"
        assert (await call(session, srv, "income", {"ts_code": "X"}))["code"] == 0
        assert (await call(session, srv, "income", {"ts_code": "X"}))["msg"] == f"抱歉，您每天最多访问该接口1次，{DOC}"


async def test_quotas_can_be_switched_off_and_changed_at_runtime(market, session):
    async with SandboxServer(market, quotas_enabled=False, quota_overrides=["daily=1/min"]) as srv:
        for _ in range(5):
            assert (await call(session, srv, "daily", {}))["code"] == 0
        srv.quotas.enabled = True
        assert (await call(session, srv, "daily", {}))["code"] == 0
        assert (await call(session, srv, "daily", {}))["code"] == 40203
        srv.quotas.set_override("daily", QuotaLimits(per_minute=10))
        assert (await call(session, srv, "daily", {}))["code"] == 0


# ---- faults ---------------------------------------------------------------------------------------------


def test_fault_config_parse_and_describe():
    text = "http5xx=0.1,delay=0.05,delay_seconds=3,truncate=5%,system=0.05,quota=0.02,seed=7"
    config = FaultConfig.parse(text)
    assert config == FaultConfig(http5xx=0.1, delay=0.05, delay_seconds=3.0, truncate=0.05, system=0.05,
                                 quota=0.02, seed=7)
    assert FaultConfig.parse(config.describe()) == config
    assert FaultConfig.parse("quota_next=daily:3, quota_next=income:1").quota_next == {"daily": 3, "income": 1}
    assert FaultConfig.parse("").active is False
    assert FaultConfig().describe() == "none"
    for bad in ("http5xx", "http5xx=2", "nonsense=1", "seed=x", "quota_next=daily", "http5xx=0.6,system=0.6",
                "delay_seconds=-1"):
        with pytest.raises(ValueError):
            FaultConfig.parse(bad)


def test_fault_draws_are_deterministic_from_the_seed_and_follow_the_fractions():
    config = FaultConfig(http5xx=0.2, delay=0.1, truncate=0.1, system=0.1, quota=0.1, seed=7)
    first = [FaultInjector(config).draw() for _ in range(1)]
    a = FaultInjector(config)
    b = FaultInjector(config)
    seq_a = [a.draw() for _ in range(2000)]
    assert seq_a == [b.draw() for _ in range(2000)]
    assert seq_a[:1] == first
    other = FaultInjector(FaultConfig(http5xx=0.2, delay=0.1, truncate=0.1, system=0.1, quota=0.1, seed=8))
    assert [other.draw() for _ in range(2000)] != seq_a
    kinds = [f.kind if f else None for f in seq_a]
    assert 300 < kinds.count("http5xx") < 500
    assert 120 < kinds.count("system") < 280
    assert 700 < kinds.count(None) < 1100
    statuses = {f.status for f in seq_a if f and f.kind == "http5xx"}
    assert statuses == {502, 503}
    assert all(f == Fault(f.kind) for f in seq_a if f and f.kind != "http5xx")


async def outcome(session: aiohttp.ClientSession, srv: SandboxServer) -> str:
    """What one call met: 'ok', 'http502', 'truncated', or the business code."""
    body = {"api_name": "daily", "token": TOKEN_2000, "params": {"trade_date": "20240102"}, "fields": ""}
    async with session.post(srv.url, json=body) as resp:
        if resp.status != 200:
            return f"http{resp.status}"
        raw = await resp.read()
    try:
        answer = json.loads(raw)
    except ValueError:
        return "truncated"
    return "ok" if answer["code"] == 0 else str(answer["code"])


async def test_injected_faults_over_http_are_deterministic_per_run(market, session):
    config = FaultConfig(http5xx=0.15, truncate=0.15, system=0.15, quota=0.15, seed=11)
    runs = []
    for _ in range(2):
        async with SandboxServer(market, faults=config) as srv:
            runs.append([await outcome(session, srv) for _ in range(60)])
            stats = srv.stats
    assert runs[0] == runs[1]
    seen = set(runs[0])
    assert {"ok", "http502", "http503", "truncated", str(SYSTEM_ERROR_CODE), "40203"} <= seen
    assert stats.faults["http5xx"] == stats.http_errors[502] + stats.http_errors[503]
    assert stats.faults["truncate"] == runs[1].count("truncated")
    assert stats.errors[SYSTEM_ERROR_CODE] == runs[1].count(str(SYSTEM_ERROR_CODE))
    async with SandboxServer(market, faults="http5xx=0.15,truncate=0.15,system=0.15,quota=0.15,seed=12") as srv:
        assert [await outcome(session, srv) for _ in range(60)] != runs[0]


async def test_each_fault_kind(market, session):
    async with SandboxServer(market) as srv:
        srv.faults = FaultConfig(http5xx=1.0)
        body = {"api_name": "daily", "token": TOKEN_2000, "params": {}}
        async with session.post(srv.url, json=body) as resp:
            assert resp.status in (502, 503)
            assert "nginx" in await resp.text()

        srv.faults = FaultConfig(truncate=1.0)
        async with session.post(srv.url, json=body) as resp:
            assert resp.status == 200
            raw = await resp.read()
        with pytest.raises(ValueError):
            json.loads(raw)
        assert raw.startswith(b'{"request_id":')

        srv.faults = FaultConfig(system=1.0)
        answer = await post(session, srv.url, body)
        assert answer["code"] == SYSTEM_ERROR_CODE and answer["data"] is None
        assert answer["msg"] == f"系统未知错误，欢迎上报！ 谢谢！request-id({answer['request_id']})"

        srv.faults = FaultConfig(quota=1.0)
        assert (await call(session, srv, "daily", {}, token=TOKEN_120))["msg"] == minute_text(50)
        assert (await call(session, srv, "daily", {}, token=TOKEN_5000))["msg"] == minute_text(500)
        # Earlier checks still win over an injected quota error.
        assert (await call(session, srv, "daily", {}, token="bad"))["code"] == 40101
        assert (await call(session, srv, "income", {}, token=TOKEN_120))["msg"].startswith("抱歉，您没有接口(income)")

        srv.faults = None
        assert (await call(session, srv, "daily", {}))["code"] == 0
        assert srv.stats.faults["quota"] == 2
        srv.faults = FaultConfig(seed=3)  # nothing to inject
        assert srv.faults == FaultConfig(seed=3)
        assert (await call(session, srv, "daily", {}))["code"] == 0


async def test_delay_fault_outlasts_a_client_timeout(market, session):
    async with SandboxServer(market, faults=FaultConfig(delay=1.0, delay_seconds=0.6)) as srv:
        body = {"api_name": "daily", "token": TOKEN_2000, "params": {}}
        with pytest.raises(asyncio.TimeoutError):
            async with session.post(srv.url, json=body, timeout=aiohttp.ClientTimeout(total=0.2)) as resp:
                await resp.read()
        # Without a short timeout the delayed call is answered normally.
        started = asyncio.get_running_loop().time()
        answer = await post(session, srv.url, body)
        assert answer["code"] == 0
        assert asyncio.get_running_loop().time() - started >= 0.6
        assert srv.stats.faults["delay"] == 2


async def test_quota_errors_for_the_next_k_calls_to_one_api(market, session):
    async with SandboxServer(market) as srv:
        srv.faults = FaultConfig(quota_next={"daily": 2})
        got = [(await call(session, srv, "daily", {}))["code"] for _ in range(4)]
        assert got == [40203, 40203, 0, 0]
        assert (await call(session, srv, "income", {"ts_code": "X"}))["code"] == 0
        srv.faults = FaultConfig.parse("quota_next=income:1")
        assert (await call(session, srv, "income", {"ts_code": "X"}))["msg"] == minute_text(200)
        assert (await call(session, srv, "income", {"ts_code": "X"}))["code"] == 0
