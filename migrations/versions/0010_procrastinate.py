"""On PostgreSQL, the task queue several machines share: procrastinate's schema, and a
token in it for every batch task that is waiting to run.

Workers on any host (`thesis worker`) and every runner on a PostgreSQL database take the
tasks of a job through procrastinate (its locks, priorities, worker heartbeats, stalled-job
detection); our tables stay the record of what ran. A trigger defers one procrastinate job
(a "token": {"task": id}) whenever a batch task becomes pending — planned, queued again
after a runner died, retried — on the queue `job<J>.<type>`, with the job's priority, and
for the types that need the app up a lock per app, so that no two of them run on one app at
once, on any worker.

The schema is procrastinate's own `schema.sql` of the pinned version (pyproject); a later
version's migrations go in a migration of ours then. SQLite has no procrastinate: a single
machine's runners share our tables directly.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01 04:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

APP_TYPES = ("performance", "zap", "smoke", "functional")
"""The types that need the app up (the registry's "app" resource, as of this revision)."""

DISPATCH = f"""
CREATE FUNCTION thesis_defer_batch_tasks(task_ids bigint[]) RETURNS bigint[]
LANGUAGE sql AS $$
    SELECT procrastinate_defer_jobs_v1(ARRAY(
        SELECT ROW(
            'job' || t.job_id || '.' || t.test_type, 'thesis.batch_task',
            CASE j.priority WHEN 'low' THEN 0 WHEN 'normal' THEN 1 WHEN 'high' THEN 2 ELSE 3 END,
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
CREATE FUNCTION thesis_dispatch_planned() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM thesis_defer_batch_tasks(ARRAY(SELECT id FROM planned WHERE status = 'pending'));
    RETURN NULL;
END
$$;
CREATE FUNCTION thesis_dispatch_queued_again() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM thesis_defer_batch_tasks(ARRAY[NEW.id]);
    RETURN NULL;
END
$$;
CREATE TRIGGER thesis_dispatch_planned AFTER INSERT ON batch_tasks
    REFERENCING NEW TABLE AS planned
    FOR EACH STATEMENT EXECUTE FUNCTION thesis_dispatch_planned();
CREATE TRIGGER thesis_dispatch_queued_again AFTER UPDATE OF status ON batch_tasks
    FOR EACH ROW WHEN (NEW.status = 'pending' AND OLD.status <> 'pending')
    EXECUTE FUNCTION thesis_dispatch_queued_again();
"""

PROCRASTINATE_OBJECTS = """
DROP TABLE IF EXISTS procrastinate_events, procrastinate_periodic_defers, procrastinate_jobs,
    procrastinate_workers CASCADE;
DROP TYPE IF EXISTS procrastinate_job_to_defer_v1, procrastinate_job_event_type,
    procrastinate_job_status CASCADE;
"""


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    from procrastinate.schema import SchemaManager

    # procrastinate's schema as its `apply_schema` runs it: one script, "%" doubled (the
    # driver reads placeholders in it).
    bind.exec_driver_sql(SchemaManager.get_schema().replace("%", "%%"))
    bind.exec_driver_sql(DISPATCH)
    # Tasks already waiting get their token, as if planned now.
    bind.exec_driver_sql(
        "SELECT thesis_defer_batch_tasks(ARRAY(SELECT id FROM batch_tasks WHERE status = 'pending'))"
    )


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    for function in ("thesis_dispatch_planned()", "thesis_dispatch_queued_again()",
                     "thesis_defer_batch_tasks(bigint[])"):  # fmt: skip
        bind.exec_driver_sql(f"DROP FUNCTION IF EXISTS {function} CASCADE")
    functions = (
        bind.exec_driver_sql(
            "SELECT p.oid::regprocedure::text FROM pg_proc p "
            "JOIN pg_namespace n ON n.oid = p.pronamespace "
            "WHERE starts_with(p.proname, 'procrastinate') AND n.nspname = current_schema()"
        )
        .scalars()
        .all()
    )
    for function in functions:
        bind.exec_driver_sql(f"DROP FUNCTION IF EXISTS {function} CASCADE")
    bind.exec_driver_sql(PROCRASTINATE_OBJECTS)
