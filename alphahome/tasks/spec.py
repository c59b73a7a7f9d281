"""The dataset spec: one frozen dataclass that says everything AlphaHome needs to sync one Tushare dataset.

A spec reads like the Tushare docs table: which API, which key, which date column, how requests are shaped
(``shape``), how many rows one call may return, the points it needs and its default rate, where history
starts, what it depends on, the fixed parameter ``variants`` whose union is the dataset, the whole-market
``*_vip`` API, how often a dimension table is refreshed, how far back a smart run re-fetches, and the
validation rules. Special behaviour is a hook (``transform``) used only where a dataset truly differs.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from alphahome.sources.tushare.fields import api_fields, base_api
from alphahome.sources.tushare.interfaces import INTERFACES
from alphahome.storage.spec import Column, ColumnType, TableSpec
from alphahome.tasks.shapes import RequestShape, Snapshot

if TYPE_CHECKING:
    import pyarrow as pa

#: The families of the original AlphaHome (``tushare_<family>_<name>``); ``alphahome tasks`` and the README
#: group datasets by them.
Family = Literal["stock", "finance", "index", "fund", "cbond", "future", "option", "hk", "macro", "others"]

RuleMode = Literal["report", "filter"]
RuleOp = Literal[">", ">=", "<", "<=", "!="]

_KIND_TO_TYPE: dict[str, ColumnType] = {"s": "text", "d": "date", "f": "double", "i": "bigint"}


@dataclass(frozen=True)
class Rule:
    """A row rule ``left op right``; ``right`` is a column name or a number. NULL operands pass."""

    left: str
    op: RuleOp
    right: str | float

    def __str__(self) -> str:
        return f"{self.left} {self.op} {self.right}"


@dataclass(frozen=True)
class DatasetSpec:
    """One dataset of the catalogue (see the module docstring)."""

    name: str
    api: str
    family: Family
    key: tuple[str, ...]
    #: How requests are cut (:mod:`alphahome.tasks.shapes`): planning, partitions, description.
    shape: RequestShape
    #: The column partitions refer to (trade_date, nav_date, end_date, …); None for snapshots.
    date_column: str | None = None
    #: Interface facts, read from the interface table (:mod:`alphahome.sources.tushare.interfaces`) unless
    #: given: rows per call (0: the table's cap), rows per call of the ``*_vip`` twin, minimum points (0: the
    #: table's), the API's own per-minute quota (None: the table's, else the points tier's) and where
    #: history starts (YYYYMMDD; config ``default_start_date`` overrides it; "": the table's).
    row_cap: int = 0
    vip_row_cap: int | None = None
    points: int = 0
    rate_per_minute: int | None = None
    start_date: str = ""
    #: Datasets that must be loaded first (their tables feed this one's plan).
    depends_on: tuple[str, ...] = ()
    #: Fixed params whose union is the dataset (each variant requested on its own).
    variants: tuple[Mapping[str, str], ...] = ({},)
    #: The whole-market ``*_vip`` twin of ``api`` (None: the table's) and the points it needs (0: the table's).
    vip_api: str | None = None
    vip_points: int = 0
    #: ``snapshot``: re-fetch when the last refresh is at least this many days old (0 = every run).
    refresh_days: int = 1
    #: Smart mode re-fetches this many recent trade dates (late corrections).
    lookback_days: int = 0
    #: ``periods``: a period younger than this many days is "open" and re-fetched every smart run.
    open_days: int = 0
    #: Expected rows per trade date when nothing is stored yet ("stocks" = the number of listed stocks).
    rows_per_date: int | Literal["stocks"] = "stocks"
    #: A trade date that returns no rows is not yet published: leave it missing (never "complete").
    empty_means_unpublished: bool = True
    #: Key columns that real rows leave NULL (kept as NULL, matched NULL = NULL).
    nullable_key: tuple[str, ...] = ()
    rules: tuple[Rule, ...] = ()
    rule_mode: RuleMode = "report"
    description: str = ""
    #: Hook: reshape a fetched batch before typing (only where a dataset truly differs).
    transform: Callable[[pa.Table], pa.Table] | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        self._fill_from_interface()
        names = {f.name for f in api_fields(self.api)}
        for col in (*self.key, *self.nullable_key, *([self.date_column] if self.date_column else [])):
            if col not in names:
                raise ValueError(f"dataset {self.name}: {col!r} is not a field of {self.api}")
        for rule in self.rules:
            for side in (rule.left, rule.right):
                if isinstance(side, str) and side not in names:
                    raise ValueError(f"dataset {self.name}: rule {rule} names unknown field {side!r}")
        if not set(self.nullable_key) <= set(self.key):
            raise ValueError(f"dataset {self.name}: nullable_key must be part of the key")
        if self.vip_api is not None and base_api(self.vip_api) != self.api:
            raise ValueError(f"dataset {self.name}: {self.vip_api} is not the vip variant of {self.api}")
        if self.shape.needs_date_column and self.date_column is None:
            raise ValueError(f"dataset {self.name}: a {self.shape.name} shape needs a date_column")

    def _fill_from_interface(self) -> None:
        """Facts not given in the spec come from the interface table (one source for every consumer)."""
        facts = INTERFACES.get(self.api)
        filled: dict[str, object] = {}
        if facts is None:
            filled = {"row_cap": self.row_cap or 6000, "points": self.points or 2000,
                      "vip_points": self.vip_points or 5000, "start_date": self.start_date or "19900101"}
        else:
            vip = INTERFACES.get(facts.vip) if facts.vip else None
            filled = {
                "row_cap": self.row_cap or facts.row_cap,
                "points": self.points or facts.points,
                "rate_per_minute": self.rate_per_minute if self.rate_per_minute is not None else facts.per_minute,
                "start_date": self.start_date or facts.history_start,
                "vip_api": self.vip_api if self.vip_api is not None else facts.vip,
                "vip_points": self.vip_points or (vip.points if vip else facts.vip_points),
                "vip_row_cap": self.vip_row_cap if self.vip_row_cap is not None else (vip.row_cap if vip else None),
            }
        for name, value in filled.items():
            object.__setattr__(self, name, value)

    @property
    def table_name(self) -> str:
        """The table: the API's name without ``_vip``."""
        return base_api(self.api)

    @property
    def field_names(self) -> list[str]:
        """Every output field of the API, in documented order (all requested explicitly)."""
        return [f.name for f in api_fields(self.api)]

    @property
    def points_needed(self) -> int:
        """The fewest points that can sync this dataset (its API, or else its ``*_vip`` twin)."""
        return min(self.points, self.vip_points) if self.vip_api is not None else self.points

    def api_for(self, points: int) -> str:
        """The API a token with ``points`` should call: the vip variant when allowed."""
        if self.vip_api is not None and points >= self.vip_points:
            return self.vip_api
        return self.api

    def rate_for(self, api: str, points: int) -> int | None:
        """The published per-minute quota of ``api`` (this dataset's API or its vip twin) for a token with
        ``points``: the spec's own figure when it sets one, else the interface table's (which knows the
        reduced rate below an API's full-rate points); None leaves the points tier's."""
        facts = INTERFACES.get(api)
        if facts is None or (self.rate_per_minute is not None and self.rate_per_minute != facts.per_minute):
            return self.rate_per_minute
        return facts.rate_per_minute(points)

    def row_cap_for(self, api: str) -> int:
        """Rows one call of ``api`` (this dataset's API or its vip variant) may return."""
        if api == self.vip_api and self.vip_row_cap is not None:
            return self.vip_row_cap
        return self.row_cap

    def table_spec(self) -> TableSpec:
        """The storage description of this dataset's table (schema ``tushare``)."""
        key = set(self.key)
        nullable_key = set(self.nullable_key)
        columns = tuple(
            Column(
                f.name,
                _KIND_TO_TYPE[f.kind],
                nullable=(f.name not in key) or (f.name in nullable_key),
            )
            for f in api_fields(self.api)
        )
        names = {c.name for c in columns}
        indexes: tuple[tuple[str, ...], ...] = ()
        if self.date_column and (not self.key or self.key[0] != self.date_column):
            indexes = ((self.date_column,),)
        return TableSpec(
            schema="tushare",
            name=self.table_name,
            columns=columns,
            key=self.key,
            indexes=indexes,
            # Citus (docs/scale-out.md): snapshots are small and joined with everything: a copy on every
            # node; the rest are sharded by stock, co-located, so per-stock joins never leave a worker.
            distribution_column="ts_code" if "ts_code" in names and not isinstance(self.shape, Snapshot) else None,
            reference_table=isinstance(self.shape, Snapshot),
            description=self.description,
        )
