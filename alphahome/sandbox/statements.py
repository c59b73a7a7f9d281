"""The true accounts of every synthetic company: income, balance sheet and cash flow per quarter.

Arrays are (stocks, quarters), quarters running from Q1 of ``first_year`` over whole years. Money is held
in integer-valued float cents, so totals built as sums of their components are exact and single-quarter
values recovered as differences of year-to-date values are exact too; the financial tables divide by 100.
Flows are year-to-date (Tushare's report_type 1); balances are period-end.

The model is simple on purpose: a revenue path with growth, seasonality and shocks; costs and margins
per company; equity that accumulates attributable profit less dividends; liabilities from a leverage
ratio; cash flows whose financing section closes the change in cash. Banks (comp_type '2') get a bank's
statements (interest income, deposits, loans) and leave the industrial items NULL, and vice versa.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from alphahome.sandbox.company_random import N_NOISE_ROWS, CompanyDraws

NAN = np.nan

#: Cash-flow columns that are balances (start or end of the period), not flows.
CASH_BALANCE_COLUMNS: frozenset[str] = frozenset({
    "c_cash_equ_beg_period", "c_cash_equ_end_period", "end_bal_cash", "beg_bal_cash",
    "end_bal_cash_equ", "beg_bal_cash_equ",
})
#: Cash-flow supplementary items (indirect method, cash reconciliation): disclosed only at H1 and year end.
CASH_SUPPLEMENT_COLUMNS: frozenset[str] = frozenset({
    "net_profit", "finan_exp", "prov_depr_assets", "depr_fa_coga_dpba", "amort_intang_assets",
    "lt_amort_deferred_exp", "loss_disp_fiolta", "loss_fv_chg", "invest_loss", "decr_def_inc_tax_assets",
    "incr_def_inc_tax_liab", "decr_inventories", "decr_oper_payable", "incr_oper_payable", "others",
    "im_net_cashflow_oper_act", "im_n_incr_cash_equ", "credit_impa_loss", "end_bal_cash", "beg_bal_cash",
})
#: Columns not in cents: per-share values (CNY) and the share count (shares).
NON_CENT_COLUMNS: frozenset[str] = frozenset({"basic_eps", "diluted_eps", "total_share"})


@dataclass
class CompanyModel:
    """True accounts of ``n`` companies over ``4 * n_years`` quarters."""

    first_year: int
    n_years: int
    is_bank: np.ndarray
    #: Year-to-date income items (cents; eps in CNY per share).
    income: dict[str, np.ndarray]
    #: Period-end balance-sheet items (cents; total_share in shares).
    balance: dict[str, np.ndarray]
    #: Year-to-date cash-flow items (cents); cash balances as of the year's start and the period's end.
    cashflow: dict[str, np.ndarray]

    @property
    def n_quarters(self) -> int:
        return 4 * self.n_years


class _Rows:
    """Hands out noise series and per-company parameters in a fixed order.

    Normal draws dominate the cost at 5,000 companies, so only ``N_NOISE_ROWS`` series are drawn per
    company; later series reuse them shifted in time (a different path each, correlated only at a lag).
    """

    def __init__(self, z: np.ndarray, u: np.ndarray, pz: np.ndarray) -> None:
        self._z, self._u, self._pz = z, u, pz
        self._i = self._j = 0

    def z(self) -> np.ndarray:
        """One standard-normal (stocks, quarters) series."""
        lap, base = divmod(self._i, N_NOISE_ROWS)
        self._i += 1
        row = self._z[:, base, :]
        return np.roll(row, 7 * lap, axis=1) if lap else row

    def param(self) -> tuple[np.ndarray, np.ndarray]:
        """One per-company (uniform, normal) pair, as (stocks, 1) columns."""
        out = self._u[:, self._j, None], self._pz[:, self._j, None]
        self._j += 1
        return out

    def uniform(self, lo: float, hi: float) -> np.ndarray:
        u, _ = self.param()
        return lo + (hi - lo) * u

    def present(self, share: float) -> np.ndarray:
        """A per-company mask: True for about ``share`` of companies (the item is disclosed)."""
        u, _ = self.param()
        return u < share


def _cents(x: np.ndarray) -> np.ndarray:
    return np.rint(x)


def _optional(values: np.ndarray, present: np.ndarray) -> np.ndarray:
    """``values`` where the company discloses the item, NaN elsewhere."""
    return np.where(present, values, NAN)


def _nz(x: np.ndarray) -> np.ndarray:
    """NaN as zero (an undisclosed item adds nothing to a total)."""
    return np.where(np.isnan(x), 0.0, x)


def _total(parts: Iterable[np.ndarray]) -> np.ndarray:
    """Sum of the disclosed parts (NaN parts count as absent)."""
    out: np.ndarray | None = None
    for p in parts:
        out = _nz(p) if out is None else out + _nz(p)
    assert out is not None
    return out


def _ytd(sq: np.ndarray) -> np.ndarray:
    """Year-to-date sums of single-quarter values (quarters run Q1..Q4 from the first column)."""
    r = sq.reshape(-1, 4)
    out = np.empty_like(r)
    out[:, 0] = r[:, 0]
    for k in range(1, 4):
        np.add(out[:, k - 1], r[:, k], out=out[:, k])
    return out.reshape(sq.shape)


def _split(total: np.ndarray, weights: dict[str, tuple[float, np.ndarray]], rows: _Rows
           ) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Split ``total`` into components with per-company weights drifting by quarter; returns the
    components (cents, NaN where not disclosed) and their exact sum."""
    raw: dict[str, np.ndarray] = {}
    drift = np.exp(0.05 * rows.z())
    for k, (name, (base, present)) in enumerate(weights.items()):
        _, pz = rows.param()
        # One noise row per split, shifted per component: cheap and still a distinct path each.
        w = (base * np.exp(0.5 * pz)) * np.roll(drift, 3 * k, axis=1)
        raw[name] = np.where(present, w, 0.0)
    norm = sum(raw.values())
    norm = np.where(norm > 0, norm, 1.0)
    parts = {name: _optional(_cents(total * w / norm), weights[name][1]) for name, w in raw.items()}
    return parts, _total(parts.values())


