"""Citus (distributed PostgreSQL): detecting the cluster, placing tables, and the merge on distributed tables.

The PostgreSQL backend branches here when the database has the ``citus`` extension and ``database.citus`` is
not ``off`` (docs/scale-out.md). Placement, decided per table spec (:func:`placement`):

* ``distributed``: sharded by the spec's distribution column (``ts_code``). Every such table uses the
  cluster's default co-location group, so market, financial and PIT rows of one stock sit on one worker and
  the PIT build's per-stock joins and window functions run on the workers.
* ``reference``: small snapshot tables (``trade_cal``, ``stock_basic``, classifications), one copy per node.
* ``local``: a plain table on the coordinator: the bookkeeping in schema ``alphahome`` (sync state, run
  history, run lock, PIT watermarks) and tables with no distribution column in their key. The one
  per-stock bookkeeping table, ``alphahome.pit_window`` (the PIT build's safety-window figures), names
  ``ts_code`` as its distribution column and is distributed with the data it describes. A transaction that
  writes distributed shards and a coordinator table commits both or neither: Citus commits the workers with
  two-phase commit and records the decision in the coordinator's own transaction (tests/test_citus.py checks
  that a worker failing at commit rolls back the coordinator's rows too).

Merging (:func:`merge`): the single-node merge joins a temporary stage on the coordinator with the target,
which Citus refuses for distributed tables ("direct joins between distributed and local tables are not
supported"). Here the batch is copied into a persistent *staging table placed like its target* (co-located
shards, or a reference table), tagged with a batch number, and the two set-based statements of the
single-node merge run as co-located joins that Citus pushes down to every shard in parallel::

    UPDATE target t SET … FROM stage s WHERE s._batch = $1 AND <key> AND (t.values) IS DISTINCT FROM (s.values)
    INSERT INTO target SELECT … FROM stage s WHERE s._batch = $1 AND NOT EXISTS (… target t WHERE <key>)
    DELETE FROM stage WHERE _batch = $1

All inside the caller's transaction, under the same per-table advisory lock as on one node, so a crash or a
rollback leaves neither the data nor the staged rows. ``INSERT … ON CONFLICT`` and ``MERGE`` from the same
stage (kept here for bench/bench_citus.py) are refused by Citus 13.2 because ``update_time = now()`` is not
IMMUTABLE, and neither tells inserted from updated rows: see docs/scale-out.md.
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Literal

import asyncpg
import pyarrow as pa

from alphahome.errors import ConfigError
from alphahome.storage.base import UpsertResult
from alphahome.storage.run_lock import advisory_lock_key
from alphahome.storage.spec import UPDATE_TIME_COLUMN, Column, TableSpec
from alphahome.storage.sql import (
    column_list,
    distinct_values_condition,
    key_match_condition,
    object_name,
    qualified,
    quote_ident,
    table_ref,
)

CitusMode = Literal["auto", "on", "off"]
CITUS_MODES: tuple[str, ...] = ("auto", "on", "off")
Placement = Literal["distributed", "reference", "local"]
MergeStrategy = Literal["update_insert", "on_conflict", "merge"]
#: The backend's COPY helper: ``copy_into(conn, schema, name, spec, table)``.
CopyInto = Callable[[asyncpg.Connection, str, str, TableSpec, pa.Table], Awaitable[None]]

#: Schema of the staging tables (one per distributed or reference table, placed like it).
STAGE_SCHEMA = "alphahome_stage"
#: The batch number column of a staging table (concurrent merges into one table stage side by side).
BATCH_COLUMN = "_batch"
#: Schemas whose tables stay on the coordinator: bookkeeping, written with the data in one transaction.
LOCAL_SCHEMAS = frozenset({"alphahome", STAGE_SCHEMA})

_NOW = "now()"

#: Session settings of every AlphaHome connection to a Citus coordinator. The coordinator holds a copy of
#: each reference table; reading it there ("local execution") would forbid the parallel multi-shard
#: statements that follow in the same transaction, so every shard is reached through Citus's executor.
SESSION_SETTINGS = {"citus.enable_local_execution": "off"}
#: DDL transactions do use local execution: the shards placed on the coordinator are then created inside
#: the transaction that created their schema (another connection would not see it yet).
DDL_SETTING = "SET LOCAL citus.enable_local_execution = on"


@dataclass(frozen=True)
class CitusCluster:
    """What the coordinator reports about the cluster."""

    version: str
    workers: int
    shard_count: int

    def describe(self) -> str:
        """``Citus 13.2 (coordinator + 2 workers, 8 shards per table)``."""
        noun = "worker" if self.workers == 1 else "workers"
        return f"Citus {self.version} (coordinator + {self.workers} {noun}, {self.shard_count} shards per table)"


async def detect(conn: asyncpg.Connection, mode: str, where: str) -> CitusCluster | None:
    """The cluster behind ``conn`` when Citus is to be used (``mode`` auto/on/off), else None.

    ``on`` without the extension in the database is a :class:`ConfigError` (exit 2, nothing written).
    """
    if mode not in CITUS_MODES:
        raise ConfigError(f"database.citus must be one of {', '.join(CITUS_MODES)}, got {mode!r}")
    if mode == "off":
        return None
    version = await conn.fetchval("SELECT extversion FROM pg_extension WHERE extname = 'citus'")
    if version is None:
        if mode == "on":
            raise ConfigError(
                f"database.citus is 'on' but {where} has no citus extension "
                "(CREATE EXTENSION citus on the coordinator and every worker: see docs/scale-out.md)"
            )
        return None
    workers = await conn.fetchval(
        "SELECT count(*) FROM pg_dist_node WHERE noderole = 'primary' AND isactive AND groupid <> 0"
    )
    shard_count = await conn.fetchval("SELECT current_setting('citus.shard_count')::int")
    return CitusCluster(version=str(version), workers=int(workers), shard_count=int(shard_count))


def placement(spec: TableSpec) -> Placement:
    """Where ``spec``'s table lives on a Citus cluster (see the module docstring)."""
    if spec.schema == STAGE_SCHEMA:
        return "local"
    # Bookkeeping stays on the coordinator, except a table of per-stock figures whose spec names a
    # distribution column (alphahome.pit_window: the incremental PIT build joins it with the data).
    if spec.schema in LOCAL_SCHEMAS and not spec.distribution_column:
        return "local"
    if spec.reference_table:
        return "reference"
    column = spec.distribution_column
    # Citus needs the distribution column in every unique constraint, and a NULL shard key has no shard.
    if column and (not spec.key or column in spec.key) and not spec.column(column).nullable:
        return "distributed"
    return "local"


