"""The storage contract, run identically on DuckDB and PostgreSQL (the ``database_url`` fixture)."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from alphahome.errors import DataValidationError, StorageError
from alphahome.storage import Backend, open_backend
from alphahome.storage import bookkeeping as bk
from alphahome.storage.pgcopy import DEFAULT_CHUNK_ROWS
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
    distribution_column="ts_code",
)

# Statement-like: f_ann_date is part of the key and legitimately NULL at times.
INCOME = TableSpec(
    schema="tushare",
    name="income",
    columns=(
        Column("ts_code", "text", nullable=False),
        Column("end_date", "date", nullable=False),
        Column("f_ann_date", "date"),
        Column("report_type", "text"),
        Column("revenue", "double"),
    ),
    key=("ts_code", "end_date", "f_ann_date", "report_type"),
)

EVERY_TYPE = TableSpec(
    schema="tushare",
    name="every_type",
    columns=(
        Column("id", "bigint", nullable=False),
        Column("label", "text"),
        Column("day", "date"),
        Column("x", "double"),
        Column("amount", "numeric"),
        Column("n", "integer"),
        Column("big", "bigint"),
        Column("seen_at", "timestamp"),
        Column("ok", "boolean"),
    ),
    key=("id",),
)

LOG = TableSpec(
    schema="tushare",
    name="log",
    columns=(Column("message", "text"), Column("n", "bigint")),
    track_update_time=False,
)


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Backend]:
    async with open_backend(database_url) as backend:
        yield backend


def daily(rows: list[tuple[str, str, float | None, float | None]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["ts_code", "trade_date", "close", "vol"])


async def stored(db: Backend, spec: TableSpec) -> list[tuple]:
    cols = ", ".join(f'"{c}"' for c in spec.column_names)
    order = ", ".join(f'"{c}" NULLS FIRST' for c in spec.column_names)
    table = await db.fetch_arrow(f"SELECT {cols} FROM {spec.schema}.{spec.name} ORDER BY {order}")
    return [tuple(r.values()) for r in table.to_pylist()]


def d(text: str) -> dt.date:
    return dt.datetime.strptime(text, "%Y%m%d").date()


# -- DDL -------------------------------------------------------------------------------------------------


async def test_ddl_round_trip(db: Backend) -> None:
    await db.ensure_table(DAILY)
    assert await db.table_exists("tushare", "daily")
    columns = await db.table_columns("tushare", "daily")
    assert list(columns) == ["ts_code", "trade_date", "close", "vol", "update_time"]
    assert columns["trade_date"] == "DATE"
    assert columns["close"] in ("DOUBLE", "DOUBLE PRECISION")
    assert columns["update_time"] == "TIMESTAMP WITH TIME ZONE"
    nullable = await db.fetch_arrow(
        "SELECT column_name, is_nullable FROM information_schema.columns "
        "WHERE table_schema = 'tushare' AND table_name = 'daily' ORDER BY ordinal_position"
    )
    assert dict(zip(*(c.to_pylist() for c in nullable.columns), strict=True)) == {
        "ts_code": "NO",
        "trade_date": "NO",
        "close": "YES",
        "vol": "YES",
        "update_time": "YES",
    }
    if db.kind == "postgres":
        key = await db.fetchval(
            "SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = 'tushare.daily'::regclass AND contype = 'p'"
        )
        assert key == "PRIMARY KEY (ts_code, trade_date)"
        index = await db.fetchval("SELECT indexdef FROM pg_indexes WHERE indexname = 'daily_trade_date_idx'")
        assert index is not None and "(trade_date)" in index


async def test_ensure_table_is_idempotent_and_keeps_data(db: Backend) -> None:
    await db.ensure_table(DAILY)
    await db.upsert(DAILY, daily([("A", "20240102", 1.0, 2.0)]))
    await db.ensure_table(DAILY)
    await db.ensure_table(DAILY)
    assert await db.row_count(DAILY) == 1


async def test_ensure_table_adds_columns_the_spec_gained(db: Backend) -> None:
    await db.ensure_table(DAILY)
    await db.upsert(DAILY, daily([("A", "20240102", 1.0, 2.0)]))
    grown = TableSpec(
        schema=DAILY.schema,
        name=DAILY.name,
        columns=(*DAILY.columns, Column("amount", "double"), Column("adj", "text")),
        key=DAILY.key,
    )
    await db.ensure_table(grown)
    assert list(await db.table_columns("tushare", "daily"))[-2:] == ["amount", "adj"]
    await db.upsert(grown, pd.DataFrame({"ts_code": ["A"], "trade_date": ["20240102"], "amount": [9.5]}))
    assert await stored(db, grown) == [("A", d("20240102"), None, None, 9.5, None)]


async def test_ensure_table_refuses_a_changed_column_type(db: Backend) -> None:
    await db.ensure_table(DAILY)
    changed = TableSpec(
        schema="tushare",
        name="daily",
        columns=(DAILY.columns[0], Column("trade_date", "text", nullable=False), *DAILY.columns[2:]),
        key=DAILY.key,
    )
    with pytest.raises(StorageError, match="trade_date is DATE in the database but text in the spec"):
        await db.ensure_table(changed)


# -- upsert (merge) --------------------------------------------------------------------------------------


async def test_merge_new_conflicting_and_mixed_batches(db: Backend) -> None:
    await db.ensure_table(DAILY)
    first = await db.upsert(DAILY, daily([("A", "20240102", 10.0, 1.0), ("B", "20240102", 20.0, 2.0)]))
    assert (first.inserted, first.updated, first.unchanged) == (2, 0, 0)

    conflicting = await db.upsert(DAILY, daily([("A", "20240102", 11.0, 1.0), ("B", "20240102", 21.0, None)]))
    assert (conflicting.inserted, conflicting.updated, conflicting.unchanged) == (0, 2, 0)

    mixed = await db.upsert(
        DAILY,
        daily([("A", "20240102", 11.0, 1.0), ("B", "20240102", 22.0, None), ("C", "20240103", 30.0, 3.0)]),
    )
    assert (mixed.inserted, mixed.updated, mixed.unchanged) == (1, 1, 1)
    assert await stored(db, DAILY) == [
        ("A", d("20240102"), 11.0, 1.0),
        ("B", d("20240102"), 22.0, None),
        ("C", d("20240103"), 30.0, 3.0),
    ]


async def test_in_batch_duplicates_last_wins(db: Backend) -> None:
    await db.ensure_table(DAILY)
    result = await db.upsert(
        DAILY,
        daily([("A", "20240102", 1.0, 1.0), ("A", "2024-01-02", 2.0, 2.0), ("B", "20240102", 5.0, 5.0)]),
    )
    assert result.rows == 2 and result.inserted == 2
    assert await stored(db, DAILY) == [("A", d("20240102"), 2.0, 2.0), ("B", d("20240102"), 5.0, 5.0)]


async def test_null_in_non_nullable_key_is_rejected_and_nothing_written(db: Backend) -> None:
    await db.ensure_table(DAILY)
    await db.upsert(DAILY, daily([("A", "20240102", 1.0, 1.0)]))
    with pytest.raises(DataValidationError, match="non-nullable key column 'trade_date'"):
        await db.upsert(DAILY, daily([("B", "20240102", 1.0, 1.0), ("C", None, 2.0, 2.0)]))
    assert await stored(db, DAILY) == [("A", d("20240102"), 1.0, 1.0)]


async def test_bad_value_is_rejected_and_nothing_written(db: Backend) -> None:
    await db.ensure_table(DAILY)
    with pytest.raises(DataValidationError, match=r"column 'close' \(double\): cannot convert value 'n/a'"):
        await db.upsert(
            DAILY,
            pd.DataFrame({"ts_code": ["A", "B"], "trade_date": ["20240102"] * 2, "close": ["1", "n/a"]}),
        )
    assert await db.row_count(DAILY) == 0


async def test_nullable_key_columns_match_null_to_null(db: Backend) -> None:
    await db.ensure_table(INCOME)
    batch = pd.DataFrame(
        {
            "ts_code": ["A", "A", "A"],
            "end_date": ["20231231"] * 3,
            "f_ann_date": [None, "20240320", None],
            "report_type": ["1", "1", None],
            "revenue": [100.0, 101.0, 99.0],
        }
    )
    first = await db.upsert(INCOME, batch)
    assert first.inserted == 3
    again = await db.upsert(INCOME, batch)
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 3)
    restated = batch.iloc[[0]].assign(revenue=[105.0])
    changed = await db.upsert(INCOME, restated)
    assert (changed.inserted, changed.updated) == (0, 1)
    assert await stored(db, INCOME) == [
        ("A", d("20231231"), None, None, 99.0),
        ("A", d("20231231"), None, "1", 105.0),
        ("A", d("20231231"), d("20240320"), "1", 101.0),
    ]
    # The rows keep their NULLs: nothing was dropped or given an invented date.
    assert await db.fetchval("SELECT count(*) FROM tushare.income WHERE f_ann_date IS NULL") == 2


async def test_update_time_moves_only_when_a_value_really_changes(db: Backend) -> None:
    await db.ensure_table(DAILY)
    await db.upsert(DAILY, daily([("A", "20240102", 1.0, None), ("B", "20240102", 2.0, 5.0)]))
    query = "SELECT ts_code, update_time FROM tushare.daily ORDER BY ts_code"
    before = dict((await db.fetch_df(query)).itertuples(index=False))
    assert all(pd.notna(v) for v in before.values())
    await asyncio.sleep(0.01)

    same = await db.upsert(DAILY, daily([("A", "20240102", 1.0, None), ("B", "20240102", 2.0, 5.0)]))
    assert (same.inserted, same.updated, same.unchanged) == (0, 0, 2)
    assert dict((await db.fetch_df(query)).itertuples(index=False)) == before

    await asyncio.sleep(0.01)
    one = await db.upsert(DAILY, daily([("A", "20240102", 1.0, None), ("B", "20240102", 2.0, 6.0)]))
    assert (one.updated, one.unchanged) == (1, 1)
    after = dict((await db.fetch_df(query)).itertuples(index=False))
    assert after["A"] == before["A"]
    assert after["B"] > before["B"]


async def test_every_type_round_trips(db: Backend) -> None:
    await db.ensure_table(EVERY_TYPE)
    at = dt.datetime(2024, 1, 2, 3, 4, 5, 678901, tzinfo=dt.UTC)
    rows = {
        "id": [1, 2, 3],
        "label": ['quote " comma , newline\nend', "", None],
        "day": ["19991231", None, "20240229"],
        "x": [1.0 / 3.0, None, -1e300],
        "amount": [12345.6789, None, 0.1],
        "n": pd.array([2_147_483_647, None, -5], dtype="Int64"),
        "big": pd.array([9_007_199_254_740_993, None, -1], dtype="Int64"),
        "seen_at": [at, None, at],
        "ok": [True, None, False],
    }
    result = await db.upsert(EVERY_TYPE, pd.DataFrame(rows))
    assert result.inserted == 3
    back = await db.fetch_arrow(
        "SELECT id, label, day, x, amount, n, big, seen_at, ok FROM tushare.every_type ORDER BY id"
    )
    assert back.column("label").to_pylist() == rows["label"]
    assert back.column("day").to_pylist() == [d("19991231"), None, d("20240229")]
    assert back.column("x").to_pylist() == rows["x"]
    assert back.column("amount").to_pylist() == rows["amount"]
    assert back.column("n").to_pylist() == [2_147_483_647, None, -5]
    assert back.column("big").to_pylist() == [9_007_199_254_740_993, None, -1]
    assert back.column("seen_at").to_pylist() == rows["seen_at"]
    assert back.column("ok").to_pylist() == rows["ok"]
    # Re-sending the same rows changes nothing, whatever the types.
    again = await db.upsert(EVERY_TYPE, pd.DataFrame(rows))
    assert again.unchanged == 3


async def test_a_batch_larger_than_one_copy_chunk(db: Backend) -> None:
    await db.ensure_table(DAILY)
    n = DEFAULT_CHUNK_ROWS + 1234
    codes = np.array([f"{i:06d}.SZ" for i in range(n)])
    batch = pa.table(
        {
            "ts_code": codes,
            "trade_date": pa.array([dt.date(2024, 1, 2)] * n, pa.date32()),
            "close": np.arange(n, dtype=np.float64),
        }
    )
    assert (await db.upsert(DAILY, batch)).inserted == n
    half = batch.slice(n // 2).set_column(2, "close", pa.array(np.arange(n - n // 2, dtype=np.float64) + 0.5))
    result = await db.upsert(DAILY, half)
    assert (result.updated, result.unchanged) == (n - n // 2, 0)
    assert await db.row_count(DAILY) == n
    assert await db.fetchval("SELECT sum(close) FROM tushare.daily") == pytest.approx(
        float(np.arange(n // 2).sum() + (np.arange(n - n // 2) + 0.5).sum())
    )


# -- insert and append modes ------------------------------------------------------------------------------


async def test_insert_mode_writes_new_rows_and_refuses_existing_keys(db: Backend) -> None:
    await db.ensure_table(DAILY)
    result = await db.upsert(
        DAILY, daily([("A", "20240102", 1.0, 1.0), ("A", "20240102", 2.0, 2.0)]), mode="insert"
    )
    assert result.inserted == 1
    with pytest.raises(DataValidationError, match="already exists"):
        await db.upsert(
            DAILY, daily([("B", "20240103", 3.0, 3.0), ("A", "20240102", 9.0, 9.0)]), mode="insert"
        )
    assert await stored(db, DAILY) == [("A", d("20240102"), 2.0, 2.0)]
    stamps = await db.fetchval("SELECT count(*) FROM tushare.daily WHERE update_time IS NOT NULL")
    assert stamps == 1


async def test_append_mode_for_tables_without_a_key(db: Backend) -> None:
    await db.ensure_table(LOG)
    await db.upsert(LOG, pd.DataFrame({"message": ["x", "x"], "n": [1, 1]}), mode="append")
    await db.upsert(LOG, pd.DataFrame({"message": ["x"], "n": [1]}), mode="append")
    assert await db.row_count(LOG) == 3
    with pytest.raises(StorageError, match="no key"):
        await db.upsert(LOG, pd.DataFrame({"message": ["x"]}))
    with pytest.raises(StorageError, match="has a key"):
        await db.upsert(DAILY, daily([("A", "20240102", 1.0, 1.0)]), mode="append")


async def test_empty_batch_is_a_no_op(db: Backend) -> None:
    await db.ensure_table(DAILY)
    result = await db.upsert(DAILY, daily([]))
    assert result.rows == 0


# -- transactions and bookkeeping --------------------------------------------------------------------------


async def test_transaction_commits_data_and_state_together(db: Backend) -> None:
    await db.ensure_table(DAILY)
    await bk.ensure_bookkeeping(db)
    async with db.transaction() as tx:
        result = await tx.upsert(DAILY, daily([("A", "20240102", 1.0, 1.0)]))
        await bk.mark_complete(tx, "daily", ["20240102"], rows=result.rows)
        assert await tx.fetchval("SELECT count(*) FROM tushare.daily") == 1
    assert await db.row_count(DAILY) == 1
    assert await bk.completed_partitions(db, "daily") == {"20240102"}


async def test_failed_transaction_leaves_neither_data_nor_state(db: Backend) -> None:
    await db.ensure_table(DAILY)
    await bk.ensure_bookkeeping(db)
    with pytest.raises(RuntimeError, match="boom"):
        async with db.transaction() as tx:
            await tx.upsert(DAILY, daily([("A", "20240102", 1.0, 1.0)]))
            await bk.mark_complete(tx, "daily", ["20240102"], rows=1)
            await tx.execute(
                "INSERT INTO tushare.daily (ts_code, trade_date) VALUES ($1, $2)", "Z", d("20240105")
            )
            raise RuntimeError("boom")
    assert await db.row_count(DAILY) == 0
    assert await bk.completed_partitions(db, "daily") == set()
    # A database error inside the transaction rolls back the same way.
    with pytest.raises(StorageError):
        async with db.transaction() as tx:
            await bk.mark_complete(tx, "daily", ["20240103"], rows=1)
            await tx.execute("SELECT * FROM tushare.no_such_table")
    assert await bk.completed_partitions(db, "daily") == set()


async def test_sync_state_bookkeeping(db: Backend) -> None:
    await bk.ensure_bookkeeping(db)
    assert await bk.completed_partitions(db, "daily") == set()
    days = [f"2024{m:02d}{x:02d}" for m in range(1, 13) for x in range(1, 29)]
    async with db.transaction() as tx:
        await bk.mark_complete(tx, "daily", days, rows=dict.fromkeys(days, 5000))
        await bk.mark_missing(tx, "daily", ["20250102", "20250103"], "HTTP 500 after 3 retries")
        await bk.mark_complete(tx, "trade_cal", ["snapshot"], rows=12)
    assert await bk.completed_partitions(db, "daily") == set(days)
    assert await bk.missing_partitions(db, "daily") == dict.fromkeys(
        ["20250102", "20250103"], "HTTP 500 after 3 retries"
    )
    async with db.transaction() as tx:
        await bk.mark_complete(tx, "daily", ["20250102"], rows=4900)
    assert await bk.missing_partitions(db, "daily") == {"20250103": "HTTP 500 after 3 retries"}
    assert "20250102" in await bk.completed_partitions(db, "daily")
    assert (
        await db.fetchval(
            "SELECT \"rows\" FROM alphahome.sync_state WHERE dataset = 'daily' AND \"partition\" = '20250102'"
        )
        == 4900
    )
    async with db.transaction() as tx:
        await bk.clear_dataset(tx, "daily")
    assert await bk.completed_partitions(db, "daily") == set()
    assert await bk.completed_partitions(db, "trade_cal") == {"snapshot"}


async def test_run_history_keeps_the_latest_run_per_task(db: Backend) -> None:
    await bk.ensure_bookkeeping(db)
    t0 = dt.datetime(2026, 11, 27, 2, 30, tzinfo=dt.UTC)
    await bk.record_run(db, bk.RunRecord("run-1", "daily", "tushare", t0, "success", "smart", t0, 5000, 3))
    later = t0 + dt.timedelta(days=1)
    await bk.record_run(db, bk.RunRecord("run-2", "daily", "tushare", later, "failed", error="HTTP 500"))
    await bk.record_run(db, bk.RunRecord("run-2", "income", "pit", later, "partial", rows=7))
    runs = await bk.last_runs(db)
    assert list(runs["task"]) == ["daily", "income"]
    assert list(runs["run_id"]) == ["run-2", "run-2"]
    assert list(runs["status"]) == ["failed", "partial"]
    assert runs.loc[0, "error"] == "HTTP 500"
    assert list((await bk.last_runs(db, kind="pit"))["task"]) == ["income"]
    # Re-recording a run (say at its end) replaces its row.
    await bk.record_run(
        db, bk.RunRecord("run-2", "daily", "tushare", later, "success", finished_at=later, rows=1)
    )
    assert (await bk.last_runs(db)).loc[0, "status"] == "success"
    with pytest.raises(ValueError, match="status"):
        bk.RunRecord("r", "t", "tushare", t0, "done")  # type: ignore[arg-type]


# -- reads ---------------------------------------------------------------------------------------------------


async def test_reads_and_placeholders(db: Backend) -> None:
    await db.ensure_table(DAILY)
    assert await db.latest_value(DAILY, "trade_date") is None
    assert await db.latest_value("tushare.nothing_here", "trade_date") is None
    assert await db.row_count("tushare.nothing_here") == 0
    await db.upsert(DAILY, daily([("A", "20240102", 1.0, 1.0), ("B", "20240105", 2.0, None)]))
    assert await db.latest_value(DAILY, "trade_date") == d("20240105")
    assert await db.row_count("tushare.daily") == 2
    df = await db.fetch_df(
        "SELECT ts_code, trade_date, vol FROM tushare.daily WHERE close > $1 ORDER BY 1", 0.5
    )
    assert list(df["ts_code"]) == ["A", "B"]
    assert pd.api.types.is_datetime64_any_dtype(df["trade_date"])
    assert df["vol"].isna().tolist() == [False, True]
    empty = await db.fetch_arrow(
        "SELECT ts_code, close FROM tushare.daily WHERE trade_date = $1", d("20200101")
    )
    assert empty.num_rows == 0 and empty.column_names == ["ts_code", "close"]
    assert (
        await db.fetchval(
            "SELECT close FROM tushare.daily WHERE ts_code = $1 AND trade_date = $2", "B", d("20240105")
        )
        == 2.0
    )
    assert await db.fetchval("SELECT close FROM tushare.daily WHERE ts_code = $1", "nobody") is None


async def test_concurrent_upserts_through_one_backend(db: Backend) -> None:
    await db.ensure_table(DAILY)
    await bk.ensure_bookkeeping(db)

    async def save(code: str) -> None:
        async with db.transaction() as tx:
            rows = [(code, f"202401{day:02d}", float(day), None) for day in range(1, 21)]
            await tx.upsert(DAILY, daily(rows))
            await bk.mark_complete(tx, "daily", [code], rows=len(rows))

    async with asyncio.TaskGroup() as group:
        for i in range(8):
            group.create_task(save(f"{i:06d}.SZ"))
    assert await db.row_count(DAILY) == 160
    assert len(await bk.completed_partitions(db, "daily")) == 8


async def test_unparameterised_reads_keep_nulls_empty_strings_infinities_and_instants(
    database_url: str,
) -> None:
    # On PostgreSQL a read without parameters goes through COPY … CSV; a session time zone with a
    # half-hour offset checks that timestamps still come back as the same instants.
    pool = {"server_settings": {"TimeZone": "Asia/Kolkata"}} if database_url.startswith("postgres") else None
    async with open_backend(database_url, pool) as db:
        await db.ensure_table(EVERY_TYPE)
        at = dt.datetime(2024, 1, 2, 3, 4, 5, 6, tzinfo=dt.UTC)
        await db.upsert(
            EVERY_TYPE,
            pa.table(
                {
                    "id": [1, 2, 3],
                    "label": ["", None, 'a,"b"\nc'],
                    "x": [float("inf"), float("-inf"), None],
                    "seen_at": pa.array([at, None, at], pa.timestamp("us", tz="UTC")),
                    "ok": [False, None, True],
                }
            ),
        )
        both = await db.fetch_arrow(
            "SELECT id, label, x, seen_at, ok, day FROM tushare.every_type ORDER BY id"
        )
        bound = await db.fetch_arrow(
            "SELECT id, label, x, seen_at, ok, day FROM tushare.every_type WHERE id > $1 ORDER BY id", 0
        )
        for table in (both, bound):
            assert table.column("label").to_pylist() == ["", None, 'a,"b"\nc']
            assert table.column("x").to_pylist() == [float("inf"), float("-inf"), None]
            assert table.column("seen_at").to_pylist() == [at, None, at]
            assert table.column("ok").to_pylist() == [False, None, True]
            assert table.column("day").to_pylist() == [None, None, None]
            assert table.schema.field("day").type == pa.date32()


async def test_concurrent_merges_of_the_same_keys_neither_fail_nor_duplicate(db: Backend) -> None:
    await db.ensure_table(DAILY)
    first_holds_its_transaction = asyncio.Event()

    async def merge(close: float, hold: bool) -> None:
        async with db.transaction() as tx:
            await tx.upsert(DAILY, daily([(f"{i:06d}.SZ", "20240102", close, None) for i in range(50)]))
            if hold:
                first_holds_its_transaction.set()
                await asyncio.sleep(0.3)

    async with asyncio.TaskGroup() as group:
        group.create_task(merge(1.0, hold=True))
        await first_holds_its_transaction.wait()
        group.create_task(merge(2.0, hold=False))
    assert await db.row_count(DAILY) == 50
    assert await db.fetchval("SELECT count(*) FROM tushare.daily WHERE close = 2.0") == 50


async def test_writing_around_an_open_transaction_is_refused_not_deadlocked(db: Backend) -> None:
    await db.ensure_table(DAILY)
    with pytest.raises(StorageError, match="transaction is open in this task"):
        async with db.transaction() as tx:
            await tx.upsert(DAILY, daily([("A", "20240102", 1.0, None)]))
            async with asyncio.timeout(10):  # same task (wait_for would run it in another one)
                await db.upsert(DAILY, daily([("A", "20240102", 2.0, None)]))
    assert await db.row_count(DAILY) == 0  # the refusal rolled the transaction back
    async with db.transaction() as tx:
        await tx.upsert(DAILY, daily([("A", "20240102", 1.0, None)]))
    assert await db.row_count(DAILY) == 1
