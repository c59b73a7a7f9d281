"""Storage benchmark: bulk upserts of Tushare ``daily``-shaped rows on PostgreSQL and DuckDB.

Run by hand; prints figures (no assertions)::

    python bench/bench_storage.py --pg-url postgresql://user:pass@127.0.0.1:5432/bench --rows 1000000
    python bench/bench_storage.py --rows 1000000          # starts a throwaway PostgreSQL cluster itself

PostgreSQL cases are reported as rows/s and as a ratio against a raw binary COPY of the same rows into an
empty keyed table (the key's unique index and the date index, default fillfactor 100), measured in the
same run: medians over the rounds, and the server CPU seconds of each case (steadier than wall-clock time
on a shared machine). The last cases measure what each idea bought: the merge on a table without the merge
fillfactor, the previous UPDATE + INSERT merge ("UPD+INS"), and the seed's ``INSERT … ON CONFLICT DO UPDATE``, on
tables packed full as those made them. Targets: insert ≥ 0.9×, unchanged re-merge ≥ 0.7×, all changed
≥ 0.5×; DuckDB ≥ 800k rows/s new and
conflicting; peak memory added by a load (RSS above what the input batch already uses) < 150 MB.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import io
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import psutil
import pyarrow as pa
import pyarrow.compute as pc

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from alphahome.storage import open_backend
from alphahome.storage.batch import prepare_batch
from alphahome.storage.pgcopy import BINARY_HEADER, BINARY_TRAILER, encode_binary_rows, iter_chunks
from alphahome.storage.spec import Column, TableSpec

VALUE_COLUMNS = ("open", "high", "low", "close", "pre_close", "change", "pct_chg", "vol", "amount")


def daily_spec(name: str) -> TableSpec:
    return TableSpec(
        schema="bench",
        name=name,
        columns=(
            Column("ts_code", "text", nullable=False),
            Column("trade_date", "date", nullable=False),
            *(Column(c, "double") for c in VALUE_COLUMNS),
        ),
        key=("ts_code", "trade_date"),
    )


def make_daily(rows: int, *, codes: int = 5000, seed: int = 7) -> pa.Table:
    """``rows`` rows like Tushare ``daily``: one row per stock per trading day, day-major."""
    rng = np.random.default_rng(seed)
    days = -(-rows // codes)
    names = np.array([f"{i:06d}.{'SH' if i % 2 else 'SZ'}" for i in range(codes)])
    code_idx = np.tile(np.arange(codes), days)[:rows]
    day_idx = np.repeat(np.arange(days), codes)[:rows]
    close = np.round(rng.uniform(2, 200, rows), 2)
    pre_close = np.round(close * rng.uniform(0.9, 1.1, rows), 2)
    change = np.round(close - pre_close, 2)
    return pa.table(
        {
            "ts_code": pa.array(names[code_idx]),
            "trade_date": pa.array((np.datetime64("2000-01-03") + day_idx).astype("datetime64[D]")).cast(
                pa.date32()
            ),
            "open": np.round(close * rng.uniform(0.95, 1.05, rows), 2),
            "high": np.round(close * 1.06, 2),
            "low": np.round(close * 0.94, 2),
            "close": close,
            "pre_close": pre_close,
            "change": change,
            "pct_chg": np.round(change / pre_close * 100, 4),
            "vol": np.round(rng.uniform(1e3, 1e7, rows), 2),
            "amount": np.round(rng.uniform(1e3, 1e8, rows), 3),
        }
    )


def changed(table: pa.Table) -> pa.Table:
    """Every row with new values (a restated batch)."""
    i = table.column_names.index("close")
    return table.set_column(i, "close", pc.add(table.column("close"), 0.01))


class PeakRSS:
    """Samples this process's RSS (and Arrow's allocations) every few milliseconds while a load runs.

    ``added_mb`` is the RSS peak above the RSS at the start (the input batch is already resident then);
    ``arrow_mb`` the peak of Arrow-allocated bytes above the start (conversion and COPY buffers alone).
    """

    def __init__(self, interval: float = 0.005) -> None:
        self.interval = interval
        self._proc = psutil.Process()
        self._stop = threading.Event()
        self.start = self.peak = 0
        self.arrow_start = self.arrow_peak = 0

    def _sample(self) -> None:
        self.peak = max(self.peak, self._proc.memory_info().rss)
        self.arrow_peak = max(self.arrow_peak, pa.total_allocated_bytes())

    def __enter__(self) -> PeakRSS:
        self.start = self.peak = self._proc.memory_info().rss
        self.arrow_start = self.arrow_peak = pa.total_allocated_bytes()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.is_set():
            self._sample()
            time.sleep(self.interval)

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join()
        self._sample()

    @property
    def added_mb(self) -> float:
        return (self.peak - self.start) / 2**20

    @property
    def arrow_mb(self) -> float:
        return (self.arrow_peak - self.arrow_start) / 2**20


@dataclass
class Case:
    """One benchmark case: ``setup`` brings the table to its starting state (untimed), ``work`` is timed."""

    name: str
    rows: int
    setup: Callable[[], Awaitable[None]]
    work: Callable[[], Awaitable[object]]
    target: float | None = None
    rates: list[float] = field(default_factory=list)
    cpu_seconds: list[float] = field(default_factory=list)
    rss_mb: float = 0.0
    arrow_mb: float = 0.0
    detail: str = ""

    @property
    def best(self) -> float:
        return max(self.rates)


def cpu_seconds(pids: list[int]) -> float:
    """CPU time used so far by the given (local) processes."""
    total = 0.0
    for pid in pids:
        with contextlib.suppress(psutil.Error):
            total += sum(psutil.Process(pid).cpu_times()[:2])
    return total


async def run_cases(
    cases: list[Case],
    repeat: int,
    settle: Callable[[], Awaitable[None]],
    server_pids: Callable[[], Awaitable[list[int]]] | None = None,
) -> None:
    """Run every case ``repeat`` times, interleaved, keeping the best rate: the machine is shared, and
    the best of several runs is the one least disturbed by other work. The CPU seconds of the local
    server backends are recorded too: they hardly depend on what else the machine is doing."""
    for rep in range(1, repeat + 1):
        print(f"  round {rep}/{repeat}", flush=True)
        for case in cases:
            await case.setup()
            await settle()
            pids = await server_pids() if server_pids else []
            cpu0 = cpu_seconds(pids)
            with PeakRSS() as mem:
                t0 = time.perf_counter()
                result = await case.work()
                seconds = time.perf_counter() - t0
            case.cpu_seconds.append(cpu_seconds(pids) - cpu0)
            case.rates.append(case.rows / seconds)
            case.rss_mb = max(case.rss_mb, mem.added_mb)
            case.arrow_mb = max(case.arrow_mb, mem.arrow_mb)
            case.detail = "" if result is None else str(result)
            print(
                f"    {case.name:<34} {case.rows / seconds:>11,.0f} rows/s {seconds:6.2f} s  server CPU {case.cpu_seconds[-1]:6.2f} s"
                f"  RSS +{mem.added_mb:5.1f} MB  Arrow +{mem.arrow_mb:5.1f} MB  {case.detail}",
                flush=True,
            )


# -- PostgreSQL -------------------------------------------------------------------------------------------------


def encode_binary(table: pa.Table, spec: TableSpec) -> bytes:
    types = [c.type for c in spec.columns]
    out = io.BytesIO()
    out.write(BINARY_HEADER)
    for batch in iter_chunks(table):
        out.write(encode_binary_rows(batch, types))
    out.write(BINARY_TRAILER)
    return out.getvalue()


def on_conflict_sql(spec: TableSpec, stage: str) -> str:
    """The seed's merge: one ``INSERT … ON CONFLICT DO UPDATE … WHERE <a value changed>`` from the stage."""
    cols = ", ".join(f'"{c}"' for c in spec.column_names)
    values = spec.value_columns
    sets = ", ".join(f'"{c}" = EXCLUDED."{c}"' for c in values) + ", update_time = now()"
    old = ", ".join(f't."{c}"' for c in values)
    new = ", ".join(f'EXCLUDED."{c}"' for c in values)
    keys = ", ".join(f'"{c}"' for c in spec.key)
    return (
        f'INSERT INTO "{spec.schema}"."{spec.name}" AS t ({cols}) SELECT {cols} FROM pg_temp."{stage}" '
        f"ON CONFLICT ({keys}) DO UPDATE SET {sets} WHERE ({old}) IS DISTINCT FROM ({new})"
    )


