"""Which failures are worth another try, and when a dataset's failures are systematic (docs/monitoring.md).

A lost connection, a deadlock, a serialization failure or a server shutting down may pass; a missing
column, a permission refused, a full disk, a constraint violated or a bad batch will not: retrying those
only multiplies API calls. :class:`FailureStreak` stops a dataset once several consecutive batches fail
with the same non-transient error."""

from __future__ import annotations

import re

from alphahome.errors import DataValidationError, StorageError

#: SQLSTATE classes that may pass: 08 connection, 40 transaction rollback (deadlock, serialization),
#: 53 insufficient resources (too many connections), 57 operator intervention (shutdown, cancel), 58 I/O.
_TRANSIENT_SQLSTATE_CLASSES = ("08", "40", "53", "57", "58")
#: Consecutive batches failing with one non-transient error before the dataset stops.
SYSTEMATIC_AFTER = 3


def _causes(exc: BaseException) -> list[BaseException]:
    chain: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in chain:
        chain.append(current)
        current = current.__cause__ or current.__context__
    return chain


def is_transient_storage_error(exc: BaseException) -> bool:
    """True when a failed save may succeed if tried again (a connection or locking problem)."""
    if isinstance(exc, DataValidationError):
        return False
    for cause in _causes(exc):
        state = getattr(cause, "sqlstate", None)
        if isinstance(state, str) and state:
            return state[:2] in _TRANSIENT_SQLSTATE_CLASSES
        name = type(cause).__name__
        if name in ("TransactionException", "IOException", "InterruptException"):  # DuckDB
            return True
        if isinstance(cause, ConnectionError | TimeoutError) or name in ("InterfaceError",
                                                                          "ConnectionDoesNotExistError"):
            return True
    return isinstance(exc, StorageError) and "connection problem" in str(exc)


_NUMBERS = re.compile(r"\d+")


def failure_signature(exc: BaseException) -> str:
    """The error with its numbers blanked, so the same fault on different batches compares equal."""
    return f"{type(exc).__name__}: {_NUMBERS.sub('#', str(exc))}"


class FailureStreak:
    """Counts consecutive failures with one signature; any success resets it."""

    def __init__(self, limit: int = SYSTEMATIC_AFTER) -> None:
        self.limit = limit
        self.signature: str | None = None
        self.count = 0

    def success(self) -> None:
        """A batch went through: the streak is broken."""
        self.signature, self.count = None, 0

    def failure(self, exc: BaseException) -> bool:
        """Record a non-transient failure; True once ``limit`` consecutive ones share a signature."""
        signature = failure_signature(exc)
        if signature == self.signature:
            self.count += 1
        else:
            self.signature, self.count = signature, 1
        return self.count >= self.limit
