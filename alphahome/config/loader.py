"""Load the effective settings and remember where each value came from.

Precedence (docs/architecture.md, "Configuration"): command-line flag > environment variable > config file > built-in default.
The scheduling YAML fills ``settings.schedule``; its ``development`` / ``production_override`` section is
merged over it when ``env_name`` is ``"development"`` / ``"production"``, and flags win over both.

Every problem is collected before anything is raised, so one :class:`InvalidConfiguration` lists them all,
each with its file (or variable, or flag) and key path. Messages never contain the token or the database
password: they are built without repeating secret values and then passed through :func:`redact`.
"""

from __future__ import annotations

import copy
import difflib
import itertools
import logging
import os
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from alphahome.config.documents import Location, read_document
from alphahome.config.masking import mask_channel, mask_token, mask_url_password, redact, url_password
from alphahome.config.problems import describe_error, dotted, suggest
from alphahome.config.settings import (
    DEFAULT_DEVELOPMENT,
    DEFAULT_PRODUCTION_OVERRIDE,
    ConfigFile,
    MonitoringConfig,
    NetworkConfig,
    ProductionSchedule,
    ScheduleConfig,
    ScheduleDatabase,
    Settings,
    TaskFilter,
)
from alphahome.errors import ConfigError

CONFIG_ENV = "ALPHAHOME_CONFIG"
SCHEDULE_ENV = "ALPHAHOME_SCHEDULE_CONFIG"
DEFAULT_CONFIG_PATH = Path("~/.alphahome/config.json")
REPO_SCHEDULE_PATH = Path("scripts/production/config/tushare_update_config.yaml")

#: environment variable -> the config.json key it overrides
ENV_VARS: dict[str, tuple[str, ...]] = {
    "DATABASE_URL": ("database", "url"),
    "TUSHARE_TOKEN": ("api", "tushare_token"),
    "TUSHARE_API_URL": ("api", "tushare_api_url"),
    "ALPHAHOME_TUSHARE_POINTS": ("api", "tushare_points"),
}
#: --env value -> the YAML section it applies
ENV_SECTIONS = {"development": "development", "production": "production_override"}
#: dotted flag key -> the command-line spelling reported as its source (the production script's flags, README.md)
FLAG_NAMES = {
    "production.max_workers": "--workers",
    "production.max_retries": "--max_retries",
    "production.retry_delay": "--retry_delay",
    "production.log_level": "--log_level",
    "production.enable_dry_run": "--dry-run",
    "task_filter.exclude_tasks": "--exclude",
}
_SCHEDULE_SECTIONS = ("production", "task_filter", "monitoring", "database", "network")
_OVERRIDE_SECTIONS = ("development", "production_override")

ValueSource = str
"""Where a value came from: ``"default"``, ``"file:<path>"``, ``"env:DATABASE_URL"``, ``"flag:--workers"``,
``"yaml:<path>"``, ``"yaml:<path> [production_override]"``, ``"default [development]"``; a pool setting taken
from the YAML ``database`` section reads ``"yaml:<path> via database.connection_pool_size"``."""

Path_ = tuple[str, ...]