def _merge(is_bank: np.ndarray, general: dict[str, np.ndarray], bank: dict[str, np.ndarray]
           ) -> dict[str, np.ndarray]:
    """Each item from the bank model for banks and from the general model for the rest (NaN where the
    company's model has no such item)."""
    shape = next(iter(general.values())).shape
    out: dict[str, np.ndarray] = {}
    for name in dict.fromkeys([*general, *bank]):
        merged = np.array(general[name]) if name in general else np.full(shape, NAN)
        merged[is_bank] = bank[name][is_bank] if name in bank else NAN
        out[name] = merged
    return out


def build_company_model(draws: CompanyDraws, comp_types: Sequence[str], first_year: int, n_years: int
                        ) -> CompanyModel:
    """Simulate the true accounts of the companies from Q1 ``first_year`` over ``n_years`` whole years
    (``draws`` cover ``4 * n_years`` quarters)."""
    t = 4 * n_years
    assert draws.noise is not None and draws.params_uniform is not None and draws.params_normal is not None
    assert draws.noise.shape[2] == t
    rows = _Rows(draws.noise, draws.params_uniform, draws.params_normal)
    is_bank = np.array([c == "2" for c in comp_types], dtype=bool)
    q = np.arange(t) % 4

    # Scale path: quarterly revenue of an industrial company; a bank's revenue follows the same path.
    _, size = rows.param()
    annual0 = np.exp(np.log(3e9 * 100) + 1.1 * size)
    growth = rows.uniform(-0.04, 0.22)
    season_u = np.stack([rows.uniform(0.18, 0.30) for _ in range(4)], axis=2)[:, 0, :]
    season = season_u / season_u.sum(axis=1, keepdims=True)
    level = np.exp(np.cumsum(growth / 4 + 0.045 * rows.z(), axis=1))
    scale = annual0 * season[:, q] * level * np.exp(0.03 * rows.z())
    year_shock = np.repeat(rows.z()[:, ::4], 4, axis=1)

    general = _general_income(scale, year_shock, rows)
    bank = _bank_income(scale, year_shock, rows)
    sq = _merge(is_bank, general, bank)
    _profit_chain(sq, rows, is_bank)

    balance, da, dividends = _balance_sheet(sq, annual0, is_bank, n_years, rows)
    sq["ebitda"] = np.where(is_bank[:, None], NAN, sq["ebit"] + da["total"])
    cash_sq, cash_end, cash_start = _cash_flows(sq, balance, da, dividends, is_bank, rows)

    income = {name: _ytd(v) for name, v in sq.items() if not name.startswith("_")}
    shares = balance["total_share"]
    income["basic_eps"] = np.round(income["n_income_attr_p"] / 100 / shares, 4)
    income["diluted_eps"] = np.round(income["basic_eps"] * 0.995, 4)

    cashflow = {name: _ytd(v) for name, v in cash_sq.items()}
    year_start_cash = np.repeat(cash_start[:, ::4], 4, axis=1)
    cashflow["c_cash_equ_beg_period"] = year_start_cash
    cashflow["c_cash_equ_end_period"] = cash_end
    cashflow["beg_bal_cash"] = year_start_cash
    cashflow["end_bal_cash"] = cash_end
    supplement_disclosed = (q == 1) | (q == 3)
    for name in CASH_SUPPLEMENT_COLUMNS & cashflow.keys():
        cashflow[name] = np.where(supplement_disclosed[None, :], cashflow[name], NAN)
    return CompanyModel(first_year, n_years, is_bank, income, balance, cashflow)


