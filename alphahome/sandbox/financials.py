"""The financial statements of the synthetic market: income, balancesheet, cashflow, fina_indicator,
express and forecast, as the Tushare APIs would return them with every column.

``generate_financials`` builds them from a universe (stock_basic rows), the trading days, the market's
date range and a seed; ``describe_cases`` says where the planted hard cases are (see
``FinancialCases``). The pieces:

- ``statements``: the true accounts of each company (year-to-date flows, balances; identities exact).
- ``disclosures``: when each report is announced, in how many versions, and the hard cases.
- ``statement_tables``: report_type '1' and '2' rows of the three statements.
- ``fina_indicators``, ``preannouncements``: fina_indicator, express and forecast.

Units: the statements, fina_indicator money columns and express are CNY; forecast net profits are
10k CNY (万元); ratios are percentages as Tushare gives them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import pandas as pd

from alphahome.sandbox.catalog import FINANCIAL_APIS
from alphahome.sandbox.company_random import draw_companies
from alphahome.sandbox.disclosures import FinancialCases, PeriodGrid, plan_schedule
from alphahome.sandbox.fina_indicators import indicator_table
from alphahome.sandbox.preannouncements import express_table, forecast_table
from alphahome.sandbox.statement_tables import statement_tables
from alphahome.sandbox.statements import build_company_model

__all__ = ["FinancialCases", "describe_cases", "generate_financials"]

_UNIVERSE_COLUMNS = ("ts_code", "list_date", "delist_date", "comp_type")


def _check(universe: pd.DataFrame, start: dt.date, end: dt.date, seed: int) -> None:
    missing = [c for c in _UNIVERSE_COLUMNS if c not in universe.columns]
    if missing:
        raise ValueError(f"universe lacks column(s) {', '.join(missing)}")
    if universe["ts_code"].duplicated().any():
        dup = universe["ts_code"][universe["ts_code"].duplicated()].iloc[0]
        raise ValueError(f"universe has ts_code {dup} more than once")
    if start > end:
        raise ValueError(f"start {start} is after end {end}")
    if not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be a non-negative int, got {seed!r}")


def generate_financials(universe: pd.DataFrame, trade_dates: Sequence[dt.date], start: dt.date, end: dt.date,
                        seed: int) -> dict[str, pd.DataFrame]:
    """Every row the six financial APIs can return as of ``end``, keyed by API name.

    Each DataFrame has exactly the served columns (``catalog.served_fields(name)``) in order: strings as object (dates
    'YYYYMMDD', None for NULL), floats as float64 (NaN for NULL), ints as int64. Periods start early
    enough that TTM is computable from ``start``; nothing is announced after ``end``. Deterministic in
    (universe, trade_dates, start, end, seed). A company's figures depend only on the seed, its ts_code and
    the date range, not on the rest of the universe, except that the planted hard cases go to the first
    eligible companies in universe order (``describe_cases`` names them).
    """
    _check(universe, start, end, seed)
    grid = PeriodGrid.for_range(start, end)
    codes = [str(c) for c in universe["ts_code"]]
    draws = draw_companies(codes, seed, grid.n_quarters)
    schedule = plan_schedule(universe, trade_dates, start, end, grid, draws)
    model = build_company_model(draws, schedule.comp_types, grid.first_year, grid.n_years)
    tables, figures = statement_tables(model, schedule)
    tables["fina_indicator"] = indicator_table(model, schedule, figures)
    tables["express"] = express_table(model, schedule, draws)
    tables["forecast"] = forecast_table(model, schedule, draws)
    return {name: tables[name] for name in FINANCIAL_APIS}


def describe_cases(universe: pd.DataFrame, trade_dates: Sequence[dt.date], start: dt.date, end: dt.date,
                   seed: int) -> FinancialCases:
    """Where ``generate_financials`` with the same arguments plants its hard cases (cheap: the schedule
    only, no accounts)."""
    _check(universe, start, end, seed)
    grid = PeriodGrid.for_range(start, end)
    draws = draw_companies([str(c) for c in universe["ts_code"]], seed, grid.n_quarters, with_accounts=False)
    return plan_schedule(universe, trade_dates, start, end, grid, draws).cases
