"""The local batch engine: claims tasks from the database and runs them, bounded by resource.

One `Engine` runs in the TUI (an app-level worker) or in `thesis batch run`; several may run
at once on one database, since every claim and every ending is a conditional UPDATE
(store.py, behind the Queue of queue.py: the seam a queue for several machines plugs
into). Work is claimed in units:

- a static unit: tasks of one job and static type (the pending ones split evenly over the
  free cores, at most THESIS_BATCH_STATIC_APPS), run as one shared scan: one process per
  tool for all their apps, side by side (security.py); as many at once as there are cores;
- an app unit: every dynamic task of one app of one job (smoke, load test, dynamic scan),
  run in order while the app is up, then the app stopped if this unit started it; at most
  THESIS_BATCH_APPS at once;
- an LLM unit: one AI review; at most THESIS_BATCH_LLM at once.

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
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select, update

from tui.config import Settings
from tui.db import Database
from tui.db.models import (
    AnalysisStatus,
    AnalysisTask,
    AnalysisType,
    GeneratedApplication,
    TaskStatus,
    utcnow,
)
from tui.errors import ThesisError
from tui.jobs.cache import cache_key
from tui.jobs.planner import job_log_path
from tui.jobs.queue import Queue, SqlQueue
from tui.jobs.store import Claimed
from tui.secrets import redact
from tui.services.analysis.contract import NewAnalysis, TaskRef, TaskResult
from tui.services.analysis.registry import KINDS
from tui.services.analysis.runner import AnalysisService, describe_summary
from tui.services.batches import progress
from tui.services.container_logs import LogSink
from tui.services.owner import HEARTBEAT_SECONDS, Owner, current
from tui.services.reconcile import reconcile
from tui.services.scanner import content_hash

POLL_SECONDS = 0.5
"""How often the engine looks for cancels and for work: control reaches it within this."""
RECONCILE_SECONDS = 10.0
"""How often it re-queues the tasks of runners that died (another process on this host)."""


def kinds_of(resource: str) -> tuple[AnalysisType, ...]:
    """The analysis types whose concurrency `resource` bounds (read from the registry)."""
    return tuple(t for t, kind in KINDS.items() if kind.resource == resource)


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


@dataclass(frozen=True)
class _Unreadable:
    """Why a task's app could not be hashed (its task fails with this)."""

    reason: str


@dataclass
class _Unit:
    resource: str
    tasks: list[Claimed]
    cancelled: set[int] = field(default_factory=set)
    """Tasks cancelled by a request (no longer held): their run stops."""


