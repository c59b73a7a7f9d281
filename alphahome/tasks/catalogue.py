"""The dataset catalogue: every dataset AlphaHome syncs, as an explicit list of specs (no registration by
import side effects). Interface facts (row caps, points, rates, ``*_vip`` twins, where history starts) come
from the interface table, :mod:`alphahome.sources.tushare.interfaces`; a spec says how AlphaHome syncs.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from alphahome.sources.tushare.interfaces import INTERFACES, Interface
from alphahome.storage.spec import TableSpec
from alphahome.tasks.announcements import AnnouncementDays
from alphahome.tasks.shapes import (
    CalendarDates,
    CodeDates,
    CodeMonths,
    CodeSource,
    PerCode,
    ReportPeriods,
    RequestShape,
    Snapshot,
    TradeDates,
)
from alphahome.tasks.spec import DatasetSpec, Rule

_SNAPSHOT = Snapshot()
_TRADE_DATES = TradeDates()
_PERIODS = ReportPeriods(date_param="period")
#: The major broad indices index datasets cover by default (``tasks.<name>.codes`` or ``.filter`` change
#: the set): SSE Composite, SSE 50, CSI 300, CSI 500, CSI 1000, CSI 2000, STAR 50, SZSE Component, ChiNext,
#: BSE 50 (index_basic lists thousands).
MAJOR_INDICES = ("000001.SH", "000016.SH", "000300.SH", "000905.SH", "000852.SH", "932000.CSI", "000688.SH",
                 "399001.SZ", "399006.SZ", "899050.BJ")
#: Index datasets: the major indices unless configured otherwise.
INDICES = CodeSource("index_basic.ts_code", default=MAJOR_INDICES, configurable=True)
#: Every market ``index_basic`` knows (without ``market`` Tushare answers for SSE only).
INDEX_MARKETS = ("SSE", "SZSE", "CSI", "CICC", "SW", "MSCI", "OTH")
#: Dividend plans are selected by announcement day (ann_date and imp_ann_date), whatever their period (Q1
#: and Q3 plans, FY plans announced the next year): see alphahome/tasks/announcements.py. A plan proposed
#: this many days ago without an implementation is still open (its approval is filed under its proposal
#: day, which smart runs ask again).
_DIVIDEND_OPEN_DAYS = 180
_ANNOUNCEMENT_DAYS = AnnouncementDays()
#: Days a smart run asks again (announcements Tushare files late): two calls each.
_DIVIDEND_LOOKBACK = 3
#: Consolidated (1) and single-quarter consolidated (2) statements: the report types research uses.
_REPORT_TYPES = ({"report_type": "1"}, {"report_type": "2"})
_STATEMENT_KEY = ("ts_code", "end_date", "report_type", "ann_date", "f_ann_date", "update_flag")
_PRICE_RULES = (
    Rule("high", ">=", "low"),
    Rule("close", ">", 0),
    Rule("open", ">", 0),
    Rule("high", ">=", "close"),
    Rule("low", "<=", "close"),
)
#: Periods younger than ~15 months still receive late reports and restatements: re-fetched each run.
_OPEN_PERIOD_DAYS = 460
_MARKET_LOOKBACK = 3
#: Corrected NAVs are republished for the same nav_date a few days later (a new ann_date): smart runs
#: re-fetch this many recent NAV dates so that the correction arrives.
_NAV_LOOKBACK = 5
#: Windows of the long-tail datasets hold up to ~20 pages: their daily volumes (real figures in the specs)
#: vary by market and era, and a window paged with offset/limit costs no more calls than the same rows in
#: one-page windows, while a smaller market needs far fewer calls. Memory stays ~20 pages per batch.
_TAIL_PAGES = 20
#: Event datasets re-fetch this many recent announcement days (late and revised announcements).
_EVENT_LOOKBACK = 7
#: Futures exchanges (fut_basic needs one per call).
_FUTURES_EXCHANGES = ("CFFEX", "DCE", "CZCE", "SHFE", "INE", "GFEX")

def _shape_for(facts: Interface, variants: tuple[Mapping[str, str], ...]) -> RequestShape:
    """The request-shape object for an interface entry's shape name. Date windows are used where the API
    takes ``start_date``/``end_date`` and its required parameters are met without a single date."""
    given = {k for v in variants for k in v}
    windowed = "start_date" in facts.all_params and all(
        set(group) & (given | {"start_date", "end_date"}) for group in facts.required)
    date_param = facts.date_column if facts.date_column in facts.all_params else "trade_date"
    if facts.shape in ("snapshot", "months", "quarters"):
        return _SNAPSHOT  # whole series in one (paged) call: small tables
    if facts.shape == "trade_dates":
        return TradeDates(window=windowed, date_param=date_param, pages_per_window=_TAIL_PAGES)
    if facts.shape in ("ann_dates", "dates"):
        return CalendarDates(date_param=facts.date_column or "ann_date", window=windowed,
                             pages_per_window=_TAIL_PAGES)
    if facts.shape == "weeks":
        return CalendarDates(date_param=facts.date_column or "end_date", window=False, weekdays=(4,))
    if facts.shape == "periods":
        return ReportPeriods(date_param="period" if "period" in facts.all_params else "end_date")
    if facts.shape == "per_index":
        return CodeDates(codes=INDICES)
    if facts.shape == "per_index_month":
        return CodeMonths(code_param="index_code", codes=INDICES)
    raise ValueError(f"{facts.name}: shape {facts.shape!r} needs an explicit shape in its spec")


def _from_table(api: str, *, shape: RequestShape | None = None, **given: Any) -> DatasetSpec:
    """A dataset whose key, date column, family and shape are the interface table's (``given`` overrides
    them, and sets the sync policy: look-back, refresh, variants, dependencies …)."""
    facts = INTERFACES[api]
    variants = given.setdefault("variants", ({},))
    shape = shape or _shape_for(facts, variants)
    given.setdefault("date_column", facts.date_column)
    deps: list[str] = list(given.pop("depends_on", ()))
    if shape.name in ("trade_dates", "per_index") and "trade_cal" not in deps:
        deps.insert(0, "trade_cal")
    source = shape.code_source()
    if source is not None and source.table and source.table not in deps:
        deps.append(source.table)
    if shape.name in ("trade_dates", "per_index"):
        given.setdefault("lookback_days", _MARKET_LOOKBACK)
    elif shape.name in ("ann_dates", "dates"):
        given.setdefault("lookback_days", _EVENT_LOOKBACK)
    return DatasetSpec(given.pop("name", api), api, given.pop("family", facts.family),
                       given.pop("key", facts.key), shape, depends_on=tuple(deps), **given)


CATALOGUE: tuple[DatasetSpec, ...] = (
    # ---- reference --------------------------------------------------------------------------------------
    DatasetSpec(
        "trade_cal", "trade_cal", "others", ("exchange", "cal_date"), _SNAPSHOT, variants=({"exchange": "SSE"}, {"exchange": "SZSE"}),
        description="Trading calendar of SSE and SZSE (published ahead).",
    ),
    DatasetSpec(
        "stock_basic", "stock_basic", "stock", ("ts_code",), _SNAPSHOT,
        variants=tuple({"list_status": s} for s in ("L", "D", "P", "G")),
        description="Every stock ever listed (all list_status values), current names.",
    ),
    DatasetSpec(
        "index_basic", "index_basic", "index", ("ts_code",), _SNAPSHOT, refresh_days=7,
        variants=tuple({"market": m} for m in INDEX_MARKETS),
        description="Index descriptions of every market (rarely change: refreshed weekly).",
    ),
    DatasetSpec(
        "index_classify", "index_classify", "index", ("index_code",), _SNAPSHOT,
        refresh_days=7, description="Shenwan industry classes (L1/L2/L3; refreshed weekly).",
    ),
    DatasetSpec(
        "fund_basic", "fund_basic", "fund", ("ts_code",), _SNAPSHOT,
        variants=({"market": "E"}, {"market": "O"}),
        description="Exchange-traded and OTC funds.",
    ),
    # ---- market -----------------------------------------------------------------------------------------
    DatasetSpec(
        "daily", "daily", "stock", ("ts_code", "trade_date"), _TRADE_DATES, date_column="trade_date", depends_on=("trade_cal",), lookback_days=_MARKET_LOOKBACK,
        rules=_PRICE_RULES, description="Unadjusted daily bars (no rows on suspended days).",
    ),
    DatasetSpec(
        "adj_factor", "adj_factor", "stock", ("ts_code", "trade_date"), _TRADE_DATES,
        date_column="trade_date", depends_on=("trade_cal",), lookback_days=_MARKET_LOOKBACK,
        rules=(Rule("adj_factor", ">", 0),), description="Cumulative backward adjustment factors.",
    ),
    DatasetSpec(
        "daily_basic", "daily_basic", "stock", ("ts_code", "trade_date"),
        TradeDates(window=False, code_windows=True), date_column="trade_date",
        depends_on=("trade_cal", "stock_basic"), lookback_days=_MARKET_LOOKBACK, rules=(Rule("close", ">", 0),),
        description="Daily valuation and share indicators (ts_code or trade_date required).",
    ),
    DatasetSpec(
        "moneyflow", "moneyflow", "stock", ("ts_code", "trade_date"), _TRADE_DATES,
        date_column="trade_date", depends_on=("trade_cal",),
        lookback_days=_MARKET_LOOKBACK, description="Money flow by order size.",
    ),
    DatasetSpec(
        "stk_limit", "stk_limit", "stock", ("ts_code", "trade_date"), _TRADE_DATES,
        date_column="trade_date", depends_on=("trade_cal",), lookback_days=_MARKET_LOOKBACK,
        rules=(Rule("up_limit", ">=", "down_limit"),), description="Daily price limits.",
    ),
    DatasetSpec(
        "suspend_d", "suspend_d", "stock", ("ts_code", "trade_date", "suspend_type"), _TRADE_DATES,
        date_column="trade_date", depends_on=("trade_cal",), lookback_days=_MARKET_LOOKBACK,
        rows_per_date=50, empty_means_unpublished=False, description="Suspensions, one row per day.",
    ),
    DatasetSpec(
        "index_daily", "index_daily", "index", ("ts_code", "trade_date"),
        CodeDates(codes=INDICES), date_column="trade_date", depends_on=("trade_cal", "index_basic"), lookback_days=_MARKET_LOOKBACK,
        rows_per_date=1, rules=_PRICE_RULES, description="Index daily bars, per index.",
    ),
    DatasetSpec(
        "index_weight", "index_weight", "index", ("index_code", "con_code", "trade_date"),
        CodeMonths(code_param="index_code", codes=INDICES),
        date_column="trade_date", depends_on=("index_basic",),
        empty_means_unpublished=False, rules=(Rule("weight", ">=", 0),),
        description="Monthly index constituent weights, per index per month.",
    ),
    DatasetSpec(
        "fund_nav", "fund_nav", "fund", ("ts_code", "nav_date", "ann_date"),
        TradeDates(window=False, date_param="nav_date", code_windows=True,
                   codes=CodeSource("fund_basic.ts_code")),
        date_column="nav_date", depends_on=("trade_cal", "fund_basic"),
        lookback_days=_NAV_LOOKBACK, rows_per_date=1000, nullable_key=("ann_date",),
        description="Fund net asset values, whole market per NAV date; corrected NAVs kept as versions.",
    ),
    # ---- financial --------------------------------------------------------------------------------------
    DatasetSpec(
        "income", "income", "finance", _STATEMENT_KEY, _PERIODS, date_column="end_date", variants=_REPORT_TYPES,
        depends_on=("stock_basic",), open_days=_OPEN_PERIOD_DAYS, nullable_key=("ann_date", "f_ann_date"), description="Income statements, every version.",
    ),
    DatasetSpec(
        "balancesheet", "balancesheet", "finance", _STATEMENT_KEY, _PERIODS, date_column="end_date", variants=_REPORT_TYPES,
        depends_on=("stock_basic",), open_days=_OPEN_PERIOD_DAYS, nullable_key=("ann_date", "f_ann_date"), description="Balance sheets, every version.",
    ),
    DatasetSpec(
        "cashflow", "cashflow", "finance", _STATEMENT_KEY, _PERIODS, date_column="end_date", variants=_REPORT_TYPES,
        depends_on=("stock_basic",), open_days=_OPEN_PERIOD_DAYS, nullable_key=("ann_date", "f_ann_date"), description="Cash-flow statements, every version.",
    ),
    DatasetSpec(
        "fina_indicator", "fina_indicator", "finance", ("ts_code", "end_date", "ann_date", "update_flag"),
        _PERIODS, date_column="end_date",
        depends_on=("stock_basic",), open_days=_OPEN_PERIOD_DAYS, nullable_key=("ann_date",),
        description="Financial indicators, every version.",
    ),
    DatasetSpec(
        "express", "express", "finance", ("ts_code", "end_date", "ann_date"), _PERIODS,
        date_column="end_date", depends_on=("stock_basic",),
        open_days=_OPEN_PERIOD_DAYS, description="Preliminary results (业绩快报).",
    ),
    DatasetSpec(
        "forecast", "forecast", "finance", ("ts_code", "end_date", "ann_date"), _PERIODS,
        date_column="end_date", depends_on=("stock_basic",),
        open_days=_OPEN_PERIOD_DAYS, description="Results forecasts (业绩预告); revisions are new ann_dates.",
    ),
    DatasetSpec(
        "dividend", "dividend", "stock", ("ts_code", "end_date", "ann_date", "div_proc"),
        _ANNOUNCEMENT_DAYS, date_column="ann_date", lookback_days=_DIVIDEND_LOOKBACK,
        open_days=_DIVIDEND_OPEN_DAYS, nullable_key=("ann_date",),
        description="Dividend plans, one row per plan stage and revision, by announcement day (Q1..annual).",
    ),
    # ---- industry ---------------------------------------------------------------------------------------
    DatasetSpec(
        "index_member_all", "index_member_all", "index", ("l3_code", "ts_code", "in_date"), _SNAPSHOT, variants=({"is_new": "Y"}, {"is_new": "N"}),
        description="Shenwan industry membership, current and past.",
    ),
    # ---- stock: reference, events, boards -----------------------------------------------------------------
    _from_table("namechange", description="Former names of every stock."),
    _from_table("stock_st", rows_per_date=200, description="Stocks under ST treatment, per day."),
    _from_table("stk_weekly_monthly", variants=({"freq": "week"}, {"freq": "month"}), rows_per_date=1000,
                empty_means_unpublished=False,
                description="Weekly and monthly bars (tushare_stock_weekly / tushare_stock_monthly), by freq."),
    _from_table("stk_factor_pro", rules=_PRICE_RULES, description="Technical factors per stock and day."),
    _from_table("cyq_perf", description="Chip distribution and winner rate per stock and day."),
    _from_table("margin", rows_per_date=3, description="Margin trading totals per exchange."),
    _from_table("margin_detail", rows_per_date=4000, description="Margin trading per stock."),
    _from_table("moneyflow_hsgt", rows_per_date=1, description="Northbound / southbound money flow."),
    _from_table("hsgt_top10", rows_per_date=40, description="Top 10 Stock Connect trades per day."),
    _from_table("hk_hold", rows_per_date=3000, description="Stock Connect holdings per stock."),
    _from_table("top_list", rows_per_date=80, description="Dragon-tiger list: stocks and reasons per day."),
    _from_table("top_inst", rows_per_date=800, description="Dragon-tiger list: seats per stock and day."),
    _from_table("block_trade", rows_per_date=100, empty_means_unpublished=False, description="Block trades."),
    _from_table("limit_list_d", rows_per_date=150, description="Limit-up / limit-down stocks per day."),
    _from_table("stk_ah_comparison", rows_per_date=150, description="A/H share price comparison."),
    _from_table("stk_holdernumber", description="Shareholder counts, by announcement date."),
    _from_table("stk_holdertrade", description="Major holders' trades, by announcement date."),
    _from_table("share_float", description="Restricted shares unlocking, by announcement date."),
    _from_table("repurchase", description="Share repurchases, one row per stage, by announcement date."),
    _from_table("pledge_stat", description="Share pledge statistics (weekly, Fridays)."),
    _from_table("report_rc", shape=CalendarDates(date_param="report_date", pages_per_window=_TAIL_PAGES),
                rows_per_date=200,
                lookback_days=_EVENT_LOOKBACK, description="Broker earnings forecasts, by report date."),
    _from_table("ths_index", refresh_days=7, description="THS concept and industry boards."),
    _from_table("ths_member", shape=PerCode(codes=CodeSource("ths_index.ts_code")),
                description="THS board members, per board."),
    _from_table("ths_daily", rows_per_date=1200, description="THS board daily bars."),
    _from_table("dc_index", rows_per_date=1000, description="DC (East Money) concept boards per day."),
    _from_table("dc_member", rows_per_date=5000, description="DC board members per day."),
    _from_table("dc_daily", rows_per_date=1000, description="DC board daily bars."),
    _from_table("kpl_concept", rows_per_date=300, description="KPL themes per day."),
    _from_table("kpl_concept_cons", rows_per_date=3000, description="KPL theme members per day."),
    _from_table("kpl_list", rows_per_date=100, description="KPL limit lists per day."),
    # ---- index ---------------------------------------------------------------------------------------------
    _from_table("index_dailybasic", shape=CodeDates(codes=INDICES), rows_per_date=1,
                description="Index valuation (PE, PB, turnover), per index."),
    _from_table("idx_factor_pro", shape=CodeDates(codes=INDICES), rows_per_date=1,
                description="Index technical factors, per index."),
    _from_table("index_global", rows_per_date=10, empty_means_unpublished=False,
                description="Major global indices (foreign calendars)."),
    _from_table("sw_daily", rows_per_date=450, description="Shenwan industry index bars and valuation."),
    _from_table("ci_daily", rows_per_date=300, description="CITIC industry index bars."),
    _from_table("ci_index_member", variants=({"is_new": "Y"}, {"is_new": "N"}), refresh_days=7,
                description="CITIC industry membership, current and past."),
    # ---- fund ----------------------------------------------------------------------------------------------
    _from_table("etf_basic", refresh_days=7, description="ETF descriptions."),
    _from_table("etf_index", refresh_days=7, description="ETF benchmark indices."),
    _from_table("fund_daily", rows_per_date=1500, rules=_PRICE_RULES, description="Exchange fund bars."),
    _from_table("fund_adj", rows_per_date=1500, description="Fund adjustment factors."),
    _from_table("fund_share", rows_per_date=1500, description="Fund shares outstanding."),
    _from_table("fund_div", description="Fund dividends, by announcement date."),
    _from_table("fund_portfolio", description="Fund holdings, by announcement date."),
    _from_table("fund_manager", refresh_days=7, description="Fund managers."),
    _from_table("fund_factor_pro", rows_per_date=1500, description="Exchange fund technical factors."),
    # ---- cbond ---------------------------------------------------------------------------------------------
    _from_table("cb_basic", description="Convertible bonds."),
    _from_table("cb_issue", description="Convertible bond issues, by announcement date."),
    _from_table("cb_daily", rows_per_date=500, description="Convertible bond bars."),
    _from_table("cb_call", description="Convertible bond calls, by announcement date."),
    _from_table("cb_rate", description="Convertible bond coupon schedules."),
    _from_table("cb_price_chg", description="Conversion price changes."),
    _from_table("cb_share", description="Conversion results."),
    _from_table("cb_factor_pro", rows_per_date=500, description="Convertible bond technical factors."),
    # ---- future / option -----------------------------------------------------------------------------------
    _from_table("fut_basic", variants=tuple({"exchange": e} for e in _FUTURES_EXCHANGES),
                description="Futures contracts of every exchange."),
    _from_table("fut_daily", rows_per_date=1000, empty_means_unpublished=False, description="Futures bars."),
    _from_table("fut_holding", rows_per_date=5000, empty_means_unpublished=False,
                description="Futures positions by broker."),
    _from_table("fut_mapping", rows_per_date=200, empty_means_unpublished=False,
                description="Main and continuous contract mapping."),
    _from_table("opt_basic", description="Option contracts."),
    _from_table("opt_daily", rows_per_date=8000, empty_means_unpublished=False, description="Option bars."),
    # ---- hk ------------------------------------------------------------------------------------------------
    _from_table("hk_basic", description="Hong Kong stocks."),
    _from_table("hk_daily", rows_per_date=2600, empty_means_unpublished=False,
                description="Hong Kong daily bars (HKEX calendar)."),
    _from_table("hk_tradecal", refresh_days=7, description="HKEX trading calendar."),
    # ---- macro ---------------------------------------------------------------------------------------------
    _from_table("shibor", rows_per_date=1, description="Shibor rates."),
    _from_table("hibor", rows_per_date=1, description="Hibor rates."),
    _from_table("yc_cb", shape=CodeDates(codes=CodeSource("", default=("1001.CB",))), rows_per_date=50,
                variants=({"curve_type": "0"}, {"curve_type": "1"}),
                depends_on=("trade_cal",), lookback_days=_MARKET_LOOKBACK, empty_means_unpublished=False,
                description="ChinaBond treasury yield curve (1001.CB), every term, yield to maturity and spot."),
    _from_table("eco_cal", rows_per_date=30, description="Global economic calendar."),
    _from_table("cn_cpi", description="CPI (monthly)."),
    _from_table("cn_ppi", description="PPI (monthly)."),
    _from_table("cn_pmi", description="PMI (monthly)."),
    _from_table("cn_m", description="Money supply M0/M1/M2 (monthly)."),
    _from_table("sf_month", description="Social financing (monthly)."),
    # ---- finance -------------------------------------------------------------------------------------------
    # Each re-announced schedule is its own row (key with ann_date); a schedule not yet announced may
    # carry no ann_date.
    _from_table("disclosure_date", open_days=_OPEN_PERIOD_DAYS, nullable_key=("ann_date",),
                description="Report disclosure schedule, every announced version."),
    _from_table("fina_mainbz", depends_on=("stock_basic",), open_days=_OPEN_PERIOD_DAYS,
                description="Main business composition (products), every version."),
)

#: name -> spec.
DATASETS: dict[str, DatasetSpec] = {spec.name: spec for spec in CATALOGUE}


def get_dataset(name: str) -> DatasetSpec:
    """The spec called ``name``; KeyError lists the known names."""
    try:
        return DATASETS[name]
    except KeyError:
        known = ", ".join(sorted(DATASETS))
        raise KeyError(f"unknown dataset {name!r} (known: {known})") from None


def table_spec(dataset_name: str) -> TableSpec:
    """The storage :class:`TableSpec` of a catalogue dataset (``tushare.<api without _vip>``)."""
    return get_dataset(dataset_name).table_spec()
