"""The PIT tables against an ORACLE: a deliberately simple, separate plain-Python reading of DESIGN.md §4
over the raw versions, compared with the SQL answers at many (stock, period, date) samples on both backends.

The raw data are generated here with every hard case on purpose: restatements (several versions, later
f_ann_date, update_flag 0/1, same-day ties), out-of-order late reports, missing quarters (single quarter
NULL), non-contiguous quarters (TTM NULL), NULL f_ann_date / NULL ann_date rows, express and forecast ahead
of the report (and on the same day), one-sided forecasts, non-consolidated rows that must be ignored,
industry moves and overlapping membership rows. Sample dates include every knowledge date and the day
before it, where look-ahead bugs live.
"""

from __future__ import annotations

import asyncio
import math
import random
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, ClassVar

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from alphahome.pit import query as pq
from alphahome.pit.builder import PitBuilder, expand_targets
from alphahome.pit.definitions import TARGETS
from alphahome.pit.query import dialect_of

# ---------------------------------------------------------------------------------------------------------
# raw data with the hard cases

INCOME_ITEMS = ("total_revenue", "revenue", "total_cogs", "oper_cost", "sell_exp", "admin_exp", "fin_exp",
                "rd_exp", "operate_profit", "total_profit", "income_tax", "n_income", "n_income_attr_p",
                "minority_gain")
BALANCE_ITEMS = ("total_assets", "total_liab", "total_hldr_eqy_exc_min_int", "total_hldr_eqy_inc_min_int",
                 "minority_int", "total_cur_assets", "total_cur_liab", "total_nca", "total_ncl", "money_cap",
                 "inventories", "accounts_receiv", "fix_assets", "goodwill", "st_borr", "lt_borr",
                 "bond_payable", "total_share")
FI_ITEMS = ("eps", "dt_eps", "bps", "ocfps", "profit_dedt", "roe", "roe_waa", "roe_dt", "roa", "q_roe",
            "grossprofit_margin", "netprofit_margin", "debt_to_assets", "current_ratio", "quick_ratio",
            "assets_turn", "tr_yoy", "or_yoy", "netprofit_yoy", "op_yoy")


def quarter_ends(first_year: int, last_year: int) -> list[date]:
    return [date(y, m, d) for y in range(first_year, last_year + 1)
            for m, d in ((3, 31), (6, 30), (9, 30), (12, 31))]


