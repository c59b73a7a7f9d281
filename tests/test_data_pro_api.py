"""alphahome.pro_api answers like the official tushare SDK pointed at the sandbox: for every catalogue API,
the same columns in the same order, the same dtypes, and the same rows (compared in a canonical order:
Tushare's tie order among equal dates is the server's own).

The warehouse is loaded with the sandbox market's ground truth (what a perfect sync stores; the sync
itself is tested against the same truth elsewhere), on both backends."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from typing import Any

import pandas as pd
import pytest
import tushare as ts
from conftest import SANDBOX_END, _admin, _pg_admin_url, _with_database

from alphahome.data import DataQueryError, pro_api
from alphahome.data.local_pro import api_definitions
from alphahome.sandbox.catalog import dataset_of
from alphahome.sandbox.market import Market
from alphahome.sandbox.server import SandboxServer, run_sandbox_in_thread
from alphahome.sandbox.tokens import TOKEN_10000
from alphahome.storage import open_sync
from alphahome.tasks.catalogue import CATALOGUE


def catalogue_apis() -> list[str]:
    names: list[str] = []
    for spec in CATALOGUE:
        names.append(spec.api)
        if spec.vip_api:
            names.append(spec.vip_api)
    return names


@pytest.fixture(scope="module")
def market() -> Market:
    return Market(seed=7, scale="small", end_date=SANDBOX_END)


@pytest.fixture(scope="module")
def sandbox(market: Market) -> Iterator[SandboxServer]:
    with run_sandbox_in_thread(market) as srv:
        yield srv


@pytest.fixture(scope="module")
def sdk(sandbox: SandboxServer) -> Any:
    pro = ts.pro_api(token=TOKEN_10000, timeout=30)
    pro._DataApi__http_url = f"{sandbox.url}/dataapi"
    return pro


@pytest.fixture(scope="module", params=["duckdb", "postgres"])
def warehouse(request, market: Market, tmp_path_factory) -> Iterator[str]:
    """Every catalogue table loaded with the market's truth (one database per backend for the module)."""
    drop = None
    if request.param == "duckdb":
        url = f"duckdb:///{tmp_path_factory.mktemp('pro') / 'w.duckdb'}"
    else:
        admin = _pg_admin_url()
        if admin is None:
            pytest.skip("ALPHAHOME_TEST_PG_URL is not set: run the suite through scripts/run_tests.sh")
        name = "t_" + uuid.uuid4().hex[:16]
        asyncio.run(_admin(admin, f'CREATE DATABASE "{name}"'))
        url = _with_database(admin, name)
        drop = (admin, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    with open_sync(url) as db:
        for spec in CATALOGUE:
            table = spec.table_spec()
            db.ensure_table(table)
            db.upsert(table, market.truth(spec.name))
    yield url
    if drop is not None:
        asyncio.run(_admin(*drop))


@pytest.fixture(scope="module")
def local(warehouse: str) -> Iterator[Any]:
    with pro_api(warehouse) as pro:
        yield pro


def canonical(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.sort_values(list(frame.columns), kind="stable", na_position="last").reset_index(drop=True)


def sample_calls(api_name: str, market: Market) -> list[dict[str, Any]]:
    """Calls that stay under the API's row cap: a stock (or index), a date, and a date window."""
    api = api_definitions()[api_name]
    truth = market.truth(dataset_of(api_name))
    by_param = {f.param: f for f in api.query.filters}
    for f in by_param.values():  # sample among the rows a call without that parameter answers
        if f.default is not None and f.op == "eq" and len(truth):
            truth = truth[truth[f.column].astype(str) == f.default]
    calls: list[dict[str, Any]] = []
    code_param = next((p for p in ("ts_code", "index_code", "con_code") if p in by_param), None)
    date_col = api.sort_desc[0] if api.sort_desc else None
    if code_param is not None and len(truth):
        column = by_param[code_param].column
        code = sorted(v for v in truth[column].dropna().unique())[len(truth[column].dropna().unique()) // 2]
        calls.append({code_param: code})
        if date_col and "start_date" in by_param:
            dates = sorted(truth.loc[truth[column] == code, date_col].dropna().unique())
            if dates:
                calls.append({code_param: code, "start_date": dates[len(dates) // 3],
                              "end_date": dates[2 * len(dates) // 3]})
    for param, f in by_param.items():
        if f.op == "eq" and f.column == date_col and param not in ("start_date", "end_date") and len(truth):
            values = sorted(truth[date_col].dropna().unique())
            calls.append({param: values[-1]})
            break
    if not calls:
        calls.append({})
    # Tushare answers only calls that give each required group one of its parameters: fill a missing
    # group with a value the data has (e.g. freq for stk_weekly_monthly, exchange for fut_basic).
    for call in calls:
        for group in api.required:
            if any(p in call for p in group):
                continue
            for param in group:
                f = by_param.get(param)
                if f is not None and f.op in ("eq", "in") and len(truth) and truth[f.column].notna().any():
                    call[param] = sorted(truth[f.column].dropna().astype(str).unique())[0]
                    break
    return [c for c in calls if all(any(p in c for p in group) for group in api.required)]


@pytest.mark.parametrize("api_name", catalogue_apis())
def test_pro_api_answers_like_the_sdk(api_name: str, market: Market, sdk: Any, local: Any) -> None:
    api = api_definitions()[api_name]
    compared = 0
    for params in sample_calls(api_name, market):
        for fields in ("", ",".join(api.field_names)):
            expected = sdk.query(api_name, fields=fields, **params)
            if len(expected) >= api.row_cap:
                continue  # Tushare cut it at the cap; the warehouse has no cap
            got = getattr(local, api_name)(fields=fields, **params)
            assert list(got.columns) == list(expected.columns), params
            assert dict(got.dtypes) == dict(expected.dtypes), params
            pd.testing.assert_frame_equal(canonical(got), canonical(expected), check_exact=False, rtol=1e-12)
            compared += len(expected)
    assert compared > 0, f"no rows compared for {api_name}"


def test_newest_first_and_limit_offset(local: Any, sdk: Any, market: Market) -> None:
    code = sorted(market.truth("daily")["ts_code"].unique())[0]
    got = local.daily(ts_code=code, limit=5, offset=2)
    expected = sdk.daily(ts_code=code, limit=5, offset=2)
    assert got["trade_date"].tolist() == expected["trade_date"].tolist()
    assert got["trade_date"].tolist() == sorted(got["trade_date"], reverse=True)


def test_unknown_api_and_parameters_are_errors(local: Any) -> None:
    with pytest.raises(AttributeError, match="no API 'dayly'"):
        local.dayly()
    with pytest.raises(DataQueryError, match="unknown parameter 'adj'"):
        local.daily(ts_code="000001.SZ", adj="qfq")
    with pytest.raises(DataQueryError, match="trade_date"):
        local.daily(trade_date="2024-99-01")
    with pytest.raises(DataQueryError, match="limit"):
        local.daily(limit=-1)
