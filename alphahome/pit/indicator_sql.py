"""Set-based SQL that builds ``pit.financial_indicators``.

Two kinds of columns share a row: Tushare's own ``fina_indicator`` ratios, field-wise as of their
``ann_date`` (ties: update_flag '1', then the greater value), and indicators derived from the PIT income and
balance tables as known on the same day (TTM ROE/ROA, TTM margins, year-on-year growth, liabilities to
assets). A period's versions are its indicator, income and balance versions; its state changes on any day
the indicator row, the income row of p or of p−4q (year-on-year), or the balance row of p changes.
"""

from __future__ import annotations

from alphahome.pit.definitions import DERIVED_INDICATORS, INDICATOR_RAW_FIELDS
from alphahome.pit.dialect import Dialect, quote
from alphahome.pit.statement_sql import SLICE_TABLE

#: Income and balance columns the derived indicators read.
INCOME_INPUTS = ("revenue", "revenue_ttm", "oper_cost_ttm", "n_income_ttm", "n_income_attr_p",
                 "n_income_attr_p_ttm")
BALANCE_INPUTS = ("total_assets", "total_liab", "total_hldr_eqy_exc_min_int")


def build_select(raw_columns: set[str] | None, dialect: Dialect, *, sliced: bool) -> str:
    """The SELECT producing pit.financial_indicators rows (all, or the slice's periods).

    ``raw_columns`` are the columns of tushare.fina_indicator, None when that table does not exist.
    """
    fields = INDICATOR_RAW_FIELDS
    if raw_columns is None:
        nulls = ", ".join(f"CAST(NULL AS DOUBLE PRECISION) AS {quote(f)}" for f in fields)
        fv = (
            "SELECT CAST(NULL AS TEXT) AS ts_code, CAST(NULL AS DATE) AS end_date, CAST(NULL AS DATE) AS k, "
            f"0 AS flag_rank, {nulls} WHERE 1 = 0"
        )
    else:
        cols = []
        for f in fields:
            src = quote(f) if f in raw_columns else "NULL"
            cols.append(f"CAST({src} AS DOUBLE PRECISION) AS {quote(f)}")
        flag = "CASE WHEN update_flag = '1' THEN 1 ELSE 0 END" if "update_flag" in raw_columns else "0"
        fv = (
            f"SELECT ts_code, end_date, ann_date AS k, {flag} AS flag_rank, {', '.join(cols)} "
            "FROM tushare.fina_indicator "
            f"WHERE ann_date IS NOT NULL AND ts_code IS NOT NULL AND {dialect.is_quarter_end('end_date')}"
        )
    stock_filter = dialect.in_slice_stocks("ts_code", SLICE_TABLE) if sliced else "1 = 1"

    picks = ", ".join(f"{dialect.pick(f'v.{quote(f)}', 'v.prio')} AS {quote(f)}" for f in fields)
    # Same-day versions with the same update_flag merge field by field keeping the greater value (§4's
    # last tie-break); the priority (later date, then update_flag '1') is then unique within a period.
    merged = ", ".join(f"MAX({quote(f)}) AS {quote(f)}" for f in fields)
    priority = f"{dialect.day_number('k')} * 2 + flag_rank"
    inc_cols = ", ".join(quote(c) for c in INCOME_INPUTS)
    bal_cols = ", ".join(quote(c) for c in BALANCE_INPUTS)
    tgt_join = (
        f"JOIN {quote(SLICE_TABLE)} s ON s.ts_code = n.ts_code AND s.end_date = n.end_date" if sliced else ""
    )
    latest_to = "LEAST(st.vt, t.next_fk)"

    def as_of(alias: str, source: str, period_sql: str, from_col: str, to_col: str) -> str:
        return (
            f"LEFT JOIN {source} {alias} ON {alias}.ts_code = st.ts_code AND {alias}.end_date = {period_sql} "
            f"AND {alias}.{from_col} <= st.vf AND ({alias}.{to_col} IS NULL OR st.vf < {alias}.{to_col})"
        )

    out = [
        "st.ts_code AS ts_code",
        "st.end_date AS end_date",
        "st.vf AS valid_from",
        "st.vt AS valid_to",
        "GREATEST(f.k, i.knowledge_date, b.knowledge_date) AS knowledge_date",
        f"CASE WHEN {latest_to} IS NULL OR st.vf < {latest_to} THEN st.vf END AS latest_from",
        f"CASE WHEN {latest_to} IS NULL OR st.vf < {latest_to} THEN {latest_to} END AS latest_to",
    ]
    out += [f"f.{quote(f)} AS {quote(f)}" for f in fields]
    out += [f"{d.expression} AS {quote(d.name)}" for d in DERIVED_INDICATORS]

    return f"""
WITH v AS (
    SELECT ts_code, end_date, k, {priority} AS prio, {merged}
    FROM ({fv}) r WHERE {stock_filter}
    GROUP BY ts_code, end_date, k, flag_rank
),
fkd AS (SELECT DISTINCT ts_code, end_date, k FROM v),
fqs AS (
    SELECT fkd.ts_code, fkd.end_date, fkd.k,
           LEAD(fkd.k) OVER (PARTITION BY fkd.ts_code, fkd.end_date ORDER BY fkd.k) AS k_next,
           {picks}
    FROM fkd JOIN v ON v.ts_code = fkd.ts_code AND v.end_date = fkd.end_date AND v.k <= fkd.k
    GROUP BY fkd.ts_code, fkd.end_date, fkd.k
),
inc AS (
    SELECT ts_code, end_date, valid_from, valid_to, knowledge_date, {inc_cols}
    FROM pit.income_quarterly WHERE {stock_filter}
),
bal AS (
    SELECT ts_code, end_date, valid_from, valid_to, knowledge_date, {bal_cols}
    FROM pit.balance_quarterly WHERE {stock_filter}
),
ev AS (
    SELECT ts_code, end_date, k AS d, 1 AS own FROM fkd
    UNION ALL SELECT ts_code, end_date, valid_from, 1 FROM inc
    UNION ALL SELECT ts_code, end_date, valid_from, 1 FROM bal
    UNION ALL SELECT ts_code, CAST(end_date + INTERVAL '1 year' AS DATE), valid_from, 0 FROM inc
),
per AS (SELECT ts_code, end_date, MIN(d) AS fk FROM ev WHERE own = 1 GROUP BY ts_code, end_date),
nxt AS (
    SELECT ts_code, end_date, fk,
           MIN(fk) OVER (PARTITION BY ts_code ORDER BY end_date DESC
                         ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS next_fk
    FROM per
),
tgt AS (SELECT n.ts_code, n.end_date, n.fk, n.next_fk FROM nxt n {tgt_join}),
dates AS (
    SELECT DISTINCT e.ts_code, e.end_date, e.d AS vf
    FROM ev e JOIN tgt t ON t.ts_code = e.ts_code AND t.end_date = e.end_date
    WHERE e.d >= t.fk
),
st AS (
    SELECT ts_code, end_date, vf, LEAD(vf) OVER (PARTITION BY ts_code, end_date ORDER BY vf) AS vt FROM dates
)
SELECT {", ".join(out)}
FROM st
JOIN tgt t ON t.ts_code = st.ts_code AND t.end_date = st.end_date
LEFT JOIN fqs f ON f.ts_code = st.ts_code AND f.end_date = st.end_date
    AND f.k <= st.vf AND (f.k_next IS NULL OR st.vf < f.k_next)
{as_of("i", "inc", "st.end_date", "valid_from", "valid_to")}
{as_of("b", "bal", "st.end_date", "valid_from", "valid_to")}
{as_of("y", "inc", dialect.year_before("st.end_date"), "valid_from", "valid_to")}
"""
