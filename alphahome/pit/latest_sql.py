"""SQL of DESIGN.md §4's "latest report" rule for a query of fields F (docs/pit.md, "Latest report").

For stock s and date D the latest period for F is the greatest period p whose state at D has at least one
field of F not NULL: a period known at D only through fields the query did not ask for (an express report
when the query asks for ``roe``) does not hide the last period that answers it.

The PIT tables store, per row, ``latest_from``/``latest_to``: when p is the stock's latest period with *any*
version known. That period is never older than F's latest (F's latest has a version too), so a cross-section
reads those rows by their interval index and falls back, only for the stocks whose latest row has every
field of F NULL, to the newest earlier period valid at D that answers F (PostgreSQL: a ``LATERAL … LIMIT 1``
per such stock, walking the ``(ts_code, end_date, valid_from)`` primary key backwards; DuckDB: one hash
join). The common case stays one interval look-up.

Whether a period answers F is read from its state row: a Tushare field f is not NULL in the state at D
exactly when some version known at D carries f (the field-wise as-of value). ``f_sq``/``f_ttm`` count as f
(they are views of the same reports); a derived indicator counts through its own value.
"""

from __future__ import annotations

from collections.abc import Sequence

from alphahome.pit.dialect import Dialect, quote


def answers(alias: str, fields: Sequence[str]) -> str:
    """SQL true when row ``alias`` has at least one of ``fields`` not NULL (never NULL itself)."""
    return "(" + " OR ".join(f"{alias}.{quote(f)} IS NOT NULL" for f in fields) + ")"


def latest_rows_sql(
    dialect: Dialect,
    table: str,
    columns: Sequence[str] | None,
    rule_fields: Sequence[str],
    day: str,
    code_filter: str = "",
) -> str:
    """Each stock's row of ``pit.<table>`` for its latest period answering ``rule_fields`` at ``day``.

    ``columns``: the columns to return (None: every column, in table order, as the SQL functions return);
    ``day``: a SQL date expression (a bound parameter or a function argument); ``code_filter``: an extra
    ``AND …`` condition on ``ts_code`` (bound values only). Ordered by ts_code.
    """
    qualified = f"pit.{quote(table)}"
    wanted = ["*"] if columns is None else list(dict.fromkeys(
        ["ts_code", "end_date", *columns, *rule_fields]))
    inner = ", ".join(c if c == "*" else quote(c) for c in wanted)
    out_l = "l.*" if columns is None else ", ".join(f"l.{quote(c)}" for c in columns)
    out_f = "f.*" if columns is None else ", ".join(f"f.{quote(c)}" for c in columns)
    # The fallback: the newest earlier period whose state at `day` answers the query. Every state row of a
    # known period is valid from its first knowledge date on, so one row per earlier period qualifies.
    valid = f"f.valid_from <= {day} AND (f.valid_to IS NULL OR {day} < f.valid_to)"
    if dialect.is_postgres:
        # One backward primary-key scan per stock to fall back on, stopping at the first answer.
        fallback = (
            f"SELECT {out_f} FROM l CROSS JOIN LATERAL (SELECT {inner} FROM {qualified} f "
            f"WHERE f.ts_code = l.ts_code AND f.end_date < l.end_date AND {valid} "
            f"AND {answers('f', rule_fields)} ORDER BY f.end_date DESC LIMIT 1) f "
            f"WHERE NOT {answers('l', rule_fields)}"
        )
    else:
        # DuckDB: one hash join of the table's rows valid at the day against those stocks (its LATERAL
        # … LIMIT 1 decorrelates into something slower).
        fallback = (
            f"SELECT {out_f} FROM {qualified} f JOIN (SELECT ts_code, end_date FROM l "
            f"WHERE NOT {answers('l', rule_fields)}) m ON f.ts_code = m.ts_code AND f.end_date < m.end_date "
            f"WHERE {valid} AND {answers('f', rule_fields)} "
            f"QUALIFY ROW_NUMBER() OVER (PARTITION BY f.ts_code ORDER BY f.end_date DESC) = 1"
        )
    latest = (f"SELECT {inner} FROM {qualified} "
              f"WHERE latest_from IS NOT NULL AND {dialect.covers('latest_from', 'latest_to', day)}{code_filter}")
    if dialect.citus:
        picked = "f.*" if columns is None else ", ".join(f"f.{quote(c)}" for c in wanted)
        return _citus_latest_rows(qualified, latest, out_l, out_f, picked, valid, rule_fields)
    return (
        f"WITH l AS ({latest}) "
        f"SELECT * FROM (SELECT {out_l} FROM l WHERE {answers('l', rule_fields)} "
        f"UNION ALL {fallback}) u ORDER BY ts_code"
    )


