"""AlphaHome: a Tushare Pro research warehouse with point-in-time financial tables.

The Python front door (each name is imported on first use, so ``import alphahome`` stays cheap)::

    import alphahome

    alphahome.update(["daily"])                                  # the smart update (alphahome.api)
    alphahome.as_of("income", "2024-05-06", fields=["revenue"])  # PIT reads, read-only (alphahome.pit)
    pro = alphahome.pro_api()                                     # Tushare's calls, answered locally
    alphahome.bars("000001.SZ", "2024-01-01", "2024-06-30", adjust="qfq")   # adjusted prices
    async with alphahome.open_backend(read_only=True) as db: ...  # the configured database

Layers and where to add things: docs/architecture.md.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from alphahome.api import load, open_backend, request, update, update_async  # noqa: F401
    from alphahome.data import bars, pro_api, query  # noqa: F401
    from alphahome.pit.query import (  # noqa: F401
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

#: public name -> the module defining it.
_EXPORTS: dict[str, str] = {
    **dict.fromkeys(("load", "open_backend", "request", "update", "update_async"), "alphahome.api"),
    **dict.fromkeys(("bars", "pro_api", "query"), "alphahome.data"),
    **dict.fromkeys(
        (
            "PitQueryError",
            "as_of",
            "as_of_async",
            "industry_as_of",
            "industry_as_of_async",
            "period_as_of",
            "period_as_of_async",
            "series",
            "series_async",
        ),
        "alphahome.pit.query",
    ),
}

__all__ = ["__version__", *sorted(_EXPORTS)]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'alphahome' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
