"""Turning fetched rows into a batch fit to store: typed to the spec, keys checked, rules applied,
de-duplicated on the key (NULL = NULL).

All of it is Arrow compute on the batch at hand (a few thousand to a few hundred thousand rows), never on a
whole table.
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass, field

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from alphahome.errors import DataValidationError
from alphahome.sources.tushare.fields import api_fields
from alphahome.storage.batch import keep_last_per_key
from alphahome.tasks.spec import DatasetSpec, Rule

logger = logging.getLogger("alphahome.tasks")

_ARROW: dict[str, pa.DataType] = {"s": pa.string(), "d": pa.date32(), "f": pa.float64(), "i": pa.int64()}
_OPS = {">": pc.greater, ">=": pc.greater_equal, "<": pc.less, "<=": pc.less_equal, "!=": pc.not_equal}


def wire_types(spec: DatasetSpec) -> dict[str, str]:
    """Column -> Tushare type letter, as the client's ``fetch(types=…)`` wants it (dates are strings)."""
    return {f.name: f.wire_type for f in api_fields(spec.api)}


@functools.cache
def _schema_of(api: str) -> pa.Schema:
    return pa.schema([pa.field(f.name, _ARROW[f.kind]) for f in api_fields(api)])


def arrow_schema(spec: DatasetSpec) -> pa.Schema:
    """The Arrow schema of a prepared batch: Tushare's fields with dates as ``date32``."""
    return _schema_of(spec.api)


@dataclass
class PreparedBatch:
    """A batch ready for ``upsert`` and what preparing it found."""

    table: pa.Table
    fetched_rows: int
    duplicates: int = 0
    #: Of ``duplicates``, rows whose values differ from the row kept for their key (information lost);
    #: the rest are exact copies (an answer listing the same row twice).
    conflicts: int = 0
    null_keys: int = 0
    rule_violations: dict[str, int] = field(default_factory=dict)
    filtered: int = 0


def _parse_dates(column: pa.ChunkedArray | pa.Array, name: str, spec: DatasetSpec) -> pa.Array:
    if len(column) == 0 or column.null_count == len(column):
        return pa.nulls(len(column), pa.date32())
    values = column.cast(pa.string())
    values = pc.if_else(pc.equal(pc.utf8_trim_whitespace(values), ""), pa.scalar(None, pa.string()), values)
    try:
        stamps = pc.strptime(values, format="%Y%m%d", unit="s")
    except pa.ArrowInvalid:
        stamps = None
    # strptime is lenient (20240230 becomes 2024-03-01): a date must print back as it was written.
    same = None if stamps is None else pc.equal(pc.strftime(stamps, format="%Y%m%d"), values)
    if same is None or not pc.all(same, skip_nulls=True, min_count=0).as_py():
        bad = [v for v in values.to_pylist() if v is not None and not _is_ymd(v)]
        raise DataValidationError(
            f"{spec.name}: column '{name}' holds values that are not YYYYMMDD dates, e.g. {bad[:3]}"
        )
    return stamps.cast(pa.date32())


def _is_ymd(text: str) -> bool:
    try:
        pd.Timestamp(f"{text[:4]}-{text[4:6]}-{text[6:8]}")
    except (ValueError, IndexError):
        return False
    return len(text) == 8 and text.isdigit()


def type_batch(spec: DatasetSpec, table: pa.Table) -> pa.Table:
    """``table`` with exactly the spec's columns, in order, typed (dates parsed from ``YYYYMMDD``)."""
    schema = arrow_schema(spec)
    # Looking columns up by position: name look-ups on a wide table cost more than the casts.
    positions = {name: i for i, name in enumerate(table.schema.names)}
    arrays = []
    for target in schema:
        position = positions.get(target.name)
        if position is not None:
            column = table.column(position)
            if column.type == target.type:
                arrays.append(column)
                continue
            if pa.types.is_date32(target.type):
                arrays.append(_parse_dates(column, target.name, spec))
                continue
            try:
                arrays.append(column.cast(target.type))
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
                raise DataValidationError(f"{spec.name}: column '{target.name}' is not {target.type}: {exc}") from None
        else:
            arrays.append(pa.nulls(table.num_rows, target.type))
    return pa.Table.from_arrays(arrays, schema=schema)


def rule_mask(table: pa.Table, rule: Rule) -> pa.Array:
    """True where a row breaks ``rule`` (NULL operands never break it)."""
    left = table.column(rule.left)
    right = table.column(rule.right) if isinstance(rule.right, str) else pa.scalar(float(rule.right))
    holds = _OPS[rule.op](left, right)
    return pc.fill_null(pc.invert(holds), False)


def prepare_batch(spec: DatasetSpec, table: pa.Table) -> PreparedBatch:
    """Type, check, validate and de-duplicate a fetched batch (see the module docstring).

    Rows with NULL in a key column the spec does not allow NULL in cannot be stored: they are dropped and
    counted (and logged). Rules in ``report`` mode only count violations; in ``filter`` mode violating rows
    are dropped. Of rows sharing a key the last one is kept; :attr:`PreparedBatch.conflicts` counts those
    that were not exact copies of it.
    """
    if spec.transform is not None:
        table = spec.transform(table)
    fetched = table.num_rows
    table = type_batch(spec, table)
    result = PreparedBatch(table, fetched)
    if table.num_rows == 0:
        return result

    strict_key = [k for k in spec.key if k not in spec.nullable_key]
    if strict_key:
        has_null = pc.is_null(table.column(strict_key[0]))
        for k in strict_key[1:]:
            has_null = pc.or_(has_null, pc.is_null(table.column(k)))
        null_keys = pc.sum(has_null).as_py() or 0
        if null_keys:
            logger.warning("%s: dropped %d row(s) with a NULL key column (%s)", spec.name, null_keys,
                           ", ".join(strict_key))
            table = table.filter(pc.invert(has_null))
            result.null_keys = null_keys

    drop = None
    for rule in spec.rules:
        broken = rule_mask(table, rule)
        count = pc.sum(broken).as_py() or 0
        if count:
            result.rule_violations[str(rule)] = count
            if spec.rule_mode == "filter":
                drop = broken if drop is None else pc.or_(drop, broken)
    if result.rule_violations:
        action = "dropped" if spec.rule_mode == "filter" else "kept (report mode)"
        logger.warning("%s: rule violations %s; rows %s", spec.name, result.rule_violations, action)
    if drop is not None:
        before = table.num_rows
        table = table.filter(pc.invert(drop))
        result.filtered = before - table.num_rows

    if spec.key and table.num_rows > 1:
        kept = keep_last_per_key(table, list(spec.key))
        result.duplicates = table.num_rows - kept.num_rows
        if result.duplicates:
            # Distinct whole rows beyond one per key are versions the key cannot tell apart.
            distinct = keep_last_per_key(table, list(table.schema.names)).num_rows
            result.conflicts = distinct - kept.num_rows
        table = kept
    result.table = table
    return result
