"""The configuration layer: locations, precedence and value sources, the scheduling YAML and its --env
sections, every kind of bad input, secrets kept out of messages and output, and the ``config`` commands.
No database needed. HOME, the working directory and the environment are isolated in every test."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
import yaml

from alphahome.cli import main
from alphahome.config import (
    InvalidConfiguration,
    ScheduleConfig,
    TaskOverrides,
    load_settings,
    mask_token,
    mask_url_password,
    parse_date,
    redact,
)
from alphahome.config.settings import starter_config

REPO = Path(__file__).resolve().parents[1]
SHIPPED_YAML = REPO / "scripts/production/config/tushare_update_config.yaml"
EXAMPLE_JSON = REPO / "config.example.json"
TOKEN = "0123456789abcdef0123456789abcdef0123456789abcdef01234567"  # 56 hex chars, like a real one
PASSWORD = "Pw7:zq/XKvu9"


@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch):
    """A fresh HOME and working directory, and none of the variables the loader reads."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.chdir(tmp_path)
    for var in (
        "DATABASE_URL",
        "TUSHARE_TOKEN",
        "TUSHARE_API_URL",
        "ALPHAHOME_TUSHARE_POINTS",
        "ALPHAHOME_CONFIG",
        "ALPHAHOME_SCHEDULE_CONFIG",
    ):
        monkeypatch.delenv(var, raising=False)
    return home


