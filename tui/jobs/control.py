"""Pause, resume, cancel and retry: requests written in the database.

Whichever process runs a job's tasks (the TUI, `thesis batch run` in another terminal)
reads them within a second: a paused job has no task claimed, a cancelled task is no longer
held by its runner, which then kills its tools and stops what it started. Each request is
one conditional UPDATE, so two users pressing keys at once cannot leave a job half-changed.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select, update

from tui.db import Database
from tui.db.tables import JobStatus, TaskStatus, analysis_tasks, batch_jobs, batch_tasks
from tui.db.types import utcnow
from tui.errors import NotFoundError, ValidationError
from tui.services.batches import ACTIVE, OPEN, settle


@dataclass(frozen=True)
class Changed:
    job_id: int
    status: str
    tasks: int = 0
    """How many tasks the request changed (cancelled, re-queued)."""


def _status(connection, job_id: int) -> JobStatus:
    status = connection.scalar(select(batch_jobs.c.status).where(batch_jobs.c.id == job_id))
    if status is None:
        raise NotFoundError(f"No batch job {job_id}; see `thesis batch list`")
    return JobStatus(status)


def pause(db: Database, job_id: int) -> Changed:
    """Claim no new task of the job; the running ones finish."""
    with db.write() as connection:
        status = _status(connection, job_id)
        if status not in ACTIVE:
            raise ValidationError(f"Job {job_id} is {status}: only a pending or running job pauses")
        connection.execute(
            update(batch_jobs)
            .where(batch_jobs.c.id == job_id, batch_jobs.c.status.in_(ACTIVE))
            .values(status=JobStatus.PAUSED)
        )
    return Changed(job_id, JobStatus.PAUSED)


def resume(db: Database, job_id: int) -> Changed:
    """A paused job's tasks may be claimed again (by any runner)."""
    with db.write() as connection:
        status = _status(connection, job_id)
        if status != JobStatus.PAUSED:
            raise ValidationError(f"Job {job_id} is {status}, not paused")
        connection.execute(
            update(batch_jobs)
            .where(batch_jobs.c.id == job_id, batch_jobs.c.status == JobStatus.PAUSED)
            .values(status=JobStatus.PENDING)
        )
    settle(db, [job_id])
    return Changed(job_id, JobStatus.PENDING)


def cancel(db: Database, job_id: int) -> Changed:
    """End the job: its pending tasks now, its running ones as their runner sees it (it
    kills their tools and stops the apps it started)."""
    now = utcnow()
    with db.write() as connection:
        status = _status(connection, job_id)
        if status in (JobStatus.COMPLETED, JobStatus.FAILED, JobStatus.CANCELLED):
            raise ValidationError(f"Job {job_id} has already ended ({status})")
        tasks = connection.execute(
            update(batch_tasks)
            .where(batch_tasks.c.job_id == job_id, batch_tasks.c.status.in_(OPEN))
            .values(status=TaskStatus.CANCELLED, completed_at=now,
                    error_message="cancelled by the user")
        ).rowcount  # fmt: skip
        connection.execute(
            update(batch_jobs)
            .where(batch_jobs.c.id == job_id)
            .values(status=JobStatus.CANCELLED, completed_at=now)
        )
    if db.dialect == "postgresql":  # its waiting tokens go; the runners end the running ones
        from tui.jobs.shared_queue import drop_tokens

        drop_tokens(db, [job_id])
    return Changed(job_id, JobStatus.CANCELLED, tasks)


def cancel_task(db: Database, task_id: int) -> bool:
    """Cancel one task (the Analyses screen's cancel of a running analysis)."""
    with db.write() as connection:
        job_id = connection.scalar(select(batch_tasks.c.job_id).where(batch_tasks.c.id == task_id))
        changed = connection.execute(
            update(batch_tasks)
            .where(batch_tasks.c.id == task_id, batch_tasks.c.status.in_(OPEN))
            .values(status=TaskStatus.CANCELLED, completed_at=utcnow(),
                    error_message="cancelled by the user")
        ).rowcount  # fmt: skip
    if changed and job_id is not None:
        settle(db, [job_id])
    return bool(changed)


def retry(db: Database, job_id: int, *, failed_only: bool = False) -> Changed:
    """Queue the job's failed tasks again (and its cancelled ones, unless `failed_only`)."""
    statuses = [TaskStatus.FAILED] if failed_only else [TaskStatus.FAILED, TaskStatus.CANCELLED]
    with db.write() as connection:
        status = _status(connection, job_id)
        if status == JobStatus.PAUSED:
            raise ValidationError(f"Job {job_id} is paused: resume it first")
        tasks = connection.execute(
            update(batch_tasks)
            .where(batch_tasks.c.job_id == job_id, batch_tasks.c.status.in_(statuses))
            .values(status=TaskStatus.PENDING, completed_at=None, error_message=None,
                    attempts=0, owner_host=None, owner_pid=None, owner_start=None)
        ).rowcount  # fmt: skip
        if not tasks:
            raise ValidationError(
                f"Job {job_id} has no {'failed' if failed_only else 'failed or cancelled'} "
                "task to retry"
            )
        connection.execute(
            update(batch_jobs)
            .where(batch_jobs.c.id == job_id)
            .values(status=JobStatus.PENDING, completed_at=None, error_message=None)
        )
    return Changed(job_id, JobStatus.PENDING, tasks)


@dataclass(frozen=True)
class RunOf:
    """The batch task that runs an analysis, and what cancelling it ends."""

    job_id: int
    task_id: int
    one_off: bool
    """An "analyse now": cancelling one analysis cancels the run it was started with."""
    open_tasks: int


def run_of(db: Database, analysis_task_id: str) -> RunOf | None:
    """The open batch task whose current attempt is `analysis_task_id`, or None (it ended,
    or no job runs it)."""
    t, j, a = batch_tasks.c, batch_jobs.c, analysis_tasks.c
    with db.read() as connection:
        row = connection.execute(
            select(t.id, t.job_id, j.one_off)
            .join(batch_jobs, j.id == t.job_id)
            .join(analysis_tasks, a.id == t.analysis_task_id)
            .where(a.task_id == analysis_task_id, t.status.in_(OPEN))
        ).first()
        if row is None:
            return None
        open_tasks = 1
        if row.one_off:
            open_tasks = connection.scalar(
                select(func.count()).where(t.job_id == row.job_id, t.status.in_(OPEN))
            )
    return RunOf(row.job_id, row.id, bool(row.one_off), int(open_tasks or 0))


def cancel_run(db: Database, run: RunOf) -> int:
    """Cancel what `run` names: its whole "analyse now" job, or its one task of a study."""
    if run.one_off:
        return cancel(db, run.job_id).tasks
    return int(cancel_task(db, run.task_id))
