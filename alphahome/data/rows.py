"""``query``: the rows of one synced dataset, filtered the way researchers ask (docs/data-api.md).

The SQL is generated from the dataset's catalogue spec: identifiers quoted, every value bound.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import pandas as pd
import pyarrow as pa

from alphahome.config.settings import parse_date
from alphahome.errors import AlphaHomeError
from alphahome.storage.spec import TableSpec
from alphahome.storage.sql import qualified, quote_ident


class DataQueryError(AlphaHomeError, ValueError):
    """A read names an unknown dataset, column or parameter, or a value that is not one; nothing was run."""

    exit_code = 2


@dataclass(frozen=True)
class Select:
    """One generated SELECT and its bound values."""

    sql: str
    args: tuple[Any, ...]


def dataset_table(dataset: str) -> TableSpec:
    """The storage spec of a catalogue dataset, named by its name or the original AlphaHome task name."""
    from alphahome.tasks.aliases import ORIGINAL_TASKS
    from alphahome.tasks.catalogue import get_dataset

    try:
        return get_dataset(ORIGINAL_TASKS.get(dataset, dataset)).table_spec()
    except KeyError as exc:
        raise DataQueryError(str(exc.args[0]) if exc.args else str(exc)) from None


def code_list(codes: str | Iterable[str] | None) -> list[str] | None:
    """Codes from a list or a comma-separated string; None for every code."""
    if codes is None:
        return None
    if isinstance(codes, str):
        codes = codes.split(",")
    out = [c.strip() for c in codes if c and str(c).strip()]
    return list(dict.fromkeys(out)) or None


def as_date(value: Any, what: str) -> date:
    """A date from YYYYMMDD / YYYY-MM-DD text, an int, a date or a Timestamp; DataQueryError otherwise."""
    if isinstance(value, pd.Timestamp):
        return value.date()
    try:
        return parse_date(value)
    except ValueError as exc:
        raise DataQueryError(f"{what}: {exc}") from None


class WhereClause:
    """Conditions joined with AND, their values bound as ``$1, $2, …`` in order."""

    def __init__(self, alias: str | None = None) -> None:
        self.parts: list[str] = []
        self.args: list[Any] = []
        #: Table alias the columns belong to (``d`` → ``d."trade_date"``).
        self.alias = alias

    def column(self, name: str) -> str:
        return f"{self.alias}.{quote_ident(name)}" if self.alias else quote_ident(name)

    def bind(self, value: Any) -> str:
        self.args.append(value)
        return f"${len(self.args)}"

    def add(self, condition: str) -> None:
        self.parts.append(condition)

    def equals(self, column: str, value: Any) -> None:
        """column = value (a list or tuple: column IN (…); None: column IS NULL)."""
        col = self.column(column)
        if value is None:
            self.add(f"{col} IS NULL")
        elif isinstance(value, list | tuple | set | frozenset):
            values = list(value)
            if not values:
                self.add("FALSE")
            else:
                self.add(f"{col} IN ({', '.join(self.bind(v) for v in values)})")
        else:
            self.add(f"{col} = {self.bind(value)}")

    def between(self, column: str, low: Any, high: Any) -> None:
        """low <= column <= high; a None bound is open."""
        col = self.column(column)
        if low is not None:
            self.add(f"{col} >= {self.bind(low)}")
        if high is not None:
            self.add(f"{col} <= {self.bind(high)}")

    def sql(self) -> str:
        return f" WHERE {' AND '.join(self.parts)}" if self.parts else ""


def column_value(column_type: str, value: Any, what: str) -> Any:
    """One value as a column of ``column_type`` holds it (dates accept YYYYMMDD text); DataQueryError naming
    ``what`` (the column or parameter) if it cannot be one."""
    try:
        if column_type == "date":
            return as_date(value, what)
        if column_type in ("double", "numeric"):
            return float(value)
        if column_type in ("bigint", "integer"):
            return int(value)
        if column_type == "boolean":
            return bool(value)
    except (TypeError, ValueError):
        raise DataQueryError(f"{what}: {value!r} is not a {column_type} value") from None
    return str(value)


def typed_value(spec: TableSpec, column: str, value: Any) -> Any:
    """A filter value (or list of values) converted to the column's type; None stays None."""
    if value is None:
        return None
    if isinstance(value, list | tuple | set | frozenset):
        return [typed_value(spec, column, v) for v in value]
    return column_value(spec.column(column).type, value, column)


