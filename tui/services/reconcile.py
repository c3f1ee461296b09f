"""What a process killed mid-work left behind, put right when any `thesis` starts.

A killed process (kill -9, a lost SSH session, a reboot) cannot mark its rows: analyses stay
`pending`/`running` and an app stays `building`. Each such row names its owner (see
owner.py). At every start, rows whose owner is gone end:
- an analysis `failed` with "interrupted: process N on HOST ended" (or, for an owner on
  another host, "stopped answering" once its heartbeat is older than the timeout);
- an app `building` goes back to `not_created`, which the next status sync with Docker
  turns into what Docker shows; its status_detail says the build was interrupted;
- a batch task a dead runner held goes back to pending (`_requeue_batch_tasks`), and an
  "analyse now" job whose asking process died before a runner claimed it ends
  (`_end_unclaimed_one_offs`);
- a runner of this machine that was killed is marked stopped in `workers` once its
  heartbeat is old (`workers.stop_gone`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select, update

from tui.config import Settings
from tui.db import Database
from tui.db.models import (
    UNFINISHED,
    AnalysisStatus,
    AnalysisTask,
    AppStatus,
    BatchJob,
    BatchTask,
    GeneratedApplication,
    TaskStatus,
)
from tui.db.types import utcnow
from tui.services.batches import settle
from tui.services.owner import Owner, owner_of
from tui.services.workers import stop_gone


@dataclass(frozen=True)
class ReconcileReport:
    analyses: int = 0
    builds: int = 0
    requeued: int = 0
    """Batch tasks of a dead runner put back in the queue (or failed after their attempts)."""

    def summary(self) -> str:
        """One line for a user, or "" when nothing was interrupted."""
        parts = []
        if self.analyses:
            parts.append(
                f"{self.analyses} interrupted {'analysis' if self.analyses == 1 else 'analyses'}"
                " marked failed (see `thesis analyses list`)"
            )
        if self.builds:
            parts.append(
                f"{self.builds} interrupted {'build' if self.builds == 1 else 'builds'} reset"
            )
        if self.requeued:
            parts.append(
                f"{self.requeued} batch {'task' if self.requeued == 1 else 'tasks'} of a stopped "
                "runner queued again (`thesis batch run` goes on)"
            )
        return "; ".join(parts)


def _gone(owner: Owner, heartbeat, stale_before) -> str | None:
    """Why `owner` no longer works on its row, or None while it may."""
    if owner.is_local():  # this process included: it is alive
        return None if owner.alive() else f"{owner.describe()} ended"
    if heartbeat is None or heartbeat < stale_before:
        seen = heartbeat.strftime("%Y-%m-%d %H:%M:%S UTC") if heartbeat else "never"
        return f"{owner.describe()} stopped answering (last heartbeat {seen})"
    return None


def reconcile(db: Database, settings: Settings) -> ReconcileReport:
    """End the rows whose owner is gone; returns how many of each.

    A build says nothing while it runs, so one on another host counts as gone only after
    THESIS_BUILD_TIMEOUT on top of the heartbeat timeout."""
    now = utcnow()
    stale_before = now - timedelta(seconds=settings.heartbeat_timeout)
    build_stale_before = stale_before - timedelta(seconds=settings.build_timeout)
    t, g = AnalysisTask, GeneratedApplication
    with db.session() as session:
        tasks = session.execute(
            select(t.id, t.owner_host, t.owner_pid, t.owner_start, t.heartbeat_at).where(
                t.status.in_(UNFINISHED), t.owner_host.is_not(None)
            )
        ).all()
        builds = session.execute(
            select(g.id, g.owner_host, g.owner_pid, g.owner_start, g.heartbeat_at).where(
                g.status == AppStatus.BUILDING
            )
        ).all()
    ended_tasks = {}
    for row in tasks:
        owner = owner_of(row.owner_host, row.owner_pid, row.owner_start)
        why = owner and _gone(owner, row.heartbeat_at, stale_before)
        if why:
            ended_tasks[row.id] = f"interrupted: {why}"
    ended_builds = {}
    for row in builds:
        owner = owner_of(row.owner_host, row.owner_pid, row.owner_start)
        why = _gone(owner, row.heartbeat_at, build_stale_before) if owner else "no process owns it"
        if why:
            ended_builds[row.id] = f"build interrupted: {why}"
    requeued = _requeue_batch_tasks(db, stale_before)
    _end_unclaimed_one_offs(db)
    stop_gone(db, settings.heartbeat_timeout)
    if not ended_tasks and not ended_builds:
        return ReconcileReport(requeued=requeued)
    with db.write_session() as session:
        for task_id, message in ended_tasks.items():
            # Guarded by the status: a task that ended meanwhile keeps its own ending.
            session.execute(
                update(t)
                .where(t.id == task_id, t.status.in_(UNFINISHED))
                .values(status=AnalysisStatus.FAILED, error_message=message, completed_at=now)
            )
        for app_id, message in ended_builds.items():
            session.execute(
                update(g)
                .where(g.id == app_id, g.status == AppStatus.BUILDING)
                .values(
                    status=AppStatus.NOT_CREATED,
                    status_detail=message,
                    owner_host=None,
                    owner_pid=None,
                    owner_start=None,
                    updated_at=now,
                )
            )
    return ReconcileReport(analyses=len(ended_tasks), builds=len(ended_builds), requeued=requeued)


def _requeue_batch_tasks(db: Database, stale_before) -> int:
    """Running batch tasks whose runner is gone go back to pending, as a new attempt next
    time. A runner killed while it held many tasks says nothing of any one of them (a kill,
    a reboot): they are all queued again. A task interrupted max_attempts times runs alone
    (store.claim), and if its runner dies while it holds only that task, the task fails:
    one that kills its runner every time (a tool eating all memory) does not loop for ever."""
    b, j = BatchTask, BatchJob
    with db.session() as session:
        rows = session.execute(
            select(b.id, b.job_id, b.attempts, b.owner_host, b.owner_pid, b.owner_start,
                   b.heartbeat_at, j.config, j.one_off)
            .join(j, j.id == b.job_id)
            .where(b.status == TaskStatus.RUNNING)
        ).all()  # fmt: skip
    held: dict[tuple[str | None, int | None, str | None], int] = {}
    for row in rows:
        key = (row.owner_host, row.owner_pid, row.owner_start)
        held[key] = held.get(key, 0) + 1
    gone = {}
    one_off_jobs: set[int] = set()
    for row in rows:
        owner = owner_of(row.owner_host, row.owner_pid, row.owner_start)
        why = _gone(owner, row.heartbeat_at, stale_before) if owner else "no runner holds it"
        if why:
            limit = int((row.config or {}).get("max_attempts") or 3)
            # An "analyse now" is not run again later: it ends, as a dead `thesis analyze`'s.
            alone = held[(row.owner_host, row.owner_pid, row.owner_start)] == 1
            exhausted = alone and row.attempts > limit
            gone[row.id] = (why, exhausted, limit, bool(row.one_off))
            if row.one_off:
                one_off_jobs.add(row.job_id)
    if not gone:
        return 0
    now = utcnow()
    with db.write_session() as session:
        for task_id, (why, exhausted, limit, one_off) in gone.items():
            owner_free = {"owner_host": None, "owner_pid": None, "owner_start": None}
            if one_off:
                values = {
                    "status": TaskStatus.FAILED,
                    "completed_at": now,
                    "error_message": f"interrupted: {why}",
                }
            elif exhausted:
                values = {
                    "status": TaskStatus.FAILED,
                    "completed_at": now,
                    "error_message": f"its runner died each time it ran ({limit} times with "
                    f"other tasks, then alone); last: {why}",
                }
            else:
                values = {
                    "status": TaskStatus.PENDING,
                    "error_message": f"interrupted: {why}; queued again",
                }
            # Guarded by the status: a task that ended meanwhile keeps its ending.
            session.execute(
                update(b).where(b.id == task_id, b.status == TaskStatus.RUNNING)
                .values(**values, **owner_free)
            )  # fmt: skip
        if one_off_jobs:  # the rest of a dead "analyse now" will not run either
            session.execute(
                update(b)
                .where(b.job_id.in_(one_off_jobs), b.status == TaskStatus.PENDING)
                .values(status=TaskStatus.CANCELLED, completed_at=now,
                        error_message="not run: the run it belonged to was interrupted")
            )  # fmt: skip
    settle(db, one_off_jobs)
    return len(gone)


def _end_unclaimed_one_offs(db: Database) -> set[int]:
    """One-off jobs whose asking process (on this host) died before any of their tasks was
    claimed: their pending tasks fail as interrupted, as a dead `thesis analyze`'s running
    ones do. A process on another host is not judged from here (it has no heartbeat while
    it waits for a free slot); a job with a running task is its runner's to end."""
    b, j = BatchTask, BatchJob
    with db.session() as session:
        rows = session.execute(
            select(j.id, j.owner_host, j.owner_pid, j.owner_start).where(
                j.one_off.is_(True),
                j.owner_host.is_not(None),
                j.id.in_(select(b.job_id).where(b.status == TaskStatus.PENDING)),
                j.id.not_in(select(b.job_id).where(b.status == TaskStatus.RUNNING)),
            )
        ).all()
    dead: dict[int, str] = {}
    for row in rows:
        owner = owner_of(row.owner_host, row.owner_pid, row.owner_start)
        if owner is not None and owner.is_local() and not owner.alive():
            dead[row.id] = f"interrupted: {owner.describe()} ended before its run began"
    if not dead:
        return set()
    now = utcnow()
    with db.write_session() as session:
        for job_id, message in dead.items():
            session.execute(
                update(b)
                .where(b.job_id == job_id, b.status == TaskStatus.PENDING)
                .values(status=TaskStatus.FAILED, completed_at=now, error_message=message)
            )
    settle(db, dead)
    return set(dead)
