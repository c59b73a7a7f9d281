"""Which (stock, period) slices an incremental build redoes, from what changed in the raw tables.

A raw version of period q feeds the PIT state of q and of the quarters that read q: income's single
quarter and TTM reach 4 quarters ahead, the indicators' year-on-year another 4; balance and indicator
versions feed only their own period. ``reach`` says how far ahead a source's change spreads.
"""

from __future__ import annotations

from dataclasses import dataclass

from alphahome.pit.dialect import DRIFT_TABLE, WINDOW_NEW_TABLE, Dialect, quote
from alphahome.pit.statement_sql import SLICE_TABLE
from alphahome.storage.spec import Column, TableSpec


def slice_schema(target: str) -> str:
    """Citus: the schema of ``target``'s session tables (see :meth:`Dialect.slice_scope`)."""
    return f"alphahome_slice_{target}"


def slice_spec(target: str) -> TableSpec:
    """Citus: ``target``'s slice table, distributed by stock like the data (docs/scale-out.md)."""
    columns: tuple[Column, ...] = (Column("ts_code", "text", nullable=False),)
    if target != "industry_classification":
        columns += (Column("qidx", "integer"), Column("end_date", "date"))
    return _session_spec(target, SLICE_TABLE, columns,
                         f"The (stock, period) slices an incremental build of pit.{target} redoes (emptied after).")


def session_specs(target: str) -> list[TableSpec]:
    """Citus: every session table of ``target``'s builds (the slice, the drift list, the new window
    figures), each distributed by stock in the target's own schema. Their columns are those of the
    queries :meth:`Dialect.temp_table` fills them from, in order."""
    source = Column("source", "text", nullable=False)
    stock = Column("ts_code", "text", nullable=False)
    period = Column("end_date", "date")
    return [
        slice_spec(target),
        _session_spec(target, DRIFT_TABLE, (source, stock, period),
                      f"Slices whose safety-window rows changed since the last build of pit.{target}."),
        _session_spec(target, WINDOW_NEW_TABLE,
                      (source, stock, period, Column("n", "bigint"), Column("s", "bigint")),
                      f"The safety-window figures a build of pit.{target} saw (saved with its watermarks)."),
    ]


def _session_spec(target: str, name: str, columns: tuple[Column, ...], description: str) -> TableSpec:
    return TableSpec(schema=slice_schema(target), name=name, columns=columns, distribution_column="ts_code",
                     track_update_time=False, description=description)


@dataclass(frozen=True)
class ChangeSource:
    """Raw table ``table``, whose changed rows spread ``reach`` quarters ahead. With ``has_since`` a row
    counts as changed when its update_time is after the last watermark, or inside the safety window
    before it for a stock listed in the drift table; else every row counts."""

    table: str
    reach: int
    has_since: bool


#: ``end_date`` of the window figures of a raw table sliced by stock only (index_member_all).
WHOLE_STOCK = "DATE '1900-01-01'"


def _changed(param: int, by_period: bool) -> tuple[str, int]:
    """The "changed row" condition binding (watermark, window start, source) from ``$param + 1``."""
    w, lo, src = param + 1, param + 2, param + 3
    # Uncorrelated IN: PostgreSQL hashes the drift list once (a correlated EXISTS under OR ran per row).
    key, cols = ("(r.ts_code, r.end_date)", "d.ts_code, d.end_date") if by_period else ("r.ts_code", "d.ts_code")
    return (
        f"(r.update_time > ${w} OR (r.update_time > ${lo} AND {key} IN (SELECT {cols} FROM {quote(DRIFT_TABLE)} d "
        f"WHERE d.source = ${src})))",
        param + 3,
    )


def window_sql(table: str, dialect: Dialect, lo_param: str, hi_param: str, *, by_period: bool) -> str:
    """Per slice (stock and period, or stock), the count and update_time sum (µs after the window start)
    of ``tushare.<table>``'s rows with update_time in (lo, hi]: ``ts_code, end_date, n, s``."""
    micros = dialect.micros_since("update_time", lo_param)
    period = "end_date" if by_period else WHOLE_STOCK
    return (
        f"SELECT ts_code, {period} AS end_date, COUNT(*) AS n, CAST(SUM({micros}) AS BIGINT) AS s "
        f"FROM tushare.{quote(table)} "
        f"WHERE update_time > {lo_param} AND update_time <= {hi_param} AND ts_code IS NOT NULL"
        f"{' AND end_date IS NOT NULL' if by_period else ''} "
        f"GROUP BY ts_code{', end_date' if by_period else ''}"
    )


def drift_sql(tables: list[str], dialect: Dialect, *, by_period: bool) -> str:
    """CREATE the drift table: per source, the slices whose window rows now differ from the figures stored
    in alphahome.pit_window for the target. Binds the target ($1), then (watermark, window start, source
    name) per table, in order."""
    parts = []
    param = 1
    for table in tables:
        w, lo, src = param + 1, param + 2, param + 3
        param += 3
        window = window_sql(table, dialect, f"CAST(${lo} AS TIMESTAMPTZ)", f"CAST(${w} AS TIMESTAMPTZ)",
                            by_period=by_period)
        parts.append(
            f"SELECT CAST(${src} AS TEXT) AS source, COALESCE(c.ts_code, p.ts_code) AS ts_code, "
            f"COALESCE(c.end_date, p.end_date) AS end_date "
            f"FROM ({window}) c "
            f"FULL OUTER JOIN (SELECT ts_code, end_date, row_count AS n, stamp_sum AS s FROM alphahome.pit_window "
            f"WHERE target = $1 AND source = ${src}) p ON p.ts_code = c.ts_code AND p.end_date = c.end_date "
            f"WHERE c.n IS DISTINCT FROM p.n OR c.s IS DISTINCT FROM p.s"
        )
    if not parts:
        parts.append("SELECT CAST(NULL AS TEXT) AS source, CAST(NULL AS TEXT) AS ts_code, "
                     "CAST(NULL AS DATE) AS end_date WHERE 1 = 0")
    return dialect.temp_table(DRIFT_TABLE, " UNION ALL ".join(parts))


