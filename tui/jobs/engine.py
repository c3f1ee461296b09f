"""The local batch engine: claims tasks from the database and runs them, bounded by resource.

One `Engine` runs in the TUI (an app-level worker) or in `thesis batch run`; several may run
at once on one database, since every claim and every ending is a conditional UPDATE
(store.py, behind the Queue of queue.py: the seam a queue for several machines plugs
into). Work is claimed in units:

- a static unit: tasks of one job and static type (at most THESIS_BATCH_STATIC_APPS), run
  as one shared scan: one process per tool for all their apps, side by side, pylint's
  spread over the cores (security.py); as many units at once as there are cores;
- an app unit: every dynamic task of one app of one job (smoke, load test, dynamic scan),
  run in order while the app is up, then the app stopped if this unit started it; at most
  THESIS_BATCH_APPS at once;
- an LLM unit: one AI review; at most THESIS_BATCH_LLM at once.

(units.py runs a unit; this module claims them and watches over them.)

Before a cacheable task runs, the app's content is hashed and an analysis with the same key
is looked for (cache.py): found, the task is recorded as reused. Every half second the
engine checks that it still holds its tasks (a cancel from anywhere ends them in the
database) and starts what the free slots allow; every few seconds it says it is alive and
re-queues the tasks of runners that died. Stopped itself (ctrl+c, SIGTERM, the TUI
quitting), it kills its tools and hands its tasks back as pending.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from tui.config import Settings
from tui.db import Database
from tui.db.models import AnalysisType, TaskStatus, utcnow
from tui.errors import DatabaseError, ThesisError
from tui.jobs.planner import job_log_path
from tui.jobs.queue import Queue, SqlQueue
from tui.jobs.store import Claimed
from tui.jobs.units import Unit, UnitRunner
from tui.secrets import redact
from tui.services.analysis.registry import KINDS
from tui.services.analysis.runner import AnalysisService
from tui.services.batches import progress
from tui.services.container_logs import LogSink
from tui.services.owner import HEARTBEAT_SECONDS, Owner, current
from tui.services.reconcile import reconcile
from tui.services.workers import mark_stopped, register_worker

POLL_SECONDS = 0.5
"""How often the engine looks for cancels and for work: control reaches it within this."""
RECONCILE_SECONDS = 10.0
"""How often it re-queues the tasks of runners that died (another process on this host)."""


def kinds_of(resource: str) -> tuple[AnalysisType, ...]:
    """The analysis types whose concurrency `resource` bounds (read from the registry)."""
    return tuple(t for t, kind in KINDS.items() if kind.resource == resource)


def queue_for(
    db: Database, owner: Owner, settings: Settings, worker_id: int | None = None
) -> Queue:
    """The queue a runner on `db` takes tasks from: procrastinate's on PostgreSQL (shared by
    the machines of a study), our tables' on SQLite (one machine)."""
    if db.dialect == "postgresql":
        from tui.jobs.shared_queue import ProcrastinateQueue
        from tui.services.docker_engine import engine_id

        return ProcrastinateQueue(
            db, owner, worker_id=worker_id, stall_seconds=settings.heartbeat_timeout,
            engine=engine_id(settings.docker_host),
        )  # fmt: skip
    return SqlQueue(db, owner, worker_id=worker_id)


@dataclass(frozen=True)
class TaskEnded:
    """One task ended (what the CLI prints and the TUI refreshes on)."""

    job_id: int
    task_id: int
    label: str
    status: TaskStatus
    detail: str
    reused: bool = False
    analysis_task_id: str | None = None
    one_off: bool = False


@dataclass
class RunReport:
    ended: list[TaskEnded] = field(default_factory=list)

    def count(self, status: TaskStatus) -> int:
        return sum(1 for event in self.ended if event.status == status)


