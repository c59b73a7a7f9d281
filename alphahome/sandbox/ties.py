"""The long-tail tables tied to the market's own models, assembled for ``Market``: macro series
(:mod:`macro_series`), fund and convertible bond bars (:mod:`tied_bars`), concept-board memberships
(:mod:`board_members`) and board bars (:mod:`board_bars`).

A tied table keeps the generic generator's layout and value types (:func:`generic.generate` over the cells
the tie implies) and takes the tied columns from its model, so every field Tushare serves is still there.
"""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from alphahome.sandbox.board_bars import board_bars
from alphahome.sandbox.board_members import board_intervals, members_on
from alphahome.sandbox.generic import Entities, generate, window
from alphahome.sandbox.industry_membership import member_frame
from alphahome.sandbox.macro_series import MACRO_BUILDERS, macro_frame
from alphahome.sandbox.queries import Filter
from alphahome.sandbox.tied_bars import BAR_COLUMNS, cb_bars, cb_terms, fund_bars
from alphahome.sources.tushare.interfaces import INTERFACES

if TYPE_CHECKING:
    from alphahome.sandbox.market import Market

#: Fund and convertible bond tables tied to the NAVs and to the underlying stock.
FUND_TIED = ("fund_daily", "fund_adj", "fund_factor_pro")
CB_TIED = ("cb_basic", "cb_daily", "cb_factor_pro")
#: Board families and their member tables (``ths_index`` counts the THS members).
BOARD_FAMILIES = {"ths": "ths_member", "dc": "dc_member", "kpl": "kpl_concept_cons"}
#: Bar and statistics tables derived from a family's members (``sw``/``ci``: Shenwan and CITIC industries).
BOARD_BARS = {"ths_daily": "ths", "dc_daily": "dc", "dc_index": "dc", "kpl_concept": "kpl", "sw_daily": "sw",
              "ci_daily": "ci"}  # fmt: skip
#: Every table built here.
TIED_TABLES = frozenset((*MACRO_BUILDERS, *FUND_TIED, *CB_TIED, *BOARD_FAMILIES.values(), "ths_index", *BOARD_BARS))


