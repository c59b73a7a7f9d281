"""The long tail of the catalogue: plausible, deterministic tables generated from the interface table alone.

Every API without a hand-built model in the market gets its rows here, from its interface entry (shape, key,
date column) and its field types: a bounded set of entities (stocks, indices, funds, bonds, contracts,
boards …) crossed with the dates its shape implies, with values drawn per column from a generator seeded
by ``(seed, api)``, so the same market gives the same table in any process. Within a row the numbers are
consistent where a reader would check them: bars have ``low <= open, close <= high``, ``change`` is
``close - pre_close`` and the percentage follows; futures and options carry settle prices and open
interest; event tables leave the dates Tushare leaves NULL (about a fifth of the non-key dates) NULL.

Volumes stay modest (tens of thousands of rows per API at the demo scale) so a whole demo sync stays fast.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from alphahome.sandbox.apidef import FieldDef
from alphahome.sources.tushare.fields import api_fields
from alphahome.sources.tushare.interfaces import Interface

#: Entities per long-tail table by scale (stocks of a per-stock panel, funds, bonds, contracts …).
ENTITIES: dict[str, int] = {"small": 6, "demo": 24, "large": 120}
#: Event-like tables: the share of entities with a row on a given date.
_DENSITY: dict[str, float] = {
    "block_trade": 0.15, "top_list": 0.2, "top_inst": 0.2, "limit_list_d": 0.25, "kpl_list": 0.2,
    "stock_st": 0.3, "hsgt_top10": 1.0, "report_rc": 0.05,
}  # fmt: skip
#: Rows per entity and date for tables whose key is wider than (code, date).
_FANOUT: dict[str, int] = {
    "top_inst": 4, "fut_holding": 5, "namechange": 2, "fund_portfolio": 5, "fina_mainbz": 3, "fund_manager": 2,
}  # fmt: skip
_BAR_COLUMNS = ("open", "high", "low", "close", "pre_close")
_WORDS = ("华泰", "中信", "国泰", "招商", "广发", "银河", "东方", "申万", "海通", "兴业", "平安", "光大")
_VOCAB: dict[str, tuple[str, ...]] = {
    "exchange": ("SSE", "SZSE"),
    "market": ("主板", "创业板", "科创板"),
    "is_new": ("Y",),
    "list_status": ("L",),
    "curr_type": ("CNY",),
    "side": ("0", "1"),
    "in_de": ("IN", "DE"),
    "holder_type": ("C", "P", "G"),
    "call_put": ("C", "P"),
    "exercise_type": ("欧式",),
    "opt_type": ("ETF期权",),
    "proc": ("董事会预案", "股东大会通过", "实施", "完成"),
    "div_proc": ("预案", "决案", "实施"),
    "rate_type": ("累进利率",),
    "update_flag": ("1",),
    "gender": ("M", "F"),
    "edu": ("硕士", "博士", "本科"),
    "nationality": ("中国",),
    "rating": ("买入", "增持", "中性"),
    "quarter": ("2024Q4", "2025Q4", "2026Q4"),
    "type": ("N", "I", "S"),
    "market_type": ("1", "3"),
    "limit": ("U", "D", "Z"),
    "up_stat": ("1/1", "2/2", "2/3"),
    "share_type": ("首发原股东限售股份", "定增机构配售股份", "股权激励限售股份"),
    "call_type": ("赎回", "回售"),
    "is_call": ("公告提示强赎", "公告不强赎", "公告实施强赎"),
    "country": ("中国", "美国", "欧元区", "日本"),
    "currency": ("CNY", "USD", "EUR", "JPY"),
    "tag": ("涨停", "跌停", "炸板", "自然涨停"),
    "status": ("L",),
    "curve_type": ("0", "1"),
    "ear_distr": ("1",),
}


@dataclass(frozen=True)
class Entities:
    """The codes (and display names) one long-tail table is laid out over; ``extra`` holds per-entity
    values of other columns (an exchange, a listing date …), one per code."""

    codes: tuple[str, ...]
    names: tuple[str, ...]
    extra: tuple[tuple[str, tuple[object, ...]], ...] = ()
    #: The column that holds the code (``ts_code`` unless the table names its entities otherwise).
    column: str = "ts_code"

    def value(self, name: str) -> tuple[object, ...] | None:
        """Per-entity values of column ``name`` when this entity set fixes them."""
        return dict(self.extra).get(name)


@dataclass(frozen=True)
class Context:
    """What the generator needs from the market: its seed, its days and the entity sets it names."""

    seed: int
    days: np.ndarray  # open days with market data, 'YYYYMMDD' text, ascending
    calendar: np.ndarray  # every calendar day of that range, 'YYYYMMDD' text
    stocks: Entities
    entities: dict[str, Entities]


def _rng(seed: int, api: str, salt: str = "") -> np.random.Generator:
    return np.random.default_rng([seed, zlib.crc32(f"{api}:{salt}".encode())])


def window(ctx: Context, facts: Interface, dates: np.ndarray) -> np.ndarray:
    """The dates from the API's first date on, but never fewer than the last sixty (a sandbox with a short
    history still serves every API)."""
    keep = dates[dates >= facts.history_start]
    return keep if len(keep) >= 60 else dates[-min(60, len(dates)) :]


def _periods(days: np.ndarray) -> np.ndarray:
    """Quarter ends from the first day's quarter to the last day's."""
    first, last = str(days[0]), str(days[-1])
    out = []
    for year in range(int(first[:4]), int(last[:4]) + 1):
        for md in ("0331", "0630", "0930", "1231"):
            d = f"{year}{md}"
            if first <= d <= last:
                out.append(d)
    return np.array(out, dtype=object)


def _plus_days(dates: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    as_dt = pd.to_datetime(pd.Series(dates, dtype=object), format="%Y%m%d")
    return (as_dt + pd.to_timedelta(offsets, unit="D")).dt.strftime("%Y%m%d").to_numpy(dtype=object)


def _grid(facts: Interface, ctx: Context, ents: Entities, rng: np.random.Generator) -> pd.DataFrame:
    """Entity positions and row dates: the table's skeleton, by shape."""
    n = len(ents.codes)
    shape = facts.shape
    if shape in ("snapshot", "per_code") or facts.date_column is None:
        return pd.DataFrame({"_e": np.arange(n), "_d": [None] * n})
    if shape in ("months", "quarters"):
        months = sorted({str(d)[:6] for d in window(ctx, facts, ctx.days)})
        return pd.DataFrame({"_e": np.zeros(len(months), dtype=int), "_d": months})
    if shape == "dates":
        dates = window(ctx, facts, ctx.days if facts.name != "eco_cal" else ctx.calendar)
        return pd.DataFrame({"_e": np.zeros(len(dates), dtype=int), "_d": dates})
    if shape == "weeks":
        fridays = pd.to_datetime(pd.Series(ctx.calendar), format="%Y%m%d").dt.day_of_week.to_numpy() == 4
        dates = window(ctx, facts, ctx.calendar[fridays])
        ew, dw = np.meshgrid(np.arange(n), np.arange(len(dates)), indexing="ij")
        return pd.DataFrame({"_e": ew.ravel(), "_d": dates[dw.ravel()]})
    if shape in ("ann_dates", "periods"):
        periods = _periods(window(ctx, facts, ctx.days))
        e_grid, p_grid = np.meshgrid(np.arange(n), np.arange(len(periods)), indexing="ij")
        e, p = e_grid.ravel(), p_grid.ravel()
        keep = rng.random(len(e)) < (0.5 if shape == "ann_dates" else 1.0)
        e, p = e[keep], p[keep]
        ends = periods[p]
        anns = _plus_days(ends, rng.integers(15, 110, len(ends)))
        last = str(ctx.days[-1])
        frame = pd.DataFrame({"_e": e, "_d": anns if shape == "ann_dates" else ends, "_end": ends, "_ann": anns})
        return frame[frame["_ann"] <= last].reset_index(drop=True)
    # trade-date tables (per entity and day; event-like ones on a share of days)
    dates = window(ctx, facts, ctx.days)
    e_grid, d_grid = np.meshgrid(np.arange(n), np.arange(len(dates)), indexing="ij")
    e, d = e_grid.ravel(), d_grid.ravel()
    density = _DENSITY.get(facts.name, 1.0)
    if density < 1.0:
        keep = rng.random(len(e)) < density
        e, d = e[keep], d[keep]
    return pd.DataFrame({"_e": e, "_d": dates[d]})