class InvalidConfiguration(ConfigError):
    """A configuration with problems; ``problems`` lists each one (file/variable/flag, key path, what)."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        head = "1 configuration problem" if len(problems) == 1 else f"{len(problems)} configuration problems"
        super().__init__(head + ":\n" + "\n".join(f"  - {p}" for p in problems))


@dataclass(frozen=True)
class LoadedSettings:
    """The effective settings, where each came from, and which files were read (None: built-in defaults)."""

    settings: Settings
    sources: dict[str, ValueSource]
    config_path: Path | None
    schedule_path: Path | None
    env_name: str | None = None
    #: dotted key -> why a value that was given is not in effect (e.g. YAML pool size shadowed by the JSON)
    notes: dict[str, str] = field(default_factory=dict)

    def check_task_names(self, known: Collection[str]) -> None:
        """Raise :class:`InvalidConfiguration` if ``tasks.<name>`` or ``task_filter.exclude_tasks`` names a
        dataset not in ``known`` (the catalogue's names; their original task names are accepted too), with
        a did-you-mean."""
        from alphahome.tasks.aliases import ORIGINAL_TASKS

        known = {*known, *(alias for alias, target in ORIGINAL_TASKS.items() if target in known)}
        problems = []
        for name in self.settings.tasks:
            if name not in known:
                where = self._source_name(f"tasks.{name}")
                problems.append(f"{where}: tasks.{name}: unknown dataset{suggest(name, known)}")
        for name in self.settings.schedule.task_filter.exclude_tasks:
            if name not in known:
                where = self._source_name("schedule.task_filter.exclude_tasks")
                problems.append(
                    f"{where}: task_filter.exclude_tasks: unknown dataset {name!r}{suggest(name, known)}"
                )
        if problems:
            raise InvalidConfiguration(problems)

    def _source_name(self, key: str) -> str:
        """The file, variable or flag that set ``key`` or a value under it."""
        source = next(
            (src for k, src in self.sources.items() if k == key or k.startswith(key + ".")), "default"
        )
        kind, _, rest = source.partition(":")
        if kind in ("file", "yaml"):
            return rest.split(" [")[0].split(" via ")[0]
        return {"env": "environment variable ", "flag": "flag "}.get(kind, "") + rest if rest else source

    def values(self) -> dict[str, object]:
        """Dotted key -> effective value, the same keys as ``sources``, safe to print: the token and the
        database password masked, dates as ``YYYY-MM-DD``."""
        out: dict[str, object] = {}
        for leaf, value in _effective_leaves(self.settings):
            key = ".".join(leaf)
            if key == "api.tushare_token":
                value = mask_token(value.get_secret_value() if value is not None else None)
            elif key == "database.url":
                value = mask_url_password(value)
            elif key.endswith("monitoring.notify"):
                value = [mask_channel(channel) for channel in value]
            elif isinstance(value, date):
                value = value.isoformat()
            out[key] = value
        return out


def load_settings(
    config_path: str | os.PathLike[str] | None = None,
    schedule_path: str | os.PathLike[str] | None = None,
    env_name: str | None = None,
    flag_overrides: dict[str, object] | None = None,
    environ: Mapping[str, str] | None = None,
) -> LoadedSettings:
    """Read, merge and validate ``config.json``, the environment, the scheduling YAML and flags.

    ``config_path``: explicit, else ``$ALPHAHOME_CONFIG``, else ``~/.alphahome/config.json`` (only the last
    may be missing: built-in defaults). ``schedule_path``: explicit, else ``$ALPHAHOME_SCHEDULE_CONFIG``, else
    ``tushare_update_config.yaml`` next to config.json, else
    ``scripts/production/config/tushare_update_config.yaml`` under the working directory if present, else
    built-in defaults (equal to that file). ``env_name``: None, ``"development"`` or ``"production"``.
    ``flag_overrides``: dotted key -> value from a command line; None values are ignored (flag not given).
    Keys are settings paths (``database.url``, ``api.tushare_points``, ``tasks.daily.rate_limit``) or
    schedule paths with or without ``schedule.`` (``production.max_workers``, ``network.request_timeout``,
    ``database.connection_pool_size``). ``environ`` defaults to ``os.environ``.

    Raises :class:`InvalidConfiguration` (a ConfigError, exit code 2) listing every problem."""
    env = os.environ if environ is None else environ
    flags = {key: value for key, value in (flag_overrides or {}).items() if value is not None}
    problems: list[str] = []

    if env_name is not None and env_name not in ENV_SECTIONS:
        problems.append(f"--env: expected development or production, got {env_name!r}")
        env_name = None

    cfg_path = _config_location(config_path, env)
    cfg_data, _ = read_document(cfg_path, "JSON", problems)
    if isinstance(cfg_data, dict):
        cfg_data = drop_original_sections(cfg_data, cfg_path.path)
    sched_path = _schedule_location(schedule_path, env, cfg_path.path.parent)
    sched_data, sched_lines = read_document(sched_path, "YAML", problems) if sched_path else (None, {})

    config_flags, schedule_flags = _split_flags(flags)
    schedule_problems: list[str] = []
    schedule, sched_tree = _build_schedule(
        sched_path.path if sched_path else None,
        sched_data,
        sched_lines,
        env_name,
        schedule_flags,
        schedule_problems,
    )
    config, cfg_tree, notes = _build_config(
        cfg_path.path, cfg_data, env, config_flags, schedule, sched_tree, problems
    )
    problems += schedule_problems  # config.json's problems first, as in the order of the files
    if problems:
        raise InvalidConfiguration(_unique_redacted(problems, cfg_data, sched_data, env, flags))
    assert config is not None and schedule is not None
    settings = Settings(**dict(config), schedule=schedule)
    channel_problems = [
        f"monitoring.notify[{i}] ({c.name or c.type}): {why}"
        for i, c in enumerate(settings.notify_channels()) if (why := c.problem())
    ]
    if channel_problems:
        raise InvalidConfiguration(_unique_redacted(channel_problems, cfg_data, sched_data, env, flags))

    sources = {f"schedule.{key}": src for key, src in _sources(schedule, sched_tree).items()}
    sources = {**_sources(config, cfg_tree), **sources}
    _resolve_paths(settings, sources, cfg_path.path)
    return LoadedSettings(
        settings=settings,
        sources=sources,
        config_path=cfg_path.path if cfg_data is not None else None,
        schedule_path=sched_path.path if sched_path and sched_data is not None else None,
        env_name=env_name,
        notes=notes,
    )


# ------------------------------------------------------------------------------------------- locations


def config_file_path(environ: Mapping[str, str] | None = None) -> Path:
    """Where config.json is looked for without ``--config``: ``$ALPHAHOME_CONFIG``, else
    ``~/.alphahome/config.json``."""
    return _config_location(None, os.environ if environ is None else environ).path


def _config_location(explicit: str | os.PathLike[str] | None, env: Mapping[str, str]) -> Location:
    if explicit:
        return Location(Path(explicit).expanduser().absolute(), True, "--config")
    if env.get(CONFIG_ENV):
        return Location(Path(env[CONFIG_ENV]).expanduser().absolute(), True, f"${CONFIG_ENV}")
    return Location(DEFAULT_CONFIG_PATH.expanduser(), False, "default location")


def _schedule_location(explicit: str | os.PathLike[str] | None, env: Mapping[str, str],
                       config_dir: Path) -> Location | None:
    if explicit:
        return Location(Path(explicit).expanduser().absolute(), True, "--schedule-config")
    if env.get(SCHEDULE_ENV):
        return Location(Path(env[SCHEDULE_ENV]).expanduser().absolute(), True, f"${SCHEDULE_ENV}")
    beside_config = config_dir / REPO_SCHEDULE_PATH.name
    if beside_config.is_file():
        return Location(beside_config, True, "next to config.json")
    if REPO_SCHEDULE_PATH.is_file():
        return Location(REPO_SCHEDULE_PATH.resolve(), True, "the working directory")
    return None


#: Sections of the original AlphaHome's config.json that AlphaHome does not use (docs/migration.md).
ORIGINAL_UNUSED_TOP = ("performance", "backtesting", "dolphindb", "update_frequency")
ORIGINAL_UNUSED_API = ("ifind", "tinysoft")


def drop_original_sections(data: dict[str, Any], path: Path) -> dict[str, Any]:
    """The original's config.json without the sections AlphaHome does not use (``api.ifind``,
    ``api.tinysoft``, ``performance``, ``backtesting``, ``dolphindb``, ``update_frequency`` and every
    ``_comment…`` key), with one warning naming what was ignored. Anything else unknown stays an error."""
    ignored: list[str] = []

    def strip(node: Any, prefix: str) -> Any:
        if not isinstance(node, dict):
            return node
        out = {}
        for key, value in node.items():
            name = f"{prefix}{key}"
            if str(key).startswith("_comment") or name in ORIGINAL_UNUSED_TOP or (
                    prefix == "api." and key in ORIGINAL_UNUSED_API):
                ignored.append(name)
                continue
            out[key] = strip(value, f"{name}.")
        return out

    cleaned = strip(data, "")
    if ignored:
        logging.getLogger("alphahome.config").warning(
            "%s: ignoring section(s) AlphaHome does not use: %s (see docs/migration.md)", path, ", ".join(ignored))
    return cleaned


def _resolve_paths(settings: Settings, sources: dict[str, ValueSource], config_path: Path) -> None:
    """Make ``production.log_file`` and ``monitoring.prometheus_textfile`` absolute, so the working
    directory (cron's, systemd's) changes nothing: a path from a YAML file is relative to that file's
    directory, the built-in log file lives under config.json's directory."""
    for section, key in (("production", "log_file"), ("monitoring", "prometheus_textfile")):
        model = getattr(settings.schedule, section)
        raw = getattr(model, key)
        if not raw:
            continue
        path = Path(raw).expanduser()
        if not path.is_absolute():
            source = sources.get(f"schedule.{section}.{key}", "default")
            if source.startswith("yaml:"):
                base = Path(source[5:].split(" [")[0].split(" via ")[0]).parent
            elif source == "default" or source.startswith("default"):
                base = config_path.parent
            else:
                base = Path.cwd()
            path = base / path
        setattr(model, key, str(path))


