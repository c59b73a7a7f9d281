"""The PostgreSQL merge: its fillfactor (room for heap-only-tuple updates), its row counts on every path
(MERGE with the statistics counters, MERGE without them, UPDATE + INSERT before PostgreSQL 15)."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator

import pandas as pd
import pytest

from alphahome.storage import Backend, open_backend
from alphahome.storage import postgres_backend as pgb
from alphahome.storage.base import UpsertResult
from alphahome.storage.spec import Column, TableSpec

DAILY = TableSpec(
    schema="tushare",
    name="daily",
    columns=(
        Column("ts_code", "text", nullable=False),
        Column("trade_date", "date", nullable=False),
        Column("close", "double"),
        Column("vol", "double"),
    ),
    key=("ts_code", "trade_date"),
    indexes=(("trade_date",),),
)

INCOME = TableSpec(
    schema="tushare",
    name="income",
    columns=(
        Column("ts_code", "text", nullable=False),
        Column("end_date", "date", nullable=False),
        Column("f_ann_date", "date"),
        Column("revenue", "double"),
    ),
    key=("ts_code", "end_date", "f_ann_date"),
)

KEY_ONLY = TableSpec(
    schema="tushare",
    name="key_only",
    columns=(Column("ts_code", "text", nullable=False),),
    key=("ts_code",),
)

LOG = TableSpec(schema="tushare", name="log", columns=(Column("message", "text"),), track_update_time=False)

# Derived (as the PIT tables): rebuilt by its builder, not merged from a source, no update_time.
DERIVED = TableSpec(
    schema="tushare",
    name="derived",
    columns=(Column("ts_code", "text", nullable=False), Column("x", "double")),
    key=("ts_code",),
    track_update_time=False,
)


@pytest.fixture
async def db(pg_url: str) -> AsyncIterator[Backend]:
    async with open_backend(pg_url) as backend:
        await backend.ensure_schema("tushare")
        yield backend


def daily(rows: list[tuple[str, str, float | None, float | None]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["ts_code", "trade_date", "close", "vol"])


async def fillfactor(db: Backend, table: str) -> str | None:
    options = await db.fetchval("SELECT reloptions FROM pg_class WHERE oid = $1::text::regclass", table)
    found = [o.split("=", 1)[1] for o in options or () if o.startswith("fillfactor=")]
    return found[0] if found else None


def counts(result: UpsertResult) -> tuple[int, int, int]:
    return result.inserted, result.updated, result.unchanged


async def test_source_tables_a_merge_updates_get_room_for_updates_others_do_not(db: Backend) -> None:
    for spec in (DAILY, INCOME, KEY_ONLY, LOG, DERIVED):
        await db.ensure_table(spec)
    assert await fillfactor(db, "tushare.daily") == str(pgb.MERGE_FILLFACTOR)
    assert await fillfactor(db, "tushare.income") == str(pgb.MERGE_FILLFACTOR)
    assert await fillfactor(db, "tushare.key_only") is None  # no value column: never updated in place
    assert await fillfactor(db, "tushare.log") is None  # append-only
    assert await fillfactor(db, "tushare.derived") is None


async def test_an_existing_table_adopts_the_fillfactor_unless_its_owner_chose_one(db: Backend) -> None:
    # Tables made before the merge fillfactor existed (no reloptions) get it on the next ensure_table.
    await db.execute(
        "CREATE TABLE tushare.daily (ts_code TEXT NOT NULL, trade_date DATE NOT NULL, close DOUBLE PRECISION, "
        "vol DOUBLE PRECISION, update_time TIMESTAMPTZ DEFAULT now(), PRIMARY KEY (ts_code, trade_date))"
    )
    await db.ensure_table(DAILY)
    assert await fillfactor(db, "tushare.daily") == str(pgb.MERGE_FILLFACTOR)
    # A fillfactor the owner set is kept.
    await db.execute("ALTER TABLE tushare.daily SET (fillfactor = 100)")
    await db.ensure_table(DAILY)
    assert await fillfactor(db, "tushare.daily") == "100"


async def test_a_restated_batch_is_written_as_heap_only_updates(db: Backend) -> None:
    await db.ensure_table(DAILY)
    rows = [(f"{i:06d}.SZ", "20240102", float(i), 1.0) for i in range(2000)]
    await db.upsert(DAILY, daily(rows))
    async with db.transaction() as tx:
        result = await tx.upsert(DAILY, daily([(c, t, v + 0.5, vol) for c, t, v, vol in rows]))
        hot = await tx.fetchval("SELECT pg_stat_get_xact_tuples_hot_updated('tushare.daily'::regclass)")
    assert counts(result) == (0, 2000, 0)
    # The new versions fit beside the old ones: no index entry written for any of them.
    assert hot == 2000


async def test_counts_of_several_merges_into_one_table_in_one_transaction(db: Backend) -> None:
    await db.ensure_table(DAILY)
    async with db.transaction() as tx:
        first = await tx.upsert(DAILY, daily([("A", "20240102", 1.0, 1.0), ("B", "20240102", 2.0, 2.0)]))
        second = await tx.upsert(
            DAILY,
            daily([("A", "20240102", 1.5, 1.0), ("B", "20240102", 2.0, 2.0), ("C", "20240102", 3.0, None)]),
        )
    assert counts(first) == (2, 0, 0)
    assert counts(second) == (1, 1, 1)
    assert await db.row_count(DAILY) == 3


async def test_counts_without_the_statistics_counters(db: Backend) -> None:
    await db.ensure_table(INCOME)
    batch = pd.DataFrame(
        {"ts_code": ["A", "A", "A"], "end_date": ["20231231"] * 3, "f_ann_date": [None, "20240320", "20240321"],
         "revenue": [1.0, 2.0, 3.0]}
    )  # fmt: skip
    await db.upsert(INCOME, batch.iloc[:2])
    async with db.transaction() as tx:
        await tx.execute("SET LOCAL track_counts = off")
        result = await tx.upsert(INCOME, batch.assign(revenue=[1.0, 2.5, 3.0]))
    assert counts(result) == (1, 1, 1)


@pytest.mark.parametrize("statement_version", [pgb.MERGE_STATEMENT_VERSION, 99])
async def test_both_merge_paths_count_and_store_the_same(
    db: Backend, monkeypatch: pytest.MonkeyPatch, statement_version: int
) -> None:
    # 99: as on a server without MERGE, the UPDATE + INSERT path.
    monkeypatch.setattr(pgb, "MERGE_STATEMENT_VERSION", statement_version)
    await db.ensure_table(INCOME)
    batch = pd.DataFrame(
        {"ts_code": ["A", "A", "B"], "end_date": ["20231231"] * 3, "f_ann_date": [None, "20240320", None],
         "revenue": [1.0, 2.0, None]}
    )  # fmt: skip
    assert counts(await db.upsert(INCOME, batch)) == (3, 0, 0)
    assert counts(await db.upsert(INCOME, batch)) == (0, 0, 3)
    mixed = pd.concat([batch.assign(revenue=[1.0, 2.0, 7.0]), batch.iloc[[0]].assign(ts_code="C")])
    assert counts(await db.upsert(INCOME, mixed)) == (1, 1, 2)
    stored = await db.fetch_arrow(
        "SELECT ts_code, f_ann_date, revenue FROM tushare.income ORDER BY ts_code, f_ann_date NULLS FIRST"
    )
    assert [tuple(r.values()) for r in stored.to_pylist()] == [
        ("A", None, 1.0),
        ("A", dt.date(2024, 3, 20), 2.0),
        ("B", None, 7.0),
        ("C", None, 1.0),
    ]
