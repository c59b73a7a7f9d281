"""alphahome.data.query / bars and ``alphahome query`` on hand-written tables, on both backends.

The adjusted prices are checked against numbers worked out by hand from the rule in
alphahome/data/bars.py (Tushare's pro_bar rule)."""

from __future__ import annotations

import datetime as dt
import json
import math

import pandas as pd
import pytest

from alphahome.cli import main
from alphahome.data import DataQueryError, bars, query
from alphahome.storage import open_sync
from alphahome.tasks.catalogue import table_spec

D = dt.date

# Two stocks over five trading days of one week and the Monday after. A.SZ has an ex-date on Thursday
# (factor 1.0 -> 2.0: the price halves); B.SH has a day with no factor row of its own (Wednesday).
DAILY = [
    # ts_code, trade_date, open, high, low, close, pre_close, change, pct_chg, vol, amount
    ("000001.SZ", D(2024, 1, 2), 10.0, 11.0, 9.5, 10.5, 10.0, 0.5, 5.0, 100.0, 1000.0),
    ("000001.SZ", D(2024, 1, 3), 10.5, 10.8, 10.1, 10.2, 10.5, -0.3, -2.857, 120.0, 1200.0),
    ("000001.SZ", D(2024, 1, 4), 5.1, 5.4, 5.0, 5.3, 5.1, 0.2, 3.9216, 300.0, 1590.0),
    ("000001.SZ", D(2024, 1, 5), 5.3, 5.6, 5.2, 5.5, 5.3, 0.2, 3.7736, 200.0, 1100.0),
    ("000001.SZ", D(2024, 1, 8), 5.5, 5.9, 5.4, 5.8, 5.5, 0.3, 5.4545, 250.0, 1450.0),
    ("600000.SH", D(2024, 1, 2), 20.0, 21.0, 19.0, 20.0, 20.0, 0.0, 0.0, 50.0, 1000.0),
    ("600000.SH", D(2024, 1, 3), 20.0, 22.0, 20.0, 22.0, 20.0, 2.0, 10.0, 60.0, 1300.0),
    ("600000.SH", D(2024, 1, 5), 22.0, 22.0, 21.0, 21.0, 22.0, -1.0, -4.5455, 40.0, 860.0),
]
FACTORS = [
    ("000001.SZ", D(2024, 1, 2), 1.0),
    ("000001.SZ", D(2024, 1, 3), 1.0),
    ("000001.SZ", D(2024, 1, 4), 2.0),
    ("000001.SZ", D(2024, 1, 5), 2.0),
    ("000001.SZ", D(2024, 1, 8), 2.0),
    ("600000.SH", D(2024, 1, 2), 3.0),
    # 2024-01-03 missing on purpose: the bar takes the previous factor (3.0).
    ("600000.SH", D(2024, 1, 5), 4.0),
]


@pytest.fixture
def warehouse(database_url):
    """A database holding the hand-written daily and adj_factor tables."""
    daily_cols = ["ts_code", "trade_date", "open", "high", "low", "close", "pre_close", "change", "pct_chg",
                  "vol", "amount"]
    with open_sync(database_url) as db:
        for name, rows, cols in (
            ("daily", DAILY, daily_cols),
            ("adj_factor", FACTORS, ["ts_code", "trade_date", "adj_factor"]),
        ):
            spec = table_spec(name)
            db.ensure_table(spec)
            db.upsert(spec, pd.DataFrame(rows, columns=cols))
    return database_url


def _close(frame: pd.DataFrame, code: str) -> list[float]:
    return frame.loc[frame["ts_code"] == code, "close"].round(6).tolist()


def test_query_filters_by_codes_dates_fields_and_columns(warehouse):
    df = query("daily", codes="600000.SH", start="20240103", end="2024-01-08", fields="ts_code,trade_date,close",
               db=warehouse)
    assert list(df.columns) == ["ts_code", "trade_date", "close"]
    assert df["trade_date"].dt.date.tolist() == [D(2024, 1, 3), D(2024, 1, 5)]
    assert df["close"].tolist() == [22.0, 21.0]
    # column filters: a value, or a list meaning any of them
    one = query("adj_factor", db=warehouse, adj_factor=2.0)
    assert sorted(one["trade_date"].dt.date) == [D(2024, 1, 4), D(2024, 1, 5), D(2024, 1, 8)]
    both = query("daily", db=warehouse, trade_date=["20240102", "20240105"])
    assert len(both) == 4
    table = query("daily", codes=["000001.SZ"], db=warehouse, as_arrow=True)
    assert table.num_rows == 5 and table.column_names[0] == "ts_code"


