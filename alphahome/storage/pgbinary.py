"""PostgreSQL binary COPY output → Arrow columns, vectorised with numpy (never a Python object per value).

``COPY (query) TO STDOUT (FORMAT binary)`` sends each value in its binary wire form: the server skips the
text conversion of every float and date (``float8out`` is most of the server's CPU in a CSV export) and the
client skips parsing it. The stream is a header, then per row a big-endian int16 field count and per field
an int32 length (-1 = NULL) followed by that many bytes, then an int16 -1 trailer.

Rows are found in *runs*: the field lengths of a row give its size; the following rows are assumed to have
the same lengths, and that is checked for all of them at once (every length field, at its assumed place).
The rows before the first mismatch are right by induction (a row whose start is right and whose lengths all
match puts the next row exactly one row size further on); decoding resumes at the mismatch with its own
lengths. Within a run every column is a strided view of the buffer, so a fixed-width column is one
``astype`` and a text column one copy. A table whose text values all have one length (``ts_code``) is a
single run. Where runs come out short (text lengths varying row to row, many NULLs), a block of rows is
walked one by one instead, noting each value's place and length, and each column of the block is gathered
at once: about three times the cost of Arrow's CSV reader there, where long runs cost a fraction of it.

Decoded types (:data:`BINARY_DECODERS`): text/varchar/bpchar/name, date, float8/float4, int8/int4/int2,
bool, numeric (as float64, like the CSV path), timestamp and timestamptz (µs).
"""

from __future__ import annotations

import struct
from collections.abc import Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

SIGNATURE = b"PGCOPY\n\xff\r\n\x00"

_PG_EPOCH_DAYS = 10957  # 2000-01-01 - 1970-01-01, in days
_PG_EPOCH_MICROS = _PG_EPOCH_DAYS * 86_400 * 1_000_000

#: PostgreSQL type name → the Arrow type its decoded column has.
BINARY_DECODERS: dict[str, pa.DataType] = {
    "text": pa.string(),
    "varchar": pa.string(),
    "bpchar": pa.string(),
    "name": pa.string(),
    "date": pa.date32(),
    "float8": pa.float64(),
    "float4": pa.float64(),
    "numeric": pa.float64(),
    "int8": pa.int64(),
    "int4": pa.int32(),
    "int2": pa.int32(),
    "bool": pa.bool_(),
    "timestamp": pa.timestamp("us"),
    "timestamptz": pa.timestamp("us", tz="UTC"),
}

#: Wire widths of the fixed-width types (a field of another length is a protocol error).
_WIDTH = {"date": 4, "float8": 8, "float4": 4, "int8": 8, "int4": 4, "int2": 2, "bool": 1, "timestamp": 8,
          "timestamptz": 8}
_WIRE = {"date": ">i4", "float8": ">f8", "float4": ">f4", "int8": ">i8", "int4": ">i4", "int2": ">i2",
         "bool": "u1", "timestamp": ">i8", "timestamptz": ">i8"}
_NUMPY = {"date": np.int32, "float8": np.float64, "float4": np.float64, "int8": np.int64, "int4": np.int32,
          "int2": np.int32, "bool": np.bool_, "timestamp": np.int64, "timestamptz": np.int64}

_FIRST_WINDOW = 256  # rows checked at once when a run starts; doubled while the run goes on…
_MAX_WINDOW = 1 << 14  # …up to a block that stays in the CPU cache for the checks of all its fields
_SHORT_RUN = 16  # a run shorter than this: walk the next rows one by one instead…
_WALK_ROWS = 1 << 14  # …this many (or to the end), then try runs again


class BinaryCopyError(ValueError):
    """The COPY stream is not what its column types say."""


def can_decode(type_names: Sequence[str]) -> bool:
    """True when every column type has a binary decoder here."""
    return all(t in BINARY_DECODERS for t in type_names)


