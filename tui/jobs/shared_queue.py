"""The queue several machines share, on PostgreSQL: procrastinate's.

Every batch task that waits to run has a token in `procrastinate_jobs` — `{"task": id}` on
the queue `job<J>.<type>`, with its job's priority and, for the types that need the app up,
a lock per app (migration 0010's trigger makes it whenever a task becomes pending: planned,
queued again after its runner died, retried). A runner takes the most urgent token of the
jobs it runs with procrastinate's fetch (`FOR UPDATE SKIP LOCKED`: no two runners get one
token) and, in the same transaction, holds its task in our tables; the token stays `doing`
while the task runs, so procrastinate's app lock keeps a second task of that app from
starting anywhere, and goes when the task ends. A runner registers as a procrastinate worker
and beats its heartbeat; the tokens of a worker that stopped beating are stalled, and any
runner ends them (our reconcile puts their tasks back, which makes new tokens).

Our tables stay the record: a token whose task no longer waits (cancelled, skipped by a cost
limit) is dropped when fetched. Procrastinate's queries are run as
procrastinate ships them (`procrastinate.sql.queries`), on our own connections: the same
pool, search_path and transaction as the task they hand out.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from sqlalchemy import BigInteger, Column, MetaData, String, Table, and_, cast, or_, select
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.exc import DBAPIError

from tui.db import Database
from tui.db.models import AnalysisType, TaskStatus
from tui.db.tables import batch_tasks, generated_applications, workers
from tui.db.types import utcnow
from tui.errors import ThesisError
from tui.jobs import store
from tui.jobs.queue import SqlQueue
from tui.jobs.store import Claimed
from tui.services.owner import Owner

TASK_NAME = "thesis.batch_task"
"""The procrastinate task name of our tokens (migration 0010)."""

_procrastinate = MetaData()
tokens = Table(
    "procrastinate_jobs",
    _procrastinate,
    Column("id", BigInteger, primary_key=True),
    Column("queue_name", String(128)),
    Column("task_name", String(128)),
    Column("status", String(32)),
    Column("args", JSONB),
    Column("worker_id", BigInteger),
)
"""The columns of procrastinate's job table we read (never write: its functions do)."""
workers_of_procrastinate = Table(
    "procrastinate_workers", _procrastinate, Column("id", BigInteger, primary_key=True)
)


def queue_name(job_id: int, kind: AnalysisType | str) -> str:
    return f"job{job_id}.{kind}"


def _queries() -> dict[str, str]:
    from procrastinate.sql import queries

    return queries


