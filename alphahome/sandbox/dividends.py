"""Dividend plans: proposal (预案), shareholders' approval (股东大会通过), implementation (实施) with
record and ex dates. Most are annual; some companies also pay on their half-year results, and from 2023 on
(as the exchanges encouraged more frequent dividends) on their Q1 and Q3 results too — one plan per
(stock, report period), so a stock can have several in one year. The ex dates drive the price model's ex-rights pre_close and the adj_factor
jumps, so ``dividend`` rows and ``adj_factor`` agree by construction.

Rows are shaped as Tushare files them: one row per stage, every stage carrying the plan's announcement
date (``ann_date``, 预案公告日); only the 实施 row carries its implementation announcement
(``imp_ann_date``, weeks or months later) and the record, ex, pay and listing dates. A few plans are
revised before approval (an earlier 预案 row with other amounts, the stages then carry the revised
proposal's date), and a few carry no ``ann_date`` at all (NULL, as in Tushare's older rows): those can only
be found through their ``imp_ann_date`` or their report period."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from alphahome.sandbox.earnings import Earnings
from alphahome.sandbox.step_series import StepSeries
from alphahome.sandbox.trading_calendar import yyyymmdd
from alphahome.sandbox.universe import Universe

STAGES = ("预案", "股东大会通过", "实施")


@dataclass(frozen=True)
class DividendPlans:
    """One entry per plan (stock, fiscal year), arrays aligned."""

    stock: np.ndarray
    fiscal_year: np.ndarray
    period_end: np.ndarray  # the report period the plan pays on, 'YYYYMMDD' text (its end_date)
    announce: np.ndarray  # datetime64[D] (n_plans, 3): the three stages' announcement dates
    record: np.ndarray  # datetime64[D]
    ex: np.ndarray  # datetime64[D]
    ex_day: np.ndarray  # index into the range's open days, -1 when outside the range
    cash_tax: np.ndarray  # pre-tax cash per share (CNY): what the ex-rights price deducts
    cash: np.ndarray  # after-tax cash per share
    bonus: np.ndarray  # stk_bo_rate: bonus shares per share
    conversion: np.ndarray  # stk_co_rate: shares converted from reserves per share
    #: Revised plans: the first proposal's date (NaT when the plan was not revised) and its pre-tax cash.
    first_proposal: np.ndarray | None = None
    first_cash_tax: np.ndarray | None = None
    #: Plans whose rows carry no ann_date (NULL in Tushare).
    undated: np.ndarray | None = None

    @property
    def share_ratio(self) -> np.ndarray:
        """stk_div: new shares per share."""
        return self.bonus + self.conversion

    def in_range(self) -> np.ndarray:
        """Plans whose ex date falls on a day of the price range (they move pre_close and adj_factor)."""
        return self.ex_day >= 0


def plan_dividends(
    seed: int,
    universe: Universe,
    earnings: Earnings,
    shares0: np.ndarray,
    days: np.ndarray,
    open_days: np.ndarray,
    end: date,
) -> DividendPlans:
    """Draw the dividend plans of every fiscal year ``earnings`` knows, for profitable listed stocks: annual
    plans, half-year ones, and from fiscal 2023 on Q3 (and from 2024 Q1) ones."""
    rng = np.random.default_rng([seed, 6])
    list_dates = pd.to_datetime(universe.stock_basic["list_date"], format="%Y%m%d").to_numpy("datetime64[D]")
    status = universe.stock_basic["list_status"].to_numpy()
    stock_list, fy_list, profit_list, period_list, first_list, span_list = [], [], [], [], [], []
    # (period end MMDD, share of payers, first fiscal year, profit share, proposal: months after Jan 1 of
    # the fiscal year + day offset, proposal spread in days)
    kinds = (("1231", 0.7, 0, 1.0, 12, 78, 38), ("0630", 0.15, 0, 0.5, 0, 231, 30),
             ("0930", 0.12, 2023, 0.75, 0, 297, 20), ("0331", 0.06, 2024, 0.25, 0, 114, 20))  # fmt: skip
    # Interim plans of the year after the last known fiscal year are sized on that year's profit.
    years = [*enumerate(earnings.fiscal_years), (len(earnings.fiscal_years) - 1, earnings.fiscal_years[-1] + 1)]
    for j, fy in years:
        for mmdd, share, first_fy, part, months, offset, spread in kinds:
            if fy < first_fy or (mmdd == "1231" and fy > earnings.fiscal_years[-1]):
                continue
            period_end = np.datetime64(date(fy, int(mmdd[:2]), int(mmdd[2:])), "D")
            ok = (list_dates <= period_end) & (status != "G") & (earnings.fiscal_profit[:, j] > 0)
            ok &= rng.random(len(ok)) < share
            stocks = np.flatnonzero(ok)
            stock_list.append(stocks)
            fy_list.append(np.full(len(stocks), fy))
            profit_list.append(earnings.fiscal_profit[stocks, j] * part)
            period_list.append(np.full(len(stocks), f"{fy}{mmdd}", dtype=object))
            jan1 = np.datetime64(date(fy + months // 12, 1, 1), "D")
            first_list.append(np.full(len(stocks), jan1 + np.timedelta64(offset, "D")))
            span_list.append(np.full(len(stocks), spread))
    stock = np.concatenate(stock_list) if stock_list else np.zeros(0, dtype=np.int64)
    fiscal_year = np.concatenate(fy_list) if fy_list else np.zeros(0, dtype=np.int64)
    profit = np.concatenate(profit_list) if profit_list else np.zeros(0)
    period = np.concatenate(period_list) if period_list else np.zeros(0, dtype=object)
    earliest = np.concatenate(first_list) if first_list else np.zeros(0, dtype="datetime64[D]")
    spread_days = np.concatenate(span_list) if span_list else np.zeros(0, dtype=np.int64)
    m = len(stock)

    def snap(day: np.ndarray) -> np.ndarray:
        pos = np.minimum(np.searchsorted(open_days, day), len(open_days) - 1)
        return open_days[pos]

    # Annual plans come around March 20 of the following year with the annual report, interim ones with
    # their report (late August, late October, late April).
    proposal = snap(earliest + (rng.random(m) * spread_days).astype(np.int64))
    approval = snap(proposal + rng.integers(25, 50, m))
    implementation = snap(approval + rng.integers(10, 35, m))
    record_pos = np.searchsorted(open_days, implementation) + rng.integers(3, 7, m)
    record_pos = np.minimum(record_pos, len(open_days) - 2)
    record = open_days[record_pos]
    ex = open_days[record_pos + 1]

    eps = profit / (shares0[stock] * 1e4)
    cash_tax = np.round(eps * rng.uniform(0.15, 0.5, m), 3)
    with_shares = rng.random(m) < 0.12
    bonus = np.where(with_shares, rng.choice([0.0, 0.1, 0.2, 0.3], m), 0.0)
    conversion = np.where(with_shares, rng.choice([0.0, 0.2, 0.3, 0.5], m), 0.0)
    conversion = np.where(with_shares & (bonus + conversion == 0), 0.3, conversion)

    ex_pos = np.searchsorted(days, ex)
    in_days = (ex_pos < len(days)) & (ex >= days[0]) & (ex <= days[-1])
    ex_day = np.where(in_days, ex_pos, -1)
    # A plan must be carried out while the stock still trades: none after delisting or in a long suspension.
    last_day = universe.last_day[stock]
    delisted = universe.last_day[stock] < len(days) - 1
    paused_from = universe.suspended_from[stock]
    keep = cash_tax >= 0.005
    keep &= ~(delisted & ((ex_pos > last_day) | (ex > days[-1])))
    keep &= ~((paused_from >= 0) & (ex_pos >= paused_from))
    keep &= proposal <= np.datetime64(end, "D")
    # One ex-rights event per stock and day: a later plan that lands on another's ex date is dropped.
    _, first_of_pair = np.unique(np.stack([stock, ex.astype(np.int64)]), axis=1, return_index=True)
    unique_ex = np.zeros(m, dtype=bool)
    unique_ex[first_of_pair] = True
    keep &= unique_ex
    first_proposal, first_cash_tax, undated = _revisions_and_gaps(
        np.random.default_rng([seed, 6, 1]), proposal[keep], cash_tax[keep], open_days)
    return DividendPlans(
        first_proposal=first_proposal,
        first_cash_tax=first_cash_tax,
        undated=undated,
        stock=stock[keep],
        fiscal_year=fiscal_year[keep],
        period_end=period[keep],
        announce=np.stack([proposal, approval, implementation], axis=1)[keep],
        record=record[keep],
        ex=ex[keep],
        ex_day=ex_day[keep],
        cash_tax=cash_tax[keep],
        cash=np.round(cash_tax[keep] * 0.9, 4),
        bonus=bonus[keep],
        conversion=conversion[keep],
    )


#: Shares of plans revised before approval, and of plans whose rows carry no ann_date.
REVISED_SHARE = 0.03
UNDATED_SHARE = 0.01


def _revisions_and_gaps(
    rng: np.random.Generator, proposal: np.ndarray, cash_tax: np.ndarray, open_days: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(first proposal date or NaT, its pre-tax cash, undated flags) per plan, drawn from their own
    generator so that the plans, prices and factors do not change. A revised plan was first proposed 3-15
    open days before its final proposal, with a cash amount 5-20% off; it is never undated."""
    m = len(proposal)
    revised = rng.random(m) < REVISED_SHARE
    pos = np.searchsorted(open_days, proposal) - rng.integers(3, 16, m)
    revised &= pos >= 0
    first = np.where(revised, open_days[np.clip(pos, 0, len(open_days) - 1)], np.datetime64("NaT"))
    factor = 1 + rng.choice([-1.0, 1.0], m) * rng.uniform(0.05, 0.2, m)
    first_cash = np.where(revised, np.round(np.maximum(cash_tax * factor, 0.005), 3), np.nan)
    undated = (rng.random(m) < UNDATED_SHARE) & ~revised
    return first.astype("datetime64[D]"), first_cash, undated


