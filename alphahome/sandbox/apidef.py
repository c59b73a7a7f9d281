"""How the sandbox describes one Tushare API: the contract between the synthetic market (which knows
the data) and the HTTP server (which knows the protocol: validation order, quotas, paging, fields)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    import pandas as pd

    from alphahome.sandbox.market import Market

#: Tushare's value types: s = string (dates are 'YYYYMMDD' strings), f = float, i = int.
FieldType = Literal["s", "f", "i"]


@dataclass(frozen=True)
class FieldDef:
    """One output column. ``default`` is Tushare's "默认显示": returned when ``fields`` is empty."""

    name: str
    type: FieldType = "f"
    default: bool = True


@dataclass(frozen=True)
class ApiDef:
    """One API as the sandbox serves it.

    ``query`` receives the market and the request's params, already normalised by the server (``null`` and
    ``""`` removed, every value a string, unknown keys dropped, ``offset``/``limit`` removed), and returns
    every matching row with every field (default or not) as a DataFrame: dates as 'YYYYMMDD' strings,
    missing values as None/NaN. Ordering, truncation at ``row_cap``, paging and field selection are the
    server's job, so ``query`` never does them.
    """

    name: str
    fields: tuple[FieldDef, ...]
    #: Documented parameters (others are ignored, as the real service does).
    params: tuple[str, ...]
    #: Each group: at least one of its params must be given, else 40101 "<first> required".
    required: tuple[tuple[str, ...], ...]
    #: Documented maximum rows per call; broader queries are silently truncated (has_more: true).
    row_cap: int
    #: Minimum points tier that may call it (120 / 2000 / 5000).
    min_points: int
    #: Newest-first sort: rows are ordered descending by these columns (then stably by the rest).
    sort_desc: tuple[str, ...]
    query: Callable[[Market, Mapping[str, str]], pd.DataFrame]
    #: API-specific per-minute quota that overrides the tier's default (e.g. stock_basic 50/min).
    per_minute: int | None = None
    #: Below ``full_rate_points`` (the higher of Tushare's two figures, "5000/8000") a token gets the
    #: reduced per-minute quota where Tushare publishes one.
    full_rate_points: int | None = None
    reduced_per_minute: int | None = None
    #: Optional hourly / daily quotas.
    per_hour: int | None = None
    per_day: int | None = None

    def per_minute_for(self, points: int) -> int | None:
        """The API's own per-minute quota for a token with ``points`` (None: the tier's applies)."""
        if (self.reduced_per_minute is not None and self.full_rate_points is not None
                and points < self.full_rate_points):
            return self.reduced_per_minute
        return self.per_minute

    @property
    def field_names(self) -> list[str]:
        """All field names, default and non-default, in the documented order."""
        return [f.name for f in self.fields]

    @property
    def default_field_names(self) -> list[str]:
        """The fields returned when the request's ``fields`` is empty."""
        return [f.name for f in self.fields if f.default]
