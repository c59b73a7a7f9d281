"""The interface table: every entry is consistent with the field table, and its twins and tiers read right."""

from __future__ import annotations

import pytest

from alphahome.sources.tushare.fields import API_FIELDS, api_fields
from alphahome.sources.tushare.interfaces import INTERFACES, SHAPES, interface, tier_per_day, tier_per_minute


@pytest.mark.parametrize("name", sorted(INTERFACES))
def test_entry_names_real_fields(name: str) -> None:
    entry = interface(name)
    fields = {f.name for f in api_fields(name)}
    assert entry.shape in SHAPES
    assert set(entry.key) <= fields, f"{name}: key {entry.key} not in its fields"
    if entry.date_column is not None:
        assert entry.date_column in fields
    for param, column in entry.columns:
        assert column in fields, f"{name}: {param} filters unknown column {column}"
    assert entry.row_cap > 0 and entry.points > 0


def test_every_field_table_has_an_interface_and_back() -> None:
    assert set(API_FIELDS) == set(INTERFACES)


def test_vip_twin_shares_base_facts() -> None:
    vip = interface("income_vip")
    assert (vip.base, vip.table, vip.points, vip.row_cap, vip.required) == ("income", "income", 5000, 5000, ())
    assert "period" in vip.all_params and "ts_code" in vip.all_params
    assert interface("income").vip == "income_vip"


def test_tiers_and_api_rates() -> None:
    assert [tier_per_minute(p) for p in (0, 120, 2000, 5000, 15000)] == [50, 50, 200, 500, 500]
    assert [tier_per_day(p) for p in (120, 2000, 5000)] == [8000, 100_000, None]
    assert interface("stock_basic").rate_per_minute(5000) == 50
    assert interface("daily").rate_per_minute(2000) == 200


def test_unknown_api_is_named() -> None:
    with pytest.raises(KeyError, match="no_such_api"):
        interface("no_such_api")
