"""Safe defaults for unattended runs (docs/monitoring.md): paths never depend on the working directory, exit 2
writes nothing, `config validate` agrees with `tushare update`, and the original's config.json loads."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from alphahome.config.loader import load_settings


def _run(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", "from alphahome.cli import main; main()", *args],
                          capture_output=True, text=True, env=env, cwd=cwd, timeout=120)


def _env(home: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ALPHAHOME_", "TUSHARE_", "DATABASE_URL"))}
    env.update(HOME=str(home), **extra)
    return env


def test_log_paths_and_schedule_do_not_depend_on_the_working_directory(tmp_path):
    confdir = tmp_path / "conf"
    confdir.mkdir()
    config = confdir / "config.json"
    config.write_text("{}")
    (confdir / "tushare_update_config.yaml").write_text(
        "production:\n  log_file: logs/update.log\n  max_workers: 7\n"
        "monitoring:\n  prometheus_textfile: metrics/alphahome.prom\n")
    loaded = load_settings(config, environ={})  # no --schedule-config, no variable: found next to config.json
    production = loaded.settings.schedule.production
    assert production.max_workers == 7
    assert production.log_file == str(confdir / "logs" / "update.log")
    assert loaded.settings.schedule.monitoring.prometheus_textfile == str(confdir / "metrics" / "alphahome.prom")
    bare = tmp_path / "bare.json"
    bare.write_text("{}")
    assert load_settings(bare, environ={}) \
        .settings.schedule.production.log_file == str(tmp_path / "logs" / "tushare_production_update.log")


def test_exit_2_writes_nothing(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    db = tmp_path / "db" / "warehouse.duckdb"
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"database": {"url": f"duckdb:///{db}"}}))
    env = _env(home, ALPHAHOME_CONFIG=str(config))
    # no token
    done = _run(["tushare", "update", "--tasks", "daily"], env, tmp_path)
    assert done.returncode == 2 and "no Tushare token: set TUSHARE_TOKEN" in done.stderr, done.stderr
    # a log location that cannot be created
    blocker = tmp_path / "file"
    blocker.write_text("")
    schedule = tmp_path / "schedule.yaml"
    schedule.write_text(f"production:\n  log_file: {blocker}/sub/update.log\n")
    env2 = {**env, "TUSHARE_TOKEN": "f" * 56, "ALPHAHOME_SCHEDULE_CONFIG": str(schedule)}
    done = _run(["tushare", "update", "--tasks", "daily"], env2, tmp_path)
    assert done.returncode == 2, done.stderr
    assert f"production.log_file: cannot create {blocker}/sub/update.log: {blocker} is not a directory" in done.stderr
    # an unknown dataset under tasks.<name>: update and validate say the same
    config.write_text(json.dumps({"database": {"url": f"duckdb:///{db}"}, "tasks": {"dialy": {"max_retries": 1}}}))
    env3 = {**env, "TUSHARE_TOKEN": "f" * 56}
    update = _run(["tushare", "update"], env3, tmp_path)
    validate = _run(["config", "validate"], env3, tmp_path)
    assert update.returncode == validate.returncode == 2
    assert "tasks.dialy: unknown dataset" in update.stderr and "did you mean 'daily'" in update.stderr
    assert update.stderr == validate.stderr
    assert not db.parent.exists() and not list(home.rglob("*.log")), "exit 2 must create no database, lock or log"
