"""A unit of the batch engine's work, run: the tasks one claim took, from hashing their apps
to ending each task as its analysis ends.

`UnitRunner` is the part of `Engine` (engine.py) that runs one unit; the engine claims the
units, bounds them by resource, and watches cancels, heartbeats and job endings.
"""

from __future__ import annotations

import asyncio
import contextlib
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
    GeneratedApplication,
    TaskStatus,
    utcnow,
)
from tui.errors import ThesisError
from tui.jobs.cache import cache_key
from tui.jobs.queue import Queue
from tui.jobs.store import Claimed
from tui.services.analysis.contract import NewAnalysis, TaskRef, TaskResult
from tui.services.analysis.findings import describe_summary
from tui.services.analysis.registry import KINDS
from tui.services.analysis.runner import AnalysisService
from tui.services.container_logs import LogSink
from tui.services.scanner import content_hash


@dataclass(frozen=True)
class _Unreadable:
    """Why a task's app could not be hashed (its task fails with this)."""

    reason: str


@dataclass
class Unit:
    """The tasks one claim took, and the resource (cpu, app, llm) whose slot it holds."""

    resource: str
    tasks: list[Claimed]
    cancelled: set[int] = field(default_factory=set)
    """Tasks cancelled by a request (no longer held): their run stops."""


class UnitRunner:
    """Runs one unit; the Engine that inherits this gives it the attributes below, and says
    what happened (`_event`, `_say`)."""

    db: Database
    settings: Settings
    queue: Queue
    service: AnalysisService
    sink: LogSink | None
    on_started: Callable[[int, list[str]], None] | None
    _in_flight: dict[str, tuple[Claimed, int]]
    _finished: dict[int, bool]
    _ended: set[int]

    _event: Callable[..., None]
    """Says a task ended: (task, status, detail, reused, analysis task id); Engine's."""
    _say: Callable[[int, str], None]
    """Writes a line of a job's log: (job id, line); Engine's."""

    async def _run_unit(self, unit: Unit) -> None:
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

    async def _run_tasks(self, unit: Unit) -> None:
        to_run = await self._prepare(unit.tasks)
        if not to_run:
            return
        first = to_run[0][0]

        def link(session: Any, refs: list[TaskRef]) -> None:
            self.queue.link_attempts(session, [
                (task.id, ref.id, new.cache_key)
                for (task, new), ref in zip(to_run, refs, strict=True)
            ])  # fmt: skip

        # A static or LLM unit runs its analyses at once: stored running, not marked after.
        # An app unit starts its app first: its analyses wait as pending meanwhile.
        at_once = unit.resource != "app"
        refs = await asyncio.to_thread(
            self.service.store_pending_refs, [new for _, new in to_run], link, running=at_once
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
                await self.service.run_refs(refs, self.sink, on_result=task_ended, marked=at_once)
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