def write_json(path: Path, data: object) -> Path:
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def write_yaml(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def problems_of(**kwargs) -> list[str]:
    with pytest.raises(InvalidConfiguration) as info:
        load_settings(**kwargs)
    return info.value.problems


def run_cli(capsys, *args: str) -> tuple[int, str, str]:
    """Run ``alphahome ARGS`` through the console-script entry point; (exit code, stdout, stderr)."""
    with pytest.raises(SystemExit) as info:
        main(list(args))
    out, err = capsys.readouterr()
    return info.value.code, out, err


# ------------------------------------------------------------------------------ defaults and shipped files


def test_nothing_configured_gives_the_documented_defaults():
    loaded = load_settings(environ={})
    s = loaded.settings
    assert s.database.url == "duckdb:///~/.alphahome/alphahome.duckdb"
    assert s.database.backend == "duckdb"
    assert s.database.duckdb_path == Path.home() / ".alphahome" / "alphahome.duckdb"
    assert s.api.tushare_api_url == "http://api.tushare.pro"
    assert s.api.tushare_points == 2000
    assert s.api.tushare_token is None
    assert s.schedule.production.max_workers == 3
    assert loaded.config_path is None and loaded.schedule_path is None
    assert set(loaded.sources.values()) == {"default"}
    assert loaded.sources.keys() == loaded.values().keys()


def test_example_config_is_the_starter_and_validates_with_every_key():
    assert json.loads(EXAMPLE_JSON.read_text(encoding="utf-8")) == starter_config()
    loaded = load_settings(config_path=EXAMPLE_JSON, environ={})
    pool = loaded.settings.database.pool_config
    assert set(pool.server_settings) >= {
        "application_name",
        "tcp_keepalives_idle",
        "tcp_keepalives_interval",
        "tcp_keepalives_count",
        "jit",
    }
    assert all(
        loaded.sources[f"database.pool_config.{k}"].startswith("file:")
        for k in (
            "min_size",
            "max_size",
            "command_timeout",
            "max_queries",
            "max_inactive_connection_lifetime",
        )
    )
    daily = loaded.settings.task_overrides("daily")
    # Every key but the index datasets' own (codes, filter: docs in README) appears at least once.
    assert None not in daily.model_dump(exclude={"codes", "filter"}).values(), "the example shows every task key"
    assert daily.default_start_date == date(1990, 12, 19)
    assert loaded.settings.api.tushare_token is None  # the empty placeholder means "not set"


def test_shipped_yaml_validates_and_equals_the_built_in_defaults():
    raw = yaml.safe_load(SHIPPED_YAML.read_text(encoding="utf-8"))
    assert ScheduleConfig.model_validate(raw) == ScheduleConfig()
    for section in ("production", "task_filter", "monitoring", "database", "network"):
        assert raw[section], section
    assert raw["monitoring"]["alert_thresholds"].keys() == {"success_rate", "max_execution_time"}
    for env in (None, "development", "production"):
        load_settings(schedule_path=SHIPPED_YAML, env_name=env, environ={})


def test_the_repository_yaml_is_found_from_the_working_directory(tmp_path):
    target = tmp_path / "scripts/production/config/tushare_update_config.yaml"
    target.parent.mkdir(parents=True)
    write_yaml(target, "production:\n  max_workers: 6\n")
    loaded = load_settings(environ={})
    assert loaded.settings.schedule.production.max_workers == 6
    assert loaded.schedule_path == target.resolve()
    assert loaded.sources["schedule.production.max_workers"] == f"yaml:{target.resolve()}"
    assert loaded.sources["schedule.production.max_retries"] == "default"


# ------------------------------------------------------------------------------ locations and precedence


def test_config_location_explicit_then_variable_then_home(tmp_path, isolated):
    (isolated / ".alphahome").mkdir()
    home_file = write_json(isolated / ".alphahome" / "config.json", {"api": {"tushare_points": 5000}})
    assert load_settings(environ={}).settings.api.tushare_points == 5000
    assert load_settings(environ={}).config_path == home_file

    by_var = write_json(tmp_path / "by_var.json", {"api": {"tushare_points": 10000}})
    env = {"ALPHAHOME_CONFIG": str(by_var)}
    assert load_settings(environ=env).settings.api.tushare_points == 10000

    explicit = write_json(tmp_path / "explicit.json", {"api": {"tushare_points": 120}})
    loaded = load_settings(config_path=explicit, environ=env)
    assert loaded.settings.api.tushare_points == 120
    assert loaded.sources["api.tushare_points"] == f"file:{explicit}"


def test_a_named_config_file_must_exist_but_the_default_one_may_not(tmp_path):
    assert load_settings(environ={}).config_path is None
    missing = tmp_path / "nope.json"
    [problem] = problems_of(config_path=missing, environ={})
    assert str(missing) in problem and "not found" in problem and "--config" in problem
    [problem] = problems_of(environ={"ALPHAHOME_CONFIG": str(missing)})
    assert "not found" in problem and "$ALPHAHOME_CONFIG" in problem


@pytest.mark.parametrize("level", ["default", "file", "env", "flag"])
def test_precedence_flag_over_environment_over_file_over_default(tmp_path, level):
    urls = {
        "file": "duckdb:///from_file.duckdb",
        "env": "duckdb:///from_env.duckdb",
        "flag": "duckdb:///from_flag.duckdb",
    }
    order = ["default", "file", "env", "flag"]
    given = order[1 : order.index(level) + 1]
    cfg = write_json(tmp_path / "c.json", {"database": {"url": urls["file"]}} if "file" in given else {})
    env = {"DATABASE_URL": urls["env"]} if "env" in given else {}
    flags = {"database.url": urls["flag"]} if "flag" in given else None
    loaded = load_settings(config_path=cfg, environ=env, flag_overrides=flags)
    expected_url = urls.get(level, "duckdb:///~/.alphahome/alphahome.duckdb")
    expected_source = {
        "default": "default",
        "file": f"file:{cfg}",
        "env": "env:DATABASE_URL",
        "flag": "flag:database.url",
    }[level]
    assert loaded.settings.database.url == expected_url
    assert loaded.sources["database.url"] == expected_source


def test_every_environment_variable_and_its_source(tmp_path):
    env = {
        "DATABASE_URL": "postgresql://alpha:pw@db.example:5433/warehouse",
        "TUSHARE_TOKEN": f"  {TOKEN}\n",
        "TUSHARE_API_URL": "http://127.0.0.1:8765",
        "ALPHAHOME_TUSHARE_POINTS": "5000",
    }
    loaded = load_settings(environ=env)
    s = loaded.settings
    assert s.database.backend == "postgresql" and s.database.password == "pw"
    assert s.api.tushare_token.get_secret_value() == TOKEN
    assert s.api.tushare_api_url == "http://127.0.0.1:8765"
    assert s.api.tushare_points == 5000
    assert loaded.sources["api.tushare_token"] == "env:TUSHARE_TOKEN"
    assert loaded.sources["api.tushare_points"] == "env:ALPHAHOME_TUSHARE_POINTS"
    # An empty variable is treated as unset, not as an empty URL.
    assert load_settings(environ={"DATABASE_URL": ""}).sources["database.url"] == "default"


def test_file_values_merge_key_by_key_over_defaults(tmp_path):
    cfg = write_json(
        tmp_path / "c.json",
        {"database": {"pool_config": {"server_settings": {"application_name": "nightly", "jit": False}}}},
    )
    loaded = load_settings(config_path=cfg, environ={})
    server = loaded.settings.database.pool_config.server_settings
    assert server["application_name"] == "nightly"
    assert server["jit"] == "off"  # asyncpg wants strings
    assert server["tcp_keepalives_idle"] == "600"  # the defaults of the keys not written stay
    assert loaded.sources["database.pool_config.server_settings.jit"] == f"file:{cfg}"
    assert loaded.sources["database.pool_config.server_settings.tcp_keepalives_idle"] == "default"


def test_task_overrides_by_name(tmp_path):
    cfg = write_json(
        tmp_path / "c.json", {"tasks": {"daily": {"rate_limit": 300, "default_start_date": 20100104}}}
    )
    loaded = load_settings(config_path=cfg, flag_overrides={"tasks.daily.page_size": "4000"}, environ={})
    daily = loaded.settings.task_overrides("daily")
    assert daily == TaskOverrides(rate_limit=300, page_size=4000, default_start_date=date(2010, 1, 4))
    assert loaded.settings.task_overrides("income") == TaskOverrides()
    assert loaded.sources["tasks.daily.rate_limit"] == f"file:{cfg}"
    assert loaded.sources["tasks.daily.page_size"] == "flag:tasks.daily.page_size"
    assert "tasks.daily.max_retries" not in loaded.sources  # unset overrides are not values


def test_task_names_are_checked_against_a_catalogue(tmp_path):
    cfg = write_json(tmp_path / "c.json", {"tasks": {"daly": {"rate_limit": 10}, "daily": {}}})
    sched = write_yaml(tmp_path / "s.yaml", "task_filter:\n  exclude_tasks: [incom]\n")
    loaded = load_settings(config_path=cfg, schedule_path=sched, environ={})
    with pytest.raises(InvalidConfiguration) as info:
        loaded.check_task_names({"daily", "income", "stock_basic"})
    first, second = info.value.problems
    assert "tasks.daly" in first and "did you mean 'daily'" in first and str(cfg) in first
    assert "exclude_tasks" in second and "'incom'" in second and "did you mean 'income'" in second
    loaded.check_task_names({"daily", "daly", "incom"})  # all known: no error


# -------------------------------------------------------------------------------- scheduling file, --env

SCHEDULE = """\
production:
  max_workers: 4
  log_level: info
  log_file: ""
network:
  request_timeout: 45
database:
  connection_pool_size: 7
development:
  max_workers: 1
  enable_dry_run: true
  request_timeout: 5
production_override:
  production:
    max_workers: 8
  monitoring:
    alert_thresholds:
      success_rate: 0.95
"""


@pytest.mark.parametrize(
    ("env_name", "workers", "timeout", "dry_run", "section"),
    [
        (None, 4, 45.0, False, None),
        ("development", 1, 5.0, True, "development"),
        ("production", 8, 45.0, False, "production_override"),
    ],
)
def test_env_selects_an_override_section(tmp_path, env_name, workers, timeout, dry_run, section):
    sched = write_yaml(tmp_path / "s.yaml", SCHEDULE)
    loaded = load_settings(schedule_path=sched, env_name=env_name, environ={})
    schedule = loaded.settings.schedule
    assert schedule.production.max_workers == workers
    assert schedule.network.request_timeout == timeout
    assert schedule.production.enable_dry_run is dry_run
    assert schedule.production.log_level == "INFO" and schedule.production.log_file is None
    assert loaded.env_name == env_name
    expected = f"yaml:{sched}" + (f" [{section}]" if section else "")
    assert loaded.sources["schedule.production.max_workers"] == expected
    assert loaded.sources["schedule.production.max_retries"] == "default"
    if env_name == "production":
        assert schedule.monitoring.alert_thresholds.success_rate == 0.95
        assert schedule.monitoring.alert_thresholds.max_execution_time == 3600  # sibling kept
        assert loaded.sources["schedule.network.request_timeout"] == f"yaml:{sched}"


def test_without_a_yaml_file_the_built_in_sections_apply():
    loaded = load_settings(env_name="development", environ={})
    assert loaded.settings.schedule.production.max_workers == 1
    assert loaded.settings.schedule.production.enable_dry_run is True
    assert loaded.sources["schedule.production.max_workers"] == "default [development]"


def test_flags_beat_the_env_section_and_are_named_as_written(tmp_path):
    sched = write_yaml(tmp_path / "s.yaml", SCHEDULE)
    loaded = load_settings(
        schedule_path=sched,
        env_name="development",
        flag_overrides={
            "production.max_workers": "2",
            "schedule.production.log_level": "warning",
            "production.enable_dry_run": False,
            "network.max_concurrent_requests": None,  # a flag not given
        },
        environ={},
    )
    p = loaded.settings.schedule.production
    assert (p.max_workers, p.log_level, p.enable_dry_run) == (2, "WARNING", False)
    assert loaded.sources["schedule.production.max_workers"] == "flag:--workers"
    assert loaded.sources["schedule.production.log_level"] == "flag:--log_level"
    assert loaded.sources["schedule.production.enable_dry_run"] == "flag:--dry-run"
    assert loaded.sources["schedule.network.max_concurrent_requests"] == "default"


def test_an_unknown_env_name_is_an_error():
    [problem] = problems_of(env_name="staging", environ={})
    assert "--env" in problem and "'staging'" in problem


def test_yaml_pool_size_applies_only_where_the_json_is_silent(tmp_path):
    sched = write_yaml(
        tmp_path / "s.yaml", "database:\n  connection_pool_size: 7\n  connection_timeout: 12\n"
    )
    silent = load_settings(schedule_path=sched, environ={})
    pool = silent.settings.database.pool_config
    assert (pool.max_size, pool.timeout) == (7, 12)
    assert (
        silent.sources["database.pool_config.max_size"] == f"yaml:{sched} via database.connection_pool_size"
    )
    assert not silent.notes

    cfg = write_json(tmp_path / "c.json", {"database": {"pool_config": {"max_size": 20}}})
    loaded = load_settings(config_path=cfg, schedule_path=sched, environ={})
    pool = loaded.settings.database.pool_config
    assert (pool.max_size, pool.timeout) == (20, 12)
    assert loaded.sources["database.pool_config.max_size"] == f"file:{cfg}"
    assert "not used" in loaded.notes["schedule.database.connection_pool_size"]
    assert "schedule.database.connection_timeout" not in loaded.notes


def test_yaml_pool_size_below_the_json_min_size_is_reported(tmp_path):
    sched = write_yaml(tmp_path / "s.yaml", "database:\n  connection_pool_size: 2\n")
    cfg = write_json(tmp_path / "c.json", {"database": {"pool_config": {"min_size": 5}}})
    [problem] = problems_of(config_path=cfg, schedule_path=sched, environ={})
    assert "min_size (5) is greater than max_size (2)" in problem


# ------------------------------------------------------------------------------------------- bad input


def test_every_problem_is_listed_with_its_file_and_key_path(tmp_path):
    cfg = write_json(
        tmp_path / "config.json",
        {
            "database": {"pool_config": {"max_sise": 3}},
            "api": {"tushare_points": 3000},
            "tasks": {"daily": {"rate_limit": "fast", "default_start_date": "2023/01/01", "page_sise": 9}},
            "schedule": {},
        },
    )
    sched = write_yaml(
        tmp_path / "s.yaml",
        "production:\n  max_wrokers: 3\n  log_level: LOUD\ntask_filter:\n  exclude_tasks: daily\n"
        "development:\n  max_workers: 0\n  request_timout: 3\n",
    )
    problems = problems_of(config_path=cfg, schedule_path=sched, environ={})
    expected = [
        f"{cfg}: database.pool_config.max_sise: unknown key (did you mean 'max_size'?)",
        f"{cfg}: api.tushare_points: expected one of the Tushare points tiers 120, 2000, 5000, 10000, 15000, got 3000",
        f"{cfg}: tasks.daily.rate_limit: expected an integer, got 'fast'",
        f"{cfg}: tasks.daily.default_start_date: expected a date as YYYYMMDD or YYYY-MM-DD, got '2023/01/01'",
        f"{cfg}: tasks.daily.page_sise: unknown key (did you mean 'page_size'?)",
        f"{cfg}: schedule: unknown key",
        f"{sched}: production.max_wrokers (line 2): unknown key (did you mean 'max_workers'?)",
        f"{sched}: production.log_level (line 3): expected one of",
        f"{sched}: task_filter.exclude_tasks (line 5): expected a list, got 'daily'",
        f"{sched}: development.max_workers (line 7): must be at least 1, got 0",
        f"{sched}: development.request_timout (line 8): unknown key (did you mean 'request_timeout'?)",
    ]
    assert len(problems) == len(expected), problems
    for want in expected:
        assert any(p.startswith(want) for p in problems), (want, problems)


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("mysql://u:p@h/db", "unsupported scheme 'mysql://'"),
        ("localhost:5432/db", "not a database URL"),
        ("postgresql:///db", "names no host"),
        ("postgresql://u:p@host:5432", "names no database"),
        ("postgresql://u:p@host:5432/", "names no database"),
        ("postgresql://u:p@host:99999/db", "port is not a number"),
        ("postgres://u:p@host:port/db", "port is not a number"),
        ("duckdb://data/x.duckdb", "three slashes"),
        ("duckdb:///", "no file path"),
    ],
)
def test_bad_database_urls_say_what_is_wrong(url, words):
    [problem] = problems_of(environ={"DATABASE_URL": url})
    assert problem.startswith("environment variable DATABASE_URL")
    assert words in problem


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://u:p@h:5432/db",
        "postgres://u@h/db",
        "postgresql://h/db?sslmode=require",
        "duckdb:///data/x.duckdb",
        "duckdb:////abs/x.duckdb",
        "duckdb:///C:/data/x.duckdb",
    ],
)
def test_good_database_urls_pass(url):
    assert load_settings(environ={"DATABASE_URL": url}).settings.database.url == url


