"""The production update: select datasets, order them by dependency, plan each one against the stored
sync state, run them concurrently under ``workers`` with one shared Tushare client (one HTTP session, one
rate limiter), bound the whole run by ``timeout_minutes``, record one run-history row per task and return
the results for the summary.

Order: a task starts once every dependency that is part of the run has finished (``trade_cal`` and
``stock_basic`` first on an empty database, since planning daily data needs the calendar and per-stock
requests need the stock list). A dependency that fails only stops its dependents when its table is empty.

Failure handling: a rejected token stops the run at once (exit 2, nothing written); a permission error
fails its task (others go on); quota errors only slow an API down (the client waits them out).
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta

from alphahome.config.settings import Settings
from alphahome.errors import ConfigError
from alphahome.sources.tushare.client import TushareClient
from alphahome.sources.tushare.errors import ServerUnreachable, TokenRejected
from alphahome.sources.tushare.rate_limiter import Budget, RateLimiter, default_budget, tier_per_day
from alphahome.tasks.aliases import dataset_name
from alphahome.tasks.catalogue import CATALOGUE, DATASETS
from alphahome.tasks.planner import Mode, PlanInput, TaskPlan, parse_ymd, plan_missing_ranges
from alphahome.tasks.runner import Progress, TaskOptions, TaskResult, TaskRunner
from alphahome.tasks.shapes import CodeDates, CodeMonths, TradeDates
from alphahome.tasks.spec import DatasetSpec
from alphahome.tasks.sync_store import SyncStore

logger = logging.getLogger("alphahome.updater")

RUN_LOCK_NAME = "tushare_update"
#: Default batches in flight per task when config says nothing.
DEFAULT_CONCURRENT_LIMIT = 3


@dataclass(frozen=True)
class UpdateRequest:
    """What the command line asked for (None: take the configuration's value)."""

    mode: Mode = "smart"
    tasks: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    start: date | None = None
    end: date | None = None
    dry_run: bool = False
    #: The day the run counts as today (smart mode's upper bound); default: the real date.
    today: date | None = None


@dataclass
class PlannedTask:
    """A selected dataset, why it is in the run, and (once planned) its plan."""

    spec: DatasetSpec
    #: Selected by the user (not only pulled in as a dependency).
    selected: bool
    plan: TaskPlan | None = None
    #: Run-level dependencies (names in this run).
    waits_for: tuple[str, ...] = ()


@dataclass
class UpdateReport:
    """The outcome of a run."""

    run_id: str
    results: list[TaskResult]
    started: datetime
    finished: datetime
    timed_out: bool = False
    plans: list[TaskPlan] = field(default_factory=list)
    #: dataset -> columns it asks for that the server did not send (schema drift).
    drift: dict[str, list[str]] = field(default_factory=dict)

    @property
    def wall_seconds(self) -> float:
        return (self.finished - self.started).total_seconds()

    @property
    def exit_code(self) -> int:
        """0 when every task succeeded or was already current, else 1."""
        return 0 if all(r.status in ("success", "skipped") for r in self.results) else 1


# ------------------------------------------------------------------------------------------ selection


def select_datasets(settings: Settings, request: UpdateRequest) -> list[PlannedTask]:
    """The datasets of the run, in dependency order: the catalogue narrowed by ``--tasks``, minus
    ``--exclude`` and ``task_filter.exclude_tasks``, plus the dependencies they need (unless excluded).
    Unknown names are a :class:`ConfigError` (exit 2)."""
    known = set(DATASETS)
    for flag, names in (("--tasks", request.tasks), ("--exclude", request.exclude)):
        unknown = [n for n in names if dataset_name(n) not in known]
        if unknown:
            raise ConfigError(f"{flag}: unknown dataset(s) {', '.join(unknown)} (known: {', '.join(sorted(known))}"
                              " or their original tushare_* task names)")
    task_filter = settings.schedule.task_filter
    if "tushare" not in task_filter.include_sources or "fetch" not in task_filter.include_types:
        logger.warning("task_filter selects no Tushare fetch tasks (include_sources=%s, include_types=%s)",
                       task_filter.include_sources, task_filter.include_types)
        return []
    # Original task names (tushare_stock_daily) name the same datasets.
    wanted = {dataset_name(n) for n in request.tasks}
    excluded = {dataset_name(n) for n in (*request.exclude, *task_filter.exclude_tasks)}
    chosen = [s.name for s in CATALOGUE if (not wanted or s.name in wanted)]
    chosen = [n for n in chosen if n not in excluded or n in wanted]
    # Datasets the token's tier cannot call are left out unless named: a 2000-point account's daily run
    # should not fail on the 5000+ point APIs (named explicitly, they fail with a message naming the points).
    points = points_of(settings)
    beyond = [n for n in chosen if n not in wanted and DATASETS[n].points_needed > points]
    if beyond:
        logger.info("left out (need more than %d points): %s", points, ", ".join(beyond))
        chosen = [n for n in chosen if n not in beyond]
    selected = set(chosen)
    needed = set(selected)
    stack = list(selected)
    while stack:
        for dep in DATASETS[stack.pop()].depends_on:
            if dep not in needed and dep not in excluded:
                needed.add(dep)
                stack.append(dep)
    ordered = _dependency_order([DATASETS[n] for n in needed])
    return [
        PlannedTask(spec, spec.name in selected,
                    waits_for=tuple(d for d in (*spec.depends_on, *sizing_dependencies(spec)) if d in needed))
        for spec in ordered
    ]


#: The dataset whose row count sizes the request windows of datasets with ``rows_per_date="stocks"``.
STOCK_LIST = "stock_basic"


def sizing_dependencies(spec: DatasetSpec) -> tuple[str, ...]:
    """Datasets whose data sizes ``spec``'s request windows (not a data dependency: a failure does not
    block ``spec``). On an empty database a stock-sized dataset learns the number of stocks from the stock
    list; waiting for the stock list when it is in the run makes the plan the same whichever task
    finishes first (otherwise ``daily`` planned before ``stock_basic`` finished took one call per date)."""
    if (spec.rows_per_date == "stocks" and spec.name != STOCK_LIST
            and isinstance(spec.shape, TradeDates | CodeDates | CodeMonths)):
        return (STOCK_LIST,)
    return ()


def _dependency_order(specs: Sequence[DatasetSpec]) -> list[DatasetSpec]:
    """Topological order, catalogue order among equals."""
    names = {s.name for s in specs}
    position = {s.name: i for i, s in enumerate(CATALOGUE)}
    done: set[str] = set()
    out: list[DatasetSpec] = []
    pending = sorted(specs, key=lambda s: position[s.name])
    while pending:
        ready = [s for s in pending if all(d in done or d not in names for d in s.depends_on)]
        if not ready:
            raise ConfigError(f"dependency cycle among {[s.name for s in pending]}")
        for s in ready:
            out.append(s)
            done.add(s.name)
        pending = [s for s in pending if s.name not in done]
    return out


# ------------------------------------------------------------------------------------------- settings


def points_of(settings: Settings) -> int:
    return settings.api.tushare_points


def budget_for(spec: DatasetSpec, api: str, settings: Settings) -> Budget:
    """The rate budget of one API: ``tasks.<name>.rate_limit`` when set, else ~90% of the published figure
    (the dataset's own, else the points tier's); the tier's daily cap where it has one."""
    points = points_of(settings)
    configured = settings.task_overrides(spec.name).rate_limit
    per_minute = configured if configured is not None else default_budget(points, spec.rate_for(api, points))
    return Budget(per_minute=per_minute, per_day=tier_per_day(points))


def build_limiter(tasks: Sequence[PlannedTask], settings: Settings, *, time_scale: float = 1.0) -> RateLimiter:
    """One limiter for the run, with a budget per API the run may call."""
    budgets: dict[str, Budget] = {}
    for task in tasks:
        for api in {task.spec.api, task.spec.api_for(points_of(settings))}:
            budget = budget_for(task.spec, api, settings)
            current = budgets.get(api)
            if current is None or (budget.per_minute or 0) < (current.per_minute or 0):
                budgets[api] = budget
    return RateLimiter(budgets, time_scale=time_scale)


def task_options(spec: DatasetSpec, settings: Settings, today: date) -> TaskOptions:
    """Effective per-task options: ``tasks.<name>`` overrides, else the run's (production.*) values."""
    over = settings.task_overrides(spec.name)
    production = settings.schedule.production
    return TaskOptions(
        concurrent_limit=over.concurrent_limit or DEFAULT_CONCURRENT_LIMIT,
        max_retries=production.max_retries if over.max_retries is None else over.max_retries,
        retry_delay=production.retry_delay if over.retry_delay is None else over.retry_delay,
        save_batch_size=over.save_batch_size,
        today=today,
    )


def api_points_table(settings: Settings) -> dict[str, int]:
    """API -> points it needs, for permission messages."""
    table: dict[str, int] = {}
    for spec in CATALOGUE:
        table[spec.api] = spec.points
        if spec.vip_api:
            table[spec.vip_api] = spec.vip_points
    return table


# ------------------------------------------------------------------------------------------- planning


async def plan_task(
    store: SyncStore, task: PlannedTask, settings: Settings, request: UpdateRequest, today: date,
    *, assume_calendar: bool = False,
) -> TaskPlan:
    """Read the dataset's state from the database and plan it.

    ``assume_calendar`` (dry runs on a database without a calendar yet): weekdays stand in for trade dates,
    so the estimate is of the right size; the plan's note says so.
    """
    spec = task.spec
    over = settings.task_overrides(spec.name)
    mode: Mode = request.mode
    if not task.selected and mode != "smart":
        mode = "smart"  # a dependency pulled into a manual/full run is only brought up to date
    code_filter = over.filter.conditions() if over.filter is not None else None
    state = await store.plan_state(spec, today=today, points=points_of(settings), codes=over.codes,
                                   code_filter=code_filter)
    assumed = False
    if assume_calendar and "trade_dates" in state and not state["trade_dates"]:
        first = over.default_start_date or parse_ymd(spec.start_date)
        state["trade_dates"] = [first + timedelta(days=i) for i in range((today - first).days + 1)
                                if (first + timedelta(days=i)).weekday() < 5]
        assumed = True
    inp = PlanInput(
        today=today,
        mode=mode,
        start=request.start,
        end=request.end,
        points=points_of(settings),
        start_date=over.default_start_date,
        lookback_days=over.smart_lookback_days,
        page_size=over.page_size,
        **state,
    )
    plan = plan_missing_ranges(spec, inp)
    if assumed:
        plan = replace(plan, note=f"{plan.note} (calendar not loaded yet: weekdays assumed)")
    return plan


# ---------------------------------------------------------------------------------------------- run


class Updater:
    """One production update run (see the module docstring)."""

    def __init__(
        self,
        settings: Settings,
        store: SyncStore,
        request: UpdateRequest,
        *,
        progress: Progress | None = None,
        on_task_start: Callable[[str, TaskPlan], None] | None = None,
        limiter_time_scale: float = 1.0,
    ) -> None:
        self.settings = settings
        self.store = store
        self.request = request
        self.today = request.today or date.today()
        self.progress = progress
        self.on_task_start = on_task_start
        self.limiter_time_scale = limiter_time_scale
        self.run_id = uuid.uuid4().hex[:12]
        self.tasks = select_datasets(settings, request)
        self.client: TushareClient | None = None
        self._runners: dict[str, TaskRunner] = {}
        self._results: dict[str, TaskResult] = {}
        self._started: dict[str, datetime] = {}

    # -- dry run -------------------------------------------------------------------------------------

    async def dry_run(self) -> list[TaskPlan]:
        """Plans of every task from what the database holds now (nothing fetched, nothing written)."""
        plans = []
        for task in self.tasks:
            task.plan = await plan_task(self.store, task, self.settings, self.request, self.today,
                                        assume_calendar=True)
            plans.append(task.plan)
        return plans

    # -- real run ------------------------------------------------------------------------------------

    async def run(self) -> UpdateReport:
        """Run every selected task; return the report (run history recorded). Raises TokenRejected."""
        started = datetime.now(UTC)
        token = self.settings.api.tushare_token
        if token is None or not token.get_secret_value().strip():
            raise ConfigError("no Tushare token: set TUSHARE_TOKEN or api.tushare_token in config.json")
        limiter = build_limiter(self.tasks, self.settings, time_scale=self.limiter_time_scale)
        network = self.settings.schedule.network
        production = self.settings.schedule.production
        timed_out = False
        async with TushareClient(
            token.get_secret_value(),
            self.settings.api.tushare_api_url,
            limiter=limiter,
            timeout=network.request_timeout,
            max_retries=production.max_retries,
            retry_delay=min(production.retry_delay, 2.0),
            max_concurrency=network.max_concurrent_requests,
            api_points=api_points_table(self.settings),
        ) as client:
            self.client = client
            events = {t.spec.name: asyncio.Event() for t in self.tasks}
            workers = asyncio.Semaphore(production.max_workers)
            try:
                async with asyncio.timeout(production.timeout_minutes * 60):
                    async with asyncio.TaskGroup() as group:
                        for task in self.tasks:
                            group.create_task(self._run_task(task, events, workers))
            except* (TokenRejected, ServerUnreachable) as eg:
                raise eg.exceptions[0] from None
            except* TimeoutError:
                timed_out = True
                logger.error("the run reached timeout_minutes=%g: unfinished tasks are stopped",
                             production.timeout_minutes)
            drift = self._schema_drift(client)
        finished = datetime.now(UTC)
        results = [self._final_result(t, finished, timed_out) for t in self.tasks]
        for result in results:
            await self.store.record_run(self.run_id, result, self.request.mode)
        return UpdateReport(self.run_id, results, started, finished, timed_out,
                            [t.plan for t in self.tasks if t.plan is not None], drift)

    def _schema_drift(self, client: TushareClient) -> dict[str, list[str]]:
        """dataset -> the columns its APIs did not send in this run."""
        out: dict[str, list[str]] = {}
        for task in self.tasks:
            apis = {task.spec.api, task.spec.api_for(points_of(self.settings))}
            columns = sorted({c for api in apis for c in client.missing_columns.get(api, {})})
            if columns:
                out[task.spec.name] = columns
                logger.warning("%s: schema drift: the server sent no %d of its column(s): %s", task.spec.name,
                               len(columns), ", ".join(columns))
        return out

    def _final_result(self, task: PlannedTask, finished: datetime, timed_out: bool) -> TaskResult:
        name = task.spec.name
        if name in self._results:
            return self._results[name]
        runner = self._runners.get(name)
        started = self._started.get(name, finished)
        reason = "timed out (timeout_minutes)" if timed_out else "not run"
        if runner is not None:
            result = runner.result(started, finished)
            result.status = "partial" if result.batches else "failed"
            result.error = f"{reason} after {result.batches} of {len(runner.plan.batches)} batch(es)"
            return result
        return TaskResult(name, "failed", started, finished, error=reason)

    async def _run_task(self, task: PlannedTask, events: dict[str, asyncio.Event], workers: asyncio.Semaphore) -> None:
        name = task.spec.name
        try:
            for dep in task.waits_for:
                await events[dep].wait()
            blocked = await self._blocked_by(task)
            if blocked:
                now = datetime.now(UTC)
                self._results[name] = TaskResult(name, "failed", now, now, error=blocked)
                logger.error("%s: %s", name, blocked)
                return
            async with workers:
                self._started[name] = datetime.now(UTC)
                task.plan = await plan_task(self.store, task, self.settings, self.request, self.today)
                if self.on_task_start is not None:
                    self.on_task_start(name, task.plan)
                status_log = logger.info if self.settings.schedule.monitoring.enable_task_status_log else logger.debug
                status_log("%s: %s (%d batch(es), ~%d call(s))", name, task.plan.note or "planned",
                            len(task.plan.batches), task.plan.calls)
                assert self.client is not None
                runner = TaskRunner(task.spec, task.plan, self.client, self.store,
                                    task_options(task.spec, self.settings, self.today), self.progress)
                self._runners[name] = runner
                result = await runner.run()
                self._results[name] = result
                if result.status not in ("success", "skipped") or self.settings.schedule.monitoring.enable_task_status_log:
                    _log_result(result)
        finally:
            events[name].set()

    async def _blocked_by(self, task: PlannedTask) -> str | None:
        """Why a task cannot run: a dependency failed (or was excluded) and its table holds nothing."""
        for dep in task.spec.depends_on:
            dep_result = self._results.get(dep)
            in_run = dep in task.waits_for
            if in_run and dep_result is not None and dep_result.status not in ("failed",):
                continue
            if not await self.store.has_rows(DATASETS[dep]):
                why = "failed" if in_run else "is excluded"
                return f"needs {dep}, which {why} and has no data yet"
        return None


def _log_result(result: TaskResult) -> None:
    level = logging.INFO if result.status in ("success", "skipped") else logging.ERROR
    logger.log(level, "%s: %s, %d rows, %d calls, %.1fs%s", result.dataset, result.status, result.rows,
               result.calls, result.duration, f" ({result.error})" if result.error else "")


# ------------------------------------------------------------------------------------------ estimates


#: Typical seconds one call to Tushare takes (request, server time, transfer).
CALL_SECONDS = 0.3


def estimate_seconds(plan: TaskPlan, settings: Settings) -> float:
    """Time the plan's calls take: at least their latency (``concurrent_limit`` in flight), and at least
    the budget's pace once they exceed one minute's budget."""
    spec = DATASETS[plan.dataset]
    budget = budget_for(spec, plan.api, settings).per_minute or 1
    concurrency = settings.task_overrides(spec.name).concurrent_limit or DEFAULT_CONCURRENT_LIMIT
    calls = plan.calls
    by_latency = calls * CALL_SECONDS / concurrency
    by_budget = max(0, calls - budget) / budget * 60.0
    return max(by_latency, by_budget)


def estimate_run_seconds(plans: Sequence[TaskPlan], settings: Settings) -> float:
    """Whole-run estimate: APIs have separate budgets and run in parallel (up to ``max_workers``)."""
    per_api: dict[str, float] = {}
    for plan in plans:
        per_api[plan.api] = per_api.get(plan.api, 0.0) + estimate_seconds(plan, settings)
    if not per_api:
        return 0.0
    workers = settings.schedule.production.max_workers
    return max(max(per_api.values()), sum(per_api.values()) / workers)


def effective_today(request: UpdateRequest) -> date:
    """Smart/full runs end at ``--end-date`` when given, else today."""
    if request.mode != "manual" and request.end is not None:
        return request.end
    return request.today or date.today()

