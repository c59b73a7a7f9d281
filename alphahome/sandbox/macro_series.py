"""Macro series with plausible levels and smooth seeded paths (``shibor``, ``hibor``, ``yc_cb``, ``cn_cpi``,
``cn_ppi``, ``cn_pmi``, ``cn_m``, ``sf_month``).

Each series is a mean-reverting AR(1) path around a level of the real series, clipped to its usual range,
drawn from a generator seeded by ``(seed, api)``, so a market gives the same table in any process. Related
columns agree where a reader would check them:

- money-market rates rise with the tenor (each tenor is the previous one plus a positive spread), and the
  government yield curve rises with the term on both curve types;
- price indices (CPI, PPI and their parts) and money supply are built as an index level whose
  year-on-year change is the drawn path; month-on-month changes and year-to-date (``*_accu``) figures are
  computed from that level, so ``mom``/``yoy``/``accu`` are consistent (up to rounding); ``nt_val`` is
  ``100 + nt_yoy`` as Tushare publishes it; the PPI total and its two groups are weighted sums of their
  parts;
- social financing: ``inc_cumval`` is the year-to-date sum of ``inc_month`` and the stock grows by the
  flow (``stk_endval`` in 10^12 CNY, flows in 10^8 CNY).
"""

from __future__ import annotations

import zlib
from collections.abc import Callable

import numpy as np
import pandas as pd

from alphahome.sandbox.generic import Context, window
from alphahome.sources.tushare.fields import api_fields
from alphahome.sources.tushare.interfaces import Interface

#: Government curve terms in years (``yc_cb.curve_term``).
CURVE_TERMS = (0.25, 0.5, 1.0, 2.0, 3.0, 5.0, 7.0, 10.0, 15.0, 20.0, 30.0)
#: Extra months drawn before the first served month (year-on-year needs a year of history, and the
#: year-to-date figures the January before).
_LEAD = 24


def _rng(seed: int, api: str, salt: str = "") -> np.random.Generator:
    return np.random.default_rng([seed, zlib.crc32(f"macro:{api}:{salt}".encode())])


def ar1(rng: np.random.Generator, n: int, mean: float, sd: float, phi: float, lo: float, hi: float) -> np.ndarray:
    """A stationary AR(1) path of length ``n`` around ``mean`` with stationary deviation ``sd``,
    kept inside ``[lo, hi]`` (a step that would leave the band stops at its edge)."""
    shocks = rng.normal(0.0, sd * np.sqrt(1.0 - phi * phi), n)
    out = np.empty(n)
    x = float(np.clip(mean + rng.normal(0.0, sd), lo, hi))
    for t in range(n):
        x = min(max(mean + phi * (x - mean) + shocks[t], lo), hi)
        out[t] = x
    return out


# ----- daily rates -------------------------------------------------------------------------------------
def _dates(facts: Interface, ctx: Context) -> np.ndarray:
    return window(ctx, facts, ctx.days)


def _rates(
    rng: np.random.Generator, n: int, mean: float, band: tuple[float, float], spreads: tuple[float, ...]
) -> list[np.ndarray]:
    """The overnight rate and each longer tenor as the previous plus a positive, slowly moving spread."""
    level = ar1(rng, n, mean, 0.35, 0.995, *band)
    out = [np.clip(level + ar1(rng, n, 0.0, 0.12, 0.7, -0.4, 0.4), *band)]
    for spread in spreads:
        out.append(out[-1] + spread * np.exp(ar1(rng, n, 0.0, 0.25, 0.98, -0.8, 0.8)))
    return out


def _shibor(facts: Interface, ctx: Context, tenors: tuple[str, ...], mean: float, band: tuple[float, float],
            spreads: tuple[float, ...], digits: int) -> pd.DataFrame:  # fmt: skip
    dates = _dates(facts, ctx)
    rates = _rates(_rng(ctx.seed, facts.name), len(dates), mean, band, spreads)
    frame = {facts.date_column or "date": dates}
    frame.update({t: np.round(r, digits) for t, r in zip(tenors, rates, strict=True)})
    return pd.DataFrame(frame)


def shibor(facts: Interface, ctx: Context) -> pd.DataFrame:
    """Shibor: overnight about 1-3 %, the curve rising to the one-year rate."""
    return _shibor(facts, ctx, ("on", "1w", "2w", "1m", "3m", "6m", "9m", "1y"), 1.7, (1.0, 3.0),
                   (0.15, 0.06, 0.12, 0.12, 0.06, 0.03, 0.02), 3)  # fmt: skip


