"""The sandbox HTTP server: the Tushare Pro wire protocol over any market object with ``.apis``.

Protocol (reference §1-§2, §6): ``POST /``, ``/dataapi`` and ``/dataapi/{api_name}`` take a JSON body
``{api_name, token, params, fields}`` (``api_name`` from the body, else the path) and answer JSON
``{request_id, code, msg, data}``; business errors are HTTP 200 with a non-zero code and ``data: null``.

Validation order, each step with Tushare's exact text:

0. body not a JSON object → 40101 ``请求格式错误：请求体必须是JSON对象`` (a sandbox choice: the real
   service's answer is undocumented);
1. token → 40101 ``您的token不对，请确认。``;
2. API → 40101 ``请指定正确的接口名``;
3. tier (``ApiDef.min_points``) → 40203 permission text naming the API;
4. quota (per token × API; minute/hour/day) → 40203 quota text carrying N; a call that passes counts,
   a refused one does not;
5. ``params`` not an object → 40101 ``params 参数格式错误：应为JSON对象``; then required params →
   40101 ``<param> required`` (the first param of the first group with none given);
6. ``offset``/``limit`` not non-negative integers → 40101 ``<name> 参数格式错误：应为非负整数``;
   ``fields`` neither a string nor an array of strings → 40101 ``fields 列表类型错误：应为逗号分隔的字符串或字符串数组``.

Parameters: ``null`` and ``""`` mean absent; keys the API does not document are ignored; values reach the
market as trimmed strings. ``offset``/``limit`` accept numbers or numeric strings; ``limit`` 0 means not
given. ``fields`` is a string or an array (trimmed; empty = the default columns; non-default columns
only when named; request order kept; unknown names ignored, and when none is known the default columns
are returned). Rows are sorted newest-first (``ApiDef.sort_desc`` descending, stable, nulls last), then
``offset``/``limit`` apply, then the page is silently cut at ``ApiDef.row_cap``; ``has_more`` is true
whenever rows exist beyond the returned page. Values: strings as strings, ``i`` fields as JSON ints,
``f`` fields as JSON floats, NaN/None as ``null`` (see ``pages.py``).

Faults (``faults.py``) are drawn per request in arrival order. A market query that raises is answered
``SYSTEM_ERROR_CODE`` with the "系统未知错误" text (and logged). Validation, quotas and stats run on the
event loop; market queries and rendering run in a small thread pool so a slow query stalls no one.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import socket
import threading
import time
import uuid
from collections import Counter, OrderedDict, deque
from collections.abc import Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from aiohttp import web

from alphahome.sandbox.faults import SYSTEM_ERROR_CODE, FaultConfig, FaultInjector, system_error_message
from alphahome.sandbox.pages import Page, QueryResult, encode_envelope
from alphahome.sandbox.quota import (
    PERMISSION_DOC,
    QuotaKeeper,
    QuotaLimits,
    parse_quota_overrides,
    quota_message,
)
from alphahome.sandbox.tokens import TokenBook

if TYPE_CHECKING:
    from alphahome.sandbox.apidef import ApiDef

log = logging.getLogger("alphahome.sandbox")

TOKEN_ERROR = "您的token不对，请确认。"
UNKNOWN_API_ERROR = "请指定正确的接口名"
BAD_BODY_ERROR = "请求格式错误：请求体必须是JSON对象"
BAD_PARAMS_ERROR = "params 参数格式错误：应为JSON对象"
BAD_FIELDS_ERROR = "fields 列表类型错误：应为逗号分隔的字符串或字符串数组"
CODE_BAD_REQUEST = 40101
CODE_FORBIDDEN = 40203

#: Paging parameters: handled by the server, never passed to ``ApiDef.query``.
PAGING_PARAMS = ("offset", "limit")
#: Results with more rows than this are not kept in the result cache.
_CACHE_MAX_ROWS = 2_000_000
_CACHE_ENTRIES = 8


def permission_message(api_name: str) -> str:
    """Tushare's 40203 permission text naming the API."""
    return f"抱歉，您没有接口({api_name})访问权限，{PERMISSION_DOC}"


class MarketLike(Protocol):
    """What the server needs of a market: its APIs by name."""

    @property
    def apis(self) -> Mapping[str, ApiDef]: ...


class ApiError(Exception):
    """A business error: answered HTTP 200 with ``code`` and ``msg`` and ``data: null``."""

    def __init__(self, code: int, msg: str) -> None:
        super().__init__(msg)
        self.code = code
        self.msg = msg