def _citus_latest_rows(
    qualified: str, latest: str, out_l: str, out_f: str, picked: str, valid: str, rule_fields: Sequence[str]
) -> str:
    """Citus: the rows of :func:`latest_rows_sql` from one query the workers run whole, shard by shard.

    Citus plans a CTE read twice as an intermediate result on the coordinator, and a ``LATERAL … LIMIT 1``
    over such a result is refused. Here every part reads the distributed table itself, joined on ``ts_code``
    (co-located): the latest rows twice, and the fallback keeps each stock's newest answering period with
    ``DISTINCT ON (ts_code)``, a per-stock operation the shards answer alone.
    """
    fallback = (
        f"SELECT DISTINCT ON (f.ts_code) {picked} "
        f"FROM {qualified} f JOIN (SELECT l.ts_code, l.end_date FROM ({latest}) l "
        f"WHERE NOT {answers('l', rule_fields)}) m ON f.ts_code = m.ts_code AND f.end_date < m.end_date "
        f"WHERE {valid} AND {answers('f', rule_fields)} ORDER BY f.ts_code, f.end_date DESC"
    )
    return (
        f"SELECT * FROM (SELECT {out_l} FROM ({latest}) l WHERE {answers('l', rule_fields)} "
        f"UNION ALL SELECT {out_f} FROM ({fallback}) f) u ORDER BY ts_code"
    )


def latest_intervals_sql(
    dialect: Dialect, table: str, column: str, rule_fields: Sequence[str], start: str, end: str,
    code_filter: str = "",
) -> str:
    """Each stock's intervals of "latest period answering ``rule_fields``" meeting ``[start, end]``, with
    ``column``'s value: ``ts_code, latest_from, latest_to, value`` (what :func:`series` lays out).

    Period p answers from ``h_p``, the ``valid_from`` of its first state row that does (values once known
    stay known), and stays the latest until a later period answers: ``min(h_q)`` over q > p. A state row of
    p then holds from its ``valid_from`` to the sooner of its ``valid_to`` and that date. Only state rows
    meeting the range are read: a period answering before ``start`` answers at ``start`` (its row valid
    then meets the range), so ``max(h_p, start)`` — all the range needs — comes from them alone.
    """
    qualified = f"pit.{quote(table)}"
    in_range = dialect.overlaps("t.valid_from", "t.valid_to", start, end)
    latest_to = "LEAST(n.valid_to, n.next_h)"
    # Two window passes over the rows meeting the range, no join back: h per period, then the smallest h
    # of the later periods (a RANGE frame over end_date: every row of an earlier period sees the same).
    return (
        f"WITH r AS (SELECT t.ts_code, t.end_date, t.valid_from, t.valid_to, t.{quote(column)} AS value, "
        f"MIN(GREATEST(t.valid_from, {start})) OVER (PARTITION BY t.ts_code, t.end_date) AS h "
        f"FROM {qualified} t WHERE {answers('t', rule_fields)} AND {in_range}{code_filter}), "
        f"n AS (SELECT r.*, MIN(r.h) OVER (PARTITION BY r.ts_code ORDER BY r.end_date DESC "
        f"RANGE BETWEEN UNBOUNDED PRECEDING AND INTERVAL '1 day' PRECEDING) AS next_h FROM r) "
        f"SELECT n.ts_code, n.valid_from AS latest_from, {latest_to} AS latest_to, n.value "
        f"FROM n WHERE ({latest_to} IS NULL OR n.valid_from < {latest_to}) "
        f"AND {dialect.overlaps('n.valid_from', latest_to, start, end)} "
        f"ORDER BY n.ts_code, n.valid_from"
    )
