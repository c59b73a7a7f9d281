"""The asynchronous Tushare Pro client: one HTTP session, typed errors, retries, quota waits and paging.

Every request goes through the process's :class:`RateLimiter` first. Transport failures and service errors
are retried with exponential backoff and jitter; quota errors are not failures: the limiter learns the
quota's N, pauses the API for a window and the call is sent again (bounded, and a *daily* quota is raised
so that the caller stops that API). Permission, token and request errors are raised at once.

Results: :meth:`TushareClient.call` returns one :class:`Page` as the server sent it;
:meth:`TushareClient.fetch` pages with offset/limit and returns a ``pyarrow.Table`` whose columns are the
requested fields, in order, even when there are no rows.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import random
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, fields
from types import TracebackType
from typing import Any, Self

import aiohttp
import pyarrow as pa

from alphahome.sources.tushare.errors import (
    PossiblyTruncated,
    QuotaExceeded,
    ServerUnreachable,
    TransportError,
    TushareError,
    classify,
    redact,
)
from alphahome.sources.tushare.rate_limiter import RateLimiter
from alphahome.sources.tushare.table import ColumnType, build_table

logger = logging.getLogger("alphahome.tushare")

DEFAULT_URL = "http://api.tushare.pro"
#: Longest sleep between two retries, whatever the attempt number.
MAX_BACKOFF_SECONDS = 60.0


@dataclass(frozen=True)
class Page:
    """One answer of the service: column names (``data.fields``), rows in that order, ``has_more``."""

    fields: list[str]
    rows: list[list[Any]]
    has_more: bool
    request_id: str | None


@dataclass
class CallStats:
    """Counters of requests to Tushare, per API (client-wide) or per caller (pass one to call/fetch)."""

    #: HTTP requests sent (every attempt).
    calls: int = 0
    #: Requests answered with code 0.
    ok: int = 0
    #: Requests that failed (transport, service, permission, token, request errors; not quota answers).
    failed: int = 0
    #: Attempts repeated after a transport or service error.
    retries: int = 0
    #: 40203 quota answers received (each one followed by a wait, or raised for a daily quota).
    quota_errors: int = 0
    #: Times a request waited for the rate limiter (budget or pause), and the seconds spent waiting.
    waits: int = 0
    wait_seconds: float = 0.0
    #: Rows received.
    rows: int = 0

    def add(self, other: CallStats) -> None:
        """Add ``other``'s counts to these."""
        for f in fields(self):
            setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))


def _param_value(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.strftime("%Y%m%d")
    if isinstance(value, dt.date):
        return value.strftime("%Y%m%d")
    if isinstance(value, str):
        text = value.strip()
        # 'YYYY-MM-DD' becomes Tushare's 'YYYYMMDD' (the server's tolerance of dashes is unknown).
        if len(text) == 10 and text[4] == "-" and text[7] == "-" and text.replace("-", "").isdigit():
            return text.replace("-", "")
        return text
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, list | tuple | set | frozenset):
        return ",".join(str(_param_value(v)) for v in value)
    return value


def normalise_params(params: Mapping[str, Any] | None) -> dict[str, Any]:
    """Request params as Tushare wants them: ``None`` dropped, dates as 'YYYYMMDD', lists comma-joined."""
    return {str(k): _param_value(v) for k, v in (params or {}).items() if v is not None}


def fields_text(fields_: Sequence[str] | str | None) -> str:
    """The ``fields`` of a request as a comma string (empty: the API's default columns)."""
    if fields_ is None:
        return ""
    if isinstance(fields_, str):
        return ",".join(f.strip() for f in fields_.split(",") if f.strip())
    return ",".join(f.strip() for f in fields_)


