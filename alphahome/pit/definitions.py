"""What the PIT tables hold, as data: each statement table's fields and the raw sources that feed them.

The builders generate every statement from these definitions, so adding a field is a one-line change here.
Sources are ranked (report 1 > express 2 > forecast 3): the rank breaks ties between versions known on the
same day (DESIGN.md §4).
"""

from __future__ import annotations

from dataclasses import dataclass, field

#: Source names by rank, as they appear in the ``<field>_src`` columns.
SOURCE_NAMES: dict[int, str] = {1: "report", 2: "express", 3: "forecast"}


@dataclass(frozen=True)
class PitField:
    """One value column of a PIT statement table. ``flow`` items (income) also get ``_sq`` and ``_ttm``."""

    name: str
    flow: bool = False
    description: str = ""


@dataclass(frozen=True)
class RawSource:
    """One raw table feeding a PIT statement table.

    ``knowledge`` is the SQL expression of a version's knowledge date; ``fields`` maps a PIT field to the SQL
    expression computing it from the raw row (columns of the raw table only, no values).
    """

    table: str
    rank: int
    knowledge: str
    fields: dict[str, str]
    where: str = ""

    @property
    def kind(self) -> str:
        return SOURCE_NAMES[self.rank]


@dataclass(frozen=True)
class StatementTable:
    """A PIT table built from statement versions: ``lags`` earlier quarters feed its single-quarter/TTM."""

    name: str
    fields: tuple[PitField, ...]
    sources: tuple[RawSource, ...]
    aliases: tuple[str, ...] = ()
    #: 4 when the table has flow items (TTM reaches back to p−4q), else 0.
    lags: int = 0
    description: str = ""

    @property
    def qualified(self) -> str:
        return f"pit.{self.name}"

    @property
    def flow_fields(self) -> list[str]:
        return [f.name for f in self.fields if f.flow]

    @property
    def field_names(self) -> list[str]:
        return [f.name for f in self.fields]

    @property
    def raw_tables(self) -> list[str]:
        return [s.table for s in self.sources]


def _identity(*names: str) -> dict[str, str]:
    return {n: n for n in names}


_STATEMENT_KNOWLEDGE = "COALESCE(f_ann_date, ann_date)"
_CONSOLIDATED = "report_type = '1'"

_INCOME_FIELDS = (
    PitField("total_revenue", True, "total operating revenue"),
    PitField("revenue", True, "operating revenue"),
    PitField("total_cogs", True, "total operating cost"),
    PitField("oper_cost", True, "cost of revenue"),
    PitField("sell_exp", True, "selling expenses"),
    PitField("admin_exp", True, "administrative expenses"),
    PitField("fin_exp", True, "financial expenses"),
    PitField("rd_exp", True, "R&D expenses"),
    PitField("operate_profit", True, "operating profit"),
    PitField("total_profit", True, "total profit before tax"),
    PitField("income_tax", True, "income tax"),
    PitField("n_income", True, "net income"),
    PitField("n_income_attr_p", True, "net income attributable to the parent"),
    PitField("minority_gain", True, "minority interest in net income"),
    PitField("basic_eps", False, "basic EPS, year to date (not additive: no single quarter or TTM)"),
)

INCOME = StatementTable(
    name="income_quarterly",
    aliases=("income",),
    fields=_INCOME_FIELDS,
    lags=4,
    sources=(
        RawSource("income", 1, _STATEMENT_KNOWLEDGE, _identity(*(f.name for f in _INCOME_FIELDS)),
                  where=_CONSOLIDATED),
        # 业绩快报: same-named items (its n_income is the statement's n_income).
        RawSource("express", 2, "ann_date", _identity("revenue", "operate_profit", "total_profit", "n_income")),
        # 业绩预告: net profit attributable to the parent, the midpoint of the range, 10k CNY -> CNY;
        # a one-sided range gives no value (never a guess).
        RawSource("forecast", 3, "ann_date", {
            "n_income_attr_p": "(net_profit_min + net_profit_max) * 5000.0",
        }),
    ),
    description="Income statement items, year to date, single quarter and TTM, as known at each date.",
)

_BALANCE_FIELDS = (
    PitField("total_assets"),
    PitField("total_liab"),
    PitField("total_hldr_eqy_exc_min_int", description="equity attributable to the parent"),
    PitField("total_hldr_eqy_inc_min_int", description="total equity"),
    PitField("minority_int"),
    PitField("total_cur_assets"),
    PitField("total_cur_liab"),
    PitField("total_nca"),
    PitField("total_ncl"),
    PitField("money_cap", description="cash"),
    PitField("inventories"),
    PitField("accounts_receiv"),
    PitField("fix_assets"),
    PitField("goodwill"),
    PitField("st_borr"),
    PitField("lt_borr"),
    PitField("bond_payable"),
    PitField("total_share"),
)

BALANCE = StatementTable(
    name="balance_quarterly",
    aliases=("balance",),
    fields=_BALANCE_FIELDS,
    lags=0,
    sources=(
        RawSource("balancesheet", 1, _STATEMENT_KNOWLEDGE, _identity(*(f.name for f in _BALANCE_FIELDS)),
                  where=_CONSOLIDATED),
        RawSource("express", 2, "ann_date", _identity("total_assets", "total_hldr_eqy_exc_min_int")),
    ),
    description="Balance sheet items at each period end, as known at each date.",
)

