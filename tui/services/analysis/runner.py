"""Analysis tasks: created pending, run as asyncio work, finished with a results file.

`AnalysisService.create` stores one pending `analysis_tasks` row per (app, type);
`AnalysisService.run` runs them. Security tasks of one run share a single scan (one process
per tool for every app, see security.py); the other types run one by one. Each task:

1. is marked `running` (started_at, log file);
2. runs, its log lines going to the caller's sink and to `<logs>/<model>/app<N>/<task>.log`;
3. has its results file written atomically, then, in one transaction, its typed row
   (security_analyses, performance_tests, ...) and its final status and summary.

A task that raises ends `failed` with the message; the others go on. A cancelled task
(its asyncio task cancelled: the TUI's cancel key, Ctrl-C in the CLI) has its subprocess
killed and ends `cancelled`. Nothing here touches a task it did not create or run, and a
failed write of the results file fails only that task.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import traceback
import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import bindparam, func, select, tuple_, update
from sqlalchemy.orm import Session

from tui.config import Settings
from tui.db import Database
from tui.db.models import (
    UNFINISHED,
    AnalysisStatus,
    AnalysisTask,
    AnalysisType,
    GeneratedApplication,
    SecurityAnalysis,
    utcnow,
)
from tui.db.tables import analysis_tasks
from tui.errors import DatabaseError, NotFoundError, ThesisError
from tui.secrets import redact, redact_value
from tui.services.analysis.contract import NewAnalysis, Outcome, TaskRef, TaskResult
from tui.services.analysis.findings import (
    count_severities,
    count_tools,
    describe_summary,
    sort_findings,
)
from tui.services.analysis.registry import (
    KINDS,
    RUN_ORDER,
    STATIC,
    split_options,
    task_configs,
)
from tui.services.analysis.results import results_path, write_results
from tui.services.analysis.security import TOOL_FLAGS, SecurityScan
from tui.services.analysis.sources import Source, ToolReport, collect_source
from tui.services.common import chunks
from tui.services.container_logs import ActionLog, LogSink, app_log_dir
from tui.services.owner import HEARTBEAT_SECONDS, current


class AnalysisService:
    """Creates and runs analyses. One instance serves the TUI's workers or one CLI command."""

    def __init__(
        self,
        db: Database,
        settings: Settings,
        containers: Any = None,
        *,
        tool_jobs: int | None = None,
    ) -> None:
        self.db = db
        self.settings = settings
        self._containers = containers
        self.on_store: Callable[[Session, TaskRef, TaskResult, float], None] | None = None
        """Called in the transaction that stores each task's outcome (the batch engine ends
        its own task there: one transaction, not two)."""
        self.cancel_reason = "cancelled by the user"
        """What an analysis stopped by a cancel of its run says (its runner stopping sets
        its own)."""
        self.tool_jobs = tool_jobs
        """Processes each static tool may use (the batch engine runs several scans at once
        and gives each one); None: a scan spreads over the cores itself."""

    @property
    def containers(self) -> Any:
        if self._containers is None:
            from tui.services.containers import ContainerService

            self._containers = ContainerService(self.db, self.settings)
        return self._containers

    # --- creating -------------------------------------------------------------------------

    def create(
        self,
        apps: list[tuple[str, int]],
        types: tuple[AnalysisType, ...],
        *,
        tools: str | None = None,
        options: dict[str, Any] | None = None,
    ) -> list[str]:
        """One pending task per app and type; returns their task ids in run order.

        `options` is one flat set (the form's fields, the CLI's flags): each type takes the
        options its schema has (registry.py); every type's are checked before any is stored."""
        flat = dict(options or {})
        if tools is not None:
            flat["tools"] = tools
        configs = task_configs(types, split_options(types, flat))
        for kind in types:
            KINDS[kind].run_check(self.db, self.settings, configs[kind])
        return self.store_pending(
            [
                NewAnalysis(slug, number, kind, configs[kind])
                for slug, number in apps
                for kind in types
            ]
        )

    def store_pending(self, items: list[NewAnalysis]) -> list[str]:
        """One pending analysis row per item, owned by this process, in one transaction;
        returns their task ids in the order given."""
        return [ref.task_id for ref in self.store_pending_refs(items)]

    def store_pending_refs(
        self,
        items: list[NewAnalysis],
        also: Callable[[Session, list[TaskRef]], None] | None = None,
        *,
        running: bool = False,
    ) -> list[TaskRef]:
        """`store_pending`, returning what `run_refs` needs of each; `also` writes more in
        the same transaction (the batch engine links its tasks to these rows). `running`
        stores them running already, for a caller that runs them at once (`run_refs` with
        `marked`): one transaction less per task."""
        created: list[AnalysisTask] = []
        owner = current().columns()
        now = utcnow()
        g = GeneratedApplication
        with self.db.write_session() as session:
            # Every app of the run in one query (a shared static run stores hundreds).
            wanted = {(item.model_slug, item.app_number) for item in items}
            apps: dict[tuple[str, int], tuple[int, str | None, str | None]] = {}
            for chunk in chunks(sorted(wanted), 400):
                for row in session.execute(
                    select(g.model_slug, g.app_number, g.id, g.content_hash, g.source_path).where(
                        tuple_(g.model_slug, g.app_number).in_(chunk)
                    )
                ):
                    apps[(row.model_slug, row.app_number)] = (
                        row.id, row.content_hash, row.source_path
                    )  # fmt: skip
            for item in items:
                model_slug, app_number = item.model_slug, item.app_number
                if (model_slug, app_number) not in apps:
                    raise NotFoundError(
                        f"No app {model_slug} app {app_number}; scan its folder first"
                    )
                app_id, content_hash, _ = apps[(model_slug, app_number)]
                task_id = f"{item.type}-{uuid.uuid4().hex[:12]}"
                row = AnalysisTask(
                    task_id=task_id,
                    application_id=app_id,
                    task_type=item.type,
                    status=AnalysisStatus.RUNNING if running else AnalysisStatus.PENDING,
                    content_hash=item.content_hash or content_hash,
                    cache_key=item.cache_key,
                    config=dict(item.config),
                    heartbeat_at=now,
                    **owner,
                )
                if running:
                    row.started_at, row.progress = now, 0
                    row.log_path = str(self._log_path(model_slug, app_number, task_id))
                session.add(row)
                created.append(row)
            session.flush()
            refs = [
                TaskRef(
                    id=row.id,
                    task_id=row.task_id,
                    task_type=AnalysisType(row.task_type),
                    application_id=row.application_id,
                    model_slug=item.model_slug,
                    app_number=item.app_number,
                    source_path=_path(apps[(item.model_slug, item.app_number)][2]),
                    content_hash=row.content_hash,
                    config=dict(row.config or {}),
                )
                for row, item in zip(created, items, strict=True)
            ]
            if also is not None:
                also(session, refs)
            return refs

    def refs(self, task_ids: list[str]) -> list[TaskRef]:
        t, a = AnalysisTask, GeneratedApplication
        with self.db.session() as session:
            rows = session.execute(
                select(t, a).join(a, a.id == t.application_id).where(t.task_id.in_(task_ids))
            ).all()
        by_id = {
            task.task_id: TaskRef(
                id=task.id,
                task_id=task.task_id,
                task_type=AnalysisType(task.task_type),
                application_id=app.id,
                model_slug=app.model_slug,
                app_number=app.app_number,
                source_path=Path(app.source_path) if app.source_path else None,
                content_hash=app.content_hash,
                config=dict(task.config or {}),
            )
            for task, app in rows
        }
        missing = [task_id for task_id in task_ids if task_id not in by_id]
        if missing:
            raise NotFoundError(f"No analysis {missing[0]}")
        return [by_id[task_id] for task_id in task_ids]

    # --- running --------------------------------------------------------------------------

    async def run(self, task_ids: list[str], sink: LogSink | None = None) -> list[TaskResult]:
        """Run the tasks; security ones share one scan. Returns one result per task."""
        return await self.run_refs(self.refs(task_ids), sink)

    async def run_refs(
        self,
        refs: list[TaskRef],
        sink: LogSink | None = None,
        on_result: Callable[[TaskResult], Awaitable[None]] | None = None,
        *,
        marked: bool = False,
    ) -> list[TaskResult]:
        """`run` for tasks whose refs the caller has (it just stored them); `on_result` is
        awaited as each task ends (the batch engine ends its task then, not with the run).
        `marked`: they were stored running (`store_pending_refs(running=True)`)."""
        task_ids = [ref.task_id for ref in refs]

        async def ended(result: TaskResult) -> None:
            results[result.task_id] = result
            if on_result is not None:
                await on_result(result)

        static = [ref for ref in refs if ref.task_type in STATIC]
        results: dict[str, TaskResult] = {}
        heartbeat = asyncio.create_task(self._heartbeat([ref.id for ref in refs]))
        try:
            if static:
                for result in await self._run_static(static, sink, marked):
                    await ended(result)
            for ref in sorted(refs, key=lambda ref: RUN_ORDER.index(ref.task_type)):
                if ref.task_type not in STATIC:
                    await ended(await self._run_one(ref, sink, marked))
        except asyncio.CancelledError:
            # The tasks that had not started yet are cancelled with the run, not left pending.
            await asyncio.shield(self._cancelled([r for r in refs if r.task_id not in results]))
            raise
        finally:
            heartbeat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await heartbeat
        return [results[task_id] for task_id in task_ids]

    async def _heartbeat(self, ids: list[int]) -> None:
        """Say every few seconds that this process is alive and works on the tasks, so a
        process that dies is told apart from one that works (see reconcile.py). The tasks
        were claimed when stored, or when marked running."""

        def beat() -> None:
            with self.db.write_session() as session:
                session.execute(
                    update(AnalysisTask)
                    .where(AnalysisTask.id.in_(ids), AnalysisTask.status.in_(UNFINISHED))
                    .values(heartbeat_at=utcnow())
                )

        while True:
            await asyncio.sleep(HEARTBEAT_SECONDS)
            with contextlib.suppress(ThesisError):  # a busy database: the next beat tries
                await asyncio.to_thread(beat)

    def _log_path(self, model_slug: str, app_number: int, task_id: str) -> Path:
        return app_log_dir(self.settings.logs_dir, model_slug, app_number) / f"{task_id}.log"

    def _log(self, ref: TaskRef, sink: LogSink | None) -> ActionLog:
        path = self._log_path(ref.model_slug, ref.app_number, ref.task_id)
        return ActionLog(path.parent, sink, name=path.name)

    async def _run_one(
        self, ref: TaskRef, sink: LogSink | None, marked: bool = False
    ) -> TaskResult:
        try:
            log = self._log(ref, sink)
        except ThesisError as exc:
            return await self._finish(ref, Outcome(AnalysisStatus.FAILED, error=str(exc)), 0.0)
        started = time.monotonic()
        with log:
            if not marked:
                await self._mark_running([ref], {ref.task_id: log.path})
            log(f"== {ref.label} ({ref.task_id})")
            try:
                outcome = await KINDS[ref.task_type].load_runner()(self, ref, log)
            except asyncio.CancelledError:
                log("!! cancelled")
                await asyncio.shield(self._cancelled([ref]))
                raise
            except DatabaseError as exc:  # ours, not the app's: the attempt is interrupted
                log(f"!! {exc.msg}")
                raise
            except ThesisError as exc:
                outcome = Outcome(AnalysisStatus.FAILED, error=str(exc))
            except Exception as exc:  # a bug of ours must not take the other tasks down
                log.note(traceback.format_exc())
                outcome = Outcome(AnalysisStatus.FAILED, error=f"internal error: {exc!r}")
            result = await self._finish(ref, outcome, time.monotonic() - started)
            log(_verdict(result))
        return result

    async def _run_static(
        self, refs: list[TaskRef], sink: LogSink | None, marked: bool = False
    ) -> list[TaskResult]:
        """Security and quality tasks, one scan per (type, tool set) for all their apps."""
        groups: dict[tuple[AnalysisType, tuple[str, ...]], list[TaskRef]] = {}
        for ref in refs:
            key = (ref.task_type, tuple(ref.config.get("tools") or ()))
            groups.setdefault(key, []).append(ref)
        results = []
        for (kind, tools), group in groups.items():
            chosen = KINDS[kind].parse({"tools": list(tools)}).tools  # type: ignore[attr-defined]
            results.extend(await self._static_group(group, kind, chosen, sink, marked))
        return results

    def _sources_and_logs(
        self, refs: list[TaskRef]
    ) -> list[tuple[Source | ThesisError, ActionLog | None]]:
        """Each ref's source (or why it cannot be read) and its log; in a worker thread."""
        opened: list[tuple[Source | ThesisError, ActionLog | None]] = []
        for ref, source in zip(refs, _sources_of(refs), strict=True):
            try:
                log: ActionLog | None = self._log(ref, None)
            except ThesisError as exc:
                source, log = exc, None
            opened.append((source, log))
        return opened

    async def _static_group(
        self,
        refs: list[TaskRef],
        kind: AnalysisType,
        tools: tuple[str, ...],
        sink: LogSink | None,
        marked: bool = False,
    ) -> list[TaskResult]:
        started = time.monotonic()
        logs: dict[str, ActionLog] = {}
        results: list[TaskResult] = []
        runnable: list[tuple[TaskRef, Source]] = []
        unreadable: list[tuple[TaskRef, Outcome]] = []
        # Reading the sources and opening a log per analysis: one thread hop for the run.
        opened = await asyncio.to_thread(self._sources_and_logs, refs)
        for ref, (source, log) in zip(refs, opened, strict=True):
            if log is not None:
                logs[ref.task_id] = log
            if isinstance(source, ThesisError):
                unreadable.append((ref, Outcome(AnalysisStatus.FAILED, error=str(source))))
            else:
                runnable.append((ref, source))
        if unreadable:
            results.extend(await asyncio.to_thread(self._store_many, unreadable, 0.0))
        if not marked:
            await self._mark_running(
                [ref for ref, _ in runnable], {k: v.path for k, v in logs.items()}
            )

        def tee(line: str) -> None:
            for ref, _source in runnable:
                logs[ref.task_id].note(line)
            if sink is not None:
                sink(line)

        names = ", ".join(ref.label for ref, _ in runnable[:3])
        more = f" and {len(runnable) - 3} more" if len(runnable) > 3 else ""
        if runnable:
            tee(f"== {kind} ({', '.join(tools)}) on {names}{more}")
        try:
            scan = SecurityScan(self.settings, tee, profile=str(kind), jobs=self.tool_jobs)
            reports = await scan.run([s for _, s in runnable], tools)
        except asyncio.CancelledError:
            tee("!! cancelled")
            await asyncio.shield(self._cancelled([ref for ref, _ in runnable]))
            for log in logs.values():
                log.close()
            raise
        seconds = time.monotonic() - started
        outcomes = [
            (ref, security_outcome(tools, reports[source.root], kind)) for ref, source in runnable
        ]
        for result in await asyncio.to_thread(self._store_many, outcomes, seconds):
            results.append(result)
            verdict = _verdict(result)
            tee(verdict) if len(runnable) == 1 else logs[result.task_id].note(verdict)
        for log in logs.values():
            log.close()
        return results

    # --- storing --------------------------------------------------------------------------

    async def _mark_running(self, refs: list[TaskRef], logs: dict[str, Path]) -> None:
        """The analyses of `refs` running here from now, in one statement (a shared static
        run marks hundreds at once, right before its tools start)."""
        if not refs:
            return
        owner = current()
        table = analysis_tasks
        mark = (
            update(table)
            .where(table.c.id == bindparam("row"))
            .values(
                owner_host=owner.host,
                owner_pid=owner.pid,
                owner_start=owner.start,
                status=AnalysisStatus.RUNNING,
                heartbeat_at=bindparam("now"),
                started_at=bindparam("now"),
                completed_at=None,
                error_message=None,
                progress=0,
                log_path=func.coalesce(bindparam("log"), table.c.log_path),
            )
        )

        def write() -> None:
            now = utcnow()
            rows = [
                {
                    "row": ref.id,
                    "now": now,
                    "log": str(logs[ref.task_id]) if ref.task_id in logs else None,
                }
                for ref in refs
            ]
            with self.db.write_session() as session:
                session.execute(mark, rows)  # a deleted row matches nothing: skipped

        await asyncio.to_thread(write)

    async def _cancelled(self, refs: list[TaskRef]) -> None:
        def write() -> None:
            now = utcnow()
            with self.db.write_session() as session:
                for ref in refs:
                    task = session.get(AnalysisTask, ref.id)
                    if task is not None and task.status in UNFINISHED:
                        task.status = AnalysisStatus.CANCELLED
                        task.completed_at = now
                        task.error_message = self.cancel_reason

        await asyncio.to_thread(write)

    async def _finish(self, ref: TaskRef, outcome: Outcome, seconds: float) -> TaskResult:
        return await asyncio.to_thread(self._store, ref, outcome, seconds)

    def _store(self, ref: TaskRef, outcome: Outcome, seconds: float) -> TaskResult:
        return self._store_many([(ref, outcome)], seconds)[0]

    def _store_many(self, items: list[tuple[TaskRef, Outcome]], seconds: float) -> list[TaskResult]:
        """Each outcome's results file, then every row in one transaction (a shared static
        run ends hundreds of analyses at once: one commit, not one each)."""
        now = utcnow()
        written = [(ref, outcome, self._write_results(ref, outcome, seconds, now))
                   for ref, outcome in items]  # fmt: skip
        results = []
        stored: list[tuple[TaskRef, TaskResult]] = []
        with self.db.write_session() as session:
            ids = [ref.id for ref, _, _ in written]
            rows: dict[int, AnalysisTask] = {}
            for chunk in chunks(ids, 500):  # a query per 500, not one per analysis
                found = session.scalars(select(AnalysisTask).where(AnalysisTask.id.in_(chunk)))
                rows.update((task.id, task) for task in found)
            for ref, outcome, (summary, stored_path) in written:
                task = rows.get(ref.id)
                if task is None:  # deleted while it ran: the others are stored all the same
                    gone = f"the analysis {ref.task_id} was deleted while it ran"
                    results.append(TaskResult(
                        ref.task_id, ref.label, AnalysisStatus.FAILED, gone, summary, None
                    ))  # fmt: skip
                    continue
                task.status = outcome.status
                task.completed_at = now
                task.started_at = task.started_at or now
                task.progress = 100
                task.summary = summary
                task.results_path = stored_path
                task.error_message = outcome.error
                if outcome.typed_row is not None:
                    session.add(outcome.typed_row(ref, outcome, seconds))
                result = TaskResult(
                    ref.task_id, ref.label, outcome.status, outcome.error, summary, stored_path
                )
                stored.append((ref, result))
                results.append(result)
            if self.on_store is not None:
                session.flush()  # every row in one flush, not one per hook's statement
                for ref, result in stored:
                    self.on_store(session, ref, result, seconds)
        return results

    def _write_results(
        self, ref: TaskRef, outcome: Outcome, seconds: float, now: datetime
    ) -> tuple[dict[str, Any], str | None]:
        """The outcome's results file (its summary, and where it is; None when it could not
        be written, and then the outcome failed saying why)."""
        findings = sort_findings(outcome.findings)
        summary = redact_value(dict(outcome.summary))
        outcome.error = redact(outcome.error) if outcome.error else outcome.error
        if ref.task_type in STATIC:
            summary = {
                "total_findings": len(findings),
                **count_severities(findings),
                "by_tool": count_tools(findings),
                **summary,
            }
        path = results_path(self.settings.results_dir, ref.model_slug, ref.app_number, ref.task_id)
        document = {
            "task_id": ref.task_id,
            "analysis_type": str(ref.task_type),
            "model_slug": ref.model_slug,
            "app_number": ref.app_number,
            "content_hash": ref.content_hash,
            "status": str(outcome.status),
            "error": outcome.error,
            "completed_at": now.isoformat(),
            "duration_seconds": round(seconds, 3),
            "config": ref.config,
            "summary": summary,
            "tools": outcome.tools,
            "metrics": outcome.metrics,
            "findings": [finding.as_dict() for finding in findings],
        }
        try:
            write_results(path, document)
        except ThesisError as exc:
            outcome.status, outcome.error = AnalysisStatus.FAILED, str(exc)
            return summary, None
        return summary, str(path)


