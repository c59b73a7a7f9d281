"""The PIT query contract (docs/pit.md), with hand-written rows and the answers written out, on both backends:
the latest report is the newest period answering the query's fields, ``--fields`` on every table (f_sq/f_ttm
and industry columns included), CSV numbers at their stored precision, and the table output aligned by
display width."""

from __future__ import annotations

import io
import math
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from rich.cells import cell_len
from test_pit_oracle import build_database

from alphahome.cli import main
from alphahome.pit import query as pq
from alphahome.pit.output import csv_number, render_table

D = date.fromisoformat
X, Y = "000001.SZ", "600000.SH"


def _income(code: str, end: str, ann: str, **values: float | None) -> dict[str, Any]:
    return {"ts_code": code, "end_date": D(end), "ann_date": D(ann), "f_ann_date": D(ann), "report_type": "1",
            "update_flag": "1", **values}


def _indicator(end: str, ann: str, flag: str = "1", **values: float | None) -> dict[str, Any]:
    return {"ts_code": X, "end_date": D(end), "ann_date": D(ann), "update_flag": flag, **values}


def contract_rows() -> dict[str, pd.DataFrame]:
    """X: Q3 2020 reported with its indicators (eps only in the first version), an FY 2020 express report in
    January, FY indicators in March without eps. Y: four quarters of 2019, Q1 and Q2 2020 (the Q2 single
    quarter carries float noise), then a Q3 2020 forecast of net profit only."""
    income = pd.DataFrame([
        _income(X, "2020-06-30", "2020-08-20", revenue=600.0, n_income_attr_p=60.0),
        _income(X, "2020-09-30", "2020-10-28", revenue=900.0, n_income_attr_p=90.0),
        _income(Y, "2019-03-31", "2019-04-20", revenue=100.0, n_income_attr_p=10.0),
        _income(Y, "2019-06-30", "2019-08-20", revenue=250.0, n_income_attr_p=None),  # a NULL field
        _income(Y, "2019-09-30", "2019-10-20", revenue=450.0, n_income_attr_p=40.0),
        _income(Y, "2019-12-31", "2020-03-20", revenue=700.0, n_income_attr_p=70.0),
        _income(Y, "2020-03-31", "2020-04-20", revenue=640000000.0, n_income_attr_p=20.0),
        _income(Y, "2020-06-30", "2020-08-20", revenue=1000774048.45, n_income_attr_p=50.0),
    ])
    express = pd.DataFrame([
        {"ts_code": X, "end_date": D("2020-12-31"), "ann_date": D("2021-01-20"), "revenue": 1300.0,
         "update_flag": "1"},
    ])
    forecast = pd.DataFrame([
        {"ts_code": Y, "end_date": D("2020-09-30"), "ann_date": D("2020-10-10"), "net_profit_min": 7.0,
         "net_profit_max": 9.0, "update_flag": "1"},
    ])
    fina = pd.DataFrame([
        _indicator("2020-09-30", "2020-10-28", roe=5.0, eps=0.3),
        # a restatement of Q3's indicators that carries roe but not eps: eps stays known from the first
        _indicator("2020-09-30", "2020-12-15", roe=5.5, eps=None),
        _indicator("2020-12-31", "2021-03-25", roe=8.0, eps=None),  # FY: eps never published
    ])
    members = pd.DataFrame([
        {"ts_code": X, "l1_code": "801780.SI", "l1_name": "银行", "l2_code": "801783.SI",
         "l2_name": "股份制银行Ⅱ", "l3_code": "857831.SI", "l3_name": "股份制银行Ⅲ", "in_date": D("2019-01-01"),
         "out_date": None},
        {"ts_code": Y, "l1_code": "801010.SI", "l1_name": "农林牧渔", "l2_code": "801016.SI",
         "l2_name": "种植业", "l3_code": "850111.SI", "l3_name": "种子", "in_date": D("2019-01-01"),
         "out_date": None},
    ])
    cal = [date(2019, 1, 1) + pd.Timedelta(days=i) for i in range(900)]
    return {
        "income": income, "express": express, "forecast": forecast, "fina_indicator": fina,
        "index_member_all": members,
        "balancesheet": pd.DataFrame(columns=["ts_code", "end_date", "ann_date", "f_ann_date", "report_type",
                                              "update_flag"]),
        "trade_cal": pd.DataFrame({"exchange": "SSE", "cal_date": cal,
                                   "is_open": [1 if d.weekday() < 5 else 0 for d in cal]}),
    }


