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
