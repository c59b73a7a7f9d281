"""Declarative request filters and the two kinds of table they run on.

An API's filters are data: ``Filter(param, column, op, default)``. A request's params are matched to
them and applied either to a :class:`FrameTable` (a materialised DataFrame, with position indexes on
key columns so per-stock queries stay fast at any scale) or to a :class:`PanelTable` (stock x day
cells generated on demand), which turns ``ts_code``/``trade_date`` conditions into slices.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd

from alphahome.sandbox.apidef import FieldDef

#: eq: column == value; in: column in a comma list; ge/le: inclusive bounds (dates 'YYYYMMDD' compare as
#: text); symbol: the code part of a ts_code (before the dot) in a comma list.
FilterOp = Literal["eq", "in", "ge", "le", "symbol"]


@dataclass(frozen=True)
class Filter:
    """How one request parameter restricts rows."""

    param: str
    column: str
    op: FilterOp = "eq"
    #: Applied when the request omits the param (e.g. list_status 'L'); None = no restriction.
    default: str | None = None


Condition = tuple[Filter, str]


def conditions(filters: Sequence[Filter], params: Mapping[str, str]) -> list[Condition]:
    """The (filter, value) pairs a request activates, defaults included."""
    out: list[Condition] = []
    for f in filters:
        value = params.get(f.param, f.default)
        if value is not None and value != "":
            out.append((f, str(value).strip()))
    return out


def _values(f: Filter, value: str) -> list[str]:
    if f.op in ("in", "symbol"):
        return [v.strip() for v in value.split(",") if v.strip()]
    return [value]


def _typed(column: pd.Series, value: str) -> object | None:
    """The request's text value as the column's type; None when it cannot be one (matches nothing)."""
    kind = column.dtype.kind
    try:
        if kind in "iu":
            return int(value)
        if kind == "f":
            return float(value)
    except ValueError:
        return None
    return value


def mask(frame: pd.DataFrame, cond: Condition) -> np.ndarray:
    """Rows of ``frame`` that satisfy one condition."""
    f, value = cond
    column = frame[f.column]
    if f.op == "symbol":
        codes = column.astype(object).map(lambda c: None if c is None else str(c).split(".")[0])
        return codes.isin(_values(f, value)).to_numpy()
    if f.op == "in":
        wanted = [_typed(column, v) for v in _values(f, value)]
        return column.isin([w for w in wanted if w is not None]).to_numpy()
    typed = _typed(column, value)
    if typed is None:
        return np.zeros(len(frame), dtype=bool)
    if f.op == "eq":
        return (column == typed).to_numpy(dtype=bool, na_value=False)
    if f.op == "ge":
        return (column >= typed).to_numpy(dtype=bool, na_value=False)
    return (column <= typed).to_numpy(dtype=bool, na_value=False)


def typed_frame(frame: pd.DataFrame, fields: Sequence[FieldDef]) -> pd.DataFrame:
    """Coerce the field columns to Tushare's value types: text -> object with None for missing,
    float -> float64 (NaN), int -> int64 (object with None when some are missing). Columns already of
    the right type are shared, not copied; other columns (internal filter keys) are kept as they are."""
    out = frame.copy(deep=False)
    for fd in fields:
        if fd.name not in out.columns:
            raise KeyError(f"column {fd.name!r} missing from the generated table")
        col = out[fd.name]
        if fd.type == "s":
            values = col.to_numpy(dtype=object)
            missing = pd.isna(values)
            if col.dtype == object and not any(v is not None for v in values[missing]):
                continue
            out[fd.name] = pd.Series(np.where(missing, None, values), index=out.index, dtype=object)  # type: ignore[call-overload, arg-type]
        elif fd.type == "f":
            if col.dtype != np.float64:
                out[fd.name] = pd.to_numeric(col, errors="coerce").astype(np.float64)
        elif col.dtype != np.int64:
            numeric = pd.to_numeric(col, errors="coerce")
            if numeric.isna().any():
                ints = [None if pd.isna(v) else int(v) for v in numeric]
                out[fd.name] = pd.Series(ints, index=out.index, dtype=object)
            else:
                out[fd.name] = numeric.astype(np.int64)
    return out


@dataclass
class FrameTable:
    """A materialised table. ``indexed`` text columns get lazy indexes: value -> row positions for
    equality and comma lists, and a sorted order for inclusive ranges, so a per-stock, per-period or
    per-window request touches only its rows whatever the table's size."""

    frame: pd.DataFrame
    indexed: tuple[str, ...] = ("ts_code",)
    _positions: dict[str, dict[object, np.ndarray]] = field(default_factory=dict, repr=False)
    _sorted: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict, repr=False)

    def _index(self, column: str) -> dict[object, np.ndarray]:
        if column not in self._positions:
            groups = self.frame.groupby(column, sort=False, dropna=True).indices
            self._positions[column] = {k: np.asarray(v) for k, v in groups.items()}
        return self._positions[column]

    def _order(self, column: str) -> tuple[np.ndarray, np.ndarray]:
        if column not in self._sorted:
            values = self.frame[column].to_numpy(dtype=object)
            present = np.flatnonzero(~pd.isna(values))
            keys = values[present].astype(str)
            order = np.argsort(keys, kind="stable")
            self._sorted[column] = (keys[order], present[order])
        return self._sorted[column]

    def _usable(self, f: Filter) -> bool:
        return (
            f.column in self.indexed
            and f.op in ("eq", "in", "ge", "le")
            and self.frame[f.column].dtype == object
        )

    def select(self, conds: Sequence[Condition]) -> pd.DataFrame:
        """Rows matching every condition (all rows when there are none)."""
        picked: list[np.ndarray] = []
        ranges: dict[str, list[str | None]] = {}
        rest: list[Condition] = []
        for cond in conds:
            f, value = cond
            if not self._usable(f):
                rest.append(cond)
            elif f.op in ("eq", "in"):
                index = self._index(f.column)
                hits = [index[v] for v in _values(f, value) if v in index]
                picked.append(np.concatenate(hits) if hits else np.zeros(0, dtype=np.int64))
            else:
                bounds = ranges.setdefault(f.column, [None, None])
                slot = 0 if f.op == "ge" else 1
                bounds[slot] = (
                    value if bounds[slot] is None else (max if slot == 0 else min)(bounds[slot], value)  # type: ignore[type-var]
                )
        for column, (lo, hi) in ranges.items():
            keys, positions = self._order(column)
            start = 0 if lo is None else int(np.searchsorted(keys, lo, side="left"))
            stop = len(keys) if hi is None else int(np.searchsorted(keys, hi, side="right"))
            picked.append(positions[start:stop])
        rows = self.frame
        if picked:
            picked.sort(key=len)
            chosen = np.unique(picked[0])
            for other in picked[1:]:
                chosen = chosen[np.isin(chosen, other)]
            rows = self.frame.iloc[chosen]
        for cond in rest:
            if rows.empty:
                break
            rows = rows[mask(rows, cond)]
        return rows