def stage_spec(spec: TableSpec) -> TableSpec:
    """The staging table of ``spec``: the batch number, then the spec's columns (all nullable, no key)."""
    return TableSpec(
        schema=STAGE_SCHEMA,
        name=object_name(f"{spec.schema}__{spec.name}", "stage"),
        columns=(Column(BATCH_COLUMN, "bigint", nullable=False),
                 *(Column(c.name, c.type) for c in spec.columns)),
        distribution_column=spec.distribution_column,
        reference_table=spec.reference_table,
        track_update_time=False,
        description=f"Rows being merged into {spec.qualified_name} (emptied by each merge's transaction).",
    )


async def place_table(conn: asyncpg.Connection, spec: TableSpec, where: Placement) -> None:
    """Distribute a freshly created table or make it a reference table (nothing for ``local``)."""
    if where == "distributed":
        # colocate_with 'default': every table sharded by a text column shares one co-location group.
        await conn.execute(
            "SELECT create_distributed_table($1::regclass, $2, colocate_with => 'default')",
            table_ref(spec),
            spec.distribution_column,
        )
    elif where == "reference":
        await conn.execute("SELECT create_reference_table($1::regclass)", table_ref(spec))


def _stage_ref(spec: TableSpec) -> str:
    stage = stage_spec(spec)
    return qualified(stage.schema, stage.name)


def update_changed_sql(spec: TableSpec) -> str:
    """UPDATE the target's rows whose values differ from the batch's (a co-located join)."""
    values = spec.value_columns
    assignments = [f"{quote_ident(c)} = s.{quote_ident(c)}" for c in values]
    if spec.track_update_time:
        assignments.append(f"{quote_ident(UPDATE_TIME_COLUMN)} = {_NOW}")
    return (
        f"UPDATE {table_ref(spec)} AS t SET {', '.join(assignments)} FROM {_stage_ref(spec)} AS s "
        f"WHERE s.{quote_ident(BATCH_COLUMN)} = $1 AND {key_match_condition(spec, 't', 's')} "
        f"AND {distinct_values_condition(values, 't', 's')}"
    )


def _insert_columns(spec: TableSpec) -> tuple[str, str]:
    cols = spec.column_names
    insert_cols = column_list(cols + ([UPDATE_TIME_COLUMN] if spec.track_update_time else []))
    select_cols = column_list(cols, "s") + (f", {_NOW}" if spec.track_update_time else "")
    return insert_cols, select_cols