def hibor(facts: Interface, ctx: Context) -> pd.DataFrame:
    """Hibor: overnight about 0.5-5 %, the curve rising to twelve months."""
    return _shibor(facts, ctx, ("on", "1w", "2w", "1m", "2m", "3m", "6m", "12m"), 3.2, (0.5, 5.0),
                   (0.2, 0.08, 0.15, 0.1, 0.08, 0.15, 0.15), 5)  # fmt: skip


def yc_cb(facts: Interface, ctx: Context) -> pd.DataFrame:
    """The government bond curve (``1001.CB``): yield-to-maturity (curve_type '0') and spot ('1') curves
    over :data:`CURVE_TERMS`, ``long - slope * exp(-term / 3)`` with a slowly moving long end (about
    1.8-3.4 %) and slope, the spot curve a little above the yield curve at long terms."""
    dates = _dates(facts, ctx)
    rng = _rng(ctx.seed, facts.name)
    n = len(dates)
    long_end = ar1(rng, n, 2.6, 0.35, 0.998, 1.8, 3.4)
    slope = ar1(rng, n, 0.9, 0.25, 0.99, 0.3, 1.3)
    terms = np.array(CURVE_TERMS)
    ytm = long_end[:, None] - slope[:, None] * np.exp(-terms[None, :] / 3.0)
    spot = ytm + 0.06 * (1.0 - np.exp(-terms[None, :] / 8.0)) * slope[:, None]
    parts = []
    for curve_type, values in (("0", ytm), ("1", spot)):
        parts.append(
            pd.DataFrame(
                {
                    "trade_date": np.repeat(dates, len(terms)),
                    "ts_code": "1001.CB",
                    "curve_name": "中债国债收益率曲线",
                    "curve_type": curve_type,
                    "curve_term": np.tile(terms, n),
                    "yield": np.round(values.ravel(), 4),
                }
            )
        )
    return pd.concat(parts, ignore_index=True)


# ----- monthly series ----------------------------------------------------------------------------------
def _months(facts: Interface, ctx: Context) -> list[str]:
    return sorted({str(d)[:6] for d in window(ctx, facts, ctx.days)})


def _index_from_trend(
    rng: np.random.Generator, yoy_trend: np.ndarray, seasonal: np.ndarray, months: list[str], noise: float
) -> np.ndarray:
    """An index level (base 100) whose month-on-month change (%) is the trend's monthly share
    (``yoy_trend`` compounded monthly), the calendar month's ``seasonal`` term (twelve values summing to about zero) and a
    little noise: its year-on-year change then follows the trend's twelve-month mean, and month-on-month
    changes stay small."""
    month_of_year = np.array([int(m[4:]) for m in _extended(months)]) - 1
    monthly = (np.power(1.0 + yoy_trend / 100.0, 1.0 / 12.0) - 1.0) * 100.0  # compounds to the trend
    mom = monthly + seasonal[month_of_year] + rng.normal(0.0, noise, len(yoy_trend))
    return 100.0 * np.cumprod(1.0 + mom / 100.0)


def _changes(level: np.ndarray, months: list[str]) -> dict[str, np.ndarray]:
    """yoy and mom (%) of a monthly level, and ``accu``: year-to-date level over the same months a year
    before (%), all for the served months (the last ``len(months)``)."""
    n = len(months)
    yoy = (level[12:] / level[:-12] - 1.0) * 100.0
    mom = (level[1:] / level[:-1] - 1.0) * 100.0
    # year-to-date sums restart each January
    ext_months = np.array([int(m[4:]) for m in _extended(months)])
    ytd_now = np.zeros(len(level))
    ytd_before = np.zeros(len(level))
    for t in range(12, len(level)):
        first = ext_months[t] == 1
        ytd_now[t] = level[t] + (0.0 if first else ytd_now[t - 1])
        ytd_before[t] = level[t - 12] + (0.0 if first else ytd_before[t - 1])
    accu = np.divide(ytd_now, ytd_before, out=np.ones_like(ytd_now), where=ytd_before > 0)
    return {"yoy": yoy[-n:], "mom": mom[-n:], "accu": (accu[-n:] - 1.0) * 100.0}


