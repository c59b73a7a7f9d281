"""Batch preparation: casting to the spec's types, validation, in-batch de-duplication (no database)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from alphahome.errors import DataValidationError
from alphahome.storage.batch import prepare_batch
from alphahome.storage.pgcopy import BINARY_HEADER, encode_binary_rows
from alphahome.storage.spec import Column, TableSpec

SPEC = TableSpec(
    schema="tushare",
    name="sample",
    columns=(
        Column("ts_code", "text", nullable=False),
        Column("trade_date", "date", nullable=False),
        Column("ann_date", "date"),
        Column("close", "double"),
        Column("vol", "bigint"),
        Column("days", "integer"),
        Column("flag", "text"),
        Column("seen_at", "timestamp"),
        Column("listed", "boolean"),
    ),
    key=("ts_code", "trade_date"),
)

NULLABLE_KEY = TableSpec(
    schema="tushare",
    name="statements",
    columns=(
        Column("ts_code", "text", nullable=False),
        Column("end_date", "date", nullable=False),
        Column("f_ann_date", "date"),
        Column("revenue", "double"),
    ),
    key=("ts_code", "end_date", "f_ann_date"),
)


def test_dates_arrive_in_every_form() -> None:
    df = pd.DataFrame(
        {
            "ts_code": ["A", "B", "C", "D", "E"],
            "trade_date": [
                "20240102",
                "2024-01-03",
                dt.date(2024, 1, 4),
                pd.Timestamp("2024-01-05"),
                " 20240108 ",
            ],
        }
    )
    out = prepare_batch(SPEC, df)
    assert out.column("trade_date").to_pylist() == [dt.date(2024, 1, d) for d in (2, 3, 4, 5, 8)]
    arrow_dates = pa.table({"ts_code": ["A"], "trade_date": pa.array([dt.date(2024, 1, 2)], pa.date32())})
    assert prepare_batch(SPEC, arrow_dates).column("trade_date").to_pylist() == [dt.date(2024, 1, 2)]
    stamps = pd.DataFrame({"ts_code": ["A"], "trade_date": pd.to_datetime(["2024-01-02"])})
    assert prepare_batch(SPEC, stamps).column("trade_date").to_pylist() == [dt.date(2024, 1, 2)]


def test_output_has_every_spec_column_with_its_type_and_missing_ones_null() -> None:
    out = prepare_batch(SPEC, pd.DataFrame({"trade_date": ["20240102"], "ts_code": ["A"], "close": ["1.5"]}))
    assert out.column_names == SPEC.column_names
    assert out.schema.field("close").type == pa.float64()
    assert out.schema.field("vol").type == pa.int64()
    assert out.schema.field("days").type == pa.int32()
    assert out.schema.field("seen_at").type == pa.timestamp("us", tz="UTC")
    assert out.column("close").to_pylist() == [1.5]
    assert out.column("vol").to_pylist() == [None]


def test_nan_and_blank_numbers_become_null_never_zero() -> None:
    df = pd.DataFrame(
        {
            "ts_code": ["A", "B", "C"],
            "trade_date": ["20240102"] * 3,
            "close": [np.nan, "", "2"],
            "vol": [1.0, None, 3],
        }
    )
    out = prepare_batch(SPEC, df)
    assert out.column("close").to_pylist() == [None, None, 2.0]
    assert out.column("vol").to_pylist() == [1, None, 3]
    arrow_nan = pa.table({"ts_code": ["A"], "trade_date": ["20240102"], "close": pa.array([float("nan")])})
    assert prepare_batch(SPEC, arrow_nan).column("close").to_pylist() == [None]


def test_text_keeps_empty_strings_and_codes_that_pandas_made_floats() -> None:
    df = pd.DataFrame(
        {"ts_code": ["A", "B", "C"], "trade_date": ["20240102"] * 3, "flag": [1.0, 2.5, np.nan]}
    )
    assert prepare_batch(SPEC, df).column("flag").to_pylist() == ["1", "2.5", None]
    empty = pd.DataFrame({"ts_code": ["A"], "trade_date": ["20240102"], "flag": [""]})
    assert prepare_batch(SPEC, empty).column("flag").to_pylist() == [""]


def test_timestamps_and_booleans() -> None:
    df = pd.DataFrame(
        {
            "ts_code": ["A", "B"],
            "trade_date": ["20240102", "20240102"],
            "seen_at": ["2024-01-02 03:04:05", "2024-01-02T11:04:05+08:00"],
            "listed": ["true", "0"],
        }
    )
    out = prepare_batch(SPEC, df)
    utc = dt.UTC
    assert out.column("seen_at").to_pylist() == [dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=utc)] * 2
    assert out.column("listed").to_pylist() == [True, False]


@pytest.mark.parametrize(
    ("column", "value", "sample"),
    [
        ("trade_date", "2024-13-01", "'2024-13-01'"),
        ("trade_date", "yesterday", "'yesterday'"),
        ("close", "1.2.3", "'1.2.3'"),
        ("vol", 1.5, "1.5"),
        ("vol", "12a", "'12a'"),
        ("seen_at", "noon", "'noon'"),
        ("listed", "maybe", "'maybe'"),
    ],
)
def test_bad_values_name_the_column_and_a_sample(column: str, value: object, sample: str) -> None:
    row = {"ts_code": ["A", "B"], "trade_date": ["20240102", "20240103"], column: [value, value]}
    if column == "trade_date":
        row["trade_date"] = ["20240102", value]
    with pytest.raises(DataValidationError) as excinfo:
        prepare_batch(SPEC, pd.DataFrame(row))
    message = str(excinfo.value)
    assert f"column {column!r}" in message and sample in message


def test_unknown_columns_are_named() -> None:
    with pytest.raises(DataValidationError, match=r"unknown column.*'volume'.*'extra'"):
        prepare_batch(
            SPEC, pd.DataFrame({"ts_code": ["A"], "trade_date": ["20240102"], "volume": [1], "extra": [2]})
        )
    with pytest.raises(DataValidationError, match="managed by the storage layer"):
        prepare_batch(
            SPEC, pd.DataFrame({"ts_code": ["A"], "trade_date": ["20240102"], "update_time": [None]})
        )


def test_null_in_non_nullable_key_column_is_rejected_with_its_row() -> None:
    df = pd.DataFrame({"ts_code": ["A", "B", "C"], "trade_date": ["20240102", None, "20240102"]})
    with pytest.raises(DataValidationError) as excinfo:
        prepare_batch(SPEC, df)
    message = str(excinfo.value)
    assert "1 row(s)" in message and "'trade_date'" in message and "row 1" in message and "'B'" in message


def test_missing_non_nullable_column_is_rejected() -> None:
    with pytest.raises(DataValidationError, match="'trade_date'"):
        prepare_batch(SPEC, pd.DataFrame({"ts_code": ["A"]}))


def test_in_batch_duplicates_keep_the_last_row_in_original_order() -> None:
    df = pd.DataFrame(
        {
            "ts_code": ["A", "B", "A", "C", "B"],
            "trade_date": ["20240102"] * 5,
            "close": [1.0, 2.0, 3.0, 4.0, 5.0],
        }
    )
    out = prepare_batch(SPEC, df)
    assert out.column("ts_code").to_pylist() == ["A", "C", "B"]
    assert out.column("close").to_pylist() == [3.0, 4.0, 5.0]


def test_null_matches_null_when_deduplicating_nullable_keys() -> None:
    df = pd.DataFrame(
        {
            "ts_code": ["A", "A", "A", "A"],
            "end_date": ["20231231"] * 4,
            "f_ann_date": [None, "20240320", None, "20240320"],
            "revenue": [1.0, 2.0, 3.0, 4.0],
        }
    )
    out = prepare_batch(NULLABLE_KEY, df)
    assert out.column("f_ann_date").to_pylist() == [None, dt.date(2024, 3, 20)]
    assert out.column("revenue").to_pylist() == [3.0, 4.0]


def test_binary_copy_rows_are_the_documented_wire_format() -> None:
    spec = TableSpec(
        "s", "t", (Column("code", "text"), Column("d", "date"), Column("x", "double"), Column("n", "bigint"))
    )
    table = prepare_batch(
        spec, pd.DataFrame({"code": ["ab", None], "d": ["20000102", None], "x": [1.5, None], "n": [7, None]})
    )
    body = bytes(encode_binary_rows(table.to_batches()[0], [c.type for c in spec.columns]))
    row1 = (
        b"\x00\x04"
        + b"\x00\x00\x00\x02ab"
        + b"\x00\x00\x00\x04\x00\x00\x00\x01"  # 2000-01-02 = day 1 after PostgreSQL's epoch
        + b"\x00\x00\x00\x08\x3f\xf8\x00\x00\x00\x00\x00\x00"
        + b"\x00\x00\x00\x08\x00\x00\x00\x00\x00\x00\x00\x07"
    )
    row2 = b"\x00\x04" + b"\xff\xff\xff\xff" * 4
    assert body == row1 + row2
    assert BINARY_HEADER.startswith(b"PGCOPY\n\xff\r\n\x00")


def test_dedupe_fallback_agrees_with_the_fast_path() -> None:
    from alphahome.storage.batch import _keep_last_by_grouping, _keep_last_per_key

    rng = np.random.default_rng(3)
    n = 2000
    table = pa.table(
        {
            "ts_code": pa.array(rng.choice(["A", "B", None, "C"], n)),
            "end_date": pa.array(rng.integers(0, 5, n)),
            "f_ann_date": pa.array([None if v == 0 else int(v) for v in rng.integers(0, 4, n)], pa.int64()),
            "row": np.arange(n),
        }
    )
    key = ["ts_code", "end_date", "f_ann_date"]
    fast = _keep_last_per_key(table, key)
    slow = _keep_last_by_grouping(table, key)
    assert fast.column("row").to_pylist() == slow.column("row").to_pylist()
    assert fast.num_rows == len({tuple(r[k] for k in key) for r in table.to_pylist()})
