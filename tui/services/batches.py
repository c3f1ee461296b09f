"""Batch jobs: the listings, a job's counts and log, and ending jobs that have no open task.

On the Core tables (no ORM loaded for them)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Connection, case, func, select, update

from tui.db import Database
from tui.db.tables import (
    JobPriority,
    JobStatus,
    TaskStatus,
    analysis_tasks,
    batch_jobs,
    batch_tasks,
    model_usage,
    workers,
)
from tui.db.types import utcnow
from tui.errors import NotFoundError
from tui.services.analyses import follow_file
from tui.services.common import DEFAULT_LIMIT, Page, apply_sort, count_and_page, search_clause


@dataclass(frozen=True)
class BatchJobRow:
    id: int
    name: str
    status: str
    priority: str
    progress: int
    total: int
    completed: int
    failed: int
    created_at: datetime
    running: int = 0
    skipped: int = 0
    reused: int = 0
    cancelled: int = 0
    pending: int = 0
    started_at: datetime | None = None
    completed_at: datetime | None = None
    one_off: bool = False
    description: str | None = None
    log_path: str | None = None


ACTIVE = (JobStatus.PENDING, JobStatus.RUNNING)
"""Jobs whose pending tasks may be claimed."""
OPEN = (TaskStatus.PENDING, TaskStatus.RUNNING)
"""Tasks that have not ended."""

PRIORITY_RANK = {priority: rank for rank, priority in enumerate(JobPriority)}
"""low < normal < high < urgent, as the enum lists them (not as the words sort)."""


def priority_rank(column: ColumnElement[Any]) -> ColumnElement[int]:
    """The priority as a number, so sorting by it ranks urgent above high."""
    return case({str(p): rank for p, rank in PRIORITY_RANK.items()}, value=column, else_=-1)


def _live_progress() -> ColumnElement[Any]:
    """A job's share of ended tasks now (the stored `progress` is written when it ends)."""
    t, j = batch_tasks.c, batch_jobs.c
    ended = (
        select(func.count())
        .where(t.job_id == j.id, t.status.not_in(OPEN))
        .correlate(batch_jobs)
        .scalar_subquery()
    )
    total = select(func.count()).where(t.job_id == j.id).correlate(batch_jobs).scalar_subquery()
    return ended * 100.0 / func.nullif(total, 0)


def list_jobs(
    db: Database,
    *,
    search: str | None = None,
    sort: str | None = None,
    descending: bool = False,
    limit: int = DEFAULT_LIMIT,
    count: bool = True,
    include_one_off: bool = False,
) -> Page[BatchJobRow]:
    """Batch jobs, newest first unless sorted."""
    j = batch_jobs.c
    statement = select(batch_jobs).order_by(j.created_at.desc(), j.id.desc())
    statement = apply_sort(
        statement,
        sort,
        descending,
        {
            "id": j.id,
            "name": j.name,
            "status": j.status,
            "priority": priority_rank(j.priority),
            "progress": _live_progress(),
            "failed": j.failed_tests,
            "created": j.created_at,
        },
        tiebreak=[j.id.desc()],
    )
    where = search_clause(search, [j.name, j.status, j.priority])
    if where is not None:
        statement = statement.where(where)
    if not include_one_off:
        statement = statement.where(j.one_off.is_(False))
    with db.read() as connection:
        jobs, total = count_and_page(connection, statement, limit, count)
    counts = progress(db, [job.id for job in jobs])
    return Page([job_row(job, counts.get(job.id, Progress())) for job in jobs], total)


def job_row(job: Any, done: Progress) -> BatchJobRow:
    """A job (a row of batch_jobs) with its tasks counted now (not the counters stored when
    it last ended)."""
    return BatchJobRow(
        id=job.id,
        name=job.name,
        status=str(job.status),
        priority=str(job.priority),
        progress=done.percent,
        total=done.total,
        completed=done.completed,
        failed=done.failed,
        created_at=job.created_at,
        running=done.running,
        skipped=done.skipped,
        reused=done.reused,
        cancelled=done.cancelled,
        pending=done.pending,
        started_at=job.started_at,
        completed_at=job.completed_at,
        one_off=bool(job.one_off),
        description=job.description,
        log_path=job.log_path,
    )


@dataclass(frozen=True)
class Progress:
    total: int = 0
    pending: int = 0
    running: int = 0
    completed: int = 0
    failed: int = 0
    skipped: int = 0
    cancelled: int = 0
    reused: int = 0

    @property
    def ended(self) -> int:
        return self.total - self.pending - self.running

    @property
    def percent(self) -> int:
        return 100 if not self.total else int(100 * self.ended / self.total)