def test_query_rejects_what_it_does_not_know(warehouse):
    with pytest.raises(DataQueryError, match="unknown dataset 'dayly'"):
        query("dayly", db=warehouse)
    with pytest.raises(DataQueryError, match=r"unknown field.*closing"):
        query("daily", fields="closing", db=warehouse)
    with pytest.raises(DataQueryError, match="no column 'colour'"):
        query("daily", db=warehouse, colour="red")
    with pytest.raises(DataQueryError, match="start"):
        query("daily", start="2024-13-01", db=warehouse)
    with pytest.raises(DataQueryError, match="after end"):
        query("daily", start="20240105", end="20240102", db=warehouse)
    with pytest.raises(DataQueryError, match="not a double"):
        query("daily", db=warehouse, close="high")


def test_bars_unadjusted_daily_are_the_stored_rows(warehouse):
    df = bars(["000001.SZ", "600000.SH"], "20240101", "20240108", db=warehouse)
    assert list(df.columns) == ["ts_code", "trade_date", "open", "high", "low", "close", "pre_close", "change",
                                "pct_chg", "vol", "amount"]
    assert _close(df, "000001.SZ") == [10.5, 10.2, 5.3, 5.5, 5.8]


def test_hfq_multiplies_by_the_day_factor(warehouse):
    df = bars("000001.SZ,600000.SH", "20240101", "20240108", adjust="hfq", db=warehouse)
    # A: 10.5×1, 10.2×1, 5.3×2, 5.5×2, 5.8×2 (week high: 5.6×2 on Friday)
    assert _close(df, "000001.SZ") == [10.5, 10.2, 10.6, 11.0, 11.6]
    # B: 20×3, 22×3 (Wednesday has no factor row: Tuesday's 3.0 carries), 21×4
    assert _close(df, "600000.SH") == [60.0, 66.0, 84.0]
    b = df[df["ts_code"] == "600000.SH"].reset_index(drop=True)
    # pre_close is adjusted by the day's own factor; change and pct_chg are recomputed from the prices.
    assert b.loc[2, "pre_close"] == pytest.approx(88.0)
    assert b.loc[2, "change"] == pytest.approx(84.0 - 88.0)
    assert b.loc[2, "pct_chg"] == pytest.approx((84.0 - 88.0) / 88.0 * 100)
    assert b["vol"].tolist() == [50.0, 60.0, 40.0]  # volume is never adjusted


def test_qfq_divides_by_the_latest_factor_in_the_range(warehouse):
    df = bars("000001.SZ", "20240101", "20240108", adjust="qfq", db=warehouse)
    # latest factor in range 2.0: 10.5×1/2, 10.2×1/2, then the post-ex prices unchanged
    assert _close(df, "000001.SZ") == [5.25, 5.1, 5.3, 5.5, 5.8]
    # a range ending before the ex-date references that day's factor (1.0): prices unchanged
    early = bars("000001.SZ", "20240101", "20240103", adjust="qfq", db=warehouse)
    assert _close(early, "000001.SZ") == [10.5, 10.2]


def test_qfq_anchor_pins_the_reference_day(warehouse):
    # anchored on 2024-01-03 (factor 1.0): later bars are scaled up, earlier ones unchanged
    df = bars("000001.SZ", "20240101", "20240108", adjust="qfq", anchor="2024-01-03", db=warehouse)
    assert _close(df, "000001.SZ") == [10.5, 10.2, 10.6, 11.0, 11.6]
    # B anchored on a day without a factor row (2024-01-04): its latest factor on or before is 3.0
    b = bars("600000.SH", "20240101", "20240108", adjust="qfq", anchor="20240104", db=warehouse)
    assert _close(b, "600000.SH") == [20.0, 22.0, 28.0]