class ProcrastinateQueue(SqlQueue):
    """The Queue of queue.py over procrastinate's tokens; the rest (heartbeats of our tasks,
    cancels, reuse, counts) is SqlQueue's, on the same tables."""

    def __init__(
        self,
        db: Database,
        owner: Owner,
        *,
        worker_id: int | None = None,
        stall_seconds: float = 60.0,
        engine: str = "",
    ) -> None:
        super().__init__(db, owner, worker_id=worker_id)
        self.stall_seconds = stall_seconds
        self.engine = engine
        """The Docker engine this runner starts apps on (docker_engine.engine_id): the tasks
        of an app running there come to it on `<queue>@<engine>`."""
        self._tokens: dict[int, int] = {}
        """Each task we hold -> its token (doing, until the task ends)."""
        self._lock = threading.Lock()

    # --- the procrastinate worker ----------------------------------------------------------

    def register(self) -> int:
        """Register as a procrastinate worker (once); its id."""
        if self.procrastinate_id is None:
            with self.db.write() as connection:
                self.procrastinate_id = int(
                    connection.exec_driver_sql(_queries()["register_worker"]).scalar_one()
                )
        return self.procrastinate_id

    def close(self) -> None:
        """Unregister: the tokens still held (none, after a clean stop) become stalled."""
        if self.procrastinate_id is None:
            return
        with contextlib.suppress(ThesisError, DBAPIError), self.db.write() as connection:
            connection.exec_driver_sql(
                _queries()["unregister_worker"], {"worker_id": self.procrastinate_id}
            )
        self.procrastinate_id = None

    def heartbeat(self, ids: list[int]) -> None:
        with self.db.write() as connection:
            worker = self.register()
            connection.exec_driver_sql(_queries()["update_heartbeat"], {"worker_id": worker})
            gone = (
                connection.scalar(
                    select(workers_of_procrastinate.c.id).where(
                        workers_of_procrastinate.c.id == worker
                    )
                )
                is None
            )
        if gone:  # pruned as stalled (this machine slept, or lost the database a while)
            self.procrastinate_id = None
            self.register()
        super().heartbeat(ids)
        self.end_stalled()

    def end_stalled(self) -> int:
        """End the tokens of workers that stopped beating (their lock on an app goes with
        them) once their tasks no longer run; prune those workers. How many ended."""
        queries = _queries()
        with self.db.write() as connection:
            connection.exec_driver_sql(
                queries["prune_stalled_workers"], {"seconds_since_heartbeat": self.stall_seconds}
            )
            stalled = connection.exec_driver_sql(
                queries["select_stalled_jobs_by_heartbeat"],
                {"queue": None, "task_name": TASK_NAME,
                 "seconds_since_heartbeat": self.stall_seconds},
            ).mappings().all()  # fmt: skip
            ended = 0
            for token in stalled:
                task = _task_of(token["args"])
                running = task is not None and connection.scalar(
                    select(batch_tasks.c.id).where(
                        batch_tasks.c.id == task, batch_tasks.c.status == TaskStatus.RUNNING
                    )
                )
                if running:
                    continue  # our reconcile puts it back first (its runner is gone)
                ended += _end_token(connection, token["id"])
            self._rehome(connection)
        return ended

    def _rehome(self, connection: Any) -> None:
        """Tokens waiting for the worker of an engine (`<queue>@<engine>`) whose app no
        longer runs there, or that no live worker serves: back on their job's queue, for
        any worker (which starts the app where it is)."""
        waiting = connection.execute(
            select(tokens.c.id, tokens.c.queue_name, tokens.c.args).where(
                _ours("todo"), tokens.c.queue_name.contains("@")
            )
        ).all()
        if not waiting:
            return
        served = self._served(connection)
        for token in waiting:
            base, _, engine = token.queue_name.partition("@")
            app = _app_of(connection, _task_of(token.args))
            there = app is not None and app.status == "running" and app.docker_host == engine
            if not there or engine not in served:
                _send_to(connection, token.id, base)

    # --- claiming ---------------------------------------------------------------------------

    def claim(
        self,
        types: Iterable[AnalysisType],
        *,
        jobs: list[int] | None = None,
        per_app: bool = False,
        limit: int = 1,
    ) -> list[Claimed]:
        """The most urgent token of `types` in the claimable jobs and its task; with it, up
        to `limit` tokens of the same queue (a shared static run), or, `per_app`, the app's
        other pending tasks of `types` in that job (one unit while the app is up)."""
        kinds = list(types)
        open_jobs = self.active_jobs(jobs)  # a job with no token waiting just gives none
        queues = [queue_name(job, kind) for job in open_jobs for kind in kinds]
        queues += [f"{queue_name(job, kind)}@{self.engine}" for job in open_jobs
                   for kind in kinds if _needs_app(kind)]  # fmt: skip
        if not queues:
            return []
        worker = self.register()
        fetch = _queries()["fetch_job"]
        claimed: list[Claimed] = []
        wanted = 1 if per_app else max(1, limit)
        with self.db.write() as connection:
            while len(claimed) < wanted:
                token = connection.exec_driver_sql(
                    fetch, {"queues": queues, "worker_id": worker}
                ).mappings().one()  # fmt: skip
                if token["id"] is None:
                    break
                queues = [token["queue_name"]]  # the rest of a unit: its job and type
                task = _task_of(token["args"])
                elsewhere = self._placed_elsewhere(connection, token["queue_name"], task)
                if elsewhere is not None:  # its app runs on another engine: its worker's
                    _send_to(connection, token["id"], f"{token['queue_name']}@{elsewhere}")
                    break
                got = (
                    store.take(connection, self.owner, [task], worker_id=self.worker_id)
                    if task is not None
                    else []
                )
                if not got:
                    if self._not_taken(connection, token["id"], task):
                        break  # back in line: fetching again would hand it out again
                    continue
                claimed.extend(got)
                with self._lock:
                    self._tokens[got[0].id] = int(token["id"])
            if per_app and claimed and not claimed[0].runs_alone:
                claimed += self._rest_of_app(connection, claimed[0], kinds)
        return claimed

    def _rest_of_app(
        self, connection: Any, first: Claimed, kinds: list[AnalysisType]
    ) -> list[Claimed]:
        """The app's other pending tasks of `kinds` in the first one's job, held with it (as
        SqlQueue's claim does: an app's dynamic tasks run in one unit, while it is up once).
        They come under the first task's token, which — its lock on the app held until the
        last of them ends — keeps every other worker off the app; their own tokens end.
        (A task interrupted too often runs alone, as on SQLite: the caller checks.)"""
        ids = store.app_unit(connection, first.job_id, first.model, first.app_number, kinds)
        # The first is running already (taken in this transaction): `ids` are the others.
        got = store.take(connection, self.owner, ids, worker_id=self.worker_id)
        if not got:
            return []
        for token in _tokens_of(connection, "todo", [task.id for task in got]):
            _end_token(connection, token)
        with self._lock:
            for task in got:
                self._tokens[task.id] = self._tokens[first.id]
        return got

    def _placed_elsewhere(self, connection: Any, queue: str, task: int | None) -> str | None:
        """The engine another live worker runs the app of `task` on, for a token of a type
        that needs the app up not yet placed; None when this runner may take it (the app is
        not running, runs on our engine, or no live worker serves its engine: then this one
        starts it here)."""
        kind = queue.partition(".")[2]
        if task is None or "@" in queue or not _needs_app(kind):
            return None
        where = _app_of(connection, task)
        if where is None or where.status != "running" or not where.docker_host:
            return None
        if where.docker_host == self.engine:
            return None
        return str(where.docker_host) if where.docker_host in self._served(connection) else None

    def _served(self, connection: Any) -> set[str]:
        """The engines a live worker (not stopped, heartbeat within the stall time) uses."""
        w = workers.c
        fresh = utcnow() - timedelta(seconds=self.stall_seconds)
        return set(connection.scalars(
            select(w.docker_host).where(w.stopped_at.is_(None), w.heartbeat_at >= fresh)
        ).all())  # fmt: skip

    def _not_taken(self, connection: Any, token: int, task: int | None) -> bool:
        """A token whose task could not be held: back in line if its task still waits (its
        job was paused just now; True), else dropped."""
        waits = task is not None and connection.scalar(
            select(batch_tasks.c.id).where(
                batch_tasks.c.id == task, batch_tasks.c.status == TaskStatus.PENDING
            )
        )
        if waits:
            _send_to(connection, token)
            return True
        _end_token(connection, token)
        return False

    # --- ending ---------------------------------------------------------------------------

    def _end_tokens(self, ids: Iterable[int], connection: Any = None) -> None:
        """End the tokens of the tasks `ids` once no task still held shares them (an app's
        unit: one token, its lock, for all its tasks)."""
        with self._lock:
            popped = {self._tokens.pop(task) for task in ids if task in self._tokens}
            ended = sorted(popped - set(self._tokens.values()))
        if not ended:
            return
        if connection is not None:
            for token in ended:
                _end_token(connection, token)
            return
        with contextlib.suppress(ThesisError, DBAPIError), self.db.write() as own:
            for token in ended:
                _end_token(own, token)

    def still_held(self, ids: list[int]) -> set[int]:
        held = super().still_held(ids)
        self._end_tokens(set(ids) - held)  # cancelled meanwhile: their runs stop here
        return held

    def finish(self, task_id: int, status: TaskStatus, **details: Any) -> bool:
        ended = super().finish(task_id, status, **details)
        self._end_tokens([task_id])
        return ended

    def finish_in(self, session: Any, task_id: int, status: TaskStatus, **details: Any) -> bool:
        ended = super().finish_in(session, task_id, status, **details)
        self._end_tokens([task_id], session.connection())
        return ended

    def release(self, ids: list[int], reason: str) -> int:
        released = super().release(ids, reason)  # back to pending: new tokens
        self._end_tokens(ids)
        return released

    def interrupt(self, ids: list[int], why: str) -> int:
        interrupted = super().interrupt(ids, why)  # back to pending: new tokens
        self._end_tokens(ids)
        with self.db.write() as connection:  # and those of a claim whose answer was lost
            mine = tokens.c.worker_id == self.procrastinate_id
            for token in _tokens_of(connection, "doing", ids, mine):
                _end_token(connection, token)
        return interrupted

    def cancel_held(self, ids: list[int], reason: str) -> int:
        cancelled = super().cancel_held(ids, reason)
        self._end_tokens(ids)
        return cancelled

    def settle(self, job_ids: Iterable[int]) -> list[int]:
        ended = super().settle(job_ids)
        if ended:
            drop_tokens(self.db, ended)
        return ended