def progress(db: Database, job_ids: Iterable[int]) -> dict[int, Progress]:
    """Each job's tasks counted by status, from the database (what every runner did)."""
    ids = list(set(job_ids))
    if not ids:
        return {}
    t = batch_tasks.c
    counted = _count_tasks(db, t.job_id, t.job_id.in_(ids))
    return {job_id: counted.get(job_id, Progress()) for job_id in ids}


def _count_tasks(db: Database, key: Any, where: Any) -> dict[Any, Progress]:
    """Tasks matching `where`, counted by status (and reused) for each value of `key`."""
    t = batch_tasks.c
    with db.read() as connection:
        rows = connection.execute(
            select(key, t.status, t.reused, func.count())
            .where(where)
            .group_by(key, t.status, t.reused)
        ).all()
    counts: dict[Any, dict[str, int]] = {}
    for value, status, reused, number in rows:
        bucket = counts.setdefault(value, {})
        bucket["total"] = bucket.get("total", 0) + number
        bucket[str(status)] = bucket.get(str(status), 0) + number
        if reused:
            bucket["reused"] = bucket.get("reused", 0) + number
    return {value: Progress(**values) for value, values in counts.items()}


@dataclass(frozen=True)
class BatchTaskRow:
    id: int
    job_id: int
    model: str
    app_number: int
    type: str
    status: str
    attempts: int
    reused: bool
    error: str | None
    seconds: float | None
    analysis_task_id: str | None
    started_at: datetime | None
    completed_at: datetime | None
    owner: str | None
    summary: dict[str, Any] | None = None
    """Its analysis's summary (finding counts, requests/s, …)."""
    worker: str | None = None
    """`name@host` of the worker that claimed it (running it, or ran it), when a worker did."""

    @property
    def runner(self) -> str | None:
        """Who runs or ran it: its worker, else the process holding it."""
        return self.worker or self.owner


def require_job(connection: Connection, job_id: int) -> None:
    """NotFoundError, pointing at `thesis batch list`, when there is no job `job_id`."""
    if connection.scalar(select(batch_jobs.c.id).where(batch_jobs.c.id == job_id)) is None:
        raise NotFoundError(f"No batch job {job_id}; see `thesis batch list`")


def job_calls(job_id: int) -> ColumnElement[bool]:
    """The `model_usage` rows a job paid for: the calls of every attempt of its tasks (a run
    killed or retried paid too), not those of analyses it reused. Its shown cost and its
    cost limit both count these."""
    a, t = analysis_tasks.c, batch_tasks.c
    attempts = select(a.id).where(a.batch_task_id.in_(select(t.id).where(t.job_id == job_id)))
    return model_usage.c.analysis_task_id.in_(attempts)


def get_job(db: Database, job_id: int) -> BatchJobRow:
    with db.read() as connection:
        job = connection.execute(select(batch_jobs).where(batch_jobs.c.id == job_id)).first()
    if job is None:
        raise NotFoundError(f"No batch job {job_id}; see `thesis batch list`")
    return job_row(job, progress(db, [job_id]).get(job_id, Progress()))


def job_spec(db: Database, job_id: int) -> dict[str, Any]:
    j = batch_jobs.c
    with db.read() as connection:
        config = connection.scalar(select(j.config).where(j.id == job_id))
    return dict(config or {})


def list_tasks(
    db: Database,
    job_id: int,
    *,
    status: str | None = None,
    search: str | None = None,
    sort: str | None = None,
    descending: bool = False,
    limit: int = DEFAULT_LIMIT,
    count: bool = True,
) -> Page[BatchTaskRow]:
    """A job's tasks: by model, app and type unless sorted; `search` over model, type,
    status and error."""
    t, a, w = batch_tasks.c, analysis_tasks.c, workers.c
    statement = (
        select(
            batch_tasks,
            a.task_id.label("analysis"),
            a.summary.label("analysis_summary"),
            w.name.label("worker_name"),
            w.host.label("worker_host"),
        )
        .outerjoin(analysis_tasks, a.id == t.analysis_task_id)
        .outerjoin(workers, w.id == t.worker_id)
        .where(t.job_id == job_id)
        .order_by(t.id)
    )
    statement = apply_sort(
        statement,
        sort,
        descending,
        {
            "model": t.model_name,
            "app": t.app_number,
            "type": t.test_type,
            "status": t.status,
            "attempts": t.attempts,
            "duration": t.actual_duration,
            "ended": t.completed_at,
        },
        tiebreak=[t.id],
    )
    if status:
        statement = statement.where(t.status == status)
    where = search_clause(search, [t.model_name, t.test_type, t.status, t.error_message])
    if where is not None:
        statement = statement.where(where)
    with db.read() as connection:
        rows, total = count_and_page(connection, statement, limit, count)
    return Page(
        [
            BatchTaskRow(
                id=task.id,
                job_id=task.job_id,
                model=task.model_name,
                app_number=task.app_number,
                type=str(task.test_type),
                status=str(task.status),
                attempts=task.attempts,
                reused=bool(task.reused),
                error=task.error_message,
                seconds=task.actual_duration,
                analysis_task_id=task.analysis,
                started_at=task.started_at,
                completed_at=task.completed_at,
                owner=f"{task.owner_pid}@{task.owner_host}" if task.owner_host else None,
                summary=dict(task.analysis_summary) if task.analysis_summary else None,
                worker=(f"{task.worker_name}@{task.worker_host}" if task.worker_name else None),
            )
            for task in rows
        ],
        total,
    )