def generate_raw(seed: int, n_stocks: int = 8, first_year: int = 2015, last_year: int = 2019) -> dict[str, pd.DataFrame]:
    """Raw tables (Tushare column names) with every hard case, deterministic in ``seed``."""
    rng = random.Random(seed)
    income: list[dict[str, Any]] = []
    balance: list[dict[str, Any]] = []
    express: list[dict[str, Any]] = []
    forecast: list[dict[str, Any]] = []
    fina: list[dict[str, Any]] = []
    members: list[dict[str, Any]] = []

    def value(base: float) -> float | None:
        return None if rng.random() < 0.08 else round(base * rng.uniform(0.5, 1.5), 2)

    for s in range(n_stocks):
        code = f"{600000 + s:06d}.SH"
        annual_only_until = first_year + 2 if s == 0 else first_year  # a pre-listing annual-only company
        for p in quarter_ends(first_year, last_year):
            if p.year < annual_only_until and p.month != 12:
                continue
            if rng.random() < 0.1:  # a missing quarter
                continue
            ann = p + timedelta(days=rng.randint(15, 110))
            if rng.random() < 0.08:  # out-of-order: published after the next period's report
                ann = p + timedelta(days=rng.randint(180, 260))
            q = (p.month // 3)
            scale = 1000.0 * q * (1 + s)
            n_versions = rng.choice([1, 1, 1, 2, 2, 3])
            for v in range(n_versions):
                f_ann: date | None = ann if v == 0 else ann + timedelta(days=rng.randint(1, 400))
                a_ann: date | None = ann
                r = rng.random()
                if r < 0.08:
                    f_ann = None  # knowledge date falls back to ann_date
                elif r < 0.11:
                    f_ann, a_ann = None, None  # never known
                elif r < 0.14 and v == 0:
                    a_ann = None  # ann_date missing, f_ann_date known
                flag = "1" if v == n_versions - 1 else "0"
                row = {"ts_code": code, "ann_date": a_ann, "f_ann_date": f_ann, "end_date": p,
                       "report_type": "1", "comp_type": "1", "update_flag": flag}
                brow = dict(row)
                for item in INCOME_ITEMS:
                    row[item] = value(scale)
                row["basic_eps"] = value(0.5 * q)
                for item in BALANCE_ITEMS:
                    brow[item] = value(scale * 10)
                income.append(row)
                balance.append(brow)
                if rng.random() < 0.15 and f_ann is not None:
                    # same knowledge date, other update_flag, other numbers: update_flag '1' must win
                    tie = {k: (value(scale) if k in INCOME_ITEMS else row[k]) for k in row}
                    tie["update_flag"] = "0" if flag == "1" else "1"
                    tie["ann_date"] = (a_ann or ann) - timedelta(days=1)
                    income.append(tie)
            if rng.random() < 0.1:  # non-consolidated rows: never used
                income.append({"ts_code": code, "ann_date": ann, "f_ann_date": ann - timedelta(days=30),
                               "end_date": p, "report_type": "2", "update_flag": "1", "revenue": 1e12,
                               "n_income_attr_p": 1e12})
                balance.append({"ts_code": code, "ann_date": ann, "f_ann_date": ann - timedelta(days=30),
                                "end_date": p, "report_type": "6", "update_flag": "1", "total_assets": 1e12})
            if rng.random() < 0.35:  # express ahead of (or on the day of) the report
                e_ann = ann - timedelta(days=rng.choice([0, 0, 5, 20, 40]))
                express.append({"ts_code": code, "ann_date": e_ann, "end_date": p, "revenue": value(scale),
                                "operate_profit": value(scale), "total_profit": value(scale),
                                "n_income": value(scale), "total_assets": value(scale * 10),
                                "total_hldr_eqy_exc_min_int": value(scale * 5), "update_flag": "1"})
            if rng.random() < 0.45:  # forecast ahead of the report, sometimes revised, sometimes one-sided
                for j in range(rng.choice([1, 1, 2])):
                    lo = rng.uniform(0.01, 0.2) * scale
                    hi = None if rng.random() < 0.15 else lo * rng.uniform(1.0, 1.5)
                    forecast.append({"ts_code": code, "ann_date": ann - timedelta(days=rng.choice([0, 10, 30, 60]) + j),
                                     "end_date": p, "type": "预增", "net_profit_min": round(lo, 3),
                                     "net_profit_max": None if hi is None else round(hi, 3), "update_flag": "1"})
            for v in range(rng.choice([0, 1, 1, 2])):  # indicator versions by ann_date
                f_row = {"ts_code": code, "ann_date": None if rng.random() < 0.05 else ann + timedelta(days=v * rng.randint(1, 300)),
                         "end_date": p, "update_flag": "1" if v else rng.choice(["0", "1"])}
                for item in FI_ITEMS:
                    f_row[item] = value(10.0)
                fina.append(f_row)
        # industry: a move, sometimes an overlapping row, sometimes a row never in force
        d0 = date(first_year, 1, 1) + timedelta(days=rng.randint(0, 400))
        d1 = d0 + timedelta(days=rng.randint(100, 1200))
        l1 = rng.randint(1, 3)
        members.append(_member(code, l1, 1, d0, d1))
        members.append(_member(code, l1 + 1, 2, d1, None))
        if rng.random() < 0.4:
            members.append(_member(code, 9, 3, d0 + timedelta(days=50), d0 + timedelta(days=120)))
    cal = [date(first_year - 1, 1, 1) + timedelta(days=i) for i in range(365 * (last_year - first_year + 4))]
    trade_cal = pd.DataFrame({"exchange": "SSE", "cal_date": cal,
                              "is_open": [1 if d.weekday() < 5 else 0 for d in cal]})
    frames = {
        "income": pd.DataFrame(income),
        "balancesheet": pd.DataFrame(balance),
        "express": pd.DataFrame(express),
        "forecast": pd.DataFrame(forecast),
        "fina_indicator": pd.DataFrame(fina),
        "index_member_all": pd.DataFrame(members),
        "trade_cal": trade_cal,
    }
    # One row per raw key, as the raw tables keep them (the storage upsert would merge the others).
    from alphahome.tasks.catalogue import table_spec

    return {name: df.drop_duplicates(list(table_spec(name).key), keep="last").reset_index(drop=True)
            for name, df in frames.items()}


def _member(code: str, l1: int, l3: int, in_date: date | None, out_date: date | None) -> dict[str, Any]:
    return {"ts_code": code, "l1_code": f"80{l1:04d}.SI", "l1_name": f"L1-{l1}",
            "l2_code": f"80{l1:02d}{l3:02d}.SI", "l2_name": f"L2-{l1}-{l3}",
            "l3_code": f"85{l1:02d}{l3:02d}.SI", "l3_name": f"L3-{l1}-{l3}",
            "name": code, "in_date": in_date, "out_date": out_date, "is_new": "Y" if out_date is None else "N"}


# ---------------------------------------------------------------------------------------------------------
# the oracle


@dataclass
class Version:
    k: date
    rank: int
    flag: str | None
    values: dict[str, float | None]


def _nan_to_none(x: Any) -> Any:
    if x is None:
        return None
    if isinstance(x, float) and math.isnan(x):
        return None
    if x is pd.NaT:
        return None
    return x


def _rows(df: pd.DataFrame) -> list[dict[str, Any]]:
    return [{k: _nan_to_none(v) for k, v in r.items()} for r in df.to_dict("records")]


def prev_quarter(p: date) -> date:
    return {3: date(p.year - 1, 12, 31), 6: date(p.year, 3, 31), 9: date(p.year, 6, 30),
            12: date(p.year, 9, 30)}[p.month]


class Oracle:
    """§4 read literally: scan every version each time. Slow and obviously right."""

    INCOME_EXPRESS: ClassVar[dict[str, str]] = {"revenue": "revenue", "operate_profit": "operate_profit",
                      "total_profit": "total_profit", "n_income": "n_income"}
    BALANCE_EXPRESS: ClassVar[dict[str, str]] = {"total_assets": "total_assets",
                       "total_hldr_eqy_exc_min_int": "total_hldr_eqy_exc_min_int"}

    def __init__(self, raw: dict[str, pd.DataFrame]) -> None:
        self.income: dict[tuple[str, date], list[Version]] = defaultdict(list)
        self.balance: dict[tuple[str, date], list[Version]] = defaultdict(list)
        self.fina: dict[tuple[str, date], list[Version]] = defaultdict(list)
        self.members = _rows(raw["index_member_all"])
        for r in _rows(raw["income"]):
            if r["report_type"] == "1" and (r.get("f_ann_date") or r.get("ann_date")):
                vals = {f: r.get(f) for f in (*INCOME_ITEMS, "basic_eps")}
                self.income[(r["ts_code"], r["end_date"])].append(
                    Version(r.get("f_ann_date") or r["ann_date"], 1, r["update_flag"], vals))
        for r in _rows(raw["balancesheet"]):
            if r["report_type"] == "1" and (r.get("f_ann_date") or r.get("ann_date")):
                vals = {f: r.get(f) for f in BALANCE_ITEMS}
                self.balance[(r["ts_code"], r["end_date"])].append(
                    Version(r.get("f_ann_date") or r["ann_date"], 1, r["update_flag"], vals))
        for r in _rows(raw["express"]):
            key = (r["ts_code"], r["end_date"])
            self.income[key].append(Version(r["ann_date"], 2, r.get("update_flag"),
                                            {f: r.get(c) for f, c in self.INCOME_EXPRESS.items()}))
            self.balance[key].append(Version(r["ann_date"], 2, r.get("update_flag"),
                                             {f: r.get(c) for f, c in self.BALANCE_EXPRESS.items()}))
        for r in _rows(raw["forecast"]):
            lo, hi = r.get("net_profit_min"), r.get("net_profit_max")
            mid = (lo + hi) / 2 * 10000 if lo is not None and hi is not None else None
            self.income[(r["ts_code"], r["end_date"])].append(
                Version(r["ann_date"], 3, r.get("update_flag"), {"n_income_attr_p": mid}))
        for r in _rows(raw["fina_indicator"]):
            if r.get("ann_date"):
                self.fina[(r["ts_code"], r["end_date"])].append(
                    Version(r["ann_date"], 1, r.get("update_flag"), {f: r.get(f) for f in FI_ITEMS}))

    # ---- §4 -------------------------------------------------------------------------------------------

    @staticmethod
    def value(versions: list[Version], f: str, d: date) -> float | None:
        cands = [v for v in versions if v.k <= d and v.values.get(f) is not None]
        if not cands:
            return None
        best = max(cands, key=lambda v: (v.k, -v.rank, v.flag == "1", v.values[f]))
        return best.values[f]

    def source(self, book: str, s: str, p: date, f: str, d: date) -> str | None:
        """Which source the value V(s, p, f, d) came from."""
        cands = [v for v in getattr(self, book).get((s, p), []) if v.k <= d and v.values.get(f) is not None]
        if not cands:
            return None
        best = max(cands, key=lambda v: (v.k, -v.rank, v.flag == "1", v.values[f]))
        return {1: "report", 2: "express", 3: "forecast"}[best.rank]

    def V(self, book: str, s: str, p: date, f: str, d: date) -> float | None:
        return self.value(getattr(self, book).get((s, p), []), f, d)

    def sq(self, s: str, p: date, f: str, d: date) -> float | None:
        cur = self.V("income", s, p, f, d)
        if p.month == 3:
            return cur
        prev = self.V("income", s, prev_quarter(p), f, d)
        return None if cur is None or prev is None else cur - prev

    def ttm(self, s: str, p: date, f: str, d: date) -> float | None:
        total = 0.0
        q = p
        for _ in range(4):
            x = self.sq(s, q, f, d)
            if x is None:
                return None
            total += x
            q = prev_quarter(q)
        return total

    def versions_of(self, table: str, s: str, p: date) -> list[Version]:
        if table == "income_quarterly":
            return self.income.get((s, p), [])
        if table == "balance_quarterly":
            return self.balance.get((s, p), [])
        return self.fina.get((s, p), []) + self.income.get((s, p), []) + self.balance.get((s, p), [])

    def periods(self, table: str, s: str) -> list[date]:
        books = {"income_quarterly": [self.income], "balance_quarterly": [self.balance],
                 "financial_indicators": [self.fina, self.income, self.balance]}[table]
        return sorted({p for b in books for (code, p) in b if code == s})

    def knowledge_date(self, table: str, s: str, p: date, d: date) -> date | None:
        ks = [v.k for v in self.versions_of(table, s, p) if v.k <= d]
        return max(ks) if ks else None

    TABLE_FIELDS: ClassVar[dict[str, tuple[str, ...]]] = {
        "income_quarterly": (*INCOME_ITEMS, "basic_eps"),
        "balance_quarterly": BALANCE_ITEMS,
        "financial_indicators": (*FI_ITEMS, "roe_ttm", "roa_ttm", "gross_margin_ttm", "net_margin_ttm",
                                 "revenue_yoy", "n_income_attr_p_yoy", "liab_to_assets"),
    }

    def latest(self, table: str, s: str, d: date, fields: tuple[str, ...] | None = None) -> date | None:
        """The greatest period known at d in which one of ``fields`` (all the table's when None) is not
        NULL; f_sq/f_ttm count as f."""
        wanted = [f.removesuffix("_ttm").removesuffix("_sq") if table == "income_quarterly" else f
                  for f in (fields or self.TABLE_FIELDS[table])]
        for p in sorted(self.periods(table, s), reverse=True):
            r = self.row(table, s, p, d)
            if r is not None and any(r.get(f) is not None for f in wanted):
                return p
        return None

    def row(self, table: str, s: str, p: date, d: date) -> dict[str, Any] | None:
        """What period p of stock s looks like at d (None if nothing of it is known)."""
        kd = self.knowledge_date(table, s, p, d)
        if kd is None:
            return None
        out: dict[str, Any] = {"ts_code": s, "end_date": p, "knowledge_date": kd}
        if table == "income_quarterly":
            for f in INCOME_ITEMS:
                out[f] = self.V("income", s, p, f, d)
                out[f + "_sq"] = self.sq(s, p, f, d)
                out[f + "_ttm"] = self.ttm(s, p, f, d)
            out["basic_eps"] = self.V("income", s, p, "basic_eps", d)
        elif table == "balance_quarterly":
            for f in BALANCE_ITEMS:
                out[f] = self.V("balance", s, p, f, d)
        else:
            for f in FI_ITEMS:
                out[f] = self.V("fina", s, p, f, d)
            out.update(self.derived(s, p, d))
        return out

    def derived(self, s: str, p: date, d: date) -> dict[str, float | None]:
        def div(a: float | None, b: float | None) -> float | None:
            return None if a is None or b is None or b == 0 else 100.0 * a / b

        def growth(f: str) -> float | None:
            cur = self.V("income", s, p, f, d)
            ago = self.V("income", s, date(p.year - 1, p.month, p.day), f, d)
            return None if cur is None or ago is None or ago == 0 else 100.0 * (cur - ago) / abs(ago)

        rev_ttm = self.ttm(s, p, "revenue", d)
        cost_ttm = self.ttm(s, p, "oper_cost", d)
        ni_ttm = self.ttm(s, p, "n_income", d)
        return {
            "roe_ttm": div(self.ttm(s, p, "n_income_attr_p", d), self.V("balance", s, p, "total_hldr_eqy_exc_min_int", d)),
            "roa_ttm": div(ni_ttm, self.V("balance", s, p, "total_assets", d)),
            "gross_margin_ttm": div(None if rev_ttm is None or cost_ttm is None else rev_ttm - cost_ttm, rev_ttm),
            "net_margin_ttm": div(ni_ttm, rev_ttm),
            "revenue_yoy": growth("revenue"),
            "n_income_attr_p_yoy": growth("n_income_attr_p"),
            "liab_to_assets": div(self.V("balance", s, p, "total_liab", d), self.V("balance", s, p, "total_assets", d)),
        }

    def as_of(self, table: str, s: str, d: date, fields: tuple[str, ...] | None = None) -> dict[str, Any] | None:
        p = self.latest(table, s, d, fields)
        return None if p is None else self.row(table, s, p, d)

    def industry(self, s: str, d: date) -> dict[str, Any] | None:
        rows = [m for m in self.members if m["ts_code"] == s and m["in_date"] is not None
                and m["in_date"] <= d and (m["out_date"] is None or d < m["out_date"])]
        if not rows:
            return None
        return max(rows, key=lambda m: (m["in_date"], m["l3_code"] or ""))

    def knowledge_dates(self) -> list[date]:
        ks = {v.k for book in (self.income, self.balance, self.fina) for vs in book.values() for v in vs}
        return sorted(ks)


# ---------------------------------------------------------------------------------------------------------
# comparing


def same(a: Any, b: Any) -> bool:
    a, b = _nan_to_none(a), _nan_to_none(b)
    if a is None or b is None:
        return a is None and b is None
    if isinstance(a, pd.Timestamp):
        a = a.date()
    if isinstance(b, pd.Timestamp):
        b = b.date()
    if isinstance(a, float) or isinstance(b, float):
        return math.isclose(float(a), float(b), rel_tol=1e-9, abs_tol=1e-6)
    return a == b


def assert_frame_matches(got: pd.DataFrame, expected: dict[str, dict[str, Any]], context: str) -> None:
    got_rows = {r["ts_code"]: r for r in got.to_dict("records")}
    assert set(got_rows) == set(expected), f"{context}: stocks {sorted(got_rows)} != {sorted(expected)}"
    for code, exp in expected.items():
        row = got_rows[code]
        for col, want in exp.items():
            if col in row:
                assert same(row[col], want), f"{context} {code} {col}: got {row[col]!r}, oracle {want!r}"


# ---------------------------------------------------------------------------------------------------------
# fixtures: load the raw versions through storage, build every PIT table once per backend


async def load_raw(backend: Any, raw: dict[str, pd.DataFrame]) -> None:
    """Create the raw tables from the catalogue and upsert the frames into them."""
    from alphahome.tasks.catalogue import table_spec

    await backend.ensure_schema("tushare")
    for name, df in raw.items():
        spec = table_spec(name)
        await backend.ensure_table(spec)
        if len(df):
            await backend.upsert(spec, df)


async def build_all(backend: Any, mode: str = "full") -> list[Any]:
    builder = PitBuilder(backend, dialect_of(backend))
    await builder.ensure()
    return [await builder.build(target, mode) for target in expand_targets(list(TARGETS))]


SEED = 20240607


@pytest.fixture(scope="module")
def raw_data() -> dict[str, pd.DataFrame]:
    return generate_raw(SEED)


@pytest.fixture(scope="module")
def oracle(raw_data: dict[str, pd.DataFrame]) -> Oracle:
    return Oracle(raw_data)


def build_database(database_url: str, raw: dict[str, pd.DataFrame]) -> None:
    """Load the raw data through storage and build every PIT table (full)."""
    from alphahome.storage import open_backend

    async def prepare() -> None:
        async with open_backend(database_url) as backend:
            await load_raw(backend, raw)
            results = await build_all(backend)
            assert all(r.status == "success" for r in results), results

    asyncio.run(prepare())


def sample_dates(oracle: Oracle, n_random: int = 25, seed: int = 7) -> list[date]:
    """Every 9th knowledge date, the day before it, and random days (look-ahead bugs live at the edges)."""
    rng = random.Random(seed)
    ks = oracle.knowledge_dates()
    edges = [k for k in ks[::9]] + [k - timedelta(days=1) for k in ks[4::9]]
    lo, hi = ks[0] - timedelta(days=30), ks[-1] + timedelta(days=30)
    rand = [lo + timedelta(days=rng.randint(0, (hi - lo).days)) for _ in range(n_random)]
    return sorted(set(edges + rand))


STOCKS = [f"{600000 + s:06d}.SH" for s in range(8)]


def check_as_of(db: Any, oracle: Oracle, table: str) -> None:
    for d in sample_dates(oracle):
        got = pq.as_of(table, d, db=db)
        expected = {s: row for s in STOCKS if (row := oracle.as_of(table, s, d)) is not None}
        assert_frame_matches(got, expected, f"as_of({table}, {d})")


def check_sources(db: Any, oracle: Oracle) -> None:
    """The ``_src`` columns (whole rows, through the SQL function) name the source the oracle picks."""
    for d in sample_dates(oracle)[::4]:
        got = db.fetch_df("SELECT * FROM pit.income_as_of(CAST($1 AS DATE))", d)
        for r in got.to_dict("records"):
            p = r["end_date"].date()
            for f in ("revenue", "n_income", "n_income_attr_p", "total_profit"):
                want = oracle.source("income", r["ts_code"], p, f, d)
                assert same(r[f + "_src"], want), f"{d} {r['ts_code']} {f}_src: {r[f + '_src']} vs {want}"


def check_period_as_of(db: Any, oracle: Oracle, table: str) -> None:
    rng = random.Random(11)
    periods = quarter_ends(2015, 2019)
    dates = sample_dates(oracle, n_random=10, seed=3)
    for _ in range(40):
        p, d = rng.choice(periods), rng.choice(dates)
        got = pq.period_as_of(table, p, d, db=db)
        expected = {s: row for s in STOCKS if (row := oracle.row(table, s, p, d)) is not None}
        assert_frame_matches(got, expected, f"period_as_of({table}, {p}, {d})")


def check_industry(db: Any, oracle: Oracle) -> None:
    for d in sample_dates(oracle, n_random=30):
        got = pq.industry_as_of(d, db=db)
        expected = {}
        for s in STOCKS:
            m = oracle.industry(s, d)
            if m is not None:
                expected[s] = {c: m[c] for c in ("l1_code", "l1_name", "l2_code", "l2_name", "l3_code", "l3_name")}
        assert_frame_matches(got, expected, f"industry_as_of({d})")
    level2 = pq.industry_as_of(sample_dates(oracle)[-1], level="L2", db=db)
    assert list(level2.columns) == ["ts_code", "l2_code", "l2_name"]


def check_series(db: Any, oracle: Oracle) -> None:
    codes = STOCKS[:4]
    panel = pq.series("income", "n_income_attr_p_ttm", codes, "2017-03-01", "2017-06-30", db=db)
    assert list(panel.columns) == codes
    assert len(panel) > 80 and all(ts.weekday() < 5 for ts in panel.index)
    for ts in panel.index[::3]:
        for s in codes:
            row = oracle.as_of("income_quarterly", s, ts.date())
            want = None if row is None else row["n_income_attr_p_ttm"]
            assert same(panel.at[ts, s], want), f"series {s} {ts.date()}: {panel.at[ts, s]} vs {want}"


def check_no_look_ahead(db: Any, oracle: Oracle) -> None:
    @settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(day=st.dates(min_value=date(2014, 6, 1), max_value=date(2021, 6, 30)),
           table=st.sampled_from(["income", "balance", "indicators"]))
    def no_look_ahead(day: date, table: str) -> None:
        got = pq.as_of(table, day, db=db)
        for r in got.to_dict("records"):
            assert r["knowledge_date"].date() <= day
            # the period returned was known that day, and no later one was
            assert oracle.latest(pq.table_name(table), r["ts_code"], day) == r["end_date"].date()

    no_look_ahead()


@pytest.mark.slow
def test_pit_tables_match_the_oracle(database_url: str, raw_data: dict[str, pd.DataFrame], oracle: Oracle) -> None:
    """One build per backend, then every query kind against the oracle."""
    from alphahome.storage import open_sync

    build_database(database_url, raw_data)
    db = open_sync(database_url)
    try:
        for table in ("income_quarterly", "balance_quarterly", "financial_indicators"):
            check_as_of(db, oracle, table)
        for table in ("income_quarterly", "financial_indicators"):
            check_period_as_of(db, oracle, table)
        check_sources(db, oracle)
        check_industry(db, oracle)
        check_series(db, oracle)
        check_no_look_ahead(db, oracle)
    finally:
        db.close()