async def bench_postgres(url: str, data: pa.Table, half: pa.Table, repeat: int) -> None:
    import asyncpg

    from alphahome.storage import postgres_backend as pgb

    rows = data.num_rows
    # As the catalogue makes tushare.daily: the key's unique index plus an index on the date column.
    spec = dataclasses.replace(daily_spec("daily"), indexes=(("trade_date",),))
    target = f'"{spec.schema}"."{spec.name}"'
    print(f"\nPostgreSQL ({rows:,} rows)")
    async with open_backend(url, {"min_size": 1, "max_size": 2}) as db:
        await db.ensure_schema("bench")
        version = await db.fetchval("SHOW server_version")
        settings = await db.fetch_arrow(
            "SELECT name, setting, unit FROM pg_settings WHERE name IN "
            "('shared_buffers', 'fsync', 'synchronous_commit', 'full_page_writes', 'work_mem', 'max_wal_size')"
        )
        listed = ", ".join(
            f"{n}={v}{u or ''}" for n, v, u in zip(*(c.to_pylist() for c in settings.columns), strict=True)
        )
        print(f"  server {version}; {listed}; merge fillfactor {pgb.merge_fillfactor(spec)}")
        payload = encode_binary(prepare_batch(spec, data), spec)
        copy_conn = await asyncpg.connect(db.url.dsn)

        async def raw_copy() -> None:
            source = io.BytesIO(payload)
            await copy_conn.copy_to_table(
                spec.name, schema_name=spec.schema, source=source, columns=spec.column_names, format="binary"
            )

        async def empty() -> None:
            await db.execute(f"DROP TABLE IF EXISTS {target}")
            await db.ensure_table(spec)

        async def empty_seed() -> None:
            # The baseline and the seed's table: the server's default fillfactor (100, pages packed full).
            await empty()
            await db.execute(f"ALTER TABLE {target} SET (fillfactor = 100)")

        async def loaded() -> None:
            await empty()
            await raw_copy()
            await db.execute(f"VACUUM ANALYZE {target}")

        async def loaded_seed() -> None:
            await empty_seed()
            await raw_copy()
            await db.execute(f"VACUUM ANALYZE {target}")

        async def settle() -> None:
            await db.execute("CHECKPOINT")

        async def update_insert(batch: pa.Table) -> object:
            # The previous merge: UPDATE changed rows, then INSERT new ones (the path kept for PG < 15).
            saved, pgb.MERGE_STATEMENT_VERSION = pgb.MERGE_STATEMENT_VERSION, 10**6
            try:
                return await db.upsert(spec, batch)
            finally:
                pgb.MERGE_STATEMENT_VERSION = saved

        async def on_conflict(batch: pa.Table) -> object:
            prepared = await asyncio.to_thread(prepare_batch, spec, batch)
            async with copy_conn.transaction():
                stage = await pgb._stage_batch(copy_conn, spec, prepared)
                await copy_conn.execute("SELECT set_config('work_mem', $1, true)", pgb.MERGE_WORK_MEM)
                return await copy_conn.execute(on_conflict_sql(spec, stage))

        all_changed = changed(data)
        changed_half = pa.concat_tables(
            [changed(half.slice(0, half.num_rows // 2)), half.slice(half.num_rows // 2)]
        )
        cases = [
            Case("raw binary COPY (baseline, ff 100)", rows, empty_seed, raw_copy),
            Case("insert mode, empty table", rows, empty, lambda: db.upsert(spec, data, mode="insert"), 0.9),
            Case("merge, all new (empty table)", rows, empty, lambda: db.upsert(spec, data)),
            Case("merge, all unchanged", rows, loaded, lambda: db.upsert(spec, data), 0.7),
            Case("merge, all changed", rows, loaded, lambda: db.upsert(spec, all_changed), 0.5),
            Case("merge, half unchanged + half new", half.num_rows, loaded, lambda: db.upsert(spec, half)),
            Case(
                "merge, half changed + half new", half.num_rows, loaded, lambda: db.upsert(spec, changed_half)
            ),
            # What each idea bought: MERGE without the fillfactor, and the previous path and the seed's
            # ON CONFLICT on tables packed full as they made them.
            Case("merge, all changed, ff 100", rows, loaded_seed, lambda: db.upsert(spec, all_changed)),
            Case("UPD+INS, all unchanged, ff 100", rows, loaded_seed, lambda: update_insert(data)),
            Case("UPD+INS, all changed, ff 100", rows, loaded_seed, lambda: update_insert(all_changed)),
            Case(
                "UPD+INS, half chg+half new, ff 100",
                half.num_rows,
                loaded_seed,
                lambda: update_insert(changed_half),
            ),
            Case("seed ON CONFLICT, all chg, ff 100", rows, loaded_seed, lambda: on_conflict(all_changed)),
        ]

        async def server_pids() -> list[int]:
            pids = await db.fetch_arrow("SELECT pid FROM pg_stat_activity WHERE datname = current_database()")
            return pids.column(0).to_pylist()

        try:
            await run_cases(cases, repeat, settle, server_pids)
        finally:
            await copy_conn.close()
            await db.execute(f"DROP TABLE IF EXISTS {target}")
    report_postgres(cases)


def report_postgres(cases: list[Case]) -> None:
    """Each case against the raw COPY baseline of the same run, as medians over the rounds (the machine
    is shared: a median is not moved by one disturbed round)."""
    baseline = cases[0]
    base_rate = statistics.median(baseline.rates)
    base_cpu = statistics.median(baseline.cpu_seconds) / baseline.rows
    print(
        f"\n  PostgreSQL: raw binary COPY baseline median {base_rate:,.0f} rows/s "
        f"(rounds: {', '.join(f'{r:,.0f}' for r in baseline.rates)})"
    )
    print(
        "  ratio = median rate / baseline's median rate; per round = median of each round's rate against that "
        "round's baseline; server CPU = baseline's median server CPU seconds per row / the case's"
    )
    for case in cases[1:]:
        rate = statistics.median(case.rates)
        ratio = rate / base_rate
        per_round = statistics.median(r / b for r, b in zip(case.rates, baseline.rates, strict=True))
        case_cpu = statistics.median(case.cpu_seconds) / case.rows
        cpu_ratio = base_cpu / case_cpu if case_cpu > 0 else float("nan")
        verdict = (
            ""
            if case.target is None
            else f"target {case.target:.2f}× " + ("met" if min(ratio, per_round) >= case.target else "MISSED")
        )
        print(
            f"  {case.name:<42} {rate:>9,.0f} rows/s {ratio:5.2f}× (per round {per_round:4.2f}×, "
            f"server CPU {cpu_ratio:4.2f}×)  peak RSS +{case.rss_mb:5.1f} MB  {verdict}"
        )


# -- DuckDB -------------------------------------------------------------------------------------------------------


async def bench_duckdb(path: str, data: pa.Table, half: pa.Table, repeat: int, compare_whole: bool = False) -> None:
    """DuckDB cases, with the connection's memory limit and threads as configured by default. Memory: the
    peak RSS above the RSS before the write (the input batch is resident then); target < 150 MB for a
    1M-row merge. ``compare_whole``: the merges again as one statement over the whole batch."""
    from alphahome.storage import duckdb_backend

    rows = data.num_rows
    spec = daily_spec("daily")
    target = f'"{spec.schema}"."{spec.name}"'
    print(f"\nDuckDB ({rows:,} rows, file {path})")
    async with open_backend(f"duckdb:///{path}") as db:
        await db.ensure_schema("bench")
        print(f"  duckdb {await db.fetchval('SELECT version()')}")

        async def empty() -> None:
            await db.execute(f"DROP TABLE IF EXISTS {target}")
            await db.ensure_table(spec)
            await db.execute("CHECKPOINT")

        async def loaded() -> None:
            await empty()
            await db.upsert(spec, data, mode="insert")
            await db.execute("CHECKPOINT")

        async def settle() -> None:
            pass

        def whole(work: Callable[[], Awaitable[object]]) -> Callable[[], Awaitable[object]]:
            """The same write as one statement over the whole batch (the layout before slicing)."""

            async def run() -> object:
                saved = duckdb_backend.WRITE_SLICE_ROWS
                duckdb_backend.WRITE_SLICE_ROWS = rows + 1
                try:
                    return await work()
                finally:
                    duckdb_backend.WRITE_SLICE_ROWS = saved

            return run

        new_rows = lambda: db.upsert(spec, data)  # noqa: E731
        same_rows = lambda: db.upsert(spec, data)  # noqa: E731
        changed_rows = lambda: db.upsert(spec, changed(data))  # noqa: E731
        half_rows = lambda: db.upsert(spec, half)  # noqa: E731
        cases = [
            Case(
                "insert mode, empty table", rows, empty, lambda: db.upsert(spec, data, mode="insert"), 800_000
            ),
            Case("merge, all new (empty table)", rows, empty, new_rows, 800_000),
            Case("merge, all unchanged", rows, loaded, same_rows, 800_000),
            Case("merge, all changed", rows, loaded, changed_rows, 800_000),
            Case("merge, half unchanged + half new", half.num_rows, loaded, half_rows, 800_000),
        ]
        if compare_whole:
            cases += [
                Case("(whole batch) merge, all new", rows, empty, whole(new_rows), 800_000),
                Case("(whole batch) merge, all unchanged", rows, loaded, whole(same_rows), 800_000),
                Case("(whole batch) merge, all changed", rows, loaded, whole(changed_rows), 800_000),
                Case("(whole batch) merge, half + half", half.num_rows, loaded, whole(half_rows), 800_000),
            ]
        async def this_process() -> list[int]:
            # DuckDB runs in this process: its CPU seconds hardly depend on what else the machine does.
            return [os.getpid()]

        await run_cases(cases, repeat, settle, this_process)
        await db.execute(f"DROP TABLE IF EXISTS {target}")
    print(f"\n  DuckDB, best of {repeat} (slices of {duckdb_backend.WRITE_SLICE_ROWS:,} rows; "
          "'server CPU' above = this process's CPU)")
    for case in cases:
        verdict = "met" if case.best >= 800_000 else "MISSED"
        memory = "met" if case.rss_mb < 150 else "MISSED"
        per_cpu = case.rows / min(case.cpu_seconds) if min(case.cpu_seconds) > 0 else 0.0
        print(
            f"  {case.name:<34} {case.best:>11,.0f} rows/s  {per_cpu:>11,.0f} rows/CPU-s  peak RSS "
            f"+{case.rss_mb:5.1f} MB (Arrow +{case.arrow_mb:5.1f} MB)  target 800k rows/s {verdict}, "
            f"memory < 150 MB {memory}"
        )


# -- a throwaway PostgreSQL cluster --------------------------------------------------------------------------------


def _pg_bindir() -> str:
    if shutil.which("pg_config"):
        bindir = subprocess.run(["pg_config", "--bindir"], capture_output=True, text=True).stdout.strip()
        if os.path.exists(os.path.join(bindir, "initdb")):
            return bindir
    candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: int(p.parent.name))
    if not candidates:
        sys.exit("PostgreSQL binaries not found: pass --pg-url or install PostgreSQL")
    return str(candidates[-1])


@contextlib.contextmanager
def throwaway_cluster(settings: list[str]) -> Iterator[str]:
    """initdb + pg_ctl start on a free loopback port (as user postgres when run as root); stopped on exit."""
    bindir = _pg_bindir()
    workdir = tempfile.mkdtemp(prefix="alphahome-bench-pg.")
    as_pg: list[str] = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    if os.geteuid() == 0:
        shutil.chown(workdir, "postgres")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    pwfile = os.path.join(workdir, "pwfile")
    Path(pwfile).write_text("bench\n")
    os.chmod(pwfile, 0o644)
    data = os.path.join(workdir, "data")
    subprocess.run(
        [*as_pg, f"{bindir}/initdb", "-D", data, "-U", "bench", f"--pwfile={pwfile}", "--auth-host=scram-sha-256",
         "--auth-local=trust", "-E", "UTF8", "--locale=C.UTF-8"],
        check=True, capture_output=True,
    )  # fmt: skip
    options = f"-p {port} -k {workdir} -c listen_addresses=127.0.0.1 " + " ".join(f"-c {s}" for s in settings)
    subprocess.run(
        [*as_pg, f"{bindir}/pg_ctl", "-D", data, "-l", os.path.join(workdir, "server.log"), "-w", "start", "-o", options],
        check=True, capture_output=True,
    )  # fmt: skip
    try:
        yield f"postgresql://bench:bench@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run(
            [*as_pg, f"{bindir}/pg_ctl", "-D", data, "-m", "immediate", "stop"], capture_output=True
        )
        shutil.rmtree(workdir, ignore_errors=True)


# -- main -----------------------------------------------------------------------------------------------------------


async def run(args: argparse.Namespace, pg_url: str | None) -> None:
    rows = args.rows
    full = make_daily(rows + rows // 2)
    data = full.slice(0, rows).combine_chunks()
    half = full.slice(rows // 2, rows).combine_chunks()  # its first half is stored already (unchanged)
    print(f"input batch: {rows:,} rows, {data.nbytes / 2**20:.0f} MB as Arrow")
    if pg_url:
        await bench_postgres(pg_url, data, half, args.repeat)
    if not args.skip_duckdb:
        with tempfile.TemporaryDirectory(prefix="alphahome-bench-duckdb.") as tmp:
            await bench_duckdb(os.path.join(tmp, "bench.duckdb"), data, half, args.repeat, args.compare_whole)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--pg-url", help="PostgreSQL database to use (default: start a throwaway cluster)")
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3, help="rounds per case; the best is reported")
    parser.add_argument("--skip-pg", action="store_true")
    parser.add_argument("--skip-duckdb", action="store_true")
    parser.add_argument("--compare-whole", action="store_true",
                        help="DuckDB: also run each merge as one statement over the whole batch (before slicing)")
    parser.add_argument(
        "--pg-setting",
        action="append",
        default=["fsync=off", "synchronous_commit=off", "full_page_writes=off"],
        help="extra server setting for the throwaway cluster (repeatable; default mirrors the test cluster)",
    )
    args = parser.parse_args()
    if args.skip_pg:
        asyncio.run(run(args, None))
    elif args.pg_url:
        asyncio.run(run(args, args.pg_url))
    else:
        with throwaway_cluster(args.pg_setting) as url:
            asyncio.run(run(args, url))


if __name__ == "__main__":
    main()