def _fan_out(frame: pd.DataFrame, times: int) -> pd.DataFrame:
    if times <= 1:
        return frame.assign(_j=0)
    out = frame.loc[frame.index.repeat(times)].reset_index(drop=True)
    return out.assign(_j=np.tile(np.arange(times), len(frame)))


def _bars(frame: pd.DataFrame, rng: np.random.Generator, level: float) -> dict[str, np.ndarray]:
    """Per-entity random-walk bars over the frame's rows (rows of one entity in date order)."""
    n = len(frame)
    order = np.lexsort((frame["_d"].astype(str).to_numpy(), frame["_e"].to_numpy()))
    ent = frame["_e"].to_numpy()[order]
    first = np.r_[True, ent[1:] != ent[:-1]]
    ret = rng.normal(0.0003, 0.018, n)
    start = level * np.exp(rng.normal(0, 0.6, n))
    log_close = np.log(start)
    steps = np.where(first, 0.0, ret)
    # cumulative sum restarted at each entity's first row
    cum = np.cumsum(steps)
    base = np.maximum.accumulate(np.where(first, np.arange(n), 0))
    close = np.exp(log_close[base] + cum - cum[base])
    pre = np.r_[close[0], close[:-1]]
    pre = np.where(first, close * np.exp(-ret), pre)
    open_ = pre * np.exp(rng.normal(0, 0.006, n))
    high = np.maximum(open_, close) * (1 + np.abs(rng.normal(0, 0.008, n)))
    low = np.minimum(open_, close) * (1 - np.abs(rng.normal(0, 0.008, n)))
    vol = np.round(rng.lognormal(10, 1, n), 2)
    out = {
        "open": open_, "high": high, "low": low, "close": close, "pre_close": pre,
        "vol": vol, "amount": vol * close / 10,
    }  # fmt: skip
    inverse = np.empty(n, dtype=np.int64)
    inverse[order] = np.arange(n)
    return {k: np.round(v[inverse], 4) for k, v in out.items()}