def select_rows(
    dataset: str,
    codes: str | Iterable[str] | None = None,
    start: Any = None,
    end: Any = None,
    fields: str | Sequence[str] | None = None,
    filters: Mapping[str, Any] | None = None,
) -> tuple[Select, TableSpec, list[str]]:
    """The SELECT behind :func:`query`, the table's spec and the columns it returns."""
    spec = dataset_table(dataset)
    names = [c.name for c in spec.columns]
    columns = _columns(spec, fields)
    where = WhereClause()
    wanted = code_list(codes)
    if wanted is not None:
        code_column = "ts_code" if "ts_code" in names else None
        if code_column is None:
            raise DataQueryError(
                f"{dataset} has no ts_code column: filter it by one of its columns instead "
                f"({', '.join(names)})"
            )
        where.equals(code_column, wanted)
    if start is not None or end is not None:
        date_column = _date_column(dataset)
        first = as_date(start, "start") if start is not None else None
        last = as_date(end, "end") if end is not None else None
        if first is not None and last is not None and first > last:
            raise DataQueryError(f"start {first} is after end {last}")
        where.between(date_column, first, last)
    for column, value in (filters or {}).items():
        if column not in names:
            raise DataQueryError(f"{dataset} has no column {column!r} (columns: {', '.join(names)})")
        where.equals(column, typed_value(spec, column, value))
    order = ", ".join(quote_ident(k) for k in spec.key) if spec.key else quote_ident(columns[0])
    sql = (
        f"SELECT {', '.join(quote_ident(c) for c in columns)} FROM {qualified(spec.schema, spec.name)}"
        f"{where.sql()} ORDER BY {order}"
    )
    return Select(sql, tuple(where.args)), spec, columns


def _columns(spec: TableSpec, fields: str | Sequence[str] | None) -> list[str]:
    names = [c.name for c in spec.columns]
    if fields is None:
        return names
    wanted = [f.strip() for f in (fields.split(",") if isinstance(fields, str) else fields) if f and f.strip()]
    unknown = [f for f in wanted if f not in names]
    if unknown:
        raise DataQueryError(
            f"unknown field(s) for {spec.name}: {', '.join(unknown)} (fields: {', '.join(names)})"
        )
    return list(dict.fromkeys(wanted)) or names


def _date_column(dataset: str) -> str:
    from alphahome.tasks.aliases import ORIGINAL_TASKS
    from alphahome.tasks.catalogue import get_dataset

    column = get_dataset(ORIGINAL_TASKS.get(dataset, dataset)).date_column
    if column is None:
        raise DataQueryError(f"{dataset} is a snapshot with no date column: start/end do not apply")
    return column


def query(
    dataset: str,
    codes: str | Iterable[str] | None = None,
    start: Any = None,
    end: Any = None,
    fields: str | Sequence[str] | None = None,
    *,
    as_arrow: bool = False,
    as_polars: bool = False,
    db: Any = None,
    **filters: Any,
) -> Any:
    """Rows of a synced dataset (``tushare.<dataset>``), ordered by its key.

    ``codes``: ts_codes (list or comma-separated); ``start``/``end``: an inclusive range over the dataset's
    date column (``trade_date``, ``end_date``, ``nav_date`` …), as YYYYMMDD, YYYY-MM-DD or dates;
    ``fields``: the columns to return (default all, in table order); ``**filters``: ``column=value``
    (a list means any of them; None means IS NULL). Returns a pandas DataFrame with dates as
    ``datetime64``; ``as_arrow=True`` an Arrow table; ``as_polars=True`` a polars DataFrame (polars must be
    installed). Unknown datasets, columns and bad values raise :class:`DataQueryError`.
    """
    select, _spec, _names = select_rows(dataset, codes, start, end, fields, filters)
    from alphahome.data.reading import reading

    with reading(db) as conn:
        table = conn.fetch_arrow(select.sql, *select.args)
    return convert(table, as_arrow=as_arrow, as_polars=as_polars)


def convert(table: pa.Table, *, as_arrow: bool = False, as_polars: bool = False) -> Any:
    """An Arrow result as the caller asked: Arrow, polars, or pandas (dates as datetime64)."""
    if as_arrow and as_polars:
        raise DataQueryError("as_arrow and as_polars exclude each other")
    if as_arrow:
        return table
    if as_polars:
        try:
            import polars as pl
        except ImportError:
            raise DataQueryError("as_polars=True needs polars: pip install polars") from None
        return pl.from_arrow(table)
    return table.to_pandas(date_as_object=False)