def _plain(v: Any) -> Any:
    if isinstance(v, float) and math.isnan(v):
        return None
    if isinstance(v, pd.Timestamp):
        return v.date().isoformat()
    return v


def answer(db: Any, table: str, day: str, fields: list[str] | None, code: str = X) -> dict[str, Any] | None:
    df = pq.as_of(table, day, codes=[code], fields=fields, db=db)
    return None if df.empty else {k: _plain(v) for k, v in df.iloc[0].to_dict().items()}


@pytest.fixture
def contract_db(database_url: str) -> str:
    build_database(database_url, contract_rows())
    return database_url


def test_latest_report_answers_the_fields_asked(contract_db: str) -> None:
    from alphahome.storage import open_sync

    with open_sync(contract_db) as db:
        # Before the express report: Q3, with eps from the version before the restatement
        assert answer(db, "indicators", "2021-01-19", ["roe", "eps"]) == {
            "ts_code": X, "end_date": "2020-09-30", "knowledge_date": "2020-12-15", "roe": 5.5, "eps": 0.3}
        # The FY express report is out: it answers revenue, so income's latest is FY ...
        assert answer(db, "income", "2021-02-01", ["revenue"]) == {
            "ts_code": X, "end_date": "2020-12-31", "knowledge_date": "2021-01-20", "revenue": 1300.0,
            "revenue_sq": 400.0, "revenue_ttm": None}
        # ... but not net profit: Q3 stays the answer for it (an express-only newer period hides nothing)
        assert answer(db, "income", "2021-02-01", ["n_income_attr_p"]) == {
            "ts_code": X, "end_date": "2020-09-30", "knowledge_date": "2020-10-28", "n_income_attr_p": 90.0,
            "n_income_attr_p_sq": 30.0, "n_income_attr_p_ttm": None}
        # ... nor the indicators asked for: roe and eps still come from Q3
        assert answer(db, "indicators", "2021-02-01", ["roe", "eps"]) == {
            "ts_code": X, "end_date": "2020-09-30", "knowledge_date": "2020-12-15", "roe": 5.5, "eps": 0.3}
        # No field named: every field of the table counts; FY's indicator row has none yet (no FY
        # fina_indicator, and no year-ago or four quarters for the derived ones), so Q3 it is
        whole = answer(db, "indicators", "2021-02-01", None)
        assert whole and whole["end_date"] == "2020-09-30" and whole["roe"] == 5.5
        # FY indicators published without eps: roe comes from FY, eps alone still from Q3, both together
        # from FY (one of them answers) with eps empty
        assert answer(db, "indicators", "2021-03-25", ["roe"]) == {
            "ts_code": X, "end_date": "2020-12-31", "knowledge_date": "2021-03-25", "roe": 8.0}
        assert answer(db, "indicators", "2021-03-25", ["eps"]) == {
            "ts_code": X, "end_date": "2020-09-30", "knowledge_date": "2020-12-15", "eps": 0.3}
        assert answer(db, "indicators", "2021-03-25", ["roe", "eps"]) == {
            "ts_code": X, "end_date": "2020-12-31", "knowledge_date": "2021-03-25", "roe": 8.0, "eps": None}

        # The whole cross-section at once: X by its fallback period, Y (no indicators at all) absent
        cross = pq.as_of("indicators", "2021-02-01", fields="roe,eps", db=db)
        assert cross[["ts_code", "roe"]].to_dict("records") == [{"ts_code": X, "roe": 5.5}]

        # The SQL functions answer with every field of the table, like as_of without fields. Y has no
        # fina_indicator, but its Q3 forecast gives a derived indicator (net profit year on year)
        sql = db.fetch_df("SELECT ts_code, end_date, roe, n_income_attr_p_yoy "
                          "FROM pit.indicators_as_of(CAST('2021-02-01' AS DATE))")
        assert [tuple(_plain(v) for v in r) for r in sql.itertuples(index=False)] == [
            (X, "2020-09-30", 5.5, None), (Y, "2020-09-30", None, 100.0 * (80000.0 - 40.0) / 40.0)]
        api = pq.as_of("indicators", "2021-02-01", db=db)
        assert api["end_date"].tolist() == sql["end_date"].tolist()
        sql = db.fetch_df("SELECT ts_code, end_date FROM pit.income_as_of(CAST('2021-02-01' AS DATE)) "
                          "ORDER BY ts_code")
        assert [(r.ts_code, _plain(r.end_date)) for r in sql.itertuples()] == [
            (X, "2020-12-31"), (Y, "2020-09-30")]

        # series() applies the same rule day by day: roe switches to FY on the day FY's roe is known,
        # not on the express report's day
        panel = pq.series("indicators", "roe", [X], "2021-01-19", "2021-03-26", db=db)
        assert panel.loc["2021-01-19", X] == 5.5 and panel.loc["2021-01-21", X] == 5.5
        assert panel.loc["2021-03-24", X] == 5.5 and panel.loc["2021-03-25", X] == 8.0
        revenue = pq.series("income", "revenue", [X], "2021-01-19", "2021-01-21", db=db)
        assert revenue[X].tolist() == [900.0, 1300.0, 1300.0]


