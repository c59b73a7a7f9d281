"""Configuration: one validated settings model over config.json, the environment, the scheduling YAML and
command-line flags, which remembers where each value came from (``alphahome config show``)."""

from alphahome.config.loader import (
    InvalidConfiguration,
    LoadedSettings,
    ValueSource,
    config_file_path,
    load_settings,
)
from alphahome.config.masking import mask_token, mask_url_password, redact
from alphahome.config.settings import (
    ApiSettings,
    DatabaseSettings,
    PoolConfig,
    ScheduleConfig,
    Settings,
    TaskOverrides,
    parse_date,
)

__all__ = [
    "ApiSettings",
    "DatabaseSettings",
    "InvalidConfiguration",
    "LoadedSettings",
    "PoolConfig",
    "ScheduleConfig",
    "Settings",
    "TaskOverrides",
    "ValueSource",
    "config_file_path",
    "load_settings",
    "mask_token",
    "mask_url_password",
    "parse_date",
    "redact",
]
