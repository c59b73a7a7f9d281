"""Set-based SQL that builds ``pit.industry_classification`` from ``tushare.index_member_all``.

A membership row covers ``[in_date, out_date)`` (out_date NULL = still a member). The table cuts each
stock's history at every in/out date and keeps, per piece, the covering membership with the latest
``in_date`` (then the greatest ``l3_code``), so pieces never overlap and ``industry_as_of`` is one interval
look-up even when the raw rows overlap. A row without ``in_date`` is never in force.
"""

from __future__ import annotations

from alphahome.pit.dialect import Dialect, quote
from alphahome.pit.statement_sql import SLICE_TABLE

LEVEL_COLUMNS = ("l1_code", "l1_name", "l2_code", "l2_name", "l3_code", "l3_name")


def build_select(raw_columns: set[str] | None, dialect: Dialect, *, sliced: bool) -> str:
    """The SELECT producing pit.industry_classification rows (all stocks, or the slice's stocks)."""
    if raw_columns is None:
        cols = ", ".join(f"CAST(NULL AS TEXT) AS {c}" for c in LEVEL_COLUMNS)
        return (
            "SELECT CAST(NULL AS TEXT) AS ts_code, CAST(NULL AS DATE) AS valid_from, "
            f"CAST(NULL AS DATE) AS valid_to, {cols}, CAST(NULL AS DATE) AS in_date WHERE 1 = 0"
        )
    level_cols = ", ".join(
        (quote(c) if c in raw_columns else f"CAST(NULL AS TEXT) AS {quote(c)}") for c in LEVEL_COLUMNS
    )
    stock_filter = f"AND {dialect.in_slice_stocks('ts_code', SLICE_TABLE)}" if sliced else ""
    picked = ", ".join(f"m.{quote(c)}" for c in LEVEL_COLUMNS)
    return f"""
WITH m AS (
    SELECT ts_code, {level_cols}, in_date, out_date
    FROM tushare.index_member_all
    WHERE ts_code IS NOT NULL AND in_date IS NOT NULL AND (out_date IS NULL OR out_date > in_date)
    {stock_filter}
),
cuts AS (
    SELECT ts_code, in_date AS d FROM m
    UNION
    SELECT ts_code, out_date AS d FROM m WHERE out_date IS NOT NULL
),
pieces AS (SELECT ts_code, d AS vf, LEAD(d) OVER (PARTITION BY ts_code ORDER BY d) AS vt FROM cuts),
ranked AS (
    SELECT p.ts_code, p.vf, p.vt, {picked}, m.in_date,
           ROW_NUMBER() OVER (PARTITION BY p.ts_code, p.vf ORDER BY m.in_date DESC, m.l3_code DESC NULLS LAST) AS rn
    FROM pieces p
    JOIN m ON m.ts_code = p.ts_code AND m.in_date <= p.vf AND (m.out_date IS NULL OR p.vf < m.out_date)
)
SELECT ts_code, vf AS valid_from, vt AS valid_to, {", ".join(quote(c) for c in LEVEL_COLUMNS)}, in_date
FROM ranked WHERE rn = 1
"""
