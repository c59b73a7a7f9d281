"""The settings model: what ``config.json`` and ``tushare_update_config.yaml`` may say, with types, ranges and
built-in defaults. Unknown keys are errors (``extra="forbid"``), so a typo never passes silently.

``config.json`` (:class:`ConfigFile`)::

    database.url                  postgresql://user:pass@host:port/db, postgres://…, or duckdb:///path/file.duckdb
                                  (``duckdb:///~/x.duckdb`` and relative paths allowed; ``duckdb:////abs/x.duckdb``)
    database.pool_config.*        keyword arguments of ``asyncpg.create_pool`` (see :class:`PoolConfig`)
    database.duckdb_lock_wait_seconds  how long a DuckDB writer waits for a file another process holds (60)
    database.duckdb_memory_limit  DuckDB's memory cap: a size ("4GB") or a share of RAM ("50%", the default)
    database.duckdb_threads       DuckDB's worker threads (default: one per CPU core)
    database.citus                auto (default) | on | off: use Citus when installed / require it / never
    api.tushare_token             the 56-hex-char Tushare token (better: the TUSHARE_TOKEN variable)
    api.tushare_api_url           where the client POSTs (default http://api.tushare.pro)
    api.tushare_points            the account's points tier: 120, 2000, 5000, 10000 or 15000
    tasks.<dataset>.*             per-dataset overrides (see :class:`TaskOverrides`)

The YAML scheduling file (:class:`ScheduleConfig`) holds the production run's knobs; its ``development`` and
``production_override`` sections are applied over the rest by ``--env development|production`` (the loader
does that, see ``alphahome.config.loader``).

How the YAML ``database`` section relates to ``database.pool_config``: the YAML file is per deployment, the
JSON file per machine/user, so the JSON wins. ``pool_config.max_size`` takes YAML
``database.connection_pool_size`` and ``pool_config.timeout`` (asyncpg's connect timeout) takes YAML
``database.connection_timeout`` only when nothing (file, environment, flag) sets the ``pool_config`` key
itself. The built-in defaults of each pair are equal, so with neither set nothing changes. ``config show``
names the winner of each pair.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any, Literal, get_args
from urllib.parse import unquote, urlsplit

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    SecretStr,
    ValidationInfo,
    field_validator,
    model_validator,
)

from alphahome.config.masking import describe_value
from alphahome.storage.options import (
    DEFAULT_DUCKDB_MEMORY_LIMIT,
    DEFAULT_LOCK_WAIT_SECONDS,
    DuckDBOptions,
    memory_limit_problem,
)
from alphahome.storage.url import database_url_problem, mask_url, parse_database_url, url_password

DEFAULT_DATABASE_URL = "duckdb:///~/.alphahome/alphahome.duckdb"
DEFAULT_API_URL = "http://api.tushare.pro"
POINTS_TIERS = (120, 2000, 5000, 10000, 15000)
DEFAULT_POOL_SIZE = 10
DEFAULT_CONNECT_TIMEOUT = 30.0
LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]
#: The log levels every command and the scheduling file accept (the one list of them).
LOG_LEVELS: tuple[str, ...] = get_args(LogLevel)

_DATE_FORMS = re.compile(r"(\d{4})-?(\d{2})-?(\d{2})")


def parse_date(value: object) -> date:
    """A date written ``YYYYMMDD`` or ``YYYY-MM-DD`` (str or int), or a ``date``; ValueError otherwise."""
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if isinstance(value, str):
        text = value.strip()
        m = _DATE_FORMS.fullmatch(text)
        if m and (len(text) == 8 or text.count("-") == 2):
            try:
                return date(int(m[1]), int(m[2]), int(m[3]))
            except ValueError:
                raise ValueError(f"{text!r} is not a calendar date") from None
    raise ValueError(f"expected a date as YYYYMMDD or YYYY-MM-DD, got {describe_value(value)}")


def _blank_to_none(value: object) -> object:
    if isinstance(value, str):
        value = value.strip()
        return value or None
    return value


def _upper(value: object) -> object:
    return value.strip().upper() if isinstance(value, str) else value


_NUMBERS = (int, float, int | None, float | None)


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")

    @field_validator("*", mode="before")
    @classmethod
    def _no_booleans_for_numbers(cls, value: object, info: ValidationInfo) -> object:
        # pydantic would read `max_workers: yes` as 1; a YAML boolean where a number belongs is a mistake.
        if (
            isinstance(value, bool)
            and info.field_name
            and cls.model_fields[info.field_name].annotation in _NUMBERS
        ):
            raise ValueError(f"expected a number, got {str(value).lower()}")
        return value


# --------------------------------------------------------------------------------------------- config.json


class PoolConfig(_Model):
    """Keyword arguments of ``asyncpg.create_pool`` (1:1, ``asyncpg.create_pool(url, **pool.model_dump())``).

    ``timeout`` is asyncpg's connect timeout (seconds), ``command_timeout`` the per-statement default.
    ``server_settings`` are PostgreSQL run-time parameters sent at connect; values are strings as asyncpg
    expects (numbers and true/false given in the file are turned into strings / on/off). A file that sets
    some of them keeps the defaults of the others."""

    min_size: int = Field(1, ge=0)
    max_size: int = Field(DEFAULT_POOL_SIZE, ge=1)
    command_timeout: float | None = Field(180.0, gt=0)
    max_queries: int = Field(50_000, ge=1)
    max_inactive_connection_lifetime: float = Field(300.0, ge=0)
    timeout: float = Field(DEFAULT_CONNECT_TIMEOUT, gt=0)
    server_settings: dict[str, str] = Field(
        default_factory=lambda: {
            "application_name": "alphahome",
            "tcp_keepalives_idle": "600",
            "tcp_keepalives_interval": "30",
            "tcp_keepalives_count": "3",
            "jit": "off",
        }
    )

    @field_validator("server_settings", mode="before")
    @classmethod
    def _settings_as_strings(cls, value: object) -> object:
        if not isinstance(value, dict):
            return value
        out = {}
        for key, item in value.items():
            if isinstance(item, bool):
                item = "on" if item else "off"
            elif isinstance(item, int | float):
                item = str(item)
            out[key] = item
        return out

    @model_validator(mode="after")
    def _min_not_above_max(self) -> PoolConfig:
        if self.min_size > self.max_size:
            raise ValueError(f"min_size ({self.min_size}) is greater than max_size ({self.max_size})")
        return self


class DatabaseSettings(_Model):
    """Where the warehouse lives: a PostgreSQL server or an embedded DuckDB file (the default)."""

    url: str = DEFAULT_DATABASE_URL
    pool_config: PoolConfig = Field(default_factory=PoolConfig)
    duckdb_lock_wait_seconds: float = Field(DEFAULT_LOCK_WAIT_SECONDS, ge=0)
    duckdb_memory_limit: str = DEFAULT_DUCKDB_MEMORY_LIMIT
    duckdb_threads: int | None = Field(None, ge=1)
    #: Citus (distributed PostgreSQL, docs/scale-out.md): ``auto`` uses it when the extension is installed in
    #: the database, ``on`` requires it (exit 2 without it), ``off`` treats the database as one node.
    citus: Literal["auto", "on", "off"] = "auto"

    @field_validator("url")
    @classmethod
    def _usable_url(cls, value: str) -> str:
        value = value.strip()
        problem = database_url_problem(value)
        if problem:
            raise ValueError(problem)
        return value

    @field_validator("duckdb_memory_limit")
    @classmethod
    def _memory_size(cls, value: str) -> str:
        problem = memory_limit_problem(value)
        if problem:
            raise ValueError(problem)
        return value.strip()

    def duckdb_options(self) -> DuckDBOptions:
        """The settings every DuckDB connection gets (see docs/architecture.md)."""
        return DuckDBOptions(self.duckdb_memory_limit, self.duckdb_threads, self.duckdb_lock_wait_seconds)

    def __repr_args__(self) -> Any:
        # The URL may carry the password: a repr in a traceback or log must not.
        yield "url", self.masked_url
        yield "pool_config", self.pool_config
        yield "duckdb_lock_wait_seconds", self.duckdb_lock_wait_seconds
        yield "duckdb_memory_limit", self.duckdb_memory_limit
        yield "duckdb_threads", self.duckdb_threads

    @property
    def backend(self) -> Literal["duckdb", "postgresql"]:
        """``"duckdb"`` or ``"postgresql"``."""
        return "duckdb" if parse_database_url(self.url).kind == "duckdb" else "postgresql"

    @property
    def duckdb_path(self) -> Path | None:
        """The DuckDB file, as the backend opens it (see ``alphahome.storage.url``), else None."""
        parsed = parse_database_url(self.url)
        return Path(parsed.path) if parsed.kind == "duckdb" and not parsed.in_memory else None

    @property
    def password(self) -> str | None:
        """The database password written in the URL (decoded), or None."""
        raw = url_password(self.url)
        return unquote(raw) if raw else None

    @property
    def masked_url(self) -> str:
        """The URL with its password replaced by ``***``: safe to print."""
        return mask_url(self.url)


class ApiSettings(_Model):
    """The Tushare Pro account and endpoint."""

    tushare_token: Annotated[SecretStr | None, BeforeValidator(_blank_to_none)] = None
    tushare_api_url: str = DEFAULT_API_URL
    tushare_points: int = 2000

    @field_validator("tushare_api_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        value = value.strip()
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"expected an http:// or https:// URL with a host, got {describe_value(value)}")
        try:
            parts.port  # noqa: B018 - raises ValueError on a bad port
        except ValueError:
            raise ValueError(
                f"the port of {describe_value(value)} is not a number between 1 and 65535"
            ) from None
        return value

    @field_validator("tushare_points")
    @classmethod
    def _known_tier(cls, value: int) -> int:
        if value not in POINTS_TIERS:
            tiers = ", ".join(map(str, POINTS_TIERS))
            raise ValueError(f"expected one of the Tushare points tiers {tiers}, got {value}")
        return value


class IndexFilter(_Model):
    """Which indices of ``index_basic`` an index dataset covers: every column given must match."""

    market: str | None = None
    publisher: str | None = None
    category: str | None = None

    def conditions(self) -> dict[str, str]:
        """column -> required value, for the columns given."""
        return {k: v for k, v in self.model_dump().items() if v is not None}


class TaskOverrides(_Model):
    """Per-dataset overrides of the task defaults; None means "use the dataset's own default".

    ``rate_limit`` is calls per minute to that dataset's API; ``retry_delay`` seconds; ``page_size`` rows
    per call (offset/limit paging); ``smart_lookback_days`` how far back a smart update re-fetches;
    ``default_start_date`` where a first full load starts. Index datasets (``index_daily``, ``index_weight``,
    …) cover ``codes`` (a list of index codes), else every index of ``index_basic`` matching ``filter``
    (``market``, ``publisher``, ``category``), else the major broad indices."""

    save_batch_size: int | None = Field(None, ge=1)
    concurrent_limit: int | None = Field(None, ge=1)
    max_retries: int | None = Field(None, ge=0)
    retry_delay: float | None = Field(None, ge=0)
    rate_limit: int | None = Field(None, ge=1)
    page_size: int | None = Field(None, ge=1)
    smart_lookback_days: int | None = Field(None, ge=0)
    default_start_date: Annotated[
        date | None, BeforeValidator(lambda v: None if v is None else parse_date(v))
    ] = None
    codes: list[str] | None = None
    filter: IndexFilter | None = None


class ConfigMonitoring(_Model):
    """config.json's ``monitoring``: notification channels with their secrets (merged with the YAML's by
    ``name``; see :meth:`Settings.notify_channels`)."""

    notify: list[NotifyChannel] = Field(default_factory=list)


class ConfigFile(_Model):
    """Everything ``config.json`` may contain."""

    database: DatabaseSettings = Field(default_factory=DatabaseSettings)
    api: ApiSettings = Field(default_factory=ApiSettings)
    tasks: dict[str, TaskOverrides] = Field(default_factory=dict)
    monitoring: ConfigMonitoring = Field(default_factory=ConfigMonitoring)


# ------------------------------------------------------------------------------ tushare_update_config.yaml


#: The log file when the scheduling YAML names none: under the configuration directory (docs/monitoring.md).
DEFAULT_LOG_NAME = "logs/tushare_production_update.log"


class ProductionSchedule(_Model):
    """How a production update runs. ``timeout_minutes`` bounds the whole run; ``log_file``: a relative path
    is resolved against the directory of the YAML that sets it; unset: ``logs/…`` beside config.json
    (``~/.alphahome/logs/tushare_production_update.log``); empty: no log file."""

    max_workers: int = Field(3, ge=1)
    max_retries: int = Field(3, ge=0)
    retry_delay: float = Field(5, ge=0)
    log_level: Annotated[LogLevel, BeforeValidator(_upper)] = "INFO"
    log_file: Annotated[str | None, BeforeValidator(_blank_to_none)] = DEFAULT_LOG_NAME
    timeout_minutes: float = Field(120, gt=0)
    enable_dry_run: bool = False


class TaskFilter(_Model):
    """Which tasks a production update selects (by source and type), minus the excluded dataset names."""

    include_sources: list[str] = Field(default_factory=lambda: ["tushare"])
    include_types: list[str] = Field(default_factory=lambda: ["fetch"])
    exclude_tasks: list[str] = Field(default_factory=list)


class AlertThresholds(_Model):
    """Warn when a run's success rate falls below ``success_rate`` (0..1) or a task runs longer than
    ``max_execution_time`` seconds."""

    success_rate: float = Field(0.8, ge=0, le=1)
    max_execution_time: float = Field(3600, gt=0)


NotifyEvent = Literal["failure", "partial", "alert", "success"]
CHANNEL_TYPES = ("webhook", "wecom", "dingtalk", "feishu", "email")


def _as_list(value: object) -> object:
    """``to: a@b.c`` -> ``[a@b.c]``; a comma list too."""
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


#: When a channel is told by default: a run that failed, was partial, or raised an alert.
DEFAULT_NOTIFY_EVENTS: tuple[NotifyEvent, ...] = ("failure", "partial", "alert")


class NotifyChannel(_Model):
    """One place a run's outcome is sent to (docs/monitoring.md).

    ``type``: webhook (the run summary as JSON), wecom / dingtalk / feishu (their group bots' formats), email
    (SMTP). ``name`` joins a channel declared in the YAML with its secrets in config.json. ``on``: the events
    that send: failure, partial, alert, success. Secrets (``secret``, ``password``) are masked everywhere."""

    type: Literal["webhook", "wecom", "dingtalk", "feishu", "email"]
    name: str | None = None
    url: Annotated[str | None, BeforeValidator(_blank_to_none)] = None
    secret: Annotated[SecretStr | None, BeforeValidator(_blank_to_none)] = None
    on: list[NotifyEvent] = Field(default_factory=lambda: list(DEFAULT_NOTIFY_EVENTS))
    timeout: float = Field(10, gt=0)
    to: Annotated[list[str], BeforeValidator(_as_list)] = Field(default_factory=list)
    host: str | None = None
    port: int | None = Field(None, ge=1, le=65535)
    starttls: bool = False
    ssl: bool = False
    user: str | None = None
    password: Annotated[SecretStr | None, BeforeValidator(_blank_to_none)] = None
    sender: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _yaml_on_key(cls, data: object) -> object:
        # YAML 1.1 reads an unquoted `on:` key as the boolean true.
        if isinstance(data, dict) and True in data and "on" not in data:
            data = {("on" if key is True else key): value for key, value in data.items()}
        return data

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("expected an http:// or https:// URL with a host")
        return value

    def problem(self) -> str | None:
        """What this channel lacks to be sent (checked after config.json's secrets are merged in)."""
        if self.type == "email":
            if not self.host:
                return "an email channel needs host (the SMTP server)"
            if not self.to:
                return "an email channel needs to (one address or a list)"
            if self.starttls and self.ssl:
                return "starttls and ssl exclude each other (ssl: port 465, starttls: port 587)"
        elif not self.url:
            return f"a {self.type} channel needs url"
        return None


class MonitoringConfig(_Model):
    """Per-task performance lines, task status lines, the alert thresholds, where alerts go
    (``notify``) and the node_exporter textfile written after each run (``prometheus_textfile``)."""

    enable_performance_log: bool = True
    enable_task_status_log: bool = True
    alert_thresholds: AlertThresholds = Field(default_factory=AlertThresholds)
    notify: list[NotifyChannel] = Field(default_factory=list)
    prometheus_textfile: Annotated[str | None, BeforeValidator(_blank_to_none)] = None


class ScheduleDatabase(_Model):
    """Deployment-level pool size and connect timeout (seconds); see the module docstring for how they
    relate to ``database.pool_config``."""

    connection_pool_size: int = Field(DEFAULT_POOL_SIZE, ge=1)
    connection_timeout: float = Field(DEFAULT_CONNECT_TIMEOUT, gt=0)


class NetworkConfig(_Model):
    """HTTP request timeout (seconds) and the cap on requests in flight across all APIs."""

    request_timeout: float = Field(60, gt=0)
    max_concurrent_requests: int = Field(20, ge=1)


DEFAULT_DEVELOPMENT: dict[str, Any] = {"max_workers": 1, "log_level": "DEBUG", "enable_dry_run": True}
DEFAULT_PRODUCTION_OVERRIDE: dict[str, Any] = {
    "max_workers": 5,
    "log_level": "WARNING",
    "enable_dry_run": False,
}


class ScheduleConfig(_Model):
    """The YAML scheduling file. Defaults equal the shipped ``tushare_update_config.yaml``.

    ``development`` and ``production_override`` are kept as written; the loader validates them and, for
    ``--env development|production``, deep-merges the chosen one over the other sections. Inside them a key
    may be written flat (``max_workers: 1``, the seed's form; any key of any section, found by name) or
    nested (``network: {request_timeout: 10}``)."""

    production: ProductionSchedule = Field(default_factory=ProductionSchedule)
    task_filter: TaskFilter = Field(default_factory=TaskFilter)
    monitoring: MonitoringConfig = Field(default_factory=MonitoringConfig)
    database: ScheduleDatabase = Field(default_factory=ScheduleDatabase)
    network: NetworkConfig = Field(default_factory=NetworkConfig)
    development: dict[str, Any] = Field(default_factory=lambda: dict(DEFAULT_DEVELOPMENT))
    production_override: dict[str, Any] = Field(default_factory=lambda: dict(DEFAULT_PRODUCTION_OVERRIDE))


# ------------------------------------------------------------------------------------------ all together


class Settings(ConfigFile):
    """The effective configuration: ``config.json`` + environment + flags, and the scheduling file."""

    schedule: ScheduleConfig = Field(default_factory=ScheduleConfig)

    def task_overrides(self, name: str) -> TaskOverrides:
        """The overrides configured for dataset ``name`` (all None when it has none), also when written
        under an original task name (``tasks.tushare_stock_daily``); the dataset's own name wins per key."""
        from alphahome.tasks.aliases import aliases_of

        merged: dict[str, Any] = {}
        for key in [*aliases_of(name), name]:
            given = self.tasks.get(key)
            if given is not None:
                merged.update(given.model_dump(exclude_unset=True))
        return TaskOverrides.model_validate(merged) if merged else TaskOverrides()

    def notify_channels(self) -> list[NotifyChannel]:
        """The effective channels: the YAML's, each completed by the config.json channel of the same
        ``name`` (its keys win: that is where secrets live), then config.json's other channels."""
        from_json = list(self.monitoring.notify)
        out = []
        for channel in self.schedule.monitoring.notify:
            twin = next((c for c in from_json if channel.name and c.name == channel.name), None)
            if twin is not None:
                from_json.remove(twin)
                channel = channel.model_copy(update=twin.model_dump(exclude_unset=True))
            out.append(channel)
        return out + from_json

    def secret_values(self) -> list[str]:
        """The secrets to pass to :func:`alphahome.config.masking.redact`: token, database password, and
        each notification channel's secret, password and URL query (bot keys travel in the query)."""
        values = []
        if self.api.tushare_token is not None:
            values.append(self.api.tushare_token.get_secret_value())
        raw_password = url_password(self.database.url)
        if raw_password:
            values.append(raw_password)
        for channel in [*self.schedule.monitoring.notify, *self.monitoring.notify]:
            for secret in (channel.secret, channel.password):
                if secret is not None:
                    values.append(secret.get_secret_value())
            if channel.url and urlsplit(channel.url).query:
                values.append(urlsplit(channel.url).query)
            if channel.url and "/hook/" in channel.url:  # feishu: the bot key is the last path segment
                values.append(channel.url.rsplit("/", 1)[-1])
        return values


def starter_config() -> dict[str, Any]:
    """The content of ``config.example.json`` and of the file ``alphahome config init`` writes: every key,
    realistic values, token empty. Conservative task overrides for a 2000-point account."""
    pool = PoolConfig().model_dump()
    return {
        "database": {
            "url": DEFAULT_DATABASE_URL,
            "pool_config": pool,
            "duckdb_lock_wait_seconds": 60,
            "duckdb_memory_limit": DEFAULT_DUCKDB_MEMORY_LIMIT,
            "duckdb_threads": None,
            "citus": "auto",
        },
        "api": {"tushare_token": "", "tushare_api_url": DEFAULT_API_URL, "tushare_points": 2000},
        "tasks": {
            "daily": {
                "save_batch_size": 20000,
                "concurrent_limit": 4,
                "max_retries": 3,
                "retry_delay": 2.0,
                "rate_limit": 180,
                "page_size": 6000,
                "smart_lookback_days": 5,
                "default_start_date": "19901219",
            },
            "income": {
                "save_batch_size": 5000,
                "concurrent_limit": 2,
                "rate_limit": 180,
                "page_size": 5000,
                "smart_lookback_days": 30,
                "default_start_date": "20000101",
            },
            "stock_basic": {"max_retries": 5, "rate_limit": 45, "page_size": 6000},
        },
    }
