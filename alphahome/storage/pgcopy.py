"""Arrow record batches → PostgreSQL COPY payloads, vectorised (never a Python tuple per row).

Binary COPY is what the server ingests fastest (no text parsing of floats and dates). Each field is
built as one Arrow binary array (4-byte big-endian length + big-endian value, or length -1 for NULL),
and Arrow's ``binary_join_element_wise`` concatenates the fields of each row in C++; the joined array's
data buffer is exactly the COPY body. ``numeric`` columns have no cheap binary form, so a table with one
goes as CSV (written by Arrow's CSV writer) instead.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

CopyFormat = Literal["binary", "csv"]

BINARY_HEADER = b"PGCOPY\n\xff\r\n\x00" + b"\x00\x00\x00\x00" + b"\x00\x00\x00\x00"
BINARY_TRAILER = b"\xff\xff"
_NULL_FIELD = pa.scalar(b"\xff\xff\xff\xff", pa.binary())
_EMPTY = pa.scalar(b"", pa.binary())

_PG_EPOCH_DAYS = 10957  # 2000-01-01 - 1970-01-01, in days
_PG_EPOCH_MICROS = _PG_EPOCH_DAYS * 86_400 * 1_000_000

#: Logical column types the binary encoder handles; anything else makes the payload CSV.
BINARY_TYPES = frozenset({"text", "date", "double", "bigint", "integer", "timestamp", "boolean"})

#: Rows per COPY chunk: big enough to amortise per-call overhead, small enough to bound memory.
DEFAULT_CHUNK_ROWS = 50_000


def copy_format_for(types: Sequence[str]) -> CopyFormat:
    """``binary`` when every column type has a binary encoder here, else ``csv``."""
    return "binary" if all(t in BINARY_TYPES for t in types) else "csv"


def _fixed_width_fields(values: np.ndarray, valid: pa.Array | None, be_dtype: str) -> pa.Array:
    """Length-prefixed big-endian fields from a numpy array of fixed-width values."""
    m = len(values)
    width = np.dtype(be_dtype).itemsize
    mat = np.empty((m, 4 + width), np.uint8)
    mat[:, :4] = np.frombuffer(np.array([width], ">i4").tobytes(), np.uint8)
    mat[:, 4:] = values.astype(be_dtype, copy=False).view(np.uint8).reshape(m, width)
    fields = pa.FixedSizeBinaryArray.from_buffers(pa.binary(4 + width), m, [None, pa.py_buffer(mat)])
    fields = fields.cast(pa.binary())
    if valid is not None:
        fields = pc.if_else(valid, fields, _NULL_FIELD)
    return fields


def _text_fields(arr: pa.Array) -> pa.Array:
    data = arr.cast(pa.binary())
    lengths = pc.binary_length(data).fill_null(0).to_numpy(zero_copy_only=False).astype(">i4")
    prefix = pa.FixedSizeBinaryArray.from_buffers(
        pa.binary(4), len(data), [None, pa.py_buffer(lengths.view(np.uint8))]
    ).cast(pa.binary())
    fields = pc.binary_join_element_wise(prefix, data, _EMPTY)  # NULL text -> NULL field
    return fields.fill_null(_NULL_FIELD) if data.null_count else fields


def _numbers(arr: pa.Array, as_type: pa.DataType) -> np.ndarray:
    return arr.cast(as_type).fill_null(0).to_numpy(zero_copy_only=False)


def _field_array(arr: pa.Array, col_type: str) -> pa.Array:
    valid = arr.is_valid() if arr.null_count else None
    if col_type == "text":
        return _text_fields(arr)
    if col_type == "double":
        return _fixed_width_fields(_numbers(arr, pa.float64()), valid, ">f8")
    if col_type == "bigint":
        return _fixed_width_fields(_numbers(arr, pa.int64()), valid, ">i8")
    if col_type == "integer":
        return _fixed_width_fields(_numbers(arr, pa.int32()), valid, ">i4")
    if col_type == "date":
        return _fixed_width_fields(_numbers(arr, pa.int32()) - np.int32(_PG_EPOCH_DAYS), valid, ">i4")
    if col_type == "timestamp":
        micros = _numbers(arr.cast(pa.timestamp("us", tz="UTC")), pa.int64()) - np.int64(_PG_EPOCH_MICROS)
        return _fixed_width_fields(micros, valid, ">i8")
    if col_type == "boolean":
        return _fixed_width_fields(_numbers(arr, pa.uint8()), valid, ">u1")
    raise ValueError(f"no binary COPY encoder for column type {col_type!r}")


def encode_binary_rows(batch: pa.RecordBatch, types: Sequence[str]) -> memoryview:
    """The binary COPY rows of ``batch`` (no header or trailer): ``types`` are the columns' logical types."""
    m = batch.num_rows
    if m == 0:
        return memoryview(b"")
    count = np.full(m, batch.num_columns, ">i2").view(np.uint8)
    parts = [
        pa.FixedSizeBinaryArray.from_buffers(pa.binary(2), m, [None, pa.py_buffer(count)]).cast(pa.binary())
    ]
    parts += [_field_array(col, t) for col, t in zip(batch.columns, types, strict=True)]
    rows = pc.binary_join_element_wise(*parts, _EMPTY)
    offsets = np.frombuffer(rows.buffers()[1], np.int32, count=m + 1, offset=rows.offset * 4)
    return memoryview(rows.buffers()[2])[int(offsets[0]) : int(offsets[-1])]


_CSV_OPTIONS = pacsv.WriteOptions(include_header=False, batch_size=DEFAULT_CHUNK_ROWS, quoting_style="needed")


def encode_csv_rows(batch: pa.RecordBatch) -> bytes:
    """CSV rows of ``batch`` for ``COPY … (FORMAT csv)``: NULL is an unquoted empty field, '' is quoted."""
    sink = pa.BufferOutputStream()
    pacsv.write_csv(batch, sink, _CSV_OPTIONS)
    return sink.getvalue().to_pybytes()


def iter_chunks(table: pa.Table, chunk_rows: int = DEFAULT_CHUNK_ROWS) -> Iterator[pa.RecordBatch]:
    """``table`` as record batches of at most ``chunk_rows`` rows (zero-copy slices)."""
    for start in range(0, table.num_rows, chunk_rows):
        yield from table.slice(start, chunk_rows).combine_chunks().to_batches()


def encode_chunk(batch: pa.RecordBatch, types: Sequence[str], fmt: CopyFormat) -> memoryview | bytes:
    """One chunk of COPY payload in ``fmt``."""
    return encode_binary_rows(batch, types) if fmt == "binary" else encode_csv_rows(batch)
