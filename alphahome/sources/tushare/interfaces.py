"""Tushare's interface table: one row per API, read like the Tushare docs table.

======================  =============================================================================
column                  meaning
======================  =============================================================================
``name``                the ``api_name`` (``daily``, ``income``, …)
``family``              stock, index, fund, cbond, future, option, hk, macro, finance, others
``shape``               how a whole-history sync splits its requests, a plain name the dataset catalogue
                        maps onto its request-shape objects (see :data:`SHAPES`)
``row_cap``             rows one call may return (the page size); broader calls are silently cut
``points``              minimum points to call it (the lower figure where Tushare gives two, "300/5000")
``full_rate_points``    where Tushare gives two figures, the higher: below it the API is callable but
                        slower ("每分钟内限制次数，超过N积分频次相对较高"); None when there is one figure
``reduced_per_minute``  the published per-minute quota below ``full_rate_points`` where Tushare states
                        one (the ``*_factor_pro`` APIs: 30/min under 8000 points); else the tier's quota
``required``            groups of parameters: at least one of each group must be given
``params``              the other documented (optional) parameters
``defaults``            values the service assumes when a parameter is omitted (e.g. ``trade_cal``
                        exchange ``SSE``; ``index_basic`` market ``SSE``: without ``market`` only SSE
                        indices come back)
``columns``             parameters that filter a column of another name (``period`` → ``end_date``)
``key``                 the columns that identify a row (checked against data with stages, revisions
                        and NULL dates)
``date_column``         the column history is split along (None: a snapshot)
``per_minute``          the API's own per-minute quota where Tushare publishes one (else the tier's)
``vip``                 the whole-market ``*_vip`` twin, its points and row cap
``history_start``       the first date with data (``YYYYMMDD``)
======================  =============================================================================

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
    "code_dates": "per code (a curve, a board) in trade-date windows",
    "per_index_month": "per index code, one request per calendar month",
    "months": "macro series by month (YYYYMM) windows",
    "quarters": "macro series by quarter windows",
    "dates": "series by calendar date windows",
    "weeks": "one request per week-end date of the date column",
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
    full_rate_points: int | None = None
    reduced_per_minute: int | None = None
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
        """The published per-minute quota of this API for a token with ``points``: the reduced figure below
        :attr:`full_rate_points` where one is published, else the API's own figure, else the tier's."""
        if (self.reduced_per_minute is not None and self.full_rate_points is not None
                and points < self.full_rate_points):
            return self.reduced_per_minute
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
#: Wider than the original's (ts_code, end_date, f_ann_date): a period has several report types and
#: corrected versions (update_flag), and ann_date can be NULL (docs/tushare_interfaces.md, statements).
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
    # key adds ann_date to the original's (ts_code, nav_date): a corrected NAV is republished for the same
    # nav_date on a later ann_date (update_flag '1', the superseded one '0'); both versions are kept.
    _I("fund_nav", "fund", "trade_dates", 2000, required=(("ts_code", "nav_date"),),
       params=("market", "start_date", "end_date"), key=("ts_code", "nav_date", "ann_date"), date_column="nav_date",
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
    # ---- stock: reference and events ----------------------------------------------------------------
    # key wider than the original's (ts_code, start_date): a stock can carry two names from one start_date
    # (a correction, or ST and the new name announced together). History is one snapshot, so the
    # original's 20100101 start does not apply.
    _I("namechange", "stock", "snapshot", 10000, params=("ts_code", "start_date", "end_date"),
       key=("ts_code", "start_date", "name"), history_start="19900101", doc_id=100, title="股票曾用名"),
    _I("stock_st", "stock", "trade_dates", 1000, params=_CODE_DAY, key=("ts_code", "trade_date"),
       date_column="trade_date", history_start="20160101", doc_id=397, title="ST股票列表"),
    # key adds freq to the original's (ts_code, trade_date): weekly and monthly bars share one table here.
    _I("stk_weekly_monthly", "stock", "trade_dates", 6000, required=(("freq",),), params=_CODE_DAY,
       key=("ts_code", "trade_date", "freq"), date_column="trade_date", history_start="20050101", doc_id=336,
       title="股票周/月线行情（每日更新）"),
    _I("stk_factor_pro", "stock", "trade_dates", 10000, points=5000, full_rate_points=8000,
       reduced_per_minute=30, params=_CODE_DAY,
       key=("ts_code", "trade_date"), date_column="trade_date", history_start="19901219", doc_id=328,
       title="股票技术面因子（专业版）"),
    _I("cyq_perf", "stock", "trade_dates", 5000, points=5000, params=_CODE_DAY, key=("ts_code", "trade_date"),
       date_column="trade_date", history_start="20180101", doc_id=293, title="每日筹码及胜率"),
    # history from 20100331 (margin trading began that day) rather than the original's 20050101 default.
    _I("margin", "stock", "trade_dates", 4000, params=(*_DAY, "exchange_id"), key=("trade_date", "exchange_id"),
       date_column="trade_date", history_start="20100331", doc_id=58, title="融资融券交易汇总"),
    _I("margin_detail", "stock", "trade_dates", 6000, params=_CODE_DAY, key=("ts_code", "trade_date"),
       date_column="trade_date", history_start="20100331", doc_id=59, title="融资融券交易明细"),
    _I("moneyflow_hsgt", "stock", "trade_dates", 300, params=_DAY, key=("trade_date",),
       date_column="trade_date", history_start="20141117", doc_id=47, title="沪深港通资金流向"),
    # key (trade_date, market_type, ts_code) rather than the original's (…, rank): a stock is listed once per
    # market and day, while ranks can tie.
    _I("hsgt_top10", "stock", "trade_dates", 5000, params=(*_CODE_DAY, "market_type"),
       key=("trade_date", "market_type", "ts_code"), date_column="trade_date", history_start="20141117",
       doc_id=48, title="沪深股通十大成交股"),
    _I("hk_hold", "stock", "trade_dates", 5000, params=("code", *_CODE_DAY, "exchange"),
       key=("trade_date", "exchange", "ts_code"), date_column="trade_date", history_start="20141117",
       doc_id=188, title="沪深港股通持股明细"),
    _I("top_list", "stock", "trade_dates", 10000, required=(("trade_date",),), params=("ts_code",),
       key=("trade_date", "ts_code", "reason"), date_column="trade_date", history_start="20050101",
       doc_id=106, title="龙虎榜每日明细"),
    # key adds reason to the original's (ts_code, trade_date, exalter, side): a stock listed for two reasons
    # in one day shows the same seat under each.
    _I("top_inst", "stock", "trade_dates", 10000, points=5000, required=(("trade_date",),), params=("ts_code",),
       key=("trade_date", "ts_code", "exalter", "side", "reason"), date_column="trade_date",
       history_start="20050101", doc_id=107, title="龙虎榜机构明细"),
    # key wider than the original's (ts_code, trade_date, buyer, seller): one buyer/seller pair often trades a
    # stock several times a day at different prices and sizes.
    _I("block_trade", "stock", "trade_dates", 1000, points=300, full_rate_points=5000, params=_CODE_DAY,
       key=("ts_code", "trade_date", "buyer", "seller", "price", "vol"), date_column="trade_date",
       history_start="20050101", doc_id=161, title="大宗交易"),
    _I("limit_list_d", "stock", "trade_dates", 2500, points=5000,
       params=(*_CODE_DAY, "limit_type", "exchange"), columns=(("limit_type", "limit"),),
       key=("ts_code", "trade_date"), date_column="trade_date", history_start="20200101", doc_id=298,
       title="涨跌停列表"),
    _I("stk_ah_comparison", "stock", "trade_dates", 1000, points=5000, params=("hk_code", *_CODE_DAY),
       key=("trade_date", "ts_code", "hk_code"), date_column="trade_date", history_start="20250812",
       doc_id=399, title="AH股比价"),
    # key adds end_date to the original's (ts_code, ann_date): one announcement can report the holder count
    # at several period ends.
    _I("stk_holdernumber", "stock", "ann_dates", 3000, points=600,
       params=("ts_code", "ann_date", "enddate", "start_date", "end_date"), columns=(("enddate", "end_date"),),
       key=("ts_code", "ann_date", "end_date"), date_column="ann_date", history_start="20050101", doc_id=166,
       title="股东人数"),
    # key wider than the original's (ts_code, ann_date, holder_name): one announcement can report a
    # holder's increase and decrease (in_de) together.
    _I("stk_holdertrade", "stock", "ann_dates", 3000, full_rate_points=5000,
       params=("ts_code", "ann_date", "start_date", "end_date", "trade_type", "holder_type"),
       columns=(("trade_type", "in_de"),), key=("ts_code", "ann_date", "holder_name", "in_de"),
       date_column="ann_date", history_start="20040101", doc_id=175, title="股东增减持"),
    # key wider than the original's (ts_code, ann_date, float_date): one unlock lists many holders and
    # share types.
    _I("share_float", "stock", "ann_dates", 6000, points=120, full_rate_points=5000,
       params=("ts_code", "ann_date", "float_date", "start_date", "end_date"),
       key=("ts_code", "ann_date", "float_date", "holder_name", "share_type"), date_column="ann_date",
       history_start="20050101", doc_id=160, title="限售股解禁"),
    _I("repurchase", "stock", "ann_dates", 2000, points=600, params=("ann_date", "start_date", "end_date"),
       key=("ts_code", "ann_date", "proc"), date_column="ann_date", history_start="20050101", doc_id=124,
       title="股票回购"),
    _I("pledge_stat", "stock", "weeks", 5000, points=120, params=("ts_code", "end_date"),
       key=("ts_code", "end_date"), date_column="end_date", history_start="20140101", doc_id=110,
       title="股权质押统计数据"),
    # key adds report_title to the original's: one analyst can publish several reports on a stock and
    # quarter in a day.
    # points 8000: the formal permission (Tushare doc 292; 120 points get a 10-call/day trial, not used here).
    _I("report_rc", "stock", "trade_dates", 3000, points=8000,
       params=("ts_code", "report_date", "start_date", "end_date"),
       key=("ts_code", "report_date", "org_name", "author_name", "quarter", "report_title"),
       date_column="report_date", history_start="20100101", doc_id=292, title="卖方盈利预测数据"),
    # ---- stock: concept boards (THS, DC, KPL) --------------------------------------------------------------
    _I("ths_index", "stock", "snapshot", 5000, points=6000, params=("ts_code", "exchange", "type"),
       key=("ts_code",), doc_id=259, title="同花顺概念和行业指数"),
    _I("ths_member", "stock", "per_code", 5000, points=6000, per_minute=200, params=("ts_code", "con_code"),
       key=("ts_code", "con_code"), doc_id=261, title="同花顺概念板块成分"),
    _I("ths_daily", "stock", "trade_dates", 3000, points=5000, params=_CODE_DAY, key=("ts_code", "trade_date"),
       date_column="trade_date", history_start="20070801", doc_id=260, title="同花顺板块指数行情"),
    _I("dc_index", "stock", "trade_dates", 5000, points=6000, params=(*_CODE_DAY, "name"),
       key=("ts_code", "trade_date"), date_column="trade_date", history_start="20241220", doc_id=362,
       title="东方财富概念板块"),
    _I("dc_member", "stock", "trade_dates", 5000, points=6000, params=("ts_code", "con_code", "trade_date"),
       key=("trade_date", "ts_code", "con_code"), date_column="trade_date", history_start="20241220",
       doc_id=363, title="东方财富板块成分"),
    _I("dc_daily", "stock", "trade_dates", 2000, points=6000, params=_CODE_DAY, key=("ts_code", "trade_date"),
       date_column="trade_date", history_start="20200101", doc_id=382, title="东财概念板块行情"),
    _I("kpl_concept", "stock", "trade_dates", 5000, points=5000, params=("trade_date", "ts_code", "name"),
       key=("trade_date", "ts_code"), date_column="trade_date", history_start="20241014", doc_id=350,
       title="开盘啦题材库"),
    _I("kpl_concept_cons", "stock", "trade_dates", 3000, points=5000, params=("ts_code", "con_code", "trade_date"),
       key=("trade_date", "ts_code", "con_code"), date_column="trade_date", history_start="20241014",
       doc_id=351, title="开盘啦题材成分"),
    _I("kpl_list", "stock", "trade_dates", 8000, points=5000, params=(*_CODE_DAY, "tag"),
       key=("ts_code", "trade_date", "tag"), date_column="trade_date", history_start="20180101", doc_id=347,
       title="开盘啦榜单数据"),
    # ---- index -------------------------------------------------------------------------------------------
    _I("index_dailybasic", "index", "trade_dates", 3000, points=400, params=_CODE_DAY,
       key=("ts_code", "trade_date"), date_column="trade_date", history_start="20040101", doc_id=128,
       title="大盘指数每日指标"),
    _I("idx_factor_pro", "index", "trade_dates", 8000, points=5000, params=_CODE_DAY,
       key=("ts_code", "trade_date"), date_column="trade_date", history_start="20050101", doc_id=358,
       title="指数技术面因子（专业版）"),
    _I("index_global", "index", "trade_dates", 4000, points=6000, params=_CODE_DAY,
       key=("ts_code", "trade_date"), date_column="trade_date", history_start="19820920", doc_id=211,
       title="国际主要指数"),
    _I("sw_daily", "index", "trade_dates", 4000, points=5000, params=_CODE_DAY, key=("ts_code", "trade_date"),
       date_column="trade_date", history_start="20050101", doc_id=327, title="申万行业日线行情"),
    _I("ci_daily", "index", "trade_dates", 4000, points=5000, params=_CODE_DAY, key=("ts_code", "trade_date"),
       date_column="trade_date", history_start="20050101", doc_id=308, title="中信行业指数日行情"),
    _I("ci_index_member", "index", "snapshot", 5000, points=5000,
       params=("l1_code", "l2_code", "l3_code", "ts_code", "is_new"), defaults=(("is_new", "Y"),),
       key=("l3_code", "ts_code", "in_date"), history_start="19700101", doc_id=373, title="中信行业成分"),
    # ---- fund --------------------------------------------------------------------------------------------
    _I("etf_basic", "fund", "snapshot", 5000, points=8000,
       params=("ts_code", "index_code", "list_date", "list_status", "exchange", "mgr"),
       key=("ts_code",), history_start="19700101", doc_id=385, title="ETF基本信息"),
    _I("etf_index", "fund", "snapshot", 5000, points=8000, params=("ts_code", "pub_date", "base_date"),
       key=("ts_code",), history_start="19700101", doc_id=386, title="ETF基准指数"),
    _I("fund_daily", "fund", "trade_dates", 2000, points=5000, params=_CODE_DAY, key=("ts_code", "trade_date"),
       date_column="trade_date", history_start="20000101", doc_id=127, title="场内基金日线行情"),
    _I("fund_adj", "fund", "trade_dates", 2000, points=600, full_rate_points=5000, params=_CODE_DAY, key=("ts_code", "trade_date"),
       date_column="trade_date", history_start="20000101", doc_id=199, title="基金复权因子"),
    _I("fund_share", "fund", "trade_dates", 2000, params=(*_CODE_DAY, "market", "fund_type"),
       key=("ts_code", "trade_date"), date_column="trade_date", history_start="20000101", doc_id=207,
       title="基金规模"),
    # key (ts_code, ann_date, div_proc, base_date) rather than the original's (ts_code, ex_date): a plan moves
    # through stages (div_proc) and ex_date stays NULL until it is carried out.
    # No date window (doc 120: one of ann_date, ex_date, pay_date, ts_code; nothing else): history costs
    # one call per announcement day. Per fund would cost more (thousands of funds); ex/pay dates do not
    # select by announcement.
    _I("fund_div", "fund", "ann_dates", 2000, points=400,
       required=(("ann_date", "ex_date", "pay_date", "ts_code"),),
       key=("ts_code", "ann_date", "div_proc", "base_date"), date_column="ann_date", history_start="20050101",
       doc_id=120, title="基金分红"),
    _I("fund_portfolio", "fund", "ann_dates", 4000, points=5000,
       params=("ts_code", "ann_date", "start_date", "end_date", "period"), columns=_PERIOD,
       key=("ts_code", "end_date", "symbol", "ann_date"), date_column="ann_date", history_start="19980101",
       doc_id=121, title="基金持仓"),
    _I("fund_manager", "fund", "snapshot", 5000, points=500, full_rate_points=2000, params=("ts_code", "ann_date", "name"),
       key=("ts_code", "name", "begin_date"), history_start="19900101", doc_id=208, title="基金经理"),
    _I("fund_factor_pro", "fund", "trade_dates", 8000, points=5000, full_rate_points=8000,
       reduced_per_minute=30, params=_CODE_DAY,
       key=("ts_code", "trade_date"), date_column="trade_date", history_start="19991020", doc_id=359,
       title="场内基金技术面因子（专业版）"),
    # ---- cbond -------------------------------------------------------------------------------------------
    _I("cb_basic", "cbond", "snapshot", 2000, params=("ts_code", "list_date", "exchange"), key=("ts_code",),
       history_start="19700101", doc_id=185, title="可转债基础信息"),
    _I("cb_issue", "cbond", "ann_dates", 2000, params=("ts_code", "ann_date", "start_date", "end_date"),
       key=("ts_code", "ann_date"), date_column="ann_date", doc_id=186, title="可转债发行"),
    _I("cb_daily", "cbond", "trade_dates", 2000, params=_CODE_DAY, key=("ts_code", "trade_date"),
       date_column="trade_date", history_start="20050101", doc_id=187, title="可转债行情"),
    # key adds call_type and is_call to the original's (ts_code, ann_date): one day can bring a redemption
    # and a put notice, or a notice's stages (提示强赎 / 实施强赎).
    _I("cb_call", "cbond", "ann_dates", 2000, points=5000,
       params=("ts_code", "ann_date", "start_date", "end_date"), key=("ts_code", "ann_date", "call_type", "is_call"),
       date_column="ann_date", doc_id=269, title="可转债赎回信息"),
    _I("cb_rate", "cbond", "snapshot", 2000, points=5000, params=("ts_code",),
       key=("ts_code", "rate_start_date"), doc_id=305, title="可转债票面利率"),
    _I("cb_price_chg", "cbond", "snapshot", 2000, params=("ts_code",), key=("ts_code", "change_date"),
       history_start="19700101", doc_id=246, title="可转债转股价变动"),
    _I("cb_share", "cbond", "snapshot", 2000, full_rate_points=5000, params=("ts_code",), key=("ts_code", "end_date"), doc_id=247,
       title="可转债转股结果"),
    _I("cb_factor_pro", "cbond", "trade_dates", 10000, points=5000, full_rate_points=8000,
       reduced_per_minute=30, params=_CODE_DAY,
       key=("ts_code", "trade_date"), date_column="trade_date", history_start="20170101", doc_id=392,
       title="可转债技术面因子（专业版）"),
    # ---- future ------------------------------------------------------------------------------------------
    _I("fut_basic", "future", "snapshot", 10000, required=(("exchange",),), params=("fut_type", "fut_code"),
       key=("ts_code",), history_start="19700101", doc_id=135, title="期货合约信息表"),
    _I("fut_daily", "future", "trade_dates", 2000, params=(*_CODE_DAY, "exchange"), key=("ts_code", "trade_date"),
       date_column="trade_date", history_start="20060908", doc_id=138, title="期货日线行情"),
    _I("fut_holding", "future", "trade_dates", 5000, params=(*_DAY, "symbol", "exchange"),
       key=("trade_date", "symbol", "broker", "exchange"), date_column="trade_date", history_start="20100416",
       doc_id=139, title="每日成交持仓排名"),
    _I("fut_mapping", "future", "trade_dates", 2000, params=_CODE_DAY, key=("ts_code", "trade_date"),
       date_column="trade_date", history_start="20010101", doc_id=189, title="期货主力与连续合约"),
    # ---- option ------------------------------------------------------------------------------------------
    _I("opt_basic", "option", "snapshot", 12000, params=("ts_code", "exchange", "opt_code", "call_put"),
       key=("ts_code",), history_start="19700101", doc_id=158, title="期权合约信息"),
    _I("opt_daily", "option", "trade_dates", 15000, params=(*_CODE_DAY, "exchange"),
       key=("ts_code", "trade_date"), date_column="trade_date", history_start="20150209", doc_id=159,
       title="期权日线行情"),
    # ---- hk ----------------------------------------------------------------------------------------------
    _I("hk_basic", "hk", "snapshot", 8000, params=("ts_code", "list_status"), key=("ts_code",),
       history_start="19700101", doc_id=191, title="港股列表"),
    _I("hk_daily", "hk", "trade_dates", 5000, params=_CODE_DAY, key=("ts_code", "trade_date"),
       date_column="trade_date", history_start="19860402", doc_id=192, title="港股日线行情"),
    _I("hk_tradecal", "others", "snapshot", 2000, params=("start_date", "end_date", "is_open"),
       key=("exchange", "cal_date"), date_column="cal_date", doc_id=250, title="港股交易日历"),
    # ---- macro -------------------------------------------------------------------------------------------
    _I("shibor", "macro", "dates", 2000, params=("date", "start_date", "end_date"), key=("date",),
       date_column="date", history_start="20061008", doc_id=149, title="Shibor利率"),
    _I("hibor", "macro", "dates", 2000, params=("date", "start_date", "end_date"), key=("date",),
       date_column="date", history_start="20061231", doc_id=153, title="Hibor利率"),
    _I("yc_cb", "macro", "code_dates", 2000, points=5000, required=(("ts_code",),),
       params=("curve_type", "trade_date", "start_date", "end_date", "curve_term"),
       defaults=(("curve_type", "0"),), key=("trade_date", "ts_code", "curve_type", "curve_term"),
       date_column="trade_date", history_start="20160613", doc_id=201, title="中债收益率曲线"),
    _I("eco_cal", "macro", "dates", 100, params=("date", "start_date", "end_date", "currency", "country", "event"),
       key=("date", "time", "country", "event"), date_column="date", history_start="20000101", doc_id=233,
       title="全球财经日历"),
    _I("cn_cpi", "macro", "months", 5000, points=120, params=("m", "start_m", "end_m"), columns=(("m", "month"),),
       key=("month",), date_column="month", history_start="19960101", doc_id=228, title="居民消费价格指数"),
    _I("cn_ppi", "macro", "months", 5000, points=600, params=("m", "start_m", "end_m"),
       columns=(("m", "month"),), key=("month",), date_column="month", history_start="19960101", doc_id=245,
       title="工业生产者出厂价格指数"),
    _I("cn_pmi", "macro", "months", 2000, params=("m", "start_m", "end_m"), columns=(("m", "month"),),
       key=("month",), date_column="month", history_start="20050101", doc_id=325, title="采购经理人指数"),
    _I("cn_m", "macro", "months", 5000, params=("m", "start_m", "end_m"), columns=(("m", "month"),),
       key=("month",), date_column="month", history_start="19900101", doc_id=242, title="货币供应量（月）"),
    _I("sf_month", "macro", "months", 2000, params=("m", "start_m", "end_m"), columns=(("m", "month"),),
       key=("month",), date_column="month", history_start="19900101", doc_id=310, title="社融增量（月度）"),
    # ---- finance -----------------------------------------------------------------------------------------
    # key (ts_code, end_date, ann_date), the original's: a schedule is re-announced when its date moves
    # (modify_date), and each announcement is kept as its own row rather than overwriting the last.
    _I("disclosure_date", "finance", "periods", 3000, params=("ts_code", "end_date", "pre_date", "actual_date"),
       key=("ts_code", "end_date", "ann_date"), date_column="end_date", history_start="19901231", doc_id=162,
       title="财报披露计划"),
    # key adds update_flag to the original's (ts_code, end_date, bz_item): a revised report is a new version.
    _I("fina_mainbz", "finance", "periods", 100, required=(("ts_code",),), params=("period", "type"),
       columns=_PERIOD, defaults=(("type", "P"),), key=("ts_code", "end_date", "bz_item", "update_flag"),
       date_column="end_date", vip="fina_mainbz_vip", vip_row_cap=5000, history_start="20001231", doc_id=81,
       title="主营业务构成"),
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
