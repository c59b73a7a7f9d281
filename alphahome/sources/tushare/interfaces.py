"""Tushare's interface table: one row per API, read like the Tushare docs table.

=================  =============================================================================
column             meaning
=================  =============================================================================
``name``           the ``api_name`` (``daily``, ``income``, …)
``family``         stock, index, fund, cbond, future, option, hk, macro, finance, others
``shape``          how a whole-history sync splits its requests, a plain name the dataset catalogue
                   maps onto its request-shape objects (see :data:`SHAPES`)
``row_cap``        rows one call may return (the page size); broader calls are silently cut
``points``         minimum points to call it
``required``       groups of parameters: at least one of each group must be given
``params``         the other documented (optional) parameters
``defaults``       values the service assumes when a parameter is omitted (e.g. ``trade_cal``
                   exchange ``SSE``; ``index_basic`` market ``SSE``: without ``market`` only SSE
                   indices come back)
``columns``        parameters that filter a column of another name (``period`` → ``end_date``)
``key``            the columns that identify a row (checked against data with stages, revisions
                   and NULL dates)
``date_column``    the column history is split along (None: a snapshot)
``per_minute``     the API's own per-minute quota where Tushare publishes one (else the tier's)
``vip``            the whole-market ``*_vip`` twin, its points and row cap
``history_start``  the first date with data (``YYYYMMDD``)
=================  =============================================================================

Output fields and their types are in :mod:`alphahome.sources.tushare.fields` (the same APIs, one table
each). Tier quotas are :data:`TIERS`. Facts follow the Tushare documentation as summarised in
``docs/tushare_interfaces.md``.

Plain data: this module imports only the standard library, so the sandbox reads it without the client.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

Family = Literal["stock", "index", "fund", "cbond", "future", "option", "hk", "macro", "finance", "others"]

#: Request shapes (plain names; the dataset catalogue owns the objects that plan them).
SHAPES: dict[str, str] = {
    "snapshot": "the whole table in one paged request per parameter variant",
    "trade_dates": "whole market per trade date (date windows where the cap allows)",
    "periods": "whole market per report period (quarter end) on the *_vip twin, else per stock",
    "ann_dates": "events selected by announcement date windows",
    "per_code": "one request per code (all of its history)",
    "per_index": "per index code in trade-date windows",
    "per_index_month": "per index code, one request per calendar month",
    "months": "macro series by month (YYYYMM) windows",
    "quarters": "macro series by quarter windows",
    "dates": "series by calendar date windows",
}


@dataclass(frozen=True)
class Tier:
    """The published per-API quotas of a points tier (None: no cap)."""

    points: int
    per_minute: int
    per_day: int | None


#: Published per-API quotas by points tier, highest first (Tushare's points table). Above 5000 the sources
#: disagree (500–1000/min); 500 is the safe reading.
TIERS: tuple[Tier, ...] = (Tier(5000, 500, None), Tier(2000, 200, 100_000), Tier(0, 50, 8_000))


def tier(points: int) -> Tier:
    """The tier a token with ``points`` belongs to."""
    return next(t for t in TIERS if points >= t.points)


def tier_per_minute(points: int) -> int:
    """The published per-minute, per-API call quota of a points tier (120 → 50, 2000 → 200, 5000 → 500)."""
    return tier(points).per_minute


def tier_per_day(points: int) -> int | None:
    """The published per-API daily cap of a points tier (120 → 8000, 2000 → 100000, 5000+ → none)."""
    return tier(points).per_day


@dataclass(frozen=True)
class Interface:
    """One Tushare API (see the module docstring for the columns)."""

    name: str
    family: Family
    shape: str
    row_cap: int
    points: int = 2000
    required: tuple[tuple[str, ...], ...] = ()
    params: tuple[str, ...] = ()
    defaults: tuple[tuple[str, str], ...] = ()
    columns: tuple[tuple[str, str], ...] = ()
    key: tuple[str, ...] = ()
    date_column: str | None = None
    per_minute: int | None = None
    vip: str | None = None
    vip_points: int = 5000
    vip_row_cap: int | None = None
    history_start: str = "19900101"
    doc_id: int | None = None
    title: str = ""
    #: For a ``*_vip`` twin: the API whose table and fields it shares.
    base: str | None = None

    @property
    def all_params(self) -> tuple[str, ...]:
        """Every documented parameter: the required groups' then the optional ones, without repeats."""
        names = [p for group in self.required for p in group] + list(self.params)
        return tuple(dict.fromkeys(names))

    @property
    def table(self) -> str:
        """The table its rows are stored in (a ``*_vip`` twin shares its base API's)."""
        return self.base or self.name

    def rate_per_minute(self, points: int) -> int:
        """The published per-minute quota of this API for a token with ``points``."""
        return self.per_minute if self.per_minute is not None else tier_per_minute(points)

    def default_of(self, param: str) -> str | None:
        """The value Tushare assumes when ``param`` is omitted."""
        return dict(self.defaults).get(param)

    def column_of(self, param: str) -> str:
        """The column ``param`` filters (its own name unless :attr:`columns` says otherwise)."""
        return dict(self.columns).get(param, param)


