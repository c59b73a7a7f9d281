"""Turning Tushare rows into a typed ``pyarrow.Table``.

Tushare sends rows as JSON arrays in the order of ``data.fields``; the table's columns are the requested
fields in the requested order. Types come from the caller (Tushare's s/f/i letters or Arrow types) or, when
not given, from the values: all ints → int64, numbers → float64, strings → string, nothing → null.
JSON ``null`` (and a bare ``NaN``) stay null, never 0.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from typing import Any, TypeAlias

import pyarrow as pa
import pyarrow.compute as pc

from alphahome.errors import DataValidationError

#: Tushare's type letters (reference §4; 'd' = a 'YYYYMMDD' date on the wire) as Arrow types.
TYPE_LETTERS: dict[str, pa.DataType] = {
    "s": pa.string(),
    "f": pa.float64(),
    "i": pa.int64(),
    "d": pa.date32(),
}

ColumnType: TypeAlias = str | pa.DataType


def arrow_type(value: ColumnType) -> pa.DataType:
    """An Arrow type from a Tushare letter ('s', 'f', 'i', 'd') or an Arrow type."""
    if isinstance(value, pa.DataType):
        return value
    try:
        return TYPE_LETTERS[value]
    except KeyError:
        raise ValueError(f"unknown column type {value!r}: expected 's', 'f', 'i', 'd' or a pyarrow type") from None


def _is_missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _infer(values: Sequence[Any]) -> pa.DataType:
    present = [v for v in values if not _is_missing(v)]
    if not present:
        return pa.null()
    if all(isinstance(v, bool) for v in present):
        return pa.bool_()
    if all(isinstance(v, int) and not isinstance(v, bool) for v in present):
        return pa.int64()
    if all(isinstance(v, int | float) and not isinstance(v, bool) for v in present):
        return pa.float64()
    return pa.string()


def _as_string(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _fast_convert(values: list[Any], target: pa.DataType) -> pa.Array | None:
    """The common case in C: floats, strings and clean YYYYMMDD dates convert in one Arrow call (None and
    NaN become null). Anything unusual returns None and takes the checked path below."""
    try:
        if pa.types.is_floating(target) or pa.types.is_string(target):
            return pa.array(values, type=target, from_pandas=True)
        if pa.types.is_date(target):
            text = pa.array(values, type=pa.string(), from_pandas=True)
            return pc.cast(pc.strptime(text, format="%Y%m%d", unit="s"), target)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return None
    return None


def _convert(values: list[Any], target: pa.DataType, api: str, column: str) -> pa.Array:
    fast = _fast_convert(values, target)
    if fast is not None:
        return fast
    cleaned: list[Any] = [None if _is_missing(v) else v for v in values]
    if pa.types.is_string(target) or pa.types.is_large_string(target):
        cleaned = [None if v is None else v if isinstance(v, str) else _as_string(v) for v in cleaned]
    elif pa.types.is_date(target):
        dates: list[dt.date | None] = []
        for v in cleaned:
            if v is None or isinstance(v, dt.date):
                dates.append(v)
                continue
            try:
                dates.append(dt.datetime.strptime(_as_string(v).replace("-", ""), "%Y%m%d").date())
            except ValueError:
                raise DataValidationError(
                    f"tushare API '{api}' returned {v!r} in date column '{column}' (expected YYYYMMDD)"
                ) from None
        cleaned = dates
    elif pa.types.is_integer(target):
        out: list[int | None] = []
        for v in cleaned:
            if v is None or (isinstance(v, int) and not isinstance(v, bool)):
                out.append(v)
            elif isinstance(v, float) and v.is_integer():
                out.append(int(v))  # integer fields sometimes arrive as 57.0
            elif isinstance(v, str) and v.strip().lstrip("-").isdigit():
                out.append(int(v))
            else:
                raise DataValidationError(
                    f"tushare API '{api}' returned {v!r} in integer column '{column}'"
                )
        cleaned = out
    elif pa.types.is_floating(target):
        floats: list[float | None] = []
        for v in cleaned:
            if v is None:
                floats.append(None)
                continue
            try:
                floats.append(float(v))
            except (TypeError, ValueError):
                raise DataValidationError(
                    f"tushare API '{api}' returned {v!r} in numeric column '{column}'"
                ) from None
        cleaned = floats
    try:
        return pa.array(cleaned, type=target)
    except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
        raise DataValidationError(
            f"tushare API '{api}' column '{column}' does not fit type {target}: {exc}"
        ) from None


def build_table(
    api: str,
    columns: Sequence[str],
    values: Mapping[str, list[Any]],
    types: Mapping[str, ColumnType] | None = None,
) -> pa.Table:
    """A table with ``columns`` in order from per-column value lists, typed by ``types`` where given."""
    arrays: list[pa.Array] = []
    for name in columns:
        column_values = values.get(name, [])
        wanted = (types or {}).get(name)
        target = arrow_type(wanted) if wanted is not None else _infer(column_values)
        arrays.append(_convert(list(column_values), target, api, name))
    return pa.Table.from_arrays(arrays, names=list(columns))
