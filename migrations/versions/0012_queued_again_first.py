"""On PostgreSQL, a task queued again waits in front of its job's other tasks, as it does on
SQLite: its token's procrastinate priority is twice its job's rank (low 0, normal 2, high 4,
urgent 6), plus one for a task that ran before (`started_at` set: its runner died, or it was
handed back). Before, a new token went behind every token already waiting.

Tokens already waiting are renumbered the same way; down again, they get their job's rank.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01 06:30:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

APP_TYPES = ("performance", "zap", "smoke", "functional")
"""The types that need the app up (as in 0010)."""

RANK = "CASE j.priority WHEN 'low' THEN 0 WHEN 'normal' THEN 1 WHEN 'high' THEN 2 ELSE 3 END"


def _defer(priority: str) -> str:
    return f"""
CREATE OR REPLACE FUNCTION thesis_defer_batch_tasks(task_ids bigint[]) RETURNS bigint[]
LANGUAGE sql AS $$
    SELECT procrastinate_defer_jobs_v1(ARRAY(
        SELECT ROW(
            'job' || t.job_id || '.' || t.test_type, 'thesis.batch_task',
            {priority},
            CASE WHEN t.test_type IN ({", ".join(f"'{t}'" for t in APP_TYPES)}) AND g.id IS NOT NULL
                 THEN 'app:' || g.id END,
            NULL, jsonb_build_object('task', t.id), NULL
        )::procrastinate_job_to_defer_v1
          FROM batch_tasks t
          JOIN batch_jobs j ON j.id = t.job_id
          LEFT JOIN generated_applications g
                 ON g.model_slug = t.model_name AND g.app_number = t.app_number
         WHERE t.id = ANY(task_ids) AND t.status = 'pending'
         ORDER BY t.id
    ))
$$;
"""


def _renumber(priority: str) -> str:
    return f"""
UPDATE procrastinate_jobs p SET priority = {priority}
  FROM batch_tasks t JOIN batch_jobs j ON j.id = t.job_id
 WHERE p.task_name = 'thesis.batch_task' AND p.status = 'todo'
   AND t.id = (p.args->>'task')::bigint
"""


NOW = f"2 * ({RANK}) + CASE WHEN t.started_at IS NOT NULL THEN 1 ELSE 0 END"
BEFORE = RANK


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    bind.exec_driver_sql(_defer(NOW))
    bind.exec_driver_sql(_renumber(NOW))


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    bind.exec_driver_sql(_defer(BEFORE))
    bind.exec_driver_sql(_renumber(BEFORE))