def breakdown(db: Database, job_id: int, by: str) -> dict[str, Progress]:
    """A job's tasks counted by status per model (`by="model"`) or per type."""
    t = batch_tasks.c
    column = t.model_name if by == "model" else t.test_type
    counted = _count_tasks(db, column, t.job_id == job_id)
    return {str(key): done for key, done in sorted(counted.items(), key=lambda kv: str(kv[0]))}


def settle(db: Database, job_ids: Iterable[int]) -> list[int]:
    """End the jobs of `job_ids` that have no open task left: completed, or failed when a
    task failed. Returns the ids of the jobs it ended. A paused job whose running tasks
    have all ended has nothing left to resume: it ends too."""
    t, j = batch_tasks.c, batch_jobs.c
    endable = (*ACTIVE, JobStatus.PAUSED)
    wanted = list(set(job_ids))
    if not wanted:
        return []
    with db.read() as connection:  # most calls end nothing: look before taking the lock
        still_open = set(
            connection.scalars(
                select(t.job_id).where(t.job_id.in_(wanted), t.status.in_(OPEN)).distinct()
            )
        )
        active = set(
            connection.scalars(select(j.id).where(j.id.in_(wanted), j.status.in_(endable)))
        )
    candidates = sorted(active - still_open)
    if not candidates:
        return []
    ended: list[int] = []
    now = utcnow()
    with db.write() as connection:
        for job_id in candidates:
            counts = dict(
                connection.execute(
                    select(t.status, func.count()).where(t.job_id == job_id).group_by(t.status)
                ).all()
            )
            if any(counts.get(status) for status in OPEN):
                continue
            failed = counts.get(TaskStatus.FAILED, 0)
            done = counts.get(TaskStatus.COMPLETED, 0)
            total = sum(counts.values())
            changed = connection.execute(
                update(batch_jobs)
                .where(j.id == job_id, j.status.in_(endable))
                .values(
                    status=JobStatus.FAILED if failed else JobStatus.COMPLETED,
                    completed_at=now,
                    progress=100,
                    completed_tests=done,
                    failed_tests=failed,
                    total_tests=total,
                    error_message=f"{failed} task{'s' if failed != 1 else ''} failed"
                    if failed
                    else None,
                )
            ).rowcount
            if changed:
                ended.append(job_id)
    return ended


def follow_job_log(
    db: Database,
    job_id: int,
    *,
    stopped: Callable[[], bool] = lambda: False,
    poll: float = 0.2,
) -> Iterator[list[str]]:
    """Batches of a job's log lines (one per ended task, from every runner), followed while
    the job is open."""

    def state() -> tuple[bool, str | None]:
        j = batch_jobs.c
        with db.read() as connection:
            row = connection.execute(select(j.status, j.log_path).where(j.id == job_id)).first()
        if row is None:
            raise NotFoundError(f"No batch job {job_id}")
        return row.status in (*ACTIVE, JobStatus.PAUSED), row.log_path

    yield from follow_file(state, stopped=stopped, poll=poll,
                           no_file="(no task of this job has ended yet)")  # fmt: skip


def orphaned_jobs(db: Database) -> list[int]:
    """Studies (not one-off runs) pending or running, with pending tasks and none running
    anywhere: nobody runs them (their runner was killed and its tasks re-queued, or none was
    ever started)."""
    t, j = batch_tasks.c, batch_jobs.c
    running = select(t.id).where(t.job_id == j.id, t.status == TaskStatus.RUNNING).exists()
    pending = select(t.id).where(t.job_id == j.id, t.status == TaskStatus.PENDING).exists()
    with db.read() as connection:
        return list(
            connection.scalars(
                select(j.id)
                .where(j.status.in_(ACTIVE), j.one_off.is_(False), pending, ~running)
                .order_by(j.id)
            )
        )
