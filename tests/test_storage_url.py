"""Database URL parsing and masking (no database needed)."""

from __future__ import annotations

import os

import pytest

from alphahome.errors import ConfigError
from alphahome.storage.url import mask_url, parse_database_url


def test_postgres_url_parts() -> None:
    url = parse_database_url("postgresql://alice:s3cret@db.example:6543/market")
    assert (url.kind, url.host, url.port, url.user, url.database) == (
        "postgres",
        "db.example",
        6543,
        "alice",
        "market",
    )
    assert url.dsn == "postgresql://alice:s3cret@db.example:6543/market"
    assert url.masked == "postgresql://alice:***@db.example:6543/market"
    assert "s3cret" not in repr(url) and "s3cret" not in str(url)


def test_postgres_alias_and_default_port() -> None:
    url = parse_database_url("postgres://bob@localhost/warehouse")
    assert (url.kind, url.port, url.database) == ("postgres", 5432, "warehouse")


def test_duckdb_paths(tmp_path) -> None:
    assert parse_database_url("duckdb:///data/x.duckdb").path == "/data/x.duckdb"
    assert parse_database_url(f"duckdb:///{tmp_path}/a.duckdb").path == f"{tmp_path}/a.duckdb"
    home = parse_database_url("duckdb:///~/.alphahome/alphahome.duckdb")
    assert home.path == os.path.join(os.path.expanduser("~"), ".alphahome", "alphahome.duckdb")
    memory = parse_database_url("duckdb:///:memory:")
    assert memory.in_memory and memory.kind == "duckdb"


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("", "empty"),
        ("just-a-path.duckdb", "expected postgresql://"),
        ("mysql://u:hunter22@h/db", "unsupported scheme 'mysql://'"),
        ("duckdb://relative/file.duckdb", "three slashes"),
        ("duckdb:///", "no file path"),
        ("duckdb:///:nonsense:", "only :memory:"),
        ("postgresql://u:hunter22@host:notaport/db", "bad port"),
        ("postgresql://u:hunter22@host:99999/db", "bad port"),
        ("postgresql://u:hunter22@host:5432", "names no database"),
        ("postgresql://u:hunter22@host:5432/", "names no database"),
        ("postgresql://u:hun@ter22@host:5432/db", "percent-encode"),
    ],
)
def test_malformed_urls_name_the_problem_and_mask_the_password(url: str, problem: str) -> None:
    with pytest.raises(ConfigError) as excinfo:
        parse_database_url(url)
    message = str(excinfo.value)
    assert problem in message
    assert "hunter22" not in message and "ter22" not in message


def test_mask_url_handles_odd_passwords() -> None:
    assert mask_url("postgresql://u:p@ss:w/rd@h:5432/db") == "postgresql://u:***@h:5432/db"
    assert mask_url("postgresql://u@h/db") == "postgresql://u@h/db"
    assert mask_url("duckdb:///x.duckdb") == "duckdb:///x.duckdb"