def decode_binary_copy(data: bytes | bytearray | memoryview, names: Sequence[str], types: Sequence[str]) -> pa.Table:
    """The Arrow table of a binary COPY stream (header and trailer included) with columns ``names`` of
    PostgreSQL types ``types``."""
    if len(names) != len(types):
        raise ValueError("names and types differ in length")
    unknown = [t for t in types if t not in BINARY_DECODERS]
    if unknown:
        raise ValueError(f"no binary COPY decoder for type(s) {', '.join(sorted(set(unknown)))}")
    buf = np.frombuffer(data, np.uint8)
    pos = _skip_header(buf)
    ncols = len(types)
    pieces: list[list[pa.Array]] = [[] for _ in range(ncols)]
    total = len(buf)
    window = _FIRST_WINDOW
    while True:
        if pos + 2 > total:
            raise BinaryCopyError("binary COPY stream ends without its trailer")
        count = struct.unpack_from(">h", buf.data, pos)[0]
        if count == -1:
            break
        if count != ncols:
            raise BinaryCopyError(f"row has {count} fields, expected {ncols}")
        lengths, offsets, size = _row_shape(buf, pos, ncols)
        rows = _run_length(buf, pos, size, lengths, offsets, window)
        if rows < _SHORT_RUN:
            # Lengths that change row to row (names, NULLs here and there): walk the rows one by one
            # for a block, noting where each value is, and gather every column of the block at once.
            pos, starts, sizes = _walk(buf, pos, ncols, _WALK_ROWS)
            for c in range(ncols):
                pieces[c].append(_gathered(buf, starts[c], sizes[c], types[c]))
            window = _FIRST_WINDOW
            continue
        window = window * 2 if rows >= window else _FIRST_WINDOW
        for c in range(ncols):
            pieces[c].append(_column(buf, pos + offsets[c], size, rows, lengths[c], types[c]))
        pos += rows * size
    columns = [
        pa.concat_arrays(p) if p else pa.array([], BINARY_DECODERS[t])
        for p, t in zip(pieces, types, strict=True)
    ]
    return pa.Table.from_arrays(columns, names=list(names))


def _skip_header(buf: np.ndarray) -> int:
    if len(buf) < 19 or bytes(buf[:11]) != SIGNATURE:
        raise BinaryCopyError("not a binary COPY stream (bad signature)")
    extension = struct.unpack_from(">i", buf.data, 15)[0]
    return 19 + extension


def _row_shape(buf: np.ndarray, pos: int, ncols: int) -> tuple[list[int], list[int], int]:
    """Field lengths of the row at ``pos``, each value's offset in the row, and the row's size."""
    lengths, offsets = [], []
    at = pos + 2
    for _ in range(ncols):
        if at + 4 > len(buf):
            raise BinaryCopyError("binary COPY stream truncated inside a row")
        n = struct.unpack_from(">i", buf.data, at)[0]
        lengths.append(n)
        offsets.append(at + 4 - pos)
        at += 4 + max(n, 0)
    if at > len(buf):
        raise BinaryCopyError("binary COPY stream truncated inside a value")
    return lengths, offsets, at - pos


def _run_length(buf: np.ndarray, pos: int, size: int, lengths: list[int], offsets: list[int], window: int) -> int:
    """How many rows from ``pos`` on have exactly the lengths of the row at ``pos`` (at least 1)."""
    # Fields at their assumed places: the count, then each length. Rows whose bytes do not fit in the
    # buffer (the trailer's region) cannot be part of the run.
    room = (len(buf) - pos) // size
    checks = [(0, ">i2", len(lengths))] + [(off - 4, ">i4", n) for off, n in zip(offsets, lengths, strict=True)]
    rows = 1
    while rows < room:
        k = min(window, room - rows)
        start = pos + rows * size
        ok = np.ones(k, np.bool_)
        for off, dtype, expected in checks:
            view = np.ndarray((k,), dtype=dtype, buffer=buf, offset=start + off, strides=(size,))
            ok &= view == expected
        bad = int(np.argmin(ok)) if not ok.all() else k
        rows += bad
        if bad < k:
            break
        window = min(window * 2, _MAX_WINDOW)
    return rows


