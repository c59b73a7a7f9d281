"""Database URLs: which backend a URL names, where it points, and how to show it without its password.

The one place that reads a database URL: the settings model validates with :func:`database_url_problem`,
the backends open :func:`parse_database_url`'s result, logs and errors show :func:`mask_url`, and the
secret filter learns the password from :func:`url_password`.

DuckDB paths: ``duckdb:///data/x.duckdb`` and ``duckdb:////data/x.duckdb`` are both ``/data/x.duckdb``;
``duckdb:///~/x.duckdb`` is under the home directory; ``duckdb:///C:/x.duckdb`` a Windows drive.
"""

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


def url_password(url: str) -> str | None:
    """The password written in a database URL (as written, still percent-encoded), or None."""
    m = _USERINFO.match(url)
    if not m:
        return None
    _user, colon, password = m.group("userinfo")[:-1].partition(":")
    return password if colon and password else None


def mask_url(url: str) -> str:
    """``url`` with its password replaced by ``***`` (works on malformed URLs too)."""
    m = _USERINFO.match(url)
    if not m or url_password(url) is None:
        return url
    user = m.group("userinfo")[:-1].split(":", 1)[0]
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


_EXPECTED = "expected postgresql://user:password@host:port/database or duckdb:///path/file.duckdb"
_BAD_PORT = (
    "bad port: the port is not a number between 1 and 65535 (if the user name or password contains "
    "@ : / ? or #, percent-encode it, e.g. @ as %40)"
)


class _BadURL(ValueError):
    """A URL problem, in words that never repeat the password."""


def database_url_problem(url: str) -> str | None:
    """What is wrong with a database URL (never repeating its password); None if it is usable."""
    try:
        _parse(url)
    except _BadURL as exc:
        return str(exc)
    return None


def parse_database_url(url: str) -> DatabaseURL:
    """Parse ``postgresql://user:pass@host:port/db`` (or ``postgres://``) and ``duckdb:///path/file.duckdb``.

    ``~`` in a DuckDB path is expanded; ``duckdb:///:memory:`` names a private in-memory database.
    A malformed URL raises :class:`ConfigError` naming the problem, with the password masked.
    """
    try:
        return _parse(url)
    except _BadURL as exc:
        shown = f" {mask_url(url.strip())!r}" if isinstance(url, str) and url.strip() else ""
        raise ConfigError(f"invalid database URL{shown}: {exc}") from None


def _parse(url: str) -> DatabaseURL:
    if not isinstance(url, str) or not url.strip():
        raise _BadURL("it is empty")
    url = url.strip()
    scheme, sep, rest = url.partition("://")
    if not sep:
        raise _BadURL(f"not a database URL: {_EXPECTED}")
    scheme = scheme.lower()
    if scheme == "duckdb":
        return _parse_duckdb(url, rest)
    if scheme in POSTGRES_SCHEMES:
        return _parse_postgres(url)
    # The scheme is shown only when it cannot be a pasted secret.
    shown = f"'{scheme}://'" if re.fullmatch(r"[a-z0-9+.\-]{1,20}", scheme) else "in the URL"
    raise _BadURL(f"unsupported scheme {shown}: {_EXPECTED}")


def _parse_duckdb(url: str, rest: str) -> DatabaseURL:
    if not rest.startswith("/"):
        raise _BadURL("a DuckDB URL needs three slashes and a path: duckdb:///path/file.duckdb")
    # duckdb:///abs/path and duckdb:////abs/path -> "/abs/path"; duckdb:///~/x -> "~/x";
    # duckdb:///C:/x -> "C:/x" (Windows); duckdb:///:memory: -> ":memory:"
    stripped = rest.lstrip("/")
    if stripped.startswith(("~", ":")) or _WINDOWS_DRIVE.match(stripped):
        path = stripped
    else:
        path = "/" + stripped
    if "?" in path or "#" in path:
        raise _BadURL("DuckDB URLs take no query string or fragment")
    if path in ("", "/") or not stripped.strip():
        raise _BadURL("the DuckDB URL has no file path: expected duckdb:///path/to/file.duckdb")
    if path != DUCKDB_MEMORY:
        if path.startswith(":"):
            raise _BadURL(f"unknown special DuckDB database {path!r} (only :memory:)")
        path = os.path.abspath(os.path.expanduser(unquote(path)))
        if path.endswith(os.sep):
            raise _BadURL("the DuckDB path names a directory, not a file")
    return DatabaseURL(kind="duckdb", raw=url, path=path)


def _parse_postgres(url: str) -> DatabaseURL:
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        # urlsplit's messages never contain the password, but may echo a port value; keep it generic.
        problem = _BAD_PORT if "port" in str(exc).lower() else str(exc)
        raise _BadURL(problem) from None
    if port is not None and not 1 <= port <= 65535:
        raise _BadURL(_BAD_PORT)
    if not parts.hostname:
        raise _BadURL(f"the URL names no host: {_EXPECTED}")
    if parts.netloc.count("@") > 1:
        raise _BadURL("more than one '@': percent-encode '@' in the user name or password as %40")
    database = unquote(parts.path.lstrip("/"))
    if not database:
        raise _BadURL(f"the URL names no database (…/database at the end): {_EXPECTED}")
    if "/" in database:
        raise _BadURL("the database name contains '/' (a password with / ? or # must be percent-encoded)")
    return DatabaseURL(
        kind="postgres",
        raw=url,
        dsn=url,
        host=parts.hostname or "localhost",
        port=port or 5432,
        user=unquote(parts.username or ""),
        database=database,
    )
