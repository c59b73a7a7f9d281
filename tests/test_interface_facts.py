"""The Tushare facts that matter, pinned: each API's points, row cap, key, date column and where its history
starts, and the rates of the APIs Tushare quotes two points figures for.

The expected values live here, each row marked with where it was checked (docs/tushare_interfaces.md,
"Facts and their sources"): ``api`` the project's Tushare API reference, ``ep`` the endpoint facts of the
original system, ``docNNN`` the Tushare documentation page doc_id=NNN, ``unverified`` in neither (kept as it
was). A change to the interface table that moves one of these facts fails here and names the API, so a fact
changes only on purpose.
"""

from __future__ import annotations

import pytest

from alphahome.sandbox.catalog import build_catalog
from alphahome.sandbox.quota import QuotaKeeper
from alphahome.sources.tushare.interfaces import INTERFACES, interface
from alphahome.tasks.catalogue import CATALOGUE

#: (api, points ("low/full" where Tushare gives two figures), row cap, key, date column, history start)
FACTS: tuple[tuple[str, str, int, tuple[str, ...], str | None, str], ...] = (
    ("trade_cal", "2000", 20000, ("exchange", "cal_date"), "cal_date", "19900101"),  # points: api; cap: unverified
    ("stock_basic", "2000", 6000, ("ts_code",), None, "19700101"),  # points: api; cap: api
    ("daily", "120", 6000, ("ts_code", "trade_date"), "trade_date", "19901219"),  # points: api; cap: api
    ("adj_factor", "2000", 6000, ("ts_code", "trade_date"), "trade_date", "19901219"),  # points: api; cap: unverified
    ("daily_basic", "2000", 6000, ("ts_code", "trade_date"), "trade_date", "19910101"),  # points: api; cap: api
    ("moneyflow", "2000", 6000, ("ts_code", "trade_date"), "trade_date", "20100101"),  # points: api; cap: api
    ("stk_limit", "2000", 5800, ("ts_code", "trade_date"), "trade_date", "20070101"),  # points: api; cap: api
    ("suspend_d", "2000", 5000, ("ts_code", "trade_date", "suspend_type"), "trade_date", "19900101"),  # points: api; cap: api
    ("dividend", "2000", 2000, ("ts_code", "end_date", "ann_date", "div_proc"), "ann_date", "20050101"),  # points: api; cap: api
    ("index_basic", "2000", 8000, ("ts_code",), None, "19900101"),  # points: api; cap: api
    ("index_daily", "2000", 8000, ("ts_code", "trade_date"), "trade_date", "19900101"),  # points: api; cap: api
    ("index_weight", "2000", 6000, ("index_code", "con_code", "trade_date"), "trade_date", "20050101"),  # points: api; cap: unverified
    ("index_classify", "2000", 2000, ("index_code",), None, "19900101"),  # points: api; cap: unverified
    ("index_member", "2000", 2000, ("index_code", "con_code", "in_date"), None, "19900101"),  # points: api; cap: api
    ("index_member_all", "2000", 2000, ("l3_code", "ts_code", "in_date"), None, "19700101"),  # points: api; cap: api
    ("fund_basic", "2000", 15000, ("ts_code",), None, "19700101"),  # points: api; cap: api
    ("fund_nav", "2000", 2000, ("ts_code", "nav_date", "ann_date"), "nav_date", "20000101"),  # points: api; cap: unverified; key keeps corrected NAVs (api: "plus ann_date if revisions are kept")
    ("income", "2000", 500, ("ts_code", "end_date", "report_type", "ann_date", "f_ann_date", "update_flag"), "end_date", "19901231"),  # points: api; cap: api
    ("balancesheet", "2000", 100, ("ts_code", "end_date", "report_type", "ann_date", "f_ann_date", "update_flag"), "end_date", "19901231"),  # points: api; cap: api
    ("cashflow", "2000", 500, ("ts_code", "end_date", "report_type", "ann_date", "f_ann_date", "update_flag"), "end_date", "19901231"),  # points: api; cap: unverified
    ("fina_indicator", "2000", 100, ("ts_code", "end_date", "ann_date", "update_flag"), "end_date", "19900101"),  # points: api; cap: api
    ("express", "2000", 2000, ("ts_code", "end_date", "ann_date"), "end_date", "19900101"),  # points: api; cap: unverified
    ("forecast", "2000", 3500, ("ts_code", "end_date", "ann_date"), "end_date", "19900101"),  # points: api; cap: api
    ("namechange", "2000", 10000, ("ts_code", "start_date", "name"), None, "19900101"),  # points: unverified; cap: unverified
    ("stock_st", "2000", 1000, ("ts_code", "trade_date"), "trade_date", "20160101"),  # points: unverified; cap: unverified
    ("stk_weekly_monthly", "2000", 6000, ("ts_code", "trade_date", "freq"), "trade_date", "20050101"),  # points: ep; cap: unverified
    ("stk_factor_pro", "5000/8000", 10000, ("ts_code", "trade_date"), "trade_date", "19901219"),  # points: doc328; cap: doc328
    ("cyq_perf", "5000", 5000, ("ts_code", "trade_date"), "trade_date", "20180101"),  # points: doc293; cap: doc293
    ("margin", "2000", 4000, ("trade_date", "exchange_id"), "trade_date", "20100331"),  # points: ep; cap: ep
    ("margin_detail", "2000", 6000, ("ts_code", "trade_date"), "trade_date", "20100331"),  # points: ep; cap: ep
    ("moneyflow_hsgt", "2000", 300, ("trade_date",), "trade_date", "20141117"),  # points: unverified; cap: unverified
    ("hsgt_top10", "2000", 5000, ("trade_date", "market_type", "ts_code"), "trade_date", "20141117"),  # points: unverified; cap: unverified
    ("hk_hold", "2000", 5000, ("trade_date", "exchange", "ts_code"), "trade_date", "20141117"),  # points: unverified; cap: unverified
    ("top_list", "2000", 10000, ("trade_date", "ts_code", "reason"), "trade_date", "20050101"),  # points: ep; cap: doc106
    ("top_inst", "5000", 10000, ("trade_date", "ts_code", "exalter", "side", "reason"), "trade_date", "20050101"),  # points: ep; cap: unverified
    ("block_trade", "300/5000", 1000, ("ts_code", "trade_date", "buyer", "seller", "price", "vol"), "trade_date", "20050101"),  # points: ep; cap: ep
    ("limit_list_d", "5000", 2500, ("ts_code", "trade_date"), "trade_date", "20200101"),  # points: ep; cap: ep
    ("stk_ah_comparison", "5000", 1000, ("trade_date", "ts_code", "hk_code"), "trade_date", "20250812"),  # points: doc399; cap: doc399
    ("stk_holdernumber", "600", 3000, ("ts_code", "ann_date", "end_date"), "ann_date", "20050101"),  # points: ep; cap: ep
    ("stk_holdertrade", "2000/5000", 3000, ("ts_code", "ann_date", "holder_name", "in_de"), "ann_date", "20040101"),  # points: ep; cap: ep
    ("share_float", "120/5000", 6000, ("ts_code", "ann_date", "float_date", "holder_name", "share_type"), "ann_date", "20050101"),  # points: ep; cap: ep
    ("repurchase", "600", 2000, ("ts_code", "ann_date", "proc"), "ann_date", "20050101"),  # points: ep; cap: ep
    ("pledge_stat", "120", 5000, ("ts_code", "end_date"), "end_date", "20140101"),  # points: ep; cap: unverified
    ("report_rc", "8000", 3000, ("ts_code", "report_date", "org_name", "author_name", "quarter", "report_title"), "report_date", "20100101"),  # points: doc292; cap: doc292
    ("ths_index", "6000", 5000, ("ts_code",), None, "19900101"),  # points: doc259; cap: doc259
    ("ths_member", "6000", 5000, ("ts_code", "con_code"), None, "19900101"),  # points: doc261; cap: unverified
    ("ths_daily", "5000", 3000, ("ts_code", "trade_date"), "trade_date", "20070801"),  # points: unverified; cap: unverified
    ("dc_index", "6000", 5000, ("ts_code", "trade_date"), "trade_date", "20241220"),  # points: doc362; cap: doc362
    ("dc_member", "6000", 5000, ("trade_date", "ts_code", "con_code"), "trade_date", "20241220"),  # points: doc363; cap: doc363
    ("dc_daily", "6000", 2000, ("ts_code", "trade_date"), "trade_date", "20200101"),  # points: doc382; cap: doc382
    ("kpl_concept", "5000", 5000, ("trade_date", "ts_code"), "trade_date", "20241014"),  # points: doc350; cap: doc350
    ("kpl_concept_cons", "5000", 3000, ("trade_date", "ts_code", "con_code"), "trade_date", "20241014"),  # points: doc351; cap: doc351
    ("kpl_list", "5000", 8000, ("ts_code", "trade_date", "tag"), "trade_date", "20180101"),  # points: unverified; cap: unverified
    ("index_dailybasic", "400", 3000, ("ts_code", "trade_date"), "trade_date", "20040101"),  # points: doc128; cap: ep
    ("idx_factor_pro", "5000", 8000, ("ts_code", "trade_date"), "trade_date", "20050101"),  # points: unverified; cap: unverified
    ("index_global", "6000", 4000, ("ts_code", "trade_date"), "trade_date", "19820920"),  # points: ep; cap: ep
    ("sw_daily", "5000", 4000, ("ts_code", "trade_date"), "trade_date", "20050101"),  # points: doc327; cap: doc327
    ("ci_daily", "5000", 4000, ("ts_code", "trade_date"), "trade_date", "20050101"),  # points: unverified; cap: unverified
    ("ci_index_member", "5000", 5000, ("l3_code", "ts_code", "in_date"), None, "19700101"),  # points: unverified; cap: unverified
    ("etf_basic", "8000", 5000, ("ts_code",), None, "19700101"),  # points: doc385; cap: doc385
    ("etf_index", "8000", 5000, ("ts_code",), None, "19700101"),  # points: unverified; cap: unverified
    ("fund_daily", "5000", 2000, ("ts_code", "trade_date"), "trade_date", "20000101"),  # points: unverified; cap: unverified
    ("fund_adj", "600/5000", 2000, ("ts_code", "trade_date"), "trade_date", "20000101"),  # points: doc199; cap: doc199
    ("fund_share", "2000", 2000, ("ts_code", "trade_date"), "trade_date", "20000101"),  # points: unverified; cap: unverified
    ("fund_div", "400", 2000, ("ts_code", "ann_date", "div_proc", "base_date"), "ann_date", "20050101"),  # points: ep; cap: unverified
    ("fund_portfolio", "5000", 4000, ("ts_code", "end_date", "symbol", "ann_date"), "ann_date", "19980101"),  # points: unverified; cap: unverified
    ("fund_manager", "500/2000", 5000, ("ts_code", "name", "begin_date"), None, "19900101"),  # points: ep; cap: ep
    ("fund_factor_pro", "5000/8000", 8000, ("ts_code", "trade_date"), "trade_date", "19991020"),  # points: ep; cap: ep
    ("cb_basic", "2000", 2000, ("ts_code",), None, "19700101"),  # points: ep; cap: unverified
    ("cb_issue", "2000", 2000, ("ts_code", "ann_date"), "ann_date", "19900101"),  # points: ep; cap: unverified
    ("cb_daily", "2000", 2000, ("ts_code", "trade_date"), "trade_date", "20050101"),  # points: unverified; cap: unverified
    ("cb_call", "5000", 2000, ("ts_code", "ann_date", "call_type", "is_call"), "ann_date", "19900101"),  # points: ep; cap: ep
    ("cb_rate", "5000", 2000, ("ts_code", "rate_start_date"), None, "19900101"),  # points: ep; cap: ep
    ("cb_price_chg", "2000", 2000, ("ts_code", "change_date"), None, "19700101"),  # points: unverified; cap: unverified
    ("cb_share", "2000/5000", 2000, ("ts_code", "end_date"), None, "19900101"),  # points: ep; cap: unverified
    ("cb_factor_pro", "5000/8000", 10000, ("ts_code", "trade_date"), "trade_date", "20170101"),  # points: ep; cap: ep
    ("fut_basic", "2000", 10000, ("ts_code",), None, "19700101"),  # points: unverified; cap: unverified
    ("fut_daily", "2000", 2000, ("ts_code", "trade_date"), "trade_date", "20060908"),  # points: unverified; cap: unverified
    ("fut_holding", "2000", 5000, ("trade_date", "symbol", "broker", "exchange"), "trade_date", "20100416"),  # points: unverified; cap: unverified
    ("fut_mapping", "2000", 2000, ("ts_code", "trade_date"), "trade_date", "20010101"),  # points: ep; cap: ep
    ("opt_basic", "2000", 12000, ("ts_code",), None, "19700101"),  # points: unverified; cap: unverified
    ("opt_daily", "2000", 15000, ("ts_code", "trade_date"), "trade_date", "20150209"),  # points: unverified; cap: unverified
    ("hk_basic", "2000", 8000, ("ts_code",), None, "19700101"),  # points: unverified; cap: unverified
    ("hk_daily", "2000", 5000, ("ts_code", "trade_date"), "trade_date", "19860402"),  # points: unverified; cap: unverified
    ("hk_tradecal", "2000", 2000, ("exchange", "cal_date"), "cal_date", "19900101"),  # points: unverified; cap: unverified
    ("shibor", "2000", 2000, ("date",), "date", "20061008"),  # points: unverified; cap: unverified
    ("hibor", "2000", 2000, ("date",), "date", "20061231"),  # points: unverified; cap: unverified
    ("yc_cb", "5000", 2000, ("trade_date", "ts_code", "curve_type", "curve_term"), "trade_date", "20160613"),  # points: unverified; cap: unverified
    ("eco_cal", "2000", 100, ("date", "time", "country", "event"), "date", "20000101"),  # points: unverified; cap: unverified
    ("cn_cpi", "120", 5000, ("month",), "month", "19960101"),  # points: ep; cap: ep
    ("cn_ppi", "600", 5000, ("month",), "month", "19960101"),  # points: ep; cap: ep
    ("cn_pmi", "2000", 2000, ("month",), "month", "20050101"),  # points: ep; cap: ep
    ("cn_m", "2000", 5000, ("month",), "month", "19900101"),  # points: unverified; cap: ep
    ("sf_month", "2000", 2000, ("month",), "month", "19900101"),  # points: unverified; cap: unverified
    ("disclosure_date", "2000", 3000, ("ts_code", "end_date", "ann_date"), "end_date", "19901231"),  # points: unverified; cap: unverified
    ("fina_mainbz", "2000", 100, ("ts_code", "end_date", "bz_item", "update_flag"), "end_date", "20001231"),  # points: unverified; cap: unverified
)  # fmt: skip


