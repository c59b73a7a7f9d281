"""The sharp edges of DESIGN.md §4 as small hand-made cases with the expected numbers written out, and the
sandbox market's own hard cases (restatements, late reports, NULL dates, express/forecast ahead) against
the oracle, on both backends."""

from __future__ import annotations

import math
from datetime import date
from typing import Any

import pandas as pd
import pytest
from test_pit_oracle import Oracle, assert_frame_matches, build_database

from alphahome.pit import query as pq

D = date.fromisoformat


def _income(code: str, end: str, ann: str | None, f_ann: str | None, flag: str = "1", **values: float) -> dict:
    return {"ts_code": code, "end_date": D(end), "ann_date": ann and D(ann), "f_ann_date": f_ann and D(f_ann),
            "report_type": "1", "update_flag": flag, **values}


def hand_made() -> dict[str, pd.DataFrame]:
    income = pd.DataFrame([
        # A: Q1, forecast then express then report for Q2, a Q2 restatement, Q3, no Q4, then Q1 2021
        _income("A", "2020-03-31", "2020-04-25", "2020-04-25", revenue=100.0, n_income_attr_p=10.0),
        _income("A", "2020-06-30", "2020-08-25", "2020-08-25", "0", revenue=250.0, n_income_attr_p=21.0),
        _income("A", "2020-06-30", "2020-08-25", "2020-12-01", "1", revenue=260.0, n_income_attr_p=None),
        _income("A", "2020-09-30", "2020-10-28", "2020-10-28", "1", revenue=400.0),
        _income("A", "2020-09-30", "2020-10-27", "2020-10-28", "0", revenue=999.0),  # same day, flag 0: loses
        _income("A", "2021-03-31", "2021-04-20", None, revenue=120.0),  # no f_ann_date: known from ann_date
        _income("A", "2021-06-30", None, None, revenue=777.0),  # no date at all: never known
        # B: four contiguous quarters, then Q1 2020
        _income("B", "2019-03-31", "2019-04-20", "2019-04-20", revenue=10.0),
        _income("B", "2019-06-30", "2019-08-20", "2019-08-20", revenue=25.0),
        _income("B", "2019-09-30", "2019-10-20", "2019-10-20", revenue=45.0),
        _income("B", "2019-12-31", "2020-03-20", "2020-03-20", revenue=70.0),
        _income("B", "2020-03-31", "2020-04-20", "2020-04-20", revenue=12.0),
        # B's consolidated-before-adjustment row must be ignored
        {**_income("B", "2020-03-31", "2020-04-20", "2020-04-01", revenue=1e9), "report_type": "4"},
    ])
    express = pd.DataFrame([
        {"ts_code": "A", "end_date": D("2020-06-30"), "ann_date": D("2020-07-20"), "revenue": 240.0,
         "n_income": 22.0, "update_flag": "1"},
        {"ts_code": "A", "end_date": D("2020-09-30"), "ann_date": D("2020-10-28"), "revenue": 405.0,
         "update_flag": "1"},  # same day as the report: the report wins
    ])
    forecast = pd.DataFrame([
        {"ts_code": "A", "end_date": D("2020-06-30"), "ann_date": D("2020-07-10"), "net_profit_min": 20.0,
         "net_profit_max": 30.0, "update_flag": "1"},
    ])
    members = pd.DataFrame([
        {"ts_code": "A", "l1_code": "X", "l1_name": "Xs", "l2_code": "X1", "l2_name": "X1s", "l3_code": "X11",
         "l3_name": "X11s", "in_date": D("2019-01-01"), "out_date": D("2020-06-01")},
        {"ts_code": "A", "l1_code": "Y", "l1_name": "Ys", "l2_code": "Y1", "l2_name": "Y1s", "l3_code": "Y11",
         "l3_name": "Y11s", "in_date": D("2020-06-01"), "out_date": None},
    ])
    cal = [date(2019, 1, 1) + pd.Timedelta(days=i) for i in range(800)]
    return {
        "income": income, "express": express, "forecast": forecast, "index_member_all": members,
        "balancesheet": pd.DataFrame(columns=["ts_code", "end_date", "ann_date", "f_ann_date", "report_type",
                                              "update_flag"]),
        "trade_cal": pd.DataFrame({"exchange": "SSE", "cal_date": cal,
                                   "is_open": [1 if d.weekday() < 5 else 0 for d in cal]}),
    }