def _ours(status: str) -> Any:
    """Our tokens (`thesis.batch_task`) in procrastinate's `status` (todo, doing: an enum
    of procrastinate's, compared as text)."""
    return and_(tokens.c.task_name == TASK_NAME, cast(tokens.c.status, String) == status)


def _tokens_of(connection: Any, status: str, task_ids: list[int], *where: Any) -> list[int]:
    """Our tokens in `status` of the tasks `task_ids` (and `where`)."""
    task = cast(tokens.c.args["task"].astext, BigInteger)
    return list(connection.scalars(
        select(tokens.c.id).where(_ours(status), task.in_(task_ids), *where)
    ).all())  # fmt: skip


def _app_of(connection: Any, task: int | None) -> Any:
    """The status and Docker engine of the app of batch task `task` (None: no such app)."""
    t, g = batch_tasks.c, generated_applications.c
    return connection.execute(
        select(g.status, g.docker_host)
        .join(batch_tasks, and_(t.model_name == g.model_slug, t.app_number == g.app_number))
        .where(t.id == task)
    ).first()


def _needs_app(kind: AnalysisType | str) -> bool:
    from tui.services.analysis.registry import KINDS

    try:
        return KINDS[AnalysisType(str(kind))].resource == "app"
    except ValueError:
        return False


