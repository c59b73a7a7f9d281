"""The deterministic synthetic market behind the sandbox.

``Market(seed, scale, end_date)`` is a pure function of its arguments: the same arguments give the same
tables in any process. Construction only fixes the calendar and the catalogue; every table is generated
on first use (the price panels in one vectorised pass), so even the large scale starts in seconds.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cached_property
from typing import Literal

import numpy as np
import pandas as pd

from alphahome.sandbox.apidef import ApiDef
from alphahome.sandbox.catalog import FINANCIAL_APIS, build_catalog, dataset_of
from alphahome.sandbox.dividends import DividendPlans, dividend_frame, plan_dividends
from alphahome.sandbox.earnings import build_earnings
from alphahome.sandbox.entities import build_entity_sets, ci_members, entity_set_of
from alphahome.sandbox.financials import generate_financials
from alphahome.sandbox.funds import build_funds
from alphahome.sandbox.generic import ENTITIES, Context, Entities, generate, window
from alphahome.sandbox.hk_calendar import hk_calendar
from alphahome.sandbox.indices import (
    Aggregates,
    Constituents,
    aggregates,
    build_constituents,
    build_index_daily,
    index_basic_frame,
)
from alphahome.sandbox.industry_membership import build_member_all, member_frame
from alphahome.sandbox.period_bars import period_bars
from alphahome.sandbox.prices import PricePanel, build_prices, draw_stock_params
from alphahome.sandbox.queries import Filter, FrameTable, PanelTable, typed_frame
from alphahome.sandbox.sw2021 import INDUSTRIES, classify_frame
from alphahome.sandbox.ties import TIED_TABLES, TiedTables
from alphahome.sandbox.trading_calendar import TradingCalendar, last_trading_day_on_or_before, yyyymmdd
from alphahome.sandbox.universe import Universe, build_universe
from alphahome.sources.tushare.interfaces import INTERFACES

Scale = Literal["small", "demo", "large"]


@dataclass(frozen=True)
class ScaleSpec:
    """Size of a scale: stocks, years of market data, funds."""

    stocks: int
    years: int
    funds: int


SCALES: dict[str, ScaleSpec] = {
    "small": ScaleSpec(stocks=24, years=2, funds=6),
    "demo": ScaleSpec(stocks=300, years=3, funds=24),
    "large": ScaleSpec(stocks=5000, years=10, funds=200),
}
#: The internal calendar starts here (listing dates of old stocks lie in it); trade_cal serves a window.
HISTORY_START = date(2000, 1, 1)
Table = FrameTable | PanelTable
#: Long-tail per-stock panels whose prices, valuations and factors are the market's own.
FOLLOW_DAILY = ("stk_factor_pro", "cyq_perf", "margin_detail")


def _years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


class Market:
    """A deterministic synthetic A-share market.

    Attributes: ``seed``, ``scale``, ``start_date`` / ``end_date`` (first and last open day with market
    data), ``apis`` (every served API by name), ``universe`` (ts_code, name, exchange, market, list_date,
    delist_date, list_status, comp_type). ``table(name)`` is what the catalogue's queries run on and
    ``truth(dataset)`` is what a perfect sync of that dataset would store.
    """

    def __init__(self, seed: int = 42, scale: Scale = "small", end_date: date | None = None) -> None:
        if scale not in SCALES:
            raise ValueError(f"unknown scale {scale!r}: expected one of {', '.join(SCALES)}")
        if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
            raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
        spec = SCALES[scale]
        end = end_date or date.today()
        first_ok = date(HISTORY_START.year + spec.years + 2, 1, 1)
        if not first_ok <= end <= date(2043, 12, 31):
            raise ValueError(
                f"end_date {end.isoformat()} is outside the sandbox calendar "
                f"({first_ok.isoformat()} to 2043-12-31 for scale {scale!r})"
            )
        self.seed = seed
        self.scale: Scale = scale
        self.spec = spec
        self.end_date = last_trading_day_on_or_before(end)
        # Published ahead: to the end of the year, or of the next one from October on.
        calendar_end = date((self.end_date + timedelta(days=92)).year, 12, 31)
        self.history = TradingCalendar.build(HISTORY_START, calendar_end)
        open_all = self.history.open_days()
        first = np.datetime64(_years_before(self.end_date, spec.years), "D")
        self.days: np.ndarray = open_all[
            (open_all >= first) & (open_all <= np.datetime64(self.end_date, "D"))
        ]
        self.start_date: date = self.days[0].astype(object)
        self.calendar_start = date(self.start_date.year - 1, 1, 1)
        self.open_days = open_all
        self.day_text = yyyymmdd(self.days)
        self.apis: Mapping[str, ApiDef] = build_catalog()
        self._tables: dict[str, Table] = {}
        self._build_lock = threading.RLock()  # one build per table even when threads query at once

    def __repr__(self) -> str:
        return (
            f"Market(seed={self.seed}, scale={self.scale!r}, {self.start_date.isoformat()}.."
            f"{self.end_date.isoformat()})"
        )

    # ----- the model, built on first use -------------------------------------------------------------------
    @cached_property
    def model(self) -> Universe:
        """The universe with its per-stock arrays."""
        return build_universe(self.seed, self.spec.stocks, self.days, self.open_days, self.end_date)

    @cached_property
    def _membership(self) -> tuple[pd.DataFrame, np.ndarray]:
        return build_member_all(self.seed, self.model, self.days)

    @cached_property
    def stock_basic_frame(self) -> pd.DataFrame:
        """Every stock_basic field (all statuses), with the current industry label, plus comp_type."""
        frame = self.model.stock_basic.copy()
        current = self._membership[1]
        listed = frame["list_status"] != "G"
        frame.loc[listed, "industry"] = [INDUSTRIES[i].label for i in current[listed.to_numpy()]]
        return frame

    @cached_property
    def universe(self) -> pd.DataFrame:
        """ts_code, name, exchange, market, list_date, delist_date, list_status, comp_type of every stock."""
        return self.model.contract_frame

    @cached_property
    def prices(self) -> PricePanel:
        """The price panels (generated in one pass on first use)."""
        u = self.model
        params = draw_stock_params(self.seed, u)
        loss = (self.model.stock_basic["name"].str.contains("ST").to_numpy()) | (
            np.random.default_rng([self.seed, 10]).random(len(u)) < 0.08
        )
        earnings = build_earnings(self.seed, params.market_cap, loss, self.days, self.start_date.year)
        plans = plan_dividends(
            self.seed, u, earnings, params.shares0, self.days, self.open_days, self.end_date
        )
        return build_prices(self.seed, u, params, earnings, plans, self.days)

    @property
    def dividend_plans(self) -> DividendPlans:
        """The dividend plans the prices were built with."""
        return self.prices.plans

    @cached_property
    def _constituents(self) -> Constituents:
        return build_constituents(self.prices, self.days)

    @cached_property
    def _aggregates(self) -> Aggregates:
        return aggregates(self.prices)

    @cached_property
    def _tied(self) -> TiedTables:
        return TiedTables(self)

    @cached_property
    def _funds(self) -> tuple[pd.DataFrame, pd.DataFrame]:
        return build_funds(self.seed, self.spec.funds, self.days, self.open_days, self.prices.market_factor)

    @cached_property
    def _financials(self) -> dict[str, pd.DataFrame]:
        trade_dates = [
            d.astype(object) for d in self.open_days[self.open_days <= np.datetime64(self.end_date)]
        ]
        return generate_financials(self.universe, trade_dates, self.start_date, self.end_date, self.seed)

    # ----- tables ----------------------------------------------------------------------------------------
    def table(self, name: str) -> Table:
        """The table the catalogue's queries for dataset ``name`` run on (built on first use)."""
        table = self._tables.get(name)
        if table is not None:
            return table
        with self._build_lock:
            if name not in self._tables:
                builder = self._builders().get(name)
                if builder is None:
                    raise KeyError(f"the sandbox market has no table {name!r}")
                self._tables[name] = builder()
            return self._tables[name]

    def _frame(self, name: str, frame: pd.DataFrame, indexed: tuple[str, ...] = ("ts_code",)) -> FrameTable:
        api = self.apis[name]
        return FrameTable(typed_frame(frame.reset_index(drop=True), api.fields), indexed=indexed)

    def _panel(self, compute_name: str, with_suspended: bool) -> PanelTable:
        panel = self.prices
        compute: Callable[[np.ndarray, np.ndarray], Mapping[str, np.ndarray]] = getattr(panel, compute_name)
        return PanelTable(
            codes=panel.universe.codes,
            day_text=self.day_text,
            list_cells=lambda stocks, lo, hi: panel.cells(stocks, lo, hi, with_suspended),
            compute=compute,
        )

    def _builders(self) -> dict[str, Callable[[], Table]]:
        builders: dict[str, Callable[[], Table]] = {
            "stock_basic": lambda: self._frame("stock_basic", self.stock_basic_frame),
            "trade_cal": lambda: self._frame(
                "trade_cal", self._trade_cal(), indexed=("exchange", "cal_date")
            ),
            "daily": lambda: self._panel("daily", with_suspended=False),
            "adj_factor": lambda: self._panel("adj", with_suspended=True),
            "daily_basic": lambda: self._panel("daily_basic", with_suspended=False),
            "moneyflow": lambda: self._panel("moneyflow", with_suspended=False),
            "stk_limit": lambda: self._panel("stk_limit", with_suspended=False),
            "suspend_d": lambda: self._frame(
                "suspend_d", self._suspend_d(), indexed=("ts_code", "trade_date")
            ),
            "dividend": lambda: self._frame(
                "dividend",
                dividend_frame(
                    self.prices.plans, self.model, self.prices.total_share, self.days, self.end_date
                ),
            ),
            "index_basic": lambda: self._frame("index_basic", index_basic_frame()),
            "index_daily": lambda: self._frame(
                "index_daily",
                build_index_daily(self.seed, self.prices, self._constituents, self.days, self._aggregates),
                indexed=("ts_code", "trade_date"),
            ),
            "index_weight": lambda: self._frame(
                "index_weight", self._constituents.weights, indexed=("index_code", "trade_date")
            ),
            "index_classify": lambda: self._frame(
                "index_classify", classify_frame(), indexed=("index_code",)
            ),
            "index_member": lambda: self._frame(
                "index_member", member_frame(self._membership[0]), indexed=("con_code", "index_code")
            ),
            "index_member_all": lambda: self._frame("index_member_all", self._membership[0]),
            "fund_basic": lambda: self._frame("fund_basic", self._funds[0]),
            "fund_nav": lambda: self._frame(
                "fund_nav", self._funds[1], indexed=("ts_code", "nav_date")
            ),
            "stk_weekly_monthly": lambda: self._frame(
                "stk_weekly_monthly",
                period_bars(self.table("daily").select([])),
                indexed=("ts_code", "trade_date", "freq"),
            ),
            "hk_tradecal": lambda: self._frame(
                "hk_tradecal", hk_calendar(self._trade_cal().query("exchange == 'SSE'")), indexed=("cal_date",)
            ),
            "ci_index_member": lambda: self._frame(
                "ci_index_member", ci_members(self.seed, self.stock_basic_frame), indexed=("ts_code", "l3_code")
            ),
        }
        for name in FINANCIAL_APIS:
            builders[name] = lambda name=name: self._financial_table(name)  # type: ignore[misc]
        for name, facts in INTERFACES.items():
            if facts.base is None and name not in builders:
                builders[name] = lambda name=name: self._generic_table(name)  # type: ignore[misc]
        return builders

    @cached_property
    def _generic_context(self) -> Context:
        basic = self.stock_basic_frame
        listed = basic[basic["list_status"] == "L"]
        index_rows = index_basic_frame()
        computed = index_rows[index_rows["market"] != "SW"]
        classes = classify_frame()
        funds = self._funds[0]
        etfs = funds[funds["market"] == "E"]
        calendar = self.history.frame(("SSE",))["cal_date"].to_numpy(dtype=object)
        calendar = calendar[(calendar >= self.day_text[0]) & (calendar <= self.day_text[-1])]
        return Context(
            seed=self.seed,
            days=self.day_text.astype(object),
            calendar=calendar,
            stocks=Entities(tuple(listed["ts_code"]), tuple(listed["name"])),
            entities=build_entity_sets(
                listed["ts_code"].to_numpy(),
                listed["name"].to_numpy(),
                list(computed["ts_code"]),
                list(computed["name"]),
                classes,
                list(etfs["ts_code"]),
                list(etfs["name"]),
                ENTITIES[self.scale],
                str(self.day_text[-1]),
            ),
        )

    def _generic_table(self, name: str) -> FrameTable:
        facts = INTERFACES[name]
        ctx = self._generic_context
        entities = ctx.entities[entity_set_of(name, facts.family)]
        if name in FOLLOW_DAILY:
            frame = self._follow_daily(name, entities)
        elif name in TIED_TABLES:
            frame = self._tied.frame(name, entities)
        else:
            frame = generate(facts, ctx, entities)
        indexed = tuple(c for c in ("ts_code", facts.date_column) if c is not None and c in frame.columns)
        return self._frame(name, frame, indexed=indexed or (frame.columns[0],))

    def _financial_table(self, name: str) -> FrameTable:
        # Rows of one period sit together (consolidated, in period order), so that a whole-period vip
        # request copies a contiguous block instead of gathering rows from the whole table.
        # The generated frame is dropped once its sorted copy exists (the statements are large).
        frame = self._financials.pop(name).sort_values(["end_date", "ts_code"], kind="stable")
        return self._frame(name, frame, indexed=("ts_code", "end_date", "ann_date"))

    def _follow_daily(self, name: str, entities: Entities) -> pd.DataFrame:
        """A per-stock panel on the cells where the stock traded, its prices, valuations and factors
        taken from ``daily``, ``daily_basic`` and ``adj_factor`` (``*_hfq`` = price x factor); the rest of
        its columns generated."""
        codes = list(entities.codes)
        conds = [(Filter("ts_code", "ts_code", "in"), ",".join(codes))]
        cells = self.table("daily").select(conds)[["ts_code", "trade_date"]]
        # Nothing before the API's first date (cyq_perf starts in 2018), as the generic tables.
        days = window(self._generic_context, INTERFACES[name], np.unique(cells["trade_date"].to_numpy()))
        if len(days) < cells["trade_date"].nunique():
            cells = cells[cells["trade_date"].isin(days)].reset_index(drop=True)
        position = {c: i for i, c in enumerate(codes)}
        grid = pd.DataFrame({"_e": cells["ts_code"].map(position).to_numpy(), "_d": cells["trade_date"].to_numpy()})
        frame = generate(INTERFACES[name], self._generic_context, entities, grid)
        keys = ["ts_code", "trade_date"]
        known = frame[keys]
        for source in ("daily", "daily_basic", "adj_factor"):
            rows = self.table(source).select(conds)
            shared = [c for c in rows.columns if c in frame.columns and c not in keys]
            if shared:
                merged = known.merge(rows[keys + shared], on=keys, how="left")
                for column in shared:
                    frame[column] = merged[column].to_numpy()
        if name == "cyq_perf":
            # cost percentiles ordered around the close, inside the historical range
            daily = self.table("daily").select(conds)[[*keys, "close"]]
            close = known.merge(daily, on=keys, how="left")["close"].to_numpy()
            rng = np.random.default_rng([self.seed, 91])
            spread = rng.uniform(0.05, 0.4, len(close))
            for column, z in (("his_low", -1.6), ("cost_5pct", -1.0), ("cost_15pct", -0.6), ("cost_50pct", 0.0),
                              ("cost_85pct", 0.6), ("cost_95pct", 1.0), ("his_high", 1.6)):  # fmt: skip
                frame[column] = np.round(close * np.exp(z * spread), 2)
            frame["weight_avg"] = frame["cost_50pct"]
            frame["winner_rate"] = np.round(100 / (1 + np.exp(-3 * rng.normal(0, 1, len(close)))), 2)
        if "adj_factor" in frame.columns:
            for column in ("open", "high", "low", "close"):
                if f"{column}_hfq" in frame.columns:
                    frame[f"{column}_hfq"] = np.round(frame[column] * frame["adj_factor"], 4)
        return frame

    def _trade_cal(self) -> pd.DataFrame:
        frame = self.history.frame()
        return frame[frame["cal_date"] >= self.calendar_start.strftime("%Y%m%d")]

    def _suspend_d(self) -> pd.DataFrame:
        panel = self.prices
        mask = panel.suspended
        d, s = np.nonzero(mask)
        resumed = np.zeros_like(mask)
        resumed[1:] = mask[:-1] & ~mask[1:]
        resumed &= np.arange(len(self.days))[:, None] <= self.model.last_day[None, :]
        rd, rs = np.nonzero(resumed)
        frame = pd.DataFrame(
            {
                "ts_code": pd.Series(np.r_[panel.universe.codes[s], panel.universe.codes[rs]], dtype=object),
                "trade_date": pd.Series(np.r_[self.day_text[d], self.day_text[rd]], dtype=object),
                "suspend_timing": pd.Series([None] * (len(d) + len(rd)), dtype=object),
                "suspend_type": pd.Series(["S"] * len(d) + ["R"] * len(rd), dtype=object),
            }
        )
        return frame.sort_values(["trade_date", "ts_code"], kind="stable")

    # ----- ground truth ------------------------------------------------------------------------------------
    def fingerprint(self) -> str:
        """SHA-256 over the ground truth of every API (its CSV text): equal fingerprints, equal markets."""
        digest = hashlib.sha256()
        for name in sorted(self.apis):
            digest.update(name.encode())
            digest.update(self.truth(name).to_csv(index=False).encode())
        return digest.hexdigest()

    def truth(self, dataset: str) -> pd.DataFrame:
        """Exactly what a perfect sync of ``dataset`` would store: every row (for stock_basic every
        list_status, for trade_cal both exchanges, for index_member_all both is_new values, for the
        financial APIs every report_type; a ``*_vip`` name gives its base dataset), every field default
        or not, exact duplicate rows removed, Tushare value types."""
        name = dataset_of(dataset)
        api = self.apis.get(name)
        if api is None:
            raise KeyError(f"unknown dataset {dataset!r}")
        rows = self.table(name).select([])[api.field_names]
        return rows.drop_duplicates(ignore_index=True)
