"""All of the queue's SQL: claiming tasks, saying a runner is alive, ending tasks and jobs.

Every change of a task's status is a conditional UPDATE (`WHERE status = 'pending'` to claim,
`WHERE status = 'running' AND owner = me` to end), and a runner acts only on the rows its
UPDATE changed. That is what lets several runners (the TUI, `thesis batch run` in another
SSH session, on one SQLite file or one PostgreSQL) share a job without a task running twice,
and a control command (pause, cancel) win over a runner that is about to end a task.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.orm import Session

from tui.db import Database
from tui.db.models import (
    AnalysisStatus,
    AnalysisTask,
    AnalysisType,
    BatchJob,
    BatchTask,
    JobStatus,
    TaskStatus,
)
from tui.db.tables import UNFINISHED, batch_jobs, batch_tasks, model_usage
from tui.db.types import utcnow
from tui.services.batches import ACTIVE, job_calls, priority_rank
from tui.services.owner import Owner


@dataclass(frozen=True)
class Claimed:
    """A task this runner now holds."""

    id: int
    job_id: int
    model: str
    app_number: int
    type: AnalysisType
    config: dict[str, Any]
    attempts: int
    force: bool
    max_attempts: int
    one_off: bool = False
    """Of an "analyse now" job: stopping the runner ends it cancelled, not queued again."""

    @property
    def label(self) -> str:
        return f"{self.model} app {self.app_number} {self.type}"

    @property
    def runs_alone(self) -> bool:
        """Whether it must run in a unit of its own (`_alone`; `attempts` counts this one)."""
        return _alone(self.attempts - 1, self.max_attempts)


def _max_attempts(spec: dict[str, Any] | None) -> int:
    """A job's attempts per task before it runs alone (its spec's `max_attempts`)."""
    return int((spec or {}).get("max_attempts") or 3)


def _alone(attempts_before: int, max_attempts: int) -> bool:
    """Interrupted that often with others: a task runs alone now, so that if it is what
    kills its runner, only it is charged (reconcile.py fails it after that)."""
    return attempts_before >= max_attempts


def app_unit(
    executor: Any, job_id: int, model: str, app_number: int, kinds: list[Any]
) -> list[int]:
    """The pending tasks of `kinds` of one app in one job, by id: what a runner takes as one
    unit (the app's dynamic tasks, run while it is up)."""
    t = batch_tasks.c
    return list(executor.scalars(
        select(t.id).where(
            t.job_id == job_id, t.status == TaskStatus.PENDING, t.model_name == model,
            t.app_number == app_number, t.test_type.in_(kinds),
        ).order_by(t.id)
    ).all())  # fmt: skip


def _mine(owner: Owner) -> Any:
    """Held by `owner`; on the table's columns, so ORM and Core statements both take it."""
    t = batch_tasks.c
    return and_(t.owner_host == owner.host, t.owner_pid == owner.pid)


def claim(
    db: Database,
    owner: Owner,
    types: Iterable[AnalysisType],
    *,
    jobs: list[int] | None = None,
    per_app: bool = False,
    limit: int = 1,
    worker_id: int | None = None,
) -> list[Claimed]:
    """Claim the most urgent pending task of `types` and, with it, up to `limit` in all of
    its job and type (a shared static run) or, `per_app`, every pending task of `types` of
    its app in that job (the app's dynamic analyses, run while it is up)."""
    t, j = BatchTask, BatchJob
    kinds = list(types)
    where = [t.status == TaskStatus.PENDING, t.test_type.in_(kinds), j.status.in_(ACTIVE)]
    if jobs is not None:
        where.append(t.job_id.in_(jobs))
    candidate = (
        select(t.id, t.job_id, t.model_name, t.app_number, t.test_type, t.attempts, j.config)
        .join(j, j.id == t.job_id)
        .where(*where)
        .order_by(priority_rank(j.priority).desc(), j.id, t.id)
        .limit(1)
    )
    if db.dialect == "sqlite":  # SQLite's write lock is the whole file: look before taking it
        with db.session() as session:
            if session.execute(candidate).first() is None:
                return []
    with db.write_session() as session:
        first = session.execute(candidate).first()
        if first is None:
            return []
        if _alone(first.attempts, _max_attempts(first.config)):
            ids = [first.id]
        elif per_app:
            ids = app_unit(session, first.job_id, first.model_name, first.app_number, kinds)
        else:
            ids = list(session.scalars(
                select(t.id).where(
                    t.job_id == first.job_id, t.status == TaskStatus.PENDING,
                    t.test_type == first.test_type,
                ).order_by(t.id).limit(limit)
            ).all())  # fmt: skip
        return take(session, owner, ids, worker_id=worker_id)


def take(
    executor: Any, owner: Owner, ids: list[int], *, worker_id: int | None = None
) -> list[Claimed]:
    """Hold the tasks `ids` that are still pending in a claimable job (in the caller's
    transaction: `executor` is its session or connection), and start their jobs."""
    if not ids:
        return []
    # Core statements: the ORM's bookkeeping would cost more than the work here, and a
    # runner of short tasks claims many times a second.
    t, j, tasks, jobs_ = BatchTask, BatchJob, batch_tasks, batch_jobs
    now = utcnow()
    executor.execute(
        update(tasks)
        .where(
            tasks.c.id.in_(ids),
            tasks.c.status == TaskStatus.PENDING,
            tasks.c.job_id.in_(select(jobs_.c.id).where(jobs_.c.status.in_(ACTIVE))),
        )
        .values(
            status=TaskStatus.RUNNING,
            started_at=now,
            completed_at=None,
            heartbeat_at=now,
            attempts=tasks.c.attempts + 1,
            progress=0,
            worker_id=worker_id,
            **owner.columns(),
        )
    )
    rows = executor.execute(
        select(t.id, t.job_id, t.model_name, t.app_number, t.test_type, t.config,
               t.attempts, j.config.label("spec"), j.one_off)
        .join(j, j.id == t.job_id)
        .where(t.id.in_(ids), t.status == TaskStatus.RUNNING, _mine(owner))
        .order_by(t.id)
    ).all()  # fmt: skip
    started = sorted({row.job_id for row in rows})
    if started:
        executor.execute(
            update(jobs_)
            .where(jobs_.c.id.in_(started), jobs_.c.status == JobStatus.PENDING)
            .values(status=JobStatus.RUNNING, started_at=func.coalesce(jobs_.c.started_at, now))
        )
    return [
        Claimed(
            id=row.id,
            job_id=row.job_id,
            model=row.model_name,
            app_number=row.app_number,
            type=AnalysisType(row.test_type),
            config=dict(row.config or {}),
            attempts=row.attempts,
            force=bool((row.spec or {}).get("force")),
            max_attempts=_max_attempts(row.spec),
            one_off=bool(row.one_off),
        )
        for row in rows
    ]


def pending_by_type(db: Database, jobs: list[int] | None = None) -> dict[str, int]:
    """How many tasks of each type are pending in claimable jobs (one query: the engine
    asks before it claims, and claims only for a resource with work)."""
    t, j = BatchTask, BatchJob
    where = [t.status == TaskStatus.PENDING, j.status.in_(ACTIVE)]
    if jobs is not None:
        where.append(t.job_id.in_(jobs))
    with db.session() as session:
        rows = session.execute(
            select(t.test_type, func.count())
            .select_from(t)
            .join(j, j.id == t.job_id)
            .where(*where)
            .group_by(t.test_type)
        ).all()
    return {str(kind): number for kind, number in rows}


def heartbeat(db: Database, owner: Owner, ids: list[int]) -> None:
    if not ids:
        return
    t = BatchTask
    with db.write_session() as session:
        session.execute(
            update(t)
            .where(t.id.in_(ids), t.status == TaskStatus.RUNNING, _mine(owner))
            .values(heartbeat_at=utcnow())
        )


def holding(db: Database, owner: Owner) -> set[int]:
    """Every task this runner holds in the database (what it knows of or not: a claim whose
    commit went through while its answer was lost with the connection)."""
    t = BatchTask
    with db.session() as session:
        return set(
            session.scalars(select(t.id).where(t.status == TaskStatus.RUNNING, _mine(owner)))
        )


def still_held(db: Database, owner: Owner, ids: list[int]) -> set[int]:
    """Which of `ids` this runner still holds: a task cancelled meanwhile (by the user, or
    its job's cancel) is not, and its run must stop."""
    if not ids:
        return set()
    t = BatchTask
    with db.session() as session:
        return set(
            session.scalars(
                select(t.id).where(t.id.in_(ids), t.status == TaskStatus.RUNNING, _mine(owner))
            ).all()
        )


def link_attempts(session: Session, owner: Owner, links: list[tuple[int, int, str | None]]) -> None:
    """Each (task, analysis row, cache key): the analysis is the task's current attempt.
    Written in the caller's transaction, the one that stores the analysis rows."""
    t = BatchTask
    for task_id, analysis_id, key in links:
        session.execute(
            update(t)
            .where(t.id == task_id, _mine(owner))
            .values(analysis_task_id=analysis_id, cache_key=key)
        )
        session.execute(  # every attempt stays the task's: what the job spent counts it
            update(AnalysisTask).where(AnalysisTask.id == analysis_id).values(batch_task_id=task_id)
        )


def finish(db: Database, owner: Owner, task_id: int, status: TaskStatus, **details: Any) -> bool:
    """End a task this runner holds; False when it no longer held it (cancelled meanwhile)."""
    with db.write_session() as session:
        return finish_in(session, owner, task_id, status, **details)


def finish_in(
    session: Session,
    owner: Owner,
    task_id: int,
    status: TaskStatus,
    *,
    error: str | None = None,
    seconds: float | None = None,
    analysis_id: int | None = None,
    reused: bool = False,
    cache_key: str | None = None,
) -> bool:
    """`finish` in the caller's transaction: the one that stores the task's analysis. A
    Core statement: a shared static run ends hundreds of tasks in one transaction, and the
    ORM's bookkeeping for each would cost more than the update."""
    t = batch_tasks
    values: dict[str, Any] = {
        "status": status,
        "error_message": error,
        "completed_at": utcnow(),
        "progress": 100,
        "actual_duration": seconds,
        "reused": reused,
    }
    if analysis_id is not None:
        values["analysis_task_id"] = analysis_id
    if cache_key is not None:
        values["cache_key"] = cache_key
    changed = session.execute(
        update(t).where(t.c.id == task_id, t.c.status == TaskStatus.RUNNING, _mine(owner))
        .values(**values)
    ).rowcount  # fmt: skip
    return bool(changed)


def cancel_held(db: Database, owner: Owner, ids: list[int], reason: str) -> int:
    """Tasks this runner holds end cancelled (an "analyse now" whose runner stops)."""
    if not ids:
        return 0
    t = BatchTask
    with db.write_session() as session:
        return session.execute(
            update(t)
            .where(t.id.in_(ids), t.status == TaskStatus.RUNNING, _mine(owner))
            .values(status=TaskStatus.CANCELLED, error_message=reason, completed_at=utcnow())
        ).rowcount  # fmt: skip


def release(db: Database, owner: Owner, ids: list[int], reason: str) -> int:
    """Tasks this runner holds back to pending (the runner stops before they end): the next
    runner runs them again; the attempt is not counted. Returns how many."""
    if not ids:
        return 0
    t = BatchTask
    with db.write_session() as session:
        return session.execute(
            update(t)
            .where(t.id.in_(ids), t.status == TaskStatus.RUNNING, _mine(owner))
            .values(status=TaskStatus.PENDING, error_message=reason, owner_host=None,
                    owner_pid=None, owner_start=None, attempts=t.attempts - 1)
        ).rowcount  # fmt: skip


def interrupt(db: Database, owner: Owner, ids: list[int], why: str) -> int:
    """Tasks this runner holds whose run ended without a stored result (the database was
    unreachable when it ended): their analyses end failed with `why`, the tasks go back to
    pending, the attempt counted. Returns how many."""
    if not ids:
        return 0
    t, a = BatchTask, AnalysisTask
    with db.write_session() as session:
        session.execute(
            update(a)
            .where(a.batch_task_id.in_(ids), a.status.in_(UNFINISHED))
            .values(status=AnalysisStatus.FAILED, error_message=why, completed_at=utcnow())
        )
        return session.execute(
            update(t)
            .where(t.id.in_(ids), t.status == TaskStatus.RUNNING, _mine(owner))
            .values(status=TaskStatus.PENDING, error_message=f"{why}; queued again",
                    owner_host=None, owner_pid=None, owner_start=None)
        ).rowcount  # fmt: skip


def reusable(db: Database, keys: Iterable[str]) -> dict[str, tuple[int, str]]:
    """For each of `keys` that has one, the newest completed analysis stored under it whose
    results are on disk: key -> (id, task id). One query for a whole unit."""
    wanted = sorted(set(keys))
    if not wanted:
        return {}
    a = AnalysisTask
    with db.session() as session:
        rows = session.execute(
            select(a.cache_key, a.id, a.task_id, a.results_path)
            .where(a.cache_key.in_(wanted), a.status == AnalysisStatus.COMPLETED)
            .order_by(a.completed_at.desc(), a.id.desc())
        ).all()
    found: dict[str, tuple[int, str]] = {}
    for row in rows:
        if row.cache_key not in found and row.results_path and Path(row.results_path).is_file():
            found[row.cache_key] = (row.id, row.task_id)
    return found


def skip_over_cost(db: Database, jobs: list[int] | None = None) -> list[tuple[int, str]]:
    """Skip the pending tasks of every active job whose model calls have cost its `max_cost`
    (`batches.job_calls`: every attempt counted, as the job's shown cost); (job, why) of each.
    Its running tasks finish."""
    t, j, u = batch_tasks.c, batch_jobs.c, model_usage.c
    where = [j.status.in_(ACTIVE)]
    if jobs is not None:
        where.append(j.id.in_(jobs))
    over: list[tuple[int, str]] = []
    with db.read() as connection:  # looked at first: the write lock only when a job is over
        for job in connection.execute(select(j.id, j.config).where(*where)).all():
            limit = job.config.get("max_cost") if isinstance(job.config, dict) else None
            if not isinstance(limit, int | float) or isinstance(limit, bool) or limit <= 0:
                continue
            spent = float(connection.scalar(
                select(func.coalesce(func.sum(u.cost), 0.0)).where(job_calls(job.id))
            ) or 0.0)  # fmt: skip
            if spent >= float(limit):
                over.append((job.id, f"the job's cost limit of {float(limit):.4f} USD was "
                                     f"reached ({spent:.4f} spent)"))  # fmt: skip
    stopped = []
    for job_id, why in over:
        with db.write() as connection:
            skipped = connection.execute(
                update(batch_tasks)
                .where(t.job_id == job_id, t.status == TaskStatus.PENDING)
                .values(status=TaskStatus.SKIPPED, error_message=why, completed_at=utcnow())
            ).rowcount
        if skipped:
            stopped.append((job_id, why))
    return stopped


def claimable_jobs(db: Database, jobs: list[int] | None = None) -> list[int]:
    """Jobs with work a runner could take now (pending tasks, not paused or cancelled), or
    tasks still running under some runner."""
    t, j = BatchTask, BatchJob
    where = [
        j.status.in_(ACTIVE),
        or_(t.status == TaskStatus.PENDING, t.status == TaskStatus.RUNNING),
    ]
    if jobs is not None:
        where.append(j.id.in_(jobs))
    with db.session() as session:
        return list(
            session.scalars(select(j.id).join(t, t.job_id == j.id).where(*where).distinct())
        )


def active_jobs(db: Database, jobs: list[int] | None = None) -> list[int]:
    """Pending or running jobs (of `jobs`), whether or not a task of theirs is open."""
    j = BatchJob
    where = [j.status.in_(ACTIVE)] + ([j.id.in_(jobs)] if jobs is not None else [])
    with db.session() as session:
        return list(session.scalars(select(j.id).where(*where)))