@dataclass(frozen=True)
class CallRecord:
    """One answered request, as ``ServerStats.recent`` keeps it (the token is never recorded)."""

    api_name: str
    params: Mapping[str, Any]
    fields: Any
    code: int
    rows: int
    has_more: bool
    fault: str | None


@dataclass
class ServerStats:
    """What the server has seen since start (or the last ``reset()``)."""

    #: Every HTTP request received.
    requests: int = 0
    #: api_name -> requests naming it (whatever the outcome, faults included; unknown names too).
    calls: Counter[str] = field(default_factory=Counter)
    #: token -> requests carrying it (unknown tokens too).
    calls_by_token: Counter[str] = field(default_factory=Counter)
    #: api_name -> successful answers (code 0).
    ok: Counter[str] = field(default_factory=Counter)
    #: api_name -> rows served.
    rows: Counter[str] = field(default_factory=Counter)
    #: business error code -> answers with it (injected system/quota errors included).
    errors: Counter[int] = field(default_factory=Counter)
    #: HTTP status -> non-200 answers (injected 502/503).
    http_errors: Counter[int] = field(default_factory=Counter)
    #: fault kind -> faults injected.
    faults: Counter[str] = field(default_factory=Counter)
    #: The last requests answered, oldest first.
    recent: deque[CallRecord] = field(default_factory=lambda: deque(maxlen=2000))

    @property
    def total_calls(self) -> int:
        """Requests that named an API (i.e. every well-formed call)."""
        return sum(self.calls.values())

    def reset(self) -> None:
        """Zero every counter."""
        self.requests = 0
        for counter in (self.calls, self.calls_by_token, self.ok, self.rows, self.errors, self.http_errors,
                        self.faults):
            counter.clear()
        self.recent.clear()


# --------------------------------------------------------------------------------------------------------
# Request parsing


def _param_text(value: Any) -> str | None:
    """A param value as the market sees it: a trimmed string, or ``None`` for "not given"."""
    if value is None:
        return None
    if isinstance(value, str):
        text = value.strip()
    elif isinstance(value, bool):
        text = "1" if value else "0"
    elif isinstance(value, float) and value.is_integer():
        text = str(int(value))
    elif isinstance(value, list | tuple):
        text = ",".join(t for t in (_param_text(v) for v in value) if t)
    else:
        text = str(value).strip()
    return text or None


def normalise_params(api: ApiDef, raw: Mapping[str, Any]) -> dict[str, str]:
    """The documented params of ``api`` that were given, as trimmed strings (paging params excluded)."""
    documented = set(api.params) - set(PAGING_PARAMS)
    result: dict[str, str] = {}
    for key, value in raw.items():
        if key in documented:
            text = _param_text(value)
            if text is not None:
                result[key] = text
    return result


def missing_required(api: ApiDef, params: Mapping[str, str]) -> str | None:
    """The param to name in ``<param> required``: the first of the first group with none given."""
    for group in api.required:
        if group and not any(name in params for name in group):
            return group[0]
    return None


