"""Incremental PIT builds equal full rebuilds, whatever order the raw versions were loaded in; builds are
idempotent and crash-safe (a failed build leaves the previous rows and watermarks).

The raw data arrive in batches by knowledge date, then a late-loaded OLD version (a restatement known in
2016, loaded after everything up to 2020) and a corrected value of an existing raw row. After each batch an
incremental build (no safety margin, so only the real changes are redone) must hold exactly the rows the
full-build SQL computes; at the end a real full rebuild must leave every table unchanged.
"""

from __future__ import annotations

import asyncio
from datetime import date, timedelta
from typing import Any

import pandas as pd
import pytest
from test_pit_oracle import generate_raw, load_raw

from alphahome.pit.builder import PitBuilder
from alphahome.pit.definitions import TARGETS
from alphahome.pit.query import dialect_of
from alphahome.pit.tables import SPECS
from alphahome.pit.update import run_pit_update

BATCH_EDGES = (date(2016, 10, 1), date(2018, 1, 1))


def _knowledge(name: str, df: pd.DataFrame) -> pd.Series:
    if name in ("income", "balancesheet"):
        k = df["f_ann_date"].where(df["f_ann_date"].notna(), df["ann_date"])
    elif name == "index_member_all":
        k = df["in_date"]
    elif name == "trade_cal":
        return pd.Series([None] * len(df), index=df.index)
    else:
        k = df["ann_date"]
    return k


def load_batches(raw: dict[str, pd.DataFrame]) -> list[dict[str, pd.DataFrame]]:
    """Raw frames split by knowledge date into 3 batches, then a batch of withheld OLD restatements."""
    late_slot = len(BATCH_EDGES) + 1
    batches: list[dict[str, pd.DataFrame]] = [{} for _ in range(late_slot + 1)]
    for name, df in raw.items():
        k = _knowledge(name, df)
        # rows never known (NULL dates) go first; they must stay invisible
        slot = pd.Series(0, index=df.index)
        for i, edge in enumerate(BATCH_EDGES):
            slot[k.notna() & (k.map(lambda d, e=edge: d is not None and d >= e))] = i + 1
        if name == "income":
            # old restatements (update_flag '1' versions known in 2016) are withheld until the very end
            late = (df["update_flag"] == "1") & k.map(lambda d: d is not None and date(2016, 1, 1) <= d < date(2017, 1, 1))
            late &= df["f_ann_date"].notna() & (df["f_ann_date"] != df["ann_date"])
            slot[late] = late_slot
        for i in range(late_slot + 1):
            part = df[slot == i]
            if len(part):
                batches[i][name] = part
    assert "income" in batches[late_slot], "the data must hold an old restatement to load late"
    return batches


async def table_rows(conn: Any, target: str) -> pd.DataFrame:
    spec = SPECS[target]
    cols = ", ".join(f'"{c}"' for c in spec.column_names)
    key = ", ".join(f'"{c}"' for c in spec.key)
    return _normal(await conn.fetch_df(f'SELECT {cols} FROM pit."{target}" ORDER BY {key}'))


async def full_rows(builder: PitBuilder, backend: Any, target: str) -> pd.DataFrame:
    """What a full build of ``target`` would store now, computed without touching the table."""
    spec = SPECS[target]
    key = ", ".join(f'"{c}"' for c in spec.key)
    async with backend.transaction() as tx:
        for setting in builder.dialect.bulk_settings():  # the builder's planner settings
            await tx.execute(setting)
        raw = await builder.raw_columns(tx, target)
        return _normal(await tx.fetch_df(f"SELECT * FROM ({builder.select_sql(target, raw)}) f ORDER BY {key}"))


def _normal(df: pd.DataFrame) -> pd.DataFrame:
    df = df.reset_index(drop=True)
    for col in df.columns:
        if col in ("ts_code",) or col.endswith("_src") or (col.startswith("l") and col[1:2].isdigit()):
            df[col] = df[col].astype(object).where(df[col].notna(), None)
        elif "date" in col or col.startswith(("valid_", "latest_")) or col == "end_date":
            df[col] = pd.to_datetime(df[col])
        else:
            df[col] = pd.to_numeric(df[col], errors="coerce").astype(float)
    return df


