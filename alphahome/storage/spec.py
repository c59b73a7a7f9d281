"""Table specifications: the storage layer's description of a table.

A :class:`TableSpec` is pure data. The DDL of both backends, the staging and merge SQL of
``upsert`` and the PIT builders are all generated from it, so a dataset never carries SQL of its own.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

#: Logical column types. Each backend maps them onto its own SQL types.
ColumnType = Literal["text", "date", "double", "bigint", "integer", "numeric", "timestamp", "boolean"]

COLUMN_TYPES: frozenset[str] = frozenset(
    {"text", "date", "double", "bigint", "integer", "numeric", "timestamp", "boolean"}
)

#: The bookkeeping column every keyed table gets: when the row was inserted or last really changed.
UPDATE_TIME_COLUMN = "update_time"


@dataclass(frozen=True)
class Column:
    """One column: its name (Tushare's own field name for raw tables) and logical type."""

    name: str
    type: ColumnType = "text"
    nullable: bool = True
    description: str = ""

    def __post_init__(self) -> None:
        if self.type not in COLUMN_TYPES:
            raise ValueError(f"column {self.name!r}: unknown type {self.type!r}")


@dataclass(frozen=True)
class TableSpec:
    """A table: schema, name, columns, natural key, secondary indexes.

    ``key`` lists the columns that identify a row. Key columns may be nullable (real Tushare rows leave
    ``f_ann_date`` or ``ann_date`` NULL at times): for matching, NULL equals NULL, so such a row is kept as
    it is and still de-duplicated. A NULL in a *non-nullable* key column is rejected.
    An empty key means an append-only table (plain inserts).
    """

    schema: str
    name: str
    columns: tuple[Column, ...]
    key: tuple[str, ...] = ()
    indexes: tuple[tuple[str, ...], ...] = ()
    #: Citus distribution column (tables are distributable by ``ts_code``); informational elsewhere.
    distribution_column: str | None = None
    #: Citus: a small table copied whole to every node (joins with any distributed table stay on the
    #: workers); informational elsewhere. See docs/scale-out.md.
    reference_table: bool = False
    #: Add and maintain the ``update_time`` column (set on insert and when a non-key value changes).
    track_update_time: bool = True
    description: str = ""
    _by_name: dict[str, Column] = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        names = [c.name for c in self.columns]
        if len(set(names)) != len(names):
            raise ValueError(f"{self.qualified_name}: duplicate column names")
        by_name = {c.name: c for c in self.columns}
        for k in self.key:
            if k not in by_name:
                raise ValueError(f"{self.qualified_name}: key column {k!r} is not a column")
        for index in self.indexes:
            for col in index:
                if col not in by_name:
                    raise ValueError(f"{self.qualified_name}: index column {col!r} is not a column")
        if self.track_update_time and UPDATE_TIME_COLUMN in by_name:
            raise ValueError(f"{self.qualified_name}: {UPDATE_TIME_COLUMN!r} is managed by the storage layer")
        object.__setattr__(self, "_by_name", by_name)

    @property
    def qualified_name(self) -> str:
        """``schema.name``, unquoted (for messages and look-ups)."""
        return f"{self.schema}.{self.name}"

    @property
    def column_names(self) -> list[str]:
        """Names of the spec's own columns, in order (without ``update_time``)."""
        return [c.name for c in self.columns]

    @property
    def value_columns(self) -> list[str]:
        """Columns that are not part of the key."""
        key = set(self.key)
        return [c.name for c in self.columns if c.name not in key]

    @property
    def nullable_key_columns(self) -> list[str]:
        """Key columns whose NULLs are legitimate (matched as NULL = NULL)."""
        return [k for k in self.key if self._by_name[k].nullable]

    def column(self, name: str) -> Column:
        """The column called ``name``; KeyError names the table if absent."""
        try:
            return self._by_name[name]
        except KeyError:
            raise KeyError(f"{self.qualified_name} has no column {name!r}") from None