class Engine(UnitRunner):
    """Runs the batch tasks of `jobs` (all jobs when None) on this machine."""

    def __init__(
        self,
        db: Database,
        settings: Settings,
        *,
        jobs: list[int] | None = None,
        sink: LogSink | None = None,
        on_event: Callable[[TaskEnded], None] | None = None,
        on_started: Callable[[int, list[str]], None] | None = None,
        containers: Any = None,
        owner: Owner | None = None,
        queue: Queue | None = None,
        types: Iterable[AnalysisType] | None = None,
        concurrency: int | None = None,
        role: str = "",
        name: str | None = None,
    ) -> None:
        self.db = db
        self.settings = settings
        self.jobs = jobs
        self.sink = sink
        self.on_event = on_event
        self.on_started = on_started
        """Called with (job id, analysis task ids) when a unit's analyses are stored."""
        self.owner = owner or current()
        self.queue: Queue = queue or queue_for(db, self.owner, settings)
        """Where tasks come from and go back to (queue.py): the executor seam."""
        self._in_flight: dict[str, tuple[Claimed, int]] = {}
        """Each analysis running now: its task and its row id."""
        self._finished: dict[int, bool] = {}
        """Tasks ended in their analysis's own transaction, and whether they were still ours."""
        cores = os.cpu_count() or 1
        # A shared static run's pylint spreads over the cores itself (its start-up, seconds
        # of inferring Flask and SQLAlchemy, paid once), beside one bandit and one eslint:
        # splitting a job's apps into a run per core would pay every tool's start per core.
        self.service = AnalysisService(db, settings, containers)
        self.service.on_store = self._finish_in_store
        self.slots = {"cpu": cores, "app": settings.batch_apps, "llm": settings.batch_llm}
        self.types = None if types is None else tuple(dict.fromkeys(types))
        """Only these types (a worker's --types); all when None."""
        self.kinds = {
            resource: tuple(t for t in kinds_of(resource) if self.types is None or t in self.types)
            for resource in self.slots
        }
        """The types each resource bounds that this runner takes."""
        self.concurrency = concurrency
        """Units at once over all resources (a worker's --concurrency); each resource's own
        limit still holds."""
        if concurrency is not None:
            self.slots = {r: min(n, concurrency) for r, n in self.slots.items()}
        self.name = name or f"{self.owner.host}-{self.owner.pid}" + (f" ({role})" if role else "")
        """What its row in `workers` is called (a worker's --name; else host-pid and `role`:
        "TUI", "batch run", …)."""
        self._draining = False
        self._runs = 0
        self._pending: tuple[float, dict[str, int]] | None = None
        """When the pending tasks were last counted, and how many each resource has."""
        self._orphans: list[int] = []
        """Tasks whose run ended while the database was unreachable: given back (their
        attempt ended interrupted) as soon as it answers again."""
        self.units: dict[asyncio.Task[None], Unit] = {}
        self.report = RunReport()
        self._touched: set[int] = set()
        self._ended: set[int] = set()
        """Tasks of running units that already ended (reused, or their run finished)."""

    # --- the loop ---------------------------------------------------------------------

    async def run(self, *, until_idle: bool = True) -> RunReport:
        """Run until no task of the jobs is open (or, `until_idle` off, until cancelled).
        Run again after the database was lost (a worker), it first gives back the tasks the
        database says it holds but it does not know of (a claim whose answer was lost)."""
        await asyncio.to_thread(reconcile, self.db, self.settings)
        registered = self.queue.worker_id is None
        if registered:  # seen in the Workers view while it runs, like a `thesis worker`
            await asyncio.to_thread(self.register)
        try:
            return await self._run(until_idle)
        finally:
            if registered:
                with contextlib.suppress(ThesisError):
                    await asyncio.shield(asyncio.to_thread(mark_stopped, self.db,
                                                           self.queue.worker_id))  # fmt: skip
                self.queue.worker_id = None

    def register(self) -> int:
        """Register this runner in `workers` (its queue's worker from now on); its id. `run`
        does it for a runner that did not (and says it stopped when it returns)."""
        from tui.services.docker_engine import engine_id

        self.queue.worker_id = register_worker(
            self.db, self.name, self.owner, concurrency=self.concurrency,
            types=None if self.types is None else [str(t) for t in self.types],
            docker_host=engine_id(self.settings.docker_host),
        )  # fmt: skip
        return self.queue.worker_id

    async def _run(self, until_idle: bool) -> RunReport:
        if self._runs:  # run before by this engine (and broken off): what did it hold?
            unknown = await asyncio.to_thread(self.queue.holding) - set(self.held())
            if unknown:
                self._orphans.extend(sorted(unknown))
                await self._give_back_orphans()
        self._runs += 1
        self._touched.update(await asyncio.to_thread(self.queue.active_jobs, self.jobs))
        last_beat = last_reconcile = time.monotonic()
        last_poll = 0.0
        try:
            while True:
                # Cancels and job endings are looked for every POLL_SECONDS, not each time a
                # unit ends: a study of quick tasks ends many a second.
                polled = time.monotonic() - last_poll >= POLL_SECONDS or not self.units
                if polled:
                    last_poll = time.monotonic()
                    await self._notice_cancels()
                    await self._notice_cost_limits()
                started = await self._fill()
                if self._draining and not self.units:
                    break
                if until_idle and not self.units and not started:
                    open_jobs = await asyncio.to_thread(self.queue.claimable_jobs, self.jobs)
                    if not open_jobs:
                        break
                if self.units:
                    done, _ = await asyncio.wait(
                        list(self.units), timeout=POLL_SECONDS, return_when=asyncio.FIRST_COMPLETED
                    )
                    for task in done:
                        self._collect(task)
                else:
                    await asyncio.sleep(POLL_SECONDS)
                now = time.monotonic()
                if now - last_beat >= HEARTBEAT_SECONDS:
                    last_beat = now
                    with contextlib.suppress(ThesisError):
                        await asyncio.to_thread(self.queue.heartbeat, self.held())
                if now - last_reconcile >= RECONCILE_SECONDS:
                    last_reconcile = now
                    with contextlib.suppress(ThesisError):
                        await asyncio.to_thread(reconcile, self.db, self.settings)
                if polled:
                    await self._give_back_orphans()
                    await self._settle()
        except asyncio.CancelledError:
            await asyncio.shield(self._stop("the runner stopped before it ended; queued again"))
            await asyncio.shield(asyncio.to_thread(self.queue.close))
            raise
        await self._settle()
        await asyncio.to_thread(self.queue.close)
        return self.report

    def drain(self) -> None:
        """Claim nothing more; `run` returns once the running tasks have ended (a worker's
        first SIGTERM)."""
        self._draining = True

    def held_tasks(self) -> list[Claimed]:
        """The tasks this engine holds and has not ended."""
        return [
            task
            for unit in self.units.values()
            for task in unit.tasks
            if task.id not in self._ended
        ]

    def held(self) -> list[int]:
        return [task.id for task in self.held_tasks()]

    async def _fill(self) -> int:
        """Claim and start units while slots are free; how many it started."""
        free = {r: self.slots[r] - self._busy(r) for r in self.slots}
        if self._draining or not any(number > 0 for number in free.values()):
            return 0
        # One count of the pending work per poll: a claim is tried only for a resource that
        # has some (a study of quick tasks fills slots many times a second; counting its
        # pending tasks each time would cost more than running them).
        if self._pending is None or time.monotonic() - self._pending[0] >= POLL_SECONDS:
            counted = await asyncio.to_thread(self.queue.pending_by_type, self.jobs)
            self._pending = (time.monotonic(), {
                r: sum(counted.get(str(t), 0) for t in self.kinds[r]) for r in self.slots
            })  # fmt: skip
        waiting = self._pending[1]
        wanted = [
            ("cpu", {"limit": self.settings.batch_static_apps}),
            ("app", {"per_app": True}),
            ("llm", {"limit": 1}),
        ]
        started = 0
        for resource, how in wanted:
            while (
                waiting[resource] > 0
                and self._busy(resource) < self.slots[resource]
                and (self.concurrency is None or len(self.units) < self.concurrency)
            ):
                claimed = await asyncio.to_thread(
                    self.queue.claim, self.kinds[resource], jobs=self.jobs, **how
                )
                if not claimed:
                    waiting[resource] = 0  # until the next count
                    break
                waiting[resource] -= len(claimed)
                unit = Unit(resource, claimed)
                self._touched.update(task.job_id for task in claimed)
                self.units[asyncio.create_task(self._run_unit(unit))] = unit
                started += 1
        return started

    def _busy(self, resource: str) -> int:
        return sum(1 for unit in self.units.values() if unit.resource == resource)

    def _collect(self, task: asyncio.Task[None]) -> None:
        unit = self.units.pop(task)
        self._ended.difference_update(t.id for t in unit.tasks)
        if task.cancelled():
            return
        error = task.exception()
        if isinstance(error, DatabaseError):  # not the task's fault: run again, once stored
            self._orphans.extend(t.id for t in unit.tasks)
            self._say(unit.tasks[0].job_id, f"!! {error.msg}: its tasks are queued again")
            return
        if error is not None:  # a bug of ours: its tasks fail with it (retry queues them)
            self._say(unit.tasks[0].job_id, f"!! internal error: {error!r}")
            for claimed in unit.tasks:
                with contextlib.suppress(ThesisError):
                    if self.queue.finish(claimed.id, TaskStatus.FAILED,
                                         error=f"internal error: {error!r}"):  # fmt: skip
                        self._event(claimed, TaskStatus.FAILED, f"internal error: {error!r}")

    async def _give_back_orphans(self) -> None:
        if not self._orphans:
            return
        orphans = list(self._orphans)
        why = "interrupted: its result could not be stored (the database was unreachable)"
        with contextlib.suppress(ThesisError):
            await asyncio.to_thread(self.queue.interrupt, orphans, why)
            self._orphans = [task for task in self._orphans if task not in orphans]

    async def _notice_cancels(self) -> None:
        held = self.held()
        if not held:
            return
        try:
            still = await asyncio.to_thread(self.queue.still_held, held)
        except ThesisError:
            return
        for task, unit in self.units.items():
            gone = {t.id for t in unit.tasks} - still - self._ended
            if gone and not unit.cancelled:
                unit.cancelled = gone
                task.cancel()

    async def _notice_cost_limits(self) -> None:
        """Jobs whose cost limit was reached claim nothing more: their pending tasks end
        skipped, saying so in the job's log."""
        with contextlib.suppress(ThesisError):
            for job_id, why in await asyncio.to_thread(self.queue.skip_over_cost, self.jobs):
                self._touched.add(job_id)
                self._say(job_id, f"== {why}: its pending tasks are skipped")

    async def _settle(self) -> None:
        if not self._touched:
            return
        touched, self._touched = self._touched, set()
        with contextlib.suppress(ThesisError):
            for job_id in await asyncio.to_thread(self.queue.settle, touched):
                done = (await asyncio.to_thread(progress, self.db, [job_id]))[job_id]
                self._say(
                    job_id,
                    f"== job ended: {done.completed} completed ({done.reused} reused), "
                    f"{done.failed} failed, {done.skipped} skipped, "
                    f"{done.cancelled} cancelled",
                )

    async def _stop(self, reason: str) -> None:
        """Kill the running tools; a study's tasks go back to the queue, an "analyse now"
        ends cancelled (it was asked for now, not for whenever a runner comes)."""
        units = dict(self.units)
        # Not "cancelled by the user": the analyses say their runner stopped (the batch task
        # says whether it was queued again).
        self.service.cancel_reason = "stopped with its runner (ctrl+c, SIGTERM, the TUI quit)"
        for task in units:
            task.cancel()
        if units:
            await asyncio.gather(*units, return_exceptions=True)
        held = [t for unit in units.values() for t in unit.tasks]
        with contextlib.suppress(ThesisError):
            await asyncio.to_thread(
                self.queue.release, [t.id for t in held if not t.one_off], reason
            )
            await asyncio.to_thread(
                self.queue.cancel_held, [t.id for t in held if t.one_off],
                "cancelled: its run was stopped",
            )  # fmt: skip
            await asyncio.to_thread(self.queue.settle, {t.job_id for t in held if t.one_off})
        self.units.clear()

    def _event(
        self,
        task: Claimed,
        status: TaskStatus,
        detail: str,
        reused: bool = False,
        analysis: str | None = None,
    ) -> None:
        event = TaskEnded(
            task.job_id, task.id, task.label, status, detail, reused, analysis, task.one_off
        )
        self.report.ended.append(event)
        self._touched.add(task.job_id)
        mark = "ok" if status == TaskStatus.COMPLETED else "!!"
        self._say(task.job_id, f"{mark} {task.label} {status}: {detail}")
        if self.on_event is not None:
            self.on_event(event)

    def _say(self, job_id: int, line: str) -> None:
        """A line of the job's log file (every runner appends to the same one)."""
        path = job_log_path(self.settings, job_id)
        stamp = utcnow().strftime("%Y-%m-%d %H:%M:%S")
        with contextlib.suppress(OSError):
            path.parent.mkdir(parents=True, exist_ok=True)
            with path.open("a", encoding="utf-8") as handle:
                handle.write(f"{stamp} {redact(line)}\n")