def _column(buf: np.ndarray, at: int, stride: int, rows: int, length: int, type_name: str) -> pa.Array:
    """One run of one column: ``rows`` values ``stride`` bytes apart from ``at``, each ``length`` long."""
    arrow_type = BINARY_DECODERS[type_name]
    if length < 0:
        return pa.nulls(rows, arrow_type)
    if arrow_type == pa.string():
        raw = np.lib.stride_tricks.as_strided(buf[at:], shape=(rows, length), strides=(stride, 1))
        data = np.ascontiguousarray(raw).reshape(-1)
        offsets = np.arange(0, (rows + 1) * length, length, dtype=np.int64) if length else np.zeros(rows + 1, np.int64)
        if offsets[-1] < 2**31:
            return pa.StringArray.from_buffers(rows, pa.py_buffer(offsets.astype(np.int32)), pa.py_buffer(data))
        big = pa.LargeStringArray.from_buffers(rows, pa.py_buffer(offsets), pa.py_buffer(data))
        return big.cast(pa.string())
    if type_name == "numeric":
        return pa.array(_numeric(buf, at, stride, rows, length), pa.float64())
    width = _WIDTH[type_name]
    if length != width:
        raise BinaryCopyError(f"{type_name} value of {length} bytes (expected {width})")
    wire = np.ndarray((rows,), dtype=_WIRE[type_name], buffer=buf, offset=at, strides=(stride,))
    return pa.array(_converted(wire, type_name), arrow_type)


def _walk(buf: np.ndarray, pos: int, ncols: int, limit: int) -> tuple[int, list[np.ndarray], list[np.ndarray]]:
    """Up to ``limit`` rows from ``pos``, one by one: where the walk ended, and per column each value's
    offset and length (-1 = NULL)."""
    view = buf.data
    read_count, read_length = struct.Struct(">h").unpack_from, struct.Struct(">i").unpack_from
    starts: list[list[int]] = [[] for _ in range(ncols)]
    sizes: list[list[int]] = [[] for _ in range(ncols)]
    end = len(buf)
    for _ in range(limit):
        if pos + 2 > end:
            raise BinaryCopyError("binary COPY stream ends without its trailer")
        count = read_count(view, pos)[0]
        if count == -1:
            break
        if count != ncols:
            raise BinaryCopyError(f"row has {count} fields, expected {ncols}")
        pos += 2
        for c in range(ncols):
            if pos + 4 > end:
                raise BinaryCopyError("binary COPY stream truncated inside a row")
            n = read_length(view, pos)[0]
            pos += 4
            starts[c].append(pos)
            sizes[c].append(n)
            if n > 0:
                pos += n
        if pos > end:
            raise BinaryCopyError("binary COPY stream truncated inside a value")
    return (pos, [np.array(s, np.int64) for s in starts], [np.array(n, np.int64) for n in sizes])


def _gathered(buf: np.ndarray, starts: np.ndarray, sizes: np.ndarray, type_name: str) -> pa.Array:
    """One column of walked rows: values at ``starts`` of ``sizes`` bytes (-1 = NULL)."""
    arrow_type = BINARY_DECODERS[type_name]
    rows = len(starts)
    null = sizes < 0
    mask = pa.array(null) if null.any() else None
    if arrow_type == pa.string():
        sized = np.maximum(sizes, 0)
        offsets = np.zeros(rows + 1, np.int64)
        np.cumsum(sized, out=offsets[1:])
        index = np.repeat(starts - offsets[:-1], sized) + np.arange(offsets[-1], dtype=np.int64)
        text = pa.LargeStringArray.from_buffers(rows, pa.py_buffer(offsets), pa.py_buffer(buf[index]))
        text = text.cast(pa.string())
        return pc.if_else(mask, pa.scalar(None, pa.string()), text) if mask is not None else text
    if type_name == "numeric":
        values = np.full(rows, np.nan)
        for length in np.unique(sizes[~null]):
            chosen = np.flatnonzero(sizes == length)
            block = buf[starts[chosen][:, None] + np.arange(int(length))].reshape(-1)
            values[chosen] = _numeric(block, 0, int(length), len(chosen), int(length))
        return pa.array(values, pa.float64(), mask=null if mask is not None else None)
    width = _WIDTH[type_name]
    if ((sizes != width) & ~null).any():
        raise BinaryCopyError(f"{type_name} value of {int(sizes[(sizes != width) & ~null][0])} bytes "
                              f"(expected {width})")
    block = buf[np.where(null, 0, starts)[:, None] + np.arange(width)].reshape(-1)
    wire = np.frombuffer(block.tobytes(), dtype=_WIRE[type_name])
    values = _converted(wire, type_name)
    return pa.array(values, arrow_type, mask=null if mask is not None else None)


