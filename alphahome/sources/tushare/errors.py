"""Typed Tushare errors and the classification of the service's (code, msg) answers.

Tushare reports business errors as HTTP 200 with a non-zero ``code`` and a Chinese ``msg``; the code alone
is ambiguous (40203 covers both quota and permission), so classification reads code *and* text, testing the
quota phrases before the permission phrase because quota messages also say "权限的具体详情访问".
Every error keeps ``code``, ``msg``, ``request_id`` and ``api``; none ever carries the token.
"""

from __future__ import annotations

import re
from typing import Any, ClassVar, Literal

from alphahome.errors import AlphaHomeError
from alphahome.sources.tushare.interfaces import INTERFACES

Window = Literal["minute", "hour", "day"]


class TushareError(AlphaHomeError):
    """Base of every error raised while talking to Tushare.

    ``retryable`` says whether the same request may succeed if sent again (after a backoff or a wait).
    """

    retryable: ClassVar[bool] = False

    def __init__(
        self,
        message: str,
        *,
        api: str | None = None,
        code: int | None = None,
        msg: str | None = None,
        request_id: str | None = None,
    ) -> None:
        super().__init__(message)
        self.api = api
        self.code = code
        self.msg = msg
        self.request_id = request_id

    def __reduce__(self) -> tuple[Any, ...]:
        # Keyword-only constructors do not survive pickling by default (process pools, logging queues).
        return (_rebuild, (type(self), str(self), dict(self.__dict__)))


def _rebuild(cls: type[TushareError], message: str, state: dict[str, Any]) -> TushareError:
    err = cls.__new__(cls)
    Exception.__init__(err, message)
    err.__dict__.update(state)
    return err