def _shift(x: np.ndarray, k: int) -> np.ndarray:
    """Value ``k`` quarters earlier; the first quarters repeat the first value (the opening balance)."""
    out = np.empty_like(x)
    out[:, k:] = x[:, :-k]
    out[:, :k] = x[:, :1]
    return out


def _general_income(rev: np.ndarray, year_shock: np.ndarray, rows: _Rows) -> dict[str, np.ndarray]:
    gross = rows.uniform(0.10, 0.55)
    gm = np.clip(gross + 0.07 * year_shock + 0.015 * rows.z(), 0.01, 0.95)
    ratio = lambda lo, hi, vol: rows.uniform(lo, hi) * np.exp(vol * rows.z())  # noqa: E731
    s: dict[str, np.ndarray] = {}
    s["revenue"] = _cents(rev)
    s["total_revenue"] = s["revenue"]
    s["oper_cost"] = _cents(rev * (1 - gm))
    s["biz_tax_surchg"] = _cents(rev * ratio(0.004, 0.012, 0.05))
    s["sell_exp"] = _cents(rev * ratio(0.005, 0.10, 0.1))
    s["admin_exp"] = _cents(rev * ratio(0.02, 0.09, 0.1))
    s["rd_exp"] = _optional(_cents(rev * ratio(0.005, 0.07, 0.1)), rows.present(0.75))
    s["fin_exp_int_exp"] = _cents(rev * ratio(0.0, 0.025, 0.05))
    s["fin_exp_int_inc"] = _cents(rev * ratio(0.001, 0.006, 0.1))
    s["fin_exp"] = s["fin_exp_int_exp"] - s["fin_exp_int_inc"]
    s["total_cogs"] = _total([s["oper_cost"], s["biz_tax_surchg"], s["sell_exp"], s["admin_exp"],
                              s["rd_exp"], s["fin_exp"]])
    s["invest_income"] = _cents(rev * rows.uniform(-0.005, 0.03) * (1 + 0.5 * rows.z()))
    s["fv_value_chg_gain"] = _optional(_cents(rev * 0.004 * rows.z()), rows.present(0.5))
    s["oth_income"] = _cents(rev * 0.004 * np.abs(1 + 0.3 * rows.z()))
    s["asset_disp_income"] = _optional(_cents(rev * 0.001 * rows.z()), rows.present(0.5))
    s["credit_impa_loss"] = _cents(-rev * 0.004 * np.abs(rows.z()))
    s["assets_impair_loss"] = _optional(_cents(-rev * 0.002 * np.abs(rows.z())), rows.present(0.6))
    s["operate_profit"] = (s["total_revenue"] - s["total_cogs"]) + _total([
        s["invest_income"], s["fv_value_chg_gain"], s["oth_income"], s["asset_disp_income"],
        s["credit_impa_loss"], s["assets_impair_loss"]])
    s["_interest"] = s["fin_exp_int_exp"]
    return s


