"""Builds the PIT tables inside the database: full rebuilds and incremental slice rebuilds.

Each target is one transaction: its rows and the watermarks saying what they incorporate commit together,
so a crash at any moment leaves the previous build intact and the next run redoes the work. Incremental
mode reads the raw rows whose ``update_time`` is at or after the stored watermark (less a safety margin
for transactions that committed late), redoes the (stock, period) slices they feed, and gives exactly the
rows a full rebuild would (tests/test_pit_incremental.py checks that).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from alphahome.pit import indicator_sql, industry_sql, statement_sql, watermarks
from alphahome.pit.definitions import (
    BALANCE,
    INCOME,
    TARGET_DEPENDS,
    TARGETS,
    StatementTable,
)
from alphahome.pit.dialect import WINDOW_NEW_TABLE, Dialect, quote
from alphahome.pit.slices import (
    DRIFT_TABLE,
    ChangeSource,
    delete_slice_sql,
    drift_sql,
    period_slice_sql,
    refresh_latest_sql,
    session_specs,
    slice_schema,
    stock_slice_sql,
    window_sql,
)
from alphahome.pit.statement_sql import SLICE_TABLE
from alphahome.pit.tables import PIT_SCHEMA, SPECS, extra_ddl, function_ddl

log = logging.getLogger(__name__)

Mode = Literal["incremental", "full"]

#: Rows loaded this long before the watermark are looked at again: a sync transaction that started
#: earlier but committed after the last build stamps its rows with its start time.
SAFETY_MARGIN = timedelta(hours=1)

#: An incremental build whose slices reach this share of the table's rows rebuilds the table whole.
REBUILD_SHARE = 0.5

_STATEMENTS: dict[str, StatementTable] = {"income_quarterly": INCOME, "balance_quarterly": BALANCE}

#: Statement raw tables financial_indicators reads through the PIT tables that incorporate them.
_INDICATOR_UPSTREAM: dict[str, tuple[str, ...]] = {
    "income": ("income_quarterly",),
    "forecast": ("income_quarterly",),
    "express": ("income_quarterly", "balance_quarterly"),
    "balancesheet": ("balance_quarterly",),
}


@dataclass
class BuildResult:
    """What one target's build did."""

    target: str
    mode: Mode
    status: Literal["success", "failed", "current"] = "success"
    rows: int = 0
    slices: int = 0
    started: datetime = field(default_factory=lambda: datetime.now(UTC))
    seconds: float = 0.0
    error: str | None = None


def expand_targets(targets: list[str]) -> list[str]:
    """The targets to build, dependencies included, in build order (indicators read income and balance)."""
    wanted = set(targets)
    for t in list(wanted):
        wanted.update(TARGET_DEPENDS.get(t, ()))
    return [t for t in TARGETS if t in wanted]


