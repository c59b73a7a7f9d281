"""Run history, status, check and the Prometheus textfile on both backends (docs/monitoring.md): after a real
update against the sandbox and a PIT build, `runs`, `status --format json`, `check` and the metrics file
report what the database holds."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from conftest import SANDBOX_END
from prometheus_client.parser import text_string_to_metric_families
from test_update_support import cli_env, run_cli

from alphahome.sandbox.server import run_sandbox_in_thread
from alphahome.sandbox.tokens import TOKEN_5000
from alphahome.tasks.catalogue import CATALOGUE

KEPT = ("trade_cal", "stock_basic", "daily")


@pytest.fixture(scope="module")
def sandbox():
    with run_sandbox_in_thread(seed=42, scale="small", end_date=SANDBOX_END) as server:
        yield server


def _files(tmp_path, start: str, metrics):
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"tasks": {"daily": {"default_start_date": start}}}))
    schedule = tmp_path / "schedule.yaml"
    excluded = [s.name for s in CATALOGUE if s.name not in KEPT]
    schedule.write_text(
        "production:\n  retry_delay: 0.05\n  log_file: ''\n"
        f"task_filter:\n  exclude_tasks: {json.dumps(excluded)}\n"
        f"monitoring:\n  prometheus_textfile: {metrics}\n")
    return config, schedule


def _json(done):
    assert done.returncode in (0, 1), done.stderr
    return json.loads(done.stdout)


def test_runs_status_check_and_metrics_after_an_update(sandbox, database_url, tmp_path):
    end = sandbox.market.end_date
    metrics = tmp_path / "metrics" / "alphahome.prom"
    config, schedule = _files(tmp_path, f"{end - timedelta(days=20):%Y%m%d}", metrics)
    env = cli_env(database_url, sandbox.url, TOKEN_5000, config, schedule)

    # before any run: check fails naming the missing data, runs lists nothing
    before = run_cli(["check", "--as-of", f"{end + timedelta(days=1):%Y-%m-%d}", "--format", "json"], env, tmp_path)
    assert before.returncode == 1 and not json.loads(before.stdout)["ok"]

    done = run_cli(["tushare", "update", "--end-date", f"{end:%Y%m%d}"], env, tmp_path)
    assert done.returncode == 0, done.stderr
    pit = run_cli(["pit", "update", "--target", "industry_classification"], env, tmp_path)
    assert pit.returncode == 0, pit.stderr

    runs = _json(run_cli(["runs", "--format", "json"], env, tmp_path))
    assert [r["kind"] for r in runs] == ["pit", "tushare"]
    update = runs[1]
    assert update["status"] == "success" and update["failed"] == []
    shown = _json(run_cli(["runs", "--show", update["run_id"], "--format", "json"], env, tmp_path))
    tasks = {t["task"]: t for t in shown["tasks"]}
    assert set(tasks) == set(KEPT) and tasks["daily"]["rows"] > 0
    assert _json(run_cli(["runs", "--failed", "--format", "json"], env, tmp_path)) == []

    status = _json(run_cli(["status", "--format", "json"], env, tmp_path))
    by_table = {row["table"]: row for row in status["tables"]}
    daily = by_table["tushare.daily"]
    assert daily["result"] == "success" and daily["rows"] == tasks["daily"]["rows"]
    assert daily["latest"] <= f"{end:%Y-%m-%d}" and daily["error"] is None
    industry = by_table["pit.industry_classification"]
    assert industry["kind"] == "pit" and industry["exists"] and industry["result"] == "success"
    assert {"pit.income_quarterly", "pit.balance_quarterly", "pit.financial_indicators"} <= set(by_table)

    check = run_cli(["check", "--as-of", f"{end + timedelta(days=1):%Y-%m-%d}", "--format", "json"], env, tmp_path)
    assert check.returncode == 0, check.stdout
    assert json.loads(check.stdout) == {"ok": True, "as_of": f"{end + timedelta(days=1):%Y-%m-%d}", "problems": []}
    # a week later, without a run, daily is stale (unless allowed the lag)
    later = f"{end + timedelta(days=8):%Y-%m-%d}"
    stale = run_cli(["check", "--as-of", later], env, tmp_path)
    assert stale.returncode == 1 and stale.stdout.startswith("daily: stale: latest trade_date"), stale.stdout
    assert run_cli(["check", "--as-of", later, "--max-age-days", "10"], env, tmp_path).returncode == 0

    families = {f.name: f for f in text_string_to_metric_families(metrics.read_text())}
    rows = {s.labels["dataset"]: s.value for s in families["alphahome_dataset_rows"].samples}
    assert rows["daily"] == tasks["daily"]["rows"]
    assert rows["industry_classification"] >= 0  # the PIT build kept the update's samples beside its own
    status_samples = {(s.labels["kind"], s.labels["status"]): s.value for s in families["alphahome_run_status"].samples}
    assert status_samples[("tushare", "success")] == 1 and status_samples[("tushare", "failed")] == 0
    assert families["alphahome_run_last_success_timestamp_seconds"].samples