def row(db: Any, code: str, day: str, fields: list[str], period: str | None = None) -> dict[str, Any] | None:
    if period:
        df = pq.period_as_of("income", period, day, codes=[code], fields=fields, db=db)
    else:
        df = pq.as_of("income", day, codes=[code], fields=fields, db=db)
    if df.empty:
        return None
    rec = df.iloc[0].to_dict()
    return {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in rec.items()}


def test_hand_made_cases(database_url: str) -> None:
    from alphahome.storage import open_sync

    build_database(database_url, hand_made())
    with open_sync(database_url) as db:
        f = ["revenue", "n_income_attr_p", "n_income"]
        assert row(db, "A", "2020-04-24", f) is None  # nothing before the first knowledge date
        r = row(db, "A", "2020-07-09", f)
        assert r and r["end_date"] == pd.Timestamp("2020-03-31") and r["revenue_sq"] == 100.0
        assert r["revenue_ttm"] is None  # no earlier quarters: no TTM

        r = row(db, "A", "2020-07-10", f)  # the forecast makes Q2 the latest period
        assert r and r["end_date"] == pd.Timestamp("2020-06-30")
        assert r["knowledge_date"] == pd.Timestamp("2020-07-10")
        assert r["revenue"] is None and r["n_income_attr_p"] == 250000.0  # (20 + 30) / 2 × 10 000
        assert r["n_income_attr_p_sq"] == 250000.0 - 10.0

        r = row(db, "A", "2020-07-20", f)  # express: revenue and n_income, the forecast's profit stays
        assert r and r["revenue"] == 240.0 and r["revenue_sq"] == 140.0 and r["n_income"] == 22.0
        assert r["n_income_attr_p"] == 250000.0

        r = row(db, "A", "2020-08-25", f)  # the report supersedes both, field by field
        assert r and r["revenue"] == 250.0 and r["n_income_attr_p"] == 21.0 and r["n_income"] == 22.0

        r = row(db, "A", "2020-11-30", f)  # Q3; the same-day flag-0 row and same-day express lose
        assert r and r["end_date"] == pd.Timestamp("2020-09-30") and r["revenue"] == 400.0
        assert r["revenue_sq"] == 150.0
        r = row(db, "A", "2020-12-01", f)  # Q2 restated that day: Q3's single quarter changes from then on
        assert r and r["revenue_sq"] == 140.0 and r["knowledge_date"] == pd.Timestamp("2020-10-28")
        assert row(db, "A", "2020-09-01", f, period="2020-06-30")["revenue"] == 250.0  # type: ignore[index]
        r = row(db, "A", "2020-12-01", f, period="2020-06-30")
        assert r and r["revenue"] == 260.0 and r["n_income_attr_p"] == 21.0  # restatement left it NULL

        r = row(db, "A", "2021-04-20", f)  # ann_date stands in for the missing f_ann_date
        assert r and r["end_date"] == pd.Timestamp("2021-03-31") and r["revenue_sq"] == 120.0
        assert r["revenue_ttm"] is None  # Q4 2020 missing: no TTM
        r = row(db, "A", "2030-01-01", f)  # the undated 2021-06-30 row is never known
        assert r and r["end_date"] == pd.Timestamp("2021-03-31")

        r = row(db, "B", "2020-03-20", f)
        assert r and r["revenue_ttm"] == 70.0 and r["revenue_sq"] == 25.0
        r = row(db, "B", "2020-04-20", f)
        assert r and r["revenue"] == 12.0 and r["revenue_ttm"] == 12.0 + 25.0 + 20.0 + 15.0
        assert row(db, "B", "2020-04-19", f, period="2020-03-31") is None  # report_type 4 ignored

        ind = pq.industry_as_of("2020-05-31", db=db)
        assert ind.set_index("ts_code").loc["A", "l1_code"] == "X"
        ind = pq.industry_as_of("2020-06-01", level=3, db=db)
        assert ind.to_dict("records") == [{"ts_code": "A", "l3_code": "Y11", "l3_name": "Y11s"}]

        panel = pq.series("income", "revenue_sq", ["A"], "2020-11-27", "2020-12-02", db=db)
        assert list(panel["A"]) == [150.0, 150.0, 140.0, 140.0]  # Fri, Mon | Tue 1 Dec, Wed

        # the SQL functions (PostgreSQL) / table macros (DuckDB) give the same answers from a SQL shell
        day = "CAST('2020-12-01' AS DATE)"
        sql = db.fetch_df(f"SELECT ts_code, end_date, revenue_sq FROM pit.income_as_of({day}) ORDER BY ts_code")
        api = pq.as_of("income", "2020-12-01", fields=["revenue"], db=db)
        assert sql["ts_code"].tolist() == api["ts_code"].tolist() == ["A", "B"]
        assert sql["revenue_sq"].tolist() == api["revenue_sq"].tolist()
        sql = db.fetch_df(f"SELECT revenue FROM pit.income_period_as_of(CAST('2020-06-30' AS DATE), {day})")
        assert sql["revenue"].tolist() == [260.0]
        sql = db.fetch_df("SELECT ts_code, l1_code FROM pit.industry_as_of(CAST('2020-05-31' AS DATE))")
        assert sql.to_dict("records") == [{"ts_code": "A", "l1_code": "X"}]
        # A's express versions are balance versions too, but empty ones here: no balance field is known, so
        # no period of A answers a balance query (the latest-report rule), while the period itself exists
        bal = db.fetch_df(f"SELECT ts_code, end_date, total_assets FROM pit.balance_as_of({day})")
        assert bal.empty and pq.as_of("balance", "2020-12-01", db=db).empty
        assert len(pq.period_as_of("balance", "2020-09-30", "2020-12-01", db=db)) == 1
        assert db.fetch_df(f"SELECT * FROM pit.indicators_period_as_of({day}, {day})").empty