# --------------------------------------------------------------------------------------------- merging


@dataclass(frozen=True)
class _Origin:
    """Where one leaf value came from, and how to point at it in a message."""

    source: ValueSource
    name: str  # the file path, "environment variable X" or "flag --x"
    written_as: Path_ | None = None  # the key path as written in that file (None: not a file)
    line: int | None = None


class _Tree:
    """A nested dict being merged, layer over layer, remembering the origin of each leaf set."""

    def __init__(self, base: dict[str, Any]) -> None:
        self.data = copy.deepcopy(base)
        self.origins: dict[Path_, _Origin] = {}

    def copy(self) -> _Tree:
        other = _Tree(self.data)
        other.origins = dict(self.origins)
        return other

    def put(self, path: Path_, value: Any, origin: _Origin) -> None:
        for known in [p for p in self.origins if p[: len(path)] == path or path[: len(p)] == p]:
            del self.origins[known]
        node = self.data
        for key in path[:-1]:
            if not isinstance(node.get(key), dict):
                node[key] = {}
            node = node[key]
        node[path[-1]] = copy.deepcopy(value)
        self.origins[path] = origin

    def origin_of(self, path: Path_) -> _Origin | None:
        """The origin of the value at ``path`` or of the leaf containing it."""
        leaf = self.leaf_of(path)
        return None if leaf is None else self.origins[leaf]

    def leaf_of(self, path: Path_) -> Path_ | None:
        """The path of the leaf that holds ``path`` (itself or a parent), if any layer set it."""
        for n in range(len(path), 0, -1):
            if path[:n] in self.origins:
                return path[:n]
        return None

    def validate(self, model: type[BaseModel], problems: list[str]) -> BaseModel | None:
        try:
            return model.model_validate(self.data)
        except ValidationError as exc:
            for error in exc.errors():
                problems.append(self._explain(model, error))
            return None

    def _explain(self, model: type[BaseModel], error: Any) -> str:
        loc: tuple[str | int, ...] = tuple(error["loc"])
        key_loc = tuple(itertools.takewhile(lambda part: isinstance(part, str), loc))
        what = describe_error(model, loc, error)
        leaf = self.leaf_of(key_loc)  # type: ignore[arg-type]
        if leaf is not None:
            origin: _Origin | None = self.origins[leaf]
        else:  # a check over a whole section: name a source that fed it
            origin = next((o for p, o in self.origins.items() if p[: len(key_loc)] == key_loc), None)
        if origin is None:
            return f"{dotted(loc)}: {what}"
        if origin.written_as is None:  # an environment variable or a flag
            key = dotted(loc)
            return (
                f"{origin.name}: {what}"
                if origin.name.endswith(f" {key}")
                else f"{origin.name} ({key}): {what}"
            )
        if leaf is None:
            return f"{origin.name}: {dotted(loc)}: {what}"
        written = origin.written_as + loc[len(leaf) :]
        line = f" (line {origin.line})" if origin.line else ""
        return f"{origin.name}: {dotted(written)}{line}: {what}"


