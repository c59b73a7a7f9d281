"""Keep secrets (the Tushare token, the database password) out of anything a person or a log can read.

Other layers call :func:`redact` on log lines and error messages with ``settings.secret_values()``."""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import unquote

from alphahome.storage.url import mask_url, url_password  # noqa: F401 - re-exported for the config layer

MASK = "***"

# Secrets this short are masked only where they stand alone, or a 2-character password would
# shred every word that happens to contain it.
_SHORT_SECRET = 4


def mask_token(token: str | None) -> str:
    """Show enough of a token to recognise it, never the whole: ``'abcd…(56 chars)'``."""
    if not token:
        return "(unset)"
    if len(token) < 12:
        return f"…({len(token)} chars)"
    return f"{token[:4]}…({len(token)} chars)"


#: The password of a database URL, and the URL with it masked: one implementation, in storage.url.
mask_url_password = mask_url


_TOKEN_LIKE = re.compile(r"[0-9a-fA-F]{24,}")


def describe_value(value: object) -> str:
    """A short rendering of a bad value for an error message: strings quoted and cut at 40 characters, and
    anything that looks like a token (a long hex string, e.g. pasted under the wrong key) not shown."""
    if isinstance(value, str):
        if _TOKEN_LIKE.search(value):
            return f"a {len(value)}-character string that looks like a token (not shown)"
        return repr(value if len(value) <= 40 else value[:37] + "...")
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return repr(value)


def redact(text: str, secrets: Iterable[str | None]) -> str:
    """Replace every occurrence of each known secret in ``text`` (also its percent-decoded form) by ``***``."""
    variants: set[str] = set()
    for secret in secrets:
        if secret:
            variants.add(secret)
            variants.add(unquote(secret))
    # Longest first, so a secret containing another is replaced whole.
    for secret in sorted(variants, key=len, reverse=True):
        if len(secret) >= _SHORT_SECRET:
            text = text.replace(secret, MASK)
        else:
            text = re.sub(rf"(?<![A-Za-z0-9]){re.escape(secret)}(?![A-Za-z0-9])", MASK, text)
    return text


def mask_webhook_url(url: str) -> str:
    """A bot URL with its key hidden: the query (WeCom/DingTalk ``key=``/``access_token=``) and a Feishu
    ``/hook/<key>`` segment become ``***``."""
    head, q, query = url.partition("?")
    if "/hook/" in head:
        head = head.rsplit("/", 1)[0] + "/" + MASK
    return f"{head}?{MASK}" if q and query else head


def mask_channel(channel: object) -> object:
    """A notification channel (as dumped from the settings) safe to print: secret and password masked,
    bot keys in the URL hidden, keys left unset dropped."""
    if not isinstance(channel, dict):
        return channel
    out: dict[str, object] = {}
    for key, value in channel.items():
        if value is None or value == []:
            continue
        if key in ("secret", "password"):
            value = MASK
        elif key == "url" and isinstance(value, str):
            value = mask_webhook_url(value)
        out[key] = value
    return out
