"""Backend options and capabilities: plain values, importable without the database drivers (the settings
model uses them)."""

from __future__ import annotations

import re
from dataclasses import dataclass

#: How long a DuckDB writer waits for a file another process holds (``database.duckdb_lock_wait_seconds``).
DEFAULT_LOCK_WAIT_SECONDS = 60.0
#: DuckDB's buffer-pool cap unless configured (``database.duckdb_memory_limit``): half the machine's RAM,
#: leaving room for the Python side of a sync (DuckDB's own default is 80%).
DEFAULT_DUCKDB_MEMORY_LIMIT = "50%"
_MEMORY_LIMIT = re.compile(r"\d+(\.\d+)?\s*(%|B|KB|MB|GB|TB|KIB|MIB|GIB|TIB)", re.IGNORECASE)


def memory_limit_problem(value: str) -> str | None:
    """What is wrong with a DuckDB memory limit (``"4GB"``, ``"512MiB"``, ``"50%"``); None if usable."""
    text = value.strip()
    if not _MEMORY_LIMIT.fullmatch(text):
        return f"expected a size such as '4GB', '512MiB' or a share of RAM such as '50%', got {value!r}"
    if text.endswith("%") and not 0 < float(text[:-1].strip()) <= 100:
        return f"a share of RAM must be above 0% and at most 100%, got {value!r}"
    return None


@dataclass(frozen=True)
class DuckDBOptions:
    """Settings every DuckDB connection gets (see docs/architecture.md, "Readers and writers").

    ``memory_limit``: DuckDB's buffer-pool cap (``"4GB"``, ``"50%"`` of RAM). ``threads``: DuckDB's worker
    threads (None: one per CPU core). ``lock_wait_seconds``: how long opening waits while another process
    holds the file, before failing with the holder's pid.
    """

    memory_limit: str = DEFAULT_DUCKDB_MEMORY_LIMIT
    threads: int | None = None
    lock_wait_seconds: float = DEFAULT_LOCK_WAIT_SECONDS

    def __post_init__(self) -> None:
        problem = memory_limit_problem(self.memory_limit)
        if problem:
            raise ValueError(f"duckdb memory_limit: {problem}")
        if self.threads is not None and self.threads < 1:
            raise ValueError(f"duckdb threads must be at least 1, got {self.threads}")
        if self.lock_wait_seconds < 0:
            raise ValueError(f"duckdb lock_wait_seconds must be 0 or more, got {self.lock_wait_seconds}")


@dataclass(frozen=True)
class Capabilities:
    """Where the two backends differ, stated once (docs/architecture.md, "Backends").

    * ``writers_across_processes``: several processes may write at once (PostgreSQL). A DuckDB file has
      one writing process, or any number of read-only ones.
    * ``parallel_statements``: statements of concurrent tasks run at the same time (a PostgreSQL pool);
      DuckDB runs one statement at a time on its single connection.
    * ``key_index``: keys are backed by a unique index (PostgreSQL). DuckDB enforces keys in the merge
      itself (its ART indexes slow bulk updates and treat NULL keys as distinct).
    * ``secondary_indexes``: a spec's ``indexes`` are created (PostgreSQL); DuckDB relies on zone maps.
    * ``statement_timeout``: ``pool_config.command_timeout`` bounds each statement (PostgreSQL only).
    * ``pool``: ``pool_config`` applies (PostgreSQL only; DuckDB has one connection).

    Both backends: transactions do not nest (a second ``transaction()`` in a task that has one open raises
    :class:`StorageError`), and writes beside an open transaction in the same task are refused.
    """

    writers_across_processes: bool
    parallel_statements: bool
    key_index: bool
    secondary_indexes: bool
    statement_timeout: bool
    pool: bool