def parse_count(name: str, value: Any) -> int | None:
    """``offset``/``limit`` as a non-negative int (numbers or numeric strings); ``None`` when absent."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    number: float
    if isinstance(value, bool):
        number = -1
    elif isinstance(value, int | float):
        number = value
    elif isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            number = -1
    else:
        number = -1
    if not (number >= 0 and float(number).is_integer()):
        raise ApiError(CODE_BAD_REQUEST, f"{name} 参数格式错误：应为非负整数")
    return int(number)


def select_fields(api: ApiDef, requested: Any) -> list[str]:
    """The columns to return, in order: the requested known names, else the default columns."""
    if requested is None:
        names: list[str] = []
    elif isinstance(requested, str):
        names = requested.split(",")
    elif isinstance(requested, list | tuple) and all(isinstance(n, str) for n in requested):
        names = [part for n in requested for part in n.split(",")]
    else:
        raise ApiError(CODE_BAD_REQUEST, BAD_FIELDS_ERROR)
    known = set(api.field_names)
    chosen: list[str] = []
    for name in (n.strip() for n in names):
        if name in known and name not in chosen:
            chosen.append(name)
    return chosen or api.default_field_names


@dataclass(frozen=True)
class PageRequest:
    """A validated request: what to query and which rows and columns to render."""

    api: ApiDef
    params: dict[str, str]
    offset: int
    limit: int | None
    fields: list[str]



# --------------------------------------------------------------------------------------------------------
# The server


class SandboxServer:
    """A Tushare-Pro-compatible HTTP server over a synthetic market, on loopback.

    Use ``async with SandboxServer(...) as srv:`` (then ``srv.url``), or ``run_sandbox_in_thread`` from
    synchronous code. ``market=None`` builds ``Market(seed, scale, end_date)`` when the server starts.
    ``tokens`` adds tokens (token -> points) to the built-in ones; ``quota_overrides`` takes
    ``{api: QuotaLimits}`` or CLI-style strings (``"daily=100/min"``); ``faults`` a ``FaultConfig`` or its
    CLI string. ``quotas``, ``faults``, ``tokens`` and ``stats`` can be changed or read while it runs.
    """

    def __init__(
        self,
        market: MarketLike | None = None,
        *,
        seed: int = 42,
        scale: str = "small",
        end_date: dt.date | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        tokens: Mapping[str, int] | None = None,
        quotas_enabled: bool = True,
        time_scale: float = 1.0,
        quota_overrides: Mapping[str, QuotaLimits] | Iterable[str] | None = None,
        faults: FaultConfig | str | None = None,
    ) -> None:
        self._market = market
        self._market_args: dict[str, Any] = {"seed": seed, "scale": scale, "end_date": end_date}
        self.host = host
        self._requested_port = port
        self.tokens = TokenBook(tokens)
        if quota_overrides is None or isinstance(quota_overrides, Mapping):
            overrides = dict(quota_overrides or {})
        else:
            overrides = parse_quota_overrides(quota_overrides)
        self.quotas = QuotaKeeper(enabled=quotas_enabled, time_scale=time_scale, overrides=overrides)
        self.stats = ServerStats()
        self._injector: FaultInjector | None = None
        self._fault_config: FaultConfig | None = None
        self.faults = FaultConfig.parse(faults) if isinstance(faults, str) else faults
        self._cache: OrderedDict[tuple[str, tuple[tuple[str, str], ...]], QueryResult] = OrderedDict()
        self._cache_lock = threading.Lock()
        self._executor: ThreadPoolExecutor | None = None
        self._runner: web.AppRunner | None = None
        self._port: int | None = None
        #: Seconds the last ``start()`` took (market construction included).
        self.startup_seconds: float | None = None

    # ---- configuration ------------------------------------------------------------------------------

    @property
    def faults(self) -> FaultConfig | None:
        """The fault configuration in force; assigning one restarts its random sequence from its seed."""
        return self._fault_config

    @faults.setter
    def faults(self, config: FaultConfig | None) -> None:
        self._fault_config = config
        self._injector = FaultInjector(config) if config is not None and config.active else None

    def add_token(self, token: str, points: int) -> None:
        """Accept another token with its points tier."""
        self.tokens.add(token, points)

    @property
    def market(self) -> MarketLike:
        """The market served (built at start when none was given)."""
        if self._market is None:
            raise RuntimeError("the sandbox market is built when the server starts")
        return self._market

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("the sandbox server is not running")
        return self._port

    @property
    def url(self) -> str:
        """Base URL, e.g. ``http://127.0.0.1:54321`` (POST to it, or to ``/dataapi``)."""
        return f"http://{self.host}:{self.port}"

    # ---- life cycle ---------------------------------------------------------------------------------

    async def start(self) -> None:
        """Build the market if needed, bind the port and start answering."""
        if self._runner is not None:
            raise RuntimeError("the sandbox server is already running")
        started = time.perf_counter()
        if self._market is None:
            self._market = await asyncio.to_thread(_build_market, **self._market_args)
        app = web.Application()
        for path in ("/", "/dataapi", "/dataapi/", "/dataapi/{api_name}"):
            app.router.add_post(path, self._handle)
        runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=0.5,
                               handler_cancellation=True)
        await runner.setup()
        sock = socket.socket(socket.AF_INET6 if ":" in self.host else socket.AF_INET, socket.SOCK_STREAM)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((self.host, self._requested_port))
            sock.listen(128)
            sock.setblocking(False)
            await web.SockSite(runner, sock).start()
        except BaseException:
            sock.close()
            await runner.cleanup()
            raise
        self._runner = runner
        self._executor = ThreadPoolExecutor(max_workers=4, thread_name_prefix="sandbox-query")
        self._port = sock.getsockname()[1]
        self.startup_seconds = time.perf_counter() - started
        log.info("sandbox listening on %s", self.url)

    async def stop(self) -> None:
        """Stop answering and release the port (in-flight delayed requests are cancelled)."""
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()
        executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=False, cancel_futures=True)
        self._port = None

    async def __aenter__(self) -> SandboxServer:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    # ---- requests -----------------------------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        stats = self.stats
        stats.requests += 1
        request_id = uuid.uuid1().hex
        raw = await request.read()
        try:
            body: Any = json.loads(raw)
        except (ValueError, UnicodeDecodeError):
            body = None
        body = body if isinstance(body, dict) else None
        api_name = _api_name(body, request.match_info.get("api_name"))
        if body is not None:
            stats.calls[api_name or ""] += 1
            token = body.get("token")
            stats.calls_by_token[token if isinstance(token, str) else ""] += 1

        fault = self._injector.draw() if self._injector is not None else None
        fault_kind = fault.kind if fault is not None else None
        if fault is not None and fault.kind == "http5xx":
            stats.faults["http5xx"] += 1
            stats.http_errors[fault.status] += 1
            self._record(api_name, body, fault.status, 0, False, "http5xx")
            return web.Response(status=fault.status, text=_nginx_page(fault.status), content_type="text/html")
        if fault is not None and fault.kind == "delay":
            stats.faults["delay"] += 1
            await asyncio.sleep(self._injector.config.delay_seconds if self._injector else 0.0)

        code, rows, has_more = 0, 0, False
        if fault is not None and fault.kind == "system":
            stats.faults["system"] += 1
            code, payload = SYSTEM_ERROR_CODE, encode_envelope(
                _error(request_id, SYSTEM_ERROR_CODE, system_error_message(request_id)))
        else:
            try:
                wanted = self._validate(body, api_name, forced_quota=fault is not None and fault.kind == "quota")
                # Market queries and rendering run off the loop: a slow first query (a lazily built table)
                # never stalls other requests, delays or quota answers.
                page = await asyncio.get_running_loop().run_in_executor(self._executor, self._render, wanted)
                rows, has_more = page.n_items, page.has_more
                payload = page.encode(request_id)
            except ApiError as exc:
                code, payload = exc.code, encode_envelope(_error(request_id, exc.code, exc.msg))
            except Exception:
                log.exception("sandbox: internal error answering %s", api_name)
                code, payload = SYSTEM_ERROR_CODE, encode_envelope(
                    _error(request_id, SYSTEM_ERROR_CODE, system_error_message(request_id)))
        if code == 0:
            stats.ok[api_name or ""] += 1
            stats.rows[api_name or ""] += rows
        else:
            stats.errors[code] += 1
        self._record(api_name, body, code, rows, has_more, fault_kind)

        if fault is not None and fault.kind == "truncate":
            stats.faults["truncate"] += 1
            payload = payload[: len(payload) // 2]
        return web.Response(body=payload, content_type="application/json", charset="utf-8")

    def _record(self, api_name: str | None, body: dict[str, Any] | None, code: int, rows: int,
                has_more: bool, fault: str | None) -> None:
        params = body.get("params") if body is not None else None
        self.stats.recent.append(CallRecord(
            api_name=api_name or "",
            params=dict(params) if isinstance(params, dict) else {},
            fields=body.get("fields") if body is not None else None,
            code=code, rows=rows, has_more=has_more, fault=fault,
        ))

    def _validate(self, body: dict[str, Any] | None, api_name: str | None, *, forced_quota: bool) -> PageRequest:
        """Check a request in the reference's order (raising ``ApiError``) and count it against its quota."""
        if body is None:
            raise ApiError(CODE_BAD_REQUEST, BAD_BODY_ERROR)
        token = body.get("token")
        points = self.tokens.points(token)
        if points is None or not isinstance(token, str):
            raise ApiError(CODE_BAD_REQUEST, TOKEN_ERROR)
        api = self.market.apis.get(api_name) if api_name else None
        if api is None:
            raise ApiError(CODE_BAD_REQUEST, UNKNOWN_API_ERROR)
        if api.min_points > points:
            raise ApiError(CODE_FORBIDDEN, permission_message(api.name))
        injector = self._injector
        if forced_quota or (injector is not None and injector.take_quota_next(api.name)):
            self.stats.faults["quota"] += 1
            per_minute = self.quotas.limits_for(api, points).per_minute or 1
            raise ApiError(CODE_FORBIDDEN, quota_message("minute", per_minute))
        refusal = self.quotas.acquire(token, api, points)
        if refusal is not None:
            raise ApiError(CODE_FORBIDDEN, refusal.message)

        raw_params = body.get("params")
        if raw_params is None:
            raw_params = {}
        if not isinstance(raw_params, dict):
            raise ApiError(CODE_BAD_REQUEST, BAD_PARAMS_ERROR)
        params = normalise_params(api, raw_params)
        missing = missing_required(api, params)
        if missing is not None:
            raise ApiError(CODE_BAD_REQUEST, f"{missing} required")
        offset = parse_count("offset", raw_params.get("offset")) or 0
        limit = parse_count("limit", raw_params.get("limit")) or None
        names = select_fields(api, body.get("fields"))
        return PageRequest(api, params, offset, limit, names)

    def _render(self, request: PageRequest) -> Page:
        """Query the market and render the page (runs in a worker thread)."""
        api, offset = request.api, request.offset
        result = self._query(api, request.params)
        stop = result.n_rows if request.limit is None else min(result.n_rows, offset + request.limit)
        stop = min(stop, offset + api.row_cap)
        n_items = max(0, stop - offset)
        return Page(fields=request.fields, items_json=result.page_json(request.fields, offset, stop),
                    n_items=n_items, has_more=offset + n_items < result.n_rows)

    def _query(self, api: ApiDef, params: dict[str, str]) -> QueryResult:
        # The market is immutable, so a paged client asking for the same rows again reuses the sorted result.
        key = (api.name, tuple(sorted(params.items())))
        with self._cache_lock:
            result = self._cache.get(key)
            if result is not None:
                self._cache.move_to_end(key)
                return result
        result = QueryResult(api, api.query(self.market, params))  # type: ignore[arg-type]
        if result.n_rows <= _CACHE_MAX_ROWS:
            with self._cache_lock:
                self._cache[key] = result
                while len(self._cache) > _CACHE_ENTRIES:
                    self._cache.popitem(last=False)
        return result


def _api_name(body: dict[str, Any] | None, path_name: str | None) -> str | None:
    if body is not None:
        name = body.get("api_name")
        if isinstance(name, str) and name.strip():
            return name.strip()
    return path_name.strip() if path_name and path_name.strip() else None


def _error(request_id: str, code: int, msg: str) -> dict[str, Any]:
    return {"request_id": request_id, "code": code, "msg": msg, "data": None}


def _nginx_page(status: int) -> str:
    title = {502: "502 Bad Gateway", 503: "503 Service Temporarily Unavailable"}.get(status, str(status))
    return (f"<html>\r\n<head><title>{title}</title></head>\r\n<body>\r\n<center><h1>{title}</h1></center>\r\n"
            "<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n")


def _build_market(*, seed: int, scale: str, end_date: dt.date | None) -> MarketLike:
    from alphahome.sandbox.market import Market  # lazy: the market is large, the server is not

    return Market(seed=seed, scale=scale, end_date=end_date)  # type: ignore[arg-type]


# --------------------------------------------------------------------------------------------------------
# A sandbox in a background thread, for synchronous callers


@contextmanager
def run_sandbox_in_thread(market: MarketLike | None = None, **options: Any) -> Iterator[SandboxServer]:
    """Run a ``SandboxServer`` (same arguments) on its own event loop in a background thread.

    Yields the running server (``srv.url``, ``srv.stats``, ``srv.faults = …`` all work from the calling
    thread); stops it and joins the thread on exit. Start-up errors (e.g. a busy port) are raised here.
    """
    server = SandboxServer(market, **options)
    ready = threading.Event()
    failure: list[BaseException] = []
    control: dict[str, Any] = {}

    async def serve() -> None:
        stop = asyncio.Event()
        control["loop"], control["stop"] = asyncio.get_running_loop(), stop
        try:
            await server.start()
        except BaseException as exc:
            failure.append(exc)
            return
        finally:
            ready.set()
        try:
            await stop.wait()
        finally:
            await server.stop()

    thread = threading.Thread(target=asyncio.run, args=(serve(),), name="alphahome-sandbox", daemon=True)
    thread.start()
    ready.wait()
    if failure:
        thread.join()
        raise failure[0]
    try:
        yield server
    finally:
        control["loop"].call_soon_threadsafe(control["stop"].set)
        thread.join(timeout=30)
