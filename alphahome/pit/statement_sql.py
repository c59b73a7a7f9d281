"""Set-based SQL that builds a PIT statement table (income, balance) from the raw statement versions.

One row of the result is the state of one (stock, period) over ``[valid_from, valid_to)``: every value in it
is what DESIGN.md §4 says is known on any day of that interval. The state of period p changes on the
knowledge dates of p's own versions and, for single-quarter and TTM items, of the versions of the quarters
that feed them (p−1q … p−4q), so those dates open new rows too. ``latest_from``/``latest_to`` is the part of
the interval during which p is also the stock's latest period known (what ``as_of`` reads).

Steps, each a CTE:
  v      every version: knowledge date k, source rank, update-flag rank, field values (rows with no knowledge
         date are dropped: they can never be known)
  qs     the field-wise value of each period at each of its own knowledge dates (and until the next one)
  per    each period's first knowledge date; nxt adds the first knowledge date of any later period
  dates  the change dates of each target period; st turns them into [valid_from, valid_to)
  final  the state at valid_from: as-of joins of qs for p, p−1q, … p−4q, then single quarter and TTM.
"""

from __future__ import annotations

from alphahome.pit.definitions import SOURCE_NAMES, RawSource, StatementTable
from alphahome.pit.dialect import SLICE_TABLE, Dialect, quote


def source_label(rank_sql: str) -> str:
    """SQL turning a source rank into its name ('report', 'express', 'forecast')."""
    whens = " ".join(f"WHEN {rank} THEN '{name}'" for rank, name in SOURCE_NAMES.items())
    return f"CASE {rank_sql} {whens} END"


def _source_select(
    table: StatementTable, source: RawSource, columns: set[str], dialect: Dialect, stock_filter: str | None
) -> str:
    """One raw table's versions in the common shape; fields it lacks (or whose columns are absent) are NULL."""
    knowledge = source.knowledge
    select = [
        "ts_code",
        "end_date",
        f"{knowledge} AS k",
        f"{source.rank} AS src_rank",
        "CASE WHEN update_flag = '1' THEN 1 ELSE 0 END AS flag_rank" if "update_flag" in columns else "0 AS flag_rank",
    ]
    for name in table.field_names:
        expression = source.fields.get(name)
        if expression is None or not _columns_present(expression, columns):
            select.append(f"CAST(NULL AS DOUBLE PRECISION) AS {quote(name)}")
        else:
            select.append(f"CAST({expression} AS DOUBLE PRECISION) AS {quote(name)}")
    where = [f"{knowledge} IS NOT NULL", "ts_code IS NOT NULL", "end_date IS NOT NULL",
             dialect.is_quarter_end("end_date")]
    if source.where:
        where.append(source.where)
    if stock_filter:
        where.append(stock_filter)
    return f"SELECT {', '.join(select)} FROM tushare.{quote(source.table)} WHERE {' AND '.join(where)}"


def _columns_present(expression: str, columns: set[str]) -> bool:
    """Whether every identifier-looking word of a source expression is a column of the raw table."""
    words = {w for w in _identifiers(expression)}
    return words <= columns


def _identifiers(expression: str) -> list[str]:
    out: list[str] = []
    word = ""
    for ch in expression + " ":
        if ch.isalnum() or ch == "_":
            word += ch
        else:
            if word and not word[0].isdigit():
                out.append(word)
            word = ""
    return out


def versions_sql(
    table: StatementTable, raw_columns: dict[str, set[str]], dialect: Dialect, stock_filter: str | None = None
) -> str:
    """The union of every available source's versions (an empty typed result when no raw table exists),
    optionally only of the stocks ``stock_filter`` admits."""
    parts = [
        _source_select(table, source, raw_columns[source.table], dialect, stock_filter)
        for source in table.sources
        if source.table in raw_columns
    ]
    if not parts:
        nulls = ", ".join(f"CAST(NULL AS DOUBLE PRECISION) AS {quote(n)}" for n in table.field_names)
        return (
            "SELECT CAST(NULL AS TEXT) AS ts_code, CAST(NULL AS DATE) AS end_date, CAST(NULL AS DATE) AS k, "
            f"0 AS src_rank, 0 AS flag_rank, {nulls} WHERE 1 = 0"
        )
    return "\nUNION ALL\n".join(parts)


def priority_sql(dialect: Dialect) -> str:
    """One integer ordering a period's versions as §4 ranks them: the later knowledge date, then report >
    express > forecast, then update_flag '1' — ``day*8 + (3 - src_rank)*2 + flag_rank``."""
    return f"{dialect.day_number('k')} * 8 + (3 - src_rank) * 2 + flag_rank"


def rank_of_priority(priority: str, dialect: Dialect) -> str:
    """The source rank encoded in a priority."""
    return f"(3 - {dialect.int_div(f'({priority}) % 8', '2')})"


