"""The rows of income, balancesheet and cashflow: every published version of every report.

report_type '1' rows are the year-to-date figures of each version. report_type '2' rows (income and
cash flow only; a balance sheet has no single quarter) are computed the way a reader computes them at the
version's publication: this version's year-to-date figures minus those of the previous quarter's latest
version known on the same day (Q1: the year-to-date figures themselves). A period whose previous quarter
is not known at that day gets no report_type '2' row. Cash balances in the cash-flow statement are not
differenced: a single quarter starts with the previous quarter's closing cash.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from alphahome.sandbox.apidef import FieldDef
from alphahome.sandbox.catalog import served_fields
from alphahome.sandbox.disclosures import (
    DUP_BALANCE,
    DUP_CASHFLOW,
    DUP_INCOME,
    NULL_DAY,
    Schedule,
    Versions,
    day_strings,
)
from alphahome.sandbox.statements import CASH_BALANCE_COLUMNS, NON_CENT_COLUMNS, CompanyModel

_PER_SHARE = frozenset({"basic_eps", "diluted_eps"})
#: Items a restated version keeps as they were: the share count and the cash at the year's start.
_UNRESTATED = frozenset({"total_share", "c_cash_equ_beg_period", "beg_bal_cash", "beg_bal_cash_equ"})
#: Closing cash items and the opening cash they continue from.
_CLOSING_CASH = {"c_cash_equ_end_period": "c_cash_equ_beg_period", "end_bal_cash": "beg_bal_cash"}


class VersionFigures:
    """Each version's year-to-date figures for one statement, one column at a time, in the model's units
    (cents, except per-share values and share counts): the true figures times the version's factor (a
    restated original carried wrong figures), rounded like the originals. None for undisclosed items."""

    def __init__(self, model_items: dict[str, np.ndarray], columns: tuple[str, ...], versions: Versions,
                 n_quarters: int) -> None:
        self.columns = columns
        self._items = model_items
        self._flat = versions.stock * n_quarters + versions.period
        self._restated = np.flatnonzero(versions.factor != 1.0)
        self._factor = versions.factor[self._restated]

    def column(self, name: str) -> np.ndarray | None:
        item = self._items.get(name)
        if item is None:
            return None
        col = item.ravel()[self._flat]
        r = self._restated
        if not len(r) or name in _UNRESTATED:
            return col
        if name in _CLOSING_CASH:
            # A restatement does not move the opening cash: the closing cash follows the restated change.
            change = self.column("n_incr_cash_cash_equ")
            opening = self._items[_CLOSING_CASH[name]].ravel()[self._flat]
            assert change is not None
            col[r] = np.where(np.isnan(col[r]), np.nan, opening[r] + change[r])
            return col
        scaled = col[r] * self._factor
        col[r] = np.round(scaled, 4) if name in _PER_SHARE else np.rint(scaled)
        return col


def to_cny(name: str) -> float:
    """Multiplier from the model's unit of an item to the API's (cents to CNY)."""
    return 1.0 if name in NON_CENT_COLUMNS else 0.01


def previous_known(versions: Versions, n_quarters: int) -> np.ndarray:
    """For each version, the row of the previous quarter's latest version published on or before it
    (-1 for Q1 versions and where none is known yet)."""
    n = len(versions)
    key = versions.stock * n_quarters + versions.period
    left = pd.DataFrame({"key": key - 1, "day": versions.f_ann, "row": np.arange(n)})
    right = pd.DataFrame({"key": key, "day": versions.f_ann, "prev": np.arange(n)})
    matched = pd.merge_asof(left.sort_values("day", kind="stable"), right.sort_values("day", kind="stable"),
                            on="day", by="key", direction="backward", allow_exact_matches=True)
    prev = np.full(n, -1, dtype=np.int64)
    ok = matched["prev"].notna().to_numpy()
    prev[matched["row"].to_numpy()[ok]] = matched["prev"].to_numpy()[ok].astype(np.int64)
    prev[versions.period % 4 == 0] = -1
    return prev


def statement_tables(model: CompanyModel, schedule: Schedule
                     ) -> tuple[dict[str, pd.DataFrame], dict[str, VersionFigures]]:
    """income, balancesheet and cashflow as the API serves them (all columns, documented order), and
    each statement's version figures (for the indicators)."""
    v = schedule.versions
    t = schedule.grid.n_quarters
    prev = previous_known(v, t)
    out: dict[str, pd.DataFrame] = {}
    figures: dict[str, VersionFigures] = {}
    for name, items, dup_bit, has_single in (
        ("income", model.income, DUP_INCOME, True),
        ("balancesheet", model.balance, DUP_BALANCE, False),
        ("cashflow", model.cashflow, DUP_CASHFLOW, True),
    ):
        fields = served_fields(name)
        figures[name] = VersionFigures(items, float_names(fields), v, t)
        out[name] = _assemble(figures[name], prev if has_single else None, v, schedule, fields, dup_bit)
    return out, figures


