"""The binary COPY decoder (alphahome/storage/pgbinary.py): every column type the tables use, with NULLs,
read back exactly as written and exactly as the CSV COPY path reads it; malformed streams are refused."""

from __future__ import annotations

import asyncio
import datetime as dt
import math
from typing import Any

import asyncpg
import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from alphahome.storage import open_sync
from alphahome.storage.pgbinary import SIGNATURE, BinaryCopyError, can_decode, decode_binary_copy
from alphahome.storage.postgres_backend import _fetch_by_binary_copy, _fetch_by_copy, _init_connection

TYPES_TABLE = """
CREATE TABLE IF NOT EXISTS pgbinary_types (
    id int4, t text, v varchar(12), c char(3), d date, f8 float8, f4 float4, i8 int8, i2 int2,
    b bool, n numeric, ts timestamp, tz timestamptz)
"""

ROWS: list[tuple[Any, ...]] = [
    (1, "000001.SZ", "abc", "xyz", dt.date(2024, 1, 2), 10.25, 1.5, 2**40, 7, True, "12.3400",
     dt.datetime(2024, 1, 2, 15, 0, 0, 123456), dt.datetime(2024, 1, 2, 7, 0, tzinfo=dt.UTC)),
    (2, None, None, None, None, None, None, None, None, None, None, None, None),
    (3, "", "", "a", dt.date(1999, 12, 31), -0.0, -2.25, -5, -32768, False, "-0.000001",
     dt.datetime(1969, 7, 20, 20, 17, 40), dt.datetime(1999, 12, 31, 23, 59, 59, 999999, tzinfo=dt.UTC)),
    (4, "平安银行", "ü", "é", dt.date(1960, 3, 1), float("inf"), float("-inf"), 0, 32767, True,
     "123456789012345678901234567890.123", dt.datetime(2000, 1, 1), dt.datetime(2000, 1, 1, tzinfo=dt.UTC)),
    (5, "x" * 300, "longer text", "abc", dt.date(2099, 12, 31), float("nan"), 3.0, -(2**62), 0, False, "NaN",
     dt.datetime(2038, 1, 19, 3, 14, 8), None),
    (6, "600000.SH", "v", None, dt.date(2000, 1, 1), 1e-300, None, None, 1, None, "0", None,
     dt.datetime(2024, 6, 30, 16, 0, tzinfo=dt.UTC)),
    (7, "600000.SH", None, "zz", dt.date(2000, 1, 2), 5e300, 0.1, 1, None, True, "100000000", None, None),
    (8, "600000.SH", "v", "zz", dt.date(2000, 1, 2), 0.1, 0.1, 1, None, True, "0.1", None, None),
]


async def _both(url: str, sql: str, *params: Any) -> tuple[pa.Table, pa.Table]:
    conn = await asyncpg.connect(url)
    try:
        await _init_connection(conn)
        attributes = (await conn.prepare(sql)).get_attributes()
        binary = await _fetch_by_binary_copy(conn, sql, attributes, params)
        csv = await _fetch_by_copy(conn, sql, attributes, params)
    finally:
        await conn.close()
    return binary, csv


def _same(binary: pa.Table, csv: pa.Table) -> None:
    assert binary.schema == csv.schema
    pd.testing.assert_frame_equal(binary.to_pandas(), csv.to_pandas(), check_exact=True)


@pytest.fixture
def typed_table(pg_url: str) -> str:
    with open_sync(pg_url) as db:
        db.execute("DROP TABLE IF EXISTS pgbinary_types")
        db.execute(TYPES_TABLE)
        for row in ROWS:
            db.execute(
                "INSERT INTO pgbinary_types VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11::text::numeric, "
                "$12, $13)", *row
            )
    return pg_url


def test_every_type_and_null_reads_back_as_written(typed_table: str) -> None:
    with open_sync(typed_table) as db, db.read_snapshot() as snap:
        table = snap.fetch_arrow("SELECT * FROM pgbinary_types ORDER BY id")  # snapshots read by binary COPY
    assert [str(f.type) for f in table.schema] == [
        "int32", "string", "string", "string", "date32[day]", "double", "double", "int64", "int32", "bool",
        "double", "timestamp[us]", "timestamp[us, tz=UTC]",
    ]
    got = table.to_pylist()
    for row, want in zip(got, ROWS, strict=True):
        values = list(row.values())
        for name, value, expected in zip(table.column_names, values, want, strict=True):
            if name == "c" and expected is not None:
                expected = expected.ljust(3)  # char(3) pads
            if name == "n" and expected is not None:
                expected = float(expected)
            if name == "f4" and expected is not None:
                expected = float(str(np.float32(expected)))  # float4 reads as its text form, like CSV
            if name == "tz" and value is not None:
                value = value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value
            if isinstance(expected, float) and math.isnan(expected):
                assert math.isnan(value), name
            else:
                assert value == expected, (name, value, expected)
    assert math.copysign(1.0, got[2]["f8"]) == -1.0  # -0.0 keeps its sign


