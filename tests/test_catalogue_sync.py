"""Every dataset of the catalogue, end to end: one full update from the sandbox (small market, pinned end
date, a token of every tier) into DuckDB, then per dataset: the stored table equals what the sandbox serves
for the requests the dataset makes (all of it, or for index datasets the configured indices)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path

import pandas as pd
import pytest
from test_update_support import run_update, sandbox_settings, table_differences, write_config

from alphahome.sandbox.server import run_sandbox_in_thread
from alphahome.sandbox.tokens import sandbox_token
from alphahome.sources.tushare.interfaces import INTERFACES
from alphahome.tasks.aliases import ORIGINAL_TASKS
from alphahome.tasks.announcements import AnnouncementDays
from alphahome.tasks.catalogue import CATALOGUE, DATASETS, INDICES
from alphahome.tasks.shapes import PerCode, Snapshot
from alphahome.updater.updater import UpdateRequest

#: A tier above every API's points (etf_basic needs 8000).
TOKEN_ALL = sandbox_token("points-10000")
END = date(2025, 9, 30)
#: Dated history starts here (keeps the test short); datasets that cost one call per date (no date window
#: in the API) start two months before the end. Truth is cut at the same start.
START = "20240701"
PER_DATE_START = "20250801"


def start_of(name: str) -> str | None:
    shape = DATASETS[name].shape
    if isinstance(shape, AnnouncementDays):
        return None  # whole history: one call per report period (a later start costs two calls a day)
    return PER_DATE_START if shape.one_call_per_date else START


class CoveredMarket:
    """The sandbox market as the catalogue covers it: index datasets hold only the indices they cover, and
    dated datasets start at ``start_of(dataset)`` (None: all history)."""

    def __init__(self, market: object, codes: tuple[str, ...],
                 start_of: Callable[[str], str | None] = start_of) -> None:
        self.market = market
        self.codes = codes
        self.start_of = start_of

    def truth(self, dataset: str) -> pd.DataFrame:
        frame: pd.DataFrame = self.market.truth(dataset)  # type: ignore[attr-defined]
        spec = DATASETS[dataset]
        shape = spec.shape
        start = self.start_of(dataset)
        if start and spec.date_column is not None and not isinstance(shape, Snapshot | PerCode):
            frame = frame[frame[spec.date_column].astype(str) >= start].reset_index(drop=True)
        source = shape.code_source()
        if source is INDICES:
            column = getattr(shape, "code_param", "ts_code")
            frame = frame[frame[column].isin(self.codes)].reset_index(drop=True)
        return frame


@pytest.fixture(scope="module")
def synced(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, CoveredMarket, object]:
    folder: Path = tmp_path_factory.mktemp("catalogue")
    with run_sandbox_in_thread(seed=7, scale="small", end_date=END, tokens={TOKEN_ALL: 10000}) as server:
        extra = {spec.name: {"default_start_date": start_of(spec.name)} for spec in CATALOGUE if start_of(spec.name)}
        config = write_config(folder / "config.json", financial_start=START, extra=extra)
        url = f"duckdb:///{folder / 'all.duckdb'}"
        settings = sandbox_settings(url, server.url, TOKEN_ALL, config, points=10000)
        report = run_update(settings, UpdateRequest(today=END))
        served = set(server.market.truth("index_daily")["ts_code"])  # type: ignore[attr-defined]
        yield url, CoveredMarket(server.market, tuple(c for c in INDICES.default if c in served)), report


def test_every_original_api_is_in_the_catalogue():
    bases = {i.table for i in INTERFACES.values()}
    assert set(ORIGINAL_TASKS.values()) <= set(DATASETS)
    assert set(ORIGINAL_TASKS.values()) <= bases
    assert len(set(ORIGINAL_TASKS.values())) == 92


def test_the_update_succeeds_for_every_dataset(synced):
    _, _, report = synced
    failed = {r.dataset: r.error for r in report.results if r.status not in ("success", "skipped")}
    assert failed == {}
    assert {r.dataset for r in report.results} == set(DATASETS)


@pytest.mark.parametrize("dataset", [spec.name for spec in CATALOGUE])
def test_table_equals_what_the_sandbox_served(synced, dataset):
    url, market, _ = synced
    assert table_differences(url, market, [dataset]) == {}