class PitBuilder:
    """Builds PIT targets on one storage backend (anything with ``transaction()``/``execute``/``fetch_arrow``)."""

    def __init__(
        self,
        backend: Any,
        dialect: Dialect,
        *,
        margin: timedelta = SAFETY_MARGIN,
        rebuild_share: float | None = REBUILD_SHARE,
    ) -> None:
        self.backend = backend
        self.dialect = dialect
        self.margin = margin
        self.rebuild_share = rebuild_share

    async def ensure(self) -> None:
        """Create the pit schema, tables, indexes and SQL functions, and the watermark table (idempotent)."""
        await self.backend.ensure_schema(PIT_SCHEMA)
        await self.backend.ensure_schema("alphahome")
        for spec in SPECS.values():
            await self.backend.ensure_table(spec)
        await self.backend.ensure_table(watermarks.WATERMARK_SPEC)
        await self.backend.ensure_table(watermarks.WINDOW_SPEC)
        if self.dialect.citus:
            for target in SPECS:
                for spec in session_specs(target):
                    await self.backend.ensure_table(spec)
        for statement in extra_ddl(self.dialect) + function_ddl(self.dialect):
            await self.backend.execute(statement)

    async def build(self, target: str, mode: Mode) -> BuildResult:
        """Build one target in one transaction; errors are returned in the result, not raised."""
        result = BuildResult(target=target, mode=mode)
        started = time.perf_counter()
        try:
            async with self.backend.transaction() as conn:
                lock = self.dialect.target_lock(target)
                if lock:
                    await conn.fetchval(lock)
                for statement in self.dialect.slice_scope(slice_schema(target)) + self.dialect.build_settings():
                    await conn.execute(statement)
                raw = await self._raw_columns(conn, _raw_tables(target))
                previous = await watermarks.load(conn, target)
                effective: Mode = mode if previous else "full"
                result.mode = effective
                marks, origin = await self._new_watermarks(conn, target, raw)
                # What this build sees of each safety window, before it reads anything (a row committed
                # after this point is then seen as drift by the next build, never silently skipped).
                await self._snapshot_windows(conn, target, marks, origin)
                if effective == "full":
                    await self._full(conn, target, raw, result)
                else:
                    await self._incremental(conn, target, raw, previous, result)
                if result.status != "current" or marks != previous:
                    await watermarks.save(conn, target, marks, result.mode, datetime.now(UTC))
                    await self._save_windows(conn, target)
                # (else nothing changed: the build writes nothing at all)
        except Exception as exc:  # one failed target must not hide the others' results
            log.exception("pit build of %s failed", target)
            result.status = "failed"
            result.error = f"{type(exc).__name__}: {exc}"
        result.seconds = time.perf_counter() - started
        return result

    # ---- full ---------------------------------------------------------------------------------------------

    async def _full(self, conn: Any, target: str, raw: dict[str, set[str]], result: BuildResult) -> None:
        table = f"{PIT_SCHEMA}.{quote(target)}"
        await self._bulk_settings(conn)
        for source in raw:  # fresh statistics: a full build usually follows a large load
            if statement := self.dialect.analyze("tushare", source):
                await conn.execute(statement)
        await conn.execute(f"DELETE FROM {table}")
        await conn.execute(self._insert_sql(target, raw, sliced=False))
        if statement := self.dialect.analyze(PIT_SCHEMA, target):
            await conn.execute(statement)
        result.rows = int(await conn.fetchval(f"SELECT COUNT(*) FROM {table}"))
        log.info("pit %s: full build, %d rows", target, result.rows)

    # ---- incremental --------------------------------------------------------------------------------------

    async def _incremental(
        self,
        conn: Any,
        target: str,
        raw: dict[str, set[str]],
        previous: dict[str, datetime | None],
        result: BuildResult,
    ) -> None:
        sources, params = self._change_sources(target, raw, previous)
        # Stocks whose safety-window rows changed since the last build (a late commit): only their window
        # rows are looked at again, not every row loaded within the margin.
        drift_tables = [s.table for s in sources if s.has_since]
        drift_params: list[Any] = [target]
        for i, table in enumerate(drift_tables):
            drift_params += [params[3 * i], params[3 * i + 1], table]
        await conn.execute(self.dialect.drop_temp_table(DRIFT_TABLE))
        await conn.execute(drift_sql(drift_tables, self.dialect, by_period=_by_period(target)), *drift_params)
        if target == "industry_classification":
            create = stock_slice_sql(sources, self.dialect)
        else:
            create = period_slice_sql(sources, self.dialect)
        await conn.execute(self.dialect.drop_temp_table(SLICE_TABLE))
        await conn.execute(create, *params)
        await conn.execute(self.dialect.drop_temp_table(DRIFT_TABLE))
        # (The slice table is transactional: a failed build rolls it back with everything else.)
        result.slices = int(await conn.fetchval(f"SELECT COUNT(*) FROM {quote(SLICE_TABLE)}"))
        table = f"{PIT_SCHEMA}.{quote(target)}"
        if result.slices == 0:
            result.status = "current"
            log.info("pit %s: nothing changed since the last build", target)
        elif self.rebuild_share is not None and result.slices > self.rebuild_share * int(
            await conn.fetchval(f"SELECT COUNT(*) FROM {table}")
        ):
            # Changes touching most of the table: rebuilding it whole is faster, gives the same rows, and
            # restores the physical order the as-of look-ups rely on.
            log.info("pit %s: %d slices changed, rebuilding it whole", target, result.slices)
            result.mode = "full"
            await self._full(conn, target, raw, result)
        else:
            await self._bulk_settings(conn)
            by_period = target != "industry_classification"
            await conn.execute(delete_slice_sql(target, self.dialect, by_period=by_period))
            await conn.execute(self._insert_sql(target, raw, sliced=True))
            if by_period:
                await conn.execute(refresh_latest_sql(target, self.dialect))
            result.rows = int(await conn.fetchval(
                f"SELECT COUNT(*) FROM {table} WHERE {self.dialect.in_slice_stocks('ts_code', SLICE_TABLE)}"
            ))
            log.info("pit %s: incremental, %d slices redone, %d rows of their stocks",
                     target, result.slices, result.rows)
        await conn.execute(self.dialect.drop_temp_table(SLICE_TABLE))

    async def _bulk_settings(self, conn: Any) -> None:
        # After the slice exists: planning its small non-equi join with nested loops off takes seconds.
        for setting in self.dialect.bulk_settings():
            await conn.execute(setting)

    def _change_sources(
        self, target: str, raw: dict[str, set[str]], previous: dict[str, datetime | None]
    ) -> tuple[list[ChangeSource], list[Any]]:
        """The raw tables to scan for changes and, per table seen before, the parameters of its "changed
        row" condition: (last watermark, window start, table name)."""
        sources: list[ChangeSource] = []
        params: list[Any] = []
        for table in _raw_tables(target):
            if table not in raw or "update_time" not in raw[table]:
                continue
            since = previous.get(table)
            # A table never seen, or empty at the last build: every row it holds now is new.
            sources.append(ChangeSource(table, _reach(target, table), has_since=since is not None))
            if since is not None:
                params += [since, since - self.margin, table]
        return sources, params

    async def _snapshot_windows(
        self, conn: Any, target: str, marks: dict[str, datetime | None], origin: dict[str, str]
    ) -> None:
        """Fill the session table of this build's window figures (stored with the watermarks at the end).

        A raw table whose watermark the target took from an upstream PIT target (indicators) takes that
        target's stored figures too: they describe the rows it incorporated.
        """
        new = quote(WINDOW_NEW_TABLE)
        await conn.execute(self.dialect.drop_temp_table(WINDOW_NEW_TABLE))
        await conn.execute(self.dialect.temp_table(
            WINDOW_NEW_TABLE,
            "SELECT CAST(NULL AS TEXT) AS source, CAST(NULL AS TEXT) AS ts_code, CAST(NULL AS DATE) AS end_date, "
            "CAST(NULL AS BIGINT) AS n, CAST(NULL AS BIGINT) AS s WHERE 1 = 0",
        ))
        for table, mark in marks.items():
            if mark is None:
                continue
            if table in origin:
                await conn.execute(
                    f"INSERT INTO {new} (source, ts_code, end_date, n, s) "
                    "SELECT source, ts_code, end_date, row_count, stamp_sum "
                    "FROM alphahome.pit_window WHERE target = $1 AND source = $2",
                    origin[table], table,
                )
                continue
            window = window_sql(table, self.dialect, "CAST($2 AS TIMESTAMPTZ)", "CAST($3 AS TIMESTAMPTZ)",
                                by_period=_by_period(target))
            await conn.execute(
                f"INSERT INTO {new} (source, ts_code, end_date, n, s) "
                f"SELECT CAST($1 AS TEXT), ts_code, end_date, n, s FROM ({window}) w",
                table, mark - self.margin, mark,
            )

    async def _save_windows(self, conn: Any, target: str) -> None:
        """Replace ``target``'s stored window figures by this build's (inside its transaction)."""
        new = quote(WINDOW_NEW_TABLE)
        await conn.execute("DELETE FROM alphahome.pit_window WHERE target = $1", target)
        await conn.execute(
            "INSERT INTO alphahome.pit_window (target, source, ts_code, end_date, row_count, stamp_sum) "
            f"SELECT CAST($1 AS TEXT), source, ts_code, end_date, n, s FROM {new}",
            target,
        )
        await conn.execute(self.dialect.drop_temp_table(WINDOW_NEW_TABLE))

    async def _new_watermarks(
        self, conn: Any, target: str, raw: dict[str, set[str]]
    ) -> tuple[dict[str, datetime | None], dict[str, str]]:
        """The newest update_time of each raw table this target reads, and for the marks taken from an
        upstream PIT target, which one.

        For financial_indicators the statement tables' marks are those the income/balance targets have
        incorporated, not the raw tables' own: its derived columns read those PIT tables, so it may not
        claim raw rows they have not seen yet.
        """
        marks: dict[str, datetime | None] = {}
        origin: dict[str, str] = {}
        upstream: dict[str, dict[str, datetime | None]] = {}
        for table in _raw_tables(target):
            if table not in raw or "update_time" not in raw[table]:
                continue
            if target == "financial_indicators" and table in _INDICATOR_UPSTREAM:
                seen: dict[str, datetime | None] = {}
                for statement_target in _INDICATOR_UPSTREAM[table]:
                    if statement_target not in upstream:
                        upstream[statement_target] = await watermarks.load(conn, statement_target)
                    seen[statement_target] = upstream[statement_target].get(table)
                # The older of the two marks (express feeds both statements); None if either saw nothing.
                if any(m is None for m in seen.values()):
                    marks[table] = None
                else:
                    oldest = min(seen, key=lambda t: (seen[t], t))
                    marks[table], origin[table] = seen[oldest], oldest
                continue
            value = await conn.fetchval(f"SELECT MAX(update_time) FROM tushare.{quote(table)}")
            marks[table] = watermarks.as_datetime(value)
        return marks, origin

    def select_sql(self, target: str, raw: dict[str, set[str]], *, sliced: bool = False) -> str:
        """The SELECT computing ``target``'s rows from the raw tables (``raw``: their columns), in the
        table's column order: every row when not ``sliced``, else the slice table's periods/stocks."""
        spec = SPECS[target]
        columns = ", ".join(quote(c) for c in spec.column_names)
        if target in _STATEMENTS:
            select = statement_sql.build_select(_STATEMENTS[target], raw, self.dialect, sliced=sliced)
        elif target == "financial_indicators":
            select = indicator_sql.build_select(raw.get("fina_indicator"), self.dialect, sliced=sliced)
        else:
            select = industry_sql.build_select(raw.get("index_member_all"), self.dialect, sliced=sliced)
        return f"SELECT {columns} FROM ({select}) b"

    def _insert_sql(self, target: str, raw: dict[str, set[str]], *, sliced: bool) -> str:
        columns = ", ".join(quote(c) for c in SPECS[target].column_names)
        insert = f"INSERT INTO {PIT_SCHEMA}.{quote(target)} ({columns}) {self.select_sql(target, raw, sliced=sliced)}"
        # Stored in the order of the as-of intervals, the rows any one day needs sit together: DuckDB's
        # zone maps skip the rest, PostgreSQL reads a few heap pages instead of one per stock.
        start, end = ("valid_from", "valid_to") if target == "industry_classification" else (
            "latest_from", "latest_to")
        return f"{insert} ORDER BY {end} NULLS LAST, {start}"

    async def raw_columns(self, conn: Any, target: str) -> dict[str, set[str]]:
        """Columns of the raw tables ``target`` reads (absent tables left out)."""
        return await self._raw_columns(conn, _raw_tables(target))

    async def _raw_columns(self, conn: Any, tables: list[str]) -> dict[str, set[str]]:
        """Columns of the existing raw tables among ``tables`` (absent tables are left out)."""
        if not tables:
            return {}
        placeholders = ", ".join(f"${i + 1}" for i in range(len(tables)))
        rows = await conn.fetch_arrow(
            "SELECT table_name, column_name FROM information_schema.columns "
            f"WHERE table_schema = 'tushare' AND table_name IN ({placeholders})",
            *tables,
        )
        out: dict[str, set[str]] = {}
        for r in rows.to_pylist():
            out.setdefault(str(r["table_name"]), set()).add(str(r["column_name"]))
        return out


def _raw_tables(target: str) -> list[str]:
    """Raw tables a target reads (indicators: its own and those of the statements it derives from)."""
    if target in _STATEMENTS:
        return _STATEMENTS[target].raw_tables
    if target == "financial_indicators":
        tables = ["fina_indicator"]
        for t in INCOME.raw_tables + BALANCE.raw_tables:
            if t not in tables:
                tables.append(t)
        return tables
    return ["index_member_all"]


def _by_period(target: str) -> bool:
    """Whether ``target``'s raw tables are sliced by (stock, period); industry membership is by stock."""
    return target != "industry_classification"


def _reach(target: str, table: str) -> int:
    if target in _STATEMENTS:
        return _STATEMENTS[target].lags
    if target == "financial_indicators":
        if table in ("income", "express", "forecast"):
            return 8
        return 0
    return 0