def _bank_income(scale: np.ndarray, year_shock: np.ndarray, rows: _Rows) -> dict[str, np.ndarray]:
    assets = scale * 40  # a bank's quarterly revenue is about 2.5% of its assets a year
    s: dict[str, np.ndarray] = {}
    s["int_income"] = _cents(assets * 0.040 / 4 * np.exp(0.02 * rows.z()))
    s["int_exp"] = _cents(assets * 0.021 / 4 * np.exp(0.02 * rows.z()))
    s["comm_income"] = _cents(assets * 0.004 / 4 * np.exp(0.05 * rows.z()))
    s["comm_exp"] = _cents(s["comm_income"] * 0.1)
    s["n_commis_income"] = s["comm_income"] - s["comm_exp"]
    s["invest_income"] = _cents(assets * 0.002 / 4 * (1 + 0.3 * rows.z()))
    s["fv_value_chg_gain"] = _cents(assets * 0.0004 * rows.z())
    s["forex_gain"] = _cents(assets * 0.0001 * rows.z())
    s["oth_b_income"] = _cents(assets * 0.0002 * np.abs(rows.z()))
    s["revenue"] = (s["int_income"] - s["int_exp"]) + s["n_commis_income"] + s["invest_income"] + \
        s["fv_value_chg_gain"] + s["forex_gain"] + s["oth_b_income"]
    s["total_revenue"] = s["revenue"]
    s["biz_tax_surchg"] = _cents(s["revenue"] * 0.01)
    s["admin_exp"] = _cents(s["revenue"] * rows.uniform(0.25, 0.35))
    credit_cost = np.clip(0.25 + 0.08 * year_shock + 0.02 * rows.z(), 0.02, 0.9)
    s["credit_impa_loss"] = _cents(s["revenue"] * credit_cost)
    s["other_bus_cost"] = _cents(s["revenue"] * 0.02 * np.abs(rows.z()))
    s["oper_exp"] = s["biz_tax_surchg"] + s["admin_exp"] + s["credit_impa_loss"] + s["other_bus_cost"]
    s["operate_profit"] = s["revenue"] - s["oper_exp"]
    s["_interest"] = np.zeros_like(s["revenue"])
    return s


def _profit_chain(s: dict[str, np.ndarray], rows: _Rows, is_bank: np.ndarray) -> None:
    """From operating profit down to comprehensive income, shared by every company type."""
    rev = s["revenue"]
    s["non_oper_income"] = _cents(np.abs(rev) * 0.001 * np.abs(rows.z()))
    s["non_oper_exp"] = _cents(np.abs(rev) * 0.0008 * np.abs(rows.z()))
    s["total_profit"] = s["operate_profit"] + s["non_oper_income"] - s["non_oper_exp"]
    rate = rows.uniform(0.12, 0.25)
    s["income_tax"] = _cents(np.where(s["total_profit"] > 0, rate, 0.05) * s["total_profit"])
    s["n_income"] = s["total_profit"] - s["income_tax"]
    minority = np.where(rows.present(0.6), rows.uniform(0.01, 0.15), 0.0)
    s["_minority_share"] = np.broadcast_to(minority, rev.shape).copy()
    s["minority_gain"] = _cents(s["n_income"] * minority)
    s["n_income_attr_p"] = s["n_income"] - s["minority_gain"]
    s["continued_net_profit"] = s["n_income"]
    s["oth_compr_income"] = _optional(_cents(np.abs(rev) * 0.002 * rows.z()), rows.present(0.7))
    s["t_compr_income"] = s["n_income"] + _nz(s["oth_compr_income"])
    s["compr_inc_attr_p"] = s["n_income_attr_p"] + _cents(_nz(s["oth_compr_income"]) * (1 - minority))
    s["compr_inc_attr_m_s"] = s["t_compr_income"] - s["compr_inc_attr_p"]
    s["ebit"] = np.where(is_bank[:, None], NAN, s["total_profit"] + s["_interest"])


