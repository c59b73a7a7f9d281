"""Planning at scale: per-index months cost what the row cap needs, a batch's window is capped by its cells
(rows × columns), and rows of one answer that share a key are never dropped silently."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Mapping
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
from conftest import SANDBOX_END
from test_update_support import run_update, sandbox_settings, stored_frame, write_config

from alphahome.sandbox.apidef import ApiDef
from alphahome.sandbox.server import run_sandbox_in_thread
from alphahome.sandbox.tokens import TOKEN_5000
from alphahome.tasks.catalogue import DATASETS, MAJOR_INDICES
from alphahome.tasks.planner import (
    MAX_BATCH_CELLS,
    PlanInput,
    cell_capped_units,
    plan_missing_ranges,
    window_size,
)
from alphahome.updater.updater import UpdateRequest

TODAY = date(2025, 9, 30)
#: Open days of two years (weekdays are enough for planning).
DAYS = [TODAY - timedelta(days=i) for i in range(730, -1, -1) if (TODAY - timedelta(days=i)).weekday() < 5]


# ------------------------------------------------------------------------------------------ index_weight


def test_index_weight_plans_one_paged_window_per_index_on_a_large_market():
    """Before any weights are stored, the estimate is the stock count (5,000): that used to make one call
    per index and month (~2,500 since 2005); now each index is one window over its history, paged."""
    spec = DATASETS["index_weight"]
    plan = plan_missing_ranges(spec, PlanInput(today=TODAY, rows_per_unit=5000, codes=MAJOR_INDICES))
    assert plan.calls == len(MAJOR_INDICES)
    for batch in plan.batches:
        (request,) = batch.requests
        assert (request["start_date"], request["end_date"]) == ("20050101", "20250930")
        assert len(batch.partitions) == 249  # every month since 2005
    # A window still fits the cell budget at that estimate.
    assert 249 * 5000 * len(spec.field_names) <= MAX_BATCH_CELLS


def test_index_weight_calls_are_what_the_row_cap_needs(tmp_path: Path):
    """Synced from a sandbox market with a page of 60 rows: each index costs ceil(its rows / 60) calls
    (at least one), not one per month, and the table holds every row served."""
    page = 60
    with run_sandbox_in_thread(seed=3, scale="small", end_date=SANDBOX_END) as server:
        config = write_config(tmp_path / "config.json", extra={"index_weight": {"page_size": page}})
        url = f"duckdb:///{tmp_path / 'w.duckdb'}"
        settings = sandbox_settings(url, server.url, TOKEN_5000, config)
        server.stats.reset()
        report = run_update(settings, UpdateRequest(tasks=("index_weight",), today=SANDBOX_END))
        calls = server.stats.calls["index_weight"]
        truth: pd.DataFrame = server.market.truth("index_weight")  # type: ignore[attr-defined]
    assert {r.dataset: r.status for r in report.results}["index_weight"] == "success"
    per_index = truth[truth["index_code"].isin(MAJOR_INDICES)].groupby("index_code").size()
    served = {code: int(per_index.get(code, 0)) for code in MAJOR_INDICES}
    # A page exactly full asks for the next offset too (it might be a silent truncation).
    expected = sum(n // page + 1 for n in served.values())
    months = len({d[:6] for d in truth["trade_date"]})
    assert calls == expected
    assert calls < months * sum(1 for n in served.values() if n)  # far fewer than one call per index-month
    assert max(served.values()) > 3 * page  # the largest index really pages
    assert len(asyncio.run(stored_frame(url, "index_weight"))) == sum(served.values())


# ------------------------------------------------------------------------------------------- cell cap


def test_a_wide_table_window_is_capped_by_cells():
    """stk_factor_pro (109 columns, windows of 20 pages of 10,000 rows) on a 5,400-stock market: a window
    of 35 days would hold ~20M cells; it is cut to what MAX_BATCH_CELLS allows."""
    spec = DATASETS["stk_factor_pro"]
    rows = 5400
    plan = plan_missing_ranges(spec, PlanInput(today=TODAY, trade_dates=DAYS, rows_per_unit=rows, points=10000,
                                               start_date=DAYS[0]))
    uncapped = window_size(plan.page_size * spec.shape.pages_per_window, rows)  # type: ignore[attr-defined]
    capped = cell_capped_units(spec, rows)
    assert capped < uncapped
    longest = max(len(b.partitions) for b in plan.batches)
    assert longest == capped
    for batch in plan.batches:
        assert len(batch.partitions) * rows * len(spec.field_names) <= MAX_BATCH_CELLS
    assert sorted(p for b in plan.batches for p in b.partitions) == sorted(d.strftime("%Y%m%d") for d in DAYS)


def test_cell_cap_counts_every_variant_and_shortens_month_windows():
    spec = DATASETS["index_weight"]
    huge = MAX_BATCH_CELLS / len(spec.field_names) / 10  # rows per index-month: ten months per batch
    plan = plan_missing_ranges(spec, PlanInput(today=TODAY, rows_per_unit=huge, codes=("000300.SH",),
                                               start_date=date(2024, 1, 1)))
    assert [len(b.partitions) for b in plan.batches] == [10, 10, 1]
    statements = DATASETS["income"]  # two report types: each a request of its own in the batch
    assert cell_capped_units(statements, 1000) == MAX_BATCH_CELLS // len(statements.field_names) // 2000


# ------------------------------------------------------------------------------ duplicate key warning


class _DoubledDaily:
    """The sandbox market, except that every ``daily`` answer lists its first row again with another volume
    (a conflict on the key) and its second row again as it is (an exact copy)."""

    def __init__(self, market: Any) -> None:
        self._market = market
        daily = market.apis["daily"]

        def doubled(_: Any, params: Mapping[str, str]) -> pd.DataFrame:
            frame = daily.query(market, params)
            if len(frame) < 2:
                return frame
            changed = frame.iloc[:1].copy()
            changed["vol"] = changed["vol"] + 1.0
            return pd.concat([frame, changed, frame.iloc[1:2]], ignore_index=True)

        self._apis: dict[str, ApiDef] = {**market.apis, "daily": dataclasses.replace(daily, query=doubled)}

    @property
    def apis(self) -> Mapping[str, ApiDef]:
        return self._apis

    def __getattr__(self, name: str) -> Any:
        return getattr(self._market, name)


def test_rows_conflicting_on_the_key_in_one_answer_warn_once_per_batch(tmp_path: Path, caplog):
    from alphahome.sandbox.market import Market

    market = _DoubledDaily(Market(seed=5, scale="small", end_date=SANDBOX_END))
    with run_sandbox_in_thread(market) as server:  # type: ignore[arg-type]
        config = write_config(tmp_path / "config.json", extra={"daily": {"default_start_date": "20250501",
                                                                         "page_size": 200}})
        url = f"duckdb:///{tmp_path / 'd.duckdb'}"
        settings = sandbox_settings(url, server.url, TOKEN_5000, config)
        with caplog.at_level(logging.INFO, logger="alphahome.tasks"):
            report = run_update(settings, UpdateRequest(tasks=("daily",), today=SANDBOX_END))
    assert {r.dataset: r.status for r in report.results}["daily"] == "success"
    batches = {r.dataset: r.batches for r in report.results}["daily"]
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    conflicts = [m for m in warnings if "conflict on the key" in m]
    assert batches > 1 and len(conflicts) == batches == len(warnings)
    for message in conflicts:
        assert message.startswith("daily: batch ")
        assert "1 row(s) conflict on the key (ts_code, trade_date)" in message  # the exact copy is not one
    copies = [r.getMessage() for r in caplog.records if r.levelno == logging.INFO and "exact duplicate" in r.getMessage()]
    assert len(copies) == batches
    # Each key is stored once: as many rows as the market has in range.
    truth = market.truth("daily")
    expected = int((truth["trade_date"].astype(str) >= "20250501").sum())
    assert expected > 0 and len(asyncio.run(stored_frame(url, "daily"))) == expected
