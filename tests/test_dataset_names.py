"""Original task names (tushare_stock_daily …) name datasets everywhere; index datasets cover a configurable
set of indices; index_basic asks every market. No network: selection, settings and the sync store's
index look-up on an in-memory DuckDB."""

from __future__ import annotations

import asyncio
import json
from datetime import date
from pathlib import Path

import pyarrow as pa
import pytest

from alphahome.config.loader import InvalidConfiguration, load_settings
from alphahome.errors import ConfigError
from alphahome.storage import open_backend
from alphahome.tasks.aliases import ORIGINAL_TASKS, aliases_of, dataset_name
from alphahome.tasks.catalogue import DATASETS, INDEX_MARKETS, MAJOR_INDICES, get_dataset
from alphahome.tasks.planner import PlanInput, plan_missing_ranges
from alphahome.tasks.sync_store import SyncStore
from alphahome.updater.updater import UpdateRequest, select_datasets


def write(path: Path, tasks: dict[str, object]) -> Path:
    path.write_text(json.dumps({"tasks": tasks}), encoding="utf-8")
    return path


def test_every_original_task_name_resolves_to_a_dataset():
    assert len(ORIGINAL_TASKS) == 93
    assert all(target in DATASETS for target in ORIGINAL_TASKS.values())
    assert dataset_name("tushare_stock_daily") == "daily"
    assert dataset_name("tushare_fina_income") == "income"  # the *_vip API's dataset
    assert aliases_of("stk_weekly_monthly") == ["tushare_stock_monthly", "tushare_stock_weekly"]
    assert dataset_name("daily") == "daily"


def test_tasks_and_exclude_accept_original_names():
    settings = load_settings(environ={}).settings
    chosen = select_datasets(settings, UpdateRequest(tasks=("tushare_stock_daily",)))
    assert [t.spec.name for t in chosen if t.selected] == ["daily"]
    assert "trade_cal" in [t.spec.name for t in chosen]  # its dependency
    rest = select_datasets(settings, UpdateRequest(exclude=("tushare_stock_daily", "tushare_fina_income")))
    names = {t.spec.name for t in rest}
    assert "daily" not in names and "income" not in names and "adj_factor" in names
    with pytest.raises(ConfigError, match="tushare_stock_nope"):
        select_datasets(settings, UpdateRequest(tasks=("tushare_stock_nope",)))


def test_config_keys_and_exclude_tasks_accept_original_names(tmp_path):
    config = write(tmp_path / "c.json", {"tushare_stock_daily": {"rate_limit": 77, "page_size": 3000},
                                         "daily": {"page_size": 5000}})
    schedule = tmp_path / "s.yaml"
    schedule.write_text("task_filter:\n  exclude_tasks: [tushare_stock_moneyflow]\n", encoding="utf-8")
    loaded = load_settings(config_path=config, schedule_path=schedule, environ={})
    loaded.check_task_names(DATASETS)  # no error: original names are known
    over = loaded.settings.task_overrides("daily")
    assert over.rate_limit == 77 and over.page_size == 5000  # the dataset's own key wins per value
    names = {t.spec.name for t in select_datasets(loaded.settings, UpdateRequest())}
    assert "moneyflow" not in names

    bad = write(tmp_path / "bad.json", {"tushare_stock_dialy": {"rate_limit": 5}})
    with pytest.raises(InvalidConfiguration, match="tushare_stock_dialy"):
        load_settings(config_path=bad, environ={}).check_task_names(DATASETS)


def test_index_basic_asks_every_market():
    plan = plan_missing_ranges(get_dataset("index_basic"), PlanInput(today=date(2024, 6, 28)))
    markets = [r["market"] for r in plan.batches[0].requests]
    assert markets == list(INDEX_MARKETS)
    assert {"SSE", "SZSE", "CSI", "CICC", "SW", "MSCI", "OTH"} <= set(markets)


def test_index_datasets_cover_the_configured_indices(tmp_path):
    assert len(MAJOR_INDICES) == 10 and "932000.CSI" in MAJOR_INDICES and "000852.SH" in MAJOR_INDICES
    spec = get_dataset("index_daily")

    async def go() -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
        backend = open_backend(f"duckdb:///{tmp_path / 'x.duckdb'}")
        await backend.connect()
        store = SyncStore(backend)
        try:
            await store.ensure_table(get_dataset("index_basic"))
            rows = pa.table({"ts_code": ["000300.SH", "000905.SH", "399001.SZ", "801010.SI"],
                             "market": ["CSI", "CSI", "SZSE", "SW"],
                             "publisher": ["中证指数", "中证指数", "深交所", "申万"],
                             "category": ["规模指数", "规模指数", "规模指数", "行业指数"]})
            await store.save(get_dataset("index_basic"), _typed(rows), [])
            default = (await store.plan_state(spec, today=date(2024, 6, 28), points=2000))["codes"]
            listed = (await store.plan_state(spec, today=date(2024, 6, 28), points=2000,
                                             codes=["000016.SH"]))["codes"]
            filtered = (await store.plan_state(spec, today=date(2024, 6, 28), points=2000,
                                               code_filter={"market": "CSI", "category": "规模指数"}))["codes"]
            return default, listed, filtered
        finally:
            await store.close()

    default, listed, filtered = asyncio.run(go())
    assert default == MAJOR_INDICES
    assert listed == ("000016.SH",)
    assert filtered == ("000300.SH", "000905.SH")


def test_index_filter_in_config_is_validated(tmp_path):
    good = write(tmp_path / "g.json", {"tushare_index_weight": {"filter": {"market": "CSI"}},
                                       "index_daily": {"codes": ["000300.SH"]}})
    settings = load_settings(config_path=good, environ={}).settings
    assert settings.task_overrides("index_weight").filter.conditions() == {"market": "CSI"}
    assert settings.task_overrides("index_daily").codes == ["000300.SH"]
    bad = write(tmp_path / "b.json", {"index_daily": {"filter": {"exchange": "SSE"}}})
    with pytest.raises(InvalidConfiguration, match="exchange"):
        load_settings(config_path=bad, environ={})


def _typed(rows: pa.Table) -> pa.Table:
    from alphahome.tasks.batch import prepare_batch

    spec = get_dataset("index_basic")
    columns = {f: rows.column(f) if f in rows.column_names else pa.nulls(rows.num_rows, pa.string())
               for f in spec.field_names}
    frame = pa.table(columns)
    return prepare_batch(spec, frame).table
