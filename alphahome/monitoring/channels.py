"""Small clients for the notification channels (docs/monitoring.md): a plain JSON webhook, the WeCom,
DingTalk and Feishu group bots, and SMTP email.

Each sender raises :class:`DeliveryFailed` with a short reason (never a secret); the dispatcher logs it.
Bot formats:

- WeCom: ``{"msgtype": "markdown", "markdown": {"content": …}}``, answer ``{"errcode": 0}``.
- DingTalk: ``{"msgtype": "markdown", "markdown": {"title": …, "text": …}}``; with a secret the URL gets
  ``timestamp`` (ms) and ``sign`` = base64(HMAC-SHA256(key=secret, msg="{timestamp}\\n{secret}")),
  URL-encoded; answer ``{"errcode": 0}``.
- Feishu: ``{"msg_type": "text", "content": {"text": …}}``; with a secret the body gets ``timestamp``
  (seconds) and ``sign`` = base64(HMAC-SHA256(key="{timestamp}\\n{secret}", msg=b"")); answer
  ``{"code": 0}`` (older bots: ``{"StatusCode": 0}``).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import smtplib
import ssl
import time
from email.message import EmailMessage
from typing import Any
from urllib.parse import quote_plus

import aiohttp

from alphahome.config.settings import NotifyChannel
from alphahome.errors import AlphaHomeError
from alphahome.monitoring.outcome import RunOutcome


class DeliveryFailed(AlphaHomeError):
    """A notification could not be delivered (the run's outcome is unaffected)."""


def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    """DingTalk's request signature (already URL-encoded for the query string)."""
    digest = hmac.new(secret.encode(), f"{timestamp_ms}\n{secret}".encode(), hashlib.sha256).digest()
    return quote_plus(base64.b64encode(digest).decode())


def feishu_sign(secret: str, timestamp_s: int) -> str:
    """Feishu's request signature (the HMAC key is ``"{timestamp}\\n{secret}"``, the message empty)."""
    digest = hmac.new(f"{timestamp_s}\n{secret}".encode(), b"", hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def bot_request(channel: NotifyChannel, outcome: RunOutcome, now: float | None = None) -> tuple[str, dict[str, Any]]:
    """The URL and JSON body one HTTP channel posts."""
    assert channel.url is not None
    now = time.time() if now is None else now
    url = channel.url
    secret = channel.secret.get_secret_value() if channel.secret is not None else None
    if channel.type == "webhook":
        return url, outcome.as_json()
    if channel.type == "wecom":
        return url, {"msgtype": "markdown", "markdown": {"content": outcome.markdown()}}
    if channel.type == "dingtalk":
        if secret:
            stamp = int(now * 1000)
            url += ("&" if "?" in url else "?") + f"timestamp={stamp}&sign={dingtalk_sign(secret, stamp)}"
        return url, {"msgtype": "markdown", "markdown": {"title": outcome.title(), "text": outcome.markdown()}}
    if channel.type == "feishu":
        body: dict[str, Any] = {"msg_type": "text", "content": {"text": outcome.text()}}
        if secret:
            stamp = int(now)
            body = {"timestamp": str(stamp), "sign": feishu_sign(secret, stamp), **body}
        return url, body
    raise ValueError(f"not an HTTP channel: {channel.type}")


def _bot_error(channel: NotifyChannel, answer: Any) -> str | None:
    """The bot's own error in an HTTP 200 answer, if any."""
    if channel.type == "webhook" or not isinstance(answer, dict):
        return None
    for key in ("errcode", "code", "StatusCode"):
        if key in answer and answer[key] not in (0, "0"):
            message = answer.get("errmsg") or answer.get("msg") or answer.get("StatusMessage") or ""
            return f"{key} {answer[key]} {message}".strip()
    return None


async def post_bot(session: aiohttp.ClientSession, channel: NotifyChannel, outcome: RunOutcome) -> None:
    """Deliver to an HTTP channel; raise :class:`DeliveryFailed` on an error status or a bot error code."""
    url, body = bot_request(channel, outcome)
    try:
        async with session.post(url, json=body) as resp:
            status = resp.status
            try:
                answer = await resp.json(content_type=None)
            except ValueError:
                answer = None
    except aiohttp.ClientError as exc:
        raise DeliveryFailed(f"{type(exc).__name__}") from None
    if status >= 400:
        raise DeliveryFailed(f"HTTP {status}")
    problem = _bot_error(channel, answer)
    if problem:
        raise DeliveryFailed(f"the bot answered {problem}")


def email_message(channel: NotifyChannel, outcome: RunOutcome) -> EmailMessage:
    """The email: the title as subject, the bilingual text as body (UTF-8)."""
    message = EmailMessage()
    message["Subject"] = outcome.title()
    message["From"] = channel.sender or channel.user or f"alphahome@{outcome.host}"
    message["To"] = ", ".join(channel.to)
    message.set_content(outcome.text())
    return message


def send_email_blocking(channel: NotifyChannel, outcome: RunOutcome) -> None:
    """Send through SMTP (plain, STARTTLS or implicit TLS) with the channel's timeout; run in a thread."""
    assert channel.host is not None
    port = channel.port or (465 if channel.ssl else 587 if channel.starttls else 25)
    message = email_message(channel, outcome)
    try:
        smtp: smtplib.SMTP
        if channel.ssl:
            smtp = smtplib.SMTP_SSL(channel.host, port, timeout=channel.timeout, context=ssl.create_default_context())
        else:
            smtp = smtplib.SMTP(channel.host, port, timeout=channel.timeout)
        with smtp:
            if channel.starttls:
                smtp.starttls(context=ssl.create_default_context())
            if channel.user and channel.password is not None:
                smtp.login(channel.user, channel.password.get_secret_value())
            smtp.send_message(message)
    except smtplib.SMTPAuthenticationError as exc:
        raise DeliveryFailed(f"SMTP login refused ({exc.smtp_code})") from None
    except smtplib.SMTPResponseException as exc:
        raise DeliveryFailed(f"SMTP error {exc.smtp_code}") from None
    except (smtplib.SMTPException, OSError) as exc:
        raise DeliveryFailed(f"{type(exc).__name__}: {exc}") from None


async def send_email(channel: NotifyChannel, outcome: RunOutcome) -> None:
    """:func:`send_email_blocking` off the event loop."""
    await asyncio.to_thread(send_email_blocking, channel, outcome)
