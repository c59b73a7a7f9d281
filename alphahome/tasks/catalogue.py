"""The dataset catalogue: every dataset AlphaHome syncs, as an explicit list of specs (no registration by
import side effects). Interface facts (row caps, points, rates, ``*_vip`` twins, where history starts) come
from the interface table, :mod:`alphahome.sources.tushare.interfaces`; a spec says how AlphaHome syncs.
"""

from __future__ import annotations

from alphahome.storage.spec import TableSpec
from alphahome.tasks.shapes import (
    CodeDates,
    CodeMonths,
    CodeSource,
    ReportPeriods,
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
#: Dividend plans: every period (Q1 and Q3 dividends are common since 2023). A plan moves through its stages
#: for up to ~2 years after its period: such periods are re-fetched, and a manual date range (which selects
#: by announcement) also fetches the periods whose plans can be announced in it.
_DIVIDEND_OPEN_DAYS = 730
_ANNOUNCED_PERIODS = ReportPeriods(date_param="end_date", announced_within_days=_DIVIDEND_OPEN_DAYS)
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
        "fund_nav", "fund_nav", "fund", ("ts_code", "nav_date"),
        TradeDates(window=False, date_param="nav_date", code_windows=True,
                   codes=CodeSource("fund_basic.ts_code")),
        date_column="nav_date", depends_on=("trade_cal", "fund_basic"),
        lookback_days=_MARKET_LOOKBACK, rows_per_date=1000,
        description="Fund net asset values, whole market per NAV date.",
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
        _ANNOUNCED_PERIODS, date_column="end_date",
        open_days=_DIVIDEND_OPEN_DAYS, nullable_key=("ann_date",),
        description="Dividend plans, one row per plan stage, every dividend period (Q1..annual).",
    ),
    # ---- industry ---------------------------------------------------------------------------------------
    DatasetSpec(
        "index_member_all", "index_member_all", "index", ("l3_code", "ts_code", "in_date"), _SNAPSHOT, variants=({"is_new": "Y"}, {"is_new": "N"}),
        description="Shenwan industry membership, current and past.",
    ),
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