def test_duckdb_paths():
    def path(url: str) -> Path | None:
        return load_settings(flag_overrides={"database.url": url}, environ={}).settings.database.duckdb_path

    assert path("duckdb:////abs/x.duckdb") == Path("/abs/x.duckdb")
    assert path("duckdb:///rel/x.duckdb") == Path("/rel/x.duckdb")  # three slashes: as the backend opens it
    assert path("postgresql://h/db") is None


@pytest.mark.parametrize(
    ("text", "kind", "line"),
    [
        ('{\n  "api": {\n    "tushare_points": 2000,\n  }\n}\n', "JSON", 4),
        ('{\n  "api": {"tushare_points": 2000}\n  "tasks": {}\n}\n', "JSON", 3),
        ("production:\n  max_workers: 3\n   log_level: INFO\n", "YAML", 3),
        ("production:\n  exclude: [a, b\nnetwork: {}\n", "YAML", 3),
    ],
)
def test_syntax_errors_give_the_line(tmp_path, text, kind, line):
    name = "c.json" if kind == "JSON" else "s.yaml"
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    key = "config_path" if kind == "JSON" else "schedule_path"
    [problem] = problems_of(**{key: path}, environ={})
    assert problem.startswith(f"{path}: invalid {kind} at line {line},"), problem