def test_binary_and_csv_paths_agree_on_every_type(typed_table: str) -> None:
    binary, csv = asyncio.run(_both(typed_table, "SELECT * FROM pgbinary_types ORDER BY id"))
    assert binary.num_rows == len(ROWS)
    _same(binary, csv)


def test_binary_and_csv_paths_agree_on_many_varied_rows(pg_url: str) -> None:
    # Text of varying length, NULLs here and there and numerics of every size cut the stream into many
    # runs of same-shaped rows; bound parameters go through COPY too.
    sql = (
        "SELECT g AS id, repeat('x', g % 7) AS t, CASE WHEN g % 11 = 0 THEN NULL ELSE g * 0.25 END AS f, "
        "CASE WHEN g % 13 = 0 THEN NULL ELSE (g * 1.001)::numeric(20, 4) END AS n, "
        "(g::numeric / 7) AS n2, (10::numeric ^ (g % 40 - 20))::numeric AS n3, "
        "DATE '2020-01-01' + g AS d, g::int8 * 1000003 AS i "
        "FROM generate_series(1, $1::int) g WHERE g % $2::int <> 0"
    )
    binary, csv = asyncio.run(_both(pg_url, sql, 20000, 17))
    assert binary.num_rows == 20000 - 20000 // 17
    _same(binary, csv)


def test_long_runs_and_walked_rows_mix(pg_url: str) -> None:
    # Same-shaped rows (decoded as long runs), then a stretch whose lengths vary row to row (walked one by
    # one), then same-shaped rows again past the walked block: every row lands once, in order.
    sql = ("SELECT g AS id, CASE WHEN g BETWEEN 40000 AND 40100 THEN repeat('y', g % 3) "
           "WHEN g = 70000 THEN NULL ELSE '600000.SH' END AS code, g * 0.5 AS f, DATE '2000-01-01' + g % 9000 AS d "
           "FROM generate_series(1, 100000) g")
    binary, csv = asyncio.run(_both(pg_url, sql))
    assert binary.column("id").to_pylist() == list(range(1, 100001))
    _same(binary, csv)


def test_numeric_reads_as_python_reads_its_text(pg_url: str) -> None:
    # Short values take the exact integer × power-of-ten route, long ones the text route: both must round
    # exactly as float() rounds the server's text.
    sql = ("SELECT v AS n, v::text AS t FROM (SELECT (g::numeric / 7) * (10::numeric ^ (g % 60 - 30)) AS v "
           "FROM generate_series(-3000, 3000) g UNION ALL SELECT x::numeric FROM unnest(ARRAY['0', '-0.5', "
           "'1e-300', '9007199254740993', '0.1', '123.4500', '-99999999.99999999']) x) s")
    binary, _ = asyncio.run(_both(pg_url, sql))
    assert binary.column("n").to_pylist() == [float(t) for t in binary.column("t").to_pylist()]


def test_empty_results_keep_their_types(pg_url: str) -> None:
    binary, csv = asyncio.run(_both(pg_url, "SELECT 'a'::text AS t, 1.5::float8 AS f, DATE '2024-01-01' AS d "
                                            "WHERE false"))
    assert binary.num_rows == 0
    assert binary.schema == csv.schema


def test_types_without_a_decoder_fall_back(pg_url: str) -> None:
    assert not can_decode(["text", "jsonb"])
    with open_sync(pg_url) as db, db.read_snapshot() as snap:
        table = snap.fetch_arrow("SELECT '{\"a\": 1}'::jsonb AS j, 2::int4 AS i")
    assert table.num_rows == 1 and table.column("i").to_pylist() == [2]


def test_malformed_streams_are_refused() -> None:
    with pytest.raises(BinaryCopyError, match="signature"):
        decode_binary_copy(b"not a copy stream at all", ["a"], ["int4"])
    header = SIGNATURE + b"\x00\x00\x00\x00" + b"\x00\x00\x00\x00"
    one_int = b"\x00\x01" + b"\x00\x00\x00\x04" + b"\x00\x00\x00\x2a"
    assert decode_binary_copy(header + one_int + b"\xff\xff", ["a"], ["int4"]).column("a").to_pylist() == [42]
    with pytest.raises(BinaryCopyError, match="trailer"):
        decode_binary_copy(header + one_int, ["a"], ["int4"])
    with pytest.raises(BinaryCopyError, match="fields"):
        decode_binary_copy(header + one_int + b"\xff\xff", ["a", "b"], ["int4", "int4"])
    with pytest.raises(BinaryCopyError, match="bytes"):
        decode_binary_copy(header + one_int + b"\xff\xff", ["a"], ["int8"])
    with pytest.raises(ValueError, match="no binary COPY decoder"):
        decode_binary_copy(header + b"\xff\xff", ["a"], ["jsonb"])