def _balance_sheet(sq: dict[str, np.ndarray], annual0: np.ndarray, is_bank: np.ndarray, n_years: int,
                   rows: _Rows) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray], np.ndarray]:
    n, t = sq["revenue"].shape
    q = np.arange(t) % 4
    attr = sq["n_income_attr_p"]
    annual_attr = attr.reshape(n, n_years, 4).sum(axis=2)
    prior_annual = np.concatenate([annual_attr[:, :1] * 0, annual_attr[:, :-1]], axis=1)
    payout = rows.uniform(0.0, 0.45)
    dividends = np.where(q[None, :] == 2, _cents(payout * np.maximum(np.repeat(prior_annual, 4, axis=1), 0)),
                         0.0)
    equity0 = annual0 * np.where(is_bank[:, None], 0.8, rows.uniform(0.4, 1.5))
    # A company whose equity would run out is recapitalised (the floor), as a rescue would do.
    equity = np.maximum(equity0 + np.cumsum(attr - dividends, axis=1), 0.1 * equity0)
    minority0 = equity0 * sq["_minority_share"][:, :1] * 0.8
    minority = _cents(np.maximum(minority0 + np.cumsum(sq["minority_gain"], axis=1), 0.0))
    lev = np.where(is_bank[:, None], rows.uniform(10.0, 14.0), rows.uniform(0.3, 2.0))
    liab_target = (equity + minority) * lev * np.exp(0.04 * rows.z())
    assets_target = liab_target + equity + minority

    general = _general_balance(assets_target, liab_target, rows)
    bank = _bank_balance(assets_target, liab_target, rows)
    b = _merge(is_bank, general, bank)

    b["total_hldr_eqy_inc_min_int"] = b["total_assets"] - b["total_liab"]
    b["minority_int"] = np.minimum(minority, np.maximum(b["total_hldr_eqy_inc_min_int"], 0.0))
    b["total_hldr_eqy_exc_min_int"] = b["total_hldr_eqy_inc_min_int"] - b["minority_int"]
    b["total_liab_hldr_eqy"] = b["total_liab"] + b["total_hldr_eqy_inc_min_int"]

    # Equity detail: share capital at par 1 CNY, capital reserve, surplus reserve, retained earnings.
    bps0 = rows.uniform(2.0, 9.0)
    shares = np.round(equity0 / 100 / bps0, -4)
    b["total_share"] = np.broadcast_to(shares, (n, t)).astype(float)
    b["cap_rese"] = np.broadcast_to(_cents(equity0 * rows.uniform(0.05, 0.4)), (n, t)).astype(float)
    surplus = _cents(equity0 * 0.05 + 0.1 * np.cumsum(np.maximum(attr, 0), axis=1))
    b["surplus_rese"] = np.minimum(surplus, shares * 100 * 0.5 + equity0 * 0.05)
    b["oth_comp_income"] = _optional(_cents(np.cumsum(_nz(sq["oth_compr_income"]), axis=1)),
                                     ~np.isnan(sq["oth_compr_income"][:, :1]))
    b["undistr_porfit"] = (b["total_hldr_eqy_exc_min_int"] - shares * 100 - b["cap_rese"]
                           - b["surplus_rese"] - _nz(b["oth_comp_income"]))
    b["ordin_risk_reser"] = np.where(is_bank[:, None], _cents(b["total_assets"] * 0.012), NAN)

    # Depreciation and amortisation from the fixed and intangible assets at the start of the quarter.
    da = {
        "depr_fa_coga_dpba": _cents(_shift(_nz(b["fix_assets"]), 1) * 0.018),
        "amort_intang_assets": _cents(_shift(_nz(b["intan_assets"]), 1) * 0.02),
        "lt_amort_deferred_exp": _optional(_cents(_shift(_nz(b["lt_amor_exp"]), 1) * 0.05),
                                           ~is_bank[:, None]),
    }
    da["total"] = _total(da.values())
    return b, da, dividends


