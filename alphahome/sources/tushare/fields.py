"""Tushare's interface facts: each API's output fields, their types and whether they are default fields.

Transcribed from the Tushare documentation (summarised in docs/tushare_interfaces.md) as one compact
table; the other facts of each API (parameters, caps, points, key) are in ``interfaces.py``. A field is
written ``name``, ``name:t`` or ``name:t*``:

- ``t`` is the value kind: ``s`` string, ``d`` date (a ``YYYYMMDD`` string on the wire), ``f`` float
  (the default when no kind is given), ``i`` integer;
- a trailing ``*`` marks a non-default field ("默认显示 N"): returned only when named in ``fields``.

The ``*_vip`` APIs return exactly the fields of their base API. Both the dataset catalogue (table columns)
and the sandbox (what it serves, ``alphahome.sandbox.catalog.served_fields``) read this table, so the two
can never disagree about the interface. Plain data: this module imports nothing beyond the standard
library, so the sandbox may read it without pulling in the client.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal, cast

FieldKind = Literal["s", "d", "f", "i"]
WireType = Literal["s", "f", "i"]

_TOKEN = re.compile(r"^([a-z0-9_]+)(?::([sdfi]))?(\*)?$")


@dataclass(frozen=True)
class TushareField:
    """One output field of a Tushare API."""

    name: str
    kind: FieldKind = "f"
    default: bool = True

    @property
    def wire_type(self) -> WireType:
        """The JSON value type on the wire: dates travel as strings."""
        return "s" if self.kind == "d" else self.kind

    @property
    def is_date(self) -> bool:
        return self.kind == "d"


def parse_fields(text: str) -> tuple[TushareField, ...]:
    """Parse a whitespace/comma separated field list in the notation of this module."""
    result: list[TushareField] = []
    for token in text.replace(",", " ").split():
        match = _TOKEN.match(token)
        if match is None:
            raise ValueError(f"bad field token {token!r}")
        name, kind, star = match.groups()
        result.append(TushareField(name, cast(FieldKind, kind or "f"), default=star is None))
    names = [f.name for f in result]
    if len(set(names)) != len(names):
        dupes = sorted({n for n in names if names.count(n) > 1})
        raise ValueError(f"duplicate fields: {dupes}")
    return tuple(result)


#: api -> its fields in documented order. The statement, indicator and forecast/express lists are the full
#: documented column sets (the reference's §4 names the key ones; the rest follow the real doc pages).
_FIELD_TEXT: dict[str, str] = {
    "trade_cal": """
        exchange:s cal_date:d is_open:i pretrade_date:d
    """,
    "stock_basic": """
        ts_code:s symbol:s name:s area:s industry:s fullname:s* enname:s* cnspell:s market:s exchange:s*
        curr_type:s* list_status:s* list_date:d delist_date:d* is_hs:s* act_name:s act_ent_type:s
    """,
    "index_basic": """
        ts_code:s name:s fullname:s* market:s publisher:s index_type:s* category:s base_date:d
        base_point list_date:d weight_rule:s* desc:s* exp_date:d*
    """,
    "index_classify": """
        index_code:s industry_name:s level:s industry_code:s is_pub:s parent_code:s src:s
    """,
    "fund_basic": """
        ts_code:s name:s management:s custodian:s fund_type:s found_date:d due_date:d list_date:d
        issue_date:d delist_date:d issue_amount m_fee c_fee duration_year p_value min_amount exp_return
        benchmark:s status:s invest_type:s type:s trustee:s purc_startdate:d redm_startdate:d market:s
    """,
    "daily": """
        ts_code:s trade_date:d open high low close pre_close change pct_chg vol amount ah_vol*
        ah_amount*
    """,
    "adj_factor": """
        ts_code:s trade_date:d adj_factor
    """,
    "daily_basic": """
        ts_code:s trade_date:d close turnover_rate turnover_rate_f volume_ratio pe pe_ttm pb ps ps_ttm
        dv_ratio dv_ttm total_share float_share free_share total_mv circ_mv limit_status:i*
    """,
    "moneyflow": """
        ts_code:s trade_date:d buy_sm_vol:i buy_sm_amount sell_sm_vol:i sell_sm_amount buy_md_vol:i
        buy_md_amount sell_md_vol:i sell_md_amount buy_lg_vol:i buy_lg_amount sell_lg_vol:i
        sell_lg_amount buy_elg_vol:i buy_elg_amount sell_elg_vol:i sell_elg_amount net_mf_vol:i
        net_mf_amount
    """,
    "stk_limit": """
        trade_date:d ts_code:s pre_close* up_limit down_limit
    """,
    "suspend_d": """
        ts_code:s trade_date:d suspend_timing:s suspend_type:s
    """,
    "index_daily": """
        ts_code:s trade_date:d close open high low pre_close change pct_chg vol amount
    """,
    "index_weight": """
        index_code:s con_code:s trade_date:d weight
    """,
    "fund_nav": """
        ts_code:s ann_date:d nav_date:d unit_nav accum_nav accum_div net_asset total_netasset adj_nav
        update_flag:s
    """,
    "income": """
        ts_code:s ann_date:d f_ann_date:d end_date:d report_type:s comp_type:s end_type:s basic_eps
        diluted_eps total_revenue revenue int_income prem_earned comm_income n_commis_income
        n_oth_income n_oth_b_income prem_income out_prem une_prem_reser reins_income n_sec_tb_income
        n_sec_uw_income n_asset_mg_income oth_b_income fv_value_chg_gain invest_income ass_invest_income
        forex_gain total_cogs oper_cost int_exp comm_exp biz_tax_surchg sell_exp admin_exp fin_exp
        assets_impair_loss prem_refund compens_payout reser_insur_liab div_payt reins_exp oper_exp
        compens_payout_refu insur_reser_refu reins_cost_refund other_bus_cost operate_profit
        non_oper_income non_oper_exp nca_disploss total_profit income_tax n_income n_income_attr_p
        minority_gain oth_compr_income t_compr_income compr_inc_attr_p compr_inc_attr_m_s ebit ebitda
        insurance_exp undist_profit distable_profit rd_exp fin_exp_int_exp fin_exp_int_inc
        transfer_surplus_rese transfer_housing_imprest transfer_oth adj_lossgain withdra_legal_surplus
        withdra_legal_pubfund withdra_biz_devfund withdra_rese_fund withdra_oth_ersu workers_welfare
        distr_profit_shrhder prfshare_payable_dvd comshare_payable_dvd capit_comstock_div
        net_after_nr_lp_correct* oth_income* asset_disp_income* continued_net_profit* end_net_profit*
        credit_impa_loss* net_expo_hedging_benefits* oth_impair_loss_assets* total_opcost*
        amodcost_fin_assets* update_flag:s
    """,
    "balancesheet": """
        ts_code:s ann_date:d f_ann_date:d end_date:d report_type:s comp_type:s end_type:s total_share
        cap_rese undistr_porfit surplus_rese special_rese money_cap trad_asset notes_receiv
        accounts_receiv oth_receiv prepayment div_receiv int_receiv inventories amor_exp nca_within_1y
        sett_rsrv loanto_oth_bank_fi premium_receiv reinsur_receiv reinsur_res_receiv pur_resale_fa
        oth_cur_assets total_cur_assets fa_avail_for_sale htm_invest lt_eqt_invest invest_real_estate
        time_deposits oth_assets lt_rec fix_assets cip const_materials fixed_assets_disp
        produc_bio_assets oil_and_gas_assets intan_assets r_and_d goodwill lt_amor_exp defer_tax_assets
        decr_in_disbur oth_nca total_nca cash_reser_cb depos_in_oth_bfi prec_metals deriv_assets
        rr_reins_une_prem rr_reins_outstd_cla rr_reins_lins_liab rr_reins_lthins_liab refund_depos
        ph_pledge_loans refund_cap_depos indep_acct_assets client_depos client_prov transac_seat_fee
        invest_as_receiv total_assets lt_borr st_borr cb_borr depos_ib_deposits loan_oth_bank trading_fl
        notes_payable acct_payable adv_receipts sold_for_repur_fa comm_payable payroll_payable
        taxes_payable int_payable div_payable oth_payable acc_exp deferred_inc st_bonds_payable
        payable_to_reinsurer rsrv_insur_cont acting_trading_sec acting_uw_sec non_cur_liab_due_1y
        oth_cur_liab total_cur_liab bond_payable lt_payable specific_payables estimated_liab
        defer_tax_liab defer_inc_non_cur_liab oth_ncl total_ncl depos_oth_bfi deriv_liab depos
        agency_bus_liab oth_liab prem_receiv_adva depos_received ph_invest reser_une_prem
        reser_outstd_claims reser_lins_liab reser_lthins_liab indept_acc_liab pledge_borr indem_payable
        policy_div_payable total_liab treasury_share ordin_risk_reser forex_differ invest_loss_unconf
        minority_int total_hldr_eqy_exc_min_int total_hldr_eqy_inc_min_int total_liab_hldr_eqy
        lt_payroll_payable oth_comp_income oth_eqt_tools oth_eqt_tools_p_shr lending_funds
        acc_receivable st_fin_payable payables hfs_assets hfs_sales cost_fin_assets
        fair_value_fin_assets contract_assets contract_liab accounts_receiv_bill accounts_pay
        oth_rcv_total fix_assets_total cip_total oth_pay_total long_pay_total debt_invest
        oth_debt_invest oth_eq_invest oth_illiq_fin_assets oth_eq_ppbond receiv_financing
        use_right_assets lease_liab update_flag:s
    """,
    "cashflow": """
        ts_code:s ann_date:d f_ann_date:d end_date:d report_type:s comp_type:s end_type:s net_profit
        finan_exp c_fr_sale_sg recp_tax_rends n_depos_incr_fi n_incr_loans_cb n_inc_borr_oth_fi
        prem_fr_orig_contr n_incr_insured_dep n_reinsur_prem n_incr_disp_tfa ifc_cash_incr n_incr_disp_faas
        n_incr_loans_oth_bank n_cap_incr_repur c_fr_oth_operate_a c_inf_fr_operate_a c_paid_goods_s
        c_paid_to_for_empl c_paid_for_taxes n_incr_clt_loan_adv n_incr_dep_cbob c_pay_claims_orig_inco
        pay_handling_chrg pay_comm_insur_plcy oth_cash_pay_oper_act st_cash_out_act n_cashflow_act
        oth_recp_ral_inv_act c_disp_withdrwl_invest c_recp_return_invest n_recp_disp_fiolta n_recp_disp_sobu
        stot_inflows_inv_act c_pay_acq_const_fiolta c_paid_invest n_disp_subs_oth_biz oth_pay_ral_inv_act
        n_incr_pledge_loan stot_out_inv_act n_cashflow_inv_act c_recp_borrow proc_issue_bonds
        oth_cash_recp_ral_fnc_act stot_cash_in_fnc_act free_cashflow c_prepay_amt_borr
        c_pay_dist_dpcp_int_exp incl_dvd_profit_paid_sc_ms oth_cashpay_ral_fnc_act stot_cashout_fnc_act
        n_cash_flows_fnc_act eff_fx_flu_cash n_incr_cash_cash_equ c_cash_equ_beg_period
        c_cash_equ_end_period c_recp_cap_contrib incl_cash_rec_saims uncon_invest_loss prov_depr_assets
        depr_fa_coga_dpba amort_intang_assets lt_amort_deferred_exp decr_deferred_exp incr_acc_exp
        loss_disp_fiolta loss_scr_fa loss_fv_chg invest_loss decr_def_inc_tax_assets incr_def_inc_tax_liab
        decr_inventories decr_oper_payable incr_oper_payable others im_net_cashflow_oper_act
        conv_debt_into_cap conv_copbonds_due_within_1y fa_fnc_leases end_bal_cash beg_bal_cash
        end_bal_cash_equ beg_bal_cash_equ im_n_incr_cash_equ net_dism_capital_add net_cash_rece_sec
        credit_impa_loss use_right_asset_dep oth_loss_asset update_flag:s
    """,
    "fina_indicator": """
        ts_code:s ann_date:d end_date:d eps dt_eps total_revenue_ps revenue_ps capital_rese_ps
        surplus_rese_ps undist_profit_ps extra_item profit_dedt gross_margin current_ratio quick_ratio
        cash_ratio invturn_days* arturn_days* inv_turn* ar_turn ca_turn fa_turn assets_turn op_income
        valuechange_income* interst_income* daa* ebit ebitda fcff fcfe current_exint noncurrent_exint
        interestdebt netdebt tangible_asset working_capital networking_capital invest_capital
        retained_earnings diluted2_eps bps ocfps retainedps cfps ebit_ps fcff_ps fcfe_ps netprofit_margin
        grossprofit_margin cogs_of_sales expense_of_sales profit_to_gr saleexp_to_gr adminexp_of_gr
        finaexp_of_gr adminexp_to_gr* finaexp_to_gr* impai_ttm gc_of_gr op_of_gr ebit_of_gr roe roe_waa
        roe_dt roa npta roic roe_yearly roa2_yearly roe_avg* opincome_of_ebt* investincome_of_ebt*
        n_op_profit_of_ebt* tax_to_ebt* dtprofit_to_profit* salescash_to_or* ocf_to_or* ocf_to_opincome*
        capitalized_to_da* debt_to_assets assets_to_eqt dp_assets_to_eqt ca_to_assets nca_to_assets
        tbassets_to_totalassets int_to_talcap eqt_to_talcapital currentdebt_to_debt longdeb_to_debt
        ocf_to_shortdebt debt_to_eqt eqt_to_debt eqt_to_interestdebt tangibleasset_to_debt
        tangasset_to_intdebt tangibleasset_to_netdebt ocf_to_debt ocf_to_interestdebt* ocf_to_netdebt*
        ebit_to_interest* longdebt_to_workingcapital* ebitda_to_debt* turn_days roa_yearly roa_dp
        fixed_assets profit_prefin_exp* non_op_profit* op_to_ebt* nop_to_ebt* ocf_to_profit*
        cash_to_liqdebt* cash_to_liqdebt_withinterest* op_to_liqdebt* op_to_debt* roic_yearly*
        total_fa_trun* profit_to_op q_opincome* q_investincome* q_dtprofit* q_eps* q_netprofit_margin*
        q_gsprofit_margin* q_exp_to_sales* q_profit_to_gr* q_saleexp_to_gr q_adminexp_to_gr*
        q_finaexp_to_gr* q_impair_to_gr_ttm* q_gc_to_gr q_op_to_gr* q_roe q_dt_roe q_npta q_opincome_to_ebt*
        q_investincome_to_ebt* q_dtprofit_to_profit* q_salescash_to_or* q_ocf_to_sales q_ocf_to_or*
        basic_eps_yoy dt_eps_yoy cfps_yoy q_oprate* q_op_qoq q_profit_yoy* q_profit_qoq* q_netprofit_yoy*
        q_netprofit_qoq* equity_yoy q_sales_yoy q_sales_qoq* q_gr_yoy* q_gr_qoq* q_roe_yoy* q_dt_roe_yoy*
        q_npta_yoy* q_oprate_yoy* q_op_yoy* debt_to_assets_cl* ca_to_assets_cl* nca_to_assets_cl*
        debt_to_eqt_cl* eqt_to_debt_cl* eqt_to_interestdebt_cl* tangibleasset_to_debt_cl*
        tangasset_to_intdebt_cl* tangibleasset_to_netdebt_cl* ocf_to_debt_cl* ocf_to_interestdebt_cl*
        ocf_to_netdebt_cl* ebit_to_interest_cl* longdebt_to_workingcapital_cl* ebitda_to_debt_cl* bps_yoy
        assets_yoy eqt_yoy tr_yoy or_yoy op_yoy ebt_yoy netprofit_yoy dt_netprofit_yoy ocf_yoy roe_yoy
        rd_exp* update_flag:s
    """,
    "express": """
        ts_code:s ann_date:d end_date:d revenue operate_profit total_profit n_income total_assets
        total_hldr_eqy_exc_min_int diluted_eps diluted_roe yoy_net_profit bps yoy_sales* yoy_op* yoy_tp*
        yoy_dedu_np* yoy_eps* yoy_roe* growth_assets* yoy_equity* growth_bps* or_last_year*
        op_last_year* tp_last_year* np_last_year* eps_last_year* open_net_assets* open_bps*
        perf_summary:s is_audit:i remark:s update_flag:s
    """,
    "forecast": """
        ts_code:s ann_date:d end_date:d type:s p_change_min p_change_max net_profit_min net_profit_max
        last_parent_net notice_times:i* first_ann_date:d summary:s change_reason:s update_flag:s
    """,
    "dividend": """
        ts_code:s end_date:d ann_date:d div_proc:s stk_div stk_bo_rate stk_co_rate cash_div cash_div_tax
        record_date:d ex_date:d pay_date:d div_listdate:d imp_ann_date:d base_date:d* base_share*
    """,
    "index_member": """
        index_code:s index_name:s* con_code:s con_name:s* in_date:d out_date:d is_new:s
    """,
    "index_member_all": """
        l1_code:s l1_name:s l2_code:s l2_name:s l3_code:s l3_name:s ts_code:s name:s in_date:d
        out_date:d is_new:s
    """,
    # ---- the rest of the catalogue (field lists as the original system requests them; types from the
    # Tushare doc pages; every field default unless marked: report_rc's imp_dg/create_time and ths_member's
    # weight/in_date/out_date/is_new are "默认显示 N" on doc pages 292 and 261; the sync names every field,
    # so it gets them either way) ------------------------------------------------------------------------
    "cb_basic": """
        ts_code:s bond_full_name:s bond_short_name:s cb_code:s stk_code:s stk_short_name:s maturity par
        issue_price issue_size remain_size value_date:d maturity_date:d rate_type:s coupon_rate add_rate
        pay_per_year list_date:d delist_date:d exchange:s conv_start_date:d conv_end_date:d
        conv_stop_date:d first_conv_price conv_price rate_clause:s put_clause:s maturity_put_price
        call_clause:s reset_clause:s conv_clause:s guarantor:s guarantee_type:s issue_rating:s
        newest_rating:s rating_comp:s
    """,
    "cb_call": """
        ts_code:s call_type:s is_call:s ann_date:d call_date:d call_price call_price_tax call_vol
        call_amount payment_date:d call_reg_date:d
    """,
    "cb_daily": """
        ts_code:s trade_date:d pre_close open high low close change pct_chg vol amount bond_value
        bond_over_rate cb_value cb_over_rate
    """,
    "cb_factor_pro": """
        ts_code:s trade_date:d open high low close pre_close change pct_change vol amount asi_bfq
        asit_bfq atr_bfq bbi_bfq bias1_bfq bias2_bfq bias3_bfq boll_lower_bfq boll_mid_bfq
        boll_upper_bfq brar_ar_bfq brar_br_bfq cci_bfq cr_bfq dfma_dif_bfq dfma_difma_bfq dmi_adx_bfq
        dmi_adxr_bfq dmi_mdi_bfq dmi_pdi_bfq downdays updays dpo_bfq madpo_bfq ema_bfq_5 ema_bfq_10
        ema_bfq_20 ema_bfq_30 ema_bfq_60 ema_bfq_90 ema_bfq_250 emv_bfq maemv_bfq expma_12_bfq
        expma_50_bfq kdj_bfq kdj_d_bfq kdj_k_bfq ktn_down_bfq ktn_mid_bfq ktn_upper_bfq lowdays topdays
        ma_bfq_5 ma_bfq_10 ma_bfq_20 ma_bfq_30 ma_bfq_60 ma_bfq_90 ma_bfq_250 macd_bfq macd_dea_bfq
        macd_dif_bfq mass_bfq ma_mass_bfq mfi_bfq mtm_bfq mtmma_bfq obv_bfq psy_bfq psyma_bfq roc_bfq
        maroc_bfq rsi_bfq_6 rsi_bfq_12 rsi_bfq_24 taq_down_bfq taq_mid_bfq taq_up_bfq trix_bfq trma_bfq
        vr_bfq wr_bfq wr1_bfq xsii_td1_bfq xsii_td2_bfq xsii_td3_bfq xsii_td4_bfq
    """,
    "cb_issue": """
        ts_code:s ann_date:d res_ann_date:d plan_issue_size issue_size issue_price issue_type:s
        issue_cost onl_code:s onl_name:s onl_date:d onl_size onl_pch_vol onl_pch_num onl_pch_excess
        onl_winning_rate shd_ration_code:s shd_ration_name:s shd_ration_date:d shd_ration_record_date:d
        shd_ration_pay_date:d shd_ration_price shd_ration_ratio shd_ration_size shd_ration_vol
        shd_ration_num shd_ration_excess offl_size offl_deposit offl_pch_vol offl_pch_num
        offl_pch_excess offl_winning_rate lead_underwriter:s lead_underwriter_vol
    """,
    "cb_price_chg": """
        ts_code:s bond_short_name:s publish_date:d change_date:d convert_price_initial convertprice_bef
        convertprice_aft
    """,
    "cb_rate": """
        ts_code:s rate_freq:s rate_start_date:d rate_end_date:d coupon_rate
    """,
    "cb_share": """
        ts_code:s bond_short_name:s publish_date:d end_date:d issue_size convert_price_initial
        convert_price convert_val convert_vol convert_ratio acc_convert_val acc_convert_vol
        acc_convert_ratio remain_size total_shares
    """,
    "disclosure_date": """
        ts_code:s ann_date:d end_date:d pre_date:d actual_date:d modify_date:d
    """,
    "fina_mainbz": """
        ts_code:s end_date:d bz_code:s bz_item:s bz_sales bz_profit bz_cost curr_type:s update_flag:s
    """,
    "etf_basic": """
        ts_code:s csname:s extname:s cname:s index_code:s index_name:s setup_date:d list_date:d
        list_status:s exchange:s mgr_name:s custod_name:s mgt_fee etf_type:s
    """,
    "etf_index": """
        ts_code:s indx_name:s indx_csname:s pub_party_name:s pub_date:d base_date:d bp adj_circle:s
    """,
    "fund_adj": """
        ts_code:s trade_date:d adj_factor
    """,
    "fund_daily": """
        ts_code:s trade_date:d open high low close pre_close change pct_chg vol amount
    """,
    "fund_div": """
        ts_code:s ann_date:d imp_anndate:d base_date:d div_proc:s record_date:d ex_date:d pay_date:d
        earpay_date:d net_ex_date:d div_cash base_unit ear_distr:s ear_amount account_date:d base_year:s
    """,
    "fund_factor_pro": """
        ts_code:s trade_date:d open high low close pre_close change pct_change vol amount asi_bfq
        asit_bfq atr_bfq bbi_bfq bias1_bfq bias2_bfq bias3_bfq boll_lower_bfq boll_mid_bfq
        boll_upper_bfq brar_ar_bfq brar_br_bfq cci_bfq cr_bfq dfma_dif_bfq dfma_difma_bfq dmi_adx_bfq
        dmi_adxr_bfq dmi_mdi_bfq dmi_pdi_bfq downdays updays dpo_bfq madpo_bfq ema_bfq_5 ema_bfq_10
        ema_bfq_20 ema_bfq_30 ema_bfq_60 ema_bfq_90 ema_bfq_250 emv_bfq maemv_bfq expma_12_bfq
        expma_50_bfq kdj_bfq kdj_d_bfq kdj_k_bfq ktn_down_bfq ktn_mid_bfq ktn_upper_bfq lowdays topdays
        ma_bfq_5 ma_bfq_10 ma_bfq_20 ma_bfq_30 ma_bfq_60 ma_bfq_90 ma_bfq_250 macd_bfq macd_dea_bfq
        macd_dif_bfq mass_bfq ma_mass_bfq mfi_bfq mtm_bfq mtmma_bfq obv_bfq psy_bfq psyma_bfq roc_bfq
        maroc_bfq rsi_bfq_6 rsi_bfq_12 rsi_bfq_24 taq_down_bfq taq_mid_bfq taq_up_bfq trix_bfq trma_bfq
        vr_bfq wr_bfq wr1_bfq xsii_td1_bfq xsii_td2_bfq xsii_td3_bfq xsii_td4_bfq
    """,
    "fund_manager": """
        ts_code:s ann_date:d name:s gender:s birth_year:s edu:s nationality:s begin_date:d end_date:d
        resume:s
    """,
    "fund_portfolio": """
        ts_code:s ann_date:d end_date:d symbol:s mkv amount stk_mkv_ratio stk_float_ratio
    """,
    "fund_share": """
        ts_code:s trade_date:d fd_share
    """,
    "fut_basic": """
        ts_code:s symbol:s exchange:s name:s fut_code:s multiplier trade_unit:s per_unit quote_unit:s
        quote_unit_desc:s d_mode_desc:s list_date:d delist_date:d d_month:s last_ddate:d
        trade_time_desc:s
    """,
    "fut_daily": """
        ts_code:s trade_date:d pre_close pre_settle open high low close settle change1 change2 vol
        amount oi oi_chg delv_settle
    """,
    "fut_holding": """
        trade_date:d symbol:s broker:s vol vol_chg long_hld long_chg short_hld short_chg exchange:s
    """,
    "fut_mapping": """
        ts_code:s trade_date:d mapping_ts_code:s
    """,
    "hk_basic": """
        ts_code:s name:s fullname:s enname:s cn_spell:s market:s list_status:s list_date:d delist_date:d
        trade_unit isin:s curr_type:s
    """,
    "hk_daily": """
        ts_code:s trade_date:d open high low close pre_close change pct_chg vol amount
    """,
    "ci_daily": """
        ts_code:s trade_date:d open low high close pre_close change pct_change vol amount
    """,
    "ci_index_member": """
        l1_code:s l1_name:s l2_code:s l2_name:s l3_code:s l3_name:s ts_code:s name:s in_date:d
        out_date:d is_new:s
    """,
    "idx_factor_pro": """
        ts_code:s trade_date:d open high low close pre_close change pct_change vol amount asi_bfq
        asit_bfq atr_bfq bbi_bfq bias1_bfq bias2_bfq bias3_bfq boll_lower_bfq boll_mid_bfq
        boll_upper_bfq brar_ar_bfq brar_br_bfq cci_bfq cr_bfq dfma_dif_bfq dfma_difma_bfq dmi_adx_bfq
        dmi_adxr_bfq dmi_mdi_bfq dmi_pdi_bfq downdays updays dpo_bfq madpo_bfq ema_bfq_10 ema_bfq_20
        ema_bfq_250 ema_bfq_30 ema_bfq_5 ema_bfq_60 ema_bfq_90 emv_bfq maemv_bfq expma_12_bfq
        expma_50_bfq kdj_bfq kdj_d_bfq kdj_j_bfq kdj_k_bfq ktn_down_bfq ktn_mid_bfq ktn_upper_bfq
        lowdays topdays ma_bfq_10 ma_bfq_20 ma_bfq_250 ma_bfq_30 ma_bfq_5 ma_bfq_60 ma_bfq_90 macd_bfq
        macd_dea_bfq macd_dif_bfq mass_bfq ma_mass_bfq mfi_bfq mtm_bfq mtmma_bfq obv_bfq psy_bfq
        psyma_bfq roc_bfq maroc_bfq rsi_bfq_12 rsi_bfq_24 rsi_bfq_6 taq_down_bfq taq_mid_bfq taq_up_bfq
        trix_bfq trma_bfq vr_bfq wr_bfq wr1_bfq xsii_td1_bfq xsii_td2_bfq xsii_td3_bfq xsii_td4_bfq
    """,
    "index_dailybasic": """
        ts_code:s trade_date:d total_mv float_mv total_share float_share free_share turnover_rate
        turnover_rate_f pe pe_ttm pb
    """,
    "index_global": """
        ts_code:s trade_date:d open close high low pre_close change pct_chg swing vol amount
    """,
    "sw_daily": """
        ts_code:s trade_date:d name:s open low high close change pct_change vol amount pe pb float_mv
        total_mv
    """,
    "cn_cpi": """
        month:s nt_val nt_yoy nt_mom nt_accu town_val town_yoy town_mom town_accu cnt_val cnt_yoy
        cnt_mom cnt_accu
    """,
    "cn_m": """
        month:s m0 m0_yoy m0_mom m1 m1_yoy m1_mom m2 m2_yoy m2_mom
    """,
    "cn_pmi": """
        month:s pmi010000 pmi010100 pmi010200 pmi010300 pmi010400 pmi010401 pmi010402 pmi010403
        pmi010500 pmi010501 pmi010502 pmi010503 pmi010600 pmi010601 pmi010602 pmi010603 pmi010700
        pmi010701 pmi010702 pmi010703 pmi010800 pmi010801 pmi010802 pmi010803 pmi010900 pmi011000
        pmi011100 pmi011200 pmi011300 pmi011400 pmi011500 pmi011600 pmi011700 pmi011800 pmi011900
        pmi012000 pmi020100 pmi020101 pmi020102 pmi020200 pmi020201 pmi020202 pmi020300 pmi020301
        pmi020302 pmi020400 pmi020401 pmi020402 pmi020500 pmi020501 pmi020502 pmi020600 pmi020601
        pmi020602 pmi020700 pmi020800 pmi020900 pmi021000 pmi030000
    """,
    "cn_ppi": """
        month:s ppi_yoy ppi_mp_yoy ppi_mp_qm_yoy ppi_mp_rm_yoy ppi_mp_p_yoy ppi_cg_yoy ppi_cg_f_yoy
        ppi_cg_c_yoy ppi_cg_adu_yoy ppi_cg_dcg_yoy ppi_mom ppi_mp_mom ppi_mp_qm_mom ppi_mp_rm_mom
        ppi_mp_p_mom ppi_cg_mom ppi_cg_f_mom ppi_cg_c_mom ppi_cg_adu_mom ppi_cg_dcg_mom ppi_accu
        ppi_mp_accu ppi_mp_qm_accu ppi_mp_rm_accu ppi_mp_p_accu ppi_cg_accu ppi_cg_f_accu ppi_cg_c_accu
        ppi_cg_adu_accu ppi_cg_dcg_accu
    """,
    "eco_cal": """
        date:d time:s currency:s country:s event:s value:s pre_value:s fore_value:s
    """,
    "hibor": """
        date:d on 1w 2w 1m 2m 3m 6m 12m
    """,
    "sf_month": """
        month:s inc_month inc_cumval stk_endval
    """,
    "shibor": """
        date:d on 1w 2w 1m 3m 6m 9m 1y
    """,
    "yc_cb": """
        trade_date:d ts_code:s curve_name:s curve_type:s curve_term yield
    """,
    "opt_basic": """
        ts_code:s exchange:s name:s per_unit opt_code:s opt_type:s call_put:s exercise_type:s
        exercise_price s_month:s maturity_date:d list_price list_date:d delist_date:d last_edate:d
        last_ddate:d quote_unit:s min_price_chg
    """,
    "opt_daily": """
        ts_code:s trade_date:d exchange:s pre_settle pre_close open high low close settle vol amount oi
    """,
    "hk_tradecal": """
        exchange:s cal_date:d is_open:i pretrade_date:d
    """,
    "block_trade": """
        ts_code:s trade_date:d price vol amount buyer:s seller:s
    """,
    "cyq_perf": """
        ts_code:s trade_date:d his_low his_high cost_5pct cost_15pct cost_50pct cost_85pct cost_95pct
        weight_avg winner_rate
    """,
    "dc_daily": """
        ts_code:s trade_date:d close open high low change pct_change vol amount swing turnover_rate
    """,
    "dc_index": """
        ts_code:s trade_date:d name:s leading:s leading_code:s pct_change leading_pct total_mv
        turnover_rate up_num:i down_num:i
    """,
    "dc_member": """
        trade_date:d ts_code:s con_code:s name:s
    """,
    "hk_hold": """
        code:s trade_date:d ts_code:s name:s vol ratio exchange:s
    """,
    "hsgt_top10": """
        trade_date:d ts_code:s name:s close change rank:i market_type:s amount net_amount buy sell
    """,
    "kpl_concept": """
        trade_date:d ts_code:s name:s z_t_num:i up_num:i
    """,
    "kpl_concept_cons": """
        ts_code:s name:s con_name:s con_code:s trade_date:d
    """,
    "kpl_list": """
        ts_code:s name:s trade_date:d lu_time:s ld_time:s open_time:s last_time:s lu_desc:s tag:s
        theme:s net_change bid_amount status:s bid_change bid_turnover lu_bid_vol pct_chg bid_pct_chg
        rt_pct_chg limit_order amount turnover_rate free_float lu_limit_order
    """,
    "limit_list_d": """
        trade_date:d ts_code:s industry:s name:s close pct_chg amount limit_amount float_mv total_mv
        turnover_ratio fd_amount first_time:s last_time:s open_times:i up_stat:s limit_times:i limit:s
    """,
    "margin": """
        trade_date:d exchange_id:s rzye rzmre rzche rqye rqmcl rzrqye rqyl
    """,
    "margin_detail": """
        trade_date:d ts_code:s rzye rqye rzmre rqyl rzche rqchl rqmcl rzrqye
    """,
    "moneyflow_hsgt": """
        trade_date:d ggt_ss ggt_sz hgt sgt north_money south_money
    """,
    "namechange": """
        ts_code:s name:s start_date:d end_date:d ann_date:d change_reason:s
    """,
    "pledge_stat": """
        ts_code:s end_date:d pledge_count:i unrest_pledge rest_pledge total_share pledge_ratio
    """,
    "report_rc": """
        ts_code:s name:s report_date:d report_title:s report_type:s classify:s org_name:s author_name:s
        quarter:s op_rt op_pr tp np eps pe rd roe ev_ebitda rating:s max_price min_price imp_dg:s*
        create_time:s*
    """,
    "repurchase": """
        ts_code:s ann_date:d end_date:d proc:s exp_date:d vol amount high_limit low_limit
    """,
    "share_float": """
        ts_code:s ann_date:d float_date:d float_share float_ratio holder_name:s share_type:s
    """,
    "stk_ah_comparison": """
        hk_code:s ts_code:s trade_date:d hk_name:s hk_pct_chg hk_close name:s close pct_chg
        ah_comparison ah_premium
    """,
    "stk_factor_pro": """
        ts_code:s trade_date:d open open_hfq high high_hfq low low_hfq close close_hfq pre_close change
        pct_chg vol amount turnover_rate turnover_rate_f volume_ratio pe pe_ttm pb ps ps_ttm dv_ratio
        dv_ttm total_share float_share free_share total_mv circ_mv adj_factor asi_hfq asit_hfq atr_hfq
        bbi_hfq bias1_hfq bias2_hfq bias3_hfq boll_lower_hfq boll_mid_hfq boll_upper_hfq brar_ar_hfq
        brar_br_hfq cci_hfq cr_hfq dfma_dif_hfq dfma_difma_hfq dmi_adx_hfq dmi_adxr_hfq dmi_mdi_hfq
        dmi_pdi_hfq downdays updays dpo_hfq madpo_hfq ema_hfq_10 ema_hfq_20 ema_hfq_250 ema_hfq_30
        ema_hfq_5 ema_hfq_60 ema_hfq_90 emv_hfq maemv_hfq expma_12_hfq expma_50_hfq kdj_hfq kdj_d_hfq
        kdj_k_hfq ktn_down_hfq ktn_mid_hfq ktn_upper_hfq lowdays topdays ma_hfq_10 ma_hfq_20 ma_hfq_250
        ma_hfq_30 ma_hfq_5 ma_hfq_60 ma_hfq_90 macd_hfq macd_dea_hfq macd_dif_hfq mass_hfq ma_mass_hfq
        mfi_hfq mtm_hfq mtmma_hfq obv_hfq psy_hfq psyma_hfq roc_hfq maroc_hfq rsi_hfq_12 rsi_hfq_24
        rsi_hfq_6 taq_down_hfq taq_mid_hfq taq_up_hfq trix_hfq trma_hfq vr_hfq wr_hfq wr1_hfq
        xsii_td1_hfq xsii_td2_hfq xsii_td3_hfq xsii_td4_hfq
    """,
    "stk_holdernumber": """
        ts_code:s ann_date:d end_date:d holder_num:i
    """,
    "stk_holdertrade": """
        ts_code:s ann_date:d holder_name:s holder_type:s in_de:s change_vol change_ratio after_share
        after_ratio avg_price total_share begin_date:d close_date:d
    """,
    "stk_weekly_monthly": """
        ts_code:s trade_date:d freq:s end_date:d open high low close pre_close vol amount change pct_chg
    """,
    "stock_st": """
        ts_code:s name:s trade_date:d type:s type_name:s
    """,
    "ths_daily": """
        ts_code:s trade_date:d close open high low pre_close avg_price change pct_change vol
        turnover_rate total_mv float_mv
    """,
    "ths_index": """
        ts_code:s name:s count:i exchange:s list_date:d type:s
    """,
    "ths_member": """
        ts_code:s con_code:s con_name:s weight* in_date:d* out_date:d* is_new:s*
    """,
    "top_inst": """
        trade_date:d ts_code:s exalter:s side:s buy buy_rate sell sell_rate net_buy reason:s
    """,
    "top_list": """
        trade_date:d ts_code:s name:s close pct_change turnover_rate amount l_sell l_buy l_amount
        net_amount net_rate amount_rate float_values reason:s
    """,
}

#: The whole-market ``*_vip`` variants: same fields as the base API.
VIP_APIS: dict[str, str] = {
    "income_vip": "income",
    "balancesheet_vip": "balancesheet",
    "cashflow_vip": "cashflow",
    "fina_indicator_vip": "fina_indicator",
    "express_vip": "express",
    "forecast_vip": "forecast",
    "fina_mainbz_vip": "fina_mainbz",
}

#: api name -> its output fields, in the documented order.
API_FIELDS: dict[str, tuple[TushareField, ...]] = {name: parse_fields(text) for name, text in _FIELD_TEXT.items()}
API_FIELDS.update({vip: API_FIELDS[base] for vip, base in VIP_APIS.items()})


def base_api(api: str) -> str:
    """The API without its ``_vip`` suffix (the table a dataset is stored in is named after it)."""
    return VIP_APIS.get(api, api)


def api_fields(api: str) -> tuple[TushareField, ...]:
    """The fields of ``api``; KeyError names the API when it is not in the table."""
    try:
        return API_FIELDS[api]
    except KeyError:
        raise KeyError(f"no field table for Tushare API {api!r}") from None
