"""Read the warehouse back the way researchers do (docs/data-api.md).

- :func:`query` — rows of one synced dataset, filtered by codes, a date range and column values
- :func:`bars` — daily, weekly or monthly bars, unadjusted or adjusted (``qfq``/``hfq``) with ``adj_factor``
- :func:`pro_api` — a local stand-in for ``tushare.pro_api()``: Tushare's calls and answers, no token

Every function takes ``db``: None for the configured database, a database URL, or an open
:class:`alphahome.storage.SyncBackend`. DuckDB files are opened read-only, so notebooks and a running
update can share one file.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from alphahome.data.local_pro import LocalProApi, pro_api
    from alphahome.data.price_bars import bars
    from alphahome.data.rows import DataQueryError, query

__all__ = ["DataQueryError", "LocalProApi", "bars", "pro_api", "query"]

_HOMES = {
    "bars": "alphahome.data.price_bars",
    "query": "alphahome.data.rows",
    "DataQueryError": "alphahome.data.rows",
    "pro_api": "alphahome.data.local_pro",
    "LocalProApi": "alphahome.data.local_pro",
}


def __getattr__(name: str) -> Any:
    # Lazy: `import alphahome.data` must not pull pandas/duckdb in until a function is used.
    module = _HOMES.get(name)
    if module is None:
        raise AttributeError(f"module 'alphahome.data' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module), name)
