"""The original AlphaHome's task names, as aliases of the datasets (plain data, no imports).

Users moving from the original system name datasets ``tushare_<family>_<name>`` (``tushare_stock_daily``) on
the command line (``--tasks``, ``--exclude``), in ``task_filter.exclude_tasks`` and as ``tasks.<name>`` keys of
config.json; each resolves to the dataset named after its Tushare API without ``_vip`` (README, section Datasets).
``tushare_stock_weekly`` and ``tushare_stock_monthly`` share one API and dataset (``stk_weekly_monthly``).
"""

from __future__ import annotations

#: original task name -> dataset name.
ORIGINAL_TASKS: dict[str, str] = {
    "tushare_cbond_basic": "cb_basic",
    "tushare_cbond_call": "cb_call",
    "tushare_cbond_daily": "cb_daily",
    "tushare_cbond_factor_pro": "cb_factor_pro",
    "tushare_cbond_issue": "cb_issue",
    "tushare_cbond_price_chg": "cb_price_chg",
    "tushare_cbond_rate": "cb_rate",
    "tushare_cbond_share": "cb_share",
    "tushare_fina_balancesheet": "balancesheet",
    "tushare_fina_cashflow": "cashflow",
    "tushare_fina_disclosure": "disclosure_date",
    "tushare_fina_express": "express",
    "tushare_fina_forecast": "forecast",
    "tushare_fina_income": "income",
    "tushare_fina_indicator": "fina_indicator",
    "tushare_fina_mainbz": "fina_mainbz",
    "tushare_fund_adjfactor": "fund_adj",
    "tushare_fund_basic": "fund_basic",
    "tushare_fund_daily": "fund_daily",
    "tushare_fund_dividend": "fund_div",
    "tushare_fund_etf_basic": "etf_basic",
    "tushare_fund_etf_index": "etf_index",
    "tushare_fund_factor_pro": "fund_factor_pro",
    "tushare_fund_manager": "fund_manager",
    "tushare_fund_nav": "fund_nav",
    "tushare_fund_portfolio": "fund_portfolio",
    "tushare_fund_share": "fund_share",
    "tushare_future_basic": "fut_basic",
    "tushare_future_daily": "fut_daily",
    "tushare_future_holding": "fut_holding",
    "tushare_future_mapping": "fut_mapping",
    "tushare_hk_basic": "hk_basic",
    "tushare_hk_daily": "hk_daily",
    "tushare_index_basic": "index_basic",
    "tushare_index_cidaily": "ci_daily",
    "tushare_index_cimember": "ci_index_member",
    "tushare_index_dailybasic": "index_dailybasic",
    "tushare_index_factor_pro": "idx_factor_pro",
    "tushare_index_global": "index_global",
    "tushare_index_swdaily": "sw_daily",
    "tushare_index_swmember": "index_member_all",
    "tushare_index_weight": "index_weight",
    "tushare_macro_cnm": "cn_m",
    "tushare_macro_cpi": "cn_cpi",
    "tushare_macro_ecocal": "eco_cal",
    "tushare_macro_hibor": "hibor",
    "tushare_macro_pmi": "cn_pmi",
    "tushare_macro_ppi": "cn_ppi",
    "tushare_macro_sf": "sf_month",
    "tushare_macro_shibor": "shibor",
    "tushare_macro_yieldcurve": "yc_cb",
    "tushare_option_basic": "opt_basic",
    "tushare_option_daily": "opt_daily",
    "tushare_others_hktradecal": "hk_tradecal",
    "tushare_others_tradecal": "trade_cal",
    "tushare_stock_adjfactor": "adj_factor",
    "tushare_stock_ahcomparison": "stk_ah_comparison",
    "tushare_stock_basic": "stock_basic",
    "tushare_stock_blocktrade": "block_trade",
    "tushare_stock_chips": "cyq_perf",
    "tushare_stock_daily": "daily",
    "tushare_stock_dailybasic": "daily_basic",
    "tushare_stock_dcdaily": "dc_daily",
    "tushare_stock_dcindex": "dc_index",
    "tushare_stock_dcmember": "dc_member",
    "tushare_stock_dividend": "dividend",
    "tushare_stock_factor_pro": "stk_factor_pro",
    "tushare_stock_hk_hold": "hk_hold",
    "tushare_stock_holdernumber": "stk_holdernumber",
    "tushare_stock_holdertrade": "stk_holdertrade",
    "tushare_stock_hsgt_top10": "hsgt_top10",
    "tushare_stock_kplconcept": "kpl_concept",
    "tushare_stock_kpllist": "kpl_list",
    "tushare_stock_kplmember": "kpl_concept_cons",
    "tushare_stock_limitlist": "limit_list_d",
    "tushare_stock_limitprice": "stk_limit",
    "tushare_stock_margin": "margin",
    "tushare_stock_margindetail": "margin_detail",
    "tushare_stock_moneyflow": "moneyflow",
    "tushare_stock_moneyflow_hsgt": "moneyflow_hsgt",
    "tushare_stock_monthly": "stk_weekly_monthly",
    "tushare_stock_namechange": "namechange",
    "tushare_stock_pledgestat": "pledge_stat",
    "tushare_stock_report_rc": "report_rc",
    "tushare_stock_repurchase": "repurchase",
    "tushare_stock_sharefloat": "share_float",
    "tushare_stock_st": "stock_st",
    "tushare_stock_thsdaily": "ths_daily",
    "tushare_stock_thsindex": "ths_index",
    "tushare_stock_thsmember": "ths_member",
    "tushare_stock_topinst": "top_inst",
    "tushare_stock_toplist": "top_list",
    "tushare_stock_weekly": "stk_weekly_monthly",
}


def dataset_name(name: str) -> str:
    """The dataset a name means: an original task name's dataset, else the name itself."""
    return ORIGINAL_TASKS.get(name, name)


def aliases_of(dataset: str) -> list[str]:
    """The original task names of dataset (sorted)."""
    return sorted(alias for alias, target in ORIGINAL_TASKS.items() if target == dataset)
