"""One PIT update run: build the selected targets (dependencies first), sequentially or in parallel, and
record each target's run in the run history (kind ``pit``)."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from alphahome.pit.builder import BuildResult, Mode, PitBuilder, expand_targets
from alphahome.pit.definitions import TARGET_DEPENDS, TARGETS, resolve_table
from alphahome.pit.dialect import dialect_of

log = logging.getLogger(__name__)

RUN_KIND: Literal["pit"] = "pit"


def parse_targets(values: Iterable[str]) -> list[str]:
    """``--target`` values (repeatable, comma lists, short names, ``all``) -> target names; ValueError on
    an unknown one."""
    out: list[str] = []
    for value in values:
        for name in (v.strip() for v in value.split(",")):
            if not name:
                continue
            if name.lower() == "all":
                out += TARGETS
                continue
            try:
                out.append(resolve_table(name))
            except ValueError:
                raise ValueError(
                    f"unknown --target {name!r} (expected balance, income, financial_indicators, "
                    "industry_classification or all)"
                ) from None
    return list(dict.fromkeys(out)) or list(TARGETS)


async def run_pit_update(
    backend: Any,
    targets: Iterable[str],
    mode: Mode = "incremental",
    *,
    parallel: bool = False,
    workers: int = 2,
    run_id: str | None = None,
) -> list[BuildResult]:
    """Build ``targets`` and their dependencies; a target whose dependency failed is not built (failed).

    With ``parallel``, independent targets run at once (at most ``workers``); each is one transaction.
    """
    builder = PitBuilder(backend, dialect_of(backend))
    await builder.ensure()
    run_id = run_id or f"pit-{datetime.now(UTC):%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:8]}"
    order = expand_targets(list(targets))
    results: dict[str, BuildResult] = {}
    done = {t: asyncio.Event() for t in order}
    gate = asyncio.Semaphore(max(1, workers) if parallel else 1)

    async def one(target: str) -> None:
        try:
            for dep in TARGET_DEPENDS.get(target, ()):
                if dep in done:
                    await done[dep].wait()
            failed = [d for d in TARGET_DEPENDS.get(target, ()) if d in results and results[d].status == "failed"]
            if failed:
                result = BuildResult(target=target, mode=mode, status="failed",
                                     error=f"not built: {', '.join(failed)} failed")
            else:
                async with gate:
                    result = await builder.build(target, mode)
            results[target] = result
            await _record(backend, run_id, result)
        finally:
            done[target].set()

    if parallel:
        async with asyncio.TaskGroup() as tg:
            for target in order:
                tg.create_task(one(target))
    else:
        for target in order:
            await one(target)
    return [results[t] for t in order]


async def _record(backend: Any, run_id: str, result: BuildResult) -> None:
    """One run-history row for one target (never lets bookkeeping hide the build's own outcome)."""
    from alphahome.storage.bookkeeping import RunRecord, ensure_bookkeeping, record_run

    try:
        await ensure_bookkeeping(backend)
        await record_run(backend, RunRecord(
            run_id=run_id,
            task=result.target,
            kind=RUN_KIND,
            mode=result.mode,
            started_at=result.started,
            finished_at=result.started + timedelta(seconds=result.seconds),
            # "current" (nothing changed since the last build) is a success with nothing to do
            status="failed" if result.status == "failed" else "success",
            rows=result.rows,
            error=result.error,
        ))
    except Exception:
        log.exception("could not record the run of pit %s", result.target)
