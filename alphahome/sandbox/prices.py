"""Daily prices of the synthetic market, kept as stock x day panels.

Only what is path-dependent is stored: the close and the (ex-rights) pre_close of every stock and day,
in integer cents, and the suspension mask. Everything else (open/high/low, volume, turnover, money
flow, valuations, limits) is a pure function of those, of step series and of counter-based noise, and
is computed for just the cells a query asks for. One day of 5,000 stocks, or ten years of one stock,
therefore costs a slice and a few vector operations.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import numpy as np

from alphahome.sandbox import cell_noise
from alphahome.sandbox.dividends import DividendPlans
from alphahome.sandbox.earnings import Earnings
from alphahome.sandbox.step_series import StepSeries
from alphahome.sandbox.sw2021 import INDUSTRIES
from alphahome.sandbox.universe import BOARDS, Universe

#: Calendar days a paid dividend counts towards the trailing-year yield (dv_ttm).
YEAR_DAYS = 365


def round2(x: np.ndarray) -> np.ndarray:
    """Round half up to 0.01, as exchanges round limit prices (robust to binary float noise)."""
    return np.floor(np.asarray(x) * 100.0 + 0.5 + 1e-7) / 100.0


def limit_prices(pre_close: np.ndarray, limit: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(up_limit, down_limit) for ``pre_close`` under the fractional ``limit`` rule."""
    up = round2(pre_close * (1.0 + limit))
    down = np.maximum(round2(pre_close * (1.0 - limit)), 0.01)
    return up, down


@dataclass(frozen=True)
class StockParams:
    """Per-stock constants of the price and volume model."""

    price0: np.ndarray  # close before the range (or the issue price of an IPO), CNY
    shares0: np.ndarray  # total shares at the start, 10k shares
    float_ratio: np.ndarray
    free_ratio: np.ndarray
    turnover: np.ndarray  # mean daily turnover of the free float, %
    beta: np.ndarray
    sigma: np.ndarray  # idiosyncratic daily volatility

    @property
    def market_cap(self) -> np.ndarray:
        """Initial total market value, 10k CNY."""
        return self.price0 * self.shares0


def draw_stock_params(seed: int, universe: Universe) -> StockParams:
    """Draw the model constants of every stock."""
    rng = np.random.default_rng([seed, 3])
    n = len(universe)
    comp_type = universe.stock_basic["comp_type"].to_numpy()
    bank = comp_type == "2"
    growth_board = np.isin(universe.board, [i for i, b in enumerate(BOARDS) if b.limit >= 0.2])
    price0 = np.clip(np.exp(rng.normal(np.log(13.0), 0.7, n)), 2.0, 300.0)
    price0 = np.where(bank, rng.uniform(3.5, 9.0, n), price0)
    price0 = np.where(universe.is_ipo, np.exp(rng.normal(np.log(22.0), 0.45, n)), price0)
    cap = np.exp(rng.normal(np.log(9e5), 1.1, n)) * np.where(bank | (comp_type != "1"), 12.0, 1.0)
    shares0 = np.round(cap / price0, 4)
    turnover = (
        np.exp(rng.normal(np.log(2.5), 0.6, n)) * np.where(growth_board, 1.6, 1.0) * np.where(bank, 0.3, 1.0)
    )
    sigma = np.where(growth_board, 0.026, 0.018) * np.exp(rng.normal(0.0, 0.25, n))
    return StockParams(
        price0=round2(price0),
        shares0=shares0,
        float_ratio=np.where(universe.is_ipo, 0.25, rng.uniform(0.5, 1.0, n)),
        free_ratio=rng.uniform(0.4, 0.9, n),
        turnover=turnover,
        beta=rng.normal(1.0, 0.2, n),
        sigma=sigma,
    )


def _suspensions(seed: int, universe: Universe, n_days: int, plans: DividendPlans) -> np.ndarray:
    """The (day, stock) suspension mask: short random spells, and the 'P' stock's open-ended one.
    Never on a listing day or an ex-rights day."""
    rng = np.random.default_rng([seed, 4])
    n = len(universe)
    mask = np.zeros((n_days, n), dtype=bool)
    spells = rng.poisson(0.25 * n_days / 244, n)
    for s in np.flatnonzero(spells):
        lo, hi = universe.first_day[s] + 1, universe.last_day[s]
        if hi - lo < 10:
            continue
        for _ in range(spells[s]):
            length = int(rng.integers(10, 40)) if rng.random() < 0.1 else int(rng.geometric(0.35))
            begin = int(rng.integers(lo, hi))
            mask[begin : min(begin + length, hi + 1), s] = True
    for s in np.flatnonzero(universe.suspended_from >= 0):
        mask[universe.suspended_from[s] : universe.last_day[s] + 1, s] = True
    live = plans.in_range()
    mask[plans.ex_day[live], plans.stock[live]] = False
    return mask