def _float_column(name: str, n: int, rng: np.random.Generator) -> np.ndarray:
    if name.endswith(("_yoy", "_mom", "pct_chg", "pct_change", "_chg", "_rate", "ratio")) or "pct" in name:
        return np.round(rng.normal(2.0, 6.0, n), 4)
    if name in ("oi", "long_hld", "short_hld", "fd_share", "holder_num"):
        return np.round(rng.lognormal(10.0, 1.0, n), 2)
    if name in ("weight", "winner_rate"):
        return np.round(rng.uniform(0.1, 10.0, n), 4)
    return np.round(rng.lognormal(3.0, 1.2, n), 4)


def _string_column(name: str, n: int, rng: np.random.Generator, j: np.ndarray) -> np.ndarray:
    vocab = _VOCAB.get(name)
    if vocab is not None:
        return np.array(vocab, dtype=object)[rng.integers(0, len(vocab), n)]
    if name in ("buyer", "seller", "exalter", "broker", "org_name", "holder_name", "lead_underwriter"):
        words = np.array([f"{w}证券" for w in _WORDS], dtype=object)
        return words[(rng.integers(0, len(words), n) + j * 5) % len(words)]
    if name in ("author_name", "name", "con_name"):
        return np.array([f"{name[:3]}{k}" for k in rng.integers(1000, 9999, n)], dtype=object)
    if name in ("time", "lu_time", "ld_time", "open_time", "last_time", "first_time"):
        return np.array([f"{h:02d}:{m:02d}:00" for h, m in zip(rng.integers(9, 15, n), rng.integers(0, 60, n), strict=True)],
                        dtype=object)  # fmt: skip
    return np.array([f"{name}_{k}" for k in rng.integers(1, 9, n)], dtype=object)


