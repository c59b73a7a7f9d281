"""``alphahome pit update`` / ``alphahome pit query`` and the production wrapper, on both backends: exit
codes, output shape (DESIGN.md §3), run history, and clear errors for bad input."""

from __future__ import annotations

import asyncio
import io
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from test_pit_oracle import generate_raw, load_raw

from alphahome.cli import main
from alphahome.pit import query as pq

ROOT = Path(__file__).resolve().parents[1]
WRAPPER = ROOT / "scripts/production/data_updaters/pit/pit_data_update_production.py"


def run_cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exit_info:
        main(args)
    out, err = capsys.readouterr()
    return int(exit_info.value.code or 0), out, err


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No user config file leaks into the test."""
    config = tmp_path / "config.json"
    config.write_text("{}")
    monkeypatch.setenv("ALPHAHOME_CONFIG", str(config))
    monkeypatch.delenv("TUSHARE_TOKEN", raising=False)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--table", "incom", "--date", "2020-01-01"], "unknown PIT table 'incom'"),
        (["--table", "income", "--date", "2020-13-01"], "not a calendar date"),
        (["--table", "income", "--date", "yesterday"], "expected a date"),
        (["--table", "income", "--date", "20200101", "--fields", "revenue,bogus"], "bogus"),
        (["--table", "industry", "--date", "20200101", "--fields", "revenue"],
         "unknown field(s) for industry_classification: revenue (valid: l1_code"),
    ],
)
def test_query_bad_input_exits_2(args: list[str], message: str, env: None, capsys: pytest.CaptureFixture[str],
                                 monkeypatch: pytest.MonkeyPatch) -> None:
    # A database that cannot be reached: bad input must be refused before any connection is tried.
    monkeypatch.setenv("DATABASE_URL", "postgresql://nobody:secret@127.0.0.1:1/none")
    code, _, err = run_cli(["pit", "query", *args], capsys)
    assert code == 2
    assert message in err and "secret" not in err
    assert "Traceback" not in err


def test_update_bad_target_exits_2(env: None, capsys: pytest.CaptureFixture[str],
                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://nobody:secret@127.0.0.1:1/none")
    code, _, err = run_cli(["pit", "update", "--target", "cashflow"], capsys)
    assert code == 2 and "unknown --target 'cashflow'" in err


def test_update_unreachable_database_is_one_line(env: None, capsys: pytest.CaptureFixture[str],
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://nobody:secret@127.0.0.1:1/none")
    code, _, err = run_cli(["pit", "update", "--target", "income"], capsys)
    assert code == 2
    assert "secret" not in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1, err


def test_update_and_query(database_url: str, env: None, capsys: pytest.CaptureFixture[str],
                          monkeypatch: pytest.MonkeyPatch) -> None:
    from alphahome.storage import open_backend, open_sync

    raw = generate_raw(seed=3, n_stocks=4)

    async def load() -> None:
        async with open_backend(database_url) as backend:
            await load_raw(backend, raw)

    asyncio.run(load())
    monkeypatch.setenv("DATABASE_URL", database_url)

    code, out, _ = run_cli(["pit", "update", "--target", "all", "--mode", "full", "--parallel",
                            "--workers", "2", "--log-level", "WARNING"], capsys)
    assert code == 0, out
    for target in ("balance_quarterly", "income_quarterly", "financial_indicators", "industry_classification"):
        assert target in out and "success" in out

    # the production wrapper, as cron runs it: nothing changed within the margin is redone, exit 0
    proc = subprocess.run([sys.executable, str(WRAPPER), "--target", "indicators", "--log_level", "WARNING"],
                          env={**os.environ, "DATABASE_URL": database_url}, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "financial_indicators" in proc.stdout and "income_quarterly" in proc.stdout

    day = "2018-05-15"
    code, out, _ = run_cli(["pit", "query", "--table", "income", "--date", day.replace("-", ""),
                            "--fields", "revenue,basic_eps", "--format", "csv"], capsys)
    assert code == 0
    got = pd.read_csv(io.StringIO(out))
    assert list(got.columns) == ["ts_code", "end_date", "knowledge_date", "revenue", "revenue_sq",
                                 "revenue_ttm", "basic_eps"]
    with open_sync(database_url) as db:
        want = pq.as_of("income", day, fields=["revenue", "basic_eps"], db=db)
        runs = db.fetch_df("SELECT task, kind, status, mode FROM alphahome.run_history WHERE kind = 'pit'")
    assert len(got) == len(want) > 0
    assert list(got["ts_code"]) == list(want["ts_code"])
    assert list(got["end_date"]) == [d.strftime("%Y-%m-%d") for d in want["end_date"]]
    assert all(k <= day for k in got["knowledge_date"])
    pd.testing.assert_series_equal(got["revenue"], want["revenue"], check_names=False)
    assert set(runs["task"]) == {"balance_quarterly", "income_quarterly", "financial_indicators",
                                 "industry_classification"}
    assert set(runs["status"]) == {"success"}

    code, out, _ = run_cli(["pit", "query", "--table", "industry", "--date", day,
                            "--codes", "600000.SH,600001.SH"], capsys)
    assert code == 0
    lines = out.strip().splitlines()
    assert lines[0].split() == ["ts_code", "l1_code", "l1_name", "l2_code", "l2_name", "l3_code", "l3_name"]
    assert [line.split()[0] for line in lines[1:]] == ["600000.SH", "600001.SH"]

    code, out, _ = run_cli(["pit", "query", "--table", "balance", "--date", "1990-01-01"], capsys)
    assert code == 0 and "(no rows)" in out
