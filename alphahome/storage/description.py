"""What kind of database a URL leads to, for ``alphahome status`` and ``config show``: DuckDB, a single
PostgreSQL node, or a Citus cluster with its number of workers (docs/scale-out.md)."""

from __future__ import annotations

from typing import Any

from alphahome.errors import AlphaHomeError
from alphahome.storage.base import Backend, open_backend

#: ``config show`` waits at most this long for the server (it must answer even when the database is down).
PROBE_TIMEOUT = 5.0


def describe_backend(backend: Backend) -> dict[str, Any]:
    """A connected backend as a small document: ``kind`` (duckdb, postgresql, citus), ``version``, and for
    Citus ``workers`` and ``shard_count``; ``text`` says it in one line."""
    if backend.kind == "duckdb":
        return {"kind": "duckdb", "text": "DuckDB (embedded)"}
    version = ".".join(map(str, getattr(backend, "server_version", ()))) or "unknown"
    cluster = getattr(backend, "citus", None)
    if cluster is None:
        return {"kind": "postgresql", "version": version, "text": f"PostgreSQL {version} (single node)"}
    return {
        "kind": "citus",
        "version": version,
        "citus_version": cluster.version,
        "workers": cluster.workers,
        "shard_count": cluster.shard_count,
        "text": f"{cluster.describe()} on PostgreSQL {version}",
    }


async def probe_database(url: str, citus_mode: str = "auto") -> dict[str, Any]:
    """Connect briefly and describe the database; a DuckDB file is not opened (that would create it).
    A server that cannot be reached (or a failed check) gives ``kind`` ``"error"`` and the reason, never an
    exception."""
    if url.lower().startswith("duckdb:"):
        return {"kind": "duckdb", "text": "DuckDB (embedded)"}
    backend = open_backend(url, {"min_size": 1, "max_size": 1, "timeout": PROBE_TIMEOUT}, citus=citus_mode)
    try:
        await backend.connect()
        return describe_backend(backend)
    except AlphaHomeError as exc:
        return {"kind": "error", "text": f"not checked: {exc}"}
    finally:
        await backend.close()