def _general_balance(assets: np.ndarray, liab: np.ndarray, rows: _Rows) -> dict[str, np.ndarray]:
    yes = np.ones((assets.shape[0], 1), dtype=bool)
    current_share = np.clip(rows.uniform(0.3, 0.75) + 0.02 * rows.z(), 0.1, 0.9)
    cur, tca = _split(assets * current_share, {
        "money_cap": (0.28, yes), "trad_asset": (0.05, rows.present(0.5)),
        "notes_receiv": (0.05, rows.present(0.7)), "accounts_receiv": (0.22, yes),
        "oth_receiv": (0.03, yes), "prepayment": (0.04, yes), "inventories": (0.25, rows.present(0.95)),
        "oth_cur_assets": (0.03, yes), "contract_assets": (0.03, rows.present(0.4)),
    }, rows)
    ncur, tnca = _split(assets * (1 - current_share), {
        "lt_eqt_invest": (0.08, rows.present(0.8)), "invest_real_estate": (0.04, rows.present(0.3)),
        "fix_assets": (0.40, yes), "cip": (0.08, rows.present(0.85)), "intan_assets": (0.08, yes),
        "goodwill": (0.05, rows.present(0.5)), "lt_amor_exp": (0.02, rows.present(0.8)),
        "defer_tax_assets": (0.02, yes), "oth_nca": (0.03, yes), "use_right_assets": (0.02, rows.present(0.6)),
    }, rows)
    current_liab_share = np.clip(rows.uniform(0.55, 0.9) + 0.02 * rows.z(), 0.2, 0.98)
    cl, tcl = _split(liab * current_liab_share, {
        "st_borr": (0.20, rows.present(0.85)), "notes_payable": (0.08, rows.present(0.7)),
        "acct_payable": (0.30, yes), "adv_receipts": (0.02, rows.present(0.5)),
        "contract_liab": (0.08, rows.present(0.9)), "payroll_payable": (0.05, yes),
        "taxes_payable": (0.03, yes), "oth_payable": (0.08, yes), "non_cur_liab_due_1y": (0.05, yes),
        "oth_cur_liab": (0.03, rows.present(0.7)),
    }, rows)
    ncl, tncl = _split(liab * (1 - current_liab_share), {
        "lt_borr": (0.50, rows.present(0.8)), "bond_payable": (0.20, rows.present(0.4)),
        "lt_payable": (0.05, rows.present(0.5)), "estimated_liab": (0.03, rows.present(0.5)),
        "defer_tax_liab": (0.05, yes), "lease_liab": (0.05, rows.present(0.6)),
        "defer_inc_non_cur_liab": (0.05, yes), "oth_ncl": (0.03, rows.present(0.5)),
    }, rows)
    b = {**cur, **ncur, **cl, **ncl}
    b.update(total_cur_assets=tca, total_nca=tnca, total_assets=tca + tnca,
             total_cur_liab=tcl, total_ncl=tncl, total_liab=tcl + tncl)
    b["accounts_receiv_bill"] = _total([b["notes_receiv"], b["accounts_receiv"]])
    b["accounts_pay"] = _total([b["notes_payable"], b["acct_payable"]])
    b["oth_rcv_total"] = b["oth_receiv"]
    b["fix_assets_total"] = b["fix_assets"]
    b["cip_total"] = b["cip"]
    b["oth_pay_total"] = b["oth_payable"]
    b["long_pay_total"] = b["lt_payable"]
    return b


def _bank_balance(assets: np.ndarray, liab: np.ndarray, rows: _Rows) -> dict[str, np.ndarray]:
    yes = np.ones((assets.shape[0], 1), dtype=bool)
    a, ta = _split(assets, {
        "cash_reser_cb": (0.08, yes), "depos_in_oth_bfi": (0.02, yes), "prec_metals": (0.003, rows.present(0.5)),
        "loanto_oth_bank_fi": (0.03, yes), "trad_asset": (0.05, yes), "deriv_assets": (0.003, yes),
        "pur_resale_fa": (0.02, yes), "decr_in_disbur": (0.55, yes), "debt_invest": (0.15, yes),
        "oth_debt_invest": (0.07, yes), "lt_eqt_invest": (0.005, yes), "fix_assets": (0.006, yes),
        "intan_assets": (0.002, yes), "defer_tax_assets": (0.004, yes), "oth_assets": (0.006, yes),
    }, rows)
    li, tl = _split(liab, {
        "cb_borr": (0.03, yes), "depos_ib_deposits": (0.08, yes), "loan_oth_bank": (0.02, yes),
        "trading_fl": (0.005, rows.present(0.5)), "deriv_liab": (0.003, yes), "sold_for_repur_fa": (0.02, yes),
        "depos": (0.75, yes), "payroll_payable": (0.003, yes), "taxes_payable": (0.002, yes),
        "bond_payable": (0.08, yes), "defer_tax_liab": (0.0005, rows.present(0.5)), "oth_liab": (0.01, yes),
    }, rows)
    return {**a, **li, "total_assets": ta, "total_liab": tl}


