"""The seam between the engine and where its tasks come from.

The engine claims, holds, ends and releases tasks only through a `Queue`. `SqlQueue` is the
queue in our own tables (store.py), shared by every runner on an SQLite file;
`ProcrastinateQueue` (shared_queue.py) is procrastinate's on PostgreSQL, for the machines of
a study, over the same tables. `engine.queue_for` picks one by the database.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Protocol

from tui.db import Database
from tui.db.models import AnalysisType, TaskStatus
from tui.jobs import store
from tui.jobs.store import Claimed
from tui.services.batches import settle
from tui.services.owner import Owner
from tui.services.workers import beat


class Queue(Protocol):
    """What a runner asks of the queue; every call may block (the engine runs it in a
    thread)."""

    owner: Owner
    worker_id: int | None

    def active_jobs(self, jobs: list[int] | None) -> list[int]: ...

    def claimable_jobs(self, jobs: list[int] | None) -> list[int]: ...

    def skip_over_cost(self, jobs: list[int] | None) -> list[tuple[int, str]]: ...

    def pending_by_type(self, jobs: list[int] | None) -> dict[str, int]: ...

    def claim(
        self,
        types: Iterable[AnalysisType],
        *,
        jobs: list[int] | None = None,
        per_app: bool = False,
        limit: int = 1,
    ) -> list[Claimed]: ...

    def heartbeat(self, ids: list[int]) -> None: ...

    def still_held(self, ids: list[int]) -> set[int]: ...

    def holding(self) -> set[int]: ...

    def link_attempts(self, session: Any, links: list[tuple[int, int, str | None]]) -> None: ...

    def reusable(self, keys: Iterable[str]) -> dict[str, tuple[int, str]]: ...

    def finish(self, task_id: int, status: TaskStatus, **details: Any) -> bool: ...

    def finish_in(self, session: Any, task_id: int, status: TaskStatus, **details: Any) -> bool: ...

    def release(self, ids: list[int], reason: str) -> int: ...

    def interrupt(self, ids: list[int], why: str) -> int: ...

    def cancel_held(self, ids: list[int], reason: str) -> int: ...

    def settle(self, job_ids: Iterable[int]) -> list[int]: ...

    def close(self) -> None: ...


class SqlQueue:
    """The queue in batch_tasks, shared by every runner on the database."""

    procrastinate_id: int | None = None
    """The runner's procrastinate worker (ProcrastinateQueue), said with its heartbeat."""

    def __init__(self, db: Database, owner: Owner, *, worker_id: int | None = None) -> None:
        self.db = db
        self.owner = owner
        self.worker_id = worker_id
        """The runner's workers row (batch_tasks.worker_id; the engine registers one when the
        runner did not)."""

    def active_jobs(self, jobs: list[int] | None) -> list[int]:
        return store.active_jobs(self.db, jobs)

    def claimable_jobs(self, jobs: list[int] | None) -> list[int]:
        return store.claimable_jobs(self.db, jobs)

    def skip_over_cost(self, jobs: list[int] | None) -> list[tuple[int, str]]:
        return store.skip_over_cost(self.db, jobs)

    def pending_by_type(self, jobs: list[int] | None) -> dict[str, int]:
        return store.pending_by_type(self.db, jobs)

    def claim(
        self,
        types: Iterable[AnalysisType],
        *,
        jobs: list[int] | None = None,
        per_app: bool = False,
        limit: int = 1,
    ) -> list[Claimed]:
        return store.claim(self.db, self.owner, types, jobs=jobs, per_app=per_app, limit=limit,
                           worker_id=self.worker_id)  # fmt: skip

    def heartbeat(self, ids: list[int]) -> None:
        """The runner and the tasks it holds (`ids`) are alive."""
        store.heartbeat(self.db, self.owner, ids)
        if self.worker_id is not None:
            beat(self.db, self.worker_id, self.procrastinate_id)

    def holding(self) -> set[int]:
        return store.holding(self.db, self.owner)

    def still_held(self, ids: list[int]) -> set[int]:
        return store.still_held(self.db, self.owner, ids)

    def link_attempts(self, session: Any, links: list[tuple[int, int, str | None]]) -> None:
        store.link_attempts(session, self.owner, links)

    def reusable(self, keys: Iterable[str]) -> dict[str, tuple[int, str]]:
        return store.reusable(self.db, keys)

    def finish(self, task_id: int, status: TaskStatus, **details: Any) -> bool:
        return store.finish(self.db, self.owner, task_id, status, **details)

    def finish_in(self, session: Any, task_id: int, status: TaskStatus, **details: Any) -> bool:
        return store.finish_in(session, self.owner, task_id, status, **details)

    def release(self, ids: list[int], reason: str) -> int:
        return store.release(self.db, self.owner, ids, reason)

    def interrupt(self, ids: list[int], why: str) -> int:
        return store.interrupt(self.db, self.owner, ids, why)

    def cancel_held(self, ids: list[int], reason: str) -> int:
        return store.cancel_held(self.db, self.owner, ids, reason)

    def settle(self, job_ids: Iterable[int]) -> list[int]:
        return settle(self.db, job_ids)

    def close(self) -> None:
        """Nothing to give back: our tables hold no registration."""