def period_slice_sql(sources: list[ChangeSource], dialect: Dialect) -> str:
    """CREATE the slice table (ts_code, qidx, end_date) of periods to redo.

    Binds (watermark, window start, source name) per source with ``has_since``, in order.
    """
    parts = []
    param = 0
    for s in sources:
        where = ["r.ts_code IS NOT NULL", "r.end_date IS NOT NULL", dialect.is_quarter_end("r.end_date")]
        if s.has_since:
            changed, param = _changed(param, by_period=True)
            where.append(changed)
        # Each source spreads over its own reach inside its branch: Citus pushes a UNION ALL of such
        # branches down to the shards, but not a join of the union with the list of lags.
        lags = ", ".join(f"({i})" for i in range(s.reach + 1))
        parts.append(
            f"SELECT c.ts_code, c.qidx + l.lag AS qidx FROM (SELECT DISTINCT r.ts_code, "
            f"{dialect.quarter_index('r.end_date')} AS qidx FROM tushare.{quote(s.table)} r "
            f"WHERE {' AND '.join(where)}) c CROSS JOIN (SELECT * FROM (VALUES {lags}) AS x(lag)) l"
        )
    if not parts:
        parts.append("SELECT CAST(NULL AS TEXT) AS ts_code, 0 AS qidx WHERE 1 = 0")
    select = (
        f"SELECT DISTINCT c.ts_code, c.qidx, {dialect.quarter_end('c.qidx')} AS end_date "
        f"FROM ({' UNION ALL '.join(parts)}) c"
    )
    return dialect.temp_table(SLICE_TABLE, select)


def stock_slice_sql(sources: list[ChangeSource], dialect: Dialect) -> str:
    """CREATE the slice table (ts_code) of stocks to redo (industry membership)."""
    parts = []
    param = 0
    for s in sources:
        where = ["r.ts_code IS NOT NULL"]
        if s.has_since:
            changed, param = _changed(param, by_period=False)
            where.append(changed)
        parts.append(f"SELECT r.ts_code FROM tushare.{quote(s.table)} r WHERE {' AND '.join(where)}")
    if not parts:
        parts.append("SELECT CAST(NULL AS TEXT) AS ts_code WHERE 1 = 0")
    return dialect.temp_table(SLICE_TABLE, f"SELECT DISTINCT ts_code FROM ({' UNION '.join(parts)}) c")


def delete_slice_sql(table: str, dialect: Dialect, *, by_period: bool) -> str:
    """DELETE the slice's rows of ``pit.<table>`` (by stock and period, or by stock)."""
    target = f"pit.{quote(table)}"
    slice_ = quote(SLICE_TABLE)
    if not by_period:
        return f"DELETE FROM {target} WHERE {dialect.in_slice_stocks('ts_code', SLICE_TABLE)}"
    return (
        f"DELETE FROM {target} WHERE {dialect.in_slice_stocks('ts_code', SLICE_TABLE)} AND EXISTS ("
        f"SELECT 1 FROM {slice_} s WHERE s.ts_code = {target}.ts_code AND s.end_date = {target}.end_date)"
    )


def refresh_latest_sql(table: str, dialect: Dialect) -> str:
    """UPDATE ``latest_from``/``latest_to`` of every row of the slice's stocks.

    A new or earlier-known period of a stock ends the "latest" interval of its earlier periods, rows the
    slice itself did not redo. A period's first knowledge date is its first row's ``valid_from``.
    """
    target = f"pit.{quote(table)}"
    stocks = dialect.in_slice_stocks("ts_code", SLICE_TABLE)
    latest_to = "LEAST(r.valid_to, n.next_fk)"
    return f"""
UPDATE {target} AS t SET latest_from = u.latest_from, latest_to = u.latest_to
FROM (
    SELECT r.ts_code, r.end_date, r.valid_from,
           CASE WHEN {latest_to} IS NULL OR r.valid_from < {latest_to} THEN r.valid_from END AS latest_from,
           CASE WHEN {latest_to} IS NULL OR r.valid_from < {latest_to} THEN {latest_to} END AS latest_to
    FROM {target} r
    JOIN (
        SELECT ts_code, end_date,
               MIN(fk) OVER (PARTITION BY ts_code ORDER BY end_date DESC
                             ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS next_fk
        FROM (SELECT ts_code, end_date, MIN(valid_from) AS fk FROM {target}
              WHERE {stocks} GROUP BY ts_code, end_date) p
    ) n ON n.ts_code = r.ts_code AND n.end_date = r.end_date
    WHERE r.{stocks}
) u
WHERE t.{stocks} AND t.ts_code = u.ts_code AND t.end_date = u.end_date AND t.valid_from = u.valid_from
  AND (t.latest_from IS DISTINCT FROM u.latest_from OR t.latest_to IS DISTINCT FROM u.latest_to)
"""
