"""Every API the sandbox serves, as data: parameters, required groups, row caps, points, quotas, ordering,
and declarative filters over one of the market's tables (reference §4).

Output fields are not written here: each API serves exactly the fields of Tushare's interface facts
(``alphahome.sources.tushare.fields``, the table the dataset catalogue builds its columns from), so a perfect
sync stores every column the sandbox serves.

Choices where the reference is silent (documented here, reported in the sandbox docs):
- row caps: trade_cal 20000, adj_factor 6000, cashflow 500, express 2000, index_weight 6000,
  index_classify 2000, fund_nav 2000, every ``*_vip`` 5000 except forecast_vip 3500 (as forecast);
- ``start_date``/``end_date`` filter the announcement date ``ann_date`` on income, balancesheet,
  cashflow, fina_indicator, express and forecast (and their vip variants); rows with a NULL
  ``ann_date`` therefore only come back for calls without a date window;
- defaults: stock_basic list_status 'L', trade_cal exchange 'SSE', statements report_type '1',
  index_member_all is_new 'Y', index_classify src 'SW2021', fund_basic market 'E'; index_member has
  no is_new default (current and past rows).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING

import pandas as pd

from alphahome.sandbox.apidef import ApiDef, FieldDef
from alphahome.sandbox.queries import Filter, conditions
from alphahome.sources.tushare.fields import api_fields

if TYPE_CHECKING:
    from alphahome.sandbox.market import Market


@cache
def served_fields(api_name: str) -> tuple[FieldDef, ...]:
    """The output fields of ``api_name`` (a ``*_vip`` name gives its base API's) in documented order, as the
    sandbox serves them: Tushare's interface facts with dates as strings. KeyError for an unknown API."""
    return tuple(FieldDef(f.name, f.wire_type, f.default) for f in api_fields(api_name))


@dataclass(frozen=True)
class TableQuery:
    """An API's ``query``: the rows of one market table that satisfy the request's filters, with the
    API's fields in documented order."""

    table: str
    filters: tuple[Filter, ...]
    names: tuple[str, ...]

    def __call__(self, market: Market, params: Mapping[str, str]) -> pd.DataFrame:
        rows = market.table(self.table).select(conditions(self.filters, params))
        return rows[list(self.names)].reset_index(drop=True)


def api(
    name: str,
    table: str,
    filters: Sequence[Filter],
    *,
    row_cap: int,
    min_points: int = 2000,
    required: tuple[tuple[str, ...], ...] = (),
    extra_params: tuple[str, ...] = (),
    sort_desc: tuple[str, ...] = (),
    per_minute: int | None = None,
) -> ApiDef:
    """An ApiDef serving ``name``'s fields (:func:`served_fields`) whose query filters ``market.table(table)``
    by ``filters``; its documented params are the filters' params plus ``extra_params`` (accepted, no
    effect)."""
    fds = served_fields(name)
    params = tuple(dict.fromkeys([f.param for f in filters] + list(extra_params)))
    return ApiDef(
        name=name,
        fields=fds,
        params=params,
        required=required,
        row_cap=row_cap,
        min_points=min_points,
        sort_desc=sort_desc,
        query=TableQuery(table, tuple(filters), tuple(f.name for f in fds)),
        per_minute=per_minute,
    )


def eq(param: str, column: str | None = None, default: str | None = None) -> Filter:
    """param == column."""
    return Filter(param, column or param, "eq", default)


def one_of(param: str, column: str | None = None) -> Filter:
    """column in the param's comma list."""
    return Filter(param, column or param, "in")


def window(column: str) -> tuple[Filter, Filter]:
    """start_date/end_date as an inclusive range over ``column``."""
    return Filter("start_date", column, "ge"), Filter("end_date", column, "le")


def market_filters(code: Filter) -> tuple[Filter, ...]:
    """ts_code, trade_date and its window: the filters of every per-stock daily table."""
    return (code, eq("trade_date"), *window("trade_date"))


_BASE_APIS: tuple[ApiDef, ...] = (
    api("stock_basic", "stock_basic",
        [eq("ts_code"), eq("name"), eq("market"), eq("list_status", default="L"), eq("exchange"), eq("is_hs")],
        row_cap=6000, per_minute=50),
    api("trade_cal", "trade_cal", [eq("exchange", default="SSE"), *window("cal_date"), eq("is_open")],
        row_cap=20000, sort_desc=("cal_date",)),
    api("daily", "daily", market_filters(one_of("ts_code")), row_cap=6000, min_points=120,
        sort_desc=("trade_date",)),
    api("adj_factor", "adj_factor", market_filters(eq("ts_code")), row_cap=6000, sort_desc=("trade_date",)),
    api("daily_basic", "daily_basic", market_filters(eq("ts_code")), row_cap=6000,
        required=(("ts_code", "trade_date"),), sort_desc=("trade_date",)),
    api("moneyflow", "moneyflow", market_filters(eq("ts_code")), row_cap=6000,
        required=(("ts_code", "trade_date", "start_date", "end_date"),), sort_desc=("trade_date",)),
    api("stk_limit", "stk_limit", market_filters(eq("ts_code")), row_cap=5800, sort_desc=("trade_date",)),
    api("suspend_d", "suspend_d", [*market_filters(one_of("ts_code")), eq("suspend_type")], row_cap=5000,
        sort_desc=("trade_date",)),
    api("dividend", "dividend",
        [eq("ts_code"), eq("ann_date"), eq("end_date"), eq("record_date"), eq("ex_date"), eq("imp_ann_date")],
        row_cap=2000, required=(("ts_code", "ann_date", "end_date", "record_date", "ex_date", "imp_ann_date"),),
        sort_desc=("end_date", "ann_date")),
    api("index_basic", "index_basic",
        [eq("ts_code"), Filter("symbol", "ts_code", "symbol"), eq("name"), eq("market"), eq("publisher"),
         eq("category")],
        row_cap=8000),
    api("index_daily", "index_daily", market_filters(eq("ts_code")), row_cap=8000, required=(("ts_code",),),
        sort_desc=("trade_date",)),
    api("index_weight", "index_weight", [eq("index_code"), eq("trade_date"), *window("trade_date")],
        row_cap=6000, required=(("index_code",),), sort_desc=("trade_date",)),
    api("index_classify", "index_classify",
        [eq("index_code"), eq("level"), eq("parent_code"), eq("src", default="SW2021")], row_cap=2000),
    api("index_member", "index_member", [eq("index_code"), eq("ts_code", "con_code"), eq("is_new")],
        row_cap=2000),
    api("index_member_all", "index_member_all",
        [eq("l1_code"), eq("l2_code"), eq("l3_code"), eq("ts_code"), eq("is_new", default="Y")], row_cap=2000),
    api("fund_basic", "fund_basic", [eq("ts_code"), eq("market", default="E"), eq("status"), eq("name")],
        row_cap=15000),
    api("fund_nav", "fund_nav", [eq("ts_code"), eq("nav_date"), eq("market"), *window("nav_date")],
        row_cap=2000, required=(("ts_code", "nav_date"),), sort_desc=("nav_date",)),
)  # fmt: skip

#: Financial APIs: (name, row cap, vip row cap, its filters beyond ts_code/ann_date/window/period, params
#: accepted without effect, the non-vip required groups, newest-first columns).
_STATEMENT_FILTERS = (eq("f_ann_date"), eq("report_type", default="1"), eq("comp_type"))
FINANCIAL_SPECS: tuple[
    tuple[str, int, int, tuple[Filter, ...], tuple[str, ...], tuple[tuple[str, ...], ...]], ...
] = (
    ("income", 500, 5000, _STATEMENT_FILTERS, ("is_calc",), (("ts_code",),)),
    ("balancesheet", 100, 5000, _STATEMENT_FILTERS, (), (("ts_code",),)),
    ("cashflow", 500, 5000, _STATEMENT_FILTERS, ("is_calc",), (("ts_code",),)),
    ("fina_indicator", 100, 5000, (), (), (("ts_code",),)),
    ("express", 2000, 5000, (), (), (("ts_code",),)),
    ("forecast", 3500, 3500, (eq("type"),), (), (("ts_code", "ann_date"),)),
)


#: The APIs the financial generator fills (``alphahome.sandbox.financials``), in catalogue order.
FINANCIAL_APIS: tuple[str, ...] = tuple(spec[0] for spec in FINANCIAL_SPECS)


def financial_apis() -> tuple[ApiDef, ...]:
    """The statement, indicator, express and forecast APIs and their ``*_vip`` variants (5000 points,
    ts_code optional: a whole period or announcement window per call)."""
    out = []
    for name, cap, vip_cap, extra, ignored, required in FINANCIAL_SPECS:
        filters = [eq("ts_code"), eq("ann_date"), *window("ann_date"), eq("period", "end_date"), *extra]
        sort = ("end_date", "ann_date")
        out.append(api(name, name, filters, row_cap=cap, required=required, extra_params=ignored, sort_desc=sort))
        out.append(api(f"{name}_vip", name, filters, row_cap=vip_cap, min_points=5000, extra_params=ignored,
                       sort_desc=sort))
    return tuple(out)


def build_catalog() -> dict[str, ApiDef]:
    """Every served API by name."""
    return {a.name: a for a in (*_BASE_APIS, *financial_apis())}


def dataset_of(api_name: str) -> str:
    """The table an API fills (its name without ``_vip``)."""
    return api_name.removesuffix("_vip")