class Engine:
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
    ) -> None:
        self.db = db
        self.settings = settings
        self.jobs = jobs
        self.sink = sink
        self.on_event = on_event
        self.on_started = on_started
        """Called with (job id, analysis task ids) when a unit's analyses are stored."""
        self.owner = owner or current()
        self.queue: Queue = queue or SqlQueue(db, self.owner)
        """Where tasks come from and go back to (queue.py): the executor seam."""
        self._in_flight: dict[str, tuple[Claimed, int]] = {}
        """Each analysis running now: its task and its row id."""
        self._finished: dict[int, bool] = {}
        """Tasks ended in their analysis's own transaction, and whether they were still ours."""
        cores = os.cpu_count() or 1
        # One shared static run per core, each tool of it in one process: the cores stay
        # busy while one run's slowest tool finishes, and no run waits for another.
        self.service = AnalysisService(db, settings, containers, tool_jobs=1)
        self.service.on_store = self._finish_in_store
        self.slots = {"cpu": cores, "app": settings.batch_apps, "llm": settings.batch_llm}
        self.units: dict[asyncio.Task[None], _Unit] = {}
        self.report = RunReport()
        self._touched: set[int] = set()
        self._ended: set[int] = set()
        """Tasks of running units that already ended (reused, or their run finished)."""

    # --- the loop ---------------------------------------------------------------------

    async def run(self, *, until_idle: bool = True) -> RunReport:
        """Run until no task of the jobs is open (or, `until_idle` off, until cancelled)."""
        await asyncio.to_thread(reconcile, self.db, self.settings)
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
                started = await self._fill()
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
                    await self._settle()
        except asyncio.CancelledError:
            await asyncio.shield(self._stop("the runner stopped before it ended; queued again"))
            raise
        await self._settle()
        return self.report

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
        if not any(number > 0 for number in free.values()):
            return 0
        # One count of the pending work: a claim is tried only for a resource that has some.
        pending = await asyncio.to_thread(self.queue.pending_by_type, self.jobs)
        waiting = {r: sum(pending.get(str(t), 0) for t in kinds_of(r)) for r in self.slots}
        # The pending static tasks split evenly over the free cores: each shared run pays
        # pylint's start (inferring Flask, SQLAlchemy…) once, as one process over all would.
        per_core = -(-waiting["cpu"] // max(free["cpu"], 1))
        wanted = [
            ("cpu", {"limit": max(1, min(self.settings.batch_static_apps, per_core))}),
            ("app", {"per_app": True}),
            ("llm", {"limit": 1}),
        ]
        started = 0
        for resource, how in wanted:
            while waiting[resource] > 0 and self._busy(resource) < self.slots[resource]:
                claimed = await asyncio.to_thread(
                    self.queue.claim, kinds_of(resource), jobs=self.jobs, **how
                )
                if not claimed:
                    break
                waiting[resource] -= len(claimed)
                unit = _Unit(resource, claimed)
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
        if error is not None:  # a bug of ours: its tasks fail with it (retry queues them)
            self._say(unit.tasks[0].job_id, f"!! internal error: {error!r}")
            for claimed in unit.tasks:
                with contextlib.suppress(ThesisError):
                    if self.queue.finish(claimed.id, TaskStatus.FAILED,
                                         error=f"internal error: {error!r}"):  # fmt: skip
                        self._event(claimed, TaskStatus.FAILED, f"internal error: {error!r}")

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

    # --- one unit ---------------------------------------------------------------------

    async def _run_unit(self, unit: _Unit) -> None:
        try:
            await self._run_tasks(unit)
        except asyncio.CancelledError:
            if unit.cancelled:
                # Cancelled by a request for some of its tasks: the others go back to the
                # queue (a runner that stops releases them all itself).
                others = [t.id for t in unit.tasks if t.id not in unit.cancelled]
                await asyncio.shield(
                    asyncio.to_thread(
                        self.queue.release, others,
                        "its shared run was stopped by a cancel; queued again",
                    )
                )  # fmt: skip
                for task in unit.tasks:
                    if task.id in unit.cancelled:
                        self._event(task, TaskStatus.CANCELLED, "cancelled by the user")
            raise

    async def _run_tasks(self, unit: _Unit) -> None:
        to_run = await self._prepare(unit.tasks)
        if not to_run:
            return
        first = to_run[0][0]

        def link(session: Any, refs: list[TaskRef]) -> None:
            self.queue.link_attempts(session, [
                (task.id, ref.id, new.cache_key)
                for (task, new), ref in zip(to_run, refs, strict=True)
            ])  # fmt: skip

        refs = await asyncio.to_thread(
            self.service.store_pending_refs, [new for _, new in to_run], link
        )
        ids = [ref.task_id for ref in refs]
        analysis_ids = [ref.id for ref in refs]
        if self.on_started is not None:
            self.on_started(first.job_id, ids)
        started_app = False
        if unit.resource == "app":
            started_app = not await asyncio.to_thread(self._is_up, first)
        timeout = self.settings.task_timeout * (len(to_run) if unit.resource == "app" else 1)
        began = time.monotonic()
        by_analysis = {
            ref.task_id: (task, ref.id) for (task, _), ref in zip(to_run, refs, strict=True)
        }
        self._in_flight.update(by_analysis)

        async def task_ended(result: TaskResult) -> None:
            """Each task ends as its analysis does, not when the unit's last one does."""
            task, row_id = by_analysis[result.task_id]
            detail = (
                describe_summary(result.summary)
                if result.status == AnalysisStatus.COMPLETED
                else result.error or str(result.status)
            )
            await self._end(
                task, _task_status(result), detail, time.monotonic() - began,
                analysis_id=row_id, result=result,
            )  # fmt: skip

        try:
            async with asyncio.timeout(timeout):
                await self.service.run_refs(refs, self.sink, on_result=task_ended)
        except TimeoutError:
            message = f"timed out after {timeout:.0f} s (THESIS_TASK_TIMEOUT)"
            statuses = await asyncio.to_thread(_fail_unfinished, self.db, ids, message)
            for (task, _), analysis, row_id in zip(to_run, ids, analysis_ids, strict=True):
                done = statuses.get(analysis) == AnalysisStatus.COMPLETED
                await self._end(
                    task, TaskStatus.COMPLETED if done else TaskStatus.FAILED,
                    "completed before the timeout" if done else message,
                    time.monotonic() - began, analysis_id=row_id,
                )  # fmt: skip
            return
        finally:
            for analysis, (task, _) in by_analysis.items():
                self._in_flight.pop(analysis, None)
                self._finished.pop(task.id, None)
            if started_app:
                await asyncio.shield(asyncio.to_thread(self._stop_app, first))

    async def _prepare(self, tasks: list[Claimed]) -> list[tuple[Claimed, NewAnalysis]]:
        """The analyses to run for `tasks`; the others end here (reused: the same content
        was analysed the same way; or their app cannot be read). Hashing and the lookup of
        reusable analyses are one thread hop and one query for the unit."""
        keyed = await asyncio.to_thread(self._keys, tasks)
        keys = [key for task, key, _ in keyed if key and not task.force]
        found = await asyncio.to_thread(self.queue.reusable, keys)
        to_run = []
        for task, key, content in keyed:
            if isinstance(content, _Unreadable):
                await self._end(task, TaskStatus.FAILED, content.reason, 0.0)
                continue
            if key and not task.force and key in found:
                row_id, analysis = found[key]
                await self._end(
                    task, TaskStatus.COMPLETED, f"reused {analysis} (same content)", 0.0,
                    analysis_id=row_id, reused=True, cache_key=key,
                )  # fmt: skip
                continue
            new = NewAnalysis(task.model, task.app_number, task.type, task.config, key, content)
            to_run.append((task, new))
        return to_run

    def _keys(
        self, tasks: list[Claimed]
    ) -> list[tuple[Claimed, str | None, str | _Unreadable | None]]:
        """(task, cache key, content hash) for each task; the content is _Unreadable when the
        app's folder cannot be read. In a worker thread."""
        paths = _source_paths(self.db, tasks)
        hashes: dict[Path, str | _Unreadable] = {}
        keyed: list[tuple[Claimed, str | None, str | _Unreadable | None]] = []
        for task in tasks:
            kind = KINDS[task.type]
            if not (kind.cacheable or kind.static):
                keyed.append((task, None, None))
                continue
            path = paths.get((task.model, task.app_number))
            if path is None or not path.is_dir():
                keyed.append((task, None, _Unreadable("the app's folder is missing")))
                continue
            if path not in hashes:
                try:
                    hashes[path] = content_hash(path)
                except OSError as exc:
                    hashes[path] = _Unreadable(f"cannot read the app: {exc}")
            content = hashes[path]
            if isinstance(content, _Unreadable):
                keyed.append((task, None, content))
                continue
            config = dict(task.config)
            if task.type == "ai_review":
                config["model"] = config.get("model") or self.settings.review_model
            key = cache_key(
                (task.model, task.app_number), task.type, config, content,
                self.settings.analyzers_dir,
            )  # fmt: skip
            keyed.append((task, key, content))
        return keyed

    async def _end(
        self,
        task: Claimed,
        status: TaskStatus,
        detail: str,
        seconds: float,
        *,
        analysis_id: int | None = None,
        reused: bool = False,
        cache_key: str | None = None,
        result: TaskResult | None = None,
    ) -> None:
        error = None if status == TaskStatus.COMPLETED else detail
        self._ended.add(task.id)
        if task.id in self._finished:  # ended with its analysis, in one transaction
            if self._finished.pop(task.id):
                self._event(task, status, detail, reused, result.task_id if result else None)
            return
        try:
            ended = await asyncio.to_thread(
                self.queue.finish, task.id, status,
                error=error, seconds=round(seconds, 3), analysis_id=analysis_id,
                reused=reused, cache_key=cache_key,
            )  # fmt: skip
        except ThesisError as exc:
            self._say(task.job_id, f"!! {task.label}: could not record its end: {exc.msg}")
            return
        if ended:
            self._event(task, status, detail, reused, result.task_id if result else None)

    def _finish_in_store(
        self, session: Any, ref: TaskRef, result: TaskResult, seconds: float
    ) -> None:
        """In the transaction that stores an analysis (a worker thread): end its task."""
        entry = self._in_flight.get(ref.task_id)
        if entry is None:
            return
        task, row_id = entry
        status = _task_status(result)
        error = None if status == TaskStatus.COMPLETED else result.error or str(result.status)
        # Before the commit: the loop must not take the task's end for a cancel.
        self._ended.add(task.id)
        self._finished[task.id] = self.queue.finish_in(
            session, task.id, status, error=error, seconds=round(seconds, 3), analysis_id=row_id
        )

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

    def _is_up(self, task: Claimed) -> bool:
        try:
            states = self.service.containers.service_states(task.model, task.app_number)
        except ThesisError:
            return False
        return bool(states) and all(state.state == "running" for state in states)

    def _stop_app(self, task: Claimed) -> None:
        with contextlib.suppress(ThesisError):
            self.service.containers.stop(task.model, task.app_number, None)


def _task_status(result: TaskResult) -> TaskStatus:
    if result.status == AnalysisStatus.COMPLETED:
        return TaskStatus.COMPLETED
    if result.status == AnalysisStatus.CANCELLED:
        return TaskStatus.CANCELLED
    return TaskStatus.FAILED


def _source_paths(db: Database, tasks: list[Claimed]) -> dict[tuple[str, int], Path]:
    """The folder of each task's app, in one query for the unit."""
    g = GeneratedApplication
    models = {task.model for task in tasks}
    with db.session() as session:
        rows = session.execute(
            select(g.model_slug, g.app_number, g.source_path).where(g.model_slug.in_(models))
        ).all()
    return {(slug, number): Path(path) for slug, number, path in rows if path}


def _fail_unfinished(db: Database, task_ids: list[str], message: str) -> dict[str, str]:
    """After a timeout: the analyses that had not completed fail with `message`; returns
    each analysis's status."""
    with db.write_session() as session:
        session.execute(
            update(AnalysisTask)
            .where(
                AnalysisTask.task_id.in_(task_ids),
                AnalysisTask.status.in_(
                    (AnalysisStatus.PENDING, AnalysisStatus.RUNNING, AnalysisStatus.CANCELLED)
                ),
            )
            .values(status=AnalysisStatus.FAILED, error_message=message, completed_at=utcnow())
        )
        rows = session.execute(
            select(AnalysisTask.task_id, AnalysisTask.status).where(
                AnalysisTask.task_id.in_(task_ids)
            )
        ).all()
    return {task_id: str(status) for task_id, status in rows}