class TransportError(TushareError):
    """The request did not produce a usable answer: timeout, connection reset, HTTP status >= 400,
    malformed or truncated JSON. Retryable with backoff. ``status`` is the HTTP status when there was one."""

    retryable = True

    def __init__(self, message: str, *, status: int | None = None, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.status = status


class ServerUnreachable(TransportError):
    """The Tushare URL has never answered in this run (connection refused, DNS failure): a wrong
    ``TUSHARE_API_URL`` or no network. Not retried; the run stops with one line (exit 2)."""

    retryable = False
    exit_code = 2


class ServiceError(TushareError):
    """The service answered with an unknown/system error ("系统未知错误" or an unrecognised code).
    Retryable a few times."""

    retryable = True


class QuotaExceeded(TushareError):
    """A per-API quota is used up (40203 "每分钟最多访问该接口N次" and variants). Not a failure: the caller
    waits for ``window`` to reopen. ``limit`` is the N the message carried (``None`` if it had none)."""

    retryable = True

    def __init__(self, message: str, *, window: Window, limit: int | None = None, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.window: Window = window
        self.limit = limit


class PermissionDenied(TushareError):
    """The token's points tier (or special permission) does not cover this API. Fatal for the task that
    needs it; the rest of a run goes on. ``points_needed`` is the tier the API requires, when known."""

    def __init__(self, message: str, *, points_needed: int | None = None, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.points_needed = points_needed


class TokenRejected(TushareError):
    """The token is invalid, expired or rotated. Fatal for the whole run (exit 2)."""

    exit_code = 2


class AccountBlocked(TokenRejected):
    """The account may not call at all right now (too many IPs, account disabled). Fatal for the run."""


class RequestError(TushareError):
    """The request itself is wrong (missing parameter, unknown API name, malformed fields): a bug or a bad
    spec, so sending it again cannot help. Fatal for the task."""


class PossiblyTruncated(TushareError):
    """A page came back exactly at the API's row cap and the API cannot page with offset/limit: the rows may
    have been silently truncated. The caller must split the request (e.g. a narrower date range)."""

    def __init__(self, message: str, *, rows: int, params: dict[str, Any] | None = None, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.rows = rows
        self.params = dict(params or {})


# --- classification -------------------------------------------------------------------------------------

#: Quota phrasings: 2020+ "每分钟最多访问该接口500次", 2018 "每分最多访问该接口80次", "频率超限(10次/小时)".
_QUOTA_MARKERS = ("最多访问", "频率超限")
_LIMIT_RE = re.compile(r"最多访问[^0-9]{0,12}?(\d+)\s*次")
_RATE_RE = re.compile(r"(\d+)\s*次\s*/\s*(分钟|分|小时|时|天|日)")
_WINDOW_WORDS: tuple[tuple[str, Window], ...] = (
    ("每分钟", "minute"),
    ("每分", "minute"),
    ("每小时", "hour"),
    ("每时", "hour"),
    ("每天", "day"),
    ("每日", "day"),
)
_RATE_UNITS: dict[str, Window] = {"分钟": "minute", "分": "minute", "小时": "hour", "时": "hour", "天": "day", "日": "day"}
_API_IN_MSG_RE = re.compile(r"接口\s*[(（]\s*([A-Za-z0-9_]+)\s*[)）]")
_TOKEN_MARKERS = ("token",)
_BLOCKED_MARKERS = ("IP数量超限", "恶意行为", "已被系统禁用", "账号已被禁用")
_UNKNOWN_API_MARKERS = ("请指定正确的接口名", "没有pro_bar接口")

#: Codes of the two generations (2018-19: -2001/-2002; 2020+: 40101/40203; the doc's stale 2002).
_REQUEST_CODES = frozenset({40101, -2001})
_PERMISSION_CODES = frozenset({2002, -2002})


def required_points(api: str) -> int:
    """The points tier an API needs, from the interface table (:mod:`alphahome.sources.tushare.interfaces`);
    for an API the table does not list: ``*_vip`` 5000, any other 2000."""
    known = INTERFACES.get(api)
    if known is not None:
        return known.points
    return 5000 if api.endswith("_vip") else 2000


def parse_quota(msg: str) -> tuple[Window, int | None] | None:
    """(window, N) of a quota message, or ``None`` when ``msg`` is not about a quota."""
    if not any(marker in msg for marker in _QUOTA_MARKERS):
        return None
    rate = _RATE_RE.search(msg)
    if rate is not None:
        return _RATE_UNITS[rate.group(2)], int(rate.group(1))
    window: Window = "minute"
    for word, found in _WINDOW_WORDS:
        if word in msg:
            window = found
            break
    limit = _LIMIT_RE.search(msg)
    return window, int(limit.group(1)) if limit else None


def classify(
    code: int,
    msg: str | None,
    api: str | None,
    request_id: str | None = None,
    *,
    points_needed: int | None = None,
) -> TushareError:
    """The typed error for a non-zero Tushare answer ``(code, msg)`` to a call of ``api``.

    Order matters: quota phrases first (their text also mentions 权限), then permission, then token and
    account problems, then request errors (40101 / -2001), and anything else is a retryable
    ``ServiceError`` ("系统未知错误", unknown codes). ``points_needed`` overrides :func:`required_points`
    in the permission message.
    """
    text = (msg or "").strip()
    common: dict[str, Any] = {"api": api, "code": code, "msg": text, "request_id": request_id}
    name = api or "?"
    rid = f" [request_id {request_id}]" if request_id else ""

    quota = parse_quota(text)
    if quota is not None:
        window, limit = quota
        per = f"{limit} calls per {window}" if limit is not None else f"its per-{window} quota"
        return QuotaExceeded(
            f"tushare API '{name}' is over its quota ({per}){rid}",
            window=window,
            limit=limit,
            **common,
        )

    if "权限" in text or code in _PERMISSION_CODES:
        named = _API_IN_MSG_RE.search(text)
        if api is None and named is not None:
            name = named.group(1)
            common["api"] = name
        needed = points_needed if points_needed is not None else required_points(name)
        return PermissionDenied(
            f"tushare API '{name}' refused: your token lacks permission (needs {needed} points; "
            f"see https://tushare.pro/document/1?doc_id=108; server said: {text or code}){rid}",
            points_needed=needed,
            **common,
        )

    lowered = text.lower()
    if code in _REQUEST_CODES and any(marker in lowered for marker in _TOKEN_MARKERS):
        return TokenRejected(
            f"tushare rejected the token (code {code}: {text}); check api.tushare_token / TUSHARE_TOKEN{rid}",
            **common,
        )

    if any(marker in text for marker in _BLOCKED_MARKERS):
        return AccountBlocked(f"tushare refuses this account (code {code}: {text}){rid}", **common)

    if code in _REQUEST_CODES or any(marker in text for marker in _UNKNOWN_API_MARKERS):
        if any(marker in text for marker in _UNKNOWN_API_MARKERS):
            what = f"unknown API name '{name}' (or not available at your tier)"
        else:
            what = f"bad request to tushare API '{name}'"
        return RequestError(f"{what}: code {code}: {text}{rid}", **common)

    return ServiceError(f"tushare API '{name}' failed with a service error (code {code}: {text}){rid}", **common)


def redact(text: str, secret: str | None) -> str:
    """``text`` with every occurrence of ``secret`` (the token) masked."""
    if not secret:
        return text
    return text.replace(secret, "***")