def _assemble(figures: VersionFigures, prev: np.ndarray | None, v: Versions, schedule: Schedule,
              fields: tuple[FieldDef, ...], dup_bit: int) -> pd.DataFrame:
    """The table's rows: per version a report_type '1' row and, where ``prev`` allows, a '2' row; plus
    exact duplicates (as the real service sometimes sends). Built column by column straight into the
    output block: at 5,000 companies the tables are large and mostly written once."""
    n = len(v)
    version = np.arange(n)
    single = np.zeros(n, dtype=bool)
    if prev is not None:
        sq_versions = np.flatnonzero((v.period % 4 == 0) | (prev >= 0))
        version = np.concatenate([version, sq_versions])
        single = np.concatenate([single, np.ones(len(sq_versions), dtype=bool)])
    dup = np.flatnonzero((v.duplicate[version] & dup_bit) != 0)
    version, single = np.concatenate([version, version[dup]]), np.concatenate([single, single[dup]])
    order = np.lexsort((single, v.f_ann[version], v.period[version], v.stock[version]))
    version, single = version[order], single[order]
    # Single-quarter rows after Q1 subtract the previous quarter's version known at the time.
    diff_rows = np.flatnonzero(single & (v.period[version] % 4 != 0))
    diff_cur = version[diff_rows]
    diff_prev = prev[diff_cur] if prev is not None else diff_cur
    q1_single_rows = np.flatnonzero(single & (v.period[version] % 4 == 0))

    floats = float_names(fields)
    block = np.empty((len(version), len(floats)), order="F")
    for k, name in enumerate(floats):
        out = block[:, k]
        ytd = figures.column(name)
        if ytd is None:
            out.fill(np.nan)
            continue
        np.take(ytd, version, out=out)
        if len(diff_rows):
            if name == "c_cash_equ_beg_period":
                end = figures.column("c_cash_equ_end_period")
                assert end is not None
                out[diff_rows] = end[diff_prev]
            elif name in CASH_BALANCE_COLUMNS and name != "c_cash_equ_end_period":
                out[diff_rows] = np.nan
            elif name not in CASH_BALANCE_COLUMNS:
                delta = ytd[diff_cur] - ytd[diff_prev]
                out[diff_rows] = np.round(delta, 4) if name in _PER_SHARE else delta
        if name in CASH_BALANCE_COLUMNS and name not in ("c_cash_equ_beg_period", "c_cash_equ_end_period"):
            out[q1_single_rows] = ytd[version[q1_single_rows]]
        scale = to_cny(name)
        if scale != 1.0:
            out *= scale

    codes = np.array(schedule.codes, dtype=object)
    comp = np.array(schedule.comp_types, dtype=object)
    end_strings = np.array([d.strftime("%Y%m%d") for d in schedule.grid.end_dates()], dtype=object)
    strings = {
        "ts_code": codes[v.stock[version]],
        "ann_date": day_strings(np.where(v.null_ann[version], NULL_DAY, v.ann[version])),
        "f_ann_date": day_strings(np.where(v.null_f_ann[version], NULL_DAY, v.f_ann[version])),
        "end_date": end_strings[v.period[version]],
        "report_type": np.where(single, "2", "1").astype(object),
        "comp_type": comp[v.stock[version]],
        "end_type": np.array(["1", "2", "3", "4"], dtype=object)[v.period[version] % 4],
        "update_flag": v.update_flag[version],
    }
    return frame(fields, strings, floats, block)


def float_names(fields: tuple[FieldDef, ...]) -> tuple[str, ...]:
    """The float columns of ``fields``, in order (a statement's items, an indicator table's ratios)."""
    return tuple(f.name for f in fields if f.type == "f")


def frame(fields: tuple[FieldDef, ...], strings: dict[str, np.ndarray], float_columns: tuple[str, ...],
          floats: np.ndarray, ints: dict[str, np.ndarray] | None = None) -> pd.DataFrame:
    """A DataFrame with exactly ``fields`` in order, built without copying the float block: strings as
    object (None for NULL), floats as float64 (NaN for NULL), ints as int64. ``floats`` is a
    Fortran-ordered (rows, len(float_columns)) matrix; float fields it lacks are all NULL."""
    n_rows = floats.shape[0]
    wanted = [f.name for f in fields if f.type == "f"]
    if list(float_columns) != wanted:
        index = {name: k for k, name in enumerate(float_columns)}
        block = np.full((n_rows, len(wanted)), np.nan, order="F")
        for k, name in enumerate(wanted):
            if name in index:
                block[:, k] = floats[:, index[name]]
        floats = block
    out = pd.DataFrame(floats, columns=wanted, copy=False)
    for pos, f in enumerate(fields):
        if f.type == "s":
            col = strings.get(f.name)
            out.insert(pos, f.name, pd.Series(np.full(n_rows, None, dtype=object) if col is None else col,
                                              dtype=object))
        elif f.type == "i":
            out.insert(pos, f.name, pd.Series((ints or {})[f.name], dtype=np.int64))
    return out