def build_select(
    table: StatementTable, raw_columns: dict[str, set[str]], dialect: Dialect, *, sliced: bool
) -> str:
    """The SELECT producing the rows of ``table`` (all periods, or only those in the slice table)."""
    qidx = dialect.quarter_index("r.end_date")
    lags = table.lags
    fields = table.field_names
    flow = set(table.flow_fields)

    # Versions that tie on (date, source, flag) are merged field by field keeping the greater value: the
    # last tie-break of §4 as documented, and after it the priority is unique within a period.
    value_cols = ", ".join(f"MAX(r.{quote(n)}) AS {quote(n)}" for n in fields)
    slice_join = ""
    slice_stocks: str | None = None
    if sliced:
        # Versions of the slice's stocks from lags quarters before its earliest period (they feed it).
        slice_join = (
            f"JOIN (SELECT ts_code, MIN(qidx) - {lags} AS qmin FROM {quote(SLICE_TABLE)} GROUP BY ts_code) ss "
            f"ON ss.ts_code = r.ts_code AND {qidx} >= ss.qmin"
        )
        slice_stocks = dialect.in_slice_stocks("ts_code", SLICE_TABLE)
    picks = []
    for n in fields:
        col = f"v.{quote(n)}"
        picks.append(f"{dialect.pick(col, 'v.prio')} AS {quote(n)}")
        winner = f"MAX(v.prio) FILTER (WHERE {col} IS NOT NULL)"
        picks.append(f"{rank_of_priority(winner, dialect)} AS {quote(n + '_src')}")

    tgt_join = (
        f"JOIN {quote(SLICE_TABLE)} s ON s.ts_code = n.ts_code AND s.qidx = n.qidx" if sliced else ""
    )

    def as_of_join(i: int) -> str:
        return (
            f"LEFT JOIN qs q{i} ON q{i}.ts_code = st.ts_code AND q{i}.qidx = st.qidx - {i} "
            f"AND q{i}.k <= st.vf AND (q{i}.k_next IS NULL OR st.vf < q{i}.k_next)"
        )

    def sq(field: str, i: int) -> str:
        col = quote(field)
        return (
            f"CASE WHEN (st.qidx - {i}) % 4 = 0 THEN q{i}.{col} "
            f"ELSE q{i}.{col} - q{i + 1}.{col} END"
        )

    latest_to = "LEAST(st.vt, t.next_fk)"
    out = [
        "st.ts_code AS ts_code",
        "t.end_date AS end_date",
        "st.vf AS valid_from",
        "st.vt AS valid_to",
        "q0.k AS knowledge_date",
        f"CASE WHEN {latest_to} IS NULL OR st.vf < {latest_to} THEN st.vf END AS latest_from",
        f"CASE WHEN {latest_to} IS NULL OR st.vf < {latest_to} THEN {latest_to} END AS latest_to",
    ]
    for n in fields:
        out.append(f"q0.{quote(n)} AS {quote(n)}")
        src = quote(n + "_src")
        out.append(f"{source_label(f'q0.{src}')} AS {src}")
        if n in flow:
            out.append(f"{sq(n, 0)} AS {quote(n + '_sq')}")
            ttm = " + ".join(f"({sq(n, i)})" for i in range(4))
            out.append(f"{ttm} AS {quote(n + '_ttm')}")
    joins = "\n".join(as_of_join(i) for i in range(lags + 1))
    # The knowledge dates of each feeding quarter p−i (one branch per lag keeps every join an equi-join).
    # Q4's TTM telescopes within its own year: p−4q does not feed it, so its dates do not open rows.
    feeds = "\n    UNION\n    ".join(
        "SELECT t.ts_code, t.qidx, kd.k AS vf FROM tgt t "
        f"JOIN kd ON kd.ts_code = t.ts_code AND kd.qidx = t.qidx - {i} "
        f"WHERE kd.k > t.fk{' AND t.qidx % 4 <> 3' if i == 4 else ''}"
        for i in range(lags + 1)
    )

    return f"""
WITH v AS (
    SELECT r.ts_code, r.end_date, {qidx} AS qidx, r.k, {priority_sql(dialect)} AS prio, {value_cols}
    FROM ({versions_sql(table, raw_columns, dialect, slice_stocks)}) r
    {slice_join}
    GROUP BY r.ts_code, r.end_date, r.k, r.src_rank, r.flag_rank
),
kd AS (SELECT DISTINCT ts_code, qidx, end_date, k FROM v),
qs AS (
    SELECT kd.ts_code, kd.qidx, kd.k,
           LEAD(kd.k) OVER (PARTITION BY kd.ts_code, kd.qidx ORDER BY kd.k) AS k_next,
           {", ".join(picks)}
    FROM kd JOIN v ON v.ts_code = kd.ts_code AND v.qidx = kd.qidx AND v.k <= kd.k
    GROUP BY kd.ts_code, kd.qidx, kd.k
),
per AS (SELECT ts_code, qidx, MIN(end_date) AS end_date, MIN(k) AS fk FROM kd GROUP BY ts_code, qidx),
nxt AS (
    SELECT ts_code, qidx, end_date, fk,
           MIN(fk) OVER (PARTITION BY ts_code ORDER BY qidx DESC
                         ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS next_fk
    FROM per
),
tgt AS (SELECT n.ts_code, n.qidx, n.end_date, n.fk, n.next_fk FROM nxt n {tgt_join}),
dates AS (
    SELECT t.ts_code, t.qidx, t.fk AS vf FROM tgt t
    UNION
    {feeds}
),
st AS (
    SELECT ts_code, qidx, vf, LEAD(vf) OVER (PARTITION BY ts_code, qidx ORDER BY vf) AS vt FROM dates
)
SELECT {", ".join(out)}
FROM st
JOIN tgt t ON t.ts_code = st.ts_code AND t.qidx = st.qidx
{joins}
"""

