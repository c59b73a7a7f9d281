"""The as-of query layer: what was known about each stock on a given day (DESIGN.md §4).

Every answer is computed by SQL in the database from the PIT tables' validity intervals, on DuckDB and
PostgreSQL alike. The functions are synchronous (readers are often notebooks) and take ``db``: a database
URL, an open storage backend's sync facade, or None for the configured database. ``*_async`` twins take an
async storage backend (the CLI and the demo use those).

- :func:`as_of` — the latest report known at a date, one row per stock
- :func:`period_as_of` — a named report period as known at a date
- :func:`series` — a trading-day × stock panel of one field, each day the value known that day
- :func:`industry_as_of` — Shenwan classification in force at a date
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np
import pandas as pd

from alphahome.config.settings import parse_date
from alphahome.errors import AlphaHomeError
from alphahome.pit.definitions import INDUSTRY_LEVEL_COLUMNS, QUERY_SHAPES, resolve_table
from alphahome.pit.dialect import Dialect, dialect_of, quote
from alphahome.pit.industry_sql import LEVEL_COLUMNS
from alphahome.pit.latest_sql import latest_intervals_sql, latest_rows_sql


class PitQueryError(AlphaHomeError, ValueError):
    """A query names an unknown table or field, or a date that is not one; nothing was run."""

    exit_code = 2


DateLike = str | int | date | pd.Timestamp


@dataclass(frozen=True)
class Query:
    """One SQL statement with its bound values, and how to shape its result."""

    sql: str
    args: tuple[Any, ...]
    date_columns: tuple[str, ...] = ()


# ---------------------------------------------------------------------------------------------------------
# validation


def to_date(value: DateLike, what: str = "date") -> date:
    """A date from ``YYYY-MM-DD``, ``YYYYMMDD``, a date or a Timestamp; PitQueryError otherwise."""
    if isinstance(value, pd.Timestamp):
        return value.date()
    try:
        return parse_date(value)
    except ValueError as exc:
        raise PitQueryError(f"{what}: {exc}") from None


def table_name(table: str) -> str:
    """The PIT table a user's name means; PitQueryError lists the accepted names."""
    try:
        return resolve_table(table)
    except ValueError as exc:
        raise PitQueryError(str(exc)) from None


def _names(fields: Sequence[str] | str | None) -> list[str]:
    """Field names from a list or a comma-separated string, stripped, blanks dropped, first order kept."""
    if fields is None:
        return []
    if isinstance(fields, str):
        fields = fields.split(",")
    return list(dict.fromkeys(f.strip() for f in fields if f and f.strip()))


def _unknown(table: str, unknown: list[str], valid: Sequence[str]) -> PitQueryError:
    return PitQueryError(
        f"unknown field(s) for {table}: {', '.join(unknown)} (valid: {', '.join(valid)})"
    )


def output_columns(table: str, fields: Sequence[str] | str | None) -> list[str]:
    """The value columns ``as_of`` returns for ``fields`` (all when None): a field f gives f, and for flow
    items f_sq and f_ttm too; naming ``f_sq`` or ``f_ttm`` gives that column alone."""
    shape = QUERY_SHAPES.get(table)
    if shape is None:
        raise PitQueryError(f"{table} has no report fields (use industry_as_of)")
    wanted = _names(fields) or list(shape.fields)
    valid = shape.columns
    unknown = [f for f in wanted if f not in valid]
    if unknown:
        raise _unknown(table, unknown, valid)
    columns: list[str] = []
    for f in wanted:
        columns.append(f)
        if f in shape.flow:
            columns += [f"{f}_sq", f"{f}_ttm"]
    return list(dict.fromkeys(columns))


def rule_fields(table: str, fields: Sequence[str] | str | None) -> list[str]:
    """The fields F that decide the latest period (docs/pit.md): those named, ``f_sq``/``f_ttm`` counting
    as f, or every field of the table when none are named."""
    shape = QUERY_SHAPES[table]
    return list(dict.fromkeys(shape.base(c) for c in _names(fields))) or list(shape.fields)


def industry_columns(fields: Sequence[str] | str | None = None, level: int | str | None = None) -> list[str]:
    """The classification columns ``industry_as_of`` returns: ``fields`` (a subset of l1_code … l3_name, in
    the order given), or the code and name of ``level``, or all six."""
    wanted = _names(fields)
    if wanted and level is not None:
        raise PitQueryError("give the industry level or fields, not both")
    if level is not None:
        return list(INDUSTRY_LEVEL_COLUMNS[_level(level)])
    unknown = [f for f in wanted if f not in LEVEL_COLUMNS]
    if unknown:
        raise _unknown("industry_classification", unknown, LEVEL_COLUMNS)
    return wanted or list(LEVEL_COLUMNS)