def _cash_flows(sq: dict[str, np.ndarray], b: dict[str, np.ndarray], da: dict[str, np.ndarray],
                dividends: np.ndarray, is_bank: np.ndarray, rows: _Rows
                ) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray]:
    """Single-quarter cash flows and the cash at each quarter's end and start (cents)."""
    rev = sq["revenue"]
    bank_col = is_bank[:, None]
    d = lambda x: _nz(x) - _shift(_nz(x), 1)  # noqa: E731
    c: dict[str, np.ndarray] = {}
    tax_paid = _cents(_nz(sq["biz_tax_surchg"]) + np.maximum(sq["income_tax"], 0) + rev * 0.02)

    # Operating section.
    gen_in = {
        "c_fr_sale_sg": _cents(rev * 1.13 * (0.95 + 0.04 * rows.z())),
        "recp_tax_rends": _optional(_cents(rev * 0.01 * np.abs(rows.z())), rows.present(0.4)),
        "c_fr_oth_operate_a": _cents(rev * 0.02 * np.abs(1 + 0.3 * rows.z())),
    }
    gen_out = {
        "c_paid_to_for_empl": _cents(rev * rows.uniform(0.05, 0.15) * (1 + 0.03 * rows.z())),
        "c_paid_for_taxes": tax_paid,
        "oth_cash_pay_oper_act": _cents((_nz(sq["sell_exp"]) + _nz(sq["admin_exp"])) * 0.4
                                        * np.abs(1 + 0.1 * rows.z())),
    }
    # Payments for goods close operating cash flow near profit + D&A - working-capital build-up.
    working_capital_release = -d(b["accounts_receiv"]) - d(b["inventories"]) + d(b["acct_payable"])
    target_ocf = sq["n_income"] + da["total"] + 0.5 * working_capital_release + rev * 0.02 * rows.z()
    goods = _total(gen_in.values()) - _total(gen_out.values()) - target_ocf
    gen_out["c_paid_goods_s"] = _cents(np.maximum(goods, 0.2 * _nz(sq["oper_cost"])))
    depos_change = d(b["depos"]) + d(b["depos_ib_deposits"])
    bank_in = {
        "n_depos_incr_fi": np.maximum(depos_change, 0.0),
        "n_incr_loans_cb": np.maximum(d(b["cb_borr"]), 0.0),
        "ifc_cash_incr": _cents((_nz(sq["int_income"]) + _nz(sq["comm_income"])) * 0.98),
        "c_fr_oth_operate_a": _cents(np.abs(rev) * 0.02 * np.abs(rows.z())),
    }
    bank_out = {
        "n_incr_clt_loan_adv": np.maximum(d(b["decr_in_disbur"]), 0.0),
        "n_incr_dep_cbob": np.maximum(d(b["cash_reser_cb"]), 0.0),
        "pay_handling_chrg": _cents((_nz(sq["int_exp"]) + _nz(sq["comm_exp"])) * 0.97),
        "c_paid_to_for_empl": _cents(_nz(sq["admin_exp"]) * 0.6),
        "c_paid_for_taxes": tax_paid,
        "oth_cash_pay_oper_act": _cents(np.abs(rev) * 0.05) + np.maximum(-depos_change, 0.0),
    }
    gen = {**gen_in, **gen_out, "c_inf_fr_operate_a": _total(gen_in.values()),
           "st_cash_out_act": _total(gen_out.values())}
    bank = {**bank_in, **bank_out, "c_inf_fr_operate_a": _total(bank_in.values()),
            "st_cash_out_act": _total(bank_out.values())}
    c.update(_merge(is_bank, gen, bank))
    c["n_cashflow_act"] = c["c_inf_fr_operate_a"] - c["st_cash_out_act"]

    # Investing section.
    invest_book = _nz(b["debt_invest"]) + _nz(b["oth_debt_invest"]) + _nz(b["trad_asset"])
    c["c_disp_withdrwl_invest"] = _cents(np.abs(rev) * 0.05 * np.abs(rows.z()) + invest_book * 0.02)
    c["c_recp_return_invest"] = _cents(np.maximum(_nz(sq["invest_income"]), 0) * 0.7)
    c["n_recp_disp_fiolta"] = _optional(_cents(np.abs(rev) * 0.002 * np.abs(rows.z())), ~bank_col)
    c["stot_inflows_inv_act"] = _total([c["c_disp_withdrwl_invest"], c["c_recp_return_invest"],
                                        c["n_recp_disp_fiolta"]])
    c["c_pay_acq_const_fiolta"] = _cents(da["total"] * 1.3 * np.abs(1 + 0.3 * rows.z()))
    c["c_paid_invest"] = _cents(np.abs(rev) * 0.05 * np.abs(rows.z()) + np.maximum(d(invest_book), 0))
    c["stot_out_inv_act"] = c["c_pay_acq_const_fiolta"] + c["c_paid_invest"]
    c["n_cashflow_inv_act"] = c["stot_inflows_inv_act"] - c["stot_out_inv_act"]

    # Financing closes the change in cash: cash and equivalents are most of the money funds.
    cash = np.where(bank_col, _cents(_nz(b["cash_reser_cb"]) * 0.25 + _nz(b["depos_in_oth_bfi"])),
                    _cents(_nz(b["money_cap"]) * 0.95))
    opening = _cents(cash[:, :1] * 0.97)
    prev_cash = np.concatenate([opening, cash[:, :-1]], axis=1)
    c["eff_fx_flu_cash"] = _cents(np.abs(rev) * 0.0005 * rows.z())
    net_fnc = (cash - prev_cash) - c["n_cashflow_act"] - c["n_cashflow_inv_act"] - c["eff_fx_flu_cash"]
    borrow_base = _cents(np.where(bank_col, _nz(b["bond_payable"]), _nz(b["st_borr"])) * 0.3
                         + np.abs(rev) * 0.01)
    inflow = borrow_base + np.maximum(net_fnc, 0)
    outflow = inflow - net_fnc
    c["c_recp_borrow"] = np.where(bank_col, NAN, inflow)
    c["proc_issue_bonds"] = np.where(bank_col, inflow, NAN)
    c["stot_cash_in_fnc_act"] = inflow
    c["c_pay_dist_dpcp_int_exp"] = np.minimum(dividends + _nz(sq["_interest"]), _cents(outflow * 0.6))
    c["c_prepay_amt_borr"] = outflow - c["c_pay_dist_dpcp_int_exp"]
    c["stot_cashout_fnc_act"] = outflow
    c["n_cash_flows_fnc_act"] = inflow - outflow
    c["n_incr_cash_cash_equ"] = (c["n_cashflow_act"] + c["n_cashflow_inv_act"] + c["n_cash_flows_fnc_act"]
                                 + c["eff_fx_flu_cash"])
    c["free_cashflow"] = np.where(bank_col, NAN, c["n_cashflow_act"] - c["c_pay_acq_const_fiolta"])

    # Supplementary: the indirect method, closed by "others".
    c["net_profit"] = sq["n_income"]
    c["finan_exp"] = sq["fin_exp"]
    c["prov_depr_assets"] = -sq["assets_impair_loss"]
    c["credit_impa_loss"] = np.where(bank_col, _nz(sq["credit_impa_loss"]), -_nz(sq["credit_impa_loss"]))
    c["depr_fa_coga_dpba"] = da["depr_fa_coga_dpba"]
    c["amort_intang_assets"] = da["amort_intang_assets"]
    c["lt_amort_deferred_exp"] = da["lt_amort_deferred_exp"]
    c["loss_disp_fiolta"] = -sq["asset_disp_income"]
    c["loss_fv_chg"] = -sq["fv_value_chg_gain"]
    c["invest_loss"] = -sq["invest_income"]
    c["decr_inventories"] = _optional(-d(b["inventories"]), ~np.isnan(b["inventories"]))
    c["decr_oper_payable"] = np.where(bank_col, NAN, -d(b["accounts_receiv"]))
    c["incr_oper_payable"] = np.where(bank_col, NAN, d(b["acct_payable"]))
    explained = _total([c[k] for k in ("net_profit", "finan_exp", "prov_depr_assets", "credit_impa_loss",
                                       "depr_fa_coga_dpba", "amort_intang_assets", "lt_amort_deferred_exp",
                                       "loss_disp_fiolta", "loss_fv_chg", "invest_loss", "decr_inventories",
                                       "decr_oper_payable", "incr_oper_payable")])
    c["others"] = c["n_cashflow_act"] - explained
    c["im_net_cashflow_oper_act"] = c["n_cashflow_act"]
    c["im_n_incr_cash_equ"] = c["n_incr_cash_cash_equ"]
    return c, cash, prev_cash
