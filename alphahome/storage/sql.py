"""SQL text generated from table specs: quoted identifiers, column types per backend, DDL.

Only identifiers ever enter SQL text here (always quoted); values are bound as parameters or travel
through COPY / a registered Arrow table.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

from alphahome.errors import StorageError
from alphahome.storage.spec import UPDATE_TIME_COLUMN, TableSpec

#: PostgreSQL's identifier length limit (longer names are silently truncated by the server).
PG_MAX_IDENTIFIER = 63

POSTGRES_TYPES: dict[str, str] = {
    "text": "TEXT",
    "date": "DATE",
    "double": "DOUBLE PRECISION",
    "numeric": "NUMERIC",
    "bigint": "BIGINT",
    "integer": "INTEGER",
    "timestamp": "TIMESTAMPTZ",
    "boolean": "BOOLEAN",
}

# DuckDB has no unbounded NUMERIC; 38 digits with 10 after the point covers every Tushare amount.
DUCKDB_TYPES: dict[str, str] = {
    "text": "VARCHAR",
    "date": "DATE",
    "double": "DOUBLE",
    "numeric": "DECIMAL(38,10)",
    "bigint": "BIGINT",
    "integer": "INTEGER",
    "timestamp": "TIMESTAMPTZ",
    "boolean": "BOOLEAN",
}


def quote_ident(name: str) -> str:
    """A double-quoted SQL identifier (embedded quotes doubled)."""
    if not name or "\x00" in name:
        raise ValueError(f"invalid SQL identifier {name!r}")
    return '"' + name.replace('"', '""') + '"'


def qualified(schema: str, name: str) -> str:
    """``"schema"."name"``."""
    return f"{quote_ident(schema)}.{quote_ident(name)}"


def table_ref(spec: TableSpec) -> str:
    """The quoted, schema-qualified name of ``spec``'s table."""
    return qualified(spec.schema, spec.name)


def column_list(names: Iterable[str], prefix: str = "") -> str:
    """``"a", "b"`` or, with a prefix (a table alias), ``t."a", t."b"``."""
    p = f"{prefix}." if prefix else ""
    return ", ".join(p + quote_ident(n) for n in names)


def object_name(table: str, suffix: str, columns: Iterable[str] = ()) -> str:
    """A constraint/index name ``table_col1_col2_suffix`` that fits PostgreSQL's 63-character limit.

    Over-long names keep a readable prefix and end with a short hash, so two different long names never
    collide after the server's truncation.
    """
    base = "_".join([table, *columns, suffix])
    if len(base.encode()) <= PG_MAX_IDENTIFIER:
        return base
    digest = hashlib.sha1(base.encode()).hexdigest()[:10]
    return base.encode()[: PG_MAX_IDENTIFIER - 11].decode(errors="ignore") + "_" + digest


def storage_columns(spec: TableSpec) -> list[str]:
    """The table's physical columns: the spec's columns plus ``update_time`` when tracked."""
    return spec.column_names + ([UPDATE_TIME_COLUMN] if spec.track_update_time else [])


def column_definitions(spec: TableSpec, types: dict[str, str], now_sql: str) -> list[str]:
    """Column clauses of CREATE TABLE: name, type, NOT NULL for non-nullable columns."""
    defs = [f"{quote_ident(c.name)} {types[c.type]}{'' if c.nullable else ' NOT NULL'}" for c in spec.columns]
    if spec.track_update_time:
        defs.append(update_time_definition(now_sql))
    return defs


def update_time_definition(now_sql: str) -> str:
    """The ``update_time`` column clause (nullable, so it can be added to a table that has rows)."""
    return f"{quote_ident(UPDATE_TIME_COLUMN)} TIMESTAMPTZ DEFAULT {now_sql}"


def distinct_values_condition(columns: list[str], left: str, right: str) -> str:
    """``(l.a, l.b) IS DISTINCT FROM (r.a, r.b)``: true when any value differs, NULLs compared as values.

    With no value columns (a key-only table) nothing can change, so the condition is ``FALSE``.
    """
    if not columns:
        return "FALSE"
    return f"({column_list(columns, left)}) IS DISTINCT FROM ({column_list(columns, right)})"


def key_match_condition(spec: TableSpec, left: str, right: str) -> str:
    """Join condition on the key: ``=`` for non-nullable key columns (hashable, index-friendly) and
    ``IS NOT DISTINCT FROM`` for nullable ones, so a NULL key value matches NULL."""
    nullable = set(spec.nullable_key_columns)
    parts = []
    for k in spec.key:
        op = "IS NOT DISTINCT FROM" if k in nullable else "="
        parts.append(f"{left}.{quote_ident(k)} {op} {right}.{quote_ident(k)}")
    return " AND ".join(parts)


def _normalise_type(name: str) -> str:
    name = name.upper().replace(" ", "")
    return {"TIMESTAMPWITHTIMEZONE": "TIMESTAMPTZ"}.get(name, name)


def added_column_statements(
    spec: TableSpec, existing: dict[str, str], types: dict[str, str], now_sql: str
) -> list[str]:
    """ALTER TABLE statements for the columns a spec gained since its table was made (after checking that
    the stored columns still have the spec's types). Added columns are nullable: the table may hold rows."""
    check_column_types(spec, existing, types)
    statements = [
        f"ALTER TABLE {table_ref(spec)} ADD COLUMN IF NOT EXISTS {quote_ident(col.name)} {types[col.type]}"
        for col in spec.columns
        if col.name not in existing
    ]
    if spec.track_update_time and UPDATE_TIME_COLUMN not in existing:
        statements.append(f"ALTER TABLE {table_ref(spec)} ADD COLUMN IF NOT EXISTS {update_time_definition(now_sql)}")
    return statements


def check_column_types(spec: TableSpec, existing: dict[str, str], types: dict[str, str]) -> None:
    """Raise :class:`StorageError` if a stored column's type differs from the spec (no silent migration)."""
    for col in spec.columns:
        stored = existing.get(col.name)
        if stored is not None and _normalise_type(stored) != _normalise_type(types[col.type]):
            raise StorageError(
                f"{spec.qualified_name}.{col.name} is {stored} in the database but {col.type} in the spec; "
                "migrate the column by hand"
            )