def query_columns(table: str, fields: Sequence[str] | str | None) -> list[str]:
    """What ``alphahome pit query`` prints for ``table`` and ``--fields`` (validated, before any connection):
    the value columns of a report table, or the classification columns of industry_classification."""
    if table == "industry_classification":
        return industry_columns(fields)
    return output_columns(table, fields)


def series_column(table: str, field: str) -> str:
    """A column ``series`` can lay out: a field, or a flow field's ``_sq``/``_ttm``."""
    shape = QUERY_SHAPES.get(table)
    if shape is None:
        raise PitQueryError(f"{table} has no report fields")
    if field not in shape.columns:
        raise _unknown(table, [field], shape.columns)
    return field


def _codes(codes: str | Iterable[str] | None) -> list[str] | None:
    if codes is None:
        return None
    if isinstance(codes, str):
        codes = codes.split(",")
    out = [c.strip() for c in codes if c and c.strip()]
    return out or None


def _code_filter(codes: list[str] | None, first_param: int) -> tuple[str, tuple[str, ...]]:
    if not codes:
        return "", ()
    marks = ", ".join(f"${first_param + i}" for i in range(len(codes)))
    return f" AND ts_code IN ({marks})", tuple(codes)


# ---------------------------------------------------------------------------------------------------------
# SQL


def as_of_query(
    dialect: Dialect, table: str, when: DateLike, codes: Any = None, fields: Sequence[str] | str | None = None
) -> Query:
    """SQL of :func:`as_of`: each stock's row of its latest period answering ``fields`` at the date."""
    name = table_name(table)
    day = to_date(when)
    columns = output_columns(name, fields)
    code_sql, code_args = _code_filter(_codes(codes), 2)
    sql = latest_rows_sql(dialect, name, ["ts_code", "end_date", "knowledge_date", *columns], rule_fields(name, fields),
                          "CAST($1 AS DATE)", code_sql)
    return Query(sql, (day, *code_args), ("end_date", "knowledge_date"))


def period_as_of_query(
    dialect: Dialect,
    table: str,
    period: DateLike,
    when: DateLike,
    codes: Any = None,
    fields: Sequence[str] | None = None,
) -> Query:
    """SQL of :func:`period_as_of`: each stock's row of ``period`` valid at the date."""
    name = table_name(table)
    p = to_date(period, "period")
    day = to_date(when)
    columns = output_columns(name, fields)
    code_sql, code_args = _code_filter(_codes(codes), 3)
    select = ", ".join(["ts_code", "end_date", "knowledge_date", *(quote(c) for c in columns)])
    sql = (
        f"SELECT {select} FROM pit.{quote(name)} "
        f"WHERE end_date = $1 AND valid_from <= $2 AND (valid_to IS NULL OR $2 < valid_to)"
        f"{code_sql} ORDER BY ts_code"
    )
    return Query(sql, (p, day, *code_args), ("end_date", "knowledge_date"))


def industry_query(
    dialect: Dialect, when: DateLike, codes: Any = None, level: int | str | None = None,
    fields: Sequence[str] | str | None = None,
) -> Query:
    """SQL of :func:`industry_as_of`."""
    day = to_date(when)
    columns = industry_columns(fields, level)
    code_sql, code_args = _code_filter(_codes(codes), 2)
    select = ", ".join(["ts_code", *(quote(c) for c in columns)])
    sql = (
        f"SELECT {select} FROM pit.industry_classification "
        f"WHERE {dialect.covers('valid_from', 'valid_to', '$1')}{code_sql} ORDER BY ts_code"
    )
    return Query(sql, (day, *code_args))


def _level(level: int | str) -> int:
    text = str(level).strip().upper().removeprefix("L")
    if text in ("1", "2", "3"):
        return int(text)
    raise PitQueryError(f"industry level must be 1, 2 or 3 (or L1/L2/L3), got {level!r}")