def test_keys_written_twice_are_errors(tmp_path):
    cfg = tmp_path / "c.json"
    cfg.write_text('{"api": {"tushare_points": 120}, "api": {}}', encoding="utf-8")
    sched = write_yaml(tmp_path / "s.yaml", "production:\n  max_workers: 3\n  max_workers: 4\n")
    json_problem, yaml_problem = problems_of(config_path=cfg, schedule_path=sched, environ={})
    assert "'api' is written twice" in json_problem
    assert (
        "line 3" in yaml_problem and "duplicate key 'max_workers' (first written at line 2)" in yaml_problem
    )


def test_odd_yaml_shapes(tmp_path):
    flow = write_yaml(tmp_path / "flow.yaml", "production: {max_workers: 1, max_workers: 2}\n")
    [problem] = problems_of(schedule_path=flow, environ={})
    assert "duplicate key 'max_workers'" in problem
    not_a_section = write_yaml(tmp_path / "zero.yaml", "production:\n  max_workers: 2\ndevelopment: 0\n")
    [problem] = problems_of(schedule_path=not_a_section, environ={})
    assert problem == f"{not_a_section}: development (line 3): expected a mapping of keys, got 0"
    boolean = write_yaml(tmp_path / "bool.yaml", "production:\n  max_workers: yes\n")
    [problem] = problems_of(schedule_path=boolean, environ={})
    assert problem == f"{boolean}: production.max_workers (line 2): expected a number, got true"
    nested_typo = write_yaml(tmp_path / "typo.yaml", "production_override:\n  netwrk: {request_timeout: 3}\n")
    [problem] = problems_of(schedule_path=nested_typo, environ={})
    assert problem.startswith(f"{nested_typo}: production_override.netwrk (line 2): unknown key")


