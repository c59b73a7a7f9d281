"""The sandbox serves nothing dated before an API's first date (Tushare has no cyq_perf before 2018), so a
sync from the API's history start gets every row the sandbox holds."""

from __future__ import annotations

import datetime as dt

import pytest

from alphahome.sandbox.market import Market
from alphahome.sources.tushare.interfaces import INTERFACES

# A market reaching back before 2018: cyq_perf's first date falls inside it.
END = dt.date(2019, 6, 28)


@pytest.fixture(scope="module")
def market() -> Market:
    return Market(seed=11, scale="small", end_date=END)


@pytest.mark.parametrize("api", ["cyq_perf", "stk_factor_pro", "margin_detail", "moneyflow"])
def test_no_row_before_the_apis_history_start(market: Market, api: str) -> None:
    facts = INTERFACES[api]
    truth = market.truth(api)
    dates = truth[facts.date_column].dropna().astype(str)
    assert len(dates), api
    assert dates.min() >= facts.history_start, (api, dates.min(), facts.history_start)


def test_cyq_perf_starts_on_its_first_trading_day(market: Market) -> None:
    dates = market.truth("cyq_perf")["trade_date"].astype(str)
    assert dates.min() == "20180102"  # the first trading day of 2018
    assert dates.max() == END.strftime("%Y%m%d")
