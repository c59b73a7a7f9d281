"""The sandbox's financial statements: shape, determinism, accounting identities, the announcement
calendar and every planted hard case (restatements, a late report, a missing period, pre-listing annual
reports, duplicates, NULL key columns), fina_indicator, express and forecast."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from alphahome.sandbox.catalog import FINANCIAL_APIS, served_fields
from alphahome.sandbox.financials import describe_cases, generate_financials
from alphahome.sandbox.statements import CASH_BALANCE_COLUMNS

START, END, SEED = dt.date(2022, 1, 1), dt.date(2023, 12, 31), 11
FINANCIAL_FIELDS = {name: served_fields(name) for name in FINANCIAL_APIS}
HOLIDAYS = {(1, 1), (5, 1), (5, 2), (5, 3), (10, 1), (10, 2), (10, 3), (10, 4), (10, 5)}


def make_universe(n: int = 24) -> pd.DataFrame:
    """Mostly old listings, two banks, two listings during the range, one after it, one delisting."""
    rows = []
    for k in range(n):
        list_date, delist, status = "20050105", None, "L"
        if k == 9:
            list_date = "20230615"
        if k == 13:
            list_date = "20221110"
        if k == 20:
            delist, status = "20230520", "D"
        if k == 22:
            list_date = "20240320"
        rows.append({
            "ts_code": f"{600000 + k:06d}.SH" if k % 2 == 0 else f"{k:06d}.SZ",
            "name": f"公司{k}", "exchange": "SSE" if k % 2 == 0 else "SZSE", "market": "主板",
            "list_date": list_date, "delist_date": delist, "list_status": status,
            "comp_type": "2" if k in (5, 17) else "1",
        })
    return pd.DataFrame(rows)


def make_trade_dates(a: dt.date = dt.date(2019, 1, 1), b: dt.date = dt.date(2025, 12, 31)) -> list[dt.date]:
    out, d = [], a
    while d <= b:
        if d.weekday() < 5 and (d.month, d.day) not in HOLIDAYS:
            out.append(d)
        d += dt.timedelta(days=1)
    return out


UNIVERSE = make_universe()
TRADE_DATES = make_trade_dates()


@pytest.fixture(scope="module")
def fin() -> dict[str, pd.DataFrame]:
    return generate_financials(UNIVERSE, TRADE_DATES, START, END, SEED)


@pytest.fixture(scope="module")
def cases():
    return describe_cases(UNIVERSE, TRADE_DATES, START, END, SEED)


def knowledge(df: pd.DataFrame) -> pd.Series:
    """DESIGN.md section 4: f_ann_date, else ann_date."""
    return df["f_ann_date"].where(df["f_ann_date"].notna(), df["ann_date"])


def ytd(df: pd.DataFrame) -> pd.DataFrame:
    return df[df["report_type"] == "1"].drop_duplicates()


def latest(df: pd.DataFrame) -> pd.DataFrame:
    return df[df["update_flag"] == "1"].drop_duplicates()


def prev_quarter_end(end_date: str) -> str:
    year, tail = int(end_date[:4]), end_date[4:]
    return {"0331": f"{year - 1}1231", "0630": f"{year}0331", "0930": f"{year}0630", "1231": f"{year}0930"}[tail]


# --- shape and determinism ------------------------------------------------------------------------


def test_every_table_has_exactly_the_documented_columns_and_types(fin):
    assert set(fin) == set(FINANCIAL_FIELDS)
    for name, df in fin.items():
        fields = FINANCIAL_FIELDS[name]
        assert list(df.columns) == [f.name for f in fields], name
        assert len(df) > 0, name
        for f in fields:
            col = df[f.name]
            expected = {"s": object, "f": np.float64, "i": np.int64}[f.type]
            assert col.dtype == expected, (name, f.name, col.dtype)
            if f.type == "s":
                assert all(v is None or isinstance(v, str) for v in col), (name, f.name)


def test_field_lists_follow_the_reference():
    names = {k: [f.name for f in v] for k, v in FINANCIAL_FIELDS.items()}
    assert (len(names["income"]), len(names["balancesheet"]), len(names["cashflow"])) == (94, 158, 97)
    assert names["income"][:7] == ["ts_code", "ann_date", "f_ann_date", "end_date", "report_type",
                                   "comp_type", "end_type"]
    non_default = {k: [f.name for f in v if not f.default] for k, v in FINANCIAL_FIELDS.items()}
    assert non_default["income"][0] == "net_after_nr_lp_correct" and "update_flag" not in non_default["income"]
    assert non_default["express"] == names["express"][names["express"].index("yoy_sales"):
                                                      names["express"].index("open_bps") + 1]
    assert non_default["forecast"] == ["notice_times"]
    assert {"invturn_days", "arturn_days", "inv_turn", "valuechange_income", "interst_income", "daa",
            "rd_exp"} <= set(non_default["fina_indicator"])
    assert {"roe", "eps", "debt_to_assets", "q_op_qoq", "equity_yoy"}.isdisjoint(non_default["fina_indicator"])
    for key in ("undistr_porfit", "cash_reser_cb", "depos_in_oth_bfi", "client_depos", "lease_liab"):
        assert key in names["balancesheet"]
    for key in ("end_bal_cash", "use_right_asset_dep", "free_cashflow", "im_net_cashflow_oper_act"):
        assert key in names["cashflow"]


def test_same_inputs_give_identical_tables_and_another_seed_differs(fin):
    again = generate_financials(UNIVERSE, TRADE_DATES, START, END, SEED)
    for name in fin:
        pd.testing.assert_frame_equal(fin[name], again[name])
    other = generate_financials(UNIVERSE, TRADE_DATES, START, END, SEED + 1)
    assert not fin["income"]["revenue"].equals(other["income"]["revenue"])


def test_a_company_does_not_depend_on_the_rest_of_the_universe(fin, cases):
    planted = {c[0] for group in (cases.restated, cases.late_report, cases.missing_period, cases.duplicated,
                                  cases.null_f_ann_date, cases.null_ann_date) for c in group}
    sub = UNIVERSE.iloc[::-1].iloc[:12].reset_index(drop=True)  # another order, half the companies
    sub_fin = generate_financials(sub, TRADE_DATES, START, END, SEED)
    sub_cases = describe_cases(sub, TRADE_DATES, START, END, SEED)
    sub_planted = {c[0] for group in (sub_cases.restated, sub_cases.late_report, sub_cases.missing_period,
                                      sub_cases.duplicated, sub_cases.null_f_ann_date, sub_cases.null_ann_date)
                   for c in group}
    has_rows = set(fin["income"]["ts_code"])
    code = next(c for c in sub["ts_code"] if c not in planted | sub_planted and c in has_rows)
    for name in ("income", "balancesheet", "fina_indicator"):
        a = fin[name][fin[name]["ts_code"] == code].reset_index(drop=True)
        b = sub_fin[name][sub_fin[name]["ts_code"] == code].reset_index(drop=True)
        assert len(a) > 0
        pd.testing.assert_frame_equal(a, b)


def test_bad_input_is_refused_with_a_clear_message():
    with pytest.raises(ValueError, match="comp_type"):
        generate_financials(UNIVERSE.drop(columns=["comp_type"]), TRADE_DATES, START, END, SEED)
    with pytest.raises(ValueError, match=r"000001\.SZ"):
        generate_financials(pd.concat([UNIVERSE, UNIVERSE.iloc[[1]]]), TRADE_DATES, START, END, SEED)
    with pytest.raises(ValueError, match="after end"):
        generate_financials(UNIVERSE, TRADE_DATES, END, START, SEED)
    with pytest.raises(ValueError, match="seed"):
        generate_financials(UNIVERSE, TRADE_DATES, START, END, -1)


# --- accounting -----------------------------------------------------------------------------------


def test_balance_sheet_and_income_identities_hold(fin):
    b = fin["balancesheet"]
    # Restated originals are rescaled item by item, so their totals may be a cent off.
    assert np.allclose(b["total_assets"], b["total_liab"] + b["total_hldr_eqy_inc_min_int"], rtol=0, atol=0.015)
    assert np.allclose(b["total_hldr_eqy_inc_min_int"], b["total_hldr_eqy_exc_min_int"] + b["minority_int"],
                       rtol=0, atol=0.015)
    assert np.allclose(b["total_liab_hldr_eqy"], b["total_assets"], rtol=0, atol=0.015)
    general = b[b["comp_type"] == "1"]
    assert np.allclose(general["total_cur_assets"] + general["total_nca"], general["total_assets"], atol=0.015)
    assert np.allclose(general["total_cur_liab"] + general["total_ncl"], general["total_liab"], atol=0.015)
    i = fin["income"]
    assert np.allclose(i["n_income"], i["n_income_attr_p"] + i["minority_gain"], rtol=0, atol=0.015)
    assert np.allclose(i["total_profit"], i["operate_profit"] + i["non_oper_income"] - i["non_oper_exp"],
                       rtol=0, atol=0.015)
    c = fin["cashflow"]
    net = c["n_cashflow_act"] + c["n_cashflow_inv_act"] + c["n_cash_flows_fnc_act"] + c["eff_fx_flu_cash"]
    assert np.allclose(net, c["n_incr_cash_cash_equ"], rtol=0, atol=0.05)
    assert np.allclose(c["c_cash_equ_beg_period"] + c["n_incr_cash_cash_equ"], c["c_cash_equ_end_period"],
                       rtol=1e-9, atol=0.05)
    supplement = c.dropna(subset=["im_net_cashflow_oper_act"])
    assert len(supplement) and set(supplement["end_date"].str[4:]) == {"0630", "1231"}
    assert np.allclose(supplement["im_net_cashflow_oper_act"], supplement["n_cashflow_act"])


def test_year_to_date_flows_grow_through_the_year(fin):
    for name, cols in (("income", ["revenue", "oper_cost", "sell_exp", "admin_exp", "total_cogs"]),
                       ("cashflow", ["c_fr_sale_sg", "c_inf_fr_operate_a", "st_cash_out_act",
                                     "c_paid_to_for_empl"])):
        df = latest(ytd(fin[name]))
        df = df[df["comp_type"] == "1"].sort_values(["ts_code", "end_date"])
        df["year"] = df["end_date"].str[:4]
        checked = 0
        for _, g in df.groupby(["ts_code", "year"]):
            if len(g) > 1:
                assert (g[cols].diff().iloc[1:] >= 0).all().all(), g[["ts_code", "end_date", *cols]]
                checked += 1
        assert checked > 20


def test_single_quarter_rows_are_differences_of_year_to_date_versions_known_at_the_time(fin):
    for name in ("income", "cashflow"):
        df = fin[name].drop_duplicates().copy()
        df["kd"] = knowledge(df)
        flows = [f.name for f in FINANCIAL_FIELDS[name] if f.type == "f" and f.name not in CASH_BALANCE_COLUMNS]
        one, two = df[df["report_type"] == "1"], df[df["report_type"] == "2"]
        keys = ["ts_code", "end_date", "kd", "update_flag"]
        cur = two.merge(one, on=keys, suffixes=("", "_ytd"))
        assert len(cur) == len(two)
        q1 = cur["end_date"].str[4:] == "0331"
        for col in flows:
            assert np.allclose(cur.loc[q1, col], cur.loc[q1, f"{col}_ytd"], equal_nan=True), col
        later = cur[~q1]
        checked = 0
        for _, row in later.iterrows():
            prev = one[(one["ts_code"] == row["ts_code"]) & (one["end_date"] == prev_quarter_end(row["end_date"]))
                       & (one["kd"] <= row["kd"])].sort_values("kd")
            assert len(prev), row[["ts_code", "end_date"]]
            before = prev.iloc[-1]
            for col in ("revenue", "n_income", "n_income_attr_p", "basic_eps") if name == "income" else \
                    ("n_cashflow_act", "c_fr_sale_sg", "n_incr_cash_cash_equ"):
                expected = row[f"{col}_ytd"] - before[col]
                assert row[col] == pytest.approx(expected, abs=2e-4 if col == "basic_eps" else 0.01, nan_ok=True), (
                    col, row["end_date"])
            if name == "cashflow":
                assert row["c_cash_equ_beg_period"] == pytest.approx(before["c_cash_equ_end_period"], abs=0.01)
            checked += 1
        assert checked > 50
    assert (fin["balancesheet"]["report_type"] == "1").all()


def test_banks_fill_bank_items_and_leave_industrial_ones_null(fin, cases):
    assert set(cases.banks) == {"000005.SZ", "000017.SZ"}
    i, b = fin["income"], fin["balancesheet"]
    bank_i, gen_i = i[i["comp_type"] == "2"], i[i["comp_type"] == "1"]
    bank_b, gen_b = b[b["comp_type"] == "2"], b[b["comp_type"] == "1"]
    assert set(bank_i["ts_code"]) == set(cases.banks)
    assert bank_i[["int_income", "int_exp", "n_commis_income", "oper_exp"]].notna().all().all()
    assert bank_i[["oper_cost", "total_cogs", "sell_exp", "rd_exp"]].isna().all().all()
    assert bank_b[["depos", "cash_reser_cb", "decr_in_disbur"]].notna().all().all()
    assert bank_b[["total_cur_assets", "inventories", "accounts_receiv"]].isna().all().all()
    assert gen_i[["int_income", "int_exp", "prem_earned"]].isna().all().all()
    assert gen_b[["depos", "cash_reser_cb"]].isna().all().all()
    assert gen_b[["total_cur_assets", "accounts_receiv"]].notna().all().all()
    f = fin["fina_indicator"]
    assert f[f["ts_code"].isin(cases.banks)]["current_ratio"].isna().all()


# --- the calendar ---------------------------------------------------------------------------------


def test_announcements_follow_the_deadlines_and_nothing_is_after_end(fin, cases):
    end = END.strftime("%Y%m%d")
    for name, df in fin.items():
        for col in ("ann_date", "f_ann_date", "first_ann_date"):
            if col in df:
                assert (df[col].dropna() <= end).all(), (name, col)
    inc = ytd(fin["income"]).copy()
    inc["kd"] = knowledge(inc)
    first = inc.sort_values("kd").drop_duplicates(["ts_code", "end_date"])
    late = {(c, e) for c, e, _ in cases.late_report}
    prelisted = set(cases.prelisting)
    regular = first[[(c, e) not in late and c not in prelisted
                     for c, e in zip(first["ts_code"], first["end_date"], strict=True)]]
    year = regular["end_date"].str[:4].astype(int)
    deadline = np.select(
        [regular["end_date"].str[4:] == "0331", regular["end_date"].str[4:] == "0630",
         regular["end_date"].str[4:] == "0930"],
        [year.astype(str) + "0430", year.astype(str) + "0831", year.astype(str) + "1031"],
        (year + 1).astype(str) + "0430")
    assert (regular["kd"] <= deadline).all()
    assert (regular["kd"] > regular["end_date"]).all()
    weekdays = pd.to_datetime(inc["kd"]).dt.day_of_week
    assert (weekdays < 5).all()
    # Periods start early enough for TTM on the first day: four quarters and the one before them.
    known_at_start = first[first["kd"] <= START.strftime("%Y%m%d")]
    per_stock = known_at_start.groupby("ts_code")["end_date"].nunique()
    assert (per_stock[per_stock.index.isin(["600000.SH", "600010.SH", "000011.SZ"])] >= 5).all()


def test_restated_period_has_three_versions_with_the_update_flag_pattern(fin, cases):
    assert len(cases.restated) == 1
    code, end_date = cases.restated[0]
    for name in ("income", "balancesheet", "cashflow"):
        rows = ytd(fin[name])
        rows = rows[(rows["ts_code"] == code) & (rows["end_date"] == end_date)].sort_values("f_ann_date")
        assert list(rows["update_flag"]) == ["0", "0", "1"], name
        assert rows["f_ann_date"].is_monotonic_increasing and rows["f_ann_date"].nunique() == 3
        assert rows["ann_date"].nunique() == 1  # a correction keeps the original announcement date
        value = "revenue" if name == "income" else "total_assets" if name == "balancesheet" else "n_cashflow_act"
        assert rows[value].nunique() == 3, name
    ind = fin["fina_indicator"]
    ind = ind[(ind["ts_code"] == code) & (ind["end_date"] == end_date)].sort_values("ann_date")
    assert list(ind["update_flag"]) == ["0", "0", "1"] and ind["eps"].nunique() == 3


def test_every_period_has_exactly_one_current_version_the_newest(fin):
    for name in ("income", "balancesheet", "cashflow", "fina_indicator"):
        df = fin[name].drop_duplicates().copy()
        df["kd"] = df["ann_date"] if name == "fina_indicator" else knowledge(df)
        df["current"] = df["update_flag"] == "1"
        keys = ["ts_code", "end_date"] + (["report_type"] if "report_type" in df else [])
        groups = df.groupby(keys)
        assert (groups["current"].sum() == 1).all(), name
        newest = groups["kd"].transform("max")
        assert (df.loc[df["current"], "kd"] == newest[df["current"]]).all(), name
        assert (df.loc[~df["current"], "kd"] < newest[~df["current"]]).all(), name
        assert (groups.size() > 1).any(), name


def test_an_old_period_is_published_after_a_later_one(fin, cases):
    assert len(cases.late_report) == 1
    code, annual, later = cases.late_report[0]
    assert annual.endswith("1231") and later > annual
    inc = ytd(fin["income"])
    inc = inc[inc["ts_code"] == code]
    ann = dict(zip(inc["end_date"], knowledge(inc), strict=True))
    assert ann[annual] > ann[later]
    deadline = f"{int(annual[:4]) + 1}0430"
    assert ann[annual] > deadline


def test_a_never_published_period_leaves_a_gap(fin, cases):
    code, end_date = cases.missing_period[0]
    inc = fin["income"][fin["income"]["ts_code"] == code]
    assert end_date not in set(inc["end_date"])
    after = end_date[:4] + "1231"
    assert after in set(inc.loc[inc["report_type"] == "1", "end_date"])
    assert after not in set(inc.loc[inc["report_type"] == "2", "end_date"])  # no previous quarter known
    assert end_date not in set(fin["fina_indicator"].loc[fin["fina_indicator"]["ts_code"] == code, "end_date"])


def test_companies_listed_during_the_range_have_only_prospectus_annuals_before_listing(fin, cases):
    assert set(cases.prelisting) == {"000009.SZ", "000013.SZ"}
    listing = dict(zip(UNIVERSE["ts_code"], UNIVERSE["list_date"], strict=True))
    for code in cases.prelisting:
        inc = ytd(fin["income"])
        inc = inc[inc["ts_code"] == code].assign(kd=lambda d: knowledge(d))
        before = inc[inc["kd"] < listing[code]]
        assert len(before) >= 2
        assert set(before["end_date"].str[4:]) == {"1231"}
        assert before["kd"].nunique() == 1  # all from the prospectus, one day
        assert (inc["kd"] >= listing[code]).any()
    for code in ("600022.SH", "000022.SZ"):  # listed after end: nothing yet
        assert code not in set(fin["income"]["ts_code"])
    delisted = fin["income"][fin["income"]["ts_code"] == "600020.SH"]
    assert len(delisted) and (knowledge(delisted) <= "20230520").all()


def test_exact_duplicate_rows_are_sent_for_the_planted_period(fin, cases):
    code, end_date = cases.duplicated[0]
    for name in ("income", "balancesheet", "cashflow", "fina_indicator"):
        df = fin[name]
        dup = df[df.duplicated(keep=False)]
        assert len(dup) >= 2, name
        assert ((dup["ts_code"] == code) & (dup["end_date"] == end_date)).any(), name
        assert df.duplicated().sum() <= max(3, len(df) // 200), name


def test_null_key_columns_are_few_and_where_planted(fin, cases):
    for name in ("income", "balancesheet", "cashflow"):
        df = fin[name]
        no_f = df[df["f_ann_date"].isna()]
        no_ann = df[df["ann_date"].isna()]
        assert set(zip(no_f["ts_code"], no_f["end_date"], strict=True)) == set(cases.null_f_ann_date), name
        assert set(zip(no_ann["ts_code"], no_ann["end_date"], strict=True)) == set(cases.null_ann_date), name
        assert no_f["ann_date"].notna().all() and no_ann["f_ann_date"].notna().all()
        assert 0 < len(no_f) <= 8 and 0 < len(no_ann) <= 4
        assert not (df["f_ann_date"].isna() & df["ann_date"].isna()).any()
    for name in ("fina_indicator", "express", "forecast"):
        assert fin[name]["ann_date"].notna().all()


def test_describe_cases_is_cheap_and_names_cases_present_in_the_data(fin, cases):
    assert cases.restated and cases.late_report and cases.missing_period and cases.duplicated
    assert len(cases.null_f_ann_date) == 2 and len(cases.null_ann_date) == 1
    planted = [c[0] for group in (cases.restated, cases.late_report, cases.missing_period, cases.duplicated,
                                  cases.null_f_ann_date, cases.null_ann_date) for c in group]
    assert all(c in set(fin["income"]["ts_code"]) for c in planted)
    assert len(set(planted)) == 6  # distinct companies when the universe is large enough
    # Planted on periods announced inside [start, end], where a sync of the range meets them.
    inc = fin["income"].assign(kd=lambda d: knowledge(d))
    for code, end_date in (*cases.restated, *cases.duplicated, *cases.null_f_ann_date, *cases.null_ann_date,
                           *((c, e) for c, e, _ in cases.late_report)):
        rows = inc[(inc["ts_code"] == code) & (inc["end_date"] == end_date)]
        assert len(rows) and (rows["kd"] >= START.strftime("%Y%m%d")).all(), (code, end_date)
    code, end_date = cases.missing_period[0]
    assert end_date > START.strftime("%Y%m%d")


# --- fina_indicator, express, forecast ------------------------------------------------------------


def test_indicators_follow_the_statement_versions(fin):
    ind = fin["fina_indicator"].drop_duplicates()
    inc = ytd(fin["income"]).assign(kd=lambda d: knowledge(d))
    bal = fin["balancesheet"].drop_duplicates().assign(kd=lambda d: knowledge(d))
    assert len(ind) == len(inc)  # one indicator version per statement version
    m = ind.merge(inc, left_on=["ts_code", "end_date", "ann_date", "update_flag"],
                  right_on=["ts_code", "end_date", "kd", "update_flag"], suffixes=("", "_i"))
    m = m.merge(bal, left_on=["ts_code", "end_date", "ann_date", "update_flag"],
                right_on=["ts_code", "end_date", "kd", "update_flag"], suffixes=("", "_b"))
    assert len(m) == len(ind)
    begin = latest(bal).assign(year_end=lambda d: d["end_date"])[["ts_code", "year_end",
                                                                  "total_hldr_eqy_exc_min_int", "total_assets"]]
    m["year_end"] = (m["end_date"].str[:4].astype(int) - 1).astype(str) + "1231"
    m = m.merge(begin, on=["ts_code", "year_end"], suffixes=("", "_begin"))
    assert len(m) > 100
    eq = m["total_hldr_eqy_exc_min_int"]
    roe = m["n_income_attr_p"] / ((m["total_hldr_eqy_exc_min_int_begin"] + eq) / 2) * 100
    assert np.allclose(m["roe"], roe, rtol=1e-6, atol=1e-3)
    roa = m["n_income"] / ((m["total_assets_begin"] + m["total_assets"]) / 2) * 100
    assert np.allclose(m["roa"], roa, rtol=1e-6, atol=1e-3)
    assert np.allclose(m["eps"], m["basic_eps"])
    assert np.allclose(m["debt_to_assets"], m["total_liab"] / m["total_assets"] * 100, atol=1e-3)
    general = m[m["comp_type"] == "1"]
    assert np.allclose(general["grossprofit_margin"],
                       (general["revenue"] - general["oper_cost"]) / general["revenue"] * 100, atol=1e-3)
    assert np.allclose(general["netprofit_margin"], general["n_income"] / general["revenue"] * 100, atol=1e-3)
    assert np.allclose(general["current_ratio"], general["total_cur_assets"] / general["total_cur_liab"], atol=1e-3)
    # Year-on-year growth against last year's current figures.
    last = latest(inc)[["ts_code", "end_date", "n_income_attr_p"]].assign(
        end_date=lambda d: (d["end_date"].str[:4].astype(int) + 1).astype(str) + d["end_date"].str[4:])
    g = m.merge(last, on=["ts_code", "end_date"], suffixes=("", "_last"))
    assert len(g) > 50
    yoy = (g["n_income_attr_p"] - g["n_income_attr_p_last"]) / g["n_income_attr_p_last"].abs() * 100
    assert np.allclose(g["netprofit_yoy"], yoy, rtol=1e-6, atol=1e-3)


def _first_report_day(fin: dict[str, pd.DataFrame]) -> pd.Series:
    inc = ytd(fin["income"]).assign(kd=lambda d: knowledge(d))
    return inc.groupby(["ts_code", "end_date"])["kd"].min()


def test_express_comes_before_its_report_with_close_figures(fin):
    ex = fin["express"]
    assert len(ex) >= 5 and set(ex["end_date"].str[4:]) <= {"0630", "1231"}
    first = _first_report_day(fin)
    inc = latest(ytd(fin["income"])).set_index(["ts_code", "end_date"])
    matched = 0
    for _, row in ex.iterrows():
        key = (row["ts_code"], row["end_date"])
        assert row["ann_date"] > row["end_date"]
        if key in first.index:
            assert row["ann_date"] < first[key]
            final = inc.loc[key]
            assert row["n_income"] == pytest.approx(final["n_income"], rel=0.015)
            assert row["revenue"] == pytest.approx(final["total_revenue"], rel=0.015)
            matched += 1
    assert matched >= 3
    assert ex["is_audit"].dtype == np.int64


def test_forecast_comes_before_its_report_and_is_consistent(fin):
    fc = fin["forecast"]
    assert len(fc) >= 20
    first = _first_report_day(fin)
    for _, row in fc.iterrows():
        key = (row["ts_code"], row["end_date"])
        if key in first.index:
            assert row["ann_date"] < first[key]
        assert row["first_ann_date"] <= row["ann_date"]
    assert set(fc["type"]) <= {"预增", "预减", "扭亏", "首亏", "续亏", "续盈", "略增", "略减"}
    assert len(set(fc["type"])) >= 6
    p_mid = (fc["p_change_min"] + fc["p_change_max"]) / 2
    np_mid = (fc["net_profit_min"] + fc["net_profit_max"]) / 2
    last = fc["last_parent_net"]
    both = (last > 0) & (np_mid > 0)
    expected = np.select(
        [both & (p_mid >= 50), both & (p_mid >= 10), both & (p_mid > -10), both & (p_mid > -50), both,
         (last > 0), (np_mid <= 0)],
        ["预增", "略增", "续盈", "略减", "预减", "首亏", "续亏"], "扭亏")
    assert (fc["type"] == expected).all()
    # The profit range is last year's profit moved by the change range, in 10k CNY.
    implied = last + last.abs() * fc["p_change_min"] / 100
    assert np.allclose(fc["net_profit_min"], implied, atol=0.05 + 1e-4 * last.abs())
    # And it brackets the profit eventually reported (CNY / 1e4).
    inc = latest(ytd(fin["income"])).set_index(["ts_code", "end_date"])["n_income_attr_p"] / 1e4
    rows = fc.join(inc.rename("actual"), on=["ts_code", "end_date"]).dropna(subset=["actual"])
    assert len(rows) >= 10
    assert ((rows["net_profit_min"] <= rows["actual"] + 0.01) & (rows["actual"] <= rows["net_profit_max"] + 0.01)).all()
    last_year = latest(ytd(fin["income"])).assign(
        end_date=lambda d: (d["end_date"].str[:4].astype(int) + 1).astype(str) + d["end_date"].str[4:])
    lj = fc.merge(last_year[["ts_code", "end_date", "n_income_attr_p"]], on=["ts_code", "end_date"])
    assert len(lj) >= 5
    assert np.allclose(lj["last_parent_net"], lj["n_income_attr_p"] / 1e4, atol=0.006)


def test_revised_forecasts_keep_their_first_announcement(fin):
    fc = fin["forecast"]
    assert (fc["notice_times"] == 2).any()
    for _, g in fc.groupby(["ts_code", "end_date"]):
        g = g.sort_values("ann_date")
        assert list(g["notice_times"]) == list(range(1, len(g) + 1))
        assert g["first_ann_date"].nunique() == 1 and g["first_ann_date"].iloc[0] == g["ann_date"].iloc[0]
        assert list(g["update_flag"]) == ["0"] * (len(g) - 1) + ["1"]