def test_unreadable_and_odd_files(tmp_path):
    not_utf8 = tmp_path / "latin1.json"
    not_utf8.write_bytes(b'{"api": {"tushare_api_url": "http://h\xe9"}}')
    [problem] = problems_of(config_path=not_utf8, environ={})
    assert problem.startswith(f"{not_utf8}: cannot read: not UTF-8")

    [problem] = problems_of(config_path=tmp_path, environ={})
    assert "is a directory" in problem

    null = tmp_path / "null.json"
    null.write_text("null", encoding="utf-8")
    [problem] = problems_of(config_path=null, environ={})
    assert "top level, got nothing (null)" in problem

    as_list = write_json(tmp_path / "list.json", [1, 2])
    [problem] = problems_of(config_path=as_list, environ={})
    assert "top level, got a list" in problem

    if os.geteuid() != 0:  # root reads anything
        locked = write_json(tmp_path / "locked.json", {})
        locked.chmod(0)
        [problem] = problems_of(config_path=locked, environ={})
        assert "cannot read" in problem and "ermission" in problem

    with_bom = tmp_path / "bom.json"
    with_bom.write_bytes(b'\xef\xbb\xbf{"api": {"tushare_points": 120}}')  # Windows Notepad
    assert load_settings(config_path=with_bom, environ={}).settings.api.tushare_points == 120

    empty_yaml = write_yaml(tmp_path / "empty.yaml", "# only comments\n")
    schedule = load_settings(schedule_path=empty_yaml, environ={}).settings.schedule
    sections = {"development", "production_override"}
    dumped = schedule.model_dump(exclude=sections)
    # the default log file is resolved under config.json's directory (docs/monitoring.md)
    assert dumped["production"].pop("log_file") == str(Path("~/.alphahome/logs/tushare_production_update.log")
                                                        .expanduser())
    expected = ScheduleConfig().model_dump(exclude=sections)
    expected["production"].pop("log_file")
    assert dumped == expected
    assert schedule.development == schedule.production_override == {}  # a file without them overrides nothing


