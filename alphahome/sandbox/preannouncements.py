"""express (业绩快报) and forecast (业绩预告): preliminary figures announced before the report.

Both are announced strictly before the first publication of the matching report (when it is published by
``end``), never after ``end``, never before listing or after delisting.

- express: about a fifth of annual reports (January-February) and a few H1 reports (July) get a flash
  report; most carry the final figures, some are off by up to 1% (unaudited); a few are corrected by a
  second express before the report (update_flag '0' then '1'). Money in CNY; ``n_income`` is the income
  statement's n_income.
- forecast: mandatory-looking cases (a loss, a turnaround, or net profit attributable to the parent
  moving 50% or more) and a share of the others, for annual (January), H1 (early July), Q1 (early April)
  and Q3 (early October) periods. The range [p_change_min, p_change_max] (%) contains the eventual
  change against ``last_parent_net`` (last year's same-period attributable net profit); net profits in
  10k CNY (万元). ``type`` follows the midpoint: both years profitable -> 预增 (>= 50%), 略增 [10, 50),
  续盈 (-10, 10), 略减 (-50, -10], 预减 (<= -50); last year profitable and now a loss -> 首亏; losses both
  years -> 续亏; last year a loss and now a profit -> 扭亏. Some forecasts are revised once (notice_times
  2, same first_ann_date, update_flag '0' then '1').
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from alphahome.sandbox.apidef import FieldDef
from alphahome.sandbox.catalog import served_fields
from alphahome.sandbox.company_random import CompanyDraws, ScheduleRow
from alphahome.sandbox.disclosures import Calendar, Schedule, day_strings, to_day
from alphahome.sandbox.fina_indicators import growth
from alphahome.sandbox.statement_tables import frame
from alphahome.sandbox.statements import CompanyModel

EXPRESS_ANNUAL_RATE = 0.22
EXPRESS_H1_RATE = 0.05
EXPRESS_REVISION_RATE = 0.08
FORECAST_REVISION_RATE = 0.12
#: Forecast probability per quarter type (Q1, H1, Q3, annual): (ordinary, mandatory-looking).
FORECAST_RATES = ((0.05, 0.3), (0.15, 0.6), (0.05, 0.3), (0.3, 0.95))
#: Forecast windows per quarter type: (years after the period's year, month, first day, last day).
_FORECAST_WINDOWS = ((0, 4, 1, 15), (0, 7, 1, 15), (0, 10, 1, 15), (1, 1, 5, 31))
_PERIOD_TEXT = ("1-3月", "1-6月", "1-9月", "年度")
_REASONS_UP = (
    "报告期内主营业务订单增长，产品销量及价格同比提升。",
    "公司持续推进降本增效，毛利率较上年同期改善。",
    "新建产能逐步释放，规模效应显现。",
)
_REASONS_DOWN = (
    "报告期内主要原材料价格上涨，毛利率同比下降。",
    "下游需求疲弱，产品销量同比减少。",
    "计提资产减值准备及信用减值损失增加。",
)


def forecast_type(p_mid: np.ndarray, np_mid: np.ndarray, last: np.ndarray) -> np.ndarray:
    """Tushare's forecast type from the midpoint change (%), the midpoint profit and last year's profit."""
    out = np.full(p_mid.shape, "续盈", dtype=object)
    profit_both = (last > 0) & (np_mid > 0)
    out[profit_both & (p_mid >= 50)] = "预增"
    out[profit_both & (p_mid >= 10) & (p_mid < 50)] = "略增"
    out[profit_both & (p_mid <= -10) & (p_mid > -50)] = "略减"
    out[profit_both & (p_mid <= -50)] = "预减"
    out[(last > 0) & (np_mid <= 0)] = "首亏"
    out[(last <= 0) & (np_mid <= 0)] = "续亏"
    out[(last <= 0) & (np_mid > 0)] = "扭亏"
    return out


def _window_days(schedule: Schedule, windows: tuple[tuple[int, int, int, int], ...]
                 ) -> tuple[np.ndarray, np.ndarray]:
    lo, hi = [], []
    for y, q in zip(schedule.grid.year, schedule.grid.quarter, strict=True):
        dy, m, d0, d1 = windows[q]
        lo.append(to_day(dt.date(int(y) + dy, m, d0)))
        hi.append(to_day(dt.date(int(y) + dy, m, d1)))
    return np.array(lo, dtype=np.int64), np.array(hi, dtype=np.int64)


def _place(cal: Calendar, schedule: Schedule, i: np.ndarray, t: np.ndarray, wanted: np.ndarray,
           earliest: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Move each wanted day onto the calendar and before its report; returns (day, still valid)."""
    day = cal.on_or_before(wanted)
    report = schedule.first_ann[i, t]
    limit = cal.on_or_before(report - 1)
    day = np.where(report > 0, np.minimum(day, limit), day)
    ok = ((day >= earliest) & (day <= schedule.end_day) & (day >= schedule.list_day[i])
          & (day <= schedule.delist_day[i]) & ((report < 0) | (day < report)))
    return day, ok