def _leaves(data: Any, prefix: Path_ = ()) -> Iterator[tuple[Path_, Any]]:
    """(path, value) of each non-mapping value; an empty mapping is a leaf too."""
    if isinstance(data, dict) and data:
        for key, value in data.items():
            yield from _leaves(value, (*prefix, str(key)))
    elif prefix:
        yield prefix, data


def _split_flags(flags: dict[str, object]) -> tuple[dict[Path_, object], dict[Path_, object]]:
    """Dotted flag keys -> (config.json paths, schedule paths)."""
    config: dict[Path_, object] = {}
    schedule: dict[Path_, object] = {}
    for key, value in flags.items():
        path = tuple(key.split("."))
        if path[0] == "schedule":
            schedule[path[1:]] = value
        elif path[0] in _SCHEDULE_SECTIONS and (
            path[0] != "database" or (len(path) > 1 and path[1] in ScheduleDatabase.model_fields)
        ):
            schedule[path] = value
        else:
            config[path] = value
    return config, schedule


def _flag_origin(path: Path_, schedule: bool) -> _Origin:
    key = ".".join(path)
    label = FLAG_NAMES.get(key, key) if schedule else key
    return _Origin(source=f"flag:{label}", name=f"flag {label}")


#: a schedule key -> its section (the flat form of override sections; key names are unique across sections)
_FLAT_KEY_SECTION = {
    key: section
    for section, model in (
        ("production", ProductionSchedule),
        ("task_filter", TaskFilter),
        ("monitoring", MonitoringConfig),
        ("database", ScheduleDatabase),
        ("network", NetworkConfig),
    )
    for key in model.model_fields
}


