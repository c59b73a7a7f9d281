"""The project's exception hierarchy. Each error knows the CLI exit code it maps to (docs/architecture.md, "Exit codes"):
2 for bad usage or configuration and for a run that cannot start (database unreachable, token rejected),
1 for a run in which something failed."""

from __future__ import annotations


class AlphaHomeError(Exception):
    """Base of every error AlphaHome reports to a user as one clear line."""

    exit_code: int = 1


class ConfigError(AlphaHomeError):
    """Invalid configuration or flags; nothing has been written."""

    exit_code = 2


class StorageError(AlphaHomeError):
    """A database operation failed."""


class ConnectionFailed(StorageError):
    """The database cannot be reached or opened (unreachable, wrong password, missing database, bad path)."""

    exit_code = 2


class DataValidationError(StorageError):
    """A batch violates its table spec (e.g. NULL in a non-nullable key column); nothing was written."""


class RunLockHeld(AlphaHomeError):
    """Another run holds the run lock of this database."""