def _extended(months: list[str]) -> list[str]:
    """The served months preceded by :data:`_LEAD` earlier ones."""
    first = int(months[0][:4]) * 12 + int(months[0][4:]) - 1 - _LEAD
    return [f"{(first + k) // 12}{(first + k) % 12 + 1:02d}" for k in range(_LEAD + len(months))]


def _yoy_path(rng: np.random.Generator, n: int, mean: float, sd: float, lo: float, hi: float) -> np.ndarray:
    return ar1(rng, n, mean, sd, 0.95, lo, hi)


_NO_SEASON = np.zeros(12)


def cn_cpi(facts: Interface, ctx: Context) -> pd.DataFrame:
    """CPI, national / urban / rural: year-on-year about -1..3 %, ``*_val`` = 100 + yoy, month-on-month
    from the index (with the spring-festival rise of January and February)."""
    months = _months(facts, ctx)
    rng = _rng(ctx.seed, facts.name)
    size = len(months) + _LEAD
    national = _yoy_path(rng, size, 1.0, 0.9, -1.0, 3.0)
    seasonal = np.array([0.5, 0.4, -0.3, -0.1, -0.1, -0.2, 0.1, 0.1, 0.0, -0.1, -0.2, -0.1])
    out: dict[str, object] = {"month": months}
    for prefix, offset in (("nt", 0.0), ("town", 0.1), ("cnt", -0.25)):
        yoy = np.clip(national + offset + ar1(rng, size, 0.0, 0.1, 0.8, -0.3, 0.3), -1.0, 3.0)
        level = _index_from_trend(rng, yoy, seasonal, months, 0.04)
        changes = _changes(level, months)
        yoy_r = np.round(changes["yoy"], 1)
        out[f"{prefix}_val"] = np.round(100.0 + yoy_r, 1)
        out[f"{prefix}_yoy"] = yoy_r
        out[f"{prefix}_mom"] = np.round(changes["mom"], 1)
        out[f"{prefix}_accu"] = np.round(100.0 + changes["accu"], 1)
    return pd.DataFrame(out)


#: PPI leaves: (suffix, group, weight in the group, loading on the common cycle).
_PPI_LEAVES = (("mp_qm", "mp", 0.12, 3.0), ("mp_rm", "mp", 0.33, 1.8), ("mp_p", "mp", 0.55, 0.8),
               ("cg_f", "cg", 0.35, 0.6), ("cg_c", "cg", 0.15, 0.2), ("cg_adu", "cg", 0.3, 0.3),
               ("cg_dcg", "cg", 0.2, 0.3))  # fmt: skip
_PPI_GROUPS = (("mp", 0.75), ("cg", 0.25))


def cn_ppi(facts: Interface, ctx: Context) -> pd.DataFrame:
    """PPI and its parts (producer goods: mining, raw materials, processing; consumer goods: food,
    clothing, daily use, durables): each part an index following a common cycle (year-on-year about
    -5..4 % overall); the groups and the total are weighted sums of the parts' indices."""
    months = _months(facts, ctx)
    rng = _rng(ctx.seed, facts.name)
    size = len(months) + _LEAD
    cycle = ar1(rng, size, -0.4, 1.8, 0.95, -4.5, 4.0)
    levels: dict[str, np.ndarray] = {}
    for suffix, _, _, loading in _PPI_LEAVES:
        yoy = loading * cycle + ar1(rng, size, 0.0, 0.4, 0.85, -1.5, 1.5)
        levels[suffix] = _index_from_trend(rng, yoy, _NO_SEASON, months, 0.08)
    for group, _ in _PPI_GROUPS:
        levels[group] = sum(
            (weight * levels[suffix] for suffix, g, weight, _ in _PPI_LEAVES if g == group), np.zeros(size)
        )
    levels[""] = sum((w * levels[g] for g, w in _PPI_GROUPS), np.zeros(size))
    out: dict[str, object] = {"month": months}
    names = {f.name for f in api_fields(facts.table)}
    for suffix, level in levels.items():
        changes = _changes(level, months)
        stem = f"ppi_{suffix}_" if suffix else "ppi_"
        for kind in ("yoy", "mom", "accu"):
            if f"{stem}{kind}" in names:
                out[f"{stem}{kind}"] = np.round(changes[kind], 1)
    return pd.DataFrame(out)