def generate(
    facts: Interface, ctx: Context, ents: Entities, grid: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Every row of ``facts.name``'s table: all fields (its base API's for a ``*_vip`` twin), Tushare
    value types, the key unique. ``grid`` (entity position ``_e``, row date ``_d``) replaces the shape's
    own skeleton (e.g. the cells where a stock traded)."""
    fields = api_fields(facts.table)
    rng = _rng(ctx.seed, facts.table)
    skeleton = _grid(facts, ctx, ents, rng) if grid is None else grid
    frame = _fan_out(skeleton, _FANOUT.get(facts.table, 1))
    n = len(frame)
    e = frame["_e"].to_numpy()
    j = frame["_j"].to_numpy()
    names = {f.name for f in fields}
    columns: dict[str, object] = {}
    if names >= {"open", "close", "high", "low"}:
        level = {"future": 4000.0, "option": 0.3, "cbond": 120.0, "fund": 1.5, "index": 3000.0}.get(
            facts.family, 15.0
        )
        columns.update(_bars(frame, rng, level))
    for f in fields:
        if f.name in columns:
            continue
        columns[f.name] = _column(f.name, f.kind, facts, frame, ents, ctx, rng, e, j, n)
    bars = columns
    if "close" in bars and "pre_close" in bars:
        change = np.round(np.asarray(bars["close"]) - np.asarray(bars["pre_close"]), 4)
        pct = np.round(change / np.asarray(bars["pre_close"]) * 100, 4)
        for name, value in (("change", change), ("pct_chg", pct), ("pct_change", pct)):
            if name in names:
                columns[name] = value
    if "settle" in names:
        columns["settle"] = np.round(np.asarray(columns["close"]) * (1 + rng.normal(0, 0.002, n)), 4)
        columns["pre_settle"] = np.round(np.asarray(columns["pre_close"]) * (1 + rng.normal(0, 0.002, n)), 4)
        if "change1" in names:
            columns["change1"] = np.round(np.asarray(columns["close"]) - np.asarray(columns["pre_settle"]), 4)
            columns["change2"] = np.round(np.asarray(columns["settle"]) - np.asarray(columns["pre_settle"]), 4)
    out = pd.DataFrame({f.name: columns[f.name] for f in fields})
    if facts.key:
        out = out.drop_duplicates(list(facts.key), ignore_index=True)
    return out


def _column(
    name: str,
    kind: str,
    facts: Interface,
    frame: pd.DataFrame,
    ents: Entities,
    ctx: Context,
    rng: np.random.Generator,
    e: np.ndarray,
    j: np.ndarray,
    n: int,
) -> np.ndarray:
    codes = np.array(ents.codes, dtype=object)
    date_col = facts.date_column
    fixed = ents.value(name)
    if fixed is not None:
        return np.array(fixed, dtype=object)[e]
    if name == ents.column:
        return codes[e]
    if name == date_col or (facts.shape in ("months",) and name == "month"):
        return frame["_d"].to_numpy(dtype=object)
    if name == "end_date" and "_end" in frame:
        return frame["_end"].to_numpy(dtype=object)
    if name == "ann_date" and "_ann" in frame:
        return frame["_ann"].to_numpy(dtype=object)
    if name == "name" and len(ents.names):
        return np.array(ents.names, dtype=object)[e]
    if name in ("con_code", "symbol") and facts.family in ("stock", "index", "fund"):
        stocks = np.array(ctx.stocks.codes, dtype=object)
        return stocks[(e * 7 + j * 3 + rng.integers(0, 2, n) * 0) % len(stocks)]
    if name == "con_name":
        stocks = np.array(ctx.stocks.names, dtype=object)
        return stocks[(e * 7 + j * 3) % len(stocks)]
    if name == "curve_term":
        return (np.array([0.25, 0.5, 1, 2, 3, 5, 7, 10], dtype=float)[j % 8]).astype(float)
    if name == "exchange" and "exchange" in facts.key:
        return np.array(("SH", "SZ"), dtype=object)[e % 2]
    if kind == "d":
        if date_col is None or "_d" not in frame or frame["_d"].isna().all():
            base = np.full(n, str(ctx.days[0]), dtype=object)
        else:
            base = frame["_d"].to_numpy(dtype=object)
        spread = rng.integers(-400, 400, n) if name not in ("list_date", "setup_date", "found_date") else -rng.integers(
            300, 3000, n
        )
        values = _plus_days(base.astype(str), spread)
        if facts.shape in ("ann_dates", "snapshot") and name not in facts.key:
            values = values.astype(object)
            values[rng.random(n) < 0.2] = None
        return values
    if kind == "i":
        if name == "rank":
            return (j + e % 10 + 1).astype(np.int64)
        if name == "is_open":
            return np.ones(n, dtype=np.int64)
        return rng.integers(1, 60, n).astype(np.int64)
    if kind == "s":
        if name in facts.key:
            vocab = _VOCAB.get(name)
            if vocab is not None and len(vocab) > 1:
                return np.array(vocab, dtype=object)[(j + e) % len(vocab)]
            if vocab is None and name not in ("buyer", "seller", "exalter", "broker", "org_name", "holder_name"):
                return np.array([f"{name}_{k}" for k in j], dtype=object)
        return _string_column(name, n, rng, j)
    values = _float_column(name, n, rng)
    if facts.shape == "ann_dates" and name not in facts.key:
        values = np.where(rng.random(n) < 0.15, np.nan, values)
    return values


def field_defs(api: str) -> Sequence[FieldDef]:
    """The sandbox field definitions of ``api`` (dates as text)."""
    return tuple(FieldDef(f.name, f.wire_type, f.default) for f in api_fields(api))