def _override_leaves(section: dict[str, Any]) -> Iterator[tuple[Path_, Any, Path_]]:
    """(target path, value, path inside the section) of an override section: nested keys under a section
    name, flat keys (the seed's form) under the section that has a field of that name."""
    for key, value in section.items():
        key = str(key)
        if key in _SCHEDULE_SECTIONS:
            for path, item in _leaves(value, (key,)):
                yield path, item, path
        else:  # an unknown flat key goes where its nearest spelling lives, for a useful did-you-mean
            near = difflib.get_close_matches(key, list(_FLAT_KEY_SECTION), n=1)
            home = _FLAT_KEY_SECTION.get(key) or _FLAT_KEY_SECTION.get(
                near[0] if near else "", "production"
            )
            yield (home, key), value, (key,)


def _build_schedule(
    path: Path | None,
    data: dict[str, Any] | None,
    lines: dict[Path_, int],
    env_name: str | None,
    flags: dict[Path_, object],
    problems: list[str],
) -> tuple[ScheduleConfig | None, _Tree]:
    defaults = ScheduleConfig().model_dump()
    tree = _Tree({k: v for k, v in defaults.items() if k not in _OVERRIDE_SECTIONS})
    if data is not None:
        assert path is not None
        for leaf, value in _leaves({k: v for k, v in data.items() if k not in _OVERRIDE_SECTIONS}):
            tree.put(leaf, value, _Origin(f"yaml:{path}", str(path), leaf, lines.get(leaf)))
        # A file without a section overrides nothing (the built-in sections are for when there is no file).
        sections = {name: {} if data.get(name) is None else data[name] for name in _OVERRIDE_SECTIONS}
        for name in _OVERRIDE_SECTIONS:
            tree.put((name,), sections[name], _Origin(f"yaml:{path}", str(path), (name,), lines.get((name,))))
    else:
        sections = {"development": DEFAULT_DEVELOPMENT, "production_override": DEFAULT_PRODUCTION_OVERRIDE}
        for name in _OVERRIDE_SECTIONS:
            tree.data[name] = copy.deepcopy(sections[name])
    tree.validate(ScheduleConfig, problems)

    # Each override section is checked whether or not --env selects it: `validate` must see both.
    merged: dict[str, _Tree] = {}
    for name in _OVERRIDE_SECTIONS:
        section = sections[name]
        merged[name] = over = tree.copy()
        if not isinstance(section, dict):
            continue  # reported above: "expected a mapping"
        source = f"yaml:{path} [{name}]" if data is not None else f"default [{name}]"
        for target, value, inside in _override_leaves(section):
            written = (name, *inside)
            over.put(
                target, value, _Origin(source, str(path or "built-in defaults"), written, lines.get(written))
            )
        over.validate(ScheduleConfig, problems)

    final = merged[ENV_SECTIONS[env_name]] if env_name else tree.copy()
    for key, value in flags.items():
        for leaf, item in _leaves(value, key):
            final.put(leaf, item, _flag_origin(key, schedule=True))
    return final.validate(ScheduleConfig, problems), final  # type: ignore[return-value]