def _yuan(model_items: dict[str, np.ndarray], name: str, i: np.ndarray, t: np.ndarray) -> np.ndarray:
    ok = t >= 0
    return np.where(ok, model_items[name][i, np.where(ok, t, 0)] / 100.0, np.nan)


def express_table(model: CompanyModel, schedule: Schedule, draws: CompanyDraws) -> pd.DataFrame:
    """express rows for the planted flash reports."""
    u = draws.schedule
    t_count = schedule.grid.n_quarters
    quarter = schedule.grid.quarter
    rate = np.where(quarter == 3, EXPRESS_ANNUAL_RATE, np.where(quarter == 1, EXPRESS_H1_RATE, 0.0))
    chosen = (u[:, ScheduleRow.EXPRESS, :] < rate[None, :]) & (np.arange(t_count) >= 4)[None, :]
    i, t = np.nonzero(chosen)
    y = schedule.grid.year[t]
    lo = np.array([to_day(dt.date(int(yy) + 1, 1, 8)) if q == 3 else to_day(dt.date(int(yy), 7, 3))
                   for yy, q in zip(y, quarter[t], strict=True)], dtype=np.int64)
    span = np.where(quarter[t] == 3, 52, 29)
    wanted = lo + np.floor(u[i, ScheduleRow.EXPRESS_DAY, t] * span).astype(np.int64)
    day, ok = _place(schedule.calendar, schedule, i, t, wanted, schedule.grid.end_days[t] + 5)
    i, t, day = i[ok], t[ok], day[ok]
    error_u = u[i, ScheduleRow.EXPRESS_ERROR, t]
    error = np.where(error_u < 0.6, 0.0, (error_u - 0.8) * 0.05)

    # A corrected flash report: the first one had the error, the correction has the final figures.
    rev_u = u[i, ScheduleRow.EXPRESS_REVISION, t]
    report = schedule.first_ann[i, t]
    room = np.where(report > 0, report, schedule.end_day + 1)
    second = schedule.calendar.on_or_after(day + 3 + np.floor(rev_u * 20).astype(np.int64))
    revised = (rev_u < EXPRESS_REVISION_RATE) & (error != 0) & (second < room) & (second <= schedule.end_day)
    ri = np.flatnonzero(revised)
    rows_i = np.concatenate([i, i[ri]])
    rows_t = np.concatenate([t, t[ri]])
    rows_day = np.concatenate([day, second[ri]])
    rows_err = np.concatenate([error, np.zeros(len(ri))])
    flag = np.concatenate([np.where(revised, "0", "1"), np.full(len(ri), "1")]).astype(object)

    inc, bal = model.income, model.balance
    f = 1 + rows_err
    q = quarter[rows_t]
    begin_t = rows_t - q - 1
    shares = bal["total_share"][rows_i, rows_t]
    num: dict[str, np.ndarray] = {}
    for col, item in (("revenue", "total_revenue"), ("operate_profit", "operate_profit"),
                      ("total_profit", "total_profit"), ("n_income", "n_income")):
        num[col] = np.round(_yuan(inc, item, rows_i, rows_t) * f, 2)
    attr = _yuan(inc, "n_income_attr_p", rows_i, rows_t) * f
    num["total_assets"] = np.round(_yuan(bal, "total_assets", rows_i, rows_t) * (1 + rows_err / 4), 2)
    equity = np.round(_yuan(bal, "total_hldr_eqy_exc_min_int", rows_i, rows_t) + attr
                      - _yuan(inc, "n_income_attr_p", rows_i, rows_t), 2)
    num["total_hldr_eqy_exc_min_int"] = equity
    num["diluted_eps"] = np.round(attr / shares, 4)
    num["diluted_roe"] = np.round(attr / equity * 100, 4)
    last = {col: _yuan(inc, item, rows_i, rows_t - 4) for col, item in (
        ("revenue", "total_revenue"), ("operate_profit", "operate_profit"), ("total_profit", "total_profit"),
        ("n_income", "n_income"), ("attr", "n_income_attr_p"))}
    last_equity = _yuan(bal, "total_hldr_eqy_exc_min_int", rows_i, rows_t - 4)
    last_shares = bal["total_share"][rows_i, rows_t - 4]
    open_equity = _yuan(bal, "total_hldr_eqy_exc_min_int", rows_i, begin_t)
    open_assets = _yuan(bal, "total_assets", rows_i, begin_t)
    num["bps"] = np.round(equity / shares, 4)
    num["yoy_net_profit"] = np.round(growth(num["n_income"], last["n_income"]), 4)
    num["yoy_sales"] = np.round(growth(num["revenue"], last["revenue"]), 4)
    num["yoy_op"] = np.round(growth(num["operate_profit"], last["operate_profit"]), 4)
    num["yoy_tp"] = np.round(growth(num["total_profit"], last["total_profit"]), 4)
    num["yoy_dedu_np"] = np.full(len(rows_i), np.nan)
    num["yoy_eps"] = np.round(growth(num["diluted_eps"], last["attr"] / last_shares), 4)
    num["yoy_roe"] = np.round(growth(num["diluted_roe"], last["attr"] / last_equity * 100), 4)
    num["growth_assets"] = np.round(growth(num["total_assets"], open_assets), 4)
    num["yoy_equity"] = np.round(growth(equity, last_equity), 4)
    num["growth_bps"] = np.round(growth(num["bps"], open_equity / shares), 4)
    num["or_last_year"] = np.round(last["revenue"], 2)
    num["op_last_year"] = np.round(last["operate_profit"], 2)
    num["tp_last_year"] = np.round(last["total_profit"], 2)
    num["np_last_year"] = np.round(last["n_income"], 2)
    num["eps_last_year"] = np.round(last["attr"] / last_shares, 4)
    num["open_net_assets"] = np.round(open_equity, 2)
    num["open_bps"] = np.round(open_equity / shares, 4)
    num["is_audit"] = np.zeros(len(rows_i), dtype=np.int64)
    summary = np.array([
        f"报告期内，公司实现营业总收入{r / 1e4:.2f}万元，同比{_signed(g)}；"
        f"实现净利润{p / 1e4:.2f}万元，同比{_signed(h)}。"
        for r, g, p, h in zip(num["revenue"].tolist(), num["yoy_sales"].tolist(), num["n_income"].tolist(),
                              num["yoy_net_profit"].tolist(), strict=True)
    ], dtype=object)
    return _ordered(served_fields("express"), schedule, rows_i, rows_t, rows_day, num, {
        "perf_summary": summary, "update_flag": flag})