def series_queries(
    dialect: Dialect, table: str, field: str, codes: Any, start: DateLike, end: DateLike
) -> tuple[Query, Query]:
    """SQL of :func:`series`: the trading days, and the latest-period intervals meeting the range."""
    name = table_name(table)
    column = series_column(name, field)
    first, last = to_date(start, "start"), to_date(end, "end")
    if first > last:
        raise PitQueryError(f"start {first} is after end {last}")
    days = Query(
        "SELECT cal_date FROM tushare.trade_cal WHERE exchange = 'SSE' AND is_open = 1 "
        "AND cal_date >= $1 AND cal_date <= $2 ORDER BY cal_date",
        (first, last),
        ("cal_date",),
    )
    code_sql, code_args = _code_filter(_codes(codes), 3)
    intervals = Query(
        latest_intervals_sql(dialect, name, column, rule_fields(name, [column]), "CAST($1 AS DATE)",
                             "CAST($2 AS DATE)", code_sql),
        (first, last, *code_args),
        ("latest_from", "latest_to"),
    )
    return days, intervals


# ---------------------------------------------------------------------------------------------------------
# shaping results


def shape(df: pd.DataFrame, query: Query) -> pd.DataFrame:
    """Dates as datetime64, values as float, a fresh RangeIndex."""
    df = df.reset_index(drop=True)
    for col in query.date_columns:
        if col in df.columns:
            df[col] = pd.to_datetime(df[col])
    return df


def lay_out(days: pd.DataFrame, intervals: pd.DataFrame, codes: list[str] | None) -> pd.DataFrame:
    """The panel: index = trading day, columns = ts_code, each cell the value of the interval holding it.

    The database decided which value holds when; this only places the intervals on the day grid.
    """
    day_index = pd.DatetimeIndex(pd.to_datetime(days["cal_date"]), name="trade_date")
    stocks = sorted(set(intervals["ts_code"])) if codes is None else list(dict.fromkeys(codes))
    panel = np.full((len(day_index), len(stocks)), np.nan)
    if len(intervals) and len(day_index):
        col_of = {code: i for i, code in enumerate(stocks)}
        iv = intervals[intervals["ts_code"].isin(col_of)]
        col = iv["ts_code"].map(col_of).to_numpy(dtype=np.int64)
        start = pd.to_datetime(iv["latest_from"]).to_numpy(dtype="datetime64[D]").astype(np.int64)
        end_raw = pd.to_datetime(iv["latest_to"]).to_numpy(dtype="datetime64[D]")
        end = np.where(np.isnat(end_raw), np.iinfo(np.int64).max, end_raw.astype(np.int64))
        value = pd.to_numeric(iv["value"], errors="coerce").to_numpy(dtype=float)
        day_ord = day_index.to_numpy(dtype="datetime64[D]").astype(np.int64)
        # Each stock's intervals are disjoint: sort by (stock, start) and find, for every (stock, day), the
        # last interval starting on or before the day.
        span = int(max(day_ord.max(), start.max()) - min(day_ord.min(), start.min()) + 2)
        base = int(min(day_ord.min(), start.min()))
        order = np.lexsort((start, col))
        keys = col[order] * span + (start[order] - base)
        grid_col = np.repeat(np.arange(len(stocks)), len(day_ord))
        grid_day = np.tile(day_ord, len(stocks))
        grid_keys = grid_col * span + (grid_day - base)
        hit = np.searchsorted(keys, grid_keys, side="right") - 1
        ok = hit >= 0
        hit_c = np.where(ok, hit, 0)
        ok &= col[order][hit_c] == grid_col
        ok &= grid_day < end[order][hit_c]
        values = np.where(ok, value[order][hit_c], np.nan)
        panel = values.reshape(len(stocks), len(day_ord)).T
    return pd.DataFrame(panel, index=day_index, columns=pd.Index(stocks, name="ts_code"))


# ---------------------------------------------------------------------------------------------------------
# executing: async (storage backend) and sync (URL / sync facade)


async def as_of_async(
    backend: Any, table: str, date: DateLike, codes: Any = None, fields: Sequence[str] | str | None = None
) -> pd.DataFrame:
    """:func:`as_of` on an async storage backend."""
    q = as_of_query(dialect_of(backend), table, date, codes, fields)
    return shape(await backend.fetch_df(q.sql, *q.args), q)


async def period_as_of_async(
    backend: Any, table: str, period: DateLike, date: DateLike, codes: Any = None,
    fields: Sequence[str] | None = None,
) -> pd.DataFrame:
    """:func:`period_as_of` on an async storage backend."""
    q = period_as_of_query(dialect_of(backend), table, period, date, codes, fields)
    return shape(await backend.fetch_df(q.sql, *q.args), q)


async def series_async(
    backend: Any, table: str, field: str, codes: Any, start: DateLike, end: DateLike
) -> pd.DataFrame:
    """:func:`series` on an async storage backend."""
    code_list = _codes(codes)
    days_q, iv_q = series_queries(dialect_of(backend), table, field, code_list, start, end)
    days = await backend.fetch_df(days_q.sql, *days_q.args)
    intervals = await backend.fetch_df(iv_q.sql, *iv_q.args)
    return lay_out(days, intervals, code_list)


