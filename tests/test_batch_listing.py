"""The batch jobs listing: priorities rank by meaning, not by spelling."""

from __future__ import annotations

from tui.db.models import BatchJob, JobPriority
from tui.services.batches import list_jobs


def test_sorting_by_priority_ranks_urgent_above_high(db) -> None:
    with db.write_session() as s:
        for name, priority in [("a", JobPriority.HIGH), ("b", JobPriority.URGENT),
                               ("c", JobPriority.LOW), ("d", JobPriority.NORMAL)]:  # fmt: skip
            s.add(BatchJob(name=name, priority=priority))
    ranked = [row.priority for row in list_jobs(db, sort="priority", descending=True).rows]
    assert ranked == ["urgent", "high", "normal", "low"]  # as words, "high" < "low" < "urgent"
    assert [r.priority for r in list_jobs(db, sort="priority").rows] == ranked[::-1]


def test_sorting_by_progress_counts_the_tasks_now(db) -> None:
    """A running job's stored progress is written when it ends: the sort counts its tasks."""
    from tui.db.models import BatchTask, TaskStatus

    with db.write_session() as s:
        for name, ended in [("half", 2), ("none", 0), ("all", 4)]:
            s.add(BatchJob(name=name, progress=0, tasks=[
                BatchTask(model_name="m", app_number=n, test_type="security",
                          status=TaskStatus.COMPLETED if n <= ended else TaskStatus.PENDING)
                for n in range(1, 5)
            ]))  # fmt: skip
    shown = list_jobs(db, sort="progress", descending=True).rows
    assert [(row.name, row.progress) for row in shown] == [("all", 100), ("half", 50),
                                                            ("none", 0)]  # fmt: skip