class TushareClient:
    """An asynchronous Tushare Pro client; use it as ``async with TushareClient(...) as client:``.

    One aiohttp session per client (created on first use, or ``session`` if given, which is then left
    open). ``timeout`` bounds each request (seconds); ``max_retries`` is the number of *extra* attempts
    after a transport or service error (0: one attempt), spaced by ``retry_delay`` × 2^k with ±50% jitter;
    ``max_concurrency`` bounds requests in flight; ``max_quota_waits`` bounds how many times one call
    waits out a minute/hour quota before giving up with :class:`QuotaExceeded`. ``api_points`` maps APIs
    to the points they need, for permission messages.
    """

    def __init__(
        self,
        token: str,
        url: str = DEFAULT_URL,
        *,
        limiter: RateLimiter,
        timeout: float = 30.0,
        max_retries: int = 3,
        retry_delay: float = 1.0,
        max_concurrency: int = 16,
        max_quota_waits: int = 20,
        session: aiohttp.ClientSession | None = None,
        api_points: Mapping[str, int] | None = None,
        rng: random.Random | None = None,
    ) -> None:
        if not isinstance(token, str) or not token.strip():
            raise ValueError("a Tushare token is required (api.tushare_token or TUSHARE_TOKEN)")
        if not timeout > 0:
            raise ValueError(f"timeout must be positive, got {timeout!r}")
        if max_retries < 0:
            raise ValueError(f"max_retries must be >= 0, got {max_retries!r}")
        if retry_delay < 0:
            raise ValueError(f"retry_delay must be >= 0, got {retry_delay!r}")
        if max_concurrency < 1:
            raise ValueError(f"max_concurrency must be >= 1, got {max_concurrency!r}")
        self._token = token.strip()
        self.url = url
        self.limiter = limiter
        self.timeout = float(timeout)
        self.max_retries = int(max_retries)
        #: API -> column the server did not send -> pages without it (see _note_missing_columns).
        self.missing_columns: dict[str, dict[str, int]] = {}
        #: Whether any request has had an HTTP answer (an unreachable server before that is fatal).
        self._reached = False
        self.retry_delay = float(retry_delay)
        self.max_concurrency = int(max_concurrency)
        self.max_quota_waits = int(max_quota_waits)
        self._session = session
        self._owns_session = session is None
        self._inflight = asyncio.Semaphore(self.max_concurrency)
        self._api_points = dict(api_points or {})
        self._rng = rng or random.Random()
        self._stats: dict[str, CallStats] = {}

    def __repr__(self) -> str:
        return f"TushareClient(url={self.url!r}, token=***)"

    # --- lifecycle ----------------------------------------------------------------------------------

    async def __aenter__(self) -> Self:
        self._open_session()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    def _open_session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            if not self._owns_session:
                raise RuntimeError("the aiohttp session given to TushareClient is closed")
            connector = aiohttp.TCPConnector(limit=self.max_concurrency)
            self._session = aiohttp.ClientSession(
                connector=connector,
                timeout=aiohttp.ClientTimeout(total=self.timeout),
                headers={"Content-Type": "application/json"},
            )
        return self._session

    async def close(self) -> None:
        """Close the HTTP session if this client opened it."""
        if self._owns_session and self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None if self._owns_session else self._session

    # --- counters -----------------------------------------------------------------------------------

    def stats(self) -> dict[str, CallStats]:
        """Per API: requests, successes, failures, retries, quota errors, waits and rows (copies)."""
        return {api: CallStats(**vars(s)) for api, s in self._stats.items()}

    def _count(self, api: str, counter: CallStats | None, **deltas: float) -> None:
        for target in (self._stats.setdefault(api, CallStats()), counter):
            if target is None:
                continue
            for name, delta in deltas.items():
                setattr(target, name, getattr(target, name) + delta)

    # --- one request --------------------------------------------------------------------------------

    async def call(
        self,
        api: str,
        params: Mapping[str, Any] | None = None,
        fields: Sequence[str] | str | None = None,
        *,
        counter: CallStats | None = None,
        max_retries: int | None = None,
    ) -> Page:
        """Send one request (after the rate limiter lets it through) and return the page as sent.

        Retries transport and service errors up to ``max_retries`` times (the client's own when None); waits out minute/hour quota
        errors (not counted as failed attempts). Raises the typed error otherwise; a daily quota raises
        :class:`QuotaExceeded` with ``window='day'``.
        """
        body = {
            "api_name": api,
            "token": self._token,
            "params": normalise_params(params),
            "fields": fields_text(fields),
        }
        retries = 0
        quota_waits = 0
        budget = self.max_retries if max_retries is None else max_retries
        while True:
            await self._acquire(api, counter)
            self._count(api, counter, calls=1)
            try:
                page = await self._post(api, body)
            except QuotaExceeded as exc:
                self._count(api, counter, quota_errors=1)
                before = self.limiter.budget(api).limit(exc.window)
                paused = self.limiter.quota_error(api, exc.window, exc.limit)
                if self.limiter.budget(api).limit(exc.window) != before:
                    logger.warning("tushare %s: budget lowered to %s calls per %s (learned from the server)",
                                   api, exc.limit, exc.window)
                quota_waits += 1
                if exc.window == "day" or quota_waits > self.max_quota_waits:
                    raise
                logger.info("tushare %s: %s quota reached; %s", api, exc.window,
                            f"pausing {paused:.1f}s for the window to reopen" if paused
                            else "waiting for the oldest calls to leave the window")
                continue
            except TushareError as exc:
                self._count(api, counter, failed=1)
                if not exc.retryable or retries >= budget:
                    if exc.retryable:
                        logger.error("tushare %s: giving up after %d attempts: %s", api, retries + 1, exc)
                    raise
                retries += 1
                self._count(api, counter, retries=1)
                delay = self._backoff(retries)
                logger.warning("tushare %s: %s; retry %d/%d in %.2fs", api, exc, retries, budget, delay)
                await asyncio.sleep(delay)
                continue
            self._count(api, counter, ok=1, rows=len(page.rows))
            return page

    def _note_missing_columns(self, api: str, absent: Sequence[str]) -> None:
        """Count columns the server did not send; warn once per API and column in the client's life (one
        run), so a schema change costs one line, not one per page. ``missing_columns`` keeps the counts."""
        seen = self.missing_columns.setdefault(api, {})
        new = [name for name in absent if name not in seen]
        for name in absent:
            seen[name] = seen.get(name, 0) + 1
        if new:
            shown = ", ".join(new[:12]) + (f", … ({len(new)} in all)" if len(new) > 12 else "")
            logger.warning("tushare %s: the server sent no column(s) %s; left null (reported once per run; "
                           "the run summary lists schema drift)", api, shown)

    def _backoff(self, retry: int) -> float:
        base = self.retry_delay * (2 ** (retry - 1))
        return min(MAX_BACKOFF_SECONDS, base * (0.5 + self._rng.random()))

    async def _acquire(self, api: str, counter: CallStats | None) -> None:
        waited = await self.limiter.acquire(api)
        if waited > 0:
            self._count(api, counter, waits=1, wait_seconds=waited)

    async def _post(self, api: str, body: dict[str, Any]) -> Page:
        session = self._open_session()
        loop = asyncio.get_running_loop()
        queued = loop.time()
        async with self._inflight:
            # A slot granted long before the request leaves could bunch calls at the server: take a new one.
            if loop.time() - queued > self.limiter.window_seconds("minute") * self.limiter.margin_of(api):
                await self.limiter.acquire(api)
            try:
                async with session.post(
                    self.url, json=body, timeout=aiohttp.ClientTimeout(total=self.timeout)
                ) as resp:
                    status = resp.status
                    self._reached = True
                    raw = await resp.read()
            except TimeoutError:
                raise TransportError(
                    f"tushare API '{api}' timed out after {self.timeout:g}s", api=api
                ) from None
            except aiohttp.ClientConnectorError as exc:
                detail = redact(str(exc), self._token) or type(exc).__name__
                if not self._reached:  # never answered: the URL is wrong or the server is down
                    raise ServerUnreachable(f"cannot reach Tushare at {self.url}: {detail}", api=api) from None
                raise TransportError(
                    f"tushare API '{api}' request failed: {type(exc).__name__}: {detail}", api=api
                ) from None
            except aiohttp.ClientError as exc:
                detail = redact(str(exc), self._token) or type(exc).__name__
                raise TransportError(
                    f"tushare API '{api}' request failed: {type(exc).__name__}: {detail}", api=api
                ) from None
        if status >= 400:
            raise TransportError(f"tushare API '{api}' answered HTTP {status}", api=api, status=status)
        return self._parse(api, raw, status)

    def _parse(self, api: str, raw: bytes, status: int) -> Page:
        def malformed(why: str) -> TransportError:
            return TransportError(f"tushare API '{api}' sent a malformed answer: {why}", api=api, status=status)

        try:
            envelope = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as exc:
            raise malformed(f"invalid JSON ({type(exc).__name__}, {len(raw)} bytes)") from None
        if not isinstance(envelope, dict) or "code" not in envelope:
            raise malformed("no 'code' in the response")
        request_id = envelope.get("request_id")
        request_id = str(request_id) if request_id is not None else None
        try:
            code = int(envelope["code"])
        except (TypeError, ValueError):
            raise malformed(f"non-numeric code {envelope['code']!r}") from None
        if code != 0:
            msg = redact(str(envelope.get("msg") or envelope.get("message") or ""), self._token)
            raise classify(code, msg, api, request_id, points_needed=self._api_points.get(api))
        data = envelope.get("data")
        if not isinstance(data, dict):
            raise malformed("code 0 without a data object")
        names = data.get("fields")
        items = data.get("items")
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            raise malformed("data.fields is not a list of names")
        if not isinstance(items, list):
            raise malformed("data.items is not a list")
        width = len(names)
        for row in items:
            if not isinstance(row, list) or len(row) != width:
                raise malformed(f"a row does not have the {width} values of data.fields")
        return Page(fields=names, rows=items, has_more=bool(data.get("has_more")), request_id=request_id)

    # --- paging -------------------------------------------------------------------------------------

    async def pages(
        self,
        api: str,
        params: Mapping[str, Any] | None = None,
        fields: Sequence[str] | str | None = None,
        *,
        page_size: int,
        offset_paging: bool = True,
        counter: CallStats | None = None,
        max_retries: int | None = None,
    ) -> AsyncIterator[Page]:
        """Yield the pages of one query, paging with ``offset``/``limit`` in steps of ``page_size``.

        Stops when a page is shorter than ``page_size`` and ``has_more`` is false. A page exactly at the cap
        without ``has_more`` may be a silent truncation, so the next offset is asked for too. With
        ``offset_paging=False`` (the API cannot page) a full or ``has_more`` page raises
        :class:`PossiblyTruncated` so that the caller splits the request.
        """
        if isinstance(page_size, bool) or not isinstance(page_size, int) or page_size < 1:
            raise ValueError(f"page_size must be a positive integer, got {page_size!r}")
        base = dict(params or {})
        for managed in ("offset", "limit"):
            if base.get(managed) is not None:
                raise ValueError(f"params must not set '{managed}': fetch pages by itself")
        if not offset_paging:
            page = await self.call(api, base, fields, counter=counter, max_retries=max_retries)
            if page.has_more or len(page.rows) >= page_size:
                raise PossiblyTruncated(
                    f"tushare API '{api}' returned {len(page.rows)} rows (its cap is {page_size}) and cannot "
                    f"page with offset: the result may be truncated; split the request",
                    api=api,
                    rows=len(page.rows),
                    params=base,
                    request_id=page.request_id,
                )
            yield page
            return
        offset = 0
        previous: list[list[Any]] | None = None
        while True:
            page = await self.call(api, {**base, "offset": offset, "limit": page_size}, fields, counter=counter,
                                   max_retries=max_retries)
            got = len(page.rows)
            if previous is not None and got and page.rows == previous:
                # The same full page again: this API ignores offset, so paging would never end.
                raise PossiblyTruncated(
                    f"tushare API '{api}' ignored offset={offset} (the same {got} rows came back): the result "
                    f"may be truncated; split the request",
                    api=api,
                    rows=got,
                    params=base,
                    request_id=page.request_id,
                )
            yield page
            previous = page.rows
            if got == 0:
                if page.has_more:
                    raise TransportError(
                        f"tushare API '{api}' sent an empty page at offset {offset} with has_more set",
                        api=api,
                        request_id=page.request_id,
                    )
                return
            if got < page_size and not page.has_more:
                return
            offset += got

    async def fetch(
        self,
        api: str,
        params: Mapping[str, Any] | None = None,
        fields: Sequence[str] | str | None = None,
        *,
        page_size: int,
        offset_paging: bool = True,
        types: Mapping[str, ColumnType] | None = None,
        counter: CallStats | None = None,
        max_retries: int | None = None,
    ) -> pa.Table:
        """All rows of one query as a ``pyarrow.Table`` (paged as :meth:`pages` does).

        Columns are ``fields`` in order (the server's columns when ``fields`` is empty), present even when
        there are no rows. ``types`` maps columns to 's'/'f'/'i'/'d' ('d': a YYYYMMDD date → date32) or
        Arrow types; untyped columns are inferred from the values (a column with no value at all is of
        Arrow's null type). JSON null stays null. A requested field the server does not send is logged
        and left null.
        """
        wanted = list(dict.fromkeys(f for f in fields_text(fields).split(",") if f))
        columns: list[str] | None = wanted or None
        values: dict[str, list[Any]] = {name: [] for name in wanted}
        async for page in self.pages(
            api, params, fields, page_size=page_size, offset_paging=offset_paging, counter=counter,
            max_retries=max_retries,
        ):
            if columns is None:
                columns = list(page.fields)
                values = {name: [] for name in columns}
            index = {name: i for i, name in enumerate(page.fields)}
            absent = [name for name in columns if name not in index]
            if absent:
                self._note_missing_columns(api, absent)
            for name in columns:
                position = index.get(name)
                if position is None:
                    values[name].extend([None] * len(page.rows))
                else:
                    values[name].extend(row[position] for row in page.rows)
        return build_table(api, columns or [], values, types)