_I = Interface
_DAY = ("trade_date", "start_date", "end_date")
_CODE_DAY = ("ts_code", *_DAY)
_FIN = ("ts_code", "ann_date", "f_ann_date", "start_date", "end_date", "period", "report_type", "comp_type")
_PERIOD = (("period", "end_date"),)
_STATEMENT_KEY = ("ts_code", "end_date", "report_type", "ann_date", "f_ann_date", "update_flag")

_TABLE: tuple[Interface, ...] = (
    # ---- others: calendars ---------------------------------------------------------------------------
    _I("trade_cal", "others", "snapshot", 20000, params=("exchange", "start_date", "end_date", "is_open"),
       defaults=(("exchange", "SSE"),), key=("exchange", "cal_date"), date_column="cal_date", doc_id=26,
       title="交易日历"),
    # ---- stock -----------------------------------------------------------------------------------------
    _I("stock_basic", "stock", "snapshot", 6000, per_minute=50,
       params=("ts_code", "name", "market", "list_status", "exchange", "is_hs"),
       defaults=(("list_status", "L"),), key=("ts_code",), history_start="19700101", doc_id=25,
       title="股票列表"),
    _I("daily", "stock", "trade_dates", 6000, points=120, params=_CODE_DAY, key=("ts_code", "trade_date"),
       date_column="trade_date", history_start="19901219", doc_id=27, title="A股日线行情"),
    _I("adj_factor", "stock", "trade_dates", 6000, params=_CODE_DAY, key=("ts_code", "trade_date"),
       date_column="trade_date", history_start="19901219", doc_id=28, title="复权因子"),
    _I("daily_basic", "stock", "trade_dates", 6000, required=(("ts_code", "trade_date"),),
       params=("start_date", "end_date"), key=("ts_code", "trade_date"), date_column="trade_date",
       history_start="19910101", doc_id=32, title="每日指标"),
    _I("moneyflow", "stock", "trade_dates", 6000, required=(_CODE_DAY,), key=("ts_code", "trade_date"),
       date_column="trade_date", history_start="20100101", doc_id=170, title="个股资金流向"),
    _I("stk_limit", "stock", "trade_dates", 5800, params=_CODE_DAY, key=("ts_code", "trade_date"),
       date_column="trade_date", history_start="20070101", doc_id=183, title="每日涨跌停价格"),
    _I("suspend_d", "stock", "trade_dates", 5000, params=(*_CODE_DAY, "suspend_type"),
       key=("ts_code", "trade_date", "suspend_type"), date_column="trade_date", doc_id=214,
       title="每日停复牌信息"),
    _I("dividend", "stock", "ann_dates", 2000,
       required=(("ts_code", "ann_date", "end_date", "record_date", "ex_date", "imp_ann_date"),),
       key=("ts_code", "end_date", "ann_date", "div_proc"), date_column="ann_date", history_start="20050101",
       doc_id=103, title="分红送股"),
    # ---- index -----------------------------------------------------------------------------------------
    _I("index_basic", "index", "snapshot", 8000,
       params=("ts_code", "symbol", "name", "market", "publisher", "category"), defaults=(("market", "SSE"),),
       key=("ts_code",), doc_id=94, title="指数基本信息"),
    _I("index_daily", "index", "per_index", 8000, required=(("ts_code",),), params=_DAY,
       key=("ts_code", "trade_date"), date_column="trade_date", doc_id=95, title="指数日线行情"),
    _I("index_weight", "index", "per_index_month", 6000, required=(("index_code",),), params=_DAY,
       key=("index_code", "con_code", "trade_date"), date_column="trade_date", history_start="20050101",
       doc_id=96, title="指数成分和权重"),
    _I("index_classify", "index", "snapshot", 2000, params=("index_code", "level", "parent_code", "src"),
       defaults=(("src", "SW2021"),), key=("index_code",), doc_id=181, title="申万行业分类"),
    _I("index_member", "index", "snapshot", 2000, params=("index_code", "ts_code", "is_new"),
       columns=(("ts_code", "con_code"),), key=("index_code", "con_code", "in_date"), doc_id=182,
       title="申万行业成分（旧）"),
    _I("index_member_all", "index", "snapshot", 2000,
       params=("l1_code", "l2_code", "l3_code", "ts_code", "is_new"), defaults=(("is_new", "Y"),),
       key=("l3_code", "ts_code", "in_date"), history_start="19700101", doc_id=335, title="申万行业成分"),
    # ---- fund ------------------------------------------------------------------------------------------
    _I("fund_basic", "fund", "snapshot", 15000, params=("ts_code", "market", "status", "name"),
       defaults=(("market", "E"),), key=("ts_code",), history_start="19700101", doc_id=19, title="公募基金列表"),
    _I("fund_nav", "fund", "trade_dates", 2000, required=(("ts_code", "nav_date"),),
       params=("market", "start_date", "end_date"), key=("ts_code", "nav_date"), date_column="nav_date",
       history_start="20000101", doc_id=119, title="公募基金净值"),
    # ---- finance ---------------------------------------------------------------------------------------
    _I("income", "finance", "periods", 500, required=(("ts_code",),), params=(*_FIN[1:], "is_calc"),
       columns=_PERIOD, defaults=(("report_type", "1"),), key=_STATEMENT_KEY, date_column="end_date",
       vip="income_vip", vip_row_cap=5000, history_start="19901231", doc_id=33, title="利润表"),
    _I("balancesheet", "finance", "periods", 100, required=(("ts_code",),), params=_FIN[1:], columns=_PERIOD,
       defaults=(("report_type", "1"),), key=_STATEMENT_KEY, date_column="end_date", vip="balancesheet_vip",
       vip_row_cap=5000, history_start="19901231", doc_id=36, title="资产负债表"),
    _I("cashflow", "finance", "periods", 500, required=(("ts_code",),), params=(*_FIN[1:], "is_calc"),
       columns=_PERIOD, defaults=(("report_type", "1"),), key=_STATEMENT_KEY, date_column="end_date",
       vip="cashflow_vip", vip_row_cap=5000, history_start="19901231", doc_id=44, title="现金流量表"),
    _I("fina_indicator", "finance", "periods", 100, required=(("ts_code",),),
       params=("ann_date", "start_date", "end_date", "period"), columns=_PERIOD,
       key=("ts_code", "end_date", "ann_date", "update_flag"), date_column="end_date",
       vip="fina_indicator_vip", vip_row_cap=5000, doc_id=79, title="财务指标数据"),
    _I("express", "finance", "periods", 2000, required=(("ts_code",),),
       params=("ann_date", "start_date", "end_date", "period"), columns=_PERIOD,
       key=("ts_code", "end_date", "ann_date"), date_column="end_date", vip="express_vip", vip_row_cap=5000,
       doc_id=46, title="业绩快报"),
    _I("forecast", "finance", "periods", 3500, required=(("ts_code", "ann_date"),),
       params=("start_date", "end_date", "period", "type"), columns=_PERIOD,
       key=("ts_code", "end_date", "ann_date"), date_column="end_date", vip="forecast_vip", vip_row_cap=3500,
       doc_id=45, title="业绩预告"),
)  # fmt: skip


def _with_twins(table: tuple[Interface, ...]) -> dict[str, Interface]:
    out: dict[str, Interface] = {}
    for entry in table:
        if entry.name in out:
            raise ValueError(f"interface {entry.name!r} listed twice")
        out[entry.name] = entry
        if entry.vip is not None:
            # The twin takes the base API's parameters, none required: a whole period per call.
            params = tuple(dict.fromkeys([*entry.all_params]))
            out[entry.vip] = replace(
                entry, name=entry.vip, points=entry.vip_points, row_cap=entry.vip_row_cap or entry.row_cap,
                required=(), params=params, vip=None, vip_row_cap=None, base=entry.name,
            )
    return out


#: api name -> its interface (``*_vip`` twins included, each with ``base`` set).
INTERFACES: dict[str, Interface] = _with_twins(_TABLE)


def interface(api: str) -> Interface:
    """The interface of ``api``; KeyError names the API when it is not in the table."""
    try:
        return INTERFACES[api]
    except KeyError:
        raise KeyError(f"no interface entry for Tushare API {api!r}") from None


def family_apis(family: Family) -> tuple[str, ...]:
    """The base APIs of one family, in table order."""
    return tuple(i.name for i in _TABLE if i.family == family)