def _build_config(
    path: Path,
    data: dict[str, Any] | None,
    env: Mapping[str, str],
    flags: dict[Path_, object],
    schedule: ScheduleConfig | None,
    sched_tree: _Tree,
    problems: list[str],
) -> tuple[ConfigFile | None, _Tree, dict[str, str]]:
    tree = _Tree(ConfigFile().model_dump())
    if data is not None:
        for leaf, value in _leaves(data):
            tree.put(leaf, value, _Origin(f"file:{path}", str(path), leaf))
        # The file alone must be valid, even where the environment or a flag overrides it.
        tree.validate(ConfigFile, problems)
    for var, leaf in ENV_VARS.items():
        if env.get(var, "").strip():
            tree.put(leaf, env[var], _Origin(f"env:{var}", f"environment variable {var}"))
    for key, value in flags.items():
        for leaf, item in _leaves(value, key):
            tree.put(leaf, item, _flag_origin(key, schedule=False))

    notes: dict[str, str] = {}
    if schedule is not None:
        pairs = (("max_size", "connection_pool_size"), ("timeout", "connection_timeout"))
        for pool_key, yaml_key in pairs:
            pool_path = ("database", "pool_config", pool_key)
            yaml_origin = sched_tree.origin_of(("database", yaml_key))
            pool_origin = tree.origin_of(pool_path)
            if yaml_origin is None:
                continue
            if pool_origin is None:
                value = getattr(schedule.database, yaml_key)
                linked = _Origin(
                    f"{yaml_origin.source} via database.{yaml_key}",
                    yaml_origin.name,
                    yaml_origin.written_as,
                    yaml_origin.line,
                )
                tree.put(pool_path, value, linked)
            else:
                notes[f"schedule.database.{yaml_key}"] = (
                    f"not used: database.pool_config.{pool_key} is set by {pool_origin.source}"
                )
    return tree.validate(ConfigFile, problems), tree, notes  # type: ignore[return-value]


def _effective_leaves(model: BaseModel) -> Iterator[tuple[Path_, Any]]:
    """(path, value) of every effective value; the raw override sections and task overrides left
    unset are not values."""
    dump = model.model_dump(exclude={"development", "production_override"})
    if isinstance(dump.get("schedule"), dict):
        dump["schedule"] = {k: v for k, v in dump["schedule"].items() if k not in _OVERRIDE_SECTIONS}
    if "tasks" in dump:
        dump["tasks"] = {
            name: {k: v for k, v in task.items() if v is not None} for name, task in dump["tasks"].items()
        }
    yield from _leaves(dump)


def _sources(model: BaseModel, tree: _Tree) -> dict[str, ValueSource]:
    """Dotted key -> source of every effective value."""
    out: dict[str, ValueSource] = {}
    for leaf, _ in _effective_leaves(model):
        origin = tree.origin_of(leaf)
        out[".".join(leaf)] = origin.source if origin else "default"
    return out


def _unique_redacted(
    problems: list[str],
    cfg: dict[str, Any] | None,
    sched: dict[str, Any] | None,
    env: Mapping[str, str],
    flags: dict[str, object],
) -> list[str]:
    """De-duplicated problems with every secret any layer supplied removed."""
    secrets: list[str] = []
    urls: list[object] = [env.get("DATABASE_URL"), flags.get("database.url")]
    tokens: list[object] = [env.get("TUSHARE_TOKEN"), flags.get("api.tushare_token")]
    for data in (cfg, sched):
        section = data.get("database") if isinstance(data, dict) else None
        urls.append(section.get("url") if isinstance(section, dict) else None)
        section = data.get("api") if isinstance(data, dict) else None
        tokens.append(section.get("tushare_token") if isinstance(section, dict) else None)
    secrets += [t.strip() for t in tokens if isinstance(t, str)]
    secrets += [p for u in urls if isinstance(u, str) and (p := url_password(u))]
    return [redact(p, secrets) for p in dict.fromkeys(problems)]