class TiedTables:
    """Builds the tied tables of one market (shared pieces built once)."""

    def __init__(self, market: Market) -> None:
        self.market = market
        self._board_bar_cache: dict[str, pd.DataFrame] = {}

    def frame(self, name: str, entities: Entities) -> pd.DataFrame:
        """Every row of tied table ``name`` laid out over ``entities``, all its fields."""
        if name in MACRO_BUILDERS:
            return macro_frame(INTERFACES[name], self.market._generic_context)
        if name in FUND_TIED or name in CB_TIED:
            return self._tied(name, entities)
        if name in BOARD_BARS:
            return self._board_bars(name, entities)
        return self._board_members(name, entities)

    def _overlay(self, name: str, entities: Entities, rows: pd.DataFrame, columns: tuple[str, ...]) -> pd.DataFrame:
        """``name``'s generated table on the cells of ``rows`` (its entity column and date column), with
        ``columns`` taken from ``rows``; rows outside the API's history window are left out."""
        facts = INTERFACES[name]
        date_col = facts.date_column
        if date_col is not None:
            rows = rows[rows[date_col].isin(set(window(self.market._generic_context, facts, self.market._generic_context.days)))]
        rows = rows.reset_index(drop=True)
        position = {c: i for i, c in enumerate(entities.codes)}
        grid = pd.DataFrame(
            {
                "_e": rows[entities.column].map(position).to_numpy(dtype=np.int64),
                "_d": rows[date_col].to_numpy(dtype=object) if date_col else [None] * len(rows),
            }
        )
        frame = generate(facts, self.market._generic_context, entities, grid)
        if len(frame) != len(rows):
            raise AssertionError(f"{name}: the overlay's cells are not unique")
        for column in columns:
            if column in frame.columns and column in rows.columns:
                frame[column] = rows[column].to_numpy()
        return frame

    @cached_property
    def _cb_terms(self) -> pd.DataFrame:
        cbonds = self.market._generic_context.entities["cbonds"]
        stocks = tuple(str(c) for c in (cbonds.value("stk_code") or ()))
        return cb_terms(self.market.seed, cbonds.codes, stocks, self._stock_closes(stocks), self.market.day_text)

    @cached_property
    def _cb_bars(self) -> pd.DataFrame:
        terms = self._cb_terms
        return cb_bars(self.market.seed, terms, self._stock_closes(tuple(terms["stk_code"])))

    @cached_property
    def _fund_bars(self) -> pd.DataFrame:
        funds = self.market._generic_context.entities["funds"]
        basic = self.market._funds[0].set_index("ts_code")["list_date"]
        listing = {c: basic.get(c) for c in funds.codes}
        bars = fund_bars(self.market.seed, self.market.table("fund_nav").select([]), listing, self.market.day_text)
        return bars.rename(columns={"_adj": "adj_factor"})

    def _stock_closes(self, codes: tuple[str, ...]) -> pd.DataFrame:
        conds = [(Filter("ts_code", "ts_code", "in"), ",".join(codes))]
        return self.market.table("daily").select(conds)[["ts_code", "trade_date", "close"]]

    def _tied(self, name: str, entities: Entities) -> pd.DataFrame:
        """Fund bars tied to the NAVs, convertible bonds tied to their stock (``tied_bars``)."""
        if name in FUND_TIED:
            return self._overlay(name, entities, self._fund_bars, (*BAR_COLUMNS, "adj_factor"))
        terms = self._cb_terms
        if name == "cb_basic":
            frame = generate(INTERFACES[name], self.market._generic_context, entities)
            for column in terms.columns:
                frame[column] = terms[column].to_numpy()
            frame["par"] = 100.0
            frame["issue_price"] = 100.0
            frame["maturity"] = 6.0
            frame["pay_per_year"] = 1.0
            return frame
        return self._overlay(name, entities, self._cb_bars, (*BAR_COLUMNS, "bond_value", "bond_over_rate", "cb_value",
                                                    "cb_over_rate"))  # fmt: skip

    @cached_property
    def _boards(self) -> dict[str, pd.DataFrame]:
        """Membership intervals of the THS, DC and KPL boards (``board_members``)."""
        basic = self.market.stock_basic_frame
        listed = basic[basic["list_status"] == "L"]
        codes, names = listed["ts_code"].to_numpy(dtype=object), listed["name"].to_numpy(dtype=object)
        list_dates = listed["list_date"].to_numpy(dtype=object)
        sets = self.market._generic_context.entities
        return {
            family: board_intervals(self.market.seed, family, sets[family].codes, codes, names, list_dates, self.market.day_text)
            for family in BOARD_FAMILIES
        }

    def _board_members(self, name: str, entities: Entities) -> pd.DataFrame:
        if name in ("ths_index", "ths_member"):
            intervals = self._boards["ths"]
            if name == "ths_index":
                frame = generate(INTERFACES[name], self.market._generic_context, entities)
                current = intervals[intervals["is_new"] == "Y"].groupby("ts_code").size()
                setup = intervals.groupby("ts_code")["setup"].first()
                frame["count"] = frame["ts_code"].map(current).fillna(0).astype(np.int64)
                frame["list_date"] = frame["ts_code"].map(setup).to_numpy(dtype=object)
                return frame
            size = intervals["ts_code"].map(intervals[intervals["is_new"] == "Y"].groupby("ts_code").size())
            weight = np.where(intervals["is_new"] == "Y", np.round(100.0 / size, 4), np.nan)
            return intervals.assign(weight=weight)[["ts_code", "con_code", "con_name", "weight", "in_date",
                                                    "out_date", "is_new"]]  # fmt: skip
        family = "dc" if name == "dc_member" else "kpl"
        facts = INTERFACES[name]
        dates = window(self.market._generic_context, facts, self.market._generic_context.days)
        rows = members_on(self._boards[family], dates)
        if name == "dc_member":
            return rows.rename(columns={"con_name": "name"})[["trade_date", "ts_code", "con_code", "name"]]
        names = dict(zip(entities.codes, entities.names, strict=True))
        return rows.assign(name=rows["ts_code"].map(names))[["ts_code", "name", "con_name", "con_code", "trade_date"]]

    def _board_bars(self, name: str, entities: Entities) -> pd.DataFrame:
        """Bars (or daily board statistics) from the members' daily bars (``board_bars``)."""
        bars = self._family_bars(BOARD_BARS[name], entities)
        if name == "kpl_concept":
            bars = bars.rename(columns={"limit_num": "z_t_num"})
        columns = ("open", "high", "low", "close", "pre_close", "change", "pct_change", "vol", "amount", "float_mv",
                   "total_mv", "turnover_rate", "avg_price", "swing", "up_num", "down_num", "z_t_num", "leading",
                   "leading_code", "leading_pct", "pe", "pb")  # fmt: skip
        return self._overlay(name, entities, bars, columns)

    def _family_bars(self, family: str, entities: Entities) -> pd.DataFrame:
        """A board family's bars over the whole range, built once (``dc_daily`` and ``dc_index`` share)."""
        cached = self._board_bar_cache.get(family)
        if cached is not None:
            return cached
        if family == "sw":
            members = member_frame(self.market._membership[0]).rename(columns={"index_code": "board"})
        elif family == "ci":
            members = self.market.table("ci_index_member").select([]).rename(columns={"l1_code": "board", "ts_code": "con_code"})
        else:
            members = self._boards[family].rename(columns={"ts_code": "board"})
        bars = board_bars(self.market.seed, family, entities.codes, members, self.market.prices, self.market._aggregates, self.market.day_text,
                          self.market.day_text, leaders=family == "dc")  # fmt: skip
        bars[entities.column] = np.array(entities.codes, dtype=object)[bars["_e"].to_numpy(dtype=np.int64)]
        self._board_bar_cache[family] = bars
        return bars
