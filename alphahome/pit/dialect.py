"""The few places where the PIT SQL differs between DuckDB and PostgreSQL, kept together.

Everything else the builders and queries emit is plain SQL both engines run unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from alphahome.storage.sql import quote_ident

#: Name of the session-local table listing the (ts_code, qidx, end_date) periods an incremental build redoes
#: (on Citus a distributed table per target: :meth:`Dialect.temp_table`).
SLICE_TABLE = "pit_slice"
#: Session-local table of (source, ts_code, end_date) whose safety-window rows differ from what the last
#: build saw.
DRIFT_TABLE = "pit_drift"
#: Session-local table of this build's safety-window figures (source, ts_code, end_date, n, s), stored with
#: its watermarks.
WINDOW_NEW_TABLE = "pit_window_new"
#: The build's session tables: temporary tables on one node; on Citus, distributed tables of each target's
#: own schema, co-located with the data (a coordinator temp table is invisible to the workers' queries).
SESSION_TABLES = (SLICE_TABLE, DRIFT_TABLE, WINDOW_NEW_TABLE)

DialectName = Literal["duckdb", "postgres"]


#: A quoted SQL identifier (``pit.x`` stays two identifiers: quote each part yourself).
quote = quote_ident


@dataclass(frozen=True)
class Dialect:
    """SQL fragments that differ by engine."""

    name: DialectName
    #: PostgreSQL with Citus (docs/scale-out.md): the incremental build's slice table is a distributed table
    #: co-located with the data (a session temp table cannot be joined with distributed tables).
    citus: bool = False

    @property
    def is_postgres(self) -> bool:
        return self.name == "postgres"

    def quarter_index(self, date_sql: str) -> str:
        """A quarter-end date -> consecutive integer (year*4 + quarter - 1), so p−1q is ``qidx - 1``."""
        month = f"CAST(EXTRACT(MONTH FROM {date_sql}) AS INTEGER)"
        # month/3 is exact for quarter-end months on both engines (DuckDB's / is float division).
        return f"(CAST(EXTRACT(YEAR FROM {date_sql}) AS INTEGER) * 4 + CAST({month} / 3 AS INTEGER) - 1)"

    def int_div(self, a: str, b: str) -> str:
        """Integer division (DuckDB's ``/`` always returns a float)."""
        return f"(({a}) // ({b}))" if self.name == "duckdb" else f"(({a}) / ({b}))"

    def quarter_end(self, qidx_sql: str) -> str:
        """The inverse of :meth:`quarter_index`: the quarter-end date of a quarter index."""
        year = self.int_div(qidx_sql, "4")
        first_month = f"(({qidx_sql}) % 4) * 3 + 1"
        return (
            f"CAST(make_date(CAST({year} AS INTEGER), CAST({first_month} AS INTEGER), 1) "
            f"+ INTERVAL '3 months' - INTERVAL '1 day' AS DATE)"
        )

    def is_quarter_end(self, date_sql: str) -> str:
        """True for Mar 31 / Jun 30 / Sep 30 / Dec 31."""
        return (
            f"(CAST(EXTRACT(MONTH FROM {date_sql}) AS INTEGER) % 3 = 0 "
            f"AND CAST(EXTRACT(DAY FROM {date_sql}) AS INTEGER) >= 30)"
        )

    def year_before(self, date_sql: str) -> str:
        """The same quarter end one year earlier."""
        return f"CAST({date_sql} - INTERVAL '1 year' AS DATE)"

    def pick(self, value_sql: str, priority_sql: str) -> str:
        """Aggregate: the non-NULL ``value_sql`` of the row with the greatest ``priority_sql`` (an integer
        unique within the group): ``arg_max`` on DuckDB, an ordered ``array_agg`` on PostgreSQL."""
        if self.is_postgres:
            return (
                f"(array_agg({value_sql} ORDER BY {priority_sql} DESC) "
                f"FILTER (WHERE {value_sql} IS NOT NULL))[1]"
            )
        return f"arg_max({value_sql}, {priority_sql}) FILTER (WHERE {value_sql} IS NOT NULL)"

    def day_number(self, date_sql: str) -> str:
        """Days since 1900-01-01 as an integer (DATE − DATE is an integer on both engines); positive for
        any real date, so priorities built on it decode with ``%`` on both engines."""
        return f"CAST({date_sql} - DATE '1900-01-01' AS BIGINT)"

    def micros_since(self, ts_sql: str, base_sql: str) -> str:
        """Microseconds from timestamp ``base`` to timestamp ``ts``, as a BIGINT."""
        if self.is_postgres:
            return f"CAST(EXTRACT(EPOCH FROM ({ts_sql}) - ({base_sql})) * 1000000 AS BIGINT)"
        return f"(epoch_us({ts_sql}) - epoch_us({base_sql}))"

    def covers(self, from_sql: str, to_sql: str, date_param: str) -> str:
        """``from <= d < to`` (``to`` NULL = open) in the form the engine indexes best.

        PostgreSQL answers it from a GiST index on ``daterange(from, to)``; DuckDB scans with zone maps.
        ``from`` must be non-NULL (callers add ``from IS NOT NULL``: a NULL range would cover everything).
        """
        if self.is_postgres:
            return f"daterange({from_sql}, {to_sql}, '[)') @> CAST({date_param} AS DATE)"
        return f"({from_sql} <= CAST({date_param} AS DATE) AND ({to_sql} IS NULL OR CAST({date_param} AS DATE) < {to_sql}))"

    def overlaps(self, from_sql: str, to_sql: str, start_param: str, end_param: str) -> str:
        """Interval ``[from, to)`` meets the closed range ``[start, end]``."""
        if self.is_postgres:
            return (
                f"daterange({from_sql}, {to_sql}, '[)') && "
                f"daterange(CAST({start_param} AS DATE), CAST({end_param} AS DATE), '[]')"
            )
        return (
            f"({from_sql} <= CAST({end_param} AS DATE) AND "
            f"({to_sql} IS NULL OR CAST({start_param} AS DATE) < {to_sql}))"
        )

    def interval_index(self, schema: str, table: str, from_col: str, to_col: str) -> list[str]:
        """DDL for the index ``covers``/``overlaps`` use (PostgreSQL only; DuckDB needs none)."""
        if not self.is_postgres:
            return []
        name = quote(f"{table}_{from_col}_range")
        return [
            f"CREATE INDEX IF NOT EXISTS {name} ON {quote(schema)}.{quote(table)} "
            f"USING gist (daterange({quote(from_col)}, {quote(to_col)}, '[)')) "
            f"WHERE {quote(from_col)} IS NOT NULL"
        ]

    def target_lock(self, name: str) -> str | None:
        """A statement serialising builds of one target until the transaction ends (PostgreSQL only:
        a DuckDB file has one writer process anyway). ``name`` is a fixed identifier, never user input."""
        if not self.is_postgres:
            return None
        return f"SELECT pg_advisory_xact_lock(hashtext('alphahome.pit.{name}'))"

    def in_slice_stocks(self, column: str, slice_table: str) -> str:
        """``column`` is one of the slice table's stocks. PostgreSQL gets the list as one array (an
        InitPlan), so the ts_code-first primary keys answer it by index even with nested loops off."""
        if self.is_postgres:
            return f"{column} = ANY(ARRAY(SELECT DISTINCT ts_code FROM {quote(slice_table)}))"
        return f"{column} IN (SELECT ts_code FROM {quote(slice_table)})"

    def bulk_settings(self) -> list[str]:
        """Session settings for one build transaction (PostgreSQL only). The build joins large sets on
        equality keys plus range filters, which hash joins do well; a nested loop picked from a stale
        row estimate (a freshly loaded table) turns seconds into hours."""
        if not self.is_postgres:
            return []
        return ["SET LOCAL enable_nestloop = off", "SET LOCAL enable_mergejoin = off",
                "SET LOCAL work_mem = '256MB'"]

    def analyze(self, schema: str, table: str) -> str | None:
        """Refresh the planner statistics of a table (PostgreSQL; DuckDB keeps its own)."""
        if not self.is_postgres:
            return None
        return f"ANALYZE {quote(schema)}.{quote(table)}"

    def temp_table(self, name: str, select_sql: str) -> str:
        """Create a session-local table from a query (dropped by the caller, or at disconnect). On Citus,
        fill the target's distributed table of that name instead (one of :data:`SESSION_TABLES`, in the
        schema :meth:`slice_scope` selects; emptied first by :meth:`drop_temp_table`), whose columns are the
        query's, in order."""
        if self.citus and name in SESSION_TABLES:
            return f"INSERT INTO {quote(name)} {select_sql}"
        return f"CREATE TEMPORARY TABLE {quote(name)} AS {select_sql}"

    def drop_temp_table(self, name: str) -> str:
        """Drop the table :meth:`temp_table` made (on Citus: empty the session table; the emptying is part
        of the build's transaction, so a failed build leaves it as it was)."""
        if self.citus and name in SESSION_TABLES:
            return f"DELETE FROM {quote(name)}"
        return f"DROP TABLE IF EXISTS {quote(name)}"

    def slice_scope(self, schema: str) -> list[str]:
        """Citus: statements making the unqualified session table names mean ``schema``'s (one schema per
        target, so builds of different targets never share a session table)."""
        if not self.citus:
            return []
        return [f"SET LOCAL search_path TO {quote(schema)}, public"]

    def build_settings(self) -> list[str]:
        """Citus: settings that let the planner settings of :meth:`bulk_settings` reach the workers."""
        return ["SET LOCAL citus.propagate_set_commands = 'local'"] if self.citus else []


DUCKDB = Dialect("duckdb")
POSTGRES = Dialect("postgres")
CITUS = Dialect("postgres", citus=True)


def dialect_named(name: str) -> Dialect:
    """The dialect a storage backend names as its own (``backend.dialect``: ``"duckdb"`` or ``"postgres"``)."""
    dialects = {d.name: d for d in (DUCKDB, POSTGRES)}
    if name not in dialects:
        raise ValueError(f"unsupported SQL dialect {name!r} (expected duckdb or postgres)")
    return dialects[name]


def dialect_of(db: Any) -> Dialect:
    """The SQL dialect of a storage backend or its sync facade (each says its own: ``db.dialect``; a
    PostgreSQL backend on a Citus cluster answers with the Citus dialect)."""
    backend = getattr(db, "backend", db)  # the sync facade wraps a backend
    if getattr(backend, "citus", None) is not None:
        return CITUS
    return dialect_named(db.dialect)
