"""fina_indicator rows: ratios derived from each published version of the statements.

One row per statement version, keyed by ``ann_date`` = the version's knowledge date (its f_ann_date),
with the version's update_flag, so restatements produce indicator versions too. Definitions (CNY,
percentages as Tushare gives them, year-to-date unless ``q_``):

- ``roe`` = n_income_attr_p / ((equity at the start of the year + equity at the period end) / 2) * 100,
  equity = total_hldr_eqy_exc_min_int; ``roa`` the same with n_income and total_assets.
- ``grossprofit_margin`` = (revenue - oper_cost) / revenue * 100; ``gross_margin`` is that amount in CNY.
- ``netprofit_margin`` = n_income / revenue * 100; ``debt_to_assets`` = total_liab / total_assets * 100;
  ``current_ratio`` = total_cur_assets / total_cur_liab; ``eps`` = basic_eps; ``bps`` = equity / shares.
- ``*_yoy`` = (this - the same period a year earlier) / |that| * 100; ``q_*`` use the single quarter
  (this version minus the previous quarter's true figures).

The start-of-year balances and last year's figures come from the true accounts (the latest figures).
Ratios a bank does not have (no current assets, no cost of sales) are NULL for banks; columns the model
does not derive are NULL for everyone.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from alphahome.sandbox.catalog import served_fields
from alphahome.sandbox.disclosures import DUP_INDICATOR, Schedule, day_strings
from alphahome.sandbox.statement_tables import VersionFigures, float_names, frame
from alphahome.sandbox.statements import NON_CENT_COLUMNS, CompanyModel


def _div(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        out = a / b
    out[~np.isfinite(out)] = np.nan
    return out


def growth(cur: np.ndarray, before: np.ndarray) -> np.ndarray:
    """Percentage change against |before|; NULL when before is zero or unknown."""
    return _div(cur - before, np.abs(before)) * 100


def _nz(x: np.ndarray) -> np.ndarray:
    return np.where(np.isnan(x), 0.0, x)


class _Accounts:
    """Figures (CNY) by item name, gathered on first use: only the items the ratios read are built."""

    def __init__(self, load: Callable[[str], np.ndarray]) -> None:
        self._load = load
        self._cache: dict[str, np.ndarray] = {}

    def __getitem__(self, name: str) -> np.ndarray:
        if name not in self._cache:
            self._cache[name] = self._load(name)
        return self._cache[name]


def _true_accounts(model: CompanyModel, stock: np.ndarray, period: np.ndarray) -> _Accounts:
    """True figures at ``period`` (NaN where the period index falls before the model)."""
    ok = period >= 0
    flat = stock * model.n_quarters + np.where(ok, period, 0)
    items = {**model.balance, **model.cashflow, **model.income}

    def load(name: str) -> np.ndarray:
        scale = 1.0 if name in NON_CENT_COLUMNS else 0.01
        return np.where(ok, items[name].ravel()[flat] * scale, np.nan)

    return _Accounts(load)


def _version_accounts(tables: dict[str, VersionFigures], n_versions: int) -> _Accounts:
    # Income last: its credit_impa_loss is the one the ratios mean (the cash flow's is an add-back).
    where = {name: vf for key in ("balancesheet", "cashflow", "income") for vf in [tables[key]]
             for name in vf.columns}

    def load(name: str) -> np.ndarray:
        col = where[name].column(name)
        if col is None:
            return np.full(n_versions, np.nan)
        return col if name in NON_CENT_COLUMNS else col / 100.0

    return _Accounts(load)


class _Ratios:
    """Indicators of one set of figures, each computed on first use from ``_FORMULAS``.

    ``a(item)`` is a figure of the period, ``avg(item)`` its average with the start of the year, ``sq(item)``
    its single-quarter value (this figure minus the previous quarter's, Q1 as is).
    """

    def __init__(self, cur: _Accounts, begin: _Accounts, prev_q: _Accounts, quarter: np.ndarray) -> None:
        self.a, self._begin, self._prev_q, self.quarter = cur.__getitem__, begin, prev_q, quarter
        self.years = (quarter + 1) / 4
        self._cache: dict[str, np.ndarray] = {}

    def __getitem__(self, name: str) -> np.ndarray:
        if name not in self._cache:
            self._cache[name] = _FORMULAS[name](self)
        return self._cache[name]

    def avg(self, item: str) -> np.ndarray:
        return (self._begin[item] + self.a(item)) / 2

    def begin(self, item: str) -> np.ndarray:
        return self._begin[item]

    def sq(self, item: str) -> np.ndarray:
        return self.a(item) - np.where(self.quarter == 0, 0.0, self._prev_q[item])

    def per_share(self, value: np.ndarray) -> np.ndarray:
        return _div(value, self.a("total_share"))

    def of_revenue(self, value: np.ndarray, total: bool = False) -> np.ndarray:
        return _div(value, self.a("total_revenue" if total else "revenue")) * 100

    def of_sq_revenue(self, value: np.ndarray, total: bool = False) -> np.ndarray:
        return _div(value, self.sq("total_revenue" if total else "revenue")) * 100


_FORMULAS: dict[str, Callable[[_Ratios], np.ndarray]] = {
    "eps": lambda r: r.a("basic_eps"),
    "dt_eps": lambda r: r.a("diluted_eps"),
    "total_revenue_ps": lambda r: r.per_share(r.a("total_revenue")),
    "revenue_ps": lambda r: r.per_share(r.a("revenue")),
    "capital_rese_ps": lambda r: r.per_share(r.a("cap_rese")),
    "surplus_rese_ps": lambda r: r.per_share(r.a("surplus_rese")),
    "undist_profit_ps": lambda r: r.per_share(r.a("undistr_porfit")),
    # Non-recurring items after tax: non-operating, disposal and fair-value gains.
    "extra_item": lambda r: 0.75 * (r.a("non_oper_income") - r.a("non_oper_exp")
                                    + _nz(r.a("asset_disp_income")) + _nz(r.a("fv_value_chg_gain"))),
    "profit_dedt": lambda r: r.a("n_income_attr_p") - r["extra_item"],
    "gross_margin": lambda r: r.a("revenue") - r.a("oper_cost"),
    "current_ratio": lambda r: _div(r.a("total_cur_assets"), r.a("total_cur_liab")),
    "quick_ratio": lambda r: _div(r.a("total_cur_assets") - _nz(r.a("inventories")), r.a("total_cur_liab")),
    "cash_ratio": lambda r: _div(r.a("money_cap"), r.a("total_cur_liab")),
    "inv_turn": lambda r: _div(r.a("oper_cost"), r.avg("inventories")),
    "invturn_days": lambda r: _div(90 * (r.quarter + 1), r["inv_turn"]),
    "ar_turn": lambda r: _div(r.a("revenue"), r.avg("accounts_receiv")),
    "arturn_days": lambda r: _div(90 * (r.quarter + 1), r["ar_turn"]),
    "ca_turn": lambda r: _div(r.a("revenue"), r.avg("total_cur_assets")),
    "fa_turn": lambda r: _div(r.a("revenue"), r.avg("fix_assets")),
    "assets_turn": lambda r: _div(r.a("revenue"), r.avg("total_assets")),
    "turn_days": lambda r: _div(90 * (r.quarter + 1), r["assets_turn"]),
    "op_income": lambda r: r.a("operate_profit") - r.a("invest_income") - _nz(r.a("fv_value_chg_gain")),
    "valuechange_income": lambda r: r.a("fv_value_chg_gain"),
    "daa": lambda r: r.a("depr_fa_coga_dpba") + r.a("amort_intang_assets") + _nz(r.a("lt_amort_deferred_exp")),
    "ebit": lambda r: r.a("ebit"),
    "ebitda": lambda r: r.a("ebitda"),
    "fcff": lambda r: r.a("n_cashflow_act") - r.a("c_pay_acq_const_fiolta") + 0.75 * r.a("fin_exp_int_exp"),
    "fcfe": lambda r: (r.a("n_cashflow_act") - r.a("c_pay_acq_const_fiolta") + _nz(r.a("c_recp_borrow"))
                       - r.a("c_prepay_amt_borr")),
    # Interest-bearing debt; a bank's balance sheet has no such split (NULL).
    "interestdebt": lambda r: np.where(
        np.isnan(r.a("total_cur_assets")), np.nan,
        _nz(r.a("st_borr")) + _nz(r.a("lt_borr")) + _nz(r.a("bond_payable")) + _nz(r.a("non_cur_liab_due_1y"))),
    "current_exint": lambda r: r.a("total_cur_liab") - _nz(r.a("st_borr")) - _nz(r.a("non_cur_liab_due_1y")),
    "noncurrent_exint": lambda r: r.a("total_ncl") - _nz(r.a("lt_borr")) - _nz(r.a("bond_payable")),
    "netdebt": lambda r: r["interestdebt"] - r.a("money_cap"),
    "tangible_asset": lambda r: r.a("total_assets") - r.a("intan_assets") - _nz(r.a("goodwill")),
    "working_capital": lambda r: r.a("total_cur_assets") - r.a("total_cur_liab"),
    "networking_capital": lambda r: ((r.a("total_cur_assets") - r.a("money_cap"))
                                     - (r.a("total_cur_liab") - _nz(r.a("st_borr")))),
    "invest_capital": lambda r: r.a("total_hldr_eqy_inc_min_int") + r["interestdebt"],
    "retained_earnings": lambda r: r.a("surplus_rese") + r.a("undistr_porfit"),
    "diluted2_eps": lambda r: r.per_share(r.a("n_income_attr_p")),
    "bps": lambda r: r.per_share(r.a("total_hldr_eqy_exc_min_int")),
    "ocfps": lambda r: r.per_share(r.a("n_cashflow_act")),
    "retainedps": lambda r: r.per_share(r["retained_earnings"]),
    "cfps": lambda r: r.per_share(r.a("n_incr_cash_cash_equ")),
    "ebit_ps": lambda r: r.per_share(r["ebit"]),
    "fcff_ps": lambda r: r.per_share(r["fcff"]),
    "fcfe_ps": lambda r: r.per_share(r["fcfe"]),
    "netprofit_margin": lambda r: r.of_revenue(r.a("n_income")),
    "grossprofit_margin": lambda r: r.of_revenue(r["gross_margin"]),
    "cogs_of_sales": lambda r: r.of_revenue(r.a("oper_cost")),
    "expense_of_sales": lambda r: r.of_revenue(r.a("sell_exp") + r.a("admin_exp") + r.a("fin_exp")),
    "profit_to_gr": lambda r: r.of_revenue(r.a("n_income"), total=True),
    "saleexp_to_gr": lambda r: r.of_revenue(r.a("sell_exp"), total=True),
    "adminexp_of_gr": lambda r: r.of_revenue(r.a("admin_exp"), total=True),
    "finaexp_of_gr": lambda r: r.of_revenue(r.a("fin_exp"), total=True),
    "gc_of_gr": lambda r: r.of_revenue(r.a("total_cogs"), total=True),
    "op_of_gr": lambda r: r.of_revenue(r.a("operate_profit"), total=True),
    "ebit_of_gr": lambda r: r.of_revenue(r["ebit"], total=True),
    "profit_to_op": lambda r: r.of_revenue(r.a("total_profit")),
    "roe": lambda r: _div(r.a("n_income_attr_p"), r.avg("total_hldr_eqy_exc_min_int")) * 100,
    "roe_avg": lambda r: r["roe"],
    "roe_waa": lambda r: _div(r.a("n_income_attr_p"),
                              r.begin("total_hldr_eqy_exc_min_int") + r.a("n_income_attr_p") / 2) * 100,
    "roe_dt": lambda r: _div(r["profit_dedt"], r.avg("total_hldr_eqy_exc_min_int")) * 100,
    "roa": lambda r: _div(r.a("n_income"), r.avg("total_assets")) * 100,
    "npta": lambda r: _div(r.a("n_income"), r.a("total_assets")) * 100,
    "roic": lambda r: _div(0.75 * r["ebit"], r["invest_capital"]) * 100,
    "roe_yearly": lambda r: r["roe"] / r.years,
    "roa2_yearly": lambda r: r["roa"] / r.years,
    "roa_yearly": lambda r: r["npta"] / r.years,
    "roic_yearly": lambda r: r["roic"] / r.years,
    "tax_to_ebt": lambda r: _div(r.a("income_tax"), r.a("total_profit")) * 100,
    "opincome_of_ebt": lambda r: _div(r["op_income"], r.a("total_profit")) * 100,
    "investincome_of_ebt": lambda r: _div(r.a("invest_income"), r.a("total_profit")) * 100,
    "dtprofit_to_profit": lambda r: _div(r["profit_dedt"], r.a("n_income_attr_p")) * 100,
    "salescash_to_or": lambda r: r.of_revenue(r.a("c_fr_sale_sg")),
    "ocf_to_or": lambda r: r.of_revenue(r.a("n_cashflow_act")),
    "ocf_to_opincome": lambda r: _div(r.a("n_cashflow_act"), r["op_income"]) * 100,
    "debt_to_assets": lambda r: _div(r.a("total_liab"), r.a("total_assets")) * 100,
    "assets_to_eqt": lambda r: _div(r.a("total_assets"), r.a("total_hldr_eqy_inc_min_int")),
    "dp_assets_to_eqt": lambda r: _div(r.avg("total_assets"), r.avg("total_hldr_eqy_inc_min_int")),
    "ca_to_assets": lambda r: _div(r.a("total_cur_assets"), r.a("total_assets")) * 100,
    "nca_to_assets": lambda r: _div(r.a("total_nca"), r.a("total_assets")) * 100,
    "tbassets_to_totalassets": lambda r: _div(r["tangible_asset"], r.a("total_assets")) * 100,
    "int_to_talcap": lambda r: _div(r["interestdebt"], r["interestdebt"] + r.a("total_hldr_eqy_inc_min_int")) * 100,
    "eqt_to_talcapital": lambda r: _div(r.a("total_hldr_eqy_inc_min_int"),
                                        r["interestdebt"] + r.a("total_hldr_eqy_inc_min_int")) * 100,
    "currentdebt_to_debt": lambda r: _div(r.a("total_cur_liab"), r.a("total_liab")) * 100,
    "longdeb_to_debt": lambda r: _div(r.a("total_ncl"), r.a("total_liab")) * 100,
    "ocf_to_shortdebt": lambda r: _div(r.a("n_cashflow_act"), r.a("total_cur_liab")),
    "debt_to_eqt": lambda r: _div(r.a("total_liab"), r.a("total_hldr_eqy_inc_min_int")),
    "eqt_to_debt": lambda r: _div(r.a("total_hldr_eqy_inc_min_int"), r.a("total_liab")),
    "eqt_to_interestdebt": lambda r: _div(r.a("total_hldr_eqy_inc_min_int"), r["interestdebt"]),
    "tangibleasset_to_debt": lambda r: _div(r["tangible_asset"], r.a("total_liab")),
    "tangasset_to_intdebt": lambda r: _div(r["tangible_asset"], r["interestdebt"]),
    "tangibleasset_to_netdebt": lambda r: _div(r["tangible_asset"], r["netdebt"]),
    "ocf_to_debt": lambda r: _div(r.a("n_cashflow_act"), r.a("total_liab")),
    "ocf_to_interestdebt": lambda r: _div(r.a("n_cashflow_act"), r["interestdebt"]),
    "ocf_to_netdebt": lambda r: _div(r.a("n_cashflow_act"), r["netdebt"]),
    "ebit_to_interest": lambda r: _div(r["ebit"], r.a("fin_exp_int_exp")),
    "cash_to_liqdebt": lambda r: _div(r.a("money_cap"), r.a("total_cur_liab")),
    "fixed_assets": lambda r: r.a("fix_assets_total"),
    "rd_exp": lambda r: r.a("rd_exp"),
    "q_opincome": lambda r: r.sq("operate_profit") - r.sq("invest_income") - _nz(r.sq("fv_value_chg_gain")),
    "q_investincome": lambda r: r.sq("invest_income"),
    "q_dtprofit": lambda r: r.sq("n_income_attr_p") - 0.75 * (
        r.sq("non_oper_income") - r.sq("non_oper_exp") + _nz(r.sq("asset_disp_income"))
        + _nz(r.sq("fv_value_chg_gain"))),
    "q_eps": lambda r: r.per_share(r.sq("n_income_attr_p")),
    "q_netprofit_margin": lambda r: r.of_sq_revenue(r.sq("n_income")),
    "q_gsprofit_margin": lambda r: r.of_sq_revenue(r.sq("revenue") - r.sq("oper_cost")),
    "q_exp_to_sales": lambda r: r.of_sq_revenue(r.sq("sell_exp") + r.sq("admin_exp") + r.sq("fin_exp")),
    "q_profit_to_gr": lambda r: r.of_sq_revenue(r.sq("n_income"), total=True),
    "q_saleexp_to_gr": lambda r: r.of_sq_revenue(r.sq("sell_exp"), total=True),
    "q_adminexp_to_gr": lambda r: r.of_sq_revenue(r.sq("admin_exp"), total=True),
    "q_finaexp_to_gr": lambda r: r.of_sq_revenue(r.sq("fin_exp"), total=True),
    "q_gc_to_gr": lambda r: r.of_sq_revenue(r.sq("total_cogs"), total=True),
    "q_op_to_gr": lambda r: r.of_sq_revenue(r.sq("operate_profit"), total=True),
    "q_roe": lambda r: _div(r.sq("n_income_attr_p"), r.a("total_hldr_eqy_exc_min_int")) * 100,
    "q_dt_roe": lambda r: _div(r["q_dtprofit"], r.a("total_hldr_eqy_exc_min_int")) * 100,
    "q_npta": lambda r: _div(r.sq("n_income"), r.a("total_assets")) * 100,
    "q_ocf_to_sales": lambda r: r.of_sq_revenue(r.sq("n_cashflow_act")),
    "q_ocf_to_or": lambda r: r["q_ocf_to_sales"],
    "q_salescash_to_or": lambda r: r.of_sq_revenue(r.sq("c_fr_sale_sg")),
}
#: Growth of an indicator against the same period a year earlier: output column -> (kind, name), kind
#: "ratio" for an indicator, "item" for a statement figure, "sq" for a single-quarter figure.
_YOY: dict[str, tuple[str, str]] = {
    "basic_eps_yoy": ("ratio", "eps"), "dt_eps_yoy": ("ratio", "dt_eps"), "cfps_yoy": ("ratio", "cfps"),
    "ocf_yoy": ("ratio", "ocfps"), "dt_netprofit_yoy": ("ratio", "profit_dedt"), "roe_yoy": ("ratio", "roe"),
    "bps_yoy": ("ratio", "bps"), "op_yoy": ("item", "operate_profit"), "ebt_yoy": ("item", "total_profit"),
    "netprofit_yoy": ("item", "n_income_attr_p"), "assets_yoy": ("item", "total_assets"),
    "eqt_yoy": ("item", "total_hldr_eqy_inc_min_int"), "tr_yoy": ("item", "total_revenue"),
    "or_yoy": ("item", "revenue"), "equity_yoy": ("item", "total_hldr_eqy_exc_min_int"),
    "q_sales_yoy": ("sq", "revenue"), "q_gr_yoy": ("sq", "total_revenue"), "q_op_yoy": ("sq", "operate_profit"),
    "q_profit_yoy": ("sq", "n_income"), "q_netprofit_yoy": ("sq", "n_income_attr_p"),
}
#: Growth of a single-quarter figure against the previous quarter's.
_QOQ = {"q_op_qoq": "operate_profit", "q_gr_qoq": "total_revenue", "q_sales_qoq": "revenue",
        "q_profit_qoq": "n_income", "q_netprofit_qoq": "n_income_attr_p"}
#: Indicator columns in CNY (rounded to the cent; ratios to 4 decimals).
_MONEY = frozenset({
    "extra_item", "profit_dedt", "gross_margin", "op_income", "valuechange_income", "daa", "ebit", "ebitda",
    "fcff", "fcfe", "current_exint", "noncurrent_exint", "interestdebt", "netdebt", "tangible_asset",
    "working_capital", "networking_capital", "invest_capital", "retained_earnings", "fixed_assets",
    "rd_exp", "q_opincome", "q_investincome", "q_dtprofit",
})


def indicator_table(model: CompanyModel, schedule: Schedule, tables: dict[str, VersionFigures]) -> pd.DataFrame:
    """fina_indicator rows, one per statement version (plus the planted duplicates)."""
    v = schedule.versions
    s, p = v.stock, v.period
    quarter = p % 4
    at = lambda offset: _true_accounts(model, s, offset)  # noqa: E731
    now = _Ratios(_version_accounts(tables, len(v)), at(p - quarter - 1), at(p - 1), quarter)
    year_ago = _Ratios(at(p - 4), at(p - 4 - quarter - 1), at(p - 5), quarter)
    prev_quarter_no = (p - 1) % 4
    quarter_ago = _Ratios(at(p - 1), at(p - 1 - prev_quarter_no - 1), at(p - 2), prev_quarter_no)

    def value(name: str) -> np.ndarray | None:
        if name in _FORMULAS:
            return now[name]
        if name in _YOY:
            kind, src = _YOY[name]
            if kind == "ratio":
                return growth(now[src], year_ago[src])
            if kind == "item":
                return growth(now.a(src), year_ago.a(src))
            return growth(now.sq(src), year_ago.sq(src))
        if name in _QOQ:
            return growth(now.sq(_QOQ[name]), quarter_ago.sq(_QOQ[name]))
        return None

    rows = np.arange(len(v))
    dup = np.flatnonzero((v.duplicate & DUP_INDICATOR) != 0)
    rows = np.concatenate([rows, dup])
    rows = rows[np.lexsort((v.f_ann[rows], p[rows], s[rows]))]
    fields = served_fields("fina_indicator")
    ratios = float_names(fields)
    block = np.full((len(rows), len(ratios)), np.nan, order="F")
    for k, name in enumerate(ratios):
        col = value(name)
        if col is not None:
            block[:, k] = np.round(col[rows], 2 if name in _MONEY else 4)
    end_strings = np.array([d.strftime("%Y%m%d") for d in schedule.grid.end_dates()], dtype=object)
    strings = {
        "ts_code": np.array(schedule.codes, dtype=object)[s[rows]],
        "ann_date": day_strings(v.f_ann[rows]),
        "end_date": end_strings[p[rows]],
        "update_flag": v.update_flag[rows],
    }
    return frame(fields, strings, ratios, block)