#: Computes a panel table's value columns for the cells (days, stocks).
CellFields = Callable[[np.ndarray, np.ndarray], Mapping[str, np.ndarray]]
#: Lists the cells within [day_lo, day_hi] for the given stocks (None = all).
CellLister = Callable[[np.ndarray | None, int, int], tuple[np.ndarray, np.ndarray]]


@dataclass(frozen=True)
class PanelTable:
    """A stock x day table generated on demand for exactly the requested cells."""

    codes: np.ndarray  # ts_code per stock position
    day_text: np.ndarray  # 'YYYYMMDD' per day position
    list_cells: CellLister
    compute: CellFields
    _code_pos: dict[str, int] = field(default_factory=dict, repr=False)
    _day_keys: list[np.ndarray] = field(default_factory=list, repr=False)

    def __post_init__(self) -> None:
        self._code_pos.update({c: i for i, c in enumerate(self.codes)})
        self._day_keys.append(self.day_text.astype(str))

    def _day_bound(self, value: str, side: Literal["left", "right"]) -> int:
        return int(np.searchsorted(self._day_keys[0], value, side=side))

    def select(self, conds: Sequence[Condition]) -> pd.DataFrame:
        """Rows matching every condition; ts_code and trade_date conditions become slices."""
        stocks: np.ndarray | None = None
        lo, hi = 0, len(self.day_text) - 1
        rest: list[Condition] = []
        for cond in conds:
            f, value = cond
            if f.column == "ts_code" and f.op in ("eq", "in"):
                picked = [self._code_pos[v] for v in _values(f, value) if v in self._code_pos]
                chosen = np.unique(np.asarray(picked, dtype=np.int64))
                stocks = chosen if stocks is None else np.intersect1d(stocks, chosen)
            elif f.column == "trade_date" and f.op in ("eq", "ge", "le"):
                if f.op in ("eq", "ge"):
                    lo = max(lo, self._day_bound(value, "left"))
                if f.op in ("eq", "le"):
                    hi = min(hi, self._day_bound(value, "right") - 1)
                if f.op == "eq" and (lo > hi or self.day_text[lo] != value):
                    hi = lo - 1
            else:
                rest.append(cond)
        d, s = self.list_cells(stocks, lo, hi)
        data: dict[str, object] = {
            "ts_code": pd.Series(self.codes[s], dtype=object),
            "trade_date": pd.Series(self.day_text[d], dtype=object),
        }
        data.update(self.compute(d, s))
        rows = pd.DataFrame(data)
        for cond in rest:
            rows = rows[mask(rows, cond)]
        return rows