def test_single_quarter_and_ttm_columns(contract_db: str) -> None:
    from alphahome.storage import open_sync

    with open_sync(contract_db) as db:
        # Q3 2020 is known only through a forecast of net profit: revenue's columns answer from Q2
        assert answer(db, "income", "2020-10-12", ["revenue_ttm"], Y) == {
            "ts_code": Y, "end_date": "2020-06-30", "knowledge_date": "2020-08-20",
            "revenue_ttm": pytest.approx(1000774048.45 + 700.0 - 250.0)}
        got = answer(db, "income", "2020-10-12", ["n_income_attr_p_sq", "revenue_sq"], Y)
        assert got == {"ts_code": Y, "end_date": "2020-09-30", "knowledge_date": "2020-10-10",
                       "n_income_attr_p_sq": 80000.0 - 50.0, "revenue_sq": None}
        # Q2 2019 has no net profit: Q3 2019's single quarter and TTM through it are NULL, not guessed
        q3 = pq.period_as_of("income", "2019-09-30", "2020-01-01", codes=[Y], fields=["n_income_attr_p_sq"],
                             db=db)
        assert list(q3.columns) == ["ts_code", "end_date", "knowledge_date", "n_income_attr_p_sq"]
        assert q3["n_income_attr_p_sq"].isna().all()
        # industry: a subset of the classification columns, in the order asked
        ind = pq.industry_as_of("2020-01-01", fields=["l1_name", "l3_code"], db=db)
        assert ind.to_dict("records") == [{"ts_code": X, "l1_name": "银行", "l3_code": "857831.SI"},
                                          {"ts_code": Y, "l1_name": "农林牧渔", "l3_code": "850111.SI"}]


def test_unknown_fields_name_the_field_and_the_valid_ones() -> None:
    with pytest.raises(pq.PitQueryError, match=r"revenue_ttmm.*valid: .*revenue_ttm"):
        pq.output_columns("income_quarterly", ["revenue_ttmm"])
    with pytest.raises(pq.PitQueryError, match=r"basic_eps_ttm"):  # not a flow item: no TTM
        pq.output_columns("income_quarterly", ["basic_eps_ttm"])
    with pytest.raises(pq.PitQueryError, match=r"l4_name.*valid: l1_code, l1_name"):
        pq.industry_columns(["l4_name"])
    assert pq.query_columns("industry_classification", ["l2_code"]) == ["l2_code"]
    assert pq.rule_fields("income_quarterly", ["revenue_ttm", "revenue", "n_income_sq"]) == ["revenue", "n_income"]


# ---------------------------------------------------------------------------------------------------------
# the command line: --fields everywhere, CSV precision, table alignment