def _signed(pct: float) -> str:
    if pct != pct:  # NaN
        return "不适用"
    return f"增长{pct:.2f}%" if pct >= 0 else f"下降{-pct:.2f}%"


def forecast_table(model: CompanyModel, schedule: Schedule, draws: CompanyDraws) -> pd.DataFrame:
    """forecast rows for the planted profit forecasts."""
    u = draws.schedule
    t_count = schedule.grid.n_quarters
    quarter = schedule.grid.quarter
    attr = model.income["n_income_attr_p"] / 100.0
    last = np.full_like(attr, np.nan)
    last[:, 4:] = attr[:, :-4]
    change = growth(attr, last)
    mandatory = (attr < 0) | (last < 0) | (np.abs(change) >= 50)
    ordinary_rate = np.array([FORECAST_RATES[q][0] for q in quarter])[None, :]
    mandatory_rate = np.array([FORECAST_RATES[q][1] for q in quarter])[None, :]
    rate = np.where(mandatory, mandatory_rate, ordinary_rate)
    chosen = (u[:, ScheduleRow.FORECAST, :] < rate) & (np.arange(t_count) >= 4)[None, :] & (last != 0) \
        & np.isfinite(change)
    i, t = np.nonzero(chosen)
    lo, hi = _window_days(schedule, _FORECAST_WINDOWS)
    wanted = lo[t] + np.floor(u[i, ScheduleRow.FORECAST_DAY, t] * (hi[t] - lo[t] + 1)).astype(np.int64)
    day, ok = _place(schedule.calendar, schedule, i, t, wanted, schedule.grid.end_days[t] - 20)
    i, t, day = i[ok], t[ok], day[ok]

    width_u = u[i, ScheduleRow.FORECAST_WIDTH, t]
    width = 5 + 25 * width_u
    below = 0.2 + 0.6 * ((width_u * 13.7) % 1.0)
    rev_u = u[i, ScheduleRow.FORECAST_REVISION, t]
    report = schedule.first_ann[i, t]
    room = np.where(report > 0, report, schedule.end_day + 1)
    second = schedule.calendar.on_or_after(day + 5 + np.floor(rev_u * 30).astype(np.int64))
    revised = (rev_u < FORECAST_REVISION_RATE) & (second < room) & (second <= schedule.end_day)
    ri = np.flatnonzero(revised)

    rows_i = np.concatenate([i, i[ri]])
    rows_t = np.concatenate([t, t[ri]])
    rows_day = np.concatenate([day, second[ri]])
    first_day = np.concatenate([day, day[ri]])
    notice = np.concatenate([np.ones(len(i), dtype=np.int64), np.full(len(ri), 2, dtype=np.int64)])
    flag = np.concatenate([np.where(revised, "0", "1"), np.full(len(ri), "1")]).astype(object)
    w = np.concatenate([width, width[ri] / 3])
    b = np.concatenate([below, below[ri]])

    actual, prior, p_true = attr[rows_i, rows_t], last[rows_i, rows_t], change[rows_i, rows_t]
    p_min, p_max = p_true - w * b, p_true + w * (1 - b)
    np_min, np_max = prior + np.abs(prior) * p_min / 100, prior + np.abs(prior) * p_max / 100
    # Keep the range on the side of zero where the outcome lands, so the type is never ambiguous.
    np_min = np.where((actual > 0) & (np_min <= 0), actual * 0.5, np_min)
    np_max = np.where((actual < 0) & (np_max >= 0), actual * 0.5, np_max)
    p_min, p_max = (np_min - prior) / np.abs(prior) * 100, (np_max - prior) / np.abs(prior) * 100
    num = {
        "p_change_min": np.round(p_min, 2), "p_change_max": np.round(p_max, 2),
        "net_profit_min": np.round(np_min / 1e4, 2), "net_profit_max": np.round(np_max / 1e4, 2),
        "last_parent_net": np.round(prior / 1e4, 2), "notice_times": notice,
    }
    kind = forecast_type((num["p_change_min"] + num["p_change_max"]) / 2,
                         (num["net_profit_min"] + num["net_profit_max"]) / 2, num["last_parent_net"])
    pick = np.floor(u[rows_i, ScheduleRow.FORECAST_TEXT, rows_t] * 3).astype(np.int64) % 3
    summary = [
        f"预计{y}年{_PERIOD_TEXT[q]}归属于上市公司股东的净利润{lo:.2f}万元至{hi:.2f}万元，上年同期{last:.2f}万元。"
        for y, q, lo, hi, last in zip(schedule.grid.year[rows_t].tolist(), quarter[rows_t].tolist(),
                                      num["net_profit_min"].tolist(), num["net_profit_max"].tolist(),
                                      num["last_parent_net"].tolist(), strict=True)
    ]
    reason = [(_REASONS_UP if k in ("预增", "略增", "扭亏", "续盈") else _REASONS_DOWN)[c]
              for k, c in zip(kind.tolist(), pick.tolist(), strict=True)]
    return _ordered(served_fields("forecast"), schedule, rows_i, rows_t, rows_day, num, {
        "type": kind, "first_ann_date": day_strings(first_day), "summary": np.array(summary, dtype=object),
        "change_reason": np.array(reason, dtype=object), "update_flag": flag})


def _ordered(fields: tuple[FieldDef, ...], schedule: Schedule, i: np.ndarray, t: np.ndarray, day: np.ndarray,
             numbers: dict[str, np.ndarray], strings: dict[str, np.ndarray]) -> pd.DataFrame:
    order = np.lexsort((day, t, i))
    end_strings = np.array([d.strftime("%Y%m%d") for d in schedule.grid.end_dates()], dtype=object)
    base = {"ts_code": np.array(schedule.codes, dtype=object)[i], "ann_date": day_strings(day),
            "end_date": end_strings[t]}
    all_strings = {k: v[order] for k, v in {**base, **strings}.items()}
    float_names = tuple(f.name for f in fields if f.type == "f")
    block = np.full((len(order), len(float_names)), np.nan, order="F")
    for k, name in enumerate(float_names):
        if name in numbers:
            block[:, k] = numbers[name][order]
    ints = {f.name: numbers[f.name][order] for f in fields if f.type == "i"}
    return frame(fields, all_strings, float_names, block, ints)