def assert_same_rows(got: pd.DataFrame, want: pd.DataFrame, context: str) -> None:
    assert len(got) == len(want), f"{context}: {len(got)} rows, full build has {len(want)}"
    pd.testing.assert_frame_equal(got, want, check_exact=False, rtol=1e-12, obj=context)


async def _scenario(url: str) -> None:
    from alphahome.storage import open_backend

    raw = generate_raw(seed=99, n_stocks=4)
    batches = load_batches(raw)
    async with open_backend(url) as backend:
        builder = PitBuilder(backend, dialect_of(backend), margin=timedelta(0), rebuild_share=None)
        await builder.ensure()
        for step, batch in enumerate(batches):
            await load_raw(backend, batch)
            for target in TARGETS:
                result = await builder.build(target, "incremental")
                assert result.status in ("success", "current"), result
                if step > 0 and target != "industry_classification":
                    assert result.mode == "incremental", result
            for target in TARGETS:
                assert_same_rows(await table_rows(backend, target), await full_rows(builder, backend, target),
                                 f"after batch {step}: {target}")

        # a corrected value of an existing raw row (same key): only its slices are redone, and correctly
        income = raw["income"]
        row = income[(income["report_type"] == "1") & income["f_ann_date"].notna()].iloc[[3]].copy()
        row["revenue"] = 123456789.0
        await load_raw(backend, {"income": row})
        result = await builder.build("income_quarterly", "incremental")
        assert result.status == "success" and 0 < result.slices <= 5, result
        ind = await builder.build("financial_indicators", "incremental")
        assert ind.status == "success" and 0 < ind.slices <= 9, ind

        # nothing changed since: every target is current and untouched
        before = {t: await table_rows(backend, t) for t in TARGETS}
        for target in TARGETS:
            result = await builder.build(target, "incremental")
            assert result.status == "current", result
            assert_same_rows(await table_rows(backend, target), before[target], f"rerun {target}")

        # and a real full rebuild changes nothing
        results = await run_pit_update(backend, list(TARGETS), "full")
        assert [r.status for r in results] == ["success"] * 4, results
        for target in TARGETS:
            assert_same_rows(await table_rows(backend, target), before[target], f"full rebuild {target}")


@pytest.mark.slow
def test_incremental_equals_full(database_url: str) -> None:
    asyncio.run(_scenario(database_url))