def _converted(wire: np.ndarray, type_name: str) -> np.ndarray:
    """Wire values (big-endian) of a fixed-width type as the numpy values of its Arrow column."""
    values: np.ndarray = wire.astype(_NUMPY[type_name])
    if type_name == "float4":
        # As its text form reads (the CSV path's answer): 0.1::float4 is 0.1, not 0.100000001490116.
        values = wire.astype(np.float32).astype(str).astype(np.float64)
    elif type_name == "date":
        values += np.int32(_PG_EPOCH_DAYS)
    elif type_name in ("timestamp", "timestamptz"):
        values += np.int64(_PG_EPOCH_MICROS)
    return values


_NUMERIC_NAN, _NUMERIC_PINF, _NUMERIC_NINF, _NUMERIC_NEG = 0xC000, 0xD000, 0xF000, 0x4000


def _numeric(buf: np.ndarray, at: int, stride: int, rows: int, length: int) -> np.ndarray:
    """numeric values (ndigits, weight, sign, dscale, then base-10000 digits) → float64, rounded as
    ``float(text)`` rounds them."""
    head = np.ndarray((rows, 4), dtype=">i2", buffer=buf, offset=at, strides=(stride, 2)).astype(np.int64)
    ndigits = (length - 8) // 2
    if ndigits < 0 or head[:, 0].max(initial=0) != ndigits or head[:, 0].min(initial=ndigits) != ndigits:
        raise BinaryCopyError("numeric value whose digit count does not match its length")
    weight, sign = head[:, 1], head[:, 2] & 0xFFFF
    out = np.empty(rows, np.float64)
    # The integer of all digits, then one exact scaling by a power of ten: a single correctly rounded
    # operation on exact operands when the integer has at most 15 decimal digits (< 2**53) and the power
    # is at most 10**22 — otherwise through Decimal, which rounds exactly too.
    digits = (
        np.ndarray((rows, ndigits), dtype=">i2", buffer=buf, offset=at + 8, strides=(stride, 2)).astype(np.int64)
        if ndigits else np.zeros((rows, 0), np.int64)
    )
    fast = ndigits <= 3
    mantissa = np.zeros(rows, np.int64)
    for i in range(min(ndigits, 3)):
        mantissa = mantissa * 10000 + digits[:, i]
    exponent = 4 * (weight - ndigits + 1)  # value = mantissa × 10**exponent
    special = (sign == _NUMERIC_NAN) | (sign == _NUMERIC_PINF) | (sign == _NUMERIC_NINF)
    ok = np.full(rows, fast) & (np.abs(exponent) <= 22) & ~special
    scale = np.power(10.0, np.abs(np.where(ok, exponent, 0)))
    m = mantissa.astype(np.float64)
    value = np.where(exponent >= 0, m * scale, m / scale)
    out[ok] = np.where(sign[ok] == _NUMERIC_NEG, -value[ok], value[ok])
    out[sign == _NUMERIC_NAN] = np.nan
    out[sign == _NUMERIC_PINF] = np.inf
    out[sign == _NUMERIC_NINF] = -np.inf
    slow = ~ok & ~special
    if slow.any():
        # Too many digits for one exact operation: spell the numbers out as text ("-DDDD…DDDDe+000012",
        # one fixed width for the run) and let Arrow's parser round them — correctly, like float(text).
        rows_slow = int(slow.sum())
        groups = digits[slow]
        chars = np.empty((rows_slow, 1 + 4 * ndigits + 8), np.uint8)
        chars[:, 0] = np.where(sign[slow] == _NUMERIC_NEG, ord("-"), ord("+"))
        for place, power in enumerate((1000, 100, 10, 1)):
            chars[:, 1 + place : 1 + 4 * ndigits : 4] = groups // power % 10 + ord("0")
        power_of_ten = exponent[slow]
        chars[:, 1 + 4 * ndigits] = ord("e")
        chars[:, 2 + 4 * ndigits] = np.where(power_of_ten < 0, ord("-"), ord("+"))
        magnitude = np.abs(power_of_ten)
        for place in range(6):
            chars[:, 3 + 4 * ndigits + place] = magnitude // 10 ** (5 - place) % 10 + ord("0")
        width = chars.shape[1]
        offsets = np.arange(0, (rows_slow + 1) * width, width, dtype=np.int64)
        text = pa.LargeStringArray.from_buffers(rows_slow, pa.py_buffer(offsets), pa.py_buffer(chars.reshape(-1)))
        out[slow] = text.cast(pa.float64()).to_numpy(zero_copy_only=False)
    return out