@pytest.mark.parametrize("fact", FACTS, ids=[f[0] for f in FACTS])
def test_interface_facts(fact: tuple[str, str, int, tuple[str, ...], str | None, str]) -> None:
    api, points, cap, key, date_column, history_start = fact
    entry = interface(api)
    shown = f"{entry.points}/{entry.full_rate_points}" if entry.full_rate_points else str(entry.points)
    assert (shown, entry.row_cap, entry.key, entry.date_column, entry.history_start) == (
        points, cap, key, date_column, history_start), api


def test_every_base_api_is_pinned() -> None:
    assert {f[0] for f in FACTS} == {name for name, i in INTERFACES.items() if i.base is None}


def test_vip_twins_points_and_caps() -> None:
    # tushare_api.md: the *_vip statements need 5000 points; caps kept as they were (unverified).
    twins = {name: (i.points, i.row_cap) for name, i in INTERFACES.items() if i.base is not None}
    assert twins == {
        "income_vip": (5000, 5000), "balancesheet_vip": (5000, 5000), "cashflow_vip": (5000, 5000),
        "fina_indicator_vip": (5000, 5000), "express_vip": (5000, 5000), "forecast_vip": (5000, 3500),
        "fina_mainbz_vip": (5000, 5000),
    }


@pytest.mark.parametrize(
    ("api", "points", "per_minute"),
    [
        # "5000积分每分钟可以请求30次，8000积分以上每分钟500次" (doc328, doc359, doc392)
        ("stk_factor_pro", 5000, 30), ("stk_factor_pro", 8000, 500), ("stk_factor_pro", 10000, 500),
        ("cb_factor_pro", 5000, 30), ("fund_factor_pro", 7999, 30), ("fund_factor_pro", 8000, 500),
        # The lower figure without a published rate: the tier's quota ("300/5000", "120/5000").
        ("block_trade", 2000, 200), ("block_trade", 5000, 500), ("share_float", 120, 50),
        ("stock_basic", 5000, 50),  # its own published 50/min at any tier
        ("ths_member", 10000, 200),  # doc261: 200/min
    ],
)
def test_rates_by_points(api: str, points: int, per_minute: int) -> None:
    assert interface(api).rate_per_minute(points) == per_minute


def test_sandbox_serves_the_reduced_rate_below_full_rate_points() -> None:
    served = build_catalog()
    keeper = QuotaKeeper()
    assert keeper.limits_for(served["stk_factor_pro"], 5000).per_minute == 30
    assert keeper.limits_for(served["stk_factor_pro"], 10000).per_minute == 500
    assert keeper.limits_for(served["block_trade"], 2000).per_minute == 200


def test_updater_budget_uses_the_reduced_rate() -> None:
    spec = next(s for s in CATALOGUE if s.api == "stk_factor_pro")
    assert spec.rate_for("stk_factor_pro", 5000) == 30
    assert spec.rate_for("stk_factor_pro", 10000) == 500


def test_points_below_which_a_token_sees_each_dataset() -> None:
    # The datasets a 120-point token can sync, and those only a 10000-point token can.
    assert sorted(s.name for s in CATALOGUE if s.points_needed <= 120) == [
        "cn_cpi", "daily", "pledge_stat", "share_float"]
    assert sorted(s.name for s in CATALOGUE if 5000 < s.points_needed <= 10000) == [
        "dc_daily", "dc_index", "dc_member", "etf_basic", "etf_index", "index_global", "report_rc",
        "ths_index", "ths_member"]
