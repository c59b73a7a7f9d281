"""The catalogue and the Tushare field table: specs are consistent, tables follow DESIGN.md's contracts,
and preparing a batch types, validates and de-duplicates as promised."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pytest

from alphahome.errors import DataValidationError
from alphahome.sources.tushare.fields import API_FIELDS, VIP_APIS, parse_fields
from alphahome.tasks.batch import prepare_batch, type_batch
from alphahome.tasks.catalogue import CATALOGUE, DATASETS, get_dataset, table_spec
from alphahome.tasks.shapes import Snapshot, TradeDates
from alphahome.tasks.spec import DatasetSpec, Rule

REQUIRED = {
    "others": {"trade_cal"},
    "stock": {"stock_basic", "daily", "adj_factor", "daily_basic", "moneyflow", "stk_limit", "suspend_d",
              "dividend"},
    "index": {"index_basic", "index_classify", "index_daily", "index_weight", "index_member_all"},
    "fund": {"fund_basic", "fund_nav"},
    "finance": {"income", "balancesheet", "cashflow", "fina_indicator", "express", "forecast"},
}


def test_catalogue_has_every_required_dataset_in_its_family():
    for family, names in REQUIRED.items():
        for name in names:
            assert DATASETS[name].family == family, name
    assert len(DATASETS) == len(CATALOGUE)


def test_tables_follow_the_naming_and_type_contract():
    for spec in CATALOGUE:
        table = table_spec(spec.name)
        assert table.schema == "tushare"
        assert table.name == spec.api.removesuffix("_vip")
        assert [c.name for c in table.columns] == [f.name for f in API_FIELDS[spec.api]]
        for column, field in zip(table.columns, API_FIELDS[spec.api], strict=True):
            expected = {"s": "text", "d": "date", "f": "double", "i": "bigint"}[field.kind]
            assert column.type == expected, (spec.name, column.name)
        assert table.track_update_time
        for k in table.key:
            assert table.column(k).nullable == (k in spec.nullable_key)


def test_statement_keys_keep_every_version_with_nullable_dates():
    for name in ("income", "balancesheet", "cashflow"):
        table = table_spec(name)
        assert table.key == ("ts_code", "end_date", "report_type", "ann_date", "f_ann_date", "update_flag")
        assert table.nullable_key_columns == ["ann_date", "f_ann_date"]
    assert table_spec("fina_indicator").nullable_key_columns == ["ann_date"]
    assert table_spec("index_member_all").key == ("l3_code", "ts_code", "in_date")
    assert table_spec("trade_cal").key == ("exchange", "cal_date")


def test_vip_apis_and_variants():
    assert get_dataset("income").api_for(5000) == "income_vip"
    assert get_dataset("income").api_for(2000) == "income"
    assert get_dataset("daily").api_for(5000) == "daily"
    assert {v["list_status"] for v in get_dataset("stock_basic").variants} == {"L", "D", "P", "G"}
    assert {v["exchange"] for v in get_dataset("trade_cal").variants} == {"SSE", "SZSE"}
    assert {v["is_new"] for v in get_dataset("index_member_all").variants} == {"Y", "N"}
    for vip, base in VIP_APIS.items():
        assert API_FIELDS[vip] == API_FIELDS[base]


def test_unknown_dataset_names_the_known_ones():
    with pytest.raises(KeyError, match="daily"):
        get_dataset("dayly")


def test_spec_rejects_inconsistent_declarations():
    with pytest.raises(ValueError, match="not a field"):
        DatasetSpec("x", "daily", "market", ("ts_code", "nope"), TradeDates(), date_column="trade_date")
    with pytest.raises(ValueError, match="unknown field"):
        DatasetSpec("x", "daily", "market", ("ts_code",), Snapshot(), rules=(Rule("hi", ">", 0),))
    with pytest.raises(ValueError, match="vip"):
        DatasetSpec("x", "daily", "market", ("ts_code",), Snapshot(), vip_api="income_vip")
    with pytest.raises(ValueError, match="duplicate"):
        parse_fields("a b a")
    with pytest.raises(ValueError, match="bad field"):
        parse_fields("Bad-Name")


def _daily_rows(rows: list[tuple]) -> pa.Table:
    names = ["ts_code", "trade_date", "open", "high", "low", "close"]
    return pa.Table.from_pylist([dict(zip(names, r, strict=True)) for r in rows])


def test_prepare_types_dates_and_fills_missing_columns():
    spec = get_dataset("daily")
    table = type_batch(spec, _daily_rows([("000001.SZ", "20240102", 10.0, 11.0, 9.5, 10.5)]))
    assert table.schema.field("trade_date").type == pa.date32()
    assert table.column("trade_date").to_pylist() == [dt.date(2024, 1, 2)]
    assert table.column("amount").to_pylist() == [None]  # not sent: NULL, never 0
    assert table.column_names == spec.field_names


def test_prepare_rejects_impossible_dates():
    spec = get_dataset("daily")
    with pytest.raises(DataValidationError, match="trade_date"):
        type_batch(spec, _daily_rows([("000001.SZ", "20240230", 10.0, 11.0, 9.5, 10.5)]))


def test_prepare_dedupes_on_the_key_keeping_the_last_and_reports_rules():
    spec = get_dataset("daily")
    prepared = prepare_batch(spec, _daily_rows([
        ("000001.SZ", "20240102", 10.0, 11.0, 9.5, 10.5),
        ("000001.SZ", "20240102", 10.0, 11.0, 9.5, 10.6),
        ("000002.SZ", "20240102", 10.0, 9.0, 9.5, 10.0),  # high < low: reported, kept (report mode)
    ]))
    assert prepared.table.num_rows == 2 and prepared.duplicates == 1
    assert prepared.table.column("close").to_pylist() == [10.6, 10.0]
    assert prepared.rule_violations["high >= low"] == 1


def test_filter_mode_drops_rule_breakers():
    import dataclasses

    spec = dataclasses.replace(get_dataset("daily"), rule_mode="filter")
    prepared = prepare_batch(spec, _daily_rows([
        ("000001.SZ", "20240102", 10.0, 11.0, 9.5, 10.5),
        ("000002.SZ", "20240102", 10.0, 9.0, 9.5, 10.0),
    ]))
    assert prepared.table.column("ts_code").to_pylist() == ["000001.SZ"] and prepared.filtered == 1


def test_null_key_dates_are_kept_and_deduplicated_as_equal():
    spec = get_dataset("income")
    base = {"ts_code": "000001.SZ", "end_date": "20231231", "report_type": "1", "update_flag": "1",
            "ann_date": "20240320", "f_ann_date": None, "revenue": 1.0}
    rows = [base, {**base, "revenue": 2.0}, {**base, "f_ann_date": "20240321", "revenue": 3.0},
            {**base, "ann_date": None, "revenue": 4.0}]
    prepared = prepare_batch(spec, pa.Table.from_pylist(rows))
    assert prepared.duplicates == 1
    got = sorted(prepared.table.select(["ann_date", "f_ann_date", "revenue"]).to_pylist(),
                 key=lambda r: r["revenue"])
    assert [r["revenue"] for r in got] == [2.0, 3.0, 4.0]
    assert got[0]["f_ann_date"] is None and got[2]["ann_date"] is None


def test_null_in_a_strict_key_column_is_dropped():
    spec = get_dataset("daily")
    prepared = prepare_batch(spec, _daily_rows([(None, "20240102", 1.0, 1.0, 1.0, 1.0),
                                                ("000001.SZ", "20240102", 1.0, 1.0, 1.0, 1.0)]))
    assert prepared.null_keys == 1 and prepared.table.num_rows == 1