def _path(value: str | None) -> Path | None:
    return Path(value) if value else None


def _sources_of(refs: list[TaskRef]) -> list[Source | ThesisError]:
    """Each ref's source (or why it cannot be read), in one thread hop for a whole run."""
    sources: list[Source | ThesisError] = []
    for ref in refs:
        try:
            sources.append(_source_of(ref))
        except ThesisError as exc:
            sources.append(exc)
    return sources


def _source_of(ref: TaskRef) -> Source:
    if ref.source_path is None or not ref.source_path.is_dir():
        raise ThesisError(f"{ref.label}: the app's folder {ref.source_path} is not on disk")
    source = collect_source(ref.source_path)
    if source.empty:
        raise ThesisError(
            f"{ref.label}: no source to analyse (no .py, .js/.jsx, requirements*.txt "
            "or package.json files)"
        )
    return source


def security_outcome(
    tools: tuple[str, ...],
    reports: list[ToolReport],
    kind: AnalysisType = AnalysisType.SECURITY,
) -> Outcome:
    """Findings of every tool that ran; the task fails when a tool failed (not skipped)."""
    findings = [finding for report in reports for finding in report.findings]
    failed = [report for report in reports if report.status == "failed"]
    outcome = Outcome(
        status=AnalysisStatus.FAILED if failed else AnalysisStatus.COMPLETED,
        error="; ".join(f"{r.tool}: {r.reason}" for r in failed) or None,
        findings=findings,
        tools={report.tool: report.as_dict() for report in reports},
    )
    outcome.summary = {
        "tools": {r.tool: r.status if r.status == "ok" else f"{r.status}: {r.reason}"
                  for r in reports}
    }  # fmt: skip

    def typed_row(ref: TaskRef, result: Outcome, seconds: float) -> SecurityAnalysis:
        counts = count_severities(findings)
        return SecurityAnalysis(
            application_id=ref.application_id,
            analysis_task_id=ref.id,
            status=result.status,
            enabled_tools=list(tools),
            results={"tools": result.tools, "summary": result.summary},
            execution_time=seconds,
            error_message=result.error,
            completed_at=utcnow(),
            issues_found=len(findings),
            critical_count=counts["critical"],
            high_count=counts["high"],
            medium_count=counts["medium"],
            low_count=counts["low"],
            info_count=counts["info"],
            **{flag: tool in tools for tool, flag in TOOL_FLAGS.items()},
        )

    # Quality has no typed table (the seeds define none): its row and results file hold it.
    outcome.typed_row = typed_row if kind == AnalysisType.SECURITY else None
    return outcome


def _verdict(result: TaskResult) -> str:
    if result.status == AnalysisStatus.COMPLETED:
        return f"ok: {result.label} completed: {describe_summary(result.summary)}"
    return f"!! {result.label} {result.status}: {result.error}"
