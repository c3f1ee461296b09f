"""`thesis worker`: run the batch tasks of every job on this machine, beside any number of
workers on others; `thesis workers list`: who runs what.

On PostgreSQL the tasks come through procrastinate (tui/jobs/shared_queue.py): start a
worker on each server of a lab, all pointing at one database. On SQLite a worker is one
more runner on this machine's file.

The first SIGTERM (or ctrl+c) stops claiming and lets the running tasks end; a second one
stops them at once, handing them back to the queue for another worker.

A database that goes away is waited for, tried again every few seconds, for
THESIS_HEARTBEAT_TIMEOUT (by then the other workers have taken this one's tasks back); then
the worker exits with one line saying so.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import sys
import time
from typing import TYPE_CHECKING

import click

from tui.commands.base import Context, echo_table, handles_errors, pass_context
from tui.errors import DatabaseError, ThesisError, shown

if TYPE_CHECKING:
    from tui.config import Settings
    from tui.jobs.engine import Engine

RECOVERED_SECONDS = 10.0
"""A run that lasted this long after the database came back ends an outage."""


def _types(value: str | None) -> list[str] | None:
    if value is None:
        return None
    from tui.services.analysis.registry import parse_types

    return [str(kind) for kind in parse_types(value)]


@click.command()
@click.option("--concurrency", type=click.IntRange(1, 1024),
              help="Tasks at once, over all kinds (default: each kind's own limit).")  # fmt: skip
@click.option("--name", help="What the worker is called (default: host-pid).")
@click.option("--types", "types_", metavar="T1,T2", help="Only these analysis types.")
@pass_context
@handles_errors
def worker(context: Context, concurrency: int | None, name: str | None, types_: str | None) -> None:
    """Run the batch tasks of every job on this machine until stopped (SIGTERM: finish the
    running tasks; a second SIGTERM: hand them back at once)."""
    from tui.services.workers import check_name

    types = _types(types_)
    label = check_name(name) if name is not None else None
    sys.exit(asyncio.run(_serve(context, label, concurrency, types)))


async def _serve(
    context: Context, name: str | None, concurrency: int | None, types: list[str] | None
) -> int:
    """Register, then run the engine until it is drained (first signal) or cancelled
    (second), and say it stopped; the exit code (128 + the signal when the running tasks
    were handed back)."""
    from tui.db.models import AnalysisType, TaskStatus
    from tui.jobs.engine import Engine, TaskEnded
    from tui.services.workers import mark_stopped

    db, settings = context.database(), context.settings

    def ended(event: TaskEnded) -> None:
        mark = "ok" if event.status == TaskStatus.COMPLETED else "!!"
        click.echo(shown(f"{mark} job {event.job_id} {event.label} {event.status}: "
                         f"{event.detail}"), err=True)  # fmt: skip

    engine = Engine(
        db, settings, on_event=ended, concurrency=concurrency, name=name,
        types=None if types is None else [AnalysisType(kind) for kind in types],
    )  # fmt: skip
    worker_id = await asyncio.to_thread(engine.register)
    where = "procrastinate on PostgreSQL" if db.dialect == "postgresql" else "this SQLite file"
    click.echo(f"worker {engine.name} (#{worker_id}) taking tasks through {where}", err=True)
    try:
        stopped, code = await _until_stopped(engine, settings)
    finally:
        with contextlib.suppress(ThesisError):  # the database gone: the row stays "silent"
            await asyncio.to_thread(mark_stopped, db, worker_id)
    click.echo(f"worker {engine.name} stopped: {stopped}", err=True)
    return code


async def _until_stopped(engine: Engine, settings: Settings) -> tuple[str, int]:
    """What happened, and the exit code."""
    current_run = [asyncio.create_task(engine.run(until_idle=False))]
    """The engine's run (a new one after the database came back)."""
    signals: list[signal.Signals] = []
    loop = asyncio.get_running_loop()

    def stop(number: signal.Signals) -> None:
        signals.append(number)
        if len(signals) == 1:
            click.echo("worker: finishing the running tasks (again to hand them back now)",
                       err=True)  # fmt: skip
            engine.drain()
        else:
            current_run[0].cancel()

    for number in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        loop.add_signal_handler(number, stop, number)

    lost_since: float | None = None
    try:
        while True:
            started = time.monotonic()
            try:
                await current_run[0]
                break
            except DatabaseError as exc:
                # The engine keeps its running tasks: it is run again once the database
                # answers. An outage is timed from its first failure.
                now = time.monotonic()
                if lost_since is None or now - started > RECOVERED_SECONDS:
                    lost_since = now
                    click.echo(f"worker: lost the database ({shown(exc.msg)}); waiting for it",
                               err=True)  # fmt: skip
                if now - lost_since > settings.heartbeat_timeout:
                    raise DatabaseError(
                        f"the database did not come back in {settings.heartbeat_timeout:g} s "
                        f"(THESIS_HEARTBEAT_TIMEOUT): {exc.msg}"
                    ) from None
                await asyncio.sleep(min(5.0, 0.5 + (now - lost_since) / 4))
                current_run[0] = asyncio.create_task(engine.run(until_idle=False))
    except asyncio.CancelledError:
        return "its running tasks were handed back to the queue", 128 + signals[-1]
    return ("after its running tasks ended" if signals else "the runner ended"), 0


@click.group()
def workers() -> None:
    """The workers that run a study's tasks, on any machine."""


@workers.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@click.option("--all", "everything", is_flag=True, help="Include stopped workers.")
@pass_context
@handles_errors
def list_command(context: Context, as_json: bool, everything: bool) -> None:
    """Workers with their host, state (running, silent, gone, stopped), last heartbeat,
    running tasks and throughput."""
    from tui.db.types import utcnow
    from tui.services.workers import THROUGHPUT_MINUTES, list_workers

    now = utcnow()
    timeout = context.settings.heartbeat_timeout
    rows = list_workers(context.database(), everything=everything)
    if as_json:
        click.echo(json.dumps([
            {"id": r.id, "name": r.name, "host": r.host, "pid": r.pid,
             "state": r.state(now, timeout), "docker_host": r.docker_host, "types": r.types,
             "concurrency": r.concurrency,
             "started_at": r.started_at.isoformat(),
             "heartbeat_at": r.heartbeat_at.isoformat() if r.heartbeat_at else None,
             "stopped_at": r.stopped_at.isoformat() if r.stopped_at else None,
             "running": r.running, f"ended_last_{THROUGHPUT_MINUTES}_min": r.ended_lately}
            for r in rows
        ], indent=1))  # fmt: skip
        return
    if not rows:
        click.echo("No worker is running (`thesis worker` starts one; --all lists stopped ones).")
        return
    header = (
        "Name",
        "Host",
        "State",
        "Heartbeat",
        "Running",
        f"Per min ({THROUGHPUT_MINUTES} min)",
    )
    table = [
        (r.name, r.host, r.state(now, timeout),
         f"{(now - (r.heartbeat_at or r.started_at)).total_seconds():.0f}s ago",
         str(r.running), f"{r.per_minute:.1f}")
        for r in rows
    ]  # fmt: skip
    echo_table(header, table)
    sys.stdout.flush()
