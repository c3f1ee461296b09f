"""The runners of a study's tasks, each a row of `workers` (migration 0011) with its name,
host, heartbeat and what it runs: `thesis worker` processes on any machine of a lab, and
every other runner while it runs tasks (the TUI, `thesis batch run`, `thesis analyze`,
`thesis generate`; the engine registers them, named after their host, pid and kind).

A runner registers when it starts, beats its heartbeat while it runs and says when it
stopped; the rows stay (a study's history says who ran what), one per process: a process
that runs tasks again reopens its row. `batch_tasks.worker_id` names the runner that
claimed each task, so the listing counts what each runs now and how many it ended lately.
A runner killed on this machine is marked stopped by the next start's reconcile, once its
heartbeat is THESIS_HEARTBEAT_TIMEOUT old (until then it shows as `gone`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, insert, select, update

from tui.db import Database
from tui.db.tables import TaskStatus, batch_tasks, workers
from tui.db.types import utcnow
from tui.errors import ValidationError
from tui.services.owner import Owner

THROUGHPUT_MINUTES = 10
"""The window a worker's throughput is counted over."""

ENDED = (TaskStatus.COMPLETED, TaskStatus.FAILED)


@dataclass(frozen=True)
class WorkerRow:
    id: int
    name: str
    host: str
    pid: int
    docker_host: str | None
    types: list[str] | None
    concurrency: int | None
    started_at: datetime
    heartbeat_at: datetime | None
    stopped_at: datetime | None
    running: int
    """Tasks it holds now."""
    ended_lately: int
    """Tasks it ended (completed or failed) in the last THROUGHPUT_MINUTES."""
    process_start: str | None = None

    def state(self, now: datetime, timeout: float) -> str:
        """`running`, `stopped`, `gone` (its process on this machine is dead: killed) or
        `silent` (no heartbeat for `timeout` seconds: killed, or its machine or network
        gone)."""
        if self.stopped_at is not None:
            return "stopped"
        process = Owner(self.host, self.pid, self.process_start)
        if process.is_local() and not process.alive():
            return "gone"
        seen = self.heartbeat_at or self.started_at
        return "running" if (now - seen).total_seconds() <= timeout else "silent"

    @property
    def per_minute(self) -> float:
        return self.ended_lately / THROUGHPUT_MINUTES


def check_name(name: str) -> str:
    """A worker's name as given: printable, up to 100 characters; ValidationError else."""
    name = " ".join(name.split())
    if not name or len(name) > 100 or not name.isprintable():
        raise ValidationError("A worker's name is printable text of 1 to 100 characters")
    return name


def register_worker(
    db: Database,
    name: str,
    owner: Owner,
    *,
    types: list[str] | None,
    concurrency: int | None,
    docker_host: str | None,
) -> int:
    """The worker's id: a new row, or the row this same process had under this name (a TUI
    that runs tasks again), reopened."""
    w = workers.c
    row = {
        "name": check_name(name), "host": owner.host, "pid": owner.pid,
        "process_start": owner.start, "docker_host": docker_host or None, "types": types,
        "concurrency": concurrency, "started_at": utcnow(), "heartbeat_at": utcnow(),
    }  # fmt: skip
    started = w.process_start == owner.start if owner.start else w.process_start.is_(None)
    same = and_(w.name == row["name"], w.host == owner.host, w.pid == owner.pid, started)
    with db.write() as connection:
        before = connection.scalar(select(w.id).where(same).order_by(w.id.desc()).limit(1))
        if before is not None:
            connection.execute(
                update(workers).where(w.id == before)
                .values(**row, stopped_at=None, procrastinate_id=None)
            )  # fmt: skip
            return int(before)
        return int(connection.execute(insert(workers).values(**row)).inserted_primary_key[0])


def beat(db: Database, worker_id: int, procrastinate_id: int | None = None) -> None:
    """The runner is alive (and, on PostgreSQL, this is its procrastinate worker). A runner
    taken for gone that beats again is running again."""
    with db.write() as connection:
        connection.execute(
            update(workers)
            .where(workers.c.id == worker_id)
            .values(heartbeat_at=utcnow(), procrastinate_id=procrastinate_id, stopped_at=None)
        )


def mark_stopped(db: Database, worker_id: int) -> None:
    with db.write() as connection:
        connection.execute(
            update(workers).where(workers.c.id == worker_id).values(stopped_at=utcnow())
        )


def stop_gone(db: Database, timeout: float) -> int:
    """Mark stopped the runners of this machine whose process is dead and whose heartbeat is
    `timeout` seconds old (a kill -9, a reboot); how many. Those of other machines stay:
    their state says they are silent."""
    w = workers.c
    stale = utcnow() - timedelta(seconds=timeout)
    with db.read() as connection:
        rows = connection.execute(
            select(w.id, w.host, w.pid, w.process_start).where(
                w.stopped_at.is_(None), func.coalesce(w.heartbeat_at, w.started_at) < stale
            )
        ).all()
    dead = [
        row.id
        for row in rows
        if (owner := Owner(row.host, row.pid, row.process_start)).is_local() and not owner.alive()
    ]
    if dead:
        with db.write() as connection:
            connection.execute(
                update(workers)
                .where(w.id.in_(dead), w.stopped_at.is_(None))
                .values(stopped_at=utcnow())
            )
    return len(dead)


def list_workers(db: Database, *, everything: bool = False, limit: int = 200) -> list[WorkerRow]:
    """Workers, newest first: those not stopped (or, `everything`, the stopped ones too),
    each with what it runs now and how many tasks it ended lately."""
    w, t = workers.c, batch_tasks.c
    since = utcnow() - timedelta(minutes=THROUGHPUT_MINUTES)
    running = (
        select(t.worker_id, func.count().label("n"))
        .where(t.status == TaskStatus.RUNNING, t.worker_id.is_not(None))
        .group_by(t.worker_id)
        .subquery()
    )
    lately = (
        select(t.worker_id, func.count().label("n"))
        .where(t.status.in_(ENDED), t.worker_id.is_not(None), t.completed_at >= since)
        .group_by(t.worker_id)
        .subquery()
    )
    query = (
        select(workers, func.coalesce(running.c.n, 0).label("running"),
               func.coalesce(lately.c.n, 0).label("lately"))
        .outerjoin(running, running.c.worker_id == w.id)
        .outerjoin(lately, lately.c.worker_id == w.id)
        .order_by(w.id.desc())
        .limit(limit)
    )  # fmt: skip
    if not everything:
        query = query.where(w.stopped_at.is_(None))
    with db.read() as connection:
        rows = connection.execute(query).all()
    return [_row(row) for row in rows]


def _row(row: Any) -> WorkerRow:
    types = row.types if isinstance(row.types, list) else None
    return WorkerRow(
        id=row.id, name=row.name, host=row.host, pid=row.pid, docker_host=row.docker_host,
        types=[str(kind) for kind in types] if types is not None else None,
        concurrency=row.concurrency, started_at=row.started_at, heartbeat_at=row.heartbeat_at,
        stopped_at=row.stopped_at, running=int(row.running), ended_lately=int(row.lately),
        process_start=row.process_start,
    )  # fmt: skip
