"""After a run: write the Prometheus textfile and send the notifications (docs/monitoring.md). Neither can
change the run's exit code: a failure is logged (without secrets) and the run's own result stands."""

from __future__ import annotations

import logging
from pathlib import Path

from alphahome.config.masking import redact
from alphahome.config.settings import Settings
from alphahome.monitoring.notify import notify
from alphahome.monitoring.outcome import RunOutcome
from alphahome.monitoring.textfile import write_textfile

logger = logging.getLogger("alphahome.monitoring")


def textfile_path(settings: Settings) -> Path | None:
    """``monitoring.prometheus_textfile`` as a path (``~`` expanded), or None."""
    raw = settings.schedule.monitoring.prometheus_textfile
    return Path(raw).expanduser() if raw else None


async def publish_outcome(outcome: RunOutcome, settings: Settings) -> None:
    """Textfile metrics, then notifications to every channel whose ``on`` matches the run's events."""
    secrets = settings.secret_values()
    path = textfile_path(settings)
    if path is not None:
        try:
            write_textfile(path, outcome)
        except OSError as exc:
            logger.warning("metrics textfile %s not written: %s", path, redact(str(exc), secrets))
    await notify(settings.notify_channels(), outcome, secrets)
