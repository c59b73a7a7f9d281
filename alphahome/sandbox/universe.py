"""The synthetic stock universe: who is listed where and when, what they are called, and the per-stock
parameters the price model needs. Everything here is drawn from one seeded generator."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import numpy as np
import pandas as pd

from alphahome.sandbox.company_names import CompanyNamer
from alphahome.sandbox.sw2021 import INDUSTRIES

#: The columns of ``Market.universe`` (the contract with the financial-statements generator).
UNIVERSE_COLUMNS = [
    "ts_code",
    "name",
    "exchange",
    "market",
    "list_date",
    "delist_date",
    "list_status",
    "comp_type",
]


@dataclass(frozen=True)
class Board:
    """A listing board: where its codes live and its daily price-limit rule."""

    key: str
    exchange: str
    market: str
    suffix: str
    first_code: int
    last_code: int
    limit: float
    opened: date
    weight: float


BOARDS: tuple[Board, ...] = (
    Board("sh_main", "SSE", "主板", "SH", 600000, 605999, 0.10, date(1990, 12, 19), 0.33),
    Board("star", "SSE", "科创板", "SH", 688001, 688999, 0.20, date(2019, 7, 22), 0.11),
    Board("sz_main", "SZSE", "主板", "SZ", 1, 3999, 0.10, date(1991, 4, 3), 0.30),
    Board("chinext", "SZSE", "创业板", "SZ", 300001, 301999, 0.20, date(2009, 10, 30), 0.21),
    Board("bse", "BSE", "北交所", "BJ", 830001, 873999, 0.30, date(2021, 11, 15), 0.05),
)
#: The code block of BSE stocks that came from the NEEQ select tier (430xxx).
_NEEQ_CODES = Board("neeq", "BSE", "北交所", "BJ", 430001, 430999, 0.30, date(2021, 11, 15), 0.0)
ST_LIMIT = 0.05
_AREAS = ("广东", "深圳", "北京", "上海", "浙江", "江苏", "山东", "福建", "四川", "湖北", "湖南", "安徽",
          "河南", "河北", "辽宁", "天津", "重庆", "江西", "陕西", "云南", "广西", "吉林", "山西", "新疆")  # fmt: skip
_OWNER_TYPES = ("民营企业", "地方国企", "中央国企", "外资企业", "无")
_FIRST_LISTING = date(2000, 1, 4)


@dataclass(frozen=True)
class Universe:
    """Every stock (one row each, ordered by ts_code) and its per-stock parameters as aligned arrays.

    Day positions index ``days`` (the open days of the market-data range): ``first_day`` is the first
    day with data (0 for stocks listed before the range), ``last_day`` the last (the day before
    delisting); ``first_day > last_day`` means no data at all (approved, not yet trading).
    """

    stock_basic: pd.DataFrame  # every stock_basic field, plus comp_type
    board: np.ndarray  # index into BOARDS
    limit: np.ndarray  # daily price limit as a fraction (ST main board: 0.05)
    industry: np.ndarray  # index into INDUSTRIES at listing (current industry may differ, see moves)
    first_day: np.ndarray
    last_day: np.ndarray
    is_ipo: np.ndarray  # listed inside the range (pre_close on the first day = issue price)
    suspended_from: np.ndarray  # the 'P' stock: day from which it stays suspended; else -1

    @property
    def codes(self) -> np.ndarray:
        """ts_code per stock (object array)."""
        return self.stock_basic["ts_code"].to_numpy()

    def __len__(self) -> int:
        return len(self.stock_basic)

    @property
    def contract_frame(self) -> pd.DataFrame:
        """The universe as other generators receive it: ``UNIVERSE_COLUMNS`` only."""
        return self.stock_basic[UNIVERSE_COLUMNS].copy()


def _board_counts(n: int, boards: list[Board]) -> list[int]:
    weights = np.array([b.weight for b in boards])
    raw = weights / weights.sum() * n
    counts = np.maximum(np.floor(raw).astype(int), 2 if n >= 2 * len(boards) else 0)
    while counts.sum() < n:
        counts[int(np.argmax(raw - counts))] += 1
    while counts.sum() > n:
        counts[int(np.argmax(counts))] -= 1
    return [int(c) for c in counts]


def _codes(rng: np.random.Generator, board: Board, count: int) -> list[int]:
    if count == 0:
        return []
    capacity = board.last_code - board.first_code + 1
    max_gap = max(1, capacity // max(count, 1))
    gaps = 1 + rng.integers(0, max_gap, size=count)
    gaps[0] = 1 + int(rng.integers(0, max_gap))
    codes = board.first_code - 1 + np.cumsum(gaps)
    return [int(c) for c in codes]


def open_day_on_or_after(open_days: np.ndarray, day: date) -> date:
    """The first of ``open_days`` (datetime64[D], ascending) on or after ``day``."""
    return open_days[int(np.searchsorted(open_days, np.datetime64(day, "D")))].astype(object)


def build_universe(seed: int, n_stocks: int, days: np.ndarray, open_days: np.ndarray, end: date) -> Universe:
    """Draw ``n_stocks`` stocks over the open days ``days`` (datetime64[D], the market-data range);
    ``open_days`` is the whole published calendar's open days (for listing dates before the range)."""
    rng = np.random.default_rng([seed, 1])
    start = days[0].astype(object)
    n_days = len(days)
    years = n_days / 244
    boards = [b for b in BOARDS if b.opened <= end - timedelta(days=90)]
    counts = _board_counts(n_stocks, boards)

    # Roles: IPOs inside the range, delisted (D), suspended listing (P), approved not trading (G).
    n_ipo = max(2, round(n_stocks * min(0.35, 0.035 * years)))
    n_delisted = max(2, round(n_stocks * 0.006 * years))
    n_paused = max(1, n_stocks // 1000)
    n_approved = max(1, n_stocks // 500)

    rows: list[dict[str, Any]] = []
    namer = CompanyNamer(np.random.default_rng([seed, 2]))
    industry_weights = np.array([ind.weight for ind in INDUSTRIES])
    general = np.array([ind.comp_type == "1" for ind in INDUSTRIES])
    for b_idx, (board, count) in enumerate(zip(boards, counts, strict=True)):
        for _ in range(count):
            late_board = board.opened > start - timedelta(days=30)
            rows.append({"board": BOARDS.index(board), "late": late_board, "b_local": b_idx})
    n = len(rows)
    order = rng.permutation(n)
    # Stocks on boards that opened inside the range must be IPOs; fill the rest of the IPO quota at random.
    forced_ipo = [i for i in order if rows[i]["late"]]
    others = [i for i in order if not rows[i]["late"]]
    ipo = set(forced_ipo) | set(others[: max(0, n_ipo - len(forced_ipo))])
    rest = [i for i in others if i not in ipo]
    main_boards = {BOARDS.index(b) for b in BOARDS if b.market == "主板"}
    approved = set(rest[:n_approved])
    delisted = set(rest[n_approved : n_approved + n_delisted])
    paused = set(rest[n_approved + n_delisted : n_approved + n_delisted + n_paused])
    st_pool = [i for i in rest[n_approved + n_delisted + n_paused :] if rows[i]["board"] in main_boards]
    st = set(st_pool[: max(1, round(n_stocks * 0.03))])

    for i, row in enumerate(rows):
        board = BOARDS[int(row["board"])]
        opened = max(board.opened, _FIRST_LISTING)
        if i in ipo:
            lo = max(1, int(np.searchsorted(days, np.datetime64(opened, "D"))))
            list_day: date = days[int(rng.integers(lo, n_days))].astype(object)
        elif i in approved:
            list_day = open_day_on_or_after(open_days, end + timedelta(days=int(rng.integers(10, 40))))
        else:
            span = (start - timedelta(days=60) - opened).days
            list_day = open_day_on_or_after(
                open_days, opened + timedelta(days=int(rng.integers(0, max(span, 1))))
            )
        weights = industry_weights * (general if board.market != "主板" else 1.0)
        industry = int(rng.choice(len(INDUSTRIES), p=weights / weights.sum()))
        row.update(
            list_date=list_day,
            industry=industry,
            status="G" if i in approved else "D" if i in delisted else "P" if i in paused else "L",
            st=i in st,
        )

    _ensure_company_types(rng, rows, main_boards, ipo | approved | delisted | paused | st)

    # Codes follow listing order within a board.
    for b_idx in range(len(BOARDS)):
        members = sorted(
            (i for i, r in enumerate(rows) if r["board"] == b_idx), key=lambda i: rows[i]["list_date"]
        )
        board = BOARDS[b_idx]
        codes = _codes(rng, board, len(members))
        if board.key == "bse":  # the earliest listings keep their old NEEQ 43xxxx codes
            old = len(members) // 3
            codes = _codes(rng, _NEEQ_CODES, old) + codes[: len(members) - old]
        for i, number in zip(members, codes, strict=True):
            rows[i]["code"] = f"{number:06d}.{board.suffix}"
    rows.sort(key=lambda r: str(r["code"]))

    n = len(rows)
    first_day = np.zeros(n, dtype=np.int64)
    last_day = np.full(n, n_days - 1, dtype=np.int64)
    suspended_from = np.full(n, -1, dtype=np.int64)
    records = []
    for i, row in enumerate(rows):
        board = BOARDS[int(row["board"])]
        ind = INDUSTRIES[int(row["industry"])]
        list_day = row["list_date"]
        first_day[i] = int(np.searchsorted(days, np.datetime64(list_day, "D")))
        delist_date = None
        if row["status"] == "D":
            last = int(rng.integers(n_days // 4, n_days - 5))
            last_day[i] = last
            delist_date = days[last + 1].astype(object)
        elif row["status"] == "P":
            suspended_from[i] = int(rng.integers(n_days // 2, n_days - 10))
        st_prefix = ("*ST" if rng.random() < 0.5 else "ST") if row["st"] else ""
        company = namer.name(ind.suffixes, st_prefix)
        owner = _OWNER_TYPES[int(rng.choice(len(_OWNER_TYPES), p=[0.55, 0.2, 0.12, 0.05, 0.08]))]
        area = _AREAS[int(rng.integers(len(_AREAS)))]
        act_name = {"民营企业": namer.person(), "外资企业": namer.person(), "地方国企": f"{area}省国资委",
                    "中央国企": "国务院国资委", "无": None}[owner]  # fmt: skip
        code = str(row["code"])
        records.append(
            {
                "ts_code": code,
                "symbol": code[:6],
                "name": company.name,
                "area": area,
                "industry": None if row["status"] == "G" else ind.label,
                "fullname": company.fullname,
                "enname": company.enname,
                "cnspell": company.cnspell,
                "market": board.market,
                "exchange": board.exchange,
                "curr_type": "CNY",
                "list_status": row["status"],
                "list_date": _ymd(list_day),
                "delist_date": _ymd(delist_date),
                "is_hs": _connect_flag(board, rng),
                "act_name": act_name,
                "act_ent_type": owner,
                "comp_type": ind.comp_type,
            }
        )
    frame = pd.DataFrame.from_records(records).astype(object)
    frame = frame.where(frame.notna(), None)
    board_idx = np.array([r["board"] for r in rows], dtype=np.int64)
    limit = np.array([BOARDS[b].limit for b in board_idx])
    is_st = np.array([bool(r["st"]) for r in rows])
    limit = np.where(is_st & np.isin(board_idx, list(main_boards)), ST_LIMIT, limit)
    return Universe(
        stock_basic=frame,
        board=board_idx,
        limit=limit,
        industry=np.array([r["industry"] for r in rows], dtype=np.int64),
        first_day=first_day,
        last_day=last_day,
        is_ipo=first_day > 0,
        suspended_from=suspended_from,
    )


def _ensure_company_types(
    rng: np.random.Generator, rows: list[dict[str, Any]], main_boards: set[int], special: set[int]
) -> None:
    """Every scale has a bank and a broker (and, from 100 stocks, an insurer): their statements differ."""
    wanted = ["2", "4"] + (["3"] if len(rows) >= 100 else [])
    present = {INDUSTRIES[int(r["industry"])].comp_type for r in rows}
    candidates = [
        i
        for i in rng.permutation(len(rows)).tolist()
        if rows[i]["board"] in main_boards
        and i not in special
        and INDUSTRIES[int(rows[i]["industry"])].comp_type == "1"
    ]
    for comp_type in wanted:
        if comp_type in present or not candidates:
            continue
        choices = [k for k, ind in enumerate(INDUSTRIES) if ind.comp_type == comp_type]
        rows[candidates.pop()]["industry"] = int(rng.choice(choices))


def _connect_flag(board: Board, rng: np.random.Generator) -> str:
    """is_hs: H (Shanghai Connect) / S (Shenzhen Connect) for a share of main-board and growth names."""
    if board.exchange == "BSE" or rng.random() < 0.5:
        return "N"
    return "H" if board.exchange == "SSE" else "S"


def _ymd(day: date | None) -> str | None:
    return None if day is None else day.strftime("%Y%m%d")
