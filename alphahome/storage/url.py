"""Database URLs: which backend a URL names, where it points, and how to show it without its password."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import Literal
from urllib.parse import unquote, urlsplit

from alphahome.errors import ConfigError

BackendKind = Literal["duckdb", "postgres"]

_WINDOWS_DRIVE = re.compile(r"^[A-Za-z]:[/\\]")

POSTGRES_SCHEMES = frozenset({"postgresql", "postgres"})
DUCKDB_MEMORY = ":memory:"

# scheme://userinfo@rest — the password is everything after the first ':' of the userinfo, which ends at
# the *last* '@' (an unescaped '@' or '/' inside a password must still be masked; masking too much is safe).
_USERINFO = re.compile(r"^(?P<head>[A-Za-z][A-Za-z0-9+.-]*://)(?P<userinfo>.*@)(?P<rest>.*)$", re.S)


def mask_url(url: str) -> str:
    """``url`` with its password replaced by ``***`` (works on malformed URLs too)."""
    m = _USERINFO.match(url)
    if not m:
        return url
    userinfo = m.group("userinfo")[:-1]
    if ":" not in userinfo:
        return url
    user = userinfo.split(":", 1)[0]
    return f"{m.group('head')}{user}:***@{m.group('rest')}"


@dataclass(frozen=True)
class DatabaseURL:
    """A parsed database URL. ``dsn`` is what the PostgreSQL driver receives; ``path`` the DuckDB file."""

    kind: BackendKind
    raw: str
    dsn: str = ""
    host: str = ""
    port: int | None = None
    user: str = ""
    database: str = ""
    path: str = ""

    @property
    def masked(self) -> str:
        """The URL as it may appear in logs and errors."""
        return mask_url(self.raw)

    @property
    def in_memory(self) -> bool:
        """True for ``duckdb:///:memory:``."""
        return self.kind == "duckdb" and self.path == DUCKDB_MEMORY

    def __str__(self) -> str:
        return self.masked

    def __repr__(self) -> str:
        return f"DatabaseURL({self.masked!r})"


def _invalid(url: str, problem: str) -> ConfigError:
    return ConfigError(f"invalid database URL {mask_url(url)!r}: {problem}")


def parse_database_url(url: str) -> DatabaseURL:
    """Parse ``postgresql://user:pass@host:port/db`` (or ``postgres://``) and ``duckdb:///path/file.duckdb``.

    ``~`` in a DuckDB path is expanded; ``duckdb:///:memory:`` names a private in-memory database.
    A malformed URL raises :class:`ConfigError` naming the problem, with the password masked.
    """
    if not isinstance(url, str) or not url.strip():
        raise ConfigError("invalid database URL: it is empty")
    url = url.strip()
    scheme, sep, rest = url.partition("://")
    if not sep:
        raise _invalid(
            url, "expected postgresql://user:password@host:port/database or duckdb:///path/file.duckdb"
        )
    scheme = scheme.lower()
    if scheme == "duckdb":
        return _parse_duckdb(url, rest)
    if scheme in POSTGRES_SCHEMES:
        return _parse_postgres(url)
    raise _invalid(url, f"unknown scheme {scheme!r} (use postgresql:// or duckdb:///)")


def _parse_duckdb(url: str, rest: str) -> DatabaseURL:
    if not rest.startswith("/"):
        raise _invalid(url, "a DuckDB URL needs three slashes and a path: duckdb:///path/file.duckdb")
    # duckdb:///abs/path and duckdb:////abs/path -> "/abs/path"; duckdb:///~/x -> "~/x";
    # duckdb:///C:/x -> "C:/x" (Windows); duckdb:///:memory: -> ":memory:"
    stripped = rest.lstrip("/")
    if stripped.startswith(("~", ":")) or _WINDOWS_DRIVE.match(stripped):
        path = stripped
    else:
        path = "/" + stripped
    if "?" in path or "#" in path:
        raise _invalid(url, "DuckDB URLs take no query string or fragment")
    if path in ("", "/"):
        raise _invalid(url, "missing the DuckDB file path")
    if path != DUCKDB_MEMORY:
        if path.startswith(":"):
            raise _invalid(url, f"unknown special DuckDB database {path!r} (only :memory:)")
        path = os.path.abspath(os.path.expanduser(unquote(path)))
        if path.endswith(os.sep):
            raise _invalid(url, "the DuckDB path names a directory, not a file")
    return DatabaseURL(kind="duckdb", raw=url, path=path)


def _parse_postgres(url: str) -> DatabaseURL:
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        # urlsplit's messages never contain the password, but may echo a port value; keep it generic.
        problem = "bad port (must be a number 1-65535)" if "port" in str(exc).lower() else str(exc)
        raise _invalid(url, problem) from None
    if port is not None and not 1 <= port <= 65535:
        raise _invalid(url, "bad port (must be a number 1-65535)")
    if parts.netloc.count("@") > 1:
        raise _invalid(url, "more than one '@': percent-encode '@' in the user name or password as %40")
    database = unquote(parts.path.lstrip("/"))
    if not database:
        raise _invalid(url, "missing the database name (…/database at the end)")
    if "/" in database:
        raise _invalid(url, f"the database name {database!r} contains '/'")
    return DatabaseURL(
        kind="postgres",
        raw=url,
        dsn=url,
        host=parts.hostname or "localhost",
        port=port or 5432,
        user=unquote(parts.username or ""),
        database=database,
    )