def _dates_or_null(days: np.ndarray, null: np.ndarray) -> np.ndarray:
    """``days`` as YYYYMMDD text, None where ``null``."""
    out = np.asarray(yyyymmdd(days), dtype=object)
    out[null] = None
    return out


def dividend_frame(
    plans: DividendPlans, universe: Universe, total_share: StepSeries, days: np.ndarray, end: date
) -> pd.DataFrame:
    """``dividend`` rows: one per plan stage announced by ``end``. Every stage carries the plan's
    proposal date as ``ann_date`` (NULL for undated plans); only 实施 rows carry ``imp_ann_date`` and the
    dates of record, ex-rights, payment and listing of new shares. A revised plan adds its first 预案 row
    (earlier ``ann_date``, other amounts)."""
    codes = universe.codes
    cut = np.datetime64(end, "D")
    base_day = np.clip(np.searchsorted(days, plans.announce[:, 0]), 0, len(days) - 1)
    base_share = np.round(total_share.at(plans.stock, base_day), 4)
    year_end = plans.period_end
    m = len(plans.stock)
    undated = plans.undated if plans.undated is not None else np.zeros(m, dtype=bool)
    ann_text = _dates_or_null(plans.announce[:, 0], undated)
    frames = []

    def rows(sel: np.ndarray, stage: str, ann: np.ndarray, cash_tax: np.ndarray, final: bool) -> pd.DataFrame:
        none = np.full(int(sel.sum()), None, dtype=object)
        ex = yyyymmdd(plans.ex[sel]) if final else none
        listing = np.where(plans.share_ratio[sel] > 0, ex, None) if final else none  # type: ignore[call-overload]
        return pd.DataFrame(
            {
                "ts_code": codes[plans.stock[sel]],
                "end_date": year_end[sel],
                "ann_date": ann[sel],
                "div_proc": stage,
                "stk_div": plans.share_ratio[sel],
                "stk_bo_rate": plans.bonus[sel],
                "stk_co_rate": plans.conversion[sel],
                "cash_div": np.round(cash_tax[sel] * 0.9, 4) if not final else plans.cash[sel],
                "cash_div_tax": cash_tax[sel],
                "record_date": yyyymmdd(plans.record[sel]) if final else none,
                "ex_date": ex,
                "pay_date": ex,
                "div_listdate": listing,
                "imp_ann_date": yyyymmdd(plans.announce[sel, 2]) if final else none,
                "base_date": year_end[sel],
                "base_share": base_share[sel],
            }
        )

    if plans.first_proposal is not None and plans.first_cash_tax is not None:
        revised = ~np.isnat(plans.first_proposal) & (plans.first_proposal <= cut)
        first_text = _dates_or_null(np.where(revised, plans.first_proposal, plans.announce[:, 0]), ~revised)
        frames.append(rows(revised, "预案", first_text, plans.first_cash_tax, final=False))
    for k, stage in enumerate(STAGES):
        sel = plans.announce[:, k] <= cut
        frames.append(rows(sel, stage, ann_text, plans.cash_tax, final=stage == "实施"))
    out = pd.concat(frames, ignore_index=True)
    return out.sort_values(["ts_code", "end_date", "ann_date"], kind="stable", ignore_index=True)
