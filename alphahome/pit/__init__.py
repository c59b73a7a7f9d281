"""Point-in-time financial tables (schema ``pit``) and the as-of query layer. See docs/pit.md.

The query functions are re-exported lazily: they pull pandas, which ``alphahome pit update`` never needs.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from alphahome.pit.query import (
        PitQueryError,
        as_of,
        as_of_async,
        industry_as_of,
        industry_as_of_async,
        period_as_of,
        period_as_of_async,
        series,
        series_async,
    )

__all__ = [
    "PitQueryError",
    "as_of",
    "as_of_async",
    "industry_as_of",
    "industry_as_of_async",
    "period_as_of",
    "period_as_of_async",
    "series",
    "series_async",
]


def __getattr__(name: str) -> Any:
    if name in __all__:
        return getattr(importlib.import_module("alphahome.pit.query"), name)
    raise AttributeError(f"module 'alphahome.pit' has no attribute {name!r}")
