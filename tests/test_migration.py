"""Moving from the original AlphaHome (docs/migration.md): its launch forms and its config.json."""

from __future__ import annotations

import json
import logging
import os
import subprocess
from pathlib import Path

import pytest

from alphahome.config.loader import load_settings
from alphahome.errors import ConfigError
from alphahome.updater.launch_args import pit_launcher_args, tushare_launcher_args

ROOT = Path(__file__).resolve().parents[1]
LAUNCHERS = ROOT / "scripts" / "production" / "data_updaters"


def test_positional_launch_forms_become_flags():
    assert tushare_launcher_args(["5", "3", "5", "INFO"]) == [
        "--workers", "5", "--max_retries", "3", "--retry_delay", "5", "--log_level", "INFO"]
    assert tushare_launcher_args(["5", "--dry-run"]) == ["--workers", "5", "--dry-run"]
    assert tushare_launcher_args(["--workers", "2"]) == ["--workers", "2"]
    assert pit_launcher_args(["income", "full", "true"]) == ["--target", "income", "--mode", "full", "--parallel"]
    assert pit_launcher_args(["balance", "incremental", "false"]) == ["--target", "balance", "--mode", "incremental"]
    with pytest.raises(ConfigError, match="parallel must be true or false, got 'maybe'"):
        pit_launcher_args(["income", "full", "maybe"])
    with pytest.raises(ConfigError, match="too many positional arguments"):
        tushare_launcher_args(["1", "2", "3", "INFO", "x"])


PIT_TABLES = ("income_quarterly", "balance_quarterly", "financial_indicators", "industry_classification")


def _built(stdout: str) -> list[str]:
    """The targets of the build summary (one line per target, first word its name)."""
    return [line.split()[0] for line in stdout.splitlines() if line.split() and line.split()[0] in PIT_TABLES]


def _env(tmp_path: Path, db_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ALPHAHOME_", "TUSHARE_", "DATABASE_URL"))}
    config = tmp_path / "config.json"
    config.write_text("{}")
    schedule = tmp_path / "schedule.yaml"
    schedule.write_text("production:\n  log_file: ''\n")
    env.update(HOME=str(tmp_path), DATABASE_URL=db_url, TUSHARE_TOKEN="f" * 56, ALPHAHOME_CONFIG=str(config),
               ALPHAHOME_SCHEDULE_CONFIG=str(schedule), PYTHON=str(Path(os.sys.executable)))
    return env


def test_the_sh_launchers_take_the_original_positional_forms(duckdb_url, tmp_path):
    env = _env(tmp_path, duckdb_url)
    done = subprocess.run(["bash", str(LAUNCHERS / "tushare" / "start_tushare_smart_update.sh"),
                           "5", "3", "5", "INFO", "--dry-run", "--tasks", "stock_basic"],
                          env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "Dry run" in done.stdout and "stock_basic" in done.stdout

    done = subprocess.run(["bash", str(LAUNCHERS / "pit" / "start_pit_data_update.sh"), "income", "full", "true"],
                          env=env, cwd=tmp_path, capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr
    assert _built(done.stdout) == ["income_quarterly"]  # --target income builds only income, in full mode
    assert "full" in done.stdout.split()


def test_pit_update_takes_a_space_separated_target_list(duckdb_url, tmp_path):
    env = _env(tmp_path, duckdb_url)
    done = subprocess.run([os.sys.executable, "-c", "from alphahome.cli import main; main()",
                           "pit", "update", "--target", "balance", "income"],
                          env=env, cwd=tmp_path, capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr
    assert sorted(_built(done.stdout)) == ["balance_quarterly", "income_quarterly"]


def test_the_original_config_json_loads_with_one_warning(tmp_path, caplog):
    # The original's config.json as its deployment guide describes it: database, api token, per-task keys,
    # and sections AlphaHome does not use.
    original = {
        "_comment": "AlphaHome 配置文件",
        "database": {"url": "postgresql://alpha:secret@db.example.com:5432/alphadb",
                     "pool_config": {"min_size": 2, "max_size": 8, "command_timeout": 120,
                                     "server_settings": {"application_name": "alphahome"}}},
        "api": {"tushare_token": "a" * 56, "_comment_token": "Tushare Pro 令牌",
                "ifind": {"username": "u", "password": "p"}, "tinysoft": {"server": "tsl.example.com"}},
        "tasks": {"daily": {"save_batch_size": 5000, "concurrent_limit": 2, "max_retries": 5, "retry_delay": 3,
                            "_comment": "日线"}},
        "performance": {"use_cache": True},
        "backtesting": {"initial_cash": 1000000},
        "dolphindb": {"host": "localhost", "port": 8848},
        "update_frequency": {"daily": "18:30"},
    }
    path = tmp_path / "config.json"
    path.write_text(json.dumps(original, ensure_ascii=False), encoding="utf-8")
    with caplog.at_level(logging.WARNING, logger="alphahome.config"):
        settings = load_settings(path, environ={}).settings
    assert settings.database.backend == "postgresql" and settings.database.pool_config.max_size == 8
    assert settings.api.tushare_token is not None and settings.api.tushare_token.get_secret_value() == "a" * 56
    daily = settings.task_overrides("daily")
    assert (daily.save_batch_size, daily.concurrent_limit, daily.max_retries, daily.retry_delay) == (5000, 2, 5, 3)
    warnings = [r.getMessage() for r in caplog.records if r.name == "alphahome.config"]
    assert len(warnings) == 1
    for name in ("_comment", "api._comment_token", "api.ifind", "api.tinysoft", "tasks.daily._comment",
                 "performance", "backtesting", "dolphindb", "update_frequency"):
        assert name in warnings[0]
    assert "secret" not in warnings[0] and "a" * 56 not in warnings[0]
