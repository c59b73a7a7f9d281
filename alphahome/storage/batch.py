"""Turn an incoming batch (pyarrow Table or pandas DataFrame) into an Arrow table that matches a TableSpec.

Every backend writes what :func:`prepare_batch` returns: exactly the spec's columns in the spec's order,
cast to the spec's types, non-nullable columns checked, duplicate keys resolved (the last row wins).
Anything wrong raises :class:`DataValidationError` before a single row is written.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeAlias

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from alphahome.errors import DataValidationError
from alphahome.storage.spec import UPDATE_TIME_COLUMN, ColumnType, TableSpec

if TYPE_CHECKING:  # pandas is imported where a DataFrame is handled: commands that only read skip its import
    import pandas as pd

Batch: TypeAlias = "pa.Table | pd.DataFrame"

#: Arrow type of each logical column type. ``numeric`` travels as float64 (Tushare sends JSON numbers).
ARROW_TYPES: dict[str, pa.DataType] = {
    "text": pa.string(),
    "date": pa.date32(),
    "double": pa.float64(),
    "numeric": pa.float64(),
    "bigint": pa.int64(),
    "integer": pa.int32(),
    "timestamp": pa.timestamp("us", tz="UTC"),
    "boolean": pa.bool_(),
}

_FLOAT_TEXT = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$|^[+-]?(nan|inf|infinity)$", re.I)
_INT_TEXT = re.compile(r"^[+-]?\d+$")


def arrow_schema(spec: TableSpec) -> pa.Schema:
    """The Arrow schema :func:`prepare_batch` produces for ``spec`` (nullability is checked separately,
    with a message that names the rows)."""
    return pa.schema([pa.field(c.name, ARROW_TYPES[c.type]) for c in spec.columns])


def prepare_batch(spec: TableSpec, batch: Batch, *, dedupe: bool = True) -> pa.Table:
    """Validate and convert ``batch`` for ``spec``.

    Columns must be a subset of the spec's (missing ones become NULL). Values are cast to the spec's
    types: dates may be ``'YYYYMMDD'``/``'YYYY-MM-DD'`` strings, ``datetime.date``, pandas or Arrow
    dates/timestamps; numbers may be strings; NaN becomes NULL. With ``dedupe`` and a keyed spec, rows
    with the same key (NULL matching NULL) collapse to the last one.
    """
    names = _column_names(batch)
    unknown = [n for n in names if n not in spec._by_name]
    if unknown:
        hint = (
            f" ({UPDATE_TIME_COLUMN!r} is managed by the storage layer)"
            if UPDATE_TIME_COLUMN in unknown
            else ""
        )
        raise DataValidationError(
            f"{spec.qualified_name}: unknown column(s) {', '.join(map(repr, unknown))}{hint}"
        )
    if len(set(names)) != len(names):
        dupes = sorted({n for n in names if names.count(n) > 1})
        raise DataValidationError(f"{spec.qualified_name}: duplicate column(s) {', '.join(map(repr, dupes))}")

    num_rows = batch.num_rows if isinstance(batch, pa.Table) else len(batch)
    arrays: list[pa.ChunkedArray | pa.Array] = []
    for col in spec.columns:
        target = ARROW_TYPES[col.type]
        if col.name not in names:
            arrays.append(pa.nulls(num_rows, target))
            continue
        raw = batch.column(col.name) if isinstance(batch, pa.Table) else batch[col.name]
        try:
            arrays.append(_convert(raw, col.type))
        except _BadValue as exc:
            raise DataValidationError(
                f"{spec.qualified_name}: column {col.name!r} ({col.type}): cannot convert value {exc.sample!r}"
            ) from None
    table = pa.Table.from_arrays(arrays, schema=arrow_schema(spec))
    _check_not_null(spec, table)
    if dedupe and spec.key and table.num_rows > 1:
        table = keep_last_per_key(table, list(spec.key))
    return table


def _column_names(batch: Batch) -> list[str]:
    if isinstance(batch, pa.Table):
        return list(batch.column_names)
    if _is_data_frame(batch):
        bad = [c for c in batch.columns if not isinstance(c, str)]
        if bad:
            raise DataValidationError(f"batch column names must be strings, got {bad[:3]!r}")
        return list(batch.columns)
    raise DataValidationError(
        f"a batch must be a pyarrow.Table or pandas.DataFrame, got {type(batch).__name__}"
    )


def _is_data_frame(value: Any) -> bool:
    # A DataFrame cannot exist unless pandas has been imported, so there is no need to import it here.
    pandas = sys.modules.get("pandas")
    return pandas is not None and isinstance(value, pandas.DataFrame)


class _BadValue(Exception):
    def __init__(self, sample: Any) -> None:
        super().__init__(repr(sample))
        self.sample = sample


def _to_arrow(raw: Any) -> pa.ChunkedArray | pa.Array:
    """An Arrow array from an Arrow column or a pandas Series (NaN → NULL; mixed objects → strings)."""
    if isinstance(raw, pa.ChunkedArray | pa.Array):
        return raw
    series: pd.Series = raw
    try:
        return pa.Array.from_pandas(series)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        # A mixed object column (say datetime.date next to 'YYYYMMDD' strings): render each value as text
        # and let the typed parser below decide. Rare, so a Python loop is acceptable here.
        return pa.array([_as_text(v) for v in series.tolist()], pa.string())


def _as_text(value: Any) -> str | None:
    import pandas as pd

    if value is None or value is pd.NaT or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, pd.Timestamp):
        value = value.to_pydatetime()
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def _convert(raw: Any, col_type: ColumnType) -> pa.ChunkedArray | pa.Array:
    arr = _to_arrow(raw)
    if pa.types.is_dictionary(arr.type):
        arr = arr.cast(arr.type.value_type)
    if pa.types.is_null(arr.type):
        return arr.cast(ARROW_TYPES[col_type])
    return _CONVERTERS[col_type](arr)


def _is_text(t: pa.DataType) -> bool:
    return pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_string_view(t)


def _blank_to_null(arr: Any) -> Any:
    """Trimmed text with empty strings as NULL (an empty number or date means "no value")."""
    arr = pc.utf8_trim_whitespace(arr.cast(pa.string()))
    return pc.if_else(pc.equal(arr, ""), pa.scalar(None, pa.string()), arr)


def _first_failure(source: Any, result: Any) -> Any:
    """The first non-null ``source`` value whose conversion came out NULL."""
    failed = pc.and_(pc.is_valid(source), pc.is_null(result))
    return pc.filter(source, failed)[0].as_py()


def _to_text(arr: Any) -> Any:
    if _is_text(arr.type):
        return arr.cast(pa.string())
    if pa.types.is_floating(arr.type):
        # 1.0 -> "1": a code that pandas turned into a float keeps its textual form.
        arr = pc.if_else(pc.is_nan(arr), pa.scalar(None, arr.type), arr)
        as_int = pc.cast(arr, pa.int64(), safe=False)
        integral = pc.equal(pc.cast(as_int, arr.type), arr)
        return pc.if_else(integral, pc.cast(as_int, pa.string()), pc.cast(arr, pa.string()))
    if pa.types.is_date(arr.type) or pa.types.is_timestamp(arr.type):
        return pc.cast(arr, pa.string())
    try:
        return arr.cast(pa.string())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        raise _BadValue(arr[0].as_py() if len(arr) else None) from None


def _to_date(arr: Any) -> Any:
    t = arr.type
    if pa.types.is_date32(t):
        return arr
    if pa.types.is_date64(t) or pa.types.is_timestamp(t):
        return arr.cast(pa.date32())
    if pa.types.is_integer(t):
        arr = arr.cast(pa.string())
    elif not _is_text(t):
        raise _BadValue(_first_valid(arr))
    text = _blank_to_null(arr)
    parsed: Any = None
    # Tushare's own 'YYYYMMDD' first; the other forms only if some value is left unparsed.
    for fmt in ("%Y%m%d", "%Y-%m-%d", "%Y-%m-%d %H:%M:%S"):
        attempt = pc.strptime(text, format=fmt, unit="s", error_is_null=True)
        parsed = attempt if parsed is None else pc.coalesce(parsed, attempt)
        if parsed.null_count == text.null_count:
            break
    if parsed.null_count != text.null_count:
        raise _BadValue(_first_failure(text, parsed))
    return parsed.cast(pa.date32())


def _to_float(arr: Any) -> Any:
    t = arr.type
    if _is_text(t):
        text = _blank_to_null(arr)
        try:
            arr = text.cast(pa.float64())
        except pa.ArrowInvalid:
            raise _BadValue(_first_mismatch(text, _FLOAT_TEXT)) from None
    elif (
        pa.types.is_decimal(t) or pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_boolean(t)
    ):
        arr = arr.cast(pa.float64())
    else:
        raise _BadValue(_first_valid(arr))
    if arr.null_count < len(arr) and pc.any(pc.is_nan(arr)).as_py():
        arr = pc.if_else(pc.is_nan(arr), pa.scalar(None, pa.float64()), arr)
    return arr


def _integer_converter(target: pa.DataType) -> Callable[[Any], Any]:
    def convert(arr: Any) -> Any:
        t = arr.type
        if _is_text(t):
            text = _blank_to_null(arr)
            try:
                return text.cast(target)
            except (pa.ArrowInvalid, OverflowError):
                raise _BadValue(_first_mismatch(text, _INT_TEXT, target)) from None
        if pa.types.is_floating(t):
            arr = pc.if_else(pc.is_nan(arr), pa.scalar(None, t), arr)
        elif not (pa.types.is_integer(t) or pa.types.is_boolean(t) or pa.types.is_decimal(t)):
            raise _BadValue(_first_valid(arr))
        try:
            return arr.cast(target)
        except (pa.ArrowInvalid, OverflowError):
            raise _BadValue(_first_uncastable(arr, target)) from None

    return convert


def _to_timestamp(arr: Any) -> Any:
    target = ARROW_TYPES["timestamp"]
    t = arr.type
    if pa.types.is_timestamp(t):
        # Naive timestamps are taken as UTC.
        return (
            arr.cast(pa.timestamp("us", tz=t.tz)).cast(target)
            if t.tz
            else arr.cast(pa.timestamp("us")).cast(target)
        )
    if pa.types.is_date(t):
        return arr.cast(pa.timestamp("us")).cast(target)
    if not _is_text(t):
        raise _BadValue(_first_valid(arr))
    text = _blank_to_null(arr)
    # Values with a zone offset parse as such; the others are naive and taken as UTC.
    zoned = pc.match_substring_regex(text, r"(Z|[+-]\d\d(:?\d\d)?)$")
    null = pa.scalar(None, pa.string())
    parts = []
    for mask, parse_as in ((zoned, target), (pc.invert(zoned), pa.timestamp("us"))):
        part = pc.if_else(mask, text, null)
        try:
            parts.append(part.cast(parse_as).cast(target))
        except pa.ArrowInvalid:
            raise _BadValue(_first_uncastable(part, parse_as)) from None
    return pc.coalesce(*parts)


def _to_bool(arr: Any) -> Any:
    t = arr.type
    if pa.types.is_boolean(t):
        return arr
    if _is_text(t):
        text = pc.utf8_lower(_blank_to_null(arr))
        try:
            return text.cast(pa.bool_())
        except pa.ArrowInvalid:
            raise _BadValue(_first_uncastable(text, pa.bool_())) from None
    if pa.types.is_integer(t) or pa.types.is_floating(t):
        if pa.types.is_floating(t):
            arr = pc.if_else(pc.is_nan(arr), pa.scalar(None, t), arr)
        bad = pc.and_(pc.is_valid(arr), pc.invert(pc.is_in(arr, pa.array([0, 1], t))))
        if pc.any(bad).as_py():
            raise _BadValue(pc.filter(arr, bad)[0].as_py())
        return arr.cast(pa.bool_())
    raise _BadValue(_first_valid(arr))


_CONVERTERS: dict[str, Callable[[Any], Any]] = {
    "text": _to_text,
    "date": _to_date,
    "double": _to_float,
    "numeric": _to_float,
    "bigint": _integer_converter(pa.int64()),
    "integer": _integer_converter(pa.int32()),
    "timestamp": _to_timestamp,
    "boolean": _to_bool,
}


def _first_valid(arr: Any) -> Any:
    valid = pc.drop_null(arr)
    return valid[0].as_py() if len(valid) else None


def _first_mismatch(text: Any, pattern: re.Pattern[str], target: pa.DataType | None = None) -> Any:
    """First value that does not look like ``pattern`` (or, failing that, does not cast to ``target``)."""
    for value in pc.unique(pc.drop_null(text)).to_pylist():
        if not pattern.match(value):
            return value
    if target is not None:
        return _first_uncastable(text, target)
    return _first_valid(text)


def _first_uncastable(arr: Any, target: pa.DataType) -> Any:
    """First value Arrow refuses to cast (error path only: checks distinct values one by one)."""
    values = pc.unique(pc.drop_null(arr))
    for i in range(len(values)):
        try:
            values.slice(i, 1).cast(target)
        except (pa.ArrowInvalid, OverflowError):
            return values[i].as_py()
    return _first_valid(arr)


def _check_not_null(spec: TableSpec, table: pa.Table) -> None:
    key = set(spec.key)
    for col in spec.columns:
        if col.nullable:
            continue
        column = table.column(col.name)
        if column.null_count:
            row = pc.index(pc.is_null(column), True).as_py()
            context = ", ".join(f"{k}={table.column(k)[row].as_py()!r}" for k in spec.key if k != col.name)
            what = "key column" if col.name in key else "column"
            raise DataValidationError(
                f"{spec.qualified_name}: {column.null_count} row(s) have NULL in non-nullable {what} "
                f"{col.name!r} (first at row {row}{': ' + context if context else ''}); nothing was written"
            )


def keep_last_per_key(table: pa.Table, key: list[str]) -> pa.Table:
    """Keep the last row of each key, survivors in their original order (NULL equals NULL here).

    The one key de-duplication: the task layer (fetched batches) and the storage layer (upserts) both
    use it."""
    codes = _composite_key_codes(table, key)
    if codes is None:
        return _keep_last_by_grouping(table, key)
    import pandas as pd

    duplicate = pd.Series(codes, copy=False).duplicated(keep="last").to_numpy()
    if not duplicate.any():
        return table
    return table.filter(pa.array(~duplicate))


def _composite_key_codes(table: pa.Table, key: list[str]) -> np.ndarray | None:
    """One int64 per row identifying its key: each key column dictionary-encoded (NULL as its own code)
    and the codes combined positionally. None if the combination could overflow int64."""
    combined = np.zeros(table.num_rows, dtype=np.int64)
    span = 1
    for name in key:
        encoded = pc.dictionary_encode(table.column(name), null_encoding="encode").combine_chunks()
        cardinality = max(len(encoded.dictionary), 1)
        span *= cardinality
        if span >= 2**62:
            return None
        combined *= cardinality
        combined += encoded.indices.to_numpy(zero_copy_only=False).astype(np.int64, copy=False)
    return combined


_keep_last_per_key = keep_last_per_key  # the name tests/test_storage_batch.py compares


def _keep_last_by_grouping(table: pa.Table, key: list[str]) -> pa.Table:
    row = "__alphahome_row__"
    keys = table.select(key).append_column(row, pa.array(np.arange(table.num_rows, dtype=np.int64)))
    last = keys.group_by(key, use_threads=False).aggregate([(row, "max")]).column(f"{row}_max")
    if len(last) == table.num_rows:
        return table
    return table.take(pa.array(np.sort(last.to_numpy())))