def _send_to(connection: Any, token: int, queue: str | None = None) -> None:
    """Put a fetched token back in line, on `queue` or its own (procrastinate's retry)."""
    connection.exec_driver_sql(
        _queries()["retry_job"],
        {"job_id": token, "retry_at": None, "new_priority": None, "new_queue_name": queue,
         "new_lock": None},
    )  # fmt: skip


def _task_of(args: Any) -> int | None:
    task = args.get("task") if isinstance(args, dict) else None
    return task if isinstance(task, int) and not isinstance(task, bool) else None


REFUSED = "P0001"
"""The SQLSTATE of procrastinate's own refusals (plpgsql's RAISE): "Job was not found or not
in doing, todo or waiting status"."""


def _end_token(connection: Any, token: int) -> int:
    """Delete a token (todo or doing) through procrastinate's finish; 0 when it was gone
    already (another runner ended it): procrastinate refuses that, in a savepoint here. Any
    other error (the database gone) goes on up: swallowed, it would leave the transaction
    broken for the statements after it."""
    try:
        with connection.begin_nested():
            connection.exec_driver_sql(
                _queries()["finish_job"],
                {"job_id": token, "status": "aborted", "delete_job": True},
            )
    except DBAPIError as exc:
        if getattr(exc.orig, "sqlstate", None) != REFUSED:
            raise
        return 0
    return 1


def drop_tokens(db: Database, job_ids: Iterable[int]) -> int:
    """Drop the waiting tokens of jobs that ended (their cancelled or skipped tasks')."""
    patterns = [tokens.c.queue_name.like(f"job{job}.%") for job in job_ids]
    if not patterns:
        return 0
    with db.write() as connection:
        found = connection.scalars(select(tokens.c.id).where(_ours("todo"), or_(*patterns))).all()
        return sum(_end_token(connection, token) for token in found)