def test_digits_reproduce_pro_bar_rounding(warehouse):
    df = bars("600000.SH", "20240101", "20240108", adjust="qfq", digits=2, db=warehouse)
    # 20×3/4 = 15.0, 22×3/4 = 16.5, 21×4/4 = 21.0; pre_close on Wednesday 20×3/4 = 15.0
    assert _close(df, "600000.SH") == [15.0, 16.5, 21.0]
    assert df["pct_chg"].tolist()[1] == 10.0


def test_weekly_and_monthly_bars_aggregate_the_adjusted_days(warehouse):
    week = bars("000001.SZ", "20240101", "20240108", freq="W", adjust="hfq", db=warehouse)
    assert week["trade_date"].dt.date.tolist() == [D(2024, 1, 5), D(2024, 1, 8)]
    first = week.iloc[0]
    assert (first["open"], first["high"], first["low"], first["close"]) == (10.0, 11.2, 9.5, 11.0)
    assert first["pre_close"] == 10.0 and first["vol"] == 720.0 and first["amount"] == 4890.0
    assert first["pct_chg"] == pytest.approx(10.0)
    month = bars("000001.SZ", "20240101", "20240131", freq="M", db=warehouse)
    assert len(month) == 1
    row = month.iloc[0]
    assert row["trade_date"].date() == D(2024, 1, 8)
    assert (row["open"], row["close"], row["high"], row["low"]) == (10.0, 5.8, 11.0, 5.0)


def test_bars_bad_arguments_are_clear_errors(warehouse):
    with pytest.raises(DataQueryError, match="freq"):
        bars("000001.SZ", "20240101", "20240108", freq="Q", db=warehouse)
    with pytest.raises(DataQueryError, match="adjust"):
        bars("000001.SZ", "20240101", "20240108", adjust="both", db=warehouse)
    with pytest.raises(DataQueryError, match="anchor"):
        bars("000001.SZ", "20240101", "20240108", anchor="20240102", db=warehouse)


def run_cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exit_info:
        main(args)
    captured = capsys.readouterr()
    return int(exit_info.value.code or 0), captured.out, captured.err


def test_query_command_prints_csv_table_and_parquet(warehouse, tmp_path, monkeypatch, capsys):
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"database": {"url": warehouse}}))
    base = ["query", "--config", str(config)]
    code, out, err = run_cli([*base, "daily", "--codes", "600000.SH", "--fields", "ts_code,trade_date,close",
                              "--format", "csv"], capsys)
    assert code == 0, err
    assert out.splitlines() == ["ts_code,trade_date,close", "600000.SH,2024-01-02,20.0",
                                "600000.SH,2024-01-03,22.0", "600000.SH,2024-01-05,21.0"]
    parquet = tmp_path / "f.parquet"
    code, out, err = run_cli([*base, "adj_factor", "--where", "ts_code=000001.SZ", "--start-date", "20240104",
                              "--format", "parquet", "--output", str(parquet)], capsys)
    assert code == 0, err
    assert pd.read_parquet(parquet)["adj_factor"].tolist() == [2.0, 2.0, 2.0]
    code, out, err = run_cli([*base, "daily", "--where", "nonsense=1"], capsys)
    assert code == 2 and "no column 'nonsense'" in err
    code, out, err = run_cli([*base, "daily", "--format", "parquet"], capsys)
    assert code == 2 and "--output" in err


def test_nan_never_guessed_without_factors(database_url):
    with open_sync(database_url) as db:
        spec = table_spec("daily")
        db.ensure_table(spec)
        db.upsert(spec, pd.DataFrame([DAILY[0]], columns=spec.column_names[:11]))
        db.ensure_table(table_spec("adj_factor"))
    df = bars("000001.SZ", "20240101", "20240108", adjust="hfq", db=database_url)
    assert math.isnan(df.loc[0, "close"])


def test_unadjusted_bars_can_carry_the_factor(warehouse):
    df = bars("600000.SH", "20240101", "20240108", adj_factor=True, db=warehouse)
    assert df["close"].tolist() == [20.0, 22.0, 21.0]  # unadjusted
    assert df["adj_factor"].tolist() == [3.0, 3.0, 4.0]  # Wednesday takes Tuesday's factor
