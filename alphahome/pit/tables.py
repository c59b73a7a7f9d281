"""The PIT tables as storage specs, their extra indexes, and the SQL functions (PostgreSQL) / table macros
(DuckDB) that give psql and the DuckDB shell the same as-of answers as the Python API."""

from __future__ import annotations

from alphahome.pit.definitions import BALANCE, INCOME, INDICATOR_FIELDS, QUERY_SHAPES, StatementTable
from alphahome.pit.dialect import Dialect, quote
from alphahome.pit.industry_sql import LEVEL_COLUMNS
from alphahome.pit.latest_sql import latest_rows_sql
from alphahome.storage.spec import Column, TableSpec

PIT_SCHEMA = "pit"

#: Columns every versioned PIT table starts with.
_STATE_COLUMNS = (
    Column("ts_code", "text", nullable=False),
    Column("end_date", "date", nullable=False, description="report period"),
    Column("valid_from", "date", nullable=False, description="first day these values are known"),
    Column("valid_to", "date", description="first day they are superseded (NULL: still current)"),
    Column("knowledge_date", "date", description="latest knowledge date of the period's versions then"),
    Column("latest_from", "date", description="first day this row is also the stock's latest period"),
    Column("latest_to", "date", description="first day it no longer is (NULL: still)"),
)
_STATE_KEY = ("ts_code", "end_date", "valid_from")


def _statement_spec(table: StatementTable) -> TableSpec:
    columns: list[Column] = list(_STATE_COLUMNS)
    for f in table.fields:
        columns.append(Column(f.name, "double", description=f.description))
        columns.append(Column(f"{f.name}_src", "text", description="source of the value"))
        if f.flow:
            columns.append(Column(f"{f.name}_sq", "double", description="single quarter"))
            columns.append(Column(f"{f.name}_ttm", "double", description="trailing twelve months"))
    return TableSpec(
        schema=PIT_SCHEMA,
        name=table.name,
        columns=tuple(columns),
        key=_STATE_KEY,
        indexes=(("end_date", "ts_code"),),
        distribution_column="ts_code",
        track_update_time=False,
        description=table.description,
    )


INCOME_SPEC = _statement_spec(INCOME)
BALANCE_SPEC = _statement_spec(BALANCE)
INDICATORS_SPEC = TableSpec(
    schema=PIT_SCHEMA,
    name="financial_indicators",
    columns=(*_STATE_COLUMNS, *(Column(f, "double") for f in INDICATOR_FIELDS)),
    key=_STATE_KEY,
    indexes=(("end_date", "ts_code"),),
    distribution_column="ts_code",
    track_update_time=False,
    description="fina_indicator ratios and indicators derived from the PIT statements, as known at each date.",
)
INDUSTRY_SPEC = TableSpec(
    schema=PIT_SCHEMA,
    name="industry_classification",
    columns=(
        Column("ts_code", "text", nullable=False),
        Column("valid_from", "date", nullable=False),
        Column("valid_to", "date"),
        *(Column(c, "text") for c in LEVEL_COLUMNS),
        Column("in_date", "date", description="in_date of the membership in force"),
    ),
    key=("ts_code", "valid_from"),
    distribution_column="ts_code",
    track_update_time=False,
    description="Shenwan L1/L2/L3 membership as non-overlapping validity intervals.",
)

SPECS: dict[str, TableSpec] = {
    "income_quarterly": INCOME_SPEC,
    "balance_quarterly": BALANCE_SPEC,
    "financial_indicators": INDICATORS_SPEC,
    "industry_classification": INDUSTRY_SPEC,
}

#: Short names used for the SQL functions: pit.income_as_of(d), pit.balance_period_as_of(p, d), …
FUNCTION_PREFIX: dict[str, str] = {
    "income_quarterly": "income",
    "balance_quarterly": "balance",
    "financial_indicators": "indicators",
}


def extra_ddl(dialect: Dialect) -> list[str]:
    """Indexes beyond the specs' own: the interval indexes ``as_of``/``series``/``industry_as_of`` use."""
    ddl: list[str] = []
    for name in ("income_quarterly", "balance_quarterly", "financial_indicators"):
        ddl += dialect.interval_index(PIT_SCHEMA, name, "latest_from", "latest_to")
    ddl += dialect.interval_index(PIT_SCHEMA, "industry_classification", "valid_from", "valid_to")
    return ddl


def function_ddl(dialect: Dialect) -> list[str]:
    """``pit.<t>_as_of(d)``, ``pit.<t>_period_as_of(p, d)`` and ``pit.industry_as_of(d)``.

    Same names and meaning on both engines: SQL functions returning the table's rows on PostgreSQL, table
    macros on DuckDB. Each returns whole rows of the PIT table (all columns), one per stock.
    """
    statements: list[str] = []
    for table, prefix in FUNCTION_PREFIX.items():
        qualified = f"{PIT_SCHEMA}.{quote(table)}"
        # The latest period answering any field of the table (docs/pit.md, "Latest report").
        name = f"{prefix}_as_of"
        day = f"CAST({name}.d AS DATE)" if dialect.is_postgres else "CAST(d AS DATE)"
        statements.append(_function_body(
            dialect, name, ["d"], qualified,
            latest_rows_sql(dialect, table, None, QUERY_SHAPES[table].fields, day),
        ))
        statements.append(_function(
            dialect, f"{prefix}_period_as_of", ["p", "d"], qualified,
            "end_date = {p} AND valid_from <= {d} AND (valid_to IS NULL OR {d} < valid_to)",
        ))
    statements.append(_function(
        dialect, "industry_as_of", ["d"], f"{PIT_SCHEMA}.{quote('industry_classification')}",
        "valid_from <= {d} AND (valid_to IS NULL OR {d} < valid_to)",
    ))
    return statements


def _function(dialect: Dialect, name: str, params: list[str], table: str, where: str) -> str:
    if dialect.is_postgres:
        cond = where.format(**{p: f"{name}.{p}" for p in params})
    else:
        cond = where.format(**{p: f"CAST({p} AS DATE)" for p in params})
    return _function_body(dialect, name, params, table, f"SELECT * FROM {table} WHERE {cond} ORDER BY ts_code")


def _function_body(dialect: Dialect, name: str, params: list[str], table: str, body: str) -> str:
    """A set-returning SQL function (PostgreSQL) or table macro (DuckDB) whose rows are ``table``'s."""
    if dialect.citus:
        # Citus plans SQL functions over distributed tables only without parameters: PL/pgSQL plans the
        # query with the values filled in (docs/scale-out.md). Same rows, same ``name.param`` references.
        args = ", ".join(f"{p} date" for p in params)
        return (
            f"CREATE OR REPLACE FUNCTION {PIT_SCHEMA}.{name}({args}) RETURNS SETOF {table} "
            f"LANGUAGE plpgsql STABLE AS $fn$ BEGIN RETURN QUERY {body}; END $fn$"
        )
    if dialect.is_postgres:
        args = ", ".join(f"{p} date" for p in params)
        return (
            f"CREATE OR REPLACE FUNCTION {PIT_SCHEMA}.{name}({args}) RETURNS SETOF {table} "
            f"LANGUAGE sql STABLE AS $fn$ {body} $fn$"
        )
    return f"CREATE OR REPLACE MACRO {PIT_SCHEMA}.{name}({', '.join(params)}) AS TABLE {body}"
