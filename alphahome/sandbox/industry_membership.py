"""Shenwan industry membership over time: each stock's L3 industry from its listing, with some stocks
reclassified inside the range (the old row gets ``out_date`` and ``is_new='N'``, the new row starts that
day with ``is_new='Y'``). Intervals are ``[in_date, out_date)``; a delisted stock's last one ends at its
delisting date."""

from __future__ import annotations

import numpy as np
import pandas as pd

from alphahome.sandbox.sw2021 import INDUSTRIES, Industry
from alphahome.sandbox.trading_calendar import yyyymmdd
from alphahome.sandbox.universe import Universe

MEMBER_ALL_COLUMNS = ["l1_code", "l1_name", "l2_code", "l2_name", "l3_code", "l3_name", "ts_code", "name",
                      "in_date", "out_date", "is_new"]  # fmt: skip


def build_member_all(seed: int, universe: Universe, days: np.ndarray) -> tuple[pd.DataFrame, np.ndarray]:
    """(``index_member_all`` rows, each stock's current industry index)."""
    rng = np.random.default_rng([seed, 8])
    basic = universe.stock_basic
    n = len(universe)
    current = universe.industry.copy()
    rows: list[list[object]] = []
    movable = np.flatnonzero(
        (basic["list_status"].to_numpy() != "G")
        & (universe.last_day - np.maximum(universe.first_day, 0) > 30)
    )
    n_moves = min(len(movable), max(2, round(n * 0.08)))
    movers = set(rng.choice(movable, size=n_moves, replace=False).tolist()) if n_moves else set()
    statuses, codes, names = (basic[c].to_numpy() for c in ("list_status", "ts_code", "name"))
    list_dates, delist_dates = basic["list_date"].to_numpy(), basic["delist_date"].to_numpy()
    for s in range(n):
        if statuses[s] == "G":
            continue
        code, name, in_date = codes[s], names[s], list_dates[s]
        industry = int(universe.industry[s])
        if s in movers:
            lo, hi = max(int(universe.first_day[s]), 0) + 10, int(universe.last_day[s]) - 5
            moves = 2 if rng.random() < 0.15 and hi - lo > 60 else 1
            for move_day in sorted(rng.choice(np.arange(lo, hi), size=moves, replace=False).tolist()):
                out_date = str(yyyymmdd(days[move_day : move_day + 1])[0])
                rows.append(_row(INDUSTRIES[industry], code, name, in_date, out_date, "N"))
                industry = _reclassify(rng, industry)
                in_date = out_date
        delist = delist_dates[s]
        rows.append(_row(INDUSTRIES[industry], code, name, in_date, delist, "N" if delist else "Y"))
        current[s] = industry
    frame = pd.DataFrame(rows, columns=MEMBER_ALL_COLUMNS, dtype=object)
    return frame, current


def _reclassify(rng: np.random.Generator, industry: int) -> int:
    """Another L3 of the same company type (a bank stays a bank), preferring the same L1."""
    old = INDUSTRIES[industry]
    same_type = [i for i, ind in enumerate(INDUSTRIES) if ind.comp_type == old.comp_type and i != industry]
    if not same_type:
        return industry
    same_l1 = [i for i in same_type if INDUSTRIES[i].l1_code == old.l1_code]
    pool = same_l1 if same_l1 and rng.random() < 0.6 else same_type
    return int(rng.choice(pool))


def _row(
    ind: Industry, code: str, name: str, in_date: str, out_date: str | None, is_new: str
) -> list[object]:
    return [ind.l1_code, ind.l1_name, ind.l2_code, ind.l2_name, ind.l3_code, ind.l3_name, code, name,
            in_date, out_date, is_new]  # fmt: skip


def member_frame(member_all: pd.DataFrame) -> pd.DataFrame:
    """``index_member`` rows (the older API): memberships of every level's index, consecutive intervals
    in the same index merged."""
    ordered = member_all.sort_values(["ts_code", "in_date"], kind="stable").reset_index(drop=True)
    stock = ordered["ts_code"].to_numpy()
    parts = []
    for level in ("l1", "l2", "l3"):
        code = ordered[f"{level}_code"].to_numpy()
        starts = (
            np.r_[True, (stock[1:] != stock[:-1]) | (code[1:] != code[:-1])]
            if len(code)
            else np.zeros(0, bool)
        )
        first = np.flatnonzero(starts)
        last = np.r_[first[1:] - 1, len(code) - 1] if len(first) else first
        parts.append(
            pd.DataFrame(
                {
                    "index_code": code[first],
                    "index_name": ordered[f"{level}_name"].to_numpy()[first],
                    "con_code": stock[first],
                    "con_name": ordered["name"].to_numpy()[first],
                    "in_date": ordered["in_date"].to_numpy()[first],
                    "out_date": ordered["out_date"].to_numpy()[last],
                    "is_new": ordered["is_new"].to_numpy()[last],
                },
                dtype=object,
            )
        )
    return pd.concat(parts, ignore_index=True)