async def _crash(url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from alphahome.pit import builder as builder_module
    from alphahome.pit.watermarks import load
    from alphahome.storage import open_backend

    raw = generate_raw(seed=5, n_stocks=3)
    batches = load_batches(raw)
    async with open_backend(url) as backend:
        builder = PitBuilder(backend, dialect_of(backend), margin=timedelta(0), rebuild_share=None)
        await builder.ensure()
        await load_raw(backend, batches[0])
        assert (await builder.build("income_quarterly", "full")).status == "success"
        rows_before = await table_rows(backend, "income_quarterly")
        marks_before = await load(backend, "income_quarterly")

        await load_raw(backend, batches[1])

        def boom(*_: object) -> str:
            # a statement the database rejects, after the slice was deleted and rebuilt
            return "UPDATE pit.income_quarterly SET revenue = 1 FROM killed_mid_build"

        monkeypatch.setattr(builder_module, "refresh_latest_sql", boom)
        failed = await builder.build("income_quarterly", "incremental")
        assert failed.status == "failed" and "killed_mid_build" in (failed.error or ""), failed
        assert_same_rows(await table_rows(backend, "income_quarterly"), rows_before, "after the crash")
        assert await load(backend, "income_quarterly") == marks_before

        monkeypatch.undo()
        again = await builder.build("income_quarterly", "incremental")
        assert again.status == "success" and again.mode == "incremental"
        assert_same_rows(await table_rows(backend, "income_quarterly"),
                         await full_rows(builder, backend, "income_quarterly"), "after the rerun")


def test_failed_build_leaves_previous_state(database_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    asyncio.run(_crash(database_url, monkeypatch))


async def _wide_change(url: str) -> None:
    from alphahome.storage import open_backend

    raw = generate_raw(seed=8, n_stocks=3)
    async with open_backend(url) as backend:
        # the slices (every period, and the 4 quarters after each) are ~40% of this small table's rows
        builder = PitBuilder(backend, dialect_of(backend), margin=timedelta(0), rebuild_share=0.3)
        await builder.ensure()
        await load_raw(backend, raw)
        assert (await builder.build("income_quarterly", "full")).status == "success"
        income = raw["income"].copy()
        income["revenue"] = income["revenue"] * 2  # every version corrected: most slices change
        await load_raw(backend, {"income": income})
        result = await builder.build("income_quarterly", "incremental")
        assert result.status == "success" and result.mode == "full", result
        assert_same_rows(await table_rows(backend, "income_quarterly"),
                         await full_rows(builder, backend, "income_quarterly"), "after the wide change")


def test_wide_change_rebuilds_whole_table(database_url: str) -> None:
    """An incremental build whose changes touch most of the table rebuilds it whole (same rows)."""
    asyncio.run(_wide_change(database_url))


async def _right_after_a_build(url: str) -> None:
    """With the default one-hour safety margin, everything below was loaded within the margin."""
    from alphahome.pit.watermarks import WATERMARK_SPEC, WINDOW_SPEC
    from alphahome.storage import open_backend

    raw = generate_raw(seed=21, n_stocks=4)
    async with open_backend(url) as backend:
        await load_raw(backend, raw)
        first = await run_pit_update(backend, list(TARGETS), "full")
        assert [r.status for r in first] == ["success"] * 4, first

        async def state() -> dict[str, pd.DataFrame]:
            out = {t: await table_rows(backend, t) for t in TARGETS}
            for spec in (WATERMARK_SPEC, WINDOW_SPEC):
                out[spec.name] = await backend.fetch_df(
                    f"SELECT * FROM alphahome.{spec.name} ORDER BY {', '.join(spec.key)}")
            return out

        async def assert_current(context: str) -> None:
            before = await state()
            again = await run_pit_update(backend, list(TARGETS), "incremental")
            assert [(r.status, r.slices, r.mode) for r in again] == [("current", 0, "incremental")] * 4, again
            after = await state()
            for name, frame in before.items():  # nothing written: rows, watermarks and windows as they were
                pd.testing.assert_frame_equal(after[name], frame, obj=f"{context}: {name}")

        await assert_current("right after the full build")
        await load_raw(backend, raw)  # a sync that changed nothing
        await assert_current("after a sync that changed nothing")

        # One restatement, as a new version of one period (a new raw row): only that period's slice and
        # the periods that read it are redone (income: p … p+4q; indicators: p … p+8q), nothing else
        income = raw["income"]
        base = income[(income["report_type"] == "1") & income["f_ann_date"].notna()].iloc[[5]].copy()
        restated = base.assign(f_ann_date=base["f_ann_date"] + timedelta(days=400), revenue=base["revenue"] + 1.0)
        await load_raw(backend, {"income": restated})
        results = {r.target: r for r in await run_pit_update(backend, list(TARGETS), "incremental")}
        assert (results["income_quarterly"].status, results["income_quarterly"].slices) == ("success", 5)
        assert (results["financial_indicators"].status, results["financial_indicators"].slices) == ("success", 9)
        assert results["balance_quarterly"].status == results["industry_classification"].status == "current"
        builder = PitBuilder(backend, dialect_of(backend))
        for target in TARGETS:
            assert_same_rows(await table_rows(backend, target), await full_rows(builder, backend, target),
                             f"after the restatement: {target}")

        # A correction of that same row in place (same key, loaded within the margin): again that slice only
        await load_raw(backend, {"income": restated.assign(revenue=restated["revenue"] + 1.0)})
        results = {r.target: r for r in await run_pit_update(backend, list(TARGETS), "incremental")}
        assert results["income_quarterly"].slices == 5 and results["financial_indicators"].slices == 9
        for target in TARGETS:
            assert_same_rows(await table_rows(backend, target), await full_rows(builder, backend, target),
                             f"after the correction: {target}")
        await assert_current("after the correction was built")


def test_incremental_right_after_a_build_does_nothing(database_url: str) -> None:
    """`pit update --mode incremental` right after a full build, or after a sync that changed nothing, finds
    nothing to do and writes nothing, although every raw row was loaded within the safety margin; one
    restatement then redoes only its slices."""
    asyncio.run(_right_after_a_build(database_url))