def cn_pmi(facts: Interface, ctx: Context) -> pd.DataFrame:
    """PMI: the manufacturing headline ``pmi010000`` about 48-52; every other sub-index follows the same
    cycle with its own offset, sensitivity and noise (about 40-60)."""
    months = _months(facts, ctx)
    rng = _rng(ctx.seed, facts.name)
    n = len(months)
    headline = ar1(rng, n, 50.0, 1.0, 0.8, 48.0, 52.0)
    out: dict[str, object] = {"month": months, "pmi010000": np.round(headline, 1)}
    for f in api_fields(facts.table):
        if f.name in out:
            continue
        offset, loading = rng.uniform(-2.5, 3.0), rng.uniform(0.5, 2.0)
        values = 50.0 + offset + loading * (headline - 50.0) + ar1(rng, n, 0.0, 0.5, 0.6, -2.0, 2.0)
        out[f.name] = np.round(np.clip(values, 40.0, 60.0), 1)
    return pd.DataFrame(out)


def cn_m(facts: Interface, ctx: Context) -> pd.DataFrame:
    """Money supply in 10^8 CNY (M2 about 2-3 x 10^6, growing 8-12 % a year; M1 and M0 smaller), with
    yoy and mom (%) computed from the levels."""
    months = _months(facts, ctx)
    rng = _rng(ctx.seed, facts.name)
    size = len(months) + _LEAD
    years = int(_extended(months)[0][:4]) - 2020
    out: dict[str, object] = {"month": months}
    for name, base, growth, mean, sd, band, noise in (("m0", 80000.0, 1.08, 9.0, 2.0, (3.0, 15.0), 0.15),
                                                      ("m1", 580000.0, 1.04, 4.0, 3.0, (-5.0, 12.0), 0.15),
                                                      ("m2", 2000000.0, 1.095, 9.8, 0.8, (8.5, 11.5), 0.08)):  # fmt: skip
        yoy = _yoy_path(rng, size, mean, sd, *band)
        level = base * growth**years / 100.0 * _index_from_trend(rng, yoy, _NO_SEASON, months, noise)
        changes = _changes(level, months)
        out[name] = np.round(level[-len(months) :], 2)
        out[f"{name}_yoy"] = np.round(changes["yoy"], 2)
        out[f"{name}_mom"] = np.round(changes["mom"], 2)
    return pd.DataFrame(out)


def sf_month(facts: Interface, ctx: Context) -> pd.DataFrame:
    """Social financing: the month's flow (10^8 CNY, large in January), its year-to-date sum, and the stock
    at month end (10^12 CNY) growing by the flow."""
    months = _months(facts, ctx)
    rng = _rng(ctx.seed, facts.name)
    ext = _extended(months)
    month_of_year = np.array([int(m[4:]) for m in ext])
    year = np.array([int(m[:4]) for m in ext])
    share = np.array([0.19, 0.04, 0.15, 0.04, 0.06, 0.14, 0.02, 0.06, 0.11, 0.05, 0.06, 0.08])
    annual = 320000.0 * 1.03 ** (year - 2023)
    flow = np.round(annual * share[month_of_year - 1] * np.exp(rng.normal(0.0, 0.12, len(ext))), 2)
    ytd = np.zeros(len(ext))
    for t in range(len(ext)):
        ytd[t] = flow[t] + (ytd[t - 1] if t and month_of_year[t] != 1 else 0.0)
    stock = 285.0 * 1.09 ** (year[0] - 2021) + np.cumsum(flow) / 10000.0
    n = len(months)
    return pd.DataFrame(
        {"month": months, "inc_month": flow[-n:], "inc_cumval": np.round(ytd[-n:], 2), "stk_endval": np.round(stock[-n:], 2)}
    )


#: The macro APIs built here, by name.
MACRO_BUILDERS: dict[str, Callable[[Interface, Context], pd.DataFrame]] = {
    "shibor": shibor, "hibor": hibor, "yc_cb": yc_cb, "cn_cpi": cn_cpi, "cn_ppi": cn_ppi, "cn_pmi": cn_pmi,
    "cn_m": cn_m, "sf_month": sf_month,
}  # fmt: skip


def macro_frame(facts: Interface, ctx: Context) -> pd.DataFrame:
    """Every row of macro API ``facts.name`` with all its fields in documented order."""
    frame = MACRO_BUILDERS[facts.table](facts, ctx)
    return frame[[f.name for f in api_fields(facts.table)]]
