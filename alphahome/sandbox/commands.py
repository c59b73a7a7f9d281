"""``alphahome sandbox``: run the Tushare-compatible sandbox in the foreground."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import signal

import click

from alphahome.sandbox.faults import FaultConfig
from alphahome.sandbox.quota import QuotaLimits, parse_quota_overrides
from alphahome.sandbox.server import SandboxServer


def _parse_end_date(ctx: click.Context, param: click.Parameter, value: str | None) -> dt.date | None:
    if value is None:
        return None
    for fmt in ("%Y-%m-%d", "%Y%m%d"):
        try:
            return dt.datetime.strptime(value, fmt).date()
        except ValueError:
            continue
    raise click.BadParameter(f"{value!r} is not a date: use YYYY-MM-DD or YYYYMMDD")


def _parse_quotas(ctx: click.Context, param: click.Parameter, value: tuple[str, ...]) -> dict[str, QuotaLimits]:
    try:
        return parse_quota_overrides(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


def _parse_faults(ctx: click.Context, param: click.Parameter, value: str | None) -> FaultConfig | None:
    if not value:
        return None
    try:
        return FaultConfig.parse(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


@click.group("sandbox")
def sandbox_group() -> None:
    """The local Tushare-Pro-compatible sandbox over a deterministic synthetic market."""


@sandbox_group.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", type=click.IntRange(0, 65535), default=0, show_default=True,
              help="Port to listen on (0 = a free one).")
@click.option("--seed", type=int, default=42, show_default=True, help="Seed of the synthetic market.")
@click.option("--scale", type=click.Choice(["small", "demo", "large"]), default="demo", show_default=True,
              help="Size of the synthetic market.")
@click.option("--end-date", "end_date", callback=_parse_end_date, metavar="DATE",
              help="Last day of market history (YYYY-MM-DD or YYYYMMDD; default: the market's own).")
@click.option("--quota", "quotas", multiple=True, callback=_parse_quotas, metavar="API=N/min|hour|day",
              help="Override an API's quota (repeatable; '*' for every API), e.g. daily=100/min.")
@click.option("--no-quotas", is_flag=True, help="Answer every call, whatever its rate.")
@click.option("--time-scale", type=click.FloatRange(min=0, min_open=True), default=1.0, show_default=True,
              help="Shrink quota windows (0.05 makes a minute last 3 s).")
@click.option("--faults", callback=_parse_faults, metavar="SPEC",
              help="Inject faults, e.g. 'http5xx=0.1,delay=0.05,delay_seconds=3,truncate=0.05,system=0.05,"
                   "quota=0.02,seed=7' (also quota_next=API:K).")
def serve_command(host: str, port: int, seed: int, scale: str, end_date: dt.date | None,
                  quotas: dict[str, QuotaLimits], no_quotas: bool, time_scale: float,
                  faults: FaultConfig | None) -> None:
    """Run the sandbox in the foreground until Ctrl-C or SIGTERM."""
    server = SandboxServer(seed=seed, scale=scale, end_date=end_date, host=host, port=port,
                           quotas_enabled=not no_quotas, time_scale=time_scale, quota_overrides=quotas,
                           faults=faults)
    click.echo(f"building the {scale} market (seed {seed})…")
    try:
        with contextlib.suppress(KeyboardInterrupt):  # Windows: no signal handlers on the loop
            asyncio.run(_serve(server))
    except ValueError as exc:  # the market refuses its arguments (e.g. an end date outside its calendar)
        raise click.UsageError(str(exc)) from None
    except OSError as exc:
        raise click.UsageError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None


async def _serve(server: SandboxServer) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    async with server:
        _announce(server)
        await stop.wait()
        click.echo("stopping…")
    stats = server.stats
    click.echo(f"sandbox stopped after {stats.requests} requests "
               f"({sum(stats.ok.values())} answered, {sum(stats.errors.values())} errors).")


def _announce(server: SandboxServer) -> None:
    click.echo(f"AlphaHome sandbox listening on {server.url} (started in {server.startup_seconds:.2f} s)")
    click.echo(f"  TUSHARE_API_URL={server.url}")
    click.echo("  tokens:")
    for token, points in sorted(server.tokens.items(), key=lambda item: item[1]):
        click.echo(f"    {token}  {points:>5} points")
    quotas = server.quotas
    if not quotas.enabled:
        click.echo("  quotas: off")
    else:
        overrides = ", ".join(f"{api}={_limits_text(limits)}" for api, limits in quotas.overrides.items())
        click.echo(f"  quotas: by tier (120: 50/min, 2000: 200/min, 5000: 500/min)"
                   f"{'; ' + overrides if overrides else ''}; time scale {quotas.time_scale:g}")
    if server.faults is not None and server.faults.active:
        click.echo(f"  faults: {server.faults.describe()}")
    click.echo("Press Ctrl-C to stop.")


def _limits_text(limits: QuotaLimits) -> str:
    parts = [f"{n}/{unit}" for n, unit in ((limits.per_minute, "min"), (limits.per_hour, "hour"),
                                             (limits.per_day, "day")) if n is not None]
    return "+".join(parts)