#: fina_indicator columns carried into pit.financial_indicators (field-wise as of ann_date).
INDICATOR_RAW_FIELDS: tuple[str, ...] = (
    "eps", "dt_eps", "bps", "ocfps", "profit_dedt", "roe", "roe_waa", "roe_dt", "roa", "q_roe",
    "grossprofit_margin", "netprofit_margin", "debt_to_assets", "current_ratio", "quick_ratio",
    "assets_turn", "tr_yoy", "or_yoy", "netprofit_yoy", "op_yoy",
)


@dataclass(frozen=True)
class DerivedIndicator:
    """An indicator computed from the PIT income (``i``), balance (``b``) and year-ago income (``y``) rows."""

    name: str
    expression: str
    description: str


#: Percentages, like Tushare's own ratios. ``NULLIF`` keeps a zero denominator NULL rather than an error.
DERIVED_INDICATORS: tuple[DerivedIndicator, ...] = (
    DerivedIndicator("roe_ttm", "100.0 * i.n_income_attr_p_ttm / NULLIF(b.total_hldr_eqy_exc_min_int, 0)",
                     "TTM net income attributable to the parent / parent equity at period end, %"),
    DerivedIndicator("roa_ttm", "100.0 * i.n_income_ttm / NULLIF(b.total_assets, 0)",
                     "TTM net income / total assets at period end, %"),
    DerivedIndicator("gross_margin_ttm", "100.0 * (i.revenue_ttm - i.oper_cost_ttm) / NULLIF(i.revenue_ttm, 0)",
                     "TTM (revenue - cost of revenue) / TTM revenue, %"),
    DerivedIndicator("net_margin_ttm", "100.0 * i.n_income_ttm / NULLIF(i.revenue_ttm, 0)",
                     "TTM net income / TTM revenue, %"),
    DerivedIndicator("revenue_yoy", "100.0 * (i.revenue - y.revenue) / NULLIF(ABS(y.revenue), 0)",
                     "year-to-date revenue vs the same period a year before, %"),
    DerivedIndicator("n_income_attr_p_yoy",
                     "100.0 * (i.n_income_attr_p - y.n_income_attr_p) / NULLIF(ABS(y.n_income_attr_p), 0)",
                     "year-to-date parent net income vs the same period a year before, %"),
    DerivedIndicator("liab_to_assets", "100.0 * b.total_liab / NULLIF(b.total_assets, 0)",
                     "total liabilities / total assets at period end, %"),
)

INDICATOR_FIELDS: tuple[str, ...] = INDICATOR_RAW_FIELDS + tuple(d.name for d in DERIVED_INDICATORS)

INDUSTRY_LEVEL_COLUMNS: dict[int, tuple[str, str]] = {
    1: ("l1_code", "l1_name"),
    2: ("l2_code", "l2_name"),
    3: ("l3_code", "l3_name"),
}

#: Target name -> the PIT table it builds, with the accepted short names.
TABLE_ALIASES: dict[str, str] = {
    "income_quarterly": "income_quarterly",
    "income": "income_quarterly",
    "balance_quarterly": "balance_quarterly",
    "balance": "balance_quarterly",
    "financial_indicators": "financial_indicators",
    "indicators": "financial_indicators",
    "industry_classification": "industry_classification",
    "industry": "industry_classification",
}

#: The build targets in dependency order (indicators read the income and balance tables).
TARGETS: tuple[str, ...] = ("balance_quarterly", "income_quarterly", "financial_indicators",
                            "industry_classification")
TARGET_DEPENDS: dict[str, tuple[str, ...]] = {
    "financial_indicators": ("income_quarterly", "balance_quarterly"),
}

def resolve_table(name: str) -> str:
    """The PIT table called ``name`` (full or short name); ValueError lists the accepted names."""
    try:
        return TABLE_ALIASES[name.strip().lower()]
    except KeyError:
        known = ", ".join(TABLE_ALIASES)
        raise ValueError(f"unknown PIT table {name!r} (expected one of: {known})") from None


@dataclass(frozen=True)
class QueryShape:
    """What ``as_of`` can return for one table: its fields and which of them are flow items."""

    table: str
    fields: tuple[str, ...]
    flow: frozenset[str] = field(default_factory=frozenset)

    @property
    def columns(self) -> tuple[str, ...]:
        """Every value column a query may name: each field, and ``f_sq``/``f_ttm`` after a flow field."""
        out: list[str] = []
        for f in self.fields:
            out.append(f)
            if f in self.flow:
                out += [f"{f}_sq", f"{f}_ttm"]
        return tuple(out)

    def base(self, column: str) -> str:
        """The field a column shows (``revenue_ttm`` -> ``revenue``; a field is its own base)."""
        for suffix in ("_sq", "_ttm"):
            stem = column.removesuffix(suffix)
            if stem != column and stem in self.flow:
                return stem
        return column


QUERY_SHAPES: dict[str, QueryShape] = {
    "income_quarterly": QueryShape("income_quarterly", tuple(INCOME.field_names), frozenset(INCOME.flow_fields)),
    "balance_quarterly": QueryShape("balance_quarterly", tuple(BALANCE.field_names)),
    "financial_indicators": QueryShape("financial_indicators", INDICATOR_FIELDS),
}