def _typed(raw: pd.DataFrame) -> pd.DataFrame:
    out = raw.copy()
    for col in out.columns:
        if col.endswith("_date") or col in ("cal_date", "in_date", "out_date"):
            out[col] = [None if not v else date(int(v[:4]), int(v[4:6]), int(v[6:8])) for v in out[col]]
    return out


@pytest.mark.slow
def test_sandbox_market_matches_oracle(database_url: str) -> None:
    """The sandbox's small market (restatements, late reports, NULL dates, duplicates, express and forecast
    ahead of reports, industry moves) through storage, the SQL answers against the oracle."""
    from alphahome.sandbox.market import Market
    from alphahome.storage import open_sync

    market = Market(seed=11, scale="small", end_date=date(2024, 6, 28))
    names = ("income", "balancesheet", "express", "forecast", "fina_indicator", "index_member_all", "trade_cal")
    raw = {name: market.truth(name) for name in names}
    build_database(database_url, raw)
    oracle = Oracle({name: _typed(df) for name, df in raw.items()})
    stocks = sorted(set(raw["income"]["ts_code"]))
    ks = oracle.knowledge_dates()
    days = sorted(set(ks[::7] + [k - pd.Timedelta(days=1) for k in ks[3::7]]))
    with open_sync(database_url) as db:
        for table in ("income_quarterly", "balance_quarterly", "financial_indicators"):
            for day in days:
                got = pq.as_of(table, day, db=db)
                expected = {s: r for s in stocks if (r := oracle.as_of(table, s, day)) is not None}
                assert_frame_matches(got, expected, f"sandbox as_of({table}, {day})")
        for day in days[::3]:
            got = pq.industry_as_of(day, db=db)
            expected = {}
            for s in set(raw["index_member_all"]["ts_code"]):
                m = oracle.industry(s, day)
                if m is not None:
                    expected[s] = {"l1_code": m["l1_code"], "l3_code": m["l3_code"]}
            assert_frame_matches(got, expected, f"sandbox industry_as_of({day})")
