"""Send a run's outcome to every configured channel whose ``on`` matches the run's events
(docs/monitoring.md). Delivery never raises: a failure (or a timeout) is logged with the channel's type and
name, never its secrets, and the run's exit code stays what the run decided."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from alphahome.config.masking import mask_webhook_url, redact
from alphahome.config.settings import NotifyChannel
from alphahome.monitoring.outcome import RunOutcome

if TYPE_CHECKING:  # imported when a channel is chosen: most runs send nothing and skip aiohttp's import
    import aiohttp

logger = logging.getLogger("alphahome.monitoring")


def channel_label(channel: NotifyChannel) -> str:
    """How a channel is named in logs: its type, name and (masked) address."""
    where = mask_webhook_url(channel.url) if channel.url else ",".join(channel.to)
    return f"{channel.type}{f' {channel.name!r}' if channel.name else ''} ({where})"


def channels_for(channels: Iterable[NotifyChannel], outcome: RunOutcome) -> list[NotifyChannel]:
    """The channels that want one of the run's events."""
    events = outcome.events()
    return [c for c in channels if events & set(c.on)]


async def notify(channels: Sequence[NotifyChannel], outcome: RunOutcome, secrets: Iterable[str] = ()) -> dict[str, bool]:
    """Deliver ``outcome`` to the matching channels at once; return label -> delivered."""
    chosen = channels_for(channels, outcome)
    if not chosen:
        return {}
    import aiohttp

    from alphahome.monitoring.channels import DeliveryFailed, post_bot, send_email

    secret_list = [s for s in secrets if s]
    results: dict[str, bool] = {}

    async def one(session: aiohttp.ClientSession, channel: NotifyChannel) -> None:
        label = channel_label(channel)
        try:
            async with asyncio.timeout(channel.timeout):
                if channel.type == "email":
                    await send_email(channel, outcome)
                else:
                    await post_bot(session, channel, outcome)
        except TimeoutError:
            results[label] = False
            logger.warning("notification to %s not delivered: no answer within %gs", label, channel.timeout)
        except DeliveryFailed as exc:
            results[label] = False
            logger.warning("notification to %s not delivered: %s", label, redact(str(exc), secret_list))
        except Exception as exc:
            results[label] = False
            logger.warning("notification to %s not delivered: %s", label,
                           redact(f"{type(exc).__name__}: {exc}", secret_list))
        else:
            results[label] = True
            logger.info("notification sent to %s", label)

    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=max(c.timeout for c in chosen))) as session:
        async with asyncio.TaskGroup() as group:
            for channel in chosen:
                group.create_task(one(session, channel))
    return results


def notify_blocking(channels: Sequence[NotifyChannel], outcome: RunOutcome, secrets: Iterable[str] = ()) -> dict[str, bool]:
    """:func:`notify` from synchronous code (the CLI after its run's event loop has closed)."""
    if not channels:
        return {}
    try:
        return asyncio.run(notify(channels, outcome, secrets))
    except Exception as exc:
        logger.warning("notifications not sent: %s", redact(f"{type(exc).__name__}: {exc}", list(secrets)))
        return {}
