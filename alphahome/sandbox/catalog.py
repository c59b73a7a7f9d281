"""Every API the sandbox serves, as data: parameters, required groups, row caps, points, quotas, ordering,
and declarative filters over one of the market's tables (reference §4).

Output fields are not written here: each API serves exactly the fields of Tushare's interface facts
(``alphahome.sources.tushare.fields``, the table the dataset catalogue builds its columns from), so a perfect
sync stores every column the sandbox serves.

Row caps, points, required parameters and per-API quotas are the interface table's
(``alphahome.sources.tushare.interfaces``). Choices where the reference is silent:
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
from alphahome.sources.tushare.interfaces import INTERFACES, Interface, interface

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
    extra_params: tuple[str, ...] = (),
    sort_desc: tuple[str, ...] = (),
) -> ApiDef:
    """An ApiDef serving ``name``'s fields (:func:`served_fields`) whose query filters ``market.table(table)``
    by ``filters``; row cap, points, required parameters and quota come from the interface table. Its
    documented params are the filters' params, ``extra_params`` and the interface's own (accepted, no
    effect unless a filter uses them)."""
    fds = served_fields(name)
    facts = interface(name)
    params = tuple(dict.fromkeys([f.param for f in filters] + list(extra_params) + list(facts.all_params)))
    return ApiDef(
        name=name,
        fields=fds,
        params=params,
        required=facts.required,
        row_cap=facts.row_cap,
        min_points=facts.points,
        sort_desc=sort_desc,
        query=TableQuery(table, tuple(filters), tuple(f.name for f in fds)),
        per_minute=facts.per_minute,
        full_rate_points=facts.full_rate_points,
        reduced_per_minute=facts.reduced_per_minute,
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
        [eq("ts_code"), eq("name"), eq("market"), eq("list_status", default="L"), eq("exchange"), eq("is_hs")]),
    api("trade_cal", "trade_cal", [eq("exchange", default="SSE"), *window("cal_date"), eq("is_open")], sort_desc=("cal_date",)),
    api("daily", "daily", market_filters(one_of("ts_code")),
        sort_desc=("trade_date",)),
    api("adj_factor", "adj_factor", market_filters(eq("ts_code")), sort_desc=("trade_date",)),
    api("daily_basic", "daily_basic", market_filters(eq("ts_code")), sort_desc=("trade_date",)),
    api("moneyflow", "moneyflow", market_filters(eq("ts_code")), sort_desc=("trade_date",)),
    api("stk_limit", "stk_limit", market_filters(eq("ts_code")), sort_desc=("trade_date",)),
    api("suspend_d", "suspend_d", [*market_filters(one_of("ts_code")), eq("suspend_type")],
        sort_desc=("trade_date",)),
    api("dividend", "dividend",
        [eq("ts_code"), eq("ann_date"), eq("end_date"), eq("record_date"), eq("ex_date"), eq("imp_ann_date")],
        sort_desc=("end_date", "ann_date")),
    api("index_basic", "index_basic",
        [eq("ts_code"), Filter("symbol", "ts_code", "symbol"), eq("name"), eq("market", default="SSE"), eq("publisher"),
         eq("category")]),
    api("index_daily", "index_daily", market_filters(eq("ts_code")),
        sort_desc=("trade_date",)),
    api("index_weight", "index_weight", [eq("index_code"), eq("trade_date"), *window("trade_date")], sort_desc=("trade_date",)),
    api("index_classify", "index_classify",
        [eq("index_code"), eq("level"), eq("parent_code"), eq("src", default="SW2021")]),
    api("index_member", "index_member", [eq("index_code"), eq("ts_code", "con_code"), eq("is_new")]),
    api("index_member_all", "index_member_all",
        [eq("l1_code"), eq("l2_code"), eq("l3_code"), eq("ts_code"), eq("is_new", default="Y")]),
    api("fund_basic", "fund_basic", [eq("ts_code"), eq("market", default="E"), eq("status"), eq("name")]),
    api("fund_nav", "fund_nav", [eq("ts_code"), eq("nav_date"), eq("market"), *window("nav_date")], sort_desc=("nav_date",)),
)  # fmt: skip

#: Financial APIs: (name, its filters beyond ts_code/ann_date/window/period). Caps, points and required
#: parameters (of the API and of its ``*_vip`` twin) come from the interface table.
_STATEMENT_FILTERS = (eq("f_ann_date"), eq("report_type", default="1"), eq("comp_type"))
FINANCIAL_SPECS: tuple[tuple[str, tuple[Filter, ...]], ...] = (
    ("income", _STATEMENT_FILTERS),
    ("balancesheet", _STATEMENT_FILTERS),
    ("cashflow", _STATEMENT_FILTERS),
    ("fina_indicator", ()),
    ("express", ()),
    ("forecast", (eq("type"),)),
)


#: The APIs the financial generator fills (``alphahome.sandbox.financials``), in catalogue order.
FINANCIAL_APIS: tuple[str, ...] = tuple(spec[0] for spec in FINANCIAL_SPECS)


def financial_apis() -> tuple[ApiDef, ...]:
    """The statement, indicator, express and forecast APIs and their ``*_vip`` variants (5000 points,
    ts_code optional: a whole period or announcement window per call)."""
    out = []
    for name, extra in FINANCIAL_SPECS:
        filters = [eq("ts_code"), eq("ann_date"), *window("ann_date"), eq("period", "end_date"), *extra]
        sort = ("end_date", "ann_date")
        out.append(api(name, name, filters, sort_desc=sort))
        out.append(api(f"{name}_vip", name, filters, sort_desc=sort))
    return tuple(out)


def generic_filters(facts: Interface) -> tuple[Filter, ...]:
    """The filters of an API served from the interface table alone: each documented parameter that names
    a column (directly or through the table's ``columns``) filters it, with Tushare's default; a
    ``start_*``/``end_*`` pair bounds the date column; parameters naming no column are accepted without
    effect (as Tushare ignores what it does not know)."""
    names = {f.name for f in api_fields(facts.table)}
    params = facts.all_params
    out: list[Filter] = []
    for param in params:
        pair = ("start_date", "end_date") if param in ("start_date", "end_date") else ("start_m", "end_m")
        if param in pair and pair[0] in params and pair[1] in params and facts.date_column is not None:
            out.append(Filter(param, facts.date_column, "ge" if param == pair[0] else "le"))
            continue
        column = facts.column_of(param)
        if column in names:
            out.append(Filter(param, column, "in" if param == "ts_code" else "eq", facts.default_of(param)))
    return tuple(out)


def generic_api(name: str) -> ApiDef:
    """An API served from its interface entry: filters from :func:`generic_filters`, newest first by its
    date column."""
    facts = interface(name)
    sort = (facts.date_column,) if facts.date_column else ()
    return api(name, facts.table, generic_filters(facts), sort_desc=sort)


def build_catalog() -> dict[str, ApiDef]:
    """Every served API by name: the hand-modelled ones, then every other API of the interface table."""
    served = {a.name: a for a in (*_BASE_APIS, *financial_apis())}
    for name in INTERFACES:
        if name not in served:
            served[name] = generic_api(name)
    return served


def dataset_of(api_name: str) -> str:
    """The table an API fills (its name without ``_vip``)."""
    return api_name.removesuffix("_vip")