async def industry_as_of_async(
    backend: Any, date: DateLike, codes: Any = None, level: int | str | None = None,
    fields: Sequence[str] | str | None = None,
) -> pd.DataFrame:
    """:func:`industry_as_of` on an async storage backend."""
    q = industry_query(dialect_of(backend), date, codes, level, fields)
    return shape(await backend.fetch_df(q.sql, *q.args), q)


def as_of(
    table: str, date: DateLike, codes: Any = None, fields: Sequence[str] | str | None = None, *, db: Any = None
) -> pd.DataFrame:
    """The latest report known at ``date`` that answers ``fields``, one row per stock (docs/pit.md).

    Columns: ``ts_code``, ``end_date`` (the greatest period whose state at ``date`` has at least one of
    ``fields`` not NULL; every field of the table counts when none are named, ``f_sq``/``f_ttm`` count as
    f), ``knowledge_date`` (the newest knowledge date of that period's versions known then, ≤ ``date``), then
    each field ``f`` (year-to-date, balance or ratio value known at ``date``) and, for income flow items,
    ``f_sq`` (single quarter) and ``f_ttm``; a named ``f_sq``/``f_ttm`` comes alone. ``table``:
    income_quarterly|income, balance_quarterly|balance, financial_indicators|indicators. ``codes``: list or
    comma-separated string; ``fields``: Tushare names (list or comma-separated string).
    """
    with _SyncHandle(db) as conn:
        q = as_of_query(dialect_of(conn), table, date, codes, fields)
        return shape(conn.fetch_df(q.sql, *q.args), q)


def period_as_of(
    table: str, period: DateLike, date: DateLike, codes: Any = None, fields: Sequence[str] | None = None,
    *, db: Any = None,
) -> pd.DataFrame:
    """Report period ``period`` (a quarter end) as known at ``date``, one row per stock that had it then.

    Same columns as :func:`as_of`; single-quarter and TTM values use the earlier quarters as known at
    ``date`` too.
    """
    with _SyncHandle(db) as conn:
        q = period_as_of_query(dialect_of(conn), table, period, date, codes, fields)
        return shape(conn.fetch_df(q.sql, *q.args), q)


def series(
    table: str, field: str, codes: Any, start: DateLike, end: DateLike, *, db: Any = None
) -> pd.DataFrame:
    """A panel for backtests: index = SSE trading days in [start, end], columns = ts_code, each cell the
    ``field`` of the stock's latest report answering it as known that day (the rule of :func:`as_of` with
    F = {field}; NaN before anything is known).

    ``codes``: None for every stock with a report in the range. ``field`` may be a flow item's
    ``f_sq``/``f_ttm`` too. Trading days come from tushare.trade_cal (SSE, is_open = 1).
    """
    code_list = _codes(codes)
    with _SyncHandle(db) as conn:
        days_q, iv_q = series_queries(dialect_of(conn), table, field, code_list, start, end)
        days = conn.fetch_df(days_q.sql, *days_q.args)
        intervals = conn.fetch_df(iv_q.sql, *iv_q.args)
    return lay_out(days, intervals, code_list)


def industry_as_of(
    date: DateLike, codes: Any = None, level: int | str | None = None, *, fields: Sequence[str] | str | None = None,
    db: Any = None,
) -> pd.DataFrame:
    """Shenwan classification in force at ``date``: ``ts_code`` and ``l1_code … l3_name`` (or only the
    code and name of ``level`` 1/2/3, or the ``fields`` named among those six), one row per classified
    stock."""
    with _SyncHandle(db) as conn:
        q = industry_query(dialect_of(conn), date, codes, level, fields)
        return shape(conn.fetch_df(q.sql, *q.args), q)


class _SyncHandle:
    """Context manager: the sync handle to use — the one given, or one opened (and closed) for a URL."""

    def __init__(self, db: Any) -> None:
        self.db = db
        self.opened: Any = None

    def __enter__(self) -> Any:
        if self.db is None or isinstance(self.db, str):
            from alphahome.storage.sync import open_configured_sync

            # Read-only: notebooks and other readers share a DuckDB file (docs/architecture.md).
            self.opened = open_configured_sync(self.db, read_only=True)
            return self.opened
        return self.db

    def __exit__(self, *exc: object) -> None:
        if self.opened is not None:
            self.opened.close()
