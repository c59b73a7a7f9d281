"""Logging of a production update: a rotating log file plus the console (rich on a terminal, plain lines
in cron: progress on stdout, warnings and errors on stderr), every line passed through the secret filter so that the token and the database password never
reach a log."""

from __future__ import annotations

import logging
import logging.handlers
import sys
from collections.abc import Iterable
from pathlib import Path

from alphahome.config.masking import redact
from alphahome.errors import ConfigError

LOG_FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"
#: One log file is kept at 10 MB, with 5 older ones beside it.
LOG_MAX_BYTES = 10 * 1024 * 1024
LOG_BACKUPS = 5

_OWNED_ATTR = "_alphahome_update_handler"


class SecretFilter(logging.Filter):
    """Masks known secrets in every record's final message."""

    def __init__(self, secrets: Iterable[str | None]) -> None:
        super().__init__()
        self.secrets = [s for s in secrets if s]

    def filter(self, record: logging.LogRecord) -> bool:
        if self.secrets:
            message = record.getMessage()
            clean = redact(message, self.secrets)
            if clean != message:
                record.msg, record.args = clean, None
        return True


def setup_logging(
    level: str,
    log_file: str | Path | None,
    *,
    secrets: Iterable[str | None] = (),
    rich_console: object | None = None,
) -> Path | None:
    """Configure the ``alphahome`` logger for one run and return the log file's path (None: no file).

    ``rich_console``: a ``rich.console.Console`` to log through (a terminal), else plain lines on stderr.
    Calling it again replaces the handlers it installed earlier (tests run several updates in-process).
    """
    logger = logging.getLogger("alphahome")
    for handler in list(logger.handlers):
        if getattr(handler, _OWNED_ATTR, False):
            logger.removeHandler(handler)
            handler.close()
    logger.setLevel(getattr(logging, level.upper(), logging.INFO))
    logger.propagate = False
    secret_filter = SecretFilter(secrets)

    handlers: list[logging.Handler] = []
    if rich_console is not None:
        from rich.logging import RichHandler

        rich = RichHandler(console=rich_console, show_path=False, markup=False, rich_tracebacks=False)  # type: ignore[arg-type]
        rich.setFormatter(logging.Formatter("%(name)s: %(message)s"))
        handlers.append(rich)
    else:
        # Plain lines (cron): progress on stdout, warnings and errors on stderr.
        progress = logging.StreamHandler(sys.stdout)
        progress.addFilter(lambda record: record.levelno < logging.WARNING)
        problems = logging.StreamHandler(sys.stderr)
        problems.setLevel(logging.WARNING)
        for handler in (progress, problems):
            handler.setFormatter(logging.Formatter(LOG_FORMAT))
            handlers.append(handler)

    path: Path | None = None
    if log_file:
        path = Path(log_file).expanduser()
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            file_handler = logging.handlers.RotatingFileHandler(
                path, maxBytes=LOG_MAX_BYTES, backupCount=LOG_BACKUPS, encoding="utf-8"
            )
        except OSError as exc:
            raise ConfigError(
                f"cannot write the log file {path}: {exc.strerror or exc} (set production.log_file in the "
                "scheduling YAML to a writable path, or empty for no file)"
            ) from None
        file_handler.setFormatter(logging.Formatter(LOG_FORMAT))
        handlers.append(file_handler)
    for handler in handlers:
        handler.addFilter(secret_filter)
        setattr(handler, _OWNED_ATTR, True)
        logger.addHandler(handler)
    return path