def test_bad_flag_values_name_the_flag():
    problems = problems_of(
        flag_overrides={"production.max_workers": "many", "api.tushare_points": "7", "bogus.key": 1},
        environ={},
    )
    assert "flag --workers (production.max_workers): expected an integer, got 'many'" in problems
    assert any(
        p.startswith("flag api.tushare_points: expected one of the Tushare points tiers") for p in problems
    )
    assert "flag bogus.key (bogus): unknown key" in problems


# --------------------------------------------------------------------------------------------- dates


@pytest.mark.parametrize("value", ["20240105", 20240105, "2024-01-05", " 2024-01-05 ", date(2024, 1, 5)])
def test_dates_in_both_forms(value):
    assert parse_date(value) == date(2024, 1, 5)


@pytest.mark.parametrize("value", ["2024-1-5", "20241301", "2024/01/05", "2024-0105", 2024, "", None, 1.5])
def test_bad_dates(value):
    with pytest.raises(ValueError, match="date"):
        parse_date(value)


# ------------------------------------------------------------------------------------------- secrets


def test_masking_helpers():
    assert mask_token(TOKEN) == "0123…(56 chars)"
    assert TOKEN[4:] not in mask_token(TOKEN)
    assert mask_token("short") == "…(5 chars)"
    assert mask_token(None) == "(unset)"
    assert mask_url_password("postgresql://user:pw@host:5432/db") == "postgresql://user:***@host:5432/db"
    assert mask_url_password("postgresql://user@host/db") == "postgresql://user@host/db"
    assert mask_url_password("duckdb:///x.duckdb") == "duckdb:///x.duckdb"
    # an unescaped '/' or '#' in the password breaks URL parsing but not the masking
    assert mask_url_password("postgresql://u:a/b#c@h/db") == "postgresql://u:***@h/db"
    assert redact(f"token={TOKEN}; pw=s%40fe!", [TOKEN, "s%40fe!"]) == "token=***; pw=***"
    assert redact("login s@fe! failed", ["s%40fe!"]) == "login *** failed"  # the decoded form too
    assert redact("a pw of pw", ["pw"]) == "a pw of pw".replace(" pw", " ***")  # short: whole words only
    assert redact("password", ["pw"]) == "password"