def _grouped_cumprod(groups: np.ndarray, factors: np.ndarray) -> np.ndarray:
    """Running product of ``factors`` within each run of equal ``groups`` (already sorted)."""
    logs = np.cumsum(np.log(factors))
    starts = np.r_[0, np.flatnonzero(np.diff(groups)) + 1]
    offsets = np.repeat(np.r_[0.0, logs][starts], np.diff(np.r_[starts, len(groups)]))
    return np.exp(logs - offsets)


@dataclass(frozen=True)
class PricePanel:
    """The stored panels (day-major: ``[day, stock]``) and the series derived from them."""

    universe: Universe
    params: StockParams
    earnings: Earnings
    plans: DividendPlans
    close_cents: np.ndarray  # int32 (T, n); 0 outside listing
    pre_close_cents: np.ndarray  # int32 (T, n)
    suspended: np.ndarray  # bool (T, n)
    adj_factor: StepSeries
    total_share: StepSeries
    dividend_ttm: StepSeries  # cash per share paid in the last 12 months
    dividend_last: StepSeries  # cash per share of the last implemented plan
    market_factor: np.ndarray  # the common daily return component (funds follow it)
    noise_key: int

    @property
    def n_days(self) -> int:
        """Number of open days in the range."""
        return self.close_cents.shape[0]

    # ----- which cells exist -------------------------------------------------------------------------
    def listed(self, day: int) -> np.ndarray:
        """Stocks listed (trading or suspended) on ``day``."""
        u = self.universe
        return np.flatnonzero((u.first_day <= day) & (day <= u.last_day))

    def cells(
        self, stocks: np.ndarray | None, day_lo: int, day_hi: int, with_suspended: bool
    ) -> tuple[np.ndarray, np.ndarray]:
        """(days, stocks) of the rows within ``[day_lo, day_hi]`` for ``stocks`` (None = all)."""
        u = self.universe
        day_lo, day_hi = max(day_lo, 0), min(day_hi, self.n_days - 1)
        if day_lo > day_hi:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
        if stocks is None and day_lo == day_hi:
            s = self.listed(day_lo)
            if not with_suspended:
                s = s[~self.suspended[day_lo, s]]
            return np.full(len(s), day_lo, dtype=np.int64), s
        cols = np.arange(len(u)) if stocks is None else np.asarray(stocks, dtype=np.int64)
        d_axis = np.arange(day_lo, day_hi + 1)
        ok = (u.first_day[cols][None, :] <= d_axis[:, None]) & (d_axis[:, None] <= u.last_day[cols][None, :])
        if not with_suspended:
            ok &= ~self.suspended[day_lo : day_hi + 1][:, cols]
        di, si = np.nonzero(ok)
        return d_axis[di], cols[si]

    # ----- field groups --------------------------------------------------------------------------------
    def _noise(self, stream: str, s: np.ndarray, d: np.ndarray) -> np.ndarray:
        return cell_noise.normal(self.noise_key ^ cell_noise.stream_key(0, stream), s, d)

    def _uniform(self, stream: str, s: np.ndarray, d: np.ndarray) -> np.ndarray:
        return cell_noise.uniform(self.noise_key ^ cell_noise.stream_key(0, stream), s, d)

    def closes(self, d: np.ndarray, s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(close, pre_close) in CNY."""
        return self.close_cents[d, s] / 100.0, self.pre_close_cents[d, s] / 100.0

    def free_share(self, d: np.ndarray, s: np.ndarray) -> np.ndarray:
        """Free-float shares, 10k shares."""
        return np.round(self.total_share.at(s, d) * self.params.float_ratio[s] * self.params.free_ratio[s], 4)

    def float_share(self, d: np.ndarray, s: np.ndarray) -> np.ndarray:
        """Tradable (circulating) shares, 10k shares."""
        return np.round(self.total_share.at(s, d) * self.params.float_ratio[s], 4)

    def volume(self, d: np.ndarray, s: np.ndarray) -> np.ndarray:
        """Volume in lots (100 shares): free-float turnover that rises with the size of the move."""
        close, pre = self.closes(d, s)
        move = np.abs(np.divide(close, pre, out=np.ones_like(close), where=pre > 0) - 1.0)
        turnover = self.params.turnover[s] * np.exp(0.45 * self._noise("volume", s, d)) * (1.0 + 12.0 * move)
        return np.round(turnover * self.free_share(d, s), 2)  # % x 10k shares / 100 shares per lot

    def daily(self, d: np.ndarray, s: np.ndarray) -> dict[str, np.ndarray]:
        """``daily`` fields (prices CNY, vol lots, amount thousand CNY)."""
        close, pre = self.closes(d, s)
        up, down = limit_prices(pre, self.universe.limit[s])
        gap = 0.006 * self._noise("open", s, d) + 0.35 * (close / pre - 1.0)
        open_ = np.clip(round2(pre * (1.0 + gap)), down, up)
        top, bottom = np.maximum(open_, close), np.minimum(open_, close)
        high = np.clip(round2(top * (1.0 + np.abs(0.008 * self._noise("high", s, d)))), top, up)
        low = np.clip(round2(bottom * (1.0 - np.abs(0.008 * self._noise("low", s, d)))), down, bottom)
        vol = self.volume(d, s)
        vwap = (open_ + high + low + 2.0 * close) / 5.0
        after_hours = np.isin(
            self.universe.board[s], [i for i, b in enumerate(BOARDS) if b.key in ("star", "chinext")]
        )
        ah_vol = np.where(after_hours, np.round(vol * 0.002 * self._uniform("ah", s, d), 2), np.nan)
        return {
            "open": open_,
            "high": high,
            "low": low,
            "close": close,
            "pre_close": pre,
            "change": np.round(close - pre, 2),
            "pct_chg": np.round((close / pre - 1.0) * 100.0, 4),
            "vol": vol,
            "amount": np.round(vol * vwap / 10.0, 3),
            "ah_vol": ah_vol,
            "ah_amount": np.round(ah_vol * close / 10.0, 3),
        }

    def adj(self, d: np.ndarray, s: np.ndarray) -> dict[str, np.ndarray]:
        """``adj_factor`` field."""
        return {"adj_factor": self.adj_factor.at(s, d)}

    def stk_limit(self, d: np.ndarray, s: np.ndarray) -> dict[str, np.ndarray]:
        """``stk_limit`` fields."""
        _, pre = self.closes(d, s)
        up, down = limit_prices(pre, self.universe.limit[s])
        return {"pre_close": pre, "up_limit": up, "down_limit": down}

    def daily_basic(self, d: np.ndarray, s: np.ndarray) -> dict[str, np.ndarray]:
        """``daily_basic`` fields (shares 10k, market values 10k CNY, ratios %)."""
        close, pre = self.closes(d, s)
        n = len(d)
        # Today's volume and the five days before in one vectorised pass (rows: today, then k = 1..5).
        back = d[None, :] - np.arange(0, 6)[:, None]
        volumes = self.volume(np.maximum(back, 0).ravel(), np.tile(s, 6)).reshape(6, n)
        vol, past = volumes[0], volumes[1:]
        total = self.total_share.at(s, d)
        float_sh = np.round(total * self.params.float_ratio[s], 4)  # as float_share() and free_share()
        free_sh = np.round(total * self.params.float_ratio[s] * self.params.free_ratio[s], 4)
        total_mv = total * close
        mv_cny = total_mv * 1e4
        e = self.earnings

        def ratio(denominator: np.ndarray) -> np.ndarray:
            return np.where(
                denominator > 0, np.round(mv_cny / np.where(denominator > 0, denominator, 1.0), 4), np.nan
            )

        # Volume ratio: today's volume over the mean of the five days before (an IPO has none on day one;
        # for stocks listed before the range, days before it reuse the first day's cells).
        seen = ~(self.universe.is_ipo[s][None, :] & (back[1:] < self.universe.first_day[s][None, :]))
        count = seen.sum(axis=0)
        mean_past = np.where(count > 0, (past * seen).sum(axis=0) / np.maximum(count, 1), np.nan)
        volume_ratio = np.round(vol / mean_past, 2)
        up, down = limit_prices(pre, self.universe.limit[s])
        dv_last, dv_ttm = self.dividend_last.at(s, d), self.dividend_ttm.at(s, d)
        return {
            "close": close,
            "turnover_rate": np.round(vol / float_sh, 4),
            "turnover_rate_f": np.round(vol / free_sh, 4),
            "volume_ratio": volume_ratio,
            "pe": ratio(e.profit_annual.at(s, d)),
            "pe_ttm": ratio(e.profit_ttm.at(s, d)),
            "pb": ratio(e.equity.at(s, d)),
            "ps": ratio(e.revenue_annual.at(s, d)),
            "ps_ttm": ratio(e.revenue_ttm.at(s, d)),
            "dv_ratio": np.where(dv_last > 0, np.round(dv_last / close * 100.0, 4), np.nan),
            "dv_ttm": np.where(dv_ttm > 0, np.round(dv_ttm / close * 100.0, 4), np.nan),
            "total_share": total,
            "float_share": float_sh,
            "free_share": free_sh,
            "total_mv": np.round(total_mv, 4),
            "circ_mv": np.round(float_sh * close, 4),
            "limit_status": np.where(close >= up, 1, np.where(close <= down, -1, 0)),
        }

    def moneyflow(self, d: np.ndarray, s: np.ndarray) -> dict[str, np.ndarray]:
        """``moneyflow`` fields: volumes in lots (ints), amounts in 10k CNY, by order size."""
        close, pre = self.closes(d, s)
        vol = self.volume(d, s)
        price = (close + pre) / 2.0
        buy_share = np.clip(0.5 + 0.06 * self._noise("mf_side", s, d) + 2.0 * (close / pre - 1.0), 0.2, 0.8)
        out: dict[str, np.ndarray] = {}
        totals = {"buy": np.floor(vol * buy_share), "sell": np.floor(vol * (1.0 - buy_share))}
        for side, total in totals.items():
            weights = np.stack(
                [
                    self._uniform(f"mf_{side}_{b}", s, d) + base
                    for b, base in (("sm", 0.6), ("md", 0.5), ("lg", 0.3), ("elg", 0.05))
                ]
            )
            weights /= weights.sum(axis=0)
            parts = np.floor(total[None, :] * weights[:3])
            parts = np.vstack([parts, total[None, :] - parts.sum(axis=0)])
            for k, bucket in enumerate(("sm", "md", "lg", "elg")):
                out[f"{side}_{bucket}_vol"] = parts[k].astype(np.int64)
                out[f"{side}_{bucket}_amount"] = np.round(parts[k] * price / 100.0, 2)
        ordered = {}
        for bucket in ("sm", "md", "lg", "elg"):
            for side in ("buy", "sell"):
                ordered[f"{side}_{bucket}_vol"] = out[f"{side}_{bucket}_vol"]
                ordered[f"{side}_{bucket}_amount"] = out[f"{side}_{bucket}_amount"]
        ordered["net_mf_vol"] = (totals["buy"] - totals["sell"]).astype(np.int64)
        ordered["net_mf_amount"] = np.round((totals["buy"] - totals["sell"]) * price / 100.0, 2)
        return ordered


def build_prices(
    seed: int,
    universe: Universe,
    params: StockParams,
    earnings: Earnings,
    plans: DividendPlans,
    days: np.ndarray,
) -> PricePanel:
    """Run the day-by-day price model over the open days ``days``."""
    n, n_days = len(universe), len(days)
    rng = np.random.default_rng([seed, 7])
    suspended = _suspensions(seed, universe, n_days, plans)
    noise_key = cell_noise.stream_key(seed, "prices")
    market = rng.normal(0.0003, 0.011, n_days)
    sector = rng.normal(0.0, 0.007, (n_days, len(INDUSTRIES)))

    live = plans.in_range()
    ex_stock, ex_day = plans.stock[live], plans.ex_day[live]
    ex_cash, ex_shares = plans.cash_tax[live], plans.share_ratio[live]
    by_day: dict[int, list[int]] = {}
    for i in np.argsort(ex_day, kind="stable"):
        by_day.setdefault(int(ex_day[i]), []).append(int(i))
    ratio = np.ones(len(ex_stock))

    close_cents = np.zeros((n_days, n), dtype=np.int32)
    pre_cents = np.zeros((n_days, n), dtype=np.int32)
    prev = params.price0.copy()
    anchor = np.log(prev)
    stocks = np.arange(n)
    first, last = universe.first_day, universe.last_day
    limit, industry = universe.limit, universe.industry
    for t in range(n_days):
        pre = prev.copy()
        events = by_day.get(t)
        if events is not None:
            idx = np.asarray(events)
            s = ex_stock[idx]
            pre[s] = np.maximum(round2((prev[s] - ex_cash[idx]) / (1.0 + ex_shares[idx])), 0.01)
            ratio[idx] = prev[s] / pre[s]
            anchor[s] += np.log(pre[s] / prev[s])
        active = (first <= t) & (t <= last)
        shock = params.sigma * cell_noise.normal(noise_key, stocks, t)
        jump = cell_noise.uniform(noise_key ^ 0x1F, stocks, t)
        shock += np.where(jump < 0.003, -0.12, np.where(jump > 0.996, 0.12, 0.0))
        ret = params.beta * market[t] + sector[t, industry] + shock - 0.004 * (np.log(pre) - anchor)
        ret = np.where((first == t) & universe.is_ipo, 0.25, ret)
        up, down = limit_prices(pre, limit)
        close = np.clip(round2(pre * np.exp(ret)), down, up)
        close = np.where(active & ~suspended[t], close, pre)
        close_cents[t] = np.where(active, np.rint(close * 100.0), 0)
        pre_cents[t] = np.where(active, np.rint(pre * 100.0), 0)
        prev = np.where(active, close, prev)

    adj0 = np.where(universe.is_ipo, 1.0, np.round(np.exp(rng.uniform(0.0, 2.3, n)), 3))
    order = np.lexsort((ex_day, ex_stock))
    adj_values = np.round(adj0[ex_stock[order]] * _grouped_cumprod(ex_stock[order], ratio[order]), 3)
    adj_factor = StepSeries.from_events(n, adj0, ex_stock[order], ex_day[order], adj_values)
    bonus = order[ex_shares[order] > 0]
    share_values = np.round(
        params.shares0[ex_stock[bonus]] * _grouped_cumprod(ex_stock[bonus], 1.0 + ex_shares[bonus]), 4
    )
    total_share = StepSeries.from_events(n, params.shares0, ex_stock[bonus], ex_day[bonus], share_values)
    dividend_last, dividend_ttm = _dividend_series(plans, days, n)
    return PricePanel(
        universe=universe,
        params=params,
        earnings=earnings,
        plans=plans,
        close_cents=close_cents,
        pre_close_cents=pre_cents,
        suspended=suspended,
        adj_factor=adj_factor,
        total_share=total_share,
        dividend_ttm=dividend_ttm,
        dividend_last=dividend_last,
        market_factor=market,
        noise_key=noise_key,
    )


def _dividend_series(plans: DividendPlans, days: np.ndarray, n: int) -> tuple[StepSeries, StepSeries]:
    """(last dividend per share, dividends of the trailing year) as known on each day."""
    paid = plans.ex <= days[-1]
    order = np.lexsort((plans.ex[paid], plans.stock[paid]))
    stock, ex, cash = plans.stock[paid][order], plans.ex[paid][order], plans.cash_tax[paid][order]
    start_day = np.searchsorted(days, ex)  # 0 for plans paid before the range
    last = StepSeries.from_events(n, np.zeros(n), stock, start_day, cash)
    expiry = np.searchsorted(days, ex + np.timedelta64(timedelta(days=YEAR_DAYS)))
    next_same = np.r_[stock[1:] == stock[:-1], False]
    next_ex = np.r_[ex[1:], ex[-1:]] if len(ex) else ex
    lapses = ~(next_same & (next_ex <= ex + np.timedelta64(YEAR_DAYS, "D"))) & (expiry < len(days))
    # Lapses first: on a tie with a new payment, the stable sort applies the payment last.
    ev_stock = np.r_[stock[lapses], stock]
    ev_day = np.r_[expiry[lapses], start_day]
    ev_value = np.r_[np.zeros(int(lapses.sum())), cash]
    order2 = np.lexsort((ev_day, ev_stock))
    ttm = StepSeries.from_events(n, np.zeros(n), ev_stock[order2], ev_day[order2], ev_value[order2])
    return last, ttm