def insert_new_sql(spec: TableSpec) -> str:
    """INSERT the batch's rows whose key the target does not hold (a co-located anti-join)."""
    insert_cols, select_cols = _insert_columns(spec)
    return (
        f"INSERT INTO {table_ref(spec)} ({insert_cols}) SELECT {select_cols} FROM {_stage_ref(spec)} AS s "
        f"WHERE s.{quote_ident(BATCH_COLUMN)} = $1 AND NOT EXISTS "
        f"(SELECT 1 FROM {table_ref(spec)} AS t WHERE {key_match_condition(spec, 't', 's')})"
    )


def on_conflict_sql(spec: TableSpec) -> str:
    """The alternative measured in bench/bench_citus.py: one ``INSERT … ON CONFLICT DO UPDATE … WHERE``."""
    insert_cols, select_cols = _insert_columns(spec)
    values = spec.value_columns
    assignments = [f"{quote_ident(c)} = EXCLUDED.{quote_ident(c)}" for c in values]
    if spec.track_update_time:
        assignments.append(f"{quote_ident(UPDATE_TIME_COLUMN)} = {_NOW}")
    action = (
        f"DO UPDATE SET {', '.join(assignments)} "
        f"WHERE {distinct_values_condition(values, 't', 'EXCLUDED')}" if values else "DO NOTHING"
    )
    return (
        f"INSERT INTO {table_ref(spec)} AS t ({insert_cols}) SELECT {select_cols} FROM {_stage_ref(spec)} AS s "
        f"WHERE s.{quote_ident(BATCH_COLUMN)} = $1 ON CONFLICT ({column_list(spec.key)}) {action}"
    )


def merge_sql(spec: TableSpec) -> str:
    """The alternative measured in bench/bench_citus.py: one ``MERGE`` from the co-located stage."""
    values = spec.value_columns
    insert_cols, select_cols = _insert_columns(spec)
    assignments = [f"{quote_ident(c)} = s.{quote_ident(c)}" for c in values]
    if spec.track_update_time:
        assignments.append(f"{quote_ident(UPDATE_TIME_COLUMN)} = {_NOW}")
    matched = (
        f"WHEN MATCHED AND {distinct_values_condition(values, 't', 's')} THEN UPDATE SET {', '.join(assignments)} "
        if values else ""
    )
    return (
        f"MERGE INTO {table_ref(spec)} AS t USING (SELECT * FROM {_stage_ref(spec)} "
        f"WHERE {quote_ident(BATCH_COLUMN)} = $1) AS s ON {key_match_condition(spec, 't', 's')} "
        f"{matched}WHEN NOT MATCHED THEN INSERT ({insert_cols}) VALUES ({select_cols})"
    )


def _count(status: str) -> int:
    return int(status.rsplit(" ", 1)[-1])


async def merge(
    conn: asyncpg.Connection,
    spec: TableSpec,
    table: pa.Table,
    copy_into: CopyInto,
    strategy: MergeStrategy = "update_insert",
) -> UpsertResult:
    """Merge a prepared batch into a distributed or reference table (inside the caller's transaction).

    ``copy_into(conn, schema, name, spec, table)`` is the backend's COPY. The result counts inserted,
    updated and unchanged rows like the single-node merge; the alternative strategies (for the benchmark)
    report every written row as inserted.
    """
    stage = stage_spec(spec)
    batch = secrets.randbits(62)
    staged = table.add_column(0, BATCH_COLUMN, pa.array([batch] * table.num_rows, pa.int64()))
    await copy_into(conn, stage.schema, stage.name, stage, staged)
    await conn.execute("SELECT pg_advisory_xact_lock($1)", advisory_lock_key(f"merge:{spec.qualified_name}"))
    updated = inserted = 0
    if strategy == "update_insert":
        if spec.value_columns:
            updated = _count(await conn.execute(update_changed_sql(spec), batch))
        if updated < table.num_rows:  # when every staged row was an update, none can be new
            inserted = _count(await conn.execute(insert_new_sql(spec), batch))
    else:
        sql = on_conflict_sql(spec) if strategy == "on_conflict" else merge_sql(spec)
        inserted = _count(await conn.execute(sql, batch))
    await conn.execute(
        f"DELETE FROM {qualified(stage.schema, stage.name)} WHERE {quote_ident(BATCH_COLUMN)} = $1", batch
    )
    return UpsertResult(inserted=inserted, updated=updated, unchanged=table.num_rows - inserted - updated)