def test_secrets_never_appear_in_error_messages(tmp_path):
    url = f"postgresql://bob:{PASSWORD}@db:5432/warehouse"  # the '/' in the password breaks the URL
    cfg = write_json(
        tmp_path / "c.json",
        {
            "database": {"url": url},
            "api": {"tushare_token": 12345, "tushare_api_url": TOKEN},  # a token pasted in the wrong place
            "tasks": {TOKEN[:8]: {"rate_limit": TOKEN}},
        },
    )
    env = {"TUSHARE_TOKEN": TOKEN, "DATABASE_URL": f"postgresql://bob:{PASSWORD}@db:notaport/w"}
    with pytest.raises(InvalidConfiguration) as info:
        load_settings(config_path=cfg, environ=env, flag_overrides={"tasks.x.page_size": TOKEN})
    message = str(info.value)
    assert len(info.value.problems) >= 4
    for secret in (TOKEN, TOKEN[:20], PASSWORD, "XKvu9"):
        assert secret not in message, secret


def test_secrets_never_appear_in_repr_or_values(tmp_path):
    env = {"TUSHARE_TOKEN": TOKEN, "DATABASE_URL": "postgresql://bob:hunter22@db:5432/w"}
    loaded = load_settings(environ=env)
    for text in (repr(loaded.settings), str(loaded.settings), json.dumps(loaded.values())):
        assert TOKEN not in text and "hunter22" not in text
    assert loaded.values()["database.url"] == "postgresql://bob:***@db:5432/w"
    assert loaded.settings.secret_values() == [TOKEN, "hunter22"]


# ------------------------------------------------------------------------------------------- commands


def test_config_show_names_the_source_of_every_value(tmp_path, capsys, monkeypatch):
    cfg = write_json(
        tmp_path / "c.json", {"api": {"tushare_points": 5000}, "database": {"pool_config": {"max_size": 12}}}
    )
    sched = write_yaml(tmp_path / "s.yaml", SCHEDULE)
    monkeypatch.setenv("TUSHARE_TOKEN", TOKEN)
    monkeypatch.setenv("DATABASE_URL", "postgresql://bob:hunter22@db:5432/w")
    code, out, err = run_cli(
        capsys, "config", "show", "--config", str(cfg), "--schedule-config", str(sched), "--env", "production"
    )
    assert code == 0, err
    lines = {
        line.split()[0]: line for line in out.splitlines() if line.strip() and ":" not in line.split()[0]
    }
    assert lines["api.tushare_points"].split()[1:] == ["5000", f"file:{cfg}"]
    assert lines["api.tushare_token"].split()[1:] == ["0123…(56", "chars)", "env:TUSHARE_TOKEN"]
    assert "postgresql://bob:***@db:5432/w" in lines["database.url"]
    assert lines["schedule.production.max_workers"].endswith(f"yaml:{sched} [production_override]")
    assert lines["schedule.production.max_retries"].endswith("default")
    assert (
        "not used: database.pool_config.max_size is set by file:"
        in lines["schedule.database.connection_pool_size"]
    )
    assert f"config file:   {cfg}" in out and "production_override applied" in out
    assert TOKEN not in out + err and "hunter22" not in out + err


