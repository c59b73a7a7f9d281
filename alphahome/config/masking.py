"""Keep secrets (the Tushare token, the database password) out of anything a person or a log can read.

Other layers call :func:`redact` on log lines and error messages with ``settings.secret_values()``."""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import unquote

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


def _split_userinfo(url: str) -> tuple[str, str, str] | None:
    """Split ``scheme://user:password@rest`` into (``scheme://user:``, password, ``@rest``).

    Works on text, not on a parsed URL, so that a malformed URL (an unescaped ``/`` or ``#`` in the
    password) is still masked: everything between the first ``:`` after ``://`` and the last ``@`` counts
    as the password."""
    head, sep, rest = url.partition("://")
    if not sep:
        return None
    at = rest.rfind("@")
    if at < 0:
        return None
    userinfo = rest[:at]
    user, colon, password = userinfo.partition(":")
    if not colon:
        return None
    return f"{head}://{user}:", password, rest[at:]


def url_password(url: str) -> str | None:
    """The password written in a database URL (as written, still percent-encoded), or None."""
    parts = _split_userinfo(url)
    return parts[1] if parts and parts[1] else None


def mask_url_password(url: str) -> str:
    """``postgresql://user:secret@host/db`` -> ``postgresql://user:***@host/db``; other URLs unchanged."""
    parts = _split_userinfo(url)
    if parts is None or not parts[1]:
        return url
    return f"{parts[0]}{MASK}{parts[2]}"


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
