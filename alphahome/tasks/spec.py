"""The dataset spec: one frozen dataclass that says everything AlphaHome needs to sync one Tushare dataset.

A spec reads like the Tushare docs table: which API, which key, which date column, how requests are shaped
(``split``), how many rows one call may return, the points it needs and its default rate, where history
starts, what it depends on, the fixed parameter ``variants`` whose union is the dataset, the whole-market
``*_vip`` API, how often a dimension table is refreshed, how far back a smart run re-fetches, and the
validation rules. Special behaviour is a hook (``transform``) used only where a dataset truly differs.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from alphahome.sources.tushare.fields import api_fields, base_api
from alphahome.storage.spec import Column, ColumnType, TableSpec

if TYPE_CHECKING:
    import pyarrow as pa

Category = Literal["reference", "market", "financial", "industry"]

#: How one dataset's requests are shaped (see :class:`Split`).
SplitKind = Literal["snapshot", "trade_dates", "code_dates", "code_months", "periods", "codes"]

RuleMode = Literal["report", "filter"]
RuleOp = Literal[">", ">=", "<", "<=", "!="]

_KIND_TO_TYPE: dict[str, ColumnType] = {"s": "text", "d": "date", "f": "double", "i": "bigint"}


@dataclass(frozen=True)
class Split:
    """How requests are shaped, which decides the partitions recorded in the sync state.

    - ``snapshot``: the whole dataset, one request per variant (paged); one partition, refreshed by policy.
    - ``trade_dates``: whole market per trade date; with ``window`` several dates per call through
      ``start_date``/``end_date`` (sized so one call returns about ``row_cap`` rows), else one call per date
      with ``date_param`` — or, with ``code_windows``, per code in date windows when that takes fewer calls
      (a small universe over a long range). Partition = the date.
    - ``code_dates``: per code (``code_param``) in trade-date windows. Partition = ``code|date``.
    - ``code_months``: per code, one call per calendar month. Partition = ``code|YYYYMM``.
    - ``periods``: whole market per report period (``date_param`` = ``period`` or ``end_date``), on the
      ``*_vip`` API where the dataset has one. Partition = the period.
    - ``codes``: one call per stock (all of its history). Partition = the code.
    """

    kind: SplitKind
    #: ``trade_dates``: request several dates per call with start_date/end_date.
    window: bool = True
    #: The single-date parameter (``trade_date``, ``nav_date``, ``period``, ``end_date``).
    date_param: str = "trade_date"
    #: ``trade_dates`` without ``window``: date windows are allowed per code (codes from ``codes_from``).
    code_windows: bool = False
    #: The per-code parameter (``ts_code``, ``index_code``).
    code_param: str = "ts_code"
    #: Where the codes of per-code splits come from: ``table.column`` of a catalogue dataset …
    codes_from: str = "stock_basic.ts_code"
    #: … unless the spec names them (e.g. the major indices).
    codes: tuple[str, ...] = ()
    #: ``periods``: which month-ends are periods (quarter ends by default).
    period_months: tuple[int, ...] = (3, 6, 9, 12)


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
    category: Category
    key: tuple[str, ...]
    split: Split
    #: The column partitions refer to (trade_date, nav_date, end_date, …); None for snapshots.
    date_column: str | None = None
    #: Documented maximum rows per call (the page size unless config overrides it).
    row_cap: int = 6000
    #: Rows per call of the ``*_vip`` API (None: as ``row_cap``).
    vip_row_cap: int | None = None
    #: Minimum points to call ``api``.
    points: int = 2000
    #: Default per-minute budget; None = the points tier's figure.
    rate_per_minute: int | None = None
    #: History starts here (YYYYMMDD) unless config sets ``default_start_date``.
    start_date: str = "19900101"
    #: Datasets that must be loaded first (their tables feed this one's plan).
    depends_on: tuple[str, ...] = ()
    #: Fixed params whose union is the dataset (each variant requested on its own).
    variants: tuple[Mapping[str, str], ...] = ({},)
    #: The whole-market variant of ``api`` and the points it needs.
    vip_api: str | None = None
    vip_points: int = 5000
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
        names = {f.name for f in api_fields(self.api)}
        for col in (*self.key, *self.nullable_key, *([self.date_column] if self.date_column else [])):
            if col not in names:
                raise ValueError(f"dataset {self.name}: {col!r} is not a field of {self.api}")
        for rule in self.rules:
            for col in (rule.left, rule.right):
                if isinstance(col, str) and col not in names:
                    raise ValueError(f"dataset {self.name}: rule {rule} names unknown field {col!r}")
        if not set(self.nullable_key) <= set(self.key):
            raise ValueError(f"dataset {self.name}: nullable_key must be part of the key")
        if self.vip_api is not None and base_api(self.vip_api) != self.api:
            raise ValueError(f"dataset {self.name}: {self.vip_api} is not the vip variant of {self.api}")
        if self.split.kind != "snapshot" and self.date_column is None and self.split.kind != "codes":
            raise ValueError(f"dataset {self.name}: a {self.split.kind} split needs a date_column")

    @property
    def table_name(self) -> str:
        """The table: the API's name without ``_vip``."""
        return base_api(self.api)

    @property
    def field_names(self) -> list[str]:
        """Every output field of the API, in documented order (all requested explicitly)."""
        return [f.name for f in api_fields(self.api)]

    def api_for(self, points: int) -> str:
        """The API a token with ``points`` should call: the vip variant when allowed."""
        if self.vip_api is not None and points >= self.vip_points:
            return self.vip_api
        return self.api

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
            distribution_column="ts_code" if "ts_code" in names and self.split.kind != "snapshot" else None,
            reference_table=self.split.kind == "snapshot",
            description=self.description,
        )