def run_cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exit_info:
        main(args)
    out, err = capsys.readouterr()
    return int(exit_info.value.code or 0), out, err


@pytest.fixture
def cli_db(duckdb_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> str:
    config = tmp_path / "config.json"
    config.write_text("{}")
    monkeypatch.setenv("ALPHAHOME_CONFIG", str(config))
    build_database(duckdb_url, contract_rows())
    monkeypatch.setenv("DATABASE_URL", duckdb_url)
    return duckdb_url


def test_cli_fields_and_csv_precision(cli_db: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(["pit", "query", "--table", "income", "--date", "2020-09-01", "--codes", Y,
                            "--fields", "revenue_sq,revenue_ttm", "--format", "csv"], capsys)
    assert code == 0
    assert out.splitlines() == [
        "ts_code,end_date,knowledge_date,revenue_sq,revenue_ttm",
        # 1000774048.45 − 640000000 is 360774048.45000005 in binary floating point
        f"{Y},2020-06-30,2020-08-20,360774048.45,1000774498.45",
    ]
    code, out, _ = run_cli(["pit", "query", "--table", "industry", "--date", "2020-01-01", "--fields",
                            "l3_code,l1_name", "--format", "csv"], capsys)
    assert code == 0
    assert out.splitlines() == ["ts_code,l3_code,l1_name", f"{X},857831.SI,银行", f"{Y},850111.SI,农林牧渔"]

    code, _, err = run_cli(["pit", "query", "--table", "income", "--date", "2020-09-01",
                            "--fields", "revenue,revenue_ttmm"], capsys)
    assert code == 2 and "revenue_ttmm" in err and "revenue_ttm," in err


@pytest.mark.parametrize(("value", "text"), [
    (360774048.45000005, "360774048.45"), (0.1 + 0.2, "0.3"), (-5.0, "-5"), (1e-7, "0.0000001"),
    (12.345678901234567, "12.3456789012346"), (1.5e17, "150000000000000000"), (float("nan"), ""),
])
def test_csv_numbers(value: float, text: str) -> None:
    assert csv_number(value) == text


def test_table_aligns_chinese_names_by_display_width() -> None:
    frame = pd.DataFrame({
        "ts_code": [X, Y, "688001.SH"],
        "l1_name": ["银行", "农林牧渔", "Bank"],
        "l2_name": ["股份制银行Ⅱ", "种植业", None],
        "revenue": [1300.0, float("nan"), 360774048.45000005],
    })
    for width in (40, 200):  # a narrow terminal does not squeeze or wrap the table
        lines = render_table(frame, width).splitlines()
        assert len(lines) == 4
        header = lines[0]
        starts = [cell_len(header[: header.index(name)]) for name in ("l1_name", "l2_name")]
        for line, row in zip(lines[1:], frame.itertuples(), strict=True):
            # every cell begins at its header's display column, whatever the width of the text before it
            assert cell_len(line[: line.index(row.l1_name)]) == starts[0], line
            if isinstance(row.l2_name, str):
                assert cell_len(line[: line.index(row.l2_name)]) == starts[1], line
        # numbers are right-aligned: the rows with a value end at the same display column
        assert cell_len(lines[1]) == cell_len(lines[3])
        assert "360774048.45" in lines[3] and "1300" in lines[1]


def test_cli_table_output(cli_db: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(["pit", "query", "--table", "industry", "--date", "2020-01-01",
                            "--fields", "l1_name,l2_name"], capsys)
    assert code == 0
    rows = [line.split() for line in out.splitlines()]
    assert rows == [["ts_code", "l1_name", "l2_name"], [X, "银行", "股份制银行Ⅱ"], [Y, "农林牧渔", "种植业"]]


def test_csv_of_empty_answer(cli_db: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(["pit", "query", "--table", "indicators", "--date", "2000-01-01", "--fields", "roe",
                            "--format", "csv"], capsys)
    assert code == 0 and pd.read_csv(io.StringIO(out)).columns.tolist() == [
        "ts_code", "end_date", "knowledge_date", "roe"]