def test_config_show_on_a_terminal_draws_a_table(capsys, monkeypatch):
    monkeypatch.setenv("TUSHARE_TOKEN", TOKEN)
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True)
    code, out, _ = run_cli(capsys, "config", "show")
    assert code == 0
    row = next(line for line in out.splitlines() if "api.tushare_token" in line)
    assert row.startswith(("│", "|")), row  # drawn by rich, not the plain-text listing
    assert "0123…(56 chars)" in row and "env:TUSHARE_TOKEN" in row
    assert TOKEN not in out


def test_config_show_json(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("TUSHARE_TOKEN", TOKEN)
    code, out, _ = run_cli(capsys, "config", "show", "--format", "json", "--env", "development")
    assert code == 0
    document = json.loads(out)
    values = document["values"]
    assert values["api.tushare_token"] == {"value": "0123…(56 chars)", "source": "env:TUSHARE_TOKEN"}
    assert values["schedule.production.enable_dry_run"] == {"value": True, "source": "default [development]"}
    assert values["schedule.task_filter.include_sources"]["value"] == ["tushare"]
    assert TOKEN not in out


def test_config_init_writes_a_valid_starter_and_never_overwrites(isolated, capsys):
    target = isolated / ".alphahome" / "config.json"
    code, out, _ = run_cli(capsys, "config", "init")
    assert code == 0 and str(target) in out
    assert json.loads(target.read_text(encoding="utf-8")) == starter_config()
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert load_settings(environ={}).config_path == target  # found where it was written

    target.write_text('{"api": {"tushare_token": "mine"}}', encoding="utf-8")
    code, out, err = run_cli(capsys, "config", "init")
    assert code == 2
    assert "already exists" in err and "--force" in err
    assert target.read_text(encoding="utf-8") == '{"api": {"tushare_token": "mine"}}'

    code, _, _ = run_cli(capsys, "config", "init", "--force")
    assert code == 0 and json.loads(target.read_text(encoding="utf-8")) == starter_config()


def test_config_init_to_a_chosen_path(tmp_path, capsys):
    target = tmp_path / "deep" / "dir" / "alpha.json"
    code, _, _ = run_cli(capsys, "config", "init", "--path", str(target))
    assert code == 0 and target.is_file()
    code, _, err = run_cli(capsys, "config", "init", "--path", str(tmp_path))
    assert code == 2 and "is a directory" in err


def test_config_validate_exit_codes(tmp_path, capsys):
    good = write_json(tmp_path / "good.json", {**starter_config(), "api": {"tushare_token": "f" * 56}})
    code, out, _ = run_cli(
        capsys, "config", "validate", "--config", str(good), "--schedule-config", str(SHIPPED_YAML)
    )
    assert code == 0 and out.startswith("OK")

    bad = write_json(tmp_path / "bad.json", {"api": {"tushare_points": "lots"}, "tasks": {"daily": {"x": 1}}})
    bad_yaml = write_yaml(tmp_path / "bad.yaml", "network:\n  request_timeout: soon\n")
    code, out, err = run_cli(
        capsys, "config", "validate", "--config", str(bad), "--schedule-config", str(bad_yaml)
    )
    assert code == 2 and out == ""
    assert "3 configuration problems" in err
    assert f"{bad}: api.tushare_points: expected an integer, got 'lots'" in err
    assert f"{bad}: tasks.daily.x: unknown key" in err
    assert f"{bad_yaml}: network.request_timeout (line 2): expected a number, got 'soon'" in err
    assert "Traceback" not in err


def test_the_console_script_exits_2_on_a_bad_config(tmp_path, isolated):
    bad = write_json(tmp_path / "bad.json", {"database": {"url": "mysql://root:hunter22@h/db"}})
    env = {**os.environ, "HOME": str(isolated), "ALPHAHOME_CONFIG": str(bad)}
    done = subprocess.run(
        [sys.executable, "-c", "from alphahome.cli import main; main()", "config", "validate"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=60,
    )
    assert done.returncode == 2
    assert "database.url: unsupported scheme 'mysql://'" in done.stderr
    assert "hunter22" not in done.stderr + done.stdout
