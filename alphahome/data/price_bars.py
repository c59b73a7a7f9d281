"""``bars``: daily, weekly and monthly price bars, unadjusted or adjusted with ``adj_factor``.

The adjustment rule is Tushare's own ``pro_bar`` (docs/data-api.md), written out so it can be checked:

- ``hfq`` (后复权): ``price × F(d)``, with ``F(d)`` the stock's cumulative factor on day ``d``;
- ``qfq`` (前复权): ``price × F(d) / F(ref)``, with ``ref`` the stock's latest factor date within
  ``[start, end]`` — or, when ``anchor`` is given, its latest factor date on or before ``anchor``
  (so a back-test can pin prices to the day it stands on and never see a later factor);
- the adjusted prices are ``open, high, low, close, pre_close``; ``change = close − pre_close`` and
  ``pct_chg = change / pre_close × 100`` are recomputed from them; ``vol`` and ``amount`` are never adjusted;
- a bar without a factor row of its own day takes the stock's latest earlier factor (Tushare's fill); with
  no factor at all its adjusted prices are NaN (never a guess);
- ``pro_bar`` rounds adjusted prices to two decimals; ``bars`` keeps full precision unless ``digits``
  is given (``digits=2`` reproduces ``pro_bar``).

Weekly and monthly bars are aggregated from the (adjusted) daily bars of each calendar week (Monday to
Sunday) or month: ``trade_date`` = its last trading day, ``open`` of the first day, ``high``/``low`` the
extremes, ``close`` of the last day, ``pre_close`` the first day's ``pre_close``, ``vol``/``amount`` summed.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Literal

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from alphahome.data.rows import DataQueryError, WhereClause, as_date, code_list, convert
from alphahome.storage.sql import quote_ident

Freq = Literal["D", "W", "M"]
Adjust = Literal["qfq", "hfq"] | None

#: Tushare's daily columns, in its order.
BAR_COLUMNS = ("ts_code", "trade_date", "open", "high", "low", "close", "pre_close", "change", "pct_chg",
               "vol", "amount")
PRICE_COLUMNS = ("open", "high", "low", "close", "pre_close")


def bars(
    codes: str | Iterable[str] | None,
    start: Any,
    end: Any,
    freq: Freq = "D",
    adjust: Adjust = None,
    anchor: Any = None,
    *,
    digits: int | None = None,
    adj_factor: bool = False,
    as_arrow: bool = False,
    as_polars: bool = False,
    db: Any = None,
) -> Any:
    """Price bars of ``codes`` (None = every stock) from ``start`` to ``end`` inclusive.

    ``freq``: ``"D"``, ``"W"`` or ``"M"``; ``adjust``: None, ``"qfq"`` or ``"hfq"`` (rule in the module
    docstring); ``anchor``: the qfq reference date (default: the latest factor in the range); ``digits``:
    round adjusted prices (``2`` = pro_bar); ``adj_factor``: add the factor column (daily only). Returns the
    columns of Tushare's ``daily`` ordered by ts_code, trade_date — a pandas DataFrame with ``trade_date``
    as datetime64, or Arrow / polars as asked.
    """
    if freq not in ("D", "W", "M"):
        raise DataQueryError(f"freq must be 'D', 'W' or 'M', got {freq!r}")
    if adjust not in (None, "qfq", "hfq"):
        raise DataQueryError(f"adjust must be None, 'qfq' or 'hfq', got {adjust!r}")
    if anchor is not None and adjust != "qfq":
        raise DataQueryError("anchor applies to adjust='qfq' only")
    if adj_factor and freq != "D":
        raise DataQueryError("adj_factor=True applies to daily bars only")
    first, last = as_date(start, "start"), as_date(end, "end")
    if first > last:
        raise DataQueryError(f"start {first} is after end {last}")
    ref_day = as_date(anchor, "anchor") if anchor is not None else None
    wanted = code_list(codes)

    from alphahome.data.reading import reading

    with reading(db) as conn:
        if conn.kind == "postgres" and (adjust is not None or adj_factor):
            table = _postgres_factored(conn, first, last, wanted, adjust, ref_day)  # sorted already
        else:
            table = conn.fetch_arrow(*_bars_sql(conn.dialect, first, last, wanted, adjust, ref_day, adj_factor))
            table = table.sort_by([("ts_code", "ascending"), ("trade_date", "ascending")])
    if adjust is not None:
        table = _adjusted(table, adjust, digits)
    elif "ref_factor" in table.column_names:
        table = table.drop_columns(["ref_factor"])
    frame = table.to_pandas(date_as_object=False)
    if freq != "D":
        frame = _aggregate(frame, freq)
    elif not adj_factor and "adj_factor" in frame.columns:
        frame = frame.drop(columns="adj_factor")
    frame = frame.reset_index(drop=True)
    if as_arrow or as_polars:
        return convert(pa.Table.from_pandas(frame, preserve_index=False), as_arrow=as_arrow, as_polars=as_polars)
    return frame


def _bars_sql(
    dialect: str, first: Any, last: Any, codes: list[str] | None, adjust: Adjust, anchor: Any,
    with_factor: bool = False,
) -> tuple[Any, ...]:
    """One statement: the bars, each day's factor (the latest earlier one where the day has none) and the
    adjusted prices; ``dialect`` (``duckdb``/``postgres``) shapes the fill for its planner. Unordered: the
    caller sorts (a text sort in the database costs more)."""
    where = WhereClause(alias="d")
    where.between("trade_date", first, last)
    if codes is not None:
        where.equals("ts_code", codes)
    plain = ", ".join(f"d.{quote_ident(c)}" for c in BAR_COLUMNS)
    if adjust is None and not with_factor:
        return (f"SELECT {plain} FROM tushare.daily d{where.sql()}",
                *where.args)
    # The day's own factor by a hash join (the factor side bounded to the range too: the planner does not
    # infer it); Tushare's fill — a day without a factor row takes the stock's latest earlier factor — is
    # looked up only for such days, so its cost follows the gaps, not the range.
    on = WhereClause(alias="f")
    on.args = where.args  # one numbering for the whole statement
    on.between("trade_date", first, last)
    earlier = (
        "(SELECT p.adj_factor FROM tushare.adj_factor p WHERE p.ts_code = {t}.ts_code "
        "AND p.trade_date < {t}.trade_date ORDER BY p.trade_date DESC LIMIT 1)"
    )
    day_join = (
        "FROM tushare.daily d LEFT JOIN tushare.adj_factor f ON f.ts_code = d.ts_code "
        f"AND f.trade_date = d.trade_date AND {' AND '.join(on.parts)}{where.sql()}"
    )
    if dialect == "postgres":
        # COALESCE evaluates the look-up lazily: it runs (on the key index) only for days without a factor.
        base = f"k AS (SELECT {plain}, COALESCE(f.adj_factor, {earlier.format(t='d')}) AS factor {day_join})"
    else:
        # DuckDB decorrelates a subquery over every outer row: give it only the days without a factor.
        base = (
            f"j AS (SELECT {plain}, f.adj_factor AS own_factor {day_join}), "
            f"g AS (SELECT m.ts_code, m.trade_date, {earlier.format(t='m')} AS factor FROM j m "
            "WHERE m.own_factor IS NULL), "
            "k AS (SELECT j.*, COALESCE(j.own_factor, g.factor) AS factor FROM j LEFT JOIN g "
            "ON g.ts_code = j.ts_code AND g.trade_date = j.trade_date)"
        )
    if adjust == "qfq":
        ref_where = WhereClause()
        ref_where.args = where.args  # one numbering for the whole statement
        if anchor is None:
            ref_where.between("trade_date", first, last)
        else:
            ref_where.between("trade_date", None, anchor)
        if codes is not None:
            ref_where.equals("ts_code", codes)
        reference = (
            "SELECT r.ts_code, a.adj_factor AS ref FROM (SELECT ts_code, max(trade_date) AS ref_date "
            f"FROM tushare.adj_factor{ref_where.sql()} GROUP BY ts_code) r JOIN tushare.adj_factor a "
            "ON a.ts_code = r.ts_code AND a.trade_date = r.ref_date"
        )
        source = "k LEFT JOIN ref ON ref.ts_code = k.ts_code"
        ctes = f"{base}, ref AS ({reference})"
        reference_column = "ref.ref AS ref_factor"
    else:
        source = "k"
        ctes = base
        reference_column = "CAST(NULL AS DOUBLE PRECISION) AS ref_factor"
    # The arithmetic is done in Arrow by the caller: the database ships the stored prices (short numbers)
    # and two factors, a third of the bytes of computed full-precision prices.
    select = [*(f"k.{quote_ident(c)}" for c in BAR_COLUMNS), "k.factor AS adj_factor", reference_column]
    sql = f"WITH {ctes} SELECT {', '.join(select)} FROM {source}"
    return (sql, *where.args)


def _postgres_factored(
    conn: Any, first: Any, last: Any, codes: list[str] | None, adjust: Adjust, anchor: Any
) -> pa.Table:
    """PostgreSQL: the bars with each day's factor and the qfq reference factor, sorted by ts_code,
    trade_date — the columns ``_bars_sql`` gives — from plain scans in one snapshot, joined here.

    Two range scans (the bars, the factor rows) in one ``REPEATABLE READ`` snapshot, so a sync writing
    meanwhile cannot pair prices of one state with factors of another; the join is a binary search over
    the sorted factor keys. On the bench's 1.1M bars (docs/data-api.md) the whole call takes less than
    half the CPU of the single statement with its server-side hash join. Plain SQL only, which a Citus
    coordinator runs as it is. Extra statements, in the same snapshot, only when needed: the reference factor for
    an ``anchor``, and the factor before ``first`` for stocks whose first bars in the range have none.
    """
    where = WhereClause()
    where.between("trade_date", first, last)
    if codes is not None:
        where.equals("ts_code", codes)
    # Adjusted bars recompute change and pct_chg: the server need not send them.
    shipped = [c for c in BAR_COLUMNS if adjust is None or c not in ("change", "pct_chg")]
    plain = ", ".join(quote_ident(c) for c in shipped)
    # The two scans at once, on two connections sharing one snapshot (half the wall time on two cores).
    with conn.read_snapshot(connections=2) as snap:
        daily, factors = snap.fetch_arrow_all([
            (f"SELECT {plain} FROM tushare.daily{where.sql()}", where.args),
            (f"SELECT ts_code, trade_date, adj_factor FROM tushare.adj_factor{where.sql()}", where.args),
        ])
        for name in BAR_COLUMNS:
            if name not in shipped:  # placeholders in Tushare's place, computed by _adjusted
                daily = daily.add_column(BAR_COLUMNS.index(name), name, pa.nulls(daily.num_rows, pa.float64()))
        names = _code_names(daily.column("ts_code"), factors.column("ts_code"))
        d_key = _keys(daily, names)
        if len(d_key) > 1 and (np.diff(d_key) < 0).any():  # heap order is usually by day, not by stock
            order = np.argsort(d_key, kind="stable")
            daily, d_key = daily.take(order), d_key[order]
        f_key = _keys(factors, names)
        f_order = np.argsort(f_key, kind="stable")
        f_key = f_key[f_order]
        # A sentinel factor row (key -1, NaN) in front: "no row" is index 0, never out of range.
        f_key = np.concatenate([np.array([-1], np.int64), f_key])
        f_value = np.concatenate([[np.nan], _floats(factors.column("adj_factor"))[f_order]])
        d_code, f_code = d_key >> 32, f_key >> 32
        # The day's own factor row: the last factor key <= the bar's key, when it is the same day.
        at = np.searchsorted(f_key, d_key, side="right") - 1
        own = f_key[at] == d_key
        factor = np.where(own, f_value[at], np.nan)
        # Tushare's fill, COALESCE(own, latest earlier): the stock's latest factor row before the day —
        # in the range when there is one, else its last one before ``first`` (looked up for those only).
        missing = np.flatnonzero(np.isnan(factor))
        if len(missing):
            before = np.where(own[missing], at[missing] - 1, at[missing])
            same = f_code[before] == d_code[missing]
            filled = np.where(same, f_value[before], np.nan)
            outside = ~same
            if outside.any():
                need = np.unique(d_code[missing][outside])
                seeds = _factor_at(snap, [names[int(i)].as_py() for i in need], first, inclusive=False)
                filled[outside] = _per_code(seeds, names)[d_code[missing][outside]]
            factor[missing] = filled
        ref = np.full(len(d_key), np.nan)
        if adjust == "qfq":
            if anchor is None:
                # The latest factor within the range: each stock's last factor row.
                ranks = np.arange(len(names), dtype=np.int64)
                last_row = np.searchsorted(f_code, ranks, side="right") - 1
                ref_of = np.where(f_code[last_row] == ranks, f_value[last_row], np.nan)
            else:
                ref_of = _per_code(_factor_at(snap, codes, anchor, inclusive=True), names)
            ref = ref_of[d_code]
    return daily.append_column("adj_factor", pa.array(factor, pa.float64(), from_pandas=True)).append_column(
        "ref_factor", pa.array(ref, pa.float64(), from_pandas=True)
    )


def _code_names(*columns: pa.ChunkedArray) -> pa.Array:
    """Every ts_code of the columns once, sorted (Arrow's byte order, the order ``sort_by`` gives)."""
    every = pc.unique(pa.chunked_array([pc.unique(c) for c in columns], pa.string()))
    return every.take(pc.array_sort_indices(every))


def _keys(table: pa.Table, names: pa.Array) -> np.ndarray:
    """(rank of ts_code among ``names``) << 32 | trade_date (days): one int64 ordering key per row."""
    rank = pc.index_in(table.column("ts_code"), value_set=names).to_numpy(zero_copy_only=False).astype(np.int64)
    days = table.column("trade_date").cast(pa.int32()).to_numpy(zero_copy_only=False).astype(np.int64)
    return (rank << 32) | (days + 2**31)  # days shifted to 0..2**32: pre-1970 dates order right too


def _floats(column: pa.ChunkedArray) -> np.ndarray:
    """A float column as numpy, NULL as NaN."""
    return column.cast(pa.float64()).fill_null(np.nan).to_numpy(zero_copy_only=False)


def _factor_at(snap: Any, codes: list[str] | None, day: Any, *, inclusive: bool) -> pa.Table:
    """Each stock's factor on its latest factor date on or before (``inclusive``) / before ``day``."""
    where = WhereClause()
    where.add(f"trade_date {'<=' if inclusive else '<'} {where.bind(day)}")
    if codes is not None:
        where.equals("ts_code", codes)
    return snap.fetch_arrow(
        "SELECT r.ts_code, a.adj_factor FROM (SELECT ts_code, max(trade_date) AS ref_date "
        f"FROM tushare.adj_factor{where.sql()} GROUP BY ts_code) r JOIN tushare.adj_factor a "
        "ON a.ts_code = r.ts_code AND a.trade_date = r.ref_date",
        *where.args,
    )


def _per_code(table: pa.Table, names: pa.Array) -> np.ndarray:
    """A (ts_code, adj_factor) table as an array indexed by code rank (NaN for codes it lacks)."""
    out = np.full(len(names), np.nan)
    if table.num_rows:
        rank = pc.index_in(table.column("ts_code"), value_set=names)
        known = rank.is_valid()
        rows = rank.filter(known).to_numpy(zero_copy_only=False).astype(np.int64)
        out[rows] = _floats(table.column("adj_factor").filter(known))
    return out


def _adjusted(table: pa.Table, adjust: Adjust, digits: int | None) -> pa.Table:
    """Prices × factor (÷ the reference factor for qfq), change and pct_chg recomputed, rounded on request."""
    factor = table.column("adj_factor")
    scale = pc.divide(factor, table.column("ref_factor")) if adjust == "qfq" else factor
    columns = {c: pc.multiply(table.column(c), scale) for c in PRICE_COLUMNS}
    if digits is not None:
        columns = {c: pc.round(v, ndigits=digits) for c, v in columns.items()}
    pre_close = columns["pre_close"]
    change = pc.subtract(columns["close"], pre_close)
    nonzero = pc.if_else(pc.equal(pre_close, 0.0), pa.scalar(None, pa.float64()), pre_close)
    pct = pc.multiply(pc.divide(change, nonzero), 100.0)
    if digits is not None:
        change, pct = pc.round(change, ndigits=digits), pc.round(pct, ndigits=digits)
    columns["change"], columns["pct_chg"] = change, pct
    for name, values in columns.items():
        table = table.set_column(table.column_names.index(name), name, values)
    return table.drop_columns(["ref_factor"])


def _aggregate(frame: pd.DataFrame, freq: str) -> pd.DataFrame:
    if frame.empty:
        return frame.drop(columns=[c for c in frame.columns if c not in BAR_COLUMNS])
    dates = pd.to_datetime(frame["trade_date"])
    # Week = Monday..Sunday; month = calendar month. The period key is its first day.
    period = (dates - pd.to_timedelta(dates.dt.day_of_week, unit="D")) if freq == "W" else dates.dt.to_period("M")
    grouped = frame.assign(_period=period.to_numpy()).groupby(["ts_code", "_period"], sort=True)
    out = grouped.agg(
        trade_date=("trade_date", "last"),
        open=("open", "first"),
        high=("high", "max"),
        low=("low", "min"),
        close=("close", "last"),
        pre_close=("pre_close", "first"),
        vol=("vol", "sum"),
        amount=("amount", "sum"),
    ).reset_index()
    out["change"] = out["close"] - out["pre_close"]
    with np.errstate(divide="ignore", invalid="ignore"):
        out["pct_chg"] = out["change"] / out["pre_close"] * 100
    return out[list(BAR_COLUMNS)]
